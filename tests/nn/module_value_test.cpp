// Tests for nn/module.hpp: a module registered by value and the member it came from are one module
// (train/eval, hooks, to(), requires_grad_, zero_grad, parameters, buffers, later registrations),
// copies of a module are the same module, and the spellings that would split them raise.
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;

namespace {
namespace SINEW_UNITY_ID {

// The ported-MNIST shape that lost accuracy: value members registered in the constructor.
struct Net : nn::Module {
  nn::Linear fc{4, 3};
  nn::Dropout2d drop{0.5};
  Net() : Module("Net") {
    register_module("fc", fc);
    register_module("drop", drop);
  }
  // x: (N, 4, 1, 1), the channels Dropout2d drops.
  Tensor<float> forward(const Tensor<float>& x) override { return fc(drop(x).flatten(1)); }
};

// Members assigned in the constructor body before registering them.
struct AssignThenRegister : nn::Module {
  nn::Linear fc{1, 1};
  nn::Dropout drop;
  AssignThenRegister() : Module("AssignThenRegister") {
    fc = nn::Linear(2, 2);
    drop = nn::Dropout(0.25);
    register_module("fc", fc);
    register_module("drop", drop);
  }
};

// Value members recreated in reset(), so that clone() is deep.
struct ValueCloneable : nn::Cloneable<ValueCloneable> {
  nn::Linear fc{2, 3};
  nn::Dropout drop{0.5};
  ValueCloneable() : Cloneable("ValueCloneable") { reset(); }
  void reset() override {
    fc = nn::Linear(2, 3);
    drop = nn::Dropout(0.5);
    register_module("fc", fc);
    register_module("drop", drop);
  }
};

// Dropout in training drops (some zeros in a large input of ones); in eval it is the identity.
bool drops(nn::Dropout2d& d) {
  Tensor<float> x = ones<float>({4, 64, 2, 2});
  return (d(x) == 0.0f).to<int64_t>().sum().item() > 0;
}

TEST(ModuleValue, EvalOnTheParentReachesTheValueMember) {
  manual_seed(0);
  Net net;
  ASSERT_TRUE(net.drop.is_training());
  EXPECT_TRUE(drops(net.drop));
  net.eval();
  EXPECT_FALSE(net.drop.is_training());
  EXPECT_FALSE(net.fc.is_training());
  EXPECT_FALSE(drops(net.drop));
  Tensor<float> x = rand<float>({2, 4, 1, 1});
  EXPECT_TRUE(all_close(net(x), net.fc(x.flatten(1)), 0, 0));
  net.train();
  EXPECT_TRUE(net.drop.is_training());
  // ...and the other way round: the member's own train() is the registered module's.
  net.drop.eval();
  EXPECT_FALSE(net.named_children()["drop"]->is_training());
}

TEST(ModuleValue, ParametersBuffersAndLaterRegistrationsAreShared) {
  Net net;
  auto params = net.named_parameters();
  ASSERT_EQ(params.keys(), (std::vector<std::string>{"fc.weight", "fc.bias"}));
  EXPECT_TRUE(params["fc.weight"].is_same(net.fc.weight));
  // A registration on the member after the parent registered it shows up in the parent.
  net.fc.register_buffer("extra", zeros<float>({2}));
  EXPECT_TRUE(net.named_buffers().contains("fc.extra"));
  EXPECT_TRUE(net.state_dict().contains("fc.extra"));
}

TEST(ModuleValue, RequiresGradAndZeroGradReachTheMember) {
  Net net;
  net.eval();
  net.requires_grad_(false);
  EXPECT_FALSE(net.fc.weight.requires_grad());
  net.requires_grad_(true);
  net(ones<float>({2, 4, 1, 1})).sum().backward();
  ASSERT_TRUE(net.fc.weight.grad().defined());
  net.zero_grad();
  EXPECT_FALSE(net.fc.weight.grad().defined());
  net.fc(ones<float>({1, 4})).sum().backward();
  net.zero_grad(false);
  EXPECT_EQ(net.named_parameters()["fc.bias"].grad().abs().sum().item(), 0.0f);
}

TEST(ModuleValue, HooksOnEitherHandleRun) {
  Net net;
  int via_member = 0, via_registry = 0;
  net.fc.register_forward_hook(
      [&](nn::Module&, const Tensor<float>&, const Tensor<float>&) { ++via_member; });
  net.named_children()["fc"]->register_forward_pre_hook(
      [&](nn::Module&, const Tensor<float>&) { ++via_registry; });
  net.eval();
  net(ones<float>({1, 4, 1, 1}));
  EXPECT_EQ(via_member, 1);
  EXPECT_EQ(via_registry, 1);
}

TEST(ModuleValue, ToReachesTheMember) {
  Net net;
  Tensor<float> w = net.fc.weight;
  net.to(Device::cpu());
  EXPECT_TRUE(net.fc.weight.is_same(w));
  EXPECT_TRUE(net.named_parameters()["fc.weight"].is_same(w));
}

TEST(ModuleValue, AssigningBeforeRegisteringIsOneModule) {
  AssignThenRegister m;
  EXPECT_EQ(m.fc.weight.shape(), (Shape{2, 2}));
  EXPECT_TRUE(m.named_parameters()["fc.weight"].is_same(m.fc.weight));
  m.eval();
  EXPECT_FALSE(m.drop.is_training());
  EXPECT_FALSE(m.fc.is_training());
}

TEST(ModuleValue, AssigningAfterRegisteringRaises) {
  Net net;
  SINEW_EXPECT_ERROR(net.fc = nn::Linear(4, 3), "operator=", "'fc'", "Net",
                     "Assign the member before register_module");
  nn::Dropout2d other(0.1);
  SINEW_EXPECT_ERROR(net.drop = other, "operator=", "'drop'", "Net");
  // The failed assignments changed nothing: the member is still the registered module.
  net.eval();
  EXPECT_FALSE(net.drop.is_training());
  EXPECT_TRUE(other.is_training());
  // Once the parent is gone, the former member may be rebound freely.
  nn::Linear kept(1, 1);
  {
    nn::Sequential seq;
    seq.push_back(kept);
  }
  kept = nn::Linear(2, 2);
  EXPECT_EQ(kept.weight.shape(), (Shape{2, 2}));
}

TEST(ModuleValue, ContainersShareTheValueTheyWereGiven) {
  nn::Linear fc(2, 2);
  nn::Sequential seq;
  seq.push_back(fc);
  seq.eval();
  EXPECT_FALSE(fc.is_training());
  int calls = 0;
  fc.register_forward_hook(
      [&](nn::Module&, const Tensor<float>&, const Tensor<float>&) { ++calls; });
  seq(ones<float>({1, 2}));
  EXPECT_EQ(calls, 1);
}

TEST(ModuleValue, CopiesAreTheSameModule) {
  nn::Linear a(2, 2);
  nn::Linear b = a;
  b.eval();
  EXPECT_FALSE(a.is_training());
  b.register_buffer("extra", zeros<float>({1}));
  EXPECT_TRUE(a.named_buffers().contains("extra"));
  // A moved-from module is a new empty one; the moved-to one is the original.
  nn::Linear c = std::move(b);
  EXPECT_TRUE(c.named_parameters()["weight"].is_same(a.weight));
  EXPECT_TRUE(b.named_parameters().empty());
}

TEST(ModuleValue, ModuleCannotContainItself) {
  Net net;
  SINEW_EXPECT_ERROR(net.register_module("self", net), "register_module", "Net",
                     "its own submodule");
  auto inner = std::make_shared<nn::Sequential>();
  nn::Sequential outer;
  outer.register_module("inner", inner);
  SINEW_EXPECT_ERROR(inner->register_module("outer", outer), "register_module",
                     "its own submodule");
}

TEST(ModuleValue, CloneOfValueMembersIsDeep) {
  ValueCloneable m;
  m.eval();
  auto c = nn::clone(m);
  EXPECT_FALSE(c->is_training());
  EXPECT_FALSE(c->drop.is_training());
  EXPECT_FALSE(c->fc.weight.shares_storage(m.fc.weight));
  EXPECT_TRUE(all_close(c->fc.weight, m.fc.weight, 0, 0));
  EXPECT_TRUE(c->named_parameters()["fc.weight"].is_same(c->fc.weight));
  c->train();
  EXPECT_TRUE(c->drop.is_training());
  EXPECT_FALSE(m.drop.is_training());
  EXPECT_FALSE(m.fc.is_training());
}

}  // namespace SINEW_UNITY_ID
}  // namespace
