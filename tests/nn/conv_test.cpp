// Tests for ops/conv.hpp and nn/conv.hpp: output shapes, values and gradients against PyTorch
// (tests/fixtures/gen_conv.py -> nn/conv.json), gradcheck / gradgradcheck in double, the padding
// modes, the modules' parameters, init, printing, and error messages.
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "test_util.hpp"

using namespace sinew;
using nlohmann::json;
using sinew::testing::all_close;
using sinew::testing::fixture_tensor;
using sinew::testing::grad_ok;
using sinew::testing::gradgrad_ok;
using sinew::testing::rand_input;
namespace F = sinew::nn::functional;

namespace {
namespace SINEW_UNITY_ID {

const json& fixture() {
  static const json j = sinew::testing::load_fixture("nn/conv.json");
  return j;
}

const json& find_case(const std::string& name) {
  for (const auto& c : fixture().at("cases")) {
    if (c.at("name") == name) return c;
  }
  throw Error("no fixture case " + name);
}

nn::IntPair pair_of(const json& opts, const char* key, int64_t def) {
  if (!opts.contains(key)) return def;
  const json& v = opts.at(key);
  if (v.is_array()) return {v[0].get<int64_t>(), v[1].get<int64_t>()};
  return v.get<int64_t>();
}

nn::Padding2d padding2_of(const json& opts) {
  if (opts.contains("padding") && opts.at("padding").is_string())
    return opts.at("padding").get<std::string>();
  return pair_of(opts, "padding", 0);
}

nn::Padding1d padding1_of(const json& opts) {
  if (!opts.contains("padding")) return 0;
  const json& v = opts.at("padding");
  if (v.is_string()) return v.get<std::string>();
  return v.get<int64_t>();
}

int64_t int_of(const json& opts, const char* key, int64_t def) {
  return opts.contains(key) ? opts.at(key).get<int64_t>() : def;
}

// The case's functional op on x, w, b (padding_mode "zeros" cases only).
template <class T>
Tensor<T> run_functional(const json& c, const Tensor<T>& x, const Tensor<T>& w,
                         const Tensor<T>& b) {
  const json& o = c.at("opts");
  const std::string op = c.at("op");
  if (op == "conv1d") {
    return F::conv1d(x, w, b,
                     {.stride = int_of(o, "stride", 1),
                      .padding = padding1_of(o),
                      .dilation = int_of(o, "dilation", 1),
                      .groups = int_of(o, "groups", 1)});
  }
  if (op == "conv2d") {
    return F::conv2d(x, w, b,
                     {.stride = pair_of(o, "stride", 1),
                      .padding = padding2_of(o),
                      .dilation = pair_of(o, "dilation", 1),
                      .groups = int_of(o, "groups", 1)});
  }
  return F::conv_transpose2d(x, w, b,
                             {.stride = pair_of(o, "stride", 1),
                              .padding = pair_of(o, "padding", 0),
                              .output_padding = pair_of(o, "output_padding", 0),
                              .groups = int_of(o, "groups", 1),
                              .dilation = pair_of(o, "dilation", 1)});
}

// Forward output and the gradients of sum(y * gy) in double against PyTorch at 1e-10.
void check_functional(const std::string& name) {
  SCOPED_TRACE(name);
  const json& c = find_case(name);
  Tensor<double> x = fixture_tensor<double>(c.at("x")).requires_grad_();
  Tensor<double> w = fixture_tensor<double>(c.at("w")).requires_grad_();
  Tensor<double> b;
  if (c.contains("b")) b = fixture_tensor<double>(c.at("b")).requires_grad_();
  Tensor<double> y = run_functional(c, x, w, b);
  ASSERT_TRUE(all_close(y, fixture_tensor<double>(c.at("y")), 1e-10, 1e-10));
  (y * fixture_tensor<double>(c.at("gy"))).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), fixture_tensor<double>(c.at("gx")), 1e-10, 1e-10));
  EXPECT_TRUE(all_close(w.grad(), fixture_tensor<double>(c.at("gw")), 1e-10, 1e-10));
  if (b.defined()) {
    EXPECT_TRUE(all_close(b.grad(), fixture_tensor<double>(c.at("gb")), 1e-10, 1e-10));
  }
}

void set_values(Tensor<float>& t, const Tensor<double>& v) {
  NoGradGuard g;
  t.detach().copy_(v.to<float>());
}

// The case through the float module (padding_mode included), with PyTorch's values at ~1e-5.
template <class M>
void check_module(M& m, const json& c) {
  set_values(m.weight, fixture_tensor<double>(c.at("w")));
  if (c.contains("b")) set_values(m.bias, fixture_tensor<double>(c.at("b")));
  Tensor<float> x = fixture_tensor<float>(c.at("x")).requires_grad_();
  Tensor<float> y = m(x);
  ASSERT_TRUE(all_close(y, fixture_tensor<float>(c.at("y")), 1e-5, 1e-5));
  (y * fixture_tensor<float>(c.at("gy"))).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), fixture_tensor<float>(c.at("gx")), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(m.weight.grad(), fixture_tensor<float>(c.at("gw")), 1e-5, 1e-5));
  if (c.contains("b")) {
    EXPECT_TRUE(all_close(m.bias.grad(), fixture_tensor<float>(c.at("gb")), 1e-5, 1e-5));
  }
}

