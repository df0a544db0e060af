// Private: the trace clock. A trace point takes a stamp on the calling thread;
// the notifier thread turns stamps into Unix time. Where the kernel itself
// keeps time with the CPU's invariant time-stamp counter, a stamp is one
// RDTSC (about half the cost of clock_gettime in a VM); elsewhere it is the
// wall clock, stored negated so that the two kinds can never be confused.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define OSPROFILER_HAVE_TSC 1
#endif

namespace osprofiler::detail {

extern bool g_stamp_tsc;  // set once at load time, see clock.cpp

inline std::int64_t wall_clock_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t now_stamp() noexcept {
#ifdef OSPROFILER_HAVE_TSC
  if (g_stamp_tsc) return static_cast<std::int64_t>(__rdtsc() >> 1);  // >> 1: never negative
#endif
  return -wall_clock_ns();
}

// Converts stamps taken before the last refresh() into Unix nanoseconds. One
// per notifier thread; refresh() once per batch.
class stamp_converter {
 public:
  stamp_converter() noexcept { refresh(); }
  void refresh() noexcept;
  std::int64_t unix_ns(std::int64_t stamp) const noexcept;

 private:
  std::int64_t ticks_ = 0;  // a stamp and the wall clock read at the same moment
  std::int64_t ns_ = 0;
  double ns_per_tick_ = 0;
};

// Nanoseconds from `stamp` to now: one counter read once the process has
// run a tenth of a second (before, a calibration of a few hundred ns). For
// checks such as SQLite's progress handler, not for every trace point.
std::int64_t stamp_age_ns(std::int64_t stamp) noexcept;

// True when stamps are time-stamp counter readings (for tests and docs).
bool stamps_use_tsc() noexcept;

}  // namespace osprofiler::detail
