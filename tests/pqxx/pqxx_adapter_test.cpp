// libpqxx-specific behaviour of the adapter on the real test server:
// prepared statements, parameters, constraint violations, serialization
// failures, a backend terminated mid-transaction, large results, COPY
// streams, subtransactions and text the server cannot or can take.
#include <chrono>
#include <thread>
#include <tuple>
#include <typeinfo>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "osprofiler/notifier.h"
#include "osprofiler/pqxx/pqxx.h"
#include "osprofiler/profiler.h"
#include "pqxx_test_db.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

using json = nlohmann::json;
namespace opq = osprofiler::pqxx;

bool is_start(const notification& n) { return n.name.size() > 6 && n.name.rfind("-start") == n.name.size() - 6; }
std::string api_of(const notification& n) {
  auto it = n.info.find("db");
  return it != n.info.end() && it->is_object() ? it->value("api", "") : "";
}
std::vector<notification> starts(const std::vector<notification>& all, const std::string& api) {
  std::vector<notification> out;
  for (const auto& n : all) {
    if (is_start(n) && api_of(n) == api) out.push_back(n);
  }
  return out;
}
const notification& stop_of(const std::vector<notification>& all, const notification& start) {
  for (const auto& n : all) {
    if (!is_start(n) && n.trace_id == start.trace_id) return n;
  }
  throw std::runtime_error("no stop for " + dump_json(start.to_json()));
}
std::string everything(const std::vector<notification>& all) {
  std::string text;
  for (const auto& n : all) text += dump_json(n.to_json()) + "\n";
  return text;
}
// The stop of the last execute point.
const notification& last_execute_stop(const std::vector<notification>& all) {
  auto ex = starts(all, "execute");
  if (ex.empty()) throw std::runtime_error("no execute point:\n" + everything(all));
  return stop_of(all, ex.back());
}

options with(bool sql, bool params) {
  options o;
  o.trace_sql = sql;
  o.trace_sql_params = params;
  return o;
}

// Tracing on, a profiler on this thread, a memory collector.
class traced {
 public:
  explicit traced(options o = {}) : scope(o) { init("pqxx-test-key"); }
  ~traced() { clean(); }
  std::vector<notification> collect() { return scope.collect(); }
  tracing_scope scope;
};

class pqxx_adapter : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { db_ = new scratch_db("adapter"); }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  static std::string uri() { return db_->tcp_uri(); }
  static void raw_exec(const std::string& sql) {
    ::pqxx::connection c(uri());
    ::pqxx::nontransaction tx(c);
    tx.exec(sql);
  }
  static scratch_db* db_;
};
scratch_db* pqxx_adapter::db_ = nullptr;

TEST_F(pqxx_adapter, start_info_names_the_database_and_server) {
  traced t;
  { opq::connection c(uri()); }
  { opq::connection c(db_->socket_uri()); }
  auto all = t.collect();
  auto connects = starts(all, "connect");
  auto closes = starts(all, "close");
  ASSERT_EQ(connects.size(), 2u) << everything(all);
  ASSERT_EQ(closes.size(), 2u) << "the destructor closes an open connection\n" << everything(all);
  const std::string port = pg_uri().substr(pg_uri().rfind(':') + 1, pg_uri().rfind('/') - pg_uri().rfind(':') - 1);
  for (const auto& n : {connects[0], closes[0]}) {
    const auto& db = n.info["db"];
    EXPECT_EQ(db.value("system", ""), "postgresql");
    EXPECT_EQ(db.value("namespace", ""), db_->name());
    EXPECT_EQ(db.value("server.address", ""), "127.0.0.1") << dump_json(n.to_json());
    EXPECT_EQ(db.value("server.port", 0), std::stoi(port)) << dump_json(n.to_json());
  }
  // Over the socket, the address is the socket's directory.
  EXPECT_EQ(closes[1].info["db"].value("server.address", ""), pg_dir());
  EXPECT_EQ(closes[1].info["db"].value("namespace", ""), db_->name());
}

