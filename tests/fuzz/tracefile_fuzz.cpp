// Fuzz target: the JSON-lines trace file reader (file:// store: load,
// list_traces, list_error_traces, get_report) on a file holding the input.
// Invariants: reading never throws for a readable file (bad lines are
// skipped and reported), every loaded notification belongs to the trace
// asked for, error traces are a subset of the traces, and each report can be
// serialised.
#include <cstdint>
#include <fstream>
#include <set>
#include <string>

#include "fuzz_support.h"
#include "osprofiler/notifier.h"
#include "osprofiler/report.h"
#include "osprofiler/store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = [] {
    osprofiler::notifier::set_error_handler([](const std::string&) {});
    return (osprofiler::fuzz::scratch_dir() / "traces.jsonl").string();
  }();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto s = osprofiler::open_store("file://" + path);
  const auto traces = s->list_traces();
  const auto errors = s->list_error_traces();
  std::set<std::string> ids;
  for (const auto& t : traces) ids.insert(t.base_id);
  FUZZ_CHECK(ids.size() == traces.size());
  for (const auto& t : errors) FUZZ_CHECK(ids.count(t.base_id) == 1);
  for (std::size_t i = 1; i < traces.size(); ++i) FUZZ_CHECK(!(traces[i].timestamp < traces[i - 1].timestamp));
  std::size_t looked = 0;
  for (const auto& t : traces) {
    if (++looked > 4) break;
    const auto ns = s->load(t.base_id);
    FUZZ_CHECK(!ns.empty());
    for (const auto& n : ns) FUZZ_CHECK(n.base_id == t.base_id);
    const auto report = osprofiler::build_report(ns);
    FUZZ_CHECK(report.at("children").is_array());
    FUZZ_CHECK(!osprofiler::dump_json(report).empty());
  }
  return 0;
}
