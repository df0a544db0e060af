#include "test_support.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "osprofiler/profiler.h"

namespace osprofiler::testing {
namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
std::string read_first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}
}  // namespace

std::string pg_dir() {
  std::string dir = env("OSPROFILER_TEST_PG_DIR");
  if (dir.empty()) throw std::runtime_error("OSPROFILER_TEST_PG_DIR is not set: run the tests through ctest");
  return dir;
}

std::string pg_uri() {
  if (auto uri = env("OSPROFILER_TEST_PG"); !uri.empty()) return uri;
  auto uri = read_first_line(std::filesystem::path(pg_dir()) / "uri");
  if (uri.empty()) throw std::runtime_error("test PostgreSQL server is not running (no " + pg_dir() + "/uri)");
  return uri;
}

std::string pg_socket_uri() {
  auto uri = read_first_line(std::filesystem::path(pg_dir()) / "socket_uri");
  if (uri.empty()) throw std::runtime_error("test PostgreSQL server is not running (no " + pg_dir() + "/socket_uri)");
  return uri;
}

std::string pg_fresh_database(const std::string& tag) {
  static int counter = 0;
  const std::string name = tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  const std::string uri = pg_uri();
  std::string out;
  if (run("psql -X -q '" + uri + "' -c 'DROP DATABASE IF EXISTS " + name + "' -c 'CREATE DATABASE " + name + "'",
          &out) != 0) {
    throw std::runtime_error("cannot create test database " + name + ": " + out);
  }
  return uri.substr(0, uri.rfind('/') + 1) + name;
}

bool pg_control(const std::string& cmd) {
  return run((source_dir() / "scripts/pg-test-server.sh").string() + " " + cmd + " " + pg_dir()) == 0;
}

std::filesystem::path source_dir() {
  auto d = env("OSPROFILER_SOURCE_DIR");
  return d.empty() ? std::filesystem::current_path() : std::filesystem::path(d);
}

std::filesystem::path binary_dir() {
  auto d = env("OSPROFILER_BINARY_DIR");
  return d.empty() ? std::filesystem::current_path() : std::filesystem::path(d);
}

namespace {
// The directories temp_dir() made, removed when the test process exits if
// every test passed (a failure's files stay for a look, as they do with
// OSPROFILER_KEEP_TEST_DIRS set). A forked child never removes them.
struct made_dirs {
  const pid_t owner = getpid();
  std::mutex mu;
  std::vector<std::filesystem::path> dirs;
  ~made_dirs() {
    if (getpid() != owner || std::getenv("OSPROFILER_KEEP_TEST_DIRS")) return;
    if (!::testing::UnitTest::GetInstance()->Passed()) return;
    for (const auto& d : dirs) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  }
};
made_dirs& made() {
  static made_dirs r;
  return r;
}
}  // namespace

std::filesystem::path temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  auto base = std::filesystem::temp_directory_path() /
              ("osprofiler-test-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  std::lock_guard<std::mutex> lock(made().mu);
  made().dirs.push_back(base);
  return base;
}

int run(const std::string& command, std::string* output, bool merge_stderr) {
  const std::string full = command + (merge_stderr ? " 2>&1" : "");
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    if (output) output->append(buf.data(), n);
  }
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string python() { return "/usr/bin/python3"; }

void memory_collector::write(const std::vector<notification>& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  kept_.insert(kept_.end(), batch.begin(), batch.end());
}

std::vector<notification> memory_collector::take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(kept_, {});
}

std::vector<notification> memory_collector::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kept_;
}

tracing_scope::tracing_scope(options opts) : sink(std::make_shared<memory_collector>()) {
  opts.enabled = true;
  set_options(opts);
  notifier::set(sink);
}

tracing_scope::~tracing_scope() {
  notifier::flush();
  notifier::set(std::shared_ptr<collector>{});
  set_options(options{});
  clean();
}

std::vector<notification> tracing_scope::collect() {
  notifier::flush();
  return sink->take();
}

}  // namespace osprofiler::testing
