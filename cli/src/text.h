// Private helpers shared by the renderers: text made safe and short for one
// line of output. Pure functions, thread-safe.
#pragma once

#include <string>
#include <ostream>
#include <string_view>

namespace osprofiler::views::detail {

// Valid UTF-8 with control characters (newlines, tabs, ESC...) turned into
// spaces, runs of white space collapsed, trimmed, and cut to `width` code
// points with "…" when longer (0: no limit). Invalid bytes become U+FFFD.
std::string one_line(std::string_view text, std::size_t width = 0);

}  // namespace osprofiler::views::detail

namespace osprofiler::views {
struct trace_model;
namespace detail {
// The HTML page with @TITLE@ and @DATA@ holes (generated from report.html).
extern const char* const html_template;
// Streams the JSON embedded in the HTML report ('<' escaped).
void write_html_data(const trace_model& m, std::ostream& out);
}  // namespace detail
}  // namespace osprofiler::views
