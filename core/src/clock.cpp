#include "clock.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#ifdef OSPROFILER_HAVE_TSC
#include <cpuid.h>
#endif

namespace osprofiler::detail {
namespace {

struct anchor {
  std::int64_t ticks = 0;
  std::int64_t ns = 0;
};

// The counter is usable when it is invariant (constant rate, runs in sleep
// states) and the kernel chose it as its clocksource: then it has checked
// that the counters of all CPUs agree. OSPROFILER_CLOCK=system forces the
// wall clock.
bool tsc_usable() noexcept {
#ifdef OSPROFILER_HAVE_TSC
  if (const char* forced = std::getenv("OSPROFILER_CLOCK"); forced && std::strcmp(forced, "system") == 0) {
    return false;
  }
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8))) return false;
  try {
    std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string source;
    return in >> source && source == "tsc";
  } catch (...) {
    return false;
  }
#else
  return false;
#endif
}

// A counter reading paired with the wall clock: the tightest of a few tries,
// so that a preemption between the two reads does not skew the pairing.
anchor sample() noexcept {
  anchor best;
#ifdef OSPROFILER_HAVE_TSC
  std::int64_t best_gap = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const auto t1 = static_cast<std::int64_t>(__rdtsc() >> 1);
    const std::int64_t ns = wall_clock_ns();
    const auto t2 = static_cast<std::int64_t>(__rdtsc() >> 1);
    if (t2 - t1 < best_gap) {
      best_gap = t2 - t1;
      best = {t1 + (t2 - t1) / 2, ns};
    }
  }
#endif
  return best;
}

}  // namespace

bool g_stamp_tsc = tsc_usable();

namespace {
// Taken at load time: every counter stamp is later than this, which bounds
// the error of the rate estimate (see unix_ns()).
const anchor g_first = g_stamp_tsc ? sample() : anchor{};
}  // namespace

bool stamps_use_tsc() noexcept { return g_stamp_tsc; }

namespace {
// The counter's rate from load time to `now`; 0 when no tick has passed.
double ns_per_tick_since_load(const anchor& now) noexcept {
  const std::int64_t span = now.ticks - g_first.ticks;
  return span > 0 ? static_cast<double>(now.ns - g_first.ns) / static_cast<double>(span) : 0.0;
}
}  // namespace

void stamp_converter::refresh() noexcept {
  if (!g_stamp_tsc) return;
  const anchor now = sample();
  ticks_ = now.ticks;
  ns_ = now.ns;
  ns_per_tick_ = ns_per_tick_since_load(now);
}

// Stamps are counted back from the latest anchor at the rate measured since
// load time. A stamp lies between the two anchors, so the rate error weighs at
// most as much as the jitter of one anchor pairing: well under a microsecond.
std::int64_t stamp_converter::unix_ns(std::int64_t stamp) const noexcept {
  if (stamp <= 0) return -stamp;
  return ns_ - static_cast<std::int64_t>(static_cast<double>(ticks_ - stamp) * ns_per_tick_);
}

std::int64_t stamp_age_ns(std::int64_t stamp) noexcept {
  if (stamp <= 0) return wall_clock_ns() + stamp;
  // The counter's rate, measured from load time: kept once measured over a
  // tenth of a second, so that most calls cost one counter read.
  static std::atomic<double> kept_rate{0.0};
  double ns_per_tick = kept_rate.load(std::memory_order_relaxed);
  if (ns_per_tick == 0.0) {
    const anchor now = sample();
    ns_per_tick = ns_per_tick_since_load(now);
    if (ns_per_tick == 0.0) return 0;
    if (now.ns - g_first.ns >= 100'000'000) kept_rate.store(ns_per_tick, std::memory_order_relaxed);
  }
  return static_cast<std::int64_t>(static_cast<double>(now_stamp() - stamp) * ns_per_tick);
}

}  // namespace osprofiler::detail
