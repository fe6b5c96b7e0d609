// Learning-rate schedulers over an optim::Optimizer's parameter groups, with PyTorch 1.13's
// sequences: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR (which
// also cycles the momentum) and ReduceLROnPlateau.
//
//   optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9});
//   optim::StepLR sched(opt, 30, {.gamma = 0.1});
//   for (int epoch = 0; epoch < 90; ++epoch) { train_one_epoch(); sched.step(); }
//
// As in PyTorch, constructing a scheduler is its step 0: it records each group's current lr as the
// base lr and sets the epoch-0 value. Each step() advances one epoch (or one batch for OneCycleLR)
// and writes the new lr into every group; get_last_lr() returns them. The updates are PyTorch's
// recursive ("chainable") forms, computed from the lr the group holds, so the sequences match
// PyTorch's to the last bit and two schedulers can be stacked on one optimizer. A scheduler keeps
// a pointer to its optimizer, which must outlive it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "sinew/core/error.hpp"
#include "sinew/optim/optimizer_base.hpp"

namespace sinew::optim {

// A scheduler's progress as named lists of numbers (its step count, base and last lrs, and for
// ReduceLROnPlateau the best metric and its counters): what a checkpoint stores. Hyperparameters
// (step_size, gamma, ...) are not part of it: they come from the constructor, as in PyTorch.
using SchedulerState = std::map<std::string, std::vector<double>>;

// What every scheduler is to train::fit and to checkpoints: a name and a state to save and load.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual const char* name() const = 0;
  virtual SchedulerState state_dict() const = 0;
  // Restores a state_dict() of a scheduler of the same type over as many parameter groups; a
  // missing or mis-sized entry raises an Error and changes nothing.
  virtual void load_state_dict(const SchedulerState& state) = 0;

 protected:
  // The entry `key` of `state`, checked to hold `size` numbers.
  const std::vector<double>& entry(const SchedulerState& state, const std::string& key,
                                   size_t size) const {
    auto it = state.find(key);
    SINEW_CHECK(it != state.end(), "load_state_dict", name(), ": the state has no '", key,
                "' entry");
    SINEW_CHECK(it->second.size() == size, "load_state_dict", name(), ": '", key, "' holds ",
                it->second.size(), " values, expected ", size);
    return it->second;
  }
};

// The base of the epoch-indexed schedulers: step() advances last_epoch and applies get_lr().
class LRScheduler : public Scheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer) : optimizer_(&optimizer) {
    base_lrs_ = current_lrs();
    last_lr_ = base_lrs_;
  }
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch and sets every group's lr.
  void step() {
    ++last_epoch_;
    std::vector<double> lrs = get_lr();
    for (size_t g = 0; g < lrs.size(); ++g) optimizer_->set_lr(lrs[g], g);
    last_lr_ = current_lrs();
  }
  // The lr of each group as set by the last step() (or the constructor).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  // Steps taken since construction (0 right after it).
  int64_t last_epoch() const { return last_epoch_; }
  // The lrs the groups had when the scheduler was made (OneCycleLR: max_lr / div_factor).
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  Optimizer& optimizer() const { return *optimizer_; }

  SchedulerState state_dict() const override {
    return {{"last_epoch", {static_cast<double>(last_epoch_)}},
            {"base_lrs", base_lrs_},
            {"last_lr", last_lr_}};
  }
  void load_state_dict(const SchedulerState& state) override {
    const size_t groups = optimizer_->num_param_groups();
    const double epoch = entry(state, "last_epoch", 1)[0];
    SINEW_CHECK(epoch >= 0 && epoch == std::floor(epoch) && epoch < 0x1p53, "load_state_dict",
                name(), ": last_epoch must be a whole number >= 0, got ", epoch);
    std::vector<double> base = entry(state, "base_lrs", groups);
    std::vector<double> last = entry(state, "last_lr", groups);
    last_epoch_ = static_cast<int64_t>(epoch);
    base_lrs_ = std::move(base);
    last_lr_ = std::move(last);
  }

 protected:
  // The lrs for epoch last_epoch_, from the lrs the groups hold now.
  virtual std::vector<double> get_lr() = 0;
  // Step 0, run by each derived constructor once its members are set (as PyTorch's constructor).
  void initial_step() {
    last_epoch_ = -1;
    step();
  }
  std::vector<double> current_lrs() const {
    std::vector<double> out;
    for (size_t g = 0; g < optimizer_->num_param_groups(); ++g) out.push_back(optimizer_->lr(g));
    return out;
  }
  // Every group's current lr times f.
  std::vector<double> scaled(double f) const {
    std::vector<double> out = current_lrs();
    for (double& lr : out) lr *= f;
    return out;
  }

  Optimizer* optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = -1;
};

