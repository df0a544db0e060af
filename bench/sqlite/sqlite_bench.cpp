// The SQLite adapter's overhead on a point SELECT by primary key, on a
// 1,000-row in-memory table, with one prepared statement reused:
//   raw       sqlite3_bind_int64 / sqlite3_step / sqlite3_column_* / sqlite3_reset
//   disabled  osprofiler::sqlite::statement, profiler off (the default)
//   traced    the same with tracing and trace_sql on, a trace active, and the
//             points going to the SQLite store (sqlite:///<tmp>/b.db)
// The three run in interleaved rounds in one process (bench/support/rounds.h),
// so that drift in the machine falls on all of them alike; every traced point
// is queued and written (none dropped). CPU time is the calling thread's (the
// store writes on the notifier thread).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "osprofiler/notifier.h"
#include "osprofiler/options.h"
#include "osprofiler/profiler.h"
#include "osprofiler/sqlite/sqlite.h"
#include "rounds.h"
#ifdef OSPROFILER_BENCH_SQLITE_STORE
#include "osprofiler/stores.h"
#endif

namespace {

constexpr int kRows = 1000;
const char* const kSelect = "SELECT id, v FROM t WHERE id = ?";

void fill(sqlite3* db) {
  sqlite3_exec(db,
               "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
               "INSERT INTO t SELECT i, hex(randomblob(16)) FROM n;",
               nullptr, nullptr, nullptr);
}

void raw(benchmark::State& state) {
  osprofiler::bench::set_tracing(false);
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  fill(db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, kSelect, -1, &st, nullptr);
  sqlite3_int64 id = 1;
  std::size_t bytes = 0;
  for (auto _ : state) {
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
      // What statement::column_text() does: the text, then its length.
      const unsigned char* text = sqlite3_column_text(st, 1);
      benchmark::DoNotOptimize(text);
      bytes += static_cast<std::size_t>(sqlite3_column_int64(st, 0)) + static_cast<std::size_t>(sqlite3_column_bytes(st, 1));
    }
    sqlite3_reset(st);
    id = id % kRows + 1;
  }
  benchmark::DoNotOptimize(bytes);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

void traced_types(benchmark::State& state, bool tracing) {
  osprofiler::bench::set_tracing(false);
  osprofiler::sqlite::connection c(":memory:");
  fill(c.handle());
  osprofiler::sqlite::statement st = c.prepare(kSelect);
  osprofiler::bench::set_tracing(tracing);
  osprofiler::init("bench-key");
  std::int64_t id = 1;
  std::size_t bytes = 0;
  {
    osprofiler::trace request("bench");  // the active trace the points join
    for (auto _ : state) {
      st.bind(1, id);
      while (st.step()) {
        bytes += static_cast<std::size_t>(st.column_int64(0)) + st.column_text(1).size();
      }
      st.reset();
      id = id % kRows + 1;
    }
  }
  benchmark::DoNotOptimize(bytes);
  osprofiler::clean();
  osprofiler::bench::set_tracing(false);
}

void disabled(benchmark::State& state) { traced_types(state, false); }
void traced(benchmark::State& state) { traced_types(state, true); }

}  // namespace

int main(int argc, char** argv) {
  const auto dir = std::filesystem::temp_directory_path() / "osprofiler-sqlite-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
#ifdef OSPROFILER_BENCH_SQLITE_STORE
  osprofiler::register_stores();
  // sqlite:/// + an absolute path ("sqlite:////tmp/..."): three slashes
  // alone would be a path relative to the working directory.
  const std::string store = "sqlite:///" + (dir / "b.db").string();
#else
  const std::string store = "file://" + (dir / "b.jsonl").string();
#endif
  // OSPROFILER_BENCH_STORE=file:///tmp/x.jsonl compares another collector.
  const char* other = std::getenv("OSPROFILER_BENCH_STORE");
  const std::string used = other && *other ? other : store;
  std::printf("store: %s\n", used.c_str());
  osprofiler::notifier::set(osprofiler::notifier::create(used));

  osprofiler::bench::rounds_options opts;
  opts.unit = "per SELECT";
  opts.targets = "disabled <= 1.02x, traced <= 1.20x (caller CPU)";
  osprofiler::bench::run_rounds(argc, argv, {{"raw", raw}, {"disabled", disabled}, {"traced", traced}}, opts);
  osprofiler::notifier::flush();
  osprofiler::notifier::set(std::shared_ptr<osprofiler::collector>{});
  std::filesystem::remove_all(dir);
  return 0;
}
