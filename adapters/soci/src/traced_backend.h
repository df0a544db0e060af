// Private: the decorators behind osprofiler::soci::traced(). Each traced_*
// object owns the real backend object it wraps and forwards every virtual
// call to it, adding trace points around the calls that reach the database.
//
// What is wrapped and why:
//  - session_backend: connect (factory), close (destructor), begin / commit /
//    rollback, and the statements it makes.
//  - statement_backend: prepare, execute, fetch, prepare_for_describe (the
//    PostgreSQL backend runs the query there for dynamic rows).
//  - use backends: to read the bind values after SOCI has prepared them.
// Into, rowid and blob backends are handed out unwrapped: the real backends
// static_cast them to their own types (e.g. an into of soci::rowid casts the
// rowid's backend), so wrapping them would break those casts.
//
// Thread-safety: as SOCI's own backends (one thread at a time per session).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <soci/connection-parameters.h>
#include <soci/soci-backend.h>

#include "osprofiler/db.h"

namespace osprofiler::soci::detail {

namespace sd = ::soci::details;

// db.namespace for a connect string: db / dbname / database / service (pairs
// separated by blanks or ';', values possibly quoted), the path of a URI
// (after the last '@', up to '?' or '#') or its dbname parameter, or the
// whole string when it has no key=value (an SQLite file name). Empty when
// none is found. Nothing else of the string: never a password.
std::string namespace_of(const std::string& connect_string);

// Records the exception being handled (call only inside a catch block) as the
// failure of `c`: etype, message, db.category (SOCI's error category) and the
// backend's code (db.code for SQLite, db.sqlstate for PostgreSQL). The
// message keeps what the switches allow (db::scrub_message, `query` being the
// statement's text); a connect failure's (`connect_string` given) keeps all
// but the password.
void record_failure(db::call& c, std::string_view query = {}, const std::string* connect_string = nullptr) noexcept;

class traced_factory final : public ::soci::backend_factory {
 public:
  traced_factory(const ::soci::backend_factory& inner, const char* system, std::string point_name);
  sd::session_backend* make_session(const ::soci::connection_parameters& params) const override;
  const ::soci::backend_factory& inner() const noexcept { return inner_; }

 private:
  const ::soci::backend_factory& inner_;
  const char* system_;  // "" when the factory's type did not name the backend
  std::string point_name_;
};

// A use element's backend, seen by its statement for db.params.
class param_source {
 public:
  virtual ~param_source() = default;
  // Appends this element's value(s) as {position or name, value}.
  virtual void render(std::vector<std::pair<int, nlohmann::json>>& positional, nlohmann::json& named) const = 0;
  // The statement is going away first: stop telling it about our end.
  void orphan() noexcept { owner_ = nullptr; }

 protected:
  class traced_statement_backend* owner_ = nullptr;
  friend class traced_statement_backend;
};

class traced_session_backend final : public sd::session_backend {
 public:
  traced_session_backend(std::unique_ptr<sd::session_backend> inner, db::endpoint ep);
  ~traced_session_backend() override;

  sd::session_backend* inner() noexcept { return inner_.get(); }
  const db::endpoint& endpoint() const noexcept { return ep_; }
  // set_failover_callback() is not virtual, so it lands on this object;
  // the real backend reads its own copy when it reconnects.
  void sync_failover() noexcept {
    inner_->failoverCallback_ = failoverCallback_;
    inner_->session_ = session_;
  }

  bool is_connected() override { return inner_->is_connected(); }
  void begin() override;
  void commit() override;
  void rollback() override;

