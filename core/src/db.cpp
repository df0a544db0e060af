#include "osprofiler/db.h"

#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "event.h"
#include "osprofiler/notifier.h"

namespace osprofiler::db {

namespace {
// The text on a cache line of its own, away from the reference counts: the
// calling thread updates the counts once per point while the notifier
// thread reads the text, and sharing a line would make each update wait
// for the line to come back from the other core.
struct alignas(64) text_holder {
  explicit text_holder(std::string s) : text(std::move(s)) {}
  const std::string text;
};

shared_text hold(std::string text) {
  auto holder = std::make_shared<const text_holder>(std::move(text));
  return shared_text(holder, &holder->text);
}
}  // namespace

shared_text make_text(std::string_view text) {
  const std::size_t cap = detail::g_max_statement_bytes.load(std::memory_order_relaxed);
  if (cap == 0 || text.size() <= cap) return hold(std::string(text));
  std::string cut(text.substr(0, cap));
  cut += "...[truncated " + std::to_string(text.size() - cap) + " bytes]";
  return hold(std::move(cut));
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

namespace {

struct start_record {
  uuid base, parent, trace;
  std::int64_t stamp;
  const endpoint* ep;
  const std::string* name;  // interned: the endpoint's when the call began
  const char* api;
  const shared_text* statement;  // null: not recorded
  nlohmann::json* params;        // null: not recorded
};

void record_start(const start_record& r) noexcept {
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
        e.name_ref = r.name;
        try {
          if (r.params) e.info = {{"db", {{"params", std::move(*r.params)}}}};
        } catch (...) {
        }
      },
      &r, 1, r.statement);
}

}  // namespace

// Inline: both starts are on the calling thread's hot path.
inline bool call::enter(profiler* p, const uuid& trace, const endpoint& ep) noexcept {
  try {
    detail::push_point(*p, trace, *ep.point_name);
  } catch (...) {
    notifier::report_error("osprofiler: out of memory while starting db trace point");
    return false;
  }
  owner_ = p;
  serial_ = p->serial();
  depth_ = p->depth();
  id_ = trace;
  name_ref_ = ep.point_name;
  return true;
}

void call::begin(const endpoint& ep, const char* api, const shared_text& statement,
                 nlohmann::json params) noexcept {
  if (owner_ || !active()) return;
  profiler* p = detail::t_profiler;
  rows_ = -1;  // nothing of a previous run of this call
  if (!stop_info_.is_null()) stop_info_ = nullptr;
  const start_record r{p->base(), p->current(), uuid::generate(), detail::now_stamp(), &ep, ep.point_name, api,
                       trace_sql() && statement ? &statement : nullptr,
                       !params.is_null() && trace_sql_params() ? &params : nullptr};
  if (enter(p, r.trace, ep)) record_start(r);
}

void call::begin_held(const endpoint& ep, const char* api, const shared_text& statement) noexcept {
  if (owner_ || !active()) return;
  profiler* p = detail::t_profiler;
  const std::int64_t stamp = detail::now_stamp();
  rows_ = -1;  // nothing of a previous run of this call
  if (!stop_info_.is_null()) stop_info_ = nullptr;
  detail::settle();  // the held run this one is started in (if any) is its parent
  // Off the stack from the start (parked, ended at its start for now);
  // depth_ is where go_on_stack() would put it. No id yet (make_id()).
  parked_.base = p->base();
  parked_.parent = detail_access::top(*p);
  parked_.trace = uuid{};
  parked_.end_stamp = stamp;
  is_parked_ = true;
  pending_ = true;
  name_ref_ = ep.point_name;
  owner_ = p;
  serial_ = p->serial();
  depth_ = detail_access::depth(*p) + 1;
  id_ = uuid{};
  held_.ep = &ep;
  held_.api = api;
  held_.stamp = stamp;
  // Kept from run to run (see held): the same text again costs no atomic
  // reference count update.
  held_.with_statement = statement && trace_sql();
  if (held_.with_statement && held_.statement != statement) held_.statement = statement;
}

void call::make_id() noexcept {
  if (!id_.is_nil()) return;
  id_ = uuid::generate();
  parked_.trace = id_;
}

void call::record_held_start() noexcept {
  make_id();
  const start_record r{parked_.base, parked_.parent, parked_.trace, held_.stamp, held_.ep, name_ref_, held_.api,
                       held_.with_statement ? &held_.statement : nullptr, nullptr};
  record_start(r);
  held_.ep = nullptr;
}

void call::go_on_stack() noexcept {
  if (!pending_) return;
  profiler* p = owner_;
  // Another profiler for now (a resume scope inside the step): its points
  // are not this call's children; it may still be pushed once ours is back.
  if (!p || detail::t_profiler != p) return;
  pending_ = false;
  if (p->serial() != serial_) return;  // a new profiler at the old address
  make_id();
  try {
    detail::push_point(*p, id_, *name_ref_);
  } catch (...) {
    return;  // out of memory: stays off the stack, its children go to its parent
  }
  depth_ = p->depth();
  is_parked_ = false;
}

void call::send_start() noexcept {
  if (held_.ep && owner_) record_held_start();
}

void call::send_start_after(std::chrono::nanoseconds age) noexcept {
  if (held_.ep && owner_ && detail::stamp_age_ns(held_.stamp) >= age.count()) record_held_start();
}

