// View ops: new shape, strides and offset over the same memory, no copy. Each records a backward
// that maps the gradient back to the input's shape.
#pragma once

#include <algorithm>
#include <numeric>
#include <optional>

#include "sinew/ops/cast.hpp"
#include "sinew/ops/common.hpp"

namespace sinew {

namespace detail {

template <class T>
Tensor<T> make_view(const Tensor<T>& x, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl().storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = dtype_of<T>();
  impl->is_view = true;
  return Tensor<T>(impl);
}

// Resolves one -1 entry of a requested shape against numel.
inline Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from,
                         const char* where) {
  Shape s = requested;
  int64_t known = 1, infer = -1;
  for (int64_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      SINEW_CHECK(infer < 0, where, "only one dimension can be -1, got ", requested);
      infer = i;
    } else {
      SINEW_CHECK(s[i] >= 0, where, "invalid size ", s[i], " in shape ", requested);
      known *= s[i];
    }
  }
  if (infer >= 0) {
    SINEW_CHECK(known != 0 && numel % known == 0, where, "shape ", requested,
                " is invalid for input of shape ", from, " (", numel, " elements)");
    s[infer] = numel / known;
  }
  SINEW_CHECK(s.numel() == numel, where, "shape ", requested, " is invalid for input of shape ",
              from, " (", numel, " elements)");
  return s;
}

}  // namespace detail

// Same elements in a new shape (one entry may be -1); needs contiguous memory, like PyTorch's view.
template <class T>
Tensor<T> Tensor<T>::view(const Shape& requested) const {
  Shape s = detail::infer_shape(requested, numel(), shape(), "view");
  SINEW_CHECK(is_contiguous(), "view", "input of shape ", shape(), " with strides ", strides(),
              " is not contiguous; use reshape (which copies) instead");
  Tensor<T> y = detail::make_view(*this, s, detail::contiguous_strides(s), storage_offset());
  return autograd::record(y, "view", {*this},
                          [from = shape()](const Tensor<T>& g) { return g.reshape(from); });
}

template <class T>
Tensor<T> Tensor<T>::reshape(const Shape& requested) const {
  Shape s = detail::infer_shape(requested, numel(), shape(), "reshape");
  return is_contiguous() ? view(s) : clone().view(s);
}

template <class T>
Tensor<T> Tensor<T>::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t a = detail::wrap_dim(start_dim, dim(), "flatten"),
          b = detail::wrap_dim(end_dim, dim(), "flatten");
  SINEW_CHECK(a <= b, "flatten", "start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape s;
  for (int64_t i = 0; i < a; ++i) s.push_back(size(i));
  int64_t m = 1;
  for (int64_t i = a; i <= b; ++i) m *= size(i);
  s.push_back(m);
  for (int64_t i = b + 1; i < dim(); ++i) s.push_back(size(i));
  return reshape(s);
}

template <class T>
Tensor<T> Tensor<T>::unsqueeze(int64_t d) const {
  d = detail::wrap_dim(d, dim() + 1, "unsqueeze");
  Shape s = shape(), st = strides();
  int64_t stride = d < dim() ? strides()[d] * shape()[d] : 1;
  s.insert(d, 1);
  st.insert(d, stride);
  Tensor<T> y = detail::make_view(*this, s, st, storage_offset());
  return autograd::record(y, "unsqueeze", {*this},
                          [d](const Tensor<T>& g) { return g.squeeze(d); });
}

template <class T>
Tensor<T> Tensor<T>::squeeze(int64_t d) const {
  d = detail::wrap_dim(d, dim(), "squeeze");
  if (dim() == 0 || size(d) != 1) return *this;
  Shape s = shape(), st = strides();
  s.erase(d);
  st.erase(d);
  Tensor<T> y = detail::make_view(*this, s, st, storage_offset());
  return autograd::record(y, "squeeze", {*this},
                          [d](const Tensor<T>& g) { return g.unsqueeze(d); });
}

template <class T>
Tensor<T> Tensor<T>::squeeze() const {
  Shape s, st;
  for (int64_t i = 0; i < dim(); ++i) {
    if (size(i) != 1) {
      s.push_back(size(i));
      st.push_back(stride(i));
    }
  }
  if (s.size() == dim()) return *this;
  Tensor<T> y = detail::make_view(*this, s, st, storage_offset());
  return autograd::record(y, "squeeze", {*this},
                          [from = shape()](const Tensor<T>& g) { return g.reshape(from); });
}

template <class T>
Tensor<T> Tensor<T>::permute(const Shape& dims) const {
  SINEW_CHECK(dims.size() == dim(), "permute", "got ", dims.size(), " dims ", dims,
              " for a tensor of shape ", shape());
  Shape s, st, inverse;
  inverse.resize(dim(), -1);
  for (int64_t i = 0; i < dims.size(); ++i) {
    int64_t d = detail::wrap_dim(dims[i], dim(), "permute");
    SINEW_CHECK(inverse[d] < 0, "permute", "dimension ", d, " repeats in ", dims);
    inverse[d] = i;
    s.push_back(size(d));
    st.push_back(stride(d));
  }
  Tensor<T> y = detail::make_view(*this, s, st, storage_offset());
  return autograd::record(y, "permute", {*this},
                          [inverse](const Tensor<T>& g) { return g.permute(inverse); });
}

