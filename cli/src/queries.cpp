// Statement shapes and the query summary of a trace.
#include <algorithm>
#include <cctype>
#include <map>
#include <unordered_map>

#include "osprofiler/views.h"

namespace osprofiler::views {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }

struct token {
  std::string text;
  bool space_before = false;
};

// Folds a parenthesised list made only of `?` and commas into "(...)", and
// runs of such lists separated by commas (multi-row VALUES) into one.
void fold_lists(std::vector<token>& t) {
  std::vector<token> out;
  out.reserve(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].text == "(") {
      std::size_t j = i + 1;
      bool only_values = false;
      while (j < t.size() && (t[j].text == "?" || t[j].text == ",")) {
        if (t[j].text == "?") only_values = true;
        ++j;
      }
      if (only_values && j < t.size() && t[j].text == ")") {
        const bool repeat = out.size() >= 2 && out.back().text == "," && out[out.size() - 2].text == "(...)";
        if (repeat) {
          out.pop_back();  // "(...), (...)" is one list
        } else {
          out.push_back({"(...)", t[i].space_before});
        }
        i = j;
        continue;
      }
    }
    out.push_back(std::move(t[i]));
  }
  t = std::move(out);
}

}  // namespace

std::string sql_shape(std::string_view s) {
  std::vector<token> t;
  bool space = false;
  auto push = [&](std::string text) {
    t.push_back({std::move(text), space && !t.empty()});
    space = false;
  };
  auto literal = [&] {
    // A minus sign right after an operator belongs to the number: "= -1".
    if (!t.empty() && t.back().text == "-" && t.size() >= 2) {
      const std::string& before = t[t.size() - 2].text;
      if (before == "(" || before == "," || before == "=" || before == "<" || before == ">" || before == "<=" ||
          before == ">=" || before == "<>" || before == "!=") {
        space = t.back().space_before;
        t.pop_back();
      }
    }
    push("?");
  };
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      ++i;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') ++i;
      space = true;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      const auto end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
      space = true;
    } else if (c == '\'') {
      // 'it''s' is one literal; E'..', X'..', N'..' prefixes fold with it.
      ++i;
      while (i < n) {
        if (s[i] == '\'' && i + 1 < n && s[i + 1] == '\'') {
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else {
          ++i;
        }
      }
      if (!t.empty() && !space && (t.back().text == "E" || t.back().text == "e" || t.back().text == "X" ||
                                   t.back().text == "x" || t.back().text == "N" || t.back().text == "n")) {
        space = t.back().space_before;
        t.pop_back();
      }
      literal();
    } else if (c == '"' || c == '`' || c == '[') {
      const char close = c == '[' ? ']' : c;
      const std::size_t begin = i++;
      while (i < n && s[i] != close) ++i;
      if (i < n) ++i;
      push(std::string(s.substr(begin, i - begin)));
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      if (c == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        i += 2;
        while (i < n && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
      } else {
        while (i < n && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
          std::size_t j = i + 1;
          if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
          if (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) {
            i = j;
            while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
          }
        }
      }
      literal();
    } else if ((c == '?' || c == '$') && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      ++i;
      while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      push("?");
    } else if (c == '?') {
      ++i;
      push("?");
    } else if ((c == ':' || c == '@' || c == '$') && i + 1 < n && (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '_') &&
               !(c == ':' && i > 0 && s[i - 1] == ':')) {
      ++i;
      while (i < n && ident_char(s[i])) ++i;
      push("?");
    } else if (ident_char(c)) {
      const std::size_t begin = i;
      while (i < n && (ident_char(s[i]) || s[i] == '$')) ++i;
      push(std::string(s.substr(begin, i - begin)));
    } else {
      // Operators: keep two-character ones together so "<=" stays one token.
      static const char* const two[] = {"<=", ">=", "<>", "!=", "::", "||", "->"};
      std::string op(1, c);
      if (i + 1 < n) {
        for (const char* t2 : two) {
          if (c == t2[0] && s[i + 1] == t2[1]) op = t2;
        }
      }
      i += op.size();
      push(std::move(op));
    }
  }
  while (!t.empty() && t.back().text == ";") t.pop_back();
  fold_lists(t);
  std::string out;
  out.reserve(s.size());
  for (const auto& tk : t) {
    if (tk.space_before) out += ' ';
    out += tk.text;
  }
  return out;
}