TEST_F(pqxx_adapter, a_failed_connect_is_a_failed_point_and_libpqxx_error) {
  traced t;
  // Port 1 on loopback: nothing listens there.
  EXPECT_THROW(opq::connection("postgresql://postgres@127.0.0.1:1/nowhere"), ::pqxx::broken_connection);
  auto all = t.collect();
  auto connects = starts(all, "connect");
  ASSERT_EQ(connects.size(), 1u) << everything(all);
  EXPECT_EQ(connects[0].info["db"].value("namespace", ""), "nowhere") << "known from the URI before connecting";
  const auto& stop = stop_of(all, connects[0]);
  EXPECT_EQ(stop.info.value("etype", ""), "pqxx::broken_connection");
  EXPECT_FALSE(stop.info.value("message", "").empty());
}

TEST_F(pqxx_adapter, prepared_statements_carry_their_text_and_params_only_when_switched_on) {
  raw_exec("CREATE TABLE prep (id INTEGER PRIMARY KEY, v TEXT)");
  raw_exec("INSERT INTO prep VALUES (1, 'one'), (2, 'two')");
  const std::string sql = "SELECT v FROM prep WHERE id = $1";
  {
    traced t(with(true, false));
    opq::connection c(uri());
    c.prepare("prep_by_id", sql);
    opq::work tx(c);
    EXPECT_EQ(tx.exec_prepared1("prep_by_id", 2)[0].as<std::string>(), "two");
    tx.commit();
    auto all = t.collect();
    auto prepares = starts(all, "prepare");
    ASSERT_EQ(prepares.size(), 1u) << everything(all);
    EXPECT_EQ(prepares[0].info["db"].value("statement", ""), sql);
    auto ex = starts(all, "execute");
    ASSERT_EQ(ex.size(), 1u);
    EXPECT_EQ(ex[0].info["db"].value("statement", ""), sql);
    EXPECT_FALSE(ex[0].info["db"].contains("params")) << "params are off";
    EXPECT_EQ(stop_of(all, ex[0]).info["db"].value("rows", -1), 1);
  }
  {
    traced t(with(true, true));
    opq::connection c(uri());
    c.prepare("prep_by_id", sql);
    opq::nontransaction tx(c);
    EXPECT_EQ(tx.exec_prepared("prep_by_id", 1).size(), 1u);
    auto all = t.collect();
    auto ex = starts(all, "execute");
    ASSERT_EQ(ex.size(), 1u);
    EXPECT_EQ(ex[0].info["db"]["params"], json::array({"1"}));
  }
  {
    traced t;  // trace_sql off: no statement anywhere, not even the prepared one
    opq::connection c(uri());
    c.prepare("prep_by_id", sql);
    opq::nontransaction tx(c);
    tx.exec_prepared("prep_by_id", 1);
    auto all = t.collect();
    EXPECT_EQ(everything(all).find("FROM prep"), std::string::npos) << everything(all);
    EXPECT_EQ(starts(all, "execute").size(), 1u);
  }
}

TEST_F(pqxx_adapter, unknown_prepared_statement_is_recorded_and_rethrown) {
  traced t;
  opq::connection c(uri());
  opq::nontransaction tx(c);
  std::string raw_type;
  try {
    tx.exec_prepared("never_prepared", 1);
    FAIL() << "libpqxx accepted an unknown prepared statement";
  } catch (const std::exception& e) {
    raw_type = typeid(e).name();
  }
  // The same call on raw libpqxx throws the same type.
  ::pqxx::connection raw(uri());
  ::pqxx::nontransaction raw_tx(raw);
  try {
    raw_tx.exec_prepared("never_prepared", 1);
  } catch (const std::exception& e) {
    EXPECT_EQ(raw_type, typeid(e).name());
  }
  auto all = t.collect();
  const auto& stop = last_execute_stop(all);
  EXPECT_FALSE(stop.info.value("etype", "").empty()) << everything(all);
  EXPECT_EQ(stop.info.value("etype", "").rfind("pqxx::", 0), 0u) << dump_json(stop.to_json());
}

