// The libpqxx adapter's overhead on a point SELECT by primary key through
// exec_prepared, against a real server ($OSPROFILER_BENCH_PG):
//   raw       pqxx::nontransaction::exec_prepared
//   disabled  osprofiler::pqxx::nontransaction, profiler off (the default)
//   traced    the same with tracing and trace_sql on, to a file:// collector
// The three run in interleaved rounds in one process, so that drift in the
// server or the machine falls on all of them alike; the ratios at the end
// use each variant's median round.
//
//   scripts/pg-test-server.sh start /tmp/pgbench
//   OSPROFILER_BENCH_PG=$(cat /tmp/pgbench/uri) build/bench/pqxx/pqxx_bench
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <pqxx/pqxx>

#include "osprofiler/notifier.h"
#include "osprofiler/options.h"
#include "osprofiler/pqxx/pqxx.h"
#include "osprofiler/profiler.h"
#include "rounds.h"

namespace {

constexpr int kRows = 1000;
const char* const kSelect = "SELECT id, v FROM pqxx_bench WHERE id = $1";

std::string g_uri;

void raw(benchmark::State& state) {
  osprofiler::bench::set_tracing(false);
  pqxx::connection c(g_uri);
  c.prepare("by_id", kSelect);
  pqxx::nontransaction tx(c);
  int id = 1;
  for (auto _ : state) {
    pqxx::result r = tx.exec_prepared("by_id", id);
    benchmark::DoNotOptimize(r);
    id = id % kRows + 1;
  }
}

void traced_types(benchmark::State& state, bool tracing) {
  osprofiler::bench::set_tracing(false);
  osprofiler::pqxx::connection c(g_uri);
  c.prepare("by_id", kSelect);
  osprofiler::pqxx::nontransaction tx(c);
  osprofiler::bench::set_tracing(tracing);
  osprofiler::init("bench-key");
  int id = 1;
  for (auto _ : state) {
    pqxx::result r = tx.exec_prepared("by_id", id);
    benchmark::DoNotOptimize(r);
    id = id % kRows + 1;
  }
  osprofiler::clean();
  osprofiler::bench::set_tracing(false);
}

void disabled(benchmark::State& state) { traced_types(state, false); }
void traced(benchmark::State& state) { traced_types(state, true); }

}  // namespace

int main(int argc, char** argv) {
  const char* uri = std::getenv("OSPROFILER_BENCH_PG");
  if (!uri || !*uri) {
    std::fprintf(stderr,
                 "pqxx_bench: set OSPROFILER_BENCH_PG to a PostgreSQL URI, e.g.\n"
                 "  scripts/pg-test-server.sh start /tmp/pgbench\n"
                 "  OSPROFILER_BENCH_PG=$(cat /tmp/pgbench/uri) %s\n",
                 argv[0]);
    return 2;
  }
  g_uri = uri;
  {
    pqxx::connection c(g_uri);
    pqxx::work tx(c);
    tx.exec("DROP TABLE IF EXISTS pqxx_bench");
    tx.exec("CREATE TABLE pqxx_bench (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    tx.exec("INSERT INTO pqxx_bench SELECT g, md5(g::text) FROM generate_series(1, " + std::to_string(kRows) + ") g");
    tx.commit();
  }
  const auto trace_file = std::filesystem::temp_directory_path() / "osprofiler-pqxx-bench.jsonl";
  std::filesystem::remove(trace_file);
  osprofiler::notifier::set(osprofiler::notifier::create("file://" + trace_file.string()));

  // Wall time is what the caller waits for; CPU time is the calling thread's
  // own work, which the server's and the socket's noise does not reach.
  osprofiler::bench::rounds_options opts;
  opts.real_time = true;
  opts.unit = "per SELECT";
  opts.targets = "disabled <= 1.01x, traced <= 1.02x (wall)";
  osprofiler::bench::run_rounds(argc, argv, {{"raw", raw}, {"disabled", disabled}, {"traced", traced}}, opts);
  osprofiler::notifier::flush();
  osprofiler::notifier::set(std::shared_ptr<osprofiler::collector>{});
  std::filesystem::remove(trace_file);
  return 0;
}
