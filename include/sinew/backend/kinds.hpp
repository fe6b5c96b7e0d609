// The kinds of elementwise, reduction and scan kernel every backend implements (one name, one
// meaning per backend). Each list is an X-macro, so that the host enum and the CUDA kernels'
// prelude are generated from the same text and their numbers cannot drift apart.
#pragma once

#include <cstdint>

// y = f(x; a, b). Scalar parameters: LeakyRelu slope a; Elu alpha a; Softplus beta a, threshold b;
// Clamp* bounds a (and b); *Scalar the scalar a; Step: x > a; InRange: a <= x <= b;
// LeakyStep: 1 where x > 0, else a (the derivative of LeakyRelu); Round: half to even.
// clang-format off
#define SINEW_UNARY_KINDS(X)                                                                     \
  X(Neg) X(Exp) X(Log) X(Log1p) X(Sqrt) X(Rsqrt) X(Abs) X(Sign) X(Sin) X(Cos) X(Tanh)            \
  X(Sigmoid) X(Erf) X(Relu) X(LeakyRelu) X(Elu) X(Gelu) X(Softplus) X(Silu) X(ClampMin)          \
  X(ClampMax) X(Clamp) X(AddScalar) X(MulScalar) X(DivScalar) X(RSubScalar) X(RDivScalar)        \
  X(PowScalar) X(RPowScalar) X(Step) X(InRange) X(LeakyStep) X(Floor) X(Ceil) X(Round) X(Trunc)

// z = f(x, y); Add and Sub scale y by alpha. Minimum/Maximum propagate NaN like PyTorch.
// ReluGrad: x where y > 0, else alpha x (exactly 0 for alpha 0): a gradient x through relu
// (alpha 0) or leaky_relu (alpha the slope) at the input y, in one pass.
#define SINEW_BINARY_KINDS(X) \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Minimum) X(Maximum) X(ReluGrad)

#define SINEW_COMPARE_KINDS(X) X(Eq) X(Ne) X(Lt) X(Le) X(Gt) X(Ge)

#define SINEW_LOGICAL_KINDS(X) X(And) X(Or) X(Xor)

// isnan, isinf (either sign), isfinite.
#define SINEW_CLASSIFY_KINDS(X) X(Nan) X(Inf) X(Finite)

// Reductions to bool: all (every element non-zero) and any (some element non-zero; NaN counts).
#define SINEW_QUANTIFIER_KINDS(X) X(All) X(Any)

// Inclusive scans along one dimension: cumsum and cumprod.
#define SINEW_SCAN_KINDS(X) X(Sum) X(Prod)
// clang-format on

// Every list with its enum's name, for code that generates something per kind family.
#define SINEW_KIND_FAMILIES(F)          \
  F(Unary, SINEW_UNARY_KINDS)           \
  F(Binary, SINEW_BINARY_KINDS)         \
  F(Compare, SINEW_COMPARE_KINDS)       \
  F(Logical, SINEW_LOGICAL_KINDS)       \
  F(Classify, SINEW_CLASSIFY_KINDS)     \
  F(Quantifier, SINEW_QUANTIFIER_KINDS) \
  F(Scan, SINEW_SCAN_KINDS)

namespace sinew::backend {

#define SINEW_KIND_ENUMERATOR(name) name,
#define SINEW_KIND_ENUM(Name, LIST) enum class Name : uint8_t { LIST(SINEW_KIND_ENUMERATOR) };
SINEW_KIND_FAMILIES(SINEW_KIND_ENUM)
#undef SINEW_KIND_ENUM
#undef SINEW_KIND_ENUMERATOR

}  // namespace sinew::backend
