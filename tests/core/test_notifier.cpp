#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <set>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "osprofiler/db.h"
#include "osprofiler/profiler.h"
#include "osprofiler/store.h"
#include "test_support.h"

namespace op = osprofiler;
using op::testing::memory_collector;

namespace {

// Restores the notifier defaults after each test.
class notifier_test : public ::testing::Test {
 protected:
  void SetUp() override {
    op::options o;
    o.enabled = true;
    op::set_options(o);
    op::init("k");
  }
  void TearDown() override {
    op::notifier::flush(std::chrono::seconds(5));
    op::notifier::set(std::shared_ptr<op::collector>{});
    op::notifier::configure_queue(op::options{}.queue_size, op::overflow_policy::drop);
    op::notifier::set_error_handler(nullptr);
    op::set_options(op::options{});
    op::clean();
  }
  static void points(int n) {
    for (int i = 0; i < n; ++i) {
      op::start("p");
      op::stop();
    }
  }
};

// A collector that blocks every write until released.
class gate_collector : public memory_collector {
 public:
  void write(const std::vector<op::notification>& batch) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    memory_collector::write(batch);
  }
  void wait_entered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false, entered_ = false;
};

class throwing_collector : public op::collector {
 public:
  void write(const std::vector<op::notification>&) override { throw std::runtime_error("disk on fire"); }
};

// Unavailable for the first `outages` writes, then keeps everything.
class flaky_collector : public memory_collector {
 public:
  explicit flaky_collector(int outages) : outages_(outages) {}
  void write(const std::vector<op::notification>& batch) override {
    if (outages_-- > 0) throw op::collector_unavailable("server restarting");
    memory_collector::write(batch);
  }

 private:
  int outages_;
};

}  // namespace

TEST_F(notifier_test, python_style_callable_sink_gets_each_notification_as_json) {
  std::vector<nlohmann::json> got;
  std::mutex mu;
  op::notifier::set([&](const nlohmann::json& j) {
    std::lock_guard<std::mutex> lock(mu);
    got.push_back(j);
  });
  points(2);
  ASSERT_TRUE(op::notifier::flush());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0]["name"], "p-start");
  EXPECT_EQ(got[3]["name"], "p-stop");
}

TEST_F(notifier_test, unknown_or_malformed_connection_strings_are_named_in_the_error) {
  try {
    op::notifier::create("redis2://127.0.0.1:6379");
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("redis2"), std::string::npos) << m;
    EXPECT_NE(m.find("file://"), std::string::npos) << "lists the known schemes: " << m;
  }
  EXPECT_THROW(op::notifier::create("no-scheme-here"), std::invalid_argument);
  EXPECT_THROW(op::notifier::create("bad scheme://x"), std::invalid_argument);
  EXPECT_THROW(op::notifier::create("file://"), std::invalid_argument);
}

