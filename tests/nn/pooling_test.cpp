// Tests for ops/pool.hpp and nn/pooling.hpp: values, indices and input gradients against PyTorch
// (tests/fixtures/gen_pooling.py) for max / average / adaptive pooling in 1-d and 2-d (padding,
// dilation, ceil_mode, count_include_pad, divisor_override, unbatched input, ties), the float
// modules on the same cases, shapes, gradcheck and gradgradcheck in double, and error paths.
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "fixture.hpp"
#include "test_util.hpp"

using namespace sinew;
namespace F = sinew::nn::functional;
using nlohmann::json;
using sinew::testing::all_close;
using sinew::testing::fixture_tensor;
using sinew::testing::grad_ok;
using sinew::testing::gradgrad_ok;
using sinew::testing::rand_input;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {

const json& pooling_cases() {
  static const json j = sinew::testing::load_fixture("nn/pooling.json");
  return j.at("cases");
}

nn::IntPair size2(const json& c, const char* key, int64_t fallback) {
  if (!c.contains(key)) return fallback;
  return {c[key][0].get<int64_t>(), c[key][1].get<int64_t>()};
}
std::optional<nn::IntPair> stride2(const json& c) {
  if (!c.contains("stride")) return std::nullopt;
  return size2(c, "stride", 1);
}
int64_t int1(const json& c, const char* key, int64_t fallback) {
  return c.contains(key) ? c[key].get<int64_t>() : fallback;
}
std::optional<int64_t> stride1(const json& c) {
  if (!c.contains("stride")) return std::nullopt;
  return c["stride"].get<int64_t>();
}
bool flag(const json& c, const char* key, bool fallback) {
  return c.contains(key) ? c[key].get<bool>() : fallback;
}

// Runs the functional op a fixture case names: values and (for max pools) indices.
template <class T>
ValuesIndices<T> run_functional(const json& c, const Tensor<T>& x) {
  const std::string op = c["op"];
  if (op == "max_pool2d")
    return F::max_pool2d_with_indices(x, size2(c, "kernel", 1), stride2(c), size2(c, "padding", 0),
                                      size2(c, "dilation", 1), flag(c, "ceil_mode", false));
  if (op == "max_pool1d")
    return F::max_pool1d_with_indices(x, int1(c, "kernel", 1), stride1(c), int1(c, "padding", 0),
                                      int1(c, "dilation", 1), flag(c, "ceil_mode", false));
  if (op == "adaptive_max_pool2d")
    return F::adaptive_max_pool2d_with_indices(x, size2(c, "output_size", 1));
  if (op == "adaptive_max_pool1d")
    return F::adaptive_max_pool1d_with_indices(x, int1(c, "output_size", 1));
  Tensor<T> y;
  if (op == "avg_pool2d") {
    std::optional<int64_t> div;
    if (c.contains("divisor_override")) div = c["divisor_override"].get<int64_t>();
    y = F::avg_pool2d(x, size2(c, "kernel", 1), stride2(c), size2(c, "padding", 0),
                      flag(c, "ceil_mode", false), flag(c, "count_include_pad", true), div);
  } else if (op == "avg_pool1d") {
    y = F::avg_pool1d(x, int1(c, "kernel", 1), stride1(c), int1(c, "padding", 0),
                      flag(c, "ceil_mode", false), flag(c, "count_include_pad", true));
  } else if (op == "adaptive_avg_pool2d") {
    y = F::adaptive_avg_pool2d(x, size2(c, "output_size", 1));
  } else if (op == "adaptive_avg_pool1d") {
    y = F::adaptive_avg_pool1d(x, int1(c, "output_size", 1));
  }
  return {y, Tensor<int64_t>()};
}

// The same case through the float layer.
Tensor<float> run_module(const json& c, const Tensor<float>& x) {
  const std::string op = c["op"];
  if (op == "max_pool2d")
    return nn::MaxPool2d(size2(c, "kernel", 1), {.stride = stride2(c),
                                                 .padding = size2(c, "padding", 0),
                                                 .dilation = size2(c, "dilation", 1),
                                                 .ceil_mode = flag(c, "ceil_mode", false)})(x);
  if (op == "max_pool1d")
    return nn::MaxPool1d(int1(c, "kernel", 1), {.stride = stride1(c),
                                                .padding = int1(c, "padding", 0),
                                                .dilation = int1(c, "dilation", 1),
                                                .ceil_mode = flag(c, "ceil_mode", false)})(x);
  if (op == "avg_pool2d") {
    std::optional<int64_t> div;
    if (c.contains("divisor_override")) div = c["divisor_override"].get<int64_t>();
    return nn::AvgPool2d(size2(c, "kernel", 1),
                         {.stride = stride2(c),
                          .padding = size2(c, "padding", 0),
                          .ceil_mode = flag(c, "ceil_mode", false),
                          .count_include_pad = flag(c, "count_include_pad", true),
                          .divisor_override = div})(x);
  }
  if (op == "avg_pool1d")
    return nn::AvgPool1d(int1(c, "kernel", 1),
                         {.stride = stride1(c),
                          .padding = int1(c, "padding", 0),
                          .ceil_mode = flag(c, "ceil_mode", false),
                          .count_include_pad = flag(c, "count_include_pad", true)})(x);
  if (op == "adaptive_avg_pool2d") return nn::AdaptiveAvgPool2d(size2(c, "output_size", 1))(x);
  if (op == "adaptive_avg_pool1d") return nn::AdaptiveAvgPool1d(int1(c, "output_size", 1))(x);
  if (op == "adaptive_max_pool2d") return nn::AdaptiveMaxPool2d(size2(c, "output_size", 1))(x);
  return nn::AdaptiveMaxPool1d(int1(c, "output_size", 1))(x);
}

TEST(Pooling, FunctionalOpsMatchPyTorchValuesIndicesAndGradients) {
  ASSERT_EQ(pooling_cases().size(), 24u);
  for (const json& c : pooling_cases()) {
    SCOPED_TRACE(c.dump().substr(0, 160));
    Tensor<double> x = fixture_tensor<double>(c["x"]).requires_grad_();
    ValuesIndices<double> r = run_functional(c, x);
    EXPECT_TRUE(all_close(r.values, fixture_tensor<double>(c["y"]), 1e-12, 1e-10));
    if (c.contains("indices")) {
      ASSERT_TRUE(r.indices.defined());
      EXPECT_TRUE(all_close(r.indices, fixture_tensor<int64_t>(c["indices"]), 0, 0));
    }
    r.values.backward(fixture_tensor<double>(c["gy"]));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor<double>(c["gx"]), 1e-12, 1e-10));
  }
}

