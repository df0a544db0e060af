// Bad input at the edges, each with its defined behaviour (docs/reliability.md):
// SQL text with invalid UTF-8 and NUL bytes, megabyte statements cut at
// options.max_statement_bytes, info values JSON cannot hold, stop() without
// start(), clean() in the middle of a trace, and a profiler used after fork().
// Everything goes through the real SQLite adapter and the real file store,
// and what the store wrote is read back by Python's json module.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <fstream>

#include <gtest/gtest.h>

#include "osprofiler/report.h"
#include "osprofiler/store.h"
#include "reliability_util.h"

namespace osprofiler::testing {
namespace {

class edges : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("edges");
    file_ = (dir_ / "traces.jsonl").string();
    options o;
    o.enabled = true;
    o.trace_sql = true;
    o.max_statement_bytes = cap_;
    set_options(o);
    notifier::set(notifier::create("file://" + file_));
    db_ = std::make_unique<sqlite::connection>((dir_ / "app.db").string());
    clean();
    init("");
    base_ = get()->base_id();
  }
  void TearDown() override {
    notifier::flush();
    notifier::set(std::shared_ptr<collector>{});
    set_options(options{});
    clean();
  }
  std::vector<notification> stored() {
    EXPECT_TRUE(notifier::flush());
    return open_store("file://" + file_)->load(base_);
  }
  // Every line of the trace file is JSON to Python too.
  void python_reads_every_line() {
    ASSERT_TRUE(notifier::flush());
    std::string out;
    const int rc = run(python() + " -c 'import json,sys\nfor l in open(sys.argv[1], encoding=\"utf-8\"): json.loads(l)\n"
                                  "print(\"ok\")' " + file_, &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("ok"), std::string::npos) << out;
  }
  static std::string statement_of(const std::vector<notification>& ns) {
    for (const auto& n : ns) {
      if (n.name == "db-start" && n.info["db"].value("api", "") == "prepare") return n.info["db"].value("statement", "");
    }
    return "<none>";
  }

  std::size_t cap_ = 1024;
  std::filesystem::path dir_;
  std::string file_, base_;
  std::unique_ptr<sqlite::connection> db_;
};

TEST_F(edges, sql_with_invalid_utf8_and_nul_is_recorded_with_replacement_characters) {
  // SQLite reads up to the NUL; the statement is recorded as given.
  std::string sql = "SELECT 'caf\xc3\xa9 \xff\xfe' /* \xed\xa0\x80 */";
  sql += '\0';
  sql += "ignored";
  auto s = db_->prepare(sql);
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_string(0), "caf\xc3\xa9 \xff\xfe");  // the user's bytes, untouched
  s.reset();
  const auto text = statement_of(stored());
  EXPECT_EQ(text.substr(0, 13), "SELECT 'caf\xc3\xa9");
  EXPECT_NE(text.find("\xef\xbf\xbd"), std::string::npos) << "invalid bytes become U+FFFD";
  EXPECT_EQ(text.find("\xff"), std::string::npos);
  EXPECT_NE(text.find(std::string(1, '\0') + "ignored"), std::string::npos) << "NUL kept as \\u0000";
  python_reads_every_line();
}

TEST_F(edges, megabyte_statement_is_cut_at_the_cap_and_says_so) {
  const std::string comment(1 << 20, 'x');
  const std::string sql = "SELECT 42 /*" + comment + "*/";
  auto s = db_->prepare(sql);
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_int(0), 42);
  s.reset();
  const auto text = statement_of(stored());
  const std::string marker = "...[truncated " + std::to_string(sql.size() - cap_) + " bytes]";
  EXPECT_EQ(text, sql.substr(0, cap_) + marker);
  python_reads_every_line();
}

TEST_F(edges, info_values_json_cannot_hold_are_replaced) {
  {
    trace t("odd", {{"bytes", "\xff\xfe ok"}, {"nan", std::nan("")}, {"inf", INFINITY}, {"big", 1e308}});
  }
  const auto ns = stored();
  ASSERT_EQ(ns.size(), 2u);
  const auto& info = ns[0].info;
  EXPECT_EQ(info.value("bytes", ""), "\xef\xbf\xbd\xef\xbf\xbd ok");
  EXPECT_TRUE(info["nan"].is_null());
  EXPECT_TRUE(info["inf"].is_null());
  EXPECT_EQ(info["big"].get<double>(), 1e308);
  python_reads_every_line();
}

