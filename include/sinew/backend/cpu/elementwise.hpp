// CPU elementwise kernels: copy with cast, fill, unary/binary math, comparisons, where.
// Kernels never check shapes (the op did) and never touch autograd.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "sinew/backend/kinds.hpp"
#include "sinew/backend/cpu/loops.hpp"

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

// Maps each op to its own loop so the switch is resolved outside the inner loop.
template <class T>
void unary(Unary op, const Tensor<T>& x, const Tensor<T>& out, double a = 0, double b = 0) {
  static_assert(std::is_floating_point_v<T>, "unary math kernels are for float and double");
  const T ta = static_cast<T>(a), tb = static_cast<T>(b);
  switch (op) {
#define SINEW_UNARY_CASE(NAME, COST)                                                             \
  case Unary::NAME:                                                                              \
    map(                                                                                         \
        out, [ta, tb](T v) { return detail_ew::unary_value(Unary::NAME, v, ta, tb); }, COST, x); \
    return;
    SINEW_UNARY_CASE(Neg, 1)
    SINEW_UNARY_CASE(Exp, 8) SINEW_UNARY_CASE(Log, 8) SINEW_UNARY_CASE(Log1p, 8) SINEW_UNARY_CASE(
        Sqrt, 4) SINEW_UNARY_CASE(Rsqrt, 4) SINEW_UNARY_CASE(Abs, 1) SINEW_UNARY_CASE(Sign, 1)
        SINEW_UNARY_CASE(Sin, 8) SINEW_UNARY_CASE(Cos, 8) SINEW_UNARY_CASE(Tanh, 8)
            SINEW_UNARY_CASE(Sigmoid, 8) SINEW_UNARY_CASE(Erf, 8) SINEW_UNARY_CASE(Relu, 1)
                SINEW_UNARY_CASE(LeakyRelu, 1) SINEW_UNARY_CASE(Elu, 8) SINEW_UNARY_CASE(Gelu, 8)
                    SINEW_UNARY_CASE(Softplus, 8) SINEW_UNARY_CASE(Silu, 8) SINEW_UNARY_CASE(
                        ClampMin, 1) SINEW_UNARY_CASE(ClampMax, 1) SINEW_UNARY_CASE(Clamp, 1)
                        SINEW_UNARY_CASE(AddScalar, 1) SINEW_UNARY_CASE(MulScalar, 1)
                            SINEW_UNARY_CASE(RSubScalar, 1) SINEW_UNARY_CASE(DivScalar, 2)
                                SINEW_UNARY_CASE(RDivScalar, 2) SINEW_UNARY_CASE(PowScalar, 8)
                                    SINEW_UNARY_CASE(RPowScalar, 8) SINEW_UNARY_CASE(Step, 1)
                                        SINEW_UNARY_CASE(InRange, 1) SINEW_UNARY_CASE(LeakyStep, 1)
#undef SINEW_UNARY_CASE
  }
}

template <class T>
void binary(Binary op, const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out,
            double alpha = 1) {
  const T ta = static_cast<T>(alpha);
  switch (op) {
#define SINEW_BINARY_CASE(NAME, COST)                                                             \
  case Binary::NAME:                                                                              \
    map(                                                                                          \
        out, [ta](T u, T v) { return detail_ew::binary_value(Binary::NAME, u, v, ta); }, COST, x, \
        y);                                                                                       \
    return;
    SINEW_BINARY_CASE(Add, 1)
    SINEW_BINARY_CASE(Sub, 1) SINEW_BINARY_CASE(Mul, 1) SINEW_BINARY_CASE(Div, 2)
        SINEW_BINARY_CASE(Pow, 8) SINEW_BINARY_CASE(Minimum, 1) SINEW_BINARY_CASE(Maximum, 1)
#undef SINEW_BINARY_CASE
  }
}

template <class T>
void compare(Compare op, const Tensor<T>& x, const Tensor<T>& y, const Tensor<bool>& out) {
  switch (op) {
    case Compare::Eq:
      return map(
          out, [](T u, T v) { return u == v; }, 1, x, y);
    case Compare::Ne:
      return map(
          out, [](T u, T v) { return u != v; }, 1, x, y);
    case Compare::Lt:
      return map(
          out, [](T u, T v) { return u < v; }, 1, x, y);
    case Compare::Le:
      return map(
          out, [](T u, T v) { return u <= v; }, 1, x, y);
    case Compare::Gt:
      return map(
          out, [](T u, T v) { return u > v; }, 1, x, y);
    case Compare::Ge:
      return map(
          out, [](T u, T v) { return u >= v; }, 1, x, y);
  }
}

// A floating tensor is compared with the scalar rounded to its own type, as PyTorch does (so a
// float tensor holding 0.1f equals 0.1); an integer tensor is compared in double (2 < 2.5).
template <class T>
void compare_scalar(Compare op, const Tensor<T>& x, double s, const Tensor<bool>& out) {
  using C = std::conditional_t<std::is_floating_point_v<T>, T, double>;
  const C v = static_cast<C>(s);
  switch (op) {
    case Compare::Eq:
      return map(
          out, [v](T u) { return C(u) == v; }, 1, x);
    case Compare::Ne:
      return map(
          out, [v](T u) { return C(u) != v; }, 1, x);
    case Compare::Lt:
      return map(
          out, [v](T u) { return C(u) < v; }, 1, x);
    case Compare::Le:
      return map(
          out, [v](T u) { return C(u) <= v; }, 1, x);
    case Compare::Gt:
      return map(
          out, [v](T u) { return C(u) > v; }, 1, x);
    case Compare::Ge:
      return map(
          out, [v](T u) { return C(u) >= v; }, 1, x);
  }
}

inline void logical(Logical op, const Tensor<bool>& x, const Tensor<bool>& y,
                    const Tensor<bool>& out) {
  switch (op) {
    case Logical::And:
      return map(
          out, [](bool u, bool v) { return u && v; }, 1, x, y);
    case Logical::Or:
      return map(
          out, [](bool u, bool v) { return u || v; }, 1, x, y);
    case Logical::Xor:
      return map(
          out, [](bool u, bool v) { return u != v; }, 1, x, y);
  }
}

template <class T>
void where(const Tensor<bool>& cond, const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out) {
  map(
      out, [](bool c, T u, T v) { return c ? u : v; }, 1, cond, x, y);
}

}  // namespace sinew::backend::cpu
