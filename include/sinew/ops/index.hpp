// Indexing ops: index_select, index_add, gather, scatter_add, masked_fill, masked_select,
// masked_scatter, and Tensor::index (integers, Slice, Ellipsis, None as views). Every index is
// checked against its dimension before a kernel reads through it.
#pragma once

#include <cstdint>
#include <vector>

#include "sinew/backend/cpu/index.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/ops/cast.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/shape.hpp"
#include "sinew/ops/view.hpp"

namespace sinew {

namespace detail {

// Raises unless every value of index lies in [0, n): names the op, the bad value and the size.
// On the CPU before any kernel reads through the index (one parallel min/max pass). A device does
// not wait for that here: its kernels check each index they read and the backend raises the same
// Error at the next synchronization point (item(), a copy to the host, synchronize()), as
// PyTorch's device-side asserts do.
// (check_index_range and spread_index are templates with a defaulted parameter so that only a
// program that indexes instantiates the int64 tensor code they call.)
template <class D = void>
void check_index_range(const Tensor<int64_t>& index, int64_t n, int64_t dim, const char* where) {
  if (index.numel() == 0 || !index.is_cpu()) return;
  auto [lo, hi] = backend::cpu::index_min_max(index);
  SINEW_CHECK(lo >= 0 && hi < n, where, "index ", lo < 0 ? lo : hi,
              " is out of range for dimension ", dim, " of size ", n);
}

// A 0-d or 1-d index seen with `shape`: stride 0 everywhere but along `dim` (no copy).
template <class D = void>
Tensor<int64_t> spread_index(const Tensor<int64_t>& index, const Shape& shape, int64_t dim) {
  Shape st(std::vector<int64_t>(static_cast<size_t>(shape.size()), 0));
  st[dim] = index.dim() == 1 ? index.stride(0) : 0;
  return make_view(index, shape, st, index.storage_offset());
}

// index_select / index_add argument checks; returns the wrapped dim.
template <class T>
int64_t check_index_args(const char* where, const Tensor<T>& x, int64_t dim,
                         const Tensor<int64_t>& index) {
  check_same_device(where, x, index);
  SINEW_CHECK(index.dim() <= 1, where, "index must be 0-d or 1-d, got shape ", index.shape());
  int64_t d = wrap_dim(dim, x.dim(), where);
  check_index_range(index, x.size(d), d, where);
  return d;
}

// gather / scatter_add argument checks: index has x's rank and fits inside x outside `dim`.
template <class T>
int64_t check_gather_args(const char* where, const Tensor<T>& x, int64_t dim,
                          const Tensor<int64_t>& index) {
  check_same_device(where, x, index);
  int64_t d = wrap_dim(dim, x.dim(), where);
  SINEW_CHECK(index.dim() == x.dim(), where, "index ", index.shape(),
              " must have as many dimensions as the input ", x.shape());
  for (int64_t k = 0; k < x.dim(); ++k) {
    SINEW_CHECK(k == d || index.size(k) <= x.size(k), where, "index ", index.shape(),
                " is larger than the input ", x.shape(), " in dimension ", k, " (only dimension ",
                d, " may differ)");
  }
  check_index_range(index, x.size(d), d, where);
  return d;
}

}  // namespace detail

template <class T>
Tensor<T> index_add(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index,
                    const Tensor<T>& src);

// y[.., j, ..] = x[.., index[j], ..] along dim (index 0-d or 1-d int64, values in [0, size));
// dL/dx = index_add(zeros, dim, index, dL/dy): repeated indices accumulate.
template <class T>
Tensor<T> index_select(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index) {
  if (x.dim() == 0) {
    detail::wrap_dim(dim, 0, "index_select");
    SINEW_CHECK(index.numel() == 1, "index_select", "a 0-d input takes one index, got shape ",
                index.shape());
    return index_select(x.reshape({1}), 0, index).reshape({});
  }
  int64_t d = detail::check_index_args("index_select", x, dim, index);
  Shape s = x.shape();
  s[d] = index.numel();
  Tensor<T> y = empty<T>(s, x.device());
  if (y.numel() > 0) SINEW_DISPATCH(x.device(), gather, x, d, detail::spread_index(index, s, d), y);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "index_select", {x},
                     [from = x.shape(), d, index](const Tensor<T>& g) {
                       return index_add(zeros<T>(from, g.device()), d, index, g);
                     },
                     {.saved = {index}});
  }
  return y;
}

