#include "osprofiler/store.h"

#include <algorithm>
#include <cctype>
#include <string_view>
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
    // Not set (NULL in the SQL stores) is null, as Python gives None.
    for (const auto& [key, field] : picked) {
      const std::string& value = head.*field;
      row[key] = value.empty() ? nlohmann::json(nullptr) : nlohmann::json(value);
    }
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

// A query parameter's name as libpq reads it (percent-decoded).
std::string decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Where the password of a libpq keyword/value string is ("host=db
// password=secret", "password = 'it\\'s'"). libpq quotes a password only
// when it cannot parse it (a blank in it: `missing "=" after "horse"`), so
// the span runs on to the next `key=` (or the end), erring towards hiding
// more; backslash escapes and quotes (libpq's '...', and "..." as SOCI
// strips) are skipped over.
std::vector<std::pair<std::size_t, std::size_t>> keyword_password_spans(const std::string& cs) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  // True when a `key =` starts at i (i after a blank or a closing quote).
  auto key_at = [&](std::size_t i) {
    const std::size_t from = i;
    while (i < cs.size() && word(cs[i])) ++i;
    if (i == from) return false;
    while (i < cs.size() && space(cs[i])) ++i;
    return i < cs.size() && cs[i] == '=';
  };
  for (auto k = cs.find("password"); k != std::string::npos; k = cs.find("password", k + 1)) {
    // sslpassword (the client key's passphrase) is one too.
    const auto key = k >= 3 && cs.compare(k - 3, 3, "ssl") == 0 ? k - 3 : k;
    if (key > 0 && !space(cs[key - 1]) && cs[key - 1] != '\'' && cs[key - 1] != '"') continue;  // inside another word
    auto i = k + 8;
    while (i < cs.size() && space(cs[i])) ++i;
    if (i >= cs.size() || cs[i] != '=') continue;
    ++i;
    while (i < cs.size() && space(cs[i])) ++i;
    const auto start = i;
    char quote = 0;
    auto end = i;
    for (; end < cs.size(); ++end) {
      const char c = cs[end];
      if (c == '\\') {
        ++end;
      } else if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (space(c)) {
        const auto next = cs.find_first_not_of(" \t\r\n\v\f", end);
        if (next != std::string::npos && key_at(next)) break;
      }
    }
    end = std::min(end, cs.size());
    while (end > start && space(cs[end - 1])) --end;
    // A value quoted whole keeps its quotes in sight: "password='***'".
    auto from = start, to = end;
    if (to - from >= 2 && (cs[from] == '\'' || cs[from] == '"') && cs[to - 1] == cs[from]) {
      ++from;
      --to;
    }
    if (to > from) spans.emplace_back(from, to - from);
  }
  return spans;
}

// True when `cs` starts with a URI scheme ("postgresql://", "sqlite:///"):
// libpq reads anything else as keyword/value pairs, "://" inside a value included.
bool has_scheme(const std::string& cs) {
  const auto colon = cs.find("://");
  if (colon == std::string::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(cs[0]))) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    const char c = cs[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// Where the passwords of a URI connection string are: user:PASSWORD@host
// and password= / sslpassword= query parameters (libpq takes all three).
// Errs towards hiding more:
// - the user part ends at the last '@' before the first '?', or at the last
//   '@' of all when there is none before it (a password may hold '?', '/'
//   or '@'); an empty authority ("sqlite:////abs.db",
//   "postgresql:///db?host=/run/postgresql") has no user part;
// - every "?key=" and "&key=" after the user part counts as a parameter,
//   so an '@' or '?' in a parameter's value does not hide the ones after it.
// A string with no scheme is read as libpq's keyword/value pairs; when it
// was meant as a URI and is malformed ("postgresql:/u:pw@h/db"), whatever
// lies between its first ':' and its last '@' counts as a password too.
std::vector<std::pair<std::size_t, std::size_t>> password_spans(const std::string& cs) {
  constexpr auto npos = std::string::npos;
  if (!has_scheme(cs)) {
    auto spans = keyword_password_spans(cs);
    const auto colon = cs.find(':');
    const auto at = cs.rfind('@');
    if (colon != npos && at != npos && colon < at) spans.emplace_back(colon + 1, at - colon - 1);
    return spans;
  }
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // (start, length)
  const auto authority = cs.find("://") + 3;
  const auto query = cs.find('?', authority);
  std::size_t user_end = 0;  // parameters start after the user part
  if (authority < cs.size() && cs[authority] != '/') {
    auto at = query == npos ? cs.rfind('@') : cs.rfind('@', query);
    if (at == npos || at < authority) at = cs.rfind('@');
    if (at != npos && at > authority) {
      const auto colon = cs.find(':', authority);
      if (colon != npos && colon < at) {
        spans.emplace_back(colon + 1, at - colon - 1);
        user_end = at;
      }
    }
  }
  for (auto k = cs.find_first_of("?&", authority); k != npos; k = cs.find_first_of("?&", k + 1)) {
    if (k < user_end) continue;  // inside the password
    const auto key = k + 1;
    const auto eq = cs.find('=', key);
    if (eq == npos) break;
    const auto next = cs.find_first_of("?&", key);
    if (next != npos && next < eq) continue;  // a parameter without '='
    const std::string name = decoded(std::string_view(cs).substr(key, eq - key));
    if (name == "password" || name == "sslpassword") {
      const auto end = std::min(cs.find('&', eq + 1), cs.size());
      spans.emplace_back(eq + 1, end - eq - 1);
    }
  }
  return spans;
}

// Spans sorted and merged where they overlap (a keyword string's password=
// value inside the ':'...'@' span of a malformed URI), so that each
// stretch is replaced once.
std::vector<std::pair<std::size_t, std::size_t>> merged(std::vector<std::pair<std::size_t, std::size_t>> spans) {
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const auto& [start, length] : spans) {
    if (!out.empty() && start <= out.back().first + out.back().second) {
      auto& last = out.back();
      last.second = std::max(last.first + last.second, start + length) - last.first;
    } else {
      out.emplace_back(start, length);
    }
  }
  return out;
}

}  // namespace

std::string redact(const std::string& cs) {
  std::string out = cs;
  const auto spans = merged(password_spans(cs));
  // From the right, so that earlier offsets stay valid.
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) out.replace(it->first, it->second, "***");
  return out;
}

std::string redact_in(std::string message, const std::string& cs) {
  const std::string red = redact(cs);
  if (red == cs) return message;
  for (auto p = message.find(cs); p != std::string::npos; p = message.find(cs, p + red.size())) {
    message.replace(p, cs.size(), red);
  }
  // Messages that quote part of the string (libpq's parse errors do): the
  // password, and each word of one with blanks (libpq quotes the word after
  // the blank); words shorter than three characters are left, or every "a"
  // of the message would go.
  auto hide = [&message](const std::string& secret) {
    for (auto p = message.find(secret); p != std::string::npos; p = message.find(secret, p + 3)) {
      message.replace(p, secret.size(), "***");
    }
  };
  for (const auto& [start, length] : password_spans(cs)) {
    if (length == 0) continue;
    const std::string password = cs.substr(start, length);
    hide(password);
    std::string word;
    for (std::size_t i = 0; i <= password.size(); ++i) {
      const char c = i < password.size() ? password[i] : ' ';
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (word.size() >= 3 && word != password) hide(word);
        word.clear();
      } else if (c != '\'' && c != '"' && c != '\\') {
        word += c;
      }
    }
  }
  return message;
}

}  // namespace osprofiler
