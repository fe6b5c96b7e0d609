// Tests for nn/init.hpp: PyTorch's gains and fans, the distributions' ranges and moments, and
// in-place initialization of parameters that require grad without recording history; eye_,
// dirac_, orthogonal_ (W W^T = I, the sign-fixed QR) and trunc_normal_ (bounds, moments);
// temporary views (w.detach(), w.slice(...)) filled in place.
#include <algorithm>
#include <cmath>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
std::pair<double, double> mean_var(const Tensor<float>& t) {
  auto v = t.to_vector();
  double s = 0, sq = 0;
  for (float f : v) {
    s += f;
    sq += double(f) * f;
  }
  double n = double(v.size()), m = s / n;
  return {m, sq / n - m * m};
}
double max_abs(const Tensor<float>& t) {
  double m = 0;
  for (float f : t.to_vector()) m = std::max<double>(m, std::abs(f));
  return m;
}

TEST(Init, CalculateGainFollowsPyTorchsTable) {
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("conv2d"), 1.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("sigmoid"), 1.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("leaky_relu"), std::sqrt(2.0 / 1.0001));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("selu"), 0.75);
  SINEW_EXPECT_ERROR(nn::init::calculate_gain("swish"), "calculate_gain", "'swish'");
}

TEST(Init, FansCountTheReceptiveField) {
  auto f = nn::init::calculate_fan_in_and_fan_out(zeros<float>({32, 16, 3, 3}));
  EXPECT_EQ(f.fan_in, 16 * 9);
  EXPECT_EQ(f.fan_out, 32 * 9);
  Tensor<float> v = zeros<float>({5});
  SINEW_EXPECT_ERROR(nn::init::xavier_uniform_(v), "xavier_uniform_", "at least 2", "[5]");
  Tensor<float> w = zeros<float>({4, 4});
  SINEW_EXPECT_ERROR(nn::init::kaiming_uniform_(w, {.mode = "fan_avg"}), "kaiming_uniform_",
                     "'fan_avg'");
}

TEST(Init, UniformAndNormalHaveTheirMoments) {
  manual_seed(5);
  Tensor<float> t = empty<float>({100, 100});
  nn::init::uniform_(t, -2, 4);
  auto [m, v] = mean_var(t);
  EXPECT_NEAR(m, 1.0, 0.05);
  EXPECT_NEAR(v, 3.0, 0.1);  // (b - a)^2 / 12
  nn::init::normal_(t, 1.0, 0.5);
  std::tie(m, v) = mean_var(t);
  EXPECT_NEAR(m, 1.0, 0.02);
  EXPECT_NEAR(v, 0.25, 0.01);
  SINEW_EXPECT_ERROR(nn::init::uniform_(t, 1, 0), "uniform_", "a <= b");
  SINEW_EXPECT_ERROR(nn::init::normal_(t, 0, -1), "normal_", "-1");
}

