#include "conversion.h"

#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>

namespace osprofiler::detail {

// The date and time of day change once a second, so they are formatted once
// per second and thread and only the microseconds are written each time
// (gmtime_r + snprintf cost thousands of instructions, more than a whole
// trace point).
void format_into(std::int64_t unix_us, char* out) {
  std::int64_t secs = unix_us / 1000000;
  std::int64_t frac = unix_us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  thread_local std::int64_t cached_secs = INT64_MIN;
  thread_local char cached[20];
  if (secs != cached_secs) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (std::strlen(buf) != 19) {  // a year beyond 9999: no cache, the slow way
      std::snprintf(out, 27, "%.19s.%06lld", buf, static_cast<long long>(frac));
      return;
    }
    std::memcpy(cached, buf, 19);
    cached_secs = secs;
  }
  std::memcpy(out, cached, 19);
  out[19] = '.';
  for (int i = 25; i >= 20; --i) {
    out[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  out[26] = '\0';
}

// One of the (one or two) notifications an event holds: a pair event's
// start part has no user info (its info is the stop's).
struct part {
  bool stop;
  std::int64_t stamp;
  bool user_info;
};

namespace {

part start_part(const event& e) { return {false, e.pair ? e.start_stamp : e.stamp, !e.pair}; }
part stop_part(const event& e) { return {true, e.stamp, true}; }

notification make_notification(event& e, part p, const collector* c, const stamp_converter& clock) {
  notification n;
  const std::string& name = e.point_name();
  n.name.reserve(name.size() + 6);
  n.name = name;
  n.name += p.stop ? "-stop" : "-start";
  n.base_id = e.base.str();
  n.parent_id = e.parent.str();
  n.trace_id = e.trace.str();
  n.timestamp = format_timestamp(clock.unix_ns(p.stamp) / 1000);
  if (c) {
    n.project = c->project();
    n.service = c->service();
    n.host = c->host();
  }
  if (n.host.empty()) n.host = host_name();
  if (p.user_info && e.info.is_object()) n.info = std::move(e.info);
  if (e.db_system) {
    auto& db = n.info["db"];
    if (!db.is_object()) db = nlohmann::json::object();
    if (!p.stop) {
      db["system"] = e.db_system;
      db["api"] = e.db_api ? e.db_api : "";
      if (e.db_namespace) db["namespace"] = *e.db_namespace;
      if (e.db_statement) db["statement"] = *e.db_statement;
      if (e.db_attributes && e.db_attributes->is_object()) {
        for (auto& [k, v] : e.db_attributes->items()) db[k] = v;
      }
    } else if (e.db_rows >= 0) {
      db["rows"] = e.db_rows;
    }
    if (db.empty()) n.info.erase("db");
  }
  n.info["host"] = host_name();
  return n;
}

notification to_notification(event& e, const collector* c, const stamp_converter& clock) {
  return make_notification(e, e.stop ? stop_part(e) : start_part(e), c, clock);
}

}  // namespace

void append_notifications(event& e, const collector* c, const stamp_converter& clock,
                          std::vector<notification>& out) {
  if (!e.pair) {
    out.push_back(to_notification(e, c, clock));
    return;
  }
  notification start = make_notification(e, start_part(e), c, clock);
  notification stop = make_notification(e, stop_part(e), c, clock);
  out.reserve(out.size() + 2);  // both or neither
  out.push_back(std::move(start));
  out.push_back(std::move(stop));
}

namespace {

// What a db::call event adds to info.db, as to_notification() merges it:
// these members replace the user's, and the endpoint's attributes replace
// the fixed ones.
class db_fields {
 public:
  db_fields(const event& e, bool stop) : e_(e), stop_(stop) {
    if (!stop && e.db_attributes && e.db_attributes->is_object()) attributes_ = e.db_attributes;
  }
  bool any() const { return !stop_ || e_.db_rows >= 0; }
  bool sets(const std::string& key) const { return fixed(key) || (attributes_ && attributes_->contains(key)); }

  void write(json_text& w, bool& first) const {
    if (stop_) {
      if (e_.db_rows >= 0) {
        w.key("rows", first);
        w.raw(std::to_string(e_.db_rows));
      }
      return;
    }
    auto text = [&](const char* key, std::string_view value) {
      if (attributes_ && attributes_->contains(key)) return;
      w.key(key, first);
      w.string(value);
    };
    text("system", e_.db_system);
    text("api", e_.db_api ? e_.db_api : "");
    if (e_.db_namespace) text("namespace", *e_.db_namespace);
    if (e_.db_statement) text("statement", *e_.db_statement);
    if (attributes_) {
      for (auto& [k, v] : attributes_->items()) {
        w.key(k, first);
        w.value(v);
      }
    }
  }

 private:
  bool fixed(std::string_view key) const {
    if (stop_) return e_.db_rows >= 0 && key == "rows";
    return key == "system" || key == "api" || (key == "namespace" && e_.db_namespace) ||
           (key == "statement" && e_.db_statement);
  }

  const event& e_;
  bool stop_;
  const nlohmann::json* attributes_ = nullptr;
};

// The JSON text of the info to_notification() builds for `e`: the same
// members (not necessarily in the same order), written without building it.
void write_info(json_text& w, const event& e, part p) {
  const nlohmann::json* user = p.user_info && e.info.is_object() ? &e.info : nullptr;
  const bool db = e.db_system != nullptr;
  const db_fields added(e, p.stop);
  const nlohmann::json* user_db = nullptr;
  bool first = true;
  w.raw('{');
  if (user) {
    for (auto& [k, v] : user->items()) {
      if (k == "host") continue;
      if (db && k == "db") {
        if (v.is_object()) user_db = &v;
        continue;
      }
      w.key(k, first);
      w.value(v);
    }
  }
  if (db && (added.any() || (user_db && !user_db->empty()))) {
    w.key("db", first);
    w.raw('{');
    bool db_first = true;
    if (user_db) {
      for (auto& [k, v] : user_db->items()) {
        if (added.sets(k)) continue;
        w.key(k, db_first);
        w.value(v);
      }
    }
    added.write(w, db_first);
    w.raw('}');
  }
  w.key("host", first);
  w.string(host_name());
  w.raw('}');
}

}  // namespace

void view_builder::clear() noexcept {
  text_.clear();
  spans_.clear();
}

void view_builder::add(const event& e, const stamp_converter& clock) {
  const std::size_t mark = text_.size();
  const std::size_t count = spans_.size();
  try {
    if (e.pair) {
      add_part(e, start_part(e), clock);
      add_part(e, stop_part(e), clock);
    } else {
      add_part(e, e.stop ? stop_part(e) : start_part(e), clock);
    }
  } catch (...) {
    text_.resize(mark);
    spans_.resize(count);
    throw;
  }
}

void view_builder::add_part(const event& e, const part& p, const stamp_converter& clock) {
  spans s;
  auto put = [this](span& sp, std::string_view v) {
    sp = {text_.size(), v.size()};
    text_.append(v);
  };
  s.name.at = text_.size();
  text_ += e.point_name();
  text_ += p.stop ? "-stop" : "-start";
  s.name.size = text_.size() - s.name.at;
  char buf[40];
  e.base.write(buf);
  put(s.base_id, std::string_view(buf, 36));
  e.parent.write(buf);
  put(s.parent_id, std::string_view(buf, 36));
  e.trace.write(buf);
  put(s.trace_id, std::string_view(buf, 36));
  format_into(clock.unix_ns(p.stamp) / 1000, buf);
  put(s.timestamp, std::string_view(buf, 26));
  s.info.at = text_.size();
  write_info(writer_, e, p);
  s.info.size = text_.size() - s.info.at;
  spans_.push_back(s);
}

const std::vector<notification_view>& view_builder::views(const collector& c) {
  views_.resize(spans_.size());
  const char* base = text_.data();
  auto at = [base](const span& sp) { return std::string_view(base + sp.at, sp.size); };
  const std::string_view host = c.host().empty() ? std::string_view(host_name()) : std::string_view(c.host());
  for (std::size_t i = 0; i < spans_.size(); ++i) {
    const spans& s = spans_[i];
    views_[i] = {at(s.name), at(s.base_id), at(s.parent_id), at(s.trace_id), at(s.timestamp),
                 c.project(),  c.service(),  host,          at(s.info)};
  }
  return views_;
}

}  // namespace osprofiler::detail
