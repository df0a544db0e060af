// The [profiler] configuration: reading it from an OpenStack-style INI file
// and the OSPROFILER_* environment, and setting the process up from it
// (OSProfiler's initializer.init_from_conf).
// Setup code: errors are thrown here (config_error), never from trace points.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "osprofiler/options.h"

namespace osprofiler {

// A bad configuration value or an unreadable file. what() names the file,
// the key, the value and what was expected.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads the [profiler] section of `path` (other sections are ignored), then
// applies the environment overrides. Unknown keys in [profiler] are reported
// through `warnings` (or stderr when null). A missing file is an error.
options load_options(const std::string& path, std::vector<std::string>* warnings = nullptr);
// Applies OSPROFILER_ENABLED, OSPROFILER_TRACE_SQL, OSPROFILER_TRACE_SQL_PARAMS,
// OSPROFILER_HMAC_KEYS, OSPROFILER_CONNECTION_STRING, OSPROFILER_PROJECT,
// OSPROFILER_SERVICE, OSPROFILER_QUEUE_SIZE, OSPROFILER_OVERFLOW_POLICY,
// OSPROFILER_MAX_STATEMENT_BYTES on top of `base`.
options apply_environment(options base);

// Installs `o`: the switches (set_options), the queue, and, when enabled, the
// collector for o.connection_string (the embedded SQLite store when empty)
// stamped with project/service/host, and the server-side header keys.
// Throws std::invalid_argument / std::runtime_error when the collector cannot
// be made (unknown scheme, unwritable path): a service should fail loudly at
// start-up rather than run untraced by surprise.
void init_from_conf(const options& o, const std::string& project, const std::string& service,
                    const std::string& host = "");

}  // namespace osprofiler