TEST(Pooling, FloatModulesMatchPyTorch) {
  for (const json& c : pooling_cases()) {
    SCOPED_TRACE(c.dump().substr(0, 160));
    Tensor<float> x = fixture_tensor<float>(c["x"]).requires_grad_();
    Tensor<float> y = run_module(c, x);
    EXPECT_TRUE(all_close(y, fixture_tensor<float>(c["y"]), 1e-5, 1e-5));
    y.backward(fixture_tensor<float>(c["gy"]));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor<float>(c["gx"]), 1e-5, 1e-5));
  }
}

TEST(Pooling, OutputShapes) {
  Tensor<float> x = zeros<float>({2, 3, 28, 28});
  EXPECT_EQ(nn::MaxPool2d(2)(x).shape(), Shape({2, 3, 14, 14}));
  EXPECT_EQ(nn::MaxPool2d(3, {.stride = 2})(x).shape(), Shape({2, 3, 13, 13}));
  EXPECT_EQ(nn::MaxPool2d(3, {.stride = 2, .ceil_mode = true})(x).shape(), Shape({2, 3, 14, 14}));
  EXPECT_EQ(nn::MaxPool2d({2, 4}, {.padding = {1, 2}, .dilation = {1, 2}})(x).shape(),
            Shape({2, 3, 15, 7}));
  EXPECT_EQ(nn::AvgPool2d(3, {.stride = 1, .padding = 1})(x).shape(), Shape({2, 3, 28, 28}));
  EXPECT_EQ(nn::AdaptiveAvgPool2d(1)(x).shape(), Shape({2, 3, 1, 1}));
  EXPECT_EQ(nn::AdaptiveMaxPool2d({5, 7})(x).shape(), Shape({2, 3, 5, 7}));
  EXPECT_EQ(nn::MaxPool1d(2)(zeros<float>({4, 7})).shape(), Shape({4, 3}));
  EXPECT_EQ(nn::AvgPool1d(2, {.ceil_mode = true})(zeros<float>({1, 4, 7})).shape(),
            Shape({1, 4, 4}));
  EXPECT_EQ(nn::AdaptiveAvgPool1d(3)(zeros<float>({2, 5, 10})).shape(), Shape({2, 5, 3}));
  // An empty batch gives an empty batch.
  EXPECT_EQ(nn::MaxPool2d(2)(zeros<float>({0, 3, 4, 4})).shape(), Shape({0, 3, 2, 2}));
}

