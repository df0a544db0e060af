// Test helper: the trace points in a batch of notifications, start paired
// with stop, for assertions on db.api, nesting and stop info.
#pragma once

#include <string>
#include <vector>

#include "osprofiler/notifier.h"

namespace osprofiler::testing {

struct point {
  notification start;
  notification stop;
  bool stopped = false;
  std::string api() const { return start.info.contains("db") ? start.info["db"].value("api", "") : ""; }
  std::string statement() const { return start.info.contains("db") ? start.info["db"].value("statement", "") : ""; }
  const nlohmann::json& db_stop() const {
    static const nlohmann::json none = nlohmann::json::object();
    return stop.info.contains("db") ? stop.info["db"] : none;
  }
  long long rows() const { return db_stop().value("rows", -1LL); }
};

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Points in start order.
inline std::vector<point> pair_points(const std::vector<notification>& all) {
  std::vector<point> out;
  for (const auto& n : all) {
    if (ends_with(n.name, "-start")) out.push_back({n, {}, false});
  }
  for (const auto& n : all) {
    if (!ends_with(n.name, "-stop")) continue;
    for (auto& p : out) {
      if (p.start.trace_id == n.trace_id) {
        p.stop = n;
        p.stopped = true;
      }
    }
  }
  return out;
}

inline std::vector<point> with_api(const std::vector<point>& all, const std::string& api) {
  std::vector<point> out;
  for (const auto& p : all) {
    if (p.api() == api) out.push_back(p);
  }
  return out;
}

inline std::string dump(const std::vector<notification>& all) {
  std::string text;
  for (const auto& n : all) text += dump_json(n.to_json()) + "\n";
  return text;
}

}  // namespace osprofiler::testing
