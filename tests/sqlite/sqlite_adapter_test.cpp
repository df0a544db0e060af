// SQLite specifics of the adapter, on real database files and :memory::
// errors (constraint, busy, locked), multi-statement exec, reuse of a
// prepared statement, transactions, move semantics, params, nesting.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "osprofiler/profiler.h"
#include "osprofiler/sqlite/sqlite.h"
#include "points.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

using sqlite::connection;
using sqlite::statement;

struct traced {
  explicit traced(options o = {}) : scope(o) { init("sqlite-test-key"); }
  std::vector<point> points() { return pair_points(last = scope.collect()); }
  tracing_scope scope;
  std::vector<notification> last;
};

options with_sql(bool params = false) {
  options o;
  o.trace_sql = true;
  o.trace_sql_params = params;
  return o;
}

std::string db_file(const std::string& tag) { return (temp_dir("sqlite-" + tag) / "test.db").string(); }

void expect_all_stopped(const std::vector<point>& ps, const std::vector<notification>& all) {
  for (const auto& p : ps) EXPECT_TRUE(p.stopped) << "no stop for " << dump_json(p.start.to_json()) << "\n" << dump(all);
}

TEST(sqlite_adapter, memory_database_namespace_and_handles) {
  traced t;
  connection c(":memory:");
  c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  EXPECT_EQ(c.exec("INSERT INTO t (v) VALUES ('a'), ('b')"), 2);
  ASSERT_NE(c.handle(), nullptr);
  EXPECT_EQ(sqlite3_changes(c.handle()), 2) << "the raw handle stays usable";
  statement st = c.prepare("SELECT v FROM t ORDER BY id");
  ASSERT_NE(st.handle(), nullptr);
  ASSERT_TRUE(st.step());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st.handle(), 0))), "a");
  st.finalize();
  c.close();
  auto ps = t.points();
  ASSERT_FALSE(ps.empty());
  for (const auto& p : ps) {
    EXPECT_EQ(p.start.info["db"].value("namespace", ""), ":memory:");
    EXPECT_EQ(p.start.info["db"].value("system", ""), "sqlite");
  }
  EXPECT_EQ(with_api(ps, "prepare").size(), 1u);
  EXPECT_EQ(with_api(ps, "connect").size(), 1u);
  EXPECT_EQ(with_api(ps, "close").size(), 1u);
  expect_all_stopped(ps, t.last);
}

TEST(sqlite_adapter, open_failure_throws_and_is_recorded) {
  traced t;
  try {
    connection c("/nonexistent-osprofiler-dir/x.db", SQLITE_OPEN_READWRITE);
    FAIL() << "opened a file in a missing directory";
  } catch (const sqlite::error& e) {
    EXPECT_EQ(e.code(), SQLITE_CANTOPEN);
    EXPECT_STRNE(e.what(), "");
  }
  auto ps = with_api(t.points(), "connect");
  ASSERT_EQ(ps.size(), 1u) << dump(t.last);
  EXPECT_EQ(ps[0].stop.info.value("etype", ""), "osprofiler::sqlite::error");
  EXPECT_EQ(ps[0].db_stop().value("code", 0), SQLITE_CANTOPEN);
  connection c;
  EXPECT_EQ(c.try_open("/nonexistent-osprofiler-dir/x.db", SQLITE_OPEN_READWRITE), SQLITE_CANTOPEN);
  EXPECT_FALSE(c.is_open());
}

TEST(sqlite_adapter, reused_statement_makes_one_point_per_run) {
  connection c(db_file("reuse"));
  c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
  c.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
         "INSERT INTO t SELECT i, i * 10 FROM n");
  traced t(with_sql());
  constexpr int runs = 5000;
  statement st = c.prepare("SELECT v FROM t WHERE id = ?");
  std::int64_t sum = 0;
  for (int i = 0; i < runs; ++i) {
    st.bind(1, i % 100 + 1);
    while (st.step()) sum += st.column_int64(0);
    st.reset();
  }
  // Stepping again after SQLITE_DONE without reset() runs it again: a new point.
  st.bind(1, 1);
  EXPECT_TRUE(st.step());
  EXPECT_FALSE(st.step());
  EXPECT_TRUE(st.step());
  EXPECT_FALSE(st.step());
  EXPECT_EQ(sum, 10 * (runs / 100) * (100 * 101 / 2));
  auto ps = t.points();
  auto runs_seen = with_api(ps, "execute");
  ASSERT_EQ(runs_seen.size(), static_cast<std::size_t>(runs + 2));
  for (const auto& p : runs_seen) {
    ASSERT_TRUE(p.stopped);
    ASSERT_EQ(p.rows(), 1);
    ASSERT_EQ(p.statement(), "SELECT v FROM t WHERE id = ?");
  }
  EXPECT_EQ(with_api(ps, "prepare").size(), 1u);
}

