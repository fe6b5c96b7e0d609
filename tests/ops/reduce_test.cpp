// Tests for ops/reduce.hpp and backend/cpu/reduce.hpp: values against hand-computed numbers,
// keepdim shapes, strided inputs, ties and NaN, gradcheck (and gradgradcheck) in double, errors.
#include <algorithm>
#include <cmath>
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

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <class T = double>
Tensor<T> vals(std::vector<T> v, const Shape& s) {
  return from_vector<T>(v, s);
}

Tensor<double> grad_input(std::vector<double> v, const Shape& s) {
  return vals(v, s).requires_grad_();
}

// 0, 1, ..., 23 as [2, 3, 4].
Tensor<double> iota234() { return arange<double>(24).reshape({2, 3, 4}); }

// d(sum(w * f(x)))/dx for a fixed weight w, through backward().
Tensor<double> grad_of(const Tensor<double>& x, const Tensor<double>& y) {
  y.sum().backward();
  return x.grad();
}

// ---- sum, mean
// ------------------------------------------------------------------------------------

TEST(Reduce, SumOverDimsMatchesHandComputed) {
  auto x = iota234();
  EXPECT_TRUE(values_are(sum(x), {276}));
  EXPECT_EQ(sum(x).dim(), 0);
  // Over dim 1: [0+4+8, 1+5+9, ...] for each of the two blocks.
  EXPECT_TRUE(values_are(sum(x, {1}), {12, 15, 18, 21, 48, 51, 54, 57}));
  EXPECT_EQ(sum(x, {1}).shape(), (Shape{2, 4}));
  EXPECT_EQ(sum(x, {1}, true).shape(), (Shape{2, 1, 4}));
  EXPECT_TRUE(values_are(sum(x, {0, 2}), {60, 92, 124}));
  EXPECT_EQ(sum(x, {-1, 0}, true).shape(), (Shape{1, 3, 1}));
  EXPECT_TRUE(values_are(x.sum({2}), {6, 22, 38, 54, 70, 86}));
}