// y = x, then y[.., index[j], ..] += src[.., j, ..] along dim;  dL/dx = dL/dy,
// dL/dsrc = index_select(dL/dy, dim, index).
template <class T>
Tensor<T> index_add(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index,
                    const Tensor<T>& src) {
  detail::check_same_device("index_add", x, src);
  if (x.dim() == 0) {
    detail::wrap_dim(dim, 0, "index_add");
    SINEW_CHECK(index.numel() == 1 && src.numel() == 1, "index_add",
                "a 0-d input takes one index and one source value, got index ", index.shape(),
                " and source ", src.shape());
    return index_add(x.reshape({1}), 0, index.reshape({1}), src.reshape({1})).reshape({});
  }
  int64_t d = detail::check_index_args("index_add", x, dim, index);
  bool ok = src.dim() == x.dim() && src.size(d) == index.numel();
  for (int64_t k = 0; ok && k < x.dim(); ++k) ok = k == d || src.size(k) == x.size(k);
  SINEW_CHECK(ok, "index_add", "source ", src.shape(), " must match the input ", x.shape(),
              " except in dimension ", d, ", where it must have the index's ", index.numel(),
              " entries");
  Tensor<T> y = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), copy, y, x);
  SINEW_DISPATCH(x.device(), scatter_add, y, d, detail::spread_index(index, src.shape(), d), src);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(
        y, "index_add", {x, src},
        [d, index](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
          return std::vector<Tensor<T>>{g, ctx.needs(1) ? index_select(g, d, index) : Tensor<T>()};
        },
        {.saved = {index}});
  }
  return y;
}

template <class T>
Tensor<T> scatter_add(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index,
                      const Tensor<T>& src);

// y[p] = x[p with coordinate dim replaced by index[p]] over index's shape (as torch.gather);
// dL/dx = scatter_add(zeros, dim, index, dL/dy): repeated indices accumulate.
template <class T>
Tensor<T> gather(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index) {
  if (x.dim() == 0 && index.dim() == 0) {
    detail::wrap_dim(dim, 0, "gather");
    return gather(x.reshape({1}), 0, index.reshape({1})).reshape({});
  }
  int64_t d = detail::check_gather_args("gather", x, dim, index);
  Tensor<T> y = empty<T>(index.shape(), x.device());
  if (y.numel() > 0) SINEW_DISPATCH(x.device(), gather, x, d, index, y);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "gather", {x},
                     [from = x.shape(), d, index](const Tensor<T>& g) {
                       return scatter_add(zeros<T>(from, g.device()), d, index, g);
                     },
                     {.saved = {index}});
  }
  return y;
}

// y = x, then y[p with coordinate dim replaced by index[p]] += src[p] over index's shape (as
// torch.scatter_add; src may be larger than index);  dL/dx = dL/dy, dL/dsrc = gather(dL/dy) on
// index's block of src, zero elsewhere.
template <class T>
Tensor<T> scatter_add(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index,
                      const Tensor<T>& src) {
  detail::check_same_device("scatter_add", x, src);
  if (x.dim() == 0 && index.dim() == 0 && src.dim() == 0) {
    detail::wrap_dim(dim, 0, "scatter_add");
    return scatter_add(x.reshape({1}), 0, index.reshape({1}), src.reshape({1})).reshape({});
  }
  int64_t d = detail::check_gather_args("scatter_add", x, dim, index);
  bool ok = src.dim() == index.dim();
  for (int64_t k = 0; ok && k < index.dim(); ++k) ok = index.size(k) <= src.size(k);
  SINEW_CHECK(ok, "scatter_add", "index ", index.shape(), " must not be larger than the source ",
              src.shape(), " in any dimension");
  Tensor<T> y = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), copy, y, x);
  SINEW_DISPATCH(x.device(), scatter_add, y, d, index, src);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(
        y, "scatter_add", {x, src},
        [d, index, ss = src.shape()](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
          Tensor<T> gs;
          if (ctx.needs(1)) {
            gs = gather(g, d, index);
            if (gs.shape() != ss) {
              Shape pads;
              for (int64_t k = ss.size() - 1; k >= 0; --k) {
                pads.push_back(0);
                pads.push_back(ss[k] - gs.size(k));
              }
              gs = pad(gs, pads);
            }
          }
          return std::vector<Tensor<T>>{g, gs};
        },
        {.saved = {index}});
  }
  return y;
}

