// Arithmetic with NumPy broadcasting: + - * / between tensors and with scalars, maximum, minimum
// and negation. Result types on integer and bool tensors follow core/promotion.hpp (7 / 2 = 3.5,
// uint8 wraps, bool + bool is or). Each backward is written with ops, so it is differentiable
// again. Included by ops/elementwise.hpp, which holds pow and the math functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "sinew/backend/cpu/elementwise.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/core/promotion.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/compare.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew {

namespace detail {

template <backend::Unary OP, class T, class P = double>
Tensor<T> unary_kernel(const Tensor<T>& x, P a = 0, P b = 0) {
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

// add/sub on integer and bool tensors take an integer alpha (PyTorch raises for a float one).
template <class T>
void check_alpha(double alpha, const char* where) {
  if constexpr (is_integral_dtype_v<T>) {
    SINEW_CHECK(alpha == std::trunc(alpha), where,
                "for integer and bool tensors alpha must be an integer, got ", alpha);
  }
}

template <class T>
constexpr void check_no_bool_sub() {
  static_assert(!std::is_same_v<T, bool>,
                "subtraction with bool tensors is not supported (as PyTorch): use logical_xor, or "
                "logical_not to invert a mask");
}

}  // namespace detail

// ---- arithmetic --------------------------------------------------------------------------------

// z = a + alpha * b;  dz/da = 1, dz/db = alpha (each summed over broadcast dimensions). Integers
// wrap on overflow; on bool tensors + is logical or.
template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b, double alpha = 1) {
  detail::check_alpha<T>(alpha, "add");
  Tensor<T> z = detail::binary_kernel<backend::Binary::Add>(a, b, "add", alpha);
  if constexpr (is_integral_dtype_v<T>) {
    return z;
  } else {
    return autograd::record(
        z, "add", {a, b}, [sa = a.shape(), sb = b.shape(), alpha](const Tensor<T>& g) {
          return std::vector<Tensor<T>>{detail::reduce_grad(g, sa),
                                        detail::reduce_grad(alpha == 1 ? g : g * alpha, sb)};
        });
  }
}

template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b, double alpha = 1) {
  detail::check_no_bool_sub<T>();
  detail::check_alpha<T>(alpha, "sub");
  Tensor<T> z = detail::binary_kernel<backend::Binary::Sub>(a, b, "sub", alpha);
  if constexpr (is_integral_dtype_v<T>) {
    return z;
  } else {
    return autograd::record(z, "sub", {a, b},
                            [sa = a.shape(), sb = b.shape(), alpha](const Tensor<T>& g) {
                              return std::vector<Tensor<T>>{detail::reduce_grad(g, sa),
                                                            detail::reduce_grad(g * -alpha, sb)};
                            });
  }
}

// z = a * b;  dz/da = b, dz/db = a. On bool tensors, logical and.
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Mul>(a, b, "mul");
  if constexpr (is_integral_dtype_v<T>) {
    return z;
  } else {
    return autograd::record(
        z, "mul", {a, b},
        [a, b](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
          return std::vector<Tensor<T>>{
              ctx.needs(0) ? detail::reduce_grad(g * b, a.shape()) : Tensor<T>(),
              ctx.needs(1) ? detail::reduce_grad(g * a, b.shape()) : Tensor<T>()};
        },
        {.saved = {a, b}});
  }
}

// z = a / b, true division: integer and bool tensors divide in float and give float (7 / 2 = 3.5,
// 1 / 0 = inf), as PyTorch;  dz/da = 1 / b, dz/db = -a / b^2.
template <class T>
Tensor<floating_t<T>> div(const Tensor<T>& a, const Tensor<T>& b) {
  if constexpr (is_integral_dtype_v<T>) {
    return div(a.template to<float>(), b.template to<float>());
  } else {
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
}

// Elementwise min/max; where both are equal the gradient is split evenly, as in PyTorch.
template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Maximum>(a, b, "maximum");
  if constexpr (is_integral_dtype_v<T>) {
    return z;
  } else {
    return autograd::record(
        z, "maximum", {a, b},
        [a, b](const Tensor<T>& g) {
          Tensor<T> wa = (a > b).template to<T>() + (a == b).template to<T>() * 0.5;
          return std::vector<Tensor<T>>{detail::reduce_grad(g * wa, a.shape()),
                                        detail::reduce_grad(g * (1.0 - wa), b.shape())};
        },
        {.saved = {a, b}});
  }
}
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> z = detail::binary_kernel<backend::Binary::Minimum>(a, b, "minimum");
  if constexpr (is_integral_dtype_v<T>) {
    return z;
  } else {
    return autograd::record(
        z, "minimum", {a, b},
        [a, b](const Tensor<T>& g) {
          Tensor<T> wa = (a < b).template to<T>() + (a == b).template to<T>() * 0.5;
          return std::vector<Tensor<T>>{detail::reduce_grad(g * wa, a.shape()),
                                        detail::reduce_grad(g * (1.0 - wa), b.shape())};
        },
        {.saved = {a, b}});
  }
}

// ---- scalar arithmetic (one kernel, no scalar tensor allocated) ---------------------------------
// The result type is scalar_result_t<T, S> (division: floating_t<T>); see core/promotion.hpp.

