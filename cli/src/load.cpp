// Loading a trace for the views: from a file (Python's report JSON, or our
// JSON-lines trace file) or from a store, with errors a person can act on.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "osprofiler/report.h"
#include "osprofiler/store.h"
#include "osprofiler/views.h"

namespace osprofiler::views {
namespace {

// "line L, column C" of a byte offset in text (both 1-based).
std::string where(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// nlohmann's parse_error text without its "[json.exception.parse_error.101] "
// prefix and its own position (we give line and column).
std::string reason(const nlohmann::json::parse_error& e) {
  std::string w = e.what();
  auto p = w.find("] ");
  if (p != std::string::npos) w = w.substr(p + 2);
  p = w.find(": ");
  if (w.rfind("parse error", 0) == 0 && p != std::string::npos) w = w.substr(p + 2);
  return w;
}

bool is_notification(const nlohmann::json& j) {
  return j.is_object() && j.contains("name") && j.contains("trace_id") && j.contains("timestamp");
}

}  // namespace

bool looks_like_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

namespace {

// Reports built from notifications nest at most max_report_depth levels; a
// hand-made one could nest deep enough to exhaust the stack of every
// recursive view (and make the text view's indentation grow to gigabytes).
void check_depth(const nlohmann::json& report, const std::string& path) {
  std::vector<std::pair<const nlohmann::json*, std::size_t>> todo{{&report, 0}};
  while (!todo.empty()) {
    const auto [node, depth] = todo.back();
    todo.pop_back();
    if (depth > max_report_depth) {
      throw user_error("'" + path + "' nests trace points more than " + std::to_string(max_report_depth) +
                       " levels deep (a report built from notifications never does: deeper points become roots)");
    }
    const auto kids = node->find("children");
    if (kids == node->end() || !kids->is_array()) continue;
    for (const auto& k : *kids) {
      if (k.is_object()) todo.emplace_back(&k, depth + 1);
    }
  }
}

}  // namespace

loaded_trace load_trace_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw user_error("cannot read '" + path + "': " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw user_error("cannot read '" + path + "': read error");
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw user_error("'" + path + "' is empty: expected a trace report (JSON) or a JSON-lines trace file");

  loaded_trace t;
  t.source = path;
  std::vector<notification> notes;
  // A JSON-lines trace file starts with a notification on its first line.
  const auto eol = text.find('\n', first);
  const std::string head = text.substr(first, eol == std::string::npos ? std::string::npos : eol - first);
  nlohmann::json j0(nlohmann::json::value_t::discarded);
  try {
    j0 = parse_json(head);
  } catch (const nlohmann::json::parse_error&) {
    // not a notification line: read as a whole report below
  }
  if (!j0.is_discarded() && is_notification(j0) && eol != std::string::npos &&
      text.find_first_not_of(" \t\r\n", eol) != std::string::npos) {
    std::size_t line_no = 0, pos = 0;
    std::map<std::string, std::size_t> traces;
    while (pos < text.size()) {
      const auto end = text.find('\n', pos);
      const bool last = end == std::string::npos;
      const std::string line = text.substr(pos, last ? std::string::npos : end - pos);
      ++line_no;
      pos = last ? text.size() : end + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      try {
        notes.push_back(notification::from_json(parse_json(line)));
        ++traces[notes.back().base_id];
      } catch (const nlohmann::json::parse_error& e) {
        // A writer that died mid-line leaves one unterminated last line: keep the rest.
        if (last) {
          t.source += " (incomplete last line " + std::to_string(line_no) + " ignored)";
          t.notes.push_back("'" + path + "': incomplete last line " + std::to_string(line_no) +
                            " ignored (its writer stopped in the middle of it)");
          break;
        }
        throw user_error("corrupt trace file '" + path + "': line " + std::to_string(line_no) + ", column " +
                         std::to_string(e.byte) + ": " + reason(e));
      } catch (const std::exception& e) {
        throw user_error("corrupt trace file '" + path + "': line " + std::to_string(line_no) + ": " + e.what());
      }
    }
    if (traces.size() > 1) {
      std::string ids;
      for (auto& [id, n] : traces) ids += (ids.empty() ? "" : ", ") + id;
      throw user_error("'" + path + "' holds " + std::to_string(traces.size()) +
                       " traces; pick one: osprofiler trace show <base_id> --connection-string file://" + path +
                       " (base ids: " + (ids.size() > 200 ? ids.substr(0, 200) + "..." : ids) + ")");
    }
    t.times = exact_times(notes);
    t.report = build_report(std::move(notes));
    return t;
  }

  try {
    t.report = parse_json(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw user_error("corrupt trace file '" + path + "': " + where(text, e.byte ? e.byte - 1 : 0) + " (byte " +
                     std::to_string(e.byte) + "): " + reason(e));
  }
  if (is_notification(t.report)) {
    // A file holding a single notification.
    notes.push_back(notification::from_json(t.report));
    t.times = exact_times(notes);
    t.report = build_report(std::move(notes));
    return t;
  }
  if (!t.report.is_object() || !t.report.contains("children") || !t.report["children"].is_array()) {
    throw user_error("'" + path + "' is not a trace report: expected a JSON object with a \"children\" list "
                     "(osprofiler trace show --json) or one notification per line");
  }
  check_depth(t.report, path);
  return t;
}

std::string store_error_message(const std::string& cs, const std::string& what, const char* doing) {
  // Stores name the connection string in their errors; never echo a password.
  const std::string red = redact(cs);
  const std::string msg = redact_in(what, cs);
  // Say which store, unless the store's message already does.
  if (msg.find(red) != std::string::npos) return std::string(doing) + " trace store: " + msg;
  return std::string(doing) + " trace store " + red + ": " + msg;
}

loaded_trace load_trace_from_store(const std::string& base_id, const std::string& cs_in) {
  const std::string cs = cs_in.empty() ? default_connection_string() : cs_in;
  loaded_trace t;
  t.source = redact(cs);
  std::shared_ptr<store> s;
  try {
    s = open_store(cs, store_mode::read_only);
  } catch (const std::exception& e) {
    throw user_error(store_error_message(cs, e.what(), "cannot open"));
  }
  std::vector<notification> notes;
  try {
    notes = s->load(base_id);
  } catch (const std::exception& e) {
    throw user_error(store_error_message(cs, e.what(), "cannot read"));
  }
  if (notes.empty()) {
    throw user_error("trace " + base_id + " not found in " + redact(cs) +
                     " (searched that store; check the id with `osprofiler trace list`, or pass --connection-string)");
  }
  t.times = exact_times(notes);
  t.report = build_report(std::move(notes));
  return t;
}

}  // namespace osprofiler::views
