// osprofiler::pqxx::connection: a libpqxx connection whose connect, prepare
// and close are OSProfiler trace points (db.system "postgresql", db.namespace
// the database name, server.address / server.port when known). Transactions
// made on it (transaction.h) trace their statements.
//
//   osprofiler::pqxx::connection c("postgresql://app@db/orders");
//   c.prepare("order_by_id", "SELECT * FROM orders WHERE id = $1");
//   osprofiler::pqxx::work tx(c);
//   tx.exec_prepared("order_by_id", 42);
//   tx.commit();
//
// Thread-safety: like pqxx::connection, one thread at a time. Movable (the
// state transactions refer to stays put), not copyable.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "osprofiler/db.h"
#include "osprofiler/pqxx/detail.h"

namespace osprofiler::pqxx {

class connection {
 public:
  // Connects with a libpq connection string or URI ("host=... dbname=...",
  // "postgresql://..."), as pqxx::connection does, as one trace point
  // (db.api "connect"). Failures are libpqxx's own exceptions
  // (pqxx::broken_connection ...). `point_name` names every trace point of
  // this connection (OSProfiler's add_tracing(..., name)).
  explicit connection(const std::string& options = {}, std::string point_name = "db");
  ~connection();
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // The libpqxx connection, for anything the wrapper does not cover.
  ::pqxx::connection& raw() noexcept { return *state_->raw; }

  // Defines a prepared statement (db.api "prepare"; the statement text is
  // recorded while trace_sql is on). The text is remembered, so that
  // exec_prepared() points carry it. libpqxx 6 prepares lazily: the server
  // sees the statement at its first execution.
  void prepare(const std::string& name, const std::string& definition);
  // The unnamed prepared statement (libpqxx's prepare(definition)).
  void prepare(const std::string& definition);
  // Drops a prepared statement (not a trace point: no statement is run for
  // one that was never executed, and DEALLOCATE is bookkeeping).
  void unprepare(const std::string& name);

  // Closes the connection (db.api "close"). The destructor does the same
  // for a connection still open.
  void close();
  bool is_open() const noexcept;

  // Database, server address and port as recorded in start info.
  const std::string& dbname() const noexcept;
  const db::endpoint& endpoint() const noexcept { return state_->ep; }
  // The text of a statement prepared through this wrapper (null if unknown).
  db::shared_text statement_of(const std::string& name) const { return state_->statement_of(name); }

  // Private: what transactions made on this connection share.
  detail::connection_state& state() noexcept { return *state_; }

 private:
  std::unique_ptr<detail::connection_state> state_;
};

}  // namespace osprofiler::pqxx
