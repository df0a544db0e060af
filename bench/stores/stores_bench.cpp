// Trace store benchmarks:
//   BM_Sustained/<store>: notifications per second, end to end (trace points
//     recorded on the calling thread -> notifier thread -> store), timed from
//     the first record to the end of notifier::flush().
//   BM_StoreWrite/<store>: the store's part of that alone: batches already
//     in the notifier's text form, written on the benchmark's thread.
//   BM_Report/<store>: get_report() of a trace of 100,001 points (200,002
//     notifications), load included; freeing the result (and trimming the
//     heap after it) is timed apart (counter free_s).
//   BM_PythonReport: Python OSProfiler's sqlalchemy driver get_report() on
//     the same PostgreSQL trace (the anchor; ratio = Python / ours).
// PostgreSQL benchmarks run when OSPROFILER_BENCH_PG holds a postgresql:// URI
// (e.g. scripts/pg-test-server.sh start /tmp/pgbench; cat /tmp/pgbench/uri).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "osprofiler/db.h"
#include "osprofiler/options.h"
#include "osprofiler/profiler.h"
#include "osprofiler/store.h"
#include "osprofiler/stores.h"
#include "rows.h"

namespace {

using namespace osprofiler;

// CPU seconds used by this process so far (all threads: the notifier's too).
// The machine these run on is shared, so wall time alone says little.
double process_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string pg_uri() {
  const char* v = std::getenv("OSPROFILER_BENCH_PG");
  return v ? v : "";
}

// This run's SQLite files; removed when the run ends.
const std::filesystem::path& bench_dir() {
  static const auto dir = std::filesystem::temp_directory_path() / ("osprofiler-bench-" + std::to_string(getpid()));
  return dir;
}

std::string sqlite_uri(const std::string& name) {
  std::filesystem::create_directories(bench_dir());
  return "sqlite:///" + (bench_dir() / name).string();
}

std::shared_ptr<store> make(const std::string& kind) {
  register_stores();
  if (kind == "sqlite") return open_store(sqlite_uri("sustained.db"));
#ifdef OSPROFILER_HAVE_POSTGRESQL
  const auto cs = connection_string::parse(pg_uri());
  if (kind == "pg-copy") return detail::make_pg_store(cs, {}, detail::pg_batch_method::copy);
  if (kind == "pg-insert") return detail::make_pg_store(cs, {}, detail::pg_batch_method::insert);
#endif
  return nullptr;
}

// False, and the benchmark skipped, when `kind` is a PostgreSQL store and
// no server was given.
bool server_given(benchmark::State& state, const std::string& kind) {
  if (kind == "sqlite" || !pg_uri().empty()) return true;
  state.SkipWithError("set OSPROFILER_BENCH_PG to a postgresql:// URI");
  return false;
}

// The store for `kind`, or nullptr with the benchmark skipped.
std::shared_ptr<store> open_or_skip(benchmark::State& state, const std::string& kind) {
  if (!server_given(state, kind)) return nullptr;
  auto s = make(kind);
  if (!s) state.SkipWithError("store not built");
  return s;
}

// Points of a typical SQL trace, `points` of either kind:
//   "trace": Python's style, info built by the caller as JSON (statement
//            and a parameter on start, rows on stop);
//   "db_call": what the adapters record (db::call with trace_sql on: the
//            statement text, rows on stop), no JSON on the calling thread.
void BM_Sustained(benchmark::State& state, std::string kind, std::string points_kind) {
  auto s = open_or_skip(state, kind);
  if (!s) return;
  s->set_identity("bench", "stores", host_name());
  notifier::configure_queue(1 << 20, overflow_policy::block);
  notifier::set(s);
  options on;
  on.enabled = true;
  on.trace_sql = true;
  set_options(on);
  const int points = 50000;
  const nlohmann::json params = {{"id", 42}};
  const auto statement = db::make_text("SELECT * FROM instances WHERE id = ?");
  db::endpoint ep;
  ep.system = "sqlite";
  ep.ns = db::intern(std::string_view("main"));
  std::uint64_t failed = 0;
  const double cpu0 = process_cpu();
  for (auto _ : state) {
    const auto before = notifier::stats();
    init("key");
    if (points_kind == "db_call") {
      for (int i = 0; i < points; ++i) {
        db::call c(ep, "execute", statement);
        c.rows(1);
      }
    } else {
      for (int i = 0; i < points; ++i) {
        trace t("db", {{"db", {{"statement", "SELECT * FROM instances WHERE id = %(id)s"}, {"params", params}}}});
        t.set_stop_info({{"db", {{"rows", 1}}}});
      }
    }
    clean();
    if (!notifier::flush(std::chrono::seconds(300))) state.SkipWithError("flush timed out");
    const auto after = notifier::stats();
    failed += (after.failed - before.failed) + (after.dropped - before.dropped);
  }
  set_options(options{});
  notifier::set(std::shared_ptr<collector>{});
  const double notifications = static_cast<double>(state.iterations()) * points * 2;
  state.SetItemsProcessed(state.iterations() * points * 2);
  state.counters["lost"] = static_cast<double>(failed);
  // Client-side CPU per notification, both threads (the server's is not in it).
  state.counters["client_cpu_us"] = (process_cpu() - cpu0) / notifications * 1e6;
}

// The store's own share of BM_Sustained: batches of 1,024 notifications,
// already text as the notifier hands them over, written on this thread.
void BM_StoreWrite(benchmark::State& state, std::string kind) {
  auto s = open_or_skip(state, kind);
  if (!s) return;
  constexpr std::size_t batch = 1024, batches = 100;
  const std::string base = uuid::generate().str(), parent = uuid::generate().str(), host = host_name();
  const std::string info =
      R"({"db":{"params":{"id":42},"statement":"SELECT * FROM instances WHERE id = %(id)s"},"host":")" + host + "\"}";
  std::vector<std::string> ids, stamps;
  std::vector<std::vector<notification_view>> work(batches);
  std::int64_t t = 1795000000LL * 1000000;
  for (std::size_t i = 0; i < batch * batches; ++i) {
    ids.push_back(uuid::generate().str());
    stamps.push_back(format_timestamp(t += 3));
  }
  for (std::size_t i = 0; i < batch * batches; ++i) {
    work[i / batch].push_back({i % 2 ? "db-stop" : "db-start", base, parent, ids[i], stamps[i], "bench", "stores", host, info});
  }
  for (auto _ : state) {
    for (const auto& b : work) s->write_text(b);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch * batches));
}

