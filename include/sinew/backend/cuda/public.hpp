// The user-facing sinew::cuda namespace of a build with the CUDA backend (as torch::cuda and
// torch.cuda): availability, synchronize, seeding, memory statistics, the caches and TF32.
//
// The functions are defined once, in sinew::backend::cuda::api_public, whether or not
// SINEW_WITH_CUDA is defined (so that the CUDA tests can call them in any build); a build with
// SINEW_WITH_CUDA brings them into sinew::cuda by using-declarations. A build without it gets
// sinew::cuda::is_available / device_count / cudnn_is_available from core/device.hpp instead (the
// "no CUDA backend" answers), and nothing from here: each name has one definition in either build.
//
// A device index of -1 means this thread's current device.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef SINEW_CUDA_EMULATED_DEVICE
#include "sinew/backend/cuda/emulated_device.hpp"
#else
#include "sinew/backend/cuda/api.hpp"
#include "sinew/backend/cuda/device.hpp"
#include "sinew/backend/cuda/kernel_cache.hpp"
#include "sinew/backend/cuda/memory.hpp"
#endif
#include "sinew/core/device.hpp"
#include "sinew/core/random.hpp"

namespace sinew::backend::cuda::api_public {

// Whether CUDA devices can be used in this process. Never throws; asks the runtime once.
inline bool is_available() noexcept { return ::sinew::backend::cuda::is_available(); }

// How many CUDA devices this process can use: 0 where CUDA is not usable. Never throws.
inline std::size_t device_count() noexcept {
  return static_cast<std::size_t>(::sinew::backend::cuda::device_count());
}

// Whether this build links cuDNN (the build defines SINEW_WITH_CUDNN then) and CUDA is usable.
// Whether the cuDNN library itself loads and supports the device is not checked here.
inline bool cudnn_is_available() noexcept {
#ifdef SINEW_WITH_CUDNN
  return is_available();
#else
  return false;
#endif
}

// Waits for all work Sinew queued on device (-1: the current device). Raises sinew::Error where the
// device cannot be used, or for an asynchronous fault of earlier work.
inline void synchronize(int device = -1) {
  ::sinew::backend::cuda::synchronize(device < 0 ? current_device() : device);
}

// Sinew has one Philox generator for the CPU and every CUDA device (a seed gives the same numbers
// on both): these seed the default generator, as sinew::manual_seed does.
inline void manual_seed(std::uint64_t seed) { ::sinew::manual_seed(seed); }
inline void manual_seed_all(std::uint64_t seed) { ::sinew::manual_seed(seed); }

// Bytes in blocks handed out / in segments taken from cudaMalloc, and their peaks since the start
// or reset_peak_memory_stats (PyTorch's figures). 0 for a device never used.
inline std::size_t memory_allocated(int device = -1) noexcept {
  return ::sinew::backend::cuda::memory_allocated(device);
}
inline std::size_t memory_reserved(int device = -1) noexcept {
  return ::sinew::backend::cuda::memory_reserved(device);
}
inline std::size_t max_memory_allocated(int device = -1) noexcept {
  return ::sinew::backend::cuda::max_memory_allocated(device);
}
inline std::size_t max_memory_reserved(int device = -1) noexcept {
  return ::sinew::backend::cuda::max_memory_reserved(device);
}
inline void reset_peak_memory_stats(int device = -1) noexcept {
  ::sinew::backend::cuda::reset_peak_memory_stats(device);
}

// Returns cached, unused device memory of every device to the driver (memory in use stays).
inline void empty_cache() { ::sinew::backend::cuda::empty_cache(); }

// Forgets the compiled kernels in memory and deletes the kernel cache's files on disk.
inline void clear_kernel_cache() { ::sinew::backend::cuda::clear_kernel_cache(); }

// Whether float matrix products (gemm, bmm, linear) may use TF32 tensor cores: faster on Ampere
// and newer, with a 10-bit mantissa for the products. Off by default (true FP32, as on the CPU;
// PyTorch's torch.backends.cuda.matmul.allow_tf32).
inline void set_allow_tf32(bool allow) noexcept {
  ::sinew::backend::cuda::allow_tf32_flag().store(allow, std::memory_order_relaxed);
}
inline bool allow_tf32() noexcept {
  return ::sinew::backend::cuda::allow_tf32_flag().load(std::memory_order_relaxed);
}

}  // namespace sinew::backend::cuda::api_public

#ifdef SINEW_WITH_CUDA
namespace sinew::cuda {
using ::sinew::backend::cuda::api_public::allow_tf32;
using ::sinew::backend::cuda::api_public::clear_kernel_cache;
using ::sinew::backend::cuda::api_public::cudnn_is_available;
using ::sinew::backend::cuda::api_public::device_count;
using ::sinew::backend::cuda::api_public::empty_cache;
using ::sinew::backend::cuda::api_public::is_available;
using ::sinew::backend::cuda::api_public::manual_seed;
using ::sinew::backend::cuda::api_public::manual_seed_all;
using ::sinew::backend::cuda::api_public::max_memory_allocated;
using ::sinew::backend::cuda::api_public::max_memory_reserved;
using ::sinew::backend::cuda::api_public::memory_allocated;
using ::sinew::backend::cuda::api_public::memory_reserved;
using ::sinew::backend::cuda::api_public::reset_peak_memory_stats;
using ::sinew::backend::cuda::api_public::set_allow_tf32;
using ::sinew::backend::cuda::api_public::synchronize;
}  // namespace sinew::cuda
#endif
