// Trace ids: 128-bit UUID-4 values, printed as lowercase canonical strings.
// Generation is lock-free (a per-thread generator seeded from the OS and
// re-seeded after fork()), so a trace point never takes a lock for its id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace osprofiler {

struct uuid {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  // A fresh random UUID-4. Thread-safe, never blocks.
  static uuid generate() noexcept;
  // Accepts the canonical 8-4-4-4-12 hex form in either case; anything else
  // (braces, missing dashes, wrong length, non-hex) is nullopt.
  static std::optional<uuid> parse(std::string_view text) noexcept;

  // Canonical lowercase form, 36 characters.
  std::string str() const;
  // Writes the 36 characters to out (no terminator).
  void write(char* out) const noexcept;
  bool is_nil() const noexcept { return hi == 0 && lo == 0; }

  friend bool operator==(const uuid& a, const uuid& b) noexcept { return a.hi == b.hi && a.lo == b.lo; }
  friend bool operator!=(const uuid& a, const uuid& b) noexcept { return !(a == b); }
};

// True for the canonical lowercase or uppercase UUID text form.
bool is_uuid_like(std::string_view text) noexcept;

}  // namespace osprofiler
