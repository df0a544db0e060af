// Helpers shared by the test binaries: where the test PostgreSQL server is,
// private temporary directories, an in-memory collector that keeps what it is
// given, and a scope that turns tracing on and restores the defaults.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "osprofiler/notifier.h"
#include "osprofiler/options.h"

namespace osprofiler::testing {

// postgresql:// URI of the test server (TCP on 127.0.0.1): $OSPROFILER_TEST_PG,
// else the file written by scripts/pg-test-server.sh. Throws when neither exists.
std::string pg_uri();
// The same server over its unix socket.
std::string pg_socket_uri();
// A new empty database on the test server, unique to this process and call,
// so test binaries that ctest runs in parallel never share tables. Returns
// its URI (TCP).
std::string pg_fresh_database(const std::string& tag);
// The server's directory (for scripts/pg-test-server.sh restart).
std::string pg_dir();
// Runs scripts/pg-test-server.sh <cmd> on the test server; true on success.
bool pg_control(const std::string& cmd);

// A fresh empty directory, unique to this process and tag.
std::filesystem::path temp_dir(const std::string& tag);
// Source tree root ($OSPROFILER_SOURCE_DIR).
std::filesystem::path source_dir();
// Build tree root ($OSPROFILER_BINARY_DIR).
std::filesystem::path binary_dir();

// Runs a shell command; returns its exit status and puts stdout (and
// stderr when merge_stderr) into *output.
int run(const std::string& command, std::string* output = nullptr, bool merge_stderr = true);
// The Debian python3 that has python3-osprofiler ("/usr/bin/python3").
std::string python();

// A collector that keeps every notification in memory. Thread-safe.
class memory_collector : public collector {
 public:
  void write(const std::vector<notification>& batch) override;
  std::vector<notification> take();
  std::vector<notification> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<notification> kept_;
};

// Turns tracing on with `opts` (enabled forced on) and installs a fresh
// memory_collector; restores default options, no collector and no profiler
// on the calling thread afterwards.
class tracing_scope {
 public:
  explicit tracing_scope(options opts = {});
  ~tracing_scope();
  // Flushes the notifier and returns everything collected so far.
  std::vector<notification> collect();
  std::shared_ptr<memory_collector> sink;
};

}  // namespace osprofiler::testing