// A 100,001-point trace: request -> 1,000 rpc -> 99 db each.
std::string write_big_trace(store& s) {
  const std::string base = "7a1f0000-0000-4000-8000-000000000000";
  std::vector<notification> batch;
  std::int64_t t = 1795000000LL * 1000000;  // µs
  int next = 1;
  auto id = [&] {
    char buf[40];
    std::snprintf(buf, sizeof buf, "7a1f0000-0000-4000-8000-%012d", next++);
    return std::string(buf);
  };
  auto emit = [&](const std::string& name, const std::string& tid, const std::string& pid, nlohmann::json info) {
    notification n;
    n.name = name;
    n.base_id = base;
    n.trace_id = tid;
    n.parent_id = pid;
    n.timestamp = format_timestamp(t);
    t += 37;
    n.project = "bench";
    n.service = "api";
    n.host = "node-1";
    info["host"] = "node-1";
    n.info = std::move(info);
    batch.push_back(std::move(n));
    if (batch.size() == 5000) {
      s.write(batch);
      batch.clear();
    }
  };
  const auto root = id();
  emit("wsgi-start", root, base, {{"request", {{"method", "GET"}, {"path", "/v2/servers"}}}});
  for (int r = 0; r < 1000; ++r) {
    const auto rpc = id();
    emit("rpc-start", rpc, root, {{"function", {{"name", "nova.compute.api.get"}}}});
    for (int d = 0; d < 99; ++d) {
      const auto db = id();
      emit("db-start", db, rpc,
           {{"db", {{"statement", "SELECT * FROM instances WHERE id = %(id)s"}, {"params", {{"id", d}}}}}});
      emit("db-stop", db, rpc, {{"db", {{"rows", 1}}}});
    }
    emit("rpc-stop", rpc, root, nlohmann::json::object());
  }
  emit("wsgi-stop", root, base, nlohmann::json::object());
  if (!batch.empty()) s.write(batch);
  return base;
}

std::map<std::string, std::pair<std::shared_ptr<store>, std::string>>& big_traces() {
  static std::map<std::string, std::pair<std::shared_ptr<store>, std::string>> m;
  return m;
}

std::pair<std::shared_ptr<store>, std::string> big_trace(const std::string& kind) {
  auto it = big_traces().find(kind);
  if (it != big_traces().end()) return it->second;
  register_stores();
  std::string cs = kind == "sqlite" ? sqlite_uri("report.db") : pg_uri();
  auto s = open_store(cs);
  if (kind != "sqlite") {
    // A clean trace: remove an earlier run's copy.
    if (!s->load("7a1f0000-0000-4000-8000-000000000000").empty()) {
      std::fprintf(stderr, "note: reusing the 100k-point trace already in %s\n", redact(cs).c_str());
      return big_traces()[kind] = {s, "7a1f0000-0000-4000-8000-000000000000"};
    }
  }
  const auto base = write_big_trace(*s);
  return big_traces()[kind] = {s, base};
}

