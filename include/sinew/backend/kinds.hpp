// The kinds of elementwise, reduction and scan kernel every backend implements (one name, one
// meaning per backend).
#pragma once

#include <cstdint>

namespace sinew::backend {

// y = f(x; a, b). Scalar parameters: LeakyRelu slope a; Elu alpha a; Softplus beta a, threshold b;
// Clamp* bounds a (and b); *Scalar the scalar a; Step: x > a; InRange: a <= x <= b;
// LeakyStep: 1 where x > 0, else a (the derivative of LeakyRelu).
enum class Unary : uint8_t {
  Neg,
  Exp,
  Log,
  Log1p,
  Sqrt,
  Rsqrt,
  Abs,
  Sign,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Erf,
  Relu,
  LeakyRelu,
  Elu,
  Gelu,
  Softplus,
  Silu,
  ClampMin,
  ClampMax,
  Clamp,
  AddScalar,
  MulScalar,
  DivScalar,
  RSubScalar,
  RDivScalar,
  PowScalar,
  RPowScalar,
  Step,
  InRange,
  LeakyStep,
  Floor,
  Ceil,
  Round,  // half to even
  Trunc
};

// z = f(x, y); Add and Sub scale y by alpha. Minimum/Maximum propagate NaN like PyTorch.
enum class Binary : uint8_t { Add, Sub, Mul, Div, Pow, Minimum, Maximum };

enum class Compare : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };

enum class Logical : uint8_t { And, Or, Xor };

// isnan, isinf (either sign), isfinite.
enum class Classify : uint8_t { Nan, Inf, Finite };

// Reductions to bool: all (every element non-zero) and any (some element non-zero; NaN counts).
enum class Quantifier : uint8_t { All, Any };

// Inclusive scans along one dimension: cumsum and cumprod.
enum class Scan : uint8_t { Sum, Prod };

}  // namespace sinew::backend