TEST(Pooling, MaxPoolIndicesAreFlatPerPlanePositionsAndTiesTakeTheFirst) {
  // Plane 0: 0..15 row-major (max at the bottom right of each window); plane 1: all equal.
  Tensor<double> x = cat(std::vector<Tensor<double>>{arange<double>(16).reshape({1, 1, 4, 4}),
                                                     ones<double>({1, 1, 4, 4})},
                         1)
                         .detach()
                         .requires_grad_();
  auto [y, idx] = F::max_pool2d_with_indices(x, 2);
  EXPECT_TRUE(values_are(y, {5, 7, 13, 15, 1, 1, 1, 1}));
  EXPECT_TRUE(values_are(idx, {5, 7, 13, 15, 0, 2, 8, 10}));
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad().select(1, 1).flatten(),
                         {1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0}));
  nn::MaxPool1d pool(3, {.stride = 1, .padding = 1});
  auto r = pool.forward_with_indices(from_vector<float>({3, 1, 4, 1, 5}, {1, 5}));
  EXPECT_TRUE(values_are(r.values, {3, 4, 4, 5, 5}));
  EXPECT_TRUE(values_are(r.indices, {0, 2, 2, 4, 4}));
}

TEST(Pooling, TwoByTwoFastPathAgreesWithTheGeneralLoop) {
  // Floor mode on 7x7 takes the vectorized 2x2 path; ceil mode (a window past the edge) the
  // general loop. The shared 3x3 corner must agree in values and indices, ties and NaN included.
  Generator g(21);
  Tensor<double> x = randint<double>(0, 3, {2, 3, 7, 7}, g);
  x.set({0, 1, 2, 3}, std::numeric_limits<double>::quiet_NaN());
  auto fast = F::max_pool2d_with_indices(x, 2);
  auto general = F::max_pool2d_with_indices(x, 2, std::nullopt, 0, 1, /*ceil_mode=*/true);
  ASSERT_EQ(general.values.shape(), Shape({2, 3, 4, 4}));
  Tensor<double> corner = general.values.slice(2, 0, 3).slice(3, 0, 3);
  EXPECT_TRUE(all_close(fast.values, corner.contiguous(), 0, 0));
  EXPECT_TRUE(
      all_close(fast.indices, general.indices.slice(2, 0, 3).slice(3, 0, 3).contiguous(), 0, 0));
  EXPECT_TRUE(std::isnan(fast.values.at({0, 1, 1, 1})));
}

TEST(Pooling, OverlappingWindowsAccumulateTheGradient) {
  Tensor<double> x = from_vector<double>({0, 9, 1, 2}, {1, 1, 4}).requires_grad_();
  F::max_pool1d(x, 2, 1).sum().backward();  // windows (0, 9), (9, 1), (1, 2)
  EXPECT_TRUE(values_are(x.grad(), {0, 2, 0, 1}));
}

