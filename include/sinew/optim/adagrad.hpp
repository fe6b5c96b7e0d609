// optim::Adagrad: per-coordinate learning rates from the running sum of squared gradients.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AdagradOptions, lr, lr_decay, weight_decay,
                                                initial_accumulator_value, eps, maximize)

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
class Adagrad : public OptimizerWith<AdagradOptions, AdagradGroupOptions> {
 public:
  Adagrad(std::vector<Tensor<float>> params, AdagradOptions defaults = {})
      : OptimizerWith("Adagrad", defaults) {
    init({ParamGroup{std::move(params), {}}});
  }
  Adagrad(std::vector<ParamGroup> groups, AdagradOptions defaults = {})
      : OptimizerWith("Adagrad", defaults) {
    init(std::move(groups));
  }

  void step() override {
    NoGradGuard guard;
    for (size_t gi = 0; gi < num_param_groups(); ++gi) {
      const AdagradOptions& o = options(gi);
      const float wd = static_cast<float>(o.weight_decay);
      const float eps = static_cast<float>(o.eps);
      for (const Tensor<float>& p : params_[gi]) {
        Tensor<float> gt = grad_of(p);
        if (!gt.defined()) continue;
        float* w = param_data(p);
        const float* gp = gt.data_ptr();
        const int64_t n = p.numel();
        ParamState& s = state(p);
        float* sum = buffer(s, "sum", p, o.initial_accumulator_value).data_ptr();
        const int64_t t = ++s.step;
        const float clr = static_cast<float>(o.lr / (1 + static_cast<double>(t - 1) * o.lr_decay));
        for (int64_t i = 0; i < n; ++i) {
          float g = o.maximize ? -gp[i] : gp[i];
          if (o.weight_decay != 0) g = g + wd * w[i];
          sum[i] = sum[i] + g * g;
          const float std_ = std::sqrt(sum[i]) + eps;
          w[i] = w[i] - clr * (g / std_);
        }
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

}  // namespace sinew::optim
