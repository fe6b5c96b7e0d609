// The CUDA runtime as Sinew uses it: the only includer of <cuda_runtime_api.h>.
//
//   SINEW_CUDA_CHECK(call, op)   every cudaError_t becomes a sinew::Error whose text is
//                                "<op> (cuda:N): <cudaGetErrorName>: <cudaGetErrorString>"
//   is_available(), device_count(), unavailable_reason(), require_device()
//                                whether CUDA can be used in this process, computed once (noexcept)
//   device_malloc, memcpy_async, stream_create, event_*, library_load_data, launch_kernel, ...
//                                the small device API the rest of the backend calls (the seam that
//                                an emulated device replaces)
//
// Only the runtime (libcudart) is used, never the driver library: a program linked with libcuda
// does not start on a machine without the NVIDIA driver, while the runtime loads the driver itself
// and reports its absence as an error code (cudaErrorInsufficientDriver, or cudaErrorStubLibrary
// when the toolkit's stub libcuda is found instead). NVRTC output is loaded with
// cudaLibraryLoadData -> cudaLibraryGetKernel and launched with cudaLaunchKernel.
//
// Nothing here keeps CUDA objects in static storage with a destructor: the runtime may already be
// torn down when static destructors run, so nothing is released at exit.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "sinew/core/device.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// ---- errors ------------------------------------------------------------------------------------

// "cudaErrorInsufficientDriver" (the runtime knows the names of all its codes, with or without a
// driver); "cudaError 12345" for a number it does not know.
inline std::string error_name(cudaError_t e) {
  const char* name = cudaGetErrorName(e);
  if (name == nullptr || std::string(name) == "unrecognized error code")
    return "cudaError " + std::to_string(static_cast<int>(e));
  return name;
}

inline std::string error_string(cudaError_t e) {
  const char* s = cudaGetErrorString(e);
  return s != nullptr ? s : "unrecognized error code";
}

namespace detail_api {

// The device that CUDA calls of this thread are about, as far as Sinew knows: set by set_device()
// (and the device guards built on it). Kept here so that the error path makes no CUDA call.
inline int& current_device_slot() noexcept {
  thread_local int device = 0;
  return device;
}

// Throws "<op> (cuda:N): <name>: <string>". Also resets the runtime's last-error state, so that a
// later cudaGetLastError() (the check after a launch) does not report this error a second time; a
// sticky error (the context is unusable) stays and is returned by every later call.
[[noreturn, gnu::cold, gnu::noinline]] inline void fail_cuda(cudaError_t e, const char* op,
                                                             int device) {
  (void)cudaGetLastError();
  std::string where = op != nullptr ? op : "CUDA";
  where += " (cuda:" + std::to_string(device) + ")";
  ::sinew::detail::fail(where, error_name(e), ": ", error_string(e));
}

}  // namespace detail_api

// Throws the sinew::Error for e unless it is cudaSuccess.
inline void check(cudaError_t e, const char* op, int device) {
  if (e != cudaSuccess) [[unlikely]]
    detail_api::fail_cuda(e, op, device);
}
inline void check(cudaError_t e, const char* op) {
  if (e != cudaSuccess) [[unlikely]]
    detail_api::fail_cuda(e, op, detail_api::current_device_slot());
}

}  // namespace sinew::backend::cuda

// SINEW_CUDA_CHECK(cudaMalloc(&p, n), "cuda::device_malloc") throws sinew::Error
// "cuda::device_malloc (cuda:N): cudaErrorMemoryAllocation: out of memory" when the call fails; N
// is this thread's current device (set_device). SINEW_CUDA_CHECK_ON names the device explicitly.
#define SINEW_CUDA_CHECK(call, op) ::sinew::backend::cuda::check((call), (op))
#define SINEW_CUDA_CHECK_ON(call, op, device) ::sinew::backend::cuda::check((call), (op), (device))

