// Elementwise ops with NumPy broadcasting: arithmetic, math functions, activations, comparisons,
// where, and the in-place variants. Each backward is written with ops, so it is differentiable
// again.
#pragma once

#include <cmath>
#include <optional>
#include <type_traits>

#include "sinew/backend/cpu/elementwise.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew {

template <class S>
concept Scalar = std::is_arithmetic_v<S>;

namespace detail {

template <backend::Unary OP, class T>
Tensor<T> unary_kernel(const Tensor<T>& x, double a = 0, double b = 0) {
  Tensor<T> y = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), unary_op<OP>, x, y, a, b);
  return y;
}

template <backend::Binary OP, class T>
Tensor<T> binary_kernel(const Tensor<T>& a, const Tensor<T>& b, const char* where,
                        double alpha = 1) {
  check_same_device(where, a, b);
  Tensor<T> y = empty<T>(broadcast_shapes(a.shape(), b.shape(), where), a.device());
  SINEW_DISPATCH(a.device(), binary_op<OP>, a, b, y, alpha);
  return y;
}

}  // namespace detail

// ---- arithmetic --------------------------------------------------------------------------------

// z = a + alpha * b;  dz/da = 1, dz/db = alpha (each summed over broadcast dimensions).
template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b, double alpha = 1) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Add>(a, b, "add", alpha);
  return autograd::record(
      z, "add", {a, b}, [sa = a.shape(), sb = b.shape(), alpha](const Tensor<T>& g) {
        return std::vector<Tensor<T>>{detail::reduce_grad(g, sa),
                                      detail::reduce_grad(alpha == 1 ? g : g * alpha, sb)};
      });
}

template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b, double alpha = 1) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Sub>(a, b, "sub", alpha);
  return autograd::record(z, "sub", {a, b},
                          [sa = a.shape(), sb = b.shape(), alpha](const Tensor<T>& g) {
                            return std::vector<Tensor<T>>{detail::reduce_grad(g, sa),
                                                          detail::reduce_grad(g * -alpha, sb)};
                          });
}

// z = a * b;  dz/da = b, dz/db = a.
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Mul>(a, b, "mul");
  return autograd::record(z, "mul", {a, b},
                          [a, b](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            return std::vector<Tensor<T>>{
                                ctx.needs(0) ? detail::reduce_grad(g * b, a.shape()) : Tensor<T>(),
                                ctx.needs(1) ? detail::reduce_grad(g * a, b.shape()) : Tensor<T>()};
                          },
                          {.saved = {a, b}});
}

// z = a / b;  dz/da = 1 / b, dz/db = -a / b^2.
template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Div>(a, b, "div");
  return autograd::record(
      z, "div", {a, b},
      [a, b](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        return std::vector<Tensor<T>>{
            ctx.needs(0) ? detail::reduce_grad(g / b, a.shape()) : Tensor<T>(),
            ctx.needs(1) ? detail::reduce_grad(-g * a / (b * b), b.shape()) : Tensor<T>()};
      },
      {.saved = {a, b}});
}

// z = a ^ b;  dz/da = b a^(b-1), dz/db = z log(a).
template <class T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Pow>(a, b, "pow");
  return autograd::record(
      z, "pow", {a, b},
      [a, b](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        return std::vector<Tensor<T>>{
            ctx.needs(0) ? detail::reduce_grad(g * b * pow(a, b - 1.0), a.shape()) : Tensor<T>(),
            ctx.needs(1) ? detail::reduce_grad(g * ctx.output() * log(a), b.shape()) : Tensor<T>()};
      },
      {.saved = {a, b}, .save_output = true});
}

// Elementwise min/max; where both are equal the gradient is split evenly, as in PyTorch.
template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Maximum>(a, b, "maximum");
  return autograd::record(
      z, "maximum", {a, b},
      [a, b](const Tensor<T>& g) {
        Tensor<T> wa = (a > b).template to<T>() + (a == b).template to<T>() * 0.5;
        return std::vector<Tensor<T>>{detail::reduce_grad(g * wa, a.shape()),
                                      detail::reduce_grad(g * (1.0 - wa), b.shape())};
      },
      {.saved = {a, b}});
}
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Minimum>(a, b, "minimum");
  return autograd::record(
      z, "minimum", {a, b},
      [a, b](const Tensor<T>& g) {
        Tensor<T> wa = (a < b).template to<T>() + (a == b).template to<T>() * 0.5;
        return std::vector<Tensor<T>>{detail::reduce_grad(g * wa, a.shape()),
                                      detail::reduce_grad(g * (1.0 - wa), b.shape())};
      },
      {.saved = {a, b}});
}

