// nn::init: in-place parameter initializers (uniform_, normal_, trunc_normal_, constant_, eye_,
// dirac_, xavier_*, kaiming_*, orthogonal_), calculate_gain and fan computation, with PyTorch's
// names, defaults and formulas. Each fills the tensor under NoGradGuard (so parameters that
// require grad can be initialized) and returns it. As in LibTorch the tensor is taken by value: a
// Tensor is a handle to shared memory, so a temporary view (w.detach(), w.slice(...)) can be
// passed and the write lands in the tensor it views.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
// Writes host values (row-major, t's shape) into t.
template <class T>
Tensor<T>& assign_values(Tensor<T>& t, const std::vector<double>& v) {
  std::vector<T> cast(v.begin(), v.end());
  return assign(t, from_vector<T>(cast, t.shape(), t.device()));
}
// The inverse of erf on (-1, 1) (+-inf at +-1): Giles' single-precision approximation refined by
// two Newton steps on erf(x) - y, which brings it to double precision.
inline double erfinv(double y) {
  if (y <= -1) return y == -1 ? -INFINITY : NAN;
  if (y >= 1) return y == 1 ? INFINITY : NAN;
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    x = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941}) {
      x = c + x * w;
    }
  } else {
    w = std::sqrt(w) - 3.0;
    x = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682}) {
      x = c + x * w;
    }
  }
  x *= y;
  for (int i = 0; i < 2; ++i) {
    double slope = 1.1283791670955126 * std::exp(-x * x);  // d erf / dx
    if (slope == 0) break;
    x -= (std::erf(x) - y) / slope;
  }
  return x;
}
}  // namespace detail

// U(a, b).
template <class T>
Tensor<T> uniform_(Tensor<T> t, double a, double b, Generator& gen) {
  SINEW_CHECK(a <= b, "uniform_", "needs a <= b, got a = ", a, ", b = ", b);
  return detail::assign(t, rand<T>(t.shape(), gen, t.device()) * (b - a) + a);
}
template <class T>
Tensor<T> uniform_(Tensor<T> t, double a = 0, double b = 1) {
  return uniform_(t, a, b, default_generator());
}

// N(mean, std^2).
template <class T>
Tensor<T> normal_(Tensor<T> t, double mean, double std, Generator& gen) {
  SINEW_CHECK(std >= 0, "normal_", "std must be >= 0, got ", std);
  return detail::assign(t, randn<T>(t.shape(), gen, t.device()) * std + mean);
}
template <class T>
Tensor<T> normal_(Tensor<T> t, double mean = 0, double std = 1) {
  return normal_(t, mean, std, default_generator());
}

// N(mean, std^2) truncated to [a, b] (a, b in the tensor's units, not in stds), by PyTorch's
// inverse-CDF method: u ~ U(Phi(alpha), Phi(beta)), x = mean + std Phi^-1(u), clamped to [a, b].
template <class T>
Tensor<T> trunc_normal_(Tensor<T> t, double mean, double std, double a, double b, Generator& gen) {
  SINEW_CHECK(std >= 0, "trunc_normal_", "std must be >= 0, got ", std);
  SINEW_CHECK(a < b, "trunc_normal_", "needs a < b, got a = ", a, ", b = ", b);
  if (t.numel() == 0) return t;
  std::vector<double> v = rand<double>(t.shape(), gen).to_vector();
  if (std == 0) {
    std::fill(v.begin(), v.end(), std::clamp(mean, a, b));
    return detail::assign_values(t, v);
  }
  auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  double lo = 2 * cdf((a - mean) / std) - 1, hi = 2 * cdf((b - mean) / std) - 1;
  for (double& x : v) {
    x = mean + std * std::sqrt(2.0) * detail::erfinv(lo + (hi - lo) * x);
    x = std::clamp(x, a, b);
  }
  return detail::assign_values(t, v);
}
template <class T>
Tensor<T> trunc_normal_(Tensor<T> t, double mean = 0, double std = 1, double a = -2, double b = 2) {
  return trunc_normal_(t, mean, std, a, b, default_generator());
}

template <class T>
Tensor<T> constant_(Tensor<T> t, double value) {
  NoGradGuard guard;
  t.detach().fill_(value);
  return t;
}
template <class T>
Tensor<T> zeros_(Tensor<T> t) {
  return constant_(t, 0.0);
}
template <class T>
Tensor<T> ones_(Tensor<T> t) {
  return constant_(t, 1.0);
}

// The identity matrix for a 2-d tensor (ones on the main diagonal of a non-square one too).
template <class T>
Tensor<T> eye_(Tensor<T> t) {
  SINEW_CHECK(t.dim() == 2, "eye_", "needs a 2-d tensor, got shape ", t.shape());
  return detail::assign(t, eye<T>(t.size(0), t.size(1), t.device()));
}