namespace sinew::backend::cuda {

// ---- availability ------------------------------------------------------------------------------

namespace detail_api {

struct Availability {
  int count = 0;
  cudaError_t error = cudaSuccess;  // what cudaGetDeviceCount returned
};

// Asked once per process (a function-local static: thread-safe initialisation). The answer cannot
// change: the errors that make CUDA unusable here are sticky in the runtime.
inline const Availability& availability() noexcept {
  static const Availability a = []() noexcept {
    Availability r;
    int n = 0;
    r.error = cudaGetDeviceCount(&n);
    if (r.error == cudaSuccess) {
      r.count = n;
    } else {
      (void)cudaGetLastError();
      r.count = 0;
    }
    return r;
  }();
  return a;
}

// What to do about an availability error, for the message.
inline std::string availability_hint(cudaError_t e) {
  switch (e) {
    case cudaErrorInsufficientDriver:
      return "is the NVIDIA driver installed? (this build uses the CUDA " +
             std::to_string(CUDART_VERSION / 1000) + "." +
             std::to_string(CUDART_VERSION % 1000 / 10) +
             " runtime, which needs a driver at least as new)";
    case cudaErrorStubLibrary:
      return "the libcuda.so.1 that was loaded is the CUDA toolkit's stub, not the NVIDIA driver: "
             "remove the toolkit's stubs folder from LD_LIBRARY_PATH";
    case cudaErrorNoDevice:
      return "the NVIDIA driver sees no CUDA device (is CUDA_VISIBLE_DEVICES set?)";
    case cudaErrorDevicesUnavailable:
      return "the CUDA devices are busy or unavailable (exclusive-process compute mode?)";
    case cudaErrorSystemDriverMismatch:
      return "the NVIDIA driver and its kernel module have different versions (reboot after a "
             "driver update?)";
    case cudaErrorCompatNotSupportedOnDevice:
      return "the CUDA forward-compatibility driver does not support this device";
    case cudaErrorCallRequiresNewerDriver:
      return "the NVIDIA driver is too old for this CUDA runtime";
    default:
      return "see the CUDA runtime's documentation of this error";
  }
}

}  // namespace detail_api

// Whether CUDA devices can be used in this process. Never throws; asks the runtime only once.
inline bool is_available() noexcept { return detail_api::availability().count > 0; }

// How many CUDA devices this process can use (0 where CUDA is not usable). Never throws.
inline int device_count() noexcept { return detail_api::availability().count; }

// The error cudaGetDeviceCount gave (cudaSuccess where CUDA is usable).
inline cudaError_t availability_error() noexcept { return detail_api::availability().error; }

// Why CUDA cannot be used, e.g. "CUDA is not usable here: cudaErrorInsufficientDriver (CUDA driver
// version is insufficient for CUDA runtime version): is the NVIDIA driver installed? ..."; empty
// where it can.
inline std::string unavailable_reason() {
  const detail_api::Availability& a = detail_api::availability();
  if (a.count > 0) return {};
  if (a.error == cudaSuccess)  // a driver that reports zero devices without an error
    return "CUDA is not usable here: the NVIDIA driver reports no CUDA device";
  return "CUDA is not usable here: " + error_name(a.error) + " (" + error_string(a.error) +
         "): " + detail_api::availability_hint(a.error);
}

// Throws sinew::Error "<op>: cuda:N requested, but <reason>" unless d is a CUDA device this process
// can use.
inline void require_device(const Device& d, const char* op) {
  SINEW_CHECK(d.is_cuda(), op, "expected a CUDA device, got ", d);
  if (!is_available()) [[unlikely]]
    ::sinew::detail::fail(op, d, " requested, but ", unavailable_reason());
  SINEW_CHECK(
      d.index() >= 0 && d.index() < device_count(), op, d,
      " requested, but the CUDA devices of this process are cuda:0 to cuda:", device_count() - 1);
}

// ---- devices -----------------------------------------------------------------------------------

// This thread's current device as Sinew last set it (0 until set_device is called).
inline int current_device() noexcept { return detail_api::current_device_slot(); }

inline void set_device(int device) {
  SINEW_CUDA_CHECK_ON(cudaSetDevice(device), "cuda::set_device", device);
  detail_api::current_device_slot() = device;
}

inline void device_synchronize() {
  SINEW_CUDA_CHECK(cudaDeviceSynchronize(), "cuda::device_synchronize");
}

// What the backend needs to know about a device (read attribute by attribute: cheaper than
// cudaGetDeviceProperties, which fills in everything).
struct DeviceInfo {
  int compute_capability = 0;  // major * 10 + minor: 90 for sm_90
  int multiprocessors = 0;
  int max_threads_per_block = 0;
  int max_shared_per_block_optin = 0;  // bytes of dynamic shared memory a kernel can opt in to
  int warp_size = 0;
};

inline DeviceInfo device_info(int device) {
  auto get = [device](cudaDeviceAttr attr) {
    int v = 0;
    SINEW_CUDA_CHECK_ON(cudaDeviceGetAttribute(&v, attr, device), "cuda::device_info", device);
    return v;
  };
  DeviceInfo info;
  info.compute_capability =
      get(cudaDevAttrComputeCapabilityMajor) * 10 + get(cudaDevAttrComputeCapabilityMinor);
  info.multiprocessors = get(cudaDevAttrMultiProcessorCount);
  info.max_threads_per_block = get(cudaDevAttrMaxThreadsPerBlock);
  info.max_shared_per_block_optin = get(cudaDevAttrMaxSharedMemoryPerBlockOptin);
  info.warp_size = get(cudaDevAttrWarpSize);
  return info;
}

inline std::string device_name(int device) {
  cudaDeviceProp prop{};
  SINEW_CUDA_CHECK_ON(cudaGetDeviceProperties(&prop, device), "cuda::device_name", device);
  return prop.name;
}

struct MemoryInfo {
  size_t free = 0;
  size_t total = 0;
};

// Free and total memory of the current device.
inline MemoryInfo memory_info() {
  MemoryInfo m;
  SINEW_CUDA_CHECK(cudaMemGetInfo(&m.free, &m.total), "cuda::memory_info");
  return m;
}

// ---- memory ------------------------------------------------------------------------------------

// Device memory of the current device. The caching allocator is the only caller: it keeps what it
// gets, so the raw calls are rare.
inline void* device_malloc(size_t bytes) {
  void* p = nullptr;
  SINEW_CUDA_CHECK(cudaMalloc(&p, bytes), "cuda::device_malloc");
  return p;
}

// The raw call, for callers that handle out-of-memory themselves (free cached blocks, retry).
inline cudaError_t device_malloc_nothrow(void** p, size_t bytes) noexcept {
  cudaError_t e = cudaMalloc(p, bytes);
  if (e != cudaSuccess) (void)cudaGetLastError();
  return e;
}

inline void device_free(void* p) { SINEW_CUDA_CHECK(cudaFree(p), "cuda::device_free"); }

// For destructors: reports nothing and never throws.
inline cudaError_t device_free_nothrow(void* p) noexcept {
  cudaError_t e = cudaFree(p);
  if (e != cudaSuccess) (void)cudaGetLastError();
  return e;
}

// Page-locked host memory (staging for copies that overlap with compute).
inline void* host_malloc_pinned(size_t bytes) {
  void* p = nullptr;
  SINEW_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocPortable), "cuda::host_malloc_pinned");
  return p;
}

