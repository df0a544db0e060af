// Statement shapes and the query summary of a trace.
#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "osprofiler/views.h"

namespace osprofiler::views {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }

// Text views into the statement or into string literals: shaping a trace's
// 100,000 statements allocates nothing per token.
struct token {
  std::string_view text;
  bool space_before = false;
};

// Folds a parenthesised list made only of `?` and commas into "(...)", and
// runs of such lists separated by commas (multi-row VALUES) into one.
void fold_lists(std::vector<token>& t) {
  thread_local std::vector<token> out;
  out.clear();
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
    out.push_back(t[i]);
  }
  t.swap(out);
}

}  // namespace

std::string sql_shape(std::string_view s) {
  thread_local std::vector<token> t;
  t.clear();
  bool space = false;
  auto push = [&](std::string_view text) {
    t.push_back({text, space && !t.empty()});
    space = false;
  };
  auto literal = [&] {
    // A minus sign right after an operator belongs to the number: "= -1".
    if (!t.empty() && t.back().text == "-" && t.size() >= 2) {
      const std::string_view before = t[t.size() - 2].text;
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
      push(s.substr(begin, i - begin));
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
      push(s.substr(begin, i - begin));
    } else {
      // Operators: keep two-character ones together so "<=" stays one token.
      static const char* const two[] = {"<=", ">=", "<>", "!=", "::", "||", "->"};
      std::size_t len = 1;
      if (i + 1 < n) {
        for (const char* t2 : two) {
          if (c == t2[0] && s[i + 1] == t2[1]) len = 2;
        }
      }
      push(s.substr(i, len));
      i += len;
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
  // Statement text -> shape index: N+1 loops repeat texts, and shaping is
  // the costly part. Shape text -> index for texts that differ in literals.
  std::unordered_map<std::string_view, std::size_t> by_statement;
  std::unordered_map<std::string, std::size_t> by_shape;
  auto shape_index = [&](std::string_view statement) {
    auto known = by_statement.find(statement);
    if (known != by_statement.end()) return known->second;
    std::string shape = sql_shape(statement);
    auto it = by_shape.find(shape);
    if (it == by_shape.end()) {
      it = by_shape.emplace(shape, q.shapes.size()).first;
      q.shapes.push_back({std::move(shape)});
    }
    by_statement.emplace(statement, it->second);
    return it->second;
  };
  // (parent, shape) -> repeats of that shape directly under that parent.
  auto key = [](int parent, std::size_t shape) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(parent)) << 32) | shape;
  };
  std::unordered_map<std::uint64_t, repeat> per_parent;
  q.shape_of.assign(m.points.size(), -1);
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    if (!is_query(p)) continue;
    const std::size_t shape = shape_index(p.statement);
    q.shape_of[i] = static_cast<int>(shape);
    shape_stat& st = q.shapes[shape];
    const std::int64_t d = p.duration_us();
    ++st.count;
    st.total_us += d;
    if (st.slowest_point < 0 || d > st.max_us) {
      st.max_us = d;
      st.slowest_point = static_cast<int>(i);
    }
    ++q.statements;
    q.total_us += d;
    repeat& r = per_parent[key(p.parent, shape)];
    r.parent = p.parent;
    r.shape_index = shape;
    ++r.count;
    r.total_us += d;
  }
  // Prepares of those statements share their shape (the text view folds
  // prepare/execute pairs of an N+1 loop together); they are not counted.
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    if (!p.is_db || p.statement.empty() || p.api != "prepare") continue;
    auto known = by_statement.find(p.statement);
    if (known != by_statement.end()) {
      q.shape_of[i] = static_cast<int>(known->second);
    } else {
      auto it = by_shape.find(sql_shape(p.statement));
      if (it != by_shape.end()) q.shape_of[i] = static_cast<int>(it->second);
    }
  }
  for (auto& [k, r] : per_parent) {
    if (r.count < n_plus_one_threshold) continue;
    q.shapes[r.shape_index].n_plus_one = true;
    r.shape = q.shapes[r.shape_index].shape;
    q.n_plus_one.push_back(std::move(r));
  }
  // Slowest first; ties by parent, then by the shape's first appearance.
  std::sort(q.n_plus_one.begin(), q.n_plus_one.end(), [](const repeat& a, const repeat& b) {
    if (a.total_us != b.total_us) return a.total_us > b.total_us;
    return a.parent != b.parent ? a.parent < b.parent : a.shape_index < b.shape_index;
  });
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
  for (repeat& r : q.n_plus_one) r.shape_index = static_cast<std::size_t>(rank[r.shape_index]);
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
