// Caching device allocator (PyTorch's CUDACachingAllocator policy, cut down) over a pluggable raw
// memory source, and the pinned host pool built from the same policy. Pure host code: no CUDA
// header, so the policy is tested with a fake source that hands out host memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// Where segments come from: cudaMalloc/cudaFree for a device, cudaHostAlloc/cudaFreeHost for the
// pinned pool, host memory in tests. allocate returns nullptr when the memory is exhausted (the
// allocator then releases its cache and retries); any other failure throws.
class RawSource {
 public:
  virtual ~RawSource() = default;
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void free(void* p) = 0;
  // Free and total bytes of the memory behind the source, when known (for the out-of-memory
  // message only).
  virtual bool mem_info(std::size_t* free_bytes, std::size_t* total_bytes) {
    (void)free_bytes, (void)total_bytes;
    return false;
  }
};

struct CachingAllocatorOptions {
  // Names the memory in error messages: "cuda:0", "pinned host".
  std::string name = "cuda";
  // Blocks of at least this size are never split, and a cached one is not handed to a request much
  // smaller than itself (PyTorch's max_split_size_mb, here on by default): one large tensor's
  // segment is not carved up by small tensors that then keep it alive.
  std::size_t max_split_size = std::size_t{200} << 20;
};

struct CachingAllocatorStats {
  std::size_t allocated = 0;      // bytes in blocks handed out (block sizes, as PyTorch counts)
  std::size_t reserved = 0;       // bytes in segments taken from the source
  std::size_t max_allocated = 0;  // peaks since construction or reset_peak_memory_stats()
  std::size_t max_reserved = 0;
  std::size_t raw_allocs = 0;     // successful source allocate calls
  std::size_t raw_frees = 0;      // source free calls
  std::size_t oom_retries = 0;    // cache flushes after the source ran out
  std::size_t ooms = 0;           // out-of-memory errors thrown
  std::size_t active_blocks = 0;  // blocks handed out and not yet freed
  std::size_t segments = 0;
};

// One segment and its blocks in address order (memory_snapshot): for tests and diagnostics.
struct SegmentSnapshot {
  std::uintptr_t stream = 0;
  bool small_pool = false;
  const void* ptr = nullptr;
  std::size_t size = 0;
  struct Block {
    const void* ptr;
    std::size_t size;
    bool allocated;
  };
  std::vector<Block> blocks;
};

// Rules (PyTorch's, with what is left out):
//   - A request is rounded up to a multiple of 512 bytes (kMinBlockSize), in both pools; that is
//     the smallest block size and the alignment within a segment.
//   - Rounded sizes <= 1 MiB come from the small pool, carved out of 2 MiB segments; larger ones
//     from the large pool: a request under 10 MiB gets a 20 MiB segment, a larger one a segment of
//     its size rounded up to 2 MiB.
//   - Free blocks are found best fit by (stream, size, address): the smallest free block of the
//     request's stream that fits, the lowest address among equal sizes. Each stream id has its own
//     blocks: a segment is taken for one stream and its blocks serve only that stream.
//     (record_stream, the use of a block on a second stream, is left out: a block freed on the
//     host is reused at once by later work of its own stream, which the stream orders after the
//     earlier work.)
//   - The block found is split when the rest is worth keeping: in the small pool when it is at
//     least 512 bytes, in the large pool when it is more than 1 MiB and the request is below
//     max_split_size. An unsplit rest stays in the block and counts as allocated.
//   - A cached block of max_split_size or more is not used for a request below max_split_size,
//     and for a larger request only when the block is less than 20 MiB bigger (PyTorch's rules).
//   - A freed block merges with its free neighbours in its segment.
//   - When the source runs out: every cached segment with no block in use (all streams, both
//     pools) is returned to the source, and the allocation retried once; then sinew::Error names
//     the request and the allocated, reserved, cached and free figures. (PyTorch's first step,
//     freeing only oversize blocks, and its garbage-collection threshold, are left out.)
//   - empty_cache() returns every segment with no block in use.
// One mutex guards everything, source calls included.
//
// The allocator does not own the source, which must outlive it. The destructor returns every
// segment to the source; the process-wide allocator of a device is therefore created with new and
// never destroyed (CUDA calls from static destructors run after the driver has shut down).
class CachingAllocator {
 public:
  static constexpr std::size_t kMinBlockSize = 512;
  static constexpr std::size_t kSmallSize = std::size_t{1} << 20;
  static constexpr std::size_t kSmallBuffer = std::size_t{2} << 20;
  static constexpr std::size_t kLargeBuffer = std::size_t{20} << 20;
  static constexpr std::size_t kMinLargeAlloc = std::size_t{10} << 20;
  static constexpr std::size_t kRoundLarge = std::size_t{2} << 20;

