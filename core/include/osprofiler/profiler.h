// The profiler: one per thread, holding the trace stack of OSProfiler
// ([base_id, parent_id, point ids...]). start() pushes a new point and sends
// "<name>-start"; stop() sends "<name>-stop" and pops it.
//
// Thread-safety: a profiler belongs to the thread that init() made it on; the
// free functions act on the calling thread's profiler only. Nothing here
// throws into the caller, and with the profiler disabled (the default) or no
// profiler on the thread, start()/stop() cost one predictable branch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "osprofiler/ids.h"
#include "osprofiler/options.h"

namespace osprofiler {

class profiler;

namespace detail {
// The calling thread's profiler. GNU __thread (a plain pointer needs no
// dynamic initialisation, so no TLS wrapper function) with initial-exec TLS
// keeps the read a single instruction even in position-independent code.
extern __thread profiler* t_profiler __attribute__((tls_model("initial-exec")));

// Held database calls whose work is under way on this thread, innermost
// first (db::call::begin_held; a SQLite step). Such a call stays off the
// trace stack unless something reads the stack while its work runs (a
// point started inside it, by a SQL function say): settle() then puts it
// there first, so that it is that point's parent.
struct held_work;
extern __thread held_work* t_held_work __attribute__((tls_model("initial-exec")));
void settle_held_work() noexcept;
inline void settle() noexcept {
  if (t_held_work) settle_held_work();
}
}  // namespace detail

class profiler {
 public:
  profiler(std::string hmac_key, uuid base_id, uuid parent_id);
  profiler(const profiler&) = delete;
  profiler& operator=(const profiler&) = delete;

  std::string base_id() const { return stack_.front().str(); }
  // The parent of the current point (stack[-2]).
  std::string parent_id() const {
    detail::settle();
    return stack_[stack_.size() - 2].str();
  }
  // The current point (stack[-1]); the parent of the next start().
  std::string id() const {
    detail::settle();
    return stack_.back().str();
  }
  const std::string& hmac_key() const noexcept { return hmac_key_; }

  uuid base() const noexcept { return stack_.front(); }
  // Unique per profiler in this process: a new profiler at a freed one's
  // address is still told apart (RAII points check it before stopping).
  std::uint64_t serial() const noexcept { return serial_; }
  uuid current() const noexcept {
    detail::settle();
    return stack_.back();
  }
  // Open trace points (0 right after init()).
  std::size_t depth() const noexcept {
    detail::settle();
    return names_.size();
  }

  // Records a "<name>-start" and pushes a new point. Does not look at
  // enabled(): the free functions and RAII types do.
  void start(std::string_view name, nlohmann::json info = nullptr) noexcept;
  // Records "<name>-stop" for the current point and pops it; nothing when no
  // point is open.
  void stop(nlohmann::json info = nullptr) noexcept;