TEST(sqlite_adapter, a_run_ends_at_reset_with_the_rows_stepped_so_far) {
  connection c(":memory:");
  c.exec("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3), (4), (5);");
  traced t;
  {
    statement st = c.prepare("SELECT id FROM t");
    ASSERT_TRUE(st.step());
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.rows(), 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the caller's time, not SQLite's
    st.reset();
    ASSERT_TRUE(st.step());  // a second run, ended by the statement's destruction
  }
  auto runs = with_api(t.points(), "execute");
  ASSERT_EQ(runs.size(), 2u) << dump(t.last);
  EXPECT_EQ(runs[0].rows(), 2);
  EXPECT_EQ(runs[1].rows(), 1);
  EXPECT_TRUE(runs[1].stopped);
  // A run cut short ends at its last step, not at the reset (it used to).
  const auto took = *parse_timestamp(runs[0].stop.timestamp) - *parse_timestamp(runs[0].start.timestamp);
  EXPECT_LT(took, 250'000) << dump(t.last);
}

// SQLite gives the statement after a stray ";" a text that starts with it
// ("; BEGIN;"): BEGIN and COMMIT must still be seen for what they are.
TEST(sqlite_adapter, a_stray_semicolon_does_not_hide_begin_and_commit) {
  connection c(":memory:");
  traced t(with_sql());
  c.exec("CREATE TABLE q (id INTEGER);; BEGIN; INSERT INTO q VALUES (1);; COMMIT;");
  auto ps = t.points();
  ASSERT_EQ(with_api(ps, "transaction").size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "begin").size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "commit").size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "execute").size(), 2u) << dump(t.last);
  expect_all_stopped(ps, t.last);
  c.close();
  EXPECT_EQ(c.last_insert_rowid(), 0) << "a closed connection answers, as changes() does";
  c.busy_timeout(10);
}

TEST(sqlite_adapter, exec_makes_one_point_per_statement_of_a_script) {
  connection c(db_file("script"));
  traced t(with_sql());
  const std::int64_t changed = c.exec(
      "CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT);\n"
      "-- a comment between statements\n"
      "INSERT INTO s (v) VALUES ('a'), ('b'), ('c');\n"
      "BEGIN; UPDATE s SET v = 'z' WHERE id > 1; COMMIT;\n"
      "SELECT * FROM s;  ");
  EXPECT_EQ(changed, 2) << "sqlite3_changes after the last DML";
  auto ps = t.points();
  auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 4u) << dump(t.last);
  EXPECT_EQ(runs[0].statement(), "CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT);");
  EXPECT_NE(runs[1].statement().find("INSERT INTO s (v) VALUES ('a'), ('b'), ('c');"), std::string::npos);
  EXPECT_EQ(runs[1].rows(), 3);
  EXPECT_EQ(runs[2].rows(), 2);
  EXPECT_EQ(runs[3].rows(), 3);
  auto tx = with_api(ps, "transaction");
  ASSERT_EQ(tx.size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "begin").at(0).start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(runs[2].start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(with_api(ps, "commit").at(0).start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(runs[3].start.parent_id, tx[0].start.parent_id) << "after COMMIT, back at the top";
  expect_all_stopped(ps, t.last);
}

TEST(sqlite_adapter, exec_stops_at_the_first_failure) {
  connection c(":memory:");
  traced t(with_sql());
  try {
    c.exec("CREATE TABLE f (id INTEGER PRIMARY KEY); INSERT INTO f VALUES (1); INSERT INTO f VALUES (1); "
           "INSERT INTO f VALUES (2);");
    FAIL() << "no error";
  } catch (const sqlite::error& e) {
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT);
    EXPECT_EQ(e.extended_code(), SQLITE_CONSTRAINT_PRIMARYKEY);
    EXPECT_EQ(e.statement(), "INSERT INTO f VALUES (1);");
  }
  auto runs = with_api(t.points(), "execute");
  ASSERT_EQ(runs.size(), 3u) << dump(t.last);
  EXPECT_EQ(runs[2].stop.info.value("etype", ""), "osprofiler::sqlite::error");
  statement count = c.prepare("SELECT count(*) FROM f");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.column_int(0), 1);
  count.finalize();

  // A syntax error: nothing could be prepared, the rest of the script is the point.
  EXPECT_THROW(c.exec("SELEC 1"), sqlite::error);
  EXPECT_EQ(c.try_exec("SELEC 1; SELECT 2"), SQLITE_ERROR);
  auto failed = with_api(t.points(), "execute");
  ASSERT_EQ(failed.size(), 3u) << dump(t.last);
  EXPECT_EQ(failed[2].statement(), "SELEC 1; SELECT 2");
  EXPECT_EQ(failed[2].db_stop().value("code", 0), SQLITE_ERROR);
  EXPECT_EQ(failed[2].start.parent_id, failed[2].start.base_id);
}