TEST_F(edges, stop_without_start_records_nothing) {
  counter_delta delta;
  stop();
  stop({{"x", 1}});
  EXPECT_EQ(get()->depth(), 0u);
  clean();
  stop();  // no profiler at all
  EXPECT_TRUE(notifier::flush());
  EXPECT_EQ(delta.now().recorded, 0u);
  init("", base_);
  start("after");
  stop();
  EXPECT_EQ(stored().size(), 2u);
}

TEST_F(edges, clean_in_the_middle_of_a_trace_abandons_open_points) {
  {
    trace outer("outer");
    auto s = db_->prepare("SELECT 1");
    clean();  // the request is over for the profiler; objects still in scope
    EXPECT_EQ(get(), nullptr);
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.column_int(0), 1);
    s.reset();
    // A new trace on the same thread is not disturbed by the old objects.
    init("");
    trace fresh("fresh");
  }
  const auto old_trace = stored();
  // outer-start and the prepare point; no stops for the abandoned points.
  std::size_t starts = 0, stops = 0;
  for (const auto& n : old_trace) (n.name.find("-stop") != std::string::npos ? stops : starts)++;
  EXPECT_EQ(starts, 2u);
  EXPECT_EQ(stops, 1u) << "prepare finished before clean(); outer is abandoned";
  const auto report = build_report(old_trace);
  ASSERT_EQ(report["children"].size(), 1u);
  EXPECT_EQ(report["children"][0]["info"]["name"], "outer");
}

TEST_F(edges, after_fork_the_child_drops_until_it_has_its_own_collector) {
  {
    trace before("before-fork");
  }
  ASSERT_TRUE(notifier::flush());
  const auto child_file = (dir_ / "child.jsonl").string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: the inherited collector is abandoned, events are dropped.
    int code = 0;
    const auto before = notifier::stats();
    { trace t("child-untraced"); }
    if (!notifier::flush()) code |= 4;  // settled (as dropped) before a collector exists
    const auto after = notifier::stats();
    if (notifier::get() != nullptr) code |= 1;
    if (after.dropped - before.dropped != 2 || after.recorded - before.recorded != 2) code |= 2;
    // Its own collector: traced from then on, to its own file.
    notifier::set(notifier::create("file://" + child_file));
    clean();
    init("");
    { trace t("child-traced"); }
    if (!notifier::flush()) code |= 4;
    const auto done = notifier::stats();
    if (done.sent - after.sent != 2) code |= 8;
    std::_Exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: collector inherited, 2: not counted as dropped, 4: flush, 8: not sent";
  // The parent's file has nothing from the child; the child's has its trace.
  for (const auto& n : stored()) EXPECT_EQ(n.name.rfind("before-fork", 0), 0u) << n.name;
  std::ifstream in(child_file);
  std::string line, all;
  while (std::getline(in, line)) all += line + "\n";
  EXPECT_NE(all.find("child-traced-start"), std::string::npos);
  EXPECT_NE(all.find("child-traced-stop"), std::string::npos);
  EXPECT_EQ(all.find("child-untraced"), std::string::npos);
  // The parent still traces.
  { trace after("after-fork"); }
  EXPECT_EQ(stored().size(), 4u);
}