call::call(call&& other) noexcept
    : owner_(other.owner_),
      serial_(other.serial_),
      depth_(other.depth_),
      id_(other.id_),
      rows_(other.rows_),
      stop_info_(std::move(other.stop_info_)),
      parked_(std::move(other.parked_)),
      is_parked_(other.is_parked_),
      pending_(other.pending_),
      name_ref_(other.name_ref_),
      held_(std::move(other.held_)) {
  other.owner_ = nullptr;
  other.is_parked_ = false;
  other.pending_ = false;
  other.held_.ep = nullptr;
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
    pending_ = other.pending_;
    name_ref_ = other.name_ref_;
    held_ = std::move(other.held_);
    other.owner_ = nullptr;
    other.is_parked_ = false;
    other.pending_ = false;
    other.held_.ep = nullptr;
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
    pending_ = false;  // ended: its work no longer makes it a parent
    return;
  }
  profiler* p = owner_;
  if (!detail::owns_top(p, serial_, depth_)) return;
  parked_.base = p->base();
  if (!detail_access::pop(*p, parked_.trace, parked_.parent)) return;
  parked_.end_stamp = now;
  is_parked_ = true;
}

// The stop notification, written straight into its queue slot from the
// call (its ids and end in parked_).
void call::fill_stop(detail::event& e, const void* ctx) noexcept {
  auto& c = *static_cast<call*>(const_cast<void*>(ctx));
  e.stop = true;
  e.base = c.parked_.base;
  e.parent = c.parked_.parent;
  e.trace = c.parked_.trace;
  e.stamp = c.parked_.end_stamp;
  e.name_ref = c.name_ref_;
  if (c.stop_info_.is_object()) e.info = std::move(c.stop_info_);
  e.db_system = "";  // marks a db stop: rows go to info.db on the notifier thread
  e.db_rows = c.rows_;
}

// The held start and the stop in one slot.
void call::fill_pair(detail::event& e, const void* ctx) noexcept {
  fill_stop(e, ctx);
  auto& c = *static_cast<call*>(const_cast<void*>(ctx));
  e.pair = true;
  e.start_stamp = c.held_.stamp;
  e.db_system = c.held_.ep->system;
  e.db_api = c.held_.api;
  e.db_namespace = c.held_.ep->ns;
  e.db_attributes = c.held_.ep->attributes;
}

bool call::leave_stack() noexcept {
  profiler* p = owner_;
  detail::stop_record r;
  // Stop only our own point (see trace::end): on top, or below points
  // opened after it that are still open.
  if (detail::owns_top(p, serial_, depth_)) {
    r.base = p->base();
    if (!detail_access::pop(*p, r.trace, r.parent)) return false;
    r.stamp = detail::now_stamp();
  } else if (!detail::end_inner(p, serial_, depth_, id_, r)) {
    return false;
  }
  parked_.base = r.base;
  parked_.parent = r.parent;
  parked_.trace = r.trace;
  parked_.end_stamp = r.stamp;
  return true;
}

void call::stop(bool end_now) noexcept {
  if (!owner_) return;
  bool ended = true;
  if (!is_parked_) {
    ended = leave_stack();
  } else if (end_now || pending_) {
    // Asked to end now (finish_here()), or held and never ended by
    // end_here(): it ends now.
    parked_.end_stamp = detail::now_stamp();
  }
  owner_ = nullptr;
  is_parked_ = false;
  pending_ = false;
  if (ended) {
    if (held_.ep) {
      detail::record_with(&fill_pair, this, 2, held_.with_statement ? &held_.statement : nullptr);
    } else {
      detail::record_with(&fill_stop, this);
    }
  } else if (held_.ep) {
    // No stop could be recorded (the profiler went away): a held start still
    // goes out, so that the point shows, unfinished, as it would have.
    record_held_start();
  }
  held_.ep = nullptr;
  name_ref_ = nullptr;
}

}  // namespace osprofiler::db

namespace osprofiler::detail {

__thread held_work* t_held_work __attribute__((tls_model("initial-exec"))) = nullptr;

void settle_held_work() noexcept {
  held_work* const chain = t_held_work;
  t_held_work = nullptr;  // the pushes below read the stack too
  // Outermost first, so that each call pushed is the parent of the next
  // (chains are a few entries long: one per statement stepped inside another).
  for (held_work* done = nullptr; done != chain;) {
    held_work* w = chain;
    while (w->outer != done) w = w->outer;
    if (w->run) w->run->go_on_stack();
    done = w;
  }
  t_held_work = chain;
}

}  // namespace osprofiler::detail

namespace osprofiler::db {

namespace {
std::mutex g_intern_mutex;
}

const std::string* intern(std::string_view text) {
  static auto* pool = new std::unordered_set<std::string>;  // never freed: points may outlive statics
  std::lock_guard<std::mutex> lock(g_intern_mutex);
  return &*pool->emplace(text).first;
}

const std::string* default_point_name() {
  static const std::string* const name = intern("db");
  return name;
}

const nlohmann::json* intern(const nlohmann::json& value) {
  static auto* pool = new std::unordered_map<std::string, nlohmann::json>;
  const std::string key = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(g_intern_mutex);
  return &pool->try_emplace(key, value).first->second;
}

}  // namespace osprofiler::db
