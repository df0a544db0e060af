// The raw-handle tracer: code that keeps calling the SQLite C API on its own
// sqlite3* gets the same trace points (within what sqlite3_trace_v2 shows).
#include <gtest/gtest.h>

#include <string>

#include "osprofiler/profiler.h"
#include "osprofiler/sqlite/sqlite.h"
#include "points.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

struct traced {
  explicit traced(bool sql = true) : scope(make(sql)) { init("sqlite-tracer-key"); }
  static options make(bool sql) {
    options o;
    o.trace_sql = sql;
    return o;
  }
  std::vector<point> points() { return pair_points(last = scope.collect()); }
  tracing_scope scope;
  std::vector<notification> last;
};

struct raw_db {
  explicit raw_db(const std::string& file) { EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK); }
  ~raw_db() {
    if (db) sqlite3_close(db);
  }
  sqlite3* db = nullptr;
};

TEST(sqlite_tracer, exec_scripts_and_transactions_through_the_c_api) {
  const std::string file = (temp_dir("sqlite-tracer") / "raw.db").string();
  raw_db raw(file);
  traced t;
  sqlite::tracer tracer(raw.db, "legacy");
  ASSERT_TRUE(tracer.attached());
  ASSERT_EQ(sqlite3_exec(raw.db,
                         "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT);"
                         "BEGIN; INSERT INTO r (v) VALUES ('a'), ('b'); COMMIT;"
                         "SELECT * FROM r;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto ps = t.points();
  ASSERT_FALSE(ps.empty());
  for (const auto& p : ps) {
    EXPECT_TRUE(p.stopped) << dump(t.last);
    EXPECT_EQ(p.start.name, "legacy-start");
    EXPECT_EQ(p.start.info["db"].value("namespace", ""), file);
    EXPECT_EQ(p.start.info["db"].value("system", ""), "sqlite");
  }
  auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 3u) << dump(t.last);
  EXPECT_EQ(runs[0].statement(), "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT);");
  EXPECT_EQ(runs[1].rows(), 2);
  EXPECT_EQ(runs[2].rows(), 2);
  auto tx = with_api(ps, "transaction");
  ASSERT_EQ(tx.size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "begin").at(0).start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(runs[1].start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(with_api(ps, "commit").at(0).start.parent_id, tx[0].start.trace_id);
  EXPECT_EQ(runs[2].start.parent_id, runs[2].start.base_id);
}

TEST(sqlite_tracer, a_reused_prepared_statement_is_one_point_per_run) {
  raw_db raw(":memory:");
  sqlite3_exec(raw.db, "CREATE TABLE k (id INTEGER PRIMARY KEY, v INTEGER);"
               "INSERT INTO k VALUES (1, 10), (2, 20), (3, 30);", nullptr, nullptr, nullptr);
  traced t(false);
  sqlite::tracer tracer(raw.db);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.db, "SELECT v FROM k WHERE id >= ?", -1, &st, nullptr), SQLITE_OK);
  constexpr int runs = 2000;
  for (int i = 0; i < runs; ++i) {
    sqlite3_bind_int(st, 1, i % 3 + 1);
    while (sqlite3_step(st) == SQLITE_ROW) {
    }
    sqlite3_reset(st);
  }
  // A run abandoned half-way ends at reset with the rows seen.
  sqlite3_bind_int(st, 1, 1);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  sqlite3_reset(st);
  sqlite3_finalize(st);
  auto ps = with_api(t.points(), "execute");
  ASSERT_EQ(ps.size(), static_cast<std::size_t>(runs + 1));
  for (int i = 0; i < runs; ++i) {
    ASSERT_TRUE(ps[i].stopped);
    ASSERT_EQ(ps[i].rows(), 3 - i % 3);
    ASSERT_EQ(ps[i].statement(), "") << "no SQL text with trace_sql off";
  }
  EXPECT_EQ(ps[runs].rows(), 1);
  EXPECT_EQ(dump(t.last).find("SELECT v FROM k"), std::string::npos);
}

TEST(sqlite_tracer, failing_statements_end_their_point_and_triggers_stay_inside) {
  raw_db raw(":memory:");
  sqlite3_exec(raw.db,
               "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE log (id INTEGER);"
               "CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO log VALUES (new.id); END;",
               nullptr, nullptr, nullptr);
  traced t;
  sqlite::tracer tracer(raw.db);
  EXPECT_EQ(sqlite3_exec(raw.db, "INSERT INTO a VALUES (1)", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(raw.db, "INSERT INTO a VALUES (1)", nullptr, nullptr, nullptr), SQLITE_CONSTRAINT);
  auto ps = t.points();
  auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 2u) << "the trigger's INSERT is part of its statement\n" << dump(t.last);
  EXPECT_EQ(runs[0].rows(), 1) << "sqlite3_changes() leaves trigger rows out";
  EXPECT_TRUE(runs[1].stopped);
  EXPECT_EQ(get()->depth(), 0u);
}