TEST(Reduce, MeanOverDims) {
  auto x = iota234();
  EXPECT_TRUE(values_are(mean(x), {11.5}));
  EXPECT_TRUE(values_are(mean(x, {2}), {1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
  EXPECT_EQ(x.mean({0}, true).shape(), (Shape{1, 3, 4}));
}

TEST(Reduce, SumReadsTransposedAndSlicedInputs) {
  auto x = iota234();
  auto t = x.transpose(0, 2);  // [4, 3, 2], non-contiguous
  EXPECT_TRUE(values_are(sum(t, {2}), {12, 20, 28, 14, 22, 30, 16, 24, 32, 18, 26, 34}));
  auto s = x.slice(2, 1, 4, 2);  // columns 1 and 3
  EXPECT_TRUE(values_are(sum(s, {1}), {1 + 5 + 9, 3 + 7 + 11, 13 + 17 + 21, 15 + 19 + 23}));
}

TEST(Reduce, ZeroDimTensorAcceptsDimZero) {
  auto s = scalar_tensor<double>(3.5);
  EXPECT_TRUE(values_are(sum(s, {0}), {3.5}));
  EXPECT_TRUE(values_are(sum(s, {-1}, true), {3.5}));
  EXPECT_EQ(sum(s, {0}).dim(), 0);
  EXPECT_TRUE(values_are(amax(s, {0}), {3.5}));
  auto [v, i] = max(s, 0);
  EXPECT_TRUE(values_are(v, {3.5}));
  EXPECT_TRUE(values_are(i, {0}));
  EXPECT_TRUE(values_are(softmax(s, 0), {1}));
  EXPECT_TRUE(values_are(log_softmax(s, -1), {0}));
}

TEST(Reduce, SumOfEmptyIsZeroAndMeanIsNaN) {
  auto e = zeros<double>({0, 3});
  EXPECT_TRUE(values_are(sum(e, {0}), {0, 0, 0}));
  EXPECT_TRUE(std::isnan(mean(e).item()));
  EXPECT_EQ(sum(e, {1}).shape(), (Shape{0}));
}

TEST(Reduce, SumAndMeanGradcheck) {
  auto x = rand_input({2, 3, 4});
  EXPECT_TRUE(grad_ok([](auto& in) { return sum(in[0], {1}); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return sum(in[0], {0, 2}, true); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return mean(in[0], {-1}); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return mean(in[0].transpose(0, 2), {0}); }, {x}));
}

// ---- prod
// -----------------------------------------------------------------------------------------

TEST(Reduce, ProdValues) {
  auto x = vals({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(values_are(prod(x), {720}));
  EXPECT_TRUE(values_are(prod(x, {1}), {6, 120}));
  EXPECT_TRUE(values_are(prod(x, {0}, true), {4, 10, 18}));
  EXPECT_EQ(prod(x, {0}, true).shape(), (Shape{1, 3}));
  EXPECT_TRUE(values_are(x.t().prod({1}), {4, 10, 18}));
  EXPECT_TRUE(values_are(prod(zeros<double>({0})), {1}));
  EXPECT_TRUE(values_are(prod(vals<int64_t>({2, 3, 7}, {3})), {42}));
}

TEST(Reduce, ProdGradientHandlesZeros) {
  // One zero: only the zero gets a gradient (the product of the others).
  auto x = grad_input({2, 0, 3, 4}, {4});
  EXPECT_TRUE(values_are(grad_of(x, prod(x)), {0, 24, 0, 0}));
  // Two zeros: every gradient is 0, none is NaN.
  auto y = grad_input({0, 5, 0}, {3});
  EXPECT_TRUE(values_are(grad_of(y, prod(y)), {0, 0, 0}));
}

TEST(Reduce, ProdGradcheckWithAndWithoutZeros) {
  auto x = rand_input({3, 4}, 1, 0.5, 1.5);
  EXPECT_TRUE(grad_ok([](auto& in) { return prod(in[0], {1}); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return prod(in[0]); }, {rand_input({2, 3}, 2, 0.5, 1.5)}));
  // Rows with no, one, two and three zeros.
  auto z = grad_input({1.5, -0.7, 0.9, 1.2,  //
                       0.0, 1.1, -1.3, 0.8,  //
                       0.0, 0.6, 0.0, 1.4,   //
                       0.0, 0.0, 2.0, 0.0},
                      {4, 4});
  EXPECT_TRUE(grad_ok([](auto& in) { return prod(in[0], {1}); }, {z}));
  EXPECT_TRUE(grad_ok([](auto& in) { return prod(in[0].t(), {0}, true); }, {z}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return prod(in[0], {1}); }, {z}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return prod(in[0], {1}); }, {x}));
}

// ---- max, min, amax, amin, argmax, argmin
// ----------------------------------------------------------

TEST(Reduce, FullMaxMinAreZeroDim) {
  auto x = vals({3, -1, 7, 2, 7, 0}, {2, 3});
  EXPECT_EQ(max(x).dim(), 0);
  EXPECT_TRUE(values_are(max(x), {7}));
  EXPECT_TRUE(values_are(min(x), {-1}));
  EXPECT_TRUE(values_are(x.t().max(), {7}));
  EXPECT_TRUE(values_are(max(vals<int64_t>({4, 9, -2}, {3})), {9}));
  EXPECT_TRUE(values_are(min(vals<float>({4, 9, -2}, {3})), {-2}));
}

// Rows long enough for the vectorized loop (OpenMP's max lanes start at the lowest finite value,
// not at -inf): a row of -inf has max -inf, a row of +inf min +inf, as PyTorch; softmax of a row
// of -inf is NaN (exp(-inf - -inf)).
TEST(Reduce, MaxMinOfInfiniteRowsAreInfinite) {
  for (int64_t n : {3, 64}) {
    const auto lo = full<double>({2, n}, -kInf), hi = full<double>({2, n}, kInf);
    EXPECT_EQ(max(lo).item(), -kInf) << n;
    EXPECT_EQ(amax(lo, {1}).at({1}), -kInf) << n;
    EXPECT_EQ(min(hi).item(), kInf) << n;
    EXPECT_EQ(amin(full<float>({n}, kInf), {0}).item(), std::numeric_limits<float>::infinity())
        << n;
    const auto s = softmax(lo, 1), ls = log_softmax(lo, 1);
    for (int64_t k = 0; k < n; ++k) {
      EXPECT_TRUE(std::isnan(s.at({0, k}))) << n;
      EXPECT_TRUE(std::isnan(ls.at({1, k}))) << n;
    }
  }
}

TEST(Reduce, FullMaxSplitsGradientAmongTies) {
  auto x = grad_input({1, 3, 3, 2}, {4});
  EXPECT_TRUE(values_are(grad_of(x, max(x)), {0, 0.5, 0.5, 0}));
  auto y = grad_input({1, -2, -2, -2}, {2, 2});
  EXPECT_TRUE(values_are(grad_of(y, y.min() * 3.0), {0, 1, 1, 1}));
}

TEST(Reduce, MaxAlongDimReturnsValuesAndFirstIndices) {
  auto x = vals({1, 5, 3, 7, 2, 7}, {2, 3});
  auto [v, i] = max(x, 1);
  EXPECT_TRUE(values_are(v, {5, 7}));
  EXPECT_TRUE(values_are(i, {1, 0}));  // the tie 7, 7 gives the first index
  EXPECT_EQ(v.shape(), (Shape{2}));
  auto [vk, ik] = x.max(1, true);
  EXPECT_EQ(vk.shape(), (Shape{2, 1}));
  EXPECT_EQ(ik.shape(), (Shape{2, 1}));
  auto [v0, i0] = max(x, 0);
  EXPECT_TRUE(values_are(v0, {7, 5, 7}));
  EXPECT_TRUE(values_are(i0, {1, 0, 1}));
  auto [mv, mi] = min(x, -1);
  EXPECT_TRUE(values_are(mv, {1, 2}));
  EXPECT_TRUE(values_are(mi, {0, 1}));
  auto [tv, ti] = x.t().min(0);  // strided
  EXPECT_TRUE(values_are(tv, {1, 2}));
  EXPECT_TRUE(values_are(ti, {0, 1}));
}

TEST(Reduce, MaxAlongDimSendsGradientToTheSelectedIndex) {
  auto x = grad_input({1, 5, 3, 7, 2, 7}, {2, 3});
  auto r = max(x, 1);
  EXPECT_TRUE(values_are(grad_of(x, r.values * vals({1.0, 2.0}, {2})), {0, 1, 0, 2, 0, 0}));
  EXPECT_TRUE(grad_ok([](auto& in) { return max(in[0], 1).values; }, {rand_input({3, 4})}));
  EXPECT_TRUE(
      grad_ok([](auto& in) { return min(in[0], 0, true).values; }, {rand_input({3, 4}, 3)}));
  EXPECT_TRUE(grad_ok([](auto& in) { return max(in[0], 1).values; }, {rand_input({2, 3, 4}, 4)}));
  EXPECT_TRUE(grad_ok([](auto& in) { return min(in[0].transpose(0, 2), 2).values; },
                      {rand_input({2, 3, 4}, 5)}));
}

TEST(Reduce, AmaxAminOverDims) {
  auto x = iota234();
  EXPECT_TRUE(values_are(amax(x, {1}), {8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_TRUE(values_are(amin(x, {0, 2}), {0, 4, 8}));
  EXPECT_EQ(x.amax({0, 2}, true).shape(), (Shape{1, 3, 1}));
  EXPECT_TRUE(values_are(x.amin(), {0}));
  EXPECT_TRUE(grad_ok([](auto& in) { return amax(in[0], {0, 2}); }, {rand_input({2, 3, 4}, 6)}));
  EXPECT_TRUE(grad_ok([](auto& in) { return amin(in[0], {1}, true); }, {rand_input({3, 4}, 7)}));
  EXPECT_TRUE(grad_ok([](auto& in) { return max(in[0]); }, {rand_input({3, 4}, 8)}));
  // Ties within a row share the gradient.
  auto t = grad_input({2, 2, 1, 0, 4, 4}, {2, 3});
  EXPECT_TRUE(values_are(grad_of(t, amax(t, {1})), {0.5, 0.5, 0, 0, 0.5, 0.5}));
}

TEST(Reduce, ArgmaxArgminFirstOccurrence) {
  auto x = vals({3, 9, 1, 9, 1, 0}, {2, 3});
  EXPECT_EQ(argmax(x).item(), 1);
  EXPECT_EQ(argmax(x).dim(), 0);
  EXPECT_EQ(argmin(x).item(), 5);
  EXPECT_EQ(x.argmax().item(), 1);
  EXPECT_TRUE(values_are(argmax(x, 1), {1, 0}));
  EXPECT_TRUE(values_are(argmin(x, 0), {0, 1, 1}));
  EXPECT_EQ(x.argmax(1, true).shape(), (Shape{2, 1}));
  EXPECT_TRUE(values_are(x.argmin(-1), {2, 2}));
  EXPECT_EQ(argmax(x.t()).item(),
            1);  // flattened in the view's row-major order: [3, 9, 9, 1, 1, 0]
  EXPECT_EQ(argmax(vals<int64_t>({5, 8, 8}, {3})).item(), 1);
  EXPECT_EQ(argmax(full<float>({4}, 2.0)).item(), 0);
}

TEST(Reduce, NaNPropagatesAndIsSelectedFirst) {
  auto x = vals({1, kNaN, 3, kNaN}, {4});
  EXPECT_TRUE(std::isnan(max(x).item()));
  EXPECT_TRUE(std::isnan(min(x).item()));
  EXPECT_EQ(argmax(x).item(), 1);
  EXPECT_EQ(argmin(x).item(), 1);
  auto [v, i] = max(vals({1, 2, kNaN, 5, 6, 7}, {2, 3}), 1);
  EXPECT_TRUE(std::isnan(v.at({0})));
  EXPECT_EQ(v.at({1}), 7);
  EXPECT_TRUE(values_are(i, {2, 2}));
  EXPECT_TRUE(std::isnan(amax(vals<float>({1, NAN, 3}, {3})).item()));
}

// ---- var, std
// -------------------------------------------------------------------------------------

TEST(Reduce, VarStdValues) {
  auto x = vals({1, 2, 3, 4}, {4});
  EXPECT_TRUE(values_are(var(x), {5.0 / 3.0}, 1e-12));
  EXPECT_TRUE(values_are(var(x, {}, false), {1.25}, 1e-12));
  EXPECT_TRUE(values_are(sinew::std(x), {std::sqrt(5.0 / 3.0)}, 1e-12));
  EXPECT_TRUE(values_are(x.std({0}, false), {std::sqrt(1.25)}, 1e-12));
  auto m = vals({1, 3, 2, 2, 0, 10}, {3, 2});
  EXPECT_TRUE(values_are(var(m, {1}), {2, 0, 50}, 1e-12));
  EXPECT_TRUE(values_are(var(m, {0}, false, true), {2.0 / 3.0, 38.0 / 3.0}, 1e-9));
  EXPECT_EQ(var(m, {0}, false, true).shape(), (Shape{1, 2}));
  EXPECT_TRUE(values_are(m.t().var({0}), {2, 0, 50}, 1e-12));
  EXPECT_TRUE(values_are(var(vals<float>({1, 2, 3, 4}, {4})), {5.0 / 3.0}, 1e-6));
  EXPECT_TRUE(std::isnan(var(vals({7.0}, {1})).item()));  // N - 1 = 0
  EXPECT_TRUE(values_are(var(vals({7.0}, {1}), {}, false), {0}));
}

TEST(Reduce, VarIsAccurateForLargeOffsets) {
  auto x = vals<float>({1e4f + 1, 1e4f + 2, 1e4f + 3, 1e4f + 4}, {4});
  EXPECT_TRUE(values_are(var(x), {5.0 / 3.0}, 1e-5));
}

TEST(Reduce, VarStdGradcheck) {
  auto x = rand_input({2, 3, 4}, 9);
  EXPECT_TRUE(grad_ok([](auto& in) { return var(in[0], {1}); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return var(in[0], {0, 2}, false, true); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return sinew::std(in[0], {-1}); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return sinew::std(in[0].transpose(1, 2)); }, {x}));
  EXPECT_TRUE(
      gradgrad_ok([](auto& in) { return sinew::std(in[0], {1}); }, {rand_input({3, 4}, 10)}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return var(in[0], {0}); }, {rand_input({3, 4}, 11)}));
}

TEST(Reduce, StdOfConstantHasZeroGradient) {
  auto x = grad_input({2, 2, 2}, {3});
  EXPECT_TRUE(values_are(grad_of(x, sinew::std(x)), {0, 0, 0}));
}

// ---- norm
// -----------------------------------------------------------------------------------------

TEST(Reduce, NormValues) {
  auto x = vals({3, -4, 0}, {3});
  EXPECT_TRUE(values_are(norm(x), {5}, 1e-12));
  EXPECT_TRUE(values_are(norm(x, 1), {7}, 1e-12));
  EXPECT_TRUE(values_are(norm(x, kInf), {4}));
  EXPECT_TRUE(values_are(norm(x, -kInf), {0}));
  EXPECT_TRUE(values_are(norm(x, 0), {2}));
  EXPECT_TRUE(values_are(norm(x, 3), {std::cbrt(91.0)}, 1e-12));
  EXPECT_TRUE(values_are(x.norm(0.5), {std::pow(std::sqrt(3.0) + 2.0, 2.0)}, 1e-12));
  auto m = vals({3, 4, 6, 8}, {2, 2});
  EXPECT_TRUE(values_are(norm(m, 2, {1}), {5, 10}, 1e-12));
  EXPECT_TRUE(values_are(norm(m.t(), 1, {0}, true), {7, 14}, 1e-12));
  EXPECT_EQ(norm(m, 1, {0}, true).shape(), (Shape{1, 2}));
  EXPECT_TRUE(values_are(norm(zeros<double>({0})), {0}));
}

TEST(Reduce, NormGradcheck) {
  auto x = rand_input({3, 4}, 12);
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, kInf, -kInf}) {
    EXPECT_TRUE(grad_ok([p](auto& in) { return norm(in[0], p, {1}); }, {x})) << "p = " << p;
    EXPECT_TRUE(grad_ok([p](auto& in) { return norm(in[0], p); }, {x})) << "p = " << p;
  }
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        return norm(in[0], 2, {0, 2}, true);
      },
      {rand_input({2, 3, 4}, 13)}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return norm(in[0], 2, {1}); }, {x}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return norm(in[0], 3, {0}); }, {x}));
}