void check_conv2d_module(const std::string& name) {
  SCOPED_TRACE(name);
  const json& c = find_case(name);
  const json& o = c.at("opts");
  Shape ws = fixture_tensor<double>(c.at("w")).shape();
  int64_t groups = int_of(o, "groups", 1);
  nn::Conv2d m(ws[1] * groups, ws[0], {ws[2], ws[3]},
               {.stride = pair_of(o, "stride", 1),
                .padding = padding2_of(o),
                .dilation = pair_of(o, "dilation", 1),
                .groups = groups,
                .bias = c.contains("b"),
                .padding_mode = c.at("padding_mode")});
  check_module(m, c);
}

void check_conv1d_module(const std::string& name) {
  SCOPED_TRACE(name);
  const json& c = find_case(name);
  const json& o = c.at("opts");
  Shape ws = fixture_tensor<double>(c.at("w")).shape();
  int64_t groups = int_of(o, "groups", 1);
  nn::Conv1d m(ws[1] * groups, ws[0], ws[2],
               {.stride = int_of(o, "stride", 1),
                .padding = padding1_of(o),
                .dilation = int_of(o, "dilation", 1),
                .groups = groups,
                .bias = c.contains("b"),
                .padding_mode = c.at("padding_mode")});
  check_module(m, c);
}

void check_transpose_module(const std::string& name) {
  SCOPED_TRACE(name);
  const json& c = find_case(name);
  const json& o = c.at("opts");
  Shape ws = fixture_tensor<double>(c.at("w")).shape();
  int64_t groups = int_of(o, "groups", 1);
  nn::ConvTranspose2d m(ws[0], ws[1] * groups, {ws[2], ws[3]},
                        {.stride = pair_of(o, "stride", 1),
                         .padding = pair_of(o, "padding", 0),
                         .output_padding = pair_of(o, "output_padding", 0),
                         .groups = groups,
                         .bias = c.contains("b"),
                         .dilation = pair_of(o, "dilation", 1)});
  check_module(m, c);
}

std::string printed(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

// ---- values and gradients against PyTorch (double, functional) ---------------------------------

TEST(Conv2d, BasicMatchesPyTorch) { check_functional("basic"); }
TEST(Conv2d, StrideTwoPaddingOneMatchesPyTorch) { check_functional("stride2_padding1"); }
TEST(Conv2d, DilationTwoWithPairOptionsMatchesPyTorch) { check_functional("dilation2_pairs"); }
TEST(Conv2d, GroupsTwoMatchesPyTorch) { check_functional("groups2"); }
TEST(Conv2d, SamePaddingMatchesPyTorch) {
  check_functional("same_odd_kernel");
  check_functional("same_dilation2");
}
TEST(Conv2d, SamePaddingWithEvenKernelPadsTheExtraRowAtTheBottom) {
  check_functional("same_asymmetric");
}
TEST(Conv2d, ValidPaddingWithoutBiasMatchesPyTorch) { check_functional("valid_no_bias"); }
TEST(Conv2d, PointwiseKernelMatchesPyTorch) { check_functional("pointwise"); }
TEST(Conv1d, StrideAndPaddingMatchPyTorch) { check_functional("conv1d_stride2_padding1"); }
TEST(Conv1d, GroupsDilationAndSameMatchPyTorch) {
  check_functional("conv1d_groups3_dilation2_same");
}
TEST(ConvTranspose2d, StrideTwoWithOutputPaddingMatchesPyTorch) {
  check_functional("transpose_stride2_output_padding");
}
TEST(ConvTranspose2d, GroupsDilationAndPairsMatchPyTorch) { check_functional("transpose_groups2"); }
TEST(ConvTranspose2d, WithoutBiasMatchesPyTorch) { check_functional("transpose_no_bias"); }

TEST(Pad, ReflectReplicateCircularMatchPyTorch) {
  for (const auto& c : fixture().at("pad")) {
    const std::string mode = c.at("mode");
    SCOPED_TRACE(mode);
    Tensor<double> x = fixture_tensor<double>(c.at("x")).requires_grad_();
    Tensor<double> y = F::pad(x, Shape(c.at("pad").get<std::vector<int64_t>>()), mode);
    ASSERT_TRUE(all_close(y, fixture_tensor<double>(c.at("y")), 1e-12, 0));
    (y * fixture_tensor<double>(c.at("gy"))).sum().backward();
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor<double>(c.at("gx")), 1e-10, 1e-10));
  }
}

TEST(Pad, ConstantModeIsSinewPad) {
  Tensor<double> x = ones<double>({1, 2});
  EXPECT_TRUE(sinew::testing::values_are(F::pad(x, {1, 0}, "constant", 5), {5, 1, 1}));
}

// ---- the modules (float) against PyTorch, padding modes included -------------------------------

TEST(Conv2d, ModuleMatchesPyTorchInFloat) {
  check_conv2d_module("basic");
  check_conv2d_module("groups2");
  check_conv2d_module("same_asymmetric");
}
TEST(Conv2d, ReflectPaddingModeMatchesPyTorch) { check_conv2d_module("reflect"); }
TEST(Conv2d, ReplicatePaddingModeMatchesPyTorch) { check_conv2d_module("replicate"); }
TEST(Conv2d, CircularPaddingModeWithStrideMatchesPyTorch) { check_conv2d_module("circular"); }
TEST(Conv2d, ReflectPaddingModeWithSameMatchesPyTorch) { check_conv2d_module("reflect_same"); }
TEST(Conv1d, ModuleMatchesPyTorchInFloat) {
  check_conv1d_module("conv1d_stride2_padding1");
  check_conv1d_module("conv1d_groups3_dilation2_same");
}
TEST(Conv1d, CircularPaddingModeMatchesPyTorch) { check_conv1d_module("conv1d_circular"); }
TEST(ConvTranspose2d, ModuleMatchesPyTorchInFloat) {
  check_transpose_module("transpose_stride2_output_padding");
  check_transpose_module("transpose_groups2");
}

