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
// A stream's hold on its transaction: while it is open, libpqxx refuses the
// transaction's commit() without ending it (transaction_base::focus_).
class focus {
 public:
  focus() = default;
  focus(const focus&) = delete;
  focus& operator=(const focus&) = delete;
  ~focus() { release(); }
  void hold(transaction_base& tx) noexcept {
    tx_ = &tx;
    ++tx.focus_;
  }
  void release() noexcept {
    if (tx_) --tx_->focus_;
    tx_ = nullptr;
  }

 private:
  transaction_base* tx_ = nullptr;
};
}  // namespace detail

class stream_from {
 public:
  stream_from(transaction_base& tx, const std::string& table) : call_(detail::copy_point(tx, table, nullptr, "TO STDOUT")) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table); });
    focus_.hold(tx);
  }
  template <typename Columns>
  stream_from(transaction_base& tx, const std::string& table, const Columns& columns)
      : call_(columns_point(tx, table, columns)) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table, columns); });
    focus_.hold(tx);
  }
  // Like pqxx::stream_from, ends the COPY if complete() was not called.
  // libpqxx keeps an error from that for the transaction's next call, so
  // the point cannot know the outcome: it says so (db.completed_by).
  ~stream_from() noexcept {
    if (raw_ && *raw_ && call_.recording()) call_.stop_attribute("completed_by", "destructor");
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
    focus_.release();
    detail::run(call_, [&] { raw_->complete(); });
    call_.finish();
  }
  // libpqxx ends the COPY itself at the last row or on an error: the
  // transaction may commit from then on.
  bool get_raw_line(std::string& line) {
    bool got = false;
    try {
      got = detail::run(call_, [&] { return raw_->get_raw_line(line); });
    } catch (...) {
      focus_.release();
      throw;
    }
    if (got) ++rows_;
    if (!*raw_) focus_.release();
    return got;
  }
  template <typename Tuple>
  stream_from& operator>>(Tuple& row) {
    try {
      detail::run(call_, [&] { *raw_ >> row; });
    } catch (...) {
      focus_.release();
      throw;
    }
    if (*raw_) {
      ++rows_;
    } else {
      focus_.release();
    }
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
  detail::focus focus_;
};

class stream_to {
 public:
  stream_to(transaction_base& tx, const std::string& table) : call_(detail::copy_point(tx, table, nullptr, "FROM STDIN")) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table); });
    focus_.hold(tx);
  }
  template <typename Columns>
  stream_to(transaction_base& tx, const std::string& table, const Columns& columns)
      : call_(columns_point(tx, table, columns)) {
    detail::run(call_, [&] { raw_.emplace(tx.raw(), table, columns); });
    focus_.hold(tx);
  }
  // Like pqxx::stream_to, completes the COPY if complete() was not called.
  // libpqxx keeps an error from that (a duplicate key) for the transaction's
  // next call, where it is recorded; this point says it cannot know the
  // outcome (db.completed_by "destructor"). Call complete() to have it here.
  ~stream_to() noexcept {
    if (raw_ && call_.recording()) call_.stop_attribute("completed_by", "destructor");
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
    focus_.release();
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
  detail::focus focus_;
};

}  // namespace osprofiler::pqxx
