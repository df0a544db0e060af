#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <thread>

#include "osprofiler/profiler.h"
#include "osprofiler/traced.h"
#include "test_support.h"

namespace op = osprofiler;
using op::testing::tracing_scope;

namespace {
struct cleanup {
  ~cleanup() { op::clean(); }
};
}  // namespace

TEST(profiler, init_builds_the_osprofiler_stack) {
  cleanup c;
  const std::string base = "11111111-1111-1111-1111-111111111111";
  const std::string parent = "22222222-2222-2222-2222-222222222222";
  auto* p = op::init("key", base, parent);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(op::get(), p);
  EXPECT_EQ(p->base_id(), base);
  EXPECT_EQ(p->parent_id(), base);  // stack [base, parent]: stack[-2] is base
  EXPECT_EQ(p->id(), parent);
  EXPECT_EQ(p->hmac_key(), "key");
  EXPECT_EQ(op::init("other"), p) << "init keeps the thread's existing profiler";
  op::clean();
  EXPECT_EQ(op::get(), nullptr);
}

TEST(profiler, init_without_ids_starts_a_new_trace_rooted_at_base) {
  cleanup c;
  auto* p = op::init("");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(op::is_uuid_like(p->base_id()));
  EXPECT_EQ(p->id(), p->base_id());
}

TEST(profiler, init_refuses_ids_that_are_not_uuids) {
  cleanup c;
  std::vector<std::string> errors;
  op::notifier::set_error_handler([&](const std::string& m) { errors.push_back(m); });
  EXPECT_EQ(op::init("k", "not-a-uuid"), nullptr);
  EXPECT_EQ(op::get(), nullptr);
  EXPECT_EQ(op::init("k", "11111111-1111-1111-1111-111111111111", "zz"), nullptr);
  op::notifier::set_error_handler(nullptr);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("not-a-uuid"), std::string::npos);
}

TEST(profiler, notifications_follow_the_spec) {
  tracing_scope scope;
  auto* p = op::init("key");
  const std::string base = p->base_id();
  op::start("wsgi", {{"request", {{"path", "/v2/servers"}}}});
  const std::string wsgi_id = p->id();
  op::start("db", {{"db", {{"statement", "SELECT 1"}}}});
  const std::string db_id = p->id();
  op::stop({{"db", {{"rows", 1}}}});
  op::stop();
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 4u);

  const std::regex ts("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}$");
  EXPECT_EQ(all[0].name, "wsgi-start");
  EXPECT_EQ(all[0].parent_id, base);
  EXPECT_EQ(all[0].trace_id, wsgi_id);
  EXPECT_EQ(all[1].name, "db-start");
  EXPECT_EQ(all[1].parent_id, wsgi_id);
  EXPECT_EQ(all[1].trace_id, db_id);
  EXPECT_EQ(all[1].info["db"]["statement"], "SELECT 1");
  EXPECT_EQ(all[2].name, "db-stop");
  EXPECT_EQ(all[2].trace_id, db_id);
  EXPECT_EQ(all[2].parent_id, wsgi_id);
  EXPECT_EQ(all[2].info["db"]["rows"], 1);
  EXPECT_EQ(all[3].name, "wsgi-stop");
  for (const auto& n : all) {
    EXPECT_EQ(n.base_id, base);
    EXPECT_TRUE(std::regex_match(n.timestamp, ts)) << n.timestamp;
    EXPECT_EQ(n.info["host"], op::host_name());
    const auto j = n.to_json();
    for (const char* key : {"name", "base_id", "trace_id", "parent_id", "timestamp", "info"}) {
      EXPECT_TRUE(j.contains(key)) << key;
    }
  }
  EXPECT_LE(all[0].timestamp, all[3].timestamp);
}

TEST(profiler, disabled_or_absent_profiler_records_nothing) {
  auto sink = std::make_shared<op::testing::memory_collector>();
  op::notifier::set(sink);
  op::set_options(op::options{});  // disabled
  op::init("k");
  op::start("a");
  op::stop();
  { op::trace t("b"); }
  op::clean();
  op::set_enabled(true);
  op::start("c");  // no profiler on the thread
  op::stop();
  { op::trace t("d"); }
  op::set_enabled(false);
  op::notifier::flush();
  op::notifier::set(std::shared_ptr<op::collector>{});
  EXPECT_TRUE(sink->take().empty());
}

TEST(profiler, trace_records_unwinding_and_fail) {
  tracing_scope scope;
  op::init("k");
  try {
    op::trace t("rpc");
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  {
    op::trace t("rpc2");
    t.fail(std::make_exception_ptr(std::invalid_argument("bad arg")));
  }
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].info["etype"], "unknown");
  EXPECT_EQ(all[3].info["etype"], "std::invalid_argument");
  EXPECT_EQ(all[3].info["message"], "bad arg");
}

TEST(profiler, traced_records_exceptions_and_rethrows_them_unchanged) {
  tracing_scope scope;
  op::init("k");
  struct custom_error : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  EXPECT_THROW(op::traced("rpc", [] { throw custom_error("no quota"); }), custom_error);
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NE(all[1].info["etype"].get<std::string>().find("custom_error"), std::string::npos);
  EXPECT_EQ(all[1].info["message"], "no quota");
}