// ---- shapes ---------------------------------------------------------------------------------

TEST(Conv2d, OutputShapesOfTheW2Layers) {
  nn::Conv2d c1(1, 32, 3, {.padding = 1}), c2(32, 64, 3, {.padding = 1});
  EXPECT_EQ(c1(zeros<float>({4, 1, 28, 28})).shape(), (Shape{4, 32, 28, 28}));
  EXPECT_EQ(c2(zeros<float>({4, 32, 14, 14})).shape(), (Shape{4, 64, 14, 14}));
}

TEST(Conv2d, OutputShapesFollowTheSizeFormula) {
  Tensor<float> x = zeros<float>({2, 4, 11, 8});
  // Ho = (H + 2p - d (k - 1) - 1) / s + 1.
  EXPECT_EQ(F::conv2d(x, zeros<float>({6, 4, 3, 3}), {}, {.stride = 2}).shape(),
            (Shape{2, 6, 5, 3}));
  EXPECT_EQ(F::conv2d(x, zeros<float>({6, 2, 3, 2}), {},
                      {.stride = {1, 3}, .padding = {2, 0}, .dilation = {2, 1}, .groups = 2})
                .shape(),
            (Shape{2, 6, 11, 3}));
  EXPECT_EQ(F::conv2d(x, zeros<float>({6, 4, 4, 5}), {}, {.padding = "same"}).shape(),
            (Shape{2, 6, 11, 8}));
  EXPECT_EQ(F::conv2d(x, zeros<float>({6, 4, 11, 8})).shape(), (Shape{2, 6, 1, 1}));
  EXPECT_EQ(F::conv2d(zeros<float>({0, 4, 5, 5}), zeros<float>({6, 4, 3, 3})).shape(),
            (Shape{0, 6, 3, 3}));
}

TEST(Conv2d, AcceptsAnUnbatchedInput) {
  nn::Conv2d c(3, 5, {3, 2}, {.stride = {1, 2}});
  Tensor<float> x = rand<float>({3, 6, 6});
  Tensor<float> y = c(x);
  EXPECT_EQ(y.shape(), (Shape{5, 4, 3}));
  EXPECT_TRUE(all_close(y, c(x.unsqueeze(0)).squeeze(0)));
}

TEST(Conv1d, OutputShapes) {
  EXPECT_EQ(F::conv1d(zeros<float>({3, 2, 10}), zeros<float>({4, 2, 3}), {}, {.stride = 3}).shape(),
            (Shape{3, 4, 3}));
  EXPECT_EQ(
      F::conv1d(zeros<float>({2, 10}), zeros<float>({4, 2, 4}), {}, {.padding = "same"}).shape(),
      (Shape{4, 10}));
}

TEST(ConvTranspose2d, OutputShapesFollowTheSizeFormula) {
  // Ho = (H - 1) s - 2 p + d (k - 1) + op + 1.
  nn::ConvTranspose2d up(8, 4, 4, {.stride = 2, .padding = 1});
  EXPECT_EQ(up(zeros<float>({2, 8, 7, 7})).shape(), (Shape{2, 4, 14, 14}));
  EXPECT_EQ(F::conv_transpose2d(
                zeros<float>({1, 2, 3, 4}), zeros<float>({2, 3, 3, 2}), {},
                {.stride = {2, 3}, .output_padding = {1, 2}, .groups = 2, .dilation = {1, 2}})
                .shape(),
            (Shape{1, 6, 8, 14}));
}

TEST(ConvTranspose2d, IsTheGradientOfConv2dWithRespectToItsInput) {
  Tensor<double> x = rand_input({2, 4, 7, 6}, 1), w = rand_input({6, 2, 3, 3}, 2);
  Tensor<double> g = rand_input({2, 6, 4, 3}, 3).detach();
  Tensor<double> y = F::conv2d(x, w, {}, {.stride = 2, .padding = 1, .groups = 2});
  ASSERT_EQ(y.shape(), g.shape());
  auto dx = autograd::grad<double>({y}, {x}, {g})[0];
  // (H - 1) s - 2 p + (k - 1) + 1 = 7 rows and 5 columns; output_padding 1 recovers the 6th.
  Tensor<double> t = F::conv_transpose2d(
      g, w.detach(), {}, {.stride = 2, .padding = 1, .output_padding = {0, 1}, .groups = 2});
  EXPECT_TRUE(all_close(dx, t, 1e-12, 1e-12));
}

// ---- gradcheck in double --------------------------------------------------------------------

TEST(Conv2d, GradcheckWithStridePaddingDilationAndGroups) {
  EXPECT_TRUE(grad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv2d(in[0], in[1], in[2],
                         {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}, .groups = 2});
      },
      {rand_input({1, 4, 5, 4}, 1), rand_input({4, 2, 2, 2}, 2), rand_input({4}, 3)}));
}

TEST(Conv2d, GradcheckWithAsymmetricSamePadding) {
  EXPECT_TRUE(grad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv2d(in[0], in[1], in[2], {.padding = "same"});
      },
      {rand_input({1, 2, 4, 3}, 4), rand_input({2, 2, 2, 3}, 5), rand_input({2}, 6)}));
}

