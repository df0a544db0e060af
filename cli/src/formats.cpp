// The machine-facing views: JSON (Python's `trace show --json`), DOT and the
// data embedded in the HTML report.
#include <sstream>
#include <unordered_map>

#include "osprofiler/views.h"
#include "text.h"

namespace osprofiler::views {
namespace {

std::string dot_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

void render_json(const trace_model& m, std::ostream& out) {
  // Streamed: a 100,000-point report is over 100 MB of text.
  nlohmann::detail::serializer<nlohmann::json> s(nlohmann::detail::output_adapter<char>(out), ' ',
                                                 nlohmann::json::error_handler_t::replace);
  s.dump(*m.report, true, true, 2);
}

void render_dot(const trace_model& m, std::ostream& out) {
  // Same graph as Python's --dot (a "total" node, then one node per point,
  // edges parent -> child), with statements, errors and the slowest calls.
  const auto slowest = slowest_db_points(m, 3);
  std::unordered_map<int, std::size_t> rank;
  for (std::size_t k = 0; k < slowest.size(); ++k) {
    // Like the text view: only calls that weigh next to the slowest one.
    if (m.points[slowest[k]].duration_us() * 10 >= m.points[slowest[0]].duration_us()) rank[slowest[k]] = k + 1;
  }
  out << "digraph trace {\n"
      << "\tnode [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\"];\n";
  out << "\t0 [label=\"total - " << dot_escape(format_duration(m.total_us, m.precise)) << "\"]\n";
  std::string label;
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    label = detail::one_line(p.info ? (p.info->value("service", nlohmann::json()).is_string()
                                           ? p.info->at("service").get<std::string>() + ":"
                                           : std::string())
                                    : std::string());
    label += detail::one_line(p.name) + " - " + format_duration(p.duration_us(), m.precise);
    const std::string what = point_detail(p);
    if (!what.empty()) label += "\n" + detail::one_line(what, 60);
    if (!p.error.empty()) {
      std::string e(p.error);
      if (!p.error_message.empty()) e.append(": ").append(p.error_message);
      label += "\n" + detail::one_line(e, 60);
    }
    std::string escaped = dot_escape(label);
    std::string lines;
    for (char ch : escaped) {
      if (ch == '\n') {
        lines += "\\n";
      } else {
        lines += ch;
      }
    }
    out << '\t' << (i + 1) << " [label=\"" << lines << '"';
    auto r = rank.find(static_cast<int>(i));
    if (!p.error.empty()) {
      out << ", color=red, fontcolor=red";
    }
    if (r != rank.end()) out << ", fillcolor=\"#ffd7d7\", penwidth=2, tooltip=\"slowest #" << r->second << '"';
    out << "]\n";
    out << '\t' << (p.parent < 0 ? 0 : p.parent + 1) << " -> " << (i + 1) << '\n';
  }
  out << "}\n";
}

// The data of the HTML report, streamed (a 100,000-point trace would not
// like an intermediate JSON tree), with '<' escaped so no text in it can end
// the <script> element it lives in.
void detail::write_html_data(const trace_model& m, std::ostream& out) {
  std::string buf;
  auto flush = [&] {
    std::size_t from = 0;
    for (auto lt = buf.find('<'); lt != std::string::npos; lt = buf.find('<', from)) {
      out.write(buf.data() + from, static_cast<std::streamsize>(lt - from));
      out << "\\u003c";
      from = lt + 1;
    }
    out.write(buf.data() + from, static_cast<std::streamsize>(buf.size() - from));
    buf.clear();
  };
  // UTF-8 JSON (the page is UTF-8); invalid bytes become U+FFFD.
  auto utf8 = [](const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  auto str = [&](std::string_view s) { return utf8(nlohmann::json(std::string(s))); };
  buf += "{\"base_id\":" + str(m.base_id) + ",\"total_us\":" + std::to_string(m.total_us) +
         ",\"precise\":" + (m.precise ? "true" : "false") + ",\"points\":[";
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    if (i) buf += ',';
    buf += "{\"p\":" + std::to_string(p.parent) + ",\"s\":" + std::to_string(p.start_us) +
           ",\"e\":" + std::to_string(p.end_us) + ",\"n\":" + str(p.name) + ",\"d\":" + str(point_detail(p)) +
           ",\"t\":" + str(p.trace_id);
    if (p.is_db) buf += ",\"db\":1,\"api\":" + str(p.api);
    if (!p.statement.empty()) buf += ",\"sql\":" + str(p.statement);
    if (!p.error.empty()) buf += ",\"x\":" + str(p.error) + ",\"xm\":" + str(p.error_message);
    buf += ",\"info\":";
    buf += p.info ? utf8(*p.info) : std::string("{}");
    buf += '}';
    if (buf.size() > (1 << 16)) flush();
  }
  buf += "],\"slowest\":[";
  const auto slowest = slowest_db_points(m, 10);
  for (std::size_t k = 0; k < slowest.size(); ++k) buf += (k ? "," : "") + std::to_string(slowest[k]);
  const query_summary q = summarise_queries(m);
  buf += "],\"summary\":{\"statements\":" + std::to_string(q.statements) + ",\"total_us\":" + std::to_string(q.total_us) +
         ",\"shapes\":[";
  for (std::size_t k = 0; k < q.shapes.size(); ++k) {
    const auto& s = q.shapes[k];
    buf += (k ? ",{" : "{") + std::string("\"shape\":") + str(s.shape) + ",\"count\":" + std::to_string(s.count) +
           ",\"total\":" + std::to_string(s.total_us) + ",\"mean\":" + std::to_string(s.mean_us()) +
           ",\"max\":" + std::to_string(s.max_us) + ",\"slowest\":" + std::to_string(s.slowest_point) +
           ",\"n1\":" + (s.n_plus_one ? "true" : "false") + "}";
    if (buf.size() > (1 << 16)) flush();
  }
  buf += "],\"n_plus_one\":[";
  for (std::size_t k = 0; k < q.n_plus_one.size(); ++k) {
    const auto& r = q.n_plus_one[k];
    buf += (k ? ",{" : "{") + std::string("\"parent\":") + std::to_string(r.parent) + ",\"shape\":" + str(r.shape) +
           ",\"count\":" + std::to_string(r.count) + ",\"total\":" + std::to_string(r.total_us) + "}";
  }
  buf += "]}}";
  flush();
}

}  // namespace osprofiler::views