TEST_F(pqxx_adapter, exec_params_records_each_value_as_text) {
  traced t(with(true, true));
  opq::connection c(uri());
  opq::nontransaction tx(c);
  const char bytes[] = {'\x00', '\x7f', '\xff'};
  ::pqxx::binarystring blob(bytes, sizeof bytes);
  auto r = tx.exec_params1("SELECT $1::int + 1, $2::text, $3::text IS NULL, length($4::bytea), $5::text", 41,
                           std::string("héllo"), nullptr, blob, "lit");
  EXPECT_EQ(r[0].as<int>(), 42);
  EXPECT_EQ(r[1].as<std::string>(), "héllo");
  EXPECT_TRUE(r[2].as<bool>());
  EXPECT_EQ(r[3].as<int>(), 3);
  auto all = t.collect();
  auto ex = starts(all, "execute");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].info["db"]["params"], json::array({"41", "héllo", nullptr, "\\x007fff", "lit"}));
  EXPECT_EQ(stop_of(all, ex[0]).info["db"].value("rows", -1), 1);
}

TEST_F(pqxx_adapter, a_unique_violation_is_recorded_without_the_key_unless_params_are_on) {
  raw_exec("CREATE TABLE uv (id INTEGER PRIMARY KEY)");
  raw_exec("INSERT INTO uv VALUES (5)");
  for (bool params : {false, true}) {
    traced t(with(false, params));
    opq::connection c(uri());
    std::string what;
    try {
      opq::work tx(c);
      tx.exec("INSERT INTO uv VALUES (5)");
      FAIL() << "no unique violation";
    } catch (const ::pqxx::unique_violation& e) {
      what = e.what();
      EXPECT_EQ(e.sqlstate(), "23505");
    }
    EXPECT_NE(what.find("Key (id)=(5)"), std::string::npos) << "the exception itself is libpqxx's, untouched: " << what;
    auto all = t.collect();
    const auto& stop = last_execute_stop(all);
    EXPECT_EQ(stop.info.value("etype", ""), "pqxx::unique_violation");
    EXPECT_EQ(stop.info["db"].value("sqlstate", ""), "23505");
    const std::string message = stop.info.value("message", "");
    EXPECT_NE(message.find("duplicate key value violates unique constraint"), std::string::npos) << message;
    EXPECT_EQ(message.find("Key (id)=(5)") != std::string::npos, params) << message;
    EXPECT_EQ(everything(all).find("Key (id)=(5)") != std::string::npos, params);
    // The exception left the transaction's scope: the transaction point
    // failed too, and the rollback libpqxx does on destruction is a point.
    auto tx = starts(all, "transaction");
    ASSERT_EQ(tx.size(), 1u);
    EXPECT_EQ(stop_of(all, tx[0]).info.value("etype", ""), "pqxx::unique_violation");
    auto rollbacks = starts(all, "rollback");
    ASSERT_EQ(rollbacks.size(), 1u) << everything(all);
    EXPECT_EQ(rollbacks[0].parent_id, tx[0].trace_id);
  }
}

TEST_F(pqxx_adapter, a_serialization_failure_is_recorded_with_its_sqlstate) {
  raw_exec("CREATE TABLE ser (id INTEGER PRIMARY KEY, v INTEGER)");
  raw_exec("INSERT INTO ser VALUES (1, 0)");
  traced t;
  opq::connection mine(uri());
  ::pqxx::connection other(uri());
  bool failed = false;
  {
    opq::transaction<::pqxx::serializable> tx(mine);
    tx.exec1("SELECT v FROM ser WHERE id = 1");  // takes the snapshot
    {
      ::pqxx::work w(other);
      w.exec("UPDATE ser SET v = v + 1 WHERE id = 1");
      w.commit();
    }
    try {
      tx.exec("UPDATE ser SET v = v + 10 WHERE id = 1");
    } catch (const ::pqxx::serialization_failure&) {
      failed = true;
    }
  }
  ASSERT_TRUE(failed) << "SERIALIZABLE let a concurrent update through";
  auto all = t.collect();
  const auto& stop = last_execute_stop(all);
  EXPECT_EQ(stop.info.value("etype", ""), "pqxx::serialization_failure") << everything(all);
  EXPECT_EQ(stop.info["db"].value("sqlstate", ""), "40001");
  // Caught inside the transaction's scope: the transaction itself ended
  // normally (rolled back).
  auto tx = starts(all, "transaction");
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_FALSE(stop_of(all, tx[0]).info.contains("etype"));
  EXPECT_EQ(starts(all, "rollback").size(), 1u);
}

