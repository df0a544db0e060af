// The machine-facing views: JSON (Python's `trace show --json`), DOT and the
// data embedded in the HTML report.
#include <future>
#include <memory>
#include <system_error>
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

// The serializer's output in 64 KiB blocks: it writes a few characters at a
// time, and one std::ostream::write per piece cost a tenth of `--json`.
class block_writer : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  explicit block_writer(std::ostream& out) : out_(out) { buf_.reserve(block + 4096); }
  ~block_writer() override { flush(); }
  void write_character(char c) override {
    buf_ += c;
    if (buf_.size() >= block) flush();
  }
  void write_characters(const char* s, std::size_t n) override {
    buf_.append(s, n);
    if (buf_.size() >= block) flush();
  }
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }

 private:
  static constexpr std::size_t block = 1 << 16;
  std::ostream& out_;
  std::string buf_;
};

}  // namespace

void render_json(const trace_model& m, std::ostream& out) {
  // Streamed: a 100,000-point report is over 100 MB of text.
  auto writer = std::make_shared<block_writer>(out);
  nlohmann::detail::serializer<nlohmann::json> s(writer, ' ', nlohmann::json::error_handler_t::replace);
  s.dump(*m.report, true, true, 2);
  writer->flush();
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
  // The query summary is computed on another thread while the points are
  // written (both only read the model); inline if no thread can be had.
  std::future<query_summary> summary;
  try {
    summary = std::async(std::launch::async, [&m] { return summarise_queries(m); });
  } catch (const std::system_error&) {
    summary = std::async(std::launch::deferred, [&m] { return summarise_queries(m); });
  }
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
  // UTF-8 JSON (the page is UTF-8); invalid bytes become U+FFFD. One
  // serializer appends every value to buf: no string per value.
  nlohmann::detail::serializer<nlohmann::json> json_out(nlohmann::detail::output_adapter<char, std::string>(buf), ' ',
                                                         nlohmann::json::error_handler_t::replace);
  auto put = [&](const nlohmann::json& j) { json_out.dump(j, false, false, 0); };
  auto put_text = [&](const char* key, std::string_view v) {
    buf += key;
    put(nlohmann::json(v));
  };
  auto put_int = [&](const char* key, std::int64_t v) {
    buf += key;
    buf += std::to_string(v);
  };
  put_text("{\"base_id\":", m.base_id);
  put_int(",\"total_us\":", m.total_us);
  buf += ",\"precise\":";
  buf += m.precise ? "true" : "false";
  buf += ",\"points\":[";
  for (std::size_t i = 0; i < m.points.size(); ++i) {
    const point& p = m.points[i];
    if (i) buf += ',';
    put_int("{\"p\":", p.parent);
    put_int(",\"s\":", p.start_us);
    put_int(",\"e\":", p.end_us);
    put_text(",\"n\":", p.name);
    put_text(",\"d\":", point_detail(p));
    put_text(",\"t\":", p.trace_id);
    if (p.is_db) put_text(",\"db\":1,\"api\":", p.api);
    if (!p.statement.empty()) put_text(",\"sql\":", p.statement);
    if (!p.error.empty()) {
      put_text(",\"x\":", p.error);
      put_text(",\"xm\":", p.error_message);
    }
    buf += ",\"info\":";
    if (p.info) {
      put(*p.info);
    } else {
      buf += "{}";
    }
    buf += '}';
    if (buf.size() > (1 << 16)) flush();
  }
  buf += "],\"slowest\":[";
  const auto slowest = slowest_db_points(m, 10);
  for (std::size_t k = 0; k < slowest.size(); ++k) buf += (k ? "," : "") + std::to_string(slowest[k]);
  const query_summary q = summary.get();
  put_int("],\"summary\":{\"statements\":", static_cast<std::int64_t>(q.statements));
  put_int(",\"total_us\":", q.total_us);
  buf += ",\"shapes\":[";
  for (std::size_t k = 0; k < q.shapes.size(); ++k) {
    const auto& s = q.shapes[k];
    if (k) buf += ',';
    put_text("{\"shape\":", s.shape);
    put_int(",\"count\":", static_cast<std::int64_t>(s.count));
    put_int(",\"total\":", s.total_us);
    put_int(",\"mean\":", s.mean_us());
    put_int(",\"max\":", s.max_us);
    put_int(",\"slowest\":", s.slowest_point);
    buf += ",\"n1\":";
    buf += s.n_plus_one ? "true}" : "false}";
    if (buf.size() > (1 << 16)) flush();
  }
  buf += "],\"n_plus_one\":[";
  for (std::size_t k = 0; k < q.n_plus_one.size(); ++k) {
    const auto& r = q.n_plus_one[k];
    if (k) buf += ',';
    put_int("{\"parent\":", r.parent);
    put_text(",\"shape\":", r.shape);
    put_int(",\"count\":", static_cast<std::int64_t>(r.count));
    put_int(",\"total\":", r.total_us);
    buf += '}';
  }
  buf += "]}}";
  flush();
}

}  // namespace osprofiler::views
