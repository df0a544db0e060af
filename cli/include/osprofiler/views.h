// Views of one trace for people: the model the `osprofiler` command renders
// (a flat list of trace points in tree order), the query summary (statements
// grouped by shape, N+1 candidates) and the text, DOT, HTML and JSON renderers.
// Also loads a trace from a store or from a file (Python's report JSON or a
// JSON-lines trace file), with errors fit to show to a person.
//
// Thread-safety: plain functions over values; a trace_model is immutable once
// built and may be read from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "osprofiler/notifier.h"
#include "osprofiler/store.h"

namespace osprofiler::views {

// One trace point of the report, with what the views need pre-extracted.
// The text fields view into the model's report: valid while the model lives.
struct point {
  std::string_view trace_id;
  std::string_view name;      // trace point name ("wsgi", "db", ...)
  std::int64_t start_us = 0;  // since the start of the trace
  std::int64_t end_us = 0;
  int parent = -1;            // index in trace_model::points, -1 for a root
  int depth = 0;              // 0 for a root
  std::vector<int> children;  // indices, in start order
  const nlohmann::json* info = nullptr;  // the report node's "info"
  const nlohmann::json* start_info = nullptr;  // start payload's "info" (may be null)
  const nlohmann::json* stop_info = nullptr;   // stop payload's "info" (may be null)
  // Database points (start info holds a "db" object).
  bool is_db = false;
  std::string_view api;        // db.api
  std::string_view statement;  // db.statement, empty when not traced
  // Failure: exception type and message; empty when the point succeeded.
  std::string_view error;
  std::string_view error_message;

  std::int64_t duration_us() const noexcept { return end_us - start_us; }
};

struct trace_model {
  std::shared_ptr<const nlohmann::json> report;  // spec section 4
  std::string base_id;        // empty when the report does not say
  std::vector<point> points;  // depth-first, children in start order
  std::vector<int> roots;
  std::int64_t total_us = 0;  // the report's info.finished
  bool precise = false;       // times in µs from notifications, else whole ms
};

// The exact start and stop of every point (µs since the Unix epoch), taken
// from the notifications before they are handed to build_report().
struct point_times {
  struct span {
    std::int64_t start = -1, stop = -1;
  };
  std::unordered_map<std::string, span> spans;  // by trace id
  std::int64_t first = 0, last = 0;             // earliest and latest timestamp
  bool any = false;
};
point_times exact_times(const std::vector<notification>& notifications);

// Builds the model of a report. With the notifications the report was built
// from (or their times), durations are exact to the microsecond instead of
// whole milliseconds.
trace_model make_model(nlohmann::json report, const std::vector<notification>* notifications = nullptr);
trace_model make_model(nlohmann::json report, const point_times* times);

// The shape of a statement: literals and bind values folded to `?`
// (numbers, strings, $1, ?, ?NNN, :name, @name), `IN (...)` and VALUES lists
// folded to one element, comments dropped, white space collapsed.
std::string sql_shape(std::string_view sql);

struct shape_stat {
  std::string shape;
  std::size_t count = 0;
  std::int64_t total_us = 0;
  std::int64_t max_us = 0;
  int slowest_point = -1;  // index of the slowest execution
  bool n_plus_one = false;  // repeated under one parent somewhere
  std::int64_t mean_us() const noexcept { return count ? total_us / static_cast<std::int64_t>(count) : 0; }
};

// The same shape executed `count` times directly under one parent point.
struct repeat {
  int parent = -1;
  std::string shape;
  std::size_t shape_index = 0;  // in query_summary::shapes
  std::size_t count = 0;
  std::int64_t total_us = 0;
};

struct query_summary {
  std::vector<shape_stat> shapes;  // by total time, descending
  std::vector<int> shape_of;       // per point: index in shapes (queries and their prepares), else -1
  std::vector<repeat> n_plus_one;  // by total time, descending
  std::size_t statements = 0;      // db points with a statement
  std::int64_t total_us = 0;       // their summed time
};

// Repeats of one shape under one parent at or above this count are N+1 candidates.
inline constexpr std::size_t n_plus_one_threshold = 3;

query_summary summarise_queries(const trace_model& m);

// The `n` slowest database calls (transactions excluded: their children are
// the calls), slowest first.
std::vector<int> slowest_db_points(const trace_model& m, std::size_t n);

// A one-line label for a point: its statement, request or function.
std::string point_detail(const point& p);

// "152.0 ms", "0.42 ms", "1.35 s": three significant figures at most.
std::string format_duration(std::int64_t us, bool precise = true);

struct text_options {
  std::int64_t min_duration_us = 0;  // hide points shorter than this
  bool db_only = false;              // only database points (re-parented)
  int max_depth = -1;                // hide points deeper than this (root: 0)
  bool colour = false;               // ANSI colour
  std::size_t statement_width = 80;  // statements cut to this many characters
  std::size_t slowest = 3;           // database calls highlighted
  bool summary = true;               // query summary after the tree
  bool fold_repeats = true;          // runs of one statement shape: first two + one line
};

void render_text(const trace_model& m, const text_options& o, std::ostream& out);
void render_dot(const trace_model& m, std::ostream& out);
// One self-contained HTML file (inline CSS/JS, data embedded, no network).
void render_html(const trace_model& m, std::ostream& out);
// The report as Python's `trace show --json` prints it (indent 2, ASCII).
void render_json(const trace_model& m, std::ostream& out);

// Python's `trace list` table (prettytable, left aligned).
void render_trace_list(const std::vector<trace_summary>& traces, std::ostream& out);

// An error to show as one line, then exit non-zero.
class user_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A loaded trace: the report and, when known, the exact times of its points.
struct loaded_trace {
  nlohmann::json report;
  point_times times;   // empty (any == false) for a report file
  std::string source;  // where it came from, for messages
  std::vector<std::string> notes;  // what was left out on the way, for stderr
};

// True for a canonical UUID text (what Python's is_uuid_like accepts, lower or upper case).
bool looks_like_uuid(std::string_view text) noexcept;
// Reads Python's report JSON or a JSON-lines trace file. Throws user_error
// naming the file and the line/column of the first fault.
loaded_trace load_trace_file(const std::string& path);
// Reads one trace from a store (empty cs: the default store). Throws
// user_error for an unknown trace (naming the store searched, redacted) or an
// unreachable store.
loaded_trace load_trace_from_store(const std::string& base_id, const std::string& cs);

// "<doing> trace store <cs>: <what>" with the password of `cs` hidden
// wherever it appears (doing: "cannot open", "cannot read").
std::string store_error_message(const std::string& cs, const std::string& what, const char* doing);

}  // namespace osprofiler::views
