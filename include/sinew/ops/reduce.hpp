// Reductions over all or given dims (keepdim): sum, mean, prod, max/min (with indices), amax/amin,
// argmax/argmin, var/std, norm, logsumexp, softmax, log_softmax; sum_to for broadcasting. Integer
// and bool tensors: sum and prod give int64, max/min keep the type, the float-only reductions are
// compile errors (core/promotion.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "sinew/backend/cpu/reduce.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/backend/descriptors.hpp"
#include "sinew/core/promotion.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/view.hpp"

namespace sinew {

// What max(x, dim) and min(x, dim) return: `auto [values, indices] = max(x, 1);`.
template <class T>
struct ValuesIndices {
  Tensor<T> values;
  Tensor<int64_t> indices;
};

namespace detail {

// Which dimensions a reduction covers: all when dims is empty, else each listed one (once).
// A 0-d tensor accepts dimension 0 or -1 (as PyTorch) and has nothing to reduce.
inline backend::DimMask reduce_mask(const Shape& dims, const Shape& shape, const char* where) {
  int64_t ndim = shape.size();
  SINEW_CHECK(ndim <= backend::DimMask::kMaxDims, where, "a tensor of shape ", shape, " has ", ndim,
              " dimensions; reductions take at most ", backend::DimMask::kMaxDims);
  backend::DimMask mask(ndim, dims.empty());
  std::vector<int64_t> seen;
  for (int64_t d : dims) {
    int64_t lo = std::min<int64_t>(-ndim, -1), hi = std::max<int64_t>(ndim - 1, 0);
    SINEW_CHECK(d >= lo && d <= hi, where, "dimension ", d, " out of range for a tensor of shape ",
                shape, " (expected in [", lo, ", ", hi, "])");
    int64_t w = d < 0 ? d + std::max<int64_t>(ndim, 1) : d;
    SINEW_CHECK(std::find(seen.begin(), seen.end(), w) == seen.end(), where, "dimension ", w,
                " appears more than once in ", dims, " (tensor of shape ", shape, ")");
    seen.push_back(w);
    if (ndim > 0) mask.set(w);
  }
  return mask;
}

// Output shape of a reduction: reduced dims become 1 (keepdim) or disappear.
inline Shape reduced_shape(const Shape& shape, backend::DimMask mask, bool keepdim) {
  Shape s;
  for (int64_t d = 0; d < shape.size(); ++d) {
    if (!mask[static_cast<size_t>(d)])
      s.push_back(shape[d]);
    else if (keepdim)
      s.push_back(1);
  }
  return s;
}

// How many elements each output of the reduction covers.
inline int64_t region_count(const Shape& shape, backend::DimMask mask) {
  int64_t n = 1;
  for (int64_t d = 0; d < shape.size(); ++d) n *= mask[static_cast<size_t>(d)] ? shape[d] : 1;
  return n;
}

// Max, min and argmax have no value over nothing (PyTorch raises too).
inline void check_nonempty_region(const char* where, const Shape& shape, backend::DimMask mask) {
  for (int64_t d = 0; d < shape.size(); ++d) {
    SINEW_CHECK(!mask[static_cast<size_t>(d)] || shape[d] != 0, where, "cannot reduce dimension ",
                d, " of size 0 (tensor of shape ", shape, "): the operation has no identity");
  }
}

// A reduction's gradient g (shape of the output) viewed with the reduced dims kept as size 1.
template <class T>
Tensor<T> kept(const Tensor<T>& g, const Shape& keep) {
  return g.shape() == keep ? g : g.reshape(keep);
}

}  // namespace detail

// ---- sum, mean, prod ----------------------------------------------------------------------------

// Sum over `dims` (all when empty);  d/dx = the gradient broadcast back over the reduced dims.
// Integer and bool tensors sum to int64 (a sum of bools counts the trues), as PyTorch.
template <class T>
Tensor<accumulate_t<T>> sum(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  auto mask = detail::reduce_mask(dims, x.shape(), "sum");
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  using R = accumulate_t<T>;
  Tensor<R> y = empty<R>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), sum, x, mask, y);
  if constexpr (is_integral_dtype_v<T>) {
    return y;
  } else {
    return autograd::record(y, "sum", {x}, [keep, from = x.shape()](const Tensor<T>& g) {
      return detail::kept(g, keep).expand(from);
    });
  }
}