TEST(Reduce, NormGradientAtZeroIsZero) {
  auto x = grad_input({0, 0, 0}, {3});
  EXPECT_TRUE(values_are(grad_of(x, norm(x)), {0, 0, 0}));
  auto y = grad_input({0, 0, 1, 2}, {2, 2});
  EXPECT_TRUE(values_are(grad_of(y, norm(y, 2, {1})),
                         {0, 0, 1 / std::sqrt(5.0), 2 / std::sqrt(5.0)}, 1e-12));
  auto z = grad_input({0, 0}, {2});
  EXPECT_TRUE(values_are(grad_of(z, norm(z, 3)), {0, 0}));
  auto w = grad_input({0, 1}, {2});
  EXPECT_TRUE(values_are(grad_of(w, norm(w, 0)), {0, 0}));
}

// ---- logsumexp
// ------------------------------------------------------------------------------------

TEST(Reduce, LogsumexpIsStable) {
  auto x = vals({1000, 1000, -1000, -1000}, {2, 2});
  EXPECT_TRUE(values_are(logsumexp(x, {1}), {1000 + std::log(2.0), -1000 + std::log(2.0)}, 1e-9));
  EXPECT_TRUE(values_are(logsumexp(vals({0, 0, 0}, {3})), {std::log(3.0)}, 1e-12));
  EXPECT_TRUE(values_are(logsumexp(vals<float>({1000, 1001}, {2})),
                         {1001 + std::log1p(std::exp(-1.0))}, 1e-3));
  EXPECT_EQ(logsumexp(vals({-kInf, -kInf}, {2})).item(), -kInf);
  EXPECT_EQ(logsumexp(vals({1, kInf}, {2})).item(), kInf);
  EXPECT_EQ(logsumexp(zeros<double>({0})).item(), -kInf);
  EXPECT_EQ(x.logsumexp({0}, true).shape(), (Shape{1, 2}));
}