  bool get_next_sequence_value(::soci::session& s, std::string const& sequence, long long& value) override {
    return inner_->get_next_sequence_value(s, sequence, value);
  }
  bool get_last_insert_id(::soci::session& s, std::string const& table, long long& value) override {
    return inner_->get_last_insert_id(s, table, value);
  }
  std::string get_table_names_query() const override { return inner_->get_table_names_query(); }
  std::string get_column_descriptions_query() const override { return inner_->get_column_descriptions_query(); }
  std::string create_table(const std::string& t) override { return inner_->create_table(t); }
  std::string drop_table(const std::string& t) override { return inner_->drop_table(t); }
  std::string truncate_table(const std::string& t) override { return inner_->truncate_table(t); }
  std::string create_column_type(::soci::data_type dt, int precision, int scale) override {
    return inner_->create_column_type(dt, precision, scale);
  }
  std::string add_column(const std::string& t, const std::string& c, ::soci::data_type dt, int precision,
                         int scale) override {
    return inner_->add_column(t, c, dt, precision, scale);
  }
  std::string alter_column(const std::string& t, const std::string& c, ::soci::data_type dt, int precision,
                           int scale) override {
    return inner_->alter_column(t, c, dt, precision, scale);
  }
  std::string drop_column(const std::string& t, const std::string& c) override { return inner_->drop_column(t, c); }
  std::string constraint_unique(const std::string& n, const std::string& c) override {
    return inner_->constraint_unique(n, c);
  }
  std::string constraint_primary_key(const std::string& n, const std::string& c) override {
    return inner_->constraint_primary_key(n, c);
  }
  std::string constraint_foreign_key(const std::string& n, const std::string& c, const std::string& rt,
                                     const std::string& rc) override {
    return inner_->constraint_foreign_key(n, c, rt, rc);
  }
  std::string empty_blob() override { return inner_->empty_blob(); }
  std::string nvl() override { return inner_->nvl(); }
  std::string get_dummy_from_table() const override { return inner_->get_dummy_from_table(); }
  std::string get_backend_name() const override { return inner_->get_backend_name(); }

  sd::statement_backend* make_statement_backend() override;
  sd::rowid_backend* make_rowid_backend() override { return inner_->make_rowid_backend(); }
  sd::blob_backend* make_blob_backend() override { return inner_->make_blob_backend(); }

 private:
  // Ends the transaction point after begin failed or commit / rollback ran.
  void end_transaction() noexcept { tx_.finish(); }

  std::unique_ptr<sd::session_backend> inner_;
  db::endpoint ep_;
  db::call tx_;  // the "transaction" point, open from begin() to commit() / rollback()
};

class traced_statement_backend final : public sd::statement_backend {
 public:
  traced_statement_backend(traced_session_backend& session, std::unique_ptr<sd::statement_backend> inner);
  ~traced_statement_backend() override;

  void alloc() override { inner_->alloc(); }
  void clean_up() override;
  void prepare(std::string const& query, sd::statement_type type) override;
  exec_fetch_result execute(int number) override;
  exec_fetch_result fetch(int number) override;
  long long get_affected_rows() override { return inner_->get_affected_rows(); }
  int get_number_of_rows() override { return inner_->get_number_of_rows(); }
  std::string get_parameter_name(int index) const override { return inner_->get_parameter_name(index); }
  std::string rewrite_for_procedure_call(std::string const& query) override {
    return inner_->rewrite_for_procedure_call(query);
  }
  int prepare_for_describe() override;
  void describe_column(int col, ::soci::data_type& dtype, std::string& name) override;

  sd::standard_into_type_backend* make_into_type_backend() override;
  sd::standard_use_type_backend* make_use_type_backend() override;
  sd::vector_into_type_backend* make_vector_into_type_backend() override;
  sd::vector_use_type_backend* make_vector_use_type_backend() override;

  void forget(param_source* p) noexcept;

 private:
  void start_execution() noexcept;
  // Sends the stop of the last execution (its end is its last fetch).
  void finish_execution() noexcept { exec_.finish(); }
  // After execute() / fetch() returned: counts rows, and either ends the
  // point or parks it while more fetches may come.
  void account(exec_fetch_result r, int number, bool from_execute) noexcept;
  nlohmann::json render_params() const;
  std::string_view statement_text() const noexcept { return text_ ? std::string_view(*text_) : std::string_view(); }
  // Elements bound after an execution are a new set (statement::
  // bind_clean_up() then exchange()): what the old set had is forgotten.
  void rebinding() noexcept {
    if (!executed_) return;
    executed_ = false;
    intos_ = 0;
    bulk_ = false;
  }

  traced_session_backend& session_;
  std::unique_ptr<sd::statement_backend> inner_;
  db::shared_text text_;  // kept while the profiler is enabled
  db::call exec_;         // the current execution, parked between fetches
  bool described_ = false;  // exec_ was started by prepare_for_describe()
  int intos_ = 0;
  bool executed_ = false;  // execute() ran since elements were last bound
  bool bulk_ = false;      // has vector into or use elements
  bool batch_recorded_ = false;
  std::vector<param_source*> uses_;
};

}  // namespace osprofiler::soci::detail
