// Tests for nn/embedding.hpp: functional::embedding and nn::Embedding against a PyTorch fixture
// (values and the weight gradient with padding_idx), repeated indices accumulating, gradcheck in
// double, the N(0, 1) init with a zeroed padding row, from_pretrained, and the errors.
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
Tensor<int64_t> fixture_indices(const nlohmann::json& j) {
  Tensor<double> d = fixture_tensor(j);
  std::vector<int64_t> v;
  for (double x : d.to_vector()) v.push_back(int64_t(x));
  return from_vector<int64_t>(v, d.shape());
}

TEST(Embedding, MatchesPyTorchWithPaddingIdx) {
  auto j = sinew::testing::load_fixture("nn/activation.json")["embedding"];
  Tensor<double> w = fixture_tensor(j["weight"]).requires_grad_();
  Tensor<int64_t> idx = fixture_indices(j["indices"]);
  int64_t pad = j["padding_idx"].get<int64_t>();
  Tensor<double> y = nn::functional::embedding(idx, w, pad);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 3}));
  EXPECT_TRUE(all_close(y, fixture_tensor(j["y"]), 0, 0));
  (y * fixture_tensor(j["gy"])).sum().backward();
  EXPECT_TRUE(all_close(w.grad(), fixture_tensor(j["dweight"]), 1e-12, 1e-10));
  // A negative padding_idx counts from the end (5 rows: -3 is row 2).
  Tensor<double> w2 = fixture_tensor(j["weight"]).requires_grad_();
  (nn::functional::embedding(idx, w2, -3) * fixture_tensor(j["gy"])).sum().backward();
  EXPECT_TRUE(all_close(w2.grad(), fixture_tensor(j["dweight"]), 1e-12, 1e-10));

  // The float module with the same weight.
  nn::Embedding e(5, 3, {.padding_idx = pad});
  nn::init::detail::assign(e.weight, fixture_tensor<float>(j["weight"]));
  EXPECT_TRUE(all_close(e(idx), fixture_tensor<float>(j["y"]), 0, 0));
}

TEST(Embedding, RepeatedIndicesAccumulateAndPaddingRowGetsZero) {
  Tensor<float> w = arange<float>(0, 6).reshape({3, 2}).detach().requires_grad_();
  Tensor<int64_t> idx = from_vector<int64_t>({1, 1, 0, 2, 1}, {5});
  Tensor<float> y = nn::functional::embedding(idx, w, 2);
  EXPECT_TRUE(values_are(y, {2, 3, 2, 3, 0, 1, 4, 5, 2, 3}));
  y.sum().backward();
  EXPECT_TRUE(values_are(w.grad(), {1, 1, 3, 3, 0, 0}));
  // 0-d indices give one row, empty indices an empty result.
  EXPECT_EQ(nn::functional::embedding(scalar_tensor<int64_t>(1), w).shape(), (Shape{2}));
  EXPECT_EQ(nn::functional::embedding(zeros<int64_t>({0, 4}), w).shape(), (Shape{0, 4, 2}));
}

TEST(Embedding, Gradcheck) {
  Tensor<int64_t> idx = from_vector<int64_t>({0, 3, 3, 1, 0, 2}, {2, 3});
  EXPECT_TRUE(grad_ok([&](const auto& in) { return nn::functional::embedding(idx, in[0]); },
                      {rand_input({4, 3}, 1)}));
  // With padding_idx the padding row's gradient is 0 by definition (not the true derivative), so
  // gradcheck runs the padding path with indices that do not look it up.
  Tensor<int64_t> no_pad = from_vector<int64_t>({0, 2, 2, 1, 0, 2}, {2, 3});
  EXPECT_TRUE(grad_ok([&](const auto& in) { return nn::functional::embedding(no_pad, in[0], 3); },
                      {rand_input({4, 3}, 2)}));
  // Non-contiguous weight and indices.
  EXPECT_TRUE(grad_ok([&](const auto& in) { return nn::functional::embedding(idx.t(), in[0].t()); },
                      {rand_input({3, 4}, 3)}));
  EXPECT_TRUE(gradgrad_ok(
      [&](const auto& in) { return nn::functional::embedding(no_pad, in[0], 3) * in[0].sum(); },
      {rand_input({4, 2}, 4)}));
}

