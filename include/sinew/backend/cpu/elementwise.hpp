// CPU elementwise kernels: copy with cast, fill, unary/binary math, comparisons, where.
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
  const T v = static_cast<T>(value);
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
    case Unary::Clamp:
      return x < a ? a : (x > b ? b : x);
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
  }
  return x;
}

template <class T>
[[gnu::always_inline]] inline T binary_value(Binary op, T x, T y, T alpha) {
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
  }
  return x;
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
      return 2;
    default:
      return 1;
  }
}
constexpr int64_t binary_cost(Binary op) {
  return op == Binary::Pow ? 8 : op == Binary::Div ? 2 : 1;
}

// out = op(x; a, b), one loop per op: the op is a template argument, so a program instantiates
// the loops of the ops it uses and no others, and the switch folds away inside the loop.
template <Unary OP, class T>
void unary_op(const Tensor<T>& x, const Tensor<T>& out, double a = 0, double b = 0) {
  static_assert(std::is_floating_point_v<T>, "unary math kernels are for float and double");
  const T ta = static_cast<T>(a), tb = static_cast<T>(b);
  map(
      out, [ta, tb](T v) { return detail_ew::unary_value(OP, v, ta, tb); }, unary_cost(OP), x);
}

// out = op(x, y) with broadcasting (Add and Sub scale y by alpha).
template <Binary OP, class T>
void binary_op(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out, double alpha = 1) {
  const T ta = static_cast<T>(alpha);
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
// float tensor holding 0.1f equals 0.1); an integer tensor is compared in double (2 < 2.5).
template <Compare OP, class T>
void compare_scalar_op(const Tensor<T>& x, double s, const Tensor<bool>& out) {
  using C = std::conditional_t<std::is_floating_point_v<T>, T, double>;
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

template <class T>
void where(const Tensor<bool>& cond, const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out) {
  map(
      out, [](bool c, T u, T v) { return c ? u : v; }, 1, cond, x, y);
}

}  // namespace sinew::backend::cpu