TEST(Reduce, LogsumexpGradcheck) {
  auto x = rand_input({2, 3, 4}, 14, -3, 3);
  EXPECT_TRUE(grad_ok([](auto& in) { return logsumexp(in[0], {1}); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return logsumexp(in[0], {0, 2}, true); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return logsumexp(in[0].transpose(0, 1)); }, {x}));
  EXPECT_TRUE(
      gradgrad_ok([](auto& in) { return logsumexp(in[0], {1}); }, {rand_input({3, 4}, 15)}));
}

// ---- softmax, log_softmax
// -------------------------------------------------------------------------

TEST(Softmax, ValuesAreStableForLargeInputs) {
  const double e = std::exp(1.0);
  auto x = vals({1000, 1001, -1000, -1001}, {2, 2});
  EXPECT_TRUE(
      values_are(softmax(x, 1), {1 / (1 + e), e / (1 + e), e / (1 + e), 1 / (1 + e)}, 1e-12));
  const double l = std::log1p(std::exp(-1.0));
  EXPECT_TRUE(values_are(log_softmax(x, 1), {-1 - l, -l, -l, -1 - l}, 1e-9));
  auto xf = vals<float>({1000, 1001}, {2});
  EXPECT_TRUE(values_are(softmax(xf, 0), {1 / (1 + e), e / (1 + e)}, 1e-6));
  EXPECT_TRUE(values_are(log_softmax(xf, -1), {-1 - l, -l}, 1e-4));
  // Along dim 0 (the strided path).
  EXPECT_TRUE(values_are(softmax(x, 0), {1, 1, 0, 0}, 1e-12));
}