  explicit CachingAllocator(RawSource& source, CachingAllocatorOptions options = {})
      : source_(source), options_(std::move(options)) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  ~CachingAllocator() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Block* head : segments_) {
      source_.free(head->ptr);
      for (Block* b = head; b != nullptr;) {
        Block* next = b->next;
        delete b;
        b = next;
      }
    }
  }

  // The block size a request of `bytes` gets (before any unsplit rest).
  static std::size_t round_size(std::size_t bytes) {
    if (bytes < kMinBlockSize) return kMinBlockSize;
    return kMinBlockSize * ((bytes - 1) / kMinBlockSize + 1);
  }
  // The segment size taken from the source for a block of `rounded` bytes that no cached block
  // fits.
  static std::size_t segment_size(std::size_t rounded) {
    if (rounded <= kSmallSize) return kSmallBuffer;
    if (rounded < kMinLargeAlloc) return kLargeBuffer;
    return kRoundLarge * ((rounded - 1) / kRoundLarge + 1);
  }

  // A block of at least `bytes` for work on `stream`; nullptr for 0 bytes.
  void* allocate(std::size_t bytes, std::uintptr_t stream = 0) {
    if (bytes == 0) return nullptr;
    SINEW_CHECK(bytes <= std::numeric_limits<std::size_t>::max() / 2, where(), "cannot allocate ",
                bytes, " bytes: the size is out of range");
    const std::size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    const bool small = size <= kSmallSize;
    auto& pool = small ? small_free_ : large_free_;
    Block* block = find_free(pool, stream, size);
    if (block == nullptr) block = new_segment(bytes, size, stream, small);
    if (should_split(block, size)) {
      Block* rest = new Block{
          block->stream, block->small, block->size - size, static_cast<char*>(block->ptr) + size,
          false,         block,        block->next};
      if (block->next != nullptr) block->next->prev = rest;
      block->next = rest;
      block->size = size;
      pool.insert(rest);
    }
    block->allocated = true;
    live_.emplace(block->ptr, block);
    stats_.allocated += block->size;
    stats_.max_allocated = std::max(stats_.max_allocated, stats_.allocated);
    ++stats_.active_blocks;
    return block->ptr;
  }

  // Returns a block from allocate() to the cache; nullptr is ignored.
  void free(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    SINEW_CHECK(it != live_.end(), where(), "free of ", p,
                ", which is not a live block of this allocator");
    Block* block = it->second;
    live_.erase(it);
    block->allocated = false;
    stats_.allocated -= block->size;
    --stats_.active_blocks;
    auto& pool = block->small ? small_free_ : large_free_;
    if (block->prev != nullptr && !block->prev->allocated) {
      Block* prev = block->prev;
      pool.erase(prev);
      prev->size += block->size;
      unlink(block);
      block = prev;
    }
    if (block->next != nullptr && !block->next->allocated) {
      Block* next = block->next;
      pool.erase(next);
      block->size += next->size;
      unlink(next);
    }
    pool.insert(block);
  }

  // The size of the block at p (its rounded size, plus any unsplit rest); 0 for an unknown p.
  std::size_t block_size(const void* p) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(const_cast<void*>(p));
    return it == live_.end() ? 0 : it->second->size;
  }

  // Returns every segment with no block in use to the source.
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached();
  }

  std::size_t memory_allocated() const { return stats().allocated; }
  std::size_t memory_reserved() const { return stats().reserved; }
  std::size_t max_memory_allocated() const { return stats().max_allocated; }
  std::size_t max_memory_reserved() const { return stats().max_reserved; }
  std::size_t raw_alloc_count() const { return stats().raw_allocs; }
  void reset_peak_memory_stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.max_allocated = stats_.allocated;
    stats_.max_reserved = stats_.reserved;
  }
  CachingAllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    CachingAllocatorStats s = stats_;
    s.segments = segments_.size();
    return s;
  }

  // Every segment, in address order, with its blocks in address order.
  std::vector<SegmentSnapshot> snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<SegmentSnapshot> out;
    for (const Block* head : segments_) {
      SegmentSnapshot s;
      s.stream = head->stream;
      s.small_pool = head->small;
      s.ptr = head->ptr;
      for (const Block* b = head; b != nullptr; b = b->next) {
        s.blocks.push_back({b->ptr, b->size, b->allocated});
        s.size += b->size;
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  const CachingAllocatorOptions& options() const { return options_; }

 private:
  struct Block {
    std::uintptr_t stream;
    bool small;
    std::size_t size;
    void* ptr;
    bool allocated;
    Block* prev;  // neighbours within the segment
    Block* next;
  };
  struct ByStreamSizeAddress {
    bool operator()(const Block* a, const Block* b) const {
      if (a->stream != b->stream) return a->stream < b->stream;
      if (a->size != b->size) return a->size < b->size;
      return std::less<const void*>()(a->ptr, b->ptr);
    }
  };
  struct ByAddress {
    bool operator()(const Block* a, const Block* b) const {
      return std::less<const void*>()(a->ptr, b->ptr);
    }
  };
  using FreeSet = std::set<Block*, ByStreamSizeAddress>;

  std::string where() const { return "cuda allocator (" + options_.name + ")"; }

  Block* find_free(FreeSet& pool, std::uintptr_t stream, std::size_t size) {
    Block key{stream, false, size, nullptr, false, nullptr, nullptr};
    auto it = pool.lower_bound(&key);
    if (it == pool.end() || (*it)->stream != stream) return nullptr;
    const std::size_t max_split = options_.max_split_size;
    if (size < max_split && (*it)->size >= max_split) return nullptr;
    if (size >= max_split && (*it)->size >= size + kLargeBuffer) return nullptr;
    Block* b = *it;
    pool.erase(it);
    return b;
  }

  bool should_split(const Block* b, std::size_t size) const {
    const std::size_t rest = b->size - size;
    if (b->small) return rest >= kMinBlockSize;
    return size < options_.max_split_size && rest > kSmallSize;
  }

  // Takes a segment from the source (flushing the cache and retrying once when it has run out)
  // and returns its single block, not in any free set.
  Block* new_segment(std::size_t requested, std::size_t size, std::uintptr_t stream, bool small) {
    const std::size_t seg = segment_size(size);
    void* p = source_.allocate(seg);
    if (p == nullptr && release_cached() > 0) {
      ++stats_.oom_retries;
      p = source_.allocate(seg);
    }
    if (p == nullptr) {
      ++stats_.ooms;
      std::size_t cached = stats_.reserved - stats_.allocated;  // 0 after the flush but for splits
      std::size_t free_bytes = 0, total_bytes = 0;
      std::string device;
      if (source_.mem_info(&free_bytes, &total_bytes)) {
        device = detail::str("; ", options_.name, " has ", mib(total_bytes), " total, ",
                             mib(free_bytes), " free");
      } else {
        device = "; free memory of " + options_.name + " unknown";
      }
      detail::fail(where(), "out of memory: tried to allocate ", mib(requested),
                   " in a new segment of ", mib(seg), device, "; Sinew has ", mib(stats_.allocated),
                   " allocated and ", mib(stats_.reserved), " reserved, of which ", mib(cached),
                   " are cached in partly used segments");
    }
    ++stats_.raw_allocs;
    stats_.reserved += seg;
    stats_.max_reserved = std::max(stats_.max_reserved, stats_.reserved);
    Block* b = new Block{stream, small, seg, p, false, nullptr, nullptr};
    segments_.insert(b);
    return b;
  }

  // Returns every segment whose single block is free; the number of bytes returned.
  std::size_t release_cached() {
    std::size_t released = 0;
    for (FreeSet* pool : {&small_free_, &large_free_}) {
      for (auto it = pool->begin(); it != pool->end();) {
        Block* b = *it;
        if (b->prev != nullptr || b->next != nullptr) {
          ++it;
          continue;
        }
        it = pool->erase(it);
        segments_.erase(b);
        source_.free(b->ptr);
        ++stats_.raw_frees;
        stats_.reserved -= b->size;
        released += b->size;
        delete b;
      }
    }
    return released;
  }

  static void unlink(Block* b) {
    if (b->prev != nullptr) b->prev->next = b->next;
    if (b->next != nullptr) b->next->prev = b->prev;
    delete b;
  }

  // "3145728 bytes (3.00 MiB)".
  static std::string mib(std::size_t bytes) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%zu bytes (%.2f MiB)", bytes,
                  static_cast<double>(bytes) / double(1 << 20));
    return buf;
  }

  RawSource& source_;
  const CachingAllocatorOptions options_;
  mutable std::mutex mutex_;
  FreeSet small_free_, large_free_;
  std::set<Block*, ByAddress> segments_;  // each segment's first block
  std::unordered_map<void*, Block*> live_;
  CachingAllocatorStats stats_;
};

