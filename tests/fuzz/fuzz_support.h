// Helpers shared by the fuzz targets: a byte reader that never fails (it
// returns zeros once the input is used up), a per-process scratch directory,
// and a check that aborts with a message (so libFuzzer and the standalone
// driver both see a crash when an invariant breaks).
// Not thread-safe: a fuzz target runs one input at a time.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <algorithm>
#include <initializer_list>

namespace osprofiler::fuzz {

class reader {
 public:
  reader(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  bool empty() const noexcept { return n_ == 0; }
  std::size_t left() const noexcept { return n_; }
  std::uint8_t byte() noexcept {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint32_t u16() noexcept { return static_cast<std::uint32_t>(byte()) << 8 | byte(); }
  std::uint32_t u32() noexcept { return u16() << 16 | u16(); }
  // Up to `max` bytes, length taken from the input.
  std::string text(std::size_t max) {
    const std::size_t len = std::min<std::size_t>({static_cast<std::size_t>(byte()) % (max + 1), n_});
    std::string s(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    n_ -= len;
    return s;
  }
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p_), n_);
    p_ += n_;
    n_ = 0;
    return s;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

// A private directory for this process, made on first use and removed at
// exit. The path is never destroyed: a static path object would be gone
// before the atexit handler registered while making it runs.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path* const dir = [] {
    const char* base = std::getenv("TMPDIR");
    auto* d = new std::filesystem::path(std::filesystem::path(base && *base ? base : "/tmp") /
                                        ("osprofiler-fuzz-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

[[noreturn]] inline void violated(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant violated at %s:%d: %s\n", file, line, what);
  std::abort();
}

}  // namespace osprofiler::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? (void)0 : ::osprofiler::fuzz::violated(#cond, __FILE__, __LINE__))
