// Reductions over all or given dimensions (with keepdim): sum, mean, and sum_to for broadcasting.
#pragma once

#include <vector>

#include "sinew/backend/cpu/reduce.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/view.hpp"

namespace sinew {

namespace detail {

// Which dimensions a reduction covers: all when dims is empty, else each listed one (once).
inline std::vector<bool> reduce_mask(const Shape& dims, int64_t ndim, const char* where) {
  std::vector<bool> mask(static_cast<size_t>(ndim), dims.empty());
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, ndim, where);
    SINEW_CHECK(!mask[static_cast<size_t>(w)], where, "dimension ", w, " appears twice in ", dims);
    mask[static_cast<size_t>(w)] = true;
  }
  return mask;
}

// Output shape of a reduction: reduced dims become 1 (keepdim) or disappear.
inline Shape reduced_shape(const Shape& shape, const std::vector<bool>& mask, bool keepdim) {
  Shape s;
  for (int64_t d = 0; d < shape.size(); ++d) {
    if (!mask[static_cast<size_t>(d)]) s.push_back(shape[d]);
    else if (keepdim) s.push_back(1);
  }
  return s;
}

}  // namespace detail

// Sum over `dims` (all when empty);  d/dx = the gradient broadcast back over the reduced dims.
template <class T>
Tensor<T> sum(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  auto mask = detail::reduce_mask(dims, x.dim(), "sum");
  Shape keep = detail::reduced_shape(x.shape(), mask, true);
  Tensor<T> y = empty<T>(detail::reduced_shape(x.shape(), mask, keepdim), x.device());
  SINEW_DISPATCH(x.device(), sum, x, mask, y);
  return autograd::record(y, "sum", {x}, [keep, from = x.shape()](const Tensor<T>& g) {
    return g.reshape(keep).expand(from);
  });
}

// Mean over `dims` (all when empty);  d/dx = the gradient / count, broadcast back.
template <class T>
Tensor<T> mean(const Tensor<T>& x, const Shape& dims = {}, bool keepdim = false) {
  detail::check_floating<T>("mean");
  auto mask = detail::reduce_mask(dims, x.dim(), "mean");
  int64_t count = 1;
  for (int64_t d = 0; d < x.dim(); ++d) count *= mask[static_cast<size_t>(d)] ? x.size(d) : 1;
  return sum(x, dims, keepdim) * (1.0 / static_cast<double>(count));
}

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
    SINEW_CHECK(want == x.size(d) || want == 1, "sum_to", "cannot sum shape ", x.shape(), " to ", shape);
    if (want == 1 && x.size(d) != 1) dims.push_back(d);
  }
  if (dims.empty()) return x.reshape(shape);
  return sum(x, dims, true).reshape(shape);
}

template <class T> Tensor<T> Tensor<T>::sum() const { return sinew::sum(*this); }
template <class T> Tensor<T> Tensor<T>::sum(const Shape& dims, bool keepdim) const { return sinew::sum(*this, dims, keepdim); }
template <class T> Tensor<T> Tensor<T>::mean() const { return sinew::mean(*this); }
template <class T> Tensor<T> Tensor<T>::mean(const Shape& dims, bool keepdim) const { return sinew::mean(*this, dims, keepdim); }

}  // namespace sinew
