#include "osprofiler/profiler.h"

#include <cxxabi.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <typeinfo>

#include "event.h"
#include "osprofiler/notifier.h"

namespace osprofiler {

namespace detail {
__thread profiler* t_profiler __attribute__((tls_model("initial-exec"))) = nullptr;

void push_point(profiler& p, const uuid& id, const std::string& name) { detail_access::push(p, id, name); }
}  // namespace detail

namespace {
// Owns the profiler made by init(); t_profiler may point elsewhere while a
// resume scope is active.
thread_local std::unique_ptr<profiler> t_owned;
}  // namespace

namespace {
std::atomic<std::uint64_t> g_profiler_serial{0};
}

profiler::profiler(std::string hmac_key, uuid base_id, uuid parent_id)
    : hmac_key_(std::move(hmac_key)), serial_(g_profiler_serial.fetch_add(1, std::memory_order_relaxed) + 1) {
  stack_.reserve(16);
  names_.reserve(16);
  stack_.push_back(base_id);
  stack_.push_back(parent_id);
}

void profiler::start(std::string_view name, nlohmann::json info) noexcept {
  detail::settle();
  struct start_record {
    uuid base, parent, trace;
    std::int64_t stamp;
    std::string_view name;
    nlohmann::json* info;
  } r{stack_.front(), stack_.back(), uuid::generate(), detail::now_stamp(), name, &info};
  try {
    stack_.push_back(r.trace);
    try {
      names_.emplace_back(name);
    } catch (...) {
      stack_.pop_back();  // the two stay in step
      throw;
    }
  } catch (...) {
    notifier::report_error("osprofiler: out of memory while starting trace point");
    return;
  }
  detail::record_with(
      [](detail::event& e, const void* ctx) noexcept {
        const auto& r = *static_cast<const start_record*>(ctx);
        e.base = r.base;
        e.parent = r.parent;
        e.trace = r.trace;
        e.stamp = r.stamp;
        try {
          e.name.assign(r.name.data(), r.name.size());
        } catch (...) {
        }
        if (r.info->is_object()) e.info = std::move(*r.info);
      },
      &r);
}

void profiler::stop(nlohmann::json info) noexcept {
  detail::settle();
  detail::stop_record r;
  std::string name;
  r.base = stack_.front();
  if (!detail_access::pop(*this, r.trace, r.parent, &name)) return;
  r.stamp = detail::now_stamp();
  r.name = &name;
  r.info = &info;
  detail::record_stop(r);
}

bool detail::end_inner(profiler* p, std::uint64_t serial, std::size_t depth, const uuid& id,
                       stop_record& r) noexcept {
  if (!p || t_profiler != p || p->serial() != serial) return false;
  try {
    if (!detail_access::take_inner(*p, depth, id, r.trace, r.parent, r.name)) return false;
  } catch (...) {
    return false;  // out of memory: left open, as before
  }
  r.base = p->base();
  r.stamp = now_stamp();
  return true;
}

void detail::record_stop(stop_record& r) noexcept {
  record_with(
      [](event& e, const void* ctx) noexcept {
        auto& r = *static_cast<stop_record*>(const_cast<void*>(ctx));
        e.stop = true;
        e.base = r.base;
        e.parent = r.parent;
        e.trace = r.trace;
        e.stamp = r.stamp;
        e.name = std::move(*r.name);
        if (r.info && r.info->is_object()) e.info = std::move(*r.info);
      },
      &r);
}

namespace {
// Parses an id given to init(); an empty one takes `fallback`. Reports and
// returns nullopt for anything that is not a UUID.
std::optional<uuid> id_or(std::string_view text, const char* what, uuid fallback) {
  if (text.empty()) return fallback;
  auto parsed = uuid::parse(text);
  if (!parsed) {
    notifier::report_error(std::string("osprofiler: init() refused ") + what + " '" +
                           std::string(text.substr(0, 64)) + "': not a UUID");
  }
  return parsed;
}
}  // namespace

profiler* init(std::string hmac_key, std::string_view base_id, std::string_view parent_id) noexcept {
  if (detail::t_profiler) return detail::t_profiler;
  try {
    const auto base = id_or(base_id, "base_id", uuid::generate());
    if (!base) return nullptr;
    const auto parent = id_or(parent_id, "parent_id", *base);
    if (!parent) return nullptr;
    t_owned = std::make_unique<profiler>(std::move(hmac_key), *base, *parent);
    detail::t_profiler = t_owned.get();
    return detail::t_profiler;
  } catch (...) {
    return nullptr;
  }
}

void clean() noexcept {
  detail::t_profiler = nullptr;
  t_owned.reset();
}

std::string exception_type_name(const std::exception_ptr& e) {
  const std::type_info* type = nullptr;
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    type = &typeid(ex);
  } catch (...) {
    type = abi::__cxa_current_exception_type();
  }
  if (!type) return "unknown";
  int status = 0;
  char* demangled = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
  std::string name = (status == 0 && demangled) ? demangled : type->name();
  std::free(demangled);
  return name;
}

