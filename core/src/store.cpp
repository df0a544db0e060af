#include "osprofiler/store.h"

#include <map>
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

void register_store(const std::string& scheme, store_factory make) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    stores()[scheme] = make;
  }
  notifier::register_scheme(scheme, [make](const connection_string& cs, const notifier::collector_args& a) {
    return std::shared_ptr<collector>(make(cs, a));
  });
}

std::shared_ptr<store> open_store(const std::string& text) {
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
  return make(cs, {});
}

std::string redact(const std::string& cs) {
  // scheme://user:password@host -> scheme://user:***@host
  const auto scheme_end = cs.find("://");
  if (scheme_end == std::string::npos) return cs;
  const auto at = cs.find('@', scheme_end + 3);
  if (at == std::string::npos) return cs;
  const auto colon = cs.find(':', scheme_end + 3);
  if (colon == std::string::npos || colon > at) return cs;
  return cs.substr(0, colon + 1) + "***" + cs.substr(at);
}

}  // namespace osprofiler