TEST(Conv2d, GradcheckOnANonContiguousInput) {
  Tensor<double> base = rand_input({1, 4, 3, 2}, 7);
  EXPECT_TRUE(grad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv2d(in[0].permute({0, 3, 2, 1}), in[1].transpose(2, 3), {}, {.padding = 1});
      },
      {base, rand_input({3, 2, 2, 2}, 8)}));
}

TEST(Conv2d, GradgradcheckPassesSoDoubleBackwardWorks) {
  EXPECT_TRUE(gradgrad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv2d(in[0], in[1], in[2], {.stride = 2, .padding = 1, .groups = 2});
      },
      {rand_input({1, 4, 4, 3}, 9), rand_input({2, 2, 2, 2}, 10), rand_input({2}, 11)}));
}

TEST(Conv1d, GradcheckWithStridePaddingDilationAndGroups) {
  EXPECT_TRUE(grad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv1d(in[0], in[1], in[2],
                         {.stride = 2, .padding = 2, .dilation = 2, .groups = 2});
      },
      {rand_input({2, 4, 7}, 12), rand_input({2, 2, 3}, 13), rand_input({2}, 14)}));
}

TEST(ConvTranspose2d, GradcheckWithStrideOutputPaddingGroupsAndDilation) {
  EXPECT_TRUE(grad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv_transpose2d(
            in[0], in[1], in[2],
            {.stride = 2, .padding = {1, 0}, .output_padding = 1, .groups = 2, .dilation = {1, 2}});
      },
      {rand_input({1, 4, 3, 2}, 15), rand_input({4, 1, 3, 2}, 16), rand_input({2}, 17)}));
}

TEST(ConvTranspose2d, GradgradcheckPasses) {
  EXPECT_TRUE(gradgrad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv_transpose2d(in[0], in[1], {}, {.stride = 2, .output_padding = 1});
      },
      {rand_input({1, 2, 2, 2}, 18), rand_input({2, 2, 2, 2}, 19)}));
}

TEST(Pad, GradcheckAndGradgradcheckForEachMode) {
  for (std::string mode : {"reflect", "replicate", "circular"}) {
    SCOPED_TRACE(mode);
    auto f = [mode](const std::vector<Tensor<double>>& in) {
      return F::pad(in[0], {2, 1, 1, 2}, mode);
    };
    EXPECT_TRUE(grad_ok(f, {rand_input({1, 3, 4}, 20)}));
    EXPECT_TRUE(gradgrad_ok(f, {rand_input({1, 3, 4}, 21)}));
  }
}

TEST(Conv2d, ResultsDoNotDependOnTheThreadCount) {
  const int threads = get_num_threads();
  Tensor<double> x = rand_input({8, 3, 9, 7}, 22), w = rand_input({4, 3, 3, 3}, 23);
  auto run = [&](int n) {
    set_num_threads(n);
    x.set_grad(Tensor<double>());
    w.set_grad(Tensor<double>());
    Tensor<double> y = F::conv2d(x, w, {}, {.stride = {1, 2}, .padding = 1});
    y.pow(2).sum().backward();
    return std::vector<Tensor<double>>{y.detach(), x.grad(), w.grad()};
  };
  auto one = run(1), four = run(4);
  set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(all_close(one[i], four[i], 1e-10, 1e-10));
}

// Small grids go through one GEMM for several images side by side (backend/cpu/conv.hpp,
// images_per_gemm), and a kernel covering the whole image through one GEMM for the batch
// (is_dense). Both must give, image by image, what a batch of one gives, forward and backward.
TEST(Conv2d, BatchedGemmsMatchOneImageAtATime) {
  struct Case {
    bool transposed;
    int64_t batch, in, out, size, kernel, stride, padding, groups;
  };
  const std::vector<Case> cases = {
      {false, 9, 6, 4, 5, 3, 1, 1, 2},   // 25 cells: 9 images per GEMM
      {false, 17, 4, 6, 3, 3, 1, 0, 1},  // one cell from a 3 x 3 image: the dense path
      {false, 12, 8, 6, 7, 4, 2, 1, 1},  // 3 x 3 grid, stride 2
      {true, 11, 6, 4, 1, 4, 1, 0, 2},   // a generator's first layer: 1 x 1 -> 4 x 4
      {true, 10, 8, 6, 4, 3, 2, 1, 2}};  // 4 x 4 -> 7 x 7
  uint64_t seed = 30;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "transposed " << c.transposed << " batch " << c.batch);
    Tensor<double> x = rand_input({c.batch, c.in, c.size, c.size}, seed++);
    Tensor<double> w = c.transposed
                           ? rand_input({c.in, c.out / c.groups, c.kernel, c.kernel}, seed++)
                           : rand_input({c.out, c.in / c.groups, c.kernel, c.kernel}, seed++);
    Tensor<double> b = rand_input({c.out}, seed++);
    auto f = [&](const Tensor<double>& in) {
      return c.transposed
                 ? F::conv_transpose2d(
                       in, w, b, {.stride = c.stride, .padding = c.padding, .groups = c.groups})
                 : F::conv2d(in, w, b,
                             {.stride = c.stride, .padding = c.padding, .groups = c.groups});
    };
    Tensor<double> y = f(x);
    Tensor<double> g = rand_input(y.shape(), seed++);
    auto grads = autograd::grad<double>({y}, {x, w}, {g});
    Tensor<double> dw_sum = zeros_like(w);
    for (int64_t n = 0; n < c.batch; ++n) {
      Tensor<double> xn = x.detach().narrow(0, n, 1).clone().requires_grad_(true);
      Tensor<double> yn = f(xn);
      EXPECT_TRUE(all_close(yn, y.narrow(0, n, 1), 1e-12, 1e-12));
      auto gn = autograd::grad<double>({yn}, {xn, w}, {g.narrow(0, n, 1)});
      EXPECT_TRUE(all_close(gn[0], grads[0].narrow(0, n, 1), 1e-12, 1e-12));
      dw_sum = dw_sum + gn[1];
    }
    EXPECT_TRUE(all_close(dw_sum, grads[1], 1e-10, 1e-10));
  }
}

