// Per-device state of the CUDA backend: the device's compute stream, the "poisoned" flag set after
// a sticky (asynchronous) fault, a guard that switches this thread's current device, and
// synchronize().
//
//   compute_stream(device)        the one non-blocking stream every Sinew op on the device is
//                                 ordered on; created at first use, after require_device
//   mark_poisoned(device, reason) records that the device's context is unusable; from then on
//   check_not_poisoned(device, op)  raises at once, pointing at SINEW_CUDA_SYNC=1
//   check_on_device(e, op, device)  SINEW_CUDA_CHECK_ON that also marks the device poisoned when
//                                 e is a sticky error
//   DeviceGuard                   sets the current device for a scope and restores it
//   synchronize(device)           waits for the compute stream; reports (and records) a fault,
//                                 then what a kernel's data check found (backend/cuda/checks.hpp)
//   check_record(device)          the device's CheckRecord a checking kernel writes, and
//   expect_check(device, op, dim) the tag of such a launch
//
// The state of a device is created at its first use with new and never destroyed: no CUDA call
// runs from a static destructor (the runtime may already be torn down then). The state of up to
// kMaxDevices devices is kept in a fixed table of atomic pointers, so finding it takes no lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "sinew/backend/cuda/api.hpp"
#include "sinew/backend/cuda/checks.hpp"
#include "sinew/core/device.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// Device indices Sinew keeps state for (more than any single machine has).
inline constexpr int kMaxDevices = 64;

// Errors after which the CUDA context of the device is unusable: every later call on it returns
// the same error, and the process would need to restart to use the device again.
inline bool is_sticky_error(cudaError_t e) noexcept {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchFailure:
    case cudaErrorTensorMemoryLeak:
    case cudaErrorECCUncorrectable:
      return true;
    default:
      return false;
  }
}

// Whether SINEW_CUDA_SYNC is set to something other than "" or "0": then every launch is followed
// by a synchronize and an error check, so an asynchronous fault is reported by the op that caused
// it. Read once per process.
inline bool sync_after_launch() noexcept {
  static const bool on = [] {
    const char* v = std::getenv("SINEW_CUDA_SYNC");
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
  }();
  return on;
}

// Whether float GEMMs may use TF32 tensor cores (off by default: true FP32, as on the CPU).
inline std::atomic<bool>& allow_tf32_flag() noexcept {
  static std::atomic<bool> on{false};
  return on;
}

namespace detail_device {

struct DeviceState {
  explicit DeviceState(int i) : index(i) {}
  const int index;
  std::mutex mutex;               // guards stream creation and poison_reason
  cudaStream_t stream = nullptr;  // the compute stream, once created
  std::atomic<bool> poisoned{false};
  std::string poison_reason;            // the first reason given
  CheckRecord* check_record = nullptr;  // pinned host memory, once a checking kernel needs it
  CheckLog checks;
};

inline std::array<std::atomic<DeviceState*>, kMaxDevices>& state_table() noexcept {
  static std::array<std::atomic<DeviceState*>, kMaxDevices> table{};
  return table;
}

inline std::mutex& creation_mutex() noexcept {
  static std::mutex* m = new std::mutex;
  return *m;
}

}  // namespace detail_device

// The state of device, nullptr where nothing has created it yet (or device is out of range).
// Creates nothing and makes no CUDA call.
inline detail_device::DeviceState* find_device_state(int device) noexcept {
  if (device < 0 || device >= kMaxDevices) return nullptr;
  return detail_device::state_table()[static_cast<std::size_t>(device)].load(
      std::memory_order_acquire);
}

// The state of device, created (host memory only, no CUDA call) at the first request.
inline detail_device::DeviceState& device_state(int device) {
  SINEW_CHECK(device >= 0 && device < kMaxDevices, "cuda::device_state", "device index ", device,
              " is out of range (Sinew supports cuda:0 to cuda:", kMaxDevices - 1, ")");
  if (detail_device::DeviceState* s = find_device_state(device)) return *s;
  std::lock_guard<std::mutex> lock(detail_device::creation_mutex());
  auto& slot = detail_device::state_table()[static_cast<std::size_t>(device)];
  detail_device::DeviceState* s = slot.load(std::memory_order_acquire);
  if (s == nullptr) {
    s = new detail_device::DeviceState(device);  // never deleted (see the top of this file)
    slot.store(s, std::memory_order_release);
  }
  return *s;
}

// ---- poisoning ---------------------------------------------------------------------------------

// Records that device can no longer be used (a sticky fault: illegal address, device-side assert,
// ...). Only the first reason is kept. Never throws (called on error paths).
inline void mark_poisoned(int device, const std::string& reason) noexcept {
  try {
    detail_device::DeviceState& s = device_state(device);
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.poisoned.load(std::memory_order_relaxed)) s.poison_reason = reason;
    s.poisoned.store(true, std::memory_order_release);
  } catch (...) {
    // An out-of-range index or no memory for the reason: there is nothing to record it in.
  }
}

