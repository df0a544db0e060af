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
  try {
    profiler* p = detail::t_profiler;
    detail::event e;
    e.base = p->base();
    e.parent = p->current();
    e.trace = uuid::generate();
    e.unix_ns = detail::now_unix_ns();
    e.name = ep.point_name;
    e.db_system = ep.system;
    e.db_api = api;
    e.db_namespace = ep.ns;
    e.db_attributes = ep.attributes;
    if (trace_sql()) e.db_statement = statement;
    if (!params.is_null() && trace_sql_params()) e.info = {{"db", {{"params", std::move(params)}}}};
    detail::push_point(*p, e.trace, e.name);
    detail::record(std::move(e));
    owner_ = p;
    depth_ = p->depth();
  } catch (...) {
    notifier::report_error("osprofiler: out of memory while starting db trace point");
  }
}

call::call(call&& other) noexcept
    : owner_(other.owner_),
      depth_(other.depth_),
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
    depth_ = other.depth_;
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
  const std::int64_t now = detail::now_unix_ns();
  if (is_parked_) {
    parked_.end_ns = now;
    return;
  }
  profiler* p = owner_;
  if (detail::t_profiler != p || p->depth() != depth_) return;
  parked_.base = p->base();
  if (!detail_access::pop(*p, parked_.trace, parked_.parent, parked_.name)) return;
  parked_.end_ns = now;
  is_parked_ = true;
}

void call::finish() noexcept {
  if (is_parked_) {
    // Already off the stack: the stop needs no profiler, only the saved ids.
    is_parked_ = false;
    owner_ = nullptr;
    detail::event e;
    e.stop = true;
    e.base = parked_.base;
    e.parent = parked_.parent;
    e.trace = parked_.trace;
    e.name = std::move(parked_.name);
    e.unix_ns = parked_.end_ns;
    e.db_rows = rows_;
    e.db_system = "";
    if (stop_info_.is_object()) e.info = std::move(stop_info_);
    detail::record(std::move(e));
    return;
  }
  profiler* p = owner_;
  owner_ = nullptr;
  // Stop only our own point (see trace::~trace).
  if (!p || detail::t_profiler != p || p->depth() != depth_) return;
  detail::event e;
  e.stop = true;
  e.base = p->base();
  if (!detail::pop_point(*p, e)) return;
  e.unix_ns = detail::now_unix_ns();
  e.db_rows = rows_;
  e.db_system = "";  // marks a db stop: rows go to info.db on the notifier thread
  if (stop_info_.is_object()) e.info = std::move(stop_info_);
  detail::record(std::move(e));
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