TEST(Softmax, MatchesComposedFormulaOnEveryPath) {
  auto composed = [](const Tensor<double>& x, int64_t d) {
    auto z = exp(x - amax(x, {d}, true));
    return z / sum(z, {d}, true);
  };
  Generator g(3);
  // Last dim (rows), middle and first dims with fewer and more than one block of columns.
  for (const Shape& s : {Shape{3, 5}, Shape{2, 3, 4}, Shape{2, 3, 130}, Shape{1, 1}}) {
    auto x = randn<double>(s, g) * 3.0;
    for (int64_t d = 0; d < x.dim(); ++d) {
      EXPECT_TRUE(all_close(softmax(x, d), composed(x, d), 1e-12)) << s << " dim " << d;
      EXPECT_TRUE(all_close(log_softmax(x, d), log(composed(x, d)), 1e-10)) << s << " dim " << d;
    }
  }
  auto y = randn<double>({4, 3, 5}, g);
  auto t = y.permute({2, 0, 1});  // non-contiguous
  EXPECT_TRUE(all_close(softmax(t, 1), composed(t, 1), 1e-12));
  EXPECT_TRUE(all_close(t.log_softmax(-1), log(composed(t, 2)), 1e-10));
  EXPECT_TRUE(all_close(y.slice(2, 0, 5, 2).softmax(2), composed(y.slice(2, 0, 5, 2), 2), 1e-12));
}

