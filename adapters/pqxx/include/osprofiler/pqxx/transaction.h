// Traced libpqxx transactions. Each offers the calls of pqxx::transaction_base
// (exec, exec0, exec1, exec_n, exec_params*, exec_prepared*, commit, abort,
// quote/esc ...) with the same arguments, results and exceptions; each
// statement is one trace point (db.api "execute") with its rows in the stop
// info, and on failure etype (libpqxx's class), message and db.sqlstate
// before the exception goes on unchanged.
//
// A real transaction (work, read_transaction, transaction<...>,
// subtransaction) is one point with db.api "transaction" from BEGIN (or
// SAVEPOINT) to COMMIT / ROLLBACK; its children are the "begin" point, the
// statements and the "commit" or "rollback" point. A transaction destroyed
// without commit() is rolled back, as in libpqxx, and that shows as a
// "rollback" point. nontransaction sends no BEGIN or COMMIT and has no
// points of its own: its statements nest under whatever point is current.
//
// Thread-safety: like libpqxx, one thread at a time per connection. Neither
// copyable nor movable (libpqxx transactions are not).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <pqxx/pqxx>

#include "osprofiler/db.h"
#include "osprofiler/pqxx/connection.h"
#include "osprofiler/pqxx/detail.h"
#include "osprofiler/profiler.h"

namespace osprofiler::pqxx {

template <typename Raw>
class basic_transaction;
namespace detail {
class focus;
}

// What every traced transaction offers; made through basic_transaction.
class transaction_base {
 public:
  transaction_base(const transaction_base&) = delete;
  transaction_base& operator=(const transaction_base&) = delete;

  // ---- statements: one trace point each --------------------------------
  ::pqxx::result exec(const std::string& query, const std::string& desc = std::string{}) {
    db::call c = statement_point(query);
    return detail::run(c, [&] { return raw_->exec(query, desc); }, keep());
  }
  ::pqxx::result exec0(const std::string& query, const std::string& desc = std::string{}) {
    db::call c = statement_point(query);
    return detail::run(c, [&] { return raw_->exec0(query, desc); }, keep());
  }
  ::pqxx::row exec1(const std::string& query, const std::string& desc = std::string{}) {
    db::call c = statement_point(query);
    return detail::run(c, [&] { return raw_->exec1(query, desc); }, keep());
  }
  ::pqxx::result exec_n(std::size_t rows, const std::string& query, const std::string& desc = std::string{}) {
    db::call c = statement_point(query);
    return detail::run(c, [&] { return raw_->exec_n(rows, query, desc); }, keep());
  }

  template <typename... Args>
  ::pqxx::result exec_params(const std::string& query, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_params(c, query, args...);
    return detail::run(c, [&] { return raw_->exec_params(query, std::forward<Args>(args)...); }, keep());
  }
  template <typename... Args>
  ::pqxx::result exec_params0(const std::string& query, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_params(c, query, args...);
    return detail::run(c, [&] { return raw_->exec_params0(query, std::forward<Args>(args)...); }, keep());
  }
  template <typename... Args>
  ::pqxx::row exec_params1(const std::string& query, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_params(c, query, args...);
    return detail::run(c, [&] { return raw_->exec_params1(query, std::forward<Args>(args)...); }, keep());
  }
  template <typename... Args>
  ::pqxx::result exec_params_n(std::size_t rows, const std::string& query, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_params(c, query, args...);
    return detail::run(c, [&] { return raw_->exec_params_n(rows, query, std::forward<Args>(args)...); }, keep());
  }

  // Prepared statements: the point carries the text given to
  // connection::prepare() (while trace_sql is on).
  template <typename... Args>
  ::pqxx::result exec_prepared(const std::string& statement, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_prepared(c, statement, args...);
    return detail::run(c, [&] { return raw_->exec_prepared(statement, std::forward<Args>(args)...); }, keep());
  }
  template <typename... Args>
  ::pqxx::result exec_prepared0(const std::string& statement, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_prepared(c, statement, args...);
    return detail::run(c, [&] { return raw_->exec_prepared0(statement, std::forward<Args>(args)...); }, keep());
  }
  template <typename... Args>
  ::pqxx::row exec_prepared1(const std::string& statement, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_prepared(c, statement, args...);
    return detail::run(c, [&] { return raw_->exec_prepared1(statement, std::forward<Args>(args)...); }, keep());
  }
  template <typename... Args>
  ::pqxx::result exec_prepared_n(std::size_t rows, const std::string& statement, Args&&... args) {
    db::call c{db::call::deferred{}};
    if (active()) begin_prepared(c, statement, args...);
    return detail::run(c, [&] { return raw_->exec_prepared_n(rows, statement, std::forward<Args>(args)...); },
                       keep());
  }

