// Helpers for the store tests: a known trace recorded through the real
// notifier into a store, and capture of the notifier's error reports.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "osprofiler/store.h"

namespace osprofiler::testing {

// Records one trace through the profiler and the notifier into `c`:
//   request { db SELECT 1 (rows) ; db INSERT (fails: etype) } ; lost (never stopped)
// then flushes. Returns the base id.
std::string record_sample_trace(const std::shared_ptr<collector>& c);

// Notification `i` of a flat trace under `base`: points t0, t1, ... each
// started then stopped ("p-start" for even i, "p-stop" for odd), info
// {"i": i}, at `stamp_us` (µs since the epoch).
notification numbered_note(const std::string& base, int i, std::int64_t stamp_us);

// Captures notifier::report_error() messages while alive.
class error_capture {
 public:
  error_capture();
  ~error_capture();
  std::vector<std::string> messages() const;

 private:
  std::shared_ptr<std::pair<std::mutex, std::vector<std::string>>> kept_;
};

}  // namespace osprofiler::testing
