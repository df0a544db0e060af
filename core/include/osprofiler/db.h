// The trace point of one database API call, shared by every adapter so that
// all of them emit the same info (see docs/architecture.md):
//   start: {"db": {"system", "api", "namespace", ["statement"], ["params"], ...}}
//   stop:  {"db": {["rows"]}} or, on failure,
//          {"etype", "message", "db": {driver code: "sqlstate" / "code" ...}}
// Statement text is attached only while trace_sql() is on, params only while
// trace_sql_params() is on. The fields are copied late: the calling thread
// records pointers and counts, and the notification is built on the notifier
// thread (bind values and failure info are made into JSON on the calling
// thread, when there are any).
//
// Thread-safety: an endpoint is immutable once shared; a call belongs to the
// thread that started it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "osprofiler/profiler.h"

namespace osprofiler::detail {
struct event;
}

namespace osprofiler::db {

using shared_text = std::shared_ptr<const std::string>;

// Makes shared statement text, cut to options.max_statement_bytes (the cut
// text ends with "...[truncated N bytes]"). Invalid UTF-8 is kept as the
// driver received it here and replaced with U+FFFD when it is serialised.
shared_text make_text(std::string_view text);

// A server's error message (libpq's layout: "ERROR:  ...", "DETAIL:  ...",
// "LINE 1: ..." with its caret line) with what the switches forbid removed:
// with keep_sql false the statement text (`query` wherever it appears, the
// LINE/caret echo, QUERY, CONTEXT and STATEMENT fields); with keep_params
// false the DETAIL field, which echoes key values ("Key (id)=(5) already
// exists"). Unless both are on, lines of no known field go too (libpq
// translates some labels). The first line always stays; trailing white space
// is cut. For adapters whose drivers quote server messages (libpqxx, SOCI).
std::string scrub_message(std::string_view message, std::string_view query, bool keep_sql, bool keep_params);

// Interned text and JSON live until the process ends; one copy per distinct
// value, so a trace point can point at them without reference counting.
// Meant for the few values a connection has (point name, namespace, server
// address).
const std::string* intern(std::string_view text);
const nlohmann::json* intern(const nlohmann::json& value);
// Text, not JSON (both convert from strings).
inline const std::string* intern(const std::string& text) { return intern(std::string_view(text)); }
inline const std::string* intern(const char* text) { return intern(std::string_view(text)); }
// intern("db"), OSProfiler's name for database points.
const std::string* default_point_name();

// What every point of one connection has in common.
struct endpoint {
  // Interned, like OSProfiler's add_tracing(..., name): the notifier thread
  // reads it after the connection may be gone.
  const std::string* point_name = default_point_name();
  const char* system = "";                      // "sqlite", "postgresql", a SOCI backend name: a literal
  const std::string* ns = nullptr;              // db.namespace (interned): database or file name
  const nlohmann::json* attributes = nullptr;   // interned object merged into start info.db
};

// One DB API call as a trace point. Inert (and free) when !active() at
// construction. Movable, not copyable; finishes on destruction.
class call {
 public:
  call() noexcept = default;
  // `api` is a literal naming the call ("connect", "prepare", "execute", ...).
  // `statement` is recorded only while trace_sql() is on.
  call(const endpoint& ep, const char* api, const shared_text& statement = {}) noexcept;
  call(const endpoint& ep, const char* api, std::string_view statement) noexcept;
  call(call&& other) noexcept;
  call& operator=(call&& other) noexcept;
  call(const call&) = delete;
  call& operator=(const call&) = delete;
  ~call() { finish(); }

  bool recording() const noexcept { return owner_ != nullptr; }
  // True once end_here() has recorded an end (the point waits for finish()).
  // Also for a held call its work could not put on the stack (out of
  // memory, its profiler gone): it then ends at its start or last row.
  bool ended() const noexcept { return is_parked_ && !pending_; }

  // Params go into the start notification, so they are given before it is
  // sent: use the deferred form, begin() below.
  // Rows returned or affected, reported in the stop info.
  void rows(std::int64_t n) noexcept { rows_ = n; }
  void add_rows(std::int64_t n) noexcept { rows_ = rows_ < 0 ? n : rows_ + n; }
  std::int64_t rows() const noexcept { return rows_; }
  // Extra stop info under "db" (batch size, ...).
  void stop_attribute(const char* key, nlohmann::json value) noexcept;
  // Records a failure: etype, message and driver fields under "db".
  void fail(std::string etype, std::string message, nlohmann::json db_fields = nullptr) noexcept;
  // Sends the stop notification now (idempotent).
  void finish() noexcept { stop(false); }
  // end_here() and finish() in one: the point ends now.
  void finish_here() noexcept { stop(true); }
  // Ends the point here without sending its stop yet, for calls whose work
  // goes on in steps with user code in between (a statement's fetch loop):
  // records now as the point's end and takes the point off the calling
  // thread's trace stack, so points started afterwards are its siblings,
  // never its children. Calling it again moves the end forward. finish()
  // (from any thread) then sends the stop carrying the last end recorded.
  // Does nothing unless the point is the current one on the calling thread.
  void end_here() noexcept;

