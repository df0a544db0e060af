// Private parts of the libpqxx adapter that its templates need: the state a
// traced connection shares with its transactions, failure recording, row
// counting and bind values as JSON. Not part of the API; may change.
//
// Thread-safety: like libpqxx itself, one connection (and everything made
// from it) is used by one thread at a time. The free functions are
// thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "osprofiler/db.h"

namespace osprofiler::pqxx::detail {

// What a traced connection shares with the transactions and streams made
// from it. Heap-allocated, so moving the connection does not move it.
struct connection_state {
  std::unique_ptr<::pqxx::connection> raw;
  db::endpoint ep;
  // Statement text of every statement prepared through the wrapper, by name.
  std::unordered_map<std::string, db::shared_text> prepared;

  db::shared_text statement_of(const std::string& name) const {
    auto it = prepared.find(name);
    return it == prepared.end() ? db::shared_text{} : it->second;
  }
};

// A failure as a trace point records it.
struct failure {
  std::string etype;   // libpqxx's exception class, "pqxx::unique_violation"
  std::string message; // what(), scrubbed by scrub_message()
  nlohmann::json db;   // {"sqlstate": ...} when known, else null
};

// The exception being handled (call only inside a catch block). Never throws.
failure current_failure() noexcept;
// Records `f` as the failure of `c`.
void apply(db::call& c, const failure& f) noexcept;

// See db::scrub_message (shared with the SOCI adapter).
using db::scrub_message;

// Rows returned by a query, or affected by a command (libpqxx's
// affected_rows(): 0 for commands without a count, such as DDL).
void count_rows(db::call& c, const ::pqxx::result& r) noexcept;

// Runs `f` as the body of trace point `c`: rows from its result, and on an
// exception the failure (also kept in *keep when given) before rethrowing it
// unchanged. With `c` inert it is just f().
template <typename F>
auto run(db::call& c, F&& f, failure* keep = nullptr) -> decltype(f()) {
  using result_t = decltype(f());
  if (!c.recording()) return f();
  try {
    if constexpr (std::is_void_v<result_t>) {
      f();
    } else {
      result_t r = f();
      if constexpr (std::is_same_v<result_t, ::pqxx::result>) {
        count_rows(c, r);
      } else if constexpr (std::is_same_v<result_t, ::pqxx::row>) {
        c.rows(1);
      }
      return r;
    }
  } catch (...) {
    failure fl = current_failure();
    apply(c, fl);
    if (keep) *keep = std::move(fl);
    throw;
  }
}

// ---- bind values as text, the way libpqxx sends them ----------------------

void add_param(nlohmann::json& out, std::nullptr_t);
void add_param(nlohmann::json& out, const std::string& text);
void add_param(nlohmann::json& out, const char* text);
void add_param(nlohmann::json& out, const ::pqxx::binarystring& bytes);  // "\x<hex>", like bytea output

template <typename T>
void add_param(nlohmann::json& out, const T& value) {
#if PQXX_VERSION_MAJOR >= 7
  if (::pqxx::is_null(value)) {
#else
  if (::pqxx::string_traits<T>::is_null(value)) {
#endif
    out.push_back(nullptr);
  } else {
    out.push_back(::pqxx::to_string(value));
  }
}

template <typename IT>
void add_param(nlohmann::json& out, const ::pqxx::internal::dynamic_params<IT>& values) {
  for (auto&& v : values) add_param(out, v);
}

// The bind values of one call as a JSON array of text (null for SQL NULL).
template <typename... Args>
nlohmann::json params_json(const Args&... args) {
  nlohmann::json out = nlohmann::json::array();
  (add_param(out, args), ...);
  return out;
}

}  // namespace osprofiler::pqxx::detail
