#include <gtest/gtest.h>

#include <random>

#include "osprofiler/report.h"

namespace op = osprofiler;
using nlohmann::json;

namespace {
op::notification note(const std::string& name, const std::string& trace, const std::string& parent,
                      const std::string& ts, json info = json::object()) {
  op::notification n;
  n.name = name;
  n.base_id = "base";
  n.trace_id = trace;
  n.parent_id = parent;
  n.timestamp = ts;
  n.info = std::move(info);
  n.host = "h";
  return n;
}
}  // namespace

TEST(report, builds_the_python_tree_with_truncated_milliseconds) {
  std::vector<op::notification> ns = {
      note("wsgi-start", "w", "base", "2026-01-01T00:00:00.000100"),
      note("db-start", "d1", "w", "2026-01-01T00:00:00.001999"),
      note("db-stop", "d1", "w", "2026-01-01T00:00:00.004000"),
      note("db-start", "d2", "w", "2026-01-01T00:00:00.005000"),
      note("db-stop", "d2", "w", "2026-01-01T00:00:00.006000", {{"etype", "IntegrityError"}, {"message", "dup"}}),
      note("wsgi-stop", "w", "base", "2026-01-01T00:00:00.010900"),
  };
  const json r = op::build_report(ns);
  EXPECT_EQ(r["info"]["name"], "total");
  EXPECT_EQ(r["info"]["started"], 0);
  EXPECT_EQ(r["info"]["finished"], 10);            // 10.8 ms, truncated
  EXPECT_EQ(r["info"]["last_trace_started"], 4);   // d2 at 4.9 ms
  ASSERT_EQ(r["children"].size(), 1u);
  const json& w = r["children"][0];
  EXPECT_EQ(w["trace_id"], "w");
  EXPECT_EQ(w["parent_id"], "base");
  EXPECT_EQ(w["info"]["name"], "wsgi");
  EXPECT_EQ(w["info"]["exception"], "None");
  EXPECT_EQ(w["info"]["host"], "h");
  ASSERT_EQ(w["children"].size(), 2u);
  EXPECT_EQ(w["children"][0]["trace_id"], "d1");
  EXPECT_EQ(w["children"][0]["info"]["started"], 1);
  EXPECT_EQ(w["children"][0]["info"]["finished"], 3);
  EXPECT_EQ(w["children"][1]["info"]["exception"], "IntegrityError");
  EXPECT_TRUE(w["children"][1]["info"].contains("meta.raw_payload.db-start"));
  EXPECT_EQ(w["children"][1]["info"]["meta.raw_payload.db-stop"]["info"]["message"], "dup");
  EXPECT_EQ(r["stats"]["db"]["count"], 2);
  EXPECT_EQ(r["stats"]["db"]["duration"], 3);  // (3-1) + (5-4)
  EXPECT_EQ(r["stats"]["wsgi"]["count"], 1);
}

TEST(report, missing_stops_starts_and_parents_are_handled_like_python) {
  std::vector<op::notification> ns = {
      note("a-start", "a", "base", "2026-01-01T00:00:00.000000"),           // never stopped
      note("b-stop", "b", "base", "2026-01-01T00:00:00.002000"),            // never started
      note("c-start", "c", "elsewhere", "2026-01-01T00:00:00.001000"),      // orphan: a root
      note("c-stop", "c", "elsewhere", "2026-01-01T00:00:00.003000"),
  };
  const json r = op::build_report(ns);
  ASSERT_EQ(r["children"].size(), 3u);
  EXPECT_EQ(r["children"][0]["trace_id"], "a");
  EXPECT_EQ(r["children"][0]["info"]["finished"], 0) << "finished = started";
  EXPECT_FALSE(r["children"][0]["info"].contains("exception"));
  EXPECT_EQ(r["children"][1]["trace_id"], "c");
  EXPECT_EQ(r["children"][2]["trace_id"], "b");
  EXPECT_EQ(r["children"][2]["info"]["started"], 2);
}

