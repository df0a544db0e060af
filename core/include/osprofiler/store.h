// A trace store: a collector that can also read traces back (OSProfiler's
// "driver"). Implementations: file:// (JSON lines, core), sqlite:// and
// postgresql:// (osprofiler::stores).
// Thread-safety: the write side follows the collector contract; the read
// side is for one thread at a time (CLI, tests).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "osprofiler/notifier.h"

namespace osprofiler {

struct trace_summary {
  std::string base_id;
  std::string timestamp;  // earliest notification of the trace
};

class store : public text_collector {
 public:
  // Every notification of one trace, in storage order; empty if none.
  virtual std::vector<notification> load(const std::string& base_id) = 0;
  // One row per trace, oldest first.
  virtual std::vector<trace_summary> list_traces() = 0;
  // Traces holding at least one stop notification with info.etype.
  virtual std::vector<trace_summary> list_error_traces() = 0;
  // Each trace's earliest notification (by timestamp), oldest trace first;
  // its info may be left empty. The default loads every trace (stores
  // override it with one query).
  virtual std::vector<notification> trace_heads();
  // Python's list_traces(fields): one JSON object per trace, oldest first,
  // with the named fields of its earliest notification: any of base_id,
  // timestamp, name, project, service, host, parent_id, trace_id; a field
  // not set is null. (Python's SQL driver takes the first row it reads of
  // each trace, in table order: the same for a trace written in order.)
  // Throws std::invalid_argument naming a field that is not one of these.
  std::vector<nlohmann::json> list_traces(const std::vector<std::string>& fields);
  // The report of spec section 4 for one trace (empty "children" if unknown).
  nlohmann::json get_report(const std::string& base_id);
};

using store_factory = std::function<std::shared_ptr<store>(const connection_string&, const notifier::collector_args&)>;

// Registers a readable store for `scheme`; also registers it with
// notifier::register_scheme() so create() can write to it.
void register_store(const std::string& scheme, store_factory make);
enum class store_mode {
  read_write,
  // For readers (the CLI): nothing is created or changed, so a mistyped path
  // names no new file and someone else's database stays as it was.
  read_only,
};

// Opens the store for `cs` (empty: default_connection_string()). Throws
// std::invalid_argument for an unknown scheme, std::runtime_error when it
// cannot be opened; both name the connection string (without password).
std::shared_ptr<store> open_store(const std::string& cs, store_mode mode = store_mode::read_write);

// A connection string fit for messages: its passwords (user:password@ and
// a password= parameter) replaced by "***".
std::string redact(const std::string& cs);
// `message` with `cs`, and any password of it, replaced as redact() does:
// for messages of libraries that quote the connection string.
std::string redact_in(std::string message, const std::string& cs);

}  // namespace osprofiler
