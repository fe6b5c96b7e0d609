// Device memory as Storage uses it, and the pinned host pool for staging copies.
//
//   device_allocate(nbytes, device)        a block of the device's caching allocator, tied to the
//   device_deallocate(p, nbytes, device)   device's compute stream (nullptr for 0 bytes, which
//                                          device_deallocate accepts)
//   pinned_allocate(nbytes), pinned_deallocate(p), pinned_release(p) (after the copies reading p)
//                                          page-locked host memory from one process-wide pool
//   memory_allocated(device), memory_reserved(device), max_memory_allocated(device),
//   max_memory_reserved(device), reset_peak_memory_stats(device), empty_cache()
//                                          PyTorch's statistics; a device never used reports 0
//   copy_bytes(dst, dst_device, src, src_device, n)
//                                          n bytes from one device's memory to another's (the
//                                          host's included), ordered on the compute stream
//
// Each device has one CachingAllocator (allocator.hpp) over a CudaMallocSource, created at the
// device's first allocation and, like the source, never destroyed (no CUDA call from a static
// destructor). A device index below 0 means this thread's current device.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <mutex>
#include <string>

#include "sinew/backend/cuda/allocator.hpp"
#include "sinew/backend/cuda/api.hpp"
#include "sinew/backend/cuda/device.hpp"
#include "sinew/core/device.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// cudaMalloc / cudaFree on one device. Out of memory is nullptr (the allocator then releases its
// cache and retries); any other error is a sinew::Error (and a sticky one marks the device
// poisoned). free never throws: it runs while the allocator's bookkeeping is half done.
class CudaMallocSource final : public RawSource {
 public:
  explicit CudaMallocSource(int device) : device_(device) {}

  void* allocate(std::size_t bytes) override {
    DeviceGuard guard(device_);
    void* p = nullptr;
    const cudaError_t e = device_malloc_nothrow(&p, bytes);
    if (e == cudaErrorMemoryAllocation) return nullptr;
    check_on_device(e, "cuda::device_allocate", device_);
    return p;
  }

  void free(void* p) override {
    try {
      DeviceGuard guard(device_);
      const cudaError_t e = device_free_nothrow(p);
      if (is_sticky_error(e))
        mark_poisoned(device_, std::string("cudaFree: ") + error_name(e) + ": " + error_string(e));
    } catch (...) {
      // The device could not be made current: the memory goes with its context.
    }
  }

  bool mem_info(std::size_t* free_bytes, std::size_t* total_bytes) override {
    try {
      DeviceGuard guard(device_);
      if (cudaMemGetInfo(free_bytes, total_bytes) == cudaSuccess) return true;
      (void)cudaGetLastError();
    } catch (...) {
    }
    return false;
  }

  int device() const noexcept { return device_; }

 private:
  int device_;
};

// cudaHostAlloc (portable: usable with every device) / cudaFreeHost.
class CudaHostAllocSource final : public RawSource {
 public:
  void* allocate(std::size_t bytes) override {
    void* p = nullptr;
    const cudaError_t e = cudaHostAlloc(&p, bytes, cudaHostAllocPortable);
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      return nullptr;
    }
    SINEW_CUDA_CHECK(e, "cuda::pinned_allocate");
    return p;
  }
  void free(void* p) override {
    if (cudaFreeHost(p) != cudaSuccess) (void)cudaGetLastError();
  }
};

namespace detail_memory {

struct DeviceMemory {
  explicit DeviceMemory(int device)
      : source(device),
        allocator(source, CachingAllocatorOptions{"cuda:" + std::to_string(device)}) {}
  CudaMallocSource source;
  CachingAllocator allocator;
};

inline std::array<std::atomic<DeviceMemory*>, kMaxDevices>& memory_table() noexcept {
  static std::array<std::atomic<DeviceMemory*>, kMaxDevices> table{};
  return table;
}

inline std::mutex& creation_mutex() noexcept {
  static std::mutex* m = new std::mutex;
  return *m;
}

inline int resolve(int device) noexcept { return device < 0 ? current_device() : device; }

// The allocator of device, nullptr where it has not been created (or device is out of range).
inline CachingAllocator* find_allocator(int device) noexcept {
  device = resolve(device);
  if (device >= kMaxDevices) return nullptr;
  DeviceMemory* m =
      memory_table()[static_cast<std::size_t>(device)].load(std::memory_order_acquire);
  return m != nullptr ? &m->allocator : nullptr;
}

// The allocator of device (an index require_device accepted), created at the first call.
inline CachingAllocator& allocator(int device) {
  if (CachingAllocator* a = find_allocator(device)) return *a;
  std::lock_guard<std::mutex> lock(creation_mutex());
  auto& slot = memory_table()[static_cast<std::size_t>(device)];
  DeviceMemory* m = slot.load(std::memory_order_acquire);
  if (m == nullptr) {
    m = new DeviceMemory(device);  // never deleted (see the top of this file)
    slot.store(m, std::memory_order_release);
  }
  return m->allocator;
}

}  // namespace detail_memory

