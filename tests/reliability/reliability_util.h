// Shared pieces of the reliability tests: a traced application workload on a
// real SQLite database whose results are known in advance, the notifier's
// counters as deltas, a watcher that samples the queue depth and the RSS
// while a fault is on, and a private PostgreSQL server that a test may stop
// and resume without disturbing the shared fixture.
// Thread-safety: a workload object belongs to one thread; the watcher
// samples from its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"
#include "osprofiler/sqlite/connection.h"
#include "test_support.h"

namespace osprofiler::testing {

// Resident set size of this process in KiB.
inline std::int64_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      std::int64_t kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// Counters since construction (flushes first, so earlier tests are settled).
struct counter_delta {
  notifier::counters before;
  counter_delta() {
    notifier::flush(std::chrono::seconds(30));
    before = notifier::stats();
  }
  notifier::counters now() const {
    const auto c = notifier::stats();
    notifier::counters d;
    d.recorded = c.recorded - before.recorded;
    d.sent = c.sent - before.sent;
    d.dropped = c.dropped - before.dropped;
    d.failed = c.failed - before.failed;
    return d;
  }
};

// Samples queued() and RSS every millisecond until stopped.
class watcher {
 public:
  watcher() : rss_start_(rss_kib()), thread_([this] { loop(); }) {}
  ~watcher() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t max_queued() const { return max_queued_; }
  std::int64_t rss_growth_kib() const { return max_rss_ - rss_start_; }

 private:
  void loop() {
    while (!stop_) {
      const auto q = notifier::stats().queued();
      if (q > max_queued_) max_queued_ = q;
      const auto r = rss_kib();
      if (r > max_rss_) max_rss_ = r;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  std::int64_t rss_start_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> max_queued_{0};
  std::atomic<std::int64_t> max_rss_{0};
  std::thread thread_;
};

// The application: a SQLite file with kv(k, v = k * 7 + 3) for k < 1000,
// queried through the traced SQLite adapter. Each request is one trace
// (a new base id) with a "wsgi" root, two SELECTs and one failing query.
class app_workload {
 public:
  explicit app_workload(const std::string& path) : db_(path) {
    db_.exec("CREATE TABLE IF NOT EXISTS kv(k INTEGER PRIMARY KEY, v INTEGER)");
    db_.exec("DELETE FROM kv");
    db_.begin();
    auto ins = db_.prepare("INSERT INTO kv VALUES (?, ?)");
    for (int k = 0; k < 1000; ++k) {
      ins.bind(1, k).bind(2, k * 7 + 3);
      ins.execute();
    }
    db_.commit();
    select_ = db_.prepare("SELECT v FROM kv WHERE k = ?");
  }

  static std::int64_t expected(int k) { return static_cast<std::int64_t>(k % 1000) * 7 + 3; }

  // Runs `n` traced requests; every result is checked against expected()
  // and every user error must come out unchanged. Returns the failures.
  int run(int n, std::vector<std::string>* base_ids = nullptr) {
    int wrong = 0;
    for (int i = 0; i < n; ++i, ++next_) {
      clean();
      init("");
      if (base_ids && get()) base_ids->push_back(get()->base_id());
      {
        trace request("wsgi", {{"request", {{"path", "/item"}}}});
        for (int k : {next_ % 1000, (next_ * 31) % 1000}) {
          select_.bind(1, k);
          if (!select_.step() || select_.column_int64(0) != expected(k)) ++wrong;
          select_.reset();
        }
        try {
          db_.exec("SELECT * FROM no_such_table");
          ++wrong;
        } catch (const sqlite::error& e) {
          if (e.code() != SQLITE_ERROR || std::string(e.what()) != "no such table: no_such_table") ++wrong;
        }
      }
      clean();
    }
    return wrong;
  }
 private:
  sqlite::connection db_;
  sqlite::statement select_;
  int next_ = 0;
};

// A PostgreSQL server private to one test (scripts/pg-test-server.sh on a
// temporary directory), so it can be stopped without touching the fixture.
class private_pg {
 public:
  private_pg() : dir_(temp_dir("private-pg") / "pg") {
    ok_ = control("start");
    if (ok_) {
      std::ifstream in(dir_ / "uri");
      std::getline(in, uri_);
      // The test server runs with synchronous_commit off, which loses the
      // last commits when it is killed; a trace store wants them kept.
      uri_ += "?options=-c%20synchronous_commit%3Don";
    }
  }
  ~private_pg() { control("stop"); }
  bool ok() const { return ok_ && !uri_.empty(); }
  const std::string& uri() const { return uri_; }
  bool control(const std::string& cmd) {
    return run((source_dir() / "scripts/pg-test-server.sh").string() + " " + cmd + " " + dir_.string()) == 0;
  }

 private:
  std::filesystem::path dir_;
  std::string uri_;
  bool ok_ = false;
};

}  // namespace osprofiler::testing