TEST(sqlite_adapter, constraint_violations_carry_codes_and_statement_only_with_trace_sql) {
  connection c(db_file("constraint"));
  c.exec("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
  c.exec("INSERT INTO u VALUES (1, 'x')");
  {
    traced t;  // trace_sql off: no text in the exception either
    statement st = c.prepare("INSERT INTO u VALUES (2, 'x')");
    try {
      st.step();
      FAIL() << "no error";
    } catch (const sqlite::error& e) {
      EXPECT_EQ(e.code(), SQLITE_CONSTRAINT);
      EXPECT_EQ(e.extended_code(), SQLITE_CONSTRAINT_UNIQUE);
      EXPECT_NE(std::string(e.what()).find("UNIQUE constraint failed: u.name"), std::string::npos) << e.what();
      EXPECT_EQ(e.statement(), "");
    }
    auto runs = with_api(t.points(), "execute");
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].stop.info.value("etype", ""), "osprofiler::sqlite::error");
    EXPECT_NE(runs[0].stop.info.value("message", "").find("UNIQUE constraint failed"), std::string::npos);
    EXPECT_EQ(runs[0].db_stop().value("code", 0), SQLITE_CONSTRAINT);
    EXPECT_EQ(runs[0].db_stop().value("extended_code", 0), SQLITE_CONSTRAINT_UNIQUE);
  }
  {
    traced t(with_sql());
    statement st = c.prepare("INSERT INTO u VALUES (3, NULL)");
    try {
      st.step();
      FAIL() << "no error";
    } catch (const sqlite::error& e) {
      EXPECT_EQ(e.extended_code(), SQLITE_CONSTRAINT_NOTNULL);
      EXPECT_EQ(e.statement(), "INSERT INTO u VALUES (3, NULL)");
    }
    // The non-throwing variant returns the code and records the same.
    st.reset();
    EXPECT_EQ(st.try_step(), SQLITE_CONSTRAINT);
    auto runs = with_api(t.points(), "execute");
    ASSERT_EQ(runs.size(), 2u);
    for (const auto& r : runs) EXPECT_EQ(r.db_stop().value("extended_code", 0), SQLITE_CONSTRAINT_NOTNULL);
  }
}

TEST(sqlite_adapter, busy_when_another_connection_holds_the_write_lock) {
  const std::string file = db_file("busy");
  connection writer(file);
  writer.exec("CREATE TABLE b (id INTEGER PRIMARY KEY)");
  connection other(file);
  other.busy_timeout(0);
  writer.begin(sqlite::transaction_mode::immediate);
  writer.exec("INSERT INTO b VALUES (1)");

  traced t(with_sql());
  try {
    other.exec("INSERT INTO b VALUES (2)");
    FAIL() << "no SQLITE_BUSY";
  } catch (const sqlite::error& e) {
    EXPECT_EQ(e.code(), SQLITE_BUSY);
    EXPECT_EQ(e.statement(), "INSERT INTO b VALUES (2)");
  }
  try {
    other.begin(sqlite::transaction_mode::immediate);
    FAIL() << "no SQLITE_BUSY";
  } catch (const sqlite::error& e) {
    EXPECT_EQ(e.code(), SQLITE_BUSY);
    EXPECT_EQ(e.statement(), "BEGIN IMMEDIATE");
  }
  EXPECT_FALSE(other.in_transaction());
  EXPECT_EQ(other.try_exec("INSERT INTO b VALUES (3)"), SQLITE_BUSY);
  writer.commit();
  EXPECT_EQ(other.exec("INSERT INTO b VALUES (2)"), 1) << "works once the lock is gone";

  auto ps = t.points();
  auto failed_runs = with_api(ps, "execute");
  ASSERT_EQ(failed_runs.size(), 3u) << dump(t.last);
  EXPECT_EQ(failed_runs[0].db_stop().value("code", 0), SQLITE_BUSY);
  EXPECT_EQ(failed_runs[1].db_stop().value("code", 0), SQLITE_BUSY);
  // The failed BEGIN: a transaction point that failed, with its failed begin point.
  auto tx = with_api(ps, "transaction");
  ASSERT_EQ(tx.size(), 1u) << dump(t.last);
  EXPECT_EQ(tx[0].db_stop().value("code", 0), SQLITE_BUSY);
  auto begins = with_api(ps, "begin");
  ASSERT_EQ(begins.size(), 1u);
  EXPECT_EQ(begins[0].start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(begins[0].db_stop().value("code", 0), SQLITE_BUSY);
  expect_all_stopped(ps, t.last);
}

TEST(sqlite_adapter, locked_by_a_shared_cache_connection) {
  const std::string uri = "file:locked_test?mode=memory&cache=shared";
  const int flags = connection::default_flags | SQLITE_OPEN_URI;
  connection a(uri, flags);
  connection b(uri, flags);
  a.exec("CREATE TABLE l (id INTEGER PRIMARY KEY); INSERT INTO l VALUES (1);");
  a.begin();
  a.exec("INSERT INTO l VALUES (2)");  // a write lock on table l, held until commit
  traced t;
  statement st = b.prepare("SELECT id FROM l");
  try {
    st.step();
    FAIL() << "no SQLITE_LOCKED";
  } catch (const sqlite::error& e) {
    EXPECT_EQ(e.code(), SQLITE_LOCKED);
    EXPECT_EQ(e.extended_code(), SQLITE_LOCKED_SHAREDCACHE);
  }
  a.rollback();
  st.reset();
  ASSERT_TRUE(st.step());
  auto runs = with_api(t.points(), "execute");
  ASSERT_GE(runs.size(), 1u);
  EXPECT_EQ(runs[0].db_stop().value("code", 0), SQLITE_LOCKED);
  EXPECT_EQ(runs[0].db_stop().value("extended_code", 0), SQLITE_LOCKED_SHAREDCACHE);
}

// A transaction's point spans the user's code, so the user's own trace
// points may end after it (COMMIT inside them) or before it (BEGIN inside
// them). Every point must still stop, keep its parent, and leave the stack
// as it found it (the transaction's point used to stay on it for good).
TEST(sqlite_adapter, transactions_and_user_trace_points_may_end_in_any_order) {
  connection c(":memory:");
  c.exec("CREATE TABLE w (id INTEGER)");
  traced t;
  {
    trace request("wsgi");
    {
      sqlite::transaction tx(c);
      trace work("work");
      c.exec("INSERT INTO w VALUES (1)");
      tx.commit();  // "work" is still open
    }
    EXPECT_EQ(get()->depth(), 1u);
    auto user = std::make_unique<trace>("user");
    c.begin();
    user.reset();  // the transaction is still open
    c.exec("INSERT INTO w VALUES (2)");
    c.commit();
    EXPECT_EQ(get()->depth(), 1u);
  }
  EXPECT_EQ(get()->depth(), 0u);
  const auto ps = t.points();
  expect_all_stopped(ps, t.last);
  const auto tx = with_api(ps, "transaction");
  ASSERT_EQ(tx.size(), 2u) << dump(t.last);
  for (const auto& p : ps) {
    if (p.stopped) {
      EXPECT_EQ(p.stop.parent_id, p.start.parent_id) << dump(t.last);
    }
  }
  const auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].start.parent_id, tx[1].start.trace_id);
}