TEST_F(notifier_test, messages_never_show_a_password) {
  EXPECT_EQ(op::redact("postgresql://u:s3cret@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(op::redact("postgresql://u@h/db?password=s3cret&connect_timeout=2"),
            "postgresql://u@h/db?password=***&connect_timeout=2");
  EXPECT_EQ(op::redact("postgresql://u:a@h/db?sslmode=require&password=b"), "postgresql://u:***@h/db?sslmode=require&password=***");
  EXPECT_EQ(op::redact("postgresql://h/db?user=me"), "postgresql://h/db?user=me");
  // Passwords holding URI delimiters, and a percent-encoded parameter name
  // (libpq decodes both).
  EXPECT_EQ(op::redact("postgresql://u:p?w0rd@h:1/db"), "postgresql://u:***@h:1/db");
  EXPECT_EQ(op::redact("postgresql://u:p/w@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(op::redact("postgresql://u@h/db?passw%6Frd=secret&x=1"), "postgresql://u@h/db?passw%6Frd=***&x=1");
  EXPECT_EQ(op::redact("sqlite:////tmp/a@b:c.db"), "sqlite:////tmp/a@b:c.db");  // a path, not a user
  EXPECT_EQ(op::redact("no scheme"), "no scheme");
  // A library message that quotes part of the string (libpq's parse errors do).
  const std::string cs = "PostgreSQL://u:s3cret@h/db?password=t0psecret";
  EXPECT_EQ(op::redact_in("missing \"=\" after \"L://u:s3cret@h/db?password=t0psecret\"", cs),
            "missing \"=\" after \"L://u:***@h/db?password=***\"");
  EXPECT_EQ(op::redact_in("cannot open " + cs, cs), "cannot open PostgreSQL://u:***@h/db?password=***");
  // libpq's keyword/value strings, quoted values included.
  EXPECT_EQ(op::redact("host=db password=s3cret dbname=x"), "host=db password=*** dbname=x");
  EXPECT_EQ(op::redact("password = 'it\\'s a secret' user=u"), "password = '***' user=u");
  EXPECT_EQ(op::redact("user=password_owner dbname=password"), "user=password_owner dbname=password");
  // What libpq cannot parse, and so quotes: a blank in the password hides
  // up to the next key.
  EXPECT_EQ(op::redact("host=h password=correct horse dbname=x"), "host=h password=*** dbname=x");
  EXPECT_EQ(op::redact("password=\"correct horse\" user=u"), "password=\"***\" user=u");
  EXPECT_EQ(op::redact("password='it''s' user=u"), "password='***' user=u");
  EXPECT_EQ(op::redact("user='bob'password=s3cret"), "user='bob'password=***");
  EXPECT_EQ(op::redact("password=sec\\ ret host=h"), "password=*** host=h");
  EXPECT_EQ(op::redact("host=db password=ab://cd"), "host=db password=***");  // not a URI
  EXPECT_EQ(op::redact_in("missing \"=\" after \"horse\" in connection info string",
                          "host=h password=correct horse"),
            "missing \"=\" after \"***\" in connection info string");
  EXPECT_EQ(op::redact_in("invalid token \"s3cret\"", "host=h password=s3cret"), "invalid token \"***\"");
  // A unix-socket URI (empty host) still has its parameters, and an '@' in
  // one parameter's value does not hide the password after it.
  EXPECT_EQ(op::redact("postgresql:///osprofiler?host=/run/postgresql&password=s3cret"),
            "postgresql:///osprofiler?host=/run/postgresql&password=***");
  EXPECT_EQ(op::redact("postgresql://db.example/osprofiler?user=svc@corp&password=s3cret"),
            "postgresql://db.example/osprofiler?user=svc@corp&password=***");
  EXPECT_EQ(op::redact("postgresql://u:pw@h/db?sslpassword=k3y"), "postgresql://u:***@h/db?sslpassword=***");
  EXPECT_EQ(op::redact("host=h sslpassword=k3y sslkey=/k"), "host=h sslpassword=*** sslkey=/k");
  // A password that looks like a parameter is hidden once, whole.
  EXPECT_EQ(op::redact("postgresql://u:a&password=b@h/db"), "postgresql://u:***@h/db");
  // Malformed URIs keep their password out of the parse errors.
  for (const std::string bad : {"postgresql:/u:s3cret@h/db", "my sql://u:s3cret@h/db"}) {
    try {
      op::notifier::create(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("connection string"), std::string::npos) << e.what();
    }
  }
  // An unknown scheme (Python's mysql+pymysql://) names the scheme, not the password.
  try {
    op::notifier::create("mysql+pymysql://osprofiler:s3cret@db/osprofiler");
    ADD_FAILURE() << "mysql+pymysql:// was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mysql+pymysql"), std::string::npos) << e.what();
  }
}

TEST_F(notifier_test, file_collector_writes_json_lines_that_read_back) {
  const auto dir = op::testing::temp_dir("file");
  const std::string cs = "file://" + (dir / "trace.jsonl").string();
  op::notifier::set(op::notifier::create(cs, {"nova", "api", "host-a"}));
  const std::string base = op::get()->base_id();
  points(3);
  ASSERT_TRUE(op::notifier::flush());
  std::ifstream in(dir / "trace.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["project"], "nova");
    EXPECT_EQ(j["service"], "api");
    ++lines;
  }
  EXPECT_EQ(lines, 6);
  auto store = op::open_store(cs);
  auto loaded = store->load(base);
  ASSERT_EQ(loaded.size(), 6u);
  EXPECT_EQ(loaded[0].host, op::host_name());
  auto traces = store->list_traces();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].base_id, base);
  EXPECT_TRUE(store->list_error_traces().empty());
  const auto rows = store->list_traces({"base_id", "name", "project", "service"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], nlohmann::json({{"base_id", base}, {"name", "p-start"}, {"project", "nova"}, {"service", "api"}}));
  auto report = store->get_report(base);
  EXPECT_EQ(report["children"].size(), 3u);
  EXPECT_EQ(report["stats"]["p"]["count"], 3);
}

// A trace file as other writers may leave it: invalid UTF-8 in a string
// (kept, repaired to U+FFFD, not dropped), a torn last line (skipped and
// named), an error recorded on a start (not an error trace, as in the SQL
// stores) and one on a stop (an error trace). The writer also makes the
// file's directory, as the SQLite store does.
TEST_F(notifier_test, file_store_reads_what_other_writers_leave) {
  const auto dir = op::testing::temp_dir("file-read");
  const std::string path = (dir / "new" / "t.jsonl").string();
  op::notifier::set(op::notifier::create("file://" + path));
  points(1);
  ASSERT_TRUE(op::notifier::flush());
  ASSERT_EQ(op::notifier::stats().failed, 0u);
  op::notifier::set(std::shared_ptr<op::collector>{});
  auto line = [](const std::string& base, const std::string& name, const std::string& info) {
    return "{\"base_id\":\"" + base + "\",\"info\":" + info + ",\"name\":\"" + name +
           "\",\"parent_id\":\"" + base + "\",\"timestamp\":\"2026-11-22T10:00:00.000000\",\"trace_id\":\"t-" + name + "\"}\n";
  };
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << line("b1", "db-start", "{\"db\":{\"statement\":\"SELECT '\xff\xfe'\"}}")
        << line("b1", "db-stop", "{}")
        << line("b2", "rpc-start", "{\"etype\":\"ValueError\"}")
        << line("b2", "rpc-stop", "{}")
        << line("b3", "rpc-start", "{}")
        << line("b3", "rpc-stop", "{\"etype\":\"ValueError\",\"message\":\"no\"}")
        << "{\"base_id\":\"b3\",\"na";
  }
  std::vector<std::string> errors;
  op::notifier::set_error_handler([&](const std::string& m) { errors.push_back(m); });
  auto store = op::open_store("file://" + path);
  const auto b1 = store->load("b1");
  ASSERT_EQ(b1.size(), 2u);
  EXPECT_EQ(b1[0].info["db"]["statement"], "SELECT '\xEF\xBF\xBD\xEF\xBF\xBD'");
  const auto failed = store->list_error_traces();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].base_id, "b3");
  EXPECT_EQ(store->list_traces().size(), 4u);  // with the test's own trace
  op::notifier::set_error_handler(nullptr);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].find("skipped 1 line(s)"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("line 9"), std::string::npos) << errors[0];
  // A directory reads as nothing at all: an error that says what it is.
  try {
    op::open_store("file://" + dir.string())->list_traces();
    FAIL() << "a directory read as an empty trace file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Is a directory"), std::string::npos) << e.what();
  }
  // Opened read-only (as the CLI opens stores), it writes nothing, not even
  // the directory a write would make.
  const auto ro_path = dir / "ro" / "t.jsonl";
  auto ro = op::open_store("file://" + ro_path.string(), op::store_mode::read_only);
  EXPECT_THROW(ro->write({}), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "ro"));
}

