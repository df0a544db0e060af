// The sqlite:// store on real files: round trips through the notifier,
// connection strings, the default store, corrupt rows, error listings,
// several writer processes on one file.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "osprofiler/profiler.h"
#include "osprofiler/store.h"
#include "osprofiler/stores.h"
#include "store_test_util.h"
#include "test_support.h"

namespace osprofiler::testing {
namespace {

std::string uri_for(const std::filesystem::path& p) { return "sqlite:///" + p.string(); }

void exec(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  // The store's connection may still be closing on the notifier thread, and
  // closing the last WAL connection checkpoints under a lock: wait for it.
  sqlite3_busy_timeout(h, 10000);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql;
  sqlite3_free(err);
  sqlite3_close(h);
}

class SqliteStore : public ::testing::Test {
 protected:
  void SetUp() override { register_stores(); }
  std::filesystem::path dir = temp_dir("sqlite-store");
};

TEST_F(SqliteStore, RoundTripThroughTheNotifier) {
  const auto cs = uri_for(dir / "traces.db");
  ASSERT_EQ(cs.rfind("sqlite:////", 0), 0u);  // absolute form
  const auto base = record_sample_trace(notifier::create(cs, {"proj", "svc", "host-a"}));
  auto s = open_store(cs);
  const auto got = s->load(base);
  ASSERT_EQ(got.size(), 7u);  // request, 2 x db: start+stop; lost: start only
  std::multiset<std::string> names;
  for (const auto& n : got) {
    names.insert(n.name);
    EXPECT_EQ(n.base_id, base);
    EXPECT_EQ(n.project, "proj");
    EXPECT_EQ(n.service, "svc");
    EXPECT_EQ(n.host, "host-a");
    EXPECT_EQ(n.timestamp.size(), 26u);
    // The payload is what Python's driver keeps, {"info": ...}; its info
    // object has moved to n.info, a discarded value holding its place.
    ASSERT_TRUE(n.raw.is_object());
    EXPECT_EQ(n.raw.size(), 1u);
    EXPECT_TRUE(n.raw.at("info").is_discarded());
    EXPECT_TRUE(n.info.contains("host"));
  }
  EXPECT_EQ(names, (std::multiset<std::string>{"request-start", "request-stop", "db-start", "db-stop", "db-start",
                                               "db-stop", "lost-start"}));
  const auto report = s->get_report(base);
  ASSERT_EQ(report["children"].size(), 2u);  // request, lost
  const auto& request = report["children"][0];
  EXPECT_EQ(request["info"]["name"], "request");
  EXPECT_EQ(request["info"]["exception"], "None");
  ASSERT_EQ(request["children"].size(), 2u);
  EXPECT_EQ(request["children"][0]["info"]["meta.raw_payload.db-start"]["info"]["db"]["statement"], "SELECT 1");
  EXPECT_EQ(request["children"][0]["info"]["meta.raw_payload.db-stop"]["info"]["db"]["rows"], 1);
  EXPECT_EQ(request["children"][1]["info"]["exception"], "std::runtime_error");
  EXPECT_EQ(request["children"][1]["info"]["meta.raw_payload.db-start"]["info"]["db"]["statement"],
            "INSERT INTO t VALUES (\"\\\u00e9\")");
  const auto& lost = report["children"][1];
  EXPECT_EQ(lost["info"]["name"], "lost");
  EXPECT_EQ(lost["info"]["finished"], lost["info"]["started"]);
  EXPECT_FALSE(lost["info"].contains("exception"));
  EXPECT_EQ(report["stats"]["db"]["count"], 2);
  EXPECT_TRUE(s->load("00000000-0000-4000-8000-000000000000").empty());
}

// Batches are inserted 64 rows per statement run, the remainder row by row:
// every row keeps its own columns, whichever path it took.
TEST_F(SqliteStore, LargeBatchesKeepEveryRowsOwnColumns) {
  auto s = open_store(uri_for(dir / "t.db"));
  const std::string base = "33333333-3333-4333-8333-333333333333";
  std::vector<notification> batch;
  for (int i = 0; i < 64 * 2 + 5; ++i) {
    notification n;
    char id[40];
    std::snprintf(id, sizeof id, "33333333-3333-4333-8333-%012d", i);
    n.name = "p" + std::to_string(i) + "-start";
    n.base_id = base;
    n.parent_id = base;
    n.trace_id = id;
    n.timestamp = format_timestamp(1795000000LL * 1000000 + i);
    n.project = i % 2 ? "odd" : "";
    n.service = "svc" + std::to_string(i);
    n.host = "h" + std::to_string(i);
    n.info = {{"i", i}, {"host", n.host}};
    batch.push_back(n);
  }
  s->write(batch);
  const auto got = s->load(base);
  ASSERT_EQ(got.size(), batch.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& n = got[i];
    const int k = n.info.value("i", -1);
    ASSERT_GE(k, 0) << n.info.dump();
    const auto& want = batch[static_cast<std::size_t>(k)];
    EXPECT_EQ(n.name, want.name);
    EXPECT_EQ(n.trace_id, want.trace_id);
    EXPECT_EQ(n.timestamp, want.timestamp);
    EXPECT_EQ(n.project, want.project);
    EXPECT_EQ(n.service, want.service);
    EXPECT_EQ(n.host, want.host);
    EXPECT_EQ(i, static_cast<std::size_t>(k));  // loaded in timestamp order
  }
}

// Writes `batches` batches of 256 rows of about 16 KiB (4 MiB a batch) and
// returns the largest size the WAL reached after a batch.
std::uintmax_t write_large_batches(store& s, const std::filesystem::path& db, int first, int batches) {
  const std::string base = "44444444-4444-4444-8444-444444444444";
  const std::string pad(16 * 1024, 'x');
  constexpr int per_batch = 256;
  std::uintmax_t largest = 0;
  for (int b = first; b < first + batches; ++b) {
    std::vector<notification> batch;
    for (int i = 0; i < per_batch; ++i) {
      notification n;
      n.name = "p-start";
      n.base_id = n.parent_id = n.trace_id = base;
      n.timestamp = format_timestamp(1795000000LL * 1000000 + b * per_batch + i);
      n.info = {{"pad", pad}};
      batch.push_back(std::move(n));
    }
    s.write(batch);
    std::error_code ec;
    const auto size = std::filesystem::file_size(db.string() + "-wal", ec);
    if (!ec) largest = std::max(largest, size);
  }
  return largest;
}

// A pass starts at 16 MiB; the writer commits a few 4 MiB batches while it
// runs (30 MB seen). Without the writer's own copy of those, the WAL only
// started over once the writer had to wait for a pass, at 4 x 16 MiB (66 MB
// seen).
constexpr std::uintmax_t wal_limit = std::uintmax_t{56} << 20;

// The WAL is copied into the database on a thread of the store's own while
// the writer goes on committing. A pass never catches up with a steady
// writer by itself; the writer copies the frames it committed meanwhile, and
// the WAL starts over instead of growing with everything written.
TEST_F(SqliteStore, TheWalStaysBoundedUnderSteadyWriting) {
  const auto path = dir / "wal.db";
  auto s = open_store(uri_for(path));
  const std::uintmax_t largest = write_large_batches(*s, path, 0, 30);  // about 130 MiB
  EXPECT_LE(largest, wal_limit);
  EXPECT_GT(largest, 0u);
  EXPECT_EQ(s->load("44444444-4444-4444-8444-444444444444").size(), 30u * 256u);
}

// fork() right after the commit that starts a background pass. The child's
// own store on the same file must still be able to checkpoint: SQLite keeps
// its WAL locks' bookkeeping per process, and a child that inherited it in
// the middle of a pass would find the checkpoint lock taken forever, and
// its WAL would grow with everything it writes (128 MiB here). A child that
// checkpoints keeps it under 4 x 16 MiB plus a batch even on a loaded
// machine, where its passes are slow and the writer waits for them (a 56
// MiB limit, as for a steady writer above, failed once under a parallel
// build).
TEST_F(SqliteStore, AChildForkedDuringACheckpointCheckpointsItsOwnStore) {
#ifdef __SANITIZE_THREAD__
  GTEST_SKIP() << "ThreadSanitizer does not support starting threads after a multi-threaded fork";
#endif
  const auto path = dir / "fork.db";
  auto s = open_store(uri_for(path));
  write_large_batches(*s, path, 0, 4);  // 16 MiB: the pass starts at the fourth commit
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 3;
    try {
      auto mine = open_store(uri_for(path));
      code = write_large_batches(*mine, path, 100, 32) <= (std::uintmax_t{96} << 20) ? 0 : 1;
    } catch (...) {
      code = 2;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the child's WAL grew past the limit; 2: it failed to write";
}

TEST_F(SqliteStore, StoredDataIsTheTwiceEncodedPayload) {
  const auto db = dir / "t.db";
  auto s = open_store(uri_for(db));
  notification n;
  n.name = "db-start";
  n.base_id = n.parent_id = "11111111-1111-4111-8111-111111111111";
  n.trace_id = "22222222-2222-4222-8222-222222222222";
  n.timestamp = "2026-11-21T16:14:41.833431";
  n.host = "vm";
  n.info = {{"db", {{"statement", "SELECT 1"}, {"params", nlohmann::json::object()}}}, {"host", "vm"},
            {"tricky", "q\" b\\ nl\n ctl\x01 del\x7f \u00e9 bad\xff"}};
  s->write({n});
  n.info["tricky"] = "q\" b\\ nl\n ctl\x01 del\x7f \u00e9 bad\xef\xbf\xbd";  // invalid byte -> U+FFFD
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT data, project, host FROM data", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  const auto outer = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  ASSERT_TRUE(outer.is_string());  // a JSON string ...
  EXPECT_EQ(nlohmann::json::parse(outer.get<std::string>()), nlohmann::json({{"info", n.info}}));  // ... of the payload
  EXPECT_EQ(sqlite3_column_type(q, 1), SQLITE_NULL);  // unset project stays NULL, as in Python
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 2)), "vm");
  sqlite3_finalize(q);
  sqlite3_close(h);
}