// 3x3 unit-stride convolutions with at least 16 channels on both sides run through Winograd
// F(2x2, 3x3) (backend/cpu/winograd.hpp); the same convolution summed over slices of 8 input
// channels runs through im2col. Forward, input and weight gradients of both must agree, for odd
// and even sizes, each padding up to 2, a transposed convolution, and blocks of tile rows that
// start inside an image (the 12 x 16 x 6 x 63 case has three blocks and three weight chunks).
TEST(Conv2d, WinogradMatchesIm2colOverChannelSlices) {
  struct Case {
    bool transposed;
    int64_t batch, in, out, h, w, pad_h, pad_w;
  };
  const std::vector<Case> cases = {{false, 3, 16, 17, 7, 9, 1, 1},   {false, 2, 20, 16, 6, 6, 0, 0},
                                   {false, 2, 16, 24, 5, 8, 2, 1},   {false, 2, 16, 16, 5, 5, 0, 2},
                                   {false, 12, 16, 16, 6, 63, 1, 1}, {true, 2, 16, 18, 5, 6, 1, 1}};
  uint64_t seed = 60;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "transposed " << c.transposed << " " << c.batch << "x"
                                      << c.in << "x" << c.h << "x" << c.w << " -> " << c.out);
    Tensor<double> x = rand_input({c.batch, c.in, c.h, c.w}, seed++);
    Tensor<double> w = c.transposed ? rand_input({c.in, c.out, 3, 3}, seed++)
                                    : rand_input({c.out, c.in, 3, 3}, seed++);
    Tensor<double> b = rand_input({c.out}, seed++);
    auto conv = [&](const Tensor<double>& in, const Tensor<double>& k, const Tensor<double>& bias) {
      return c.transposed ? F::conv_transpose2d(in, k, bias, {.padding = {c.pad_h, c.pad_w}})
                          : F::conv2d(in, k, bias, {.padding = {c.pad_h, c.pad_w}});
    };
    Tensor<double> y = conv(x, w, b);
    Tensor<double> ref = conv(x.narrow(1, 0, 8), w.narrow(1 - c.transposed, 0, 8), b);
    for (int64_t c0 = 8; c0 < c.in; c0 += 8) {
      const int64_t n = std::min<int64_t>(8, c.in - c0);
      ref = ref + conv(x.narrow(1, c0, n), w.narrow(1 - c.transposed, c0, n), Tensor<double>());
    }
    ASSERT_EQ(y.shape(), ref.shape());
    EXPECT_TRUE(all_close(y, ref, 1e-12, 1e-11));
    Tensor<double> g = rand_input(y.shape(), seed++);
    auto got = autograd::grad<double>({y}, {x, w, b}, {g});
    auto want = autograd::grad<double>({ref}, {x, w, b}, {g});
    for (size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_TRUE(all_close(got[i], want[i], 1e-11, 1e-10));
    }
  }
  EXPECT_TRUE(grad_ok(
      [](const std::vector<Tensor<double>>& in) {
        return F::conv2d(in[0], in[1], in[2], {.padding = 1});
      },
      {rand_input({2, 16, 4, 5}, 70), rand_input({16, 16, 3, 3}, 71), rand_input({16}, 72)}));
}

// A column stride s > 1 runs im2col/col2im on the image's s phases (backend/cpu/conv.hpp):
// against a direct sum for odd and even widths, strides 2 to 4 and a dilated tap, and gradcheck
// of both directions.
TEST(Conv2d, StridedColumnsMatchADirectSum) {
  struct Case {
    int64_t h, w, kh, kw, sh, sw, ph, pw, dw;
  };
  uint64_t seed = 80;
  for (const Case& c : std::vector<Case>{{9, 11, 3, 4, 2, 2, 1, 2, 1},
                                         {8, 10, 4, 4, 2, 3, 1, 1, 2},
                                         {12, 13, 5, 3, 3, 4, 2, 1, 1}}) {
    SCOPED_TRACE(::testing::Message() << c.h << "x" << c.w << " stride " << c.sh << "," << c.sw);
    Tensor<double> x = rand_input({2, 3, c.h, c.w}, seed++);
    Tensor<double> w = rand_input({4, 3, c.kh, c.kw}, seed++);
    const F::Conv2dFuncOptions opt{
        .stride = {c.sh, c.sw}, .padding = {c.ph, c.pw}, .dilation = {1, c.dw}};
    Tensor<double> y = F::conv2d(x, w, {}, opt);
    double err = 0;
    for (int64_t n = 0; n < 2; ++n) {
      for (int64_t o = 0; o < 4; ++o) {
        for (int64_t a = 0; a < y.size(2); ++a) {
          for (int64_t b = 0; b < y.size(3); ++b) {
            double sum = 0;
            for (int64_t ch = 0; ch < 3; ++ch) {
              for (int64_t i = 0; i < c.kh; ++i) {
                for (int64_t j = 0; j < c.kw; ++j) {
                  const int64_t r = a * c.sh - c.ph + i, col = b * c.sw - c.pw + j * c.dw;
                  if (r >= 0 && r < c.h && col >= 0 && col < c.w)
                    sum += x.at({n, ch, r, col}) * w.at({o, ch, i, j});
                }
              }
            }
            err = std::max(err, std::abs(sum - y.at({n, o, a, b})));
          }
        }
      }
    }
    EXPECT_LT(err, 1e-12);
    EXPECT_TRUE(grad_ok(
        [&](const std::vector<Tensor<double>>& in) { return F::conv2d(in[0], in[1], {}, opt); },
        {x, w}));
    EXPECT_TRUE(grad_ok(
        [&](const std::vector<Tensor<double>>& in) {
          return F::conv_transpose2d(
              in[0], in[1], {},
              {.stride = {c.sh, c.sw}, .padding = {c.ph, c.pw}, .dilation = {1, c.dw}});
        },
        {rand_input(y.shape(), seed++), rand_input({4, 3, c.kh, c.kw}, seed++)}));
  }
}

