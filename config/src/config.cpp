#include "osprofiler/config.h"

// Debian's libsimpleini is built with the ICU converter; match it.
#define SI_CONVERT_ICU
#include <SimpleIni.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "osprofiler/notifier.h"
#include "osprofiler/web.h"
#ifdef OSPROFILER_HAVE_STORES
#include "osprofiler/stores.h"
#endif

namespace osprofiler {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Where a value came from, for error messages.
struct origin {
  std::string where;  // "file 'x.conf' [profiler]" or "environment"
  std::string key;    // as written there
};

[[noreturn]] void bad(const origin& o, const std::string& value, const std::string& expected) {
  throw config_error(o.where + ": invalid value '" + value + "' for " + o.key + ": expected " + expected);
}

// oslo.config's boolean spellings.
bool parse_bool(const origin& o, const std::string& raw) {
  const std::string v = lower(trim(raw));
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  bad(o, raw, "a boolean (true/false, yes/no, on/off, 1/0)");
}

std::size_t parse_size(const origin& o, const std::string& raw, std::size_t min) {
  const std::string v = trim(raw);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 12) {
    bad(o, raw, "a whole number >= " + std::to_string(min));
  }
  const auto n = static_cast<std::size_t>(std::stoull(v));
  if (n < min) bad(o, raw, "a whole number >= " + std::to_string(min));
  return n;
}

overflow_policy parse_policy(const origin& o, const std::string& raw) {
  const std::string v = lower(trim(raw));
  if (v == "drop") return overflow_policy::drop;
  if (v == "block") return overflow_policy::block;
  bad(o, raw, "'drop' or 'block'");
}

// Applies one key; false when the key is unknown.
bool apply(options& opts, const std::string& key, const std::string& value, const origin& o) {
  if (key == "enabled") opts.enabled = parse_bool(o, value);
  else if (key == "trace_sql" || key == "trace_sqlalchemy") opts.trace_sql = parse_bool(o, value);
  else if (key == "trace_sql_params") opts.trace_sql_params = parse_bool(o, value);
  else if (key == "hmac_keys") opts.hmac_keys = trim(value);
  else if (key == "connection_string") opts.connection_string = trim(value);
  else if (key == "project") opts.project = trim(value);
  else if (key == "service") opts.service = trim(value);
  else if (key == "queue_size") opts.queue_size = parse_size(o, value, 2);
  else if (key == "overflow_policy") opts.overflow = parse_policy(o, value);
  else if (key == "max_statement_bytes") opts.max_statement_bytes = parse_size(o, value, 0);
  else if (key == "filter_error_trace") opts.filter_error_trace = parse_bool(o, value);
  else return false;
  return true;
}

// OSProfiler options this library accepts but has no use for.
bool ignored_openstack_key(const std::string& key) {
  return key == "es_doc_type" || key == "es_scroll_time" || key == "es_scroll_size" || key == "socket_timeout" ||
         key == "sentinel_service_name" || key == "trace_requests";
}

}  // namespace

options load_options(const std::string& path, std::vector<std::string>* warnings) {
  FILE* f = std::fopen(path.c_str(), "rbe");
  if (!f) throw config_error("cannot read configuration file '" + path + "': " + std::strerror(errno));
  CSimpleIniA ini(/*utf8=*/true, /*multikey=*/false, /*multiline=*/false);
  // A line without "=" becomes a key with no value, so it is reported as an
  // unknown key (or a bad value) instead of vanishing.
  ini.SetAllowKeyOnly(true);
  const SI_Error rc = ini.LoadFile(f);
  std::fclose(f);
  if (rc < 0) throw config_error("cannot parse configuration file '" + path + "' (error " + std::to_string(rc) + ")");

  options opts;
  CSimpleIniA::TNamesDepend sections;
  ini.GetAllSections(sections);
  for (const auto& section : sections) {
    if (lower(section.pItem) != "profiler") continue;
    CSimpleIniA::TNamesDepend keys;
    ini.GetAllKeys(section.pItem, keys);
    keys.sort(CSimpleIniA::Entry::LoadOrder());
    for (const auto& k : keys) {
      const std::string key = lower(trim(k.pItem));
      const char* value = ini.GetValue(section.pItem, k.pItem, "");
      const origin o{"configuration file '" + path + "' [profiler]", key};
      if (!apply(opts, key, value ? value : "", o) && !ignored_openstack_key(key)) {
        const std::string w = "configuration file '" + path + "' [profiler]: unknown key '" + key + "' ignored";
        if (warnings) warnings->push_back(w);
        else std::fprintf(stderr, "osprofiler: %s\n", w.c_str());
      }
    }
  }
  return apply_environment(std::move(opts));
}

options apply_environment(options opts) {
  static const std::pair<const char*, const char*> vars[] = {
      {"OSPROFILER_ENABLED", "enabled"},
      {"OSPROFILER_TRACE_SQL", "trace_sql"},
      {"OSPROFILER_TRACE_SQL_PARAMS", "trace_sql_params"},
      {"OSPROFILER_HMAC_KEYS", "hmac_keys"},
      {"OSPROFILER_CONNECTION_STRING", "connection_string"},
      {"OSPROFILER_PROJECT", "project"},
      {"OSPROFILER_SERVICE", "service"},
      {"OSPROFILER_QUEUE_SIZE", "queue_size"},
      {"OSPROFILER_OVERFLOW_POLICY", "overflow_policy"},
      {"OSPROFILER_MAX_STATEMENT_BYTES", "max_statement_bytes"},
  };
  for (const auto& [var, key] : vars) {
    if (const char* v = std::getenv(var)) apply(opts, key, v, origin{"environment", var});
  }
  return opts;
}

void init_from_conf(const options& o, const std::string& project, const std::string& service,
                    const std::string& host) {
#ifdef OSPROFILER_HAVE_STORES
  register_stores();
#endif
  notifier::configure_queue(o.queue_size, o.overflow);
  if (o.enabled) {
    const std::string cs = o.connection_string.empty() ? default_connection_string() : o.connection_string;
    notifier::collector_args args{project.empty() ? o.project : project, service.empty() ? o.service : service,
                                  host};
    notifier::set(notifier::create(cs, args));
    web::enable(o.hmac_keys);
  } else {
    web::disable();
  }
  set_options(o);
}

}  // namespace osprofiler