TEST_F(SqliteStore, LoadKeepsInsertionOrderAndUnwrapsEveryEscape) {
  const auto db = dir / "t.db";
  auto s = open_store(uri_for(db));
  const std::string base = "11111111-1111-4111-8111-111111111111";
  std::vector<notification> batch;
  for (int i = 0; i < 5; ++i) {
    notification n;
    n.name = "p" + std::to_string(i) + "-start";
    n.base_id = n.parent_id = base;
    n.trace_id = "t" + std::to_string(i);
    n.timestamp = "2026-11-21T16:14:4" + std::to_string(5 - i) + ".000000";  // each earlier than the last
    n.info = {{"i", i}};
    batch.push_back(n);
  }
  s->write(batch);
  // Rows as other writers may store them: escapes of every kind inside the
  // payload, white space between its tokens, a \u escape at the outer level.
  const std::string cols = "INSERT INTO data (timestamp, base_id, parent_id, trace_id, name, data) VALUES ";
  const std::string ids = "'2026-11-21T16:14:40.000000', '" + base + "', '" + base + "'";
  exec(db, cols + "(" + ids + R"(, 'e1', 'e1-start', '"{\"info\":\n\t{\"s\": \"\\u00e9\\n\\ud83d\\ude00\\/\\t\"}\r}"'))");
  exec(db, cols + "(" + ids + R"(, 'e2', 'e2-start', '"{\"info\": {\"s\": \"\u0041\/\"}}"'))");
  exec(db, cols + "(" + ids + R"(, 'e3', 'e3-start', '"\"{}\""'))");  // three times encoded: not an object
  error_capture errors;
  const auto got = s->load(base);
  ASSERT_EQ(got.size(), 7u) << ::testing::PrintToString(errors.messages());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].name, "p" + std::to_string(i) + "-start");  // id order, not timestamp order
    EXPECT_EQ(got[i].info["i"], i);
  }
  EXPECT_EQ(got[5].info["s"], "\u00e9\n\U0001F600/\t");
  EXPECT_EQ(got[6].info["s"], "A/");
  ASSERT_EQ(errors.messages().size(), 1u);
  EXPECT_NE(errors.messages()[0].find("skipped 1 row(s)"), std::string::npos) << errors.messages()[0];
  EXPECT_NE(errors.messages()[0].find("not a JSON object"), std::string::npos) << errors.messages()[0];
  // The report shows each payload whole, info included; e1 and e2 started first.
  const auto report = s->get_report(base);
  ASSERT_EQ(report["children"].size(), 7u);
  EXPECT_EQ(report["children"][1]["info"]["meta.raw_payload.e2-start"], nlohmann::json({{"info", {{"s", "A/"}}}}));
}

TEST_F(SqliteStore, ALargeTraceIsDecodedOnTwoThreadsInIdOrder) {
  // load() decodes by chunks of 2,048 rows on two threads while it reads
  // (collectors/src/rows.cpp); order, content and skipped rows must not
  // depend on that.
  const auto db = dir / "t.db";
  auto s = open_store(uri_for(db));
  const std::string base = "33333333-3333-4333-8333-333333333333";
  constexpr int rows = 30000;
  std::vector<notification> batch;
  for (int i = 0; i < rows; ++i) {
    // Timestamps run backwards in blocks, so index order is not id order.
    batch.push_back(numbered_note(base, i, 1795000000LL * 1000000 + (rows - i / 1000 * 1000) * 10 + i % 1000));
    if (batch.size() == 5000) {
      s->write(batch);
      batch.clear();
    }
  }
  const std::string cols = "INSERT INTO data (timestamp, base_id, parent_id, trace_id, name, data) VALUES ";
  const std::string ids = "'2026-01-01T00:00:00.000000', '" + base + "', '" + base + "'";
  // Corrupt rows in both halves: id 30001 is read first (the earliest
  // timestamp), id 7 among the last (its block has the latest ones).
  exec(db, cols + "(" + ids + ", 'bad1', 'bad-start', 'not json')");
  exec(db, "UPDATE data SET data = 'not json either' WHERE id = 7");
  error_capture errors;
  const auto got = s->load(base);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(rows - 1));
  for (std::size_t k = 0, i = 0; k < got.size(); ++k, ++i) {
    if (i == 6) ++i;  // id 7 was spoiled
    ASSERT_EQ(got[k].info.value("i", -1), static_cast<int>(i)) << "at " << k;
    ASSERT_EQ(got[k].trace_id, "t" + std::to_string(i / 2));
  }
  ASSERT_EQ(errors.messages().size(), 1u);
  EXPECT_NE(errors.messages()[0].find("skipped 2 row(s)"), std::string::npos) << errors.messages()[0];
  EXPECT_NE(errors.messages()[0].find("first: id 30001"), std::string::npos) << errors.messages()[0];
  EXPECT_EQ(s->get_report(base)["children"].size(), static_cast<std::size_t>(rows / 2));
}

TEST_F(SqliteStore, RelativePathIsUnderTheWorkingDirectoryAndParentsAreCreated) {
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  {
    auto s = open_store("sqlite:///sub/dir/traces.db");
    EXPECT_TRUE(s->list_traces().empty());
  }
  std::filesystem::current_path(old);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "sub/dir/traces.db"));
}

