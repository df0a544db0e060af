// Private: what a connection shares with its statements (kept alive by the
// statements, since sqlite3_close_v2 lets them outlive the connection object).
//
// Thread-safety: used by the thread that uses the connection.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "osprofiler/db.h"

namespace osprofiler::sqlite::detail {

struct connection_state {
  sqlite3* db = nullptr;
  db::endpoint ep;
  db::call tx;              // the open "transaction" point
  std::size_t tx_depth = 0;

  // Ends the transaction point (and points opened inside it) when it is open.
  void end_transaction() noexcept;
  static void settle_tx(void* self) noexcept;
};

// Bind values kept for db.params while trace_sql_params() is on.
struct bound_values {
  struct value {
    int index = 0;
    int type = SQLITE_NULL;
    std::int64_t i = 0;
    double d = 0;
    std::string text;  // SQLITE_TEXT: the text (cut); SQLITE_BLOB: unused, i = size
  };
  std::vector<value> values;

  void set(int index, int type, std::int64_t i, double d, std::string_view text);
  void forget(int index) noexcept;
  // As JSON: an array by position when every parameter is anonymous ("?"),
  // else an object by name ("?N" for anonymous ones).
  nlohmann::json to_json(sqlite3_stmt* stmt) const;
};

// What a statement is, from its first keyword.
enum class control { plain, begin, commit, rollback };
control classify(std::string_view sql) noexcept;

// Stop info fields for a failure on `db` with result code `rc`.
void record_failure(db::call& c, sqlite3* db, int rc) noexcept;

// The progress handler every connection installs. SQLite calls it every
// progress_steps virtual machine steps of a statement (counted over the
// statement's life, not per run); a run going on for held_start_limit by
// then sends its held start, so that it shows in its trace while it runs.
constexpr int progress_steps = 1000;
constexpr std::chrono::milliseconds held_start_limit{1};
int on_progress(void*) noexcept;

// sqlite3_changes64 / sqlite3_total_changes64 where available.
std::int64_t changes(sqlite3* db) noexcept;
std::int64_t total_changes(sqlite3* db) noexcept;

}  // namespace osprofiler::sqlite::detail
