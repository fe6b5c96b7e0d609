// Optimizers against PyTorch 1.13 trajectories (tests/fixtures/gen_optim.py), parameter groups,
// zero_grad, state and its shapes, and error paths. Resuming from state dicts: resume_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sinew/sinew.hpp>

#include "fixture.hpp"
#include "optim/optim_test_util.hpp"
#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using optim_test::Problem;

// PyTorch in float64 against float32 here: 1e-5 relative. The generator asserts that torch's own
// float32 run stays within a fraction of this, so the comparison is meaningful.
void expect_trajectory(const std::vector<std::vector<double>>& got, const nlohmann::json& traj) {
  optim_test::expect_trajectory(got, traj, 1e-5);
}

TEST(Optimizers, TrajectoriesMatchPyTorch) {
  nlohmann::json fx = testing::load_fixture("optim/optim.json");
  int steps = fx["steps"].get<int>();
  ASSERT_GE(fx["cases"].size(), 36u);
  for (const auto& c : fx["cases"]) {
    std::string name = c["optimizer"].get<std::string>();
    SCOPED_TRACE(name + " " + c["label"].get<std::string>() + " on " +
                 c["problem"].get<std::string>());
    Problem p(c["problem"].get<std::string>());
    bool maximize = c["options"].value("maximize", false);
    auto opt = optim_test::make(name, c["options"], p.params);
    std::vector<std::vector<double>> got;
    for (int s = 0; s < steps; ++s) {
      opt->zero_grad();
      p.loss(maximize ? -1 : 1).backward();
      opt->step();
      got.push_back(p.values());
    }
    expect_trajectory(got, c["trajectory"]);
  }
}

TEST(Optimizers, ParamGroupsUseTheirOwnOptions) {
  nlohmann::json fx = testing::load_fixture("optim/optim.json")["groups"];
  Problem p("linear");
  // weight: lr 0.1 (momentum from the defaults), bias: lr 0.01 and momentum 0.5.
  optim::SGD opt({{{p.params[0]}, {.lr = 0.1}}, {{p.params[1]}, {.lr = 0.01, .momentum = 0.5}}},
                 {.lr = 0.05, .momentum = 0.9});
  ASSERT_EQ(opt.num_param_groups(), 2u);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.1);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.01);
  EXPECT_DOUBLE_EQ(opt.momentum(0), 0.9);
  EXPECT_DOUBLE_EQ(opt.momentum(1), 0.5);
  std::vector<std::vector<double>> got;
  for (size_t s = 0; s < fx["trajectory"].size(); ++s) {
    opt.zero_grad();
    p.loss().backward();
    opt.step();
    got.push_back(p.values());
  }
  expect_trajectory(got, fx["trajectory"]);
}

TEST(Optimizers, SetLrAndMomentumPerGroupAndForAll) {
  Problem p("linear");
  optim::Adam opt({{{p.params[0]}}, {{p.params[1]}, {.betas = {{0.5, 0.9}}}}}, {.lr = 0.01});
  EXPECT_DOUBLE_EQ(opt.momentum(1), 0.5);
  EXPECT_DOUBLE_EQ(opt.options(1).betas.second, 0.9);
  opt.set_lr(0.2, 1);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.01);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.2);
  opt.set_lr(0.3);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.3);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.3);
  ASSERT_TRUE(opt.has_momentum());
  opt.set_momentum(0.7);
  EXPECT_DOUBLE_EQ(opt.options(0).betas.first, 0.7);
  EXPECT_DOUBLE_EQ(opt.options(1).betas.first, 0.7);
  SINEW_EXPECT_ERROR(opt.set_momentum(1.0, 0), "beta");
  SINEW_EXPECT_ERROR(opt.set_lr(-1.0, 0), "learning rate");
  SINEW_EXPECT_ERROR(opt.lr(2), "group 2");

  optim::Adagrad ada(p.params, {});
  EXPECT_FALSE(ada.has_momentum());
  SINEW_EXPECT_ERROR(ada.momentum(0), "Adagrad", "momentum");
  optim::RMSprop rms(p.params, {.momentum = 0.3});
  EXPECT_DOUBLE_EQ(rms.momentum(), 0.3);
}

TEST(Optimizers, AddParamGroupTakesDefaultsAndRejectsDuplicates) {
  Problem p("linear");
  optim::SGD opt({p.params[0]}, {.lr = 0.5});
  opt.add_param_group({{p.params[1]}, {.momentum = 0.9}});
  ASSERT_EQ(opt.num_param_groups(), 2u);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.5);
  EXPECT_DOUBLE_EQ(opt.momentum(1), 0.9);
  SINEW_EXPECT_ERROR(opt.add_param_group(std::vector<Tensor<float>>{p.params[0]}),
                     "more than one place");
}