TEST_F(SqliteStore, EmptyConnectionStringOpensTheEmbeddedDefault) {
  const auto home = dir / "home";
  ASSERT_EQ(setenv("OSPROFILER_HOME", home.c_str(), 1), 0);
  EXPECT_EQ(default_connection_string(), "sqlite:///" + home.string() + "/traces.db");
  const auto base = record_sample_trace(notifier::create(default_connection_string()));
  auto s = open_store("");
  unsetenv("OSPROFILER_HOME");
  EXPECT_TRUE(std::filesystem::is_regular_file(home / "traces.db"));
  ASSERT_EQ(s->list_traces().size(), 1u);
  EXPECT_EQ(s->list_traces()[0].base_id, base);
  // Python's list_traces(fields): the fields of each trace's first notification.
  const auto rows = s->list_traces({"base_id", "name", "parent_id", "timestamp"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["base_id"], base);
  EXPECT_EQ(rows[0]["name"], "request-start");
  EXPECT_EQ(rows[0]["parent_id"], base);
  EXPECT_EQ(rows[0]["timestamp"], s->list_traces()[0].timestamp);
  EXPECT_EQ(rows[0].size(), 4u);
  try {
    s->list_traces({"base_id", "data"});
    ADD_FAILURE() << "an unknown field was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown field 'data'"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteStore, BadStringsAndUnusablePathsNameTheConnectionString) {
  for (const std::string bad : {"sqlite://", "sqlite:///", "sqlite://host/x.db"}) {
    try {
      open_store(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& ex) {
      EXPECT_NE(std::string(ex.what()).find("'" + bad + "'"), std::string::npos) << ex.what();
      EXPECT_NE(std::string(ex.what()).find("sqlite:////absolute/path.db"), std::string::npos) << ex.what();
    }
  }
  std::ofstream(dir / "plain-file") << "x";
  const auto under_file = uri_for(dir / "plain-file/traces.db");
  try {
    open_store(under_file);
    ADD_FAILURE() << "a store below a regular file was opened";
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find(under_file), std::string::npos) << ex.what();
    EXPECT_NE(std::string(ex.what()).find("cannot create directory"), std::string::npos) << ex.what();
  }
  std::filesystem::create_directories(dir / "a-directory.db");
  const auto is_dir = uri_for(dir / "a-directory.db");
  try {
    notifier::create(is_dir);
    ADD_FAILURE() << "a directory was opened as a store";
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find(is_dir), std::string::npos) << ex.what();
  }
  // Not a database at all.
  std::ofstream(dir / "garbage.db") << std::string(4096, 'g');
  EXPECT_THROW(open_store(uri_for(dir / "garbage.db")), std::runtime_error);
}

TEST_F(SqliteStore, CorruptRowsAreSkippedAndReportedWithTheirId) {
  const auto db = dir / "t.db";
  const auto cs = uri_for(db);
  const auto base = record_sample_trace(notifier::create(cs));
  const std::string cols = "INSERT INTO data (timestamp, base_id, parent_id, trace_id, host, name, data) VALUES ";
  const std::string ids = "'2026-11-21T16:14:41.000001', '" + base + "', '" + base + "', 'x'";
  exec(db, cols + "(" + ids + ", 'h', 'bad-start', 'not json')");
  exec(db, cols + "(" + ids + ", 'h', 'bad-start', '\"{not json either\"')");
  exec(db, cols + "(" + ids + ", 'h', 'bad-start', '[1, 2]')");
  exec(db, cols + "(" + ids + ", 'h', NULL, '\"{}\"')");
  // A plain object (not twice encoded) is accepted.
  exec(db, cols + "('2026-11-21T16:14:41.000002', '" + base + "', '" + base +
               "', 'plain', 'h', 'plain-start', '{\"info\": {\"host\": \"h\", \"k\": 1}}')");
  error_capture errors;
  auto s = open_store(cs);
  const auto got = s->load(base);
  EXPECT_EQ(got.size(), 8u);
  EXPECT_EQ(got.back().name, "plain-start");
  EXPECT_EQ(got.back().info["k"], 1);
  ASSERT_EQ(errors.messages().size(), 1u);
  const auto m = errors.messages()[0];
  EXPECT_NE(m.find("skipped 4 row(s)"), std::string::npos) << m;
  EXPECT_NE(m.find("id 8: column data is not JSON"), std::string::npos) << m;
  EXPECT_NE(m.find(cs), std::string::npos) << m;
  EXPECT_EQ(s->get_report(base)["children"].size(), 3u);  // request, lost, plain
}

// A row another writer stored without repairing its UTF-8 is kept, with
// U+FFFD for the bad bytes, as the file store keeps such a line.
TEST_F(SqliteStore, ARowWithInvalidUtf8IsKeptWithReplacementCharacters) {
  const auto db = dir / "t.db";
  const auto cs = uri_for(db);
  const auto base = record_sample_trace(notifier::create(cs));
  // data = "{\"info\": {\"host\": \"h\", \"sql\": \"caf\xe9\"}}" (twice encoded, Latin-1 byte).
  exec(db, "INSERT INTO data (timestamp, base_id, parent_id, trace_id, host, name, data) VALUES "
           "('2026-11-21T16:14:41.000003', '" + base + "', '" + base + "', 'latin1', 'h', 'latin1-start', "
           "CAST(X'227B5C22696E666F5C223A207B5C22686F73745C223A205C22685C222C205C2273716C5C223A205C22636166E95C227D7D22' AS TEXT))");
  error_capture errors;
  auto s = open_store(cs);
  const auto got = s->load(base);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().name, "latin1-start");
  EXPECT_EQ(got.back().info.value("sql", ""), "caf\xef\xbf\xbd");
  EXPECT_TRUE(errors.messages().empty()) << errors.messages()[0];
}