// Page-locked host buffers for host <-> device staging (DataLoader batches, .to(cuda)) over their
// own source (cudaHostAlloc). The same caching policy with a single stream: page-locking is slow
// (a system call and page-table work per buffer), so buffers are cached and carved like device
// memory. A buffer handed to an asynchronous copy must not be freed before the copy has completed
// (the pool records no events): the caller synchronizes the copy's stream first.
class PinnedHostPool {
 public:
  explicit PinnedHostPool(RawSource& source, CachingAllocatorOptions options = {"pinned host"})
      : alloc_(source, std::move(options)) {}

  void* allocate(std::size_t bytes) { return alloc_.allocate(bytes, 0); }
  void free(void* p) { alloc_.free(p); }
  void empty_cache() { alloc_.empty_cache(); }
  std::size_t memory_allocated() const { return alloc_.memory_allocated(); }
  std::size_t memory_reserved() const { return alloc_.memory_reserved(); }
  std::size_t max_memory_allocated() const { return alloc_.max_memory_allocated(); }
  std::size_t raw_alloc_count() const { return alloc_.raw_alloc_count(); }
  void reset_peak_memory_stats() { alloc_.reset_peak_memory_stats(); }
  CachingAllocatorStats stats() const { return alloc_.stats(); }
  std::vector<SegmentSnapshot> snapshot() const { return alloc_.snapshot(); }

 private:
  CachingAllocator alloc_;
};

}  // namespace sinew::backend::cuda