// Mean over `dims` (all when empty);  d/dx = the gradient / count, broadcast back.
template <class T>
Tensor<T> mean(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  detail::check_floating<T>("mean");
  auto mask = detail::reduce_mask(dims, x.shape(), "mean");
  const double scale = 1.0 / static_cast<double>(detail::region_count(x.shape(), mask));
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  Tensor<T> y = empty<T>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), sum, x, mask, y);
  SINEW_DISPATCH(x.device(), unary_op<backend::Unary::MulScalar>, y, y, scale, 0.0);
  // Its own node (MeanBackward0/1, as PyTorch), not sum's and mul's.
  return autograd::record(y, "mean", {x}, [keep, from = x.shape(), scale](const Tensor<T>& g) {
    return detail::kept(g, keep).expand(from) * scale;
  });
}

namespace detail {

// The product of the other elements of each element's region, twice differentiable also where x
// has zeros. Without zeros it is y / x. Otherwise, with P the product of the non-zeros, z the
// count of zeros and S the sum of the zero elements (0, but it carries their gradient): z = 0:
// P / x;  z = 1: P at the zero, S P / x elsewhere;  z = 2: (S - x) P at the zeros (the other
// zero), 0 elsewhere;  z > 2: 0. The shortcut for no zeros reads a count on the host, so only the
// CPU takes it; a device computes the general formula (the same values) without a round trip.
template <class T>
Tensor<T> prod_others(const Tensor<T>& x, const Tensor<T>& y_kept, const Shape& dims) {
  Tensor<bool> is_zero = x == 0.0;
  Tensor<T> zero_mask = is_zero.template to<T>();
  if (x.is_cpu() && sum(zero_mask).item() == 0) return y_kept / x;
  Tensor<T> safe = where(is_zero, 1.0, x);
  Tensor<T> z = sum(zero_mask, dims, true);
  Tensor<T> p = prod(safe, dims, true);
  Tensor<T> s = sum(where(is_zero, x, 0.0), dims, true);
  Tensor<T> at_zero = where(z == 1.0, p, where(z == 2.0, (s - x) * p, 0.0));
  Tensor<T> elsewhere = where(z == 0.0, p / safe, where(z == 1.0, s * p / safe, 0.0));
  return where(is_zero, at_zero, elsewhere);
}

}  // namespace detail

// Product over `dims` (all when empty; 1 over nothing);  dL/dx_i = g * prod_{j != i} x_j, exact
// where x has zeros (not y / x). Integer and bool tensors give int64 (wrapping on overflow).
template <class T>
Tensor<accumulate_t<T>> prod(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  auto mask = detail::reduce_mask(dims, x.shape(), "prod");
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  using R = accumulate_t<T>;
  Tensor<R> y = empty<R>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), prod, x, mask, y);
  if constexpr (is_integral_dtype_v<T>) {
    return y;
  } else {
    return autograd::record(
        y, "prod", {x},
        [x, dims, keep](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
          return detail::kept(g, keep) *
                 detail::prod_others(x, detail::kept(ctx.output(), keep), dims);
        },
        {.saved = {x}, .save_output = true});
  }
}

// ---- max, min, argmax, argmin -------------------------------------------------------------------

namespace detail {

// amax / amin (and the full max() / min()): the gradient is split evenly among the elements equal
// to the result, as PyTorch's amax.
template <class T>
Tensor<T> extremum_op(const Tensor<T>& x, const Shape& dims, bool keepdim, bool is_max,
                      const char* name) {
  auto mask = reduce_mask(dims, x.shape(), name);
  check_nonempty_region(name, x.shape(), mask);
  Shape keep = reduced_shape(x.shape(), mask, true);
  Tensor<T> y = empty<T>(reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), extremum, x, mask, is_max, y);
  if constexpr (!std::is_floating_point_v<T>) {
    return y;
  } else {
    return autograd::record(
        y, name, {x},
        [x, dims, keep](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
          Tensor<T> hit = (x == kept(ctx.output(), keep)).template to<T>();
          return kept(g, keep) * hit / sum(hit, dims, true);
        },
        {.saved = {x}, .save_output = true});
  }
}

// Values and first indices of the max or min along one dimension, without autograd.
template <class T>
ValuesIndices<T> arg_extremum(const Tensor<T>& x, const Shape& dims, bool keepdim, bool is_max,
                              const char* name) {
  auto mask = reduce_mask(dims, x.shape(), name);
  check_nonempty_region(name, x.shape(), mask);
  Shape out = reduced_shape(x.shape(), mask, keepdim);
  ValuesIndices<T> r{empty<T>(out, x.device()), empty<int64_t>(out, x.device())};
  SINEW_DISPATCH(x.device(), arg_extremum, x, mask, is_max, r.values, r.indices);
  return r;
}