namespace {
// A bare SQLite endpoint, and an "execute" call on it with its start held.
op::db::endpoint sqlite_endpoint() {
  op::db::endpoint ep;
  ep.system = "sqlite";
  return ep;
}
op::db::call held_call(const op::db::endpoint& ep) {
  op::db::call c(op::db::call::deferred{});
  c.begin_held(ep, "execute", nullptr);
  return c;
}

// Runs `burst` into a 64-slot queue while the worker is stuck inside a
// collector's write(), then lets it go. Returns the drops during the burst
// and checks that all `notifications` (2 before the burst, then the burst's)
// were counted once: sent, dropped or failed, and that sent arrived.
template <typename Burst>
std::uint64_t overflow_and_count(Burst&& burst, std::uint64_t notifications) {
  auto gate = std::make_shared<gate_collector>();
  op::notifier::configure_queue(64, op::overflow_policy::drop);
  op::notifier::set(gate);
  const auto before = op::notifier::stats();
  op::start("p");
  op::stop();
  gate->wait_entered();  // the worker is now stuck inside write()
  burst();
  const auto during = op::notifier::stats();
  gate->open();
  EXPECT_TRUE(op::notifier::flush());
  const auto after = op::notifier::stats();
  EXPECT_EQ(after.recorded - before.recorded, notifications);
  EXPECT_EQ(after.sent + after.dropped + after.failed - (before.sent + before.dropped + before.failed), notifications);
  EXPECT_EQ(gate->take().size(), after.sent - before.sent);
  return during.dropped - before.dropped;
}
}  // namespace

TEST_F(notifier_test, full_queue_drops_and_counts_and_never_blocks_the_caller) {
  // 1000 events into a 64-slot queue.
  const auto dropped = overflow_and_count([] { points(500); }, 1002u);
  EXPECT_GE(dropped, 1000u - 64u);
}

// A service that reloads its config reconfigures the queue each time: going
// back to a capacity used before takes that queue again instead of making
// another (40 switches between two sizes used to cost 170 MB).
TEST_F(notifier_test, reconfiguring_the_queue_back_and_forth_does_not_grow_memory) {
  auto resident_mb = [] {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
  };
  op::notifier::configure_queue(16384, op::overflow_policy::drop);
  op::notifier::configure_queue(32768, op::overflow_policy::drop);
  const double before = resident_mb();
  for (int i = 0; i < 40; ++i) {
    op::notifier::configure_queue(i % 2 ? 32768 : 16384, op::overflow_policy::drop);
    points(10);
  }
  ASSERT_TRUE(op::notifier::flush());
  EXPECT_LT(resident_mb() - before, 20.0);
}

// Counts the notifications of point "p" (the test's own) among others.
class p_counter : public op::collector {
 public:
  void write(const std::vector<op::notification>& batch) override {
    for (const auto& n : batch) mine_ += n.name.rfind("p-", 0) == 0;
  }
  int mine() const { return mine_.load(); }

 private:
  std::atomic<int> mine_{0};
};

// While another thread keeps the notifier busy: flush() finishes once what
// was recorded before it is delivered (it used to wait for an empty queue,
// which never came), and events recorded after set() go to the new collector
// (the notifier thread used to read the collector before taking events, so
// such an event could go to the one set() had replaced).
TEST_F(notifier_test, flush_and_set_take_effect_while_other_threads_record) {
  op::notifier::configure_queue(4096, op::overflow_policy::block);
  std::atomic<bool> done{false};
  std::thread noise([&] {
    op::init("k");
    while (!done.load()) {
      op::start("noise");
      op::stop();
    }
    op::clean();
  });
  int unflushed = 0, misdelivered = 0;
  for (int round = 0; round < 200 && unflushed == 0; ++round) {
    auto counter = std::make_shared<p_counter>();
    op::notifier::set(counter);
    points(1);
    unflushed += !op::notifier::flush(std::chrono::seconds(2));
    misdelivered += counter->mine() != 2;
  }
  done = true;
  noise.join();
  EXPECT_EQ(unflushed, 0);
  EXPECT_EQ(misdelivered, 0);
}

TEST_F(notifier_test, block_policy_loses_nothing) {
  auto gate = std::make_shared<gate_collector>();
  op::notifier::configure_queue(16, op::overflow_policy::block);
  op::notifier::set(gate);
  const auto before = op::notifier::stats();
  std::thread opener([&] {
    gate->wait_entered();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate->open();
  });
  points(200);
  opener.join();
  ASSERT_TRUE(op::notifier::flush());
  const auto after = op::notifier::stats();
  EXPECT_EQ(after.dropped, before.dropped);
  EXPECT_EQ(gate->take().size(), 400u);
}

TEST_F(notifier_test, failing_collector_is_counted_and_reported_never_thrown) {
  std::vector<std::string> errors;
  std::mutex mu;
  op::notifier::set_error_handler([&](const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(m);
  });
  op::notifier::set(std::make_shared<throwing_collector>());
  const auto before = op::notifier::stats();
  EXPECT_NO_THROW(points(10));
  ASSERT_TRUE(op::notifier::flush());
  const auto after = op::notifier::stats();
  EXPECT_EQ(after.failed - before.failed, 20u);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].find("disk on fire"), std::string::npos);
  EXPECT_LE(errors.size(), 6u) << "rate-limited";
}

