// Type promotion: the element type each op returns for integer and bool tensors, as PyTorch 1.13
// (torch.result_type, with float32 as the default float type). The rules live here, in one table;
// the ops name their result types with these traits.
#pragma once

#include <cstdint>
#include <type_traits>

#include "sinew/core/dtype.hpp"

namespace sinew {

// Ops between two tensors always take the same T in Sinew; a scalar may be any arithmetic type
// (its category counts, not its width: an int scalar never widens a uint8 tensor, as PyTorch).
//
//  op                                       float, double   int64, uint8       bool
//  ---------------------------------------  --------------  -----------------  ------------------
//  a + b, a * b                             T               T (uint8 wraps)    bool (or / and)
//  a - b                                    T               T (uint8 wraps)    compile error
//  a / b, x / s, s / x                      T               float              float
//  x + s, x * s, x - s, s - x  s integer    T               T                  int64 (- : error)
//                              s floating   T               float              float
//                              s bool       T (- : error)   T (- : error)      bool (- : error)
//  pow(x, s), pow(s, x)                     as x * s; an integer x with a negative integer
//                                           exponent s raises; bool ^ bool is a compile error
//  where(cond, x, s), where(cond, s, x)     as x + s
//  -x, abs(x), relu(x)                      T               T (uint8 wraps)    compile error
//  sign(x)                                  T               T                  bool
//  clamp(x, lo, hi)                         T               T (integer bounds) compile error
//  floor, ceil, round, trunc                T               T (the input)      compile error
//  exp log log1p sqrt rsqrt sin cos tanh
//    sigmoid erf                            T               float              float
//  silu gelu leaky_relu elu softplus        T               compile error      compile error
//  sum, prod, cumsum, cumprod               T               int64              int64
//  mean var std norm logsumexp softmax
//    log_softmax                            T               compile error      compile error
//  max, min, amax, amin                     T               T                  T
//  argmax, argmin                           int64           int64              int64
//  == != < <= > >=, isnan isinf isfinite,
//    all, any, isclose                      bool            bool               bool
//
// An integer scalar stored in a uint8 tensor (x + s, where, clamp bounds) wraps, as PyTorch: -3 is
// 253 there, and where and clamp raise beyond -255..255. Float32 arithmetic on int64 inputs (x / s,
// exp) rounds large values as PyTorch does.
//
// Deliberate differences from PyTorch: a comparison with a scalar is exact (PyTorch first casts
// the scalar to the tensor's type, so a uint8 tensor < -3 is true below 253 there); all/any of a
// uint8 tensor give bool (uint8 in PyTorch 1.13); argmax/argmin of a bool tensor work (PyTorch
// raises); clamp of a bool tensor is a compile error (int64 in PyTorch).

template <class S>
concept Scalar = std::is_arithmetic_v<S>;

namespace detail {
// 0 bool, 1 integer, 2 floating: a scalar promotes a tensor only from a higher category.
template <class S>
inline constexpr int category_v = std::is_same_v<S, bool> ? 0
                                  : std::is_integral_v<S> ? 1
                                                          : 2;
}  // namespace detail

// Integer and bool tensors (no gradients, integer arithmetic).
template <class T>
inline constexpr bool is_integral_dtype_v = is_supported_dtype_v<T> && !is_floating_dtype_v<T>;

// What sum, prod, cumsum and cumprod return: int64 for integer and bool tensors, else T.
template <class T>
using accumulate_t = std::conditional_t<is_floating_dtype_v<T>, T, int64_t>;

// What true division and float math (exp, sqrt, ...) return: float for integer and bool tensors.
template <class T>
using floating_t = std::conditional_t<is_floating_dtype_v<T>, T, float>;

// What x + s, x * s, x - s, pow(x, s) and where(cond, x, s) return for a tensor of T and a scalar
// of S: T, unless S is of a higher category (bool < integer < floating), then int64 for an integer
// scalar and float for a floating one.
template <class T, class S>
using scalar_result_t =
    std::conditional_t<(detail::category_v<S> <= detail::category_v<T>), T,
                       std::conditional_t<detail::category_v<S> == 1, int64_t, float>>;

}  // namespace sinew
