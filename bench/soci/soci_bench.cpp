// Point SELECT by primary key through a prepared soci::statement on SQLite
// :memory:: the raw SOCI session, the traced session with the profiler
// disabled, and traced with trace_sql on (collector: a file:// temp file).
// Run all three in one process and compare the ratios to raw.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include "osprofiler/notifier.h"
#include "osprofiler/profiler.h"
#include "osprofiler/soci/soci.h"

namespace {

constexpr int rows = 1000;

void fill(soci::session& sql) {
  sql << "CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)";
  soci::transaction tr(sql);
  for (int i = 0; i < rows; ++i) sql << "INSERT INTO kv (id, v) VALUES (:i, 'value')", soci::use(i);
  tr.commit();
}

void point_select(benchmark::State& state, soci::session& sql) {
  fill(sql);
  int id = 0;
  std::string v;
  soci::statement st = (sql.prepare << "SELECT v FROM kv WHERE id = :id", soci::use(id), soci::into(v));
  for (auto _ : state) {
    id = (id + 7) % rows;
    st.execute(true);
    benchmark::DoNotOptimize(v);
  }
}

void raw(benchmark::State& state) {
  soci::session sql(soci::sqlite3, ":memory:");
  point_select(state, sql);
}

void traced_disabled(benchmark::State& state) {
  osprofiler::set_options(osprofiler::options{});
  osprofiler::init("bench");
  {
    osprofiler::soci::session sql(soci::sqlite3, ":memory:");
    point_select(state, sql);
  }
  osprofiler::clean();
}

void traced_trace_sql(benchmark::State& state) {
  const std::string path = "/tmp/osprofiler-soci-bench-" + std::to_string(getpid()) + ".jsonl";
  osprofiler::notifier::set(osprofiler::notifier::create("file://" + path));
  osprofiler::options o;
  o.enabled = true;
  o.trace_sql = true;
  osprofiler::set_options(o);
  osprofiler::init("bench");
  {
    osprofiler::soci::session sql(soci::sqlite3, ":memory:");
    point_select(state, sql);
  }
  osprofiler::clean();
  osprofiler::notifier::flush();
  const auto s = osprofiler::notifier::stats();
  state.counters["dropped"] = static_cast<double>(s.dropped);
  osprofiler::set_options(osprofiler::options{});
  osprofiler::notifier::set(std::shared_ptr<osprofiler::collector>{});
  std::remove(path.c_str());
}

}  // namespace

BENCHMARK(raw);
BENCHMARK(traced_disabled);
BENCHMARK(traced_trace_sql);
BENCHMARK(raw);  // again: shows the drift of the machine between runs

BENCHMARK_MAIN();