// max(x, dim) / min(x, dim);  d/dx = g at the selected index along dim, 0 elsewhere.
template <class T>
ValuesIndices<T> extremum_dim(const Tensor<T>& x, int64_t dim, bool keepdim, bool is_max,
                              const char* name) {
  ValuesIndices<T> r = arg_extremum(x, {dim}, keepdim, is_max, name);
  if constexpr (std::is_floating_point_v<T>) {
    if (x.dim() == 0) {
      autograd::record(r.values, name, {x}, [](const Tensor<T>& g) { return g; });
      return r;
    }
    int64_t d = dim < 0 ? dim + x.dim() : dim;
    Shape keep = x.shape(), along(std::vector<int64_t>(static_cast<size_t>(x.dim()), 1));
    keep[d] = 1;
    along[d] = x.shape()[d];
    Tensor<int64_t> idx = kept(r.indices, keep);
    autograd::record(
        r.values, name, {x},
        [idx, keep, along](const Tensor<T>& g) {
          Tensor<int64_t> pos =
              arange<int64_t>(static_cast<double>(along.numel()), g.device()).reshape(along);
          return kept(g, keep) * (pos == idx).template to<T>();
        },
        {.saved = {r.indices}});
  }
  return r;
}

}  // namespace detail

// Largest / smallest value over `dims` (all when empty); NaN when any is NaN;  d/dx = g split
// evenly among the elements equal to the result. Raises for an empty region.
template <class T>
Tensor<T> amax(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  return detail::extremum_op(x, dims, keepdim, true, "amax");
}
template <class T>
Tensor<T> amin(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  return detail::extremum_op(x, dims, keepdim, false, "amin");
}

// The largest / smallest element as a 0-d tensor;  d/dx = g split evenly among the ties.
template <class T>
Tensor<T> max(const Tensor<T>& x) {
  return detail::extremum_op(x, {}, false, true, "max");
}
template <class T>
Tensor<T> min(const Tensor<T>& x) {
  return detail::extremum_op(x, {}, false, false, "min");
}

// Values and (first) indices of the max / min along `dim`:  auto [v, i] = max(x, 1);
// d/dx = g at the returned index, 0 elsewhere.
template <class T>
ValuesIndices<T> max(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::extremum_dim(x, dim, keepdim, true, "max");
}
template <class T>
ValuesIndices<T> min(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::extremum_dim(x, dim, keepdim, false, "min");
}

// Index of the first max / min (NaN counts as the max and the min, as PyTorch): over the flattened
// tensor (a 0-d result), or along `dim`. Not differentiable.
template <class T>
Tensor<int64_t> argmax(const Tensor<T>& x) {
  return detail::arg_extremum(x, {}, false, true, "argmax").indices;
}
template <class T>
Tensor<int64_t> argmax(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::arg_extremum(x, {dim}, keepdim, true, "argmax").indices;
}
template <class T>
Tensor<int64_t> argmin(const Tensor<T>& x) {
  return detail::arg_extremum(x, {}, false, false, "argmin").indices;
}
template <class T>
Tensor<int64_t> argmin(const Tensor<T>& x, int64_t dim, bool keepdim = false) {
  return detail::arg_extremum(x, {dim}, keepdim, false, "argmin").indices;
}

// ---- var, std, norm, logsumexp ------------------------------------------------------------------

namespace detail {

// N - correction (clamped at 0, so one element with unbiased = true gives NaN, as PyTorch).
inline double var_denominator(const Shape& shape, backend::DimMask mask, bool unbiased) {
  return std::max(0.0, static_cast<double>(region_count(shape, mask)) - (unbiased ? 1.0 : 0.0));
}

}  // namespace detail

// y = sum (x - mean)^2 / (N - correction), correction = 1 when unbiased (Bessel), else 0;
// dL/dx = g * 2 (x - mean) / (N - correction).
template <class T>
Tensor<T> var(const Tensor<T>& x, const Shape& dims = {}, bool unbiased = true,
              bool keepdim = false) {
  detail::check_floating<T>("var");
  auto mask = detail::reduce_mask(dims, x.shape(), "var");
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  double denom = detail::var_denominator(x.shape(), mask, unbiased);
  Tensor<T> y = empty<T>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), var, x, mask, unbiased ? 1.0 : 0.0, y);
  return autograd::record(y, "var", {x},
                          [x, dims, keep, denom](const Tensor<T>& g) {
                            return detail::kept(g, keep) * (x - mean(x, dims, true)) *
                                   (2.0 / denom);
                          },
                          {.saved = {x}});
}

