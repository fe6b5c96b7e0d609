// The CUDA backend's gemm (backend/cuda/gemm.hpp) with the emulator's reference of the cuBLAS
// calls, against the CPU gemm: transposed and strided operands, batches with a broadcast operand,
// an output cuBLAS cannot write in place, k == 0 (C scaled by beta), alpha and beta.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"
#include "emulator_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace parity;  // NOLINT(google-build-using-namespace)

// Within a relative tolerance of the CPU's result (the sums run in another order).
template <class T>
::testing::AssertionResult close_to(const Tensor<T>& got, const Tensor<T>& cpu) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  return values_match(got, cpu, [tol](T a, T b) {
    return std::abs(double(a) - double(b)) <= tol * (1 + std::abs(double(b)));
  });
}

template <class T>
Tensor<T> values(const Shape& shape, int salt) {
  return make<T>({Layout::Contiguous, shape}, [salt](int64_t i) {
    return static_cast<T>(std::sin(0.37 * double(i) + salt) * 2);
  });
}

// Runs c = alpha a b + beta c0 on both backends from the same c0 and compares.
template <class T>
void check(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& c0, double alpha, double beta,
           const std::string& what) {
  const Tensor<T> expected = c0.clone(), got = c0.clone();
  backend::cpu::gemm(a, b, expected, alpha, beta);
  emu::gemm(a, b, got, alpha, beta);
  EXPECT_TRUE(close_to(got, expected)) << what;
}

template <class T>
void check_layouts() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  const Tensor<T> a = values<T>({5, 7}, 1), b = values<T>({7, 6}, 2), c = values<T>({5, 6}, 3);
  check(a, b, c, 1, 0, "contiguous");
  check(values<T>({7, 5}, 4).t(), b, c, 1, 0, "a transposed");
  check(a, values<T>({6, 7}, 5).t(), c, 1, 0, "b transposed");
  check(values<T>({7, 5}, 4).t(), values<T>({6, 7}, 5).t(), c, 0.5, 2,
        "both transposed, alpha, beta");
  check(a, b, values<T>({6, 5}, 6).t(), 1, 1, "c transposed");
  check(a, b, values<T>({5, 12}, 7).slice(1, 0, 12, 2), -1, 0.25, "c every other column");
  check(values<T>({5, 14}, 8).slice(1, 0, 14, 2), b, c, 1, 0, "a every other column");
  // Batches: [3, 5, 7] x [3, 7, 6], then an a broadcast over the batch (stride 0).
  check(values<T>({3, 5, 7}, 9), values<T>({3, 7, 6}, 10), values<T>({3, 5, 6}, 11), 1, 0,
        "batched");
  check(values<T>({1, 5, 7}, 12).expand({3, 5, 7}), values<T>({3, 7, 6}, 13),
        values<T>({3, 5, 6}, 14), 1, 1, "a broadcast over the batch");
  check(values<T>({2, 3, 5, 7}, 15),
        values<T>({2, 3, 7, 6}, 16).transpose(2, 3).contiguous().transpose(2, 3),
        values<T>({2, 3, 5, 6}, 17), 2, 0, "two batch dimensions");
  // k == 0: C = beta C, and beta == 0 writes zeros without reading C (which holds NaN here).
  check(values<T>({5, 0}, 18), values<T>({0, 6}, 19), c, 1, 3, "k = 0, beta 3");
  check(values<T>({5, 0}, 18), values<T>({0, 6}, 19), full<T>({5, 6}, NAN), 1, 0, "k = 0, beta 0");
  // beta == 0 ignores NaN in C.
  check(a, b, full<T>({5, 6}, NAN), 1, 0, "beta 0 over NaN");
  // Empty m.
  check(values<T>({0, 7}, 20), b, values<T>({0, 6}, 21), 1, 0, "m = 0");
}

TEST(CudaEmulatedGemm, FloatLayouts) { check_layouts<float>(); }
TEST(CudaEmulatedGemm, DoubleLayouts) { check_layouts<double>(); }

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