inline void host_free_pinned(void* p) {
  SINEW_CUDA_CHECK(cudaFreeHost(p), "cuda::host_free_pinned");
}

inline void memcpy_async(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                         cudaStream_t stream) {
  SINEW_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream), "cuda::memcpy_async");
}

inline void memset_async(void* dst, int value, size_t bytes, cudaStream_t stream) {
  SINEW_CUDA_CHECK(cudaMemsetAsync(dst, value, bytes, stream), "cuda::memset_async");
}

// ---- streams and events ------------------------------------------------------------------------

// A stream that does not synchronise with the legacy default stream.
inline cudaStream_t stream_create(int priority = 0) {
  cudaStream_t s = nullptr;
  SINEW_CUDA_CHECK(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, priority),
                   "cuda::stream_create");
  return s;
}

inline void stream_destroy(cudaStream_t s) {
  SINEW_CUDA_CHECK(cudaStreamDestroy(s), "cuda::stream_destroy");
}

inline void stream_synchronize(cudaStream_t s) {
  SINEW_CUDA_CHECK(cudaStreamSynchronize(s), "cuda::stream_synchronize");
}

// An event for ordering (timing off, which makes record and wait cheaper) or, with timing, for
// event_elapsed_ms.
inline cudaEvent_t event_create(bool timing = false) {
  cudaEvent_t e = nullptr;
  SINEW_CUDA_CHECK(cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming),
                   "cuda::event_create");
  return e;
}

