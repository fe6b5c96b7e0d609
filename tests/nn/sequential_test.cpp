// Tests for nn/sequential.hpp: names "0", "1", ..., chaining, indexing, nesting, clone, errors,
// a tiny MLP's forward and backward shapes, and double-precision networks (SequentialT<double>):
// an MLP trained with plain SGD, and a conv / batch norm / linear stack under gradcheck.
#include <memory>
#include <sstream>
#include <type_traits>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::grad_ok;
using sinew::testing::rand_input;
using sinew::testing::values_are;

TEST(Sequential, NamesMembersByPosition) {
  nn::Sequential s(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.named_parameters().keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(s.state_dict().keys(), s.named_parameters().keys());
}

TEST(Sequential, NestedSequentialsGiveDottedNames) {
  nn::Sequential inner(nn::ReLU(), nn::Linear(2, 2));
  nn::Sequential outer(inner, nn::Linear(2, 1, {.bias = false}));
  EXPECT_EQ(outer.named_parameters().keys(),
            (std::vector<std::string>{"0.1.weight", "0.1.bias", "1.weight"}));
}

TEST(Sequential, ForwardChainsItsModules) {
  auto l1 = std::make_shared<nn::Linear>(3, 4);
  auto l2 = std::make_shared<nn::Linear>(4, 2);
  nn::Sequential s(l1, nn::Tanh(), l2);  // shared_ptr members are kept, not copied
  EXPECT_EQ(s[0].get(), l1.get());
  Tensor<float> x = rand<float>({5, 3});
  EXPECT_TRUE(all_close(s(x), (*l2)(tanh((*l1)(x))), 0, 0));
}

TEST(Sequential, PushBackIndexAndTypedAccess) {
  nn::Sequential s;
  EXPECT_TRUE(s.empty());
  Tensor<float> x = rand<float>({2, 3});
  EXPECT_TRUE(s(x).is_same(x));  // empty: the identity
  auto lin = s.push_back(nn::Linear(3, 3));
  s.push_back(std::make_shared<nn::Sigmoid>());
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.at<nn::Linear>(0).get(), lin.get());
  EXPECT_EQ(s[1]->name(), "Sigmoid");
  EXPECT_EQ(s.named_children().keys(), (std::vector<std::string>{"0", "1"}));
  SINEW_EXPECT_ERROR(s[2], "Sequential", "index 2", "2 modules");
  SINEW_EXPECT_ERROR(s.at<nn::Linear>(1), "Sequential::at", "Sigmoid");
  int count = 0;
  for (const auto& [name, m] : s) count += m != nullptr;
  EXPECT_EQ(count, 2);
}

TEST(Sequential, CopyingAModuleIntoItSharesParameters) {
  nn::Linear lin(2, 2);
  nn::Sequential s(lin);
  EXPECT_TRUE(s.at<nn::Linear>(0)->weight.is_same(lin.weight));
}

TEST(Sequential, ErrorsNameTheLayer) {
  nn::Sequential s(nn::Linear(4, 3), nn::ReLU(), nn::Linear(2, 1));
  SINEW_EXPECT_ERROR(s(zeros<float>({1, 4})), "Linear", "[..., 2]", "[1, 3]");
}

TEST(Sequential, CloneIsDeepAndKeepsTheMode) {
  nn::Sequential s(nn::Linear(2, 3), nn::Dropout(0.5), nn::Linear(3, 1));
  s.eval();
  auto c = nn::clone(s);
  EXPECT_EQ(c->size(), 3u);
  EXPECT_FALSE(c->is_training());
  EXPECT_FALSE((*c)[1]->is_training());
  Tensor<float> x = rand<float>({4, 2});
  EXPECT_TRUE(all_close((*c)(x), s(x), 0, 0));
  {
    NoGradGuard g;
    c->at<nn::Linear>(0)->weight.fill_(0.0);
  }
  EXPECT_FALSE(values_are(s.at<nn::Linear>(0)->weight.abs().sum(), {0}));
}

TEST(Sequential, TinyMlpForwardAndBackwardShapes) {
  manual_seed(0);
  nn::Sequential mlp(nn::Flatten(), nn::Linear(12, 8), nn::ReLU(), nn::Dropout(0.2),
                     nn::Linear(8, 3), nn::LogSoftmax(1));
  Tensor<float> x = rand<float>({5, 3, 4});
  Tensor<float> y = mlp(x);
  EXPECT_EQ(y.shape(), (Shape{5, 3}));
  EXPECT_TRUE(values_are(y.exp().sum({1}), {1, 1, 1, 1, 1}, 1e-5));
  (-y.mean()).backward();
  auto params = mlp.named_parameters();
  EXPECT_EQ(params.keys(), (std::vector<std::string>{"1.weight", "1.bias", "4.weight", "4.bias"}));
  for (const auto& [name, p] : params) {
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_EQ(p.grad().shape(), p.shape()) << name;
  }
  mlp.zero_grad();
  for (const auto& p : mlp.parameters()) EXPECT_FALSE(p.grad().defined());
  mlp.eval();
  EXPECT_TRUE(all_close(mlp(x), mlp(x), 0, 0));  // no dropout noise in eval
}

