// db::scrub_message: what a trace point may keep of a server's error message.
#include <string>
#include <string_view>

#include "osprofiler/db.h"

namespace osprofiler::db {
namespace {

// The field a line of a libpq error message starts, or "" for a line that
// continues the previous field ("ERROR:  ...", "DETAIL:  ...", "LINE 3: ...").
std::string_view field_of(std::string_view line) {
  static constexpr std::string_view fields[] = {"ERROR:",   "FATAL:", "PANIC:",   "WARNING:",  "NOTICE:",
                                                "DETAIL:",  "HINT:",  "QUERY:",   "CONTEXT:",  "STATEMENT:",
                                                "LOCATION:"};
  for (std::string_view f : fields) {
    if (line.substr(0, f.size()) == f) return f;
  }
  if (line.substr(0, 5) == "LINE ") {
    std::size_t i = 5;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
    if (i > 5 && i < line.size() && line[i] == ':') return "LINE";
  }
  return {};
}

bool keeps(std::string_view field, bool keep_sql, bool keep_params) {
  if (field == "DETAIL:") return keep_params;
  if (field == "LINE" || field == "QUERY:" || field == "STATEMENT:") return keep_sql;
  if (field == "CONTEXT:") return keep_sql && keep_params;  // may quote SQL or a row's values
  return true;
}

}  // namespace

std::string scrub_message(std::string_view text, std::string_view query, bool keep_sql, bool keep_params) {
  // The statement first, where it stands whole: a quoted multi-line
  // statement would otherwise lose only its later lines.
  std::string quoted(text);
  if (!keep_sql && query.size() >= 4) {  // libpqxx may quote the whole statement
    for (std::size_t at = quoted.find(query); at != std::string::npos; at = quoted.find(query, at)) {
      quoted.replace(at, query.size(), "<statement>");
      at += 11;
    }
  }
  const std::string_view message = quoted;
  std::string out;
  out.reserve(message.size());
  bool keeping = true;
  bool first = true;
  bool kept_last = false;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    if (eol == std::string_view::npos) eol = message.size();
    const std::string_view line = message.substr(pos, eol - pos);
    const std::string_view field = field_of(line);
    bool keep = keeping;
    if (!field.empty()) {
      keep = keeping = keeps(field, keep_sql, keep_params);
    } else if (!first && !(keep_sql && keep_params)) {
      // A line of no field we know: libpq translates some labels ("ZEILE 1:"
      // for "LINE 1:"), so it may echo what a switch hides. Dropped unless
      // nothing is hidden; only the caret under a kept LINE echo is safe.
      keep = kept_last && keep_sql && line.find_first_not_of(" ^") == std::string_view::npos;
    }
    if (keep) {
      out.append(line);
      out.push_back('\n');
    }
    first = false;
    kept_last = keep;
    pos = eol + 1;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r' || out.back() == '\t')) {
    out.pop_back();
  }
  return out;
}

}  // namespace osprofiler::db