TEST(Init, AGeneratorMakesItReproducible) {
  Tensor<float> a = empty<float>({10}), b = empty<float>({10});
  Generator g1(7), g2(7);
  nn::init::uniform_(a, 0, 1, g1);
  nn::init::uniform_(b, 0, 1, g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
}

TEST(Init, ConstantsFillAParameterWithoutHistory) {
  Tensor<float> p = empty<float>({2, 2}).requires_grad_();
  nn::init::constant_(p, 0.5);
  EXPECT_TRUE(values_are(p, {0.5, 0.5, 0.5, 0.5}));
  nn::init::ones_(p);
  EXPECT_TRUE(values_are(p, {1, 1, 1, 1}));
  nn::init::zeros_(p);
  EXPECT_TRUE(values_are(p, {0, 0, 0, 0}));
  nn::init::uniform_(p);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
}

TEST(Init, XavierUsesFanInPlusFanOut) {
  manual_seed(2);
  Tensor<float> w = empty<float>({200, 100});
  nn::init::xavier_uniform_(w, 2.0);
  double a = 2.0 * std::sqrt(6.0 / 300.0);
  EXPECT_LE(max_abs(w), a);
  EXPECT_GT(max_abs(w), 0.95 * a);
  nn::init::xavier_normal_(w);
  EXPECT_NEAR(mean_var(w).second, 2.0 / 300.0, 0.05 * 2.0 / 300.0);
}

TEST(Init, KaimingUsesTheChosenFanAndGain) {
  manual_seed(4);
  Tensor<float> w = empty<float>({50, 200});
  nn::init::kaiming_uniform_(w, {.nonlinearity = "relu"});
  double bound = std::sqrt(2.0) * std::sqrt(3.0 / 200.0);
  EXPECT_LE(max_abs(w), bound);
  EXPECT_GT(max_abs(w), 0.95 * bound);
  nn::init::kaiming_uniform_(w, {.mode = "fan_out", .nonlinearity = "relu"});
  EXPECT_GT(max_abs(w), 0.95 * std::sqrt(2.0) * std::sqrt(3.0 / 50.0));
  nn::init::kaiming_normal_(w, {.mode = "fan_in", .nonlinearity = "relu"});
  EXPECT_NEAR(mean_var(w).second, 2.0 / 200.0, 0.05 * 2.0 / 200.0);
}

TEST(Init, EyeFillsTheIdentity) {
  Tensor<float> w = empty<float>({2, 3}).requires_grad_();
  nn::init::eye_(w);
  EXPECT_TRUE(values_are(w, {1, 0, 0, 0, 1, 0}));
  EXPECT_TRUE(w.is_leaf());
  Tensor<double> sq = empty<double>({3, 3});
  nn::init::eye_(sq);
  EXPECT_TRUE(values_are(sq, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  Tensor<float> v = empty<float>({4});
  SINEW_EXPECT_ERROR(nn::init::eye_(v), "eye_", "2-d", "[4]");
}

TEST(Init, DiracPreservesChannelsOfAConv) {
  Tensor<float> w = rand<float>({4, 2, 3, 3});
  nn::init::dirac_(w);
  // Output channel d (d < 2) has a 1 at [d, d, 1, 1]; channels 2 and 3 are all zero.
  auto v = w.to_vector();
  int64_t ones_count = 0;
  for (float f : v) ones_count += f == 1.0f;
  EXPECT_EQ(ones_count, 2);
  EXPECT_EQ(w.at({0, 0, 1, 1}), 1.0f);
  EXPECT_EQ(w.at({1, 1, 1, 1}), 1.0f);
  EXPECT_EQ(w.at({1, 0, 1, 1}), 0.0f);
  // Two groups of 2 output channels, 3-d weight with an even kernel (centre index 1 of 2).
  Tensor<float> g = rand<float>({4, 3, 2});
  nn::init::dirac_(g, 2);
  EXPECT_EQ(g.at({0, 0, 1}), 1.0f);
  EXPECT_EQ(g.at({1, 1, 1}), 1.0f);
  EXPECT_EQ(g.at({2, 0, 1}), 1.0f);
  EXPECT_EQ(g.at({3, 1, 1}), 1.0f);
  EXPECT_DOUBLE_EQ(g.sum().item(), 4.0);
  Tensor<float> m = empty<float>({3, 3});
  SINEW_EXPECT_ERROR(nn::init::dirac_(m), "dirac_", "[3, 3]");
  Tensor<float> c = empty<float>({3, 2, 3});
  SINEW_EXPECT_ERROR(nn::init::dirac_(c, 2), "dirac_", "groups = 2");
}

TEST(Init, OrthogonalHasOrthonormalRowsOrColumns) {
  manual_seed(6);
  // Wide: rows orthonormal, W W^T = gain^2 I.
  Tensor<double> wide = empty<double>({4, 7});
  nn::init::orthogonal_(wide, 2.0);
  EXPECT_TRUE(sinew::testing::all_close(matmul(wide, wide.t()), eye<double>(4) * 4.0, 1e-12, 0));
  // Tall: columns orthonormal, W^T W = I.
  Tensor<double> tall = empty<double>({9, 3});
  nn::init::orthogonal_(tall);
  EXPECT_TRUE(sinew::testing::all_close(matmul(tall.t(), tall), eye<double>(3), 1e-12, 0));
  // A conv weight is flattened to [out, in * k * k]; float precision.
  Tensor<float> conv = empty<float>({6, 2, 2, 2}).requires_grad_();
  nn::init::orthogonal_(conv);
  Tensor<float> flat = conv.detach().reshape({6, 8});
  EXPECT_TRUE(sinew::testing::all_close(matmul(flat, flat.t()), eye<float>(6), 1e-6, 0));
  EXPECT_TRUE(conv.is_leaf());
  // Square: both. Same generator seed, same matrix.
  Generator g1(3), g2(3);
  Tensor<double> a = empty<double>({5, 5}), b = empty<double>({5, 5});
  nn::init::orthogonal_(a, 1.0, g1);
  nn::init::orthogonal_(b, 1.0, g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_TRUE(sinew::testing::all_close(matmul(a.t(), a), eye<double>(5), 1e-12, 0));
  Tensor<float> v = empty<float>({5});
  SINEW_EXPECT_ERROR(nn::init::orthogonal_(v), "orthogonal_", "[5]");
}

TEST(Init, OrthogonalMatchesTheSignFixedQR) {
  // For a square matrix Q = A R^-1 with R upper triangular and a positive diagonal, so
  // Q^T A = R: upper triangular with positive diagonal. Rebuild A from the same generator.
  Generator g1(11), g2(11);
  Tensor<double> q = empty<double>({4, 4});
  nn::init::orthogonal_(q, 1.0, g1);
  Tensor<double> a = randn<double>({4, 4}, g2);
  Tensor<double> r = matmul(q.t(), a);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_GT(r.at({i, i}), 0.0);
    for (int64_t j = 0; j < i; ++j) EXPECT_NEAR(r.at({i, j}), 0.0, 1e-12);
  }
}

TEST(Init, TruncNormalStaysInsideTheBoundsWithTheRightMoments) {
  manual_seed(8);
  Tensor<float> t = empty<float>({200, 100});
  nn::init::trunc_normal_(t, 0.0, 1.0, -2.0, 2.0);
  auto v = t.to_vector();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0f);
  EXPECT_LE(*std::max_element(v.begin(), v.end()), 2.0f);
  auto [m, var] = mean_var(t);
  // N(0, 1) truncated to [-2, 2]: mean 0, variance 1 - 2 * 2 phi(2) / (2 Phi(2) - 1) = 0.7737.
  EXPECT_NEAR(m, 0.0, 0.02);
  EXPECT_NEAR(var, 0.7737413, 0.02);
  // Asymmetric bounds in the tensor's units: N(1, 0.5^2) on [0.5, 3], i.e. [-1, 4] stds.
  nn::init::trunc_normal_(t, 1.0, 0.5, 0.5, 3.0);
  v = t.to_vector();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.5f);
  EXPECT_LE(*std::max_element(v.begin(), v.end()), 3.0f);
  // Mean of N(0, 1) truncated to [-1, 4]: (phi(-1) - phi(4)) / (Phi(4) - Phi(-1)) = 0.28759.
  EXPECT_NEAR(mean_var(t).first, 1.0 + 0.5 * 0.2874517, 0.01);
  Tensor<float> p = empty<float>({3}).requires_grad_();
  nn::init::trunc_normal_(p, 0.0, 0.02);  // ViT's init
  EXPECT_TRUE(p.is_leaf());
  for (float f : p.to_vector()) EXPECT_LE(std::abs(f), 0.04f);
  SINEW_EXPECT_ERROR(nn::init::trunc_normal_(t, 0, 1, 2, -2), "trunc_normal_", "a < b");
  SINEW_EXPECT_ERROR(nn::init::trunc_normal_(t, 0, -1), "trunc_normal_", "-1");
}

TEST(Init, FillsATemporaryViewAndTheBaseSeesIt) {
  // As LibTorch's init functions, which take a Tensor handle: an rvalue view is filled in place.
  Tensor<float> w = zeros<float>({4, 6}).requires_grad_();
  nn::init::ones_(w.detach().slice(0, 1, 3));  // rows 1 and 2
  nn::init::constant_(w.detach().select(1, 5), 7.0);
  for (int64_t r = 0; r < 4; ++r) {
    for (int64_t c = 0; c < 6; ++c) {
      float expected = c == 5 ? 7.0f : (r == 1 || r == 2) ? 1.0f : 0.0f;
      EXPECT_EQ(w.at({r, c}), expected) << r << ", " << c;
    }
  }
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
  // The returned handle is the view itself.
  Tensor<float> z = nn::init::zeros_(w.detach().narrow(1, 0, 2));
  EXPECT_TRUE(z.shares_storage(w));
  EXPECT_EQ(z.shape(), Shape({4, 2}));
  EXPECT_DOUBLE_EQ(w.detach().narrow(1, 0, 2).abs().sum().item(), 0.0);
  // Random and structured initializers on views, leaving the rest untouched.
  manual_seed(12);
  nn::init::uniform_(w.detach().narrow(1, 2, 2), 2.0, 3.0);
  Tensor<float> mid = w.detach().narrow(1, 2, 2);
  EXPECT_GE(mid.min().item(), 2.0f);
  EXPECT_LT(mid.max().item(), 3.0f);
  EXPECT_EQ(w.at({0, 0}), 0.0f);
  EXPECT_EQ(w.at({0, 5}), 7.0f);
  Tensor<double> m = zeros<double>({3, 5});
  nn::init::eye_(m.narrow(1, 1, 3));
  EXPECT_TRUE(values_are(m, {0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0}));
  nn::init::orthogonal_(m.narrow(1, 1, 3), 1.0);
  Tensor<double> q = m.narrow(1, 1, 3);
  EXPECT_TRUE(sinew::testing::all_close(matmul(q, q.t()), eye<double>(3), 1e-12, 0));
  EXPECT_EQ(m.at({0, 0}), 0.0);
  // A layer's parameter through detach(), the PyTorch idiom.
  nn::Linear layer(8, 3);
  nn::init::normal_(layer.weight.detach(), 5.0, 0.0);
  EXPECT_TRUE(values_are(layer.weight, std::vector<double>(24, 5.0)));
  nn::init::kaiming_normal_(layer.weight.detach());
  EXPECT_LT(max_abs(layer.weight), 5.0);
  nn::init::xavier_uniform_(layer.weight.detach());
  EXPECT_LE(max_abs(layer.weight), std::sqrt(6.0 / 11.0));
  nn::init::zeros_(layer.bias.detach());
  EXPECT_TRUE(values_are(layer.bias, {0, 0, 0}));
  SINEW_EXPECT_ERROR(nn::init::eye_(w.detach().select(0, 0)), "eye_", "[6]");
}

TEST(Init, ErfinvInvertsErf) {
  for (double x : {-3.0, -1.2, -0.3, 0.0, 1e-8, 0.5, 2.0, 2.8}) {
    EXPECT_NEAR(nn::init::detail::erfinv(std::erf(x)), x, 1e-9 * std::max(1.0, std::abs(x)));
  }
  EXPECT_EQ(nn::init::detail::erfinv(1.0), INFINITY);
  EXPECT_EQ(nn::init::detail::erfinv(-1.0), -INFINITY);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