inline bool is_poisoned(int device) noexcept {
  const detail_device::DeviceState* s = find_device_state(device);
  return s != nullptr && s->poisoned.load(std::memory_order_acquire);
}

// Throws "<op> (cuda:N): the device is unusable after an earlier asynchronous error (<reason>)
// ..." where mark_poisoned was called for device; a single atomic load otherwise.
inline void check_not_poisoned(int device, const char* op) {
  if (!is_poisoned(device)) [[likely]]
    return;
  detail_device::DeviceState& s = *find_device_state(device);
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    reason = s.poison_reason;
  }
  ::sinew::detail::fail(
      std::string(op != nullptr ? op : "CUDA") + " (cuda:" + std::to_string(device) + ")",
      "the device is unusable after an earlier asynchronous error (", reason,
      "); every later operation on it fails. The op that caused the error ran "
      "before this one: run with SINEW_CUDA_SYNC=1 to synchronize and check "
      "after every launch, so that the error names it");
}

// As SINEW_CUDA_CHECK_ON, and a sticky error also marks device poisoned first.
inline void check_on_device(cudaError_t e, const char* op, int device) {
  if (e == cudaSuccess) [[likely]]
    return;
  if (is_sticky_error(e))
    mark_poisoned(device, std::string(op != nullptr ? op : "CUDA") + ": " + error_name(e) + ": " +
                              error_string(e));
  detail_api::fail_cuda(e, op, device);
}

// ---- current device ----------------------------------------------------------------------------

// Makes device this thread's current device for the guard's scope, and restores the device that
// was current before (as Sinew recorded it: current_device()). No CUDA call is made when the device
// is already current. The constructor throws where the device cannot be set (nothing changes
// then); the destructor never throws.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) : original_(current_device()) {
    if (device != original_) set_device(device);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;
  ~DeviceGuard() {
    if (current_device() == original_) return;
    if (cudaSetDevice(original_) == cudaSuccess) {
      detail_api::current_device_slot() = original_;
    } else {
      (void)cudaGetLastError();
    }
  }
  // The device that was current when the guard was made (and is restored at its end).
  int original_device() const noexcept { return original_; }

 private:
  int original_;
};

// ---- the compute stream ------------------------------------------------------------------------

// The non-blocking stream every Sinew op on device is ordered on; created at the first call (after
// require_device, so that on a machine without a usable driver the error names the reason).
inline cudaStream_t compute_stream(int device) {
  require_device(Device::cuda(device), "cuda::compute_stream");
  detail_device::DeviceState& s = device_state(device);
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.stream == nullptr) {
    DeviceGuard guard(device);
    s.stream = stream_create();  // never destroyed
  }
  return s.stream;
}

// The stream's id for the caching allocator (blocks are tied to the stream they were made for).
inline std::uintptr_t stream_id(cudaStream_t s) noexcept {
  return reinterpret_cast<std::uintptr_t>(s);
}

// ---- kernel data checks ------------------------------------------------------------------------

// The record the data-checking kernels of device write (pinned host memory, which kernels see at
// the same address under unified addressing); allocated at the first request, never freed.
inline CheckRecord* check_record(int device) {
  detail_device::DeviceState& s = device_state(device);
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.check_record == nullptr) {
    void* p = host_malloc_pinned(sizeof(CheckRecord));
    s.check_record = new (p) CheckRecord{};
  }
  return s.check_record;
}

// The tag of a launch of op on device that checks indices into dimension dim.
inline uint64_t expect_check(int device, const char* op, int64_t dim) {
  return device_state(device).checks.expect(op, dim);
}

// After the host waited for device: raises what a checking kernel recorded, if anything.
inline void raise_kernel_checks(int device, const char* where) {
  detail_device::DeviceState* s = find_device_state(device);
  if (s == nullptr) return;
  CheckRecord* record;
  {
    std::lock_guard<std::mutex> lock(s->mutex);
    record = s->check_record;
  }
  if (record != nullptr) s->checks.raise_recorded(*record, device, where);
}

// Waits until all work on device's compute stream has finished. An asynchronous fault shows here:
// it is raised as sinew::Error, and a sticky one marks the device poisoned. Raises at once on a
// poisoned device.
inline void synchronize(int device) {
  require_device(Device::cuda(device), "cuda::synchronize");
  check_not_poisoned(device, "cuda::synchronize");
  cudaStream_t stream = compute_stream(device);
  DeviceGuard guard(device);
  check_on_device(cudaStreamSynchronize(stream), "cuda::synchronize", device);
  raise_kernel_checks(device, "cuda::synchronize");
}

}  // namespace sinew::backend::cuda
