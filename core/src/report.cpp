#include "osprofiler/report.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace osprofiler {
namespace {

struct node {
  std::string trace_id, parent_id, name, project, service, host;
  std::optional<std::int64_t> started, finished;  // µs since epoch
  nlohmann::json exception;                       // info.etype of the stop, "None"; null: no stop
  nlohmann::json raw = nlohmann::json::object();  // meta.raw_payload.* entries
  std::vector<node*> children;
  std::int64_t start_ms = 0, finish_ms = 0;
  char link = 0;  // parent linking state (build(): unknown, visiting, attached, root)
  std::size_t depth = 0;
};

// Python's raw payload is what the store kept besides the columns; for
// notifications built here, the notification without its ids.
nlohmann::json raw_payload(const notification& n) {
  if (!n.raw.is_null()) return n.raw;
  nlohmann::json j = n.to_json();
  j.erase("base_id");
  j.erase("parent_id");
  j.erase("trace_id");
  return j;
}

std::string point_name(const std::string& name) {
  // Python: name.split("-")[0]
  return name.substr(0, name.find('-'));
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// `owned`: the same notifications when the caller gave them away; their raw
// payloads are then moved into the report instead of copied.
nlohmann::json build(const std::vector<notification>& notifications, std::vector<notification>* owned) {
  std::unordered_map<std::string, node> nodes;
  nodes.reserve(notifications.size() / 2 + 1);
  std::vector<node*> order;  // first-seen order, for deterministic output
  std::optional<std::int64_t> first, last, last_started;
  std::size_t skipped = 0;

  for (std::size_t i = 0; i < notifications.size(); ++i) {
    const notification& n = notifications[i];
    const auto ts = parse_timestamp(n.timestamp);
    if (!ts || n.trace_id.empty()) {
      ++skipped;
      continue;
    }
    auto [it, fresh] = nodes.try_emplace(n.trace_id);
    node& nd = it->second;
    if (fresh) {
      nd.trace_id = n.trace_id;
      nd.parent_id = n.parent_id;
      nd.name = point_name(n.name);
      nd.project = n.project;
      nd.service = n.service;
      nd.host = n.host;
      order.push_back(&nd);
    }
    nd.raw["meta.raw_payload." + n.name] =
        owned && !n.raw.is_null() ? std::move((*owned)[i].raw) : raw_payload(n);
    if (ends_with(n.name, "stop")) {
      nd.finished = *ts;
      // Python: raw_payload["info"].get("etype", "None"), whatever its type.
      auto etype = n.info.find("etype");
      nd.exception = etype != n.info.end() ? *etype : nlohmann::json("None");
    } else {
      nd.started = *ts;
      if (!last_started || *last_started < *ts) last_started = *ts;
    }
    if (!first || *first > *ts) first = *ts;
    if (!last || *last < *ts) last = *ts;
  }

  // Python: int(microseconds / 1000.0), i.e. truncation toward zero.
  auto msec = [&](std::int64_t us) { return static_cast<std::int64_t>((us - *first) / 1000); };
  nlohmann::json stats = nlohmann::json::object();
  for (node* nd : order) {
    if (!nd->started) nd->started = nd->finished;
    if (!nd->finished) nd->finished = nd->started;
    nd->start_ms = msec(*nd->started);
    nd->finish_ms = msec(*nd->finished);
    auto& s = stats[nd->name];
    if (s.is_null()) s = {{"count", 0}, {"duration", 0}};
    s["count"] = s["count"].get<std::int64_t>() + 1;
    s["duration"] = s["duration"].get<std::int64_t>() + (nd->finish_ms - nd->start_ms);
  }

  // Link children to parents in linear time. Corrupt data may hold parent
  // cycles (x -> y -> x, or a node its own parent): their members become
  // roots. Nodes deeper than max_depth become roots too (and are counted),
  // because JSON writers recurse once per level.
  constexpr std::size_t max_depth = 1000;
  enum : char { unknown, visiting, attached, root };  // node::link
  auto parent_of = [&](const node* nd) -> node* {
    auto it = nodes.find(nd->parent_id);
    return it == nodes.end() || &it->second == nd ? nullptr : &it->second;
  };
  std::size_t flattened = 0;
  std::vector<node*> path;
  for (node* nd : order) {
    path.clear();
    node* cur = nd;
    while (cur && cur->link == unknown) {
      cur->link = visiting;
      path.push_back(cur);
      cur = parent_of(cur);
    }
    if (cur && cur->link == visiting) {
      // cur is on this path: everything from it onwards is a cycle.
      auto it = std::find(path.begin(), path.end(), cur);
      for (auto c = it; c != path.end(); ++c) {
        (*c)->link = root;
        (*c)->depth = 0;
      }
      path.erase(it, path.end());
    }
    // Resolve the rest top-down: each hangs under its (now resolved) parent.
    for (auto c = path.rbegin(); c != path.rend(); ++c) {
      node* parent = parent_of(*c);
      if (!parent) {
        (*c)->link = root;
        (*c)->depth = 0;
      } else if (parent->depth + 1 >= max_depth) {
        (*c)->link = root;
        (*c)->depth = 0;
        ++flattened;
      } else {
        (*c)->link = attached;
        (*c)->depth = parent->depth + 1;
      }
    }
  }
  std::vector<node*> roots;
  for (node* nd : order) {
    if (nd->link == attached) {
      parent_of(nd)->children.push_back(nd);
    } else {
      roots.push_back(nd);
    }
  }

  auto by_start = [](const node* a, const node* b) { return a->start_ms < b->start_ms; };
  // Iterative conversion: a deep (or hostile) trace must not overflow the stack.
  struct frame {
    node* nd;
    nlohmann::json* out;
  };
  auto convert = [&](node* root, nlohmann::json& out) {
    std::vector<frame> todo{{root, &out}};
    while (!todo.empty()) {
      frame f = todo.back();
      todo.pop_back();
      node* nd = f.nd;
      // Nodes are linked already: their strings can move into the output.
      auto text = [](std::string& v) { return v.empty() ? nlohmann::json() : nlohmann::json(std::move(v)); };
      nlohmann::json info = {{"name", std::move(nd->name)}, {"project", text(nd->project)},
                             {"service", text(nd->service)}, {"host", text(nd->host)},
                             {"started", nd->start_ms}, {"finished", nd->finish_ms}};
      if (!nd->exception.is_null()) info["exception"] = std::move(nd->exception);
      for (auto& [k, v] : nd->raw.items()) info[k] = std::move(v);
      *f.out = {{"info", std::move(info)}, {"parent_id", std::move(nd->parent_id)}, {"trace_id", std::move(nd->trace_id)},
                {"children", nlohmann::json::array()}};
      std::stable_sort(nd->children.begin(), nd->children.end(), by_start);
      auto& kids = (*f.out)["children"];
      for (std::size_t i = 0; i < nd->children.size(); ++i) kids.push_back(nullptr);
      for (std::size_t i = 0; i < nd->children.size(); ++i) todo.push_back({nd->children[i], &kids[i]});
    }
  };
  std::stable_sort(roots.begin(), roots.end(), by_start);
  nlohmann::json children = nlohmann::json::array();
  for (std::size_t i = 0; i < roots.size(); ++i) children.push_back(nullptr);
  for (std::size_t i = 0; i < roots.size(); ++i) convert(roots[i], children[i]);

  nlohmann::json total = {{"name", "total"}, {"started", 0}};
  total["finished"] = first ? nlohmann::json(msec(*last)) : nlohmann::json();
  total["last_trace_started"] = last_started ? nlohmann::json(msec(*last_started)) : nlohmann::json();
  if (skipped) total["skipped"] = skipped;
  if (flattened) total["flattened"] = flattened;
  return {{"info", std::move(total)}, {"children", std::move(children)}, {"stats", std::move(stats)}};
}

}  // namespace

nlohmann::json build_report(const std::vector<notification>& notifications) { return build(notifications, nullptr); }

nlohmann::json build_report(std::vector<notification>&& notifications) {
  return build(notifications, &notifications);
}

}  // namespace osprofiler