template <class T>
Tensor<T> Tensor<T>::transpose(int64_t d0, int64_t d1) const {
  d0 = detail::wrap_dim(d0, dim(), "transpose");
  d1 = detail::wrap_dim(d1, dim(), "transpose");
  if (dim() == 0) return *this;
  Shape p;
  for (int64_t i = 0; i < dim(); ++i) p.push_back(i);
  std::swap(p[d0], p[d1]);
  return permute(p);
}

template <class T>
Tensor<T> Tensor<T>::t() const {
  SINEW_CHECK(dim() <= 2, "t", "expects a tensor with at most 2 dimensions, got shape ", shape());
  return dim() < 2 ? *this : transpose(0, 1);
}

// Broadcasts size-1 (or missing leading) dimensions to `target` without copying (stride 0).
// -1 keeps a size. d/dx = the gradient summed back to x's shape.
template <class T>
Tensor<T> Tensor<T>::expand(const Shape& target) const {
  SINEW_CHECK(target.size() >= dim(), "expand", "cannot expand shape ", shape(), " to ", target,
              " (fewer dimensions)");
  int64_t lead = target.size() - dim();
  Shape s, st;
  for (int64_t i = 0; i < target.size(); ++i) {
    int64_t want = target[i];
    if (i < lead) {
      SINEW_CHECK(want >= 0, "expand", "size -1 is not allowed in new leading dimension ", i,
                  " of ", target);
      s.push_back(want);
      st.push_back(0);
      continue;
    }
    int64_t have = size(i - lead);
    SINEW_CHECK(want >= -1, "expand", "invalid size ", want, " in ", target);
    if (want == -1) want = have;
    SINEW_CHECK(have == want || have == 1, "expand", "cannot expand shape ", shape(), " to ",
                target, " (dimension ", i, ": ", have, " vs ", want, ")");
    s.push_back(want);
    st.push_back(have == want ? stride(i - lead) : 0);
  }
  Tensor<T> y = detail::make_view(*this, s, st, storage_offset());
  if constexpr (is_floating_dtype_v<T>) {
    return autograd::record(y, "expand", {*this},
                            [from = shape()](const Tensor<T>& g) { return sum_to(g, from); });
  } else {
    return y;  // no gradient (and sum_to of an integer tensor is int64)
  }
}

namespace detail {
// Scatters a gradient of a strided sub-view back into zeros of the base's shape.
template <class T>
Tensor<T> slice_backward(const Tensor<T>& g, const Shape& base, int64_t d, int64_t start,
                         int64_t step) {
  Tensor<T> out = zeros<T>(base, g.device());
  Shape st = out.strides();
  int64_t offset = start * st[d];
  st[d] *= step;
  Tensor<T> region = make_view(out, g.shape(), st, offset);
  SINEW_DISPATCH(g.device(), copy, region, g);
  return autograd::record(out, "slice_backward", {g},
                          [d, start, step, n = g.size(d)](const Tensor<T>& gg) {
                            return gg.slice(d, start, start + n * step, step);
                          });
}
}  // namespace detail

// Elements start, start + step, ... below stop along `dim` (Python slice rules, clamped).
template <class T>
Tensor<T> Tensor<T>::slice(int64_t d, std::optional<int64_t> start, std::optional<int64_t> stop,
                           int64_t step) const {
  d = detail::wrap_dim(d, dim(), "slice");
  SINEW_CHECK(dim() > 0, "slice", "cannot slice a 0-d tensor");
  SINEW_CHECK(step > 0, "slice", "step must be positive, got ", step);
  int64_t n = size(d);
  auto norm = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  int64_t b = start ? norm(*start) : 0, e = stop ? norm(*stop) : n;
  int64_t len = e > b ? (e - b + step - 1) / step : 0;
  Shape s = shape(), st = strides();
  s[d] = len;
  st[d] *= step;
  Tensor<T> y = detail::make_view(*this, s, st, storage_offset() + b * stride(d));
  return autograd::record(y, "slice", {*this}, [from = shape(), d, b, step](const Tensor<T>& g) {
    return detail::slice_backward(g, from, d, b, step);
  });
}

template <class T>
Tensor<T> Tensor<T>::narrow(int64_t d, int64_t start, int64_t length) const {
  d = detail::wrap_dim(d, dim(), "narrow");
  SINEW_CHECK(dim() > 0, "narrow", "cannot narrow a 0-d tensor");
  int64_t n = size(d);
  if (start < 0) start += n;
  SINEW_CHECK(start >= 0 && length >= 0 && start + length <= n, "narrow", "range [", start, ", ",
              start + length, ") out of bounds for dimension ", d, " of size ", n, " (shape ",
              shape(), ")");
  return slice(d, start, start + length);
}

template <class T>
Tensor<T> Tensor<T>::select(int64_t d, int64_t index) const {
  d = detail::wrap_dim(d, dim(), "select");
  SINEW_CHECK(dim() > 0, "select", "cannot select from a 0-d tensor");
  int64_t n = size(d);
  SINEW_CHECK(index >= -n && index < n, "select", "index ", index, " out of range for dimension ",
              d, " of size ", n, " (shape ", shape(), ")");
  if (index < 0) index += n;
  return slice(d, index, index + 1).squeeze(d);
}

}  // namespace sinew