// y = sqrt(var(x));  dL/dx = g (x - mean) / ((N - correction) y), and 0 where y = 0 (as PyTorch).
template <class T>
Tensor<T> std(const Tensor<T>& x, const Shape& dims = {}, bool unbiased = true,
              bool keepdim = false) {
  detail::check_floating<T>("std");
  auto mask = detail::reduce_mask(dims, x.shape(), "std");
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  double denom = detail::var_denominator(x.shape(), mask, unbiased);
  Tensor<T> y = empty<T>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), var, x, mask, unbiased ? 1.0 : 0.0, y);
  SINEW_DISPATCH(x.device(), unary_op<backend::Unary::Sqrt>, y, y, 0.0, 0.0);
  return autograd::record(
      y, "std", {x},
      [x, dims, keep, denom](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        Tensor<T> yk = detail::kept(ctx.output(), keep);
        Tensor<T> scale = where(yk == 0.0, 0.0, detail::kept(g, keep) / (yk * denom));
        return scale * (x - mean(x, dims, true));
      },
      {.saved = {x}, .save_output = true});
}

// Vector p-norm over `dims` (all when empty), as torch.linalg.vector_norm: (sum |x|^p)^(1/p);
// p = inf: max |x|; p = -inf: min |x|; p = 0: the number of non-zeros.
// dL/dx = g sign(x) |x|^(p-1) / y^(p-1), taken as 0 where y = 0 (so the 2-norm of zeros has
// gradient 0, not NaN); inf norms split g among the ties; p = 0 has gradient 0.
template <class T>
Tensor<T> norm(const Tensor<T>& x, double p = 2, const Shape& dims = {}, bool keepdim = false) {
  detail::check_floating<T>("norm");
  SINEW_CHECK(!std::isnan(p), "norm", "p must be a number (got NaN) for input of shape ",
              x.shape());
  auto mask = detail::reduce_mask(dims, x.shape(), "norm");
  if (p < 0 || std::isinf(p)) {
    SINEW_CHECK(detail::region_count(x.shape(), mask) > 0, "norm", "the ", p,
                "-norm of an empty region (input of shape ", x.shape(), ", dims ", dims,
                ") is undefined: the operation has no identity");
  }
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  Tensor<T> y = empty<T>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), norm, x, mask, p, y);
  return autograd::record(
      y, "norm", {x},
      [x, p, dims, keep](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        Tensor<T> gk = detail::kept(g, keep);
        if (p == 0) return zeros_like(x);
        if (p == 1) return gk * sign(x);
        Tensor<T> yk = detail::kept(ctx.output(), keep);
        if (p == 2) return x * where(yk == 0.0, 0.0, gk / yk);
        if (std::isinf(p)) {
          Tensor<T> hit = (abs(x) == yk).template to<T>();
          return gk * sign(x) * hit / sum(hit, dims, true);
        }
        if (p < 1) {  // |x|^(p-1) is infinite at 0, where the gradient is taken as 0
          Tensor<T> xs = where(x == 0.0, 0.0, sign(x) * pow(abs(x), p - 1));
          return xs * gk * pow(yk, 1 - p);
        }
        return sign(x) * pow(abs(x), p - 1) * where(yk == 0.0, 0.0, gk / pow(yk, p - 1));
      },
      {.saved = {x}, .save_output = true});
}

// y = log sum exp(x) over `dims` (all when empty), computed as m + log sum exp(x - m) with m the
// max, so large inputs do not overflow;  dL/dx = g exp(x - y) (the softmax over the reduced dims).
template <class T>
Tensor<T> logsumexp(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  detail::check_floating<T>("logsumexp");
  auto mask = detail::reduce_mask(dims, x.shape(), "logsumexp");
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  Tensor<T> y = empty<T>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), logsumexp, x, mask, y);
  return autograd::record(y, "logsumexp", {x},
                          [x, keep](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            return detail::kept(g, keep) *
                                   exp(x - detail::kept(ctx.output(), keep));
                          },
                          {.saved = {x}, .save_output = true});
}

// ---- softmax, log_softmax -----------------------------------------------------------------------