// ---- StepLR, MultiStepLR, ExponentialLR ---------------------------------------------------------

struct StepLROptions {
  double gamma = 0.1;
};

// lr = base_lr * gamma^(epoch / step_size) (integer division): multiplied by gamma every
// step_size epochs.
class StepLR : public LRScheduler {
 public:
  const char* name() const override { return "StepLR"; }
  StepLR(Optimizer& optimizer, int64_t step_size, StepLROptions options = {})
      : LRScheduler(optimizer), step_size_(step_size), options_(options) {
    SINEW_CHECK(step_size > 0, "StepLR", "step_size must be > 0, got ", step_size);
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    bool decay = last_epoch_ != 0 && last_epoch_ % step_size_ == 0;
    return scaled(decay ? options_.gamma : 1.0);
  }

 private:
  int64_t step_size_;
  StepLROptions options_;
};

struct MultiStepLROptions {
  double gamma = 0.1;
};

// lr = base_lr * gamma^(number of milestones reached); a milestone listed k times counts k times.
class MultiStepLR : public LRScheduler {
 public:
  const char* name() const override { return "MultiStepLR"; }
  MultiStepLR(Optimizer& optimizer, const std::vector<int64_t>& milestones,
              MultiStepLROptions options = {})
      : LRScheduler(optimizer), milestones_(milestones), options_(options) {
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    const auto reached = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
    if (reached == 0) return current_lrs();
    return scaled(std::pow(options_.gamma, static_cast<double>(reached)));
  }

 private:
  // As given (a repeated milestone counts each time); a vector rather than a count per milestone,
  // which would make every program that includes this header instantiate a std::map.
  std::vector<int64_t> milestones_;
  MultiStepLROptions options_;
};

// lr = base_lr * gamma^epoch.
class ExponentialLR : public LRScheduler {
 public:
  const char* name() const override { return "ExponentialLR"; }
  ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override { return scaled(last_epoch_ == 0 ? 1.0 : gamma_); }

 private:
  double gamma_;
};

// ---- CosineAnnealingLR
// ----------------------------------------------------------------------------

struct CosineAnnealingLROptions {
  double eta_min = 0;
};

// lr_t = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2, computed recursively as
// PyTorch (each step rescales the current lr), so past T_max it rises again along the cosine.
class CosineAnnealingLR : public LRScheduler {
 public:
  const char* name() const override { return "CosineAnnealingLR"; }
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, CosineAnnealingLROptions options = {})
      : LRScheduler(optimizer), t_max_(T_max), options_(options) {
    SINEW_CHECK(T_max > 0, "CosineAnnealingLR", "T_max must be > 0, got ", T_max);
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    constexpr double pi = std::numbers::pi;
    std::vector<double> lrs = current_lrs();
    if (last_epoch_ == 0) return lrs;
    const double eta = options_.eta_min, t = static_cast<double>(last_epoch_);
    const double tm = static_cast<double>(t_max_);
    int64_t period = 2 * t_max_, r = (last_epoch_ - 1 - t_max_) % period;
    bool restart = (r < 0 ? r + period : r) == 0;  // Python's % is never negative
    for (size_t g = 0; g < lrs.size(); ++g) {
      if (restart) {
        lrs[g] = lrs[g] + (base_lrs_[g] - eta) * (1 - std::cos(pi / tm)) / 2;
      } else {
        lrs[g] =
            (1 + std::cos(pi * t / tm)) / (1 + std::cos(pi * (t - 1) / tm)) * (lrs[g] - eta) + eta;
      }
    }
    return lrs;
  }

 private:
  int64_t t_max_;
  CosineAnnealingLROptions options_;
};

