// nn::init: in-place parameter initializers (uniform_, normal_, constant_, xavier_*, kaiming_*),
// calculate_gain and fan computation, with PyTorch's names, defaults and formulas. Each fills the
// tensor under NoGradGuard (so parameters that require grad can be initialized) and returns it.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew::nn::init {

// The recommended gain for a nonlinearity (PyTorch's table): linear, conv*d, conv_transpose*d,
// sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2)) (slope default 0.01);
// selu: 3/4.
inline double calculate_gain(const std::string& nonlinearity,
                             std::optional<double> param = std::nullopt) {
  const std::string& n = nonlinearity;
  if (n == "linear" || n == "conv1d" || n == "conv2d" || n == "conv3d" || n == "conv_transpose1d" ||
      n == "conv_transpose2d" || n == "conv_transpose3d" || n == "sigmoid") {
    return 1.0;
  }
  if (n == "tanh") return 5.0 / 3.0;
  if (n == "relu") return std::sqrt(2.0);
  if (n == "leaky_relu") {
    double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (n == "selu") return 3.0 / 4.0;
  sinew::detail::fail(
      "calculate_gain", "unsupported nonlinearity '", n,
      "' (linear, conv*d, conv_transpose*d, sigmoid, tanh, relu, leaky_relu, selu)");
}

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, where the receptive
// field is the product of the sizes after the first two (1 for a Linear weight [out, in]).
struct Fans {
  int64_t fan_in;
  int64_t fan_out;
};
template <class T>
Fans calculate_fan_in_and_fan_out(const Tensor<T>& t,
                                  const char* where = "calculate_fan_in_and_fan_out") {
  SINEW_CHECK(t.dim() >= 2, where,
              "fan in and fan out need a tensor with at least 2 dimensions, got shape ", t.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

namespace detail {
template <class T>
int64_t fan(const Tensor<T>& t, const std::string& mode, const char* where) {
  SINEW_CHECK(mode == "fan_in" || mode == "fan_out", where,
              "mode must be 'fan_in' or 'fan_out', got '", mode, "'");
  Fans f = calculate_fan_in_and_fan_out(t, where);
  return mode == "fan_in" ? f.fan_in : f.fan_out;
}
// Writes `values` (same shape) into t without recording history.
template <class T>
Tensor<T>& assign(Tensor<T>& t, const Tensor<T>& values) {
  NoGradGuard guard;
  Tensor<T> alias = t.detach();  // in-place writes to a leaf that requires grad are fine unrecorded
  alias.copy_(values);
  return t;
}
}  // namespace detail

// U(a, b).
template <class T>
Tensor<T>& uniform_(Tensor<T>& t, double a, double b, Generator& gen) {
  SINEW_CHECK(a <= b, "uniform_", "needs a <= b, got a = ", a, ", b = ", b);
  return detail::assign(t, rand<T>(t.shape(), gen, t.device()) * (b - a) + a);
}
template <class T>
Tensor<T>& uniform_(Tensor<T>& t, double a = 0, double b = 1) {
  return uniform_(t, a, b, default_generator());
}

// N(mean, std^2).
template <class T>
Tensor<T>& normal_(Tensor<T>& t, double mean, double std, Generator& gen) {
  SINEW_CHECK(std >= 0, "normal_", "std must be >= 0, got ", std);
  return detail::assign(t, randn<T>(t.shape(), gen, t.device()) * std + mean);
}
template <class T>
Tensor<T>& normal_(Tensor<T>& t, double mean = 0, double std = 1) {
  return normal_(t, mean, std, default_generator());
}

template <class T>
Tensor<T>& constant_(Tensor<T>& t, double value) {
  NoGradGuard guard;
  t.detach().fill_(value);
  return t;
}
template <class T>
Tensor<T>& zeros_(Tensor<T>& t) {
  return constant_(t, 0.0);
}
template <class T>
Tensor<T>& ones_(Tensor<T>& t) {
  return constant_(t, 1.0);
}

// Glorot: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)).
template <class T>
Tensor<T>& xavier_uniform_(Tensor<T>& t, double gain = 1.0) {
  Fans f = calculate_fan_in_and_fan_out(t, "xavier_uniform_");
  if (t.numel() == 0) return t;
  double a = gain * std::sqrt(6.0 / double(f.fan_in + f.fan_out));
  return uniform_(t, -a, a);
}
// Glorot: N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out)).
template <class T>
Tensor<T>& xavier_normal_(Tensor<T>& t, double gain = 1.0) {
  Fans f = calculate_fan_in_and_fan_out(t, "xavier_normal_");
  if (t.numel() == 0) return t;
  return normal_(t, 0.0, gain * std::sqrt(2.0 / double(f.fan_in + f.fan_out)));
}

// He initialization. a: the negative slope of the leaky_relu that follows (PyTorch's default
// nonlinearity); mode: "fan_in" keeps the forward variance, "fan_out" the backward one.
struct KaimingOptions {
  double a = 0;
  std::string mode = "fan_in";
  std::string nonlinearity = "leaky_relu";
};

// U(-bound, bound) with bound = gain sqrt(3 / fan). With a = sqrt(5) (Linear's and Conv's default)
// the bound is 1 / sqrt(fan_in).
template <class T>
Tensor<T>& kaiming_uniform_(Tensor<T>& t, const KaimingOptions& opt = {}) {
  int64_t fan = detail::fan(t, opt.mode, "kaiming_uniform_");
  if (t.numel() == 0) return t;  // PyTorch: initializing a zero-element tensor is a no-op
  double bound = calculate_gain(opt.nonlinearity, opt.a) * std::sqrt(3.0 / double(fan));
  return uniform_(t, -bound, bound);
}
// N(0, std^2) with std = gain / sqrt(fan).
template <class T>
Tensor<T>& kaiming_normal_(Tensor<T>& t, const KaimingOptions& opt = {}) {
  int64_t fan = detail::fan(t, opt.mode, "kaiming_normal_");
  if (t.numel() == 0) return t;
  return normal_(t, 0.0, calculate_gain(opt.nonlinearity, opt.a) / std::sqrt(double(fan)));
}

}  // namespace sinew::nn::init
