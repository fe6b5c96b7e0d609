// Tests for the module hooks of nn/module.hpp: forward pre-hooks and forward hooks (seeing and
// replacing input and output, order, removal, firing inside Sequential), full backward hooks
// (grad_output and grad_input, replacing grad_input), sharing by shallow copies and not by clone().
#include <optional>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
// y = 2 x, a module with a known gradient.
struct Double : nn::Cloneable<Double> {
  Double() : Cloneable("Double") {}
  Tensor<float> forward(const Tensor<float>& x) override { return x * 2.0; }
};

TEST(Hooks, ForwardPreHookSeesAndReplacesTheInput) {
  Double m;
  std::vector<float> seen;
  auto h1 = m.register_forward_pre_hook([&](nn::Module& self, const Tensor<float>& x) {
    EXPECT_EQ(self.name(), "Double");
    seen.push_back(x.item());
  });
  auto h2 = m.register_forward_pre_hook(
      [](nn::Module&, const Tensor<float>& x) -> std::optional<Tensor<float>> { return x + 1.0; });
  EXPECT_TRUE(values_are(m(scalar_tensor<float>(3)), {8}));  // (3 + 1) * 2
  EXPECT_EQ(seen, (std::vector<float>{3}));
  h2.remove();
  EXPECT_TRUE(values_are(m(scalar_tensor<float>(3)), {6}));
  h2.remove();  // twice is fine
  h1.remove();
  EXPECT_TRUE(values_are(m(scalar_tensor<float>(5)), {10}));
  EXPECT_EQ(seen.size(), 2u);
  // forward() itself bypasses the hooks; operator() runs them.
  m.register_forward_pre_hook([](nn::Module&, const Tensor<float>& x) { return x * 0.0; });
  EXPECT_TRUE(values_are(m.forward(scalar_tensor<float>(5)), {10}));
  EXPECT_TRUE(values_are(m(scalar_tensor<float>(5)), {0}));
}

TEST(Hooks, ForwardHooksRunInOrderAndMayReplaceTheOutput) {
  Double m;
  std::vector<int> order;
  m.register_forward_pre_hook([&](nn::Module&, const Tensor<float>&) { order.push_back(0); });
  auto h =
      m.register_forward_hook([&](nn::Module&, const Tensor<float>& in, const Tensor<float>& out) {
        order.push_back(1);
        EXPECT_TRUE(values_are(in, {1.5}));
        EXPECT_TRUE(values_are(out, {3}));
      });
  m.register_forward_hook([&](nn::Module&, const Tensor<float>&,
                              const Tensor<float>& out) -> std::optional<Tensor<float>> {
    order.push_back(2);
    return out - 10.0;
  });
  EXPECT_TRUE(values_are(m(scalar_tensor<float>(1.5)), {-7}));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  h.remove();
  order.clear();
  m(scalar_tensor<float>(1.5));
  EXPECT_EQ(order, (std::vector<int>{0, 2}));
}

TEST(Hooks, FireForSequentialMembersAndShallowCopies) {
  nn::Linear lin(3, 2);
  std::vector<Shape> shapes;
  auto record = [&](nn::Module&, const Tensor<float>&, const Tensor<float>& out) {
    shapes.push_back(out.shape());
  };
  lin.register_forward_hook(record);  // registered before the Sequential copies `lin`
  nn::ReLU relu;
  nn::Sequential seq(lin, relu, nn::Linear(2, 4));
  seq[2]->register_forward_hook(record);
  seq.register_forward_hook(record);
  seq(rand<float>({5, 3}));
  EXPECT_EQ(shapes, (std::vector<Shape>{{5, 2}, {5, 4}, {5, 4}}));
}

TEST(Hooks, CloneDropsTheHooks) {
  Double m;
  int calls = 0;
  m.register_forward_hook(
      [&](nn::Module&, const Tensor<float>&, const Tensor<float>&) { ++calls; });
  auto c = nn::clone(m);
  (*c)(scalar_tensor<float>(1));
  EXPECT_EQ(calls, 0);
  m(scalar_tensor<float>(1));
  EXPECT_EQ(calls, 1);
  nn::Sequential seq(m);
  auto sc = seq.clone();
  (*sc)(scalar_tensor<float>(1));
  EXPECT_EQ(calls, 1);
  seq(scalar_tensor<float>(1));
  EXPECT_EQ(calls, 2);
}

