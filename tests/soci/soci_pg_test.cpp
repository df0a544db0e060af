// The SOCI adapter on the fixture's PostgreSQL server: the conformance suite,
// the usage forms, and what only PostgreSQL has here (procedures, queries run
// while SOCI describes dynamic rows). Each test gets a fresh database.
#include <atomic>
#include <unistd.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci-platform.h>
#include <soci/callbacks.h>  // needs soci-platform.h first

#include "osprofiler/profiler.h"
#include "soci_context.h"
#include "traced_backend.h"

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

// Tracing with statement text and bind values.
options sql_and_params() {
  options o;
  o.trace_sql = true;
  o.trace_sql_params = true;
  return o;
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
  tracing_scope scope(sql_and_params());
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

// A range of a vector with indicators: SOCI reads ind[i] for element i (not
// ind[i - begin]), and so must db.params. (SOCI's SQLite backend has no
// ranges.)
TEST(soci_pg, a_vector_range_with_indicators_shows_its_own_nulls) {
  auto [cs, ns] = fresh_database();
  tracing_scope scope(sql_and_params());
  init("k");
  std::string stored;
  {
    osprofiler::soci::session sql(::soci::postgresql, cs);
    sql << "CREATE TABLE f_range (v VARCHAR(10))";
    std::vector<std::string> vs{"a", "b", "c", "d"};
    std::vector<::soci::indicator> ind{::soci::i_null, ::soci::i_ok, ::soci::i_ok, ::soci::i_null};
    std::size_t end = 3;  // SOCI takes the end by reference
    sql << "INSERT INTO f_range (v) VALUES (:v)", ::soci::use(vs, ind, 1, end);
    ::soci::rowset<std::string> rs = (sql.prepare << "SELECT v FROM f_range ORDER BY v");
    for (const auto& v : rs) stored += v + ",";
  }
  clean();
  EXPECT_EQ(stored, "b,c,");
  std::vector<nlohmann::json> params;
  for (const auto& n : scope.collect()) {
    if (n.name == "db-start" && n.info["db"].value("api", "") == "execute" && n.info["db"].contains("params")) {
      params.push_back(n.info["db"]["params"]);
    }
  }
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0], nlohmann::json::parse(R"([["b","c"]])"));
}

// With trace_sql and trace_sql_params off, a failure's message keeps neither
// the statement's echo (LINE 1: ...) nor the key values (DETAIL: ...).
TEST(soci_pg, failure_messages_keep_no_sql_or_values_the_switches_hide) {
  auto [cs, ns] = fresh_database();
  options off;  // trace_sql and trace_sql_params off
  tracing_scope scope(off);
  init("k");
  std::vector<std::string> whats;
  {
    osprofiler::soci::session sql(::soci::postgresql, cs);
    sql << "CREATE TABLE u (email TEXT PRIMARY KEY)";
    std::string email = "alice@example.com";
    sql << "INSERT INTO u VALUES (:e)", ::soci::use(email);
    try {
      sql << "INSERT INTO u VALUES (:e)", ::soci::use(email);
    } catch (const ::soci::soci_error& e) {
      whats.push_back(e.what());
    }
    try {
      sql << "select * from u where secret_column = 'hunter2' and emial = 'x'";
    } catch (const ::soci::soci_error& e) {
      whats.push_back(e.what());
    }
  }
  clean();
  ASSERT_EQ(whats.size(), 2u);
  EXPECT_NE(whats[0].find("alice@example.com"), std::string::npos) << "the user's exception is unchanged";
  EXPECT_NE(whats[1].find("hunter2"), std::string::npos) << whats[1];
  auto failed = failures(scope.collect());
  ASSERT_EQ(failed.size(), 2u);
  for (const auto& f : failed) {
    const std::string m = f.info.value("message", "");
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(m.find("alice"), std::string::npos) << m;
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
  }
  EXPECT_NE(failed[0].info.value("message", "").find("duplicate key"), std::string::npos);
}

