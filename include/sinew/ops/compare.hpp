// Comparisons (== != < <= > >= and eq/ne/lt/le/gt/ge), isclose, isnan/isinf/isfinite, the
// logical ops on bool tensors, and where. All broadcast; only where is differentiable.
#pragma once

#include <type_traits>
#include <utility>

#include "sinew/backend/cpu/elementwise.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/core/promotion.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew {

// ---- comparisons -------------------------------------------------------------------------------

// a OP b for two tensors (broadcast) or a tensor and a scalar (either side). A scalar is compared
// exactly with an integer tensor (int64 for an integer scalar, double for a floating one) and
// after rounding to T with a floating tensor, as PyTorch (so a float tensor holding 0.1f == 0.1).
#define SINEW_COMPARE_OP(OP, KIND, REFLECTED)                                                    \
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
    SINEW_DISPATCH(a.device(), compare_scalar_op<backend::Compare::KIND>, a,                     \
                   detail::kernel_scalar(s), out);                                               \
    return out;                                                                                  \
  }                                                                                              \
  template <class T, Scalar S>                                                                   \
  Tensor<bool> operator OP(S s, const Tensor<T>& a) {                                            \
    Tensor<bool> out = empty<bool>(a.shape(), a.device());                                       \
    SINEW_DISPATCH(a.device(), compare_scalar_op<backend::Compare::REFLECTED>, a,                \
                   detail::kernel_scalar(s), out);                                               \
    return out;                                                                                  \
  }
SINEW_COMPARE_OP(==, Eq, Eq)
SINEW_COMPARE_OP(!=, Ne, Ne)
SINEW_COMPARE_OP(<, Lt, Gt)
SINEW_COMPARE_OP(<=, Le, Ge)
SINEW_COMPARE_OP(>, Gt, Lt)
SINEW_COMPARE_OP(>=, Ge, Le)
#undef SINEW_COMPARE_OP

// torch.eq, torch.ne, ...: the operators by name, with a tensor or a scalar as the second argument.
#define SINEW_COMPARE_NAMED(NAME, OP)                          \
  template <class T>                                           \
  Tensor<bool> NAME(const Tensor<T>& a, const Tensor<T>& b) {  \
    return a OP b;                                             \
  }                                                            \
  template <class T, Scalar S>                                 \
  Tensor<bool> NAME(const Tensor<T>& a, S s) {                 \
    return a OP s;                                             \
  }                                                            \
  template <class T>                                           \
  Tensor<bool> Tensor<T>::NAME(const Tensor<T>& other) const { \
    return *this OP other;                                     \
  }                                                            \
  template <class T>                                           \
  template <Scalar S>                                          \
  Tensor<bool> Tensor<T>::NAME(S other) const {                \
    return *this OP other;                                     \
  }
SINEW_COMPARE_NAMED(eq, ==)
SINEW_COMPARE_NAMED(ne, !=)
SINEW_COMPARE_NAMED(lt, <)
SINEW_COMPARE_NAMED(le, <=)
SINEW_COMPARE_NAMED(gt, >)
SINEW_COMPARE_NAMED(ge, >=)
#undef SINEW_COMPARE_NAMED

// ---- isclose, isnan, isinf, isfinite -----------------------------------------------------------

namespace detail {
template <class T>
Tensor<bool> isclose_op(const Tensor<T>& a, const Tensor<T>& b, double rtol, double atol,
                        bool equal_nan, const char* where) {
  check_same_device(where, a, b);
  SINEW_CHECK(rtol >= 0, where, "rtol must be greater than or equal to zero, but got ", rtol);
  SINEW_CHECK(atol >= 0, where, "atol must be greater than or equal to zero, but got ", atol);
  Tensor<bool> out = empty<bool>(broadcast_shapes(a.shape(), b.shape(), where), a.device());
  SINEW_DISPATCH(a.device(), isclose, a, b, rtol, atol, equal_nan, out);
  return out;
}
}  // namespace detail