// The Dirac delta for a conv weight [out, in, k...] (3, 4 or 5 dims): output channel g * out/groups
// + d copies input channel d at the kernel's centre, for d < min(out / groups, in), so the conv
// preserves those channels. Everything else is 0.
template <class T>
Tensor<T> dirac_(Tensor<T> t, int64_t groups = 1) {
  SINEW_CHECK(t.dim() >= 3 && t.dim() <= 5, "dirac_", "needs a 3, 4 or 5-d tensor, got shape ",
              t.shape());
  SINEW_CHECK(groups >= 1 && t.size(0) % groups == 0, "dirac_", "dim 0 of ", t.shape(),
              " must be divisible by groups = ", groups);
  std::vector<double> v(static_cast<size_t>(t.numel()), 0.0);
  int64_t per_group = t.size(0) / groups, n = std::min(per_group, t.size(1));
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t d = 0; d < n; ++d) {
      int64_t flat = (g * per_group + d) * t.size(1) + d;  // row-major index of [o, d, centre...]
      for (int64_t k = 2; k < t.dim(); ++k) flat = flat * t.size(k) + t.size(k) / 2;
      v[static_cast<size_t>(flat)] = 1.0;
    }
  }
  return detail::assign_values(t, v);
}

// Glorot: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)).
template <class T>
Tensor<T> xavier_uniform_(Tensor<T> t, double gain = 1.0) {
  Fans f = calculate_fan_in_and_fan_out(t, "xavier_uniform_");
  if (t.numel() == 0) return t;
  double a = gain * std::sqrt(6.0 / double(f.fan_in + f.fan_out));
  return uniform_(t, -a, a);
}
// Glorot: N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out)).
template <class T>
Tensor<T> xavier_normal_(Tensor<T> t, double gain = 1.0) {
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
Tensor<T> kaiming_uniform_(Tensor<T> t, const KaimingOptions& opt = {}) {
  int64_t fan = detail::fan(t, opt.mode, "kaiming_uniform_");
  if (t.numel() == 0) return t;  // PyTorch: initializing a zero-element tensor is a no-op
  double bound = calculate_gain(opt.nonlinearity, opt.a) * std::sqrt(3.0 / double(fan));
  return uniform_(t, -bound, bound);
}
// N(0, std^2) with std = gain / sqrt(fan).
template <class T>
Tensor<T> kaiming_normal_(Tensor<T> t, const KaimingOptions& opt = {}) {
  int64_t fan = detail::fan(t, opt.mode, "kaiming_normal_");
  if (t.numel() == 0) return t;
  return normal_(t, 0.0, calculate_gain(opt.nonlinearity, opt.a) / std::sqrt(double(fan)));
}

// A (semi-)orthogonal matrix times gain, for t viewed as [size(0), numel / size(0)]: the Q factor
// of the QR decomposition of a normal matrix (of its transpose when there are fewer rows than
// columns), with signs fixed so that R has a positive diagonal, as PyTorch. Rows are then
// orthonormal (W W^T = gain^2 I) when size(0) <= numel / size(0), else columns are.
// The QR is a twice-orthogonalized modified Gram-Schmidt in double.
template <class T>
Tensor<T> orthogonal_(Tensor<T> t, double gain, Generator& gen) {
  SINEW_CHECK(t.dim() >= 2, "orthogonal_", "needs a tensor with at least 2 dimensions, got shape ",
              t.shape());
  if (t.numel() == 0) return t;
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  std::vector<double> a = randn<double>({rows, cols}, gen).to_vector();
  // Columns of the tall matrix M (m x n, m >= n): M = A, or A^T when rows < cols.
  const bool transposed = rows < cols;
  const int64_t m = transposed ? cols : rows, n = transposed ? rows : cols;
  std::vector<std::vector<double>> q(static_cast<size_t>(n), std::vector<double>(m));
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < m; ++i) q[j][i] = transposed ? a[j * cols + i] : a[i * cols + j];
  }
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double>& v = q[j];
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        double r = 0;
        for (int64_t i = 0; i < m; ++i) r += q[k][i] * v[i];
        for (int64_t i = 0; i < m; ++i) v[i] -= r * q[k][i];
      }
    }
    double norm = 0;
    for (double x : v) norm += x * x;
    norm = std::sqrt(norm);
    SINEW_CHECK(norm > 0, "orthogonal_", "the random matrix was rank deficient");
    for (double& x : v) x /= norm;  // R's diagonal entry is the positive norm: the sign fix
  }
  std::vector<double> w(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      w[i * cols + j] = gain * (transposed ? q[i][j] : q[j][i]);
    }
  }
  return detail::assign_values(t, w);
}
template <class T>
Tensor<T> orthogonal_(Tensor<T> t, double gain = 1.0) {
  return orthogonal_(t, gain, default_generator());
}

}  // namespace sinew::nn::init
