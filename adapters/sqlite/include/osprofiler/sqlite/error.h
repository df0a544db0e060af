// The exception the traced SQLite types throw for a failing SQLite call.
// It carries what sqlite3_errcode / sqlite3_extended_errcode / sqlite3_errmsg
// said, and the failing statement's text only while trace_sql() is on (so
// that, like trace points, no SQL text escapes when it is off).
//
// Thread-safety: an error is an immutable value.
#pragma once

#include <stdexcept>
#include <string>

namespace osprofiler::sqlite {

class error : public std::runtime_error {
 public:
  // what() is `message` (SQLite's own text, e.g. "UNIQUE constraint failed: t.id").
  error(int code, int extended_code, const std::string& message, std::string statement = {});

  // Primary result code (SQLITE_CONSTRAINT, SQLITE_BUSY, ...).
  int code() const noexcept { return code_; }
  // Extended result code (SQLITE_CONSTRAINT_PRIMARYKEY, ...); equals code()
  // when SQLite gave no extended one.
  int extended_code() const noexcept { return extended_code_; }
  // SQL text of the failing statement; empty unless trace_sql() was on.
  const std::string& statement() const noexcept { return statement_; }

 private:
  int code_;
  int extended_code_;
  std::string statement_;
};

// The etype recorded in a failing trace point's stop info.
inline constexpr const char* error_type_name = "osprofiler::sqlite::error";

}  // namespace osprofiler::sqlite
