// backend/descriptors.hpp: the dimension mask reductions and flip hand to kernels, and the ops'
// rank limit that keeps it exact.
#include <gtest/gtest.h>

#include "sinew/backend/descriptors.hpp"
#include "sinew/sinew.hpp"
#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using backend::DimMask;

TEST(DimMask, ReadsLikeAVectorOfBool) {
  DimMask none(5, false), all(5, true);
  EXPECT_EQ(none.size(), 5u);
  for (int d = 0; d < 5; ++d) {
    EXPECT_FALSE(none[d]);
    EXPECT_TRUE(all[d]);
  }
  EXPECT_FALSE(all[5]);  // bits past the rank stay clear
  EXPECT_EQ(all.bits(), 0b11111u);
  none.set(3);
  none.set(int64_t{0});
  EXPECT_EQ(none.bits(), 0b1001u);
  none.set(3, false);
  EXPECT_EQ(none.bits(), 0b1u);
  EXPECT_TRUE(none.any());
  EXPECT_FALSE(DimMask(0, true).any());
}

TEST(DimMask, CoversSixtyFourDimensions) {
  DimMask all(64, true);
  EXPECT_EQ(all.bits(), ~uint64_t{0});
  EXPECT_TRUE(all[63]);
  DimMask m(64, false);
  m.set(63);
  EXPECT_TRUE(m[63]);
  EXPECT_FALSE(m[62]);
  EXPECT_EQ(m.bits(), uint64_t{1} << 63);
}

// The mask holds 64 dimensions; a reduction or flip over more raises instead of dropping bits.
TEST(DimMask, OpsRejectMoreThanSixtyFourDimensions) {
  Tensor<float> ok = ones<float>(Shape(std::vector<int64_t>(64, 1)));
  EXPECT_FLOAT_EQ(sum(ok).item(), 1.0f);
  EXPECT_FLOAT_EQ(sum(ok, {63}).reshape({1}).item(), 1.0f);
  EXPECT_EQ(flip(ok, {0, 63}).shape(), ok.shape());
  Tensor<float> big = ones<float>(Shape(std::vector<int64_t>(65, 1)));
  SINEW_EXPECT_ERROR(sum(big), "sum", "65 dimensions", "at most 64");
  SINEW_EXPECT_ERROR(amax(big, {0}), "65 dimensions");
  SINEW_EXPECT_ERROR(flip(big, {0}), "flip", "more than 64");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