namespace detail {
template <backend::Unary OP, class T, class F>
Tensor<T> scalar_op(const Tensor<T>& x, double s, const char* name, F backward,
                    bool save_x = false) {
  Tensor<T> y = unary_kernel<OP>(x, s);
  if (save_x) return autograd::record(y, name, {x}, std::move(backward), {.saved = {x}});
  return autograd::record(y, name, {x}, std::move(backward));
}

// x op s computed in R when that is not x's own floating type: x converted to R, then one kernel
// (with an exact int64 parameter for an integer R). Integer and bool tensors have no gradient.
template <backend::Unary OP, class R, class T, Scalar S>
Tensor<R> promoted_scalar_op(const Tensor<T>& x, S s) {
  if constexpr (is_integral_dtype_v<R>)
    return unary_kernel<OP>(x.template to<R>(), static_cast<int64_t>(s));
  else
    return unary_kernel<OP>(x.template to<R>(), static_cast<double>(s));
}

// True when the op runs through promoted_scalar_op rather than on x's own floating type.
template <class T, class R>
inline constexpr bool promotes_v = is_integral_dtype_v<T> || !std::is_same_v<T, R>;

template <Scalar S>
constexpr void check_no_bool_scalar_sub() {
  static_assert(!std::is_same_v<S, bool>,
                "subtraction with a bool scalar is not supported (as PyTorch)");
}

// -s in the scalar's category (int64 for integers, so that -s of an unsigned s is negative).
template <Scalar S>
auto negated(S s) {
  if constexpr (std::is_integral_v<S>)
    return -static_cast<int64_t>(s);
  else
    return -static_cast<double>(s);
}
}  // namespace detail

template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> operator+(const Tensor<T>& x, S s) {
  using R = scalar_result_t<T, S>;
  if constexpr (detail::promotes_v<T, R>) {
    return detail::promoted_scalar_op<backend::Unary::AddScalar, R>(x, s);
  } else {
    return detail::scalar_op<backend::Unary::AddScalar>(x, double(s), "add",
                                                        [](const Tensor<T>& g) { return g; });
  }
}
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> operator+(S s, const Tensor<T>& x) {
  return x + s;
}
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> operator-(const Tensor<T>& x, S s) {
  detail::check_no_bool_sub<T>();
  detail::check_no_bool_scalar_sub<S>();
  using R = scalar_result_t<T, S>;
  if constexpr (detail::promotes_v<T, R>) {
    return detail::promoted_scalar_op<backend::Unary::AddScalar, R>(x, detail::negated(s));
  } else {
    return detail::scalar_op<backend::Unary::AddScalar>(x, -double(s), "sub",
                                                        [](const Tensor<T>& g) { return g; });
  }
}
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> operator-(S s, const Tensor<T>& x) {
  detail::check_no_bool_sub<T>();
  detail::check_no_bool_scalar_sub<S>();
  using R = scalar_result_t<T, S>;
  if constexpr (detail::promotes_v<T, R>) {
    return detail::promoted_scalar_op<backend::Unary::RSubScalar, R>(x, s);
  } else {
    return detail::scalar_op<backend::Unary::RSubScalar>(x, double(s), "rsub",
                                                         [](const Tensor<T>& g) { return -g; });
  }
}
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> operator*(const Tensor<T>& x, S s) {
  using R = scalar_result_t<T, S>;
  if constexpr (detail::promotes_v<T, R>) {
    return detail::promoted_scalar_op<backend::Unary::MulScalar, R>(x, s);
  } else {
    double v = double(s);
    return detail::scalar_op<backend::Unary::MulScalar>(x, v, "mul",
                                                        [v](const Tensor<T>& g) { return g * v; });
  }
}
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> operator*(S s, const Tensor<T>& x) {
  return x * s;
}
template <class T, Scalar S>
Tensor<floating_t<T>> operator/(const Tensor<T>& x, S s) {
  double v = double(s);  // true division, not multiplication by 1/s: matches PyTorch to the ulp
  if constexpr (is_integral_dtype_v<T>) {
    return detail::unary_kernel<backend::Unary::DivScalar>(x.template to<float>(), v);
  } else {
    return detail::scalar_op<backend::Unary::DivScalar>(x, v, "div",
                                                        [v](const Tensor<T>& g) { return g / v; });
  }
}
// s / x;  d/dx = -s / x^2.
template <class T, Scalar S>
Tensor<floating_t<T>> operator/(S s, const Tensor<T>& x) {
  double v = double(s);
  if constexpr (is_integral_dtype_v<T>) {
    return detail::unary_kernel<backend::Unary::RDivScalar>(x.template to<float>(), v);
  } else {
    return detail::scalar_op<backend::Unary::RDivScalar>(
        x, v, "rdiv", [x, v](const Tensor<T>& g) { return g * (-v) / (x * x); }, true);
  }
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
Tensor<floating_t<T>> operator/(const Tensor<T>& a, const Tensor<T>& b) {
  return div(a, b);
}

// ---- negation ----------------------------------------------------------------------------------

// -x;  d/dx = -1. uint8 wraps (-1 is 255), as PyTorch.
template <class T>
Tensor<T> neg(const Tensor<T>& x) {
  static_assert(!std::is_same_v<T, bool>,
                "negation of a bool tensor is not supported (as PyTorch): use logical_not to "
                "invert a mask");
  Tensor<T> y = detail::unary_kernel<backend::Unary::Neg>(x);
  if constexpr (is_integral_dtype_v<T>) {
    return y;
  } else {
    return autograd::record(y, "neg", {x}, [](const Tensor<T>& g) { return neg(g); });
  }
}
template <class T>
Tensor<T> operator-(const Tensor<T>& x) {
  return neg(x);
}

}  // namespace sinew
