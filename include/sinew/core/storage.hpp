// Storage: one block of device memory shared by a tensor and all of its views, with the
// version counter that autograd uses to detect in-place changes to saved tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "sinew/backend/cpu/allocator.hpp"
#include "sinew/core/device.hpp"

namespace sinew {

class Storage {
 public:
  Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
    if (!device.is_cpu()) no_cuda("Storage", device);
    data_ = backend::cpu::PooledAllocator::instance().allocate(nbytes);
  }
  ~Storage() { backend::cpu::PooledAllocator::instance().deallocate(data_, nbytes_); }
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