 private:
  friend struct detail_access;
  std::string hmac_key_;
  std::uint64_t serial_;
  std::vector<uuid> stack_;         // [base, parent, points...]
  std::vector<std::string> names_;  // one per open point
  // Depths (ascending) of points stopped while points above them were still
  // open: their places stay until those above stop, so that every open
  // point keeps its parent (detail_access::take_inner / pop).
  std::vector<std::size_t> ended_;
};

// Makes the calling thread's profiler unless it has one, and returns it.
// An empty base_id makes a new trace; an empty parent_id means base_id.
// Ids that are not UUIDs are refused: the error handler hears of it and the
// result is nullptr (the thread stays untraced).
profiler* init(std::string hmac_key, std::string_view base_id = {}, std::string_view parent_id = {}) noexcept;
// The calling thread's profiler, or nullptr.
inline profiler* get() noexcept { return detail::t_profiler; }

namespace detail {
// True when `p` (seen with `serial`) is still the calling thread's profiler
// and its innermost open point is the one opened at `depth`.
inline bool owns_top(const profiler* p, std::uint64_t serial, std::size_t depth) noexcept {
  return p && t_profiler == p && p->serial() == serial && p->depth() == depth;
}
}  // namespace detail
// Drops the calling thread's profiler (open points are abandoned, not stopped).
void clean() noexcept;

// True when tracing is enabled and the calling thread has a profiler.
inline bool active() noexcept { return enabled() && detail::t_profiler != nullptr; }

// OSProfiler's profiler.start()/stop() on the calling thread's profiler.
// Both do nothing when !active(); the forms without info build nothing then.
inline void start(std::string_view name) noexcept {
  if (active()) detail::t_profiler->start(name);
}
inline void start(std::string_view name, nlohmann::json info) noexcept {
  if (active()) detail::t_profiler->start(name, std::move(info));
}
inline void stop() noexcept {
  if (active()) detail::t_profiler->stop();
}
inline void stop(nlohmann::json info) noexcept {
  if (active()) detail::t_profiler->stop(std::move(info));
}

// Stop info for a failure: {"etype": <class name>, "message": <what()>}.
nlohmann::json error_info(const std::exception_ptr& e);
// Readable (demangled) name of the exception type held by `e`.
std::string exception_type_name(const std::exception_ptr& e);

// RAII trace point, OSProfiler's `with profiler.Trace(name, info)`.
//   osprofiler::trace t("db", {{"db", {{"statement", sql}}}});
// Records nothing unless active() at construction. If its scope is left by an
// exception, the stop info says so ({"etype": "unknown", ...}): C++ cannot see
// the exception from a destructor; use traced() or fail() to record it.
// Not copyable, not movable: it is tied to its scope and thread.
class trace {
 public:
  explicit trace(std::string_view name) noexcept {
    if (active()) begin(name, nullptr);
  }
  trace(std::string_view name, nlohmann::json info) noexcept {
    if (active()) begin(name, std::move(info));
  }
  // Lazy info: `make_info` runs only when the point is recorded.
  //   osprofiler::trace t("db", [&] { return nlohmann::json{{"db", {{"statement", sql}}}}; });
  template <typename F, typename = std::enable_if_t<std::is_invocable_r_v<nlohmann::json, F&>>>
  trace(std::string_view name, F&& make_info) noexcept {
    if (!active()) return;
    nlohmann::json info;
    try {
      info = make_info();
    } catch (...) {
    }
    begin(name, std::move(info));
  }
  ~trace() {
    if (owner_) end();
  }
  trace(const trace&) = delete;
  trace& operator=(const trace&) = delete;

  bool recording() const noexcept { return owner_ != nullptr; }
  // Info to send with the stop notification (merged into it).
  void set_stop_info(nlohmann::json info) noexcept;
  // Records `e` as the failure of this point (etype + message).
  void fail(const std::exception_ptr& e) noexcept;

 private:
  void begin(std::string_view name, nlohmann::json info) noexcept;
  void end() noexcept;
  profiler* owner_ = nullptr;
  std::uint64_t serial_ = 0;
  std::size_t depth_ = 0;
  int uncaught_ = 0;
  uuid id_;  // the point's own id: what it stops when points above it are still open
  std::unique_ptr<nlohmann::json> stop_info_;  // allocated only when set: keeps the off path trivial
};

// A trace point's position, to continue the same tree on another thread.
struct position {
  std::string hmac_key;
  uuid base;
  uuid point;  // becomes the parent of the points started after resume
  explicit operator bool() const noexcept { return !base.is_nil(); }
};
// The calling thread's position; empty (false) when !active().
position capture();

// Continues a captured position on the calling thread (e.g. a pool worker):
// installs a profiler rooted at that position for the scope's lifetime and
// restores the thread's previous profiler (or none) afterwards.
class resume {
 public:
  explicit resume(const position& p) noexcept;
  ~resume();
  resume(const resume&) = delete;
  resume& operator=(const resume&) = delete;

 private:
  std::unique_ptr<profiler> mine_;
  profiler* previous_ = nullptr;
  const profiler* previous_owned_ = nullptr;
};

}  // namespace osprofiler