TEST_F(pqxx_adapter, a_backend_terminated_mid_transaction_is_a_failed_point_and_broken_connection) {
  traced t;
  opq::connection victim(uri());
  ::pqxx::connection admin(uri());
  bool broken = false;
  {
    opq::work tx(victim);
    const int pid = tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
    {
      ::pqxx::nontransaction a(admin);
      ASSERT_TRUE(a.exec1("SELECT pg_terminate_backend(" + std::to_string(pid) + ")")[0].as<bool>());
      // Wait (bounded) until the backend is gone, so the next statement
      // meets a closed socket rather than racing the termination.
      for (int i = 0; i < 500; ++i) {
        if (a.exec1("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid))[0].as<int>() == 0) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    try {
      tx.exec("SELECT 1");
    } catch (const ::pqxx::broken_connection&) {
      broken = true;
    }
  }
  EXPECT_TRUE(broken) << "libpqxx's own broken_connection reached the caller";
  auto all = t.collect();
  const auto& stop = last_execute_stop(all);
  EXPECT_EQ(stop.info.value("etype", ""), "pqxx::broken_connection") << everything(all);
  EXPECT_FALSE(stop.info.value("message", "").empty());
  std::size_t start_count = 0;
  for (const auto& n : all) start_count += is_start(n);
  EXPECT_EQ(all.size(), 2 * start_count) << "every point stopped\n" << everything(all);
}

TEST_F(pqxx_adapter, large_results_are_one_point_with_their_row_count) {
  raw_exec("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100000) g");
  traced t;
  opq::connection c(uri());
  {
    opq::read_transaction tx(c);
    EXPECT_EQ(tx.exec("SELECT id, v FROM big").size(), 100000u);
    // (libpqxx 6.4's stream_from with a column list reads uninitialised
    // state and fails at random: the whole table is what works.)
    opq::stream_from s(tx, "big");
    std::tuple<int, std::string> row;
    std::int64_t n = 0;
    while (s >> row) ++n;
    s.complete();
    EXPECT_EQ(n, 100000);
    tx.commit();
  }
  auto all = t.collect();
  auto ex = starts(all, "execute");
  ASSERT_EQ(ex.size(), 2u) << "one point per statement, never per row";
  EXPECT_EQ(stop_of(all, ex[0]).info["db"].value("rows", -1), 100000);
  EXPECT_EQ(stop_of(all, ex[1]).info["db"].value("rows", -1), 100000);
  EXPECT_LT(all.size(), 20u);
}

TEST_F(pqxx_adapter, stream_to_is_one_point_with_its_copy_statement) {
  raw_exec("CREATE TABLE copied (id INTEGER PRIMARY KEY, v TEXT)");
  traced t(with(true, false));
  opq::connection c(uri());
  {
    opq::work tx(c);
    opq::stream_to s(tx, "copied", std::vector<std::string>{"id", "v"});
    for (int i = 0; i < 1000; ++i) s << std::make_tuple(i, "v" + std::to_string(i));
    s.complete();
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM copied")[0].as<int>(), 1000);
    tx.commit();
  }
  auto all = t.collect();
  auto ex = starts(all, "execute");
  ASSERT_EQ(ex.size(), 2u) << everything(all);
  EXPECT_EQ(ex[0].info["db"].value("statement", ""), "COPY copied (id,v) FROM STDIN");
  EXPECT_EQ(stop_of(all, ex[0]).info["db"].value("rows", -1), 1000);
  EXPECT_EQ(ex[0].parent_id, starts(all, "transaction").at(0).trace_id);
}

// libpqxx refuses a commit while a stream is open, before sending anything:
// the transaction goes on, so its point must too, and the commit that
// follows is the one that ends it. A stream_from read to its end no longer
// holds the transaction.
TEST_F(pqxx_adapter, a_commit_refused_for_an_open_stream_leaves_the_transaction_open) {
  raw_exec("CREATE TABLE refused (id INTEGER PRIMARY KEY)");
  traced t;
  opq::connection c(uri());
  {
    opq::work tx(c);
    opq::stream_to s(tx, "refused");
    s << std::make_tuple(1);
    EXPECT_THROW(tx.commit(), ::pqxx::failure);
    s.complete();
    tx.exec("INSERT INTO refused VALUES (2)");
    tx.commit();
  }
  auto all = t.collect();
  auto tx = starts(all, "transaction");
  ASSERT_EQ(tx.size(), 1u) << everything(all);
  auto commits = starts(all, "commit");
  ASSERT_EQ(commits.size(), 2u) << everything(all);
  EXPECT_EQ(stop_of(all, commits[0]).info.value("etype", ""), "pqxx::failure");
  EXPECT_FALSE(stop_of(all, commits[1]).info.contains("etype"));
  for (const auto& n : starts(all, "execute")) EXPECT_EQ(n.parent_id, tx[0].trace_id) << everything(all);
  EXPECT_EQ(commits[1].parent_id, tx[0].trace_id) << "the real commit is inside the transaction";
  EXPECT_FALSE(stop_of(all, tx[0]).info.contains("etype"));
  ::pqxx::connection raw(uri());
  ::pqxx::nontransaction check(raw);
  EXPECT_EQ(check.exec1("SELECT count(*) FROM refused")[0].as<int>(), 2);

  {
    opq::work tx2(c);
    opq::stream_from s(tx2, "refused");
    std::tuple<int> row;
    int n = 0;
    while (s >> row) ++n;
    EXPECT_EQ(n, 2);
    tx2.commit();  // the stream is still in scope, but libpqxx let go at its end
  }
  all = t.collect();
  EXPECT_TRUE(starts(all, "rollback").empty()) << everything(all);
  for (const auto& n : starts(all, "commit")) EXPECT_FALSE(stop_of(all, n).info.contains("etype")) << everything(all);
  for (const auto& n : starts(all, "execute")) EXPECT_FALSE(stop_of(all, n).info["db"].contains("completed_by")) << everything(all);
}

// A stream ended by its destructor: libpqxx keeps any error for the
// transaction's next call, so the stream's point says it cannot know.
TEST_F(pqxx_adapter, a_stream_completed_by_its_destructor_says_so) {
  raw_exec("CREATE TABLE dropped_stream (id INTEGER PRIMARY KEY)");
  traced t;
  opq::connection c(uri());
  {
    opq::work tx(c);
    {
      opq::stream_to s(tx, "dropped_stream");
      s << std::make_tuple(1) << std::make_tuple(1);  // a duplicate key
    }
    EXPECT_ANY_THROW(tx.commit());
  }
  auto all = t.collect();
  auto ex = starts(all, "execute");
  ASSERT_EQ(ex.size(), 1u) << everything(all);
  const auto& stop = stop_of(all, ex[0]);
  EXPECT_EQ(stop.info["db"].value("completed_by", ""), "destructor") << everything(all);
  EXPECT_EQ(stop.info["db"].value("rows", -1), 2);
  auto commits = starts(all, "commit");
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_TRUE(stop_of(all, commits[0]).info.contains("etype")) << "the COPY's failure surfaces at the commit";
}

// Move-assigning over an open connection drops it: a close point, as the
// destructor makes.
TEST_F(pqxx_adapter, move_assigning_over_an_open_connection_closes_it_as_a_point) {
  traced t;
  {
    opq::connection a(uri());
    opq::connection b(uri());
    a = std::move(b);
    EXPECT_TRUE(a.is_open());
    ::pqxx::nontransaction n(a.raw());
    EXPECT_EQ(n.exec1("SELECT 1")[0].as<int>(), 1);
  }
  auto all = t.collect();
  EXPECT_EQ(starts(all, "connect").size(), 2u);
  EXPECT_EQ(starts(all, "close").size(), 2u) << everything(all);
}

// libpq's parse errors quote the connection string: the failed connect
// point's message must not carry the password.
TEST_F(pqxx_adapter, a_connect_failure_message_never_shows_the_password) {
  traced t;
  EXPECT_ANY_THROW(opq::connection("postgresql://app:S3cretPw@[::1/orders"));
  EXPECT_ANY_THROW(opq::connection("postgresql://app:S3cr%zzPw@127.0.0.1:1/orders"));
  EXPECT_ANY_THROW(opq::connection("host=127.0.0.1 port=1 password=S3cretPw connect_timeout=2 bogus"));
  auto all = t.collect();
  const auto connects = starts(all, "connect");
  ASSERT_EQ(connects.size(), 3u) << everything(all);
  for (const auto& start : connects) {
    const std::string message = stop_of(all, start).info.value("message", "");
    EXPECT_FALSE(message.empty()) << everything(all);
    EXPECT_EQ(message.find("S3cr"), std::string::npos) << message;
  }
  EXPECT_EQ(everything(all).find("S3cr"), std::string::npos);
}

TEST_F(pqxx_adapter, subtransactions_nest_inside_their_transaction) {
  raw_exec("CREATE TABLE sub (id INTEGER PRIMARY KEY)");
  traced t;
  opq::connection c(uri());
  {
    opq::work outer(c);
    outer.exec("INSERT INTO sub VALUES (1)");
    {
      opq::subtransaction inner(outer, "inner");
      inner.exec("INSERT INTO sub VALUES (2)");
      inner.abort();
    }
    {
      opq::subtransaction inner(outer, "kept");
      inner.exec("INSERT INTO sub VALUES (3)");
      inner.commit();
    }
    outer.commit();
  }
  ::pqxx::connection raw(uri());
  ::pqxx::nontransaction check(raw);
  EXPECT_EQ(check.exec1("SELECT string_agg(id::text, ',' ORDER BY id) FROM sub")[0].as<std::string>(), "1,3");
  auto all = t.collect();
  auto tx = starts(all, "transaction");
  ASSERT_EQ(tx.size(), 3u) << everything(all);
  EXPECT_EQ(tx[1].parent_id, tx[0].trace_id);
  EXPECT_EQ(tx[2].parent_id, tx[0].trace_id);
  auto rollbacks = starts(all, "rollback");
  ASSERT_EQ(rollbacks.size(), 1u);
  EXPECT_EQ(rollbacks[0].parent_id, tx[1].trace_id);
  auto commits = starts(all, "commit");
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].parent_id, tx[2].trace_id);
  EXPECT_EQ(commits[1].parent_id, tx[0].trace_id);
  EXPECT_EQ(starts(all, "begin").size(), 3u);
}

TEST_F(pqxx_adapter, nontransaction_adds_no_points_of_its_own) {
  traced t;
  opq::connection c(uri());
  std::string request_id;
  {
    osprofiler::trace request("wsgi");
    request_id = get()->id();
    opq::nontransaction tx(c);
    tx.exec("SELECT 1");
    tx.commit();
  }
  auto all = t.collect();
  EXPECT_TRUE(starts(all, "transaction").empty());
  EXPECT_TRUE(starts(all, "begin").empty());
  EXPECT_TRUE(starts(all, "commit").empty());
  auto ex = starts(all, "execute");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].parent_id, request_id);
}

