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
  static void push(profiler& p, const uuid& id, const std::string& name) {
    p.stack_.push_back(id);
    try {
      p.names_.push_back(name);
    } catch (...) {
      p.stack_.pop_back();  // the two stay in step
      throw;
    }
  }
  static bool pop(profiler& p, uuid& trace, uuid& parent, std::string& name) {
    if (p.names_.empty()) return false;
    trace = p.stack_.back();
    parent = p.stack_[p.stack_.size() - 2];
    name = std::move(p.names_.back());
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
                         std::string& name) {
    if (depth == 0 || depth >= p.names_.size() || !(p.stack_[depth + 1] == id)) return false;
    const auto at = std::lower_bound(p.ended_.begin(), p.ended_.end(), depth);
    if (at != p.ended_.end() && *at == depth) return false;  // stopped already
    name = p.names_[depth - 1];
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
  // taken at start_stamp; stamp, info and db_rows describe the stop.
  bool pair = false;
  std::int64_t start_stamp = 0;
  std::string name;     // the point's name, without -start / -stop
  nlohmann::json info;  // null or an object
  // Set for database calls (db::call): merged into info.db on the notifier thread.
  const char* db_system = nullptr;
  const char* db_api = nullptr;
  const std::string* db_namespace = nullptr;
  db::shared_text db_statement;
  const nlohmann::json* db_attributes = nullptr;
  std::int64_t db_rows = -1;
};

// The queue's reset of a slot before a producer fills it (mpsc_queue.h):
// the same as `e = event{}`, keeping the name's buffer, without building
// and moving a whole default event on the recording thread.
inline void recycle(event& e) noexcept {
  e.base = uuid{};
  e.parent = uuid{};
  e.trace = uuid{};
  e.stamp = 0;
  e.stop = false;
  e.pair = false;
  e.start_stamp = 0;
  e.name.clear();
  if (!e.info.is_null()) e.info = nullptr;
  e.db_system = nullptr;
  e.db_api = nullptr;
  e.db_namespace = nullptr;
  e.db_statement.reset();
  e.db_attributes = nullptr;
  e.db_rows = -1;
}

// Pushes an already-recorded start onto the profiler's stack.
void push_point(profiler& p, const uuid& id, const std::string& name);
// Hands an event to the notifier queue (drops and counts when full):
// `fill(slot, ctx)` writes it straight into a queue slot, which recycle()
// has just reset to a default event. `fill` must not throw.
// `notifications` is what the event becomes: 2 for a pair (a drop counts both).
using fill_fn = void (*)(event& slot, const void* ctx) noexcept;
void record_with(fill_fn fill, const void* ctx, unsigned notifications = 1) noexcept;

// The start of a db::call held until its stop (db::call::begin_held).
struct held_start {
  std::int64_t stamp = 0;
  const char* system = nullptr;
  const char* api = nullptr;
  const std::string* ns = nullptr;
  const nlohmann::json* attributes = nullptr;
  db::shared_text* statement = nullptr;  // moved into the slot; null: not recorded
};

// What a stop notification needs; filled into its queue slot in place.
struct stop_record {
  uuid base, parent, trace;
  std::int64_t stamp = 0;
  std::string* name = nullptr;          // moved into the slot, or:
  const std::string* name_ref = nullptr;  // copied into it
  nlohmann::json* info = nullptr;       // moved when it is an object
  bool db = false;                      // a db::call stop: rows go to info.db
  std::int64_t rows = -1;
  const held_start* start = nullptr;    // set: the start goes in the same slot
};
void record_stop(stop_record& r) noexcept;
// Stops the point `id` opened at `depth` while points above it are still
// open (detail_access::take_inner); false when `p` (seen with `serial`) is
// no longer the calling thread's profiler or the point is not open there.
bool stop_inner(profiler* p, std::uint64_t serial, std::size_t depth, const uuid& id, stop_record& r) noexcept;

}  // namespace osprofiler::detail