TEST(sqlite_adapter, raii_transaction_rolls_back_unless_committed) {
  connection c(db_file("raii"));
  c.exec("CREATE TABLE r (id INTEGER PRIMARY KEY)");
  traced t;
  {
    sqlite::transaction tx(c);
    c.exec("INSERT INTO r VALUES (1)");
  }
  EXPECT_FALSE(c.in_transaction());
  try {
    sqlite::transaction tx(c, sqlite::transaction_mode::immediate);
    c.exec("INSERT INTO r VALUES (2)");
    c.exec("INSERT INTO r VALUES (2)");  // throws: the transaction rolls back
    tx.commit();
  } catch (const sqlite::error& e) {
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT);
  }
  {
    sqlite::transaction tx(c, sqlite::transaction_mode::exclusive);
    c.exec("INSERT INTO r VALUES (3)");
    tx.commit();
    EXPECT_FALSE(tx.active());
    EXPECT_THROW(tx.commit(), sqlite::error);
  }
  statement all = c.prepare("SELECT group_concat(id) FROM r");
  ASSERT_TRUE(all.step());
  EXPECT_EQ(all.column_string(0), "3");
  all.finalize();

  auto ps = t.points();
  auto txs = with_api(ps, "transaction");
  ASSERT_EQ(txs.size(), 3u) << dump(t.last);
  auto rollbacks = with_api(ps, "rollback");
  auto commits = with_api(ps, "commit");
  ASSERT_EQ(rollbacks.size(), 2u);
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(rollbacks[0].start.parent_id, txs[0].start.trace_id);
  EXPECT_EQ(rollbacks[1].start.parent_id, txs[1].start.trace_id);
  EXPECT_EQ(commits[0].start.parent_id, txs[2].start.trace_id);
  for (const auto& x : txs) EXPECT_EQ(x.start.parent_id, x.start.base_id) << "transactions at the top level";
  expect_all_stopped(ps, t.last);
}

