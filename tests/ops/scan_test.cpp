// Tests for ops/scan.hpp, backend/cpu/scan.hpp and the all/any kernel of backend/cpu/reduce.hpp:
// cumsum and cumprod (hand values along every dimension, strided inputs, gradcheck and
// gradgradcheck, also with zeros for cumprod), all and any, allclose and equal, errors.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::grad_ok;
using sinew::testing::gradgrad_ok;
using sinew::testing::rand_input;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor<double> iota234() { return arange<double>(24).reshape({2, 3, 4}); }

// ---- cumsum ------------------------------------------------------------------------------------

TEST(Cumsum, AlongEachDimensionMatchesHandValues) {
  auto x = arange<double>(6).reshape({2, 3});  // [[0, 1, 2], [3, 4, 5]]
  EXPECT_TRUE(values_are(cumsum(x, 0), {0, 1, 2, 3, 5, 7}));
  EXPECT_TRUE(values_are(cumsum(x, 1), {0, 1, 3, 3, 7, 12}));
  EXPECT_TRUE(values_are(x.cumsum(-1), {0, 1, 3, 3, 7, 12}));
  EXPECT_EQ(cumsum(x, 0).shape(), x.shape());
  // The middle dimension of [2, 3, 4]: element [i, j, k] = sum over j' <= j of 12 i + 4 j' + k.
  auto y = cumsum(iota234(), 1);
  EXPECT_EQ(y.at({0, 2, 1}), 1.0 + 5 + 9);
  EXPECT_EQ(y.at({1, 1, 3}), 15.0 + 19);
  EXPECT_EQ(y.at({1, 2, 0}), 12.0 + 16 + 20);
}

TEST(Cumsum, StridedInputsAndWideRows) {
  auto x = iota234();
  auto t = x.transpose(0, 2);  // [4, 3, 2], non-contiguous
  EXPECT_TRUE(all_close(cumsum(t, 1), cumsum(t.contiguous(), 1), 0, 0));
  EXPECT_TRUE(all_close(cumsum(t, 2), cumsum(t.contiguous(), 2), 0, 0));
  // More than one block of columns (64) along a leading dimension.
  auto w = ones<float>({3, 130});
  auto c = cumsum(w, 0);
  EXPECT_EQ(c.at({2, 129}), 3.0f);
  EXPECT_EQ(c.at({1, 64}), 2.0f);
}

TEST(Cumsum, FloatAccumulatesInDoubleAsPyTorch) {
  // torch.cumsum(torch.tensor([1e8, 1, -1e8, 1]), 0) = [1e8, 1e8, 1, 2] (float32 steps give 0, 1).
  auto c = cumsum(from_vector<float>({1e8f, 1, -1e8f, 1}), 0);
  EXPECT_TRUE(values_are(c, {1e8, 1e8, 1, 2}));
}

TEST(Cumsum, IntegerAndBoolGiveInt64) {
  Tensor<int64_t> b = cumsum(from_vector<bool>({true, false, true, true}), 0);
  EXPECT_TRUE(values_are(b, {1, 1, 2, 3}));
  Tensor<int64_t> u = from_vector<uint8_t>({250, 3, 0, 10}).cumsum(0);
  EXPECT_TRUE(values_are(u, {250, 253, 253, 263}));
  Tensor<int64_t> i = cumsum(from_vector<int64_t>({1, 2, 3, 4}, {2, 2}), -1);
  EXPECT_TRUE(values_are(i, {1, 3, 3, 7}));
}

TEST(Cumsum, ZeroDimAndEmptyTensors) {
  auto s = scalar_tensor<double>(3.5);
  EXPECT_TRUE(values_are(cumsum(s, 0), {3.5}));
  EXPECT_EQ(cumsum(s, -1).dim(), 0);
  EXPECT_EQ(cumsum(zeros<double>({2, 0}), 1).shape(), Shape({2, 0}));
  EXPECT_EQ(cumprod(zeros<double>({0, 3}), 1).shape(), Shape({0, 3}));
}

TEST(Cumsum, GradientIsTheReverseCumsum) {
  auto x = rand_input({3});
  cumsum(x, 0).backward(from_vector<double>({1, 10, 100}));
  EXPECT_TRUE(values_are(x.grad(), {111, 110, 100}));
  EXPECT_TRUE(grad_ok([](auto& in) { return cumsum(in[0], 1); }, {rand_input({2, 3, 2}, 1)}));
  EXPECT_TRUE(grad_ok([](auto& in) { return cumsum(in[0].t(), 0); }, {rand_input({3, 4}, 2)}));
  EXPECT_TRUE(grad_ok([](auto& in) { return cumsum(in[0], 0); }, {rand_input({}, 3)}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return cumsum(in[0] * in[0], 0); }, {rand_input({4}, 4)}));
}

TEST(Cumsum, RejectsADimensionOutOfRange) {
  SINEW_EXPECT_ERROR(cumsum(zeros<double>({2, 3}), 2), "cumsum", "dimension 2", "out of range");
  SINEW_EXPECT_ERROR(cumsum(scalar_tensor<double>(1), 1), "cumsum", "dimension 1");
  SINEW_EXPECT_ERROR(cumprod(zeros<float>({2}), -2), "cumprod", "dimension -2");
}