  // ---- end of the transaction -------------------------------------------
  // COMMIT (RELEASE SAVEPOINT for a subtransaction) as a "commit" point;
  // ends the transaction point (failed if the commit failed).
  void commit() {
    if (!bounded_) return raw_->commit();
    ender guard{*this, {}};
    db::call c(state_->ep, "commit");
    try {
      detail::run(c, [&] { raw_->commit(); }, &guard.failed);
    } catch (...) {
      // With a stream made through the wrapper still open, libpqxx refuses
      // before sending anything: the transaction stays open.
      if (focus_ > 0) guard.open = true;
      throw;
    }
  }
  // ROLLBACK (ROLLBACK TO SAVEPOINT) as a "rollback" point.
  void abort() {
    if (!bounded_) return raw_->abort();
    ender guard{*this, {}};
    db::call c(state_->ep, "rollback");
    detail::run(c, [&] { raw_->abort(); }, &guard.failed);
  }

  // ---- local helpers: no statement, no trace point ----------------------
  std::string esc(const char text[]) const { return raw_->esc(text); }
  std::string esc(const char text[], std::size_t maxlen) const { return raw_->esc(text, maxlen); }
  std::string esc(const std::string& text) const { return raw_->esc(text); }
  std::string esc_raw(const unsigned char data[], std::size_t len) const { return raw_->esc_raw(data, len); }
  std::string esc_raw(const std::string& data) const { return raw_->esc_raw(data); }
  std::string unesc_raw(const std::string& text) const { return raw_->unesc_raw(text); }
  template <typename T>
  std::string quote(const T& value) const {
    return raw_->quote(value);
  }
  std::string quote_raw(const unsigned char data[], std::size_t len) const { return raw_->quote_raw(data, len); }
  std::string quote_raw(const std::string& data) const { return raw_->quote_raw(data); }
  std::string quote_name(const std::string& identifier) const { return raw_->quote_name(identifier); }
  std::string esc_like(const std::string& text, char escape_char = '\\') const {
    return raw_->esc_like(text, escape_char);
  }

  // The libpqxx transaction, for anything the wrapper does not cover.
  ::pqxx::transaction_base& raw() noexcept { return *raw_; }
  const db::endpoint& endpoint() const noexcept { return state_->ep; }
  // Private: the connection state, for streams made on this transaction.
  detail::connection_state& state() const noexcept { return *state_; }

 protected:
  transaction_base(detail::connection_state& state, bool bounded) noexcept
      : state_(&state), bounded_(bounded), uncaught_(std::uncaught_exceptions()) {}
  ~transaction_base() = default;  // the tx point (if any) stops with tx_

  // Makes the libpqxx transaction (which sends BEGIN / SAVEPOINT) inside the
  // transaction point, as its "begin" point.
  template <typename Make>
  void open(Make&& make) {
    if (!bounded_) {
      raw_ = make();
      return;
    }
    if (active()) tx_ = db::call(state_->ep, "transaction");
    db::call b(state_->ep, "begin");
    detail::failure failed;
    try {
      raw_ = detail::run(b, make, &failed);
    } catch (...) {
      detail::apply(tx_, failed);
      throw;
    }
  }

  // Called by the destructor: a transaction still open is rolled back as a
  // "rollback" point (libpqxx would roll it back untraced). When an exception
  // is leaving the transaction's scope, the last statement failure is also
  // the transaction point's failure.
  void close() noexcept {
    if (raw_ && !ended_ && bounded_ && tx_.recording()) {
      db::call c(state_->ep, "rollback");
      try {
        detail::run(c, [&] { raw_->abort(); });
      } catch (...) {
      }
    }
    if (std::uncaught_exceptions() > uncaught_ && !last_failure_.etype.empty()) detail::apply(tx_, last_failure_);
    end();
  }