TEST(Pooling, NaNPropagatesThroughMaxPooling) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor<double> x = from_vector<double>({1, nan, 3, 4}, {1, 1, 2, 2});
  EXPECT_TRUE(std::isnan(F::max_pool2d(x, 2).item()));
  EXPECT_TRUE(std::isnan(F::adaptive_max_pool2d(x, 1).item()));
}

TEST(Pooling, AveragePoolingHandValues) {
  Tensor<double> x = arange<double>(1, 7).reshape({1, 1, 6});
  EXPECT_TRUE(values_are(F::avg_pool1d(x, 2), {1.5, 3.5, 5.5}));
  // Padding counts as zeros unless count_include_pad is false.
  EXPECT_TRUE(values_are(F::avg_pool1d(x, 2, 2, 1), {0.5, 2.5, 4.5, 3.0}));
  EXPECT_TRUE(values_are(F::avg_pool1d(x, 2, 2, 1, false, false), {1, 2.5, 4.5, 6}));
  Tensor<double> x2 = ones<double>({1, 1, 2, 2});
  EXPECT_TRUE(values_are(F::avg_pool2d(x2, 2, std::nullopt, 0, false, true, 8), {0.5}));
  // Adaptive bins [0, 2), [1, 3) for 3 -> 2.
  EXPECT_TRUE(
      values_are(F::adaptive_avg_pool1d(arange<double>(3).reshape({1, 1, 3}), 2), {0.5, 1.5}));
}

TEST(Pooling, GradcheckInDouble) {
  Tensor<double> x = rand_input({2, 2, 5, 4}, 3);
  Tensor<double> xt = rand_input({2, 2, 4, 5}, 4);  // transposed: a non-contiguous input
  Tensor<double> x1 = rand_input({2, 3, 7}, 5);
  auto check = [](const autograd::SingleFn& f, const Tensor<double>& in) {
    EXPECT_TRUE(grad_ok(f, {in}));
    EXPECT_TRUE(gradgrad_ok(f, {in}));
  };
  using V = const std::vector<Tensor<double>>&;
  check(
      [](V in) {
        return F::max_pool2d(in[0], {3, 2}, nn::IntPair(2, 1), {1, 1}, {1, 2}, true);
      },
      x);
  check([](V in) { return F::max_pool2d(in[0].transpose(2, 3), 2, nn::IntPair(1)); }, xt);
  check([](V in) { return F::avg_pool2d(in[0], 3, 2, 1, true, false); }, x);
  check(
      [](V in) {
        return F::avg_pool2d(in[0].transpose(2, 3), {2, 3}, std::nullopt, {1, 0});
      },
      xt);
  check([](V in) { return F::adaptive_avg_pool2d(in[0], {3, 3}); }, x);
  check([](V in) { return F::adaptive_max_pool2d(in[0], {2, 3}); }, x);
  check([](V in) { return F::max_pool1d(in[0], 3, 2, 1, 2, true); }, x1);
  check([](V in) { return F::avg_pool1d(in[0], 3, 2, 1, true, true); }, x1);
  check([](V in) { return F::adaptive_avg_pool1d(in[0], 4); }, x1);
  check([](V in) { return F::adaptive_max_pool1d(in[0], 3); }, x1);
}

TEST(Pooling, ExtraReprLikePyTorch) {
  EXPECT_EQ(nn::MaxPool2d(2).extra_repr(),
            "kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false");
  EXPECT_EQ(nn::MaxPool2d({2, 3}, {.stride = 1, .padding = {1, 0}, .ceil_mode = true}).extra_repr(),
            "kernel_size=(2, 3), stride=1, padding=(1, 0), dilation=1, ceil_mode=true");
  EXPECT_EQ(nn::MaxPool1d(3, {.stride = 2}).extra_repr(),
            "kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=false");
  EXPECT_EQ(nn::AvgPool2d(3, {.padding = 1}).extra_repr(), "kernel_size=3, stride=3, padding=1");
  EXPECT_EQ(nn::AvgPool1d(2).extra_repr(), "kernel_size=2, stride=2, padding=0");
  EXPECT_EQ(nn::AdaptiveAvgPool2d({3, 4}).extra_repr(), "output_size=(3, 4)");
  EXPECT_EQ(nn::AdaptiveMaxPool1d(5).extra_repr(), "output_size=5");
  EXPECT_TRUE(nn::MaxPool2d(2, {.return_indices = true}).options().return_indices);
}