// ---- cumprod -----------------------------------------------------------------------------------

TEST(Cumprod, MatchesHandValues) {
  auto x = from_vector<double>({1, 2, 0, 3, 2, -1, 4, 0.5}, {2, 4});
  EXPECT_TRUE(values_are(cumprod(x, 1), {1, 2, 0, 0, 2, -2, -8, -4}));
  EXPECT_TRUE(values_are(x.cumprod(0), {1, 2, 0, 3, 2, -2, 0, 1.5}));
  Tensor<int64_t> b = cumprod(from_vector<bool>({true, true, false, true, true}), 0);
  EXPECT_TRUE(values_are(b, {1, 1, 0, 0, 0}));
  Tensor<int64_t> u = cumprod(from_vector<uint8_t>({250, 3, 2}), 0);  // no uint8 wrap
  EXPECT_TRUE(values_are(u, {250, 750, 1500}));
  // int64 overflow wraps, as PyTorch: 2^40 * 2^40 = 2^80 = 0 mod 2^64.
  auto big = from_vector<int64_t>({int64_t{1} << 40, int64_t{1} << 40});
  EXPECT_EQ(cumprod(big, 0).at({1}), 0);
}

TEST(Cumprod, GradientWithoutZeros) {
  // y = [a, ab, abc]; dL/da = g0 + g1 b + g2 bc, dL/db = g1 a + g2 ac, dL/dc = g2 ab.
  auto x = from_vector<double>({2, 3, 5}).requires_grad_();
  cumprod(x, 0).backward(from_vector<double>({1, 10, 100}));
  EXPECT_TRUE(values_are(x.grad(), {1 + 30 + 1500, 20 + 1000, 600}, 1e-9));
  EXPECT_TRUE(grad_ok([](auto& in) { return cumprod(in[0], 1); }, {rand_input({2, 4}, 5, 0.5, 2)}));
  EXPECT_TRUE(
      gradgrad_ok([](auto& in) { return cumprod(in[0], 0); }, {rand_input({4, 2}, 6, 0.5, 2)}));
}

TEST(Cumprod, GradientIsExactWithZeros) {
  // x = [2, 0, 3, 0, 5]: y = [2, 0, 0, 0, 0]. With g = 1: dL/dx0 = 1 (only y0 has no zero),
  // dL/dx1 = 2 + 2*3 + 0 + 0 = 8 (the products that skip x1), dL/dx2.. = 0, except that x3 (the
  // second zero) gets nothing because each of its products holds x1 = 0.
  auto x = from_vector<double>({2, 0, 3, 0, 5}).requires_grad_();
  cumprod(x, 0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1, 8, 0, 0, 0}));
  // One zero: x = [2, 3, 0, 4]: y = [2, 6, 0, 0]; dL/dx2 = 6 + 6*4 = 30, dL/dx3 = 0,
  // dL/dx0 = 1 + 3 = 4, dL/dx1 = 2.
  auto z = from_vector<double>({2, 3, 0, 4}).requires_grad_();
  cumprod(z, 0).sum().backward();
  EXPECT_TRUE(values_are(z.grad(), {4, 2, 30, 0}));
  auto with_zeros = [](uint64_t seed) {
    Tensor<double> t = rand_input({3, 4}, seed, 0.5, 2).detach();
    t.set({0, 1}, 0);
    t.set({1, 0}, 0);
    t.set({1, 2}, 0);
    t.set({2, 3}, 0);
    return t.requires_grad_();
  };
  EXPECT_TRUE(grad_ok([](auto& in) { return cumprod(in[0], 1); }, {with_zeros(7)}));
  EXPECT_TRUE(grad_ok([](auto& in) { return cumprod(in[0], 0); }, {with_zeros(8)}));
  // Under create_graph the backward takes the differentiable form, so second derivatives through
  // the zeros are exact too.
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return cumprod(in[0], 1); }, {with_zeros(9)}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return cumprod(in[0], 0); }, {with_zeros(10)}));
}

// ---- all, any ----------------------------------------------------------------------------------

TEST(AllAny, WholeTensorAndPerDimension) {
  auto x = from_vector<double>({1, 2, 0, 3, -1, 4}, {2, 3});
  Tensor<bool> a = all(x);
  EXPECT_FALSE(a.item());
  EXPECT_EQ(a.dim(), 0);
  EXPECT_TRUE(any(x).item());
  EXPECT_TRUE(values_are(all(x, 1), {0, 1}));
  EXPECT_TRUE(values_are(x.all(0), {1, 1, 0}));
  EXPECT_TRUE(values_are(any(x - x, 1), {0, 0}));
  EXPECT_EQ(x.any(-1, true).shape(), Shape({2, 1}));
  EXPECT_EQ(all(x, 0, true).shape(), Shape({1, 3}));
  EXPECT_TRUE(values_are(all(x.t(), 1), {1, 1, 0}));  // strided
}

