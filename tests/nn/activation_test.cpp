// Tests for nn/activation.hpp: each module's values against hand-computed numbers, gradients
// flowing through a module, no parameters, Flatten's ranges, errors, printing and clone; SELU,
// Hardtanh, PReLU and Maxout against PyTorch fixtures (tests/fixtures/gen_activation.py) and
// gradcheck in double.
#include <cmath>

#include "fixture.hpp"
#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::fixture_tensor;
using sinew::testing::grad_ok;
using sinew::testing::gradgrad_ok;
using sinew::testing::rand_input;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
Tensor<float> input() { return from_vector<float>({-2, -0.5f, 0, 1, 3}, {5}); }

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

const nlohmann::json& fixtures() {
  static const nlohmann::json j = sinew::testing::load_fixture("nn/activation.json");
  return j;
}
// Gradient of sum(y * gy) with respect to x, for a double op y = f(x).
template <class F>
Tensor<double> grad_of(F f, const Tensor<double>& x, const Tensor<double>& gy) {
  Tensor<double> xr = x.detach().requires_grad_();
  (f(xr) * gy).sum().backward();
  return xr.grad();
}

TEST(Activation, SELUMatchesPyTorch) {
  const auto& j = fixtures()["selu"];
  Tensor<double> x = fixture_tensor(j["x"]), gy = fixture_tensor(j["gy"]);
  EXPECT_TRUE(all_close(nn::functional::selu(x), fixture_tensor(j["y"]), 1e-12, 1e-10));
  EXPECT_TRUE(all_close(grad_of([](const auto& v) { return nn::functional::selu(v); }, x, gy),
                        fixture_tensor(j["dx"]), 1e-12, 1e-10));
  EXPECT_TRUE(all_close(nn::SELU()(x.to<float>()), fixture_tensor<float>(j["y"]), 1e-5, 1e-5));
  // The constants themselves: selu(1) = scale, selu(-inf) -> -scale * alpha.
  EXPECT_TRUE(values_are(nn::functional::selu(from_vector<double>({1.0, -50.0}, {2})),
                         {1.0507009873554804934, -1.0507009873554804934 * 1.6732632423543772848},
                         1e-12));
}

TEST(Activation, SELUGradcheck) {
  EXPECT_TRUE(grad_ok([](const auto& in) { return nn::functional::selu(in[0]); },
                      {rand_input({2, 3}, 1, -2, 2)}));
  EXPECT_TRUE(gradgrad_ok([](const auto& in) { return nn::functional::selu(in[0].t()); },
                          {rand_input({3, 2}, 2, -2, 2)}));
}

TEST(Activation, HardtanhMatchesPyTorchIncludingTheEnds) {
  for (const char* key : {"hardtanh", "hardtanh_default"}) {
    const auto& j = fixtures()[key];
    double lo = j.contains("min_val") ? j["min_val"].get<double>() : -1.0;
    double hi = j.contains("max_val") ? j["max_val"].get<double>() : 1.0;
    Tensor<double> x = fixture_tensor(j["x"]), gy = fixture_tensor(j["gy"]);
    auto f = [lo, hi](const Tensor<double>& v) { return nn::functional::hardtanh(v, lo, hi); };
    EXPECT_TRUE(all_close(f(x), fixture_tensor(j["y"]), 1e-12, 1e-10)) << key;
    // x holds the ends exactly (-0.5, 1 and -1): their gradient is 0, as PyTorch's.
    EXPECT_TRUE(all_close(grad_of(f, x, gy), fixture_tensor(j["dx"]), 1e-12, 1e-10)) << key;
    EXPECT_TRUE(
        all_close(nn::Hardtanh(lo, hi)(x.to<float>()), fixture_tensor<float>(j["y"]), 1e-6, 1e-6))
        << key;
  }
}

TEST(Activation, HardtanhGradcheckAndErrors) {
  EXPECT_TRUE(grad_ok([](const auto& in) { return nn::functional::hardtanh(in[0], -0.4, 0.6); },
                      {rand_input({3, 4}, 3)}));
  EXPECT_TRUE(
      gradgrad_ok([](const auto& in) { return nn::functional::hardtanh(in[0].t(), -0.4, 0.6); },
                  {rand_input({4, 3}, 4)}));
  SINEW_EXPECT_ERROR(nn::Hardtanh(1.0, -1.0), "Hardtanh", "min_val");
  SINEW_EXPECT_ERROR(nn::functional::hardtanh(rand_input({2}), 2.0, 1.0), "hardtanh", "min_val");
  EXPECT_EQ(nn::Hardtanh(-2, 3).extra_repr(), "min_val=-2, max_val=3");
}

