// The notifier: hands trace events from the calling thread to a collector.
//
// The calling thread only records (clock, ids, name, info) into a bounded
// queue; one background thread builds notifications, formats timestamps and
// calls the collector in batches. A full queue drops and counts (or blocks,
// by option); a collector that throws never reaches the caller: its errors
// are counted and reported through the error handler (rate-limited).
// A normal process exit flushes what is queued.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "osprofiler/options.h"

namespace osprofiler {

// One OSProfiler notification (spec section 1), as collectors see it.
struct notification {
  std::string name;       // "<point>-start" / "<point>-stop"
  std::string base_id;
  std::string parent_id;
  std::string trace_id;
  std::string timestamp;  // "%Y-%m-%dT%H:%M:%S.%f", UTC
  std::string project;    // empty: not set
  std::string service;
  std::string host;       // the collector's host (info.host is always this machine's name, as in Python)
  nlohmann::json info = nlohmann::json::object();
  // The payload as a store kept it (e.g. the `data` column), except that an
  // "info" object in it has moved to `info` (its key remains, holding a
  // discarded value); null when the notification was built here. Reports
  // show it, with info put back, as meta.raw_payload.*.
  nlohmann::json raw = nullptr;

  // The notification as OSProfiler's JSON object.
  nlohmann::json to_json() const;
  // From OSProfiler's JSON object; throws std::invalid_argument naming the
  // missing or mistyped key.
  static notification from_json(const nlohmann::json& j);
};

// A collector receives notifications on the notifier thread.
// Contract: write() and flush() are never called concurrently on one
// instance; they may throw: collector_unavailable means "retry this batch
// later" (the notifier backs off and keeps the batch), anything else means
// the batch is lost (counted as failed).
class collector {
 public:
  virtual ~collector() = default;
  virtual void write(const std::vector<notification>& batch) = 0;
  virtual void flush() {}
  // project / service / host stamped on every notification this collector gets.
  void set_identity(std::string project, std::string service, std::string host);
  const std::string& project() const noexcept { return project_; }
  const std::string& service() const noexcept { return service_; }
  const std::string& host() const noexcept { return host_; }

 private:
  std::string project_, service_, host_;
};

// A notification as the notifier thread hands it to a text_collector: text
// views into the notifier's buffers, valid during the write call only.
struct notification_view {
  std::string_view name, base_id, parent_id, trace_id, timestamp, project, service, host;
  // The JSON text of the info object (valid UTF-8, as from dump_json).
  std::string_view info_json;
};

// A collector that stores notifications as text: the trace stores. The
// notifier writes each event's fields and info straight into text for it,
// without building notification objects and JSON trees it would only
// serialise again (that was most of a store's write cost).
class text_collector : public collector {
 public:
  virtual void write_text(const std::vector<notification_view>& batch) = 0;
  // Serialises the batch and calls write_text() (e.g. a copy between stores).
  void write(const std::vector<notification>& batch) final;
};

// Thrown by a collector whose storage is out of reach for now.
class collector_unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A connection string split at "://" ("sqlite:///x.db" -> "sqlite", "/x.db").
struct connection_string {
  std::string scheme;  // lower case
  std::string rest;    // everything after "://"
  std::string text;    // the whole string as given
  // Throws std::invalid_argument naming the string when it has no
  // "<scheme>://" prefix or the scheme has characters outside [a-z0-9+.-].
  static connection_string parse(const std::string& text);
};

// The embedded default store: sqlite:///<OSPROFILER_HOME or ~/.osprofiler or ./.osprofiler>/traces.db
std::string default_connection_string();

// The host name of this machine (gethostname), cached.
const std::string& host_name();

// OSProfiler's timestamp text ("%Y-%m-%dT%H:%M:%S.%f", UTC, 6 digits) for a
// time in microseconds since the Unix epoch, and back. parse_timestamp
// accepts 0 to 6 fraction digits and returns nullopt for anything else.
std::string format_timestamp(std::int64_t unix_us);
std::optional<std::int64_t> parse_timestamp(std::string_view text) noexcept;

// JSON text that never throws for invalid UTF-8 (bad bytes become U+FFFD).
// Every collector serialises with this.
std::string dump_json(const nlohmann::json& j, int indent = -1);
// Parses JSON text as nlohmann::json::parse does, except that strings holding
// invalid UTF-8 (from writers that did not repair it) come back with U+FFFD
// for the bad bytes instead of failing: a reader keeps such a notification.
// Throws nlohmann::json::parse_error for anything else.
nlohmann::json parse_json(const std::string& text);

namespace notifier {

struct collector_args {
  std::string project;
  std::string service;
  std::string host;  // empty: host_name()
  // A store opened only to read (open_store(cs, store_mode::read_only)):
  // it creates nothing (no file, no table) and changes nothing it finds.
  bool read_only = false;
};
using factory = std::function<std::shared_ptr<collector>(const connection_string&, const collector_args&)>;

// Makes `scheme` known to create(). file:// is built in; stores register
// their own schemes (osprofiler::register_stores()).
void register_scheme(const std::string& scheme, factory make);
std::vector<std::string> known_schemes();

// A collector for `cs`. Throws std::invalid_argument for a malformed string
// or an unknown scheme (the message lists the known ones), and whatever the
// collector's set-up throws (e.g. an unwritable file).
std::shared_ptr<collector> create(const std::string& cs, const collector_args& args = {});

// Installs the collector that receives every notification from now on
// (nullptr: none; events are then counted as dropped).
void set(std::shared_ptr<collector> c);
// Python's notifier.set(callable): one call per notification, as JSON.
void set(std::function<void(const nlohmann::json&)> sink);
std::shared_ptr<collector> get();

// Queue capacity (events) and the policy when it is full. Takes effect for
// events recorded afterwards; what is queued is kept. Events the notifier
// thread has taken but not yet delivered (a batch being written or retried)
// count against the capacity, so stats().queued() never exceeds it, or twice
// it when the events are SQLite runs' start+stop pairs (after a resize,
// until the old queue has drained, its events come on top). The
// capacity is rounded up to a power of two, from 2 to max_queue_capacity.
// A queue once made is kept (a producer may still hold it) and used again
// when its capacity is asked for again, so reconfiguring (a reload of the
// config file) does not grow memory.
constexpr std::size_t max_queue_capacity = std::size_t{1} << 24;
void configure_queue(std::size_t capacity, overflow_policy policy);

// Delivers everything recorded before the call to the collector and flushes
// it. False if that did not finish within `timeout` (e.g. a store is down).
bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(10)) noexcept;

// Counted in notifications. A SQLite run's start and stop share one queue
// slot; `recorded` counts that pair once until the notifier takes it.
struct counters {
  std::uint64_t recorded = 0;  // notifications handed to the notifier
  std::uint64_t sent = 0;      // written by the collector
  std::uint64_t dropped = 0;   // lost to a full queue or to no collector
  std::uint64_t failed = 0;    // lost because the collector failed
  std::uint64_t queued() const noexcept { return recorded - sent - dropped - failed; }
};
counters stats() noexcept;

// Receives collector errors; called on the notifier thread, at most a few
// times a second (the rest are counted and summarised). The default writes
// one line to stderr. nullptr restores the default.
void set_error_handler(std::function<void(const std::string&)> handler);
// Reports an error through the handler (rate-limited). Never throws.
void report_error(const std::string& message) noexcept;

// Flushes and stops the notifier thread; recording afterwards drops.
// Called automatically at normal process exit.
void shutdown() noexcept;

}  // namespace notifier
}  // namespace osprofiler