TEST_F(notifier_test, unavailable_collector_is_retried_until_it_takes_the_batch) {
  op::notifier::set_error_handler([](const std::string&) {});
  auto flaky = std::make_shared<flaky_collector>(3);
  op::notifier::set(flaky);
  const auto before = op::notifier::stats();
  points(5);
  ASSERT_TRUE(op::notifier::flush(std::chrono::seconds(10)));
  const auto after = op::notifier::stats();
  EXPECT_EQ(after.sent - before.sent, 10u);
  EXPECT_EQ(after.failed, before.failed);
  EXPECT_EQ(flaky->take().size(), 10u);
}

TEST_F(notifier_test, file_collector_on_a_full_disk_counts_failures) {
  op::notifier::set_error_handler([](const std::string&) {});
  op::notifier::set(op::notifier::create("file:///dev/full"));
  const auto before = op::notifier::stats();
  EXPECT_NO_THROW(points(5));
  ASSERT_TRUE(op::notifier::flush());
  EXPECT_EQ(op::notifier::stats().failed - before.failed, 10u);
}

TEST_F(notifier_test, file_collector_on_an_unwritable_path_counts_failures) {
  op::notifier::set_error_handler([](const std::string&) {});
  // (Under a file, so that not even root can make the directory.)
  op::notifier::set(op::notifier::create("file:///dev/null/x/trace.jsonl"));
  const auto before = op::notifier::stats();
  EXPECT_NO_THROW(points(2));
  ASSERT_TRUE(op::notifier::flush());
  EXPECT_EQ(op::notifier::stats().failed - before.failed, 4u);
}

TEST_F(notifier_test, no_collector_counts_events_as_dropped) {
  const auto before = op::notifier::stats();
  points(3);
  ASSERT_TRUE(op::notifier::flush());
  const auto after = op::notifier::stats();
  EXPECT_EQ(after.dropped - before.dropped, 6u);
  EXPECT_EQ(after.recorded - before.recorded, 6u);
}

namespace {
// A trace file's line: the start of point "t" in trace "b".
constexpr const char* a_start_line =
    R"({"name":"a-start","base_id":"b","trace_id":"t","parent_id":"b","timestamp":"2026-01-01T00:00:00.000000","info":{}})";

// Writes `text` as the trace file at `path`.
void write_file(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }
}  // namespace

TEST_F(notifier_test, corrupt_lines_in_a_trace_file_are_skipped_and_reported) {
  const auto dir = op::testing::temp_dir("corrupt");
  const auto path = dir / "t.jsonl";
  {
    std::ofstream out(path);
    out << a_start_line
        << "\n{not json\n"
        << R"({"name":"a-stop","base_id":"b","trace_id":"t","parent_id":"b","timestamp":"2026-01-01T00:00:00.005000","info":{}})"
        << "\n";
  }
  std::vector<std::string> errors;
  op::notifier::set_error_handler([&](const std::string& m) { errors.push_back(m); });
  auto loaded = op::open_store("file://" + path.string())->load("b");
  EXPECT_EQ(loaded.size(), 2u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("line 2"), std::string::npos) << errors[0];
}

// A line cut short (full disk, crash mid-write) is one bad line: the next
// write starts on a line of its own instead of completing it.
TEST_F(notifier_test, a_torn_last_line_in_a_trace_file_spoils_nothing_after_it) {
  const auto dir = op::testing::temp_dir("torn");
  const auto path = dir / "t.jsonl";
  write_file(path, std::string(a_start_line) + "\n" + R"({"name":"a-stop","base_id":"b","trace_id":"t","par)");
  op::notifier::set(op::notifier::create("file://" + path.string()));
  const auto base = op::get()->base_id();
  points(2);
  ASSERT_TRUE(op::notifier::flush());
  std::vector<std::string> errors;
  op::notifier::set_error_handler([&](const std::string& m) { errors.push_back(m); });
  auto store = op::open_store("file://" + path.string(), op::store_mode::read_only);
  EXPECT_EQ(store->load("b").size(), 1u);
  EXPECT_EQ(store->load(base).size(), 4u) << "the first new line was not glued to the torn one";
  ASSERT_EQ(errors.size(), 2u);  // once per load
  EXPECT_NE(errors[0].find("skipped 1 line(s)"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("line 2"), std::string::npos) << errors[0];
}

// Log rotation: a trace file renamed or deleted while the process writes to
// it is noticed at the next batch, which goes to a new file of that name.
TEST_F(notifier_test, a_rotated_or_deleted_trace_file_is_opened_anew) {
  const auto dir = op::testing::temp_dir("rotate");
  const auto path = dir / "t.jsonl";
  op::notifier::set(op::notifier::create("file://" + path.string()));
  const auto base = op::get()->base_id();
  auto count = [&](const std::filesystem::path& p) {
    return op::open_store("file://" + p.string(), op::store_mode::read_only)->load(base).size();
  };
  points(1);
  ASSERT_TRUE(op::notifier::flush());
  std::filesystem::rename(path, dir / "t.jsonl.1");
  points(2);
  ASSERT_TRUE(op::notifier::flush());
  ASSERT_TRUE(std::filesystem::exists(path)) << "still writing into the renamed file";
  EXPECT_EQ(count(dir / "t.jsonl.1"), 2u);
  EXPECT_EQ(count(path), 4u);
  std::filesystem::remove(path);
  points(3);
  ASSERT_TRUE(op::notifier::flush());
  ASSERT_TRUE(std::filesystem::exists(path)) << "still writing into the deleted file";
  EXPECT_EQ(count(path), 6u);
}

// A relative file:// path means the working directory at the first write:
// a later chdir() (as daemons do) does not move the store.
TEST_F(notifier_test, a_relative_trace_file_stays_put_when_the_process_changes_directory) {
  const auto dir = op::testing::temp_dir("chdir");
  std::filesystem::create_directories(dir / "elsewhere");
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  op::notifier::set(op::notifier::create("file://rel/t.jsonl"));
  const auto base = op::get()->base_id();
  points(1);
  ASSERT_TRUE(op::notifier::flush());
  std::filesystem::current_path(dir / "elsewhere");
  points(1);
  ASSERT_TRUE(op::notifier::flush());
  std::filesystem::current_path(previous);
  EXPECT_FALSE(std::filesystem::exists(dir / "elsewhere" / "rel")) << "a second file under the new directory";
  const auto store = op::open_store("file://" + (dir / "rel" / "t.jsonl").string(), op::store_mode::read_only);
  EXPECT_EQ(store->load(base).size(), 4u);
}

TEST_F(notifier_test, invalid_utf8_in_info_still_serialises) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  op::start("db", {{"db", {{"statement", std::string("SELECT '\xff\xfe'")}}}});
  op::stop();
  ASSERT_TRUE(op::notifier::flush());
  auto all = sink->take();
  ASSERT_EQ(all.size(), 2u);
  const std::string text = op::dump_json(all[0].to_json());
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos) << "bad bytes become U+FFFD";
  EXPECT_NO_THROW(nlohmann::json::parse(text));
}

