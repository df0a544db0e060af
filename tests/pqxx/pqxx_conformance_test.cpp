// The adapter conformance suite (tests/conformance) run on the libpqxx
// adapter, over TCP and over the unix socket, each test on its own database.
#include <memory>
#include <optional>

#include <pqxx/pqxx>

#include "conformance.h"
#include "osprofiler/pqxx/pqxx.h"
#include "pqxx_test_db.h"

namespace osprofiler::testing {
namespace {

class pqxx_context : public adapter_context {
 public:
  explicit pqxx_context(bool socket) : db_("conf"), socket_(socket) {}
  ~pqxx_context() override {
    tx_.reset();
    conn_.reset();
  }

  std::string system() const override { return "postgresql"; }
  std::string namespace_() const override { return db_.name(); }

  void connect(const std::string& point_name) override {
    conn_.emplace(socket_ ? db_.socket_uri() : db_.tcp_uri(), point_name);
  }
  void close() override {
    tx_.reset();
    conn_->close();
    conn_.reset();
  }

  std::int64_t exec(const std::string& sql) override {
    return in_tx([&](osprofiler::pqxx::transaction_base& t) { return t.exec(sql); }).affected_rows();
  }
  std::vector<std::vector<std::string>> query(const std::string& sql) override {
    return text_of(in_tx([&](osprofiler::pqxx::transaction_base& t) { return t.exec(sql); }));
  }
  std::vector<std::vector<std::string>> query_bound(const std::string& sql, std::int64_t value) override {
    const std::string name = "conf_q" + std::to_string(++prepared_);
    conn_->prepare(name, sql);
    in_tx([&](osprofiler::pqxx::transaction_base& t) { return t.exec_prepared(name, value); });
    return text_of(in_tx([&](osprofiler::pqxx::transaction_base& t) { return t.exec_prepared(name, value); }));
  }
  std::string placeholder() const override { return "$1"; }

  void begin() override { tx_ = std::make_unique<osprofiler::pqxx::work>(*conn_); }
  void commit() override {
    tx_->commit();
    tx_.reset();
  }
  void rollback() override {
    tx_->abort();
    tx_.reset();
  }

  bool throws_native(const std::function<void()>& fn) override {
    try {
      fn();
    } catch (const ::pqxx::unique_violation&) {
      return true;
    } catch (...) {
      return false;
    }
    return false;
  }
  std::string error_code_key() const override { return "sqlstate"; }
  std::string unique_violation_code() const override { return "23505"; }

 private:
  // Runs `fn` in the open work, or else in autocommit (a nontransaction).
  template <typename F>
  ::pqxx::result in_tx(F&& fn) {
    if (tx_) return fn(*tx_);
    osprofiler::pqxx::nontransaction auto_commit(*conn_);
    return fn(auto_commit);
  }
  static std::vector<std::vector<std::string>> text_of(const ::pqxx::result& r) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : r) {
      std::vector<std::string> cols;
      for (const auto& field : row) cols.push_back(field.is_null() ? "NULL" : field.c_str());
      rows.push_back(std::move(cols));
    }
    return rows;
  }

  scratch_db db_;
  bool socket_;
  std::optional<osprofiler::pqxx::connection> conn_;
  std::unique_ptr<osprofiler::pqxx::work> tx_;
  int prepared_ = 0;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(pqxx, conformance,
                         ::testing::Values(context_factory{"tcp", [] { return std::make_unique<pqxx_context>(false); }},
                                           context_factory{"socket",
                                                           [] { return std::make_unique<pqxx_context>(true); }}),
                         factory_name);

}  // namespace osprofiler::testing
