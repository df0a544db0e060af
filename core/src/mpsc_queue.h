// Private: bounded multi-producer, single-consumer queue (Dmitry Vyukov's
// array queue on the producer side). A push is one CAS on the enqueue
// position plus writing the slot in place; a full queue fails at once, so the
// caller decides to drop or wait. The one consumer reads slots where they
// are and gives them back only after it has settled them, so the capacity
// bounds everything not yet delivered, queued or in flight, without a
// shared counter that every push would have to update.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>

namespace osprofiler::detail {

// Sets a slot's previous value back to a default one before a producer
// fills it. Types that can do it cheaper overload it (event.h).
template <typename T>
void recycle(T& value) noexcept {
  value = T{};
}

template <typename T>
class mpsc_queue {
 public:
  // The capacity a queue asked for `wanted` slots gets: a power of two.
  static std::size_t rounded(std::size_t wanted) noexcept {
    std::size_t size = 2;
    while (size < wanted) size <<= 1;
    return size;
  }

  explicit mpsc_queue(std::size_t capacity) {
    const std::size_t size = rounded(capacity);
    mask_ = size - 1;
    cells_ = std::make_unique<cell[]>(size);
    for (std::size_t i = 0; i < size; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  }

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // Claims a slot and lets `fill` write the value in place (no temporary to
  // build, move and destroy on the caller's thread). `fill` must not throw.
  template <typename Fill>
  bool try_emplace(Fill&& fill) noexcept {
    std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    // Full: decided on the consumer's position, which changes once per
    // batch, rather than on the slot, which the consumer is reading and
    // writing while it delivers (a cache miss for every dropped event).
    if (pos - dequeue_pos_.load(std::memory_order_relaxed) > mask_) return false;
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          prefetch(cells_[(pos + prefetch_distance) & mask_]);
          // What the slot's last value held is freed here, on a recording
          // thread, which mostly allocated it: freed on the consumer's
          // thread, it cost that thread glibc's cross-thread frees and left
          // the recording thread's malloc cache empty.
          recycle(c.value);
          fill(c.value);
          c.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  // Consumer only. The i-th unreleased value, or nullptr when it is not (yet)
  // completely written.
  T* peek(std::size_t i) noexcept {
    const std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed) + i;
    cell& c = cells_[pos & mask_];
    if (c.sequence.load(std::memory_order_acquire) != pos + 1) return nullptr;
    return &c.value;
  }

  // Consumer only. Hands the slots of the first `n` values (peeked before)
  // back to the producers. Each value stays until a producer reuses its slot;
  // `reset` frees them now instead, for a queue no producer will fill again.
  void release(std::size_t n, bool reset = false) noexcept {
    std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i, ++pos) {
      cell& c = cells_[pos & mask_];
      if (reset) c.value = T{};
      c.sequence.store(pos + mask_ + 1, std::memory_order_release);
    }
    dequeue_pos_.store(pos, std::memory_order_release);
  }

  // Slots claimed by producers so far (pushed or being pushed).
  std::size_t pushed() const noexcept { return enqueue_pos_.load(std::memory_order_acquire); }
  // Slots released by the consumer so far.
  std::size_t popped() const noexcept { return dequeue_pos_.load(std::memory_order_acquire); }

 private:
  // Whole cache lines per cell: a cell (an event: 3 lines) shares no line
  // with its neighbours, so the prefetch below covers it exactly and a
  // producer never writes a line the consumer is still reading.
  struct alignas(64) cell {
    std::atomic<std::size_t> sequence{0};
    T value{};
  };
  static constexpr std::size_t line = 64;
  // Producers claim consecutive slots, and a slot's lines are usually cold
  // (last touched by the consumer, or long ago): fetching them a few pushes
  // ahead keeps the next push from stalling on its sequence load.
  static constexpr std::size_t prefetch_distance = 8;
  static void prefetch(const cell& c) noexcept {
    const char* p = reinterpret_cast<const char*>(&c);
    for (std::size_t off = 0; off < sizeof(cell); off += line) __builtin_prefetch(p + off, 1, 3);
  }
  std::unique_ptr<cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(line) std::atomic<std::size_t> enqueue_pos_{0};
  alignas(line) std::atomic<std::size_t> dequeue_pos_{0};
};

}  // namespace osprofiler::detail
