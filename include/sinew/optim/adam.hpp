// optim::Adam and optim::AdamW: adaptive moment estimation, with L2 or decoupled weight decay.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sinew/backend/cpu/optim.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/backend/dispatch.hpp"
#include "sinew/backend/optim_step.hpp"
#include "sinew/optim/optimizer.hpp"

namespace sinew::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;
};
SINEW_OPTIM_OPTIONS(AdamOptions, lr, betas, eps, weight_decay, amsgrad, maximize)

// AdamW has the same fields; only the default weight decay differs (0.01, as PyTorch's).
struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
};
SINEW_OPTIM_OPTIONS(AdamWOptions, lr, betas, eps, weight_decay, amsgrad, maximize)

// Per-group overrides; betas is written with double braces: {.betas = {{0.8, 0.99}}}.
template <class O>
struct AdamGroupOptionsOf {
  std::optional<double> lr = std::nullopt;
  std::optional<std::pair<double, double>> betas = std::nullopt;
  std::optional<double> eps = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<bool> amsgrad = std::nullopt;
  std::optional<bool> maximize = std::nullopt;
  O resolve(const O& d) const {
    O o = d;
    o.lr = lr.value_or(d.lr);
    o.betas = betas.value_or(d.betas);
    o.eps = eps.value_or(d.eps);
    o.weight_decay = weight_decay.value_or(d.weight_decay);
    o.amsgrad = amsgrad.value_or(d.amsgrad);
    o.maximize = maximize.value_or(d.maximize);
    return o;
  }
};
using AdamGroupOptions = AdamGroupOptionsOf<AdamOptions>;
using AdamWGroupOptions = AdamGroupOptionsOf<AdamWOptions>;

namespace detail {

// PyTorch 1.13's single-tensor Adam/AdamW, for each parameter p with gradient g at step t:
//   g <- -g if maximize
//   AdamW: p <- p * (1 - lr * weight_decay)        Adam: g <- g + weight_decay * p
//   m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
//   c1 = 1 - beta1^t;  c2 = 1 - beta2^t;  step_size = lr / c1
//   amsgrad: vmax <- max(vmax, v), and vmax replaces v below
//   p <- p - step_size * m / (sqrt(v) / sqrt(c2) + eps)
// State: "exp_avg", "exp_avg_sq", "max_exp_avg_sq" (amsgrad), and the step count.
template <class T, class Options, class GroupOptions>
class AdamBase : public OptimizerWith<T, Options, GroupOptions> {
  using Base = OptimizerWith<T, Options, GroupOptions>;

 public:
  using typename Base::ParamGroup;
  AdamBase(std::string name, bool decoupled, std::vector<ParamGroup> groups, Options defaults)
      : Base(std::move(name), defaults), decoupled_(decoupled) {
    this->init(std::move(groups));
  }

  bool has_momentum() const override { return true; }
  // beta1, the coefficient OneCycleLR cycles.
  double momentum(size_t group = 0) const override { return this->options(group).betas.first; }
  using Optimizer::set_momentum;
  void set_momentum(double m, size_t group) override {
    Options o = this->options(group);
    o.betas.first = m;
    validate(o);
    this->options(group) = o;
  }

  void step() override {
    NoGradGuard guard;
    for (size_t gi = 0; gi < this->num_param_groups(); ++gi) {
      const Options& o = this->options(gi);
      const double beta1 = o.betas.first, beta2 = o.betas.second;
      for (const Tensor<T>& p : this->params_[gi]) {
        Tensor<T> gt = this->grad_of(p);
        if (!gt.defined()) continue;
        this->check_param(p);
        ParamStateT<T>& s = this->state(p);
        Tensor<T> m = this->buffer(s, "exp_avg", p);
        Tensor<T> v = this->buffer(s, "exp_avg_sq", p);
        Tensor<T> vmax = o.amsgrad ? this->buffer(s, "max_exp_avg_sq", p) : Tensor<T>();
        const int64_t t = ++s.step;
        // Scalars in double, as Python floats are in PyTorch.
        const double c1 = 1 - std::pow(beta1, static_cast<double>(t));
        const double c2 = 1 - std::pow(beta2, static_cast<double>(t));
        backend::AdamStep step;
        step.lr = o.lr;
        step.step_size = o.lr / c1;
        step.bias_correction2_sqrt = std::sqrt(c2);
        step.beta1 = beta1;
        step.beta2 = beta2;
        step.eps = o.eps;
        step.weight_decay = o.weight_decay;
        step.decoupled = decoupled_;
        step.amsgrad = o.amsgrad;
        step.maximize = o.maximize;
        SINEW_DISPATCH(p.device(), adam_step, p, gt, m, v, vmax, step);
        p.impl().storage->bump_version();
      }
    }
  }

 protected:
  void validate(const Options& o) const override {
    const char* n = this->name().c_str();
    SINEW_CHECK(o.lr >= 0, n, "invalid learning rate: ", o.lr);
    SINEW_CHECK(o.eps >= 0, n, "invalid epsilon value: ", o.eps);
    SINEW_CHECK(o.betas.first >= 0 && o.betas.first < 1, n,
                "invalid beta parameter at index 0: ", o.betas.first, " (must be in [0, 1))");
    SINEW_CHECK(o.betas.second >= 0 && o.betas.second < 1, n,
                "invalid beta parameter at index 1: ", o.betas.second, " (must be in [0, 1))");
    SINEW_CHECK(o.weight_decay >= 0, n, "invalid weight_decay value: ", o.weight_decay);
  }

 private:
  bool decoupled_;
};

}  // namespace detail

template <class T>
class AdamT : public detail::AdamBase<T, AdamOptions, AdamGroupOptions> {
  using Base = detail::AdamBase<T, AdamOptions, AdamGroupOptions>;

 public:
  using typename Base::ParamGroup;
  AdamT(std::vector<Tensor<T>> params, AdamOptions defaults = {})
      : Base("Adam", false, {ParamGroup{std::move(params), {}}}, defaults) {}
  AdamT(std::vector<ParamGroup> groups, AdamOptions defaults = {})
      : Base("Adam", false, std::move(groups), defaults) {}
};

template <class T>
class AdamWT : public detail::AdamBase<T, AdamWOptions, AdamWGroupOptions> {
  using Base = detail::AdamBase<T, AdamWOptions, AdamWGroupOptions>;

 public:
  using typename Base::ParamGroup;
  AdamWT(std::vector<Tensor<T>> params, AdamWOptions defaults = {})
      : Base("AdamW", true, {ParamGroup{std::move(params), {}}}, defaults) {}
  AdamWT(std::vector<ParamGroup> groups, AdamWOptions defaults = {})
      : Base("AdamW", true, std::move(groups), defaults) {}
};

using Adam = AdamT<float>;
using AdamW = AdamWT<float>;

}  // namespace sinew::optim
