// Elementwise math with NumPy broadcasting: pow, math functions, activations, rounding, clamp,
// the Tensor members and the in-place variants (arithmetic is in ops/arithmetic.hpp, comparisons
// and where in ops/compare.hpp). Each backward is written with ops, so it is differentiable again.
// Result types on integer and bool tensors follow core/promotion.hpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "sinew/backend/cpu/elementwise.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/core/promotion.hpp"
#include "sinew/ops/arithmetic.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/compare.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew {

// ---- pow ---------------------------------------------------------------------------------------

// z = a ^ b;  dz/da = b a^(b-1), dz/db = z log(a). Integer tensors: exact integer powers (wrapping;
// a negative exponent gives 0 unless the base is 1 or -1, as PyTorch).
template <class T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
  static_assert(!std::is_same_v<T, bool>, "pow is not defined for bool tensors (as PyTorch)");
  Tensor<T> z = detail::binary_kernel<backend::Binary::Pow>(a, b, "pow");
  if constexpr (is_integral_dtype_v<T>) {
    return z;
  } else {
    return autograd::record(
        z, "pow", {a, b},
        [a, b](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
          return std::vector<Tensor<T>>{
              ctx.needs(0) ? detail::reduce_grad(g * b * pow(a, b - 1.0), a.shape()) : Tensor<T>(),
              ctx.needs(1) ? detail::reduce_grad(g * ctx.output() * log(a), b.shape())
                           : Tensor<T>()};
        },
        {.saved = {a, b}, .save_output = true});
  }
}

// x ^ e for a scalar e;  d/dx = e x^(e-1). An integer tensor with an integer exponent stays
// integer (a negative exponent raises, as PyTorch); with a floating one it gives float.
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> pow(const Tensor<T>& x, S e) {
  static_assert(!(std::is_same_v<T, bool> && std::is_same_v<S, bool>),
                "pow is not defined for a bool tensor and a bool exponent (as PyTorch)");
  using R = scalar_result_t<T, S>;
  if constexpr (detail::promotes_v<T, R>) {
    if constexpr (is_integral_dtype_v<R> && std::is_signed_v<S>) {
      SINEW_CHECK(e >= 0, "pow", "integers to negative integer powers are not allowed (exponent ",
                  +e, ", tensor of shape ", x.shape(), ")");
    }
    return detail::promoted_scalar_op<backend::Unary::PowScalar, R>(x, e);
  } else {
    double v = double(e);
    Tensor<T> y = detail::unary_kernel<backend::Unary::PowScalar>(x, v);
    return autograd::record(
        y, "pow", {x},
        [x, v](const Tensor<T>& g) { return v == 0 ? zeros_like(x) : g * v * pow(x, v - 1); },
        {.saved = {x}});
  }
}

// s ^ x for a scalar base;  d/dx = s^x log(s). Integer tensors as pow(x, s).
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> pow(S s, const Tensor<T>& x) {
  static_assert(!(std::is_same_v<T, bool> && std::is_same_v<S, bool>),
                "pow is not defined for a bool base and a bool tensor (as PyTorch)");
  using R = scalar_result_t<T, S>;
  if constexpr (detail::promotes_v<T, R>) {
    return detail::promoted_scalar_op<backend::Unary::RPowScalar, R>(x, s);
  } else {
    double v = double(s);
    Tensor<T> y = detail::unary_kernel<backend::Unary::RPowScalar>(x, v);
    return autograd::record(y, "pow", {x},
                            [v](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                              return g * ctx.output() * std::log(v);
                            },
                            {.save_output = true});
  }
}

// ---- math functions ----------------------------------------------------------------------------