TEST(Softmax, FloatRowsSumToOne) {
  Generator g(5);
  auto x = randn<float>({64, 100}, g) * 10.0;
  auto s = sum(softmax(x, 1), {1});
  EXPECT_TRUE(all_close(s, ones<float>({64}), 1e-5));
  EXPECT_TRUE(all_close(sum(exp(log_softmax(x, 1)), {1}), ones<float>({64}), 1e-5));
}

TEST(Softmax, NaNAndInfiniteRows) {
  auto x = vals({1, kNaN, 0, -kInf, 0, -kInf}, {3, 2});
  auto y = softmax(x, 1);
  EXPECT_TRUE(std::isnan(y.at({0, 0})) && std::isnan(y.at({0, 1})));
  EXPECT_TRUE(values_are(y.slice(0, 1, 3), {1, 0, 1, 0}));
  auto l = log_softmax(x, 1);
  EXPECT_EQ(l.at({1, 0}), 0);
  EXPECT_EQ(l.at({1, 1}), -kInf);
}

TEST(Softmax, Gradcheck) {
  auto a = rand_input({3, 4}, 16, -2, 2);
  auto b = rand_input({2, 3, 4}, 17, -2, 2);
  for (int64_t d : {0, 1, -1}) {
    EXPECT_TRUE(grad_ok([d](auto& in) { return softmax(in[0], d); }, {a})) << d;
    EXPECT_TRUE(grad_ok([d](auto& in) { return log_softmax(in[0], d); }, {a})) << d;
  }
  for (int64_t d : {0, 1, 2}) {
    EXPECT_TRUE(grad_ok([d](auto& in) { return softmax(in[0], d); }, {b})) << d;
    EXPECT_TRUE(grad_ok([d](auto& in) { return log_softmax(in[0].transpose(0, 2), d); }, {b})) << d;
  }
}

TEST(Softmax, IsTwiceDifferentiable) {
  auto a = rand_input({3, 4}, 18, -2, 2);
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return softmax(in[0], 1); }, {a}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return log_softmax(in[0], 0); }, {a}));
  EXPECT_TRUE(
      gradgrad_ok([](auto& in) { return log_softmax(in[0], -1); }, {rand_input({2, 3, 2}, 19)}));
}

// ---- larger inputs: threaded, blocked and strided kernel paths against a naive reference
// ----------

