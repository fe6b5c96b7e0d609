// Tests for ops/compare.hpp (the operators themselves are also covered in elementwise_test.cpp):
// the named comparisons as free functions and members, scalars on the left, isclose, isnan /
// isinf / isfinite on every element type, where with scalars of another category, errors.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Compare, NamedComparisonsWithTensorsAndScalars) {
  auto a = from_vector<float>({1, 2, 3}), b = from_vector<float>({3, 2, 1});
  EXPECT_TRUE(values_are(a.eq(b), {0, 1, 0}));
  EXPECT_TRUE(values_are(a.ne(b), {1, 0, 1}));
  EXPECT_TRUE(values_are(a.lt(b), {1, 0, 0}));
  EXPECT_TRUE(values_are(a.le(b), {1, 1, 0}));
  EXPECT_TRUE(values_are(a.gt(b), {0, 0, 1}));
  EXPECT_TRUE(values_are(a.ge(b), {0, 1, 1}));
  EXPECT_TRUE(values_are(a.eq(2), {0, 1, 0}));
  EXPECT_TRUE(values_are(a.ne(2.0), {1, 0, 1}));
  EXPECT_TRUE(values_are(a.lt(2.5), {1, 1, 0}));
  EXPECT_TRUE(values_are(a.le(2), {1, 1, 0}));
  EXPECT_TRUE(values_are(a.gt(1.5f), {0, 1, 1}));
  EXPECT_TRUE(values_are(a.ge(int64_t{3}), {0, 0, 1}));
  EXPECT_TRUE(values_are(ne(a, b), {1, 0, 1}));
  EXPECT_TRUE(values_are(lt(a, 2), {1, 0, 0}));
  EXPECT_TRUE(values_are(ge(a, b), {0, 1, 1}));
  EXPECT_TRUE(values_are(gt(a, 2), {0, 0, 1}));
  EXPECT_TRUE(values_are(le(a, 2), {1, 1, 0}));
  EXPECT_TRUE(values_are(eq(a, 3), {0, 0, 1}));
}

TEST(Compare, ScalarOnTheLeftReflects) {
  auto a = from_vector<int64_t>({1, 2, 3});
  EXPECT_TRUE(values_are(2 < a, {0, 0, 1}));
  EXPECT_TRUE(values_are(2 <= a, {0, 1, 1}));
  EXPECT_TRUE(values_are(2 > a, {1, 0, 0}));
  EXPECT_TRUE(values_are(2.5 >= a, {1, 1, 0}));
  EXPECT_TRUE(values_are(2 == a, {0, 1, 0}));
  EXPECT_TRUE(values_are(2 != a, {1, 0, 1}));
}

TEST(Compare, BroadcastAndShapeErrors) {
  auto col = from_vector<uint8_t>({1, 2}, {2, 1}), row = from_vector<uint8_t>({0, 1, 2});
  Tensor<bool> r = col.le(row);
  EXPECT_EQ(r.shape(), Shape({2, 3}));
  EXPECT_TRUE(values_are(r, {0, 1, 1, 0, 0, 1}));
  SINEW_EXPECT_ERROR(from_vector<float>({1, 2}).eq(from_vector<float>({1, 2, 3})),
                     "operator==", "[2]", "[3]");
}

TEST(Compare, IsnanIsinfIsfinite) {
  auto x = from_vector<double>({1, kInf, -kInf, kNaN, -0.0});
  EXPECT_TRUE(values_are(isnan(x), {0, 0, 0, 1, 0}));
  EXPECT_TRUE(values_are(x.isinf(), {0, 1, 1, 0, 0}));
  EXPECT_TRUE(values_are(isfinite(x), {1, 0, 0, 0, 1}));
  auto f = from_vector<float>({NAN, 3.0f}).t();  // 1-d t() is itself
  EXPECT_TRUE(values_are(f.isnan(), {1, 0}));
  EXPECT_TRUE(values_are(x.slice(0, 1, 5, 2).isfinite(), {0, 0}));  // strided: inf, nan
  // Integer and bool values are always finite.
  EXPECT_TRUE(values_are(isnan(from_vector<int64_t>({1, -1})), {0, 0}));
  EXPECT_TRUE(values_are(isinf(from_vector<uint8_t>({255})), {0}));
  EXPECT_TRUE(values_are(from_vector<bool>({true, false}).isfinite(), {1, 1}));
  EXPECT_FALSE(isnan(sinew::testing::rand_input({2})).requires_grad());
}

