// The postgresql:// store against the fixture server, and interop with the
// real Python OSProfiler in both directions (its sqlalchemy driver and CLI).
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "osprofiler/profiler.h"
#include "osprofiler/store.h"
#include "osprofiler/stores.h"
#include "store_test_util.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

// Runs SQL on `uri`; returns the rows as "a|b|c" lines.
std::string sql(const std::string& uri, const std::string& statement) {
  PGconn* c = PQconnectdb(uri.c_str());
  EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult* r = PQexec(c, statement.c_str());
  const auto st = PQresultStatus(r);
  EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) << PQerrorMessage(c) << " in " << statement;
  std::string out;
  for (int i = 0; i < PQntuples(r); ++i) {
    for (int j = 0; j < PQnfields(r); ++j) out += (j ? "|" : "") + std::string(PQgetvalue(r, i, j));
    out += "\n";
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

// A fresh database on the fixture server; returns its URI.
std::string fresh_database(const std::string& tag) {
  static int counter = 0;
  const std::string name = "stores_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  sql(pg_uri(), "DROP DATABASE IF EXISTS " + name);
  sql(pg_uri(), "CREATE DATABASE " + name);
  auto uri = pg_uri();
  return uri.substr(0, uri.rfind('/') + 1) + name;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// Runs a Python script (with python3-osprofiler) with arguments.
int run_python(const std::string& script, const std::string& args, std::string* out) {
  const auto file = temp_dir("py") / "script.py";
  std::ofstream(file) << script;
  return run(python() + " " + file.string() + " " + args, out);
}

// Python OSProfiler's CLI report of one trace, parsed.
nlohmann::json python_report(const std::string& uri, const std::string& base) {
  std::string out;
  const int rc = run(python() + " -m osprofiler.cmd.shell trace show --json " + base + " --connection-string " +
                         quoted(uri),
                     &out, false);
  EXPECT_EQ(rc, 0) << out;
  return nlohmann::json::parse(out);
}

class PgStore : public ::testing::Test {
 protected:
  void SetUp() override { register_stores(); }
};

TEST_F(PgStore, TableMatchesWhatSqlalchemyCreates) {
  const auto theirs = fresh_database("schema_py");
  const auto ours = fresh_database("schema_cpp");
  std::string out;
  ASSERT_EQ(run_python("import sys\nfrom osprofiler.drivers import base\nbase.get_driver(sys.argv[1])\n", quoted(theirs), &out), 0)
      << out;
  open_store(ours)->write({});  // an empty batch connects and creates the table
  const std::string columns =
      "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default"
      " FROM information_schema.columns WHERE table_name = 'data' ORDER BY ordinal_position";
  const std::string indexes = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'data' ORDER BY indexname";
  const std::string constraints =
      "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'data'::regclass ORDER BY conname";
  ASSERT_NE(sql(theirs, columns), "");
  EXPECT_EQ(sql(ours, columns), sql(theirs, columns));
  EXPECT_EQ(sql(ours, indexes), sql(theirs, indexes));
  EXPECT_EQ(sql(ours, constraints), sql(theirs, constraints));
  EXPECT_EQ(sql(ours, indexes).find("ix_data_base_id|"), sql(theirs, indexes).find("ix_data_base_id|"));
}

TEST_F(PgStore, DataColumnIsStoredLikePythonsNotify) {
  const auto uri = fresh_database("data");
  std::string out;
  const std::string script =
      "from osprofiler.drivers import base\n"
      "d = base.get_driver('" + uri + "', project='p', service='s', host='h')\n"
      "d.notify({'name': 'db-start', 'base_id': 'b', 'parent_id': 'b', 'trace_id': 'py',"
      " 'timestamp': '2026-11-21T16:14:41.833431', 'info': {'db': {'statement': 'SELECT 1', 'params': {}}, 'host': 'vm'}})\n";
  ASSERT_EQ(run_python(script, "", &out), 0) << out;
  notification n;
  n.name = "db-start";
  n.base_id = n.parent_id = "b";
  n.trace_id = "cpp";
  n.timestamp = "2026-11-21T16:14:41.833431";
  n.project = "p";
  n.service = "s";
  n.host = "h";
  n.info = {{"db", {{"statement", "SELECT 1"}, {"params", nlohmann::json::object()}}}, {"host", "vm"}};
  open_store(uri)->write({n});
  // Same column values, and data is a JSON string holding the same payload.
  EXPECT_EQ(sql(uri,
                "SELECT timestamp, base_id, parent_id, project, host, service, name, json_typeof(data),"
                " (data #>> '{}')::jsonb FROM data ORDER BY id"),
            "2026-11-21T16:14:41.833431|b|b|p|h|s|db-start|string|{\"info\": {\"db\": {\"params\": {}, \"statement\": "
            "\"SELECT 1\"}, \"host\": \"vm\"}}\n"
            "2026-11-21T16:14:41.833431|b|b|p|h|s|db-start|string|{\"info\": {\"db\": {\"params\": {}, \"statement\": "
            "\"SELECT 1\"}, \"host\": \"vm\"}}\n");
}

TEST_F(PgStore, PythonWritesWeReadTheSameReport) {
  const auto uri = fresh_database("py2cpp");
  const std::string base = "6f8bf2b5-6f8e-4e35-9b0b-6d1d6c1f0a01";
  // A trace as Python services write it: nesting, an error, a missing stop,
  // a point whose parent is not in the trace, a stop without start, equal
  // start times (order), extra payload keys, non-ASCII text.
  const std::string script = R"PY(
import sys
from osprofiler.drivers import base
d = base.get_driver(sys.argv[1], project="nova", service="api", host="node-1")
B = sys.argv[2]
def n(name, tid, pid, ts, info, **extra):
    m = {"name": name, "base_id": B, "trace_id": tid, "parent_id": pid,
         "timestamp": "2026-11-21T16:14:" + ts, "info": dict(info, host="node-1")}
    m.update(extra)
    d.notify(m)
A, C, D, E, F, G = ["00000000-0000-4000-8000-00000000000%d" % i for i in range(1, 7)]
n("wsgi-start", A, B, "41.000100", {"request": {"path": "/v2", "method": "GET"}})
n("db-start", C, A, "41.002999", {"db": {"statement": "SELECT \u00e9", "params": {"a": 1}}})
n("db-stop", C, A, "41.010500", {"etype": "IntegrityError", "message": "dup", "db": {"original_exception": "x"}})
n("rpc-start", D, A, "41.002999", {"function": {"name": "a.b.c"}}, service="compute", project="other")
n("lost-start", E, A, "41.020000", {})
n("orphan-start", F, "99999999-0000-4000-8000-000000000000", "41.030000", {})
n("orphan-stop", F, "99999999-0000-4000-8000-000000000000", "41.039999", {})
n("late-stop", G, A, "41.050000", {})
n("rpc-stop", D, A, "41.040000", {})
n("wsgi-stop", A, B, "42.999999", {}, extra_key=[1, 2])
)PY";
  std::string out;
  ASSERT_EQ(run_python(script, quoted(uri) + " " + base, &out), 0) << out;
  const auto expected = python_report(uri, base);
  ASSERT_EQ(expected["children"].size(), 2u);  // wsgi, orphan
  const auto ours = open_store(uri)->get_report(base);
  EXPECT_EQ(ours, expected) << "ours:   " << ours.dump(1) << "\npython: " << expected.dump(1);
}

TEST_F(PgStore, WeWritePythonReadsTheSameReportAndListsIt) {
  const auto uri = fresh_database("cpp2py");
  auto s = open_store(uri);
  const auto base = record_sample_trace(notifier::create(uri, {"proj", "svc", ""}));
  const auto expected = python_report(uri, base);
  const auto ours = s->get_report(base);
  EXPECT_EQ(ours, expected) << "ours:   " << ours.dump(1) << "\npython: " << expected.dump(1);
  EXPECT_EQ(ours["children"][0]["children"][1]["info"]["exception"], "std::runtime_error");
  std::string out;
  ASSERT_EQ(run(python() + " -m osprofiler.cmd.shell trace list --connection-string " + quoted(uri), &out), 0) << out;
  EXPECT_NE(out.find(base), std::string::npos) << out;
  ASSERT_EQ(s->list_traces().size(), 1u);
  EXPECT_EQ(s->list_traces()[0].base_id, base);
  ASSERT_EQ(s->list_error_traces().size(), 1u);
  // list_traces(fields) gives what Python's driver gives for the same fields.
  const std::vector<std::string> fields = {"base_id", "timestamp", "name", "project", "service", "host", "parent_id"};
  const std::string script =
      "import json, sys\nfrom osprofiler.drivers import base\n"
      "print(json.dumps(base.get_driver(sys.argv[1]).list_traces(sys.argv[2].split(','))))\n";
  out.clear();
  ASSERT_EQ(run_python(script, quoted(uri) + " base_id,timestamp,name,project,service,host,parent_id", &out), 0) << out;
  const auto theirs = nlohmann::json::parse(out.substr(out.find('[')));
  EXPECT_EQ(nlohmann::json(s->list_traces(fields)), theirs);
  EXPECT_EQ(s->list_traces(fields).at(0)["name"], "request-start");
}

TEST_F(PgStore, UnixSocketUriWorks) {
  const auto tcp = fresh_database("socket");
  const auto db = tcp.substr(tcp.rfind('/') + 1);
  auto uri = pg_socket_uri();  // postgresql://postgres@/postgres?host=/dir&port=N
  const auto q = uri.find('?');
  ASSERT_EQ(uri.compare(q - 9, 10, "/postgres?"), 0) << uri;
  uri = uri.substr(0, q - 8) + db + uri.substr(q);
  ASSERT_NE(uri.find("?host=/"), std::string::npos) << uri;
  const auto base = record_sample_trace(notifier::create(uri));
  EXPECT_EQ(open_store(uri)->load(base).size(), 7u);
  EXPECT_EQ(open_store("postgres://" + uri.substr(uri.find("://") + 3))->load(base).size(), 7u);
  // SQLAlchemy's spelling, as found in OpenStack service configs.
  EXPECT_EQ(open_store("postgresql+psycopg2://" + uri.substr(uri.find("://") + 3))->load(base).size(), 7u);
  EXPECT_EQ(open_store(tcp)->load(base).size(), 7u);
}

TEST_F(PgStore, UnreachableServerAndBadUris) {
  const std::string cs = "postgresql://user:s3cretpw@127.0.0.1:1/db";
  auto s = open_store(cs);  // opening does not need the server
  try {
    s->list_traces();
    ADD_FAILURE() << "read from an unreachable server";
  } catch (const std::runtime_error& ex) {
    const std::string m = ex.what();
    EXPECT_NE(m.find("postgresql://user:***@127.0.0.1:1/db"), std::string::npos) << m;
    EXPECT_EQ(m.find("s3cretpw"), std::string::npos) << m;
  }
  notification n;
  n.name = "x-start";
  n.base_id = n.parent_id = n.trace_id = "b";
  n.timestamp = "2026-11-21T16:14:41.833431";
  EXPECT_THROW(s->write({n}), collector_unavailable);  // the notifier keeps the batch and retries
  try {
    open_store("postgresql://u:pw@[::1/db");
    ADD_FAILURE() << "malformed URI accepted";
  } catch (const std::invalid_argument& ex) {
    EXPECT_NE(std::string(ex.what()).find("postgresql://u:***@[::1/db"), std::string::npos) << ex.what();
  }
  // libpq quotes a malformed string in its message; the password must not
  // come through, in either place a URI can hold one.
  for (const std::string bad : {"PostgreSQL://u:s3cretpw@[::1/db", "postgresql://u@[::1/db?password=s3cretpw"}) {
    try {
      open_store(bad);
      ADD_FAILURE() << "malformed URI accepted: " << bad;
    } catch (const std::invalid_argument& ex) {
      EXPECT_EQ(std::string(ex.what()).find("s3cretpw"), std::string::npos) << ex.what();
      EXPECT_NE(std::string(ex.what()).find("***"), std::string::npos) << ex.what();
    }
  }
}

// Any spelling of the scheme reaches libpq as postgresql:// (which knows
// only the lower-case ones).
TEST_F(PgStore, SchemeIsNotCaseSensitive) {
  const auto uri = fresh_database("scheme_case");
  auto s = open_store(uri);
  const auto base = record_sample_trace(s);
  EXPECT_EQ(open_store("PostgreSQL://" + uri.substr(uri.find("://") + 3))->load(base).size(), 7u);
}

// Read-only, as the CLI opens a store: a database without the table reads
// as empty (a shared store nobody has written to yet) and is left without
// it; writes are refused, not turned into a table and rows.
TEST_F(PgStore, AReadOnlyStoreCreatesNothingAndRefusesWrites) {
  const auto uri = fresh_database("read_only");
  auto ro = open_store(uri, store_mode::read_only);
  EXPECT_TRUE(ro->list_traces().empty());
  EXPECT_TRUE(ro->load("00000000-0000-4000-8000-000000000000").empty());
  try {
    ro->write({numbered_note("00000000-0000-4000-8000-000000000000", 0, 1700000000000000)});
    ADD_FAILURE() << "a read-only store wrote";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("was opened read-only"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ro->write({}), std::runtime_error);  // an empty batch would make the table
  EXPECT_EQ(sql(uri, "SELECT to_regclass('data') IS NULL"), "t\n");

  // With the table (written by a writable store), the read-only one reads it.
  const auto base = record_sample_trace(open_store(uri));
  EXPECT_EQ(ro->load(base).size(), 7u);
}

// A table creation that fails (here: no right to create in schema public)
// must not leave the collector's connection inside the aborted script
// transaction: once the right is granted, the same store writes. (Every
// later statement used to fail with 25P02 until the process restarted.)
TEST_F(PgStore, AFailedTableCreationDoesNotPoisonTheConnection) {
  const auto uri = fresh_database("no_create");
  const std::string role = "osp_limited_" + std::to_string(getpid());
  sql(pg_uri(), "DROP ROLE IF EXISTS " + role);
  sql(pg_uri(), "CREATE ROLE " + role + " LOGIN");
  sql(uri, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  std::string limited = uri;
  const auto authority = limited.find("://") + 3;
  const auto at = limited.find('@', authority);
  if (at != std::string::npos && at < limited.find('/', authority)) {
    limited.replace(authority, at - authority, role);
  } else {
    limited.insert(authority, role + "@");
  }
  auto s = open_store(limited);
  const auto notes = std::vector<notification>{numbered_note("b-limited", 0, 1'700'000'000'000'000),
                                               numbered_note("b-limited", 1, 1'700'000'000'001'000)};
  try {
    s->write(notes);
    ADD_FAILURE() << "created a table without the right to";
  } catch (const std::exception& ex) {
    EXPECT_NE(std::string(ex.what()).find("permission denied"), std::string::npos) << ex.what();
  }
  sql(uri, "GRANT CREATE ON SCHEMA public TO " + role);
  EXPECT_NO_THROW(s->write(notes));
  EXPECT_EQ(s->load("b-limited").size(), 2u);
  s.reset();
  sql(uri, "DROP OWNED BY " + role);
  sql(pg_uri(), "DROP ROLE " + role);
}

TEST_F(PgStore, CorruptRowsAreSkippedAndErrorTracesListed) {
  const auto uri = fresh_database("corrupt");
  auto s = open_store(uri);
  const auto base = record_sample_trace(s);
  const std::string ins =
      "INSERT INTO data (timestamp, base_id, trace_id, name, data) VALUES ('2026-11-21T16:14:41.000001', '" + base +
      "', 'x', ";
  sql(uri, ins + "'bad-stop', '\"{etype: not json\"')");
  sql(uri, ins + "'bad-start', '42')");
  sql(uri, ins + "'obj-start', '{\"info\": {\"host\": \"h\"}}')");
  error_capture errors;
  const auto got = s->load(base);
  EXPECT_EQ(got.size(), 8u);
  ASSERT_EQ(errors.messages().size(), 1u);
  EXPECT_NE(errors.messages()[0].find("skipped 2 row(s)"), std::string::npos) << errors.messages()[0];
  EXPECT_NE(errors.messages()[0].find("id 8: "), std::string::npos) << errors.messages()[0];
  ASSERT_EQ(s->list_error_traces().size(), 1u);
  EXPECT_EQ(s->list_error_traces()[0].base_id, base);
}

TEST_F(PgStore, AReadThatFailsMidwayThrowsAndLeavesTheConnectionUsable) {
  // load() streams the rows (single-row mode) and decodes them as they come.
  // A server error after thousands of rows have arrived must throw, naming
  // the cause, and leave the store's connection ready for the next read.
  const auto uri = fresh_database("midway");
  auto s = open_store(uri);
  const std::string base = "44444444-4444-4444-8444-444444444444";
  constexpr int rows = 6000;  // about three decoding chunks
  std::vector<notification> batch;
  for (int i = 0; i < rows; ++i) batch.push_back(numbered_note(base, i, 1795000000LL * 1000000 + i));
  s->write(batch);
  auto got = s->load(base);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) ASSERT_EQ(got[i].info["i"], i) << "id order";

  sql(uri, "ALTER TABLE data RENAME TO data_rows");
  sql(uri,
      "CREATE VIEW data AS SELECT id, timestamp, base_id, parent_id, trace_id, project, host, service, name,"
      " CASE WHEN id = 5000 THEN to_json(1 / (id - 5000)) ELSE data END AS data FROM data_rows");
  try {
    s->load(base);
    ADD_FAILURE() << "a failed read returned rows";
  } catch (const std::runtime_error& ex) {
    const std::string m = ex.what();
    EXPECT_NE(m.find("cannot read trace " + base), std::string::npos) << m;
    EXPECT_NE(m.find("division by zero"), std::string::npos) << m;
  }
  sql(uri, "DROP VIEW data");
  sql(uri, "ALTER TABLE data_rows RENAME TO data");
  EXPECT_EQ(s->load(base).size(), static_cast<std::size_t>(rows));
  EXPECT_EQ(s->list_traces().size(), 1u);
}

TEST_F(PgStore, DroppedTableIsRecreatedOnRetry) {
  const auto uri = fresh_database("dropped");
  auto s = open_store(uri);
  notification n;
  n.name = "x-start";
  n.base_id = n.parent_id = n.trace_id = "b";
  n.timestamp = "2026-11-21T16:14:41.833431";
  s->write({n});
  sql(uri, "DROP TABLE data");
  EXPECT_THROW(s->write({n}), collector_unavailable);
  s->write({n});
  EXPECT_EQ(sql(uri, "SELECT count(*) FROM data"), "1\n");
}

// A lock not granted in time (lock_timeout, here behind a session that
// holds the table, as a VACUUM FULL does) is a passing refusal: the batch
// is kept for a retry, not counted lost.
TEST_F(PgStore, ALockTimeoutIsRetriedNotLost) {
  const auto uri = fresh_database("locked");
  auto s = open_store(uri + "?options=-c%20lock_timeout%3D200");
  notification n;
  n.name = "x-start";
  n.base_id = n.parent_id = n.trace_id = "b";
  n.timestamp = "2026-11-21T16:14:41.833431";
  s->write({n});
  PGconn* holder = PQconnectdb(uri.c_str());
  ASSERT_EQ(PQstatus(holder), CONNECTION_OK);
  PQclear(PQexec(holder, "BEGIN"));
  PQclear(PQexec(holder, "LOCK TABLE data IN ACCESS EXCLUSIVE MODE"));
  try {
    s->write({n});
    ADD_FAILURE() << "the write went through a table locked by another session";
  } catch (const collector_unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("lock timeout"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "a lock timeout was taken for a permanent failure: " << e.what();
  }
  PQclear(PQexec(holder, "COMMIT"));
  PQfinish(holder);
  s->write({n});
  EXPECT_EQ(sql(uri, "SELECT count(*) FROM data"), "2\n");
}

// A reader that found no table yet looks again at every read; when the
// server has dropped its connection since, that look fails, and the reader
// says so instead of reading an empty store (the table may well be there).
TEST_F(PgStore, AReaderWhoseConnectionWasDroppedSaysSo) {
  const auto uri = fresh_database("dropped_reader");
  const auto db = uri.substr(uri.rfind('/') + 1);
  auto reader = open_store(uri, store_mode::read_only);
  ASSERT_TRUE(reader->load("b").empty());  // no table yet
  notification n;
  n.name = "x-start";
  n.base_id = n.parent_id = n.trace_id = "b";
  n.timestamp = "2026-11-21T16:14:41.833431";
  open_store(uri)->write({n});
  sql(pg_uri(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db +
                    "' AND application_name = 'osprofiler-collector'");
  EXPECT_THROW(reader->load("b"), std::runtime_error);
  EXPECT_EQ(reader->load("b").size(), 1u);  // on a new connection
}

TEST_F(PgStore, ServerRestartMidWorkloadLosesNothingUncounted) {
  const auto uri = fresh_database("restart");
  notifier::configure_queue(1 << 20, overflow_policy::drop);
  notifier::set(notifier::create(uri, {"proj", "restart", ""}));
  set_enabled(true);
  const auto before = notifier::stats();
  std::atomic<bool> stop{false};
  std::atomic<int> exceptions{0};
  std::atomic<long> points{0};
  std::thread app([&] {
    while (!stop.load()) {
      try {
        init("key");
        {
          trace request("request");
          for (int i = 0; i < 10; ++i) trace db("db", {{"db", {{"statement", "SELECT " + std::to_string(i)}}}});
        }
        clean();
        points += 11;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      } catch (...) {
        ++exceptions;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(pg_control("restart"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  app.join();
  EXPECT_TRUE(notifier::flush(std::chrono::seconds(120)));
  const auto after = notifier::stats();
  set_enabled(false);
  notifier::set(std::shared_ptr<collector>{});
  notifier::configure_queue(options{}.queue_size, overflow_policy::drop);

  EXPECT_EQ(exceptions.load(), 0);
  const auto recorded = after.recorded - before.recorded;
  const auto sent = after.sent - before.sent;
  const auto lost = (after.dropped - before.dropped) + (after.failed - before.failed);
  EXPECT_EQ(recorded, static_cast<std::uint64_t>(points.load()) * 2);
  EXPECT_EQ(sent + lost, recorded);
  EXPECT_GT(sent, 0u);
  // Every event delivered is in the store (a batch cut off by the restart
  // may have been committed and then retried: at least once).
  const auto rows = std::stoull(sql(uri, "SELECT count(*) FROM data WHERE service = 'restart'"));
  EXPECT_GE(rows, sent);
  EXPECT_LE(rows, recorded);
  const auto distinct = std::stoull(sql(uri, "SELECT count(DISTINCT (trace_id, name)) FROM data WHERE service = 'restart'"));
  EXPECT_EQ(distinct, sent);
}

}  // namespace
}  // namespace osprofiler::testing
