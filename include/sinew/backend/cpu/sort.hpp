// CPU sorting kernels: a stable sort (or its first k entries) along one dimension, and the
// coordinates of the nonzero elements. Kernels trust the op's checks (dimension, k).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/backend/cpu/loops.hpp"

namespace sinew::backend::cpu {

namespace detail_sort {

// a < b with NaN above every number (PyTorch's order: NaN last ascending, first descending); all
// NaNs are equivalent, so this is a strict weak order.
template <class T>
bool nan_last_less(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return !std::isnan(a) && (std::isnan(b) || a < b);
  } else {
    return a < b;
  }
}

// The storage offset of row r (a position over `shape` with dimension `dim` left out) in a tensor
// with `strides`: the row-major decomposition of r, skipping `dim`.
inline int64_t row_offset(int64_t r, const Shape& shape, const Shape& strides, int64_t dim) {
  int64_t off = 0;
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    if (d == dim) continue;
    off += (r % shape[d]) * strides[d];
    r /= shape[d];
  }
  return off;
}

}  // namespace detail_sort

// For every row of x along `dim` (n elements): the k smallest (largest when descending) in order,
// written to values and their positions along `dim` to indices (both x's shape with k along
// `dim`). The order is the stable one: ties keep their input order, NaN counts as the largest.
// Rows are independent and run in parallel when the work is large.
template <class T>
void sort(const Tensor<T>& x, int64_t dim, int64_t k, bool descending, const Tensor<T>& values,
          const Tensor<int64_t>& indices) {
  const Shape& xs = x.shape();
  const int64_t n = xs[dim];
  if (n == 0 || k == 0 || x.numel() == 0) return;
  const int64_t rows = x.numel() / n;
  const int64_t xsd = x.stride(dim), vsd = values.stride(dim), isd = indices.stride(dim);
  const T* xp = x.data_ptr();
  T* vp = values.data_ptr();
  int64_t* ip = indices.data_ptr();
  int64_t log_n = 1;
  while ((int64_t{1} << log_n) < n) ++log_n;
  using Entry = std::pair<T, int64_t>;
  // Ties broken by position: a strict total order, so any algorithm gives the stable result and
  // the first k of a partial sort are the first k of the full stable sort.
  auto before = [descending](const Entry& a, const Entry& b) {
    bool lt = descending ? detail_sort::nan_last_less(b.first, a.first)
                         : detail_sort::nan_last_less(a.first, b.first);
    if (lt) return true;
    bool gt = descending ? detail_sort::nan_last_less(a.first, b.first)
                         : detail_sort::nan_last_less(b.first, a.first);
    return !gt && a.second < b.second;
  };
  parallel_for(rows, n * log_n, [&](int64_t begin, int64_t end) {
    std::vector<Entry> row(static_cast<size_t>(n));
    for (int64_t r = begin; r < end; ++r) {
      const T* src = xp + detail_sort::row_offset(r, xs, x.strides(), dim);
      for (int64_t j = 0; j < n; ++j) row[static_cast<size_t>(j)] = {src[j * xsd], j};
      if (k * 4 < n) {
        std::partial_sort(row.begin(), row.begin() + k, row.end(), before);
      } else {
        std::sort(row.begin(), row.end(), before);
      }
      T* v = vp + detail_sort::row_offset(r, values.shape(), values.strides(), dim);
      int64_t* ix = ip + detail_sort::row_offset(r, indices.shape(), indices.strides(), dim);
      for (int64_t j = 0; j < k; ++j) {
        v[j * vsd] = row[static_cast<size_t>(j)].first;
        ix[j * isd] = row[static_cast<size_t>(j)].second;
      }
    }
  });
}

// Number of elements of x that are not zero (NaN is not zero, -0.0 is).
template <class T>
int64_t count_nonzero(const Tensor<T>& x) {
  std::atomic<int64_t> total{0};
  std::array<const detail::TensorImpl*, 1> ops{&x.impl()};
  auto L = make_layout<1>(x.shape(), ops);
  for_each_row<1>(L, {reinterpret_cast<char*>(x.data_ptr())}, {sizeof(T)}, 1,
                  [&](std::array<char*, 1> p, const std::array<int64_t, 1>& s, int64_t n) {
                    const T* xs = reinterpret_cast<const T*>(p[0]);
                    int64_t c = 0;
                    for (int64_t j = 0; j < n; ++j) c += xs[j * s[0]] != T(0) ? 1 : 0;
                    total += c;
                  });
  return total.load();
}

// out (contiguous, [count_nonzero(x), x.dim()]) = the coordinates of x's nonzero elements, one row
// each, in row-major order. Serial: each row's position depends on every element before it.
template <class T>
void nonzero(const Tensor<T>& x, const Tensor<int64_t>& out) {
  const int64_t nd = x.dim(), total = x.numel();
  const Shape& shape = x.shape();
  const Shape& strides = x.strides();
  std::vector<int64_t> coord(static_cast<size_t>(nd), 0);
  const T* xp = x.data_ptr();
  int64_t* o = out.data_ptr();
  int64_t off = 0;
  for (int64_t i = 0; i < total; ++i) {
    if (xp[off] != T(0)) {
      for (int64_t d = 0; d < nd; ++d) *o++ = coord[static_cast<size_t>(d)];
    }
    for (int64_t d = nd - 1; d >= 0; --d) {  // odometer step to the next row-major position
      auto& c = coord[static_cast<size_t>(d)];
      off += strides[d];
      if (++c < shape[d]) break;
      off -= c * strides[d];
      c = 0;
    }
  }
}

}  // namespace sinew::backend::cpu
