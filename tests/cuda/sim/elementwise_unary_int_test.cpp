// The Unary kinds integer tensors have, on the emulator against backend::cpu::unary_op: int64 and
// uint8, wrapping arithmetic, integer pow, scalars given as int64 and as double (through int64).
#include <gtest/gtest.h>

#include <sinew/sinew.hpp>

#include "emulator_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using backend::Unary;
using namespace parity;

template <Unary OP, class T, class P>
void check_integer_unary(P a, P b) {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>() << ", a " << a << ", b " << b);
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

template <Unary OP>
void check_integer_kinds() {
  if constexpr (backend::cpu::detail_ew::has_integer_unary(OP)) {
    check_integer_unary<OP, int64_t>(int64_t{3}, int64_t{7});
    check_integer_unary<OP, int64_t>(int64_t{-5}, int64_t{2});
    check_integer_unary<OP, uint8_t>(int64_t{3}, int64_t{200});
    check_integer_unary<OP, uint8_t>(-1.0, 2.9);  // -1 wraps to 255, 2.9 truncates to 2
  }
}

#define SINEW_UNARY_TEST(name) \
  TEST(CudaEmulatedIntegerUnary, name) { check_integer_kinds<Unary::name>(); }
SINEW_UNARY_KINDS(SINEW_UNARY_TEST)
#undef SINEW_UNARY_TEST

TEST(CudaEmulatedIntegerUnary, PowWrapsAndNegativeExponentsTruncate) {
  // Hand-worked: 3^40 mod 2^64, (-1)^-3 = -1, 2^-1 = 0, 1^-5 = 1.
  const Tensor<int64_t> x = from_vector<int64_t>({3, -1, 2, 1});
  const Tensor<int64_t> e = from_vector<int64_t>({40, -3, -1, -5});
  const Tensor<int64_t> out = zeros<int64_t>({4});
  emu::binary_op<backend::Binary::Pow>(x, e, out);
  uint64_t p = 1;
  for (int i = 0; i < 40; ++i) p *= 3;
  EXPECT_EQ(out.to_vector(), (std::vector<int64_t>{static_cast<int64_t>(p), -1, 0, 1}));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