  // The transaction has ended: its point stops.
  void end() noexcept {
    ended_ = true;
    tx_.finish();
  }

  ::pqxx::transaction_base* raw_ = nullptr;

 private:
  template <typename>
  friend class basic_transaction;
  friend class detail::focus;

  // Ends the transaction point once the commit / rollback point has stopped.
  struct ender {
    transaction_base& t;
    detail::failure failed;
    bool open = false;  // the call did not end the transaction after all
    ~ender() {
      if (open) return;
      if (!failed.etype.empty()) detail::apply(t.tx_, failed);
      t.end();
    }
  };

  detail::failure* keep() noexcept { return bounded_ ? &last_failure_ : nullptr; }

  db::call statement_point(const std::string& query) noexcept {
    if (!active()) return db::call{};
    return db::call(state_->ep, "execute", std::string_view(query));
  }

  template <typename... Args>
  void begin_params(db::call& c, const std::string& query, const Args&... args) noexcept {
    try {
      c.begin(state_->ep, "execute", trace_sql() ? db::make_text(query) : db::shared_text{},
              trace_sql_params() ? detail::params_json(args...) : nlohmann::json());
    } catch (...) {  // out of memory or an unprintable value: the statement still runs
    }
  }

  template <typename... Args>
  void begin_prepared(db::call& c, const std::string& statement, const Args&... args) noexcept {
    try {
      c.begin(state_->ep, "execute", trace_sql() ? state_->statement_of(statement) : db::shared_text{},
              trace_sql_params() ? detail::params_json(args...) : nlohmann::json());
    } catch (...) {
    }
  }

  detail::connection_state* state_;
  bool bounded_;
  bool ended_ = false;
  int focus_ = 0;  // streams open on this transaction (libpqxx 6 refuses to commit then)
  int uncaught_;
  db::call tx_;
  detail::failure last_failure_;
};

// A traced libpqxx transaction of type Raw (pqxx::work, pqxx::nontransaction,
// pqxx::transaction<...>, pqxx::subtransaction, ...).
template <typename Raw>
class basic_transaction final : public transaction_base {
  static constexpr bool bounded = !std::is_same_v<Raw, ::pqxx::nontransaction>;

 public:
  // A transaction on `c`, as Raw(c.raw(), name).
  template <typename R = Raw, std::enable_if_t<!std::is_same_v<R, ::pqxx::subtransaction>, int> = 0>
  explicit basic_transaction(connection& c, const std::string& name = std::string{})
      : transaction_base(c.state(), bounded) {
    open([&] {
      raw_typed_.emplace(c.raw(), name);
      return static_cast<::pqxx::transaction_base*>(&*raw_typed_);
    });
  }

  // A subtransaction (SAVEPOINT) of `parent`, as pqxx::subtransaction(parent.raw(), name).
  template <typename P, typename R = Raw,
            std::enable_if_t<std::is_same_v<R, ::pqxx::subtransaction> && std::is_base_of_v<::pqxx::dbtransaction, P>,
                             int> = 0>
  explicit basic_transaction(basic_transaction<P>& parent, const std::string& name = std::string{})
      : transaction_base(parent.state(), bounded) {
    open([&] {
      raw_typed_.emplace(*parent.raw_typed_, name);
      return static_cast<::pqxx::transaction_base*>(&*raw_typed_);
    });
  }

  ~basic_transaction() { close(); }

  // The libpqxx transaction, for anything the wrapper does not cover.
  Raw& raw() noexcept { return *raw_typed_; }

 private:
  template <typename>
  friend class basic_transaction;

  std::optional<Raw> raw_typed_;
};

using work = basic_transaction<::pqxx::work>;
using read_transaction = basic_transaction<::pqxx::read_transaction>;
using nontransaction = basic_transaction<::pqxx::nontransaction>;
using subtransaction = basic_transaction<::pqxx::subtransaction>;
template <::pqxx::isolation_level Isolation = ::pqxx::read_committed,
          ::pqxx::readwrite_policy ReadWrite = ::pqxx::read_write>
using transaction = basic_transaction<::pqxx::transaction<Isolation, ReadWrite>>;

}  // namespace osprofiler::pqxx