// Float math: on integer and bool tensors computed in float and returned as float (PROMOTE true,
// as PyTorch), or a compile error (PROMOTE false: PyTorch has no integer kernel either).
#define SINEW_UNARY_OP(NAME, KIND, PROMOTE, SAVE, ...)                                        \
  template <class T>                                                                          \
  Tensor<floating_t<T>> NAME(const Tensor<T>& x) {                                            \
    static_assert(PROMOTE || is_floating_dtype_v<T>, #NAME                                    \
                  " needs a float or double tensor (as PyTorch): convert with .to<float>()"); \
    if constexpr (is_integral_dtype_v<T>) {                                                   \
      return NAME(x.template to<float>());                                                    \
    } else {                                                                                  \
      Tensor<T> y = detail::unary_kernel<backend::Unary::KIND>(x);                            \
      return autograd::record(                                                                \
          y, #NAME, {x},                                                                      \
          [x](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {                  \
            (void)ctx;                                                                        \
            return __VA_ARGS__;                                                               \
          },                                                                                  \
          SAVE);                                                                              \
    }                                                                                         \
  }

namespace detail {
// g where x > 0, else slope g (0 for relu, even where g is inf or NaN, as PyTorch's
// threshold_backward): the gradient through relu (slope 0) and leaky_relu, one pass (ReluGrad)
// unless a graph is being built (create_graph), where it is a `where` so that it stays
// differentiable in g and gives the same values.
template <class T>
Tensor<T> relu_grad(const Tensor<T>& g, const Tensor<T>& x, double slope) {
  if (autograd::is_grad_enabled())
    return where(x > T(0), g, slope == 0 ? zeros<T>({}, g.device()) : g * slope);
  return binary_kernel<backend::Binary::ReluGrad>(g, x, "relu_grad", slope);
}
}  // namespace detail

// Ops that keep the element type: integer tensors run the same kernel (no gradient); bool tensors
// are a compile error unless BOOL_OK.
#define SINEW_TYPED_UNARY_OP(NAME, KIND, BOOL_OK, SAVE, ...)                 \
  template <class T>                                                         \
  Tensor<T> NAME(const Tensor<T>& x) {                                       \
    static_assert(BOOL_OK || !std::is_same_v<T, bool>,                       \
                  #NAME " is not defined for bool tensors (as PyTorch)");    \
    Tensor<T> y = detail::unary_kernel<backend::Unary::KIND>(x);             \
    if constexpr (is_integral_dtype_v<T>) {                                  \
      return y;                                                              \
    } else {                                                                 \
      return autograd::record(                                               \
          y, #NAME, {x},                                                     \
          [x](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) { \
            (void)ctx;                                                       \
            return __VA_ARGS__;                                              \
          },                                                                 \
          SAVE);                                                             \
    }                                                                        \
  }

#define SINEW_SAVE_X (autograd::RecordOptions{.saved = {x}})
#define SINEW_SAVE_Y (autograd::RecordOptions{.save_output = true})

// Below: y = f(x) and dL/dx from g = dL/dy.
SINEW_UNARY_OP(exp, Exp, true, SINEW_SAVE_Y, g* ctx.output())                       // e^x
SINEW_UNARY_OP(log, Log, true, SINEW_SAVE_X, g / x)                                 // ln x
SINEW_UNARY_OP(log1p, Log1p, true, SINEW_SAVE_X, g / (x + 1.0))                     // ln(1 + x)
SINEW_UNARY_OP(sqrt, Sqrt, true, SINEW_SAVE_Y, g / (ctx.output() * 2.0))            // x^(1/2)
SINEW_UNARY_OP(rsqrt, Rsqrt, true, SINEW_SAVE_Y, g* pow(ctx.output(), 3.0) * -0.5)  // x^(-1/2)
SINEW_TYPED_UNARY_OP(abs, Abs, false, SINEW_SAVE_X, g* sign(x))                     // |x|
SINEW_TYPED_UNARY_OP(sign, Sign, true, SINEW_SAVE_X, zeros_like(g))                 // -1, 0, 1
SINEW_UNARY_OP(sin, Sin, true, SINEW_SAVE_X, g* cos(x))
SINEW_UNARY_OP(cos, Cos, true, SINEW_SAVE_X, -g* sin(x))
SINEW_UNARY_OP(tanh, Tanh, true, SINEW_SAVE_Y, g*(1.0 - ctx.output() * ctx.output()))
SINEW_UNARY_OP(sigmoid, Sigmoid, true, SINEW_SAVE_Y, g* ctx.output() * (1.0 - ctx.output()))
// erf;  d/dx = 2/sqrt(pi) e^(-x^2).
SINEW_UNARY_OP(erf, Erf, true, SINEW_SAVE_X, g* exp(-(x* x)) * 1.1283791670955126)
// max(x, 0);  d/dx = 1 where x > 0 (0 at 0, as PyTorch).
SINEW_TYPED_UNARY_OP(relu, Relu, false, SINEW_SAVE_X, detail::relu_grad(g, x, 0.0))
// x sigmoid(x);  d/dx = s (1 + x (1 - s)).
SINEW_UNARY_OP(silu, Silu, false, SINEW_SAVE_X, g* sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))))
// x Phi(x) (exact GELU);  d/dx = Phi(x) + x phi(x).
SINEW_UNARY_OP(gelu_exact, Gelu, false, SINEW_SAVE_X,
               g*((erf(x * 0.70710678118654752440) + 1.0) * 0.5 +
                  x * exp(x * x * -0.5) * 0.39894228040143267794))

