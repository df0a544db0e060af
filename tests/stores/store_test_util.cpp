#include "store_test_util.h"

#include <gtest/gtest.h>

#include "osprofiler/profiler.h"

namespace osprofiler::testing {

notification numbered_note(const std::string& base, int i, std::int64_t stamp_us) {
  notification n;
  n.name = i % 2 ? "p-stop" : "p-start";
  n.base_id = n.parent_id = base;
  n.trace_id = "t" + std::to_string(i / 2);
  n.timestamp = format_timestamp(stamp_us);
  n.info = {{"i", i}};
  return n;
}

std::string record_sample_trace(const std::shared_ptr<collector>& c) {
  notifier::set(c);
  set_enabled(true);
  clean();
  init("key");
  const std::string base = get()->base_id();
  {
    trace request("request", {{"request", {{"method", "GET"}, {"path", "/v1/x"}}}});
    {
      trace ok("db", {{"db", {{"statement", "SELECT 1"}, {"params", nlohmann::json::object()}}}});
      ok.set_stop_info({{"db", {{"rows", 1}}}});
    }
    {
      trace bad("db", {{"db", {{"statement", "INSERT INTO t VALUES (\"\\\u00e9\")"}}}});
      bad.fail(std::make_exception_ptr(std::runtime_error("duplicate key")));
    }
  }
  // The "lost" point never stops: abandoned with the profiler.
  start("lost", {{"note", "never stopped"}});
  clean();
  EXPECT_TRUE(notifier::flush(std::chrono::seconds(60)));
  set_enabled(false);
  notifier::set(std::shared_ptr<collector>{});
  return base;
}

error_capture::error_capture() : kept_(std::make_shared<std::pair<std::mutex, std::vector<std::string>>>()) {
  auto kept = kept_;
  notifier::set_error_handler([kept](const std::string& m) {
    std::lock_guard<std::mutex> lock(kept->first);
    kept->second.push_back(m);
  });
}

error_capture::~error_capture() { notifier::set_error_handler(nullptr); }

std::vector<std::string> error_capture::messages() const {
  std::lock_guard<std::mutex> lock(kept_->first);
  return kept_->second;
}

}  // namespace osprofiler::testing
