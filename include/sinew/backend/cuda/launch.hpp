// Launching a kernel instantiation: where the backend's kernel functions (elementwise.hpp, ...)
// meet NVRTC, the kernel cache and the runtime.
//
//   KernelLaunch{device, fragment, name, grid, block, shared_bytes}
//                                 what to launch: the name expression of an instantiation of the
//                                 fragment's kernels ("sinew::fill_flat<float, sinew::int32_t, 4>")
//   launch(k, SINEW_CUDA_HOST_KERNEL(fill_flat<T, I, V>), args...)
//                                 launches it on the device's compute stream with args (each the
//                                 kernel parameter's exact type, passed by value as CUDA does)
//   plan_options(device)          the launch plans' block size and grid cap for the device
//   expect_kernel_check(device, op, dim)
//                                 the check record and tag of a launch that checks indices
//   last_launched_kernel()        the name expression of this thread's last launch
//
// On a GPU the first launch of a name on a device compiles it for the device's architecture
// (NVRTC, through the memory and disk kernel cache), loads it and keeps its cudaKernel_t; later
// launches look it up. With SINEW_CUDA_SYNC=1 every launch is followed by a synchronize, so that a
// fault is reported by the op that caused it.
//
// Emulated kernels (test builds): where SINEW_CUDA_EMULATED_KERNELS is defined, the fiber emulator
// and the kernel sources compiled as host C++ must be included first (the tests' emulator headers
// do both); a launch then runs the host instantiation that SINEW_CUDA_HOST_KERNEL names on the
// emulator, synchronously, and no CUDA header is needed. The name expression is still built and
// recorded, so the tests check it against the instantiation table that NVRTC compiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "sinew/backend/cuda/checks.hpp"
#include "sinew/backend/cuda/instantiations.hpp"
#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/core/device.hpp"

#ifdef SINEW_CUDA_EMULATED_KERNELS
#ifndef SINEW_CUDA_EMULATION
#error \
    "SINEW_CUDA_EMULATED_KERNELS: include the emulator and the host kernels before Sinew's CUDA launch code"
#endif
#include <bit>
#include <tuple>

#include "sinew/backend/cuda/emulated_checks.hpp"
// The host instantiation a launch runs on the emulator.
#define SINEW_CUDA_HOST_KERNEL(...) (&::sinew::__VA_ARGS__)
#else
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "sinew/backend/cuda/api.hpp"
#include "sinew/backend/cuda/device.hpp"
#include "sinew/backend/cuda/kernel_cache.hpp"
#include "sinew/backend/cuda/nvrtc.hpp"
// A GPU build launches the compiled image: no host code is named.
#define SINEW_CUDA_HOST_KERNEL(...) nullptr
#endif