TEST_F(pqxx_adapter, wrong_row_counts_fail_the_point_with_unexpected_rows) {
  traced t;
  opq::connection c(uri());
  opq::nontransaction tx(c);
  EXPECT_THROW(tx.exec1("SELECT 1 WHERE false"), ::pqxx::unexpected_rows);
  EXPECT_THROW(tx.exec0("SELECT 1"), ::pqxx::unexpected_rows);
  EXPECT_EQ(tx.exec_n(2, "SELECT * FROM generate_series(1, 2)").size(), 2u);
  auto all = t.collect();
  auto ex = starts(all, "execute");
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(stop_of(all, ex[0]).info.value("etype", ""), "pqxx::unexpected_rows");
  EXPECT_EQ(stop_of(all, ex[1]).info.value("etype", ""), "pqxx::unexpected_rows");
  EXPECT_EQ(stop_of(all, ex[2]).info["db"].value("rows", -1), 2);
}

TEST_F(pqxx_adapter, a_syntax_error_does_not_echo_the_statement_without_trace_sql) {
  traced t;
  opq::connection c(uri());
  opq::nontransaction tx(c);
  EXPECT_THROW(tx.exec("SELECT secret_column FRM nowhere"), ::pqxx::syntax_error);
  auto all = t.collect();
  const auto& stop = last_execute_stop(all);
  EXPECT_EQ(stop.info["db"].value("sqlstate", ""), "42601");
  EXPECT_EQ(everything(all).find("secret_column"), std::string::npos) << everything(all);
}

