// The [profiler] options in force in this process, and the switches the hot
// path reads. Plain data with OSProfiler's defaults: everything off.
// set_options() is thread-safe; the switches are atomics read on every call,
// so changing trace_sql takes effect at the next DB call without reconnecting.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

namespace osprofiler {

enum class overflow_policy {
  drop,   // a full queue drops the new event and counts it (default)
  block,  // a full queue makes the caller wait for room
};

struct options {
  bool enabled = false;           // whole profiler; off means no trace point records anything
  bool trace_sql = false;         // SQL text in db trace points (alias: trace_sqlalchemy)
  bool trace_sql_params = false;  // bind values in db trace points
  // Comma-separated; any one of them verifies an incoming header. Outgoing
  // headers are signed with the profiler's own key (init()'s, or the one that
  // verified the request in a request_scope).
  std::string hmac_keys;
  std::string connection_string;  // empty: the embedded SQLite store (see default_connection_string())
  std::string project;
  std::string service;
  std::size_t queue_size = 16384;  // events held for the collector thread at most (an event: one
                                   // notification, or a SQLite run's start and stop)
  overflow_policy overflow = overflow_policy::drop;
  std::size_t max_statement_bytes = 65536;  // longer SQL text is cut and marked as truncated
  bool filter_error_trace = false;          // accepted for OSProfiler compatibility
};

// Installs the switches and limits of `o` (enabled, trace_sql, trace_sql_params,
// max_statement_bytes). Queue settings are applied by the notifier.
void set_options(const options& o) noexcept;
// A copy of the options last given to set_options() (defaults before that).
options current_options();

namespace detail {
extern std::atomic<bool> g_enabled;
extern std::atomic<bool> g_trace_sql;
extern std::atomic<bool> g_trace_sql_params;
extern std::atomic<std::size_t> g_max_statement_bytes;
}  // namespace detail

inline bool enabled() noexcept { return detail::g_enabled.load(std::memory_order_relaxed); }
inline bool trace_sql() noexcept { return detail::g_trace_sql.load(std::memory_order_relaxed); }
inline bool trace_sql_params() noexcept { return detail::g_trace_sql_params.load(std::memory_order_relaxed); }
// Shortcut for tests and small programs: turns the profiler on or off.
void set_enabled(bool on) noexcept;

}  // namespace osprofiler
