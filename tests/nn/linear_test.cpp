// Tests for nn/linear.hpp: values against hand computation, gradients against the closed forms
// dW = g^T x, db = sum g, dx = g W, PyTorch's default init range, options and errors.
#include <cmath>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
void set_values(Tensor<float>& t, const std::vector<float>& v) {
  NoGradGuard g;
  t.detach().copy_(from_vector<float>(v, t.shape()));
}

TEST(Linear, ParametersHavePyTorchsShapesAndNames) {
  nn::Linear lin(3, 2);
  EXPECT_EQ(lin.weight.shape(), (Shape{2, 3}));
  EXPECT_EQ(lin.bias.shape(), (Shape{2}));
  EXPECT_EQ(lin.named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(lin.in_features(), 3);
  EXPECT_EQ(lin.out_features(), 2);
}

TEST(Linear, ForwardMatchesHandComputation) {
  nn::Linear lin(3, 2);
  set_values(lin.weight, {1, 2, 3, 4, 5, 6});
  set_values(lin.bias, {0.5f, -1});
  Tensor<float> x = from_vector<float>({1, 0, -1, 2, 1, 0}, {2, 3});
  // [1, 0, -1] . [1, 2, 3] + 0.5 = -1.5;  . [4, 5, 6] - 1 = -3;  [2, 1, 0]: 4.5 and 12.
  EXPECT_TRUE(values_are(lin(x), {-1.5, -3, 4.5, 12}));
}

TEST(Linear, WithoutBiasHasOnlyAWeight) {
  nn::Linear lin(2, 2, {.bias = false});
  EXPECT_FALSE(lin.bias.defined());
  EXPECT_EQ(lin.named_parameters().keys(), std::vector<std::string>{"weight"});
  set_values(lin.weight, {1, 2, 3, 4});
  EXPECT_TRUE(values_are(lin(from_vector<float>({1, 1}, {1, 2})), {3, 7}));
}

TEST(Linear, AcceptsLeadingBatchDimensionsAndA1dInput) {
  nn::Linear lin(4, 3);
  EXPECT_EQ(lin(rand<float>({2, 5, 4})).shape(), (Shape{2, 5, 3}));
  EXPECT_EQ(lin(rand<float>({4})).shape(), (Shape{3}));
}

TEST(Linear, GradientsMatchTheClosedForms) {
  nn::Linear lin(3, 2);
  set_values(lin.weight, {1, -2, 0.5f, 0, 3, -1});
  set_values(lin.bias, {0.1f, 0.2f});
  Tensor<float> x = from_vector<float>({1, 2, 3, -1, 0, 4, 2, 2, -2, 0.5f, 1, 1}, {4, 3});
  x.requires_grad_();
  Tensor<float> g = from_vector<float>({1, 2, -1, 0, 3, 1, 0.5f, -2}, {4, 2});
  (lin(x) * g).sum().backward();
  // dW[o][i] = sum_n g[n][o] x[n][i];  db[o] = sum_n g[n][o];  dx[n][i] = sum_o g[n][o] W[o][i].
  std::vector<double> dw, db(2, 0.0), dx;
  for (int64_t o = 0; o < 2; ++o) {
    for (int64_t i = 0; i < 3; ++i) {
      double s = 0;
      for (int64_t n = 0; n < 4; ++n) s += g.at({n, o}) * x.at({n, i});
      dw.push_back(s);
    }
    for (int64_t n = 0; n < 4; ++n) db[o] += g.at({n, o});
  }
  for (int64_t n = 0; n < 4; ++n) {
    for (int64_t i = 0; i < 3; ++i) {
      double s = 0;
      for (int64_t o = 0; o < 2; ++o) s += g.at({n, o}) * lin.weight.at({o, i});
      dx.push_back(s);
    }
  }
  EXPECT_TRUE(values_are(lin.weight.grad(), dw, 1e-5));
  EXPECT_TRUE(values_are(lin.bias.grad(), db, 1e-5));
  EXPECT_TRUE(values_are(x.grad(), dx, 1e-5));
}

TEST(Linear, GradientMatchesFiniteDifferencesOfALoss) {
  // Central differences in double on the module's own parameters (cast to double) through a
  // nonlinear loss: L = sum(tanh(x W^T + b)^2).
  manual_seed(3);
  nn::Linear lin(3, 2);
  Tensor<float> x = rand<float>({5, 3});
  auto loss = [&](const Tensor<double>& w, const Tensor<double>& b) {
    Tensor<double> y = tanh(linear(x.to<double>(), w, b));
    return (y * y).sum().item();
  };
  (tanh(lin(x)) * tanh(lin(x))).sum().backward();
  Tensor<double> w = lin.weight.detach().to<double>().clone(),
                 b = lin.bias.detach().to<double>().clone();
  const double eps = 1e-6;
  for (int64_t o = 0; o < 2; ++o) {
    for (int64_t i = 0; i < 3; ++i) {
      double v = w.at({o, i});
      w.set({o, i}, v + eps);
      double up = loss(w, b);
      w.set({o, i}, v - eps);
      double down = loss(w, b);
      w.set({o, i}, v);
      EXPECT_NEAR(lin.weight.grad().at({o, i}), (up - down) / (2 * eps), 1e-4) << o << "," << i;
    }
    double v = b.at({o});
    b.set({o}, v + eps);
    double up = loss(w, b);
    b.set({o}, v - eps);
    double down = loss(w, b);
    b.set({o}, v);
    EXPECT_NEAR(lin.bias.grad().at({o}), (up - down) / (2 * eps), 1e-4) << o;
  }
}

TEST(Linear, DefaultInitIsUniformWithinOneOverSqrtIn) {
  manual_seed(0);
  nn::Linear lin(100, 60);
  const double bound = 0.1;  // 1 / sqrt(100)
  auto check = [&](const Tensor<float>& t) {
    auto v = t.to_vector();
    double mn = 1, mx = -1, sum = 0, sq = 0;
    for (float f : v) {
      mn = std::min<double>(mn, f);
      mx = std::max<double>(mx, f);
      sum += f;
      sq += double(f) * f;
    }
    double n = double(v.size()), mean = sum / n;
    EXPECT_GE(mn, -bound);
    EXPECT_LE(mx, bound);
    EXPECT_LT(mn, -0.9 * bound);  // the whole range is used
    EXPECT_GT(mx, 0.9 * bound);
    return std::pair<double, double>{mean, sq / n - mean * mean};
  };
  auto [wm, wv] = check(lin.weight);
  EXPECT_NEAR(wm, 0, 0.005);
  EXPECT_NEAR(wv, bound * bound / 3, 0.1 * bound * bound / 3);  // U(-a, a) variance a^2 / 3
  check(lin.bias);
  EXPECT_TRUE(lin.weight.requires_grad());
  EXPECT_TRUE(lin.weight.is_leaf());
}

TEST(Linear, ZeroInputFeaturesGivesTheBias) {
  nn::Linear lin(0, 2);
  EXPECT_TRUE(values_are(lin.bias, {0, 0}));  // bound 0, as PyTorch
  EXPECT_EQ(lin(zeros<float>({3, 0})).shape(), (Shape{3, 2}));
}

TEST(Linear, RejectsWrongInputWidth) {
  nn::Linear lin(3, 2);
  SINEW_EXPECT_ERROR(lin(zeros<float>({2, 4})), "Linear", "[..., 3]", "[2, 4]");
  SINEW_EXPECT_ERROR(lin(scalar_tensor<float>(1.0)), "Linear", "[..., 3]");
  SINEW_EXPECT_ERROR(nn::Linear(-1, 2), "Linear", "-1");
}

TEST(Linear, PrintsItsOptions) {
  EXPECT_EQ(nn::Linear(3, 2, {.bias = false}).extra_repr(),
            "in_features=3, out_features=2, bias=false");
}

TEST(Linear, CloneCopiesValuesIntoNewMemory) {
  nn::Linear lin(3, 2);
  auto c = nn::clone(lin);
  EXPECT_TRUE(all_close(c->weight, lin.weight, 0, 0));
  EXPECT_TRUE(all_close(c->bias, lin.bias, 0, 0));
  EXPECT_FALSE(c->weight.shares_storage(lin.weight));
  EXPECT_EQ(c->in_features(), 3);
}

// LinearT<double> with a float layer's weights computes its values and gradients.
TEST(Linear, DoubleLayerMatchesTheFloatLayer) {
  manual_seed(4);
  nn::Linear lf(5, 3);
  nn::LinearT<double> ld(5, 3);
  sinew::testing::load_converted(ld, lf);
  Tensor<float> xf = randn<float>({4, 5}).requires_grad_();
  Tensor<double> xd = xf.detach().to<double>().requires_grad_();
  Tensor<float> yf = lf(xf);
  Tensor<double> yd = ld(xd);
  EXPECT_TRUE(all_close(yd.to<float>(), yf, 1e-6, 1e-5));
  (yf * yf).sum().backward();
  (yd * yd).sum().backward();
  EXPECT_TRUE(all_close(ld.weight.grad().to<float>(), lf.weight.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(xd.grad().to<float>(), xf.grad(), 1e-5, 1e-5));
  EXPECT_EQ(ld.extra_repr(), lf.extra_repr());
  auto copy = nn::clone(ld);  // std::shared_ptr<LinearT<double>>, new parameters
  EXPECT_NE(copy->weight.impl_ptr().get(), ld.weight.impl_ptr().get());
  EXPECT_TRUE(all_close(copy->weight, ld.weight, 0, 0));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