TEST(AllAny, EveryElementType) {
  EXPECT_TRUE(all(from_vector<int64_t>({7, -2, 3})).item());
  EXPECT_FALSE(all(from_vector<uint8_t>({250, 3, 0})).item());
  EXPECT_TRUE(any(from_vector<uint8_t>({0, 0, 1})).item());
  EXPECT_FALSE(any(from_vector<bool>({false, false})).item());
  EXPECT_TRUE(all(from_vector<bool>({true, true})).item());
  EXPECT_TRUE(all(from_vector<double>({kNaN, kInf})).item());  // NaN is non-zero, as PyTorch
  EXPECT_TRUE(any(from_vector<double>({0, kNaN})).item());
  EXPECT_FALSE(all(scalar_tensor<float>(0), 0).item());
}

TEST(AllAny, OverNothingAllIsTrueAndAnyFalse) {
  EXPECT_TRUE(all(zeros<float>({0})).item());
  EXPECT_FALSE(any(zeros<float>({0})).item());
  EXPECT_TRUE(values_are(all(zeros<float>({2, 0}), 1), {1, 1}));
  EXPECT_EQ(any(zeros<float>({2, 0}), 0).shape(), Shape({0}));
}

TEST(AllAny, LongRowsAndBlocks) {
  auto x = ones<float>({3, 1000});
  x.set({1, 999}, 0);
  EXPECT_TRUE(values_are(all(x, 1), {1, 0, 1}));
  EXPECT_TRUE(values_are(any(x - 1.0f, 1), {0, 1, 0}));
  EXPECT_FALSE(all(x).item());
}

TEST(AllAny, RejectsADimensionOutOfRange) {
  SINEW_EXPECT_ERROR(all(zeros<float>({2, 3}), 2), "all", "dimension 2", "[2, 3]");
  SINEW_EXPECT_ERROR(any(scalar_tensor<float>(1), 1), "any", "dimension 1");
}

// ---- allclose, equal ---------------------------------------------------------------------------

TEST(Allclose, ToleranceNanAndInfinityAsPyTorch) {
  auto a = from_vector<double>({1, 2, 3});
  EXPECT_TRUE(allclose(a, a + 1e-9));
  EXPECT_FALSE(allclose(a, a + 1e-3));
  EXPECT_TRUE(a.allclose(a + 1e-3, 1e-3));    // rtol: 1e-3 <= 1e-8 + 1e-3 * |b|
  EXPECT_TRUE(allclose(a, a + 0.5, 0, 0.5));  // atol alone
  EXPECT_FALSE(allclose(a, a + 0.6, 0, 0.5));
  auto n = from_vector<double>({1, kNaN});
  EXPECT_FALSE(allclose(n, n));
  EXPECT_TRUE(allclose(n, n, 1e-5, 1e-8, true));
  auto inf = from_vector<double>({kInf, -kInf});
  EXPECT_TRUE(allclose(inf, inf));
  EXPECT_FALSE(allclose(inf, from_vector<double>({kInf, kInf})));
  EXPECT_FALSE(allclose(from_vector<double>({1e300}), from_vector<double>({kInf}), 1, 1));
  // Broadcasting, as torch.allclose: [1, 2] against [[1, 2], [1, 2]].
  EXPECT_TRUE(allclose(from_vector<float>({1, 2}), from_vector<float>({1, 2, 1, 2}, {2, 2})));
  // Integers: |7 - 8| = 1 <= atol.
  EXPECT_TRUE(allclose(from_vector<int64_t>({7}), from_vector<int64_t>({8}), 0, 1));
  EXPECT_FALSE(allclose(from_vector<int64_t>({7}), from_vector<int64_t>({8})));
  EXPECT_TRUE(allclose(from_vector<bool>({true}), from_vector<bool>({true})));
}

TEST(Allclose, RejectsNegativeTolerancesAndShapesThatDoNotBroadcast) {
  auto a = from_vector<double>({1, 2});
  SINEW_EXPECT_ERROR(allclose(a, a, -1), "allclose", "rtol", "-1");
  SINEW_EXPECT_ERROR(allclose(a, a, 1e-5, -0.5), "allclose", "atol", "-0.5");
  SINEW_EXPECT_ERROR(allclose(a, from_vector<double>({1, 2, 3})), "allclose", "[2]", "[3]");
}

TEST(Equal, SameShapeAndValues) {
  auto a = from_vector<double>({1, 2, 3, 4}, {2, 2});
  EXPECT_TRUE(equal(a, a.clone()));
  EXPECT_TRUE(a.equal(a.t().t()));
  EXPECT_FALSE(equal(a, a.t()));           // same shape, other values
  EXPECT_FALSE(equal(a, a.reshape({4})));  // other shape: no broadcasting
  EXPECT_FALSE(equal(from_vector<float>({1, 2}), from_vector<float>({1, 2}, {1, 2})));
  auto n = from_vector<double>({kNaN});
  EXPECT_FALSE(equal(n, n));  // NaN equals nothing
  EXPECT_TRUE(equal(from_vector<uint8_t>({1, 250}), from_vector<uint8_t>({1, 250})));
  EXPECT_TRUE(equal(zeros<float>({0}), zeros<float>({0})));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