namespace {

// Throws on anything but valid JSON text, and on an object with a member
// twice (which parsers resolve differently).
nlohmann::json parse_without_duplicate_keys(std::string_view text) {
  std::vector<std::set<std::string>> seen;
  return nlohmann::json::parse(text, [&](int, nlohmann::json::parse_event_t event, nlohmann::json& value) {
    using e = nlohmann::json::parse_event_t;
    if (event == e::object_start) seen.emplace_back();
    if (event == e::object_end) seen.pop_back();
    if (event == e::key && !seen.back().insert(value.get<std::string>()).second) {
      throw std::runtime_error("member " + value.dump() + " twice in " + std::string(text));
    }
    return true;
  });
}

// Keeps what the notifier hands a text_collector, as notifications again.
class text_memory_collector : public op::text_collector {
 public:
  void write_text(const std::vector<op::notification_view>& batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& v : batch) {
      op::notification n;
      n.name = v.name;
      n.base_id = v.base_id;
      n.parent_id = v.parent_id;
      n.trace_id = v.trace_id;
      n.timestamp = v.timestamp;
      n.project = v.project;
      n.service = v.service;
      n.host = v.host;
      n.info = parse_without_duplicate_keys(v.info_json);
      kept_.push_back(std::move(n));
    }
  }
  std::vector<op::notification> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(kept_);
  }

 private:
  std::mutex mu_;
  std::vector<op::notification> kept_;
};

// Every way a notification's info is put together: the caller's info (with
// a "host" of its own, quotes, control and invalid UTF-8 bytes), db::call
// fields merged with the caller's "db" (params on start, extra fields and
// failures on stop), endpoint attributes overriding the fixed fields, stops
// with and without rows, odd point names.
void varied_points() {
  op::start("wsgi", {{"request", {{"path", "/v2/\"servers\"\n"}, {"bytes", "\xff\x01ok"}}}, {"host", "spoofed"}});
  op::db::endpoint ep;
  ep.system = "postgresql";
  ep.ns = op::db::intern(std::string_view("nova"));
  ep.attributes = op::db::intern(nlohmann::json{{"server.port", 5432}, {"system", "cockroach"}});
  {
    op::db::call c(ep, "execute", op::db::make_text("SELECT \"a\\b\" FROM t WHERE x = '\xfe'\n"));
    c.rows(3);
  }
  {
    op::db::call c(op::db::call::deferred{});
    c.begin(ep, "execute", op::db::make_text("INSERT INTO t VALUES (?)"), nlohmann::json::array({1, "two", nullptr}));
    c.stop_attribute("batch", 2);
    c.fail("IntegrityError", "duplicate \"key\"", {{"sqlstate", "23505"}, {"rows", "ignored"}});
  }
  op::db::endpoint bare;
  bare.system = "sqlite";
  { op::db::call c(bare, "commit"); }
  // Held starts (one queue slot for start and stop): with rows, failed, and
  // sent early.
  {
    op::db::call c(op::db::call::deferred{});
    c.begin_held(ep, "execute", op::db::make_text("SELECT held"));
    c.rows(7);
  }
  {
    op::db::call c(op::db::call::deferred{});
    c.begin_held(bare, "execute", nullptr);
    c.fail("OperationalError", "database is locked", {{"code", 5}});
  }
  {
    op::db::call c(op::db::call::deferred{});
    c.begin_held(ep, "execute", op::db::make_text("SELECT early"));
    c.send_start();
    c.end_here();
    c.rows(1);
  }
  op::start("we\"ird\\name", {{"db", "not an object"}, {"n", 1.5}, {"list", {1, {{"k", "v"}}}}});
  op::stop({{"etype", "ValueError"}, {"host", 7}});
  op::stop();
}

}  // namespace

