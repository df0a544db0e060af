// The SOCI adapter on the fixture's PostgreSQL server: the conformance suite,
// the usage forms, and what only PostgreSQL has here (procedures, queries run
// while SOCI describes dynamic rows). Each test gets a fresh database.
#include <atomic>
#include <unistd.h>

#include <soci/postgresql/soci-postgresql.h>

#include "osprofiler/profiler.h"
#include "soci_context.h"

namespace osprofiler::testing {
namespace {

bool is_pg_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const ::soci::postgresql_soci_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

// SOCI's PostgreSQL backend takes libpq key=value connect strings (it
// rewrites URIs): pg_uri() is postgresql://user@host:port/db.
std::string conninfo(const std::string& db) {
  const std::string uri = pg_uri();
  const auto at = uri.find('@'), colon = uri.rfind(':'), slash = uri.rfind('/');
  return "host=" + uri.substr(at + 1, colon - at - 1) + " port=" + uri.substr(colon + 1, slash - colon - 1) +
         " user=" + uri.substr(uri.find("://") + 3, at - uri.find("://") - 3) + " dbname=" + db;
}

// A fresh database on the fixture's server: {connect string, namespace}.
std::pair<std::string, std::string> fresh_database() {
  static std::atomic<int> n{0};
  const std::string db = "soci_" + std::to_string(getpid()) + "_" + std::to_string(n++);
  const std::string admin = conninfo("postgres");
  {
    ::soci::session raw(::soci::postgresql, admin);
    raw << "DROP DATABASE IF EXISTS " + db;
    raw << "CREATE DATABASE " + db;
  }
  return {conninfo(db), db};
}

soci_backend postgresql() {
  soci_backend b;
  b.name = "postgresql";
  b.factory = &::soci::postgresql;
  b.make_db = fresh_database;
  b.system = "postgresql";
  b.code_key = "sqlstate";
  b.unique_code = "23505";  // unique_violation
  b.is_native = is_pg_error;
  return b;
}

std::vector<notification> failures(const std::vector<notification>& all) {
  std::vector<notification> out;
  for (const auto& n : all) {
    if (n.name == "db-stop" && n.info.contains("etype")) out.push_back(n);
  }
  return out;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(soci, conformance, ::testing::ValuesIn(conformance_for(postgresql())), factory_name);
INSTANTIATE_TEST_SUITE_P(soci, soci_forms, ::testing::Values(postgresql()), backend_name);

TEST(soci_pg, procedure_call_is_traced_with_its_rewritten_statement) {
  auto [cs, ns] = fresh_database();
  options o;
  o.trace_sql = true;
  o.trace_sql_params = true;
  tracing_scope scope(o);
  init("k");
  {
    osprofiler::soci::session sql(::soci::postgresql, cs);
    sql << "CREATE FUNCTION f_add_one(x INTEGER) RETURNS INTEGER AS $$ SELECT x + 1 $$ LANGUAGE SQL";
    int x = 41, r = 0;
    ::soci::procedure proc = (sql.prepare << "f_add_one(:x)", ::soci::use(x), ::soci::into(r));
    proc.execute(true);
    EXPECT_EQ(r, 42);
  }
  clean();
  auto all = scope.collect();
  const notification* call = nullptr;
  for (const auto& n : all) {
    if (n.name == "db-start" && n.info["db"]["api"] == "execute" &&
        n.info["db"].value("statement", "").find("f_add_one(:x)") != std::string::npos) {
      call = &n;
    }
  }
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->info["db"]["statement"], "select f_add_one(:x)") << "the text SOCI sends for the call";
  EXPECT_EQ(call->info["db"]["params"], nlohmann::json::parse("[41]"));
  EXPECT_EQ(call->info["db"]["namespace"], ns);
}

TEST(soci_pg, a_query_failing_while_soci_describes_its_rows_is_recorded) {
  auto [cs, ns] = fresh_database();
  tracing_scope scope;
  init("k");
  std::string what;
  {
    osprofiler::soci::session sql(::soci::postgresql, cs);
    try {
      // Dynamic rows: the PostgreSQL backend runs the query to describe it.
      ::soci::rowset<::soci::row> rs = (sql.prepare << "SELECT 1/0 AS boom");
      for (const auto& r : rs) (void)r;
    } catch (const ::soci::postgresql_soci_error& e) {
      what = e.what();
      EXPECT_EQ(e.sqlstate(), "22012");
    }
  }
  clean();
  EXPECT_NE(what.find("division by zero"), std::string::npos) << what;
  auto failed = failures(scope.collect());
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].info["db"]["sqlstate"], "22012");
  EXPECT_EQ(failed[0].info["db"]["category"], "unknown");
  EXPECT_EQ(failed[0].info["etype"], "soci::postgresql_soci_error");
}

TEST(soci_pg, constraint_violations_carry_their_category) {
  auto [cs, ns] = fresh_database();
  tracing_scope scope;
  init("k");
  {
    osprofiler::soci::session sql(::soci::postgresql, cs);
    sql << "CREATE TABLE u (id INTEGER PRIMARY KEY)";
    sql << "INSERT INTO u VALUES (1)";
    EXPECT_THROW(sql << "INSERT INTO u VALUES (1)", ::soci::postgresql_soci_error);
  }
  clean();
  auto failed = failures(scope.collect());
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].info["db"]["category"], "constraint_violation");
}

}  // namespace osprofiler::testing