TEST(sqlite_adapter, prepared_begin_and_commit_statements_make_the_same_points) {
  connection c(":memory:");
  c.exec("CREATE TABLE p (id INTEGER PRIMARY KEY)");
  traced t;
  statement begin = c.prepare("begin transaction");
  statement insert = c.prepare("INSERT INTO p VALUES (1)");
  statement commit = c.prepare("  END");
  begin.execute();
  EXPECT_EQ(insert.execute(), 1);
  commit.execute();
  begin.finalize();
  insert.finalize();
  commit.finalize();
  auto ps = t.points();
  auto tx = with_api(ps, "transaction");
  ASSERT_EQ(tx.size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "execute").at(0).start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(with_api(ps, "commit").at(0).start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(with_api(ps, "execute").at(0).rows(), 1);
}

TEST(sqlite_adapter, close_with_an_open_transaction_ends_its_point) {
  traced t;
  {
    connection c(":memory:");
    c.exec("CREATE TABLE o (id INTEGER PRIMARY KEY)");
    c.begin();
    c.exec("INSERT INTO o VALUES (1)");
  }
  auto ps = t.points();
  ASSERT_EQ(with_api(ps, "transaction").size(), 1u);
  expect_all_stopped(ps, t.last);
  EXPECT_EQ(with_api(ps, "close").at(0).start.parent_id, with_api(ps, "close").at(0).start.base_id);
}

TEST(sqlite_adapter, moving_keeps_the_running_point) {
  connection c1(":memory:");
  c1.exec("CREATE TABLE m (id INTEGER PRIMARY KEY); INSERT INTO m VALUES (1), (2), (3);");
  traced t;
  connection c2(std::move(c1));
  EXPECT_FALSE(c1.is_open());
  ASSERT_TRUE(c2.is_open());
  statement a = c2.prepare("SELECT id FROM m");
  ASSERT_TRUE(a.step());
  statement b(std::move(a));
  EXPECT_FALSE(a);
  ASSERT_TRUE(b.step());
  statement c;
  c = std::move(b);
  ASSERT_TRUE(c.step());
  EXPECT_FALSE(c.step());
  connection c3;
  c3 = std::move(c2);
  EXPECT_EQ(c3.exec("DELETE FROM m"), 3);
  auto ps = t.points();
  auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 2u) << dump(t.last);
  EXPECT_EQ(runs[0].rows(), 3) << "one run across three moves";
  EXPECT_EQ(runs[1].rows(), 3);
  expect_all_stopped(ps, t.last);
}

TEST(sqlite_adapter, code_between_fetches_is_not_nested_and_runs_may_end_in_any_order) {
  connection c(":memory:");
  c.exec("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO n VALUES (1, 0), (2, 0), (3, 0);");
  traced t(with_sql());
  statement outer = c.prepare("SELECT id FROM n");
  statement inner = c.prepare("UPDATE n SET v = v + 1 WHERE id = ?");
  while (outer.step()) {
    inner.bind(1, outer.column_int64(0));
    inner.execute();
  }
  // Out of order: `lookup` is still running when `outer2` ends.
  statement outer2 = c.prepare("SELECT id FROM n");
  statement lookup = c.prepare("SELECT v FROM n");
  ASSERT_TRUE(outer2.step());
  ASSERT_TRUE(lookup.step());
  outer2.reset();
  ASSERT_TRUE(lookup.step());
  lookup.reset();
  auto ps = t.points();
  auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 6u) << dump(t.last);
  for (const auto& r : runs) EXPECT_EQ(r.start.parent_id, r.start.base_id) << "siblings, not children";
  // A run's start is sent with its stop: notifications come in the order
  // the runs ended (the inner updates, then the outer select).
  std::vector<point> selects, updates;
  for (const auto& r : runs) (r.statement().rfind("UPDATE", 0) == 0 ? updates : selects).push_back(r);
  ASSERT_EQ(updates.size(), 3u);
  ASSERT_EQ(selects.size(), 3u);
  for (const auto& u : updates) EXPECT_EQ(u.rows(), 1);
  const point& outer_run = selects[0];
  EXPECT_EQ(outer_run.rows(), 3);
  EXPECT_EQ(selects[1].rows(), 1) << "outer2, reset after one row";
  EXPECT_EQ(selects[2].rows(), 2) << "lookup";
  EXPECT_LE(outer_run.start.timestamp, updates[0].start.timestamp);
  EXPECT_GE(outer_run.stop.timestamp, updates[2].stop.timestamp) << "the select's run ends at its last step";
  expect_all_stopped(ps, t.last);
  ASSERT_NE(get(), nullptr);
  EXPECT_EQ(get()->depth(), 0u) << "nothing left open on the profiler";
}

TEST(sqlite_adapter, interleaved_transactions_of_two_connections_all_end) {
  connection a(":memory:");
  connection b(":memory:");
  a.exec("CREATE TABLE x (id INTEGER)");
  b.exec("CREATE TABLE y (id INTEGER)");
  traced t;
  a.begin();
  b.begin();
  a.exec("INSERT INTO x VALUES (1)");
  a.commit();  // b's transaction, opened inside a's, ends first
  b.exec("INSERT INTO y VALUES (1)");
  b.rollback();
  auto ps = t.points();
  auto tx = with_api(ps, "transaction");
  ASSERT_EQ(tx.size(), 2u) << dump(t.last);
  EXPECT_EQ(tx[1].start.parent_id, tx[0].start.trace_id);
  expect_all_stopped(ps, t.last);
  EXPECT_EQ(get()->depth(), 0u);
  EXPECT_FALSE(a.in_transaction());
  EXPECT_FALSE(b.in_transaction());
}