TEST(sqlite_tracer, detaches_on_close_and_on_request) {
  traced t;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite::tracer tracer(db);
    sqlite3_exec(db, "BEGIN; CREATE TABLE c (id INTEGER);", nullptr, nullptr, nullptr);
    sqlite3_close(db);  // with the transaction open: its point ends here
    EXPECT_FALSE(tracer.attached());
  }  // the tracer's destructor must not touch the closed handle
  auto ps = t.points();
  for (const auto& p : ps) EXPECT_TRUE(p.stopped) << dump(t.last);
  EXPECT_EQ(with_api(ps, "transaction").size(), 1u);

  raw_db raw(":memory:");
  sqlite::tracer tracer(raw.db);
  sqlite3_exec(raw.db, "SELECT 1", nullptr, nullptr, nullptr);
  sqlite::tracer moved(std::move(tracer));
  sqlite3_exec(raw.db, "SELECT 2", nullptr, nullptr, nullptr);
  moved.detach();
  EXPECT_FALSE(moved.attached());
  sqlite3_exec(raw.db, "SELECT 3", nullptr, nullptr, nullptr);
  EXPECT_EQ(with_api(t.points(), "execute").size(), 2u) << dump(t.last);
  EXPECT_THROW(sqlite::tracer(nullptr), sqlite::error);
}

// SQLite reports a close before it knows whether it succeeds: a close that
// fails (SQLITE_BUSY) leaves the handle open, and sqlite3_close_v2 may leave
// a zombie that runs the last finalize later. The tracer unhooks at the
// close, so neither can reach it (it used to keep its hook: a null handle
// dereferenced on the next statement, or a destroyed tracer called).
TEST(sqlite_tracer, a_failed_or_deferred_close_unhooks_at_once) {
  traced t;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  sqlite::tracer tracer(db);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT 1", -1, &st, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_close(db), SQLITE_BUSY);
  EXPECT_FALSE(tracer.attached());
  EXPECT_EQ(sqlite3_exec(db, "BEGIN; CREATE TABLE z (id INTEGER); COMMIT;", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_finalize(st);
  EXPECT_EQ(sqlite3_close(db), SQLITE_OK);

  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  {
    sqlite::tracer zombie_tracer(db);
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT 1 UNION ALL SELECT 2", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_close_v2(db), SQLITE_OK);  // a zombie until st is finalized
  }
  sqlite3_finalize(st);  // must not reach the destroyed tracer
  for (const auto& p : t.points()) EXPECT_TRUE(p.stopped) << dump(t.last);
}

// The text SQLite reports for a statement keeps a leading comment; only a
// trigger's program (same handle, its own "-- TRIGGER" text) is no point.
TEST(sqlite_tracer, statements_after_a_comment_or_a_stray_semicolon_are_traced) {
  raw_db raw(":memory:");
  traced t;
  sqlite::tracer tracer(raw.db);
  ASSERT_EQ(sqlite3_exec(raw.db,
                         "CREATE TABLE c (x INTEGER);; -- open it\nBEGIN; -- add a row\nINSERT INTO c VALUES (1); COMMIT;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto ps = t.points();
  ASSERT_EQ(with_api(ps, "transaction").size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "begin").size(), 1u) << dump(t.last);
  EXPECT_EQ(with_api(ps, "commit").size(), 1u) << dump(t.last);
  auto runs = with_api(ps, "execute");
  ASSERT_EQ(runs.size(), 2u) << dump(t.last);
  EXPECT_NE(runs[1].statement().find("INSERT INTO c VALUES (1)"), std::string::npos) << dump(t.last);
  for (const auto& p : ps) EXPECT_TRUE(p.stopped) << dump(t.last);
}

TEST(sqlite_tracer, records_nothing_when_disabled) {
  auto sink = std::make_shared<memory_collector>();
  notifier::set(sink);
  init("k");
  raw_db raw(":memory:");
  sqlite::tracer tracer(raw.db);
  EXPECT_EQ(sqlite3_exec(raw.db, "CREATE TABLE x (id INTEGER); INSERT INTO x VALUES (1); SELECT * FROM x;", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  clean();
  notifier::flush();
  notifier::set(std::shared_ptr<collector>{});
  EXPECT_TRUE(sink->take().empty());
}

}  // namespace
}  // namespace osprofiler::testing
