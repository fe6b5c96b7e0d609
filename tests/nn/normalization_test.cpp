// Tests for ops/normalization.hpp and nn/normalization.hpp: BatchNorm1d/2d against PyTorch
// (tests/fixtures/gen_normalization.py) over two training steps (outputs, input / weight / bias
// gradients, running statistics, num_batches_tracked) and in eval, the cumulative average
// momentum, layer_norm and group_norm values and gradients, gradcheck and gradgradcheck in double,
// the fused backward against the composed one, state_dict keys, train/eval behaviour and errors.
#include <string>
#include <vector>

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

const json& fixtures() {
  static const json j = sinew::testing::load_fixture("nn/normalization.json");
  return j;
}

template <class T>
Tensor<T> fx(const json& c, const std::string& key) {
  return fixture_tensor<T>(c.at(key));
}

// Two training steps, then eval, of a float BatchNorm layer against the fixture `c`.
template <class BN>
void check_batch_norm_module(BN& bn, const json& c) {
  const bool affine = c["affine"].get<bool>();
  if (affine) {
    NoGradGuard guard;
    bn.weight.copy_(fx<float>(c, "weight"));
    bn.bias.copy_(fx<float>(c, "bias"));
  }
  for (int step = 1; step <= 2; ++step) {
    SCOPED_TRACE("training step " + std::to_string(step));
    const std::string s = std::to_string(step);
    bn.zero_grad();
    Tensor<float> x = fx<float>(c, "x" + s).requires_grad_();
    Tensor<float> y = bn(x);
    EXPECT_TRUE(all_close(y, fx<float>(c, "y" + s), 1e-5, 1e-5));
    y.backward(fx<float>(c, "gy" + s));
    EXPECT_TRUE(all_close(x.grad(), fx<float>(c, "gx" + s), 1e-5, 1e-4));
    if (affine) {
      EXPECT_TRUE(all_close(bn.weight.grad(), fx<float>(c, "gweight" + s), 1e-5, 1e-4));
      EXPECT_TRUE(all_close(bn.bias.grad(), fx<float>(c, "gbias" + s), 1e-5, 1e-4));
    }
  }
  EXPECT_TRUE(all_close(bn.running_mean, fx<float>(c, "running_mean"), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(bn.running_var, fx<float>(c, "running_var"), 1e-6, 1e-5));
  EXPECT_EQ(bn.num_batches_tracked.item(), c["num_batches_tracked"].get<float>());
  Tensor<float> before = bn.running_mean.clone();
  bn.eval();
  Tensor<float> x = fx<float>(c, "x_eval").requires_grad_();
  Tensor<float> y = bn(x);
  EXPECT_TRUE(all_close(y, fx<float>(c, "y_eval"), 1e-5, 1e-5));
  y.backward(fx<float>(c, "gy_eval"));
  EXPECT_TRUE(all_close(x.grad(), fx<float>(c, "gx_eval"), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(bn.running_mean, before, 0, 0));  // eval leaves it alone
}

TEST(BatchNorm, BatchNorm2dMatchesPyTorchOverTwoStepsAndEval) {
  nn::BatchNorm2d bn(3);
  check_batch_norm_module(bn, fixtures()["batch_norm2d"]);
}

TEST(BatchNorm, BatchNorm1dMatchesPyTorchForFlatAndSequenceInputs) {
  nn::BatchNorm1d flat(4);
  check_batch_norm_module(flat, fixtures()["batch_norm1d"]);
  nn::BatchNorm1d seq(2);
  check_batch_norm_module(seq, fixtures()["batch_norm1d_seq"]);
}

TEST(BatchNorm, NulloptMomentumIsACumulativeAverage) {
  nn::BatchNorm2d bn(2, {.momentum = std::nullopt, .affine = false});
  EXPECT_TRUE(bn.parameters().empty());
  check_batch_norm_module(bn, fixtures()["batch_norm2d_cumulative"]);
}

TEST(BatchNorm, FunctionalInDoubleMatchesPyTorch) {
  const json& c = fixtures()["batch_norm2d"];
  Tensor<double> rm = zeros<double>({3}), rv = ones<double>({3});
  Tensor<double> w = fx<double>(c, "weight").requires_grad_();
  Tensor<double> b = fx<double>(c, "bias").requires_grad_();
  for (int step = 1; step <= 2; ++step) {
    const std::string s = std::to_string(step);
    Tensor<double> x = fx<double>(c, "x" + s).requires_grad_();
    Tensor<double> y = F::batch_norm(x, rm, rv, w, b, /*training=*/true, 0.1, 1e-5);
    EXPECT_TRUE(all_close(y, fx<double>(c, "y" + s), 1e-12, 1e-10));
    auto g = autograd::grad<double>({y}, {x, w, b}, {fx<double>(c, "gy" + s)});
    EXPECT_TRUE(all_close(g[0], fx<double>(c, "gx" + s), 1e-12, 1e-10));
    EXPECT_TRUE(all_close(g[1], fx<double>(c, "gweight" + s), 1e-12, 1e-10));
    EXPECT_TRUE(all_close(g[2], fx<double>(c, "gbias" + s), 1e-12, 1e-10));
  }
  EXPECT_TRUE(all_close(rm, fx<double>(c, "running_mean"), 1e-12, 1e-10));
  EXPECT_TRUE(all_close(rv, fx<double>(c, "running_var"), 1e-12, 1e-10));
  Tensor<double> x = fx<double>(c, "x_eval").requires_grad_();
  Tensor<double> y = F::batch_norm(x, rm, rv, w, b, /*training=*/false);
  EXPECT_TRUE(all_close(y, fx<double>(c, "y_eval"), 1e-12, 1e-10));
  y.backward(fx<double>(c, "gy_eval"));
  EXPECT_TRUE(all_close(x.grad(), fx<double>(c, "gx_eval"), 1e-12, 1e-10));
}

TEST(BatchNorm, GradcheckAndGradgradcheckInDouble) {
  Tensor<double> x = rand_input({3, 2, 2, 3}, 1), w = rand_input({2}, 2), b = rand_input({2}, 3);
  Tensor<double> xt = rand_input({3, 2, 3, 2}, 4);  // transposed: non-contiguous
  Tensor<double> rm = rand<double>({2}) * 0.2, rv = rand<double>({2}) + 0.5;
  using V = const std::vector<Tensor<double>>&;
  autograd::SingleFn train = [](V in) {
    return F::batch_norm(in[0], Tensor<double>(), Tensor<double>(), in[1], in[2], true);
  };
  autograd::SingleFn eval = [&](V in) { return F::batch_norm(in[0], rm, rv, in[1], in[2], false); };
  autograd::SingleFn plain = [](V in) {
    return F::batch_norm(in[0].transpose(2, 3), Tensor<double>(), Tensor<double>(),
                         Tensor<double>(), Tensor<double>(), true);
  };
  autograd::SingleFn flat = [](V in) {
    return F::batch_norm(in[0].reshape({12, 3}), Tensor<double>(), Tensor<double>(),
                         Tensor<double>(), Tensor<double>(), true);
  };
  for (const auto& f : {train, eval}) {
    EXPECT_TRUE(grad_ok(f, {x, w, b}));
    EXPECT_TRUE(gradgrad_ok(f, {x, w, b}));
  }
  EXPECT_TRUE(grad_ok(plain, {xt}));
  EXPECT_TRUE(gradgrad_ok(plain, {xt}));
  EXPECT_TRUE(grad_ok(flat, {x}));
}

TEST(BatchNorm, FusedBackwardEqualsTheComposedOne) {
  // backward() runs the fused kernel; create_graph runs the backward built from ops.
  Tensor<double> x = rand_input({4, 3, 5}, 7), w = rand_input({3}, 8), b = rand_input({3}, 9);
  Tensor<double> gy = rand_input({4, 3, 5}, 10).detach();
  for (bool training : {true, false}) {
    Tensor<double> rm = zeros<double>({3}), rv = ones<double>({3});
    Tensor<double> y = F::batch_norm(x, rm, rv, w, b, training);
    auto fused = autograd::grad<double>({y}, {x, w, b}, {gy}, {.retain_graph = true});
    auto composed = autograd::grad<double>({y}, {x, w, b}, {gy}, {.create_graph = true});
    for (size_t i = 0; i < 3; ++i)
      EXPECT_TRUE(all_close(fused[i], composed[i].detach(), 1e-12, 1e-10));
  }
}

TEST(BatchNorm, StateDictKeysAndBuffers) {
  nn::BatchNorm2d bn(5);
  EXPECT_EQ(bn.state_dict().keys(),
            (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked"}));
  EXPECT_EQ(bn.num_batches_tracked.dim(), 0);
  EXPECT_TRUE(values_are(bn.running_var, {1, 1, 1, 1, 1}));
  EXPECT_TRUE(values_are(bn.weight, {1, 1, 1, 1, 1}));
  EXPECT_EQ(bn.parameters().size(), 2u);
  nn::BatchNorm1d bare(3, {.affine = false, .track_running_stats = false});
  EXPECT_TRUE(bare.state_dict().keys().empty());
  EXPECT_EQ(bn.extra_repr(), "5, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true");
  EXPECT_EQ(nn::BatchNorm1d(2, {.momentum = std::nullopt}).extra_repr(),
            "2, eps=1e-05, momentum=None, affine=true, track_running_stats=true");
}

TEST(BatchNorm, EvalUsesRunningStatsAndLeavesThemAlone) {
  nn::BatchNorm1d bn(2);
  {
    NoGradGuard guard;
    bn.running_mean.copy_(from_vector<float>({1, -1}, {2}));
    bn.running_var.copy_(from_vector<float>({4, 0.25}, {2}));
  }
  bn.eval();
  Tensor<float> y = bn(from_vector<float>({3, 0, 5, -2}, {2, 2}));
  // (x - mean) / sqrt(var + 1e-5)
  EXPECT_TRUE(values_are(y, {1.0, 2.0, 2.0, -2.0}, 1e-4));
  EXPECT_EQ(bn.num_batches_tracked.item(), 0.0f);
  // Batch size 1 is fine in eval.
  EXPECT_EQ(bn(ones<float>({1, 2})).shape(), Shape({1, 2}));
  // Without running statistics, eval normalizes with the batch's own.
  nn::BatchNorm1d batch_only(1, {.track_running_stats = false});
  batch_only.eval();
  EXPECT_TRUE(values_are(batch_only(from_vector<float>({1, 3}, {2, 1})), {-1, 1}, 1e-4));
}

TEST(BatchNorm, CloneCopiesRunningStatistics) {
  nn::BatchNorm2d bn(2);
  bn(randn<float>({4, 2, 3, 3}));
  auto copy = nn::clone(bn);
  EXPECT_TRUE(all_close(copy->running_mean, bn.running_mean, 0, 0));
  EXPECT_EQ(copy->num_batches_tracked.item(), 1.0f);
  copy->running_mean.detach().zero_();
  EXPECT_FALSE(all_close(copy->running_mean, bn.running_mean, 0, 0));
}

TEST(BatchNorm, RejectsBadInputs) {
  nn::BatchNorm2d bn(32);
  SINEW_EXPECT_ERROR(bn(zeros<float>({8, 16, 5, 5})),
                     "BatchNorm2d(32): expected input [N, 32, H, W], got [8, 16, 5, 5]");
  SINEW_EXPECT_ERROR(bn(zeros<float>({8, 32, 5})), "BatchNorm2d(32)", "[8, 32, 5]");
  SINEW_EXPECT_ERROR(bn(zeros<float>({1, 32, 1, 1})), "BatchNorm2d(32)",
                     "Expected more than 1 value per channel when training", "[1, 32, 1, 1]");
  EXPECT_EQ(bn.num_batches_tracked.item(), 0.0f);  // the failed call counted nothing
  nn::BatchNorm1d bn1(4);
  SINEW_EXPECT_ERROR(bn1(zeros<float>({1, 4})), "BatchNorm1d(4)",
                     "Expected more than 1 value per channel when training");
  SINEW_EXPECT_ERROR(bn1(zeros<float>({3, 5})), "BatchNorm1d(4)", "[N, 4]", "[3, 5]");
  SINEW_EXPECT_ERROR(nn::BatchNorm2d(0), "BatchNorm2d", "num_features");
  SINEW_EXPECT_ERROR(nn::BatchNorm2d(2, {.momentum = 1.5}), "BatchNorm2d", "momentum");
  Tensor<double> x = zeros<double>({2, 3});
  SINEW_EXPECT_ERROR(F::batch_norm(x, zeros<double>({2}), ones<double>({2})), "batch_norm",
                     "running_mean", "[3]", "[2]");
  SINEW_EXPECT_ERROR(F::batch_norm(x, Tensor<double>(), Tensor<double>()), "batch_norm",
                     "eval mode needs running_mean");
  SINEW_EXPECT_ERROR(F::batch_norm(zeros<double>({3}), Tensor<double>(), Tensor<double>(),
                                   Tensor<double>(), Tensor<double>(), true),
                     "batch_norm", "rank 2");
}

TEST(LayerAndGroupNorm, MatchesPyTorch) {
  for (const char* key : {"layer_norm", "layer_norm_last", "group_norm", "group_norm_2d_input"}) {
    SCOPED_TRACE(key);
    const json& c = fixtures()[key];
    const bool layer = c["kind"] == "layer_norm";
    // double functional
    Tensor<double> x = fx<double>(c, "x").requires_grad_();
    Tensor<double> w = fx<double>(c, "weight").requires_grad_();
    Tensor<double> b = fx<double>(c, "bias").requires_grad_();
    Tensor<double> y =
        layer ? F::layer_norm(x, Shape(c["normalized_shape"].get<std::vector<int64_t>>()), w, b)
              : F::group_norm(x, c["num_groups"].get<int64_t>(), w, b);
    EXPECT_TRUE(all_close(y, fx<double>(c, "y"), 1e-12, 1e-10));
    auto g = autograd::grad<double>({y}, {x, w, b}, {fx<double>(c, "gy")});
    EXPECT_TRUE(all_close(g[0], fx<double>(c, "gx"), 1e-12, 1e-10));
    EXPECT_TRUE(all_close(g[1], fx<double>(c, "gweight"), 1e-12, 1e-10));
    EXPECT_TRUE(all_close(g[2], fx<double>(c, "gbias"), 1e-12, 1e-10));
    // float module
    Tensor<float> xf = fx<float>(c, "x").requires_grad_();
    std::shared_ptr<nn::Module> m;
    if (layer) {
      auto ln =
          std::make_shared<nn::LayerNorm>(Shape(c["normalized_shape"].get<std::vector<int64_t>>()));
      NoGradGuard guard;
      ln->weight.copy_(fx<float>(c, "weight"));
      ln->bias.copy_(fx<float>(c, "bias"));
      m = ln;
    } else {
      auto gn = std::make_shared<nn::GroupNorm>(c["num_groups"].get<int64_t>(), xf.size(1));
      NoGradGuard guard;
      gn->weight.copy_(fx<float>(c, "weight"));
      gn->bias.copy_(fx<float>(c, "bias"));
      m = gn;
    }
    Tensor<float> yf = (*m)(xf);
    EXPECT_TRUE(all_close(yf, fx<float>(c, "y"), 1e-5, 1e-5));
    yf.backward(fx<float>(c, "gy"));
    EXPECT_TRUE(all_close(xf.grad(), fx<float>(c, "gx"), 1e-5, 1e-4));
    auto params = m->parameters();
    EXPECT_TRUE(all_close(params[0].grad(), fx<float>(c, "gweight"), 1e-5, 1e-4));
    EXPECT_TRUE(all_close(params[1].grad(), fx<float>(c, "gbias"), 1e-5, 1e-4));
  }
}

TEST(LayerAndGroupNorm, GradcheckAndGradgradcheckInDouble) {
  using V = const std::vector<Tensor<double>>&;
  Tensor<double> x = rand_input({2, 3, 4}, 11), w = rand_input({3, 4}, 12),
                 b = rand_input({3, 4}, 13);
  autograd::SingleFn ln = [](V in) { return F::layer_norm(in[0], {3, 4}, in[1], in[2]); };
  EXPECT_TRUE(grad_ok(ln, {x, w, b}));
  EXPECT_TRUE(gradgrad_ok(ln, {x, w, b}));
  autograd::SingleFn ln_t = [](V in) { return F::layer_norm(in[0].transpose(1, 2), {3}); };
  Tensor<double> xt = rand_input({2, 3, 4}, 14);
  EXPECT_TRUE(grad_ok(ln_t, {xt}));
  EXPECT_TRUE(gradgrad_ok(ln_t, {xt}));
  Tensor<double> xg = rand_input({2, 4, 3}, 15), wg = rand_input({4}, 16), bg = rand_input({4}, 17);
  autograd::SingleFn gn = [](V in) { return F::group_norm(in[0], 2, in[1], in[2]); };
  EXPECT_TRUE(grad_ok(gn, {xg, wg, bg}));
  EXPECT_TRUE(gradgrad_ok(gn, {xg, wg, bg}));
}

TEST(LayerAndGroupNorm, ModulesOptionsReprAndErrors) {
  nn::LayerNorm ln({4, 5});
  EXPECT_EQ(ln.state_dict().keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(ln.weight.shape(), Shape({4, 5}));
  EXPECT_EQ(ln.extra_repr(), "[4, 5], eps=1e-05, elementwise_affine=true");
  EXPECT_TRUE(nn::LayerNorm({3}, {.elementwise_affine = false}).parameters().empty());
  // Without affine each row has mean 0 and variance 1.
  Tensor<float> y = nn::LayerNorm(
      {3}, {.elementwise_affine = false})(from_vector<float>({1, 2, 3, 10, 10, 10}, {2, 3}));
  EXPECT_TRUE(values_are(y, {-1.2247, 0, 1.2247, 0, 0, 0}, 1e-3));
  SINEW_EXPECT_ERROR(ln(zeros<float>({2, 5, 4})),
                     "LayerNorm([4, 5]): expected input [*, 4, 5], got [2, 5, 4]");
  SINEW_EXPECT_ERROR(F::layer_norm(zeros<double>({2, 3}), {3}, ones<double>({2})), "layer_norm",
                     "weight", "[3]", "[2]");
  nn::GroupNorm gn(2, 6);
  EXPECT_EQ(gn.extra_repr(), "2, 6, eps=1e-05, affine=true");
  EXPECT_EQ(gn.state_dict().keys(), (std::vector<std::string>{"weight", "bias"}));
  SINEW_EXPECT_ERROR(gn(zeros<float>({2, 4, 3})),
                     "GroupNorm(2, 6): expected input [N, 6, *], got [2, 4, 3]");
  SINEW_EXPECT_ERROR(nn::GroupNorm(4, 6), "GroupNorm", "divisible");
  SINEW_EXPECT_ERROR(F::group_norm(zeros<double>({2, 6}), 4), "group_norm", "divide", "6");
}

// LayerNormT<double> with a float layer's (non-trivial) affine parameters computes its values and
// gradients to float tolerance.
TEST(LayerNorm, DoubleLayerMatchesTheFloatLayer) {
  manual_seed(11);
  nn::LayerNorm lf({3, 4});
  nn::init::normal_(lf.weight);
  nn::init::normal_(lf.bias);
  nn::LayerNormT<double> ld({3, 4});
  sinew::testing::load_converted(ld, lf);
  Tensor<float> xf = randn<float>({2, 5, 3, 4}).requires_grad_();
  Tensor<double> xd = xf.detach().to<double>().requires_grad_();
  Tensor<float> yf = lf(xf);
  Tensor<double> yd = ld(xd);
  EXPECT_TRUE(all_close(yd.to<float>(), yf, 1e-5, 1e-4));
  (yf * yf).sum().backward();
  (yd * yd).sum().backward();
  EXPECT_TRUE(all_close(xd.grad().to<float>(), xf.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(all_close(ld.weight.grad().to<float>(), lf.weight.grad(), 1e-4, 1e-4));
  EXPECT_EQ(ld.extra_repr(), lf.extra_repr());
}

// BatchNorm2dT<double> tracks the same running statistics as the float layer, its
// num_batches_tracked counted in double, and normalizes alike in eval.
TEST(BatchNorm, DoubleLayerMatchesTheFloatLayer) {
  nn::BatchNorm2d bf(3, {.momentum = std::nullopt});
  nn::BatchNorm2dT<double> bd(3, {.momentum = std::nullopt});
  for (int step = 0; step < 3; ++step) {
    Tensor<float> xf = randn<float>({4, 3, 2, 5}) * 2.0 + 1.0;
    Tensor<double> xd = xf.to<double>();
    EXPECT_TRUE(all_close(bd(xd).to<float>(), bf(xf), 1e-5, 1e-4));
  }
  EXPECT_EQ(bd.num_batches_tracked.item(), 3.0);
  EXPECT_EQ(bf.num_batches_tracked.item(), 3.0f);
  EXPECT_EQ(bd.state_dict().keys(), bf.state_dict().keys());
  EXPECT_TRUE(all_close(bd.running_mean.to<float>(), bf.running_mean, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(bd.running_var.to<float>(), bf.running_var, 1e-6, 1e-5));
  bf.eval();
  bd.eval();
  Tensor<float> xf = randn<float>({2, 3, 2, 2});
  EXPECT_TRUE(all_close(bd(xf.to<double>()).to<float>(), bf(xf), 1e-5, 1e-4));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