TEST(sqlite_adapter, a_transaction_inside_another_whose_connection_dies_elsewhere_is_skipped) {
  traced t;
  connection outer(":memory:");
  outer.begin();
  auto inner = std::make_unique<connection>(":memory:");
  inner->begin();
  // Closed and destroyed on another thread: its transaction point cannot be
  // stopped there (points belong to their thread), and its connection must
  // not be touched here once it is gone.
  std::thread([&] { inner.reset(); }).join();
  outer.commit();  // ends what was opened inside outer's transaction first
  auto ps = t.points();
  auto tx = with_api(ps, "transaction");
  ASSERT_EQ(tx.size(), 2u) << dump(t.last);
  expect_all_stopped(ps, t.last);
  EXPECT_EQ(with_api(ps, "commit").at(0).start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(get()->depth(), 0u);
}

TEST(sqlite_adapter, params_by_position_and_by_name_only_with_the_switch) {
  connection c(":memory:");
  c.exec("CREATE TABLE q (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)");
  {
    traced t(with_sql(true));
    statement ins = c.prepare("INSERT INTO q VALUES (?, ?, ?, ?)");
    const unsigned char blob[3] = {1, 2, 3};
    ins.bind(1, 7).bind(2, std::string("seven")).bind(3, 0.5).bind_blob(4, blob, sizeof blob);
    ins.execute();
    statement sel = c.prepare("SELECT id FROM q WHERE name = :name AND id = @id");
    sel.bind(":name", "seven").bind("@id", 7LL);
    ASSERT_TRUE(sel.step());
    sel.reset();
    sel.clear_bindings();
    sel.bind(":name", nullptr);
    EXPECT_FALSE(sel.step());
    EXPECT_THROW(sel.bind(":missing", 1), sqlite::error);
    auto runs = with_api(t.points(), "execute");
    ASSERT_EQ(runs.size(), 3u) << dump(t.last);
    EXPECT_EQ(runs[0].start.info["db"]["params"], nlohmann::json::parse(R"([7, "seven", 0.5, "<blob 3 bytes>"])"));
    EXPECT_EQ(runs[1].start.info["db"]["params"], nlohmann::json::parse(R"({":name": "seven", "@id": 7})"));
    EXPECT_EQ(runs[2].start.info["db"]["params"], nlohmann::json::parse(R"({":name": null})"));
  }
  {
    traced t(with_sql(false));
    statement sel = c.prepare("SELECT id FROM q WHERE name = ?");
    sel.bind(1, "seven");
    ASSERT_TRUE(sel.step());
    auto runs = with_api(t.points(), "execute");
    EXPECT_EQ(dump(t.last).find("seven\""), std::string::npos) << dump(t.last);
  }
}

// Binding edge cases: an empty view is an empty text (not NULL, which its
// null data pointer would give), blobs and NULLs bind by name too, and an
// unsigned value SQLite's signed INTEGER cannot hold is refused, not wrapped.
TEST(sqlite_adapter, binding_empty_text_by_name_and_out_of_range_values) {
  connection c(":memory:");
  statement st = c.prepare("SELECT typeof(:a), length(:a), typeof(:b), length(:b), typeof(:c), :d");
  const unsigned char blob[2] = {9, 9};
  st.bind(":a", std::string_view{}).bind_blob(std::string(":b"), blob, sizeof blob).bind_null(std::string(":c"));
  st.bind(":d", std::uint64_t{INT64_MAX});
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_text(0), "text");
  EXPECT_EQ(st.column_int64(1), 0);
  EXPECT_EQ(st.column_text(2), "blob");
  EXPECT_EQ(st.column_int64(3), 2);
  EXPECT_EQ(st.column_text(4), "null");
  EXPECT_EQ(st.column_int64(5), INT64_MAX);
  st.reset();
  try {
    st.bind(":d", std::uint64_t{INT64_MAX} + 1);
    FAIL() << "wrapped";
  } catch (const sqlite::error& e) {
    EXPECT_EQ(e.code(), SQLITE_MISMATCH);
    EXPECT_NE(std::string(e.what()).find("9223372036854775808"), std::string::npos) << e.what();
  }
}

// A run's stop says only what that run did: a failed rerun of a statement
// whose last run changed a row reports no rows.
TEST(sqlite_adapter, a_failed_rerun_carries_nothing_of_the_run_before) {
  connection c(":memory:");
  c.exec("CREATE TABLE u (id INTEGER PRIMARY KEY)");
  traced t;
  statement st = c.prepare("INSERT INTO u VALUES (1)");
  EXPECT_EQ(st.execute(), 1);
  EXPECT_EQ(st.try_step(), SQLITE_CONSTRAINT);
  st.reset();
  EXPECT_EQ(c.prepare("DELETE FROM u").execute(), 1);
  EXPECT_EQ(st.execute(), 1);
  const auto runs = with_api(t.points(), "execute");
  ASSERT_EQ(runs.size(), 4u) << dump(t.last);
  EXPECT_EQ(runs[0].db_stop().value("rows", -1), 1);
  EXPECT_EQ(runs[1].db_stop().value("code", 0), SQLITE_CONSTRAINT);
  EXPECT_FALSE(runs[1].db_stop().contains("rows")) << dump(t.last);
  EXPECT_EQ(runs[3].db_stop().value("rows", -1), 1);
  EXPECT_FALSE(runs[3].stop.info.contains("etype")) << "the failure was the run before's";
}

