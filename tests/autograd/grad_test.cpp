// Tests for autograd::grad: grad_outputs, allow_unused, error paths, and higher-order
// derivatives with create_graph checked against closed forms.
#include <cmath>
#include <type_traits>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using autograd::grad;
using testing::all_close;
using testing::rand_input;
using testing::values_are;

TEST(Grad, ReturnsGradientsWithoutTouchingDotGrad) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> w = from_vector<double>({3.0, -1.0}).requires_grad_();
  auto g = grad<double>({(x * w).sum()}, {x, w});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_TRUE(values_are(g[0], {3.0, -1.0}));
  EXPECT_TRUE(values_are(g[1], {1.0, 2.0}));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  EXPECT_FALSE(g[0].requires_grad());  // no create_graph: no history
}

TEST(Grad, GradOutputsWeightEachOutput) {
  Tensor<double> x = from_vector<double>({1.0, 2.0, 3.0}).requires_grad_();
  Tensor<double> y1 = x * x;
  Tensor<double> y2 = x.sum();
  auto g =
      grad<double>({y1, y2}, {x}, {from_vector<double>({1.0, 0.0, -1.0}), full<double>({}, 2.0)});
  EXPECT_TRUE(values_are(g[0], {2.0 + 2.0, 0.0 + 2.0, -6.0 + 2.0}));  // 2 x v + 2
}

TEST(Grad, DeducesTheElementTypeFromBracedLists) {
  Tensor<float> xf = from_vector<float>({1.0f, 2.0f}).requires_grad_();
  Tensor<float> yf = xf * xf;
  auto gf = grad({yf}, {xf}, {from_vector<float>({1.0f, -1.0f})});
  static_assert(std::is_same_v<decltype(gf), std::vector<Tensor<float>>>);
  EXPECT_TRUE(values_are(gf[0], {2.0, -4.0}));  // 2 x v

  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> w = from_vector<double>({3.0, -1.0}).requires_grad_();
  auto g = grad({(x * w).sum()}, {x, w});
  static_assert(std::is_same_v<decltype(g), std::vector<Tensor<double>>>);
  EXPECT_TRUE(values_are(g[0], {3.0, -1.0}));
  EXPECT_TRUE(values_are(g[1], {1.0, 2.0}));
  // Vectors and braced lists mix; options follow.
  std::vector<Tensor<double>> inputs = {x};
  auto h = grad({(x * x).sum()}, inputs, {}, {.create_graph = true});
  EXPECT_TRUE(h[0].requires_grad());
  std::vector<Tensor<double>> outputs = {(x * w).sum()};
  EXPECT_TRUE(values_are(grad(outputs, {w})[0], {1.0, 2.0}));
  // autograd::backward as well.
  Tensor<double> y1 = x * 2.0, y2 = (x * x).sum();
  autograd::backward({y1, y2}, {ones<double>({2}), Tensor<double>()});
  EXPECT_TRUE(values_are(x.grad(), {4.0, 6.0}));  // 2 + 2 x
}

// Tensors of different element types pick the overload that exists to stop the build with a
// static_assert naming the problem (decltype only: the call itself would not compile).
TEST(Grad, MixedElementTypesSelectTheDiagnosticOverload) {
  using autograd::detail::MixedElementTypes;
  Tensor<float> f = ones<float>({2}).requires_grad_();
  Tensor<double> d = ones<double>({2}).requires_grad_();
  std::vector<Tensor<double>> ds = {d};
  static_assert(std::is_same_v<decltype(grad({f.sum()}, {d})), MixedElementTypes>);
  static_assert(std::is_same_v<decltype(grad({f.sum(), d.sum()}, {d})), MixedElementTypes>);
  static_assert(
      std::is_same_v<decltype(grad({d.sum()}, {d}, {ones<float>({})})), MixedElementTypes>);
  static_assert(std::is_same_v<decltype(grad({f.sum()}, ds)), MixedElementTypes>);
  static_assert(std::is_same_v<decltype(grad<double>({f.sum()}, {d})), MixedElementTypes>);
  static_assert(std::is_same_v<decltype(autograd::backward({f, d})), MixedElementTypes>);
  // One element type: the real overloads.
  static_assert(std::is_same_v<decltype(grad({d.sum()}, ds)), std::vector<Tensor<double>>>);
  static_assert(std::is_same_v<decltype(grad<float>({f.sum()}, {f})), std::vector<Tensor<float>>>);
  SUCCEED();
}

TEST(Grad, NonLeafInput) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x * 3.0;
  Tensor<double> z = (y * y).sum();
  auto g = grad<double>({z}, {y, x});
  EXPECT_TRUE(values_are(g[0], {6.0, 12.0}));   // 2 y
  EXPECT_TRUE(values_are(g[1], {18.0, 36.0}));  // 2 y * 3
}