TEST_F(pqxx_adapter, non_ascii_statements_are_recorded_exactly) {
  traced t(with(true, false));
  opq::connection c(uri());
  opq::nontransaction tx(c);
  const std::string sql = "SELECT 'Grüße, 東京 🚀' AS greeting";
  EXPECT_EQ(tx.exec1(sql)[0].as<std::string>(), "Grüße, 東京 🚀");
  auto all = t.collect();
  auto ex = starts(all, "execute");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].info["db"].value("statement", ""), sql);
  // Through the serialiser and back, unchanged.
  auto back = json::parse(dump_json(ex[0].to_json()));
  EXPECT_EQ(back["info"]["db"]["statement"], sql);
}

TEST_F(pqxx_adapter, invalid_utf8_is_the_servers_error_and_notifications_stay_valid_json) {
  for (bool sql : {true, false}) {
    traced t(with(sql, false));
    opq::connection c(uri());
    opq::nontransaction tx(c);
    const std::string bad = "SELECT 'caf\xe9 \xff\xfe' AS broken";
    std::string sqlstate;
    try {
      tx.exec(bad);
      ADD_FAILURE() << "a UTF8 server accepted invalid UTF-8";
    } catch (const ::pqxx::sql_error& e) {
      sqlstate = e.sqlstate();
    }
    EXPECT_EQ(sqlstate, "22021") << "character_not_in_repertoire";
    auto all = t.collect();
    for (const auto& n : all) {
      const std::string text = dump_json(n.to_json());
      EXPECT_NO_THROW(json::parse(text)) << text;
    }
    const auto& stop = last_execute_stop(all);
    EXPECT_EQ(stop.info["db"].value("sqlstate", ""), "22021");
    EXPECT_NE(stop.info.value("message", "").find("invalid byte sequence"), std::string::npos);
    auto ex = starts(all, "execute");
    ASSERT_EQ(ex.size(), 1u);
    if (sql) {
      auto back = json::parse(dump_json(ex[0].to_json()));
      EXPECT_EQ(back["info"]["db"]["statement"], "SELECT 'caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd' AS broken")
          << "bad bytes become U+FFFD when serialised";
    } else {
      EXPECT_FALSE(ex[0].info["db"].contains("statement"));
    }
  }
}

TEST_F(pqxx_adapter, the_raw_handles_stay_reachable_and_the_wrapper_changes_no_results) {
  opq::connection c(uri());
  ::pqxx::connection& raw = c.raw();
  EXPECT_TRUE(raw.is_open());
  opq::work tx(c);
  ::pqxx::work& raw_tx = tx.raw();
  EXPECT_EQ(raw_tx.exec1("SELECT 7")[0].as<int>(), 7);
  EXPECT_EQ(tx.quote(std::string("it's")), "'it''s'");
  EXPECT_EQ(tx.esc("it's"), "it''s");
  EXPECT_EQ(tx.quote_name("Mixed Case"), "\"Mixed Case\"");
  tx.commit();
  c.close();
  EXPECT_FALSE(c.is_open());
}

}  // namespace
}  // namespace osprofiler::testing
