// traced(): run a callable as one trace point, OSProfiler's @profiler.trace.
//   auto n = osprofiler::traced("rpc", [&] { return compute(x); });
//   osprofiler::traced({"rpc", {}, /*hide_args=*/false, /*hide_result=*/false}, fn, a, b);
// The callable's exceptions are recorded (etype, message) and rethrown
// unchanged. Argument and result text use operator<< where it exists.
#pragma once

#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "osprofiler/profiler.h"

namespace osprofiler {

struct trace_options {
  std::string name;
  nlohmann::json info = nullptr;
  bool hide_args = true;     // Python's default is False; C++ args are often secrets or large
  bool hide_result = true;   // as in OSProfiler
  std::string function;      // info.function.name; empty: not recorded
};

namespace detail {
template <typename T, typename = void>
struct printable : std::false_type {};
template <typename T>
struct printable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};

template <typename T>
std::string repr(const T& v) {
  if constexpr (printable<T>::value) {
    std::ostringstream os;
    os << v;
    return os.str();
  } else {
    return "<unprintable>";
  }
}
}  // namespace detail

template <typename F, typename... Args>
decltype(auto) traced(const trace_options& opt, F&& fn, Args&&... args) {
  if (!active()) return std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);

  nlohmann::json info = opt.info.is_object() ? opt.info : nlohmann::json::object();
  auto& function = info["function"];
  function = nlohmann::json::object();
  if (!opt.function.empty()) function["name"] = opt.function;
  if (!opt.hide_args) {
    nlohmann::json list = nlohmann::json::array();
    (list.push_back(detail::repr(args)), ...);
    function["args"] = std::move(list);
  }
  trace point(opt.name, std::move(info));
  try {
    using result_t = std::invoke_result_t<F, Args...>;
    if constexpr (std::is_void_v<result_t>) {
      std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
    } else {
      decltype(auto) result = std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
      if (!opt.hide_result) point.set_stop_info({{"function", {{"result", detail::repr(result)}}}});
      return static_cast<result_t>(result);
    }
  } catch (...) {
    point.fail(std::current_exception());
    throw;
  }
}

template <typename F, typename... Args>
decltype(auto) traced(std::string name, F&& fn, Args&&... args) {
  trace_options opts;
  opts.name = std::move(name);
  return traced(std::move(opts), std::forward<F>(fn), std::forward<Args>(args)...);
}

}  // namespace osprofiler
