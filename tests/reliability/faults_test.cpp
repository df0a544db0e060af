// Fault injection with real failing parts: a collector that blocks, the file
// collector on /dev/full and on a path that cannot exist, the SQLite store's
// file locked by another process, and the PostgreSQL store's server stopped
// and resumed during a traced workload. In every case the application's
// queries give their known results, user errors come out unchanged, nothing
// is thrown by the tracing layer, the queue never holds more than its
// capacity, RSS stays bounded, and after flushing
// recorded == sent + dropped + failed with exactly `sent` notifications in
// the store.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "osprofiler/store.h"
#include "osprofiler/stores.h"
#include "reliability_util.h"

namespace osprofiler::testing {
namespace {

constexpr std::size_t capacity = 1024;  // a power of two: the queue's real size
constexpr std::int64_t rss_bound_kib = 64 * 1024;

class faults : public ::testing::Test {
 protected:
  void SetUp() override {
    register_stores();
    options o;
    o.enabled = true;
    o.trace_sql = true;
    set_options(o);
    notifier::configure_queue(capacity, overflow_policy::drop);
    notifier::set_error_handler([this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(m);
    });
    dir_ = temp_dir("faults");
    app_ = std::make_unique<app_workload>((dir_ / "app.db").string());
  }
  void TearDown() override {
    notifier::flush(std::chrono::seconds(30));
    notifier::set(std::shared_ptr<collector>{});
    notifier::set_error_handler(nullptr);
    notifier::configure_queue(options{}.queue_size, overflow_policy::drop);
    set_options(options{});
    clean();
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  static void expect_balanced(const notifier::counters& d) {
    EXPECT_GT(d.recorded, 0u);
    EXPECT_EQ(d.recorded, d.sent + d.dropped + d.failed)
        << "sent " << d.sent << " dropped " << d.dropped << " failed " << d.failed;
  }
  static void expect_bounded(const watcher& w) {
    // A slot holds one notification, or a SQLite statement run's start and stop.
    EXPECT_LE(w.max_queued(), 2 * capacity);
    EXPECT_LT(w.rss_growth_kib(), rss_bound_kib);
  }
  static std::size_t stored(store& s, const std::vector<std::string>& base_ids) {
    std::size_t n = 0;
    for (const auto& b : base_ids) n += s.load(b).size();
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<app_workload> app_;
  std::mutex mu_;
  std::vector<std::string> errors_;
};

// Blocks every write until released, then keeps what it is given.
class blocking_collector : public collector {
 public:
  void write(const std::vector<notification>& batch) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++blocked_;
    cv_.wait(lock, [&] { return open_; });
    kept_ += batch.size();
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool blocked() {
    std::lock_guard<std::mutex> lock(mu_);
    return blocked_ > 0;
  }
  std::size_t kept() {
    std::lock_guard<std::mutex> lock(mu_);
    return kept_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int blocked_ = 0;
  std::size_t kept_ = 0;
};

TEST_F(faults, blocking_collector_drops_and_counts_within_the_queue_bound) {
  counter_delta delta;
  auto c = std::make_shared<blocking_collector>();
  notifier::set(c);
  watcher w;
  EXPECT_EQ(app_->run(2000), 0);
  w.stop();
  EXPECT_TRUE(c->blocked());
  const auto during = delta.now();
  EXPECT_GT(during.dropped, 0u) << "the queue should have overflowed while the collector blocked";
  EXPECT_EQ(during.sent, 0u);
  expect_bounded(w);

  c->release();
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(30)));
  const auto d = delta.now();
  expect_balanced(d);
  EXPECT_EQ(d.failed, 0u);
  EXPECT_EQ(c->kept(), d.sent);
}

TEST_F(faults, file_collector_on_a_full_disk_counts_failures) {
  counter_delta delta;
  notifier::set(notifier::create("file:///dev/full"));
  watcher w;
  EXPECT_EQ(app_->run(300), 0);
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(30)));
  w.stop();
  expect_bounded(w);
  const auto d = delta.now();
  expect_balanced(d);
  EXPECT_EQ(d.sent, 0u);
  EXPECT_GT(d.failed, 0u);
  bool said_why = false;
  for (const auto& e : errors()) said_why |= e.find("/dev/full") != std::string::npos;
  EXPECT_TRUE(said_why) << "the error handler should name the file";
}

TEST_F(faults, file_collector_on_an_impossible_path_fails_then_recovers) {
  // A path under a regular file cannot be created, even by root.
  const auto blocker = dir_ / "not-a-dir";
  std::ofstream(blocker) << "x";
  const auto path = blocker / "traces.jsonl";
  notifier::set(notifier::create("file://" + path.string()));

  counter_delta broken;
  EXPECT_EQ(app_->run(200), 0);
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(30)));
  const auto b = broken.now();
  expect_balanced(b);
  EXPECT_EQ(b.sent, 0u);
  EXPECT_GT(b.failed, 0u);

  // The path becomes possible: the same collector writes from then on.
  std::filesystem::remove(blocker);
  std::filesystem::create_directory(blocker);
  counter_delta fixed;
  std::vector<std::string> ids;
  EXPECT_EQ(app_->run(200, &ids), 0);
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(30)));
  const auto f = fixed.now();
  expect_balanced(f);
  EXPECT_EQ(f.failed, 0u);
  EXPECT_GT(f.sent, 0u);
  auto s = open_store("file://" + path.string());
  EXPECT_EQ(stored(*s, ids), f.sent);
}

