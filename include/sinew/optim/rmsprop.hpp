// optim::RMSprop: gradient scaled by a running root mean square, optionally centered and with
// momentum.
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

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
};
SINEW_OPTIM_OPTIONS(RMSpropOptions, lr, alpha, eps, weight_decay, momentum, centered, maximize)

// Per-group overrides of RMSpropOptions: a field left empty takes the optimizer's default.
struct RMSpropGroupOptions {
  std::optional<double> lr = std::nullopt;
  std::optional<double> alpha = std::nullopt;
  std::optional<double> eps = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> momentum = std::nullopt;
  std::optional<bool> centered = std::nullopt;
  std::optional<bool> maximize = std::nullopt;
  RMSpropOptions resolve(const RMSpropOptions& d) const {
    return {lr.value_or(d.lr),
            alpha.value_or(d.alpha),
            eps.value_or(d.eps),
            weight_decay.value_or(d.weight_decay),
            momentum.value_or(d.momentum),
            centered.value_or(d.centered),
            maximize.value_or(d.maximize)};
  }
};

// PyTorch 1.13's update, for each parameter p with gradient g:
//   g <- -g if maximize;  g <- g + weight_decay * p
//   v <- alpha * v + (1 - alpha) * g^2
//   centered: a <- alpha * a + (1 - alpha) * g;  avg = sqrt(v - a^2) + eps,  else avg = sqrt(v) +
//   eps momentum mu > 0: b <- mu * b + g / avg;  p <- p - lr * b,   else p <- p - lr * g / avg
// State: "square_avg", "momentum_buffer" (momentum > 0), "grad_avg" (centered), the step count.
template <class T>
class RMSpropT : public OptimizerWith<T, RMSpropOptions, RMSpropGroupOptions> {
  using Base = OptimizerWith<T, RMSpropOptions, RMSpropGroupOptions>;

 public:
  using typename Base::ParamGroup;
  RMSpropT(std::vector<Tensor<T>> params, RMSpropOptions defaults = {})
      : Base("RMSprop", defaults) {
    this->init({ParamGroup{std::move(params), {}}});
  }
  RMSpropT(std::vector<ParamGroup> groups, RMSpropOptions defaults = {})
      : Base("RMSprop", defaults) {
    this->init(std::move(groups));
  }

  bool has_momentum() const override { return true; }
  double momentum(size_t group = 0) const override { return this->options(group).momentum; }
  using Optimizer::set_momentum;
  void set_momentum(double m, size_t group) override {
    RMSpropOptions o = this->options(group);
    o.momentum = m;
    validate(o);
    this->options(group) = o;
  }

  void step() override {
    NoGradGuard guard;
    for (size_t gi = 0; gi < this->num_param_groups(); ++gi) {
      const RMSpropOptions& o = this->options(gi);
      const backend::RmspropStep step{o.lr,       o.alpha,    o.eps,     o.weight_decay,
                                      o.momentum, o.centered, o.maximize};
      for (const Tensor<T>& p : this->params_[gi]) {
        Tensor<T> gt = this->grad_of(p);
        if (!gt.defined()) continue;
        this->check_param(p);
        ParamStateT<T>& s = this->state(p);
        Tensor<T> sq = this->buffer(s, "square_avg", p);
        Tensor<T> buf = o.momentum > 0 ? this->buffer(s, "momentum_buffer", p) : Tensor<T>();
        Tensor<T> ga = o.centered ? this->buffer(s, "grad_avg", p) : Tensor<T>();
        ++s.step;
        SINEW_DISPATCH(p.device(), rmsprop_step, p, gt, sq, buf, ga, step);
        p.impl().storage->bump_version();
      }
    }
  }

 protected:
  void validate(const RMSpropOptions& o) const override {
    SINEW_CHECK(o.lr >= 0, "RMSprop", "invalid learning rate: ", o.lr);
    SINEW_CHECK(o.eps >= 0, "RMSprop", "invalid epsilon value: ", o.eps);
    SINEW_CHECK(o.momentum >= 0, "RMSprop", "invalid momentum value: ", o.momentum);
    SINEW_CHECK(o.weight_decay >= 0, "RMSprop", "invalid weight_decay value: ", o.weight_decay);
    SINEW_CHECK(o.alpha >= 0, "RMSprop", "invalid alpha value: ", o.alpha);
  }
};

using RMSprop = RMSpropT<float>;

}  // namespace sinew::optim