nlohmann::json error_info(const std::exception_ptr& e) {
  std::string message;
  try {
    if (e) std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    message = ex.what();
  } catch (...) {
    message = "non-standard exception";
  }
  return {{"etype", exception_type_name(e)}, {"message", std::move(message)}};
}

void trace::begin(std::string_view name, nlohmann::json info) noexcept {
  profiler* p = detail::t_profiler;
  const std::size_t before = p->depth();
  p->start(name, std::move(info));
  if (p->depth() != before + 1) return;  // not started (out of memory): nothing to stop
  owner_ = p;
  serial_ = p->serial();
  depth_ = p->depth();
  id_ = p->current();
  uncaught_ = std::uncaught_exceptions();
}

void trace::set_stop_info(nlohmann::json info) noexcept {
  if (!owner_ || !info.is_object()) return;
  try {
    if (!stop_info_) stop_info_ = std::make_unique<nlohmann::json>(nlohmann::json::object());
    stop_info_->update(info);
  } catch (...) {
  }
}

void trace::fail(const std::exception_ptr& e) noexcept {
  if (!owner_) return;
  try {
    set_stop_info(error_info(e));
  } catch (...) {
  }
}

void trace::end() noexcept {
  // Stop only our own point: the profiler may have been cleaned or replaced.
  const bool same_profiler = owner_ && detail::t_profiler == owner_ && owner_->serial() == serial_;
  if (!same_profiler) return;
  if (std::uncaught_exceptions() > uncaught_ && !(stop_info_ && stop_info_->contains("etype"))) {
    set_stop_info({{"etype", "unknown"}, {"message", "scope left by an exception"}});
  }
  if (owner_->depth() == depth_) {
    owner_->stop(stop_info_ ? std::move(*stop_info_) : nlohmann::json());
  } else {
    // Points opened after ours may still be open (an adapter's transaction).
    detail::stop_record r;
    std::string name;
    r.name = &name;
    r.info = stop_info_.get();
    if (detail::end_inner(owner_, serial_, depth_, id_, r)) detail::record_stop(r);
  }
}

position capture() {
  if (!active()) return {};
  const profiler* p = detail::t_profiler;
  return {p->hmac_key(), p->base(), p->current()};
}

resume::resume(const position& p) noexcept : previous_(detail::t_profiler), previous_owned_(t_owned.get()) {
  if (!p) return;
  try {
    mine_ = std::make_unique<profiler>(p.hmac_key, p.base, p.point);
    detail::t_profiler = mine_.get();
  } catch (...) {
    mine_.reset();
  }
}

resume::~resume() {
  if (!mine_) return;
  // clean() inside the scope may have destroyed the thread's own profiler.
  const bool previous_gone = previous_ == previous_owned_ && t_owned.get() != previous_;
  detail::t_profiler = previous_gone ? nullptr : previous_;
}

}  // namespace osprofiler