// The calling thread tracing into the SQLite store at `path` through the
// notifier, while alive; p(n) records n points (2n notifications).
class tracing_into {
 public:
  explicit tracing_into(const std::filesystem::path& path) {
    options o;
    o.enabled = true;
    set_options(o);
    notifier::set(notifier::create(uri_for(path)));
    init("k");
    base = get()->base_id();
  }
  ~tracing_into() {
    notifier::set(std::shared_ptr<collector>{});
    set_options(options{});
    clean();
  }
  static void p(int n) {
    for (int i = 0; i < n; ++i) {
      start("p");
      stop();
    }
  }
  std::string base;
};

// Deleting the store file (to clear old traces, or by a cleanup job) while
// a process writes to it: the next batch makes a new file at that name
// instead of going on into the deleted one, and says so.
TEST_F(SqliteStore, ADeletedStoreFileIsMadeAnew) {
  const auto path = dir / "traces.db";
  error_capture errors;
  tracing_into t(path);
  const auto before = notifier::stats();
  t.p(2);
  ASSERT_TRUE(notifier::flush());
  // `rm traces.db`, as users do: the -wal and -shm files stay behind, and
  // must not be taken for the new file's.
  ASSERT_TRUE(std::filesystem::exists(path.string() + "-wal"));
  std::filesystem::remove(path);
  t.p(3);
  ASSERT_TRUE(notifier::flush());
  ASSERT_TRUE(std::filesystem::exists(path)) << "still writing into the deleted file";
  EXPECT_EQ(open_store(uri_for(path))->load(t.base).size(), 6u);
  // And once more, with all three files gone.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  t.p(1);
  ASSERT_TRUE(notifier::flush());
  EXPECT_EQ(open_store(uri_for(path))->load(t.base).size(), 2u);
  const auto messages = errors.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[0].find("was deleted or replaced"), std::string::npos) << messages[0];
  EXPECT_EQ(notifier::stats().failed, before.failed);
}