TEST(Sequential, FloatSpellingsAreTheFloatInstantiations) {
  static_assert(std::is_same_v<nn::Sequential, nn::SequentialT<float>>);
  static_assert(std::is_same_v<nn::Linear, nn::LinearT<float>>);
  static_assert(std::is_base_of_v<nn::Module, nn::Sequential>);
  static_assert(std::is_base_of_v<nn::ModuleT<double>, nn::SequentialT<double>>);
  nn::SequentialT<double> s(nn::LinearT<double>(3, 2), std::make_shared<nn::TanhT<double>>());
  Tensor<double> y = s(rand<double>({4, 3}));
  EXPECT_EQ(y.shape(), (Shape{4, 2}));
  std::ostringstream os;
  os << s;
  EXPECT_EQ(
      os.str(),
      "Sequential(\n  (0): Linear(in_features=3, out_features=2, bias=true)\n  (1): Tanh()\n)");
}

// XOR as a regression: 2 -> 8 -> 1 with tanh, full-batch gradient descent written by hand in
// double. The loss starts near 0.25 or above (the best constant predictor has 0.25) and must end
// far below what any linear model can reach (0.25), so broken gradients or updates fail.
namespace {
namespace SINEW_UNITY_ID {
// Trains `mlp` on XOR with plain SGD; returns the first and the last loss.
std::pair<double, double> train_xor(nn::SequentialT<double>& mlp, const Tensor<double>& x,
                                    const Tensor<double>& y, int steps, double lr) {
  nn::MSELossT<double> mse;
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    mlp.zero_grad();
    Tensor<double> loss = mse(mlp(x), y);
    loss.backward();
    if (step == 0) first = loss.item();
    last = loss.item();
    NoGradGuard guard;
    for (auto& p : mlp.parameters()) p.sub_(p.grad() * lr);
  }
  return {first, last};
}

TEST(Sequential, DoubleMlpLearnsXorWithHandWrittenSgd) {
  manual_seed(3);
  const std::vector<double> xs{0, 0, 0, 1, 1, 0, 1, 1}, ys{0, 1, 1, 0};
  Tensor<double> x = from_vector<double>(xs, {4, 2});
  Tensor<double> y = from_vector<double>(ys, {4, 1});
  nn::SequentialT<double> mlp(nn::LinearT<double>(2, 8), nn::TanhT<double>(),
                              nn::LinearT<double>(8, 1));
  auto [first, last] = train_xor(mlp, x, y, 3000, 0.2);
  EXPECT_GT(first, 0.1);
  EXPECT_LT(last, 1e-3);
  NoGradGuard guard;
  EXPECT_TRUE(all_close(mlp(x), y, 0.1, 0));
}

// Conv2d -> BatchNorm2d (training mode: batch statistics) -> Flatten -> Linear, all in double:
// the gradients with respect to the input and to every parameter match central differences.
TEST(Sequential, DoubleConvBatchNormLinearStackPassesGradcheck) {
  manual_seed(5);
  nn::SequentialT<double> net(nn::Conv2dT<double>(2, 3, 3, {.padding = 1}),
                              nn::BatchNorm2dT<double>(3), nn::FlattenT<double>(),
                              nn::LinearT<double>(3 * 4 * 4, 2));
  auto bn = net.at<nn::BatchNorm2dT<double>>(1);
  {  // a non-trivial affine transform, so its gradients are not the identity's
    NoGradGuard guard;
    bn->weight.copy_(rand_input({3}, 1, 0.5, 1.5));
    bn->bias.copy_(rand_input({3}, 2));
  }
  Tensor<double> x = rand_input({3, 2, 4, 4}, 3);
  std::vector<Tensor<double>> inputs{x};
  for (const auto& p : net.parameters()) inputs.push_back(p);
  EXPECT_EQ(inputs.size(), 7u);  // x, conv w/b, bn w/b, linear w/b
  autograd::SingleFn f = [&net](const std::vector<Tensor<double>>& in) { return net(in[0]); };
  EXPECT_TRUE(grad_ok(f, inputs));
  EXPECT_GT(bn->num_batches_tracked.item(), 0.0);  // the running statistics were updated (as T)
  static_assert(std::is_same_v<decltype(bn->num_batches_tracked), Tensor<double>>);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
