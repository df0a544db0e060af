#include "osprofiler/report.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace osprofiler {
namespace {

struct node {
  std::size_t first = 0;  // index of its first notification: its ids, and the output's order
  std::optional<std::int64_t> started, finished;  // µs since epoch
  nlohmann::json exception;  // info.etype of the stop, "None"; null: no stop
  // The output's info object, filled with the meta.raw_payload.* entries as
  // they are read; the rest is added when the node is converted.
  nlohmann::json info = nlohmann::json::object();
  std::vector<node*> children;
  std::int64_t start_ms = 0, finish_ms = 0;
  node* parent = nullptr;  // set before linking; null: absent, or the node itself
  char link = 0;  // parent linking state (unknown, visiting, attached, root)
  std::size_t depth = 0;
  nlohmann::json out;              // the converted node, children slots still empty
  nlohmann::json* kids = nullptr;  // its "children" array: stays put when `out` is moved
};

// The points whose trace ids hash to one value: each part is grouped and
// converted on a thread of its own, with no locks, since a point's
// notifications all land in the same part.
struct part {
  std::unordered_map<std::string_view, node> nodes;  // keys view the notifications' trace ids
  std::vector<node*> order;                          // first-seen order
  std::optional<std::int64_t> first, last, last_started;
  std::size_t skipped = 0;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> totals;  // name -> count, duration
};

// Below this many notifications a second thread costs more than it saves.
constexpr std::size_t parallel_from = 20000;

// Runs work(0..parts-1), part 0 on the caller's thread, the others on
// threads of their own (or on the caller's when none can be started).
// Rethrows the first exception (e.g. out of memory) on the caller.
template <class Work>
void for_each_part(std::size_t parts, const Work& work) {
  std::vector<std::exception_ptr> errors(parts);
  auto guarded = [&](std::size_t p) noexcept {
    try {
      work(p);
    } catch (...) {
      errors[p] = std::current_exception();
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(parts);
  std::size_t started = 1;
  for (; started < parts; ++started) {
    try {
      helpers.emplace_back(guarded, started);
    } catch (...) {  // no thread to be had (system_error, or bad_alloc)
      break;
    }
  }
  for (std::size_t p = started; p < parts; ++p) guarded(p);
  guarded(0);
  for (auto& t : helpers) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

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

template <class T>
void keep_min(std::optional<T>& into, const std::optional<T>& v) {
  if (v && (!into || *v < *into)) into = v;
}
template <class T>
void keep_max(std::optional<T>& into, const std::optional<T>& v) {
  if (v && (!into || *into < *v)) into = v;
}

class builder {
 public:
  // `owned`: the same notifications when the caller gave them away; their
  // payloads and strings are then moved into the report instead of copied.
  builder(const std::vector<notification>& notifications, std::vector<notification>* owned, std::size_t parts)
      : in_(notifications), owned_(owned), parts_(parts) {}

  nlohmann::json build() {
    for_each_part(parts_.size(), [this](std::size_t p) { group(p); });
    std::optional<std::int64_t> first, last, last_started;
    std::size_t skipped = 0;
    std::vector<node*> order;  // first-seen order, for deterministic output
    for (part& p : parts_) {
      keep_min(first, p.first);
      keep_max(last, p.last);
      keep_max(last_started, p.last_started);
      skipped += p.skipped;
      const auto middle = order.insert(order.end(), p.order.begin(), p.order.end());
      std::inplace_merge(order.begin(), middle, order.end(), [](const node* a, const node* b) { return a->first < b->first; });
    }

    // Python: int(microseconds / 1000.0), i.e. truncation toward zero.
    auto msec = [first](std::int64_t us) { return static_cast<std::int64_t>((us - *first) / 1000); };
    for_each_part(parts_.size(), [&](std::size_t p) { resolve(p, msec); });
    const std::size_t flattened = link(order);
    std::vector<node*> roots;
    for (node* nd : order) {
      if (nd->link == attached) {
        nd->parent->children.push_back(nd);
      } else {
        roots.push_back(nd);
      }
    }

    for_each_part(parts_.size(), [this](std::size_t p) { convert(p); });
    // Every node is converted: each moves into its parent's slot (the
    // parent's `kids` pointer stays valid wherever its own `out` went).
    for (node* nd : order) {
      for (std::size_t i = 0; i < nd->children.size(); ++i) (*nd->kids)[i] = std::move(nd->children[i]->out);
    }
    std::stable_sort(roots.begin(), roots.end(), by_start);
    nlohmann::json children = nlohmann::json::array();
    auto& top = children.get_ref<nlohmann::json::array_t&>();
    top.reserve(roots.size());
    for (node* nd : roots) top.push_back(std::move(nd->out));

    std::map<std::string, std::pair<std::int64_t, std::int64_t>> totals;
    for (part& p : parts_) {
      for (const auto& [name, t] : p.totals) {
        auto& sum = totals[name];
        sum.first += t.first;
        sum.second += t.second;
      }
    }
    nlohmann::json stats = nlohmann::json::object();
    for (const auto& [name, t] : totals) stats[name] = {{"count", t.first}, {"duration", t.second}};

    nlohmann::json total = {{"name", "total"}, {"started", 0}};
    total["finished"] = first ? nlohmann::json(msec(*last)) : nlohmann::json();
    total["last_trace_started"] = last_started ? nlohmann::json(msec(*last_started)) : nlohmann::json();
    if (skipped) total["skipped"] = skipped;
    if (flattened) total["flattened"] = flattened;
    return {{"info", std::move(total)}, {"children", std::move(children)}, {"stats", std::move(stats)}};
  }

 private:
  enum : char { unknown, visiting, attached, root };  // node::link

  static bool by_start(const node* a, const node* b) { return a->start_ms < b->start_ms; }

  std::size_t part_of(std::string_view trace_id) const {
    return parts_.size() == 1 ? 0 : std::hash<std::string_view>{}(trace_id) % parts_.size();
  }

  // Fills in the times of part `p`'s nodes and finds their parents (the
  // other parts' maps are only read).
  template <class Msec>
  void resolve(std::size_t p, const Msec& msec) {
    for (node* nd : parts_[p].order) {
      if (!nd->started) nd->started = nd->finished;
      if (!nd->finished) nd->finished = nd->started;
      nd->start_ms = msec(*nd->started);
      nd->finish_ms = msec(*nd->finished);
      const std::string& parent_id = in_[nd->first].parent_id;
      auto& nodes = parts_[part_of(parent_id)].nodes;
      auto it = nodes.find(parent_id);
      nd->parent = it == nodes.end() || &it->second == nd ? nullptr : &it->second;
    }
  }

  // Groups the notifications of part `p` into its nodes.
  void group(std::size_t p) {
    part& pt = parts_[p];
    pt.nodes.reserve(in_.size() / (2 * parts_.size()) + 1);
    for (std::size_t i = 0; i < in_.size(); ++i) {
      const notification& n = in_[i];
      if (part_of(n.trace_id) != p) continue;
      const auto ts = parse_timestamp(n.timestamp);
      if (!ts || n.trace_id.empty()) {
        ++pt.skipped;
        continue;
      }
      auto [it, fresh] = pt.nodes.try_emplace(std::string_view(n.trace_id));
      node& nd = it->second;
      if (fresh) {
        nd.first = i;
        pt.order.push_back(&nd);
      }
      const bool stop = ends_with(n.name, "stop");
      if (stop) {
        nd.finished = *ts;
        // Python: raw_payload["info"].get("etype", "None"), whatever its type.
        auto etype = n.info.find("etype");
        nd.exception = etype != n.info.end() ? *etype : nlohmann::json("None");
      } else {
        nd.started = *ts;
        keep_max(pt.last_started, ts);
      }
      nd.info["meta.raw_payload." + n.name] = raw_payload(n, owned_ ? &(*owned_)[i] : nullptr);
      keep_min(pt.first, ts);
      keep_max(pt.last, ts);
    }
  }


  // Links children to parents in linear time. Corrupt data may hold parent
  // cycles (x -> y -> x, or a node its own parent): their members become
  // roots. Nodes deeper than max_report_depth become roots too (and are counted),
  // because JSON writers recurse once per level. Returns that count.
  std::size_t link(const std::vector<node*>& order) {
    std::size_t flattened = 0;
    std::vector<node*> path;
    for (node* nd : order) {
      path.clear();
      node* cur = nd;
      while (cur && cur->link == unknown) {
        cur->link = visiting;
        path.push_back(cur);
        cur = cur->parent;
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
        node* parent = (*c)->parent;
        if (!parent) {
          (*c)->link = root;
          (*c)->depth = 0;
        } else if (parent->depth + 1 >= max_report_depth) {
          (*c)->link = root;
          (*c)->depth = 0;
          ++flattened;
        } else {
          (*c)->link = attached;
          (*c)->depth = parent->depth + 1;
        }
      }
    }
    return flattened;
  }

  // Converts the nodes of part `p` to their output objects, children slots
  // sized but empty. The nodes are linked: their ids may move into the output.
  void convert(std::size_t p) {
    part& pt = parts_[p];
    for (node* nd : pt.order) {
      std::stable_sort(nd->children.begin(), nd->children.end(), by_start);
      const notification& n = in_[nd->first];
      notification* from = owned_ ? &(*owned_)[nd->first] : nullptr;
      auto text = [from](const std::string& v, std::string notification::*field) {
        if (v.empty()) return nlohmann::json();
        return from ? nlohmann::json(std::move(from->*field)) : nlohmann::json(v);
      };
      std::string name = point_name(n.name);
      auto& t = pt.totals[name];
      t.first += 1;
      t.second += nd->finish_ms - nd->start_ms;
      nlohmann::json& info = nd->info;
      info["name"] = std::move(name);
      info["project"] = text(n.project, &notification::project);
      info["service"] = text(n.service, &notification::service);
      info["host"] = text(n.host, &notification::host);
      info["started"] = nd->start_ms;
      info["finished"] = nd->finish_ms;
      if (!nd->exception.is_null()) info["exception"] = std::move(nd->exception);
      nlohmann::json& out = nd->out = nlohmann::json::object();
      out["info"] = std::move(info);
      out["parent_id"] = from ? std::move(from->parent_id) : n.parent_id;
      out["trace_id"] = from ? std::move(from->trace_id) : n.trace_id;
      nd->kids = &(out["children"] = nlohmann::json::array());
      nd->kids->get_ref<nlohmann::json::array_t&>().resize(nd->children.size());
    }
  }

  const std::vector<notification>& in_;
  std::vector<notification>* owned_;
  std::vector<part> parts_;
};

std::size_t parts_for(std::size_t notifications, unsigned threads) {
  if (threads > 64) threads = 64;
  if (threads == 0) {
    if (notifications < parallel_from) return 1;
    threads = std::min(std::max(std::thread::hardware_concurrency(), 1U), 4U);
  }
  return threads;
}

}  // namespace

nlohmann::json build_report(const std::vector<notification>& notifications, unsigned threads) {
  return builder(notifications, nullptr, parts_for(notifications.size(), threads)).build();
}

nlohmann::json build_report(std::vector<notification>&& notifications, unsigned threads) {
  return builder(notifications, &notifications, parts_for(notifications.size(), threads)).build();
}

}  // namespace osprofiler