TEST(profiler, traced_hides_args_and_result_unless_asked) {
  tracing_scope scope;
  op::init("k");
  auto add = [](int a, int b) { return a + b; };
  EXPECT_EQ(op::traced("calc", add, 2, 3), 5);
  op::trace_options shown;
  shown.name = "calc";
  shown.hide_args = false;
  shown.hide_result = false;
  shown.function = "add";
  EXPECT_EQ(op::traced(shown, add, 20, 22), 42);
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_FALSE(all[0].info["function"].contains("args"));
  EXPECT_FALSE(all[1].info.contains("function"));
  EXPECT_EQ(all[2].info["function"]["name"], "add");
  EXPECT_EQ(all[2].info["function"]["args"], nlohmann::json::array({"20", "22"}));
  EXPECT_EQ(all[3].info["function"]["result"], "42");
}

TEST(profiler, stop_without_start_and_clean_mid_trace_are_harmless) {
  tracing_scope scope;
  op::init("k");
  op::stop();  // nothing open
  {
    op::trace outer("outer");
    op::trace inner("inner");
    op::clean();  // abandon the trace; the scopes must not touch a dead profiler
  }
  EXPECT_EQ(op::get(), nullptr);
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "outer-start");
  EXPECT_EQ(all[1].name, "inner-start");
}

TEST(profiler, capture_and_resume_continue_a_tree_on_another_thread) {
  tracing_scope scope;
  auto* p = op::init("k");
  op::trace request("wsgi");
  const std::string request_id = p->id();
  const op::position here = op::capture();
  ASSERT_TRUE(here);
  std::thread worker([&] {
    EXPECT_EQ(op::get(), nullptr);
    {
      op::resume r(here);
      op::trace t("task");
    }
    EXPECT_EQ(op::get(), nullptr);
  });
  worker.join();
  op::clean();
  auto all = scope.collect();
  ASSERT_GE(all.size(), 3u);
  EXPECT_EQ(all[1].name, "task-start");
  EXPECT_EQ(all[1].parent_id, request_id);
  EXPECT_EQ(all[1].base_id, all[0].base_id);
}

TEST(profiler, a_stale_point_never_stops_a_new_profilers_point) {
  tracing_scope scope;
  op::init("k");
  auto stale = std::make_unique<op::trace>("old");
  op::clean();
  // The new profiler may well reuse the old one's address.
  op::init("k");
  {
    op::trace fresh("new");
    stale.reset();  // must not stop "new"
    EXPECT_EQ(op::get()->depth(), 1u);
  }
  EXPECT_EQ(op::get()->depth(), 0u);
  auto all = scope.collect();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "old-start");
  EXPECT_EQ(all[1].name, "new-start");
  EXPECT_EQ(all[2].name, "new-stop");
}

// Points that end out of order (an adapter's transaction committed inside a
// user's trace point, or a user's point ending inside a transaction): each
// sends its stop when it ends, and every point keeps its parent. The stack
// used to keep the first one for good, so that its parent could never stop
// and every later point nested under a dead one.
TEST(profiler, points_that_end_out_of_order_all_stop_and_keep_their_parents) {
  tracing_scope scope;
  op::init("k");
  {
    op::trace request("wsgi");
    auto tx = std::make_unique<op::trace>("transaction");  // held by an adapter
    {
      op::trace work("work");
      op::trace inner("inner");
      tx.reset();  // COMMIT inside "work"
      EXPECT_EQ(op::get()->depth(), 4u) << "its place stays while the points above are open";
      op::trace more("more");  // still under "inner"
    }
    EXPECT_EQ(op::get()->depth(), 1u) << "gone with the last point above it";
    op::trace next("next");  // under the request again
  }
  EXPECT_EQ(op::get()->depth(), 0u);
  // The other way round: a user's point ends while the transaction begun
  // inside it is still open.
  auto user = std::make_unique<op::trace>("user2");
  auto tx = std::make_unique<op::trace>("transaction2");
  user.reset();
  EXPECT_EQ(op::get()->depth(), 2u);
  tx.reset();
  EXPECT_EQ(op::get()->depth(), 0u);

  const auto all = scope.collect();
  std::map<std::string, const op::notification*> start, stop;
  for (const auto& n : all) {
    const bool is_stop = n.name.size() > 5 && n.name.compare(n.name.size() - 5, 5, "-stop") == 0;
    const std::string name = n.name.substr(0, n.name.rfind('-'));
    (is_stop ? stop : start)[name] = &n;
  }
  for (const char* name : {"wsgi", "transaction", "work", "inner", "more", "next", "transaction2", "user2"}) {
    ASSERT_TRUE(start.count(name)) << name;
    ASSERT_TRUE(stop.count(name)) << name << " never stopped";
    EXPECT_EQ(stop[name]->trace_id, start[name]->trace_id) << name;
    EXPECT_EQ(stop[name]->parent_id, start[name]->parent_id) << name;
  }
  EXPECT_EQ(start["work"]->parent_id, start["transaction"]->trace_id);
  EXPECT_EQ(start["more"]->parent_id, start["inner"]->trace_id);
  EXPECT_EQ(start["next"]->parent_id, start["wsgi"]->trace_id);
  EXPECT_EQ(start["transaction2"]->parent_id, start["user2"]->trace_id);
  // Stops come when each point ends: the transaction's before its children's.
  EXPECT_LT(stop["transaction"], stop["inner"]);
}