// The values of each output's region (outputs row-major over the kept dims, values in row-major
// order), gathered naively from x's elements.
template <class T>
std::vector<std::vector<double>> regions(const Tensor<T>& x, const Shape& dims) {
  auto v = x.to_vector();
  std::vector<bool> red(static_cast<size_t>(x.dim()), dims.empty());
  for (int64_t d : dims) red[static_cast<size_t>(d < 0 ? d + x.dim() : d)] = true;
  int64_t outputs = 1;
  for (int64_t d = 0; d < x.dim(); ++d) outputs *= red[d] ? 1 : x.size(d);
  std::vector<std::vector<double>> buckets(static_cast<size_t>(outputs));
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rest = i, o = 0, mul = 1;
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      int64_t id = rest % x.size(d);
      rest /= x.size(d);
      if (!red[d]) {
        o += id * mul;
        mul *= x.size(d);
      }
    }
    buckets[static_cast<size_t>(o)].push_back(double(v[static_cast<size_t>(i)]));
  }
  return buckets;
}

template <class F>
std::vector<double> each(const std::vector<std::vector<double>>& buckets, F f) {
  std::vector<double> out;
  for (const auto& b : buckets) out.push_back(f(b));
  return out;
}

template <class T>
::testing::AssertionResult near(const Tensor<T>& got, const std::vector<double>& want,
                                double rtol) {
  auto g = got.to_vector();
  if (g.size() != want.size())
    return ::testing::AssertionFailure() << g.size() << " vs " << want.size();
  for (size_t i = 0; i < g.size(); ++i) {
    if (!(std::abs(double(g[i]) - want[i]) <= rtol * (1 + std::abs(want[i])))) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << double(g[i]) << " vs " << want[i];
    }
  }
  return ::testing::AssertionSuccess();
}

double r_sum(const std::vector<double>& v) {
  double s = 0;
  for (double a : v) s += a;
  return s;
}
double r_max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
double r_argmax(const std::vector<double>& v) {
  return double(std::max_element(v.begin(), v.end()) - v.begin());
}
double r_argmin(const std::vector<double>& v) {
  return double(std::min_element(v.begin(), v.end()) - v.begin());
}
double r_var(const std::vector<double>& v) {
  double m = r_sum(v) / double(v.size()), s = 0;
  for (double a : v) s += (a - m) * (a - m);
  return s / double(v.size() - 1);
}
double r_norm3(const std::vector<double>& v) {
  double s = 0;
  for (double a : v) s += std::pow(std::abs(a), 3);
  return std::cbrt(s);
}
double r_lse(const std::vector<double>& v) {
  double m = r_max(v), s = 0;
  for (double a : v) s += std::exp(a - m);
  return m + std::log(s);
}
double r_prod(const std::vector<double>& v) {
  double p = 1;
  for (double a : v) p *= a;
  return p;
}

TEST(Reduce, LargeInputsMatchNaiveReference) {
  Generator g(21);
  auto a = randn<float>({150, 230}, g);                       // above the threading grain
  auto b = randn<double>({4, 30, 20}, g).permute({2, 0, 1});  // strided regions
  auto p = randn<double>({64, 40}, g) * 0.01 + 1.0;
  for (const Shape& dims : {Shape{0}, Shape{1}, Shape{}}) {
    auto r = regions(a, dims);
    EXPECT_TRUE(near(sum(a, dims), each(r, r_sum), 1e-5)) << dims;
    EXPECT_TRUE(near(amax(a, dims), each(r, r_max), 0)) << dims;
    EXPECT_TRUE(near(var(a, dims), each(r, r_var), 1e-5)) << dims;
    EXPECT_TRUE(near(norm(a, 3, dims), each(r, r_norm3), 1e-5)) << dims;
    EXPECT_TRUE(near(logsumexp(a, dims), each(r, r_lse), 1e-5)) << dims;
    EXPECT_TRUE(near(prod(p, dims), each(regions(p, dims), r_prod), 1e-10)) << dims;
  }
  for (const Shape& dims : {Shape{0, 2}, Shape{1}, Shape{2}, Shape{0, 1}, Shape{}}) {
    auto r = regions(b, dims);
    EXPECT_TRUE(near(sum(b, dims), each(r, r_sum), 1e-12)) << dims;
    EXPECT_TRUE(near(amin(b, dims),
                     each(r, [](auto& v) { return *std::min_element(v.begin(), v.end()); }), 0))
        << dims;
    EXPECT_TRUE(near(var(b, dims), each(r, r_var), 1e-12)) << dims;
    EXPECT_TRUE(near(logsumexp(b, dims), each(r, r_lse), 1e-12)) << dims;
  }
  for (int64_t d : {0, 1}) {
    auto r = regions(a, {d});
    auto [v, i] = max(a, d);
    EXPECT_TRUE(near(v, each(r, r_max), 0));
    EXPECT_TRUE(near(i, each(r, r_argmax), 0));
    EXPECT_TRUE(near(argmin(a, d), each(r, r_argmin), 0));
  }
  EXPECT_TRUE(near(argmax(b, 1), each(regions(b, {1}), r_argmax), 0));
  EXPECT_EQ(double(argmax(a).item()), each(regions(a, {}), r_argmax)[0]);
  // Softmax along each dim of the big float input matches exp / sum.
  for (int64_t d : {0, 1}) {
    auto ref = exp(a - amax(a, {d}, true));
    EXPECT_TRUE(all_close(softmax(a, d), ref / sum(ref, {d}, true), 1e-6, 1e-4)) << d;
    EXPECT_TRUE(all_close(log_softmax(a, d), log(ref / sum(ref, {d}, true)), 1e-5, 1e-4)) << d;
  }
}

