// The SOCI adapter on SQLite: the conformance suite and the usage forms, on a
// database file and on :memory:.
#include <atomic>
#include <memory>
#include <vector>

#include <soci/sqlite3/soci-sqlite3.h>

#include "osprofiler/profiler.h"
#include "soci_context.h"

namespace osprofiler::testing {
namespace {

bool is_sqlite_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const ::soci::sqlite3_soci_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

soci_backend sqlite_file() {
  soci_backend b;
  b.name = "sqlite_file";
  b.factory = &::soci::sqlite3;
  b.make_db = [] {
    static std::atomic<int> n{0};
    const std::string path = (temp_dir("soci") / ("t" + std::to_string(n++) + ".db")).string();
    return std::make_pair("db=" + path + " timeout=5", path);
  };
  b.system = "sqlite3";
  b.code_key = "code";
  b.unique_code = "19";  // SQLITE_CONSTRAINT
  b.is_native = is_sqlite_error;
  return b;
}

// An in-memory database. The conformance suite reconnects, so it is a named
// shared-cache one, kept alive by an untraced session for the whole run.
soci_backend sqlite_memory() {
  soci_backend b = sqlite_file();
  b.name = "sqlite_memory";
  b.make_db = [] {
    static std::atomic<int> n{0};
    static auto* keepers = new std::vector<std::unique_ptr<::soci::session>>;
    const std::string name = "file:soci_mem" + std::to_string(n++) + "?mode=memory&cache=shared";
    keepers->push_back(std::make_unique<::soci::session>(::soci::sqlite3, "db=" + name));
    return std::make_pair("db=" + name, name);
  };
  b.pool_ok = false;  // shared-cache table locks are not retried by the busy timeout
  return b;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(soci, conformance,
                         ::testing::ValuesIn([] {
                           auto v = conformance_for(sqlite_file());
                           for (auto& f : conformance_for(sqlite_memory())) v.push_back(f);
                           return v;
                         }()),
                         factory_name);
INSTANTIATE_TEST_SUITE_P(soci, soci_forms, ::testing::Values(sqlite_file(), sqlite_memory()), backend_name);

// A plain ":memory:" database, private to its one connection, and the
// "backend://connect string" form, which loads the backend by name.
TEST(soci_sqlite, memory_database_and_full_connect_string) {
  tracing_scope scope;
  init("k");
  {
    osprofiler::soci::session sql(::soci::sqlite3, ":memory:");
    sql << "CREATE TABLE m (id INTEGER)";
    osprofiler::soci::session by_name("sqlite3://db=:memory:");
    EXPECT_TRUE(osprofiler::soci::is_traced(by_name));
    int n = -1;
    by_name << "SELECT COUNT(*) FROM sqlite_master", ::soci::into(n);
    EXPECT_EQ(n, 0) << "a private :memory: database per connection";
  }
  clean();
  auto all = scope.collect();
  int connects = 0;
  for (const auto& n : all) {
    if (n.name != "db-start") continue;
    EXPECT_EQ(n.info["db"]["system"], "sqlite3");
    EXPECT_EQ(n.info["db"]["namespace"], ":memory:");
    connects += n.info["db"]["api"] == "connect";
  }
  EXPECT_EQ(connects, 2);
  EXPECT_THROW(osprofiler::soci::session("no-backend-here"), ::soci::soci_error);
  EXPECT_THROW(osprofiler::soci::session("nosuchbackend://x"), ::soci::soci_error);
}

}  // namespace osprofiler::testing
