#include "osprofiler/db.h"

#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "event.h"
#include "osprofiler/notifier.h"

namespace osprofiler::db {

shared_text make_text(std::string_view text) {
  const std::size_t cap = detail::g_max_statement_bytes.load(std::memory_order_relaxed);
  if (cap == 0 || text.size() <= cap) return std::make_shared<const std::string>(text);
  std::string cut(text.substr(0, cap));
  cut += "...[truncated " + std::to_string(text.size() - cap) + " bytes]";
  return std::make_shared<const std::string>(std::move(cut));
}

call::call(const endpoint& ep, const char* api, const shared_text& statement) noexcept {
  if (active()) begin(ep, api, statement);
}

call::call(const endpoint& ep, const char* api, std::string_view statement) noexcept {
  if (!active()) return;
  try {
    begin(ep, api, trace_sql() ? make_text(statement) : shared_text{});
  } catch (...) {
  }
}

void call::begin(const endpoint& ep, const char* api, const shared_text& statement,
                 nlohmann::json params) noexcept {
  if (owner_ || !active()) return;
  profiler* p = detail::t_profiler;
  struct start_record {
    uuid base, parent, trace;
    std::int64_t stamp;
    const endpoint* ep;
    const char* api;
    const shared_text* statement;  // null: not recorded
    nlohmann::json* params;        // null: not recorded
  } r{p->base(), p->current(), uuid::generate(), detail::now_stamp(), &ep, api,
      trace_sql() && statement ? &statement : nullptr,
      !params.is_null() && trace_sql_params() ? &params : nullptr};
  try {
    detail::push_point(*p, r.trace, ep.point_name);
  } catch (...) {
    notifier::report_error("osprofiler: out of memory while starting db trace point");
    return;
  }
  detail::record_with(
      [](detail::event& e, const void* ctx) noexcept {
        const auto& r = *static_cast<const start_record*>(ctx);
        e.base = r.base;
        e.parent = r.parent;
        e.trace = r.trace;
        e.stamp = r.stamp;
        e.db_system = r.ep->system;
        e.db_api = r.api;
        e.db_namespace = r.ep->ns;
        e.db_attributes = r.ep->attributes;
        try {
          e.name = r.ep->point_name;
          if (r.statement) e.db_statement = *r.statement;
          if (r.params) e.info = {{"db", {{"params", std::move(*r.params)}}}};
        } catch (...) {
        }
      },
      &r);
  owner_ = p;
  serial_ = p->serial();
  depth_ = p->depth();
  id_ = r.trace;
}

call::call(call&& other) noexcept
    : owner_(other.owner_),
      serial_(other.serial_),
      depth_(other.depth_),
      id_(other.id_),
      rows_(other.rows_),
      stop_info_(std::move(other.stop_info_)),
      parked_(std::move(other.parked_)),
      is_parked_(other.is_parked_) {
  other.owner_ = nullptr;
  other.is_parked_ = false;
}

call& call::operator=(call&& other) noexcept {
  if (this != &other) {
    finish();
    owner_ = other.owner_;
    serial_ = other.serial_;
    depth_ = other.depth_;
    id_ = other.id_;
    rows_ = other.rows_;
    stop_info_ = std::move(other.stop_info_);
    parked_ = std::move(other.parked_);
    is_parked_ = other.is_parked_;
    other.owner_ = nullptr;
    other.is_parked_ = false;
  }
  return *this;
}

void call::stop_attribute(const char* key, nlohmann::json value) noexcept {
  if (!owner_) return;
  try {
    stop_info_["db"][key] = std::move(value);
  } catch (...) {
  }
}

void call::fail(std::string etype, std::string message, nlohmann::json db_fields) noexcept {
  if (!owner_) return;
  try {
    stop_info_["etype"] = std::move(etype);
    stop_info_["message"] = std::move(message);
    if (db_fields.is_object()) {
      for (auto& [k, v] : db_fields.items()) stop_info_["db"][k] = std::move(v);
    }
  } catch (...) {
  }
}

void call::end_here() noexcept {
  if (!owner_) return;
  const std::int64_t now = detail::now_stamp();
  if (is_parked_) {
    parked_.end_stamp = now;
    return;
  }
  profiler* p = owner_;
  if (!detail::owns_top(p, serial_, depth_)) return;
  parked_.base = p->base();
  if (!detail_access::pop(*p, parked_.trace, parked_.parent, parked_.name)) return;
  parked_.end_stamp = now;
  is_parked_ = true;
}

void call::finish() noexcept {
  detail::stop_record r;
  r.db = true;
  r.rows = rows_;
  r.info = &stop_info_;
  if (is_parked_) {
    // Already off the stack: the stop needs no profiler, only the saved ids.
    is_parked_ = false;
    owner_ = nullptr;
    r.base = parked_.base;
    r.parent = parked_.parent;
    r.trace = parked_.trace;
    r.name = &parked_.name;
    r.stamp = parked_.end_stamp;
    detail::record_stop(r);
    return;
  }
  profiler* p = owner_;
  owner_ = nullptr;
  // Stop only our own point (see trace::end): on top, or below points
  // opened after it that are still open.
  if (!detail::owns_top(p, serial_, depth_)) {
    detail::stop_inner(p, serial_, depth_, id_, r);
    return;
  }
  std::string name;
  r.base = p->base();
  if (!detail_access::pop(*p, r.trace, r.parent, name)) return;
  r.stamp = detail::now_stamp();
  r.name = &name;
  detail::record_stop(r);
}

namespace {
std::mutex g_intern_mutex;
}

const std::string* intern(std::string_view text) {
  static auto* pool = new std::unordered_set<std::string>;  // never freed: points may outlive statics
  std::lock_guard<std::mutex> lock(g_intern_mutex);
  return &*pool->emplace(text).first;
}

const nlohmann::json* intern(const nlohmann::json& value) {
  static auto* pool = new std::unordered_map<std::string, nlohmann::json>;
  const std::string key = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(g_intern_mutex);
  return &pool->try_emplace(key, value).first->second;
}

}  // namespace osprofiler::db