  // Deferred start, for callers that add params: construct with
  // call(deferred{}), then begin(ep, api, statement, params).
  struct deferred {};
  explicit call(deferred) noexcept {}
  void begin(const endpoint& ep, const char* api, const shared_text& statement,
             nlohmann::json params = nullptr) noexcept;
  // Like begin(), but the start notification is held in the call and goes
  // out with the stop, in one queue slot, when the call finishes: half the
  // queue work, for short calls made in great numbers (a SQLite statement's
  // run). send_start() sends it earlier, for a call that turns out to be
  // long, so that it shows in its trace while it runs. `ep` must outlive
  // the call.
  // The point stays off the trace stack, as if end_here() had been called
  // at once, except while its work runs inside a held_work scope and until
  // it ends (end_here()): a point started there (or a read of the stack)
  // puts it on the stack first, so that it is the parent of what its work
  // starts. Cheaper than a push and a pop per call, which nothing reads in
  // most calls.
  void begin_held(const endpoint& ep, const char* api, const shared_text& statement) noexcept;
  // Sends a held start now (nothing when it was sent already).
  void send_start() noexcept;
  // Sends a held start if the call began at least `age` ago.
  void send_start_after(std::chrono::nanoseconds age) noexcept;
  bool start_held() const noexcept { return held_.ep != nullptr; }

 private:
  // A point taken off the stack by end_here(), waiting for finish().
  struct parked {
    uuid base, parent, trace;
    std::int64_t end_stamp = 0;
  };
  // A start kept back by begin_held(); its ids are parked_'s.
  struct held {
    const endpoint* ep = nullptr;  // null: nothing held
    const char* api = nullptr;
    std::int64_t stamp = 0;
    bool with_statement = false;
    // The last run's text, kept after it ends: a statement run again and
    // again hands the same text to begin_held(), and to queue slots that
    // hold it already (detail::record_with()).
    shared_text statement;
  };
  // Pushes the point on `p`'s stack and makes it this call's; false (the
  // call stays inert) when out of memory.
  bool enter(profiler* p, const uuid& trace, const endpoint& ep) noexcept;
  // A held call's id is made when something needs it (a child, an early
  // start); a start and stop that go out together get theirs on the
  // notifier thread.
  void make_id() noexcept;
  void record_held_start() noexcept;
  // Takes a point that is still on the stack off it for its stop: its ids
  // and end go to parked_. False when it is no longer there.
  bool leave_stack() noexcept;
  void stop(bool end_now) noexcept;
  // The stop (or the held start and the stop) written into a queue slot
  // straight from the call, given as `ctx`: detail::record_with().
  static void fill_stop(detail::event& e, const void* ctx) noexcept;
  static void fill_pair(detail::event& e, const void* ctx) noexcept;
  // Puts a held call that is still pending on the trace stack (settle()).
  void go_on_stack() noexcept;
  friend void detail::settle_held_work() noexcept;

  profiler* owner_ = nullptr;
  std::uint64_t serial_ = 0;
  std::size_t depth_ = 0;
  uuid id_;  // the point's own id (see trace::id_); nil while a held call has none yet
  std::int64_t rows_ = -1;
  nlohmann::json stop_info_;
  // Held inline (not on the heap): end_here() runs once per statement run
  // that returns rows, on the calling thread's hot path. begin_held() fills
  // its base and parent at the start; its own id comes later (make_id()).
  parked parked_;
  bool is_parked_ = false;
  // Held and not yet on the stack, not yet ended: settle() may push it.
  bool pending_ = false;
  const std::string* name_ref_ = nullptr;  // the endpoint's point_name (interned)
  held held_;
};

}  // namespace osprofiler::db

namespace osprofiler::detail {
// One entry of t_held_work (profiler.h): a held call's work under way on
// this thread, linked in for the scope of this object (adapters make one on
// their stack around the work, a SQLite step). `run` may be changed (a call
// moved) or cleared (a call finished) meanwhile.
struct held_work {
  explicit held_work(db::call* call) noexcept : run(call), outer(t_held_work) { t_held_work = this; }
  ~held_work() { t_held_work = outer; }
  held_work(const held_work&) = delete;
  held_work& operator=(const held_work&) = delete;

  db::call* run;
  held_work* const outer;
};
}  // namespace osprofiler::detail
