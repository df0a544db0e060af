// The terminal views: the tree with the query summary, and `trace list`.
#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "osprofiler/views.h"
#include "text.h"

namespace osprofiler::views {
namespace {

struct palette {
  bool on;
  const char* red() const { return on ? "\x1b[31m" : ""; }
  const char* bold_red() const { return on ? "\x1b[1;31m" : ""; }
  const char* yellow() const { return on ? "\x1b[33m" : ""; }
  const char* cyan() const { return on ? "\x1b[36m" : ""; }
  const char* dim() const { return on ? "\x1b[2m" : ""; }
  const char* bold() const { return on ? "\x1b[1m" : ""; }
  const char* reset() const { return on ? "\x1b[0m" : ""; }
};

std::string pad_left(const std::string& s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }

std::string share(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return "    -";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%5.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

}  // namespace

void render_text(const trace_model& m, const text_options& o, std::ostream& out) {
  const palette c{o.colour};
  const auto& pts = m.points;
  const std::size_t n = pts.size();

  // Which points pass the filters; hidden ones hand their children to the
  // nearest shown ancestor, so --db-only keeps the nesting of the db calls.
  std::vector<char> shown(n, 0);
  std::vector<int> up(n, -1);
  std::vector<std::vector<int>> kids(n);
  std::vector<int> top;
  std::size_t hidden = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const point& p = pts[i];
    const int parent_up = p.parent < 0 ? -1 : (shown[p.parent] ? p.parent : up[p.parent]);
    up[i] = parent_up;
    const bool pass = (o.max_depth < 0 || p.depth <= o.max_depth) && p.duration_us() >= o.min_duration_us &&
                      (!o.db_only || p.is_db);
    if (!pass) {
      ++hidden;
      continue;
    }
    shown[i] = 1;
    (parent_up < 0 ? top : kids[parent_up]).push_back(static_cast<int>(i));
  }

  const auto slowest = slowest_db_points(m, o.slowest);
  // In the tree, only calls that weigh next to the slowest one are marked.
  std::unordered_map<int, std::size_t> rank;
  for (std::size_t k = 0; k < slowest.size(); ++k) {
    if (pts[slowest[k]].duration_us() * 10 >= pts[slowest[0]].duration_us()) rank[slowest[k]] = k + 1;
  }

  std::size_t db_points = 0, errors = 0;
  for (const auto& p : pts) {
    db_points += p.is_db;
    errors += !p.error.empty();
  }
  out << c.bold() << "Trace " << (m.base_id.empty() ? "(unknown base id)" : m.base_id) << c.reset() << "  "
      << pts.size() << (pts.size() == 1 ? " point, " : " points, ") << db_points << " db, "
      << format_duration(m.total_us, m.precise);
  if (errors) out << ", " << c.red() << errors << (errors == 1 ? " error" : " errors") << c.reset();
  out << '\n';
  if (pts.empty()) {
    out << "(no trace points)\n";
    return;
  }

  // Runs of the same statement among siblings (an N+1 loop) show their first
  // two points and one line for the rest.
  const query_summary q = summarise_queries(m);
  auto shape_of = [&](int i) -> int { return kids[i].empty() ? q.shape_of[i] : -1; };
  struct frame {
    int index;
    std::string prefix;  // of this line's children
    bool last;
    std::size_t folded = 0;  // > 0: a line standing for this many points
    std::int64_t folded_us = 0;
  };
  std::vector<frame> todo;
  auto push_children = [&](const std::vector<int>& ks, const std::string& prefix) {
    std::vector<frame> line;
    for (std::size_t i = 0; i < ks.size();) {
      std::size_t j = i + 1;
      const int shape = o.fold_repeats ? shape_of(ks[i]) : -1;
      if (shape >= 0) {
        while (j < ks.size() && shape_of(ks[j]) == shape) ++j;
      }
      if (j - i > 4) {
        line.push_back({ks[i], prefix, false});
        line.push_back({ks[i + 1], prefix, false});
        frame f{ks[i + 2], prefix, false, j - i - 2, 0};
        for (std::size_t k = i + 2; k < j; ++k) f.folded_us += pts[ks[k]].duration_us();
        line.push_back(f);
      } else {
        for (std::size_t k = i; k < j; ++k) line.push_back({ks[k], prefix, false});
      }
      i = j;
    }
    if (!line.empty()) line.back().last = true;
    for (auto it = line.rbegin(); it != line.rend(); ++it) todo.push_back(std::move(*it));
  };
  push_children(top, "");
  for (auto& f : todo) f.prefix = "\x01";  // roots: no connector
  std::string line;
  while (!todo.empty()) {
    frame f = std::move(todo.back());
    todo.pop_back();
    const point& p = pts[f.index];
    const int parent = up[f.index];
    const std::int64_t whole = parent < 0 ? m.total_us : pts[parent].duration_us();
    const bool root = f.prefix == "\x01";
    const std::string prefix = root ? "" : f.prefix;
    const std::int64_t us = f.folded ? f.folded_us : p.duration_us();

    line.clear();
    line += pad_left(format_duration(us, m.precise), 9);
    line += ' ';
    line += share(us, whole);
    line += "  ";
    out << line;
    out << c.dim() << prefix << (root ? "" : (f.last ? "└─ " : "├─ ")) << c.reset();
    if (f.folded) {
      out << c.yellow() << "⋯ " << f.folded << " more " << detail::one_line(p.name)
          << " points of the same statement shape (--expand lists them)" << c.reset() << '\n';
      continue;
    }
    auto r = rank.find(f.index);
    const bool hot = r != rank.end();
    out << (hot ? c.bold_red() : (p.is_db ? c.cyan() : c.bold())) << detail::one_line(p.name) << c.reset();
    const std::string what = point_detail(p);
    if (!what.empty()) out << ' ' << (hot ? c.bold() : "") << detail::one_line(what, o.statement_width) << c.reset();
    if (!p.error.empty()) {
      out << "  " << c.bold_red() << "✗ " << detail::one_line(p.error);
      if (!p.error_message.empty()) out << ": " << detail::one_line(p.error_message, o.statement_width);
      out << c.reset();
    }
    if (hot) out << "  " << c.bold_red() << "◀ slowest #" << r->second << c.reset();
    out << '\n';

    push_children(kids[f.index], root ? "" : prefix + (f.last ? "   " : "│  "));
  }
  if (hidden) {
    out << c.dim() << "(" << hidden << (hidden == 1 ? " point" : " points")
        << " hidden by --min-duration / --db-only / --max-depth)" << c.reset() << '\n';
  }
  // What the report builder had to leave out or move, so that a reader does
  // not take the tree for the whole story.
  const auto info = m.report->find("info");
  auto count_of = [&](const char* key) -> std::int64_t {
    if (info == m.report->end() || !info->is_object()) return 0;
    const auto v = info->find(key);
    return v != info->end() && v->is_number_integer() ? v->get<std::int64_t>() : 0;
  };
  if (const auto skipped = count_of("skipped"); skipped > 0) {
    out << c.yellow() << "(" << skipped << (skipped == 1 ? " notification" : " notifications")
        << " left out: no usable timestamp or trace id)" << c.reset() << '\n';
  }
  if (const auto flattened = count_of("flattened"); flattened > 0) {
    out << c.yellow() << "(" << flattened << (flattened == 1 ? " point" : " points")
        << " nested more than 1,000 levels deep shown as roots)" << c.reset() << '\n';
  }
  if (!o.summary) return;

