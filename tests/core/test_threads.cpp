// Eight threads each build their own nested tree; after flush() every
// notification must have arrived with the right ids and parentage.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "osprofiler/profiler.h"
#include "test_support.h"

namespace op = osprofiler;

namespace {
// depth-first: each node starts `fanout` children down to `depth`
int build(int depth, int fanout) {
  if (depth == 0) return 0;
  int n = 0;
  for (int i = 0; i < fanout; ++i) {
    op::trace t("level" + std::to_string(depth), {{"i", i}});
    n += 1 + build(depth - 1, fanout);
  }
  return n;
}
}  // namespace

TEST(threads, eight_threads_build_independent_correct_trees) {
  op::options o;
  o.queue_size = 1 << 16;
  op::testing::tracing_scope scope(o);
  op::notifier::configure_queue(o.queue_size, op::overflow_policy::block);
  constexpr int threads = 8, depth = 4, fanout = 4;  // 340 points per thread
  std::vector<std::string> bases(threads);
  std::vector<int> points(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      op::init("k");
      bases[t] = op::get()->base_id();
      points[t] = build(depth, fanout);
      op::clean();
    });
  }
  for (auto& th : pool) th.join();
  auto all = scope.collect();
  op::notifier::configure_queue(op::options{}.queue_size, op::overflow_policy::drop);

  std::size_t expected = 0;
  for (int p : points) expected += 2 * static_cast<std::size_t>(p);
  ASSERT_EQ(all.size(), expected);

  std::map<std::string, const op::notification*> starts;
  std::map<std::string, int> stops;
  for (const auto& n : all) {
    if (n.name.find("-start") != std::string::npos) {
      ASSERT_TRUE(starts.emplace(n.trace_id, &n).second) << "duplicate trace id";
    } else {
      ++stops[n.trace_id];
    }
  }
  for (const auto& [id, start] : starts) {
    EXPECT_EQ(stops[id], 1) << id;
    // The parent is the base or a start of the same trace, one level up.
    if (start->parent_id == start->base_id) {
      EXPECT_EQ(start->name, "level4-start");
      continue;
    }
    auto parent = starts.find(start->parent_id);
    ASSERT_NE(parent, starts.end());
    EXPECT_EQ(parent->second->base_id, start->base_id);
    const int level = std::stoi(start->name.substr(5));
    EXPECT_EQ(parent->second->name, "level" + std::to_string(level + 1) + "-start");
  }
  std::map<std::string, int> per_base;
  for (const auto& [id, start] : starts) ++per_base[start->base_id];
  ASSERT_EQ(per_base.size(), static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) EXPECT_EQ(per_base[bases[t]], points[t]);
}
