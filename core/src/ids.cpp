#include "osprofiler/ids.h"

#include <pthread.h>
#include <sys/random.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace osprofiler {
namespace {

// Bumped in the child after fork() so that no two processes share a stream.
std::atomic<std::uint64_t> g_fork_generation{0};
void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }
const bool g_atfork_registered = [] { return pthread_atfork(nullptr, nullptr, on_fork_child) == 0; }();

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256**: fast, 256-bit state, seeded from getrandom().
struct generator {
  std::uint64_t s[4] = {0, 0, 0, 0};
  std::uint64_t generation = ~0ULL;

  void seed() noexcept {
    std::uint64_t seed[4];
    if (getrandom(seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
      // No entropy source: mix the clock, the thread and a stack address.
      std::uint64_t x = static_cast<std::uint64_t>(
          std::chrono::high_resolution_clock::now().time_since_epoch().count());
      x ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) ^ reinterpret_cast<std::uintptr_t>(&x);
      for (auto& v : seed) v = splitmix64(x);
    }
    std::memcpy(s, seed, sizeof s);
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;
  }
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

thread_local generator t_gen __attribute__((tls_model("initial-exec")));

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

uuid uuid::generate() noexcept {
  (void)g_atfork_registered;
  const auto gen = g_fork_generation.load(std::memory_order_relaxed);
  if (t_gen.generation != gen) {
    t_gen.seed();
    t_gen.generation = gen;
  }
  uuid u{t_gen.next(), t_gen.next()};
  u.hi = (u.hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  u.lo = (u.lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return u;
}

void uuid::write(char* out) const noexcept {
  // Two digits per byte from a table: a store formats three ids per row.
  static constexpr auto pairs = [] {
    constexpr char digits[] = "0123456789abcdef";
    std::array<char, 512> t{};
    for (int i = 0; i < 256; ++i) {
      t[2 * i] = digits[i >> 4];
      t[2 * i + 1] = digits[i & 0xf];
    }
    return t;
  }();
  static constexpr int at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  for (int b = 0; b < 16; ++b) {
    const std::uint64_t word = b < 8 ? hi : lo;
    const auto byte = static_cast<unsigned>(word >> (56 - 8 * (b % 8))) & 0xffU;
    std::memcpy(out + at[b], &pairs[2 * byte], 2);
  }
  out[8] = out[13] = out[18] = out[23] = '-';
}

std::string uuid::str() const {
  std::string s(36, '\0');
  write(s.data());
  return s;
}

std::optional<uuid> uuid::parse(std::string_view text) noexcept {
  if (text.size() != 36) return std::nullopt;
  uuid u;
  int nibble = 0;
  for (std::size_t i = 0; i < 36; ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    const int v = hex_value(c);
    if (v < 0) return std::nullopt;
    std::uint64_t& word = nibble < 16 ? u.hi : u.lo;
    word = (word << 4) | static_cast<std::uint64_t>(v);
    ++nibble;
  }
  return u;
}

bool is_uuid_like(std::string_view text) noexcept { return uuid::parse(text).has_value(); }

}  // namespace osprofiler