TEST(Conv2d, AKernelCoveringTheImageIsAFullyConnectedLayer) {
  for (int64_t groups : {1, 2}) {
    SCOPED_TRACE(groups);
    const int64_t og = 6 / groups, cg = 4 / groups;
    Tensor<double> x = rand_input({7, 4, 3, 3}, 40), w = rand_input({6, cg, 3, 3}, 41);
    Tensor<double> b = rand_input({6}, 42);
    Tensor<double> y = F::conv2d(x, w, b, {.groups = groups}).reshape({7, 6});
    Tensor<double> g = rand_input({7, 6, 1, 1}, 43), wt = rand_input({6, cg, 3, 3}, 44);
    Tensor<double> bt = rand_input({4}, 45);
    Tensor<double> img = F::conv_transpose2d(g, wt, bt, {.groups = groups});
    for (int64_t grp = 0; grp < groups; ++grp) {
      Tensor<double> xr = x.narrow(1, grp * cg, cg).reshape({7, cg * 9});
      Tensor<double> wr = w.narrow(0, grp * og, og).reshape({og, cg * 9});
      EXPECT_TRUE(all_close(y.narrow(1, grp * og, og),
                            matmul(xr, wr.t()) + b.narrow(0, grp * og, og), 1e-12, 1e-12));
      Tensor<double> gr = g.narrow(1, grp * og, og).reshape({7, og});
      Tensor<double> wtr = wt.narrow(0, grp * og, og).reshape({og, cg * 9});
      Tensor<double> ref = matmul(gr, wtr).reshape({7, cg, 3, 3}) +
                           bt.narrow(0, grp * cg, cg).reshape({1, cg, 1, 1});
      EXPECT_TRUE(all_close(img.narrow(1, grp * cg, cg), ref, 1e-12, 1e-12));
    }
    EXPECT_TRUE(grad_ok(
        [groups](const std::vector<Tensor<double>>& in) {
          return F::conv2d(in[0], in[1], in[2], {.groups = groups});
        },
        {rand_input({3, 4, 2, 3}, 46), rand_input({2, 4 / groups, 2, 3}, 47),
         rand_input({2}, 48)}));
    EXPECT_TRUE(grad_ok(
        [groups](const std::vector<Tensor<double>>& in) {
          return F::conv_transpose2d(in[0], in[1], in[2], {.groups = groups});
        },
        {rand_input({3, 2, 1, 1}, 49), rand_input({2, 4 / groups, 2, 3}, 50),
         rand_input({4}, 51)}));
  }
}

// ---- modules: parameters, init, printing, clone -----------------------------------------------