TEST(Embedding, ModuleInitParametersAndPrinting) {
  manual_seed(3);
  nn::Embedding e(400, 50, {.padding_idx = 7});
  EXPECT_EQ(e.weight.shape(), (Shape{400, 50}));
  EXPECT_EQ(e.named_parameters().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_TRUE(values_are(e.weight.select(0, 7), std::vector<double>(50, 0.0), 0));
  auto v = e.weight.to_vector();
  double s = 0, sq = 0;
  for (float f : v) {
    s += f;
    sq += double(f) * f;
  }
  double mean = s / double(v.size()), var = sq / double(v.size()) - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.03);  // 19950 N(0, 1) draws: sd of the mean ~0.007
  EXPECT_NEAR(var, 1.0, 0.05);
  EXPECT_EQ(e.extra_repr(), "400, 50, padding_idx=7");
  EXPECT_EQ(nn::Embedding(10, 3).extra_repr(), "10, 3");
  EXPECT_EQ(nn::Embedding(10, 3, {.padding_idx = -1}).padding_idx(), 9);

  // Training never moves the padding row.
  nn::Embedding small(4, 2, {.padding_idx = 0});
  small(from_vector<int64_t>({0, 1, 0}, {3})).sum().backward();
  EXPECT_TRUE(values_are(small.weight.grad(), {0, 0, 1, 1, 0, 0, 0, 0}));

  auto c = nn::clone(small);
  EXPECT_FALSE(c->weight.is_same(small.weight));
  EXPECT_TRUE(all_close(c->weight, small.weight, 0, 0));
  EXPECT_EQ(c->padding_idx(), 0);
}

TEST(Embedding, FromPretrainedCopiesAndFreezes) {
  Tensor<float> table = from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  nn::Embedding e = nn::Embedding::from_pretrained(table);
  EXPECT_FALSE(e.weight.requires_grad());
  EXPECT_FALSE(e.weight.is_same(table));
  EXPECT_TRUE(values_are(e(from_vector<int64_t>({2, 0}, {2})), {5, 6, 1, 2}));
  EXPECT_TRUE(nn::Embedding::from_pretrained(table, false).weight.requires_grad());
  SINEW_EXPECT_ERROR(nn::Embedding::from_pretrained(rand<float>({3})), "from_pretrained", "[3]");
}

TEST(Embedding, ErrorsNameTheIndexAndTheTableSize) {
  nn::Embedding e(5, 2);
  SINEW_EXPECT_ERROR(e(from_vector<int64_t>({0, 5}, {2})), "embedding", "index 5",
                     "num_embeddings = 5");
  SINEW_EXPECT_ERROR(e(from_vector<int64_t>({-1}, {1})), "embedding", "index -1");
  SINEW_EXPECT_ERROR(e(rand<float>({2})), "Embedding", "no forward");
  SINEW_EXPECT_ERROR(nn::functional::embedding(from_vector<int64_t>({0}, {1}), rand<float>({3})),
                     "embedding", "[3]");
  SINEW_EXPECT_ERROR(nn::Embedding(5, 2, {.padding_idx = 5}), "Embedding", "padding_idx 5");
  SINEW_EXPECT_ERROR(nn::Embedding(5, 2, {.padding_idx = -6}), "Embedding", "padding_idx -6");
  SINEW_EXPECT_ERROR(nn::Embedding(-1, 2), "Embedding", "-1");
}

// EmbeddingT<double> loaded with a float table looks up the same rows and trains the same ones
// (the padding row gets no gradient).
TEST(Embedding, DoubleLayerMatchesTheFloatLayer) {
  manual_seed(2);
  nn::Embedding ef(6, 3, {.padding_idx = 4});
  nn::EmbeddingT<double> ed(6, 3, {.padding_idx = 4});
  sinew::testing::load_converted(ed, ef);
  Tensor<int64_t> idx = from_vector<int64_t>({0, 4, 2, 2, 5, 1}, {2, 3});
  Tensor<float> yf = ef(idx);
  Tensor<double> yd = ed(idx);
  EXPECT_TRUE(all_close(yd.to<float>(), yf, 0, 0));
  (yf * yf).sum().backward();
  (yd * yd).sum().backward();
  EXPECT_TRUE(all_close(ed.weight.grad().to<float>(), ef.weight.grad(), 1e-6, 1e-5));
  EXPECT_TRUE(values_are(ed.weight.grad().select(0, 4), {0, 0, 0}, 0));
  nn::EmbeddingT<double> pre = nn::EmbeddingT<double>::from_pretrained(ed.weight.detach());
  EXPECT_TRUE(all_close(pre(idx), yd, 0, 0));
  EXPECT_FALSE(pre.weight.requires_grad());
}

// The backward reads the indices: changing them in place after the forward must be caught, not
// give a silently wrong gradient.
TEST(Embedding, InPlaceChangeOfIndicesAfterForwardIsAVersionError) {
  nn::Embedding e(5, 2);
  Tensor<int64_t> idx = from_vector<int64_t>({0, 3}, {2});
  Tensor<float> y = e(idx).sum();
  idx.fill_(1);
  SINEW_EXPECT_ERROR(y.backward(), "backward", "modified by an in-place operation", "embedding");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