// ---- scalar arithmetic (one kernel, no scalar tensor allocated) ---------------------------------

namespace detail {
template <backend::Unary OP, class T, class F>
Tensor<T> scalar_op(const Tensor<T>& x, double s, const char* name, F backward,
                    bool save_x = false) {
  Tensor<T> y = unary_kernel<OP>(x, s);
  if (save_x) return autograd::record(y, name, {x}, std::move(backward), {.saved = {x}});
  return autograd::record(y, name, {x}, std::move(backward));
}
}  // namespace detail

template <class T, Scalar S>
Tensor<T> operator+(const Tensor<T>& x, S s) {
  return detail::scalar_op<backend::Unary::AddScalar>(x, double(s), "add",
                                                      [](const Tensor<T>& g) { return g; });
}
template <class T, Scalar S>
Tensor<T> operator+(S s, const Tensor<T>& x) {
  return x + s;
}
template <class T, Scalar S>
Tensor<T> operator-(const Tensor<T>& x, S s) {
  return x + (-double(s));
}
template <class T, Scalar S>
Tensor<T> operator-(S s, const Tensor<T>& x) {
  return detail::scalar_op<backend::Unary::RSubScalar>(x, double(s), "rsub",
                                                       [](const Tensor<T>& g) { return -g; });
}
template <class T, Scalar S>
Tensor<T> operator*(const Tensor<T>& x, S s) {
  double v = double(s);
  return detail::scalar_op<backend::Unary::MulScalar>(x, v, "mul",
                                                      [v](const Tensor<T>& g) { return g * v; });
}
template <class T, Scalar S>
Tensor<T> operator*(S s, const Tensor<T>& x) {
  return x * s;
}
template <class T, Scalar S>
Tensor<T> operator/(const Tensor<T>& x, S s) {
  double v = double(s);  // true division, not multiplication by 1/s: matches PyTorch to the ulp
  return detail::scalar_op<backend::Unary::DivScalar>(x, v, "div",
                                                      [v](const Tensor<T>& g) { return g / v; });
}
// s / x;  d/dx = -s / x^2.
template <class T, Scalar S>
Tensor<T> operator/(S s, const Tensor<T>& x) {
  double v = double(s);
  return detail::scalar_op<backend::Unary::RDivScalar>(
      x, v, "rdiv", [x, v](const Tensor<T>& g) { return g * (-v) / (x * x); }, true);
}

template <class T>
Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) {
  return add(a, b);
}
template <class T>
Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) {
  return sub(a, b);
}
template <class T>
Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) {
  return mul(a, b);
}
template <class T>
Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) {
  return div(a, b);
}

// ---- unary math --------------------------------------------------------------------------------

// -x;  d/dx = -1.
template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  Tensor<T> y = detail::unary_kernel<backend::Unary::Neg>(x);
  return autograd::record(y, "neg", {x}, [](const Tensor<T>& g) { return neg(g); });
}
template <class T>
Tensor<T> operator-(const Tensor<T>& x) {
  return neg(x);
}

// x ^ e for a scalar e;  d/dx = e x^(e-1).
template <class T>
Tensor<T> pow(const Tensor<T>& x, double e) {
  Tensor<T> y = detail::unary_kernel<backend::Unary::PowScalar>(x, e);
  return autograd::record(
      y, "pow", {x},
      [x, e](const Tensor<T>& g) { return e == 0 ? zeros_like(x) : g * e * pow(x, e - 1); },
      {.saved = {x}});
}

// s ^ x for a scalar base;  d/dx = s^x log(s).
template <class T>
Tensor<T> pow(double s, const Tensor<T>& x) {
  Tensor<T> y = detail::unary_kernel<backend::Unary::RPowScalar>(x, s);
  return autograd::record(y, "pow", {x},
                          [s](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            return g * ctx.output() * std::log(s);
                          },
                          {.save_output = true});
}