// db.namespace comes from the database name only: never from a query
// string's other parameters (a password among them).
TEST(soci_pg, the_namespace_never_takes_a_password) {
  using osprofiler::soci::detail::namespace_of;
  EXPECT_EQ(namespace_of("postgresql://u@?host=/tmp/pg&port=5&dbname=app&password=hunter2"), "app");
  EXPECT_EQ(namespace_of("postgresql://u@h/?sslrootcert=/etc/ca.pem&password=hunter2"), "");
  EXPECT_EQ(namespace_of("postgresql://u:p/w@h:5/orders?password=x"), "orders");
  EXPECT_EQ(namespace_of("DSN=pg; database=app;uid=u;pwd=hunter2"), "app");
  EXPECT_EQ(namespace_of("password='a\\' dbname=x' dbname=real"), "real");
  EXPECT_EQ(namespace_of("host=h dbname='my db' password=hunter2"), "my db");
  EXPECT_EQ(namespace_of("db=app.db timeout=2"), "app.db");
  EXPECT_EQ(namespace_of("postgresql://u:pa/ss#x@h/db"), "db");
  EXPECT_EQ(namespace_of("host=h password=abc;dbname=leak"), "");
  EXPECT_EQ(namespace_of("host=h password=a\\ dbname=leak"), "");
  EXPECT_EQ(namespace_of("Driver={PostgreSQL};Server=h;Database=orders;Uid=u;Pwd=a b;"), "orders");
  EXPECT_EQ(namespace_of("app.db"), "app.db");
}

// libpq quotes a malformed connect string in its error: the failed connect
// point hides the password.
TEST(soci_pg, a_connect_failure_message_never_shows_the_password) {
  tracing_scope scope;
  init("k");
  EXPECT_ANY_THROW(osprofiler::soci::session(::soci::postgresql, "postgresql://app:S3cretPw@[::1/orders"));
  clean();
  auto all = scope.collect();
  auto failed = failures(all);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].info.value("message", "").find("URI"), std::string::npos)
      << "libpq's reason stays: " << failed[0].info.value("message", "");
  for (const auto& n : all) EXPECT_EQ(dump_json(n.to_json()).find("S3cr"), std::string::npos) << dump_json(n.to_json());
}

// set_failover_callback() lands on the traced backend; the real one must
// have it before any call that reaches the server, a prepare included.
TEST(soci_pg, the_failover_callback_is_called_when_a_prepare_finds_the_connection_lost) {
  struct counting : ::soci::failover_callback {
    int started_ = 0, failed_ = 0;
    void started() override { ++started_; }
    void failed(bool& retry, std::string&) override {
      ++failed_;
      retry = false;
    }
  };
  auto run = [](bool traced_session) {
    auto [cs, ns] = fresh_database();
    counting cb;
    ::soci::session plain_session;
    osprofiler::soci::session traced_one;
    ::soci::session* sql = traced_session ? &traced_one : &plain_session;
    sql->open(traced_session ? osprofiler::soci::traced(::soci::postgresql) : ::soci::postgresql, cs);
    int pid = 0;
    *sql << "SELECT pg_backend_pid()", ::soci::into(pid);
    {
      ::soci::session admin(::soci::postgresql, cs);
      admin << "SELECT pg_terminate_backend(" + std::to_string(pid) + ")";
    }
    sql->set_failover_callback(cb);
    try {
      int one = 0;
      ::soci::statement st = (sql->prepare << "SELECT 1", ::soci::into(one));
      st.execute(true);
    } catch (const ::soci::soci_error&) {
    }
    return std::make_pair(cb.started_, cb.failed_);
  };
  tracing_scope scope;
  init("k");
  const auto plain = run(false);
  const auto traced = run(true);
  clean();
  EXPECT_GT(plain.first, 0) << "SOCI itself calls it here";
  EXPECT_EQ(traced, plain);
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
