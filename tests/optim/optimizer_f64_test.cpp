// Optimizers over Tensor<double> parameters against PyTorch 1.13's float64 trajectories
// (tests/fixtures/gen_optim_f64.py) to 1e-9 relative, an LBFGS nonlinear least-squares fit, double
// state dicts and files, and a scheduler driving a double optimizer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
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

// The generator's "mixed" problem: W [3, 2], b [2], s [1] and
// L = mean((x @ W + b * s - y)^2) + 0.1 * sum(W^4) + sum((s - 1.5)^2).
struct Mixed {
  Tensor<double> x = from_vector<double>(
      {0.5, -1.0, 2.0, 1.5, 0.25, -0.5, -0.75, 1.0, 0.0, 2.0, -0.5, 1.0}, {4, 3});
  Tensor<double> y = from_vector<double>({0.3, -0.2, 1.1, 0.4, -0.6, 0.9, 0.8, -1.3}, {4, 2});
  std::vector<Tensor<double>> params = {
      from_vector<double>({0.1, -0.2, 0.3, 0.05, -0.15, 0.25}, {3, 2}).requires_grad_(),
      from_vector<double>({0.05, -0.1}, {2}).requires_grad_(),
      from_vector<double>({0.8}, {1}).requires_grad_()};

  Tensor<double> loss() const {
    const Tensor<double>&w = params[0], &b = params[1], &s = params[2];
    return (x.matmul(w) + b * s - y).pow(2).mean() + 0.1 * w.pow(4).sum() + (s - 1.5).pow(2).sum();
  }
};

std::vector<double> values(const std::vector<Tensor<double>>& params) {
  std::vector<double> out;
  for (const auto& p : params)
    for (double v : p.to_vector()) out.push_back(v);
  return out;
}

void expect_trajectory(const std::vector<std::vector<double>>& got, const nlohmann::json& traj) {
  optim_test::expect_trajectory(got, traj, 1e-9);
}

std::unique_ptr<optim::OptimizerT<double>> make(const std::string& name, const nlohmann::json& o,
                                                const std::vector<Tensor<double>>& params) {
  using namespace optim;
  if (name == "SGD") return std::make_unique<SGDT<double>>(params, o.get<SGDOptions>());
  if (name == "Adam") return std::make_unique<AdamT<double>>(params, o.get<AdamOptions>());
  if (name == "AdamW") return std::make_unique<AdamWT<double>>(params, o.get<AdamWOptions>());
  if (name == "RMSprop") return std::make_unique<RMSpropT<double>>(params, o.get<RMSpropOptions>());
  if (name == "Adagrad") return std::make_unique<AdagradT<double>>(params, o.get<AdagradOptions>());
  if (name == "LBFGS") return std::make_unique<LBFGST<double>>(params, o.get<LBFGSOptions>());
  throw Error("make: unknown optimizer " + name);
}

// One step of any optimizer on `loss` (LBFGS through its closure).
template <class Loss>
void step(optim::OptimizerT<double>& opt, const Loss& loss) {
  if (auto* lbfgs = dynamic_cast<optim::LBFGST<double>*>(&opt)) {
    lbfgs->step([&] {
      opt.zero_grad();
      Tensor<double> l = loss();
      l.backward();
      return l;
    });
  } else {
    opt.zero_grad();
    loss().backward();
    opt.step();
  }
}

TEST(OptimizersF64, TrajectoriesMatchPyTorchFloat64) {
  nlohmann::json fx = testing::load_fixture("optim/optim_f64.json");
  const int steps = fx["steps"].get<int>();
  ASSERT_EQ(fx["cases"].size(), 11u);
  for (const auto& c : fx["cases"]) {
    std::string name = c["optimizer"].get<std::string>();
    SCOPED_TRACE(name + " " + c["label"].get<std::string>());
    Mixed p;
    auto opt = make(name, c["options"], p.params);
    std::vector<std::vector<double>> got;
    for (int s = 0; s < steps; ++s) {
      step(*opt, [&] { return p.loss(); });
      got.push_back(values(p.params));
    }
    expect_trajectory(got, c["trajectory"]);
  }
}

TEST(OptimizersF64, TodaysSpellingsTakeDoubleParameters) {
  Mixed p;
  optim::AdamT<double> adam(p.params, {.lr = 0.05, .betas = {0.8, 0.99}});
  optim::SGDT<double> sgd({{{p.params[0]}, {.lr = 0.1}}, {{p.params[1], p.params[2]}}},
                          {.lr = 0.01, .momentum = 0.9});
  EXPECT_EQ(sgd.num_param_groups(), 2u);
  EXPECT_DOUBLE_EQ(sgd.lr(0), 0.1);
  EXPECT_DOUBLE_EQ(sgd.momentum(1), 0.9);
  p.loss().backward();
  adam.step();
  const optim::ParamStateT<double>* s = adam.find_state(p.params[0]);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->step, 1);
  EXPECT_EQ(s->buffers.at("exp_avg").shape(), Shape({3, 2}));
  adam.zero_grad();
  EXPECT_FALSE(p.params[0].grad().defined());
}