inline void event_destroy(cudaEvent_t e) {
  SINEW_CUDA_CHECK(cudaEventDestroy(e), "cuda::event_destroy");
}

inline void event_record(cudaEvent_t e, cudaStream_t s) {
  SINEW_CUDA_CHECK(cudaEventRecord(e, s), "cuda::event_record");
}

// Makes later work on s wait for e (no host wait).
inline void stream_wait_event(cudaStream_t s, cudaEvent_t e) {
  SINEW_CUDA_CHECK(cudaStreamWaitEvent(s, e, 0), "cuda::stream_wait_event");
}

inline void event_synchronize(cudaEvent_t e) {
  SINEW_CUDA_CHECK(cudaEventSynchronize(e), "cuda::event_synchronize");
}

// Whether the work before e has finished (without waiting).
inline bool event_query(cudaEvent_t e) {
  cudaError_t r = cudaEventQuery(e);
  if (r == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  SINEW_CUDA_CHECK(r, "cuda::event_query");
  return true;
}

inline float event_elapsed_ms(cudaEvent_t start, cudaEvent_t end) {
  float ms = 0;
  SINEW_CUDA_CHECK(cudaEventElapsedTime(&ms, start, end), "cuda::event_elapsed_ms");
  return ms;
}

// ---- compiled code: load, look up, launch ------------------------------------------------------

// Loads a CUBIN (or PTX, which the driver then compiles) produced by NVRTC. The library is not
// tied to a context: its kernels can be launched on any device of the process.
inline cudaLibrary_t library_load_data(const void* image) {
  cudaLibrary_t lib = nullptr;
  SINEW_CUDA_CHECK(cudaLibraryLoadData(&lib, image, nullptr, nullptr, 0, nullptr, nullptr, 0),
                   "cuda::library_load_data");
  return lib;
}

inline void library_unload(cudaLibrary_t lib) {
  SINEW_CUDA_CHECK(cudaLibraryUnload(lib), "cuda::library_unload");
}

// The kernel called lowered_name (NVRTC's lowered name of a name expression) in lib.
inline cudaKernel_t library_get_kernel(cudaLibrary_t lib, const char* lowered_name) {
  cudaKernel_t k = nullptr;
  SINEW_CUDA_CHECK(cudaLibraryGetKernel(&k, lib, lowered_name), "cuda::library_get_kernel");
  return k;
}

// Allows k more than the default 48 KiB of dynamic shared memory on device.
inline void kernel_set_max_dynamic_shared(cudaKernel_t k, int bytes, int device) {
  SINEW_CUDA_CHECK_ON(cudaKernelSetAttributeForDevice(
                          k, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes, device),
                      "cuda::kernel_set_max_dynamic_shared", device);
}

// Launches k on stream; args points at one pointer per kernel parameter, each to its value. The
// runtime takes a cudaKernel_t where it takes a kernel's address.
inline void launch_kernel(cudaKernel_t k, dim3 grid, dim3 block, void** args, size_t shared_bytes,
                          cudaStream_t stream) {
  SINEW_CUDA_CHECK(
      cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, block, args, shared_bytes, stream),
      "cuda::launch_kernel");
}

// Reports an error an earlier asynchronous call left (after a launch, with SINEW_CUDA_SYNC=1 after
// a synchronize).
inline void check_last_error(const char* op) { SINEW_CUDA_CHECK(cudaGetLastError(), op); }

// The runtime's version (13000 for CUDA 13.0); does not need a driver.
inline int runtime_version() {
  int v = 0;
  SINEW_CUDA_CHECK(cudaRuntimeGetVersion(&v), "cuda::runtime_version");
  return v;
}

}  // namespace sinew::backend::cuda