// y = exp(x - max) / sum exp(x - max) along dim (a fused, stable kernel);
// dL/dx = y * (g - sum(g * y, dim)). The backward is made of ops, so it is differentiable again.
template <class T>
Tensor<T> softmax(const Tensor<T>& x, int64_t dim) {
  detail::check_floating<T>("softmax");
  detail::reduce_mask({dim}, x.shape(), "softmax");
  int64_t d = dim < 0 ? dim + std::max<int64_t>(x.dim(), 1) : dim;
  Tensor<T> y = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), softmax, x, d, false, y);
  return autograd::record(y, "softmax", {x},
                          [d](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            Tensor<T> y = ctx.output();
                            return y * (g - sum(g * y, {d}, true));
                          },
                          {.save_output = true});
}

// y = x - max - log sum exp(x - max) along dim (fused, stable);
// dL/dx = g - exp(y) * sum(g, dim). Differentiable again.
template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, int64_t dim) {
  detail::check_floating<T>("log_softmax");
  detail::reduce_mask({dim}, x.shape(), "log_softmax");
  int64_t d = dim < 0 ? dim + std::max<int64_t>(x.dim(), 1) : dim;
  Tensor<T> y = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), softmax, x, d, true, y);
  return autograd::record(y, "log_softmax", {x},
                          [d](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                            return g - exp(ctx.output()) * sum(g, {d}, true);
                          },
                          {.save_output = true});
}

// ---- sum_to -------------------------------------------------------------------------------------

// Sums x down to `shape` (the inverse of broadcasting x from shape);  d/dx = expand back.
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape) {
  SINEW_CHECK(shape.size() <= x.dim(), "sum_to", "cannot sum shape ", x.shape(), " to ", shape);
  int64_t lead = x.dim() - shape.size();
  Shape dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    int64_t want = shape[d - lead];
    SINEW_CHECK(want == x.size(d) || want == 1, "sum_to", "cannot sum shape ", x.shape(), " to ",
                shape);
    if (want == 1 && x.size(d) != 1) dims.push_back(d);
  }
  if (dims.empty()) return x.reshape(shape);
  return sum(x, dims, true).reshape(shape);
}

// ---- Tensor members -----------------------------------------------------------------------------

template <class T>
Tensor<accumulate_t<T>> Tensor<T>::sum() const {
  return sinew::sum(*this);
}
template <class T>
Tensor<accumulate_t<T>> Tensor<T>::sum(const Shape& dims, bool keepdim) const {
  return sinew::sum(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::mean() const {
  return sinew::mean(*this);
}
template <class T>
Tensor<T> Tensor<T>::mean(const Shape& dims, bool keepdim) const {
  return sinew::mean(*this, dims, keepdim);
}
template <class T>
Tensor<accumulate_t<T>> Tensor<T>::prod(const Shape& dims, bool keepdim) const {
  return sinew::prod(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::max() const {
  return sinew::max(*this);
}
template <class T>
Tensor<T> Tensor<T>::min() const {
  return sinew::min(*this);
}
template <class T>
ValuesIndices<T> Tensor<T>::max(int64_t dim, bool keepdim) const {
  return sinew::max(*this, dim, keepdim);
}
template <class T>
ValuesIndices<T> Tensor<T>::min(int64_t dim, bool keepdim) const {
  return sinew::min(*this, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::amax(const Shape& dims, bool keepdim) const {
  return sinew::amax(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::amin(const Shape& dims, bool keepdim) const {
  return sinew::amin(*this, dims, keepdim);
}
template <class T>
Tensor<int64_t> Tensor<T>::argmax() const {
  return sinew::argmax(*this);
}
template <class T>
Tensor<int64_t> Tensor<T>::argmax(int64_t dim, bool keepdim) const {
  return sinew::argmax(*this, dim, keepdim);
}
template <class T>
Tensor<int64_t> Tensor<T>::argmin() const {
  return sinew::argmin(*this);
}
template <class T>
Tensor<int64_t> Tensor<T>::argmin(int64_t dim, bool keepdim) const {
  return sinew::argmin(*this, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::var(const Shape& dims, bool unbiased, bool keepdim) const {
  return sinew::var(*this, dims, unbiased, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::std(const Shape& dims, bool unbiased, bool keepdim) const {
  return sinew::std(*this, dims, unbiased, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::norm(double p, const Shape& dims, bool keepdim) const {
  return sinew::norm(*this, p, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::logsumexp(const Shape& dims, bool keepdim) const {
  return sinew::logsumexp(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::softmax(int64_t dim) const {
  return sinew::softmax(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::log_softmax(int64_t dim) const {
  return sinew::log_softmax(*this, dim);
}

}  // namespace sinew
