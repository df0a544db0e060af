// The HTML report: report.html with the trace data poured in.
#include <cstring>

#include "osprofiler/views.h"
#include "text.h"

namespace osprofiler::views {

void render_html(const trace_model& m, std::ostream& out) {
  const std::string page = detail::html_template;
  const auto title = page.find("@TITLE@");
  const auto data = page.find("@DATA@");
  std::string safe_title;
  for (char ch : detail::one_line(m.base_id.empty() ? "report" : m.base_id, 80)) {
    switch (ch) {
      case '<': safe_title += "&lt;"; break;
      case '>': safe_title += "&gt;"; break;
      case '&': safe_title += "&amp;"; break;
      case '"': safe_title += "&quot;"; break;
      default: safe_title += ch;
    }
  }
  out.write(page.data(), static_cast<std::streamsize>(title));
  out << safe_title;
  out.write(page.data() + title + 7, static_cast<std::streamsize>(data - title - 7));
  detail::write_html_data(m, out);
  out << (page.c_str() + data + 6);
}

}  // namespace osprofiler::views