TEST(Conv2d, ParametersHavePyTorchsNamesAndLayout) {
  nn::Conv2d c(4, 6, {3, 5}, {.groups = 2});
  EXPECT_EQ(c.named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(c.weight.shape(), (Shape{6, 2, 3, 5}));
  EXPECT_EQ(c.bias.shape(), (Shape{6}));
  nn::Conv2d nb(4, 6, 3, {.bias = false});
  EXPECT_FALSE(nb.bias.defined());
  EXPECT_EQ(nb.named_parameters().keys(), std::vector<std::string>{"weight"});
  nn::ConvTranspose2d t(4, 6, 3, {.groups = 2});
  EXPECT_EQ(t.weight.shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(t.bias.shape(), (Shape{6}));
  nn::Conv1d c1(2, 4, 5);
  EXPECT_EQ(c1.weight.shape(), (Shape{4, 2, 5}));
}

TEST(Conv2d, DefaultInitStaysWithinOneOverSqrtFanIn) {
  manual_seed(3);
  nn::Conv2d c(8, 16, 3);  // fan_in = 8 * 9
  // weight [8, 8, 3, 3]: fan_in = 8 * 9; 16 biases, so that their spread exceeds the bound for
  // any seed but about one in 4,000 (4 would miss it a third of the time).
  nn::ConvTranspose2d t(8, 16, 3, {.groups = 2});
  auto check = [](const Tensor<float>& p, double bound) {
    double lo = p.min().item(), hi = p.max().item();
    EXPECT_LE(hi, bound);
    EXPECT_GE(lo, -bound);
    EXPECT_GT(hi - lo, bound);  // spread over the range, not a constant
  };
  check(c.weight, 1 / std::sqrt(72.0));
  check(c.bias, 1 / std::sqrt(72.0));
  check(t.weight, 1 / std::sqrt(72.0));
  check(t.bias, 1 / std::sqrt(72.0));
}

TEST(Conv2d, PrintsLikePyTorch) {
  EXPECT_EQ(printed(nn::Conv2d(1, 32, 3, {.padding = 1})),
            "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
  EXPECT_EQ(printed(nn::Conv2d(4, 8, {3, 5},
                               {.stride = 2,
                                .padding = 1,
                                .dilation = 2,
                                .groups = 2,
                                .bias = false,
                                .padding_mode = "reflect"})),
            "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
            "groups=2, bias=False, padding_mode=reflect)");
  EXPECT_EQ(printed(nn::Conv1d(2, 4, 3, {.padding = "same"})),
            "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same)");
  EXPECT_EQ(printed(nn::ConvTranspose2d(3, 2, 3, {.stride = 2, .output_padding = 1})),
            "ConvTranspose2d(3, 2, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))");
  EXPECT_EQ(printed(nn::ConvTranspose2d(4, 6, {2, 3}, {.groups = 2, .dilation = {1, 2}})),
            "ConvTranspose2d(4, 6, kernel_size=(2, 3), stride=(1, 1), dilation=(1, 2), groups=2)");
}

TEST(Conv2d, CloneCopiesValuesIntoNewParameters) {
  nn::Conv2d c(2, 3, 3, {.padding = "same", .padding_mode = "circular"});
  auto copy = nn::clone(c);
  EXPECT_FALSE(copy->weight.is_same(c.weight));
  EXPECT_TRUE(all_close(copy->weight, c.weight, 0, 0));
  Tensor<float> x = rand<float>({1, 2, 4, 4});
  EXPECT_TRUE(all_close((*copy)(x), c(x), 0, 0));
}

// ---- errors ---------------------------------------------------------------------------------

TEST(Conv2d, RejectsAChannelMismatchNamingBothShapes) {
  SINEW_EXPECT_ERROR(F::conv2d(zeros<float>({8, 3, 28, 28}), zeros<float>({32, 1, 3, 3})),
                     "conv2d: input [8, 3, 28, 28] has 3 channels, weight [32, 1, 3, 3] expects "
                     "1 (groups 1)");
  SINEW_EXPECT_ERROR(
      F::conv2d(zeros<float>({1, 3, 5, 5}), zeros<float>({4, 2, 3, 3}), {}, {.groups = 2}),
      "has 3 channels", "expects 4 (groups 2)");
}

TEST(Conv2d, RejectsWrongRanks) {
  SINEW_EXPECT_ERROR(F::conv2d(zeros<float>({28, 28}), zeros<float>({1, 1, 3, 3})), "conv2d",
                     "4-d (batched) input", "[28, 28]");
  SINEW_EXPECT_ERROR(F::conv2d(zeros<float>({1, 1, 5, 5}), zeros<float>({1, 3, 3})), "conv2d",
                     "weight must be 4-d", "[1, 3, 3]");
  SINEW_EXPECT_ERROR(F::conv1d(zeros<float>({1, 1, 5, 5}), zeros<float>({1, 1, 3})), "conv1d",
                     "3-d (batched) input", "[1, 1, 5, 5]");
}

TEST(Conv2d, RejectsGroupsThatDoNotDivideTheChannels) {
  SINEW_EXPECT_ERROR(
      F::conv2d(zeros<float>({1, 4, 5, 5}), zeros<float>({3, 2, 3, 3}), {}, {.groups = 2}),
      "conv2d", "3 output channels, not divisible by groups 2");
  SINEW_EXPECT_ERROR(
      F::conv2d(zeros<float>({1, 4, 5, 5}), zeros<float>({4, 4, 3, 3}), {}, {.groups = 0}),
      "groups must be positive");
}

TEST(Conv2d, RejectsAKernelLargerThanThePaddedInput) {
  SINEW_EXPECT_ERROR(
      F::conv2d(zeros<float>({1, 1, 2, 2}), zeros<float>({1, 1, 5, 5}), {}, {.padding = 1}),
      "conv2d: kernel size (5, 5) (dilated) is larger than the padded input (4, 4)");
  SINEW_EXPECT_ERROR(
      F::conv2d(zeros<float>({1, 1, 4, 4}), zeros<float>({1, 1, 3, 3}), {}, {.dilation = 2}),
      "kernel size (5, 5) (dilated)");
}

TEST(Conv2d, RejectsBadStrideDilationPaddingAndBias) {
  Tensor<float> x = zeros<float>({1, 1, 5, 5}), w = zeros<float>({2, 1, 3, 3});
  SINEW_EXPECT_ERROR(F::conv2d(x, w, {}, {.stride = {0, 1}}), "conv2d",
                     "stride must be positive, got (0, 1)");
  SINEW_EXPECT_ERROR(F::conv2d(x, w, {}, {.dilation = -1}), "dilation must be positive");
  SINEW_EXPECT_ERROR(F::conv2d(x, w, {}, {.padding = {1, -1}}),
                     "padding must be non-negative, got (1, -1)");
  SINEW_EXPECT_ERROR(F::conv2d(x, w, {}, {.padding = "full"}), "\"same\" or \"valid\"", "full");
  SINEW_EXPECT_ERROR(F::conv2d(x, w, {}, {.stride = 2, .padding = "same"}),
                     "padding=\"same\" is not supported for strided convolutions");
  SINEW_EXPECT_ERROR(F::conv2d(x, w, zeros<float>({3})), "bias must have shape [2]", "got [3]");
  SINEW_EXPECT_ERROR(F::conv1d(zeros<float>({1, 1, 5}), zeros<float>({1, 1, 3}), {}, {.stride = 0}),
                     "conv1d", "stride must be positive, got 0");
}

TEST(ConvTranspose2d, RejectsBadArguments) {
  Tensor<float> x = zeros<float>({1, 4, 3, 3});
  SINEW_EXPECT_ERROR(F::conv_transpose2d(x, zeros<float>({3, 2, 3, 3})), "conv_transpose2d",
                     "input [1, 4, 3, 3] has 4 channels, weight [3, 2, 3, 3] expects 3");
  SINEW_EXPECT_ERROR(
      F::conv_transpose2d(x, zeros<float>({4, 2, 3, 3}), {}, {.stride = 2, .output_padding = 2}),
      "output_padding (2, 2) must be non-negative and smaller than either stride");
  SINEW_EXPECT_ERROR(F::conv_transpose2d(x, zeros<float>({4, 2, 3, 3}), {}, {.groups = 3}),
                     "not divisible by groups 3");
  SINEW_EXPECT_ERROR(F::conv_transpose2d(x, zeros<float>({4, 2, 3, 3}), {}, {.padding = 3}),
                     "gives an empty output");
  SINEW_EXPECT_ERROR(
      F::conv_transpose2d(x, zeros<float>({4, 2, 3, 3}), zeros<float>({2}), {.groups = 2}),
      "bias must have shape [4]", "got [2]");
}

TEST(Pad, RejectsAmountsTheModeCannotProduce) {
  Tensor<float> x = zeros<float>({1, 2, 3});
  SINEW_EXPECT_ERROR(F::pad(x, {3, 0}, "reflect"),
                     "pad: reflect padding (3, 0) of dimension 2 must be smaller than its size 3");
  SINEW_EXPECT_ERROR(F::pad(x, {0, 4}, "circular"), "must not exceed its size 3");
  SINEW_EXPECT_ERROR(F::pad(x, {1, 1}, "mirror"), "mode must be", "mirror");
  SINEW_EXPECT_ERROR(F::pad(x, {-1, 1}, "replicate"), "must be non-negative");
}

TEST(Conv2d, ModuleErrorsNameTheLayerAndTheExpectedShape) {
  nn::Conv2d c(1, 32, 3);
  SINEW_EXPECT_ERROR(c(zeros<float>({64, 3, 28, 28})),
                     "Conv2d(1, 32, kernel_size=(3, 3)): expected input [N, 1, H, W], got "
                     "[64, 3, 28, 28]");
  SINEW_EXPECT_ERROR(c(zeros<float>({28, 28})), "expected input [N, 1, H, W], got [28, 28]");
  nn::Conv1d c1(2, 4, 3);
  SINEW_EXPECT_ERROR(c1(zeros<float>({1, 3, 9})),
                     "Conv1d(2, 4, kernel_size=(3,)): expected input [N, 2, L], got [1, 3, 9]");
  nn::ConvTranspose2d t(4, 2, 3);
  SINEW_EXPECT_ERROR(t(zeros<float>({1, 2, 5, 5})), "ConvTranspose2d(4, 2, kernel_size=(3, 3))",
                     "expected input [N, 4, H, W]");
}

TEST(Conv2d, ModuleRejectsBadOptions) {
  SINEW_EXPECT_ERROR(nn::Conv2d(3, 4, 3, {.groups = 2}),
                     "in_channels 3 must be divisible by groups 2");
  SINEW_EXPECT_ERROR(nn::Conv2d(4, 3, 3, {.groups = 2}), "out_channels 3 must be divisible");
  SINEW_EXPECT_ERROR(nn::Conv2d(1, 1, 3, {.padding_mode = "mirror"}), "padding_mode must be");
  SINEW_EXPECT_ERROR(nn::Conv2d(1, 1, 3, {.stride = 2, .padding = "same"}),
                     "Conv2d(1, 1, kernel_size=(3, 3))", "not supported for strided");
  SINEW_EXPECT_ERROR(nn::Conv2d(1, 1, {3, 0}), "kernel_size must be positive, got (3, 0)");
  SINEW_EXPECT_ERROR(nn::ConvTranspose2d(1, 1, 3, {.stride = 2, .output_padding = 2}),
                     "output_padding (2, 2)");
  SINEW_EXPECT_ERROR(
      nn::Conv2d(2, 2, 3, {.padding = 2, .padding_mode = "reflect"})(zeros<float>({1, 2, 2, 2})),
      "reflect padding (2, 2)");
}

// Conv2dT<double> loaded with a float layer's state dict computes that layer's values, forward
// and gradients, to float tolerance.
TEST(Conv2d, DoubleLayerMatchesTheFloatLayer) {
  manual_seed(7);
  nn::Conv2d cf(4, 6, {3, 2}, {.stride = {2, 1}, .padding = 1, .groups = 2});
  nn::Conv2dT<double> cd(4, 6, {3, 2}, {.stride = {2, 1}, .padding = 1, .groups = 2});
  sinew::testing::load_converted(cd, cf);
  Tensor<float> xf = rand<float>({2, 4, 7, 5}).requires_grad_();
  Tensor<double> xd = xf.detach().to<double>().requires_grad_();
  Tensor<float> yf = cf(xf);
  Tensor<double> yd = cd(xd);
  EXPECT_TRUE(all_close(yd.to<float>(), yf, 1e-5, 1e-4));
  (yf * yf).sum().backward();
  (yd * yd).sum().backward();
  EXPECT_TRUE(all_close(xd.grad().to<float>(), xf.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(all_close(cd.weight.grad().to<float>(), cf.weight.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(all_close(cd.bias.grad().to<float>(), cf.bias.grad(), 1e-4, 1e-4));
  EXPECT_EQ(cd.extra_repr(), cf.extra_repr());
}

}  // namespace SINEW_UNITY_ID
}  // namespace