// Rounding to an integral value (round: half to even, as torch.round); d/dx = 0 (as PyTorch).
// Integer tensors come back unchanged in value and type; bool tensors are a compile error.
#define SINEW_ROUNDING_OP(NAME, KIND)                                                           \
  template <class T>                                                                            \
  Tensor<T> NAME(const Tensor<T>& x) {                                                          \
    static_assert(!std::is_same_v<T, bool>,                                                     \
                  #NAME " is not defined for bool tensors (as PyTorch)");                       \
    Tensor<T> y = detail::unary_kernel<backend::Unary::KIND>(x);                                \
    if constexpr (is_integral_dtype_v<T>) {                                                     \
      return y;                                                                                 \
    } else {                                                                                    \
      return autograd::record(y, #NAME, {x}, [](const Tensor<T>& g) { return zeros_like(g); }); \
    }                                                                                           \
  }                                                                                             \
  template <class T>                                                                            \
  Tensor<T> Tensor<T>::NAME() const {                                                           \
    return sinew::NAME(*this);                                                                  \
  }
SINEW_ROUNDING_OP(floor, Floor)
SINEW_ROUNDING_OP(ceil, Ceil)
SINEW_ROUNDING_OP(round, Round)
SINEW_ROUNDING_OP(trunc, Trunc)

#undef SINEW_UNARY_OP
#undef SINEW_TYPED_UNARY_OP
#undef SINEW_ROUNDING_OP
#undef SINEW_SAVE_X
#undef SINEW_SAVE_Y

// GELU; approximate = "none" (exact, with erf) or "tanh" as in PyTorch.
template <class T>
Tensor<T> gelu(const Tensor<T>& x, const std::string& approximate = "none") {
  detail::check_floating<T>("gelu");
  if (approximate == "none") return gelu_exact(x);
  SINEW_CHECK(approximate == "tanh", "gelu", "approximate must be 'none' or 'tanh', got '",
              approximate, "'");
  constexpr double k = 0.79788456080286535588;  // sqrt(2 / pi)
  return x * 0.5 * (tanh((x + pow(x, 3.0) * 0.044715) * k) + 1.0);
}

// x where x > 0, slope * x elsewhere;  d/dx = 1 or slope.
template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, double negative_slope = 0.01) {
  detail::check_floating<T>("leaky_relu");
  Tensor<T> y = detail::unary_kernel<backend::Unary::LeakyRelu>(x, negative_slope);
  return autograd::record(
      y, "leaky_relu", {x},
      [x, negative_slope](const Tensor<T>& g) { return detail::relu_grad(g, x, negative_slope); },
      {.saved = {x}});
}

// x where x > 0, alpha (e^x - 1) elsewhere;  d/dx = 1 or y + alpha.
template <class T>
Tensor<T> elu(const Tensor<T>& x, double alpha = 1.0) {
  detail::check_floating<T>("elu");
  Tensor<T> y = detail::unary_kernel<backend::Unary::Elu>(x, alpha);
  return autograd::record(y, "elu", {x},
                          [x, alpha](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            return where(x > 0.0, g, g * (ctx.output() + alpha));
                          },
                          {.saved = {x}, .save_output = true});
}

// log(1 + e^(beta x)) / beta, linear above threshold;  d/dx = sigmoid(beta x) (1 above threshold).
template <class T>
Tensor<T> softplus(const Tensor<T>& x, double beta = 1.0, double threshold = 20.0) {
  detail::check_floating<T>("softplus");
  SINEW_CHECK(beta != 0, "softplus", "beta must be non-zero");
  Tensor<T> y = detail::unary_kernel<backend::Unary::Softplus>(x, beta, threshold);
  return autograd::record(y, "softplus", {x},
                          [x, beta, threshold](const Tensor<T>& g) {
                            return where(x * beta > threshold, g, g * sigmoid(x * beta));
                          },
                          {.saved = {x}});
}

namespace detail {
// A clamp bound of an integer tensor: an integer (PyTorch promotes to float for a fractional one,
// which a result of the input's type cannot hold) that T can store (a uint8 takes -255..255,
// negatives wrapping, as PyTorch).
template <class T>
int64_t integer_bound(double v, const char* where) {
  SINEW_CHECK(v == std::trunc(v), where, "the bound ", v, " of a ", dtype_of<T>(),
              " tensor must be an integer; convert the tensor with .to<float>() to clamp to "
              "fractional bounds");
  SINEW_CHECK(v >= -9.2233720368547758e18 && v < 9.2233720368547758e18 &&
                  storable_integer<T>(static_cast<int64_t>(v)),
              where, "the bound ", v, " cannot be converted to ", dtype_of<T>(),
              " without overflow");
  return static_cast<int64_t>(v);
}
}  // namespace detail

// min(max(x, min), max) (either bound optional; min > max gives max everywhere, as PyTorch);
// d/dx = 1 inside the range, 0 outside. Integer tensors take integer bounds and keep their type.
template <class T>
Tensor<T> clamp(const Tensor<T>& x, std::optional<double> min, std::optional<double> max) {
  static_assert(!std::is_same_v<T, bool>, "clamp is not defined for bool tensors (as PyTorch)");
  SINEW_CHECK(min || max, "clamp", "at least one of min and max must be given");
  if constexpr (is_integral_dtype_v<T>) {
    int64_t lo = min ? detail::integer_bound<T>(*min, "clamp") : 0;
    int64_t hi = max ? detail::integer_bound<T>(*max, "clamp") : 0;
    if (min && max) return detail::unary_kernel<backend::Unary::Clamp>(x, lo, hi);
    if (min) return detail::unary_kernel<backend::Unary::ClampMin>(x, lo);
    return detail::unary_kernel<backend::Unary::ClampMax>(x, hi);
  } else {
    Tensor<T> y;
    if (min && max)
      y = detail::unary_kernel<backend::Unary::Clamp>(x, *min, *max);
    else if (min)
      y = detail::unary_kernel<backend::Unary::ClampMin>(x, *min);
    else
      y = detail::unary_kernel<backend::Unary::ClampMax>(x, *max);
    double lo = min ? *min : -INFINITY, hi = max ? *max : INFINITY;
    return autograd::record(y, "clamp", {x},
                            [x, lo, hi](const Tensor<T>& g) {
                              return g * detail::unary_kernel<backend::Unary::InRange>(x, lo, hi);
                            },
                            {.saved = {x}});
  }
}
template <class T>
Tensor<T> clamp_min(const Tensor<T>& x, double min) {
  return clamp(x, min, std::nullopt);
}
template <class T>
Tensor<T> clamp_max(const Tensor<T>& x, double max) {
  return clamp(x, std::nullopt, max);
}

// ---- Tensor members ----------------------------------------------------------------------------

template <class T>
Tensor<T> Tensor<T>::neg() const {
  return sinew::neg(*this);
}
template <class T>
Tensor<floating_t<T>> Tensor<T>::exp() const {
  return sinew::exp(*this);
}
template <class T>
Tensor<floating_t<T>> Tensor<T>::log() const {
  return sinew::log(*this);
}
template <class T>
Tensor<floating_t<T>> Tensor<T>::sqrt() const {
  return sinew::sqrt(*this);
}
template <class T>
Tensor<T> Tensor<T>::abs() const {
  return sinew::abs(*this);
}
template <class T>
Tensor<floating_t<T>> Tensor<T>::sigmoid() const {
  return sinew::sigmoid(*this);
}
template <class T>
Tensor<floating_t<T>> Tensor<T>::tanh() const {
  return sinew::tanh(*this);
}
template <class T>
Tensor<T> Tensor<T>::relu() const {
  return sinew::relu(*this);
}
template <class T>
template <Scalar S>
Tensor<scalar_result_t<T, S>> Tensor<T>::pow(S e) const {
  return sinew::pow(*this, e);
}
template <class T>
Tensor<T> Tensor<T>::clamp(std::optional<double> min, std::optional<double> max) const {
  return sinew::clamp(*this, min, max);
}

namespace detail {
// A tracked in-place op computes out of place and then overwrites self, so a backward that reads
// self (or an operand sharing its memory) must read a copy taken before the write, as PyTorch's
// original_self; otherwise the version check rejects the graph.
template <class T>
Tensor<T> before_write(const Tensor<T>& t, const Tensor<T>& self) {
  return t.shares_storage(self) ? t.clone() : t;
}

// self += alpha * other in place, for add_ and sub_ (`name` is the one errors report).
template <class T>
Tensor<T>& add_inplace(Tensor<T>& self, const Tensor<T>& other, double alpha, const char* name) {
  check_alpha<T>(alpha, name);
  check_same_device(name, self, other);
  SINEW_CHECK(broadcast_shapes(self.shape(), other.shape(), name) == self.shape(), name,
              "cannot broadcast ", other.shape(), " into the in-place target ", self.shape());
  return inplace(
      self, name, other.requires_grad(),
      [&] {
        SINEW_DISPATCH(self.device(), binary_op<backend::Binary::Add>, self, other, self, alpha);
      },
      [&] { return sinew::add(self, other, alpha); });
}

template <class T>
constexpr void check_no_integer_div_() {
  static_assert(!is_integral_dtype_v<T>,
                "div_: true division of an integer or bool tensor gives float, which cannot be "
                "written back in place (PyTorch raises too); use x.to<float>() / y");
}

// The scalar of an in-place op on self: one that keeps self's type (PyTorch raises when the
// result type would not be T: a fractional value for an integer tensor, a non-bool for a bool one).
template <class T>
void check_inplace_scalar(double v, const char* where) {
  if constexpr (std::is_same_v<T, bool>) {
    SINEW_CHECK(v == 0 || v == 1, where,
                "a bool tensor takes a bool scalar (0 or 1) in place, got ", v,
                ": the result would not be bool");
  } else if constexpr (is_integral_dtype_v<T>) {
    SINEW_CHECK(v == std::trunc(v), where,
                "an integer tensor takes an integer scalar in place, got ", v,
                ": the result would be float");
  }
}
}  // namespace detail

template <class T>
Tensor<T>& Tensor<T>::add_(const Tensor<T>& other, double alpha) {
  return detail::add_inplace(*this, other, alpha, "add_");
}
template <class T>
Tensor<T>& Tensor<T>::sub_(const Tensor<T>& other, double alpha) {
  detail::check_no_bool_sub<T>();
  return detail::add_inplace(*this, other, -alpha, "sub_");
}
template <class T>
Tensor<T>& Tensor<T>::mul_(const Tensor<T>& other) {
  detail::check_same_device("mul_", *this, other);
  SINEW_CHECK(detail::broadcast_shapes(shape(), other.shape(), "mul_") == shape(), "mul_",
              "cannot broadcast ", other.shape(), " into the in-place target ", shape());
  return detail::inplace(
      *this, "mul_", other.requires_grad(),
      [&] { SINEW_DISPATCH(device(), binary_op<backend::Binary::Mul>, *this, other, *this, 1.0); },
      [&] { return sinew::mul(clone(), detail::before_write(other, *this)); });
}
template <class T>
Tensor<T>& Tensor<T>::div_(const Tensor<T>& other) {
  detail::check_no_integer_div_<T>();
  detail::check_same_device("div_", *this, other);
  SINEW_CHECK(detail::broadcast_shapes(shape(), other.shape(), "div_") == shape(), "div_",
              "cannot broadcast ", other.shape(), " into the in-place target ", shape());
  return detail::inplace(
      *this, "div_", other.requires_grad(),
      [&] { SINEW_DISPATCH(device(), binary_op<backend::Binary::Div>, *this, other, *this, 1.0); },
      [&] { return sinew::div(clone(), detail::before_write(other, *this)); });
}

namespace detail {
template <backend::Unary OP, class T, class F>
Tensor<T>& unary_inplace(Tensor<T>& self, const char* name, double a, double b, F&& out_of_place) {
  return inplace(
      self, name, false, [&] { SINEW_DISPATCH(self.device(), unary_op<OP>, self, self, a, b); },
      std::forward<F>(out_of_place));
}
}  // namespace detail

// Scalar in-place ops; on integer tensors (which never record) the out-of-place form is never
// taken, but it must still have self's type.
template <class T>
Tensor<T>& Tensor<T>::add_(double v) {
  detail::check_inplace_scalar<T>(v, "add_");
  return detail::unary_inplace<backend::Unary::AddScalar>(*this, "add_", v, 0, [&] {
    if constexpr (is_integral_dtype_v<T>)
      return clone();
    else
      return *this + v;
  });
}
template <class T>
Tensor<T>& Tensor<T>::sub_(double v) {
  detail::check_no_bool_sub<T>();
  detail::check_inplace_scalar<T>(v, "sub_");
  return detail::unary_inplace<backend::Unary::AddScalar>(*this, "sub_", -v, 0, [&] {
    if constexpr (is_integral_dtype_v<T>)
      return clone();
    else
      return *this - v;
  });
}
template <class T>
Tensor<T>& Tensor<T>::mul_(double v) {
  detail::check_inplace_scalar<T>(v, "mul_");
  return detail::unary_inplace<backend::Unary::MulScalar>(*this, "mul_", v, 0, [&] {
    if constexpr (is_integral_dtype_v<T>)
      return clone();
    else
      return *this * v;
  });
}
template <class T>
Tensor<T>& Tensor<T>::div_(double v) {
  detail::check_no_integer_div_<T>();
  return detail::unary_inplace<backend::Unary::DivScalar>(*this, "div_", v, 0,
                                                          [&] { return *this / v; });
}
template <class T>
Tensor<T>& Tensor<T>::relu_() {
  static_assert(!std::is_same_v<T, bool>, "relu_ is not defined for bool tensors (as PyTorch)");
  return detail::unary_inplace<backend::Unary::Relu>(*this, "relu_", 0, 0,
                                                     [&] { return sinew::relu(clone()); });
}
template <class T>
Tensor<T>& Tensor<T>::clamp_(std::optional<double> min, std::optional<double> max) {
  static_assert(!std::is_same_v<T, bool>, "clamp_ is not defined for bool tensors (as PyTorch)");
  SINEW_CHECK(min || max, "clamp_", "at least one of min and max must be given");
  if constexpr (is_integral_dtype_v<T>) {
    if (min) detail::integer_bound<T>(*min, "clamp_");
    if (max) detail::integer_bound<T>(*max, "clamp_");
  }
  auto out_of_place = [&] { return sinew::clamp(clone(), min, max); };
  if (min && max)
    return detail::unary_inplace<backend::Unary::Clamp>(*this, "clamp_", *min, *max, out_of_place);
  if (min)
    return detail::unary_inplace<backend::Unary::ClampMin>(*this, "clamp_", *min, 0, out_of_place);
  return detail::unary_inplace<backend::Unary::ClampMax>(*this, "clamp_", *max, 0, out_of_place);
}

namespace detail {
template <class T>
Tensor<T>& fill_inplace(Tensor<T>& self, double value, const char* name) {
  return inplace(
      self, name, false, [&] { SINEW_DISPATCH(self.device(), fill, self, value); },
      [&] {
        Tensor<T> r = full_like(self, value);
        return autograd::record(r, "fill_", {self},
                                [](const Tensor<T>& g) { return zeros_like(g); });
      });
}
}  // namespace detail

template <class T>
Tensor<T>& Tensor<T>::fill_(double value) {
  return detail::fill_inplace(*this, value, "fill_");
}
template <class T>
Tensor<T>& Tensor<T>::zero_() {
  return detail::fill_inplace(*this, 0, "zero_");
}

}  // namespace sinew