// y = value where mask, x elsewhere (mask broadcasts with x);  dL/dx = dL/dy with zeros at mask.
template <class T>
Tensor<T> masked_fill(const Tensor<T>& x, const Tensor<bool>& mask, double value) {
  detail::check_same_device("masked_fill", x, mask);
  Tensor<T> y =
      empty<T>(detail::broadcast_shapes(x.shape(), mask.shape(), "masked_fill"), x.device());
  SINEW_DISPATCH(x.device(), masked_fill, x, mask, value, y);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "masked_fill", {x},
                     [mask, from = x.shape()](const Tensor<T>& g) {
                       return detail::reduce_grad(masked_fill(g, mask, 0.0), from);
                     },
                     {.saved = {mask}});
  }
  return y;
}

template <class T>
Tensor<T> masked_scatter(const Tensor<T>& x, const Tensor<bool>& mask, const Tensor<T>& source);

// y = the elements of x where mask (broadcast together), 1-d in row-major order;
// dL/dx = zeros with dL/dy written back into the mask's positions (summed where x was broadcast).
template <class T>
Tensor<T> masked_select(const Tensor<T>& x, const Tensor<bool>& mask) {
  detail::check_same_device("masked_select", x, mask);
  Shape s = detail::broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  int64_t count = SINEW_DISPATCH(x.device(), count_true, mask, s);
  Tensor<T> y = empty<T>({count}, x.device());
  if (count > 0) SINEW_DISPATCH(x.device(), masked_select, x, mask, s, y);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "masked_select", {x},
                     [mask, s, from = x.shape()](const Tensor<T>& g) {
                       return detail::reduce_grad(masked_scatter(zeros<T>(s, g.device()), mask, g),
                                                  from);
                     },
                     {.saved = {mask}});
  }
  return y;
}

// y = x (broadcast with mask) with its masked positions, in row-major order, replaced by
// source's first elements (source needs at least as many elements as mask has true);
// dL/dx = dL/dy with zeros at mask, dL/dsource = masked_select(dL/dy, mask) then zeros.
template <class T>
Tensor<T> masked_scatter(const Tensor<T>& x, const Tensor<bool>& mask, const Tensor<T>& source) {
  detail::check_same_device("masked_scatter", x, mask);
  detail::check_same_device("masked_scatter", x, source);
  Shape s = detail::broadcast_shapes(x.shape(), mask.shape(), "masked_scatter");
  int64_t count = SINEW_DISPATCH(x.device(), count_true, mask, s);
  SINEW_CHECK(source.numel() >= count, "masked_scatter", "mask has ", count,
              " true elements but source ", source.shape(), " has only ", source.numel());
  Tensor<T> y = empty<T>(s, x.device());
  SINEW_DISPATCH(x.device(), copy, y, x);
  if (count > 0) SINEW_DISPATCH(x.device(), masked_scatter, y, mask, source.contiguous());
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "masked_scatter", {x, source},
                     [mask, count, from = x.shape(), ss = source.shape()](
                         const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
                       Tensor<T> gx, gs;
                       if (ctx.needs(0)) gx = detail::reduce_grad(masked_fill(g, mask, 0.0), from);
                       if (ctx.needs(1)) {
                         gs = masked_select(g, mask);
                         if (ss.numel() > count) gs = pad(gs, {0, ss.numel() - count});
                         gs = gs.reshape(ss);
                       }
                       return std::vector<Tensor<T>>{gx, gs};
                     },
                     {.saved = {mask}});
  }
  return y;
}