// nbytes of memory on device, ordered on its compute stream. Throws sinew::Error where device
// cannot be used (naming the reason), where it is poisoned, or when even after releasing the cache
// the memory is not there. 0 bytes give nullptr (the device is still checked).
inline void* device_allocate(std::size_t nbytes, int device) {
  device = detail_memory::resolve(device);
  require_device(Device::cuda(device), "cuda::device_allocate");
  check_not_poisoned(device, "cuda::device_allocate");
  if (nbytes == 0) return nullptr;
  const std::uintptr_t stream = stream_id(compute_stream(device));
  CachingAllocator& a = detail_memory::allocator(device);
  DeviceGuard guard(device);
  return a.allocate(nbytes, stream);
}

// Returns p (from device_allocate(nbytes, device)) to the device's cache; nullptr is ignored. The
// block is reused at once by later work on the compute stream, which the stream orders after the
// work that used p. nbytes is not needed (the allocator knows the block's size). Never throws: a
// pointer that is not a live block of the device is reported on stderr and left alone.
inline void device_deallocate(void* p, std::size_t nbytes, int device) noexcept {
  (void)nbytes;
  if (p == nullptr) return;
  CachingAllocator* a = detail_memory::find_allocator(device);
  if (a == nullptr) {
    std::fprintf(stderr,
                 "sinew: cuda::device_deallocate: %p given for cuda:%d, which has no memory\n", p,
                 detail_memory::resolve(device));
    return;
  }
  try {
    a->free(p);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sinew: cuda::device_deallocate: %s\n", e.what());
  }
}

// ---- statistics (0 for a device never used; nothing is created) --------------------------------

inline std::size_t memory_allocated(int device) noexcept {
  const CachingAllocator* a = detail_memory::find_allocator(device);
  return a != nullptr ? a->memory_allocated() : 0;
}
inline std::size_t memory_reserved(int device) noexcept {
  const CachingAllocator* a = detail_memory::find_allocator(device);
  return a != nullptr ? a->memory_reserved() : 0;
}
inline std::size_t max_memory_allocated(int device) noexcept {
  const CachingAllocator* a = detail_memory::find_allocator(device);
  return a != nullptr ? a->max_memory_allocated() : 0;
}
inline std::size_t max_memory_reserved(int device) noexcept {
  const CachingAllocator* a = detail_memory::find_allocator(device);
  return a != nullptr ? a->max_memory_reserved() : 0;
}
inline void reset_peak_memory_stats(int device) noexcept {
  if (CachingAllocator* a = detail_memory::find_allocator(device)) a->reset_peak_memory_stats();
}

// Returns the cached, unused segments of every device used so far to cudaFree (a poisoned device
// is skipped: its memory goes with its context). Memory in use stays.
inline void empty_cache() {
  for (int d = 0; d < kMaxDevices; ++d) {
    CachingAllocator* a = detail_memory::find_allocator(d);
    if (a == nullptr || is_poisoned(d)) continue;
    DeviceGuard guard(d);
    a->empty_cache();
  }
}

// ---- pinned host memory ------------------------------------------------------------------------

namespace detail_memory {

inline std::atomic<PinnedHostPool*>& pinned_slot() noexcept {
  static std::atomic<PinnedHostPool*> slot{nullptr};
  return slot;
}

inline PinnedHostPool& pinned_pool() {
  if (PinnedHostPool* p = pinned_slot().load(std::memory_order_acquire)) return *p;
  std::lock_guard<std::mutex> lock(creation_mutex());
  PinnedHostPool* p = pinned_slot().load(std::memory_order_acquire);
  if (p == nullptr) {
    auto* source = new CudaHostAllocSource;  // never deleted, like the pool
    p = new PinnedHostPool(*source);
    pinned_slot().store(p, std::memory_order_release);
  }
  return *p;
}

}  // namespace detail_memory

