// Every Binary kind of kernels/elementwise.cuh on the emulator against backend::cpu::binary_op:
// float, double, int64 and uint8 (integer Div excepted: the ops divide integers in float), alpha
// 1 and not, contiguous, misaligned, strided, transposed, permuted and broadcast operands.
#include <gtest/gtest.h>

#include <sinew/sinew.hpp>

#include "emulator_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using backend::Binary;
using namespace parity;

template <Binary OP, class T, class P>
void check_binary(P alpha) {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>() << ", alpha " << alpha);
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(describe(c.x) + ", " + describe(c.y) + " -> " + describe(c.out));
    const Tensor<T> x = make_input<T>(c.x, 0), y = make_input<T>(c.y, 1);
    const Tensor<T> expected = make_output<T>(c.out);
    backend::cpu::binary_op<OP>(x, y, expected, alpha);
    for_each_launch([&](const std::string& label) {
      const Tensor<T> out = make_output<T>(c.out);
      emu::binary_op<OP>(x, y, out, alpha);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

template <Binary OP>
void check_all_types() {
  check_binary<OP, float>(1.0);
  check_binary<OP, double>(1.0);
  if constexpr (OP == Binary::Add || OP == Binary::Sub) {
    check_binary<OP, float>(-2.5);
    check_binary<OP, double>(0.3);
  }
  if constexpr (OP != Binary::Div) {
    check_binary<OP, int64_t>(int64_t{1});
    check_binary<OP, uint8_t>(int64_t{1});
    if constexpr (OP == Binary::Add || OP == Binary::Sub) {
      check_binary<OP, int64_t>(int64_t{-3});
      check_binary<OP, uint8_t>(-1.0);  // 255 through int64
    }
  }
}

#define SINEW_BINARY_TEST(name) \
  TEST(CudaEmulatedBinary, name) { check_all_types<Binary::name>(); }
SINEW_BINARY_KINDS(SINEW_BINARY_TEST)
#undef SINEW_BINARY_TEST

TEST(CudaEmulatedBinary, MinimumAndMaximumPropagateNaN) {
  // Hand-checked: NaN from either side wins, as torch.minimum / torch.maximum.
  const Tensor<float> x = from_vector<float>({NAN, 1.f, 2.f, -0.f});
  const Tensor<float> y = from_vector<float>({1.f, NAN, 3.f, 0.f});
  const Tensor<float> lo = zeros<float>({4}), hi = zeros<float>({4});
  emu::binary_op<Binary::Minimum>(x, y, lo);
  emu::binary_op<Binary::Maximum>(x, y, hi);
  const std::vector<float> l = lo.to_vector(), h = hi.to_vector();
  EXPECT_TRUE(std::isnan(l[0]) && std::isnan(l[1]) && std::isnan(h[0]) && std::isnan(h[1]));
  EXPECT_EQ(l[2], 2.f);
  EXPECT_EQ(h[2], 3.f);
}

TEST(CudaEmulatedBinary, BroadcastColumnTimesRow) {
  const Tensor<double> c = from_vector<double>({1, 2, 3}, {3, 1});
  const Tensor<double> r = from_vector<double>({10, 20, 30, 40}, {1, 4});
  const Tensor<double> out = zeros<double>({3, 4});
  emu::binary_op<Binary::Mul>(c, r, out);
  EXPECT_EQ(out.to_vector(),
            (std::vector<double>{10, 20, 30, 40, 20, 40, 60, 80, 30, 60, 90, 120}));
  EXPECT_EQ(emu::last_kernel(), "sinew::binary_strided<double, 2, sinew::int32_t>");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
