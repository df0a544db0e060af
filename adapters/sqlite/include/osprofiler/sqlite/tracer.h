// Traces an existing sqlite3* handle whose call sites keep using the C API,
// through SQLite's own sqlite3_trace_v2 hooks:
//
//   sqlite3* db = legacy_open();                  // unchanged code
//   osprofiler::sqlite::tracer t(db);             // from here on, traced
//   sqlite3_exec(db, "...", ...);                 // unchanged code
//
// What it sees (and records, with the same info as the traced types):
//   - every statement run: "execute" from its first sqlite3_step() to
//     SQLITE_DONE / error / sqlite3_reset() / sqlite3_finalize(), including
//     each statement of sqlite3_exec(); rows = rows stepped (SQLITE_TRACE_ROW)
//     or sqlite3_changes() for INSERT/UPDATE/DELETE; statement text (the SQL
//     as prepared, parameters unexpanded) while trace_sql() is on;
//   - BEGIN / COMMIT / END / ROLLBACK statements: the "transaction" point with
//     its "begin" and "commit"/"rollback" children, as the traced types make;
//   - the handle being closed (SQLITE_TRACE_CLOSE): open points are ended and
//     the tracer detaches itself, even if the close then fails (SQLITE_BUSY)
//     or leaves a zombie (sqlite3_close_v2): the handle then runs untraced.
// What it cannot see:
//   - opening the handle (it already exists), sqlite3_prepare*() calls, and
//     sqlite3_close() as a timed call: no "connect"/"prepare"/"close" points;
//   - bind values: SQLite offers no way to read them back, so db.params is
//     never recorded here (use the traced statement type for that);
//   - errors: SQLite reports the end of a failed run to the hook without its
//     result code, so a failing statement's point is ended without etype;
//   - statements run inside triggers (SQLite reports those as comments; they
//     belong to the triggering statement's point).
// A handle has one sqlite3_trace_v2 callback: installing a tracer replaces any
// other (and vice versa). Do not trace the handle of a traced connection:
// its statements would be recorded twice.
//
// Thread-safety: the hooks run on the thread that steps the statement and
// record on that thread's profiler; SQLite serialises them per handle. Create
// and destroy the tracer while no other thread uses the handle.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

namespace osprofiler::sqlite {

namespace detail {
struct tracer_state;
}

class tracer {
 public:
  // Installs the hooks on `db` (not owned). `name_space` is db.namespace;
  // empty means the main database's file name (or ":memory:").
  explicit tracer(sqlite3* db, std::string point_name = "db", std::string name_space = {});
  tracer(tracer&& other) noexcept;
  tracer& operator=(tracer&& other) noexcept;
  tracer(const tracer&) = delete;
  tracer& operator=(const tracer&) = delete;
  // Removes the hooks (unless the handle was closed) and ends open points.
  ~tracer();

  // Removes the hooks now; idempotent, never throws.
  void detach() noexcept;
  // False once detached or once the handle was closed.
  bool attached() const noexcept;

 private:
  std::unique_ptr<detail::tracer_state> state_;
};

}  // namespace osprofiler::sqlite
