// Tests for nn/activation.hpp: each module's values against hand-computed numbers, gradients
// flowing through a module, no parameters, Flatten's ranges, errors, printing and clone.
#include <cmath>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::values_are;

namespace {
Tensor<float> input() { return from_vector<float>({-2, -0.5f, 0, 1, 3}, {5}); }
}  // namespace

TEST(Activation, ReLUAndLeakyReLU) {
  EXPECT_TRUE(values_are(nn::ReLU()(input()), {0, 0, 0, 1, 3}));
  EXPECT_TRUE(values_are(nn::LeakyReLU()(input()), {-0.02, -0.005, 0, 1, 3}, 1e-7));
  EXPECT_TRUE(values_are(nn::LeakyReLU(0.2)(input()), {-0.4, -0.1, 0, 1, 3}, 1e-6));
}

TEST(Activation, ELUAndSoftplus) {
  EXPECT_TRUE(
      values_are(nn::ELU()(input()), {std::exp(-2.0) - 1, std::exp(-0.5) - 1, 0, 1, 3}, 1e-6));
  EXPECT_TRUE(values_are(nn::ELU(2.0)(input()),
                         {2 * (std::exp(-2.0) - 1), 2 * (std::exp(-0.5) - 1), 0, 1, 3}, 1e-6));
  EXPECT_TRUE(values_are(nn::Softplus()(from_vector<float>({0, 1, 30}, {3})),
                         {std::log(2.0), std::log1p(std::exp(1.0)), 30}, 1e-6));
  // beta 2: log(1 + e^(2 x)) / 2; above threshold (2 * 30 > 20) the input itself.
  EXPECT_TRUE(values_are(nn::Softplus(2.0)(from_vector<float>({1, 30}, {2})),
                         {std::log1p(std::exp(2.0)) / 2, 30}, 1e-6));
  SINEW_EXPECT_ERROR(nn::Softplus(0.0), "Softplus", "beta");
}

TEST(Activation, SigmoidTanhSiLUGELU) {
  Tensor<float> x = from_vector<float>({-1, 0, 2}, {3});
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  EXPECT_TRUE(values_are(nn::Sigmoid()(x), {sig(-1), 0.5, sig(2)}, 1e-6));
  EXPECT_TRUE(values_are(nn::Tanh()(x), {std::tanh(-1.0), 0, std::tanh(2.0)}, 1e-6));
  EXPECT_TRUE(values_are(nn::SiLU()(x), {-sig(-1), 0, 2 * sig(2)}, 1e-6));
  auto phi = [](double v) { return 0.5 * (1 + std::erf(v / std::sqrt(2.0))); };
  EXPECT_TRUE(values_are(nn::GELU()(x), {-phi(-1), 0, 2 * phi(2)}, 1e-6));
  auto gt = [](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  };
  EXPECT_TRUE(values_are(nn::GELU("tanh")(x), {gt(-1), 0, gt(2)}, 1e-6));
  SINEW_EXPECT_ERROR(nn::GELU("fast"), "GELU", "'fast'");
}

TEST(Activation, SoftmaxAndLogSoftmaxAlongDim) {
  Tensor<float> x = from_vector<float>({1, 2, 3, 0, 0, 0}, {2, 3});
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_TRUE(values_are(
      nn::Softmax(1)(x),
      {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z, 1 / 3.0, 1 / 3.0, 1 / 3.0}, 1e-6));
  EXPECT_TRUE(values_are(nn::LogSoftmax(-1)(x),
                         {1 - std::log(z), 2 - std::log(z), 3 - std::log(z), -std::log(3.0),
                          -std::log(3.0), -std::log(3.0)},
                         1e-5));
  // Along dim 0 each column is a distribution over the two rows.
  EXPECT_TRUE(values_are(nn::Softmax(0)(x).sum({0}), {1, 1, 1}, 1e-6));
  SINEW_EXPECT_ERROR(nn::Softmax(2)(x), "softmax");
}

TEST(Activation, IdentityAndFlatten) {
  Tensor<float> x = rand<float>({2, 3, 4, 5});
  EXPECT_TRUE(nn::Identity()(x).is_same(x));
  EXPECT_EQ(nn::Flatten()(x).shape(), (Shape{2, 60}));
  EXPECT_EQ(nn::Flatten(0, 1)(x).shape(), (Shape{6, 4, 5}));
  EXPECT_EQ(nn::Flatten(2)(x).shape(), (Shape{2, 3, 20}));
  EXPECT_TRUE(all_close(nn::Flatten()(x), x.reshape({2, 60}), 0, 0));
  SINEW_EXPECT_ERROR(nn::Flatten(3, 1)(x), "flatten");
  SINEW_EXPECT_ERROR(nn::Flatten(1)(scalar_tensor<float>(2.0)), "Flatten", "0-d");
  EXPECT_EQ(nn::Flatten(0)(scalar_tensor<float>(2.0)).shape(), (Shape{1}));
}

TEST(Activation, GradientFlowsThroughTheModule) {
  Tensor<float> x = from_vector<float>({-1, 2}, {2}).requires_grad_();
  nn::ReLU relu_module;
  relu_module(x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {0, 1}));
  Tensor<float> y = from_vector<float>({0.5f}, {1}).requires_grad_();
  nn::Tanh t;
  t(y).sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {1 - std::pow(std::tanh(0.5), 2)}, 1e-6));
}

TEST(Activation, HaveNoParametersPrintAndClone) {
  nn::LeakyReLU l(0.2);
  EXPECT_TRUE(l.parameters().empty());
  EXPECT_EQ(l.extra_repr(), "negative_slope=0.2");
  EXPECT_EQ(nn::Softmax(1).extra_repr(), "dim=1");
  EXPECT_EQ(nn::Flatten().extra_repr(), "start_dim=1, end_dim=-1");
  auto c = nn::clone(l);
  EXPECT_TRUE(values_are((*c)(input()), {-0.4, -0.1, 0, 1, 3}, 1e-6));
  EXPECT_EQ(c->name(), "LeakyReLU");
}

TEST(Activation, UnflattenSplitsOneDimension) {
  Tensor<float> x = rand<float>({2, 12});
  EXPECT_EQ(nn::Unflatten(1, {3, 4})(x).shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(nn::Unflatten(-1, {2, -1})(x).shape(), (Shape{2, 2, 6}));
  EXPECT_EQ(nn::Unflatten(0, {1, 2})(x).shape(), (Shape{1, 2, 12}));
  EXPECT_TRUE(all_close(nn::Unflatten(1, {3, 4})(nn::Flatten()(x.reshape({2, 3, 4}))),
                        x.reshape({2, 3, 4}), 0, 0));
  SINEW_EXPECT_ERROR(nn::Unflatten(1, {5, 2})(x), "Unflatten", "[5, 2]", "size 12", "[2, 12]");
  SINEW_EXPECT_ERROR(nn::Unflatten(1, {5, -1})(x), "Unflatten", "[5, -1]");
  SINEW_EXPECT_ERROR(nn::Unflatten(2, {3, 4})(x), "Unflatten");
  SINEW_EXPECT_ERROR(nn::Unflatten(1, {-1, -1}), "Unflatten", "at most one -1");
  SINEW_EXPECT_ERROR(nn::Unflatten(1, {}), "Unflatten", "non-empty");
  EXPECT_EQ(nn::Unflatten(1, {3, 4}).extra_repr(), "dim=1, unflattened_size=[3, 4]");
}
