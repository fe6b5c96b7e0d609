// CPU elementwise kernels: copy with cast, fill, unary/binary math (integer arithmetic wraps),
// comparisons, isclose, isnan/isinf/isfinite, where.
// Kernels never check shapes (the op did) and never touch autograd.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "sinew/backend/cpu/loops.hpp"
#include "sinew/backend/kinds.hpp"

namespace sinew::backend::cpu {

template <class To, class From>
void copy(const Tensor<To>& dst, const Tensor<From>& src) {
  map(
      dst, [](From v) { return static_cast<To>(v); }, 1, src);
}

template <class T>
void fill(const Tensor<T>& out, double value) {
  // Through int64 for integer types: a double out of a uint8's range is undefined behaviour to
  // convert directly; through int64 it wraps (-1 fills 255), as PyTorch.
  T v;
  if constexpr (std::is_same_v<T, bool>)
    v = value != 0;
  else if constexpr (std::is_integral_v<T>)
    v = static_cast<T>(static_cast<int64_t>(value));
  else
    v = static_cast<T>(value);
  map(
      out, [v]() { return v; }, 1);
}

namespace detail_ew {

template <class T>
inline T sigmoid(T x) {
  // Stable for large |x|: never exponentiates a large positive number.
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

// Always inlined: each kernel loop passes a constant op, and only inlining folds the switch away
// and lets the loop vectorize (GCC 12 stopped inlining it as the switch grew: 20x slower maps).
template <class T>
[[gnu::always_inline]] inline T unary_value(Unary op, T x, T a, T b) {
  switch (op) {
    case Unary::Neg:
      return -x;
    case Unary::Exp:
      return std::exp(x);
    case Unary::Log:
      return std::log(x);
    case Unary::Log1p:
      return std::log1p(x);
    case Unary::Sqrt:
      return std::sqrt(x);
    case Unary::Rsqrt:
      return T(1) / std::sqrt(x);
    case Unary::Abs:
      return std::abs(x);
    case Unary::Sign:
      return x != x ? x : T((x > T(0)) - (x < T(0)));  // NaN stays NaN
    case Unary::Sin:
      return std::sin(x);
    case Unary::Cos:
      return std::cos(x);
    case Unary::Tanh:
      return std::tanh(x);
    case Unary::Sigmoid:
      return sigmoid(x);
    case Unary::Erf:
      return std::erf(x);
    case Unary::Relu:
      return x < T(0) ? T(0) : x;  // NaN propagates, as torch.relu
    case Unary::LeakyRelu:
      return x > T(0) ? x : a * x;
    case Unary::Elu:
      return x > T(0) ? x : a * (std::exp(x) - T(1));
    case Unary::Gelu:
      return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
    case Unary::Softplus:
      return x * a > b ? x : std::log1p(std::exp(x * a)) / a;
    case Unary::Silu:
      return x * sigmoid(x);
    case Unary::ClampMin:
      return x < a ? a : x;
    case Unary::ClampMax:
      return x > a ? a : x;
    case Unary::Clamp: {  // min(max(x, a), b): a > b gives b, as torch.clamp; NaN stays NaN
      T y = x < a ? a : x;
      return y > b ? b : y;
    }
    case Unary::AddScalar:
      return x + a;
    case Unary::MulScalar:
      return x * a;
    case Unary::RSubScalar:
      return a - x;
    case Unary::DivScalar:
      return x / a;
    case Unary::RDivScalar:
      return a / x;
    case Unary::PowScalar:
      return std::pow(x, a);
    case Unary::RPowScalar:
      return std::pow(a, x);
    case Unary::Step:
      return x > a ? T(1) : T(0);
    case Unary::InRange:
      return (x >= a && x <= b) ? T(1) : T(0);
    case Unary::LeakyStep:
      return x > T(0) ? T(1) : a;
    case Unary::Floor:
      return std::floor(x);
    case Unary::Ceil:
      return std::ceil(x);
    case Unary::Round:
      return std::nearbyint(x);  // the default rounding mode: half to even, as torch.round
    case Unary::Trunc:
      return std::trunc(x);
  }
  return x;
}

// Integer arithmetic in unsigned form, so that overflow wraps (two's complement) as PyTorch's
// does instead of being undefined; 32 bits for uint8 and bool keep the loops vectorizable.
template <class T>
using WrapOf = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;

template <class T>
[[gnu::always_inline]] inline T wrap_add(T x, T y, T alpha) {
  using W = WrapOf<T>;
  return static_cast<T>(W(x) + W(alpha) * W(y));
}

// x^e by squaring, wrapping on overflow; a negative exponent gives 0 except for the bases 1 and
// -1 (the integer part of the true power), as PyTorch's integer pow.
template <class T>
inline T int_pow(T base, T e) {
  if constexpr (std::is_signed_v<T>) {
    if (e < 0) {
      if (base == 1) return 1;
      if (base == -1) return (e & 1) ? T(-1) : T(1);
      return 0;
    }
  }
  using W = WrapOf<T>;
  W r = 1, b = W(base);
  for (uint64_t n = static_cast<uint64_t>(e); n != 0; n >>= 1) {
    if (n & 1) r *= b;
    b *= b;
  }
  return static_cast<T>(r);
}

// The unary kernels integer and bool tensors have (the ops decide which element types each
// takes: bool has no Neg, Abs or Pow, for instance). Rounding an integer is the identity.
constexpr bool has_integer_unary(Unary op) {
  switch (op) {
    case Unary::Neg:
    case Unary::Abs:
    case Unary::Sign:
    case Unary::Relu:
    case Unary::ClampMin:
    case Unary::ClampMax:
    case Unary::Clamp:
    case Unary::AddScalar:
    case Unary::MulScalar:
    case Unary::RSubScalar:
    case Unary::PowScalar:
    case Unary::RPowScalar:
    case Unary::Floor:
    case Unary::Ceil:
    case Unary::Round:
    case Unary::Trunc:
      return true;
    default:
      return false;
  }
}

template <class T>
[[gnu::always_inline]] inline T integer_unary_value(Unary op, T x, T a, T b) {
  using W = WrapOf<T>;
  switch (op) {
    case Unary::Neg:
      return static_cast<T>(W(0) - W(x));
    case Unary::Abs:
      if constexpr (std::is_signed_v<T>) return x < 0 ? static_cast<T>(W(0) - W(x)) : x;
      return x;
    case Unary::Sign:
      if constexpr (std::is_same_v<T, bool>)
        return x;
      else if constexpr (std::is_signed_v<T>)
        return T((x > 0) - (x < 0));
      else
        return T(x != 0);
    case Unary::Relu:
      if constexpr (std::is_signed_v<T>) return x < 0 ? T(0) : x;
      return x;
    case Unary::ClampMin:
      return x < a ? a : x;
    case Unary::ClampMax:
      return x > a ? a : x;
    case Unary::Clamp: {
      T y = x < a ? a : x;
      return y > b ? b : y;
    }
    case Unary::AddScalar:
      return wrap_add(x, a, T(1));
    case Unary::MulScalar:
      return static_cast<T>(W(x) * W(a));
    case Unary::RSubScalar:
      return static_cast<T>(W(a) - W(x));
    case Unary::PowScalar:
      return int_pow(x, a);
    case Unary::RPowScalar:
      return int_pow(a, x);
    default:  // Floor, Ceil, Round, Trunc
      return x;
  }
}

// A kernel's scalar parameter in the element type. Integer scalars come as int64 (exact); a
// double goes through int64 for integer types (a negative one would be undefined behaviour to
// convert to uint8 directly).
template <class T, class P>
inline T param(P v) {
  if constexpr (std::is_same_v<T, bool>)
    return v != P(0);
  else if constexpr (std::is_integral_v<T> && std::is_floating_point_v<P>)
    return static_cast<T>(static_cast<int64_t>(v));
  else
    return static_cast<T>(v);
}

template <class T>
[[gnu::always_inline]] inline T binary_value(Binary op, T x, T y, T alpha) {
  if constexpr (std::is_integral_v<T>) {
    using W = WrapOf<T>;
    switch (op) {
      case Binary::Add:
        return wrap_add(x, y, alpha);
      case Binary::Sub:
        return static_cast<T>(W(x) - W(alpha) * W(y));
      case Binary::Mul:
        return static_cast<T>(W(x) * W(y));
      case Binary::Pow:
        return int_pow(x, y);
      case Binary::Minimum:
        return x < y ? x : y;
      case Binary::Maximum:
        return x > y ? x : y;
      case Binary::ReluGrad:
        return y > T(0) ? x : static_cast<T>(W(x) * W(alpha));
      case Binary::Div:  // the ops divide integers in float (true division); the kernel rejects it
        return x;
    }
    return x;
  } else {
    switch (op) {
      case Binary::Add:
        return x + alpha * y;
      case Binary::Sub:
        return x - alpha * y;
      case Binary::Mul:
        return x * y;
      case Binary::Div:
        return x / y;
      case Binary::Pow:
        return std::pow(x, y);
      case Binary::Minimum:
        return (x < y || std::isnan(x)) ? x : y;
      case Binary::Maximum:
        return (x > y || std::isnan(x)) ? x : y;
      case Binary::ReluGrad:
        return y > T(0) ? x : (alpha == T(0) ? T(0) : x * alpha);
    }
    return x;
  }
}

}  // namespace detail_ew

// The rough per-element cost of each op (1 for add, ~8 for exp) that decides threading.
constexpr int64_t unary_cost(Unary op) {
  switch (op) {
    case Unary::Exp:
    case Unary::Log:
    case Unary::Log1p:
    case Unary::Sin:
    case Unary::Cos:
    case Unary::Tanh:
    case Unary::Sigmoid:
    case Unary::Erf:
    case Unary::Elu:
    case Unary::Gelu:
    case Unary::Softplus:
    case Unary::Silu:
    case Unary::PowScalar:
    case Unary::RPowScalar:
      return 8;
    case Unary::Sqrt:
    case Unary::Rsqrt:
      return 4;
    case Unary::DivScalar:
    case Unary::RDivScalar:
    case Unary::Round:
      return 2;
    default:
      return 1;
  }
}
constexpr int64_t binary_cost(Binary op) {
  return op == Binary::Pow ? 8 : op == Binary::Div ? 2 : 1;
}

// out = op(x; a, b), one loop per op: the op is a template argument, so a program instantiates
// the loops of the ops it uses and no others, and the switch folds away inside the loop. The
// parameters are double, or int64 for exact integer arithmetic on integer tensors.
template <Unary OP, class T, class P = double>
void unary_op(const Tensor<T>& x, const Tensor<T>& out, P a = 0, P b = 0) {
  static_assert(std::is_floating_point_v<T> || detail_ew::has_integer_unary(OP),
                "this unary math kernel is for float and double tensors only");
  const T ta = detail_ew::param<T>(a), tb = detail_ew::param<T>(b);
  if constexpr (std::is_floating_point_v<T>) {
    map(
        out, [ta, tb](T v) { return detail_ew::unary_value(OP, v, ta, tb); }, unary_cost(OP), x);
  } else {
    map(
        out, [ta, tb](T v) { return detail_ew::integer_unary_value(OP, v, ta, tb); }, 1, x);
  }
}

// out = op(x, y) with broadcasting (Add and Sub scale y by alpha). Integer arithmetic wraps.
template <Binary OP, class T, class P = double>
void binary_op(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out, P alpha = 1) {
  static_assert(std::is_floating_point_v<T> || OP != Binary::Div,
                "integer tensors divide in float (true division): the op converts them first");
  const T ta = detail_ew::param<T>(alpha);
  map(
      out, [ta](T u, T v) { return detail_ew::binary_value(OP, u, v, ta); }, binary_cost(OP), x, y);
}

namespace detail_ew {
template <Compare OP, class U, class V>
[[gnu::always_inline]] inline bool compare_value(U u, V v) {
  switch (OP) {
    case Compare::Eq:
      return u == v;
    case Compare::Ne:
      return u != v;
    case Compare::Lt:
      return u < v;
    case Compare::Le:
      return u <= v;
    case Compare::Gt:
      return u > v;
    case Compare::Ge:
      return u >= v;
  }
  return false;
}
}  // namespace detail_ew

template <Compare OP, class T>
void compare_op(const Tensor<T>& x, const Tensor<T>& y, const Tensor<bool>& out) {
  map(
      out, [](T u, T v) { return detail_ew::compare_value<OP>(u, v); }, 1, x, y);
}

// A floating tensor is compared with the scalar rounded to its own type, as PyTorch does (so a
// float tensor holding 0.1f equals 0.1); an integer tensor is compared exactly: in int64 with an
// integer scalar (passed as int64), in double with a floating one (2 < 2.5).
template <Compare OP, class T, class P = double>
void compare_scalar_op(const Tensor<T>& x, P s, const Tensor<bool>& out) {
  using C = std::conditional_t<std::is_floating_point_v<T>, T,
                               std::conditional_t<std::is_floating_point_v<P>, double, int64_t>>;
  const C v = static_cast<C>(s);
  map(
      out, [v](T u) { return detail_ew::compare_value<OP>(C(u), v); }, 1, x);
}

template <Logical OP>
void logical_op(const Tensor<bool>& x, const Tensor<bool>& y, const Tensor<bool>& out) {
  map(
      out,
      [](bool u, bool v) {
        if constexpr (OP == Logical::And) return u && v;
        if constexpr (OP == Logical::Or) return u || v;
        return u != v;
      },
      1, x, y);
}

// out = |x - y| <= atol + rtol |y| (or x == y, which covers equal infinities; or both NaN when
// equal_nan), in T for floating types as PyTorch, in double for integer ones.
template <class T>
void isclose(const Tensor<T>& x, const Tensor<T>& y, double rtol, double atol, bool equal_nan,
             const Tensor<bool>& out) {
  using C = std::conditional_t<std::is_floating_point_v<T>, T, double>;
  const C r = static_cast<C>(rtol), a = static_cast<C>(atol);
  map(
      out,
      [r, a, equal_nan](T u, T v) {
        if (u == v) return true;
        C cu = C(u), cv = C(v);
        if (cu != cu || cv != cv) return equal_nan && cu != cu && cv != cv;
        C err = std::abs(cu - cv);
        return std::isfinite(err) && err <= a + r * std::abs(cv);
      },
      2, x, y);
}

// out = isnan(x), isinf(x) or isfinite(x); integer and bool values are all finite.
template <Classify OP, class T>
void classify_op(const Tensor<T>& x, const Tensor<bool>& out) {
  map(
      out,
      [](T v) {
        if constexpr (!std::is_floating_point_v<T>) {
          return OP == Classify::Finite;
        } else {
          if constexpr (OP == Classify::Nan) return v != v;
          if constexpr (OP == Classify::Inf) return std::isinf(v);
          return std::isfinite(v);
        }
      },
      1, x);
}

template <class T>
void where(const Tensor<bool>& cond, const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out) {
  map(
      out, [](bool c, T u, T v) { return c ? u : v; }, 1, cond, x, y);
}

}  // namespace sinew::backend::cpu