// ---- errors
// ---------------------------------------------------------------------------------------

TEST(Reduce, RejectsBadDims) {
  auto x = zeros<double>({3, 4});
  SINEW_EXPECT_ERROR(sum(x, {2}), "sum", "dimension 2 out of range", "[3, 4]");
  SINEW_EXPECT_ERROR(sum(x, {-3}), "sum", "out of range");
  SINEW_EXPECT_ERROR(sum(x, {1, -1}), "sum", "appears more than once", "[3, 4]");
  SINEW_EXPECT_ERROR(mean(x, {0, 0}), "mean", "more than once");
  SINEW_EXPECT_ERROR(prod(x, {5}), "prod", "out of range");
  SINEW_EXPECT_ERROR(amax(x, {0, -2}), "amax", "more than once");
  SINEW_EXPECT_ERROR(max(x, 2), "max", "out of range", "[3, 4]");
  SINEW_EXPECT_ERROR(min(x, -3), "min", "out of range");
  SINEW_EXPECT_ERROR(argmax(x, 7), "argmax", "out of range");
  SINEW_EXPECT_ERROR(argmin(x, 2, true), "argmin", "out of range");
  SINEW_EXPECT_ERROR(var(x, {2}), "var", "out of range");
  SINEW_EXPECT_ERROR(sinew::std(x, {0, 0}), "std", "more than once");
  SINEW_EXPECT_ERROR(norm(x, 2, {3}), "norm", "out of range");
  SINEW_EXPECT_ERROR(logsumexp(x, {2}), "logsumexp", "out of range");
  SINEW_EXPECT_ERROR(softmax(x, 2), "softmax", "out of range", "[3, 4]");
  SINEW_EXPECT_ERROR(log_softmax(x, -3), "log_softmax", "out of range");
  SINEW_EXPECT_ERROR(sum(scalar_tensor<double>(1), {1}), "sum", "out of range");
}

TEST(Reduce, RejectsEmptyRegionsWithoutIdentity) {
  auto e = zeros<double>({0, 3});
  SINEW_EXPECT_ERROR(max(e), "max", "size 0", "[0, 3]");
  SINEW_EXPECT_ERROR(min(e), "min", "size 0");
  SINEW_EXPECT_ERROR(max(e, 0), "max", "dimension 0 of size 0");
  SINEW_EXPECT_ERROR(amax(e, {0}), "amax", "size 0");
  SINEW_EXPECT_ERROR(amin(e), "amin", "size 0");
  SINEW_EXPECT_ERROR(argmax(e), "argmax", "size 0", "[0, 3]");
  SINEW_EXPECT_ERROR(argmin(e, 0), "argmin", "size 0");
  SINEW_EXPECT_ERROR(norm(e, kInf), "norm", "empty", "[0, 3]");
  // Reducing a non-empty dim of an empty tensor is fine: there are no outputs.
  EXPECT_EQ(amax(e, {1}).shape(), (Shape{0}));
  EXPECT_EQ(argmax(e, 1).shape(), (Shape{0}));
  EXPECT_EQ(softmax(e, 0).shape(), (Shape{0, 3}));
}

TEST(Reduce, RejectsInvalidNormOrder) {
  auto x = ones<double>({2, 2});
  SINEW_EXPECT_ERROR(norm(x, kNaN), "norm", "NaN", "[2, 2]");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
