// Runs variants of one operation (raw driver call, traced with the profiler
// off, traced with tracing on) in interleaved rounds in one process, so that
// drift in the machine or the server falls on all of them alike, and prints
// each variant's median round and its median ratio to the first variant
// (ratios are taken round by round, so that slow drift of the machine cancels).
//
//   int main(int argc, char** argv) {
//     return osprofiler::bench::run_rounds(argc, argv, {{"raw", raw}, {"traced", traced}}, opts);
//   }
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "osprofiler/notifier.h"
#include "osprofiler/options.h"

namespace osprofiler::bench {

// The "traced" variants' switch: tracing and trace_sql on, or the defaults
// (everything off). Switching off (outside the timed loop) also waits until
// the notifier thread has written every point recorded so far, so that one
// variant's store work never runs during another variant's round.
inline void set_tracing(bool on) {
  if (!on && !notifier::flush()) std::fprintf(stderr, "WARNING: notifier::flush() timed out; rounds may overlap\n");
  options o;
  o.enabled = on;
  o.trace_sql = on;
  set_options(o);
}

struct variant {
  std::string name;  // the first variant is the base of the ratios
  void (*run)(benchmark::State&);
};

struct rounds_options {
  // Many short rounds: a round's variants run within a second of each other,
  // which this shared VM's drift (up to 40% over minutes) does not reach.
  int rounds = 21;
  double min_time_s = 0.1;
  bool real_time = false;  // time the loop by wall clock (a network round trip)
  std::string unit = "per call";
  std::string targets;  // printed under the table, e.g. "disabled <= 1.02x"
  // Room for every event of a round, so that none is dropped: a dropped
  // event costs the caller less than a queued one and would flatter the
  // traced figures. (About 400 MiB of slots: the caller writes each slot
  // once per round, from memory rather than cache, which errs the other way.)
  std::size_t queue_capacity = std::size_t{1} << 21;
};

// The console table, then the median round of each variant: wall time and
// the calling thread's CPU time, each with its ratio to the base variant.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  ratio_reporter(std::vector<std::string> order, rounds_options opts)
      : order_(std::move(order)), opts_(std::move(opts)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      // Rounds only (no aggregates of --benchmark_repetitions, no failed
      // runs), kept by round number so that round i pairs with round i.
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      const std::string name = r.benchmark_name();
      const auto at = name.find("/round:");
      if (at == std::string::npos) continue;
      const std::string v = name.substr(0, at);
      const int round = std::atoi(name.c_str() + at + 7);
      wall_[v][round] = r.GetAdjustedRealTime();
      cpu_[v][round] = r.GetAdjustedCPUTime();
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    const std::string& base = order_.front();
    std::printf("\nmedian of %d rounds, %s:   wall (ratio)          caller CPU (ratio)\n", opts_.rounds,
                opts_.unit.c_str());
    for (const auto& v : order_) {
      std::printf("  %-10s %16.3f us (%.3fx) %12.3f us (%.3fx)\n", v.c_str(), median(wall_[v]) / 1000.0,
                  median_ratio(wall_[v], wall_[base]), median(cpu_[v]) / 1000.0, median_ratio(cpu_[v], cpu_[base]));
    }
    std::printf("(times: the median round; ratios: the median of the rounds' own ratios)\n");
    if (!opts_.targets.empty()) std::printf("targets: %s\n", opts_.targets.c_str());
    const auto s = notifier::stats();
    std::printf("notifier: %llu recorded, %llu sent, %llu dropped\n", static_cast<unsigned long long>(s.recorded),
                static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.dropped));
    if (s.dropped > 0) std::printf("WARNING: events were dropped; the traced figures are too low\n");
  }

 private:
  using rounds_t = std::map<int, double>;  // round number -> time

  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  }

  static double median(const rounds_t& rounds) {
    std::vector<double> v;
    for (const auto& [round, t] : rounds) v.push_back(t);
    return median(std::move(v));
  }

  // Each round of `v` against the same round of `base`.
  static double median_ratio(const rounds_t& v, const rounds_t& base) {
    std::vector<double> r;
    for (const auto& [round, t] : v) {
      const auto b = base.find(round);
      if (b != base.end() && b->second > 0) r.push_back(t / b->second);
    }
    return median(std::move(r));
  }

  std::vector<std::string> order_;
  rounds_options opts_;
  std::map<std::string, rounds_t> wall_, cpu_;
};

// Registers `opts.rounds` rounds of every variant, in order, and runs them.
inline int run_rounds(int argc, char** argv, const std::vector<variant>& variants, const rounds_options& opts) {
  std::vector<std::string> order;
  for (const auto& v : variants) order.push_back(v.name);
  for (int round = 0; round < opts.rounds; ++round) {
    for (const auto& v : variants) {
      auto* b = benchmark::RegisterBenchmark((v.name + "/round:" + std::to_string(round)).c_str(), v.run);
      b->MinTime(opts.min_time_s);
      if (opts.real_time) b->UseRealTime();
    }
  }
  notifier::configure_queue(opts.queue_capacity, overflow_policy::drop);
  benchmark::Initialize(&argc, argv);
  ratio_reporter reporter(order, opts);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  return 0;
}

}  // namespace osprofiler::bench