#define SINEW_UNARY_OP(NAME, KIND, SAVE, ...)                              \
  template <class T>                                                       \
  Tensor<T> NAME(const Tensor<T>& x) {                                     \
    detail::check_floating<T>(#NAME);                                      \
    Tensor<T> y = detail::unary_kernel<backend::Unary::KIND>(x);           \
    return autograd::record(                                               \
        y, #NAME, {x},                                                     \
        [x](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) { \
          (void)ctx;                                                       \
          return __VA_ARGS__;                                              \
        },                                                                 \
        SAVE);                                                             \
  }

#define SINEW_SAVE_X (autograd::RecordOptions{.saved = {x}})
#define SINEW_SAVE_Y (autograd::RecordOptions{.save_output = true})

// Below: y = f(x) and dL/dx from g = dL/dy.
SINEW_UNARY_OP(exp, Exp, SINEW_SAVE_Y, g* ctx.output())                       // e^x
SINEW_UNARY_OP(log, Log, SINEW_SAVE_X, g / x)                                 // ln x
SINEW_UNARY_OP(log1p, Log1p, SINEW_SAVE_X, g / (x + 1.0))                     // ln(1 + x)
SINEW_UNARY_OP(sqrt, Sqrt, SINEW_SAVE_Y, g / (ctx.output() * 2.0))            // x^(1/2)
SINEW_UNARY_OP(rsqrt, Rsqrt, SINEW_SAVE_Y, g* pow(ctx.output(), 3.0) * -0.5)  // x^(-1/2)
SINEW_UNARY_OP(abs, Abs, SINEW_SAVE_X, g* sign(x))                            // |x|
SINEW_UNARY_OP(sign, Sign, SINEW_SAVE_X, zeros_like(g))                       // -1, 0, 1
SINEW_UNARY_OP(sin, Sin, SINEW_SAVE_X, g* cos(x))
SINEW_UNARY_OP(cos, Cos, SINEW_SAVE_X, -g* sin(x))
SINEW_UNARY_OP(tanh, Tanh, SINEW_SAVE_Y, g*(1.0 - ctx.output() * ctx.output()))
SINEW_UNARY_OP(sigmoid, Sigmoid, SINEW_SAVE_Y, g* ctx.output() * (1.0 - ctx.output()))
// erf;  d/dx = 2/sqrt(pi) e^(-x^2).
SINEW_UNARY_OP(erf, Erf, SINEW_SAVE_X, g* exp(-(x* x)) * 1.1283791670955126)
// max(x, 0);  d/dx = 1 where x > 0 (0 at 0, as PyTorch).
SINEW_UNARY_OP(relu, Relu, SINEW_SAVE_X, g* detail::unary_kernel<backend::Unary::Step>(x, 0.0))
// x sigmoid(x);  d/dx = s (1 + x (1 - s)).
SINEW_UNARY_OP(silu, Silu, SINEW_SAVE_X, g* sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))))
// x Phi(x) (exact GELU);  d/dx = Phi(x) + x phi(x).
SINEW_UNARY_OP(gelu_exact, Gelu, SINEW_SAVE_X,
               g*((erf(x * 0.70710678118654752440) + 1.0) * 0.5 +
                  x * exp(x * x * -0.5) * 0.39894228040143267794))

#undef SINEW_UNARY_OP
#undef SINEW_SAVE_X
#undef SINEW_SAVE_Y

// GELU; approximate = "none" (exact, with erf) or "tanh" as in PyTorch.
template <class T>
Tensor<T> gelu(const Tensor<T>& x, const std::string& approximate = "none") {
  if (approximate == "none") return gelu_exact(x);
  SINEW_CHECK(approximate == "tanh", "gelu", "approximate must be 'none' or 'tanh', got '",
              approximate, "'");
  constexpr double k = 0.79788456080286535588;  // sqrt(2 / pi)
  return x * 0.5 * (tanh((x + pow(x, 3.0) * 0.044715) * k) + 1.0);
}