TEST(report, cycles_duplicates_and_garbage_do_not_hang_or_throw) {
  std::vector<op::notification> ns = {
      note("x-start", "x", "y", "2026-01-01T00:00:00.000000"),
      note("y-start", "y", "x", "2026-01-01T00:00:00.001000"),
      note("z-start", "z", "z", "2026-01-01T00:00:00.002000"),  // its own parent
      note("x-start", "x", "y", "2026-01-01T00:00:00.000500"),  // duplicate
      note("q-start", "q", "base", "yesterday"),                // unparsable: skipped
      note("r-start", "", "base", "2026-01-01T00:00:00.000000"),
  };
  json r;
  ASSERT_NO_THROW(r = op::build_report(ns));
  EXPECT_EQ(r["info"]["skipped"], 2);
  std::size_t count = 0;
  std::function<void(const json&)> walk = [&](const json& n) {
    ++count;
    for (const auto& c : n["children"]) walk(c);
  };
  for (const auto& c : r["children"]) walk(c);
  EXPECT_EQ(count, 3u) << "x, y and z each appear once";
}

TEST(report, empty_input_gives_an_empty_report) {
  const json r = op::build_report({});
  EXPECT_TRUE(r["children"].empty());
  EXPECT_TRUE(r["info"]["finished"].is_null());
}

TEST(report, very_deep_traces_do_not_overflow_the_stack) {
  std::vector<op::notification> ns;
  std::string parent = "base";
  for (int i = 0; i < 200000; ++i) {
    const std::string id = "n" + std::to_string(i);
    ns.push_back(note("p-start", id, parent, "2026-01-01T00:00:00.000000"));
    parent = id;
  }
  json r;
  ASSERT_NO_THROW(r = op::build_report(ns));
  EXPECT_EQ(r["stats"]["p"]["count"], 200000);
  EXPECT_GT(r["info"]["flattened"].get<int>(), 0) << "nodes deeper than the cap become roots";
  EXPECT_NO_THROW(r.dump()) << "and the report can be written without deep recursion";
}

TEST(report, the_result_does_not_depend_on_how_many_threads_build_it) {
  // Points are grouped and converted by trace id hash on several threads;
  // a messy trace (duplicates, cycles, orphans, self-parents, missing starts
  // and stops, bad timestamps, a chain past the depth cap) must give the
  // same report, byte for byte, as one thread does.
  std::mt19937 rng(20261122);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* names[] = {"db-start", "db-stop", "rpc-start", "rpc-stop", "wsgi-start", "x-y-stop", "stop"};
  std::vector<op::notification> ns;
  for (int i = 0; i < 6000; ++i) {
    const std::string id = "p" + std::to_string(pick(2500));
    const int p = pick(10);
    const std::string parent = p == 0 ? "base" : p == 1 ? id : "p" + std::to_string(pick(2500));
    char ts[40];
    // Few distinct milliseconds: siblings often start together, and their
    // order is then the order they were first seen in.
    std::snprintf(ts, sizeof ts, "2026-01-01T00:00:%02d.%03d%03d", pick(3), pick(5), pick(1000));
    json info = json::object();
    if (pick(7) == 0) info["etype"] = pick(2) ? json("ValueError") : json(pick(100));
    ns.push_back(note(names[pick(7)], id, parent, pick(50) == 0 ? "never" : ts, std::move(info)));
    if (pick(40) == 0) ns.back().raw = json{{"info", {{"discarded", true}}}};
  }
  std::string parent = "p0";
  for (int i = 0; i < 1500; ++i) {  // deeper than the cap of 1,000 levels
    const std::string id = "chain" + std::to_string(i);
    ns.push_back(note("c-start", id, parent, "2026-01-01T00:00:00.000000"));
    parent = id;
  }
  const json one = op::build_report(ns, 1);
  ASSERT_GT(one["info"]["flattened"].get<int>(), 0);
  ASSERT_GT(one["info"]["skipped"].get<int>(), 0);
  const std::string expected = one.dump();
  for (unsigned threads : {2u, 3u, 4u}) {
    EXPECT_EQ(op::build_report(ns, threads).dump(), expected) << threads << " threads";
    EXPECT_EQ(op::build_report(std::vector<op::notification>(ns), threads).dump(), expected)
        << threads << " threads, moving";
  }
}
