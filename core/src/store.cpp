#include "osprofiler/store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <map>
#include <stdexcept>
#include <mutex>

#include "file_store.h"
#include "osprofiler/report.h"

namespace osprofiler {
namespace {
std::mutex g_mu;
std::map<std::string, store_factory>& stores() {
  static std::map<std::string, store_factory> r;
  return r;
}
}  // namespace

nlohmann::json store::get_report(const std::string& base_id) { return build_report(load(base_id)); }

std::vector<notification> store::trace_heads() {
  std::vector<notification> out;
  for (const auto& t : list_traces()) {
    auto notes = load(t.base_id);
    if (notes.empty()) continue;
    auto first = std::min_element(notes.begin(), notes.end(),
                                  [](const notification& a, const notification& b) { return a.timestamp < b.timestamp; });
    out.push_back(std::move(*first));
  }
  return out;
}

std::vector<nlohmann::json> store::list_traces(const std::vector<std::string>& fields) {
  using member = std::string notification::*;
  static const std::map<std::string, member> known = {
      {"base_id", &notification::base_id}, {"timestamp", &notification::timestamp},
      {"name", &notification::name},       {"project", &notification::project},
      {"service", &notification::service}, {"host", &notification::host},
      {"parent_id", &notification::parent_id}, {"trace_id", &notification::trace_id}};
  std::vector<std::pair<std::string, member>> picked;
  for (const auto& f : fields) {
    const auto it = known.find(f);
    if (it == known.end()) {
      throw std::invalid_argument("list_traces: unknown field '" + f +
                                  "'; known: base_id, timestamp, name, project, service, host, parent_id, trace_id");
    }
    picked.emplace_back(f, it->second);
  }
  std::vector<nlohmann::json> out;
  for (const auto& head : trace_heads()) {
    nlohmann::json row = nlohmann::json::object();
    for (const auto& [key, field] : picked) row[key] = head.*field;
    out.push_back(std::move(row));
  }
  return out;
}

void register_store(const std::string& scheme, store_factory make) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    stores()[scheme] = make;
  }
  notifier::register_scheme(scheme, [make](const connection_string& cs, const notifier::collector_args& a) {
    return std::shared_ptr<collector>(make(cs, a));
  });
}

std::shared_ptr<store> open_store(const std::string& text, store_mode mode) {
  const auto cs = connection_string::parse(text.empty() ? default_connection_string() : text);
  store_factory make;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = stores().find(cs.scheme);
    if (it != stores().end()) make = it->second;
  }
  if (!make && cs.scheme == "file") make = detail::make_file_store;
  if (!make) {
    std::string known = "file://";
    {
      std::lock_guard<std::mutex> lock(g_mu);
      for (auto& [k, v] : stores()) {
        if (k != "file") known += ", " + k + "://";
      }
    }
    throw std::invalid_argument("unknown scheme '" + cs.scheme + "' in connection string '" + redact(cs.text) +
                                "'; known schemes: " + known);
  }
  notifier::collector_args args;
  args.read_only = mode == store_mode::read_only;
  return make(cs, args);
}

namespace {

// Where the passwords of a URI connection string are: user:PASSWORD@host
// and a password=PASSWORD query parameter (libpq takes both).
std::vector<std::pair<std::size_t, std::size_t>> password_spans(const std::string& cs) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // (start, length)
  const auto scheme_end = cs.find("://");
  if (scheme_end == std::string::npos) return spans;
  const auto authority = scheme_end + 3;
  const auto authority_end = std::min(cs.find_first_of("/?", authority), cs.size());
  const auto at = cs.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    const auto colon = cs.find(':', authority);
    if (colon != std::string::npos && colon < at) spans.emplace_back(colon + 1, at - colon - 1);
  }
  for (auto q = cs.find('?', authority); q != std::string::npos && q < cs.size(); q = cs.find('&', q + 1)) {
    const auto key = q + 1;
    if (cs.compare(key, 9, "password=") == 0) {
      const auto value = key + 9;
      const auto end = std::min(cs.find('&', value), cs.size());
      spans.emplace_back(value, end - value);
    }
  }
  return spans;
}

}  // namespace

std::string redact(const std::string& cs) {
  std::string out = cs;
  auto spans = password_spans(cs);
  // From the right, so that earlier offsets stay valid.
  std::sort(spans.begin(), spans.end());
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) out.replace(it->first, it->second, "***");
  return out;
}

std::string redact_in(std::string message, const std::string& cs) {
  const std::string red = redact(cs);
  if (red == cs) return message;
  for (auto p = message.find(cs); p != std::string::npos; p = message.find(cs, p + red.size())) {
    message.replace(p, cs.size(), red);
  }
  // Messages that quote part of the string (libpq's parse errors do).
  for (const auto& [start, length] : password_spans(cs)) {
    if (length == 0) continue;
    const std::string password = cs.substr(start, length);
    for (auto p = message.find(password); p != std::string::npos; p = message.find(password, p + 3)) {
      message.replace(p, password.size(), "***");
    }
  }
  return message;
}

}  // namespace osprofiler