// nbytes of page-locked host memory for copies to and from any device (nullptr for 0). Throws where
// CUDA is not usable here, naming the reason. A buffer handed to an asynchronous copy is freed only
// after the copy's stream has been synchronized (the pool records no events).
inline void* pinned_allocate(std::size_t nbytes) {
  if (!is_available()) [[unlikely]]
    ::sinew::detail::fail("cuda::pinned_allocate", "pinned host memory requested, but ",
                          unavailable_reason());
  return detail_memory::pinned_pool().allocate(nbytes);
}

// Returns p (from pinned_allocate) to the pool; nullptr is ignored. Never throws.
inline void pinned_deallocate(void* p) noexcept {
  if (p == nullptr) return;
  try {
    detail_memory::pinned_pool().free(p);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sinew: cuda::pinned_deallocate: %s\n", e.what());
  }
}

// Returns p (from pinned_allocate) to the pool once no copy queued before can still read it: a
// copy from pinned memory to a device runs asynchronously, so the compute stream of every device
// whose memory is in use is synchronized first (in a training loop the step's loss.item() has done
// that already by the time its batch is released). Never throws.
inline void pinned_release(void* p) noexcept {
  if (p == nullptr) return;
  for (int d = 0; d < kMaxDevices; ++d) {
    if (detail_memory::find_allocator(d) == nullptr) continue;
    try {
      DeviceGuard guard(d);
      if (cudaStreamSynchronize(compute_stream(d)) != cudaSuccess) (void)cudaGetLastError();
    } catch (...) {
      // A poisoned device runs nothing more: nothing of it can still read the block.
    }
  }
  pinned_deallocate(p);
}

// The pinned pool's figures (0 before its first use; asking creates nothing).
inline std::size_t pinned_memory_allocated() noexcept {
  const PinnedHostPool* p = detail_memory::pinned_slot().load(std::memory_order_acquire);
  return p != nullptr ? p->memory_allocated() : 0;
}
inline std::size_t pinned_memory_reserved() noexcept {
  const PinnedHostPool* p = detail_memory::pinned_slot().load(std::memory_order_acquire);
  return p != nullptr ? p->memory_reserved() : 0;
}
// Returns the pool's unused buffers to cudaFreeHost.
inline void pinned_empty_cache() {
  if (PinnedHostPool* p = detail_memory::pinned_slot().load(std::memory_order_acquire))
    p->empty_cache();
}

// Copies n bytes from src (memory of src_device) to dst (memory of dst_device), at least one of
// them a CUDA device, after the work already queued on the compute stream of the CUDA device (the
// destination's where both are). Returns once dst holds the bytes where dst is host memory (and
// raises what the device's kernels reported, as synchronize does); a copy to a device is ordered
// before the work queued after it. The host side may be pageable memory (the runtime stages it).
inline void copy_bytes(void* dst, const Device& dst_device, const void* src,
                       const Device& src_device, std::size_t n) {
  if (n == 0) return;
  const int device = dst_device.is_cuda() ? dst_device.index() : src_device.index();
  const char* op = "cuda::copy_bytes";
  require_device(Device::cuda(device), op);
  check_not_poisoned(device, op);
  cudaStream_t stream = compute_stream(device);
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device != src_device) {
    // The source's queued work first: the copy waits on an event of its stream.
    cudaStream_t source_stream = compute_stream(src_device.index());
    cudaEvent_t ready = nullptr;
    {
      DeviceGuard source_guard(src_device.index());
      ready = event_create();
      event_record(ready, source_stream);
    }
    DeviceGuard guard(device);
    stream_wait_event(stream, ready);
    event_destroy(ready);
  }
  DeviceGuard guard(device);
  const cudaError_t e = cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, stream);
  if (e != cudaSuccess) [[unlikely]] {
    (void)cudaGetLastError();
    check_on_device(e, op, device);
  }
  if (dst_device.is_cpu()) synchronize(device);
}

}  // namespace sinew::backend::cuda
