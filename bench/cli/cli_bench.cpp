// `trace show` of a 100,000-point trace, in every format.
//
// In process (BM_show/<format>): report building + view model + rendering,
// from the notifications a store returns. As the real command on a real
// store (BM_command/sqlite/<format> on the embedded default,
// BM_command/pg/<format> and BM_python_pg_json on PostgreSQL, which need
// OSPROFILER_BENCH_PG=postgresql://...): the trace is written there once by
// our stores (the layout Python reads), then the command(s) read it.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include "osprofiler/report.h"
#include "osprofiler/store.h"
#include "osprofiler/stores.h"
#include "osprofiler/views.h"

namespace views = osprofiler::views;

namespace {

constexpr int kPoints = 100'000;
const char* const kBase = "b0000000-0000-4000-8000-000000000100";

// A service trace: one wsgi root, 1,000 handler points, each with 99 db
// points (statements with literals, so the summary has work to do).
const std::vector<osprofiler::notification>& trace() {
  static const std::vector<osprofiler::notification> notes = [] {
    std::vector<osprofiler::notification> out;
    out.reserve(2 * kPoints);
    std::int64_t clock = 1'763'740'800'000'000;
    int next = 0;
    auto id = [&] {
      char b[40];
      std::snprintf(b, sizeof b, "a0000000-0000-4000-8000-%012d", next++);
      return std::string(b);
    };
    auto note = [&](const std::string& name, const std::string& parent, const std::string& tid, nlohmann::json info) {
      osprofiler::notification n;
      n.name = name;
      n.base_id = kBase;
      n.parent_id = parent;
      n.trace_id = tid;
      n.timestamp = osprofiler::format_timestamp(clock);
      n.project = "bench";
      n.service = "api";
      n.host = "benchhost";
      info["host"] = "benchhost";
      n.info = std::move(info);
      out.push_back(std::move(n));
    };
    const std::string root = id();
    note("wsgi-start", kBase, root, {{"request", {{"method", "GET"}, {"path", "/bench"}}}});
    for (int h = 0; h < 1000; ++h) {
      const std::string handler = id();
      note("handler-start", root, handler, {{"function", {{"name", "api.handle_" + std::to_string(h % 17)}}}});
      for (int d = 0; d < 99; ++d) {
        const std::string p = id();
        clock += 3;
        note("db-start", handler, p,
             {{"db", {{"system", "postgresql"}, {"api", "execute"}, {"namespace", "bench"},
                      {"statement", "SELECT name, price FROM products WHERE id = " + std::to_string(h * 100 + d) +
                                        " AND tenant = 'acme'"}}}});
        clock += 20 + (d % 7) * 5;
        note("db-stop", handler, p, {{"db", {{"rows", 1}}}});
      }
      clock += 11;
      note("handler-stop", root, handler, nlohmann::json::object());
    }
    note("wsgi-stop", kBase, root, nlohmann::json::object());
    return out;
  }();
  return notes;
}

void render(const views::trace_model& m, int format, std::ostream& out) {
  switch (format) {
    case 0: views::render_text(m, {}, out); break;
    case 1: views::render_json(m, out); break;
    case 2: views::render_dot(m, out); break;
    default: views::render_html(m, out); break;
  }
}

const char* const kFormats[] = {"text", "json", "dot", "html"};
const char* const kFlags[] = {"", "--json", "--dot", "--html"};

void BM_show(benchmark::State& state) {
  const auto& notes = trace();
  std::size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto copy = notes;  // what a store's load() hands over
    state.ResumeTiming();
    const auto times = views::exact_times(copy);
    auto m = std::make_unique<views::trace_model>(views::make_model(osprofiler::build_report(std::move(copy)), &times));
    std::ostringstream out;
    render(*m, static_cast<int>(state.range(0)), out);
    bytes = out.str().size();
    benchmark::DoNotOptimize(bytes);
    // The command leaves the model to the process exit (cli/src/main.cpp).
    state.PauseTiming();
    m.reset();
    state.ResumeTiming();
  }
  state.SetLabel(kFormats[state.range(0)]);
  state.counters["points"] = kPoints;
  state.counters["output_MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(BM_show)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(3);

// The same from a JSON-lines trace file (trace show <file>).
void BM_show_file(benchmark::State& state) {
  static const std::string path = [] {
    std::string p = "/tmp/osprofiler-cli-bench-" + std::to_string(::getpid()) + ".jsonl";
    std::ofstream f(p);
    for (const auto& n : trace()) f << osprofiler::dump_json(n.to_json()) << '\n';
    return p;
  }();
  for (auto _ : state) {
    auto t = std::make_unique<views::loaded_trace>(views::load_trace_file(path));
    auto m = std::make_unique<views::trace_model>(views::make_model(std::move(t->report), &t->times));
    std::ostringstream out;
    render(*m, static_cast<int>(state.range(0)), out);
    benchmark::DoNotOptimize(out.str().size());
    state.PauseTiming();  // as above
    m.reset();
    t.reset();
    state.ResumeTiming();
  }
  state.SetLabel(kFormats[state.range(0)]);
}
BENCHMARK(BM_show_file)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(3);

std::string pg() {
  const char* v = std::getenv("OSPROFILER_BENCH_PG");
  return v ? v : "";
}

// The embedded default store, in a file removed at exit.
const std::string& sqlite_store() {
  static const struct file {
    std::string path = "/tmp/osprofiler-cli-bench-" + std::to_string(::getpid()) + ".db";
    ~file() {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
    }
  } f;
  static const std::string cs = "sqlite:///" + f.path;  // + "/tmp/...": absolute
  return cs;
}

// Writes the trace to the store once (skipped when it is already there).
bool ensure_trace(benchmark::State& state, const std::string& cs) {
  if (cs.empty()) {
    state.SkipWithError("set OSPROFILER_BENCH_PG=postgresql://... to run the PostgreSQL command benchmarks");
    return false;
  }
  static std::set<std::string> written;
  if (written.count(cs)) return true;
  osprofiler::register_stores();
  auto s = osprofiler::open_store(cs);
  if (s->load(kBase).empty()) {
    const auto& notes = trace();
    for (std::size_t i = 0; i < notes.size(); i += 5000) {
      std::vector<osprofiler::notification> batch(notes.begin() + static_cast<std::ptrdiff_t>(i),
                                                  notes.begin() + static_cast<std::ptrdiff_t>(std::min(notes.size(), i + 5000)));
      s->write(batch);
    }
    s->flush();
  }
  written.insert(cs);
  return true;
}

int sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The real command, output to /dev/null: BM_command/<store>/<format>.
void BM_command(benchmark::State& state, bool postgresql) {
  const std::string cs = postgresql ? pg() : sqlite_store();
  if (!ensure_trace(state, cs)) return;
  const std::string cmd = std::string(OSPROFILER_CLI_PATH) + " trace show " + kBase + " " + kFlags[state.range(0)] +
                          " --connection-string '" + cs + "' > /dev/null";
  for (auto _ : state) {
    if (sh(cmd) != 0) state.SkipWithError("osprofiler trace show failed");
  }
  state.SetLabel(kFormats[state.range(0)]);
}
BENCHMARK_CAPTURE(BM_command, sqlite, false)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK_CAPTURE(BM_command, pg, true)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_python_pg_json(benchmark::State& state) {
  if (!ensure_trace(state, pg())) return;
  const std::string cmd = std::string("/usr/bin/osprofiler trace show --json ") + kBase + " --connection-string '" + pg() + "' > /dev/null";
  for (auto _ : state) {
    if (sh(cmd) != 0) state.SkipWithError("Python's osprofiler trace show failed");
  }
  state.SetLabel("python json");
}
BENCHMARK(BM_python_pg_json)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