template <class T>
Tensor<T>& Tensor<T>::masked_fill_(const Tensor<bool>& mask, double value) {
  detail::check_same_device("masked_fill_", *this, mask);
  SINEW_CHECK(detail::broadcast_shapes(shape(), mask.shape(), "masked_fill_") == shape(),
              "masked_fill_", "mask of shape ", mask.shape(),
              " does not broadcast to the in-place target ", shape());
  return detail::inplace(
      *this, "masked_fill_", false,
      [&] { SINEW_DISPATCH(device(), masked_fill, *this, mask, value, *this); },
      [&] { return sinew::masked_fill(*this, mask, value); });
}

template <class T>
Tensor<T> Tensor<T>::masked_fill(const Tensor<bool>& mask, double value) const {
  return sinew::masked_fill(*this, mask, value);
}
template <class T>
Tensor<T> Tensor<T>::index_select(int64_t dim, const Tensor<int64_t>& index) const {
  return sinew::index_select(*this, dim, index);
}
template <class T>
Tensor<T> Tensor<T>::gather(int64_t dim, const Tensor<int64_t>& index) const {
  return sinew::gather(*this, dim, index);
}

// x[i, Slice{a, b, s}, Ellipsis, None, ...] as PyTorch's x[i, a:b:s, ..., None]: integers select
// (dropping the dimension), slices keep it, Ellipsis stands for the dimensions not named, None
// inserts a size-1 dimension. The result is a view; its gradient flows through the view ops.
template <class T>
Tensor<T> Tensor<T>::index(std::initializer_list<TensorIndex> indices) const {
  using Kind = TensorIndex::Kind;
  int64_t consumed = 0, ellipses = 0;
  for (const auto& i : indices) {
    if (i.kind() == Kind::Integer || i.kind() == Kind::Slice) ++consumed;
    if (i.kind() == Kind::Ellipsis) ++ellipses;
  }
  SINEW_CHECK(ellipses <= 1, "Tensor::index", "an index can only have a single Ellipsis, got ",
              ellipses);
  SINEW_CHECK(consumed <= dim(), "Tensor::index", "too many indices for a tensor of shape ",
              shape(), ": ", consumed, " dimensions indexed");
  Tensor<T> r = *this;
  int64_t pos = 0, src = 0;  // pos: dimension of r; src: the dimension of *this it came from
  for (const auto& i : indices) {
    switch (i.kind()) {
      case Kind::Integer: {
        int64_t n = r.size(pos), v = i.integer();
        SINEW_CHECK(v >= -n && v < n, "Tensor::index", "index ", v,
                    " is out of range for dimension ", src, " of size ", n, " (shape ", shape(),
                    ")");
        r = r.select(pos, v);
        ++src;
        break;
      }
      case Kind::Slice: {
        const Slice& s = i.slice();
        SINEW_CHECK(s.step > 0, "Tensor::index", "slice step must be positive, got ", s.step,
                    " for dimension ", src);
        r = r.slice(pos, s.start, s.stop, s.step);
        ++pos;
        ++src;
        break;
      }
      case Kind::None:
        r = r.unsqueeze(pos);
        ++pos;
        break;
      case Kind::Ellipsis:
        pos += dim() - consumed;
        src += dim() - consumed;
        break;
    }
  }
  return r;
}

// Copies `values` (broadcast) into the view t.index(indices): t.index_put_({0, Slice()}, row).
template <class T>
Tensor<T>& Tensor<T>::index_put_(std::initializer_list<TensorIndex> indices,
                                 const Tensor<T>& values) {
  index(indices).copy_(values);
  return *this;
}

}  // namespace sinew
