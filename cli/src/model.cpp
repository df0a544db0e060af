// Builds the flat view model from a report (spec section 4) and formats
// durations and point labels.
#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "osprofiler/views.h"

namespace osprofiler::views {
namespace {

const nlohmann::json* find_object(const nlohmann::json& j, const std::string& key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return nullptr;
  return &*it;
}

std::string string_at(const nlohmann::json* j, const char* key) {
  if (!j || !j->is_object()) return {};
  auto it = j->find(key);
  if (it == j->end()) return {};
  if (it->is_string()) return it->get_ref<const std::string&>();
  if (it->is_null()) return {};
  return dump_json(*it);
}

// A string value in place (the report outlives the views); empty otherwise.
std::string_view view_at(const nlohmann::json* j, const char* key) {
  if (!j || !j->is_object()) return {};
  auto it = j->find(key);
  if (it == j->end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

std::int64_t ms_at(const nlohmann::json& info, const char* key, std::int64_t fallback) {
  auto it = info.find(key);
  if (it == info.end() || !it->is_number()) return fallback;
  return static_cast<std::int64_t>(it->get<double>());
}

}  // namespace

point_times exact_times(const std::vector<notification>& notifications) {
  point_times t;
  t.spans.reserve(notifications.size() / 2 + 1);
  for (const auto& n : notifications) {
    auto ts = parse_timestamp(n.timestamp);
    if (!ts) continue;
    if (!t.any || *ts < t.first) t.first = *ts;
    if (!t.any || *ts > t.last) t.last = *ts;
    t.any = true;
    auto& s = t.spans[n.trace_id];
    const bool stop = n.name.size() >= 4 && n.name.compare(n.name.size() - 4, 4, "stop") == 0;
    (stop ? s.stop : s.start) = *ts;
  }
  return t;
}

trace_model make_model(nlohmann::json report, const std::vector<notification>* notifications) {
  if (!notifications || notifications->empty()) return make_model(std::move(report), static_cast<const point_times*>(nullptr));
  const point_times t = exact_times(*notifications);
  return make_model(std::move(report), &t);
}

trace_model make_model(nlohmann::json report, const point_times* times) {
  trace_model m;
  auto owned = std::make_shared<nlohmann::json>(std::move(report));
  m.report = owned;
  const nlohmann::json& r = *owned;
  if (!r.is_object()) return m;
  if (auto info = find_object(r, "info")) m.total_us = ms_at(*info, "finished", 0) * 1000;
  const std::unordered_map<std::string, point_times::span> none;
  const auto& exact = times && times->any ? times->spans : none;
  const std::int64_t first = times ? times->first : 0;
  if (times && times->any) {
    m.precise = true;
    m.total_us = times->last - times->first;
  }

  auto kids = r.find("children");
  if (kids == r.end() || !kids->is_array()) return m;
  // The stats count every point: reserve once rather than move 100,000
  // points through each regrowth.
  if (auto stats = find_object(r, "stats")) {
    std::size_t points = 0;
    for (const auto& s : stats->items()) {
      auto c = s.value().is_object() ? s.value().find("count") : s.value().end();
      if (c != s.value().end() && c->is_number_integer() && c->get<std::int64_t>() > 0) {
        points += static_cast<std::size_t>(c->get<std::int64_t>());
      }
    }
    m.points.reserve(std::min<std::size_t>(points, 10'000'000));
  }

  struct frame {
    const nlohmann::json* node;
    int parent;
    int depth;
  };
  std::vector<frame> todo;
  std::string key;
  for (auto it = kids->rbegin(); it != kids->rend(); ++it) todo.push_back({&*it, -1, 0});
  while (!todo.empty()) {
    frame f = todo.back();
    todo.pop_back();
    const nlohmann::json& node = *f.node;
    if (!node.is_object()) continue;
    const nlohmann::json* info = find_object(node, "info");
    static const nlohmann::json empty = nlohmann::json::object();
    if (!info) info = &empty;

    point p;
    p.info = info;
    p.parent = f.parent;
    p.depth = f.depth;
    p.trace_id = view_at(&node, "trace_id");
    p.name = view_at(info, "name");
    const std::int64_t started = ms_at(*info, "started", 0);
    p.start_us = started * 1000;
    p.end_us = std::max(started, ms_at(*info, "finished", started)) * 1000;
    if (m.precise) {
      key.assign(p.trace_id);
      auto it = exact.find(key);
      if (it != exact.end()) {
        const auto& s = it->second;
        const std::int64_t a = s.start >= 0 ? s.start : s.stop, b = s.stop >= 0 ? s.stop : s.start;
        p.start_us = a - first;
        p.end_us = std::max(a, b) - first;
      }
    }
    key.assign("meta.raw_payload.").append(p.name).append("-start");
    if (auto start = find_object(*info, key)) p.start_info = find_object(*start, "info");
    key.replace(key.size() - 5, 5, "stop");
    if (auto stop = find_object(*info, key)) p.stop_info = find_object(*stop, "info");
    if (auto db = p.start_info ? find_object(*p.start_info, "db") : nullptr) {
      p.is_db = true;
      p.api = view_at(db, "api");
      p.statement = view_at(db, "statement");
    }
    std::string_view exc = view_at(info, "exception");
    if (exc.empty() || exc == "None") exc = view_at(p.stop_info, "etype");
    if (!exc.empty() && exc != "None") {
      p.error = exc;
      p.error_message = view_at(p.stop_info, "message");
    }

    const int index = static_cast<int>(m.points.size());
    if (f.parent >= 0) {
      m.points[f.parent].children.push_back(index);
    } else {
      m.roots.push_back(index);
    }
    m.points.push_back(std::move(p));
    if (m.base_id.empty() && f.parent < 0) m.base_id = string_at(&node, "parent_id");

    auto ck = node.find("children");
    if (ck != node.end() && ck->is_array()) {
      for (auto it = ck->rbegin(); it != ck->rend(); ++it) todo.push_back({&*it, index, f.depth + 1});
    }
  }
  return m;
}

std::string format_duration(std::int64_t us, bool precise) {
  char buf[32];
  if (!precise) {
    std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(us / 1000));
  } else if (us >= 10'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f s", us / 1e6);
  } else if (us >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f s", us / 1e6);
  } else if (us >= 100'000) {
    std::snprintf(buf, sizeof buf, "%.0f ms", us / 1e3);
  } else if (us >= 10'000) {
    std::snprintf(buf, sizeof buf, "%.1f ms", us / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f ms", us / 1e3);
  }
  return buf;
}

std::string point_detail(const point& p) {
  if (p.is_db) {
    std::string s(p.api);
    if (!p.statement.empty()) {
      if (!s.empty()) s += ' ';
      s += p.statement;
    } else if (const nlohmann::json* db = find_object(*p.start_info, "db")) {
      std::string ns = string_at(db, "namespace");
      if (!ns.empty()) s += (s.empty() ? "" : " ") + ns;
    }
    return s;
  }
  if (!p.start_info) return {};
  if (auto req = find_object(*p.start_info, "request")) {
    std::string s = string_at(req, "method");
    std::string path = string_at(req, "path");
    if (!path.empty()) s += (s.empty() ? "" : " ") + path;
    std::string query = string_at(req, "query");
    if (!query.empty()) s += "?" + query;
    return s;
  }
  if (auto fn = find_object(*p.start_info, "function")) return string_at(fn, "name");
  return {};
}

}  // namespace osprofiler::views