namespace sinew::backend::cuda {

// One launch of one instantiation.
struct KernelLaunch {
  int device = 0;
  const Fragment* fragment = nullptr;  // the source that defines the kernel
  std::string name;                    // its name expression
  uint32_t grid = 1, block = 1;        // 1-D: blocks, threads per block
  size_t shared_bytes = 0;             // dynamic shared memory per block
};

// A launch of `name` (an instantiation of a kernel of `fragment`) on device.
inline KernelLaunch kernel_launch(const Device& device, const Fragment& fragment, std::string name,
                                  uint32_t grid, uint32_t block, size_t shared_bytes = 0) {
  KernelLaunch k;
  k.device = device.index();
  k.fragment = &fragment;
  k.name = std::move(name);
  k.grid = grid;
  k.block = block;
  k.shared_bytes = shared_bytes;
  return k;
}

// body.template operator()<I>() with the index type a plan chose: int32_t or int64_t.
template <class Body>
void with_index_type(bool index32, Body&& body) {
  if (index32)
    body.template operator()<int32_t>();
  else
    body.template operator()<int64_t>();
}

// body.template operator()<V>() with the elements per access a flat plan chose: 4, 2 or 1.
template <class Body>
void with_vector_width(int vec, Body&& body) {
  if (vec == 4)
    body.template operator()<4>();
  else if (vec == 2)
    body.template operator()<2>();
  else
    body.template operator()<1>();
}

// The name expression of this thread's last launch ("" before the first).
inline std::string& last_launched_kernel() {
  thread_local std::string name;
  return name;
}

// Plan options that replace the device's own for this thread's launches (tests: small blocks
// and grids, so that grid-stride loops take several steps and blocks end part-way).
inline std::optional<PlanOptions>& plan_options_override() {
  thread_local std::optional<PlanOptions> o;
  return o;
}

namespace detail_launch {

// The parameter of type P that argument a becomes on the emulator: itself, where its type is P
// exactly, or, for the host mirror of a device struct (StridedArgs for dev::Strided), the same
// bytes (a pointer to a mirror: the same address, CheckRecord* for dev::CheckRecord*). Nothing
// else compiles: on a GPU the argument's bytes are passed as they are, so the
// emulated build checks every call site's types for the GPU build.
template <class P, class A>
P kernel_arg(const A& a) {
  if constexpr (std::is_same_v<A, P>) {
    return a;
  } else if constexpr (std::is_pointer_v<A> && std::is_pointer_v<P>) {
    using X = std::remove_pointer_t<A>;
    using Y = std::remove_pointer_t<P>;
    static_assert(std::is_class_v<X> && std::is_class_v<Y> && sizeof(X) == sizeof(Y) &&
                      std::is_trivially_copyable_v<X> && std::is_trivially_copyable_v<Y>,
                  "a kernel's pointer argument points to neither the parameter's type nor its "
                  "byte-for-byte host mirror");
    return reinterpret_cast<P>(a);
  } else {
    static_assert(std::is_class_v<A> && std::is_class_v<P> && sizeof(A) == sizeof(P) &&
                      std::is_trivially_copyable_v<A> && std::is_trivially_copyable_v<P>,
                  "a kernel argument is neither of the parameter's type nor its byte-for-byte "
                  "host mirror");
    return std::bit_cast<P>(a);
  }
}

#ifndef SINEW_CUDA_EMULATED_KERNELS

// The multiprocessor count of each device, read once (it sizes the grids).
inline int multiprocessors(int device) {
  static std::array<std::atomic<int>, kMaxDevices> counts{};
  SINEW_CHECK(device >= 0 && device < kMaxDevices, "cuda::launch", "device index ", device,
              " is out of range");
  std::atomic<int>& slot = counts[static_cast<size_t>(device)];
  int n = slot.load(std::memory_order_relaxed);
  if (n == 0) {
    require_device(Device::cuda(device), "cuda::launch");
    n = device_info(device).multiprocessors;
    slot.store(n, std::memory_order_relaxed);
  }
  return n;
}

// The loaded kernels of one device by name expression (never destroyed: nothing is unloaded at
// exit, see api.hpp).
struct LoadedKernels {
  std::mutex mutex;
  std::unordered_map<std::string, cudaKernel_t> kernels;
  int compute_capability = 0;
};

inline LoadedKernels& loaded_kernels(int device) {
  static std::array<std::atomic<LoadedKernels*>, kMaxDevices> table{};
  static std::mutex creation;
  std::atomic<LoadedKernels*>& slot = table[static_cast<size_t>(device)];
  LoadedKernels* k = slot.load(std::memory_order_acquire);
  if (k != nullptr) return *k;
  std::lock_guard<std::mutex> lock(creation);
  k = slot.load(std::memory_order_acquire);
  if (k == nullptr) {
    k = new LoadedKernels;
    k->compute_capability = device_info(device).compute_capability;
    slot.store(k, std::memory_order_release);
  }
  return *k;
}

// NVRTC's source of a fragment (enums + prelude + fragment), built once per fragment.
inline const std::string& fragment_program(const Fragment& f) {
  static std::mutex m;
  static auto* sources = new std::unordered_map<const char*, std::string>;
  std::lock_guard<std::mutex> lock(m);
  std::string& s = (*sources)[f.source.data()];
  if (s.empty()) s = program_source(f.source);
  return s;
}

#endif

}  // namespace detail_launch

// Block 256 and a grid of at most 8 blocks per multiprocessor of device (the emulator: at most
// 8 x 132), unless plan_options_override() says otherwise.
inline PlanOptions plan_options([[maybe_unused]] int device) {
  if (const std::optional<PlanOptions>& o = plan_options_override()) return *o;
  PlanOptions p;
#ifndef SINEW_CUDA_EMULATED_KERNELS
  p.max_blocks = 8 * int64_t{detail_launch::multiprocessors(device)};
#endif
  return p;
}

// What a launch that checks indices passes its kernel: the device's check record and the tag
// naming the launch (checks.hpp); a failure is raised at the next synchronization.
struct KernelCheck {
  CheckRecord* record = nullptr;
  unsigned long long tag = 0;
};

#ifdef SINEW_CUDA_EMULATED_KERNELS

// The check of a launch of `op` (a string literal) that checks indices into dimension `dim`.
inline KernelCheck expect_kernel_check(int device, const char* op, int64_t dim) {
  detail_launch::EmulatedChecks& c = detail_launch::emulated_checks(device);
  return {&c.record, c.log.expect(op, dim)};
}

// Emulated kernels run on host memory, so the device's memory is host memory too: a copy between
// "devices" is a memcpy, and a copy to the host is a synchronization point (it raises what the
// source device's checking kernels recorded).
inline void copy_bytes(void* dst, const Device& dst_device, const void* src,
                       const Device& src_device, size_t n) {
  if (n > 0) std::memcpy(dst, src, n);
  if (dst_device.is_cpu() && src_device.is_cuda())
    raise_emulated_checks(src_device.index(), "cuda::copy_bytes");
}

#else

inline KernelCheck expect_kernel_check(int device, const char* op, int64_t dim) {
  return {check_record(device), expect_check(device, op, dim)};
}

#endif

#ifndef SINEW_CUDA_EMULATED_KERNELS

// The kernel `name` of `fragment`, compiled for device's architecture and loaded: from this
// process's table, else from the kernel cache (memory, disk, or NVRTC).
inline cudaKernel_t kernel_function(int device, const Fragment& fragment, const std::string& name) {
  detail_launch::LoadedKernels& loaded = detail_launch::loaded_kernels(device);
  {
    std::lock_guard<std::mutex> lock(loaded.mutex);
    auto it = loaded.kernels.find(name);
    if (it != loaded.kernels.end()) return it->second;
  }
  // Compiled outside the lock: the cache lets one thread compile a key while others wait for it.
  KernelRequest request{detail_launch::fragment_program(fragment), name,
                        nvrtc::target_for(loaded.compute_capability)};
  request.program_name = fragment.program_name;
  std::shared_ptr<const CompiledKernel> compiled = kernel_cache().get(request);
  DeviceGuard guard(device);
  std::lock_guard<std::mutex> lock(loaded.mutex);
  auto it = loaded.kernels.find(name);
  if (it != loaded.kernels.end()) return it->second;  // another thread loaded it meanwhile
  cudaLibrary_t library = library_load_data(compiled->image.data());
  cudaKernel_t kernel = library_get_kernel(library, compiled->lowered_name.c_str());
  loaded.kernels.emplace(name, kernel);
  return kernel;
}

#endif

// Launches k. The host kernel is the instantiation the emulator runs (SINEW_CUDA_HOST_KERNEL: a
// pointer in emulated builds, nullptr otherwise); args become its parameters in
// emulated builds (which checks that they are those types, or their host mirrors) and passed as
// they are on a GPU.
template <class HostKernel, class... A>
void launch(const KernelLaunch& k, [[maybe_unused]] HostKernel host_kernel, const A&... args) {
  last_launched_kernel() = k.name;
#ifdef SINEW_CUDA_EMULATED_KERNELS
  [&]<class... P>(void (*kernel)(P...)) {
    static_assert(sizeof...(P) == sizeof...(A), "cuda::launch: wrong number of kernel arguments");
    sim::launch(kernel, dim3(k.grid), dim3(k.block), k.shared_bytes,
                detail_launch::kernel_arg<std::decay_t<P>>(args)...);
  }(host_kernel);
#else
  static_assert(std::is_null_pointer_v<HostKernel>,
                "cuda::launch: a GPU build names no host kernel");
  const char* op = "cuda::launch";
  require_device(Device::cuda(k.device), op);
  check_not_poisoned(k.device, op);
  SINEW_CHECK(k.fragment != nullptr, op, "no source fragment for ", k.name);
  cudaKernel_t kernel = kernel_function(k.device, *k.fragment, k.name);
  cudaStream_t stream = compute_stream(k.device);
  void* argv[sizeof...(A) + 1] = {const_cast<void*>(static_cast<const void*>(&args))...};
  DeviceGuard guard(k.device);
  const cudaError_t e = cudaLaunchKernel(reinterpret_cast<const void*>(kernel), dim3(k.grid),
                                         dim3(k.block), argv, k.shared_bytes, stream);
  if (e != cudaSuccess) [[unlikely]] {
    (void)cudaGetLastError();
    check_on_device(e, ("cuda::launch of " + k.name).c_str(), k.device);
  }
  if (sync_after_launch()) synchronize(k.device);
#endif
}

}  // namespace sinew::backend::cuda
