// The op-level CPU-vs-CUDA parity suite's shared part. In the emulated-device build
// (SINEW_CUDA_EMULATED_DEVICE, ctest label cuda-emulated) Device::cuda(0) is host memory and every
// kernel runs on the fiber emulator, so the suite runs in CI without a GPU; the same files built
// against the CUDA runtime run it on a real device (label cuda_device).
//
// same_on_cuda(f, inputs, tolerance) runs f on the inputs on the CPU and on copies of them on
// cuda:0, and compares the results (which must be on cuda:0) and, where the result is floating and
// requires grad, the inputs' gradients of sum(result * w) for a fixed random w.
#pragma once

#ifdef SINEW_CUDA_EMULATED_DEVICE
// The emulator and the kernel sources as host code come before Sinew's headers.
#include "sim/emulator_kernels.hpp"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <sinew/sinew.hpp>

#include "test_util.hpp"

// Skips the test where no CUDA device is usable (the device build on a machine without a GPU).
#define SINEW_NEEDS_CUDA()                                                       \
  do {                                                                           \
    if (!::sinew::cuda::is_available()) GTEST_SKIP() << "no usable CUDA device"; \
  } while (0)

namespace sinew::device_parity {

inline const Device kCuda = Device::cuda(0);

using TF = Tensor<float>;
using TD = Tensor<double>;
using TI = Tensor<int64_t>;
using Fs = std::vector<TF>;
using Ds = std::vector<TD>;

// |cuda - cpu| <= atol + rtol |cpu| per element; {0, 0}: the same bits (NaN equals NaN).
struct Tolerance {
  double atol = 0;
  double rtol = 0;
};
inline constexpr Tolerance kExact{0, 0};
// Reductions and anything else that may add in another order.
template <class T>
constexpr Tolerance reordered() {
  if constexpr (std::is_same_v<T, double>)
    return {1e-13, 1e-12};
  else
    return {1e-6, 1e-5};
}

template <class U>
::testing::AssertionResult same_values(const Tensor<U>& cpu, const Tensor<U>& cuda, Tolerance tol,
                                       const std::string& what) {
  if (!cuda.defined() || !cpu.defined())
    return ::testing::AssertionFailure() << what << ": a result is undefined";
  if (cuda.device() != kCuda)
    return ::testing::AssertionFailure()
           << what << ": the CUDA run's result is on " << cuda.device() << ", not " << kCuda;
  if (cpu.shape() != cuda.shape())
    return ::testing::AssertionFailure()
           << what << ": shapes differ: cpu " << cpu.shape() << ", cuda " << cuda.shape();
  const std::vector<U> a = cpu.to_vector(), b = cuda.to_vector();
  for (size_t i = 0; i < a.size(); ++i) {
    bool ok;
    if constexpr (std::is_floating_point_v<U>) {
      const double x = a[i], y = b[i];
      if (tol.atol == 0 && tol.rtol == 0)
        ok = (std::isnan(x) && std::isnan(y)) || (x == y && std::signbit(x) == std::signbit(y));
      else
        ok = (std::isnan(x) && std::isnan(y)) || x == y ||
             std::abs(x - y) <= tol.atol + tol.rtol * std::abs(x);
    } else {
      ok = a[i] == b[i];
    }
    if (!ok) {
      std::ostringstream os;
      os.precision(17);
      os << what << ": element " << i << " of " << a.size() << " (shape " << cpu.shape()
         << "): cpu " << +a[i] << ", cuda " << +b[i];
      return ::testing::AssertionFailure() << os.str();
    }
  }
  return ::testing::AssertionSuccess();
}

// Runs f (vector<Tensor<T>> -> Tensor<U>) on the CPU inputs and on their copies on cuda:0 (inputs
// that require grad are copied as leaves that require grad) and compares; then, for a floating
// result that requires grad, the gradients. grad_tol defaults to tol.
template <class T, class F>
::testing::AssertionResult same_on_cuda(F&& f, const std::vector<Tensor<T>>& inputs,
                                        Tolerance tol = kExact,
                                        std::optional<Tolerance> grad_tol = std::nullopt) {
  std::vector<Tensor<T>> on_cpu, on_cuda;
  for (const Tensor<T>& x : inputs) {
    Tensor<T> c = x.detach().clone(), d = x.detach().to(kCuda);
    if constexpr (is_floating_dtype_v<T>) {
      if (x.requires_grad()) {
        c.requires_grad_();
        d.requires_grad_();
      }
    }
    on_cpu.push_back(c);
    on_cuda.push_back(d);
  }
  const auto y_cpu = f(on_cpu);
  const auto y_cuda = f(on_cuda);
  using U = typename std::decay_t<decltype(y_cpu)>::value_type;
  if (auto r = same_values<U>(y_cpu, y_cuda, tol, "forward"); !r) return r;
  if constexpr (is_floating_dtype_v<U>) {
    if (y_cpu.requires_grad() && y_cpu.numel() > 0) {
      Generator g(1234);
      const Tensor<U> w = rand<U>(y_cpu.shape(), g) * 2 - 1;
      (y_cpu * w).sum().backward();
      (y_cuda * w.to(kCuda)).sum().backward();
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (!on_cpu[i].requires_grad()) continue;
        const Tensor<T> ga = on_cpu[i].grad(), gb = on_cuda[i].grad();
        if (!ga.defined() && !gb.defined()) continue;
        if (ga.defined() != gb.defined())
          return ::testing::AssertionFailure() << "gradient of input " << i << " defined on one "
                                               << "device only";
        if (auto r = same_values<T>(ga, gb, grad_tol.value_or(tol),
                                    "gradient of input " + std::to_string(i));
            !r)
          return r;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// A float tensor that requires grad, values in [lo, hi) from a fixed seed.
inline Tensor<float> input(const Shape& shape, uint64_t seed = 0, double lo = -1, double hi = 1) {
  return testing::rand_input(shape, seed, lo, hi).detach().to<float>().requires_grad_();
}

}  // namespace sinew::device_parity