TEST(Hooks, HandleOutlivingTheModuleIsHarmless) {
  nn::RemovableHandle h;
  {
    Double m;
    h = m.register_forward_hook([](nn::Module&, const Tensor<float>&, const Tensor<float>&) {});
  }
  h.remove();
  SUCCEED();
}

TEST(Hooks, FullBackwardHookSeesGradOutputAndGradInput) {
  Double m;
  Tensor<float> gin_seen, gout_seen;
  int calls = 0;
  m.register_full_backward_hook(
      [&](nn::Module& self, const Tensor<float>& gin, const Tensor<float>& gout) {
        EXPECT_EQ(self.name(), "Double");
        gin_seen = gin;
        gout_seen = gout;
        ++calls;
      });
  Tensor<float> x = from_vector<float>({1, 2}, {2}).requires_grad_();
  // x is also used outside the module: grad_input is only this call's part.
  (m(x) * from_vector<float>({3, 4}, {2}) + x).sum().backward();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(values_are(gout_seen, {3, 4}));
  EXPECT_TRUE(values_are(gin_seen, {6, 8}));
  EXPECT_TRUE(values_are(x.grad(), {7, 9}));
}

TEST(Hooks, FullBackwardHookMayReplaceGradInput) {
  Double m;
  m.register_full_backward_hook(
      [](nn::Module&, const Tensor<float>& gin,
         const Tensor<float>&) -> std::optional<Tensor<float>> { return gin * 10.0; });
  Tensor<float> x = from_vector<float>({1, 2}, {2}).requires_grad_();
  m(x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {20, 20}));
}

TEST(Hooks, FullBackwardHookWithAnInputThatNeedsNoGrad) {
  nn::Linear lin(2, 1);
  int calls = 0;
  Tensor<float> gout_seen;
  auto h = lin.register_full_backward_hook(
      [&](nn::Module&, const Tensor<float>& gin, const Tensor<float>& gout) {
        EXPECT_FALSE(gin.defined());
        gout_seen = gout;
        ++calls;
      });
  lin(ones<float>({3, 2})).sum().backward();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(values_are(gout_seen, {1, 1, 1}));
  EXPECT_TRUE(lin.weight.grad().defined());
  // No graph under NoGradGuard: nothing to hook, nothing runs.
  {
    NoGradGuard guard;
    lin(ones<float>({3, 2}));
  }
  h.remove();
  lin.zero_grad();
  lin(ones<float>({3, 2})).sum().backward();
  EXPECT_EQ(calls, 1);
}

// A user module with value members called as fc(x), the documented spelling.
struct ValueNet : nn::Module {
  nn::Linear fc{2, 2};
  Double twice;
  ValueNet() : Module("ValueNet") {
    register_module("fc", fc);
    register_module("twice", twice);
  }
  Tensor<float> forward(const Tensor<float>& x) override { return twice(fc(x)); }
};

// A hook registered on a value member, or on the copy that register_module keeps, fires on every
// path: the member called inside forward, the registered child called directly, and a Sequential.
TEST(Hooks, FireForValueMembersCalledAsFunctions) {
  ValueNet net;
  int on_member = 0, on_child = 0;
  net.twice.register_forward_hook(
      [&](nn::Module&, const Tensor<float>&, const Tensor<float>&) { ++on_member; });
  net.named_children().at("fc")->register_forward_hook(
      [&](nn::Module&, const Tensor<float>&, const Tensor<float>&) { ++on_child; });
  net(ones<float>({1, 2}));
  EXPECT_EQ(on_member, 1);
  EXPECT_EQ(on_child, 1);  // registered on the child, fired by the member's call
  (*net.named_children().at("twice"))(ones<float>({1, 2}));
  EXPECT_EQ(on_member, 2);
  nn::Sequential seq(net.fc, net.twice);
  seq(ones<float>({1, 2}));
  EXPECT_EQ(on_member, 3);
  EXPECT_EQ(on_child, 2);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
