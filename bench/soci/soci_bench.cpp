// Point SELECT by primary key through a prepared soci::statement on SQLite
// :memory:: the raw SOCI session, the traced session with the profiler
// disabled, and traced with trace_sql on (collector: a file:// temp file),
// in interleaved rounds (bench/support/rounds.h). CPU time is the calling
// thread's (the collector writes on the notifier thread).
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
#include "rounds.h"

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

void traced_session(benchmark::State& state, bool tracing) {
  osprofiler::bench::set_tracing(tracing);
  osprofiler::init("bench");
  {
    osprofiler::soci::session sql(soci::sqlite3, ":memory:");
    point_select(state, sql);
  }
  osprofiler::clean();
  osprofiler::bench::set_tracing(false);
}

void disabled(benchmark::State& state) { traced_session(state, false); }
void traced(benchmark::State& state) { traced_session(state, true); }

}  // namespace

int main(int argc, char** argv) {
  const std::string path = "/tmp/osprofiler-soci-bench-" + std::to_string(getpid()) + ".jsonl";
  osprofiler::notifier::set(osprofiler::notifier::create("file://" + path));
  osprofiler::bench::rounds_options opts;
  opts.unit = "per execute";
  opts.targets = "disabled <= 1.02x, traced <= 1.15x (caller CPU)";
  osprofiler::bench::run_rounds(argc, argv, {{"raw", raw}, {"disabled", disabled}, {"traced", traced}}, opts);
  osprofiler::notifier::flush();
  osprofiler::notifier::set(std::shared_ptr<osprofiler::collector>{});
  std::remove(path.c_str());
  return 0;
}
