// Traced SQLite3 types: drop-in wrappers over sqlite3* / sqlite3_stmt* whose
// every API call is an OSProfiler trace point (shared/spec/adapter-contract.md):
//
//   connect / close      connection::open(), the constructor, close(), ~connection()
//   prepare              connection::prepare()
//   execute              one point per statement execution: from the first
//                        step() to SQLITE_DONE, reset(), an error or the
//                        statement's destruction; stop info db.rows = rows
//                        stepped (for INSERT/UPDATE/DELETE: sqlite3_changes).
//                        The point is on the trace stack only while its
//                        first step runs, and only if something starts
//                        there (db::call::begin_held), so the caller's code
//                        between steps is never nested under it; it ends at
//                        the last step.
//   transaction          BEGIN..COMMIT/ROLLBACK, parent of the begin point,
//   begin/commit/rollback  the statements and the commit/rollback point
//
// Start info: db.system "sqlite", db.api, db.namespace (the file name as
// given, or ":memory:"), db.statement only while trace_sql() is on, db.params
// only while trace_sql_params() is on. Failures are recorded (etype
// "osprofiler::sqlite::error", message, db.code, db.extended_code) and then
// thrown as osprofiler::sqlite::error; the try_* variants return the SQLite
// result code instead and never throw.
//
// With the profiler disabled (or no profiler on the thread) a statement run
// costs one relaxed atomic load and a few branches over the raw C API.
//
// Thread-safety: like the handles they wrap. A connection and its statements
// may be used from one thread at a time; trace points belong to the thread
// that runs the statement.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <climits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "osprofiler/db.h"
#include "osprofiler/options.h"
#include "osprofiler/profiler.h"
#include "osprofiler/sqlite/error.h"

namespace osprofiler::sqlite {

class statement;

namespace detail {
struct connection_state;
struct bound_values;
struct failure;
}  // namespace detail

enum class transaction_mode { deferred, immediate, exclusive };

class connection {
 public:
  static constexpr int default_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

  // Not open; open() it later (set_point_name() first to name its points).
  connection() noexcept = default;
  // sqlite3_open_v2(filename, flags, vfs); throws error when it fails.
  explicit connection(const std::string& filename, int flags = default_flags, const char* vfs = nullptr,
                      std::string point_name = "db");
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  // Closes (a traced "close"); never throws.
  ~connection();

  // Opens `filename` (a traced "connect"). Closes what was open first.
  void open(const std::string& filename, int flags = default_flags, const char* vfs = nullptr);
  int try_open(const std::string& filename, int flags = default_flags, const char* vfs = nullptr) noexcept;
  // sqlite3_close_v2 (a traced "close"): statements still alive keep the
  // database until they are finalized. An open transaction is rolled back.
  void close() noexcept;
  bool is_open() const noexcept { return db_ != nullptr; }
  sqlite3* handle() const noexcept { return db_; }

  // The trace point name ("db" by default), like OSProfiler's
  // add_tracing(..., name). Applies to this connection's statements too,
  // from their next run. Names are interned (db::intern) for the process's
  // life: meant for a few fixed names, not one per request.
  void set_point_name(std::string name);
  const std::string& point_name() const noexcept;
  // db.namespace: the file name given to open().
  const std::string& name_space() const noexcept;

  // Prepares the first statement of `sql` (a traced "prepare").
  statement prepare(std::string_view sql);
  int try_prepare(std::string_view sql, statement& out) noexcept;

  // Runs every statement of `script` in turn, like sqlite3_exec (rows are
  // stepped and discarded); one "execute" point per statement (BEGIN, COMMIT
  // and ROLLBACK make the transaction points). Stops at the first failure.
  // Returns sqlite3_changes() after the last statement.
  std::int64_t exec(std::string_view script);
  int try_exec(std::string_view script) noexcept;

  // BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] / COMMIT / ROLLBACK, with the
  // transaction point around them (see the top of this file).
  void begin(transaction_mode mode = transaction_mode::deferred);
  void commit();
  void rollback();
  int try_begin(transaction_mode mode = transaction_mode::deferred) noexcept;
  int try_commit() noexcept;
  int try_rollback() noexcept;
  bool in_transaction() const noexcept { return db_ && !sqlite3_get_autocommit(db_); }