// When the new file cannot be made (a directory took the name), that batch
// fails and is counted; it is not retried forever. The next batch after the
// cause is gone goes to a new file.
TEST_F(SqliteStore, AStoreFileThatCannotBeMadeAnewFailsThatBatchOnly) {
  const auto path = dir / "traces.db";
  error_capture errors;
  tracing_into t(path);
  t.p(1);
  ASSERT_TRUE(notifier::flush());
  const auto before = notifier::stats();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  std::filesystem::create_directory(path);
  t.p(1);
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(20))) << "the batch is retried instead of failed";
  EXPECT_EQ(notifier::stats().failed - before.failed, 2u);
  std::filesystem::remove(path);
  t.p(1);
  ASSERT_TRUE(notifier::flush());
  EXPECT_EQ(notifier::stats().failed - before.failed, 2u);
  EXPECT_EQ(open_store(uri_for(path))->load(t.base).size(), 2u);
  bool named = false;
  for (const auto& e : errors.messages()) named = named || e.find(path.string()) != std::string::npos;
  EXPECT_TRUE(named) << "the error names the file";
}

// A store that cannot use WAL (here: a database without a file) works, and
// says that writers will wait for each other.
TEST_F(SqliteStore, AStoreThatCannotUseWalSaysSo) {
  std::vector<std::string> errors;
  notifier::set_error_handler([&](const std::string& m) { errors.push_back(m); });
  auto s = open_store("sqlite:///:memory:");
  notifier::set_error_handler(nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("not in WAL mode (journal_mode is 'memory')"), std::string::npos) << errors[0];
  notification n;
  n.name = "p-start";
  n.base_id = n.parent_id = n.trace_id = "00000000-0000-4000-8000-000000000001";
  n.timestamp = "2026-01-01T00:00:00.000000";
  s->write({n});
  s->write({n});
  EXPECT_EQ(s->load(n.base_id).size(), 2u) << "a store without a file is never taken for deleted";
}

