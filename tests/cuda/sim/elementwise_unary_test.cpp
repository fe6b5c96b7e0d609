// Every Unary kind of kernels/elementwise.cuh on the emulator against backend::cpu::unary_op, on
// the same inputs: float and double (tests/cuda/sim/elementwise_unary_int_test.cpp has the integer
// types). The host-compiled kernel calls the same libm functions as the CPU kernel, so results
// must agree bit for bit.
#include <gtest/gtest.h>

#include <sinew/sinew.hpp>

#include "emulator_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using backend::Unary;
using namespace parity;

// The scalar parameters each kind is tested with (slopes, bounds, scalars).
std::pair<double, double> params(Unary op) {
  switch (op) {
    case Unary::LeakyRelu:
      return {0.1, 0};
    case Unary::Elu:
      return {1.3, 0};
    case Unary::Softplus:
      return {2.0, 20.0};  // beta, threshold
    case Unary::ClampMin:
      return {-0.5, 0};
    case Unary::ClampMax:
      return {0.5, 0};
    case Unary::Clamp:
      return {-1.0, 2.0};
    case Unary::PowScalar:
      return {2.5, 0};
    case Unary::RPowScalar:
      return {1.5, 0};
    case Unary::Step:
      return {0.3, 0};
    case Unary::InRange:
      return {-1.0, 1.0};
    case Unary::LeakyStep:
      return {0.01, 0};
    default:
      return {1.7, -0.3};
  }
}

template <Unary OP, class T>
void check_unary() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  // Named copies, not a structured binding: the lambda below uses them (clang 14).
  const std::pair<double, double> ab = params(OP);
  const double a = ab.first, b = ab.second;
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(describe(c.x) + " -> " + describe(c.out));
    const Tensor<T> x = make_input<T>(c.x, 0);
    const Tensor<T> expected = make_output<T>(c.out);
    backend::cpu::unary_op<OP>(x, expected, a, b);
    for_each_launch([&](const std::string& label) {
      const Tensor<T> out = make_output<T>(c.out);
      emu::unary_op<OP>(x, out, a, b);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

#define SINEW_UNARY_TEST(name)          \
  TEST(CudaEmulatedUnary, name) {       \
    check_unary<Unary::name, float>();  \
    check_unary<Unary::name, double>(); \
  }
SINEW_UNARY_KINDS(SINEW_UNARY_TEST)
#undef SINEW_UNARY_TEST

TEST(CudaEmulatedUnary, PicksTheFlatVectorKernelForContiguousFloats) {
  const Tensor<float> x = make_input<float>({Layout::Contiguous, {257}}, 0);
  const Tensor<float> out = zeros<float>({257});
  emu::unary_op<Unary::Exp>(x, out);
  EXPECT_EQ(emu::last_kernel(), "sinew::unary_flat<float, 1, sinew::int32_t, 4>");
  const Tensor<double> t = make_input<double>({Layout::Transposed, {6, 5}}, 0);
  const Tensor<double> o = zeros<double>({6, 5});
  emu::unary_op<Unary::Neg>(t, o);
  EXPECT_EQ(emu::last_kernel(), "sinew::unary_strided<double, 0, sinew::int32_t>");
}

TEST(CudaEmulatedUnary, RoundsHalfToEvenAndKeepsNaN) {
  // Hand-checked values, independent of the CPU kernel.
  const Tensor<float> x = from_vector<float>({0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 3.5f, NAN});
  const Tensor<float> out = zeros<float>({7});
  emu::unary_op<Unary::Round>(x, out);
  const std::vector<float> r = out.to_vector();
  EXPECT_EQ(r[0], 0.f);
  EXPECT_EQ(r[1], 2.f);
  EXPECT_EQ(r[2], 2.f);
  EXPECT_TRUE(std::signbit(r[3]) && r[3] == 0.f);
  EXPECT_EQ(r[4], -2.f);
  EXPECT_EQ(r[5], 4.f);
  EXPECT_TRUE(std::isnan(r[6]));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
