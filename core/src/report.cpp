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
  nlohmann::json exception;  // info.etype of the stop, "None"; null: no stop
  // The output's info object, filled with the meta.raw_payload.* entries as
  // they are read; build() adds the rest.
  nlohmann::json info = nlohmann::json::object();
  std::vector<node*> children;
  std::int64_t start_ms = 0, finish_ms = 0;
  char link = 0;  // parent linking state (build(): unknown, visiting, attached, root)
  std::size_t depth = 0;
};

// A store's payload with its info object back in place (see notification::raw).
nlohmann::json with_info(nlohmann::json raw, nlohmann::json info) {
  auto it = raw.find("info");
  if (it != raw.end() && it->is_discarded()) *it = std::move(info);
  return raw;
}

// Python's raw payload is what the store kept besides the columns; for
// notifications built here, the notification without its ids. `from`: the
// same notification when its payload may be moved out (its other fields are
// left as they are).
nlohmann::json raw_payload(const notification& n, notification* from) {
  if (!n.raw.is_null()) return from ? with_info(std::move(from->raw), std::move(from->info)) : with_info(n.raw, n.info);
  nlohmann::json j = nlohmann::json::object();
  j["name"] = n.name;
  j["timestamp"] = n.timestamp;
  j["info"] = !n.info.is_object() ? nlohmann::json::object() : from ? std::move(from->info) : n.info;
  if (!n.project.empty()) j["project"] = n.project;
  if (!n.service.empty()) j["service"] = n.service;
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
    const bool stop = ends_with(n.name, "stop");
    if (stop) {
      nd.finished = *ts;
      // Python: raw_payload["info"].get("etype", "None"), whatever its type.
      auto etype = n.info.find("etype");
      nd.exception = etype != n.info.end() ? *etype : nlohmann::json("None");
    }
    nlohmann::json payload = raw_payload(n, owned ? &(*owned)[i] : nullptr);
    if (fresh) {
      nd.name = point_name(n.name);
      if (owned) {
        notification& o = (*owned)[i];  // n itself: its ids are not read again
        nd.trace_id = std::move(o.trace_id);
        nd.parent_id = std::move(o.parent_id);
        nd.project = std::move(o.project);
        nd.service = std::move(o.service);
        nd.host = std::move(o.host);
      } else {
        nd.trace_id = n.trace_id;
        nd.parent_id = n.parent_id;
        nd.project = n.project;
        nd.service = n.service;
        nd.host = n.host;
      }
      order.push_back(&nd);
    }
    nd.info["meta.raw_payload." + n.name] = std::move(payload);
    if (!stop) {
      nd.started = *ts;
      if (!last_started || *last_started < *ts) last_started = *ts;
    }
    if (!first || *first > *ts) first = *ts;
    if (!last || *last < *ts) last = *ts;
  }

  // Python: int(microseconds / 1000.0), i.e. truncation toward zero.
  auto msec = [&](std::int64_t us) { return static_cast<std::int64_t>((us - *first) / 1000); };
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> totals;  // name -> count, duration
  for (node* nd : order) {
    if (!nd->started) nd->started = nd->finished;
    if (!nd->finished) nd->finished = nd->started;
    nd->start_ms = msec(*nd->started);
    nd->finish_ms = msec(*nd->finished);
    auto& t = totals[nd->name];
    t.first += 1;
    t.second += nd->finish_ms - nd->start_ms;
  }
  nlohmann::json stats = nlohmann::json::object();
  for (const auto& [name, t] : totals) stats[name] = {{"count", t.first}, {"duration", t.second}};

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
      nlohmann::json& info = nd->info;
      info["name"] = std::move(nd->name);
      info["project"] = text(nd->project);
      info["service"] = text(nd->service);
      info["host"] = text(nd->host);
      info["started"] = nd->start_ms;
      info["finished"] = nd->finish_ms;
      if (!nd->exception.is_null()) info["exception"] = std::move(nd->exception);
      nlohmann::json& out = *f.out;
      out = nlohmann::json::object();
      out["info"] = std::move(info);
      out["parent_id"] = std::move(nd->parent_id);
      out["trace_id"] = std::move(nd->trace_id);
      auto& kids = out["children"] = nlohmann::json::array();
      std::stable_sort(nd->children.begin(), nd->children.end(), by_start);
      // Sized before any address is taken: the slots must not move.
      kids.get_ref<nlohmann::json::array_t&>().resize(nd->children.size());
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
