// Private: bounded multi-producer queue (Dmitry Vyukov's array queue).
// A push is one CAS on the enqueue position plus writing the slot in place; a full
// queue fails at once, so the caller decides to drop or wait.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>

namespace osprofiler::detail {

template <typename T>
class mpmc_queue {
 public:
  explicit mpmc_queue(std::size_t capacity) {
    std::size_t size = 2;
    while (size < capacity) size <<= 1;
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
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
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

  bool try_pop(T& out) noexcept {
    std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          out = std::move(c.value);
          c.value = T{};  // release what the slot held now, not when it is reused
          c.sequence.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // empty (or the next slot is still being written)
      } else {
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  // Slots claimed by producers so far (pushed or being pushed).
  std::size_t pushed() const noexcept { return enqueue_pos_.load(std::memory_order_acquire); }
  std::size_t popped() const noexcept { return dequeue_pos_.load(std::memory_order_acquire); }

 private:
  struct cell {
    std::atomic<std::size_t> sequence{0};
    T value{};
  };
  static constexpr std::size_t line = 64;
  std::unique_ptr<cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(line) std::atomic<std::size_t> enqueue_pos_{0};
  alignas(line) std::atomic<std::size_t> dequeue_pos_{0};
};

}  // namespace osprofiler::detail