TEST_F(SqliteStore, ListsTracesAndErrorTraces) {
  const auto cs = uri_for(dir / "t.db");
  auto s = open_store(cs);
  const auto failing = record_sample_trace(s);
  // A trace without errors, but with "etype" in a statement text.
  notifier::set(s);
  set_enabled(true);
  init("key");
  const std::string clean_base = get()->base_id();
  { trace t("db", {{"db", {{"statement", "SELECT etype FROM x"}}}}); }
  { trace t("db-stop-ish", {{"etype_like", "etype"}}); }
  clean();
  ASSERT_TRUE(notifier::flush());
  set_enabled(false);
  notifier::set(std::shared_ptr<collector>{});

  const auto all = s->list_traces();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].base_id, failing);  // oldest first
  EXPECT_EQ(all[1].base_id, clean_base);
  EXPECT_LE(all[0].timestamp, all[1].timestamp);
  const auto errors = s->list_error_traces();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].base_id, failing);
  EXPECT_EQ(errors[0].timestamp, all[0].timestamp);
}

TEST_F(SqliteStore, OverlongAndInvalidColumnValuesAreCleaned) {
  auto s = open_store(uri_for(dir / "t.db"));
  notification n;
  n.name = std::string(300, 'n') + "-start";
  n.base_id = n.parent_id = "11111111-1111-4111-8111-111111111111";
  n.trace_id = "bad\xff\x00utf8" + std::string(1, '\0');
  n.timestamp = "2026-11-21T16:14:41.833431";
  n.host = "h\xc3";
  s->write({n});
  const auto got = s->load(n.base_id);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, std::string(255, 'n'));
  EXPECT_EQ(got[0].trace_id, "bad\xef\xbf\xbd");
  EXPECT_EQ(got[0].host, "h\xef\xbf\xbd");
}

