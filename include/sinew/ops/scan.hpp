// Scans and truth reductions: cumsum and cumprod along one dimension (with exact gradients), all
// and any over the whole tensor or one dimension, allclose and equal.
#pragma once

#include <cstdint>
#include <vector>

#include "sinew/backend/cpu/reduce.hpp"
#include "sinew/backend/cpu/scan.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/core/promotion.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/compare.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/shape.hpp"

namespace sinew {

// ---- all, any -----------------------------------------------------------------------------------

namespace detail {
template <backend::Quantifier OP, class T>
Tensor<bool> all_any(const Tensor<T>& x, const Shape& dims, bool keepdim, const char* name) {
  auto mask = reduce_mask(dims, x.shape(), name);
  Tensor<bool> y = empty<bool>(reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), all_any<OP>, x, mask, y);
  return y;
}
}  // namespace detail

// Whether every element (of the tensor, or along `dim`) is non-zero; true over nothing. Any T;
// a bool result also for uint8 input (PyTorch 1.13 gives uint8 there). Not differentiable.
template <class T>
Tensor<bool> all(const Tensor<T>& x) {
  return detail::all_any<backend::Quantifier::All>(x, {}, false, "all");
}
template <class T>
Tensor<bool> all(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::all_any<backend::Quantifier::All>(x, {dim}, keepdim, "all");
}

// Whether some element (of the tensor, or along `dim`) is non-zero (NaN is); false over nothing.
template <class T>
Tensor<bool> any(const Tensor<T>& x) {
  return detail::all_any<backend::Quantifier::Any>(x, {}, false, "any");
}
template <class T>
Tensor<bool> any(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::all_any<backend::Quantifier::Any>(x, {dim}, keepdim, "any");
}

// isclose(a, b, rtol, atol, equal_nan) everywhere, a and b broadcast (raises when they cannot be).
template <class T>
bool allclose(const Tensor<T>& a, const Tensor<T>& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false) {
  return all(detail::isclose_op(a, b, rtol, atol, equal_nan, "allclose")).item();
}

// Same shape and equal values (NaN equals nothing), as torch.equal; no broadcasting.
template <class T>
bool equal(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_same_device("equal", a, b);
  return a.shape() == b.shape() && all(a == b).item();
}

// ---- cumsum, cumprod ----------------------------------------------------------------------------

template <class T>
Tensor<accumulate_t<T>> cumsum(const Tensor<T>& x, int64_t dim);
template <class T>
Tensor<accumulate_t<T>> cumprod(const Tensor<T>& x, int64_t dim);

namespace detail {

template <backend::Scan OP, class T>
Tensor<accumulate_t<T>> scan(const Tensor<T>& x, int64_t dim, const char* name) {
  int64_t d = wrap_dim(dim, x.dim(), name);
  Tensor<accumulate_t<T>> y = empty<accumulate_t<T>>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), scan<OP>, x, x.dim() == 0 ? int64_t{0} : d, y);
  return y;
}

// g_i + g_(i+1) + ... along d (the adjoint of cumsum), as flips around a cumsum.
template <class T>
Tensor<T> reverse_cumsum(const Tensor<T>& g, int64_t d) {
  if (g.dim() == 0) return g;
  return flip(cumsum(flip(g, {d}), d), {d});
}

