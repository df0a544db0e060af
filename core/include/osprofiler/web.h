// Cross-service trace headers, byte-compatible with OSProfiler's web module:
// X-Trace-Info (URL-safe base64 of {"base_id", "parent_id"}) signed by
// X-Trace-HMAC (hex HMAC-SHA1 of the base64 text).
// Everything here is thread-safe and never throws into the caller for bad
// input: a header that fails any check means "not traced".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace osprofiler::web {

inline constexpr const char* x_trace_info = "X-Trace-Info";
inline constexpr const char* x_trace_hmac = "X-Trace-HMAC";
// Headers longer than this are refused before decoding.
inline constexpr std::size_t max_header_bytes = 4096;

// {X-Trace-Info, X-Trace-HMAC} for the calling thread's current point; empty
// when tracing is not active or the profiler has no HMAC key.
std::map<std::string, std::string> get_trace_id_headers();

// Python's utils.signed_pack: (base64 JSON, hex HMAC). The JSON text uses
// Python's json.dumps spacing.
std::pair<std::string, std::string> signed_pack(const nlohmann::json& data, std::string_view hmac_key);
// Python's utils.signed_unpack: the JSON object plus "hmac_key" (the key that
// matched), or nullopt if no key matches, the HMAC is missing, or the data
// is not valid URL-safe base64 of a JSON object.
std::optional<nlohmann::json> signed_unpack(std::string_view data, std::string_view hmac,
                                            const std::vector<std::string>& hmac_keys);

// Python's utils.split: comma-separated, blanks trimmed, empties dropped.
std::vector<std::string> split_keys(std::string_view text);

// Enables the server side with these keys (Python's web.enable); init_from_conf
// calls it with options.hmac_keys. disable() turns incoming tracing off.
void enable(std::string_view hmac_keys);
void disable();

// Server side of a request (Python's WsgiMiddleware): when enabled and the
// headers carry a valid, correctly signed {base_id[, parent_id]}, initialises
// the thread's profiler with those ids, opens a trace point `name` (default
// "wsgi") with `request_info` as {"request": ...}, and on destruction stops it
// and cleans the profiler. Otherwise does nothing.
class request_scope {
 public:
  request_scope(std::string_view trace_info, std::string_view trace_hmac,
                nlohmann::json request_info = nullptr, std::string_view name = "wsgi") noexcept;
  ~request_scope();
  request_scope(const request_scope&) = delete;
  request_scope& operator=(const request_scope&) = delete;
  bool traced() const noexcept { return traced_; }

 private:
  bool traced_ = false;
};

}  // namespace osprofiler::web
