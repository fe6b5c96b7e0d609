// optim::SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay.
#pragma once

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

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};
SINEW_OPTIM_OPTIONS(SGDOptions, lr, momentum, dampening, weight_decay, nesterov, maximize)

// Per-group overrides of SGDOptions: a field left empty takes the optimizer's default.
struct SGDGroupOptions {
  std::optional<double> lr = std::nullopt;
  std::optional<double> momentum = std::nullopt;
  std::optional<double> dampening = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<bool> nesterov = std::nullopt;
  std::optional<bool> maximize = std::nullopt;
  SGDOptions resolve(const SGDOptions& d) const {
    return {lr.value_or(d.lr),
            momentum.value_or(d.momentum),
            dampening.value_or(d.dampening),
            weight_decay.value_or(d.weight_decay),
            nesterov.value_or(d.nesterov),
            maximize.value_or(d.maximize)};
  }
};

// PyTorch 1.13's update, for each parameter p with gradient g:
//   g <- -g if maximize;  g <- g + weight_decay * p
//   with momentum mu:  b <- g on the first step, else b <- mu * b + (1 - dampening) * g;
//                      g <- g + mu * b (nesterov) or g <- b
//   p <- p - lr * g
// in the parameters' precision. State: "momentum_buffer" (only with momentum != 0).
template <class T>
class SGDT : public OptimizerWith<T, SGDOptions, SGDGroupOptions> {
  using Base = OptimizerWith<T, SGDOptions, SGDGroupOptions>;

 public:
  using typename Base::ParamGroup;
  SGDT(std::vector<Tensor<T>> params, SGDOptions defaults = {}) : Base("SGD", defaults) {
    this->init({ParamGroup{std::move(params), {}}});
  }
  SGDT(std::vector<ParamGroup> groups, SGDOptions defaults = {}) : Base("SGD", defaults) {
    this->init(std::move(groups));
  }

  bool has_momentum() const override { return true; }
  double momentum(size_t group = 0) const override { return this->options(group).momentum; }
  using Optimizer::set_momentum;
  void set_momentum(double m, size_t group) override {
    SGDOptions o = this->options(group);
    o.momentum = m;
    validate(o);
    this->options(group) = o;
  }

  void step() override {
    NoGradGuard guard;
    for (size_t gi = 0; gi < this->num_param_groups(); ++gi) {
      const SGDOptions& o = this->options(gi);
      for (const Tensor<T>& p : this->params_[gi]) {
        Tensor<T> gt = this->grad_of(p);
        if (!gt.defined()) continue;
        this->check_param(p);
        ParamStateT<T>& s = this->state(p);
        Tensor<T> buf;
        bool first = false;
        if (o.momentum != 0) {
          first = s.buffers.find("momentum_buffer") == nullptr;
          buf = this->buffer(s, "momentum_buffer", p);
        }
        ++s.step;
        const backend::SgdStep step{o.lr,       o.momentum, o.dampening, o.weight_decay,
                                    o.nesterov, o.maximize, first};
        SINEW_DISPATCH(p.device(), sgd_step, p, gt, buf, step);
        p.impl().storage->bump_version();
      }
    }
  }

 protected:
  void validate(const SGDOptions& o) const override {
    SINEW_CHECK(o.lr >= 0, "SGD", "invalid learning rate: ", o.lr);
    SINEW_CHECK(o.momentum >= 0, "SGD", "invalid momentum value: ", o.momentum);
    SINEW_CHECK(o.weight_decay >= 0, "SGD", "invalid weight_decay value: ", o.weight_decay);
    SINEW_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD",
                "Nesterov momentum requires a momentum and zero dampening (momentum ", o.momentum,
                ", dampening ", o.dampening, ")");
  }
};

using SGD = SGDT<float>;

}  // namespace sinew::optim
