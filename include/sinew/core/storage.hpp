// Storage: one block of device memory shared by a tensor and all of its views, with the
// version counter that autograd uses to detect in-place changes to saved tensors. The memory
// comes from the allocator of its device: the CPU pool, or the CUDA backend's caching allocator
// (SINEW_WITH_CUDA). Only backend kernels read or write it; everything else copies to the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "sinew/backend/cpu/allocator.hpp"
#include "sinew/core/device.hpp"
#if defined(SINEW_CUDA_EMULATED_DEVICE)
#include "sinew/backend/cuda/emulated_device.hpp"
#elif defined(SINEW_WITH_CUDA)
#include "sinew/backend/cuda/memory.hpp"
#endif

namespace sinew {

namespace detail {

// Memory for `nbytes` on `device` and its release; a device this build cannot use is an Error.
inline void* device_allocate(std::size_t nbytes, Device device) {
  if (device.is_cpu()) return backend::cpu::PooledAllocator::instance().allocate(nbytes);
#ifdef SINEW_WITH_CUDA
  return backend::cuda::device_allocate(nbytes, device.index());
#else
  no_cuda("Storage", device);
#endif
}

inline void device_deallocate(void* data, std::size_t nbytes, Device device) noexcept {
  if (device.is_cpu()) {
    backend::cpu::PooledAllocator::instance().deallocate(data, nbytes);
    return;
  }
#ifdef SINEW_WITH_CUDA
  backend::cuda::device_deallocate(data, nbytes, device.index());
#endif
}

// Page-locked host memory (Tensor::pin_memory, DataLoaderOptions::pin_memory): CPU memory whose
// copies to a GPU run asynchronously, from the CUDA backend's pinned pool. A block goes back to the
// pool only after the copies queued before can no longer read it. On the emulated device it is
// plain host memory (marked pinned all the same); without the CUDA backend it is an Error.
inline void* pinned_host_allocate(std::size_t nbytes) {
#if defined(SINEW_CUDA_EMULATED_DEVICE)
  return backend::cpu::PooledAllocator::instance().allocate(nbytes);
#elif defined(SINEW_WITH_CUDA)
  return backend::cuda::pinned_allocate(nbytes);
#else
  (void)nbytes;
  fail("Tensor::pin_memory",
       "pinned host memory needs the CUDA backend (link Sinew::cuda, which defines "
       "SINEW_WITH_CUDA)");
#endif
}

inline void pinned_host_deallocate(void* data, std::size_t nbytes) noexcept {
#if defined(SINEW_CUDA_EMULATED_DEVICE)
  backend::cpu::PooledAllocator::instance().deallocate(data, nbytes);
#elif defined(SINEW_WITH_CUDA)
  (void)nbytes;
  backend::cuda::pinned_release(data);
#else
  (void)data;
  (void)nbytes;
#endif
}

}  // namespace detail

class Storage {
 public:
  // pinned: page-locked host memory (device must be the CPU).
  Storage(std::size_t nbytes, Device device, bool pinned = false)
      : data_(pinned ? detail::pinned_host_allocate(nbytes)
                     : detail::device_allocate(nbytes, device)),
        nbytes_(nbytes),
        device_(device),
        pinned_(pinned) {}
  ~Storage() {
    if (pinned_) {
      detail::pinned_host_deallocate(data_, nbytes_);
    } else {
      detail::device_deallocate(data_, nbytes_, device_);
    }
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool pinned() const { return pinned_; }

  // Bumped by every in-place write to any tensor viewing this storage.
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  bool pinned_ = false;
  uint64_t version_ = 0;
};

}  // namespace sinew
