// The `osprofiler` command: a drop-in for Python OSProfiler's CLI
// (trace show / trace list), with a text view, a query summary and a
// self-contained HTML report.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "osprofiler/store.h"
#include "osprofiler/views.h"
#ifdef OSPROFILER_HAVE_STORES
#include "osprofiler/stores.h"
#endif

namespace views = osprofiler::views;

namespace {

struct show_args {
  std::string trace;
  std::string connection_string;
  bool json = false, html = false, dot = false, local_libs = false, no_summary = false;
  std::string out, render_dot, transport_url;
  int idle_timeout = 1;
  double min_duration_ms = 0;
  bool db_only = false, expand = false;
  int max_depth = -1;
  std::size_t width = 80;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string connection_string_or_default(const std::string& given) {
  if (!given.empty()) return given;
  std::string e = env("OSPROFILER_CONNECTION_STRING");
  return e.empty() ? osprofiler::default_connection_string() : e;
}

// The embedded default store is a file that appears with the first trace;
// reading it before then would create an empty database as a side effect.
bool missing_sqlite_file(const std::string& cs, std::string* path) {
#ifdef OSPROFILER_HAVE_STORES
  try {
    *path = osprofiler::sqlite_file(cs);  // throws for other schemes too
  } catch (const std::invalid_argument&) {
    return false;  // not sqlite://, or opening the store says what is wrong with it
  }
  std::error_code ec;
  return !std::filesystem::exists(*path, ec);
#else
  (void)cs;
  (void)path;
  return false;
#endif
}

// Renders straight into stdout or the --out file (reports can be 100+ MB).
template <class F>
void write_output(const std::string& file, bool newline, F&& render) {
  if (file.empty()) {
    render(std::cout);
    if (newline) std::cout << '\n';
    std::cout.flush();
    if (!std::cout) throw views::user_error("cannot write to standard output");
    return;
  }
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  if (!f) throw views::user_error("cannot write '" + file + "': " + std::strerror(errno));
  render(f);
  f.close();
  if (!f) throw views::user_error("cannot write '" + file + "': " + std::strerror(errno));
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

int show(const show_args& a) {
  if (int(a.json) + int(a.html) + int(a.dot) > 1) throw views::user_error("choose one of --json, --html, --dot");
  if (!a.transport_url.empty()) throw views::user_error("--transport-url is for the messaging:// driver, which osprofiler-cpp does not have");

  // The trace and its model are left to the process exit on purpose: freeing
  // a 100,000-point report piece by piece takes longer than rendering it.
  // Held by a static so it stays reachable (LeakSanitizer counts it as kept).
  static views::loaded_trace* kept = new views::loaded_trace;
  auto& t = *kept;
  std::error_code ec;
  if (std::filesystem::is_regular_file(a.trace, ec)) {
    t = views::load_trace_file(a.trace);
  } else if (views::looks_like_uuid(a.trace)) {
    std::string id = a.trace;
    std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string cs = connection_string_or_default(a.connection_string);
    std::string path;
    if (missing_sqlite_file(cs, &path)) {
      throw views::user_error("trace " + id + " not found: the store " + osprofiler::redact(cs) +
                              " does not exist yet (no trace was written there; pass --connection-string or set OSPROFILER_CONNECTION_STRING)");
    }
    t = views::load_trace_from_store(id, cs);
  } else {
    throw views::user_error("'" + a.trace + "' is neither a trace id (a UUID) nor a trace file");
  }
  for (const auto& note : t.notes) std::cerr << "osprofiler: note: " << note << '\n';
  static const views::trace_model* kept_model = nullptr;
  kept_model = new views::trace_model(views::make_model(std::move(t.report), &t.times));
  const views::trace_model& m = *kept_model;
  if (m.points.empty()) throw views::user_error("trace in '" + t.source + "' has no trace points");

  if (a.json) {
    write_output(a.out, a.out.empty(), [&](std::ostream& o) { views::render_json(m, o); });
  } else if (a.html) {
    write_output(a.out, false, [&](std::ostream& o) { views::render_html(m, o); });
    if (!a.out.empty()) std::cerr << "osprofiler: HTML report written to " << std::filesystem::absolute(a.out).string() << '\n';
  } else if (a.dot) {
    std::ostringstream out;
    views::render_dot(m, out);
    if (!a.render_dot.empty()) {
      // Python renders <name>.pdf with Graphviz; so do we, with its `dot` program.
      const std::string cmd = "dot -Tpdf -o " + shell_quote(a.render_dot + ".pdf") + " 2>&1";
      FILE* p = ::popen(cmd.c_str(), "w");
      if (!p) throw views::user_error("--render-dot: cannot run Graphviz's dot");
      const std::string src = out.str();
      std::fwrite(src.data(), 1, src.size(), p);
      if (::pclose(p) != 0) throw views::user_error("--render-dot needs Graphviz's `dot` program (apt-get install graphviz)");
    }
    write_output(a.out, false, [&](std::ostream& o) { o << out.str(); });
  } else {
    views::text_options o;
    o.min_duration_us = static_cast<std::int64_t>(a.min_duration_ms * 1000.0);
    o.db_only = a.db_only;
    o.max_depth = a.max_depth;
    o.statement_width = a.width;
    o.summary = !a.no_summary;
    o.fold_repeats = !a.expand;
    const char* no_color = std::getenv("NO_COLOR");
    o.colour = a.out.empty() && ::isatty(STDOUT_FILENO) && !(no_color && *no_color) && env("TERM") != "dumb";
    write_output(a.out, false, [&](std::ostream& os) { views::render_text(m, o, os); });
  }
  return 0;
}

int list(const std::string& given, bool error_trace) {
  const std::string cs = connection_string_or_default(given);
  std::vector<osprofiler::trace_summary> traces;
  std::string path;
  if (missing_sqlite_file(cs, &path)) {
    std::cerr << "osprofiler: no traces yet: the store " << osprofiler::redact(cs) << " does not exist\n";
  } else {
    std::shared_ptr<osprofiler::store> s;
    try {
      s = osprofiler::open_store(cs, osprofiler::store_mode::read_only);
    } catch (const std::exception& e) {
      throw views::user_error(views::store_error_message(cs, e.what(), "cannot open"));
    }
    try {
      traces = error_trace ? s->list_error_traces() : s->list_traces();
    } catch (const std::exception& e) {
      throw views::user_error(views::store_error_message(cs, e.what(), "cannot read"));
    }
  }
  write_output("", false, [&](std::ostream& o) { views::render_trace_list(traces, o); });
  return 0;
}

// `trace show` of a 100,000-point trace touches about 500 MB. With glibc's
// malloc on transparent huge pages that is a few thousand page faults
// instead of 130,000 (about 0.2-0.5 s here), but glibc reads that tunable
// only at start-up: so `trace show` runs itself again once with it set,
// unless the user has set GLIBC_TUNABLES. If the exec fails, nothing changes.
void rerun_with_huge_pages(int argc, char** argv) {
  if (std::getenv("GLIBC_TUNABLES") || std::find_if(argv, argv + argc, [](const char* a) {
                                          return std::strcmp(a, "show") == 0;
                                        }) == argv + argc) {
    return;
  }
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
  ::execv("/proc/self/exe", argv);
  ::unsetenv("GLIBC_TUNABLES");
}

}  // namespace

int main(int argc, char** argv) {
  rerun_with_huge_pages(argc, argv);
  std::ios::sync_with_stdio(false);
#ifdef OSPROFILER_HAVE_STORES
  osprofiler::register_stores();
#endif
  // Store errors go into our one-line message, not through the notifier's handler.
  osprofiler::notifier::set_error_handler([](const std::string& m) { std::cerr << "osprofiler: warning: " << m << '\n'; });

  CLI::App app{"Command-line interface to the OpenStack Profiler (osprofiler-cpp).", "osprofiler"};
  app.set_version_flag("-v,--version", std::string("osprofiler-cpp ") + OSPROFILER_VERSION);
  app.require_subcommand(1);
  CLI::App* trace = app.add_subcommand("trace", "Show and list traces");
  trace->require_subcommand(1);

  show_args sa;
  CLI::App* show_cmd = trace->add_subcommand("show", "Display a trace as a text tree (default), JSON, HTML or DOT.");
  show_cmd->add_option("trace", sa.trace, "Trace id (base id), or a file: report JSON or JSON-lines trace file")->required();
  show_cmd->add_option("--connection-string", sa.connection_string,
                       "Trace store's connection string. Defaults to env[OSPROFILER_CONNECTION_STRING], "
                       "else the embedded store (" + osprofiler::default_connection_string() + ")");
  auto* json_flag = show_cmd->add_flag("--json", sa.json, "show trace in JSON (Python's report)");
  auto* html_flag = show_cmd->add_flag("--html", sa.html, "show trace in HTML (one self-contained file)");
  auto* dot_flag = show_cmd->add_flag("--dot", sa.dot, "show trace in DOT language");
  json_flag->excludes(html_flag)->excludes(dot_flag);
  html_flag->excludes(dot_flag);
  show_cmd->add_option("--out", sa.out, "save output in file");
  show_cmd->add_option("--render-dot", sa.render_dot, "with --dot: also render <name>.pdf with Graphviz")->needs(dot_flag);
  show_cmd->add_flag("--local-libs", sa.local_libs, "accepted for compatibility: the HTML report never loads anything");
  show_cmd->add_option("--transport-url", sa.transport_url, "messaging:// driver only (not supported)");
  show_cmd->add_option("--idle-timeout", sa.idle_timeout, "messaging:// driver only (ignored)");
  // A validator of its own: CLI::Range lets NaN through, and a value past
  // what microseconds in 64 bits hold would overflow.
  show_cmd->add_option("--min-duration", sa.min_duration_ms, "text: hide points shorter than MS milliseconds")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            double ms = -1;
            try {
              ms = std::stod(text);
            } catch (const std::exception&) {
            }
            return ms >= 0 && ms <= 1e12 ? "" : "--min-duration: expected milliseconds from 0 to 1e12, got '" + text + "'";
          },
          "MS"));
  show_cmd->add_flag("--db-only", sa.db_only, "text: only database points");
  show_cmd->add_option("--max-depth", sa.max_depth, "text: hide points deeper than N (roots are depth 0)")
      ->check(CLI::Range(0, 1000000));
  show_cmd->add_option("--width", sa.width, "text: cut statements to N characters")->check(CLI::Range(10, 100000));
  show_cmd->add_flag("--expand", sa.expand, "text: list every point of a repeated statement (N+1 loops are folded)");
  show_cmd->add_flag("--no-summary", sa.no_summary, "text: the tree only, no slowest calls nor query summary");

  std::string list_cs, error_trace;
  CLI::App* list_cmd = trace->add_subcommand("list", "List all traces");
  list_cmd->add_option("--connection-string", list_cs,
                       "Trace store's connection string. Defaults to env[OSPROFILER_CONNECTION_STRING], else the embedded store");
  auto* et = list_cmd->add_option("--error-trace", error_trace, "List all traces that contain error.")
                 ->expected(0, 1)
                 ->check(CLI::IsMember({"", "true", "false", "yes", "no", "on", "off", "1", "0"}, CLI::ignore_case));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const char* which = list_cmd->parsed() ? "trace list " : show_cmd->parsed() ? "trace show " : "";
    std::cerr << "osprofiler: error: " << e.what() << " (see osprofiler " << which << "--help)\n";
    return 2;
  }

  try {
    if (show_cmd->parsed()) return show(sa);
    if (list_cmd->parsed()) {
      std::string v = error_trace;
      std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
      const bool on = et->count() > 0 && v != "false" && v != "0" && v != "no" && v != "off";
      return list(list_cs, on);
    }
  } catch (const std::exception& e) {
    // One line, whatever a driver put in its message.
    std::string msg;
    bool space = false;
    for (char c : std::string(e.what())) {
      if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
        space = !msg.empty();
        continue;
      }
      if (space) msg += ' ';
      space = false;
      msg += c;
    }
    std::cerr << "osprofiler: " << msg << '\n';
    return 1;
  }
  return 0;
}
