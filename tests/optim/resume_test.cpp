// Resuming from an optimizer's state: 10 steps, save, load into a fresh optimizer over fresh
// parameters, 10 more steps == 20 uninterrupted steps, bit for bit (through state_dict() and
// through a safetensors file).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "optim/optim_test_util.hpp"
#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

namespace fs = std::filesystem;
using optim_test::Problem;
using Factory =
    std::function<std::unique_ptr<optim::OptimizerT<float>>(const std::vector<Tensor<float>>&)>;

void run_steps(optim::Optimizer& opt, const Problem& p, int steps) {
  for (int s = 0; s < steps; ++s) {
    if (auto* lbfgs = dynamic_cast<optim::LBFGS*>(&opt)) {
      lbfgs->step([&] {
        opt.zero_grad();
        Tensor<float> l = p.loss();
        l.backward();
        return l;
      });
    } else {
      opt.zero_grad();
      p.loss().backward();
      opt.step();
    }
  }
}

// Two parameter groups where the optimizer allows it, so group options are restored too.
struct Case {
  std::string label;
  std::string problem;
  Factory make;
};

std::vector<Case> cases() {
  using P = std::vector<Tensor<float>>;
  return {
      {"SGD nesterov, groups", "linear",
       [](const P& p) {
         return std::make_unique<optim::SGD>(
             std::vector<optim::SGD::ParamGroup>{{{p[0]}, {.lr = 0.03}}, {{p[1]}}},
             optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
       }},
      {"Adam amsgrad", "rosenbrock",
       [](const P& p) {
         return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05, .amsgrad = true});
       }},
      {"AdamW, groups", "linear",
       [](const P& p) {
         return std::make_unique<optim::AdamW>(
             std::vector<optim::AdamW::ParamGroup>{{{p[0]}}, {{p[1]}, {.weight_decay = 0.5}}},
             optim::AdamWOptions{.lr = 0.05});
       }},
      {"RMSprop centered momentum", "rosenbrock",
       [](const P& p) {
         return std::make_unique<optim::RMSprop>(
             p, optim::RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true});
       }},
      {"Adagrad lr_decay", "linear",
       [](const P& p) {
         return std::make_unique<optim::Adagrad>(
             p,
             optim::AdagradOptions{.lr = 0.1, .lr_decay = 0.05, .initial_accumulator_value = 0.1});
       }},
      {"LBFGS strong_wolfe", "rosenbrock",
       [](const P& p) {
         return std::make_unique<optim::LBFGS>(
             p, optim::LBFGSOptions{.max_iter = 2,
                                    .history_size = 3,
                                    .line_search_fn = optim::LineSearch::StrongWolfe});
       }},
      {"LBFGS no line search", "linear",
       [](const P& p) {
         return std::make_unique<optim::LBFGS>(
             p, optim::LBFGSOptions{.lr = 0.2, .max_iter = 3, .history_size = 4});
       }},
  };
}

void copy_values(const Problem& from, Problem& to) {
  NoGradGuard guard;
  for (size_t i = 0; i < from.params.size(); ++i) to.params[i].copy_(from.params[i]);
}

class OptimizerResume : public sinew::testing::TempDirTest {
 protected:
  // Runs every case; `transfer` moves the state of the first optimizer into the second.
  void check(
      const std::function<void(optim::OptimizerT<float>&, optim::OptimizerT<float>&)>& transfer) {
    for (const Case& c : cases()) {
      SCOPED_TRACE(c.label);
      Problem straight(c.problem);
      auto opt = c.make(straight.params);
      run_steps(*opt, straight, 20);

      Problem first(c.problem);
      auto opt1 = c.make(first.params);
      run_steps(*opt1, first, 10);
      Problem second(c.problem);
      copy_values(first, second);
      auto opt2 = c.make(second.params);
      transfer(*opt1, *opt2);
      opt1.reset();
      run_steps(*opt2, second, 10);

      std::vector<double> want = straight.values(), got = second.values();
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "value " << i;
      // The run moved: resuming without state would not have matched a still parameter.
      EXPECT_NE(want, Problem(c.problem).values());
    }
  }
};

TEST_F(OptimizerResume, ThroughStateDictIsBitForBit) {
  check([](optim::OptimizerT<float>& a, optim::OptimizerT<float>& b) {
    b.load_state_dict(a.state_dict());
  });
}

TEST_F(OptimizerResume, ThroughSafetensorsFileIsBitForBit) {
  std::string path = (dir_ / "opt.safetensors").string();
  check([&](optim::OptimizerT<float>& a, optim::OptimizerT<float>& b) {
    optim::save(a, path);
    io::load(b, path);
  });
}

TEST_F(OptimizerResume, WithoutStateTheRunDiffers) {
  // The control for the tests above: a fresh Adam restarts its moments and bias correction.
  Problem straight("rosenbrock");
  optim::Adam opt(straight.params, {.lr = 0.05});
  run_steps(opt, straight, 20);
  Problem first("rosenbrock");
  optim::Adam opt1(first.params, {.lr = 0.05});
  run_steps(opt1, first, 10);
  optim::Adam opt2(first.params, {.lr = 0.05});
  run_steps(opt2, first, 10);
  EXPECT_NE(first.values(), straight.values());
}

TEST(OptimizerStateDict, LoadRestoresHyperparameters) {
  Problem p("linear");
  optim::SGD a(p.params, {.lr = 0.5, .momentum = 0.7, .weight_decay = 0.01});
  optim::SGD b(p.params, {.lr = 0.1});
  b.load_state_dict(a.state_dict());
  EXPECT_DOUBLE_EQ(b.lr(), 0.5);
  EXPECT_DOUBLE_EQ(b.momentum(), 0.7);
  EXPECT_DOUBLE_EQ(b.options().weight_decay, 0.01);
}

TEST(OptimizerStateDict, RejectsMismatches) {
  Problem p("linear");
  optim::Adam adam(p.params, {.lr = 0.1});
  p.loss().backward();
  adam.step();
  optim::StateDict sd = adam.state_dict();

  optim::SGD sgd(p.params, {.lr = 0.1});
  SINEW_EXPECT_ERROR(sgd.load_state_dict(sd), "load_state_dict", "Adam", "SGD");
  optim::Adam one_param({p.params[0]}, {});
  SINEW_EXPECT_ERROR(one_param.load_state_dict(sd), "load_state_dict", "group 0", "2", "1");

  optim::StateDict bad_shape = sd;
  bad_shape.tensors.insert_or_assign("state.0.exp_avg", zeros<float>({3}));
  optim::Adam fresh(p.params, {.lr = 0.3});
  SINEW_EXPECT_ERROR(fresh.load_state_dict(bad_shape), "state.0.exp_avg", "[3]", "[1, 3]");
  EXPECT_DOUBLE_EQ(fresh.lr(), 0.3);  // nothing changed
  EXPECT_EQ(fresh.find_state(p.params[0]), nullptr);

  optim::StateDict bad_key = sd;
  bad_key.tensors.insert("state.7.exp_avg", zeros<float>({1}));
  SINEW_EXPECT_ERROR(fresh.load_state_dict(bad_key), "state.7", "parameter 7");
  optim::StateDict bad_json = sd;
  bad_json.metadata["param_groups"] = "[{";
  SINEW_EXPECT_ERROR(fresh.load_state_dict(bad_json), "param_groups", "JSON");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