// dL/dx_k = sum_(i >= k) g_i prod_(j <= i, j != k) x_j for y = cumprod(x) along d, exact also where
// x has zeros. Without zeros: reverse_cumsum(g y) / x. With zeros (z the first one in a row):
// before z the same; at z the sum of g_i times the products that skip z; after z 0 (each product
// holds x_z). That last formula is not differentiable in x_z, so under create_graph (grad mode on
// during the backward) the gradient is built instead from one cumprod per k with x_k taken as 1,
// O(n^2) but differentiable again, as PyTorch does.
template <class T>
Tensor<T> cumprod_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& y, int64_t d) {
  if (x.dim() == 0 || x.numel() == 0) return g;
  Tensor<bool> is_zero = x == 0.0;
  // The shortcut reads a flag on the host: the CPU only (a device takes the general formulas).
  if (x.is_cpu() && !any(is_zero).item()) return reverse_cumsum(g * y, d) / x;
  if (!autograd::is_grad_enabled()) {
    Tensor<int64_t> zeros_so_far = cumsum(is_zero, d);
    Tensor<bool> before = zeros_so_far == 0;
    Tensor<bool> first = logical_and(is_zero, zeros_so_far == 1);
    Tensor<T> until_zero = reverse_cumsum(g * y, d) / where(before, x, 1.0);  // y is 0 from z on
    Tensor<T> skip = cumprod(where(first, 1.0, x), d);
    Tensor<T> at_zero = sum(where(zeros_so_far >= 1, g * skip, 0.0), {d}, true);
    return where(before, until_zero, where(first, at_zero, 0.0));
  }
  int64_t n = x.size(d);
  Shape along(std::vector<int64_t>(static_cast<size_t>(x.dim()), 1));
  along[d] = n;
  Tensor<int64_t> pos = arange<int64_t>(static_cast<double>(n), x.device()).reshape(along);
  std::vector<Tensor<T>> parts;
  parts.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    Tensor<T> skip_k = cumprod(where(pos == k, 1.0, x), d);  // prod_(j <= i, j != k) x_j
    parts.push_back(sum(where(pos >= k, g * skip_k, 0.0), {d}, true));
  }
  return cat(parts, d);
}

}  // namespace detail

// y_i = x_0 + ... + x_i along dim (accumulated in double for float, as PyTorch's CPU cumsum; int64
// for integer and bool x);  dL/dx_i = g_i + ... + g_(n-1), the reverse cumsum of g.
template <class T>
Tensor<accumulate_t<T>> cumsum(const Tensor<T>& x, int64_t dim) {
  Tensor<accumulate_t<T>> y = detail::scan<backend::Scan::Sum>(x, dim, "cumsum");
  if constexpr (is_integral_dtype_v<T>) {
    return y;
  } else {
    int64_t d = x.dim() == 0 ? 0 : detail::wrap_dim(dim, x.dim(), "cumsum");
    return autograd::record(y, "cumsum", {x},
                            [d](const Tensor<T>& g) { return detail::reverse_cumsum(g, d); });
  }
}

// y_i = x_0 * ... * x_i along dim (int64 for integer and bool x, wrapping);  dL/dx_k =
// sum_(i >= k) g_i prod_(j <= i, j != k) x_j, exact where x has zeros and twice differentiable.
template <class T>
Tensor<accumulate_t<T>> cumprod(const Tensor<T>& x, int64_t dim) {
  Tensor<accumulate_t<T>> y = detail::scan<backend::Scan::Prod>(x, dim, "cumprod");
  if constexpr (is_integral_dtype_v<T>) {
    return y;
  } else {
    int64_t d = x.dim() == 0 ? 0 : detail::wrap_dim(dim, x.dim(), "cumprod");
    return autograd::record(y, "cumprod", {x},
                            [x, d](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                              return detail::cumprod_backward(g, x, ctx.output(), d);
                            },
                            {.saved = {x}, .save_output = true});
  }
}

// ---- Tensor members ----------------------------------------------------------------------------

template <class T>
Tensor<accumulate_t<T>> Tensor<T>::cumsum(int64_t dim) const {
  return sinew::cumsum(*this, dim);
}
template <class T>
Tensor<accumulate_t<T>> Tensor<T>::cumprod(int64_t dim) const {
  return sinew::cumprod(*this, dim);
}
template <class T>
Tensor<bool> Tensor<T>::all() const {
  return sinew::all(*this);
}
template <class T>
Tensor<bool> Tensor<T>::all(int64_t dim, bool keepdim) const {
  return sinew::all(*this, dim, keepdim);
}
template <class T>
Tensor<bool> Tensor<T>::any() const {
  return sinew::any(*this);
}
template <class T>
Tensor<bool> Tensor<T>::any(int64_t dim, bool keepdim) const {
  return sinew::any(*this, dim, keepdim);
}
template <class T>
bool Tensor<T>::allclose(const Tensor<T>& other, double rtol, double atol, bool equal_nan) const {
  return sinew::allclose(*this, other, rtol, atol, equal_nan);
}
template <class T>
bool Tensor<T>::equal(const Tensor<T>& other) const {
  return sinew::equal(*this, other);
}

}  // namespace sinew
