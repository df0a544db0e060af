// Cost of one start+stop pair on the calling thread, in three states:
// profiler disabled, enabled with no profiler on the thread, and tracing into
// the file collector. Reported in ns and as a ratio to two
// std::chrono::steady_clock::now() calls measured in the same run.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "osprofiler/db.h"
#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"

namespace op = osprofiler;

namespace {

void two_clock_reads(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::chrono::steady_clock::now());
    benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  }
}
BENCHMARK(two_clock_reads);

void pair_disabled(benchmark::State& state) {
  op::set_enabled(false);
  op::init("k");
  for (auto _ : state) {
    op::start("db");
    op::stop();
  }
  op::clean();
}
BENCHMARK(pair_disabled);

void raii_disabled(benchmark::State& state) {
  op::set_enabled(false);
  op::init("k");
  for (auto _ : state) {
    op::trace t("db");
    benchmark::DoNotOptimize(&t);
  }
  op::clean();
}
BENCHMARK(raii_disabled);

void pair_enabled_no_profiler(benchmark::State& state) {
  op::set_enabled(true);
  op::clean();
  for (auto _ : state) {
    op::start("db");
    op::stop();
  }
  op::set_enabled(false);
}
BENCHMARK(pair_enabled_no_profiler);

// Tracing: the queue is sized so the measured loop never drops; the
// notifier thread writes the file concurrently on the other core.
constexpr std::int64_t tracing_iterations = 400000;

void pair_tracing_file(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "osprofiler-bench-core.jsonl";
  std::filesystem::remove(path);
  op::notifier::configure_queue(2 * tracing_iterations + 1024, op::overflow_policy::drop);
  op::notifier::set(op::notifier::create("file://" + path.string()));
  op::set_enabled(true);
  op::init("k");
  op::start("request");
  const auto before = op::notifier::stats();
  for (auto _ : state) {
    op::start("db");
    op::stop();
  }
  op::stop();
  op::clean();
  op::notifier::flush(std::chrono::seconds(60));
  const auto after = op::notifier::stats();
  state.counters["dropped"] = static_cast<double>(after.dropped - before.dropped);
  state.counters["written"] = static_cast<double>(after.sent - before.sent);
  op::set_enabled(false);
  op::notifier::set(std::shared_ptr<op::collector>{});
  std::filesystem::remove(path);
}
BENCHMARK(pair_tracing_file)->Iterations(tracing_iterations)->Repetitions(5)->ReportAggregatesOnly(true);

void db_call_tracing_with_statement(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "osprofiler-bench-core-db.jsonl";
  std::filesystem::remove(path);
  op::notifier::configure_queue(2 * tracing_iterations + 1024, op::overflow_policy::drop);
  op::notifier::set(op::notifier::create("file://" + path.string()));
  op::options o;
  o.enabled = true;
  o.trace_sql = true;
  op::set_options(o);
  op::db::endpoint ep;
  ep.system = "sqlite";
  ep.ns = op::db::intern(std::string_view("main.db"));
  const auto sql = op::db::make_text("SELECT name, qty FROM items WHERE id = ?");
  op::init("k");
  for (auto _ : state) {
    op::db::call c(ep, "execute", sql);
    c.rows(1);
  }
  op::clean();
  op::notifier::flush(std::chrono::seconds(60));
  op::set_options(op::options{});
  op::notifier::set(std::shared_ptr<op::collector>{});
  std::filesystem::remove(path);
}
BENCHMARK(db_call_tracing_with_statement)->Iterations(tracing_iterations)->Repetitions(5)->ReportAggregatesOnly(true);

// Prints the usual console table and, at the end, each benchmark's time as a
// ratio to two_clock_reads from the same run. CPU time of the calling thread
// is used: it is what a trace point costs the caller, and it does not count
// time the thread spent descheduled on a busy machine.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      ns_[r.run_name.function_name] = r.GetAdjustedCPUTime();  // the calling thread's own CPU time
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const double base = ns_["two_clock_reads"];
    std::printf("\n%-34s %10s %12s\n", "start+stop pair", "ns", "x 2 clocks");
    for (const auto& [name, ns] : ns_) std::printf("%-34s %10.2f %12.2f\n", name.c_str(), ns, base > 0 ? ns / base : 0);
  }

 private:
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}