TEST_F(SqliteStore, TheStoresOwnWorkIsNeverTraced) {
  options o;
  o.trace_sql = o.trace_sql_params = true;
  tracing_scope scope(o);
  init("key");
  ASSERT_TRUE(active());
  {
    trace outer("app");
    auto s = open_store(uri_for(dir / "t.db"));
    notification n;
    n.name = "x-start";
    n.base_id = n.parent_id = n.trace_id = "11111111-1111-4111-8111-111111111111";
    n.timestamp = "2026-11-21T16:14:41.833431";
    s->write({n});
    EXPECT_EQ(s->load(n.base_id).size(), 1u);
    s->list_traces();
    s->list_error_traces();
  }
  const auto seen = scope.collect();
  ASSERT_EQ(seen.size(), 2u);  // only app-start and app-stop
  EXPECT_EQ(seen[0].name, "app-start");
  EXPECT_EQ(seen[1].name, "app-stop");
}

TEST_F(SqliteStore, TwoProcessesWriteOneFileAtOnce) {
  const auto cs = uri_for(dir / "shared.db");
  const std::string writer = STORES_WRITER;
  std::string out;
  const int rc = run("(" + writer + " '" + cs + "' 20 200 > " + (dir / "a.out").string() + ") & (" + writer + " '" + cs +
                         "' 20 200 > " + (dir / "b.out").string() + ") & wait %1 && wait %2",
                     &out);
  ASSERT_EQ(rc, 0) << out;
  std::vector<std::string> bases;
  for (const char* f : {"a.out", "b.out"}) {
    std::ifstream in(dir / f);
    std::string line, stats;
    while (std::getline(in, line)) {
      if (line.rfind("base=", 0) == 0) bases.push_back(line.substr(5));
      if (line.rfind("sent=", 0) == 0) stats = line;
    }
    EXPECT_EQ(stats, "sent=8040 dropped=0 failed=0") << f;  // 20 x (1 + 200) points x 2
  }
  ASSERT_EQ(bases.size(), 40u);
  auto s = open_store(cs);
  EXPECT_EQ(s->list_traces().size(), 40u);
  for (const auto& b : bases) {
    const auto report = s->get_report(b);
    ASSERT_EQ(report["children"].size(), 1u) << b;
    EXPECT_EQ(report["children"][0]["children"].size(), 200u) << b;
  }
}

TEST_F(SqliteStore, ATraceWrittenByTwoProcessesOnTwoHostsIsOneTree) {
  const auto cs = uri_for(dir / "shared.db");
  notifier::set(notifier::create(cs, {"front", "api", "host-a"}));
  set_enabled(true);
  init("key");
  const std::string base = get()->base_id();
  std::string out;
  {
    trace request("request");
    // The called service: another process, another host name.
    const std::string cmd = std::string(STORES_WRITER) + " '" + cs + "' 1 3 " + base + " " + get()->id();
    ASSERT_EQ(run(cmd, &out), 0) << out;
  }
  clean();
  ASSERT_TRUE(notifier::flush());
  set_enabled(false);
  notifier::set(std::shared_ptr<collector>{});
  const auto report = open_store(cs)->get_report(base);
  ASSERT_EQ(report["children"].size(), 1u) << report.dump(1);
  const auto& root = report["children"][0];
  EXPECT_EQ(root["info"]["host"], "host-a");
  ASSERT_EQ(root["children"].size(), 1u);
  const auto& called = root["children"][0];
  EXPECT_EQ(called["info"]["service"], "stores-test");
  EXPECT_EQ(called["info"]["host"], host_name());
  EXPECT_EQ(called["parent_id"], root["trace_id"]);
  EXPECT_EQ(called["children"].size(), 3u);
  EXPECT_EQ(report["stats"]["request"]["count"], 2);
}

}  // namespace
}  // namespace osprofiler::testing
