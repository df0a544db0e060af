// Private: what the calling thread records for one notification. Cheap to
// fill (ids, a clock reading, pointers); the notifier thread turns it into a
// notification.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "clock.h"
#include "osprofiler/db.h"
#include "osprofiler/ids.h"
#include "osprofiler/profiler.h"

namespace osprofiler {
struct detail_access {
  // The stack as it is, without settle() (for callers that settled it).
  static const uuid& top(const profiler& p) noexcept { return p.stack_.back(); }
  static std::size_t depth(const profiler& p) noexcept { return p.names_.size(); }
  static void push(profiler& p, const uuid& id, const std::string& name) {
    p.stack_.push_back(id);
    try {
      p.names_.push_back(name);
    } catch (...) {
      p.stack_.pop_back();  // the two stay in step
      throw;
    }
  }
  // `name` may be null: db calls know their (interned) name.
  static bool pop(profiler& p, uuid& trace, uuid& parent, std::string* name = nullptr) {
    if (p.names_.empty()) return false;
    trace = p.stack_.back();
    parent = p.stack_[p.stack_.size() - 2];
    if (name) *name = std::move(p.names_.back());
    p.names_.pop_back();
    p.stack_.pop_back();
    // Points below that were stopped already leave with the last one above them.
    while (!p.ended_.empty() && p.ended_.back() == p.names_.size()) {
      p.ended_.pop_back();
      p.names_.pop_back();
      p.stack_.pop_back();
    }
    return true;
  }
  // For a point stopped while points above it are open (a transaction
  // committed inside a user's trace point, or the other way round): its ids
  // and name for the stop notification, and its place marked stopped. False
  // when `depth` holds no such open point `id`. May throw bad_alloc, before
  // anything is changed.
  static bool take_inner(profiler& p, std::size_t depth, const uuid& id, uuid& trace, uuid& parent,
                         std::string* name) {
    if (depth == 0 || depth >= p.names_.size() || !(p.stack_[depth + 1] == id)) return false;
    const auto at = std::lower_bound(p.ended_.begin(), p.ended_.end(), depth);
    if (at != p.ended_.end() && *at == depth) return false;  // stopped already
    if (name) *name = p.names_[depth - 1];
    p.ended_.insert(at, depth);
    trace = id;
    parent = p.stack_[depth];
    return true;
  }
};
}  // namespace osprofiler

namespace osprofiler::detail {

struct event {
  uuid base, parent, trace;
  std::int64_t stamp = 0;  // see clock.h
  bool stop = false;
  // A start and its stop in one slot (a db::call whose start was held,
  // db::call::begin_held): the db_* fields but db_rows describe the start,
  // taken at start_stamp; stamp, info and db_rows describe the stop. Its
  // trace id may be nil: the notifier thread makes one then.
  bool pair = false;
  std::int64_t start_stamp = 0;
  // The point's name, without -start / -stop: name_ref (interned, a db
  // call's endpoint's) when set, else name.
  std::string name;
  const std::string* name_ref = nullptr;
  nlohmann::json info;  // null or an object
  // Set for database calls (db::call): merged into info.db on the notifier thread.
  const char* db_system = nullptr;
  const char* db_api = nullptr;
  const std::string* db_namespace = nullptr;
  // Set by record_with() alone (see there), not by recycle() or a fill.
  db::shared_text db_statement;
  const nlohmann::json* db_attributes = nullptr;
  std::int64_t db_rows = -1;

  const std::string& point_name() const noexcept { return name_ref ? *name_ref : name; }
};

// The queue's reset of a slot before a producer fills it (mpsc_queue.h):
// the same as `e = event{}`, keeping the name's buffer, without building
// and moving a whole default event on the recording thread; db_statement
// is left to record_with().
inline void recycle(event& e) noexcept {
  e.base = uuid{};
  e.parent = uuid{};
  e.trace = uuid{};
  e.stamp = 0;
  e.stop = false;
  e.pair = false;
  e.start_stamp = 0;
  e.name.clear();
  e.name_ref = nullptr;
  if (!e.info.is_null()) e.info = nullptr;
  e.db_system = nullptr;
  e.db_api = nullptr;
  e.db_namespace = nullptr;
  e.db_attributes = nullptr;
  e.db_rows = -1;
}

// Pushes an already-recorded start onto the profiler's stack.
void push_point(profiler& p, const uuid& id, const std::string& name);
// Hands an event to the notifier queue (drops and counts when full):
// `fill(slot, ctx)` writes it straight into a queue slot, which recycle()
// has just reset to a default event. `fill` must not throw.
// `notifications` is what the event becomes: 2 for a pair (a drop counts both).
// The slot's db_statement becomes `*statement` (null: none). A slot that
// holds that text already, from the event it held before, keeps it: a
// statement run over and over then changes no reference count (two atomic
// operations per run otherwise).
using fill_fn = void (*)(event& slot, const void* ctx) noexcept;
void record_with(fill_fn fill, const void* ctx, unsigned notifications = 1,
                 const db::shared_text* statement = nullptr) noexcept;

// What a stop notification needs; filled into its queue slot in place.
struct stop_record {
  uuid base, parent, trace;
  std::int64_t stamp = 0;
  std::string* name = nullptr;     // moved into the slot
  nlohmann::json* info = nullptr;  // moved when it is an object
};
void record_stop(stop_record& r) noexcept;
// Ends the point `id` opened at `depth` while points above it are still
// open (detail_access::take_inner): fills r's ids, its name when r.name is
// set, and its stamp. False when `p` (seen with `serial`) is no longer the
// calling thread's profiler or the point is not open there.
bool end_inner(profiler* p, std::uint64_t serial, std::size_t depth, const uuid& id, stop_record& r) noexcept;

}  // namespace osprofiler::detail