TEST(LBFGSF64, FitsAnExponentialToMachinePrecision) {
  // y = a exp(b x) + c at 8 points without noise: the fit must recover (2, -0.7, 0.5).
  nlohmann::json fx = testing::load_fixture("optim/optim_f64.json")["exp_fit"];
  std::vector<double> xs = fx["x"].get<std::vector<double>>();
  std::vector<double> truth = fx["true"].get<std::vector<double>>();
  std::vector<double> start = fx["start"].get<std::vector<double>>();
  std::vector<double> ys;
  for (double v : xs) ys.push_back(truth[0] * std::exp(truth[1] * v) + truth[2]);
  Tensor<double> x = from_vector<double>(xs, {static_cast<int64_t>(xs.size())});
  Tensor<double> y = from_vector<double>(ys, {static_cast<int64_t>(ys.size())});
  std::vector<Tensor<double>> abc;
  for (double v : start) abc.push_back(from_vector<double>({v}, {1}).requires_grad_());
  optim::LBFGST<double> opt(abc, fx["options"].get<optim::LBFGSOptions>());
  EXPECT_EQ(opt.options().line_search_fn, optim::LineSearch::StrongWolfe);
  std::vector<std::vector<double>> got;
  double first = 0;
  for (size_t s = 0; s < fx["trajectory"].size(); ++s) {
    double l = opt.step([&] {
      opt.zero_grad();
      Tensor<double> loss = (abc[0] * (abc[1] * x).exp() + abc[2] - y).pow(2).sum();
      loss.backward();
      return loss;
    });
    if (s == 0) first = l;
    got.push_back(values(abc));
  }
  double first_want = 0;
  for (size_t i = 0; i < xs.size(); ++i)
    first_want += (start[0] + start[2] - ys[i]) * (start[0] + start[2] - ys[i]);
  EXPECT_NEAR(first, first_want, 1e-12);
  expect_trajectory(got, fx["trajectory"]);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(got.back()[k], truth[k], 1e-12) << "parameter " << k;
}

TEST(OptimizersF64, ResumeThroughAFileIsBitForBitAndStoresF64) {
  namespace fs = std::filesystem;
  std::random_device rd;
  fs::path dir = fs::temp_directory_path() / ("sinew_optim_f64_" + std::to_string(rd()));
  fs::create_directories(dir);
  const std::string path = (dir / "adam.safetensors").string();
  for (const char* name : {"Adam", "LBFGS"}) {
    SCOPED_TRACE(name);
    nlohmann::json o = std::string(name) == "Adam"
                           ? nlohmann::json{{"lr", 0.05}, {"amsgrad", true}}
                           : nlohmann::json{{"max_iter", 2}, {"line_search_fn", "strong_wolfe"}};
    Mixed straight;
    auto opt = make(name, o, straight.params);
    for (int s = 0; s < 8; ++s) step(*opt, [&] { return straight.loss(); });

    Mixed first;
    auto opt1 = make(name, o, first.params);
    for (int s = 0; s < 4; ++s) step(*opt1, [&] { return first.loss(); });
    optim::save(*opt1, path);
    io::Header h = io::read_header(path);
    for (const auto& [key, info] : h.tensors) EXPECT_EQ(info.dtype, "F64") << key;
    Mixed second;
    {
      NoGradGuard guard;
      for (size_t i = 0; i < first.params.size(); ++i) second.params[i].copy_(first.params[i]);
    }
    auto opt2 = make(name, o, second.params);
    io::load(*opt2, path);
    for (int s = 0; s < 4; ++s) step(*opt2, [&] { return second.loss(); });
    EXPECT_EQ(values(second.params), values(straight.params));
  }
  fs::remove_all(dir);
}

TEST(OptimizersF64, SchedulersDriveADoubleOptimizer) {
  Mixed p;
  optim::SGDT<double> opt(p.params, {.lr = 0.1, .momentum = 0.9});
  optim::StepLR sched(opt, 2, {.gamma = 0.5});
  for (int e = 0; e < 4; ++e) {
    step(opt, [&] { return p.loss(); });
    sched.step();
  }
  EXPECT_DOUBLE_EQ(opt.lr(), 0.025);
  optim::OneCycleLR cycle(opt, 0.2, {.total_steps = 10});
  // OneCycleLR's step 0: lr max_lr / div_factor, momentum max_momentum (0.9 before).
  EXPECT_DOUBLE_EQ(opt.lr(), 0.2 / 25);
  EXPECT_DOUBLE_EQ(opt.momentum(), 0.95);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