namespace {
bool is_query(const point& p) {
  if (!p.is_db || p.statement.empty()) return false;
  return p.api != "prepare" && p.api != "transaction" && p.api != "connect" && p.api != "close" &&
         p.api != "begin" && p.api != "commit" && p.api != "rollback";
}
}  // namespace

query_summary summarise_queries(const trace_model& m) {
  query_summary q;
  std::unordered_map<std::string_view, std::string> shape_of;  // statement -> shape (N+1 loops repeat texts)
  std::unordered_map<std::string, std::size_t> index;      // shape -> q.shapes index
  std::map<std::pair<int, std::size_t>, repeat> per_parent;
  q.shape_of.assign(m.points.size(), -1);
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    if (!is_query(p)) continue;
    auto sh = shape_of.find(p.statement);
    if (sh == shape_of.end()) sh = shape_of.emplace(p.statement, sql_shape(p.statement)).first;
    auto [it, fresh] = index.emplace(sh->second, q.shapes.size());
    if (fresh) q.shapes.push_back({sh->second});
    q.shape_of[i] = static_cast<int>(it->second);
    shape_stat& st = q.shapes[it->second];
    const std::int64_t d = p.duration_us();
    ++st.count;
    st.total_us += d;
    if (st.slowest_point < 0 || d > st.max_us) {
      st.max_us = d;
      st.slowest_point = static_cast<int>(i);
    }
    ++q.statements;
    q.total_us += d;
    repeat& r = per_parent[{p.parent, it->second}];
    r.parent = p.parent;
    ++r.count;
    r.total_us += d;
  }
  // Prepares of those statements share their shape (the text view folds
  // prepare/execute pairs of an N+1 loop together); they are not counted.
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    if (!p.is_db || p.statement.empty() || p.api != "prepare") continue;
    auto sh = shape_of.find(p.statement);
    if (sh == shape_of.end()) sh = shape_of.emplace(p.statement, sql_shape(p.statement)).first;
    auto it = index.find(sh->second);
    if (it != index.end()) q.shape_of[i] = static_cast<int>(it->second);
  }
  for (auto& [key, r] : per_parent) {
    if (r.count < n_plus_one_threshold) continue;
    q.shapes[key.second].n_plus_one = true;
    r.shape = q.shapes[key.second].shape;
    q.n_plus_one.push_back(std::move(r));
  }
  auto by_total = [](const auto& a, const auto& b) { return a.total_us > b.total_us; };
  // Sort the shapes and renumber shape_of to match.
  std::vector<std::size_t> order(q.shapes.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return q.shapes[a].total_us > q.shapes[b].total_us; });
  std::vector<int> rank(order.size());
  std::vector<shape_stat> sorted;
  sorted.reserve(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    rank[order[k]] = static_cast<int>(k);
    sorted.push_back(std::move(q.shapes[order[k]]));
  }
  q.shapes = std::move(sorted);
  for (int& s : q.shape_of) {
    if (s >= 0) s = rank[static_cast<std::size_t>(s)];
  }
  std::stable_sort(q.n_plus_one.begin(), q.n_plus_one.end(), by_total);
  return q;
}

std::vector<int> slowest_db_points(const trace_model& m, std::size_t n) {
  std::vector<int> idx;
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    if (p.is_db && p.api != "transaction" && p.duration_us() > 0) idx.push_back(static_cast<int>(i));
  }
  auto slower = [&](int a, int b) { return m.points[a].duration_us() > m.points[b].duration_us(); };
  if (idx.size() > n) {
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(),
                      [&](int a, int b) { return slower(a, b) || (!slower(b, a) && a < b); });
    idx.resize(n);
  } else {
    std::stable_sort(idx.begin(), idx.end(), slower);
  }
  return idx;
}

}  // namespace osprofiler::views