// A queue slot keeps its last event until a producer reuses it, and is reset
// then (mpsc_queue.h, recycle()): nothing of the event before may show in
// the next one. Four slots, reused by every kind of point in turn, must give
// what fresh slots give.
TEST_F(notifier_test, a_reused_queue_slot_carries_nothing_of_its_last_event) {
  // Both delivery paths: a collector of notifications (which takes the info
  // out of the slot) and a text collector (which only reads the slot).
  auto run = [](std::size_t slots, auto sink) {
    op::notifier::configure_queue(slots, op::overflow_policy::block);
    op::notifier::set(sink);
    for (int i = 0; i < 5; ++i) varied_points();
    EXPECT_TRUE(op::notifier::flush());
    std::vector<std::string> seen;
    for (const auto& n : sink->take()) {
      seen.push_back(n.name + " " + n.info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return seen;
  };
  const auto fresh = run(4096, std::make_shared<memory_collector>());
  ASSERT_EQ(fresh.size(), 5u * 16u);
  EXPECT_EQ(run(4, std::make_shared<memory_collector>()), fresh);
  const auto fresh_text = run(4096, std::make_shared<text_memory_collector>());
  ASSERT_EQ(fresh_text.size(), 5u * 16u);
  EXPECT_EQ(run(4, std::make_shared<text_memory_collector>()), fresh_text);
}

// A queue replaced by configure_queue() while it still delivers gets no new
// events, so nothing would ever reset its slots: it empties each as it
// delivers it.
TEST_F(notifier_test, a_replaced_queue_lets_go_of_what_it_delivers) {
  op::options o;
  o.enabled = true;
  o.trace_sql = true;
  op::set_options(o);
  auto gate = std::make_shared<gate_collector>();
  op::notifier::configure_queue(64, op::overflow_policy::drop);
  op::notifier::set(gate);
  const auto statement = op::db::make_text("SELECT 1");
  op::db::endpoint ep;
  ep.system = "sqlite";
  { op::db::call c(ep, "execute", statement); }
  gate->wait_entered();  // the worker holds the start, in the 64-slot queue
  op::notifier::configure_queue(128, op::overflow_policy::drop);
  gate->open();
  ASSERT_TRUE(op::notifier::flush());
  ASSERT_EQ(gate->take().size(), 2u);
  EXPECT_EQ(statement.use_count(), 1) << "a slot of the replaced queue still holds the statement";
}

// Stores get text straight from the queued events (notification_view); it
// must say exactly what the notifications other collectors get say.
TEST_F(notifier_test, text_collectors_get_the_same_notifications_as_other_collectors) {
  op::options o;
  o.enabled = true;
  o.trace_sql = true;
  o.trace_sql_params = true;
  op::set_options(o);
  auto run = [](std::shared_ptr<op::collector> c) {
    c->set_identity("nova", "api \"v2\"", "");
    op::notifier::set(c);
    op::init("k");
    varied_points();
    op::clean();
    EXPECT_TRUE(op::notifier::flush());
    op::notifier::set(std::shared_ptr<op::collector>{});
  };
  auto objects = std::make_shared<memory_collector>();
  auto texts = std::make_shared<text_memory_collector>();
  run(objects);
  run(texts);
  const auto expected = objects->take();
  const auto got = texts->take();
  ASSERT_EQ(got.size(), expected.size());
  ASSERT_EQ(got.size(), 16u);
  // Ids differ between the runs; the same id must map to the same id.
  std::map<std::string, std::string> id_map;
  auto same_id = [&](const std::string& a, const std::string& b) {
    EXPECT_TRUE(op::is_uuid_like(b)) << b;
    auto [it, fresh] = id_map.emplace(a, b);
    EXPECT_EQ(it->second, b);
  };
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(got[i].name, expected[i].name);
    // As text, invalid UTF-8 has become U+FFFD, as dump_json() writes it.
    EXPECT_EQ(got[i].info, nlohmann::json::parse(op::dump_json(expected[i].info)));
    EXPECT_EQ(got[i].project, "nova");
    EXPECT_EQ(got[i].service, "api \"v2\"");
    EXPECT_EQ(got[i].host, expected[i].host);
    EXPECT_EQ(got[i].host, op::host_name());
    EXPECT_TRUE(op::parse_timestamp(got[i].timestamp).has_value()) << got[i].timestamp;
    same_id(expected[i].base_id, got[i].base_id);
    same_id(expected[i].parent_id, got[i].parent_id);
    same_id(expected[i].trace_id, got[i].trace_id);
  }
  // Spot checks that the merge itself is what the docs say.
  EXPECT_EQ(got[0].info["host"], op::host_name());
  EXPECT_EQ(got[1].info["db"]["system"], "cockroach");
  EXPECT_EQ(got[1].info["db"]["server.port"], 5432);
  EXPECT_EQ(got[2].info["db"]["rows"], 3);
  EXPECT_EQ(got[3].info["db"]["params"], nlohmann::json::array({1, "two", nullptr}));
  EXPECT_EQ(got[4].info["db"]["sqlstate"], "23505");
  EXPECT_EQ(got[4].info["db"]["batch"], 2);
  EXPECT_FALSE(got[6].info.contains("db")) << "a stop without rows or fields has no db member";
  // Held starts: two notifications from one slot, the start first.
  EXPECT_EQ(got[7].name, "db-start");
  EXPECT_EQ(got[7].info["db"]["statement"], "SELECT held");
  EXPECT_EQ(got[7].info["db"]["system"], "cockroach");
  EXPECT_EQ(got[8].name, "db-stop");
  EXPECT_EQ(got[8].info["db"], (nlohmann::json{{"rows", 7}}));
  EXPECT_EQ(got[7].trace_id, got[8].trace_id);
  EXPECT_LE(got[7].timestamp, got[8].timestamp);
  EXPECT_EQ(got[9].info["db"], (nlohmann::json{{"system", "sqlite"}, {"api", "execute"}}));
  EXPECT_FALSE(got[9].info.contains("etype")) << "the failure belongs to the stop";
  EXPECT_EQ(got[10].info["etype"], "OperationalError");
  EXPECT_EQ(got[10].info["db"]["code"], 5);
  EXPECT_EQ(got[11].info["db"]["statement"], "SELECT early");
  EXPECT_EQ(got[12].info["db"]["rows"], 1);
  EXPECT_EQ(got[13].name, "we\"ird\\name-start");
  EXPECT_EQ(got[13].info["db"], "not an object");
}

// A held start (db::call::begin_held) leaves the calling thread with the
// stop, in one queue slot; everything downstream sees two notifications.
TEST_F(notifier_test, a_held_start_goes_out_with_its_stop_and_counts_as_two) {
  op::options o;
  o.enabled = true;
  o.trace_sql = true;
  op::set_options(o);
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  op::db::endpoint ep;
  ep.system = "sqlite";
  ep.ns = op::db::intern(std::string_view("app.db"));
  const auto before = op::notifier::stats();
  const auto base = op::get()->base_id();
  std::vector<op::notification> early;
  {
    op::db::call c(op::db::call::deferred{});
    c.begin_held(ep, "execute", op::db::make_text("SELECT 1"));
    ASSERT_TRUE(c.start_held());
    EXPECT_EQ(op::get()->depth(), 0u) << "off the trace stack until its work reads it";
    {
      // Its work (a SQLite step): a point started there, by a user function
      // SQLite calls, puts the call on the stack first, as its parent.
      const op::detail::held_work work(&c);
      op::start("nested");
      EXPECT_EQ(op::get()->depth(), 2u);
      op::stop();
    }
    EXPECT_EQ(op::get()->depth(), 1u) << "on the stack since its work read it";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(op::notifier::flush());
    early = sink->take();
    ASSERT_EQ(early.size(), 2u) << "only the nested point: the start is still held";
    EXPECT_EQ(early[0].name, "nested-start");
    c.rows(1);
  }
  ASSERT_TRUE(op::notifier::flush());
  const auto got = sink->take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(early[0].parent_id, got[0].trace_id) << "the held call is the nested point's parent";
  EXPECT_EQ(got[0].name, "db-start");
  EXPECT_EQ(got[1].name, "db-stop");
  EXPECT_EQ(got[0].base_id, base);
  EXPECT_EQ(got[0].parent_id, base);
  EXPECT_EQ(got[1].parent_id, base);
  EXPECT_EQ(got[0].trace_id, got[1].trace_id);
  EXPECT_EQ(got[0].info["db"]["statement"], "SELECT 1");
  EXPECT_EQ(got[0].info["db"]["namespace"], "app.db");
  EXPECT_EQ(got[1].info["db"]["rows"], 1);
  const auto start_us = *op::parse_timestamp(got[0].timestamp);
  const auto stop_us = *op::parse_timestamp(got[1].timestamp);
  EXPECT_GE(stop_us - start_us, 2000) << "the start keeps the time it was taken, not the time it was sent";
  const auto after = op::notifier::stats();
  EXPECT_EQ(after.recorded - before.recorded, 4u);
  EXPECT_EQ(after.sent - before.sent, 4u);
  EXPECT_EQ(after.queued(), 0u);
  EXPECT_EQ(op::get()->depth(), 0u);
}

// A call that turns out to be long sends its start at once (SQLite's
// progress handler does this for a statement still running); the stop
// follows alone.
TEST_F(notifier_test, a_held_start_sent_early_shows_while_the_call_runs) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  const auto ep = sqlite_endpoint();
  auto c = held_call(ep);
  c.send_start_after(std::chrono::hours(1));
  EXPECT_TRUE(c.start_held()) << "not that old yet";
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  c.send_start_after(std::chrono::milliseconds(2));
  EXPECT_FALSE(c.start_held());
  ASSERT_TRUE(op::notifier::flush());
  auto got = sink->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, "db-start");
  const std::string id = got[0].trace_id;
  EXPECT_NE(id, "00000000-0000-0000-0000-000000000000");
  c.send_start();  // nothing more to send
  c.finish();
  ASSERT_TRUE(op::notifier::flush());
  got = sink->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, "db-stop");
  EXPECT_EQ(got[0].trace_id, id);
}