  if (!slowest.empty()) {
    out << '\n' << c.bold() << "Slowest database calls" << c.reset() << '\n';
    for (std::size_t k = 0; k < slowest.size(); ++k) {
      const point& p = pts[slowest[k]];
      out << "  " << (k + 1) << ". " << pad_left(format_duration(p.duration_us(), m.precise), 9) << "  "
          << detail::one_line(point_detail(p), std::max<std::size_t>(o.statement_width, 100));
      if (!p.error.empty()) out << "  " << c.red() << "✗ " << detail::one_line(p.error) << c.reset();
      out << '\n';
    }
  }

  if (q.shapes.empty()) return;
  out << '\n' << c.bold() << "Query summary" << c.reset() << ": " << q.statements
      << (q.statements == 1 ? " statement, " : " statements, ") << q.shapes.size()
      << (q.shapes.size() == 1 ? " shape, " : " shapes, ") << format_duration(q.total_us, m.precise) << " in total\n";
  out << "  count      total       mean        max  shape\n";
  for (const auto& s : q.shapes) {
    out << pad_left(std::to_string(s.count), 7) << pad_left(format_duration(s.total_us, m.precise), 11)
        << pad_left(format_duration(s.mean_us(), m.precise), 11) << pad_left(format_duration(s.max_us, m.precise), 11)
        << "  " << detail::one_line(s.shape, std::max<std::size_t>(o.statement_width, 100));
    if (s.n_plus_one) out << "  " << c.yellow() << "[N+1]" << c.reset();
    out << '\n';
  }
  if (!q.n_plus_one.empty()) {
    out << '\n' << c.yellow() << c.bold() << "N+1 candidates" << c.reset()
        << " (the same statement repeated under one parent: fetch them in one query)\n";
    for (const auto& r : q.n_plus_one) {
      out << "  " << r.count << " × " << detail::one_line(r.shape, o.statement_width) << '\n' << "      under ";
      if (r.parent < 0) {
        out << "the trace root";
      } else {
        const point& p = pts[r.parent];
        out << detail::one_line(p.name);
        const std::string what = point_detail(p);
        if (!what.empty()) out << ' ' << detail::one_line(what, 60);
      }
      out << ", " << format_duration(r.total_us, m.precise) << " in total\n";
    }
  }
}

void render_trace_list(const std::vector<trace_summary>& traces, std::ostream& out) {
  // Python prints a prettytable: left aligned, one space of padding.
  // What a store holds is printed on one line, without control characters
  // (a terminal escape in a base id would act on the terminal).
  std::vector<std::pair<std::string, std::string>> rows;
  rows.reserve(traces.size());
  std::size_t w1 = 7, w2 = 9;  // "base_id", "timestamp"
  for (const auto& t : traces) {
    rows.emplace_back(detail::one_line(t.base_id), detail::one_line(t.timestamp));
    w1 = std::max(w1, rows.back().first.size());
    w2 = std::max(w2, rows.back().second.size());
  }
  const std::string rule = "+" + std::string(w1 + 2, '-') + "+" + std::string(w2 + 2, '-') + "+\n";
  auto row = [&](const std::string& a, const std::string& b) {
    out << "| " << a << std::string(w1 - a.size(), ' ') << " | " << b << std::string(w2 - b.size(), ' ') << " |\n";
  };
  out << rule;
  row("base_id", "timestamp");
  out << rule;
  for (const auto& [id, when] : rows) row(id, when);
  out << rule;
}

}  // namespace osprofiler::views
