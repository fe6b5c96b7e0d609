// Tests for nn/loss.hpp: every loss under every reduction against PyTorch (values and gradients,
// tests/fixtures/gen_loss.py -> nn/loss.json; the functional forms in double, the modules in
// float), gradcheck and gradgradcheck in double, hand-computed edge cases, module state and errors.
#include <cmath>
#include <map>
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
using sinew::testing::values_are;
namespace F = sinew::nn::functional;
using nn::Reduction;

namespace {
namespace SINEW_UNITY_ID {

Reduction reduction_of(const std::string& r) {
  if (r == "none") return Reduction::None;
  if (r == "sum") return Reduction::Sum;
  if (r == "batchmean") return Reduction::BatchMean;
  return Reduction::Mean;
}

// A case's tensors: the floating ones by name, and the class-index target when it has one.
template <class T>
struct CaseInputs {
  std::map<std::string, Tensor<T>> f;
  Tensor<int64_t> index_target;
  Tensor<T> get(const std::string& k) const {
    auto it = f.find(k);
    return it == f.end() ? Tensor<T>() : it->second;
  }
};

template <class T>
CaseInputs<T> inputs_of(const json& c) {
  CaseInputs<T> in;
  for (std::string k : {"input", "target", "input1", "input2", "weight", "pos_weight"}) {
    if (!c.contains(k)) continue;
    if (c.value("int_" + k, false)) {
      in.index_target = fixture_tensor<int64_t>(c[k]);
      continue;
    }
    Tensor<T> t = fixture_tensor<T>(c[k]);
    if (c.contains("grad_" + k)) t.requires_grad_();
    in.f[k] = t;
  }
  return in;
}

// The functional form the case names, with its options.
template <class T>
Tensor<T> run_functional(const json& c, const CaseInputs<T>& in) {
  std::string loss = c["loss"];
  Reduction r = reduction_of(c["reduction"]);
  const json& o = c["options"];
  Tensor<T> x = in.get("input"), y = in.get("target");
  if (loss == "mse") return F::mse_loss(x, y, {.reduction = r});
  if (loss == "l1") return F::l1_loss(x, y, {.reduction = r});
  if (loss == "smooth_l1") return F::smooth_l1_loss(x, y, {.reduction = r, .beta = o["beta"]});
  if (loss == "huber") return F::huber_loss(x, y, {.reduction = r, .delta = o["delta"]});
  if (loss == "bce")
    return F::binary_cross_entropy(x, y, {.weight = in.get("weight"), .reduction = r});
  if (loss == "bce_logits") {
    return F::binary_cross_entropy_with_logits(
        x, y, {.weight = in.get("weight"), .pos_weight = in.get("pos_weight"), .reduction = r});
  }
  if (loss == "cross_entropy") {
    nn::CrossEntropyLossOptions<T> opt{.weight = in.get("weight"),
                                       .ignore_index = o.value("ignore_index", int64_t{-100}),
                                       .reduction = r,
                                       .label_smoothing = o.value("label_smoothing", 0.0)};
    return in.index_target.defined() ? F::cross_entropy(x, in.index_target, opt)
                                     : F::cross_entropy(x, y, opt);
  }
  if (loss == "nll") {
    return F::nll_loss(x, in.index_target,
                       {.weight = in.get("weight"),
                        .ignore_index = o.value("ignore_index", int64_t{-100}),
                        .reduction = r});
  }
  if (loss == "kl_div") return F::kl_div(x, y, {.reduction = r, .log_target = o["log_target"]});
  Tensor<T> x1 = in.get("input1"), x2 = in.get("input2");
  if (loss == "cosine_embedding") {
    return F::cosine_embedding_loss(x1, x2, y, {.margin = o["margin"], .reduction = r});
  }
  if (loss == "margin_ranking") {
    return F::margin_ranking_loss(x1, x2, y, {.margin = o["margin"], .reduction = r});
  }
  ADD_FAILURE() << "unknown loss " << loss;
  return Tensor<T>();
}

// The module the case names (float).
Tensor<float> run_module(const json& c, const CaseInputs<float>& in) {
  std::string loss = c["loss"];
  Reduction r = reduction_of(c["reduction"]);
  const json& o = c["options"];
  Tensor<float> x = in.get("input"), y = in.get("target");
  if (loss == "mse") return nn::MSELoss({.reduction = r})(x, y);
  if (loss == "l1") return nn::L1Loss({.reduction = r})(x, y);
  if (loss == "smooth_l1") return nn::SmoothL1Loss({.reduction = r, .beta = o["beta"]})(x, y);
  if (loss == "huber") return nn::HuberLoss({.reduction = r, .delta = o["delta"]})(x, y);
  if (loss == "bce") return nn::BCELoss({.weight = in.get("weight"), .reduction = r})(x, y);
  if (loss == "bce_logits") {
    return nn::BCEWithLogitsLoss(
        {.weight = in.get("weight"), .pos_weight = in.get("pos_weight"), .reduction = r})(x, y);
  }
  if (loss == "cross_entropy") {
    nn::CrossEntropyLoss ce({.weight = in.get("weight"),
                             .ignore_index = o.value("ignore_index", int64_t{-100}),
                             .reduction = r,
                             .label_smoothing = o.value("label_smoothing", 0.0)});
    return in.index_target.defined() ? ce(x, in.index_target) : ce(x, y);
  }
  if (loss == "nll") {
    return nn::NLLLoss({.weight = in.get("weight"),
                        .ignore_index = o.value("ignore_index", int64_t{-100}),
                        .reduction = r})(x, in.index_target);
  }
  if (loss == "kl_div") return nn::KLDivLoss({.reduction = r, .log_target = o["log_target"]})(x, y);
  Tensor<float> x1 = in.get("input1"), x2 = in.get("input2");
  if (loss == "cosine_embedding") {
    return nn::CosineEmbeddingLoss({.margin = o["margin"], .reduction = r})(x1, x2, y);
  }
  if (loss == "margin_ranking") {
    return nn::MarginRankingLoss({.margin = o["margin"], .reduction = r})(x1, x2, y);
  }
  ADD_FAILURE() << "unknown loss " << loss;
  return Tensor<float>();
}

// Checks every fixture case of `loss`: the double functional form at 1e-10 (value and gradient of
// each input PyTorch differentiated), the float module at float precision. Returns the count.
int check_cases(const std::string& loss) {
  static const json fixture = sinew::testing::load_fixture("nn/loss.json");
  int n = 0;
  for (const json& c : fixture["cases"]) {
    if (c["loss"] != loss) continue;
    ++n;
    SCOPED_TRACE(c["name"].get<std::string>());
    auto in = inputs_of<double>(c);
    Tensor<double> out = run_functional(c, in);
    EXPECT_TRUE(all_close(out, fixture_tensor<double>(c["out"]), 1e-10, 1e-10));
    out.backward(fixture_tensor<double>(c["gout"]));
    for (const auto& [k, t] : in.f) {
      if (!c.contains("grad_" + k)) continue;
      EXPECT_TRUE(all_close(t.grad(), fixture_tensor<double>(c["grad_" + k]), 1e-10, 1e-9)) << k;
    }
    auto inf = inputs_of<float>(c);
    Tensor<float> outf = run_module(c, inf);
    EXPECT_TRUE(all_close(outf, fixture_tensor<float>(c["out"]), 1e-5, 1e-4));
    outf.backward(fixture_tensor<float>(c["gout"]));
    for (const auto& [k, t] : inf.f) {
      if (!c.contains("grad_" + k)) continue;
      EXPECT_TRUE(all_close(t.grad(), fixture_tensor<float>(c["grad_" + k]), 1e-5, 1e-4)) << k;
    }
  }
  return n;
}

const Reduction kReductions[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

// ---- PyTorch reference values and gradients
// -------------------------------------------------------

TEST(MSELoss, MatchesPyTorchForEveryReduction) { EXPECT_EQ(check_cases("mse"), 3); }
TEST(L1Loss, MatchesPyTorchForEveryReduction) { EXPECT_EQ(check_cases("l1"), 3); }
TEST(SmoothL1Loss, MatchesPyTorchForEveryBetaAndReduction) {
  EXPECT_EQ(check_cases("smooth_l1"), 9);  // beta 1, 0.5 and 0 (plain L1)
}
TEST(HuberLoss, MatchesPyTorchForEveryDeltaAndReduction) { EXPECT_EQ(check_cases("huber"), 6); }
TEST(BCELoss, MatchesPyTorchWithAndWithoutWeight) { EXPECT_EQ(check_cases("bce"), 6); }
TEST(BCEWithLogitsLoss, MatchesPyTorchWithWeightPosWeightAndHugeLogits) {
  EXPECT_EQ(check_cases("bce_logits"), 9);
}
TEST(CrossEntropyLoss, MatchesPyTorchForIndicesProbabilitiesWeightsIgnoreAndSmoothing) {
  EXPECT_EQ(check_cases("cross_entropy"), 33);
}
TEST(NLLLoss, MatchesPyTorchWithWeightIgnoreIndexAndSpatialTargets) {
  EXPECT_EQ(check_cases("nll"), 9);
}
TEST(KLDivLoss, MatchesPyTorchIncludingBatchmeanAndLogTarget) {
  EXPECT_EQ(check_cases("kl_div"), 8);
}
TEST(CosineEmbeddingLoss, MatchesPyTorchForBatchedAndSingleInputs) {
  EXPECT_EQ(check_cases("cosine_embedding"), 9);
}
TEST(MarginRankingLoss, MatchesPyTorchForEveryMarginAndReduction) {
  EXPECT_EQ(check_cases("margin_ranking"), 6);
}

// ---- gradcheck in double ------------------------------------------------------------------------

TEST(Losses, RegressionLossesPassGradcheckAndGradgradcheck) {
  Tensor<double> x = rand_input({3, 4}, 1, -2, 2), y = rand_input({4, 3}, 2, -2, 2);
  for (Reduction r : kReductions) {
    // y enters transposed: a non-contiguous target.
    EXPECT_TRUE(
        grad_ok([&](auto& v) { return F::mse_loss(v[0], v[1].t(), {.reduction = r}); }, {x, y}));
    EXPECT_TRUE(
        grad_ok([&](auto& v) { return F::l1_loss(v[0], v[1].t(), {.reduction = r}); }, {x, y}));
    EXPECT_TRUE(grad_ok(
        [&](auto& v) { return F::smooth_l1_loss(v[0], v[1].t(), {.reduction = r, .beta = 0.8}); },
        {x, y}));
    EXPECT_TRUE(grad_ok(
        [&](auto& v) { return F::huber_loss(v[0], v[1].t(), {.reduction = r, .delta = 0.6}); },
        {x, y}));
  }
  EXPECT_TRUE(gradgrad_ok([&](auto& v) { return F::mse_loss(v[0], v[1].t()); }, {x, y}));
  EXPECT_TRUE(gradgrad_ok([&](auto& v) { return F::huber_loss(v[0], v[1].t()); }, {x, y}));
}

TEST(Losses, BinaryLossesPassGradcheckAndGradgradcheck) {
  Tensor<double> p = rand_input({3, 4}, 3, 0.1, 0.9), q = rand_input({3, 4}, 4, 0, 1);
  Tensor<double> z = rand_input({3, 4}, 5, -4, 4), w = rand_input({4}, 6, 0.5, 2);
  Tensor<double> pw = rand_input({4}, 7, 0.5, 3);
  for (Reduction r : kReductions) {
    EXPECT_TRUE(grad_ok(
        [&](auto& v) {
          return F::binary_cross_entropy(v[0], v[1], {.weight = v[2], .reduction = r});
        },
        {p, q, w}));
    EXPECT_TRUE(grad_ok(
        [&](auto& v) {
          return F::binary_cross_entropy_with_logits(
              v[0], v[1], {.weight = v[2], .pos_weight = v[3], .reduction = r});
        },
        {z, q, w, pw}));
  }
  EXPECT_TRUE(gradgrad_ok([&](auto& v) { return F::binary_cross_entropy(v[0], v[1]); }, {p, q}));
  EXPECT_TRUE(gradgrad_ok(
      [&](auto& v) {
        return F::binary_cross_entropy_with_logits(v[0], v[1], {.pos_weight = v[2]});
      },
      {z, q, pw}));
}

TEST(Losses, ClassificationLossesPassGradcheckAndGradgradcheck) {
  Tensor<double> x = rand_input({4, 3}, 8, -2, 2);
  Tensor<double> x4 = rand_input({2, 3, 2, 2}, 9, -2, 2);
  Tensor<double> w = from_vector<double>({0.5, 1.5, 2}, {3});
  Tensor<double> probs = softmax(rand_input({4, 3}, 10), 1).detach().requires_grad_();
  Tensor<int64_t> t = from_vector<int64_t>({2, -100, 0, 1}, {4});
  Tensor<int64_t> t4 = from_vector<int64_t>({0, 2, 1, 1, 2, 0, 1, 1}, {2, 2, 2});
  for (Reduction r : kReductions) {
    nn::CrossEntropyLossOptions<double> o{.weight = w, .reduction = r, .label_smoothing = 0.2};
    EXPECT_TRUE(grad_ok([&](auto& v) { return F::cross_entropy(v[0], t, o); }, {x}));
    EXPECT_TRUE(grad_ok([&](auto& v) { return F::cross_entropy(v[0], t4, o); }, {x4}));
    EXPECT_TRUE(grad_ok([&](auto& v) { return F::cross_entropy(v[0], v[1], {.reduction = r}); },
                        {x, probs}));
    EXPECT_TRUE(
        grad_ok([&](auto& v) { return F::nll_loss(v[0], t, {.weight = w, .reduction = r}); }, {x}));
    // The input transposed into place: a non-contiguous [N, C].
    EXPECT_TRUE(grad_ok([&](auto& v) { return F::cross_entropy(v[0].t(), t, {.reduction = r}); },
                        {rand_input({3, 4}, 11)}));
  }
  EXPECT_TRUE(gradgrad_ok([&](auto& v) { return F::cross_entropy(v[0], t, {.weight = w}); }, {x}));
  EXPECT_TRUE(gradgrad_ok([&](auto& v) { return F::cross_entropy(v[0], v[1]); }, {x, probs}));
}

TEST(Losses, KLDivCosineAndMarginRankingPassGradcheck) {
  Tensor<double> lp = log_softmax(rand_input({3, 4}, 12), 1).detach().requires_grad_();
  Tensor<double> pt = softmax(rand_input({3, 4}, 13), 1).detach().requires_grad_();
  Tensor<double> a = rand_input({3, 4}, 14), b = rand_input({3, 4}, 15);
  Tensor<double> y = from_vector<double>({1, -1, -1}, {3});
  Tensor<double> r1 = rand_input({5}, 16), r2 = rand_input({5}, 17);
  Tensor<double> ry = from_vector<double>({1, -1, 1, -1, 1}, {5});
  for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum, Reduction::BatchMean}) {
    EXPECT_TRUE(
        grad_ok([&](auto& v) { return F::kl_div(v[0], v[1], {.reduction = r}); }, {lp, pt}));
    EXPECT_TRUE(grad_ok(
        [&](auto& v) { return F::kl_div(v[0], v[1], {.reduction = r, .log_target = true}); },
        {lp, lp.detach().clone().requires_grad_()}));
  }
  for (Reduction r : kReductions) {
    EXPECT_TRUE(grad_ok(
        [&](auto& v) {
          return F::cosine_embedding_loss(v[0], v[1], y, {.margin = -0.5, .reduction = r});
        },
        {a, b}));
    EXPECT_TRUE(grad_ok(
        [&](auto& v) {
          return F::margin_ranking_loss(v[0], v[1], ry, {.margin = 0.3, .reduction = r});
        },
        {r1, r2}));
  }
  EXPECT_TRUE(gradgrad_ok([&](auto& v) { return F::kl_div(v[0], v[1]); }, {lp, pt}));
  EXPECT_TRUE(
      gradgrad_ok([&](auto& v) { return F::cosine_embedding_loss(v[0], v[1], y); }, {a, b}));
}

// ---- hand-computed values
// -------------------------------------------------------------------------

TEST(MSELoss, SumReductionIsTheSumOfSquaredErrors) {
  Tensor<float> x = from_vector<float>({1, 2, 3}, {3}), y = from_vector<float>({0, 4, 3}, {3});
  EXPECT_TRUE(values_are(nn::MSELoss({.reduction = Reduction::Sum})(x, y), {5}));  // 1 + 4 + 0
  EXPECT_TRUE(values_are(nn::MSELoss()(x, y), {5.0 / 3}));
  EXPECT_TRUE(values_are(nn::MSELoss({.reduction = Reduction::None})(x, y), {1, 4, 0}));
}

TEST(BCELoss, ClampsTheLogAtMinus100AndKeepsGradientsFinite) {
  // (x, y) = (0, 1): -log 0 -> 100;  (1, 0): -log(1 - 1) -> 100;  (0, 0): -log 1 = 0.
  Tensor<double> x = from_vector<double>({0, 1, 0}, {3}).requires_grad_();
  Tensor<double> y = from_vector<double>({1, 0, 0}, {3});
  Tensor<double> l = F::binary_cross_entropy(x, y, {.reduction = Reduction::None});
  EXPECT_TRUE(values_are(l, {100, 100, 0}, 1e-12));
  l.sum().backward();
  // Clamped logs pass no gradient; at (0, 0) the live term -log(1 - x) has slope 1.
  EXPECT_TRUE(values_are(x.grad(), {0, 0, 1}, 1e-12));
}

TEST(BCEWithLogitsLoss, EqualsBCEOfTheSigmoid) {
  Tensor<double> z = rand_input({6}, 20, -3, 3), y = rand_input({6}, 21, 0, 1);
  EXPECT_TRUE(all_close(F::binary_cross_entropy_with_logits(z, y),
                        F::binary_cross_entropy(sigmoid(z), y), 1e-12, 1e-12));
}

TEST(CrossEntropyLoss, HandComputedWeightedMeanSkipsIgnoredTargets) {
  // Two classes, logits 0: log_softmax = log 0.5 everywhere, so each kept term is w[t] log 2.
  Tensor<float> x = zeros<float>({3, 2});
  Tensor<int64_t> t = from_vector<int64_t>({0, 1, -100}, {3});
  Tensor<float> w = from_vector<float>({1, 3}, {2});
  double l2 = std::log(2.0);
  EXPECT_TRUE(values_are(nn::CrossEntropyLoss({.weight = w})(x, t), {l2}, 1e-6));  // (1+3)l2 / 4
  EXPECT_TRUE(values_are(nn::CrossEntropyLoss({.weight = w, .reduction = Reduction::Sum})(x, t),
                         {4 * l2}, 1e-6));
  EXPECT_TRUE(values_are(nn::CrossEntropyLoss({.weight = w, .reduction = Reduction::None})(x, t),
                         {l2, 3 * l2, 0}, 1e-6));
  // Every target ignored: the mean is 0 / 0 = NaN, as PyTorch's.
  Tensor<int64_t> none_kept = full<int64_t>({3}, -100);
  EXPECT_TRUE(std::isnan(nn::CrossEntropyLoss()(x, none_kept).item()));
}

TEST(CrossEntropyLoss, IsStableForHugeLogits) {
  Tensor<float> x = from_vector<float>({1000, 0, -1000, 0}, {2, 2});
  Tensor<int64_t> t = from_vector<int64_t>({1, 0}, {2});
  // Row 0: -log_softmax[1] = 1000; row 1: 1000. No inf, no NaN.
  EXPECT_TRUE(
      values_are(nn::CrossEntropyLoss({.reduction = Reduction::None})(x, t), {1000, 1000}, 1e-3));
}

// ---- modules ------------------------------------------------------------------------------------

TEST(CrossEntropyLoss, WeightIsABufferThatCloneCopies) {
  Tensor<float> w = from_vector<float>({1, 2, 3}, {3});
  nn::CrossEntropyLoss ce({.weight = w, .label_smoothing = 0.1});
  EXPECT_EQ(ce.state_dict().keys(), std::vector<std::string>{"weight"});
  EXPECT_TRUE(ce.parameters().empty());
  EXPECT_EQ(ce.options().label_smoothing, 0.1);
  EXPECT_EQ(ce.extra_repr(), "reduction=mean");
  auto copy = nn::clone(ce);
  EXPECT_TRUE(all_close(copy->state_dict()["weight"], w, 0, 0));
  EXPECT_FALSE(copy->state_dict()["weight"].shares_storage(ce.state_dict()["weight"]));
  EXPECT_TRUE(nn::MSELoss().state_dict().keys().empty());
  nn::BCEWithLogitsLoss bl({.pos_weight = from_vector<float>({2}, {1})});
  EXPECT_EQ(bl.state_dict().keys(), std::vector<std::string>{"pos_weight"});
}

TEST(CrossEntropyLoss, TrainsAGradientIntoALinearLayer) {
  manual_seed(3);
  nn::Linear lin(4, 3);
  nn::CrossEntropyLoss ce;
  Tensor<float> loss = ce(lin(randn<float>({5, 4})), from_vector<int64_t>({0, 1, 2, 1, 0}, {5}));
  loss.backward();
  ASSERT_TRUE(lin.weight.grad().defined());
  EXPECT_EQ(lin.weight.grad().shape(), (Shape{3, 4}));
  // Rows of dL/dlogits sum to 0 (softmax - one-hot), so the bias gradient sums to 0.
  EXPECT_NEAR(lin.bias.grad().sum().item(), 0.0, 1e-6);
}

// ---- errors -------------------------------------------------------------------------------------

TEST(CrossEntropyLoss, RejectsClassIndicesOutOfRange) {
  Tensor<double> x = zeros<double>({2, 3});
  SINEW_EXPECT_ERROR(F::cross_entropy(x, from_vector<int64_t>({0, 3}, {2})), "cross_entropy",
                     "target value 3", "3 classes", "ignore_index = -100", "[2, 3]");
  SINEW_EXPECT_ERROR(F::cross_entropy(x, from_vector<int64_t>({-1, 0}, {2})), "target value -1");
  SINEW_EXPECT_ERROR(F::nll_loss(x, from_vector<int64_t>({0, 5}, {2}), {.ignore_index = 0}),
                     "nll_loss", "5");
  // ignore_index may lie outside [0, C); it is skipped, not checked.
  EXPECT_NO_THROW(F::cross_entropy(x, from_vector<int64_t>({-100, 2}, {2})));
  EXPECT_NO_THROW(F::nll_loss(x, from_vector<int64_t>({7, 2}, {2}), {.ignore_index = 7}));
}

TEST(CrossEntropyLoss, RejectsWrongTargetShapeDtypeAndWeight) {
  Tensor<float> x = zeros<float>({2, 3});
  nn::CrossEntropyLoss ce;
  SINEW_EXPECT_ERROR(ce(x, from_vector<int64_t>({0, 1, 2}, {3})), "cross_entropy", "[2]", "[3]");
  SINEW_EXPECT_ERROR(ce(x, zeros<int64_t>({2, 1})), "cross_entropy", "[2, 1]");
  // Float class indices are taken for probabilities, whose shape must be the input's.
  SINEW_EXPECT_ERROR(ce(x, from_vector<float>({0, 1}, {2})), "cross_entropy", "probabilities",
                     "Tensor<int64_t>", "[2, 3]");
  SINEW_EXPECT_ERROR(nn::NLLLoss()(x, from_vector<float>({0, 1}, {2})), "nll_loss",
                     "Tensor<int64_t>", "float32");
  SINEW_EXPECT_ERROR(
      F::cross_entropy(x, from_vector<int64_t>({0, 1}, {2}), {.weight = ones<float>({2})}),
      "weight", "[3]", "[2]");
  SINEW_EXPECT_ERROR(F::cross_entropy(x, zeros<float>({2, 3}), {.ignore_index = 1}),
                     "ignore_index");
  SINEW_EXPECT_ERROR(nn::CrossEntropyLoss({.label_smoothing = 1.5}), "label_smoothing", "1.5");
  SINEW_EXPECT_ERROR(ce(zeros<float>({}), from_vector<int64_t>({0}, {1})), "input", "[C]");
}

TEST(BCELoss, RejectsValuesOutsideZeroOne) {
  Tensor<float> ok = from_vector<float>({0.2f, 0.5f}, {2});
  SINEW_EXPECT_ERROR(nn::BCELoss()(from_vector<float>({0.2f, 1.5f}, {2}), ok),
                     "binary_cross_entropy", "input", "1.5");
  SINEW_EXPECT_ERROR(nn::BCELoss()(ok, from_vector<float>({-0.25f, 0.5f}, {2})), "target", "-0.25");
  SINEW_EXPECT_ERROR(nn::BCELoss()(from_vector<float>({NAN, 0.5f}, {2}), ok), "input", "nan");
  SINEW_EXPECT_ERROR(nn::BCELoss({.weight = ones<float>({3})})(ok, ok), "weight", "[3]", "[2]");
  SINEW_EXPECT_ERROR(nn::BCEWithLogitsLoss({.pos_weight = ones<float>({2, 2})})(ok, ok),
                     "pos_weight", "[2, 2]");
}

TEST(Losses, RejectBadShapesOptionsAndReductions) {
  Tensor<float> a = zeros<float>({2, 3}), b = zeros<float>({3, 2});
  SINEW_EXPECT_ERROR(nn::MSELoss()(a, b), "mse_loss", "[2, 3]", "[3, 2]");
  SINEW_EXPECT_ERROR(nn::L1Loss()(a, b), "l1_loss", "[3, 2]");
  SINEW_EXPECT_ERROR(nn::KLDivLoss()(a, b), "kl_div", "[3, 2]");
  SINEW_EXPECT_ERROR(nn::MSELoss({.reduction = Reduction::BatchMean})(a, a), "mse_loss",
                     "batchmean");
  SINEW_EXPECT_ERROR(nn::SmoothL1Loss({.beta = -1}), "beta", "-1");
  SINEW_EXPECT_ERROR(nn::HuberLoss({.delta = 0}), "delta", "0");
  SINEW_EXPECT_ERROR(F::huber_loss(a, a, {.delta = -2}), "huber_loss", "-2");
}

TEST(CosineEmbeddingLoss, RejectsBadTargetsAndShapes) {
  Tensor<float> a = ones<float>({2, 3});
  nn::CosineEmbeddingLoss loss;
  SINEW_EXPECT_ERROR(loss(a, a, from_vector<float>({1, 0.5f}, {2})), "cosine_embedding_loss",
                     "1 or -1", "0.5");
  SINEW_EXPECT_ERROR(loss(a, a, ones<float>({3})), "[2, 3]", "[3]");
  SINEW_EXPECT_ERROR(loss(a, ones<float>({2, 4}), ones<float>({2})), "input2", "[2, 4]");
  SINEW_EXPECT_ERROR(
      nn::MarginRankingLoss()(ones<float>({2}), ones<float>({2}), from_vector<float>({1, 2}, {2})),
      "margin_ranking_loss", "2");
}

// CrossEntropyLossT<double> (class weights as a buffer loaded from the float module's state dict,
// label smoothing, ignore_index) gives the float module's loss and input gradient.
TEST(CrossEntropyLoss, DoubleModuleMatchesTheFloatModule) {
  Tensor<float> wf = from_vector<float>({0.5f, 1.0f, 2.0f, 1.5f}, {4});
  nn::CrossEntropyLoss cf({.weight = wf, .ignore_index = 1, .label_smoothing = 0.1});
  nn::CrossEntropyLossT<double> cd(
      {.weight = zeros<double>({4}), .ignore_index = 1, .label_smoothing = 0.1});
  sinew::testing::load_converted(cd, cf);
  Tensor<float> xf = randn<float>({5, 4}).requires_grad_();
  Tensor<double> xd = xf.detach().to<double>().requires_grad_();
  Tensor<int64_t> t = from_vector<int64_t>({0, 1, 3, 2, 3}, {5});
  Tensor<float> lf = cf(xf, t);
  Tensor<double> ld = cd(xd, t);
  EXPECT_TRUE(all_close(ld.to<float>(), lf, 1e-6, 1e-5));
  lf.backward();
  ld.backward();
  EXPECT_TRUE(all_close(xd.grad().to<float>(), xf.grad(), 1e-6, 1e-5));
  // Probability targets go through the same module.
  Tensor<float> pf = softmax(randn<float>({5, 4}), 1);
  nn::CrossEntropyLossT<double> cd2;
  nn::CrossEntropyLoss cf2;
  EXPECT_TRUE(all_close(cd2(xd, pf.to<double>()).to<float>(), cf2(xf, pf), 1e-6, 1e-5));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