// A held call keeps its statement text from run to run (so that the same
// text costs no reference count update); a run made while trace_sql is off
// still has none.
TEST_F(notifier_test, a_held_run_has_statement_text_only_while_trace_sql_is_on) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  op::options o;
  o.enabled = true;
  o.trace_sql = true;
  op::set_options(o);
  const auto ep = sqlite_endpoint();
  const auto text = op::db::make_text("SELECT 1");
  op::db::call c(op::db::call::deferred{});
  c.begin_held(ep, "execute", text);
  c.finish();
  o.trace_sql = false;
  op::set_options(o);
  c.begin_held(ep, "execute", text);
  c.finish();
  ASSERT_TRUE(op::notifier::flush());
  const auto got = sink->take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].info["db"]["statement"], "SELECT 1");
  EXPECT_FALSE(got[2].info["db"].contains("statement")) << got[2].info.dump();
}

// A slot reused by a run keeps the statement text it holds when the run has
// the same text, takes the new text, or clears it when the run has none:
// two slots, used in turn.
TEST_F(notifier_test, a_reused_slot_keeps_takes_or_clears_statement_text) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::configure_queue(2, op::overflow_policy::block);
  op::notifier::set(sink);
  const auto ep = sqlite_endpoint();
  const auto one = op::db::make_text("SELECT 1");
  const auto two = op::db::make_text("SELECT 2");
  op::db::call c(op::db::call::deferred{});
  const std::vector<std::pair<bool, op::db::shared_text>> runs{
      {true, one}, {false, one}, {false, one}, {true, one}, {true, two}, {true, one}, {true, one}};
  const std::vector<std::string> expected{"SELECT 1", "", "", "SELECT 1", "SELECT 2", "SELECT 1", "SELECT 1"};
  std::vector<std::string> got;
  for (const auto& [sql, text] : runs) {
    op::options o;
    o.enabled = true;
    o.trace_sql = sql;
    op::set_options(o);
    c.begin_held(ep, "execute", text);
    c.finish();
    ASSERT_TRUE(op::notifier::flush());
    const auto ns = sink->take();
    ASSERT_EQ(ns.size(), 2u);
    got.push_back(ns[0].info["db"].value("statement", ""));
  }
  EXPECT_EQ(got, expected);
}