// ---- LinearLR
// -------------------------------------------------------------------------------------

struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};

// lr = base_lr * f, f going linearly from start_factor to end_factor over total_iters steps, then
// constant: a warmup with start_factor < 1 (or a linear decay with end_factor < 1).
class LinearLR : public LRScheduler {
 public:
  const char* name() const override { return "LinearLR"; }
  explicit LinearLR(Optimizer& optimizer, LinearLROptions options = {})
      : LRScheduler(optimizer), options_(options) {
    SINEW_CHECK(options.start_factor > 0 && options.start_factor <= 1, "LinearLR",
                "start_factor must be in (0, 1], got ", options.start_factor);
    SINEW_CHECK(options.end_factor >= 0 && options.end_factor <= 1, "LinearLR",
                "end_factor must be in [0, 1], got ", options.end_factor);
    SINEW_CHECK(options.total_iters >= 0, "LinearLR", "total_iters must be >= 0, got ",
                options.total_iters);
    initial_step();
  }

 protected:
  std::vector<double> get_lr() override {
    const double s = options_.start_factor, e = options_.end_factor;
    if (last_epoch_ == 0) return scaled(s);
    if (last_epoch_ > options_.total_iters) return current_lrs();
    double n = static_cast<double>(options_.total_iters), t = static_cast<double>(last_epoch_);
    return scaled(1. + (e - s) / (n * s + (t - 1) * (e - s)));
  }

 private:
  LinearLROptions options_;
};

// ---- OneCycleLR
// -----------------------------------------------------------------------------------

enum class AnnealStrategy { Cos, Linear };

struct OneCycleLROptions {
  std::optional<int64_t> total_steps = std::nullopt;  // or epochs * steps_per_epoch
  std::optional<int64_t> epochs = std::nullopt;
  std::optional<int64_t> steps_per_epoch = std::nullopt;
  double pct_start = 0.3;  // the fraction of the steps spent increasing the lr
  AnnealStrategy anneal_strategy = AnnealStrategy::Cos;
  bool cycle_momentum = true;  // SGD momentum or Adam beta1, inversely to the lr
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;         // initial lr = max_lr / div_factor
  double final_div_factor = 1e4;  // min lr = initial lr / final_div_factor
  bool three_phase = false;       // up, back down to the initial lr, then down to the min lr
};

