// The emulated CUDA device (a test-only build, SINEW_CUDA_EMULATED_DEVICE): Device::cuda(0) and
// cuda(1) exist in a process without a GPU or a CUDA toolkit, their memory is host memory, and the
// CUDA backend's kernel functions run their kernels on the fiber emulator
// (SINEW_CUDA_EMULATED_KERNELS, launch.hpp), GEMM through the reference of the cuBLAS calls. So
// every op on a CUDA tensor runs the backend's own planning, instantiation choice and kernel
// source, and the CPU-vs-CUDA parity suite runs in CI. What differs from a GPU: launches run one
// at a time and finish before the launch returns, and nothing is compiled by NVRTC (the compile-all
// test does that).
//
// This header stands in for what memory.hpp, device.hpp and api.hpp give the rest of Sinew:
// availability, allocation with PyTorch's statistics, synchronize (which raises what checking
// kernels recorded), the current device and the TF32 flag.
#pragma once

#ifndef SINEW_CUDA_EMULATED_KERNELS
#error \
    "SINEW_CUDA_EMULATED_DEVICE needs SINEW_CUDA_EMULATED_KERNELS (the kernels run on the emulator)"
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <string>

#include "sinew/backend/cpu/allocator.hpp"
#include "sinew/backend/cuda/emulated_checks.hpp"
#include "sinew/core/device.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// Two devices, so that copies between devices are exercised too.
inline constexpr int kEmulatedDevices = 2;
inline constexpr int kMaxDevices = kEmulatedDevices;

inline bool is_available() noexcept { return true; }
inline int device_count() noexcept { return kEmulatedDevices; }
inline std::string unavailable_reason() { return {}; }

namespace detail_emulated {
inline int& current_device_slot() noexcept {
  thread_local int device = 0;
  return device;
}

struct MemoryStats {
  std::atomic<std::size_t> allocated{0}, peak{0};
};
inline std::array<MemoryStats, kEmulatedDevices>& memory_stats() noexcept {
  static std::array<MemoryStats, kEmulatedDevices> stats;
  return stats;
}
inline int resolve(int device) noexcept { return device < 0 ? current_device_slot() : device; }
inline MemoryStats* stats(int device) noexcept {
  device = resolve(device);
  return device >= 0 && device < kEmulatedDevices ? &memory_stats()[static_cast<size_t>(device)]
                                                  : nullptr;
}
}  // namespace detail_emulated

inline int current_device() noexcept { return detail_emulated::current_device_slot(); }

inline void require_device(const Device& d, const char* op) {
  SINEW_CHECK(d.is_cuda(), op, "expected a CUDA device, got ", d);
  SINEW_CHECK(
      d.index() >= 0 && d.index() < kEmulatedDevices, op, d,
      " requested, but the emulated CUDA devices are cuda:0 to cuda:", kEmulatedDevices - 1);
}

inline void set_device(int device) {
  require_device(Device::cuda(device), "cuda::set_device");
  detail_emulated::current_device_slot() = device;
}

// Host memory from the CPU pool, counted as the device's.
inline void* device_allocate(std::size_t nbytes, int device) {
  require_device(Device::cuda(detail_emulated::resolve(device)), "cuda::device_allocate");
  void* p = cpu::PooledAllocator::instance().allocate(nbytes);  // counted once it succeeded
  detail_emulated::MemoryStats& s = *detail_emulated::stats(device);
  const std::size_t now = s.allocated.fetch_add(nbytes) + nbytes;
  std::size_t peak = s.peak.load();
  while (now > peak && !s.peak.compare_exchange_weak(peak, now)) {
  }
  return p;
}

inline void device_deallocate(void* p, std::size_t nbytes, int device) noexcept {
  if (detail_emulated::MemoryStats* s = detail_emulated::stats(device)) s->allocated -= nbytes;
  cpu::PooledAllocator::instance().deallocate(p, nbytes);
}

inline std::size_t memory_allocated(int device) noexcept {
  const detail_emulated::MemoryStats* s = detail_emulated::stats(device);
  return s != nullptr ? s->allocated.load() : 0;
}
inline std::size_t max_memory_allocated(int device) noexcept {
  const detail_emulated::MemoryStats* s = detail_emulated::stats(device);
  return s != nullptr ? s->peak.load() : 0;
}
// The CPU pool keeps what it gets: reserved is what is allocated.
inline std::size_t memory_reserved(int device) noexcept { return memory_allocated(device); }
inline std::size_t max_memory_reserved(int device) noexcept { return max_memory_allocated(device); }
inline void reset_peak_memory_stats(int device) noexcept {
  if (detail_emulated::MemoryStats* s = detail_emulated::stats(device))
    s->peak = s->allocated.load();
}
inline void empty_cache() {}
inline void clear_kernel_cache() {}

// Launches have finished when they return; what is left is to raise what kernels recorded.
inline void synchronize(int device) {
  require_device(Device::cuda(device), "cuda::synchronize");
  raise_emulated_checks(device, "cuda::synchronize");
}

inline std::atomic<bool>& allow_tf32_flag() noexcept {
  static std::atomic<bool> allow{false};
  return allow;
}

}  // namespace sinew::backend::cuda