TEST(LBFGS, TrajectoriesMatchPyTorch) {
  nlohmann::json fx = testing::load_fixture("optim/optim.json");
  ASSERT_EQ(fx["lbfgs"].size(), 4u);
  for (const auto& c : fx["lbfgs"]) {
    SCOPED_TRACE("LBFGS " + c["label"].get<std::string>() + " on " +
                 c["problem"].get<std::string>());
    Problem p(c["problem"].get<std::string>());
    optim::LBFGS opt(p.params, c["options"].get<optim::LBFGSOptions>());
    std::vector<std::vector<double>> got;
    for (size_t s = 0; s < c["trajectory"].size(); ++s) {
      opt.step([&] {
        opt.zero_grad();
        Tensor<float> l = p.loss();
        l.backward();
        return l;
      });
      got.push_back(p.values());
    }
    expect_trajectory(got, c["trajectory"]);
  }
}

TEST(LBFGS, StrongWolfeReachesTheRosenbrockMinimum) {
  Problem p("rosenbrock");
  optim::LBFGS opt(p.params, {.max_iter = 100, .line_search_fn = optim::LineSearch::StrongWolfe});
  double first = opt.step([&] {
    opt.zero_grad();
    Tensor<float> l = p.loss();
    l.backward();
    return l;
  });
  EXPECT_NEAR(first, 12.5, 1e-4);  // f(-1.5, 2) = 2.5^2 + 100 * 0.25^2
  std::vector<double> xy = p.values();
  EXPECT_NEAR(xy[0], 1.0, 1e-4);
  EXPECT_NEAR(xy[1], 1.0, 1e-4);
}

TEST(LBFGS, GroupsAreOptimizedInTurn) {
  // f(a, b) = (a - 1)^2 + 2 (b + 3)^2, separable: each group converges on its own coordinate.
  Tensor<float> a = full<float>({1}, 5.0).requires_grad_();
  Tensor<float> b = full<float>({1}, 0.0).requires_grad_();
  optim::LBFGS opt({{{a}}, {{b}, {.max_iter = 50}}},
                   {.max_iter = 10, .line_search_fn = optim::LineSearch::StrongWolfe});
  int evaluations = 0;
  double first = opt.step([&] {
    ++evaluations;
    opt.zero_grad();
    Tensor<float> l = (a - 1).pow(2).sum() + 2 * (b + 3).pow(2).sum();
    l.backward();
    return l;
  });
  EXPECT_NEAR(first, 16 + 18, 1e-5);
  EXPECT_NEAR(a.item(), 1.0, 1e-5);
  EXPECT_NEAR(b.item(), -3.0, 1e-5);
  EXPECT_GE(evaluations, 4);
}

TEST(Optimizers, ZeroGradSetsToNoneOrZeroesInPlace) {
  Problem p("linear");
  optim::SGD opt(p.params, {.lr = 0.1});
  p.loss().backward();
  Tensor<float> g = p.params[0].grad();
  ASSERT_TRUE(g.defined());
  const float* before = g.data_ptr();
  opt.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(p.params[0].grad().defined());
  EXPECT_EQ(p.params[0].grad().data_ptr(), before);
  EXPECT_TRUE(testing::values_are(p.params[0].grad(), {0, 0, 0}));
  opt.zero_grad();
  EXPECT_FALSE(p.params[0].grad().defined());
  EXPECT_FALSE(p.params[1].grad().defined());
}

TEST(Optimizers, SkipParametersWithoutGradAndKeepBuffersInPlace) {
  Tensor<float> used = full<float>({3}, 1.0).requires_grad_();
  Tensor<float> unused = full<float>({2}, 4.0).requires_grad_();
  optim::Adam opt({used, unused}, {.lr = 0.1, .amsgrad = true});
  (used * used).sum().backward();
  opt.step();
  EXPECT_TRUE(testing::values_are(unused, {4, 4}));
  EXPECT_EQ(opt.find_state(unused), nullptr);
  const optim::ParamState* s = opt.find_state(used);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->step, 1);
  const float* m = s->buffers.at("exp_avg").data_ptr();
  const float* v = s->buffers.at("max_exp_avg_sq").data_ptr();
  uint64_t version = used.version();
  opt.step();
  EXPECT_EQ(s->step, 2);
  EXPECT_EQ(s->buffers.at("exp_avg").data_ptr(), m);  // state updated in place, never reallocated
  EXPECT_EQ(s->buffers.at("max_exp_avg_sq").data_ptr(), v);
  EXPECT_GT(used.version(), version);  // the parameter's in-place update is visible to autograd
  EXPECT_TRUE(used.requires_grad());
}

TEST(Optimizers, StepRecordsNoHistory) {
  Problem p("rosenbrock");
  optim::SGD opt(p.params, {.lr = 1e-3, .momentum = 0.9});
  p.loss().backward();
  opt.step();
  EXPECT_TRUE(p.params[0].is_leaf());
  EXPECT_EQ(opt.state(p.params[0]).buffers.at("momentum_buffer").grad_fn(), nullptr);
}

