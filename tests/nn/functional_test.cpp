// Tests for nn/functional.hpp: every nn::F name resolves and computes what the op it names does
// (activations, linear, dropout and embedding against the ops; the other families by value).
#include <cmath>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;

TEST(Functional, ActivationNamesMatchTheOps) {
  Tensor<double> x = sinew::testing::rand_input({2, 5}, 1, -2, 2);
  EXPECT_TRUE(all_close(nn::F::relu(x), relu(x), 0, 0));
  EXPECT_TRUE(all_close(nn::F::leaky_relu(x, 0.2), leaky_relu(x, 0.2), 0, 0));
  EXPECT_TRUE(all_close(nn::F::elu(x, 0.5), elu(x, 0.5), 0, 0));
  EXPECT_TRUE(all_close(nn::F::selu(x), nn::functional::selu(x), 0, 0));
  EXPECT_TRUE(all_close(nn::F::gelu(x, "tanh"), gelu(x, "tanh"), 0, 0));
  EXPECT_TRUE(all_close(nn::F::silu(x), silu(x), 0, 0));
  EXPECT_TRUE(all_close(nn::F::sigmoid(x), sigmoid(x), 0, 0));
  EXPECT_TRUE(all_close(nn::F::tanh(x), sinew::tanh(x), 0, 0));
  EXPECT_TRUE(all_close(nn::F::softplus(x, 2.0), softplus(x, 2.0), 0, 0));
  EXPECT_TRUE(all_close(nn::F::softmax(x, 1), softmax(x, 1), 0, 0));
  EXPECT_TRUE(all_close(nn::F::log_softmax(x, 0), log_softmax(x, 0), 0, 0));
  EXPECT_TRUE(all_close(nn::F::hardtanh(x, -0.5, 0.5), clamp(x, -0.5, 0.5), 0, 0));
  Tensor<double> w = from_vector<double>({0.1, 0.2, 0.3, 0.4, 0.5}, {5});
  EXPECT_TRUE(all_close(nn::F::prelu(x, w), where(x > 0.0, x, x * w.reshape({1, 5})), 0, 0));
  EXPECT_TRUE(all_close(nn::F::maxout(x.reshape({2, 5, 1}).expand({2, 5, 2}).reshape({2, 10}), 2),
                        x, 0, 0));
}

TEST(Functional, LayerNamesMatchTheOps) {
  Tensor<float> x = rand<float>({3, 4}), w = rand<float>({2, 4}), b = rand<float>({2});
  EXPECT_TRUE(all_close(nn::F::linear(x, w, b), linear(x, w, b), 0, 0));
  EXPECT_TRUE(all_close(nn::F::pad(x, {1, 1}), pad(x, {1, 1}), 0, 0));
  EXPECT_TRUE(nn::F::dropout(x, 0.5, /*training=*/false).is_same(x));
  Tensor<float> img = rand<float>({1, 2, 3, 3});
  EXPECT_TRUE(nn::F::dropout2d(img, 0.5, /*training=*/false).is_same(img));
  manual_seed(1);
  Tensor<float> a = nn::F::dropout(x, 0.5);
  manual_seed(1);
  EXPECT_TRUE(all_close(a, nn::functional::dropout(x, 0.5), 0, 0));
  Tensor<float> table = rand<float>({4, 3});
  Tensor<int64_t> idx = from_vector<int64_t>({3, 0}, {2});
  EXPECT_TRUE(all_close(nn::F::embedding(idx, table), index_select(table, 0, idx), 0, 0));
}

TEST(Functional, OtherFamiliesResolveThroughF) {
  // Convolution: a 1x1 kernel of 2 is twice the input; the "reflect" pad mode.
  Tensor<float> img = arange<float>(0, 9).reshape({1, 1, 3, 3});
  EXPECT_TRUE(all_close(nn::F::conv2d(img, full<float>({1, 1, 1, 1}, 2.0)), img * 2.0, 0, 0));
  EXPECT_EQ(nn::F::conv2d(img, ones<float>({2, 1, 3, 3}), Tensor<float>(), {.padding = 1}).shape(),
            (Shape{1, 2, 3, 3}));
  EXPECT_TRUE(sinew::testing::values_are(
      nn::F::pad(from_vector<float>({1, 2, 3}, {1, 3}), {1, 1}, "reflect"), {2, 1, 2, 3, 2}));
  // Pooling.
  EXPECT_TRUE(sinew::testing::values_are(nn::F::max_pool2d(img, 2), {4}));
  EXPECT_TRUE(sinew::testing::values_are(nn::F::adaptive_avg_pool2d(img, 1), {4}));
  // Normalization: each row of layer_norm has mean 0.
  Tensor<double> rows = sinew::testing::rand_input({3, 4}, 2);
  EXPECT_TRUE(all_close(nn::F::layer_norm(rows, {4}).mean({1}), zeros<double>({3}), 1e-12, 0));
  // Losses.
  Tensor<float> a = from_vector<float>({1, 2}, {2}), b = from_vector<float>({0, 4}, {2});
  EXPECT_TRUE(sinew::testing::values_are(nn::F::mse_loss(a, b), {2.5}));
  Tensor<float> logits = zeros<float>({1, 4});
  EXPECT_TRUE(sinew::testing::values_are(
      nn::F::cross_entropy(logits, from_vector<int64_t>({2}, {1})), {std::log(4.0)}, 1e-6));
}
