// Traced COPY streams: osprofiler::pqxx::stream_from / stream_to wrap
// pqxx::stream_from / pqxx::stream_to. A whole stream is one trace point
// (db.api "execute", statement "COPY <table> [(<columns>)] TO STDOUT" /
// "FROM STDIN" while trace_sql is on) from construction to complete() or
// destruction, with the rows read or written as its rows: never one point
// per row.
//
// Thread-safety: like libpqxx, one thread at a time per connection. Neither
// copyable nor movable.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "osprofiler/db.h"
#include "osprofiler/pqxx/detail.h"
#include "osprofiler/pqxx/transaction.h"

namespace osprofiler::pqxx {

namespace detail {
// "COPY <table> (<a>,<b>) <direction>", the statement libpqxx sends.
template <typename Columns>
std::string copy_statement(const std::string& table, const Columns& columns, const char* direction) {
  std::string text = "COPY " + table;
  auto first = std::begin(columns), last = std::end(columns);
  if (first != last) text += " (" + ::pqxx::separated_list(",", first, last) + ")";
  return text + " " + direction;
}
inline db::call copy_point(transaction_base& tx, const std::string& table, const std::vector<std::string>* columns,
                           const char* direction) noexcept {
  if (!active()) return db::call{};
  try {
    static const std::vector<std::string> none;
    return db::call(tx.endpoint(), "execute",
                    trace_sql() ? db::make_text(copy_statement(table, columns ? *columns : none, direction))
                                : db::shared_text{});
  } catch (...) {
    return db::call{};
  }
}
}  // namespace detail

class stream_from {
 public:
  stream_from(transaction_base& tx, const std::string& table) : call_(detail::copy_point(tx, table, nullptr, "TO STDOUT")) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table); });
  }
  template <typename Columns>
  stream_from(transaction_base& tx, const std::string& table, const Columns& columns)
      : call_(columns_point(tx, table, columns)) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table, columns); });
  }
  ~stream_from() noexcept {
    try {
      raw_.reset();
    } catch (...) {
    }
    call_.rows(rows_);
  }
  stream_from(const stream_from&) = delete;
  stream_from& operator=(const stream_from&) = delete;

  // Ends the COPY and the trace point.
  void complete() {
    call_.rows(rows_);
    detail::run(call_, [&] { raw_->complete(); });
    call_.finish();
  }
  bool get_raw_line(std::string& line) {
    bool got = detail::run(call_, [&] { return raw_->get_raw_line(line); });
    if (got) ++rows_;
    return got;
  }
  template <typename Tuple>
  stream_from& operator>>(Tuple& row) {
    detail::run(call_, [&] { *raw_ >> row; });
    if (*raw_) ++rows_;
    return *this;
  }
  explicit operator bool() const noexcept { return raw_ && static_cast<bool>(*raw_); }
  bool operator!() const noexcept { return !static_cast<bool>(*this); }

  // The libpqxx stream, for anything the wrapper does not cover.
  ::pqxx::stream_from& raw() noexcept { return *raw_; }

 private:
  template <typename Columns>
  static db::call columns_point(transaction_base& tx, const std::string& table, const Columns& columns) noexcept {
    if (!active()) return db::call{};
    try {
      std::vector<std::string> names;
      for (const auto& c : columns) names.emplace_back(c);
      return detail::copy_point(tx, table, &names, "TO STDOUT");
    } catch (...) {
      return db::call{};
    }
  }

  db::call call_;
  std::optional<::pqxx::stream_from> raw_;
  std::int64_t rows_ = 0;
};

class stream_to {
 public:
  stream_to(transaction_base& tx, const std::string& table) : call_(detail::copy_point(tx, table, nullptr, "FROM STDIN")) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table); });
  }
  template <typename Columns>
  stream_to(transaction_base& tx, const std::string& table, const Columns& columns)
      : call_(columns_point(tx, table, columns)) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table, columns); });
  }
  // Like pqxx::stream_to, completes the COPY if complete() was not called
  // (errors are swallowed there; call complete() to see them).
  ~stream_to() noexcept {
    try {
      raw_.reset();
    } catch (...) {
    }
    call_.rows(rows_);
  }
  stream_to(const stream_to&) = delete;
  stream_to& operator=(const stream_to&) = delete;

  // Ends the COPY (the server checks the rows now) and the trace point.
  void complete() {
    call_.rows(rows_);
    detail::run(call_, [&] { raw_->complete(); });
    call_.finish();
  }
  template <typename Tuple>
  stream_to& operator<<(const Tuple& row) {
    detail::run(call_, [&] { *raw_ << row; });
    ++rows_;
    return *this;
  }

  // The libpqxx stream, for anything the wrapper does not cover.
  ::pqxx::stream_to& raw() noexcept { return *raw_; }

 private:
  template <typename Columns>
  static db::call columns_point(transaction_base& tx, const std::string& table, const Columns& columns) noexcept {
    if (!active()) return db::call{};
    try {
      std::vector<std::string> names;
      for (const auto& c : columns) names.emplace_back(c);
      return detail::copy_point(tx, table, &names, "FROM STDIN");
    } catch (...) {
      return db::call{};
    }
  }

  db::call call_;
  std::optional<::pqxx::stream_to> raw_;
  std::int64_t rows_ = 0;
};

}  // namespace osprofiler::pqxx