TEST(Optimizers, StateDictHasIndexedKeysAndJsonGroups) {
  Problem p("linear");
  optim::Adam opt({{{p.params[0]}, {.lr = 0.5}}, {{p.params[1]}}}, {.lr = 0.01, .amsgrad = true});
  p.loss().backward();
  opt.step();
  optim::StateDict sd = opt.state_dict();
  for (const char* k : {"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq",
                        "state.0.max_exp_avg_sq", "state.1.step", "state.1.exp_avg"}) {
    EXPECT_TRUE(sd.tensors.contains(k)) << k;
  }
  EXPECT_EQ(sd.tensors.at("state.0.exp_avg").shape(), Shape({1, 3}));
  EXPECT_EQ(sd.tensors.at("state.1.step").item(), 1.0f);
  EXPECT_EQ(sd.metadata.at("optimizer"), "Adam");
  auto groups = nlohmann::json::parse(sd.metadata.at("param_groups"));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_DOUBLE_EQ(groups[0]["lr"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(groups[1]["lr"].get<double>(), 0.01);
  EXPECT_EQ(groups[1]["amsgrad"].get<bool>(), true);
  EXPECT_EQ(groups[1]["params"], nlohmann::json::array({1}));
  // A snapshot: further steps do not change it.
  float before = sd.tensors.at("state.0.exp_avg").to_vector()[0];
  opt.step();
  EXPECT_EQ(sd.tensors.at("state.0.exp_avg").to_vector()[0], before);
}

TEST(Optimizers, RejectBadOptions) {
  Problem p("linear");
  SINEW_EXPECT_ERROR(optim::SGD(p.params, {.lr = -0.1}), "SGD", "learning rate", "-0.1");
  SINEW_EXPECT_ERROR(optim::SGD(p.params, {.lr = 0.1, .nesterov = true}), "SGD", "Nesterov");
  SINEW_EXPECT_ERROR(
      optim::SGD(p.params, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
      "Nesterov");
  SINEW_EXPECT_ERROR(optim::SGD(p.params, {.momentum = -1}), "momentum");
  SINEW_EXPECT_ERROR(optim::SGD(p.params, {.weight_decay = -1}), "weight_decay");
  SINEW_EXPECT_ERROR(optim::Adam(p.params, {.betas = {1.0, 0.999}}), "Adam", "index 0");
  SINEW_EXPECT_ERROR(optim::AdamW(p.params, {.betas = {0.9, -0.1}}), "AdamW", "index 1");
  SINEW_EXPECT_ERROR(optim::Adam(p.params, {.lr = -1}), "learning rate");
  SINEW_EXPECT_ERROR(optim::Adam(p.params, {.eps = -1}), "epsilon");
  SINEW_EXPECT_ERROR(optim::RMSprop(p.params, {.alpha = -0.5}), "RMSprop", "alpha");
  SINEW_EXPECT_ERROR(optim::Adagrad(p.params, {.lr_decay = -1}), "Adagrad", "lr_decay");
  SINEW_EXPECT_ERROR(optim::Adagrad(p.params, {.initial_accumulator_value = -1}),
                     "initial_accumulator_value");
  SINEW_EXPECT_ERROR(optim::LBFGS(p.params, {.max_iter = 0}), "LBFGS", "max_iter");
  SINEW_EXPECT_ERROR(optim::LBFGS(p.params, {.history_size = 0}), "history_size");
  // A bad override in a group is caught too.
  SINEW_EXPECT_ERROR(optim::SGD({{{p.params[0]}, {.lr = -2}}}, {}), "learning rate", "-2");
}

TEST(Optimizers, RejectBadParameterLists) {
  SINEW_EXPECT_ERROR(optim::SGD(std::vector<Tensor<float>>{}, {}), "SGD", "empty parameter list");
  SINEW_EXPECT_ERROR(optim::Adam(std::vector<optim::Adam::ParamGroup>{}, {}), "Adam", "empty");
  Tensor<float> a = ones<float>({2}).requires_grad_();
  SINEW_EXPECT_ERROR(optim::SGD({a, a}, {}), "more than one place");
  SINEW_EXPECT_ERROR(optim::SGD({Tensor<float>()}, {}), "undefined");
  Tensor<float> non_leaf = a * 2;
  SINEW_EXPECT_ERROR(optim::SGD({non_leaf}, {}), "non-leaf");
}

TEST(LBFGS, NeedsAClosure) {
  Problem p("rosenbrock");
  optim::LBFGS opt(p.params, {});
  SINEW_EXPECT_ERROR(opt.step(), "LBFGS::step", "closure");
  SINEW_EXPECT_ERROR(opt.step(optim::LBFGS::Closure()), "closure is empty");
  SINEW_EXPECT_ERROR(opt.step([] { return Tensor<float>(); }), "one-element loss");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