TEST(Compare, IscloseIsElementwiseAndNotSymmetric) {
  auto a = from_vector<double>({1, 100, 0, kInf, kNaN});
  auto b = from_vector<double>({1 + 1e-6, 100.001, 1e-9, kInf, kNaN});
  // |a - b| <= 1e-8 + 1e-5 |b|: 1e-6 <= 1.00001e-5; 1e-3 <= 1.00001e-3; 1e-9 <= 1e-8.
  EXPECT_TRUE(values_are(isclose(a, b), {1, 1, 1, 1, 0}));
  EXPECT_TRUE(values_are(a.isclose(b, 1e-5, 1e-8, true), {1, 1, 1, 1, 1}));
  EXPECT_TRUE(values_are(isclose(a, b, 0, 0), {0, 0, 0, 1, 0}));  // only equal values
  // rtol scales |b|: 10 is within 50% of 20, but 20 is not within 50% of 10.
  auto ten = from_vector<double>({10}), twenty = from_vector<double>({20});
  EXPECT_TRUE(isclose(ten, twenty, 0.5, 0).item());
  EXPECT_FALSE(isclose(twenty, ten, 0.5, 0).item());
  // Broadcast: [1, 2] against [[1], [2]].
  Tensor<bool> m = isclose(from_vector<float>({1, 2}), from_vector<float>({1, 2}, {2, 1}));
  EXPECT_EQ(m.shape(), Shape({2, 2}));
  EXPECT_TRUE(values_are(m, {1, 0, 0, 1}));
  EXPECT_TRUE(
      values_are(isclose(from_vector<int64_t>({1, 2}), from_vector<int64_t>({1, 3})), {1, 0}));
  SINEW_EXPECT_ERROR(isclose(ten, ten, -1), "isclose", "rtol", "-1");
  SINEW_EXPECT_ERROR(isclose(ten, ten, 0, -2), "isclose", "atol", "-2");
  SINEW_EXPECT_ERROR(isclose(from_vector<double>({1, 2}), from_vector<double>({1, 2, 3})),
                     "isclose", "[2]", "[3]");
}

TEST(Where, ScalarOperandsPromoteAsArithmetic) {
  auto cond = from_vector<bool>({true, false, true});
  auto i = from_vector<int64_t>({7, -2, 3});
  Tensor<float> f = where(cond, i, 2.5);
  EXPECT_TRUE(values_are(f, {7, 2.5, 3}));
  Tensor<int64_t> k = where(cond, 2, i);
  EXPECT_TRUE(values_are(k, {2, -2, 2}));
  Tensor<int64_t> from_bool = where(cond, from_vector<bool>({true, true, false}), -3);
  EXPECT_TRUE(values_are(from_bool, {1, -3, 0}));
  Tensor<uint8_t> wrapped = where(cond, from_vector<uint8_t>({1, 2, 3}), -3);  // 253, as PyTorch
  EXPECT_TRUE(values_are(wrapped, {1, 253, 3}));
  Tensor<double> d = where(cond, from_vector<double>({1, 2, 3}), 0);
  EXPECT_TRUE(values_are(d, {1, 0, 3}));
  SINEW_EXPECT_ERROR(where(cond, from_vector<uint8_t>({1, 2, 3}), 256), "where", "256", "overflow");
  SINEW_EXPECT_ERROR(where(cond, from_vector<uint8_t>({1, 2, 3}), -256), "where", "-256");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