// |a - b| <= atol + rtol |b| elementwise (broadcast), as torch.isclose: equal values (infinities
// included) are close, NaN is close to NaN only with equal_nan. Not symmetric in a and b.
template <class T>
Tensor<bool> isclose(const Tensor<T>& a, const Tensor<T>& b, double rtol = 1e-5, double atol = 1e-8,
                     bool equal_nan = false) {
  return detail::isclose_op(a, b, rtol, atol, equal_nan, "isclose");
}

#define SINEW_CLASSIFY_OP(NAME, KIND)                                         \
  template <class T>                                                          \
  Tensor<bool> NAME(const Tensor<T>& x) {                                     \
    Tensor<bool> out = empty<bool>(x.shape(), x.device());                    \
    SINEW_DISPATCH(x.device(), classify_op<backend::Classify::KIND>, x, out); \
    return out;                                                               \
  }                                                                           \
  template <class T>                                                          \
  Tensor<bool> Tensor<T>::NAME() const {                                      \
    return sinew::NAME(*this);                                                \
  }
// NaN; +inf or -inf; neither (integer and bool tensors: false, false, true).
SINEW_CLASSIFY_OP(isnan, Nan)
SINEW_CLASSIFY_OP(isinf, Inf)
SINEW_CLASSIFY_OP(isfinite, Finite)
#undef SINEW_CLASSIFY_OP

template <class T>
Tensor<bool> Tensor<T>::isclose(const Tensor<T>& other, double rtol, double atol,
                                bool equal_nan) const {
  return sinew::isclose(*this, other, rtol, atol, equal_nan);
}

// ---- logical ops -------------------------------------------------------------------------------

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

// ---- where -------------------------------------------------------------------------------------

// cond ? a : b with broadcasting;  d/da = cond, d/db = !cond.
template <class T>
Tensor<T> where(const Tensor<bool>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_same_device("where", cond, a);
  detail::check_same_device("where", a, b);
  Shape s = detail::broadcast_shapes(detail::broadcast_shapes(cond.shape(), a.shape(), "where"),
                                     b.shape(), "where");
  Tensor<T> y = empty<T>(s, a.device());
  SINEW_DISPATCH(a.device(), where, cond, a, b, y);
  if constexpr (is_integral_dtype_v<T>) {
    return y;
  } else {
    return autograd::record(
        y, "where", {a, b},
        [cond, sa = a.shape(), sb = b.shape()](const Tensor<T>& g) {
          Tensor<T> z = zeros<T>({}, g.device());
          return std::vector<Tensor<T>>{detail::reduce_grad(where(cond, g, z), sa),
                                        detail::reduce_grad(where(cond, z, g), sb)};
        },
        {.saved = {cond}});  // an in-place change of cond after the forward is a version error
  }
}

namespace detail {
// A scalar operand of where as a 0-d tensor of R; an integer that R cannot hold raises, as PyTorch
// ("value cannot be converted to type uint8_t without overflow"; -255..255 wrap into a uint8).
template <class R, Scalar S>
Tensor<R> where_scalar(S s, Device device) {
  if constexpr (is_integral_dtype_v<R> && !std::is_same_v<R, bool> && std::is_integral_v<S> &&
                !std::is_same_v<S, bool>) {
    SINEW_CHECK(std::in_range<int64_t>(s) && storable_integer<R>(static_cast<int64_t>(s)), "where",
                "value ", +s, " cannot be converted to ", dtype_of<R>(), " without overflow");
    return from_vector<R>({static_cast<R>(s)}, Shape{}, device);  // exact beyond 2^53 too
  } else {
    return full<R>({}, double(s), device);
  }
}
}  // namespace detail

// With a scalar operand the result type is promotion.hpp's scalar_result_t (an int64 tensor and
// 2.5 give float, as PyTorch).
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> where(const Tensor<bool>& cond, const Tensor<T>& a, S b) {
  using R = scalar_result_t<T, S>;
  return where(cond, a.template to<R>(), detail::where_scalar<R>(b, a.device()));
}
template <class T, Scalar S>
Tensor<scalar_result_t<T, S>> where(const Tensor<bool>& cond, S a, const Tensor<T>& b) {
  using R = scalar_result_t<T, S>;
  return where(cond, detail::where_scalar<R>(a, b.device()), b.template to<R>());
}

}  // namespace sinew