TEST(Grad, SameInputTwice) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x * 2.0;
  auto g = grad<double>({(y * y).sum()}, {x, x, y, y});
  EXPECT_TRUE(values_are(g[0], {8.0, 16.0}));
  EXPECT_TRUE(values_are(g[1], {8.0, 16.0}));
  EXPECT_TRUE(values_are(g[2], {4.0, 8.0}));
  EXPECT_TRUE(values_are(g[3], {4.0, 8.0}));
}

TEST(Grad, LeavesRetainedGradsAlone) {
  Tensor<double> x = from_vector<double>({1.0}).requires_grad_();
  Tensor<double> y = x * 2.0;
  y.retain_grad();
  grad<double>({(y * y).sum()}, {x});
  EXPECT_FALSE(y.grad().defined());
}

TEST(Grad, UnusedInputIsAnErrorUnlessAllowed) {
  Tensor<double> x = from_vector<double>({1.0}).requires_grad_();
  Tensor<double> unused = from_vector<double>({1.0, 2.0}).requires_grad_();
  SINEW_EXPECT_ERROR(grad<double>({(x * 2.0).sum()}, {x, unused}), "autograd::grad", "inputs[1]",
                     "[2]", "not used", "allow_unused");
  auto g = grad<double>({(x * 2.0).sum()}, {x, unused}, {}, {.allow_unused = true});
  EXPECT_TRUE(values_are(g[0], {2.0}));
  EXPECT_FALSE(g[1].defined());
}

TEST(Grad, InputNotRequiringGradIsAnError) {
  Tensor<double> x = from_vector<double>({1.0}).requires_grad_();
  Tensor<double> c = from_vector<double>({1.0, 2.0, 3.0});
  SINEW_EXPECT_ERROR(grad<double>({(x * 2.0).sum()}, {x, c}), "autograd::grad", "inputs[1]", "[3]",
                     "does not require grad");
}

TEST(Grad, OutputErrors) {
  Tensor<double> x = rand_input({2, 2});
  SINEW_EXPECT_ERROR(grad<double>({x * 2.0}, {x}), "autograd::grad", "only for scalar outputs",
                     "[2, 2]");
  SINEW_EXPECT_ERROR(grad<double>({x * 2.0}, {x}, {ones<double>({4})}), "grad_outputs[0]", "[4]",
                     "[2, 2]");
  SINEW_EXPECT_ERROR(grad<double>({x.sum(), x.sum()}, {x}, {ones<double>({})}),
                     "got 1 grad_outputs", "2 outputs");
  SINEW_EXPECT_ERROR(grad<double>({ones<double>({})}, {x}), "does not require grad");
  SINEW_EXPECT_ERROR(grad<double>({}, {x}), "no outputs");
  SINEW_EXPECT_ERROR(grad<double>({x.sum()}, {}), "no inputs");
}

TEST(Grad, RetainGraphDefaultsToCreateGraph) {
  Tensor<double> x = from_vector<double>({1.0}).requires_grad_();
  Tensor<double> y = exp(x).sum();
  grad<double>({y}, {x});
  SINEW_EXPECT_ERROR(grad<double>({y}, {x}), "retain_graph");
  Tensor<double> z = exp(x).sum();
  grad<double>({z}, {x}, {}, {.retain_graph = true});
  auto again = grad<double>({z}, {x});
  EXPECT_TRUE(values_are(again[0], {std::exp(1.0)}, 1e-12));
}

// d²f/dx² for an elementwise f: the gradient of sum(df/dx) (the Hessian is diagonal).
template <class F>
std::vector<Tensor<double>> first_and_second(F f, const Tensor<double>& x) {
  auto g = grad<double>({f(x).sum()}, {x}, {}, {.create_graph = true});
  EXPECT_TRUE(g[0].requires_grad());
  auto gg = grad<double>({g[0].sum()}, {x});
  return {g[0], gg[0]};
}

TEST(HigherOrder, Tanh) {
  Tensor<double> x = from_vector<double>({-1.5, -0.2, 0.0, 0.7, 2.0}).requires_grad_();
  auto d = first_and_second([](const Tensor<double>& v) { return tanh(v); }, x);
  std::vector<double> d1, d2;
  for (double v : x.to_vector()) {
    double t = std::tanh(v);
    d1.push_back(1 - t * t);
    d2.push_back(-2 * t * (1 - t * t));
  }
  EXPECT_TRUE(values_are(d[0], d1, 1e-12));
  EXPECT_TRUE(values_are(d[1], d2, 1e-12));
}

TEST(HigherOrder, Sigmoid) {
  Tensor<double> x = from_vector<double>({-3.0, -0.5, 0.0, 1.0, 2.5}).requires_grad_();
  auto d = first_and_second([](const Tensor<double>& v) { return sigmoid(v); }, x);
  std::vector<double> d1, d2;
  for (double v : x.to_vector()) {
    double s = 1 / (1 + std::exp(-v));
    d1.push_back(s * (1 - s));
    d2.push_back(s * (1 - s) * (1 - 2 * s));
  }
  EXPECT_TRUE(values_are(d[0], d1, 1e-12));
  EXPECT_TRUE(values_are(d[1], d2, 1e-12));
}

