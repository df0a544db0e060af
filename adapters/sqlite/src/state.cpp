#include "state.h"

#include <cctype>

#include "executions.h"
#include "osprofiler/sqlite/error.h"

namespace osprofiler::sqlite::detail {

void connection_state::end_transaction() noexcept {
  if (!tx.recording()) return;
  delist(this);
  settle_above(tx_depth);
  tx.finish();
}

void connection_state::settle_tx(void* self) noexcept { static_cast<connection_state*>(self)->tx.finish(); }

namespace {
constexpr std::size_t max_param_text = 1024;  // per value: db.params stays small
}

void bound_values::set(int index, int type, std::int64_t i, double d, std::string_view text) {
  value* slot = nullptr;
  for (auto& v : values) {
    if (v.index == index) slot = &v;
  }
  if (!slot) slot = &values.emplace_back();
  slot->index = index;
  slot->type = type;
  slot->i = i;
  slot->d = d;
  if (type == SQLITE_TEXT) {
    if (text.size() <= max_param_text) {
      slot->text.assign(text.data(), text.size());
    } else {
      slot->text.assign(text.data(), max_param_text);
      slot->text += "...[truncated " + std::to_string(text.size() - max_param_text) + " bytes]";
    }
  } else {
    slot->text.clear();
  }
}

void bound_values::forget(int index) noexcept {
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (values[k].index == index) {
      values.erase(values.begin() + static_cast<std::ptrdiff_t>(k));
      return;
    }
  }
}

nlohmann::json bound_values::to_json(sqlite3_stmt* stmt) const {
  const int count = sqlite3_bind_parameter_count(stmt);
  bool named = false;
  for (int i = 1; i <= count && !named; ++i) named = sqlite3_bind_parameter_name(stmt, i) != nullptr;
  auto as_json = [](const value& v) -> nlohmann::json {
    switch (v.type) {
      case SQLITE_INTEGER: return v.i;
      case SQLITE_FLOAT: return v.d;
      case SQLITE_TEXT: return v.text;
      case SQLITE_BLOB: return "<blob " + std::to_string(v.i) + " bytes>";
      default: return nullptr;
    }
  };
  if (!named) {
    nlohmann::json out = nlohmann::json::array();
    for (int i = 1; i <= count; ++i) out.push_back(nullptr);
    for (const auto& v : values) {
      if (v.index >= 1 && v.index <= count) out[static_cast<std::size_t>(v.index - 1)] = as_json(v);
    }
    return out;
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& v : values) {
    const char* name = sqlite3_bind_parameter_name(stmt, v.index);
    out[name ? std::string(name) : "?" + std::to_string(v.index)] = as_json(v);
  }
  return out;
}

namespace {
// Skips blanks and SQL comments.
std::size_t skip_space(std::string_view s, std::size_t i) noexcept {
  for (;;) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (s.substr(i, 2) == "--") {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (s.substr(i, 2) == "/*") {
      const auto end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else {
      return i;
    }
  }
}

std::string_view word_at(std::string_view s, std::size_t& i) noexcept {
  i = skip_space(s, i);
  const std::size_t start = i;
  while (i < s.size() && (std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
  return s.substr(start, i - start);
}

bool is(std::string_view word, std::string_view keyword) noexcept {
  if (word.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(word[i])) != keyword[i]) return false;
  }
  return true;
}
}  // namespace

control classify(std::string_view sql) noexcept {
  std::size_t i = 0;
  // After a stray ";" SQLite's text of the next statement starts with it
  // (";; BEGIN" runs "; BEGIN").
  for (i = skip_space(sql, i); i < sql.size() && sql[i] == ';'; i = skip_space(sql, i + 1)) {
  }
  const auto first = word_at(sql, i);
  if (is(first, "BEGIN")) return control::begin;
  if (is(first, "COMMIT") || is(first, "END")) return control::commit;
  if (is(first, "ROLLBACK")) {
    // ROLLBACK [TRANSACTION] TO [SAVEPOINT] x only rewinds to a savepoint.
    auto next = word_at(sql, i);
    if (is(next, "TRANSACTION")) next = word_at(sql, i);
    return is(next, "TO") ? control::plain : control::rollback;
  }
  return control::plain;
}

void record_failure(db::call& c, sqlite3* db, int rc) noexcept {
  if (!c.recording()) return;
  try {
    const int extended = db ? sqlite3_extended_errcode(db) : rc;
    const char* message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    c.fail(error_type_name, message ? message : sqlite3_errstr(rc),
           {{"code", rc & 0xff}, {"extended_code", (extended & 0xff) == (rc & 0xff) ? extended : rc}});
  } catch (...) {
  }
}

std::int64_t changes(sqlite3* db) noexcept {
#if SQLITE_VERSION_NUMBER >= 3037000
  return sqlite3_changes64(db);
#else
  return sqlite3_changes(db);
#endif
}

std::int64_t total_changes(sqlite3* db) noexcept {
#if SQLITE_VERSION_NUMBER >= 3037000
  return sqlite3_total_changes64(db);
#else
  return sqlite3_total_changes(db);
#endif
}

}  // namespace osprofiler::sqlite::detail
