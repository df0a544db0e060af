// Runs variants of one operation (raw driver call, traced with the profiler
// off, traced with tracing on) in interleaved rounds in one process, so that
// drift in the machine or the server falls on all of them alike, and prints
// each variant's median round as a ratio to the first variant.
//
//   int main(int argc, char** argv) {
//     return osprofiler::bench::run_rounds(argc, argv, {{"raw", raw}, {"traced", traced}}, opts);
//   }
#pragma once

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "osprofiler/notifier.h"
#include "osprofiler/options.h"

namespace osprofiler::bench {

// The "traced" variants' switch: tracing and trace_sql on, or the defaults
// (everything off).
inline void set_tracing(bool on) {
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
  int rounds = 7;
  double min_time_s = 0.5;
  bool real_time = false;  // time the loop by wall clock (a network round trip)
  std::string unit = "per call";
  std::string targets;  // printed under the table, e.g. "disabled <= 1.02x"
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
      const std::string name = r.benchmark_name();
      const std::string v = name.substr(0, name.find('/'));
      wall_[v].push_back(r.GetAdjustedRealTime());
      cpu_[v].push_back(r.GetAdjustedCPUTime());
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    const double base = median(wall_[order_.front()]), cpu_base = median(cpu_[order_.front()]);
    if (base <= 0 || cpu_base <= 0) return;
    std::printf("\nmedian of %d rounds, %s:   wall (ratio)          caller CPU (ratio)\n", opts_.rounds,
                opts_.unit.c_str());
    for (const auto& v : order_) {
      const double w = median(wall_[v]), c = median(cpu_[v]);
      std::printf("  %-10s %16.3f us (%.3fx) %12.3f us (%.3fx)\n", v.c_str(), w / 1000.0, w / base, c / 1000.0,
                  c / cpu_base);
    }
    if (!opts_.targets.empty()) std::printf("targets: %s\n", opts_.targets.c_str());
    const auto s = notifier::stats();
    std::printf("notifier: %llu recorded, %llu sent, %llu dropped\n", static_cast<unsigned long long>(s.recorded),
                static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.dropped));
  }

 private:
  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  }

  std::vector<std::string> order_;
  rounds_options opts_;
  std::map<std::string, std::vector<double>> wall_, cpu_;
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
  benchmark::Initialize(&argc, argv);
  ratio_reporter reporter(order, opts);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  return 0;
}

}  // namespace osprofiler::bench