TEST_F(faults, sqlite_store_locked_by_another_process) {
  const auto db = dir_ / "traces.db";
  notifier::set(notifier::create("sqlite:///" + db.string()));
  auto reader = open_store("sqlite:///" + db.string());
  const auto locked = dir_ / "locked", release = dir_ / "release";
  // Another process takes the write lock and keeps it until told to let go.
  const std::string script =
      "import sqlite3, os, time, sys\n"
      "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
      "c.execute('BEGIN EXCLUSIVE')\n"
      "open(sys.argv[2], 'w').close()\n"
      "while not os.path.exists(sys.argv[3]): time.sleep(0.01)\n"
      "c.execute('COMMIT')\n";
  std::ofstream(dir_ / "lock.py") << script;
  FILE* holder = ::popen((python() + " " + (dir_ / "lock.py").string() + " " + db.string() + " " + locked.string() +
                          " " + release.string())
                             .c_str(),
                         "r");
  ASSERT_NE(holder, nullptr);
  for (int i = 0; i < 3000 && !std::filesystem::exists(locked); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(locked)) << "the locking process did not start";

  counter_delta delta;
  std::vector<std::string> ids;
  watcher w;
  EXPECT_EQ(app_->run(3000, &ids), 0);
  EXPECT_FALSE(notifier::flush(std::chrono::milliseconds(200))) << "nothing can be written while the file is locked";
  std::ofstream(release) << "";
  EXPECT_EQ(::pclose(holder), 0);
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(60)));
  w.stop();
  expect_bounded(w);
  const auto d = delta.now();
  expect_balanced(d);
  EXPECT_EQ(d.failed, 0u) << "a locked file is retried, not given up";
  EXPECT_GT(d.sent, 0u);
  EXPECT_EQ(stored(*reader, ids), d.sent);
}

TEST_F(faults, postgresql_store_server_stopped_and_resumed) {
  private_pg pg;
  ASSERT_TRUE(pg.ok()) << "could not start a private PostgreSQL server";
  notifier::set(notifier::create(pg.uri()));
  counter_delta delta;
  std::vector<std::string> ids;
  watcher w;

  EXPECT_EQ(app_->run(200, &ids), 0);
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(30)));
  const auto before_outage = delta.now().sent;
  EXPECT_GT(before_outage, 0u);

  ASSERT_TRUE(pg.control("stop"));
  EXPECT_EQ(app_->run(1000, &ids), 0);
  EXPECT_FALSE(notifier::flush(std::chrono::milliseconds(300))) << "the store is down: nothing can be delivered";
  EXPECT_EQ(delta.now().sent, before_outage);
  ASSERT_TRUE(pg.control("resume"));
  EXPECT_EQ(app_->run(200, &ids), 0);
  ASSERT_TRUE(notifier::flush(std::chrono::seconds(60)));
  w.stop();
  expect_bounded(w);

  const auto d = delta.now();
  expect_balanced(d);
  EXPECT_EQ(d.failed, 0u) << "an outage is retried, not given up";
  auto reader = open_store(pg.uri());
  EXPECT_EQ(stored(*reader, ids), d.sent);
  bool reported = false;
  for (const auto& e : errors()) reported |= e.find("unavailable") != std::string::npos;
  EXPECT_TRUE(reported) << "the outage should reach the error handler";
}

}  // namespace
}  // namespace osprofiler::testing