void BM_Report(benchmark::State& state, std::string kind) {
  if (!server_given(state, kind)) return;
  auto [s, base] = big_trace(kind);
  std::size_t points = 0;
  double cpu = 0, freeing = 0;
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::duration d) { return std::chrono::duration<double>(d).count(); };
  for (auto _ : state) {
    // The call alone, as Python's is timed; freeing the report (about four
    // million JSON nodes) is the caller's, reported apart.
    const double cpu0 = process_cpu();
    const auto t0 = clock::now();
    auto report = std::make_unique<nlohmann::json>(s->get_report(base));
    const auto t1 = clock::now();
    cpu += process_cpu() - cpu0;
    points = (*report)["stats"]["db"]["count"].get<std::size_t>() + (*report)["stats"]["rpc"]["count"].get<std::size_t>() + 1;
    benchmark::DoNotOptimize(report);
    report.reset();
    // glibc merges the millions of freed chunks at a later large malloc:
    // do it here, so that the next iteration's call does not pay for this
    // one's freeing (a process showing one report never has that cost).
    malloc_trim(0);
    freeing += seconds(clock::now() - t1);
    state.SetIterationTime(seconds(t1 - t0));
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["points"] = static_cast<double>(points);
  state.counters["process_cpu_s"] = cpu / n;
  state.counters["free_s"] = freeing / n;
}

// The load part of BM_Report alone (rows -> notifications), freeing not timed.
void BM_Load(benchmark::State& state, std::string kind) {
  if (!server_given(state, kind)) return;
  auto [s, base] = big_trace(kind);
  double cpu = 0;
  using clock = std::chrono::steady_clock;
  for (auto _ : state) {
    const double cpu0 = process_cpu();
    const auto t0 = clock::now();
    auto rows = std::make_unique<std::vector<notification>>(s->load(base));
    state.SetIterationTime(std::chrono::duration<double>(clock::now() - t0).count());
    cpu += process_cpu() - cpu0;
    benchmark::DoNotOptimize(rows);
    rows.reset();  // not timed, as in BM_Report
    malloc_trim(0);
  }
  state.counters["process_cpu_s"] = cpu / static_cast<double>(state.iterations());
}

void BM_PythonReport(benchmark::State& state) {
  if (!server_given(state, "pg")) return;
  auto [s, base] = big_trace("pg");
  const auto script = std::filesystem::temp_directory_path() / ("osprofiler-bench-" + std::to_string(getpid()) + ".py");
  std::ofstream(script) << "import sys, time\n"
                           "from osprofiler.drivers import base\n"
                           "d = base.get_driver(sys.argv[1])\n"
                           "t, c = time.perf_counter(), time.process_time()\n"
                           "r = d.get_report(sys.argv[2])\n"
                           "print(time.perf_counter() - t, time.process_time() - c)\n";
  for (auto _ : state) {
    const std::string cmd = "/usr/bin/python3 " + script.string() + " '" + pg_uri() + "' " + base;
    FILE* p = popen(cmd.c_str(), "r");
    double secs = 0, cpu = 0;
    if (!p || std::fscanf(p, "%lf %lf", &secs, &cpu) != 2) state.SkipWithError("python3-osprofiler failed");
    if (p) pclose(p);
    state.SetIterationTime(secs);
    state.counters["process_cpu_s"] = cpu;
  }
  std::filesystem::remove(script);
}

BENCHMARK_CAPTURE(BM_Sustained, sqlite, std::string("sqlite"), std::string("trace"))->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_Sustained, sqlite_db_call, std::string("sqlite"), std::string("db_call"))->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_Sustained, pg_copy, std::string("pg-copy"), std::string("trace"))->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_Sustained, pg_copy_db_call, std::string("pg-copy"), std::string("db_call"))->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_Sustained, pg_insert, std::string("pg-insert"), std::string("trace"))->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_StoreWrite, sqlite, std::string("sqlite"))->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK_CAPTURE(BM_StoreWrite, pg_copy, std::string("pg-copy"))->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK_CAPTURE(BM_Report, sqlite, std::string("sqlite"))->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_Report, pg, std::string("pg"))->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_Load, sqlite, std::string("sqlite"))->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_Load, pg, std::string("pg"))->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK(BM_PythonReport)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  big_traces().clear();  // closes the stores before their files go
  std::error_code ec;
  std::filesystem::remove_all(bench_dir(), ec);
  return 0;
}