TEST(Pooling, RejectsBadInputsAndOptions) {
  Tensor<float> x = zeros<float>({1, 2, 4, 4});
  SINEW_EXPECT_ERROR(F::max_pool2d(zeros<float>({4, 4}), 2), "max_pool2d", "[C, H, W]", "[4, 4]");
  SINEW_EXPECT_ERROR(F::max_pool1d(x, 2), "max_pool1d", "[N, C, L]", "[1, 2, 4, 4]");
  SINEW_EXPECT_ERROR(F::max_pool2d(x, 2, std::nullopt, 2), "max_pool2d", "half the kernel size",
                     "padding [2, 2]");
  SINEW_EXPECT_ERROR(F::avg_pool2d(x, 5), "avg_pool2d", "output would be empty", "[1, 2, 4, 4]");
  SINEW_EXPECT_ERROR(F::max_pool2d(x, 3, std::nullopt, 0, 2), "max_pool2d",
                     "output would be empty");
  SINEW_EXPECT_ERROR(F::max_pool2d(x, 0), "max_pool2d", "kernel_size must be positive");
  SINEW_EXPECT_ERROR(F::max_pool2d(x, 2, nn::IntPair(0)), "max_pool2d", "stride");
  SINEW_EXPECT_ERROR(F::max_pool2d(x, 2, std::nullopt, 0, 0), "max_pool2d", "dilation");
  SINEW_EXPECT_ERROR(F::avg_pool2d(x, 2, std::nullopt, 0, false, true, 0), "avg_pool2d",
                     "divisor_override");
  SINEW_EXPECT_ERROR(F::adaptive_avg_pool2d(x, 0), "adaptive_avg_pool2d", "output_size");
  SINEW_EXPECT_ERROR(F::adaptive_max_pool2d(zeros<float>({1, 2, 0, 3}), 1), "adaptive_max_pool2d",
                     "non-zero", "[1, 2, 0, 3]");
  SINEW_EXPECT_ERROR(nn::MaxPool2d(3, {.padding = 2}), "MaxPool2d", "half the kernel size");
  SINEW_EXPECT_ERROR(nn::MaxPool1d(2, {.stride = 0}), "MaxPool1d",
                     "stride must be positive, got 0");
  SINEW_EXPECT_ERROR(nn::AvgPool2d(2, {.divisor_override = -1}), "AvgPool2d", "divisor_override");
  SINEW_EXPECT_ERROR(nn::AdaptiveMaxPool1d(0), "AdaptiveMaxPool1d", "output_size");
}

// MaxPool2dT<double> picks the same maxima as the float layer (values, indices and gradient).
TEST(MaxPool2d, DoubleLayerMatchesTheFloatLayer) {
  nn::MaxPool2d pf(3, {.stride = 2, .padding = 1});
  nn::MaxPool2dT<double> pd(3, {.stride = 2, .padding = 1});
  Tensor<float> xf = rand<float>({2, 3, 7, 6}).requires_grad_();
  Tensor<double> xd = xf.detach().to<double>().requires_grad_();
  ValuesIndices<float> rf = pf.forward_with_indices(xf);
  ValuesIndices<double> rd = pd.forward_with_indices(xd);
  EXPECT_TRUE(all_close(rd.values.to<float>(), rf.values, 0, 0));
  EXPECT_TRUE(all_close(rd.indices, rf.indices, 0, 0));
  pf(xf).sum().backward();
  pd(xd).sum().backward();
  EXPECT_TRUE(all_close(xd.grad().to<float>(), xf.grad(), 0, 0));
  EXPECT_EQ(pd.extra_repr(), pf.extra_repr());
}

}  // namespace SINEW_UNITY_ID
}  // namespace