TEST(sqlite_adapter, point_name_is_per_connection) {
  traced t;
  connection c(":memory:", connection::default_flags, nullptr, "sqlite-main");
  c.exec("SELECT 1");
  c.set_point_name("renamed");
  c.exec("SELECT 2");
  c.close();
  auto ps = t.points();
  ASSERT_EQ(ps.size(), 4u) << dump(t.last);
  EXPECT_EQ(ps[0].start.name, "sqlite-main-start");
  EXPECT_EQ(ps[1].start.name, "sqlite-main-start");
  EXPECT_EQ(ps[2].start.name, "renamed-start");
  EXPECT_EQ(ps[3].stop.name, "renamed-stop");
}

TEST(sqlite_adapter, statements_on_other_threads_record_on_their_own_profiler) {
  const std::string file = db_file("threads");
  { connection(file).exec("CREATE TABLE th (id INTEGER PRIMARY KEY, v INTEGER)"); }
  traced t;
  auto pos = capture();
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      resume r(pos);
      connection c(file);
      c.busy_timeout(5000);
      statement ins = c.prepare("INSERT INTO th (v) VALUES (?)");
      for (int i = 0; i < 25; ++i) {
        ins.bind(1, k);
        ins.execute();
      }
    });
  }
  for (auto& th : threads) th.join();
  auto ps = t.points();
  EXPECT_EQ(with_api(ps, "execute").size(), 100u);
  expect_all_stopped(ps, t.last);
}

TEST(sqlite_adapter, nothing_recorded_and_everything_works_when_disabled) {
  auto sink = std::make_shared<memory_collector>();
  notifier::set(sink);
  init("k");
  {
    connection c(":memory:");
    sqlite::transaction tx(c);
    c.exec("CREATE TABLE d (id INTEGER PRIMARY KEY)");
    statement st = c.prepare("INSERT INTO d VALUES (?)");
    for (int i = 0; i < 10; ++i) {
      st.bind(1, i);
      EXPECT_EQ(st.execute(), 1);
    }
    tx.commit();
  }
  clean();
  notifier::flush();
  notifier::set(std::shared_ptr<collector>{});
  EXPECT_TRUE(sink->take().empty());
}

}  // namespace
// A statement run's start is held and sent with its stop (one queue slot);
// a run still going after a while has it sent by the connection's progress
// handler, so that a long or hung query shows in its trace while it runs.
TEST(sqlite_adapter, a_long_running_statement_shows_its_start_while_it_runs) {
  connection c(":memory:");
  traced t(with_sql());
  struct probe_state {
    tracing_scope* scope;
    bool start_seen = false;
    int calls = 0;
  } probe{&t.scope};
  ASSERT_EQ(sqlite3_create_function(
                c.handle(), "probe", 0, SQLITE_UTF8, &probe,
                [](sqlite3_context* ctx, int, sqlite3_value**) {
                  auto* p = static_cast<probe_state*>(sqlite3_user_data(ctx));
                  ++p->calls;
                  // Called on the stepping thread, inside sqlite3_step.
                  notifier::flush();
                  for (const auto& n : p->scope->sink->snapshot()) {
                    if (n.name == "db-start" && n.info["db"].value("api", "") == "execute" &&
                        n.info["db"].value("statement", "").find("probe()") != std::string::npos) {
                      p->start_seen = true;
                    }
                  }
                  sqlite3_result_int(ctx, 1);
                },
                nullptr, nullptr),
            SQLITE_OK);
  const std::string sql =
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000) "
      "SELECT count(*) FROM n WHERE x = 300000 AND probe()";
  statement s = c.prepare(sql);
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_int64(0), 1);
  EXPECT_FALSE(s.step());
  EXPECT_EQ(probe.calls, 1);
  EXPECT_TRUE(probe.start_seen) << "the start was still held after 300,000 rows";
  // Short runs keep theirs until they end: the notifications still pair up.
  statement quick = c.prepare("SELECT 1");
  ASSERT_TRUE(quick.step());
  quick.reset();
  auto ps = t.points();
  auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 2u) << dump(t.last);
  EXPECT_EQ(runs[0].statement(), sql);
  EXPECT_EQ(runs[0].rows(), 1);
  EXPECT_EQ(runs[1].statement(), "SELECT 1");
  expect_all_stopped(ps, t.last);
  int seen_starts = 0;
  for (const auto& n : t.last) {
    seen_starts += n.name == "db-start" && n.info["db"].value("api", "") == "execute" &&
                   n.info["db"].value("statement", "") == sql;
  }
  EXPECT_EQ(seen_starts, 1) << "sent early, and not again with the stop";
}

}  // namespace osprofiler::testing

