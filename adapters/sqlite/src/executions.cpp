#include "executions.h"

#include <algorithm>
#include <vector>

#include "osprofiler/profiler.h"

namespace osprofiler::sqlite::detail {
namespace {

struct entry {
  void* owner;
  const profiler* prof;
  std::size_t depth;
  settle_fn settle;
  std::weak_ptr<void> guard;
};

// Short: a handful of nested runs at most.
thread_local std::vector<entry> t_open;

}  // namespace

void enlist(void* owner, std::size_t depth, settle_fn settle, std::weak_ptr<void> guard) noexcept {
  try {
    t_open.push_back({owner, osprofiler::get(), depth, settle, std::move(guard)});
  } catch (...) {
    // Out of memory: the point still ends by itself when it is on top.
  }
}

void delist(void* owner) noexcept {
  for (auto it = t_open.rbegin(); it != t_open.rend(); ++it) {
    if (it->owner == owner) {
      t_open.erase(std::next(it).base());
      return;
    }
  }
}

void settle_above(std::size_t depth) noexcept {
  profiler* p = osprofiler::get();
  // Settle callbacks only end points; they never enlist, so indexes hold.
  for (std::size_t i = t_open.size(); i-- > 0;) {
    if (i >= t_open.size()) continue;
    entry e = t_open[i];
    const auto alive = e.guard.lock();
    if (alive && (e.prof != p || e.depth <= depth)) continue;
    t_open.erase(t_open.begin() + static_cast<std::ptrdiff_t>(i));
    if (alive) {
      e.settle(e.owner);
    } else if (p && e.prof == p && p->depth() == e.depth) {
      // The owner is gone (destroyed on another thread, where it could not
      // stop a point of this one): stop its point as the stack holds it.
      osprofiler::get()->stop();
    }
  }
}

}  // namespace osprofiler::sqlite::detail
