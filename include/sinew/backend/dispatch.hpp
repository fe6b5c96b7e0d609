// The one seam between ops and backends: SINEW_DISPATCH(device, kernel, args...) calls
// backend::cpu::kernel or backend::cuda::kernel by the device. A kernel missing on a backend
// fails to build, never falls back silently.
#pragma once

#include "sinew/core/device.hpp"

#ifdef SINEW_WITH_CUDA
#define SINEW_DISPATCH(device, kernel, ...)                       \
  ((device).is_cpu() ? ::sinew::backend::cpu::kernel(__VA_ARGS__) \
                     : ::sinew::backend::cuda::kernel(__VA_ARGS__))
#else
#define SINEW_DISPATCH(device, kernel, ...)         \
  ((device).is_cpu()                                \
       ? ::sinew::backend::cpu::kernel(__VA_ARGS__) \
       : (::sinew::no_cuda(#kernel, (device)), ::sinew::backend::cpu::kernel(__VA_ARGS__)))
#endif
