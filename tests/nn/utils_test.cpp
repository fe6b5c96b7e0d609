// Tests for nn/utils.hpp: clip_grad_norm_ (2-, 1- and inf-norms, no-op below the limit, skipped
// parameters, non-finite totals), clip_grad_value_, parameters_to_vector / vector_to_parameters
// round trips, and the L1 / L2 penalties with their gradients, all against hand-computed values.
#include <cmath>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::values_are;
namespace U = sinew::nn::utils;

namespace {
namespace SINEW_UNITY_ID {
// A parameter with the given values and .grad.
Tensor<float> param_with_grad(const std::vector<float>& v, const std::vector<float>& g) {
  Tensor<float> p = from_vector<float>(v, {int64_t(v.size())}).requires_grad_();
  p.set_grad(from_vector<float>(g, {int64_t(g.size())}));
  return p;
}

TEST(ClipGradNorm, ScalesAllGradientsByMaxNormOverTheTotalTwoNorm) {
  // Gradients [3, 4] and [12]: total = sqrt(9 + 16 + 144) = 13; coef = 6.5 / (13 + 1e-6).
  auto a = param_with_grad({0, 0}, {3, 4}), b = param_with_grad({0}, {12});
  double total = U::clip_grad_norm_(std::vector<Tensor<float>>{a, b}, 6.5);
  EXPECT_NEAR(total, 13.0, 1e-6);
  double c = 6.5 / (13 + 1e-6);
  EXPECT_TRUE(values_are(a.grad(), {3 * c, 4 * c}, 1e-6));
  EXPECT_TRUE(values_are(b.grad(), {12 * c}, 1e-6));
}

TEST(ClipGradNorm, SupportsOneAndInfinityNorms) {
  auto a = param_with_grad({0, 0}, {3, -4}), b = param_with_grad({0}, {-12});
  EXPECT_NEAR(U::clip_grad_norm_(std::vector<Tensor<float>>{a, b}, 1000.0, 1.0), 19.0, 1e-5);
  EXPECT_TRUE(values_are(a.grad(), {3, -4}));  // below the limit: coef clamped to 1
  double total = U::clip_grad_norm_(std::vector<Tensor<float>>{a, b}, 6.0, INFINITY);
  EXPECT_NEAR(total, 12.0, 1e-6);
  double c = 6.0 / (12 + 1e-6);
  EXPECT_TRUE(values_are(a.grad(), {3 * c, -4 * c}, 1e-6));
  EXPECT_TRUE(values_are(b.grad(), {-12 * c}, 1e-6));
}

TEST(ClipGradNorm, SkipsParametersWithoutGradientAndReturnsZeroForNone) {
  Tensor<float> no_grad = zeros<float>({3}).requires_grad_();
  auto a = param_with_grad({0}, {2});
  EXPECT_NEAR(U::clip_grad_norm_(std::vector<Tensor<float>>{no_grad, a}, 1.0), 2.0, 1e-6);
  EXPECT_FALSE(no_grad.grad().defined());
  EXPECT_TRUE(values_are(a.grad(), {2 / (2 + 1e-6)}, 1e-6));
  EXPECT_EQ(U::clip_grad_norm_(std::vector<Tensor<float>>{no_grad}, 1.0), 0.0);
}

TEST(ClipGradNorm, ClipsTheGradientsOfAModule) {
  manual_seed(5);
  nn::Linear lin(3, 2);
  (lin(randn<float>({4, 3})) * 100.0).sum().backward();
  U::clip_grad_norm_(lin.parameters(), 0.5);
  double sq = 0;
  for (const auto& p : lin.parameters()) sq += (p.grad() * p.grad()).sum().item();
  EXPECT_NEAR(std::sqrt(sq), 0.5, 1e-5);
}

TEST(ClipGradNorm, NonFiniteTotalRaisesOnlyWhenAsked) {
  auto a = param_with_grad({0, 0}, {NAN, 1});
  std::vector<Tensor<float>> ps{a};
  SINEW_EXPECT_ERROR(U::clip_grad_norm_(ps, 1.0, 2.0, true), "clip_grad_norm_", "nan",
                     "error_if_nonfinite");
  EXPECT_TRUE(std::isnan(U::clip_grad_norm_(ps, 1.0)));
  auto b = param_with_grad({0}, {INFINITY});
  SINEW_EXPECT_ERROR(U::clip_grad_norm_(std::vector<Tensor<float>>{b}, 1.0, INFINITY, true), "inf");
}

TEST(ClipGradNorm, RejectsBadArguments) {
  auto a = param_with_grad({0}, {1});
  std::vector<Tensor<float>> ps{a};
  SINEW_EXPECT_ERROR(U::clip_grad_norm_(ps, -1.0), "max_norm", "-1");
  SINEW_EXPECT_ERROR(U::clip_grad_norm_(ps, 1.0, 0.0), "norm_type", "0");
  SINEW_EXPECT_ERROR(U::clip_grad_norm_(std::vector<Tensor<float>>{Tensor<float>()}, 1.0),
                     "parameter 0", "undefined");
  SINEW_EXPECT_ERROR(U::clip_grad_value_(ps, -0.5), "clip_value", "-0.5");
}

TEST(ClipGradValue, ClampsEachGradientElement) {
  auto a = param_with_grad({0, 0, 0}, {-3, 0.25f, 2}), b = param_with_grad({0}, {-0.5f});
  Tensor<float> none = zeros<float>({2}).requires_grad_();
  U::clip_grad_value_(std::vector<Tensor<float>>{a, b, none}, 1.0);
  EXPECT_TRUE(values_are(a.grad(), {-1, 0.25, 1}));
  EXPECT_TRUE(values_are(b.grad(), {-0.5}));
  EXPECT_FALSE(none.grad().defined());
}

TEST(ParametersToVector, FlattensInOrderAndRoundTrips) {
  Tensor<float> w = from_vector<float>({1, 2, 3, 4}, {2, 2}), b = from_vector<float>({5}, {1});
  std::vector<Tensor<float>> ps{w, b};
  Tensor<float> v = U::parameters_to_vector(ps);
  EXPECT_EQ(v.shape(), (Shape{5}));
  EXPECT_TRUE(values_are(v, {1, 2, 3, 4, 5}));
  U::vector_to_parameters(from_vector<float>({9, 8, 7, 6, 5}, {5}), ps);
  EXPECT_TRUE(values_are(w, {9, 8, 7, 6}));  // written in place: the same tensors
  EXPECT_EQ(w.shape(), (Shape{2, 2}));
  EXPECT_TRUE(values_are(b, {5}));
  EXPECT_EQ(U::parameters_to_vector(std::vector<Tensor<float>>{}).numel(), 0);
}

TEST(ParametersToVector, VectorToParametersWorksOnTrainableParametersAndChecksSizes) {
  nn::Linear lin(2, 1);
  U::vector_to_parameters(from_vector<float>({1, 2, 3}, {3}), lin.parameters());
  EXPECT_TRUE(values_are(lin.weight, {1, 2}));
  EXPECT_TRUE(values_are(lin.bias, {3}));
  EXPECT_TRUE(lin.weight.requires_grad());
  SINEW_EXPECT_ERROR(U::vector_to_parameters(zeros<float>({4}), lin.parameters()),
                     "vector_to_parameters", "4", "3");
  SINEW_EXPECT_ERROR(U::vector_to_parameters(zeros<float>({3, 1}), lin.parameters()), "1-d",
                     "[3, 1]");
}

TEST(Penalties, L1AndL2SumOverAllParametersWithTheirGradients) {
  Tensor<double> a = from_vector<double>({1, -2}, {2}).requires_grad_();
  Tensor<double> b = from_vector<double>({-3}, {1}).requires_grad_();
  std::vector<Tensor<double>> ps{a, b};
  Tensor<double> l1 = U::l1_penalty(ps), l2 = U::l2_penalty(ps);
  EXPECT_TRUE(values_are(l1, {6}));   // 1 + 2 + 3
  EXPECT_TRUE(values_are(l2, {14}));  // 1 + 4 + 9
  (l1 + l2 * 0.5).backward();
  EXPECT_TRUE(values_are(a.grad(), {1 + 1, -1 - 2}));  // sign(w) + w
  EXPECT_TRUE(values_are(b.grad(), {-1 - 3}));
  EXPECT_TRUE(values_are(U::l2_penalty(std::vector<Tensor<double>>{}), {0}));
  EXPECT_TRUE(sinew::testing::grad_ok(
      [](auto& v) { return U::l1_penalty(v) + U::l2_penalty(v); },
      {sinew::testing::rand_input({2, 3}, 1), sinew::testing::rand_input({4}, 2)}));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
