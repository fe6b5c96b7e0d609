// Pooled CPU allocator: 64-byte aligned blocks in size classes, reused so a training step
// does not call malloc for each temporary tensor.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include <unistd.h>

#include "sinew/core/error.hpp"

namespace sinew::backend::cpu {

class PooledAllocator {
 public:
  static constexpr std::size_t kAlignment = 64;
  // Blocks above this size go straight to the system; the cache keeps at most kMaxCachedBytes.
  static constexpr std::size_t kMaxPooledBytes = std::size_t(1) << 30;
  static constexpr std::size_t kMaxCachedBytes = std::size_t(2) << 30;

  static PooledAllocator& instance() {
    static PooledAllocator* a =
        new PooledAllocator();  // never destroyed: tensors may outlive statics
    return *a;
  }

  // Size classes: four steps per power of two from 64 bytes, so waste stays under 25 %.
  static std::size_t size_class(std::size_t nbytes, std::size_t* rounded) {
    std::size_t n = nbytes < kAlignment ? kAlignment : nbytes;
    int log2 = 63 - __builtin_clzll((n - 1) | 1);  // floor(log2(n - 1))
    if (n <= kAlignment) {
      *rounded = kAlignment;
      return 0;
    }
    std::size_t base = std::size_t(1) << log2;  // base < n <= 2 * base
    std::size_t step = base / 4;
    std::size_t k = (n - base + step - 1) / step;  // 1..4
    *rounded = base + k * step;
    return static_cast<std::size_t>((log2 - 6) * 4) + k;
  }

  void* allocate(std::size_t nbytes) {
    if (nbytes == 0) nbytes = 1;
    if (nbytes > kMaxPooledBytes) return raw_alloc(nbytes);
    std::size_t rounded = 0;
    std::size_t c = size_class(nbytes, &rounded);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto& list = free_[c];
      if (!list.empty()) {
        void* p = list.back();
        list.pop_back();
        cached_bytes_ -= rounded;
        return p;
      }
    }
    return raw_alloc(rounded);
  }

  void deallocate(void* p, std::size_t nbytes) {
    if (p == nullptr) return;
    if (nbytes == 0) nbytes = 1;
    if (nbytes > kMaxPooledBytes) return std::free(p);
    std::size_t rounded = 0;
    std::size_t c = size_class(nbytes, &rounded);
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_bytes_ + rounded > kMaxCachedBytes) return std::free(p);
    free_[c].push_back(p);
    cached_bytes_ += rounded;
  }

  // Makes sure that `count` blocks of nbytes are cached (within the cache's limit), so that
  // `count` threads can each take one at the same time without reaching the system: how many
  // blocks a parallel region holds at once then depends on the shapes, not on the threads'
  // timing, and a training step after warm-up allocates nothing new however they interleave.
  void reserve(std::size_t nbytes, std::size_t count) {
    if (nbytes == 0) nbytes = 1;
    if (nbytes > kMaxPooledBytes) return;
    std::size_t rounded = 0;
    std::size_t c = size_class(nbytes, &rounded);
    std::lock_guard<std::mutex> lock(mutex_);
    while (free_[c].size() < count && cached_bytes_ + rounded <= kMaxCachedBytes) {
      free_[c].push_back(raw_alloc(rounded));
      cached_bytes_ += rounded;
    }
  }

  // Returns every cached block to the system.
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& list : free_) {
      for (void* p : list) std::free(p);
      list.clear();
    }
    cached_bytes_ = 0;
  }

  std::size_t cached_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

  // How many blocks were taken from the system so far (requests the cache could not serve). A
  // training loop after its first steps should add none: every temporary reuses a cached block.
  uint64_t system_allocations() const {
    return system_allocations_.load(std::memory_order_relaxed);
  }

 private:
  PooledAllocator() = default;

  // The machine's physical memory in bytes (0 where it cannot be told).
  static std::size_t physical_memory() {
    static const std::size_t bytes = [] {
      const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
      return pages > 0 && page > 0
                 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                 : std::size_t(0);
    }();
    return bytes;
  }

  // A request larger than the machine's memory is an Error before the system is asked (which,
  // overcommitting, might say yes and fail only when the pages are touched).
  void* raw_alloc(std::size_t nbytes) {
    system_allocations_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t memory = physical_memory();
    if (memory != 0 && nbytes > memory) {
      detail::fail("cpu allocator", "cannot allocate ", nbytes, " bytes: more than this machine's ",
                   memory, " bytes of memory");
    }
    std::size_t n = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, n);
    if (p == nullptr) detail::fail("cpu allocator", "out of memory allocating ", nbytes, " bytes");
    return p;
  }

  mutable std::mutex mutex_;
  std::array<std::vector<void*>, 4 * 64> free_{};
  std::size_t cached_bytes_ = 0;
  std::atomic<uint64_t> system_allocations_{0};
};

inline void empty_cache() { PooledAllocator::instance().empty_cache(); }

}  // namespace sinew::backend::cpu
