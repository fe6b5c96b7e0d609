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

}  // namespace detail

class Storage {
 public:
  Storage(std::size_t nbytes, Device device)
      : data_(detail::device_allocate(nbytes, device)), nbytes_(nbytes), device_(device) {}
  ~Storage() { detail::device_deallocate(data_, nbytes_, device_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write to any tensor viewing this storage.
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  uint64_t version_ = 0;
};

}  // namespace sinew
