// Dropout: nn::functional::dropout / dropout2d and the nn::Dropout / nn::Dropout2d modules
// (active in training, identity in eval).
#pragma once

#include <string>

#include "sinew/core/random.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew::nn {

namespace functional {

// Training: y = x * m / (1 - p) with m ~ Bernoulli(1 - p) drawn per element, so E[y] = x;
// dL/dx = g * m / (1 - p) (the mask is a constant of the graph). p = 1 gives zeros (gradient 0).
// Not training, or p = 0: y = x. Written from ops, so it records nothing of its own.
template <class T>
Tensor<T> dropout(const Tensor<T>& x, double p, bool training, Generator& gen) {
  SINEW_CHECK(p >= 0 && p <= 1, "dropout", "probability p must be in [0, 1], got ", p);
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  Tensor<T> keep = (rand<T>(x.shape(), gen, x.device()) >= p).template to<T>();
  return x * (keep * (1.0 / (1.0 - p)));
}
template <class T>
Tensor<T> dropout(const Tensor<T>& x, double p = 0.5, bool training = true) {
  return dropout(x, p, training, default_generator());
}

// Channel dropout for [N, C, H, W] or unbatched [C, H, W]: training, y = x * m / (1 - p) with one
// m ~ Bernoulli(1 - p) per (sample, channel), so a whole feature map is zeroed or kept;
// dL/dx = g * m / (1 - p). Not training, or p = 0: y = x.
template <class T>
Tensor<T> dropout2d(const Tensor<T>& x, double p, bool training, Generator& gen) {
  SINEW_CHECK(p >= 0 && p <= 1, "dropout2d", "probability p must be in [0, 1], got ", p);
  SINEW_CHECK(x.dim() == 3 || x.dim() == 4, "dropout2d",
              "expected an input [N, C, H, W] or [C, H, W], got ", x.shape());
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  Shape mask_shape = x.shape();
  mask_shape[x.dim() - 1] = 1;
  mask_shape[x.dim() - 2] = 1;
  Tensor<T> keep = (rand<T>(mask_shape, gen, x.device()) >= p).template to<T>();
  return x * (keep * (1.0 / (1.0 - p)));
}
template <class T>
Tensor<T> dropout2d(const Tensor<T>& x, double p = 0.5, bool training = true) {
  return dropout2d(x, p, training, default_generator());
}

}  // namespace functional

// Zeroes each element with probability p during training and scales the rest by 1 / (1 - p);
// the identity in eval mode. Draws from the global generator (sinew::manual_seed).
template <class T = float>
class DropoutT : public Cloneable<DropoutT<T>, T> {
 public:
  explicit DropoutT(double p = 0.5) : Cloneable<DropoutT<T>, T>("Dropout"), p_(p) {
    SINEW_CHECK(p >= 0 && p <= 1, "Dropout", "probability p must be in [0, 1], got ", p);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return functional::dropout(x, p_, this->is_training());
  }
  double p() const { return p_; }
  std::string extra_repr() const override { return sinew::detail::str("p=", p_); }

 private:
  double p_;
};

using Dropout = DropoutT<float>;

// Zeroes whole channels of [N, C, H, W] (or [C, H, W]) with probability p during training and
// scales the rest by 1 / (1 - p); the identity in eval mode. Draws from the global generator.
template <class T = float>
class Dropout2dT : public Cloneable<Dropout2dT<T>, T> {
 public:
  explicit Dropout2dT(double p = 0.5) : Cloneable<Dropout2dT<T>, T>("Dropout2d"), p_(p) {
    SINEW_CHECK(p >= 0 && p <= 1, "Dropout2d", "probability p must be in [0, 1], got ", p);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return functional::dropout2d(x, p_, this->is_training());
  }
  double p() const { return p_; }
  std::string extra_repr() const override { return sinew::detail::str("p=", p_); }

 private:
  double p_;
};

using Dropout2d = Dropout2dT<float>;

}  // namespace sinew::nn