  std::int64_t changes() const noexcept;
  std::int64_t total_changes() const noexcept;
  // 0 / nothing on a closed connection, as changes() (SQLite's own would crash).
  std::int64_t last_insert_rowid() const noexcept { return db_ ? sqlite3_last_insert_rowid(db_) : 0; }
  void busy_timeout(int ms) noexcept {
    if (db_) sqlite3_busy_timeout(db_, ms);
  }

 private:
  friend class statement;
  friend class transaction;
  int run_control(const char* sql) noexcept;
  int run_script(std::string_view script, detail::failure* f) noexcept;
  [[noreturn]] void raise(int rc, const char* sql = nullptr) const;

  sqlite3* db_ = nullptr;
  std::shared_ptr<detail::connection_state> state_;
  std::string pending_name_ = "db";
};

class statement {
 public:
  statement() noexcept;
  // connection.prepare(sql).
  statement(connection& c, std::string_view sql);
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  // Ends a running execution's point and finalizes; never throws.
  ~statement();

  sqlite3_stmt* handle() const noexcept { return stmt_; }
  explicit operator bool() const noexcept { return stmt_ != nullptr; }
  // The SQL text as prepared (sqlite3_sql).
  const char* sql() const noexcept { return stmt_ ? sqlite3_sql(stmt_) : ""; }

  // ---- binding (indexes start at 1; names include their prefix: ":id") ----
  // Values are recorded for db.params only while trace_sql_params() is on.
  // An unsigned value past INT64_MAX throws error(SQLITE_MISMATCH): SQLite's
  // INTEGER is signed 64-bit, and a silent wrap would store another number.
  template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  statement& bind(int index, T value) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (value > static_cast<T>(INT64_MAX)) {
        throw error(SQLITE_MISMATCH, SQLITE_MISMATCH,
                    "value " + std::to_string(value) + " for parameter " + std::to_string(index) +
                        " does not fit SQLite's 64-bit signed INTEGER");
      }
    }
    return check(try_bind_int64(index, static_cast<std::int64_t>(value)));
  }
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  statement& bind(int index, T value) {
    return check(try_bind_double(index, static_cast<double>(value)));
  }
  statement& bind(int index, std::string_view text) { return check(try_bind_text(index, text)); }  // copied
  statement& bind(int index, const std::string& text) { return check(try_bind_text(index, text)); }
  statement& bind(int index, const char* text) {  // nullptr binds NULL
    return check(text ? try_bind_text(index, text) : try_bind_null(index));
  }
  statement& bind(int index, std::nullptr_t) { return check(try_bind_null(index)); }
  statement& bind_blob(int index, const void* data, std::size_t size) { return check(try_bind_blob(index, data, size)); }
  statement& bind_null(int index) { return check(try_bind_null(index)); }
  // By name; throws error(SQLITE_RANGE) naming the parameter when there is none.
  template <class T>
  statement& bind(const char* name, T&& value) {
    return bind(parameter_index(name), std::forward<T>(value));
  }
  template <class T>
  statement& bind(const std::string& name, T&& value) {
    return bind(parameter_index(name.c_str()), std::forward<T>(value));
  }
  statement& bind_blob(const std::string& name, const void* data, std::size_t size) {
    return bind_blob(parameter_index(name.c_str()), data, size);
  }
  statement& bind_null(const std::string& name) { return bind_null(parameter_index(name.c_str())); }
  int parameter_count() const noexcept { return sqlite3_bind_parameter_count(stmt_); }
  int parameter_index(const char* name) const;

  inline int try_bind_int64(int index, std::int64_t value) noexcept;
  inline int try_bind_double(int index, double value) noexcept;
  int try_bind_text(int index, std::string_view text) noexcept;
  int try_bind_blob(int index, const void* data, std::size_t size) noexcept;
  int try_bind_null(int index) noexcept;
  // sqlite3_clear_bindings (and forgets recorded params).
  statement& clear_bindings() noexcept;

  // ---- running ----
  // True: a row is ready; false: done. Throws error on failure (after
  // recording it in the execution's point).
  bool step();
  // SQLITE_ROW, SQLITE_DONE or the error code; never throws.
  inline int try_step() noexcept;
  // Ends the running execution (its point, with the rows stepped so far) and
  // rewinds; bindings are kept. Returns sqlite3_reset's code, never throws.
  inline int reset() noexcept;
  // Rows stepped in the current (or last) execution.
  std::int64_t rows() const noexcept { return rows_; }
  // Runs the statement to the end (rows discarded), resets it, and returns
  // the rows affected (DML) or returned; throws error on failure.
  std::int64_t execute();

  // ---- columns of the current row (indexes start at 0) ----
  int column_count() const noexcept { return sqlite3_column_count(stmt_); }
  const char* column_name(int i) const noexcept { return sqlite3_column_name(stmt_, i); }
  int column_type(int i) const noexcept { return sqlite3_column_type(stmt_, i); }
  bool is_null(int i) const noexcept { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int column_int(int i) const noexcept { return sqlite3_column_int(stmt_, i); }
  std::int64_t column_int64(int i) const noexcept { return sqlite3_column_int64(stmt_, i); }
  double column_double(int i) const noexcept { return sqlite3_column_double(stmt_, i); }
  // Valid until the next step/reset or another column call on this column.
  std::string_view column_text(int i) const noexcept {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string_view();
  }
  std::string column_string(int i) const { return std::string(column_text(i)); }
  const void* column_blob(int i) const noexcept { return sqlite3_column_blob(stmt_, i); }
  int column_bytes(int i) const noexcept { return sqlite3_column_bytes(stmt_, i); }

  // Finalizes now (ending a running execution's point); never throws.
  void finalize() noexcept;

 private:
  friend class connection;
  enum class kind : unsigned char { plain, begin, commit, rollback };

  statement(sqlite3_stmt* stmt, std::shared_ptr<detail::connection_state> state) noexcept;
  statement& check(int rc) {
    if (rc != SQLITE_OK) raise(rc);
    return *this;
  }
  // Whether a bind must go through remember(): params traced, or values kept.
  bool keeping() const noexcept { return params_ != nullptr || trace_sql_params(); }
  void end_run() noexcept;
  void open_point() noexcept;
  int close_point(int rc) noexcept;
  [[noreturn]] void raise(int rc) const;
  void remember(int index, int type, std::int64_t i, double d, std::string_view text) noexcept;

  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<detail::connection_state> state_;
  db::call exec_;                    // the running execution's point (inert when not traced)
  std::int64_t rows_ = 0;            // rows stepped in this execution
  std::int64_t changes_before_ = 0;  // sqlite3_total_changes64 when the point opened
  bool running_ = false;             // between the first step and done/reset
  kind kind_ = kind::plain;
  bool has_columns_ = false;         // returns rows (else rows = sqlite3_changes)
  db::shared_text text_;                           // made at the first traced run with trace_sql on
  std::unique_ptr<detail::bound_values> params_;   // only while trace_sql_params() is on
};