TEST(Activation, PReLUMatchesPyTorchWithWeightGradient) {
  for (const char* key : {"prelu", "prelu_single"}) {
    const auto& j = fixtures()[key];
    Tensor<double> x = fixture_tensor(j["x"]).requires_grad_();
    Tensor<double> w = fixture_tensor(j["weight"]).requires_grad_();
    Tensor<double> y = nn::functional::prelu(x, w);
    EXPECT_TRUE(all_close(y, fixture_tensor(j["y"]), 1e-12, 1e-10)) << key;
    (y * fixture_tensor(j["gy"])).sum().backward();
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(j["dx"]), 1e-12, 1e-10)) << key;
    EXPECT_TRUE(all_close(w.grad(), fixture_tensor(j["dweight"]), 1e-12, 1e-10)) << key;

    // The module: float, its learnable weight gets the same gradient.
    nn::PReLU m(w.numel());
    nn::init::detail::assign(m.weight, fixture_tensor<float>(j["weight"]));
    Tensor<float> yf = m(fixture_tensor<float>(j["x"]));
    EXPECT_TRUE(all_close(yf, fixture_tensor<float>(j["y"]), 1e-5, 1e-5)) << key;
    (yf * fixture_tensor<float>(j["gy"])).sum().backward();
    EXPECT_TRUE(all_close(m.weight.grad(), fixture_tensor<float>(j["dweight"]), 1e-5, 1e-5)) << key;
  }
}

TEST(Activation, PReLUModuleInitGradcheckAndErrors) {
  nn::PReLU p;
  ASSERT_EQ(p.named_parameters().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_EQ(p.weight.shape(), (Shape{1}));
  EXPECT_TRUE(values_are(p.weight, {0.25}));
  nn::PReLU q(4, 0.1);
  EXPECT_TRUE(values_are(q.weight, {0.1, 0.1, 0.1, 0.1}, 1e-7));
  EXPECT_EQ(q.extra_repr(), "num_parameters=4");
  auto c = nn::clone(q);
  EXPECT_FALSE(c->weight.is_same(q.weight));
  EXPECT_TRUE(all_close(c->weight, q.weight, 0, 0));

  // Per channel on [N, C, H, W], non-contiguous x, and one weight on a 1-d input.
  EXPECT_TRUE(grad_ok([](const auto& in) { return nn::functional::prelu(in[0], in[1]); },
                      {rand_input({2, 3, 2, 2}, 5), rand_input({3}, 6)}));
  EXPECT_TRUE(
      grad_ok([](const auto& in) { return nn::functional::prelu(in[0].transpose(0, 1), in[1]); },
              {rand_input({3, 2, 2}, 7), rand_input({3}, 8)}));
  EXPECT_TRUE(grad_ok([](const auto& in) { return nn::functional::prelu(in[0], in[1]); },
                      {rand_input({5}, 9), rand_input({1}, 10)}));
  EXPECT_TRUE(gradgrad_ok([](const auto& in) { return nn::functional::prelu(in[0], in[1]); },
                          {rand_input({2, 3}, 11), rand_input({3}, 12)}));

  SINEW_EXPECT_ERROR(nn::PReLU(3)(rand<float>({2, 4})), "prelu", "3 parameters", "[2, 4]");
  SINEW_EXPECT_ERROR(nn::PReLU(3)(rand<float>({3})), "prelu", "[3]");
  SINEW_EXPECT_ERROR(nn::PReLU(0), "PReLU", "num_parameters");
  SINEW_EXPECT_ERROR(nn::functional::prelu(rand_input({2, 2}), rand_input({2, 1})), "prelu",
                     "0-d or 1-d");
}

TEST(Activation, MaxoutMatchesPyTorch) {
  const auto& j = fixtures()["maxout"];
  int64_t pieces = j["pieces"].get<int64_t>();
  Tensor<double> x = fixture_tensor(j["x"]), gy = fixture_tensor(j["gy"]);
  auto f = [pieces](const Tensor<double>& v) { return nn::functional::maxout(v, pieces); };
  EXPECT_TRUE(all_close(f(x), fixture_tensor(j["y"]), 0, 0));
  EXPECT_TRUE(all_close(grad_of(f, x, gy), fixture_tensor(j["dx"]), 1e-12, 1e-10));
  EXPECT_TRUE(all_close(nn::Maxout(pieces)(x.to<float>()), fixture_tensor<float>(j["y"]), 0, 0));
}

TEST(Activation, MaxoutGroupsConsecutiveFeatures) {
  // [1, 6] with pieces 3: groups {1, 5, 2} and {-1, -4, 0}.
  Tensor<float> x = from_vector<float>({1, 5, 2, -1, -4, 0}, {1, 6});
  EXPECT_TRUE(values_are(nn::Maxout(3)(x), {5, 0}));
  EXPECT_EQ(nn::Maxout(2)(rand<float>({4, 6, 5})).shape(), (Shape{4, 3, 5}));
  EXPECT_TRUE(grad_ok([](const auto& in) { return nn::functional::maxout(in[0], 2); },
                      {rand_input({2, 4, 3}, 13)}));
  EXPECT_TRUE(grad_ok([](const auto& in) { return nn::functional::maxout(in[0].t(), 3); },
                      {rand_input({6, 2}, 14)}));
  SINEW_EXPECT_ERROR(nn::Maxout(4)(rand<float>({2, 6})), "maxout", "[2, 6]", "pieces = 4");
  SINEW_EXPECT_ERROR(nn::Maxout(2)(rand<float>({6})), "maxout", "[6]");
  SINEW_EXPECT_ERROR(nn::Maxout(0), "Maxout", "pieces");
  EXPECT_EQ(nn::Maxout(2).extra_repr(), "pieces=2");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