// A held start sent early has the name the call began with, as its stop has,
// even if the endpoint was renamed meanwhile.
TEST_F(notifier_test, a_held_start_sent_early_keeps_the_name_it_began_with) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  auto ep = sqlite_endpoint();
  ep.point_name = op::db::intern("before");
  auto c = held_call(ep);
  ep.point_name = op::db::intern("after");
  c.send_start();
  c.finish();
  ASSERT_TRUE(op::notifier::flush());
  const auto got = sink->take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].name, "before-start");
  EXPECT_EQ(got[1].name, "before-stop");
}

// A held call that nothing asked the id of gets it on the notifier thread:
// a fresh one per call, shared by its start and stop.
TEST_F(notifier_test, a_held_pair_gets_a_fresh_id_shared_by_its_start_and_stop) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  const auto ep = sqlite_endpoint();
  for (int i = 0; i < 3; ++i) held_call(ep).finish();
  ASSERT_TRUE(op::notifier::flush());
  const auto got = sink->take();
  ASSERT_EQ(got.size(), 6u);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < got.size(); i += 2) {
    EXPECT_EQ(got[i].name, "db-start");
    EXPECT_EQ(got[i + 1].name, "db-stop");
    EXPECT_EQ(got[i].trace_id, got[i + 1].trace_id);
    EXPECT_TRUE(op::is_uuid_like(got[i].trace_id)) << got[i].trace_id;
    EXPECT_NE(got[i].trace_id, "00000000-0000-0000-0000-000000000000");
    ids.insert(got[i].trace_id);
  }
  EXPECT_EQ(ids.size(), 3u);
}

// A pair lost to a full queue is two notifications lost, and counted so.
TEST_F(notifier_test, a_held_pair_dropped_by_a_full_queue_counts_twice) {
  const auto ep = sqlite_endpoint();
  const auto dropped = overflow_and_count(
      [&] {
        for (int i = 0; i < 200; ++i) held_call(ep);
      },
      402u);
  EXPECT_GE(dropped, 2u * (200u - 64u));
  EXPECT_EQ(dropped % 2, 0u) << "pairs are dropped whole";
}

// Outside its work, a held call is off the stack: points started meanwhile
// are its siblings, and it ends when it finishes. Being off the stack, it
// needs no profiler to finish, as a point parked by end_here().
TEST_F(notifier_test, a_held_call_outside_its_work_is_off_the_stack) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  const auto ep = sqlite_endpoint();
  const auto base = op::get()->base_id();
  {
    auto c = held_call(ep);
    { op::trace sibling("sibling"); }
    EXPECT_FALSE(c.ended());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    op::clean();
  }
  ASSERT_TRUE(op::notifier::flush());
  const auto got = sink->take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].name, "sibling-start");
  EXPECT_EQ(got[0].parent_id, base);
  EXPECT_EQ(got[2].name, "db-start");
  EXPECT_EQ(got[2].parent_id, base);
  EXPECT_EQ(got[3].name, "db-stop");
  EXPECT_EQ(got[3].trace_id, got[2].trace_id);
  EXPECT_GE(*op::parse_timestamp(got[3].timestamp) - *op::parse_timestamp(got[2].timestamp), 2000)
      << "ended when it finished";
}

// A held call put on the stack by its work, whose thread then lost its
// profiler, can record no stop; its start still goes out, so that the point
// shows as unfinished rather than not at all.
TEST_F(notifier_test, a_held_start_goes_out_alone_when_no_stop_can_be) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  const auto ep = sqlite_endpoint();
  {
    auto c = held_call(ep);
    {
      const op::detail::held_work work(&c);
      EXPECT_EQ(op::get()->depth(), 1u);
    }
    op::clean();
  }
  ASSERT_TRUE(op::notifier::flush());
  const auto got = sink->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, "db-start");
}

namespace {
std::int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

// Points are stamped with a cheap counter on the calling thread and turned
// into wall-clock time on the notifier thread (docs/architecture.md). Whatever
// the clock (ctest runs this binary again with OSPROFILER_CLOCK=system), the
// timestamps agree with the wall clock, keep their order, and measure
// durations.
TEST_F(notifier_test, timestamps_agree_with_the_wall_clock_and_keep_their_order) {
  auto sink = std::make_shared<memory_collector>();
  op::notifier::set(sink);
  std::vector<std::int64_t> before, after;
  for (int i = 0; i < 5; ++i) {
    before.push_back(wall_clock_us());
    op::start("p");
    std::this_thread::sleep_for(std::chrono::milliseconds(i == 2 ? 120 : 1));
    op::stop();
    after.push_back(wall_clock_us());
    // Later batches convert with later anchors: spread the points over some.
    ASSERT_TRUE(op::notifier::flush());
  }
  const auto got = sink->take();
  ASSERT_EQ(got.size(), 10u);
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto us = op::parse_timestamp(got[i].timestamp);
    ASSERT_TRUE(us) << got[i].timestamp;
    // Conversion error is well under a microsecond; allow a few for rounding.
    EXPECT_GE(*us, before[i / 2] - 5) << i << ": " << got[i].timestamp;
    EXPECT_LE(*us, after[i / 2] + 5) << i << ": " << got[i].timestamp;
    EXPECT_GE(*us, previous) << i;
    previous = *us;
  }
  const auto start = *op::parse_timestamp(got[4].timestamp);
  const auto stop = *op::parse_timestamp(got[5].timestamp);
  EXPECT_GE(stop - start, 120000);
}