// The 1cycle policy (Smith & Topin), stepped once per batch: the lr anneals from max_lr /
// div_factor up to max_lr over pct_start of total_steps, then down to initial / final_div_factor
// (three_phase: back to the initial lr first); the momentum moves the opposite way between
// max_momentum and base_momentum. Stepping past total_steps is an Error (as PyTorch). The last
// step (number total_steps) extrapolates past the final phase as PyTorch does; with linear
// annealing that lands below 0, which Sinew clamps to 0 (optimizers reject negative rates).
class OneCycleLR : public LRScheduler {
 public:
  const char* name() const override { return "OneCycleLR"; }
  OneCycleLR(Optimizer& optimizer, double max_lr, OneCycleLROptions options = {})
      : OneCycleLR(optimizer, std::vector<double>(optimizer.num_param_groups(), max_lr), options) {}
  // One max_lr per parameter group.
  OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, OneCycleLROptions options = {})
      : LRScheduler(optimizer), options_(options), max_lrs_(std::move(max_lrs)) {
    const char* fn = "OneCycleLR";
    const auto& o = options_;
    if (o.total_steps) {
      SINEW_CHECK(*o.total_steps > 0, fn, "total_steps must be > 0, got ", *o.total_steps);
      total_steps_ = *o.total_steps;
    } else {
      SINEW_CHECK(o.epochs && o.steps_per_epoch, fn,
                  "give either total_steps or both epochs and steps_per_epoch");
      SINEW_CHECK(*o.epochs > 0 && *o.steps_per_epoch > 0, fn,
                  "epochs and steps_per_epoch must be > 0, got ", *o.epochs, " and ",
                  *o.steps_per_epoch);
      total_steps_ = *o.epochs * *o.steps_per_epoch;
    }
    SINEW_CHECK(o.pct_start >= 0 && o.pct_start <= 1, fn, "pct_start must be in [0, 1], got ",
                o.pct_start);
    SINEW_CHECK(max_lrs_.size() == optimizer.num_param_groups(), fn, "expected ",
                optimizer.num_param_groups(), " max_lr values (one per group), got ",
                max_lrs_.size());
    double total = static_cast<double>(total_steps_);
    double up = o.pct_start * total - 1;
    if (o.three_phase) {
      phases_ = {{up, Level::Initial, Level::Max, true, false},
                 {2 * o.pct_start * total - 2, Level::Max, Level::Initial, false, false},
                 {total - 1, Level::Initial, Level::Min, true, true}};
    } else {
      phases_ = {{up, Level::Initial, Level::Max, true, false},
                 {total - 1, Level::Max, Level::Min, false, false}};
    }
    for (size_t g = 0; g < max_lrs_.size(); ++g) {
      base_lrs_[g] = max_lrs_[g] / o.div_factor;
      optimizer.set_lr(base_lrs_[g], g);
    }
    if (o.cycle_momentum) {
      SINEW_CHECK(optimizer.has_momentum(), fn, optimizer.name(),
                  " has no momentum to cycle; set cycle_momentum = false");
      optimizer.set_momentum(o.max_momentum);
    }
    initial_step();
  }

  int64_t total_steps() const { return total_steps_; }

 protected:
  std::vector<double> get_lr() override {
    SINEW_CHECK(last_epoch_ <= total_steps_, "OneCycleLR", "tried to step ", last_epoch_,
                " times; the schedule has total_steps = ", total_steps_);
    const auto& o = options_;
    double step = static_cast<double>(last_epoch_);
    std::vector<double> lrs;
    for (size_t g = 0; g < max_lrs_.size(); ++g) {
      double levels[3] = {base_lrs_[g], max_lrs_[g], base_lrs_[g] / o.final_div_factor};
      double start = 0;
      for (size_t i = 0; i < phases_.size(); ++i) {
        const Phase& p = phases_[i];
        if (step <= p.end || i + 1 == phases_.size()) {
          double pct = (step - start) / (p.end - start);
          double lr = anneal(levels[int(p.from)], levels[int(p.to)], pct);
          lrs.push_back(std::max(lr, 0.0));
          if (o.cycle_momentum) {
            double hi = o.max_momentum, lo = o.base_momentum;
            double m = p.momentum_flat
                           ? anneal(hi, hi, pct)
                           : (p.momentum_down ? anneal(hi, lo, pct) : anneal(lo, hi, pct));
            optimizer_->set_momentum(m, g);
          }
          break;
        }
        start = p.end;
      }
    }
    return lrs;
  }

 private:
  enum class Level { Initial = 0, Max = 1, Min = 2 };
  struct Phase {
    double end;  // the last step of the phase (fractional, as PyTorch computes it)
    Level from, to;
    bool momentum_down;  // momentum goes max -> base (else base -> max)
    bool momentum_flat;  // momentum stays at max
  };
  double anneal(double start, double end, double pct) const {
    if (options_.anneal_strategy == AnnealStrategy::Linear) return (end - start) * pct + start;
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
  }

  OneCycleLROptions options_;
  std::vector<double> max_lrs_;
  int64_t total_steps_ = 0;
  std::vector<Phase> phases_;
};

// ---- ReduceLROnPlateau
// ----------------------------------------------------------------------------

enum class PlateauMode { Min, Max };
enum class ThresholdMode { Rel, Abs };

struct ReduceLROnPlateauOptions {
  PlateauMode mode = PlateauMode::Min;  // Min: the metric should fall (a loss); Max: rise
  double factor = 0.1;                  // new lr = lr * factor
  int64_t patience = 10;                // epochs without improvement tolerated
  double threshold = 1e-4;              // how much better counts as an improvement
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  int64_t cooldown = 0;  // epochs after a reduction during which bad epochs are not counted
  double min_lr = 0;
  std::vector<double> min_lrs = {};  // per group; overrides min_lr when given
  double eps = 1e-8;                 // a reduction smaller than this is skipped
};