// A fork while the parent's notifier is busy (inside a collector's write,
// more events queued): those events are the parent's to deliver. The child
// used to deliver them again to its own collector, and a flush in the child
// could wait for ever on events it never got.
TEST_F(edges, a_child_forked_mid_delivery_sends_only_its_own_events) {
  struct gate final : collector {
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false, open = false;
    void write(const std::vector<notification>&) override {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [this] { return open; });
    }
  };
  auto g = std::make_shared<gate>();
  notifier::set(g);
  { trace held("parent-in-write"); }
  {
    std::unique_lock<std::mutex> lock(g->mu);
    ASSERT_TRUE(g->cv.wait_for(lock, std::chrono::seconds(10), [&] { return g->entered; }));
  }
  { trace queued("parent-queued"); }
  const auto child_file = (dir_ / "child.jsonl").string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    notifier::set(notifier::create("file://" + child_file));
    { trace t("child-own"); }
    if (!notifier::flush(std::chrono::seconds(5))) code |= 1;
    const auto st = notifier::stats();
    if (st.sent != 2 || st.queued() != 0) code |= 2;
    std::_Exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  {
    std::lock_guard<std::mutex> lock(g->mu);
    g->open = true;
  }
  g->cv.notify_all();
  ASSERT_TRUE(notifier::flush());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the child's flush timed out, 2: the child counted the parent's events";
  std::ifstream in(child_file);
  std::string line, all;
  while (std::getline(in, line)) all += line + "\n";
  EXPECT_NE(all.find("child-own-start"), std::string::npos) << all;
  EXPECT_EQ(all.find("parent-"), std::string::npos) << "the parent's events, sent again by the child:\n" << all;
}

// Runs `child` in a forked process, which it is to end, and returns the
// process's exit code (-1: killed by a signal, 9: `child` returned) and how
// long it took.
template <typename Child>
std::pair<int, double> exit_of_child(Child&& child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    child();
    std::_Exit(9);
  }
  EXPECT_GE(pid, 0);
  if (pid < 0) return {-1, 0.0};
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, seconds};
}

// exit() from inside a collector's write runs the notifier's shutdown on
// the notifier thread itself: it must not wait for itself (10 s) nor try to
// join itself (std::terminate), and the exit code must survive.
TEST_F(edges, exit_called_by_a_collector_exits_at_once_with_its_code) {
#if defined(__SANITIZE_ADDRESS__)
  // LeakSanitizer's exit-time check runs on the notifier thread here without
  // scanning that thread's own stack, reports its buffers as leaks and
  // aborts (abort_on_error): the release pass runs this test.
  GTEST_SKIP() << "exit() on a thread other than main defeats LeakSanitizer's check";
#endif
#if defined(__SANITIZE_THREAD__)
  // The forked child starts a notifier thread of its own, which
  // ThreadSanitizer takes for the parent's thread of the same id ("dup
  // thread with used id") and fails the child with its exit code 66.
  GTEST_SKIP() << "ThreadSanitizer mistakes the forked child's new thread for an inherited one";
#endif
  const auto [code, seconds] = exit_of_child([] {
    struct exiting final : collector {
      void write(const std::vector<notification>&) override { std::exit(3); }
    };
    notifier::set(std::make_shared<exiting>());
    { trace t("goodbye"); }
    ::sleep(30);  // the notifier thread exits the process first
  });
  EXPECT_EQ(code, 3);
  EXPECT_LT(seconds, 8.0);
}

// exit() while the store is down: the exit flush waits its 10 s, then what
// is still queued is given up without a write per batch (each write could
// take a store's whole timeout: 10 s for a PostgreSQL connect).
TEST_F(edges, exit_with_the_store_down_waits_for_one_write_at_most) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer mistakes the forked child's new thread for an inherited one";
#endif
  const auto [code, seconds] = exit_of_child([] {
    struct down final : collector {
      void write(const std::vector<notification>&) override {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        throw collector_unavailable("store down (test)");
      }
    };
    notifier::set_error_handler([](const std::string&) {});
    notifier::configure_queue(1 << 16, overflow_policy::drop);
    notifier::set(std::make_shared<down>());
    for (int i = 0; i < 12000; ++i) trace t("queued");  // 24,000 notifications: 6 batches
    // What exit() runs (atexit), without exit()'s LeakSanitizer check: in a
    // forked child it takes the parent's notifier thread's buffers, on a
    // stack no thread of the child has, for leaks.
    notifier::shutdown();
    std::_Exit(0);
  });
  EXPECT_EQ(code, 0);
  // 10 s of flush, then at most the one write under way (1 s); a write per
  // batch left would make it 15 s or more.
  EXPECT_GE(seconds, 9.5);
  EXPECT_LT(seconds, 13.5);
}

}  // namespace
}  // namespace osprofiler::testing
