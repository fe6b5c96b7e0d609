// The data checks of emulated kernels (SINEW_CUDA_EMULATED_KERNELS): one check record and log
// per emulated device, as checks.hpp keeps per GPU, and the synchronization point that raises
// what a checking kernel recorded. Used by launch.hpp's emulated launches and by the emulated
// device (emulated_device.hpp).
#pragma once

#include "sinew/backend/cuda/checks.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

namespace detail_launch {
struct EmulatedChecks {
  CheckRecord record;
  CheckLog log;
};
inline EmulatedChecks& emulated_checks(int device) {
  static EmulatedChecks* devices = new EmulatedChecks[8];  // never destroyed, as on a GPU
  SINEW_CHECK(device >= 0 && device < 8, "cuda::launch", "emulated device ", device,
              " is out of range");
  return devices[device];
}
}  // namespace detail_launch

// The emulated device's synchronization point: raises what a checking kernel recorded.
inline void raise_emulated_checks(int device, const char* where) {
  detail_launch::EmulatedChecks& c = detail_launch::emulated_checks(device);
  c.log.raise_recorded(c.record, device, where);
}

}  // namespace sinew::backend::cuda
