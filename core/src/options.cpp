#include "osprofiler/options.h"

#include <mutex>

namespace osprofiler {
namespace detail {
std::atomic<bool> g_enabled{false};
std::atomic<bool> g_trace_sql{false};
std::atomic<bool> g_trace_sql_params{false};
std::atomic<std::size_t> g_max_statement_bytes{options{}.max_statement_bytes};
}  // namespace detail

namespace {
std::mutex g_mutex;
options& stored() {
  static options o;
  return o;
}
}  // namespace

void set_options(const options& o) noexcept {
  std::lock_guard<std::mutex> lock(g_mutex);
  try {
    stored() = o;
  } catch (...) {
    // Copying strings failed (out of memory): the switches below still apply.
  }
  detail::g_trace_sql.store(o.trace_sql, std::memory_order_relaxed);
  detail::g_trace_sql_params.store(o.trace_sql_params, std::memory_order_relaxed);
  detail::g_max_statement_bytes.store(o.max_statement_bytes, std::memory_order_relaxed);
  detail::g_enabled.store(o.enabled, std::memory_order_relaxed);
}

options current_options() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return stored();
}

void set_enabled(bool on) noexcept {
  std::lock_guard<std::mutex> lock(g_mutex);
  stored().enabled = on;
  detail::g_enabled.store(on, std::memory_order_relaxed);
}

}  // namespace osprofiler
