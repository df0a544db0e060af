// Fuzz target: the report builder (build_report) on arbitrary notification
// sets decoded from the input: ids drawn from a small pool (so duplicates,
// self-parents and cycles are common), starts without stops and stops
// without starts, timestamps anywhere in 0000..9999 or not timestamps at
// all, odd names and etype values, and long parent chains.
// Invariants: every usable notification's point appears exactly once in the
// tree, unusable ones are counted in info.skipped, times are >= 0 and within
// the total, children are sorted by start, depth stays bounded, the copying
// and the moving overloads agree, so do one and three threads, and the
// result serialises.
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "osprofiler/notifier.h"
#include "osprofiler/report.h"

namespace {

using osprofiler::fuzz::reader;
using osprofiler::notification;

std::string pool_id(unsigned k) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012x", k, k);
  return buf;
}

std::string id(reader& r) {
  const std::uint8_t b = r.byte();
  if (b < 0xf0) return pool_id(b % 12);
  if (b < 0xf8) return r.text(40);  // anything, even invalid UTF-8
  return "";
}

std::string timestamp(reader& r) {
  const std::uint8_t kind = r.byte() % 8;
  if (kind == 6) return r.text(30);
  if (kind == 7) return "";
  char buf[64];
  const unsigned year = kind == 0 ? r.u16() % 10000 : 2024;
  const unsigned digits = r.byte() % 8;  // 7: a fraction too long to parse
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02uT%02u:%02u:%02u", year, 1 + r.byte() % 12, 1 + r.byte() % 31,
                r.byte() % 24, r.byte() % 60, r.byte() % 62);
  std::string t = buf;
  if (digits > 0) {
    t += '.';
    const std::uint32_t f = r.u32();
    for (unsigned i = 0; i < digits; ++i) t += static_cast<char>('0' + (f >> (i * 3)) % 10);
  }
  return t;
}

nlohmann::json etype(reader& r) {
  switch (r.byte() % 6) {
    case 0: return nullptr;
    case 1: return 42;
    case 2: return r.text(16);
    case 3: return nlohmann::json::object({{"nested", r.text(8)}});
    case 4: return nlohmann::json::array({1, "x"});
    default: return 1e308;
  }
}

std::vector<notification> decode(reader& r) {
  static const char* names[] = {"db-start", "db-stop", "wsgi-start", "wsgi-stop", "a-b-stop",
                                "-start",   "stop",    "",           "db-started", "x-stop-start"};
  std::vector<notification> out;
  if (r.byte() & 1) {
    // A long chain, possibly closing into a cycle: exercises the depth guard.
    const std::size_t len = r.u16() % 3000;
    const bool cycle = r.byte() & 1;
    for (std::size_t i = 0; i < len; ++i) {
      notification n;
      n.name = (i % 3 == 2) ? "db-stop" : "db-start";
      n.base_id = pool_id(0);
      n.trace_id = pool_id(1000 + static_cast<unsigned>(i));
      n.parent_id = i == 0 ? (cycle ? pool_id(1000 + static_cast<unsigned>(len - 1)) : pool_id(0))
                           : pool_id(999 + static_cast<unsigned>(i));
      n.timestamp = "2024-01-01T00:00:00." + std::to_string(100000 + i % 900000);
      out.push_back(std::move(n));
    }
  }
  while (!r.empty() && out.size() < 5000) {
    notification n;
    const std::uint8_t b = r.byte();
    n.name = b < 0xf0 ? names[b % 10] : r.text(20);
    n.base_id = id(r);
    n.trace_id = id(r);
    n.parent_id = id(r);
    n.timestamp = timestamp(r);
    const std::uint8_t f = r.byte();
    if (f & 1) n.project = r.text(8);
    if (f & 2) n.service = r.text(8);
    if (f & 4) n.host = r.text(8);
    if (f & 8) n.info["etype"] = etype(r);
    if (f & 16) n.info["message"] = r.text(24);
    if (f & 32) n.raw = nlohmann::json{{"info", {{"x", r.byte()}}}};
    if (f & 64) n.info = nullptr;  // not an object at all
    out.push_back(std::move(n));
  }
  return out;
}

struct walk_state {
  std::map<std::string, int> seen;
  std::size_t nodes = 0;
  std::int64_t max_finished = 0;
};

void walk(const nlohmann::json& children, std::int64_t total, walk_state& w) {
  // Iterative: the depth is what is being checked.
  std::vector<std::pair<const nlohmann::json*, std::size_t>> todo{{&children, 0}};
  while (!todo.empty()) {
    auto [kids, depth] = todo.back();
    todo.pop_back();
    FUZZ_CHECK(kids->is_array());
    FUZZ_CHECK(depth <= 1000);
    std::int64_t prev = -1;
    for (const auto& node : *kids) {
      const auto& info = node.at("info");
      const auto started = info.at("started").get<std::int64_t>();
      const auto finished = info.at("finished").get<std::int64_t>();
      FUZZ_CHECK(started >= 0 && finished >= 0);
      FUZZ_CHECK(started <= total && finished <= total);
      FUZZ_CHECK(started >= prev);
      prev = started;
      FUZZ_CHECK(++w.seen[node.at("trace_id").get<std::string>()] == 1);
      ++w.nodes;
      todo.push_back({&node.at("children"), depth + 1});
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader r(data, size);
  auto ns = decode(r);

  std::set<std::string> points;
  std::size_t unusable = 0;
  for (const auto& n : ns) {
    if (!osprofiler::parse_timestamp(n.timestamp) || n.trace_id.empty()) {
      ++unusable;
    } else {
      points.insert(n.trace_id);
    }
  }

  const auto report = osprofiler::build_report(ns);
  const auto moved = osprofiler::build_report(std::vector<notification>(ns));
  FUZZ_CHECK(report == moved);
  // Built by trace id hash on three threads: the same report.
  FUZZ_CHECK(osprofiler::build_report(ns, 3) == report);
  FUZZ_CHECK(osprofiler::build_report(std::vector<notification>(ns), 3) == report);

  const auto& total = report.at("info");
  FUZZ_CHECK(total.value("skipped", std::size_t{0}) == unusable);
  const std::int64_t finished = total.at("finished").is_null() ? 0 : total.at("finished").get<std::int64_t>();
  FUZZ_CHECK(total.at("finished").is_null() == points.empty());
  walk_state w;
  walk(report.at("children"), finished, w);
  FUZZ_CHECK(w.nodes == points.size());

  std::int64_t counted = 0;
  for (const auto& [name, s] : report.at("stats").items()) counted += s.at("count").get<std::int64_t>();
  FUZZ_CHECK(counted == static_cast<std::int64_t>(points.size()));
  FUZZ_CHECK(!osprofiler::dump_json(report).empty());
  return 0;
}
