// nn::Linear (nn::LinearT<T>): the fully connected layer y = x W^T + b, PyTorch's layout and
// default init.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "sinew/nn/init.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/linalg.hpp"

namespace sinew::nn {

struct LinearOptions {
  bool bias = true;
};

// y = x W^T + b.  x [..., in_features] -> y [..., out_features]; weight [out_features,
// in_features] (PyTorch's layout, so weights move both ways), bias [out_features].
// Gradients (from the fused linear op): dx = g W, dW = g^T x, db = g summed over leading dims.
// Init as PyTorch: W by kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); b by
// U(-1/sqrt(in), 1/sqrt(in)) (0 bound when in_features is 0).
template <class T = float>
class LinearT : public Cloneable<LinearT<T>, T> {
 public:
  Tensor<T> weight;
  Tensor<T> bias;  // undefined with {.bias = false}

  LinearT(int64_t in_features, int64_t out_features, LinearOptions options = {})
      : Cloneable<LinearT<T>, T>("Linear"),
        in_(in_features),
        out_(out_features),
        options_(options) {
    SINEW_CHECK(in_features >= 0 && out_features >= 0, "Linear",
                "in_features and out_features must be >= 0, got ", in_features, " and ",
                out_features);
    reset();
  }

  void reset() override {
    weight = this->register_parameter("weight", empty<T>({out_, in_}));
    bias = options_.bias ? this->register_parameter("bias", empty<T>({out_})) : Tensor<T>();
    reset_parameters();
  }

  // Re-draws the weights with the default init.
  void reset_parameters() {
    init::kaiming_uniform_(weight, {.a = std::sqrt(5.0)});
    if (bias.defined()) {
      double bound = in_ > 0 ? 1.0 / std::sqrt(double(in_)) : 0.0;
      init::uniform_(bias, -bound, bound);
    }
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    SINEW_CHECK(x.dim() >= 1 && x.size(-1) == in_, "Linear", "expected input [..., ", in_,
                "] (in_features = ", in_, "), got ", x.shape());
    return linear(x, weight, bias);
  }

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  const LinearOptions& options() const { return options_; }

  std::string extra_repr() const override {
    return sinew::detail::str("in_features=", in_, ", out_features=", out_,
                              ", bias=", options_.bias ? "true" : "false");
  }

 private:
  int64_t in_;
  int64_t out_;
  LinearOptions options_;
};

using Linear = LinearT<float>;

}  // namespace sinew::nn
