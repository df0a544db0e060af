// Helpers for the store tests: a known trace recorded through the real
// notifier into a store, and capture of the notifier's error reports.
#pragma once

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