// x where x > 0, slope * x elsewhere;  d/dx = 1 or slope.
template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, double negative_slope = 0.01) {
  Tensor<T> y = detail::unary_kernel<backend::Unary::LeakyRelu>(x, negative_slope);
  return autograd::record(y, "leaky_relu", {x},
                          [x, negative_slope](const Tensor<T>& g) {
                            return g * detail::unary_kernel<backend::Unary::LeakyStep>(
                                           x, negative_slope);
                          },
                          {.saved = {x}});
}

// x where x > 0, alpha (e^x - 1) elsewhere;  d/dx = 1 or y + alpha.
template <class T>
Tensor<T> elu(const Tensor<T>& x, double alpha = 1.0) {
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
  SINEW_CHECK(beta != 0, "softplus", "beta must be non-zero");
  Tensor<T> y = detail::unary_kernel<backend::Unary::Softplus>(x, beta, threshold);
  return autograd::record(y, "softplus", {x},
                          [x, beta, threshold](const Tensor<T>& g) {
                            return where(x * beta > threshold, g, g * sigmoid(x * beta));
                          },
                          {.saved = {x}});
}

// Clamps into [min, max] (either bound optional);  d/dx = 1 inside the range, 0 outside.
template <class T>
Tensor<T> clamp(const Tensor<T>& x, std::optional<double> min, std::optional<double> max) {
  SINEW_CHECK(min || max, "clamp", "at least one of min and max must be given");
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
template <class T>
Tensor<T> clamp_min(const Tensor<T>& x, double min) {
  return clamp(x, min, std::nullopt);
}
template <class T>
Tensor<T> clamp_max(const Tensor<T>& x, double max) {
  return clamp(x, std::nullopt, max);
}

// ---- comparisons and where
// -----------------------------------------------------------------------

#define SINEW_COMPARE_OP(OP, KIND)                                                               \
  template <class T>                                                                             \
  Tensor<bool> operator OP(const Tensor<T>& a, const Tensor<T>& b) {                             \
    detail::check_same_device("operator" #OP, a, b);                                             \
    Tensor<bool> out =                                                                           \
        empty<bool>(detail::broadcast_shapes(a.shape(), b.shape(), "operator" #OP), a.device()); \
    SINEW_DISPATCH(a.device(), compare_op<backend::Compare::KIND>, a, b, out);                   \
    return out;                                                                                  \
  }                                                                                              \
  template <class T, Scalar S>                                                                   \
  Tensor<bool> operator OP(const Tensor<T>& a, S s) {                                            \
    Tensor<bool> out = empty<bool>(a.shape(), a.device());                                       \
    SINEW_DISPATCH(a.device(), compare_scalar_op<backend::Compare::KIND>, a, double(s), out);    \
    return out;                                                                                  \
  }
SINEW_COMPARE_OP(==, Eq)
SINEW_COMPARE_OP(!=, Ne)
SINEW_COMPARE_OP(<, Lt)
SINEW_COMPARE_OP(<=, Le)
SINEW_COMPARE_OP(>, Gt)
SINEW_COMPARE_OP(>=, Ge)
#undef SINEW_COMPARE_OP

template <class T>
Tensor<bool> eq(const Tensor<T>& a, const Tensor<T>& b) {
  return a == b;
}

// Templates (on bool only) so that no translation unit compiles them unless it calls them.
#define SINEW_LOGICAL_OP(NAME, KIND)                                                           \
  template <class B>                                                                           \
  requires std::is_same_v<B, bool> Tensor<bool> NAME(const Tensor<B>& a, const Tensor<B>& b) { \
    detail::check_same_device(#NAME, a, b);                                                    \
    Tensor<bool> out =                                                                         \
        empty<bool>(detail::broadcast_shapes(a.shape(), b.shape(), #NAME), a.device());        \
    SINEW_DISPATCH(a.device(), logical_op<backend::Logical::KIND>, a, b, out);                 \
    return out;                                                                                \
  }
SINEW_LOGICAL_OP(logical_and, And)
SINEW_LOGICAL_OP(logical_or, Or)
SINEW_LOGICAL_OP(logical_xor, Xor)
#undef SINEW_LOGICAL_OP
template <class B>
requires std::is_same_v<B, bool> Tensor<bool> logical_not(const Tensor<B>& a) { return a == false; }

// cond ? a : b with broadcasting;  d/da = cond, d/db = !cond.
template <class T>
Tensor<T> where(const Tensor<bool>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_same_device("where", cond, a);
  detail::check_same_device("where", a, b);
  Shape s = detail::broadcast_shapes(detail::broadcast_shapes(cond.shape(), a.shape(), "where"),
                                     b.shape(), "where");
  Tensor<T> y = empty<T>(s, a.device());
  SINEW_DISPATCH(a.device(), where, cond, a, b, y);
  return autograd::record(
      y, "where", {a, b},
      [cond, sa = a.shape(), sb = b.shape()](const Tensor<T>& g) {
        Tensor<T> z = zeros<T>({}, g.device());
        return std::vector<Tensor<T>>{detail::reduce_grad(where(cond, g, z), sa),
                                      detail::reduce_grad(where(cond, z, g), sb)};
      },
      {.saved = {cond}});  // an in-place change of cond after the forward is a version error
}
template <class T, Scalar S>
Tensor<T> where(const Tensor<bool>& cond, const Tensor<T>& a, S b) {
  return where(cond, a, full<T>({}, double(b), a.device()));
}
template <class T, Scalar S>
Tensor<T> where(const Tensor<bool>& cond, S a, const Tensor<T>& b) {
  return where(cond, full<T>({}, double(a), b.device()), b);
}

// ---- Tensor members ----------------------------------------------------------------------------

template <class T>
Tensor<T> Tensor<T>::neg() const {
  return sinew::neg(*this);
}
template <class T>
Tensor<T> Tensor<T>::exp() const {
  return sinew::exp(*this);
}
template <class T>
Tensor<T> Tensor<T>::log() const {
  return sinew::log(*this);
}
template <class T>
Tensor<T> Tensor<T>::sqrt() const {
  return sinew::sqrt(*this);
}
template <class T>
Tensor<T> Tensor<T>::abs() const {
  return sinew::abs(*this);
}
template <class T>
Tensor<T> Tensor<T>::sigmoid() const {
  return sinew::sigmoid(*this);
}
template <class T>
Tensor<T> Tensor<T>::tanh() const {
  return sinew::tanh(*this);
}
template <class T>
Tensor<T> Tensor<T>::relu() const {
  return sinew::relu(*this);
}
template <class T>
Tensor<T> Tensor<T>::pow(double e) const {
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
}  // namespace detail

template <class T>
Tensor<T>& Tensor<T>::add_(const Tensor<T>& other, double alpha) {
  return detail::add_inplace(*this, other, alpha, "add_");
}
template <class T>
Tensor<T>& Tensor<T>::sub_(const Tensor<T>& other, double alpha) {
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

template <class T>
Tensor<T>& Tensor<T>::add_(double v) {
  return detail::unary_inplace<backend::Unary::AddScalar>(*this, "add_", v, 0,
                                                          [&] { return *this + v; });
}
template <class T>
Tensor<T>& Tensor<T>::sub_(double v) {
  return detail::unary_inplace<backend::Unary::AddScalar>(*this, "sub_", -v, 0,
                                                          [&] { return *this - v; });
}
template <class T>
Tensor<T>& Tensor<T>::mul_(double v) {
  return detail::unary_inplace<backend::Unary::MulScalar>(*this, "mul_", v, 0,
                                                          [&] { return *this * v; });
}
template <class T>
Tensor<T>& Tensor<T>::div_(double v) {
  return detail::unary_inplace<backend::Unary::DivScalar>(*this, "div_", v, 0,
                                                          [&] { return *this / v; });
}
template <class T>
Tensor<T>& Tensor<T>::relu_() {
  return detail::unary_inplace<backend::Unary::Relu>(*this, "relu_", 0, 0,
                                                     [&] { return sinew::relu(clone()); });
}
template <class T>
Tensor<T>& Tensor<T>::clamp_(std::optional<double> min, std::optional<double> max) {
  SINEW_CHECK(min || max, "clamp_", "at least one of min and max must be given");
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