// Rolls back unless commit() was called. Points: see the top of this file.
class transaction {
 public:
  explicit transaction(connection& c, transaction_mode mode = transaction_mode::deferred);
  transaction(transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  transaction& operator=(transaction&&) = delete;
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  // Rolls back if still open; never throws.
  ~transaction();

  void commit();
  void rollback();
  bool active() const noexcept { return conn_ != nullptr; }

 private:
  connection* conn_;
};

// ---- inline hot path ----

namespace detail {
// sqlite3_step for a run whose start is still held (db::call::begin_held):
// while SQLite works, the connection's progress handler can send the start.
inline int step_held(sqlite3_stmt* stmt, db::call& run) noexcept {
  const osprofiler::detail::held_work work(&run);
  return sqlite3_step(stmt);
}
}  // namespace detail

inline int statement::try_step() noexcept {
  if (!running_) {
    running_ = true;
    rows_ = 0;
    if (osprofiler::active()) open_point();
  }
  const int rc = exec_.start_held() ? detail::step_held(stmt_, exec_) : sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    ++rows_;
    // The user's code between fetches is not part of the run: the point
    // leaves the trace stack (its end moves to the latest row).
    if (exec_.recording()) exec_.end_here();
    return rc;
  }
  running_ = false;
  return exec_.recording() || kind_ != kind::plain ? close_point(rc) : rc;
}

inline int statement::reset() noexcept {
  if (running_) end_run();
  return sqlite3_reset(stmt_);
}

inline int statement::try_bind_int64(int index, std::int64_t value) noexcept {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc == SQLITE_OK && keeping()) remember(index, SQLITE_INTEGER, value, 0, {});
  return rc;
}

inline int statement::try_bind_double(int index, double value) noexcept {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc == SQLITE_OK && keeping()) remember(index, SQLITE_FLOAT, 0, value, {});
  return rc;
}

inline bool statement::step() {
  const int rc = try_step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  raise(rc);
}

}  // namespace osprofiler::sqlite
