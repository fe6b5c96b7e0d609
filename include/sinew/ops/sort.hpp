// Sorting and selection ops: sort, argsort, topk (values and indices along a dimension) and
// nonzero (the coordinates of the nonzero elements).
#pragma once

#include <cstdint>
#include <type_traits>

#include "sinew/backend/cpu/sort.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/reduce.hpp"

namespace sinew {

namespace detail {

// The k first entries of the stable sort of x along dim (the caller checked k), with the values'
// backward when `differentiable`: dL/dx = scatter_add(zeros, dim, indices, dL/dvalues), i.e. each
// gradient goes back to the position its value came from.
template <class T>
ValuesIndices<T> sort_along(const Tensor<T>& x, int64_t d, int64_t k, bool descending,
                            bool differentiable, const char* name) {
  if (x.dim() == 0) {  // as PyTorch: the element itself, at index 0
    ValuesIndices<T> r = sort_along(x.reshape({1}), 0, 1, descending, differentiable, name);
    return {r.values.reshape({}), r.indices.reshape({})};
  }
  Shape s = x.shape();
  s[d] = k;
  ValuesIndices<T> r{empty<T>(s, x.device()), empty<int64_t>(s, x.device())};
  if (r.values.numel() > 0) {
    SINEW_DISPATCH(x.device(), sort, x, d, k, descending, r.values, r.indices);
  }
  if constexpr (is_floating_dtype_v<T>) {
    if (differentiable) {
      autograd::record(r.values, name, {x},
                       [from = x.shape(), d, idx = r.indices](const Tensor<T>& g) {
                         return scatter_add(zeros<T>(from, g.device()), d, idx, g);
                       },
                       {.saved = {r.indices}});
    }
  }
  return r;
}

}  // namespace detail

// values, indices = x sorted along dim (ascending unless descending), with values[.., j, ..] =
// x[.., indices[.., j, ..], ..]:  auto [v, i] = sort(x, 1);
// NaN counts as larger than every number (last ascending, first descending), as PyTorch. The order
// is always stable (ties keep their input order): PyTorch leaves it unspecified when stable is
// false, so `stable` changes nothing. d values / dx = dL/dvalues scattered back through indices.
template <class T>
ValuesIndices<T> sort(const Tensor<T>& x, int64_t dim = -1, bool descending = false,
                      bool stable = false) {
  (void)stable;
  int64_t d = detail::wrap_dim(dim, x.dim(), "sort");
  return detail::sort_along(x, d, x.dim() == 0 ? 1 : x.size(d), descending, true, "sort");
}

// The indices of sort(x, dim, descending, stable). Not differentiable.
template <class T>
Tensor<int64_t> argsort(const Tensor<T>& x, int64_t dim = -1, bool descending = false,
                        bool stable = false) {
  (void)stable;
  int64_t d = detail::wrap_dim(dim, x.dim(), "argsort");
  return detail::sort_along(x, d, x.dim() == 0 ? 1 : x.size(d), descending, false, "argsort")
      .indices;
}

// The k largest (smallest unless largest) values along dim and their indices, 0 <= k <= size(dim);
// the result has x's shape with k along dim. NaN counts as the largest, as PyTorch. Always sorted
// (largest first, or smallest first) with ties in input order: PyTorch leaves the order
// unspecified when sorted is false. d values / dx = dL/dvalues scattered back through indices.
template <class T>
ValuesIndices<T> topk(const Tensor<T>& x, int64_t k, int64_t dim = -1, bool largest = true,
                      bool sorted = true) {
  (void)sorted;
  int64_t d = detail::wrap_dim(dim, x.dim(), "topk");
  int64_t n = x.dim() == 0 ? 1 : x.size(d);
  SINEW_CHECK(k >= 0 && k <= n, "topk", "k = ", k, " is out of range for dimension ", d,
              " of size ", n, " (input shape ", x.shape(), "; expected 0 <= k <= ", n, ")");
  return detail::sort_along(x, d, x.dim() == 0 ? 1 : k, largest, true, "topk");
}

// The coordinates of the nonzero elements of x (NaN is nonzero), one row per element in row-major
// order: an int64 tensor of shape [count, x.dim()], as torch.nonzero. Not differentiable.
template <class T>
Tensor<int64_t> nonzero(const Tensor<T>& x) {
  int64_t count = x.numel() == 0 ? 0 : SINEW_DISPATCH(x.device(), count_nonzero, x);
  Tensor<int64_t> out = empty<int64_t>({count, x.dim()}, x.device());
  if (out.numel() > 0) SINEW_DISPATCH(x.device(), nonzero, x, out);
  return out;
}

template <class T>
ValuesIndices<T> Tensor<T>::sort(int64_t dim, bool descending, bool stable) const {
  return sinew::sort(*this, dim, descending, stable);
}
template <class T>
Tensor<int64_t> Tensor<T>::argsort(int64_t dim, bool descending, bool stable) const {
  return sinew::argsort(*this, dim, descending, stable);
}
template <class T>
ValuesIndices<T> Tensor<T>::topk(int64_t k, int64_t dim, bool largest, bool sorted) const {
  return sinew::topk(*this, k, dim, largest, sorted);
}
template <class T>
Tensor<int64_t> Tensor<T>::nonzero() const {
  return sinew::nonzero(*this);
}

}  // namespace sinew
