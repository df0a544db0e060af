#include "osprofiler/config.h"

// Debian's libsimpleini is built with the ICU converter; match it.
#define SI_CONVERT_ICU
#include <SimpleIni.h>

#include <algorithm>
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
  std::string where;  // "configuration file 'x.conf' [profiler]" or "environment"
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

std::size_t parse_size(const origin& o, const std::string& raw, std::size_t min, std::size_t max) {
  const std::string v = trim(raw);
  const std::string expected = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 12) bad(o, raw, expected);
  const auto n = static_cast<std::size_t>(std::stoull(v));
  if (n < min || n > max) bad(o, raw, expected);
  return n;
}

// A queue slot holds one event (about 200 bytes before its info): 16M slots
// are already gigabytes; a bigger number is a typo, not a plan.
constexpr std::size_t max_queue_size = notifier::max_queue_capacity;
constexpr std::size_t max_statement_bytes_limit = std::size_t{1} << 30;

overflow_policy parse_policy(const origin& o, const std::string& raw) {
  const std::string v = lower(trim(raw));
  if (v == "drop") return overflow_policy::drop;
  if (v == "block") return overflow_policy::block;
  bad(o, raw, "'drop' or 'block'");
}

// Applies one key; false when the key is unknown.
bool apply(options& opts, const std::string& key, const std::string& value, const origin& o) {
  if (key == "enabled" || key == "profiler_enabled") opts.enabled = parse_bool(o, value);  // its deprecated name
  else if (key == "trace_sql" || key == "trace_sqlalchemy") opts.trace_sql = parse_bool(o, value);
  else if (key == "trace_sql_params") opts.trace_sql_params = parse_bool(o, value);
  else if (key == "hmac_keys") opts.hmac_keys = trim(value);
  else if (key == "connection_string") opts.connection_string = trim(value);
  else if (key == "project") opts.project = trim(value);
  else if (key == "service") opts.service = trim(value);
  else if (key == "queue_size") opts.queue_size = parse_size(o, value, 2, max_queue_size);
  else if (key == "overflow_policy") opts.overflow = parse_policy(o, value);
  else if (key == "max_statement_bytes") opts.max_statement_bytes = parse_size(o, value, 0, max_statement_bytes_limit);
  else if (key == "filter_error_trace") opts.filter_error_trace = parse_bool(o, value);
  else return false;
  return true;
}

// OSProfiler options this library accepts but has no use for.
bool ignored_openstack_key(const std::string& key) {
  return key == "es_doc_type" || key == "es_scroll_time" || key == "es_scroll_size" || key == "socket_timeout" ||
         key == "sentinel_service_name" || key == "trace_requests";
}

// oslo.config's grammar (oslo_config/iniparser.py), in which OpenStack's
// config files are written, rewritten into lines SimpleIni reads alike:
// "key: value" and "key = value" (whichever of ':' and '=' comes first)
// become "key = value" with one pair of matching quotes taken off the
// value, and an indented line continues the value before it (joined by a
// blank: "hmac_keys = k1,\n    k2" gives "k1, k2"). As in oslo.config, an
// indented line with no value to continue and a key that is empty are
// errors. So is a section header without its "]", which SimpleIni would skip
// as an invalid line: the keys under a "[profiler" typo would land in the
// section before, and profiling would stay off without a word.
std::string oslo_to_simpleini(const std::string& path, const std::string& text) {
  std::vector<std::string> out;
  std::ptrdiff_t open_value = -1;  // the line in `out` an indented line continues
  auto fail = [&](std::size_t line_no, const std::string& what, const std::string& line) {
    throw config_error("configuration file '" + path + "', line " + std::to_string(line_no) + ": " + what + ": '" +
                       line + "'");
  };
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty()) {
      open_value = -1;
      out.emplace_back();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (open_value < 0) fail(line_no, "continuation line with no value before it", trim(line));
      out[static_cast<std::size_t>(open_value)] += " " + trim(line);
      out.emplace_back();  // keeps SimpleIni's line numbers in step
      continue;
    }
    // A header only at the start of a line, as oslo.config reads it: an
    // indented "[..." above is part of a value.
    if (line[0] == '[' && line.back() != ']') {
      throw config_error("configuration file '" + path + "', line " + std::to_string(line_no) + ": section header '" +
                         line + "' has no closing ']'");
    }
    open_value = -1;
    const auto colon = line.find(':'), equal = line.find('=');
    if (line[0] == '[' || line[0] == '#' || line[0] == ';' || (colon == std::string::npos && equal == std::string::npos)) {
      out.push_back(line);  // a key alone is reported as unknown below
      continue;
    }
    const auto split = std::min(colon, equal);
    const std::string key = trim(line.substr(0, split));
    std::string value = trim(line.substr(split + 1));
    if (key.empty()) fail(line_no, "empty key", line);
    if (!value.empty() && (value[0] == '"' || value[0] == '\'') && value.back() == value[0]) {
      value = value.size() >= 2 ? value.substr(1, value.size() - 2) : std::string();
    }
    out.push_back(key + " = " + value);
    open_value = static_cast<std::ptrdiff_t>(out.size()) - 1;
  }
  std::string joined;
  for (const auto& l : out) joined += l + "\n";
  return joined;
}

}  // namespace

options load_options(const std::string& path, std::vector<std::string>* warnings) {
  std::string text;
  {
    FILE* f = std::fopen(path.c_str(), "rbe");
    if (!f) throw config_error("cannot read configuration file '" + path + "': " + std::strerror(errno));
    char buf[8192];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    const bool failed = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    if (failed) throw config_error("cannot read configuration file '" + path + "': " + std::strerror(err));
  }
  text = oslo_to_simpleini(path, text);
  CSimpleIniA ini(/*utf8=*/true, /*multikey=*/false, /*multiline=*/false);
  // A line without "=" becomes a key with no value, so it is reported as an
  // unknown key (or a bad value) instead of vanishing.
  ini.SetAllowKeyOnly(true);
  const SI_Error rc = ini.LoadData(text.data(), text.size());
  if (rc < 0) {
    throw config_error("cannot parse configuration file '" + path +
                       (rc == SI_NOMEM ? "': out of memory" : "': not an INI file SimpleIni can read"));
  }

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
