// Tests for optim/scheduler.hpp: the lr (and OneCycleLR's momentum) sequence of every scheduler
// over 30 epochs against PyTorch 1.13 (tests/fixtures/gen_scheduler.py -> optim/scheduler.json;
// SGD with momentum 0.9 or Adam, one or two groups), hand-computed values, chaining, and errors.
#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "test_util.hpp"

using namespace sinew;
using nlohmann::json;

namespace {
namespace SINEW_UNITY_ID {

// An optimizer of the fixture's kind over one dummy parameter per group.
std::unique_ptr<optim::Optimizer> make_optimizer(const json& c) {
  std::vector<double> lrs = c["group_lrs"];
  if (c["optimizer"] == "adam") {
    std::vector<optim::Adam::ParamGroup> groups;
    for (double lr : lrs) groups.push_back({{zeros<float>({1}).requires_grad_()}, {.lr = lr}});
    return std::make_unique<optim::Adam>(groups, optim::AdamOptions{.betas = {0.9, 0.999}});
  }
  std::vector<optim::SGD::ParamGroup> groups;
  for (double lr : lrs) groups.push_back({{zeros<float>({1}).requires_grad_()}, {.lr = lr}});
  return std::make_unique<optim::SGD>(groups, optim::SGDOptions{.momentum = 0.9});
}

std::unique_ptr<optim::LRScheduler> make_scheduler(const json& c, optim::Optimizer& opt) {
  std::string kind = c["scheduler"];
  const json& a = c["args"];
  if (kind == "StepLR") {
    return std::make_unique<optim::StepLR>(opt, a["step_size"].get<int64_t>(),
                                           optim::StepLROptions{a["gamma"].get<double>()});
  }
  if (kind == "MultiStepLR") {
    return std::make_unique<optim::MultiStepLR>(
        opt, a["milestones"].get<std::vector<int64_t>>(),
        optim::MultiStepLROptions{a["gamma"].get<double>()});
  }
  if (kind == "ExponentialLR")
    return std::make_unique<optim::ExponentialLR>(opt, a["gamma"].get<double>());
  if (kind == "CosineAnnealingLR") {
    return std::make_unique<optim::CosineAnnealingLR>(
        opt, a["T_max"].get<int64_t>(), optim::CosineAnnealingLROptions{a.value("eta_min", 0.0)});
  }
  if (kind == "LinearLR") {
    return std::make_unique<optim::LinearLR>(
        opt, optim::LinearLROptions{.start_factor = a["start_factor"].get<double>(),
                                    .end_factor = a["end_factor"].get<double>(),
                                    .total_iters = a["total_iters"].get<int64_t>()});
  }
  if (kind == "OneCycleLR") {
    optim::OneCycleLROptions o;
    if (a.contains("total_steps")) o.total_steps = a["total_steps"].get<int64_t>();
    if (a.contains("epochs")) o.epochs = a["epochs"].get<int64_t>();
    if (a.contains("steps_per_epoch")) o.steps_per_epoch = a["steps_per_epoch"].get<int64_t>();
    o.pct_start = a.value("pct_start", 0.3);
    if (a.value("anneal_strategy", "cos") == "linear") {
      o.anneal_strategy = optim::AnnealStrategy::Linear;
    }
    o.three_phase = a.value("three_phase", false);
    o.cycle_momentum = a.value("cycle_momentum", true);
    o.div_factor = a.value("div_factor", 25.0);
    o.final_div_factor = a.value("final_div_factor", 1e4);
    o.base_momentum = a.value("base_momentum", 0.85);
    o.max_momentum = a.value("max_momentum", 0.95);
    if (a["max_lr"].is_array()) {
      return std::make_unique<optim::OneCycleLR>(opt, a["max_lr"].get<std::vector<double>>(), o);
    }
    return std::make_unique<optim::OneCycleLR>(opt, a["max_lr"].get<double>(), o);
  }
  ADD_FAILURE() << "unknown scheduler " << kind;
  return nullptr;
}

optim::ReduceLROnPlateauOptions plateau_options(const json& a) {
  optim::ReduceLROnPlateauOptions o;
  o.mode = a.value("mode", "min") == "max" ? optim::PlateauMode::Max : optim::PlateauMode::Min;
  o.factor = a.value("factor", 0.1);
  o.patience = a.value("patience", 10);
  o.threshold = a.value("threshold", 1e-4);
  o.threshold_mode = a.value("threshold_mode", "rel") == "abs" ? optim::ThresholdMode::Abs
                                                               : optim::ThresholdMode::Rel;
  o.cooldown = a.value("cooldown", 0);
  o.eps = a.value("eps", 1e-8);
  if (a.contains("min_lr") && a["min_lr"].is_array()) {
    o.min_lrs = a["min_lr"].get<std::vector<double>>();
  } else {
    o.min_lr = a.value("min_lr", 0.0);
  }
  return o;
}

// Expects PyTorch's row to the last bits (the recursive forms are the same arithmetic). A
// negative reference lr (OneCycleLR's linear extrapolation at its final step) is expected as 0.
void expect_row(const std::vector<double>& got, const json& want, int epoch, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what << " at epoch " << epoch;
  for (size_t g = 0; g < got.size(); ++g) {
    double w = want[g].get<double>();
    if (std::string(what) == "lr") w = std::max(w, 0.0);
    EXPECT_NEAR(got[g], w, 1e-13 + 1e-12 * std::abs(w))
        << what << " of group " << g << " at epoch " << epoch;
  }
}

std::vector<double> momenta(const optim::Optimizer& opt) {
  std::vector<double> m;
  for (size_t g = 0; g < opt.num_param_groups(); ++g) m.push_back(opt.momentum(g));
  return m;
}

// Runs every fixture case of `scheduler` for 30 epochs; returns how many there were.
int check_cases(const std::string& scheduler) {
  static const json fixture = sinew::testing::load_fixture("optim/scheduler.json");
  int n = 0;
  for (const json& c : fixture["cases"]) {
    if (c["scheduler"] != scheduler) continue;
    ++n;
    SCOPED_TRACE(c["name"].get<std::string>());
    auto opt = make_optimizer(c);
    const json& lrs = c["lrs"];
    const json& ms = c["momenta"];
    if (scheduler == "ReduceLROnPlateau") {
      optim::ReduceLROnPlateau sched(*opt, plateau_options(c["args"]));
      expect_row(sched.get_last_lr(), lrs[0], 0, "lr");
      for (int e = 1; e < static_cast<int>(lrs.size()); ++e) {
        sched.step(c["metrics"][e - 1].get<double>());
        expect_row(sched.get_last_lr(), lrs[e], e, "lr");
      }
      continue;
    }
    auto sched = make_scheduler(c, *opt);
    expect_row(sched->get_last_lr(), lrs[0], 0, "lr");
    expect_row(momenta(*opt), ms[0], 0, "momentum");
    for (int e = 1; e < static_cast<int>(lrs.size()); ++e) {
      sched->step();
      expect_row(sched->get_last_lr(), lrs[e], e, "lr");
      expect_row(momenta(*opt), ms[e], e, "momentum");
      for (size_t g = 0; g < opt->num_param_groups(); ++g) {
        EXPECT_EQ(opt->lr(g), sched->get_last_lr()[g]);
      }
    }
  }
  return n;
}

// An SGD over one dummy parameter with the given lr.
struct Fixture1 {
  Tensor<float> p = zeros<float>({1}).requires_grad_();
  optim::SGD opt;
  explicit Fixture1(double lr, double momentum = 0.9)
      : opt(std::vector<Tensor<float>>{p}, {.lr = lr, .momentum = momentum}) {}
};

// ---- PyTorch's sequences
// --------------------------------------------------------------------------

TEST(StepLR, MatchesPyTorchOverThirtyEpochsWithTwoGroups) { EXPECT_EQ(check_cases("StepLR"), 1); }
TEST(MultiStepLR, MatchesPyTorchIncludingARepeatedMilestone) {
  EXPECT_EQ(check_cases("MultiStepLR"), 1);
}
TEST(ExponentialLR, MatchesPyTorchOverThirtyEpochs) { EXPECT_EQ(check_cases("ExponentialLR"), 1); }
TEST(CosineAnnealingLR, MatchesPyTorchIncludingEpochsPastTMax) {
  EXPECT_EQ(check_cases("CosineAnnealingLR"), 2);
}
TEST(LinearLR, MatchesPyTorchAsWarmupAndAsDecay) { EXPECT_EQ(check_cases("LinearLR"), 2); }
TEST(OneCycleLR, MatchesPyTorchLrAndMomentumForSgdAdamThreePhaseAndLinear) {
  EXPECT_EQ(check_cases("OneCycleLR"), 4);
}
TEST(ReduceLROnPlateau, MatchesPyTorchForMinMaxRelAbsCooldownMinLrAndEps) {
  EXPECT_EQ(check_cases("ReduceLROnPlateau"), 3);
}

// ---- hand-computed values
// ---------------------------------------------------------------------------

TEST(StepLR, HalvesEveryStepSizeEpochs) {
  Fixture1 f(1.0);
  optim::StepLR sched(f.opt, 2, {.gamma = 0.5});
  std::vector<double> seen = {sched.get_last_lr()[0]};
  for (int e = 0; e < 5; ++e) {
    sched.step();
    seen.push_back(f.opt.lr());
  }
  EXPECT_EQ(seen, (std::vector<double>{1, 1, 0.5, 0.5, 0.25, 0.25}));
  EXPECT_EQ(sched.last_epoch(), 5);
  EXPECT_EQ(sched.base_lrs(), std::vector<double>{1.0});
}

TEST(CosineAnnealingLR, FollowsTheClosedFormUpToTMax) {
  Fixture1 f(0.5);
  optim::CosineAnnealingLR sched(f.opt, 8, {.eta_min = 0.1});
  for (int t = 1; t <= 8; ++t) {
    sched.step();
    double closed = 0.1 + (0.5 - 0.1) * (1 + std::cos(std::numbers::pi * t / 8)) / 2;
    EXPECT_NEAR(f.opt.lr(), closed, 1e-12) << "epoch " << t;
  }
}

TEST(OneCycleLR, StartsAtMaxOverDivPeaksAtMaxLrAndCyclesMomentum) {
  Fixture1 f(0.01);
  optim::OneCycleLR sched(f.opt, 1.0, {.total_steps = 11, .pct_start = 0.5, .div_factor = 10});
  EXPECT_DOUBLE_EQ(f.opt.lr(), 0.1);
  EXPECT_DOUBLE_EQ(f.opt.momentum(), 0.95);
  for (int s = 0; s < 4; ++s) sched.step();  // phase 1 ends at step 0.5 * 11 - 1 = 4.5
  sched.step();
  // Step 5 is 0.5 / 5.5 of the way down (the second phase starts at 4.5).
  double pct = 0.5 / 5.5, min_lr = 0.1 / 1e4;
  EXPECT_NEAR(f.opt.lr(), min_lr + (1.0 - min_lr) / 2 * (std::cos(std::numbers::pi * pct) + 1),
              1e-12);
  EXPECT_NEAR(f.opt.momentum(), 0.95 + (0.85 - 0.95) / 2 * (std::cos(std::numbers::pi * pct) + 1),
              1e-12);
  EXPECT_EQ(sched.total_steps(), 11);
}

TEST(OneCycleLR, CyclesAdamsBeta1) {
  Tensor<float> p = zeros<float>({1}).requires_grad_();
  optim::Adam adam(std::vector<Tensor<float>>{p}, {.lr = 1e-3});
  optim::OneCycleLR sched(adam, 0.01, {.total_steps = 10});
  EXPECT_DOUBLE_EQ(adam.options().betas.first, 0.95);
  sched.step();
  EXPECT_LT(adam.options().betas.first, 0.95);
  EXPECT_DOUBLE_EQ(adam.options().betas.second, 0.999);
}

TEST(LRScheduler, ChainedSchedulersMultiply) {
  // LinearLR warmup (0.5 -> 1 over 2 epochs) with ExponentialLR(0.5): lr_t = f_t * 0.5^t.
  Fixture1 f(1.0);
  optim::LinearLR warm(f.opt, {.start_factor = 0.5, .end_factor = 1.0, .total_iters = 2});
  optim::ExponentialLR decay(f.opt, 0.5);
  EXPECT_DOUBLE_EQ(f.opt.lr(), 0.5);
  std::vector<double> want = {0.75 * 0.5, 1.0 * 0.25, 1.0 * 0.125};
  for (double w : want) {
    warm.step();
    decay.step();
    EXPECT_NEAR(f.opt.lr(), w, 1e-15);
  }
}

TEST(ReduceLROnPlateau, ReducesAfterPatienceAndRespectsMinLr) {
  Fixture1 f(1.0);
  optim::ReduceLROnPlateau sched(f.opt, {.factor = 0.5, .patience = 1, .min_lr = 0.3});
  sched.step(1.0);  // best = 1
  sched.step(1.0);  // 1 bad epoch: within patience
  EXPECT_EQ(f.opt.lr(), 1.0);
  sched.step(1.0);  // 2 bad epochs > patience: halve
  EXPECT_EQ(f.opt.lr(), 0.5);
  EXPECT_EQ(sched.num_bad_epochs(), 0);
  sched.step(0.5);  // improvement
  EXPECT_EQ(sched.best(), 0.5);
  sched.step(0.6);
  sched.step(0.6);
  EXPECT_EQ(f.opt.lr(), 0.3);  // 0.25 is below min_lr
  EXPECT_EQ(sched.get_last_lr(), std::vector<double>{0.3});
}

// ---- errors
// -----------------------------------------------------------------------------------------

TEST(LRScheduler, RejectsBadArguments) {
  Fixture1 f(0.1);
  SINEW_EXPECT_ERROR(optim::StepLR(f.opt, 0), "StepLR", "step_size", "0");
  SINEW_EXPECT_ERROR(optim::CosineAnnealingLR(f.opt, -3), "CosineAnnealingLR", "-3");
  SINEW_EXPECT_ERROR(optim::LinearLR(f.opt, {.start_factor = 0}), "LinearLR", "start_factor");
  SINEW_EXPECT_ERROR(optim::LinearLR(f.opt, {.end_factor = 1.5}), "end_factor", "1.5");
  SINEW_EXPECT_ERROR(optim::OneCycleLR(f.opt, 1.0), "OneCycleLR", "total_steps");
  SINEW_EXPECT_ERROR(optim::OneCycleLR(f.opt, 1.0, {.total_steps = 0}), "total_steps", "0");
  SINEW_EXPECT_ERROR(optim::OneCycleLR(f.opt, 1.0, {.epochs = 2, .steps_per_epoch = -1}),
                     "steps_per_epoch", "-1");
  SINEW_EXPECT_ERROR(optim::OneCycleLR(f.opt, 1.0, {.total_steps = 5, .pct_start = 1.2}),
                     "pct_start", "1.2");
  SINEW_EXPECT_ERROR(optim::OneCycleLR(f.opt, std::vector<double>{1, 2}, {.total_steps = 5}),
                     "max_lr", "1 ", "2");
  SINEW_EXPECT_ERROR(optim::ReduceLROnPlateau(f.opt, {.factor = 1.0}), "ReduceLROnPlateau",
                     "factor");
  SINEW_EXPECT_ERROR(optim::ReduceLROnPlateau(f.opt, {.min_lrs = {0.1, 0.2}}), "min_lrs", "2");
}

TEST(OneCycleLR, SteppingPastTotalStepsIsAnError) {
  Fixture1 f(0.1);
  optim::OneCycleLR sched(f.opt, 1.0, {.total_steps = 3});
  for (int s = 0; s < 3; ++s) sched.step();
  SINEW_EXPECT_ERROR(sched.step(), "OneCycleLR", "4", "total_steps = 3");
}

TEST(OneCycleLR, CycleMomentumNeedsAnOptimizerWithMomentum) {
  Tensor<float> p = zeros<float>({1}).requires_grad_();
  optim::Adagrad ada(std::vector<Tensor<float>>{p}, {.lr = 0.1});
  SINEW_EXPECT_ERROR(optim::OneCycleLR(ada, 1.0, {.total_steps = 5}), "Adagrad", "momentum");
  EXPECT_NO_THROW(optim::OneCycleLR(ada, 1.0, {.total_steps = 5, .cycle_momentum = false}));
}

// ---- state dicts: a scheduler restored from its state continues the same sequence

// Runs `make`'s scheduler 10 epochs; then 4, saves the scheduler's and optimizer's states, and
// continues on a fresh optimizer and scheduler restored from them. Both lr sequences must agree.
template <class Make, class Step>
void expect_resumes(Make make, Step step) {
  std::vector<double> whole, resumed;
  {
    Fixture1 f(0.1);
    auto s = make(f.opt);
    for (int e = 0; e < 10; ++e) {
      step(*s, e);
      whole.push_back(f.opt.lr());
    }
  }
  Fixture1 a(0.1);
  auto sa = make(a.opt);
  for (int e = 0; e < 4; ++e) {
    step(*sa, e);
    resumed.push_back(a.opt.lr());
  }
  const optim::SchedulerState state = sa->state_dict();
  const optim::StateDict opt_state = a.opt.state_dict();
  Fixture1 b(0.7);  // another initial lr: the state must bring back the saved one
  auto sb = make(b.opt);
  sb->load_state_dict(state);
  b.opt.load_state_dict(opt_state);
  EXPECT_EQ(sb->state_dict(), state);
  for (int e = 4; e < 10; ++e) {
    step(*sb, e);
    resumed.push_back(b.opt.lr());
  }
  EXPECT_EQ(resumed, whole);
}

TEST(SchedulerState, EpochSchedulersContinueTheSameSequence) {
  auto epoch = [](auto& s, int) { s.step(); };
  expect_resumes([](optim::Optimizer& o) { return std::make_unique<optim::StepLR>(o, 3); }, epoch);
  expect_resumes(
      [](optim::Optimizer& o) { return std::make_unique<optim::CosineAnnealingLR>(o, 6); }, epoch);
  expect_resumes(
      [](optim::Optimizer& o) {
        return std::make_unique<optim::OneCycleLR>(o, 1.0,
                                                   optim::OneCycleLROptions{.total_steps = 12});
      },
      epoch);
  expect_resumes(
      [](optim::Optimizer& o) {
        return std::make_unique<optim::ReduceLROnPlateau>(
            o, optim::ReduceLROnPlateauOptions{.patience = 1, .cooldown = 1});
      },
      [](optim::ReduceLROnPlateau& s, int e) { s.step(e < 3 ? 1.0 - 0.1 * e : 1.0); });
}

TEST(SchedulerState, WrongStatesAreErrorsThatChangeNothing) {
  Fixture1 f(0.1);
  optim::StepLR step(f.opt, 2);
  step.step();
  const optim::SchedulerState good = step.state_dict();
  EXPECT_EQ(good.at("last_epoch"), std::vector<double>{1});
  optim::SchedulerState bad = good;
  bad.erase("base_lrs");
  SINEW_EXPECT_ERROR(step.load_state_dict(bad), "load_state_dict", "StepLR", "base_lrs");
  bad = good;
  bad["last_lr"] = {0.1, 0.2};
  SINEW_EXPECT_ERROR(step.load_state_dict(bad), "StepLR", "last_lr", "2 values, expected 1");
  bad = good;
  bad["last_epoch"] = {1.5};
  SINEW_EXPECT_ERROR(step.load_state_dict(bad), "StepLR", "whole number");
  optim::ReduceLROnPlateau plateau(f.opt);
  SINEW_EXPECT_ERROR(plateau.load_state_dict(good), "ReduceLROnPlateau", "num_bad_epochs");
  EXPECT_EQ(step.state_dict(), good);
  EXPECT_STREQ(plateau.name(), "ReduceLROnPlateau");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
