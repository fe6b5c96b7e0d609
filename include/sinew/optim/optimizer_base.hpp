// optim::Optimizer: what every optimizer offers whatever its element type, without tensor code
// (name, step, zero_grad, parameter-group count, learning rate and momentum access), so that the
// LR schedulers are plain classes that work with any optimizer. Tensors, state and state dicts
// live in optim::OptimizerT<T> (optimizer.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "sinew/core/error.hpp"

namespace sinew::optim {

class Optimizer {
 public:
  explicit Optimizer(std::string name) : name_(std::move(name)) {}
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // The type name ("SGD", "Adam", ...), also stored in state dicts.
  const std::string& name() const { return name_; }

  // One update of every parameter that has a .grad, in place, under NoGradGuard.
  virtual void step() = 0;

  // Resets the .grad of every parameter: undefined (default) or zero-filled in place.
  virtual void zero_grad(bool set_to_none = true) = 0;

  virtual size_t num_param_groups() const = 0;

  // ---- hyperparameters used by the LR schedulers -----------------------------------------------
  virtual double lr(size_t group = 0) const = 0;
  virtual void set_lr(double lr, size_t group) = 0;
  // Sets the learning rate of every group.
  void set_lr(double lr) {
    for (size_t g = 0; g < num_param_groups(); ++g) set_lr(lr, g);
  }
  // Whether the optimizer has a momentum-like coefficient (SGD momentum, Adam/AdamW beta1, RMSprop
  // momentum) that momentum()/set_momentum() read and write (OneCycleLR cycles it).
  virtual bool has_momentum() const { return false; }
  virtual double momentum(size_t group = 0) const {
    (void)group;
    SINEW_CHECK(false, "momentum", name_, " has no momentum coefficient");
    return 0;
  }
  virtual void set_momentum(double m, size_t group) {
    (void)m;
    (void)group;
    SINEW_CHECK(false, "set_momentum", name_, " has no momentum coefficient");
  }
  void set_momentum(double m) {
    for (size_t g = 0; g < num_param_groups(); ++g) set_momentum(m, g);
  }

 protected:
  void check_group(size_t group, const char* where) const {
    SINEW_CHECK(group < num_param_groups(), where, "group ", group, " out of range for ",
                num_param_groups(), " parameter groups");
  }

 private:
  std::string name_;
};

}  // namespace sinew::optim