TEST(HigherOrder, Exp) {
  Tensor<double> x = from_vector<double>({-1.0, 0.0, 1.5}).requires_grad_();
  auto d = first_and_second([](const Tensor<double>& v) { return exp(v); }, x);
  std::vector<double> e;
  for (double v : x.to_vector()) e.push_back(std::exp(v));
  EXPECT_TRUE(values_are(d[0], e, 1e-12));
  EXPECT_TRUE(values_are(d[1], e, 1e-12));
}

TEST(HigherOrder, CubeThroughMul) {
  Tensor<double> x = from_vector<double>({-2.0, 0.5, 3.0}).requires_grad_();
  auto cube = [](const Tensor<double>& v) { return v * v * v; };
  auto d = first_and_second(cube, x);
  EXPECT_TRUE(values_are(d[0], {12.0, 0.75, 27.0}, 1e-12));  // 3 x²
  EXPECT_TRUE(values_are(d[1], {-12.0, 3.0, 18.0}, 1e-12));  // 6 x
  // Third order: keep the graph of the second derivative too.
  auto g1 = grad<double>({cube(x).sum()}, {x}, {}, {.create_graph = true});
  auto g2 = grad<double>({g1[0].sum()}, {x}, {}, {.create_graph = true});
  auto g3 = grad<double>({g2[0].sum()}, {x});
  EXPECT_TRUE(values_are(g3[0], {6.0, 6.0, 6.0}, 1e-12));
}

// f = (sum x)²: df/dx_i = 2 sum(x) for every i, so H v = 2 sum(v) in every element.
TEST(HigherOrder, Sum) {
  Tensor<double> x = from_vector<double>({1.0, -2.0, 4.0}).requires_grad_();
  Tensor<double> s = x.sum();
  auto g = grad<double>({s * s}, {x}, {}, {.create_graph = true});
  EXPECT_TRUE(values_are(g[0], {6.0, 6.0, 6.0}, 1e-12));
  auto hv = grad<double>({g[0]}, {x}, {from_vector<double>({1.0, 2.0, -0.5})});
  EXPECT_TRUE(values_are(hv[0], {5.0, 5.0, 5.0}, 1e-12));
}

// A gradient penalty: backward through a gradient. f = sum(x³), g = 3x², sum(g²) = 9 sum(x⁴),
// whose gradient is 36 x³.
TEST(HigherOrder, BackwardThroughAGradient) {
  Tensor<double> x = from_vector<double>({1.0, -0.5}).requires_grad_();
  auto g = grad<double>({(x * x * x).sum()}, {x}, {}, {.create_graph = true});
  (g[0] * g[0]).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {36.0, -4.5}, 1e-12));
}

// backward(create_graph) leaves a .grad with history; differentiating it gives f''. That
// history holds x, so x and its .grad form a reference cycle (as in PyTorch) until .grad is reset.
TEST(HigherOrder, BackwardWithCreateGraph) {
  Tensor<double> x = from_vector<double>({0.3, -1.2}).requires_grad_();
  exp(x * 2.0).sum().backward(Tensor<double>(), false, /*create_graph=*/true);
  Tensor<double> gx = x.grad();
  ASSERT_TRUE(gx.requires_grad());
  EXPECT_TRUE(values_are(gx, {2 * std::exp(0.6), 2 * std::exp(-2.4)}, 1e-12));
  auto gg = grad<double>({gx.sum()}, {x});
  EXPECT_TRUE(values_are(gg[0], {4 * std::exp(0.6), 4 * std::exp(-2.4)}, 1e-12));
  x.set_grad(Tensor<double>());  // the .grad's history refers back to x: break the cycle
}

// f = xᵀ M x for x [3, 1]: the gradient is (M + Mᵀ) x and the Hessian-vector product (M + Mᵀ) v.
TEST(HigherOrder, Matmul) {
  std::vector<double> m = {1.0, 2.0, 0.0, -1.0, 3.0, 0.5, 4.0, 0.0, -2.0};
  Tensor<double> M = from_vector<double>(m, {3, 3});
  Tensor<double> x = from_vector<double>({1.0, -1.0, 2.0}, {3, 1}).requires_grad_();
  Tensor<double> f = matmul(matmul(x.t(), M), x).sum();
  auto g = grad<double>({f}, {x}, {}, {.create_graph = true});
  std::vector<double> v = {0.5, 1.0, -1.0}, xs = {1.0, -1.0, 2.0}, expect_g(3, 0.0),
                      expect_hv(3, 0.0);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double s = m[static_cast<size_t>(i * 3 + j)] + m[static_cast<size_t>(j * 3 + i)];
      expect_g[static_cast<size_t>(i)] += s * xs[static_cast<size_t>(j)];
      expect_hv[static_cast<size_t>(i)] += s * v[static_cast<size_t>(j)];
    }
  }
  EXPECT_TRUE(values_are(g[0], expect_g, 1e-12));
  auto hv = grad<double>({g[0]}, {x}, {from_vector<double>(v, {3, 1})});
  EXPECT_TRUE(values_are(hv[0], expect_hv, 1e-12));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