namespace osprofiler::testing {
namespace {
// The first point whose start is `start_name` and, if given, whose db.api
// and db.statement match.
point find_point(const std::vector<point>& ps, const std::string& start_name, const std::string& api = "",
                 const std::string& statement = "") {
  for (const auto& p : ps) {
    if (p.start.name == start_name && (api.empty() || p.api() == api) &&
        (statement.empty() || p.statement() == statement)) {
      return p;
    }
  }
  ADD_FAILURE() << "no point " << start_name << " " << api << " " << statement;
  return {};
}
}  // namespace

// A run stays off the trace stack unless something starts inside its step
// (db::call::begin_held): then, as before, it is the parent of what its
// step starts (here a user function's own point and another statement's
// prepare and run), and code after its first row is its sibling.
TEST(sqlite_adapter, points_started_inside_a_step_are_children_of_its_run) {
  connection c(":memory:");
  connection other(":memory:");
  traced t(with_sql());
  ASSERT_EQ(sqlite3_create_function(
                c.handle(), "nested", 0, SQLITE_UTF8, &other,
                [](sqlite3_context* ctx, int, sqlite3_value**) {
                  auto* conn = static_cast<connection*>(sqlite3_user_data(ctx));
                  { trace user("udf"); }
                  statement inner = conn->prepare("SELECT 2");
                  sqlite3_result_int64(ctx, inner.try_step() == SQLITE_ROW ? inner.column_int64(0) : -1);
                },
                nullptr, nullptr),
            SQLITE_OK);
  statement outer = c.prepare("SELECT nested()");
  ASSERT_TRUE(outer.step());
  EXPECT_EQ(outer.column_int64(0), 2);
  { trace between("between"); }
  EXPECT_FALSE(outer.step());
  statement plain = c.prepare("SELECT 1");
  ASSERT_TRUE(plain.step());
  plain.reset();
  EXPECT_EQ(get()->depth(), 0u);

  const auto ps = t.points();
  expect_all_stopped(ps, t.last);
  const point run = find_point(ps, "db-start", "execute", "SELECT nested()");
  const point udf = find_point(ps, "udf-start");
  const point inner_prepare = find_point(ps, "db-start", "prepare", "SELECT 2");
  const point inner_run = find_point(ps, "db-start", "execute", "SELECT 2");
  const point sibling = find_point(ps, "between-start");
  const point plain_run = find_point(ps, "db-start", "execute", "SELECT 1");
  ASSERT_FALSE(run.start.trace_id.empty()) << dump(t.last);
  EXPECT_EQ(udf.start.parent_id, run.start.trace_id);
  EXPECT_EQ(inner_prepare.start.parent_id, run.start.trace_id);
  EXPECT_EQ(inner_run.start.parent_id, run.start.trace_id);
  EXPECT_EQ(inner_run.rows(), 1);
  EXPECT_EQ(sibling.start.parent_id, run.start.parent_id);
  EXPECT_EQ(plain_run.start.parent_id, run.start.parent_id);
  EXPECT_EQ(run.rows(), 1);
  EXPECT_EQ(run.stop.name, "db-stop");
}

// The same for a function SQLite calls on every row: only its call inside
// the first step is the run's child (the run ends at its first row, as far
// as the stack goes); and a run that finishes in its first step (an UPDATE)
// leaves the stack when it ends.
TEST(sqlite_adapter, only_the_first_step_of_a_run_is_its_parent) {
  connection c(":memory:");
  c.exec("CREATE TABLE u (x INTEGER); INSERT INTO u VALUES (0)");
  traced t(with_sql());
  ASSERT_EQ(sqlite3_create_function(
                c.handle(), "marked", 0, SQLITE_UTF8, nullptr,
                [](sqlite3_context* ctx, int, sqlite3_value**) {
                  { trace user("udf"); }
                  sqlite3_result_int64(ctx, 7);
                },
                nullptr, nullptr),
            SQLITE_OK);
  statement rows = c.prepare("SELECT marked() FROM (VALUES (1), (2))");
  ASSERT_TRUE(rows.step());
  ASSERT_TRUE(rows.step());
  EXPECT_FALSE(rows.step());
  statement update = c.prepare("UPDATE u SET x = marked()");
  EXPECT_EQ(update.execute(), 1);
  EXPECT_EQ(get()->depth(), 0u);

  const auto ps = t.points();
  expect_all_stopped(ps, t.last);
  const point select_run = find_point(ps, "db-start", "execute", "SELECT marked() FROM (VALUES (1), (2))");
  const point update_run = find_point(ps, "db-start", "execute", "UPDATE u SET x = marked()");
  std::vector<point> udfs;
  for (const auto& p : ps) {
    if (p.start.name == "udf-start") udfs.push_back(p);
  }
  ASSERT_EQ(udfs.size(), 3u) << dump(t.last);
  EXPECT_EQ(udfs[0].start.parent_id, select_run.start.trace_id) << "called in the first step";
  EXPECT_EQ(udfs[1].start.parent_id, select_run.start.parent_id) << "called after the first row";
  EXPECT_EQ(udfs[2].start.parent_id, update_run.start.trace_id);
  EXPECT_EQ(select_run.rows(), 2);
  EXPECT_EQ(update_run.rows(), 1);
  EXPECT_EQ(update_run.start.parent_id, select_run.start.parent_id);
}

}  // namespace osprofiler::testing
