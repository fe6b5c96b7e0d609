// optim::RMSprop: gradient scaled by a running root mean square, optionally centered and with
// momentum.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RMSpropOptions, lr, alpha, eps, weight_decay,
                                                momentum, centered, maximize)

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
class RMSprop : public OptimizerWith<RMSpropOptions, RMSpropGroupOptions> {
 public:
  RMSprop(std::vector<Tensor<float>> params, RMSpropOptions defaults = {})
      : OptimizerWith("RMSprop", defaults) {
    init({ParamGroup{std::move(params), {}}});
  }
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults = {})
      : OptimizerWith("RMSprop", defaults) {
    init(std::move(groups));
  }

  bool has_momentum() const override { return true; }
  double momentum(size_t group = 0) const override { return options(group).momentum; }
  using Optimizer::set_momentum;
  void set_momentum(double m, size_t group) override {
    RMSpropOptions o = options(group);
    o.momentum = m;
    validate(o);
    options(group) = o;
  }

  void step() override {
    NoGradGuard guard;
    for (size_t gi = 0; gi < num_param_groups(); ++gi) {
      const RMSpropOptions& o = options(gi);
      const float alpha = static_cast<float>(o.alpha);
      const float one_alpha = static_cast<float>(1 - o.alpha);
      const float wd = static_cast<float>(o.weight_decay);
      const float eps = static_cast<float>(o.eps);
      const float mu = static_cast<float>(o.momentum);
      const float lr = static_cast<float>(o.lr);
      for (const Tensor<float>& p : params_[gi]) {
        Tensor<float> gt = grad_of(p);
        if (!gt.defined()) continue;
        float* w = param_data(p);
        const float* gp = gt.data_ptr();
        const int64_t n = p.numel();
        ParamState& s = state(p);
        float* sq = buffer(s, "square_avg", p).data_ptr();
        float* buf = o.momentum > 0 ? buffer(s, "momentum_buffer", p).data_ptr() : nullptr;
        float* ga = o.centered ? buffer(s, "grad_avg", p).data_ptr() : nullptr;
        ++s.step;
        for (int64_t i = 0; i < n; ++i) {
          float g = o.maximize ? -gp[i] : gp[i];
          if (o.weight_decay != 0) g = g + wd * w[i];
          sq[i] = sq[i] * alpha + one_alpha * (g * g);
          float avg;
          if (ga != nullptr) {
            ga[i] = ga[i] * alpha + one_alpha * g;
            avg = std::sqrt(sq[i] - ga[i] * ga[i]);
          } else {
            avg = std::sqrt(sq[i]);
          }
          avg = avg + eps;
          if (buf != nullptr) {
            buf[i] = buf[i] * mu + g / avg;
            w[i] = w[i] - lr * buf[i];
          } else {
            w[i] = w[i] - lr * (g / avg);
          }
        }
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

}  // namespace sinew::optim
