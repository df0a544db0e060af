// The adapter conformance suite on the SQLite adapter: a database file, and an
// in-memory database (shared-cache, so that it survives the suite's
// close/connect cycles; a keeper handle holds it for the test's duration).
#include <memory>
#include <string>

#include "conformance.h"
#include "osprofiler/sqlite/sqlite.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

class sqlite_context : public adapter_context {
 public:
  sqlite_context(std::string file, int flags) : file_(std::move(file)), flags_(flags) {
    if (flags_ & SQLITE_OPEN_MEMORY) sqlite3_open_v2(file_.c_str(), &keeper_, flags_, nullptr);
  }
  ~sqlite_context() override {
    conn_.reset();
    if (keeper_) sqlite3_close(keeper_);
  }

  std::string system() const override { return "sqlite"; }
  std::string namespace_() const override { return file_; }

  void connect(const std::string& point_name) override {
    conn_ = std::make_unique<sqlite::connection>();
    conn_->set_point_name(point_name);
    conn_->open(file_, flags_);
  }
  void close() override { conn_->close(); }

  std::int64_t exec(const std::string& sql) override { return conn_->exec(sql); }

  std::vector<std::vector<std::string>> query(const std::string& sql) override {
    sqlite::statement st = conn_->prepare(sql);
    return rows_of(st);
  }

  std::vector<std::vector<std::string>> query_bound(const std::string& sql, std::int64_t value) override {
    sqlite::statement st = conn_->prepare(sql);
    st.bind(1, value);
    rows_of(st);
    st.reset();
    return rows_of(st);
  }
  std::string placeholder() const override { return "?"; }

  void begin() override { conn_->begin(); }
  void commit() override { conn_->commit(); }
  void rollback() override { conn_->rollback(); }

  bool throws_native(const std::function<void()>& fn) override {
    try {
      fn();
    } catch (const sqlite::error&) {
      return true;
    } catch (...) {
      return false;
    }
    return false;
  }
  std::string error_code_key() const override { return "code"; }
  std::string unique_violation_code() const override { return std::to_string(SQLITE_CONSTRAINT); }

 private:
  static std::vector<std::vector<std::string>> rows_of(sqlite::statement& st) {
    std::vector<std::vector<std::string>> rows;
    while (st.step()) {
      std::vector<std::string> row;
      for (int i = 0; i < st.column_count(); ++i) row.push_back(st.is_null(i) ? "NULL" : st.column_string(i));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::string file_;
  int flags_;
  sqlite3* keeper_ = nullptr;
  std::unique_ptr<sqlite::connection> conn_;
};

int g_count = 0;

INSTANTIATE_TEST_SUITE_P(
    sqlite, conformance,
    ::testing::Values(
        context_factory{"file",
                        [] {
                          auto dir = temp_dir("sqlite-conformance");
                          return std::make_unique<sqlite_context>((dir / "conformance.db").string(),
                                                                  sqlite::connection::default_flags);
                        }},
        context_factory{"memory",
                        [] {
                          return std::make_unique<sqlite_context>(
                              "file:conformance" + std::to_string(++g_count) + "?mode=memory&cache=shared",
                              sqlite::connection::default_flags | SQLITE_OPEN_URI | SQLITE_OPEN_MEMORY);
                        }}),
    factory_name);

}  // namespace
}  // namespace osprofiler::testing
