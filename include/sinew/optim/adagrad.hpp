// optim::Adagrad: per-coordinate learning rates from the running sum of squared gradients.
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

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;
};
SINEW_OPTIM_OPTIONS(AdagradOptions, lr, lr_decay, weight_decay, initial_accumulator_value, eps,
                    maximize)

// Per-group overrides of AdagradOptions: a field left empty takes the optimizer's default.
struct AdagradGroupOptions {
  std::optional<double> lr = std::nullopt;
  std::optional<double> lr_decay = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> initial_accumulator_value = std::nullopt;
  std::optional<double> eps = std::nullopt;
  std::optional<bool> maximize = std::nullopt;
  AdagradOptions resolve(const AdagradOptions& d) const {
    return {lr.value_or(d.lr),
            lr_decay.value_or(d.lr_decay),
            weight_decay.value_or(d.weight_decay),
            initial_accumulator_value.value_or(d.initial_accumulator_value),
            eps.value_or(d.eps),
            maximize.value_or(d.maximize)};
  }
};

// PyTorch 1.13's update, for each parameter p with gradient g at step t:
//   g <- -g if maximize;  g <- g + weight_decay * p
//   clr = lr / (1 + (t - 1) * lr_decay)
//   s <- s + g^2   (s starts at initial_accumulator_value)
//   p <- p - clr * g / (sqrt(s) + eps)
// State: "sum" and the step count.
template <class T>
class AdagradT : public OptimizerWith<T, AdagradOptions, AdagradGroupOptions> {
  using Base = OptimizerWith<T, AdagradOptions, AdagradGroupOptions>;

 public:
  using typename Base::ParamGroup;
  AdagradT(std::vector<Tensor<T>> params, AdagradOptions defaults = {})
      : Base("Adagrad", defaults) {
    this->init({ParamGroup{std::move(params), {}}});
  }
  AdagradT(std::vector<ParamGroup> groups, AdagradOptions defaults = {})
      : Base("Adagrad", defaults) {
    this->init(std::move(groups));
  }

  void step() override {
    NoGradGuard guard;
    for (size_t gi = 0; gi < this->num_param_groups(); ++gi) {
      const AdagradOptions& o = this->options(gi);
      for (const Tensor<T>& p : this->params_[gi]) {
        Tensor<T> gt = this->grad_of(p);
        if (!gt.defined()) continue;
        this->check_param(p);
        ParamStateT<T>& s = this->state(p);
        Tensor<T> sum = this->buffer(s, "sum", p, o.initial_accumulator_value);
        const int64_t t = ++s.step;
        const backend::AdagradStep step{o.lr / (1 + static_cast<double>(t - 1) * o.lr_decay), o.eps,
                                        o.weight_decay, o.maximize};
        SINEW_DISPATCH(p.device(), adagrad_step, p, gt, sum, step);
        p.impl().storage->bump_version();
      }
    }
  }

 protected:
  void validate(const AdagradOptions& o) const override {
    SINEW_CHECK(o.lr >= 0, "Adagrad", "invalid learning rate: ", o.lr);
    SINEW_CHECK(o.lr_decay >= 0, "Adagrad", "invalid lr_decay value: ", o.lr_decay);
    SINEW_CHECK(o.weight_decay >= 0, "Adagrad", "invalid weight_decay value: ", o.weight_decay);
    SINEW_CHECK(o.initial_accumulator_value >= 0, "Adagrad",
                "invalid initial_accumulator_value: ", o.initial_accumulator_value);
    SINEW_CHECK(o.eps >= 0, "Adagrad", "invalid epsilon value: ", o.eps);
  }
};

using Adagrad = AdagradT<float>;

}  // namespace sinew::optim
