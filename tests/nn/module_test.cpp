// Tests for nn/module.hpp: registration and dotted names, state dicts (round trip, strict and
// non-strict loading), freezing, zero_grad, train/eval, apply, shallow copies and deep clones.
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {

// A user network written as the module.hpp comment recommends.
struct Net : nn::Cloneable<Net> {
  Tensor<float> alpha;
  Tensor<float> scale;
  std::shared_ptr<nn::Linear> fc1;
  std::shared_ptr<nn::Sequential> features;

  Net() : Cloneable("Net") { reset(); }
  void reset() override {
    alpha = register_parameter("alpha", full<float>({1}, 0.5));
    scale = register_buffer("scale", full<float>({2}, 3.0));
    fc1 = register_module("fc1", nn::Linear(3, 4));
    features =
        register_module("features", nn::Sequential(nn::Linear(4, 4), nn::ReLU(), nn::Linear(4, 2)));
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    return (*features)((*fc1)(x)) * alpha * scale;
  }
};

std::vector<std::string> keys(const nn::OrderedDict<Tensor<float>>& d) { return d.keys(); }

// Registers its members in the constructor only: clone() must refuse it.
struct ConstructorOnly : nn::Cloneable<ConstructorOnly> {
  ConstructorOnly() : Cloneable("ConstructorOnly") { register_module("fc", nn::Linear(2, 2)); }
};

struct NotCloneable : nn::Module {
  NotCloneable() : nn::Module("NotCloneable") {}
};

TEST(Module, NamedParametersUseDottedNames) {
  Net net;
  EXPECT_EQ(keys(net.named_parameters()),
            (std::vector<std::string>{"alpha", "fc1.weight", "fc1.bias", "features.0.weight",
                                      "features.0.bias", "features.2.weight", "features.2.bias"}));
  EXPECT_EQ(keys(net.named_parameters(/*recurse=*/false)), std::vector<std::string>{"alpha"});
  EXPECT_EQ(net.parameters().size(), 7u);
  EXPECT_TRUE(net.named_parameters()["fc1.weight"].is_same(net.fc1->weight));
  for (const auto& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(Module, BuffersAreInTheStateDictButNotParameters) {
  Net net;
  EXPECT_EQ(keys(net.named_buffers()), std::vector<std::string>{"scale"});
  EXPECT_FALSE(net.buffers()[0].requires_grad());
  EXPECT_EQ(
      keys(net.state_dict()),
      (std::vector<std::string>{"alpha", "scale", "fc1.weight", "fc1.bias", "features.0.weight",
                                "features.0.bias", "features.2.weight", "features.2.bias"}));
}

TEST(Module, ChildrenAndModulesAreListedInOrder) {
  Net net;
  ASSERT_EQ(net.children().size(), 2u);
  EXPECT_EQ(net.children()[0].get(), net.fc1.get());
  std::vector<std::string> names;
  for (auto& [n, m] : net.named_modules()) names.push_back(n + ":" + m->name());
  EXPECT_EQ(names, (std::vector<std::string>{":Net", "fc1:Linear", "features:Sequential",
                                             "features.0:Linear", "features.1:ReLU",
                                             "features.2:Linear"}));
  EXPECT_EQ(net.modules().size(), 6u);
  EXPECT_EQ(net.modules()[0], &net);
}

TEST(Module, RejectsBadAndDuplicateNames) {
  nn::Module m("M");
  m.register_parameter("w", zeros<float>({2}));
  SINEW_EXPECT_ERROR(m.register_parameter("w", zeros<float>({2})), "register_parameter", "'w'",
                     "already registered");
  SINEW_EXPECT_ERROR(m.register_buffer("w", zeros<float>({2})), "register_buffer", "'w'");
  SINEW_EXPECT_ERROR(m.register_module("w", nn::ReLU()), "register_module", "'w'");
  SINEW_EXPECT_ERROR(m.register_parameter("a.b", zeros<float>({2})), "register_parameter", "'a.b'");
  SINEW_EXPECT_ERROR(m.register_parameter("", zeros<float>({2})), "register_parameter");
  SINEW_EXPECT_ERROR(m.register_parameter("u", Tensor<float>()), "register_parameter", "undefined");
  SINEW_EXPECT_ERROR(m.register_module("n", std::shared_ptr<nn::Linear>()), "register_module",
                     "null");
}

TEST(Module, RegisterParameterKeepsALeafAndDetachesAComputedTensor) {
  nn::Module m("M");
  Tensor<float> leaf = ones<float>({2});
  Tensor<float> p = m.register_parameter("p", leaf);
  EXPECT_TRUE(p.is_same(leaf));
  EXPECT_TRUE(leaf.requires_grad());
  Tensor<float> base = ones<float>({2}).requires_grad_();
  Tensor<float> q = m.register_parameter("q", base * 2.0, /*requires_grad=*/false);
  EXPECT_TRUE(q.is_leaf());
  EXPECT_FALSE(q.requires_grad());
  EXPECT_TRUE(values_are(q, {2, 2}));
}

TEST(Module, SharedParameterIsListedOnce) {
  nn::Module m("M");
  auto lin = std::make_shared<nn::Linear>(2, 2);
  m.register_module("a", lin);
  m.register_module("b", lin);
  EXPECT_EQ(keys(m.named_parameters()), (std::vector<std::string>{"a.weight", "a.bias"}));
  EXPECT_EQ(m.state_dict().size(), 4u);  // the state dict keeps every name, as PyTorch's
}

TEST(Module, StateDictRoundTripsIntoAFreshModule) {
  manual_seed(1);
  Net a;
  Net b;
  ASSERT_FALSE(all_close(a.fc1->weight, b.fc1->weight));
  {
    NoGradGuard g;
    a.alpha.fill_(2.0);
    a.scale.fill_(-1.0);
  }
  auto r = b.load_state_dict(a.state_dict());
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  auto sa = a.state_dict(), sb = b.state_dict();
  for (const auto& [k, t] : sa) EXPECT_TRUE(all_close(sb[k], t, 0, 0)) << k;
  Tensor<float> x = rand<float>({5, 3});
  EXPECT_TRUE(all_close(b(x), a(x), 0, 0));
  // Loading copies values: b's memory stays its own.
  EXPECT_FALSE(b.fc1->weight.shares_storage(a.fc1->weight));
  {
    NoGradGuard g;
    a.fc1->weight.fill_(7.0);
  }
  EXPECT_FALSE(all_close(b.fc1->weight, a.fc1->weight));
  // Parameters keep their identity and flags.
  EXPECT_TRUE(b.fc1->weight.requires_grad());
  EXPECT_TRUE(b.named_parameters()["fc1.weight"].is_same(b.fc1->weight));
}

TEST(Module, StateDictTensorsAliasTheModuleAndAreDetached) {
  nn::Linear lin(2, 3);
  auto sd = lin.state_dict();
  EXPECT_FALSE(sd["weight"].requires_grad());
  EXPECT_TRUE(sd["weight"].shares_storage(lin.weight));
}

TEST(Module, StrictLoadListsMissingAndUnexpectedKeysAndWritesNothing) {
  Net a, b;
  Tensor<float> before = b.fc1->weight.clone().detach();
  nn::StateDict sd;
  for (auto& [k, t] : a.state_dict()) {
    if (k != "fc1.bias" && k != "scale") sd.insert(k, t);
  }
  sd.insert("fc3.weight", zeros<float>({2, 2}));
  SINEW_EXPECT_ERROR(b.load_state_dict(sd), "load_state_dict", "Net",
                     "missing keys [scale, fc1.bias]", "unexpected keys [fc3.weight]");
  EXPECT_TRUE(all_close(b.fc1->weight, before, 0, 0));
}

TEST(Module, NonStrictLoadReportsKeysAndLoadsTheRest) {
  Net a, b;
  nn::StateDict sd;
  for (auto& [k, t] : a.state_dict()) {
    if (k != "fc1.bias") sd.insert(k, t);
  }
  sd.insert("extra", zeros<float>({1}));
  auto r = b.load_state_dict(sd, {.strict = false});
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{"fc1.bias"});
  EXPECT_EQ(r.unexpected_keys, std::vector<std::string>{"extra"});
  EXPECT_TRUE(all_close(b.fc1->weight, a.fc1->weight, 0, 0));
  EXPECT_FALSE(all_close(b.fc1->bias, a.fc1->bias));
}

TEST(Module, ShapeMismatchIsAnErrorEvenWhenNotStrict) {
  nn::Linear a(3, 4), b(3, 4);
  nn::StateDict sd;
  sd.insert("weight", zeros<float>({3, 3}));
  sd.insert("bias", zeros<float>({4}));
  Tensor<float> before = a.bias.clone().detach();
  SINEW_EXPECT_ERROR(a.load_state_dict(sd, {.strict = false}), "load_state_dict", "Linear",
                     "mismatch for [weight: expected [4, 3], got [3, 3]]");
  EXPECT_TRUE(all_close(a.bias, before, 0, 0));  // nothing written
}

TEST(Module, FrozenParametersGetNoGradient) {
  Net net;
  net.fc1->requires_grad_(false);
  for (const auto& p : net.fc1->parameters()) EXPECT_FALSE(p.requires_grad());
  Tensor<float> w_before = net.fc1->weight.clone();
  net(rand<float>({4, 3})).sum().backward();
  EXPECT_FALSE(net.fc1->weight.grad().defined());
  EXPECT_FALSE(net.fc1->bias.grad().defined());
  EXPECT_TRUE(net.features->at<nn::Linear>(0)->weight.grad().defined());
  EXPECT_TRUE(net.alpha.grad().defined());
  EXPECT_TRUE(all_close(net.fc1->weight, w_before, 0, 0));
  net.requires_grad_(true);
  EXPECT_TRUE(net.fc1->weight.requires_grad());
}

TEST(Module, ZeroGradSetsGradientsToNoneOrZero) {
  nn::Linear lin(3, 2);
  lin(ones<float>({1, 3})).sum().backward();
  ASSERT_TRUE(lin.weight.grad().defined());
  lin.zero_grad(/*set_to_none=*/false);
  EXPECT_TRUE(values_are(lin.weight.grad(), {0, 0, 0, 0, 0, 0}));
  lin.zero_grad();
  EXPECT_FALSE(lin.weight.grad().defined());
  EXPECT_FALSE(lin.bias.grad().defined());
}

TEST(Module, TrainAndEvalReachEverySubmodule) {
  Net net;
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (auto* m : net.modules()) EXPECT_FALSE(m->is_training()) << m->name();
  net.features->train();
  EXPECT_FALSE(net.is_training());
  EXPECT_TRUE(net.features->at<nn::ReLU>(1)->is_training());
  net.train();
  for (auto* m : net.modules()) EXPECT_TRUE(m->is_training()) << m->name();
}

TEST(Module, ApplyVisitsChildrenBeforeTheirParent) {
  Net net;
  std::vector<std::string> seen;
  net.apply([&](nn::Module& m) { seen.push_back(m.name()); });
  EXPECT_EQ(seen,
            (std::vector<std::string>{"Linear", "Linear", "ReLU", "Linear", "Sequential", "Net"}));
  net.apply([](nn::Module& m) {
    if (auto* lin = dynamic_cast<nn::Linear*>(&m)) nn::init::zeros_(lin->weight);
  });
  EXPECT_TRUE(values_are(net.fc1->weight.sum(), {0}));
}

TEST(Module, CopiesAreShallowAndShareParameters) {
  nn::Linear a(2, 2);
  nn::Linear b = a;
  EXPECT_TRUE(b.weight.is_same(a.weight));
  {
    NoGradGuard g;
    b.weight.fill_(3.0);
  }
  EXPECT_TRUE(values_are(a.weight, {3, 3, 3, 3}));
}

TEST(Module, CloneIsADeepIndependentCopy) {
  Net net;
  net.fc1->requires_grad_(false);
  net.eval();
  std::shared_ptr<Net> c = nn::clone(net);
  auto so = net.state_dict(), sc = c->state_dict();
  ASSERT_EQ(so.keys(), sc.keys());
  for (const auto& [k, t] : so) {
    EXPECT_TRUE(all_close(sc[k], t, 0, 0)) << k;
    EXPECT_FALSE(sc[k].shares_storage(t)) << k;
  }
  // The clone's member handles point at its own registry.
  EXPECT_TRUE(c->fc1->weight.is_same(c->named_parameters()["fc1.weight"]));
  EXPECT_TRUE(c->fc1->weight.shares_storage(c->state_dict()["fc1.weight"]));
  EXPECT_NE(c->fc1.get(), net.fc1.get());
  EXPECT_FALSE(c->fc1->weight.requires_grad());  // flags and mode are copied
  EXPECT_TRUE(c->alpha.requires_grad());
  EXPECT_FALSE(c->is_training());
  EXPECT_FALSE(c->features->at<nn::Linear>(2)->is_training());
  Tensor<float> x = rand<float>({2, 3});
  EXPECT_TRUE(all_close((*c)(x), net(x), 0, 0));
  {
    NoGradGuard g;
    c->fc1->weight.fill_(0.25);
    c->features->at<nn::Linear>(0)->bias.fill_(1.0);
    c->scale.fill_(9.0);
  }
  EXPECT_FALSE(all_close(net.fc1->weight, c->fc1->weight));
  EXPECT_FALSE(
      all_close(net.features->at<nn::Linear>(0)->bias, c->features->at<nn::Linear>(0)->bias));
  EXPECT_TRUE(values_are(net.scale, {3, 3}));
}

TEST(Module, CloneNeedsRegistrationsInReset) {
  ConstructorOnly m;
  SINEW_EXPECT_ERROR(m.clone(), "clone", "ConstructorOnly", "reset()", "[fc]");
  NotCloneable n;
  SINEW_EXPECT_ERROR(n.clone(), "clone", "NotCloneable", "nn::Cloneable<NotCloneable>");
}

TEST(Module, DefaultForwardNamesTheModule) {
  NotCloneable n;
  SINEW_EXPECT_ERROR(n(zeros<float>({1})), "NotCloneable", "no forward");
}

TEST(Module, PrintsTheTreeAsPyTorch) {
  nn::Sequential s(nn::Linear(2, 3), nn::ReLU());
  std::ostringstream os;
  os << s;
  EXPECT_EQ(
      os.str(),
      "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=true)\n  (1): ReLU()\n)");
}

TEST(OrderedDict, KeepsInsertionOrderAndRejectsDuplicates) {
  nn::OrderedDict<int> d;
  d.insert("b", 1);
  d.insert("a", 2);
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(d["a"], 2);
  EXPECT_EQ(d.item(0).second, 1);
  SINEW_EXPECT_ERROR(d.insert("a", 3), "OrderedDict::insert", "'a'");
  SINEW_EXPECT_ERROR(d.at("zz"), "OrderedDict::at", "'zz'");
  SINEW_EXPECT_ERROR(d.item(5), "OrderedDict::item", "5");
  d.insert_or_assign("a", 4);
  EXPECT_EQ(d["a"], 4);
  EXPECT_EQ(d.find("c"), nullptr);
}

TEST(Module, ToTheSameDeviceKeepsEveryTensor) {
  Net net;
  Tensor<float> w = net.fc1->weight;
  std::vector<float> before = w.to_vector();
  net.to(Device::cpu());
  EXPECT_TRUE(net.fc1->weight.is_same(w));
  EXPECT_EQ(net.fc1->weight.to_vector(), before);
}

#ifndef SINEW_WITH_CUDA
TEST(Module, ToAMissingDeviceIsAnErrorThatChangesNothing) {
  Net net;
  SINEW_EXPECT_ERROR(net.to(Device::cuda(0)), "cuda:0", "no CUDA backend");
  for (const auto& p : net.parameters()) EXPECT_TRUE(p.is_cpu());
  EXPECT_TRUE(std::isfinite(net.fc1->weight.sum().item()));
}
#endif

}  // namespace SINEW_UNITY_ID
}  // namespace
