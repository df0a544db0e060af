#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <thread>

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
  auto report = store->get_report(base);
  EXPECT_EQ(report["children"].size(), 3u);
  EXPECT_EQ(report["stats"]["p"]["count"], 3);
}

TEST_F(notifier_test, full_queue_drops_and_counts_and_never_blocks_the_caller) {
  auto gate = std::make_shared<gate_collector>();
  op::notifier::configure_queue(64, op::overflow_policy::drop);
  op::notifier::set(gate);
  const auto before = op::notifier::stats();
  points(1);
  gate->wait_entered();  // the worker is now stuck inside write()
  points(500);           // 1000 events into a 64-slot queue
  const auto during = op::notifier::stats();
  EXPECT_GE(during.dropped - before.dropped, 1000u - 64u);
  gate->open();
  ASSERT_TRUE(op::notifier::flush());
  const auto after = op::notifier::stats();
  EXPECT_EQ(after.recorded - before.recorded, 1002u);
  EXPECT_EQ(after.sent + after.dropped + after.failed - (before.sent + before.dropped + before.failed), 1002u);
  EXPECT_EQ(gate->take().size(), after.sent - before.sent);
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
  op::notifier::set(op::notifier::create("file:///nonexistent-dir/x/trace.jsonl"));
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

TEST_F(notifier_test, corrupt_lines_in_a_trace_file_are_skipped_and_reported) {
  const auto dir = op::testing::temp_dir("corrupt");
  const auto path = dir / "t.jsonl";
  {
    std::ofstream out(path);
    out << R"({"name":"a-start","base_id":"b","trace_id":"t","parent_id":"b","timestamp":"2026-01-01T00:00:00.000000","info":{}})"
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