// Multiplies every group's lr by factor (not below min_lr) once the metric passed to step() has
// not improved for more than `patience` epochs. Improvement (Min, Rel): metric < best (1 -
// threshold); (Min, Abs): metric < best - threshold; Max mirrors them.
class ReduceLROnPlateau : public Scheduler {
 public:
  const char* name() const override { return "ReduceLROnPlateau"; }
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {})
      : optimizer_(&optimizer), options_(std::move(options)) {
    const char* fn = "ReduceLROnPlateau";
    SINEW_CHECK(options_.factor < 1.0, fn, "factor must be < 1, got ", options_.factor);
    size_t groups = optimizer.num_param_groups();
    if (options_.min_lrs.empty()) {
      min_lrs_.assign(groups, options_.min_lr);
    } else {
      SINEW_CHECK(options_.min_lrs.size() == groups, fn, "expected ", groups,
                  " min_lrs (one per group), got ", options_.min_lrs.size());
      min_lrs_ = options_.min_lrs;
    }
    best_ = worst();
    for (size_t g = 0; g < groups; ++g) last_lr_.push_back(optimizer.lr(g));
  }

  // One epoch with the monitored metric (validation loss, accuracy, ...).
  void step(double metric) {
    ++last_epoch_;
    if (is_better(metric)) {
      best_ = metric;
      num_bad_epochs_ = 0;
    } else {
      ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
    }
    if (num_bad_epochs_ > options_.patience) {
      for (size_t g = 0; g < optimizer_->num_param_groups(); ++g) {
        double old_lr = optimizer_->lr(g);
        double new_lr = std::max(old_lr * options_.factor, min_lrs_[g]);
        if (old_lr - new_lr > options_.eps) optimizer_->set_lr(new_lr, g);
      }
      cooldown_counter_ = options_.cooldown;
      num_bad_epochs_ = 0;
    }
    last_lr_.clear();
    for (size_t g = 0; g < optimizer_->num_param_groups(); ++g) {
      last_lr_.push_back(optimizer_->lr(g));
    }
  }

  const std::vector<double>& get_last_lr() const { return last_lr_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  int64_t last_epoch() const { return last_epoch_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }

  SchedulerState state_dict() const override {
    return {{"last_epoch", {static_cast<double>(last_epoch_)}},
            {"best", {best_}},
            {"num_bad_epochs", {static_cast<double>(num_bad_epochs_)}},
            {"cooldown_counter", {static_cast<double>(cooldown_counter_)}},
            {"last_lr", last_lr_}};
  }
  void load_state_dict(const SchedulerState& state) override {
    auto count = [&](const char* key) {
      const double v = entry(state, key, 1)[0];
      SINEW_CHECK(v >= 0 && v == std::floor(v) && v < 0x1p53, "load_state_dict", name(), ": '", key,
                  "' must be a whole number >= 0, got ", v);
      return static_cast<int64_t>(v);
    };
    const int64_t epoch = count("last_epoch"), bad = count("num_bad_epochs"),
                  cooldown = count("cooldown_counter");
    const double best = entry(state, "best", 1)[0];
    std::vector<double> last = entry(state, "last_lr", optimizer_->num_param_groups());
    last_epoch_ = epoch;
    num_bad_epochs_ = bad;
    cooldown_counter_ = cooldown;
    best_ = best;
    last_lr_ = std::move(last);
  }

 private:
  double worst() const {
    double inf = std::numeric_limits<double>::infinity();
    return options_.mode == PlateauMode::Min ? inf : -inf;
  }
  bool is_better(double a) const {
    double t = options_.threshold;
    bool rel = options_.threshold_mode == ThresholdMode::Rel;
    if (options_.mode == PlateauMode::Min) return rel ? a < best_ * (1. - t) : a < best_ - t;
    return rel ? a > best_ * (t + 1.) : a > best_ + t;
  }

  Optimizer* optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;
  std::vector<double> last_lr_;
  double best_ = 0;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  int64_t last_epoch_ = 0;
};

}  // namespace sinew::optim
