// Tests for nn/init.hpp: PyTorch's gains and fans, the distributions' ranges and moments, and
// in-place initialization of parameters that require grad without recording history.
#include <cmath>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::values_are;

namespace {
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
}  // namespace

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
