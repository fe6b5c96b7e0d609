// CPU indexing kernels: flip, gather and scatter-add along a dimension, index range scan, masked
// fill / select / scatter. Kernels trust the op's checks: every index was validated before the
// call.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/backend/cpu/elementwise.hpp"
#include "sinew/backend/cpu/loops.hpp"
#include "sinew/backend/descriptors.hpp"

namespace sinew::backend::cpu {

namespace detail_index {

// The same memory seen with another shape and strides (a kernel-local view, no autograd).
inline detail::TensorImpl restrided(const detail::TensorImpl& t, Shape shape, Shape strides,
                                    int64_t offset) {
  detail::TensorImpl v;
  v.storage = t.storage;
  v.shape = std::move(shape);
  v.strides = std::move(strides);
  v.offset = offset;
  v.dtype = t.dtype;
  return v;
}

// a + b, wrapping for integers (two's complement, as the elementwise add) instead of undefined.
template <class T>
T accumulate(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    return a + b;
  else
    return detail_ew::wrap_add(a, b, T(1));
}

template <class T>
char* bytes(const detail::TensorImpl& t) {
  return reinterpret_cast<char*>(static_cast<T*>(t.storage->data()) + t.offset);
}

}  // namespace detail_index

// out = x with the dimensions marked in `dims` reversed: a copy through negative strides.
template <class T>
void flip(const Tensor<T>& x, backend::DimMask dims, const Tensor<T>& out) {
  if (out.numel() == 0) return;
  auto v = detail::alias_impl(x.impl());
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!dims[static_cast<size_t>(d)]) continue;
    v->offset += (x.size(d) - 1) * x.stride(d);
    v->strides[d] = -x.stride(d);
  }
  auto same = [](T a) { return a; };
  map(out, same, 1, Tensor<T>(v));
}

// The smallest and largest value of a non-empty index tensor (one parallel pass), so the op can
// report an out-of-range index before any kernel reads through it.
// (A template with a defaulted parameter, as count_true below: instantiated only when used.)
template <class D = void>
std::pair<int64_t, int64_t> index_min_max(const Tensor<int64_t>& index) {
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  std::mutex m;
  std::array<const detail::TensorImpl*, 1> ops{&index.impl()};
  auto L = make_layout<1>(index.shape(), ops);
  for_each_row<1>(L, {reinterpret_cast<char*>(index.data_ptr())}, {8}, 1,
                  [&](std::array<char*, 1> p, const std::array<int64_t, 1>& s, int64_t n) {
                    const int64_t* ix = reinterpret_cast<const int64_t*>(p[0]);
                    int64_t a = std::numeric_limits<int64_t>::max();
                    int64_t b = std::numeric_limits<int64_t>::min();
                    for (int64_t k = 0; k < n; ++k) {
                      a = std::min(a, ix[k * s[0]]);
                      b = std::max(b, ix[k * s[0]]);
                    }
                    std::lock_guard<std::mutex> lock(m);
                    lo = std::min(lo, a);
                    hi = std::max(hi, b);
                  });
  return {lo, hi};
}

// out[p] = x[p with coordinate `dim` replaced by index[p]] for every position p of out (which has
// index's shape). index may be an expanded view (index_select passes a broadcast 1-d index).
template <class T>
void gather(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index, const Tensor<T>& out) {
  const auto& xi = x.impl();
  Shape st = xi.strides;
  st[dim] = 0;
  auto xv = detail_index::restrided(xi, index.shape(), st, xi.offset);
  const int64_t xsd = xi.strides[dim];
  std::array<const detail::TensorImpl*, 3> ops{&out.impl(), &xv, &index.impl()};
  auto L = make_layout<3>(out.shape(), ops);
  std::array<char*, 3> base{detail_index::bytes<T>(out.impl()), detail_index::bytes<T>(xv),
                            detail_index::bytes<int64_t>(index.impl())};
  for_each_row<3>(L, base, {sizeof(T), sizeof(T), 8}, 2,
                  [&](std::array<char*, 3> p, const std::array<int64_t, 3>& s, int64_t n) {
                    T* o = reinterpret_cast<T*>(p[0]);
                    const T* xs = reinterpret_cast<const T*>(p[1]);
                    const int64_t* ix = reinterpret_cast<const int64_t*>(p[2]);
                    if (s[2] == 0) {  // one index for the whole row (index_select, embedding)
                      const T* row = xs + ix[0] * xsd;
                      for (int64_t k = 0; k < n; ++k) o[k * s[0]] = row[k * s[1]];
                    } else {
                      for (int64_t k = 0; k < n; ++k)
                        o[k * s[0]] = xs[k * s[1] + ix[k * s[2]] * xsd];
                    }
                  });
}

// out[p with coordinate `dim` replaced by index[p]] += src[p] for every position p of index
// (integers wrap). Threads split the positions that differ outside `dim` and each walks `dim`
// itself, so no two threads ever add into the same element of out (repeated indices accumulate
// without races).
template <class T>
void scatter_add(const Tensor<T>& out, int64_t dim, const Tensor<int64_t>& index,
                 const Tensor<T>& src) {
  const int64_t K = index.size(dim);
  if (K == 0 || index.numel() == 0) return;
  Shape it = index.shape();
  it[dim] = 1;
  const auto &oi = out.impl(), &ii = index.impl(), &si = src.impl();
  auto ov = detail_index::restrided(oi, it, oi.strides, oi.offset);
  auto iv = detail_index::restrided(ii, it, ii.strides, ii.offset);
  auto sv = detail_index::restrided(si, it, si.strides, si.offset);
  const int64_t osd = oi.strides[dim], isd = ii.strides[dim], ssd = si.strides[dim];
  std::array<const detail::TensorImpl*, 3> ops{&ov, &iv, &sv};
  auto L = make_layout<3>(it, ops);
  std::array<char*, 3> base{detail_index::bytes<T>(ov), detail_index::bytes<int64_t>(iv),
                            detail_index::bytes<T>(sv)};
  for_each_row<3>(L, base, {sizeof(T), 8, sizeof(T)}, 2 * K,
                  [&](std::array<char*, 3> p, const std::array<int64_t, 3>& s, int64_t n) {
                    T* o = reinterpret_cast<T*>(p[0]);
                    const int64_t* ix = reinterpret_cast<const int64_t*>(p[1]);
                    const T* sr = reinterpret_cast<const T*>(p[2]);
                    for (int64_t j = 0; j < K; ++j) {
                      const T* sj = sr + j * ssd;
                      if (s[1] == 0) {  // one index for the whole row: a contiguous-friendly axpy
                        T* oj = o + ix[j * isd] * osd;
                        for (int64_t k = 0; k < n; ++k)
                          oj[k * s[0]] = detail_index::accumulate(oj[k * s[0]], sj[k * s[2]]);
                      } else {
                        const int64_t* ij = ix + j * isd;
                        for (int64_t k = 0; k < n; ++k) {
                          T& t = o[k * s[0] + ij[k * s[1]] * osd];
                          t = detail_index::accumulate(t, sj[k * s[2]]);
                        }
                      }
                    }
                  });
}

// out = value where mask, else x (mask and x broadcast to out's shape). out may be x itself.
template <class T>
void masked_fill(const Tensor<T>& x, const Tensor<bool>& mask, double value, const Tensor<T>& out) {
  const T v = static_cast<T>(value);
  map(
      out, [v](T a, bool m) { return m ? v : a; }, 1, x, mask);
}

// Number of true elements of mask broadcast to `shape`.
template <class D = void>
int64_t count_true(const Tensor<bool>& mask, const Shape& shape) {
  std::atomic<int64_t> total{0};
  std::array<const detail::TensorImpl*, 1> ops{&mask.impl()};
  auto L = make_layout<1>(shape, ops);
  for_each_row<1>(L, {reinterpret_cast<char*>(mask.data_ptr())}, {1}, 1,
                  [&](std::array<char*, 1> p, const std::array<int64_t, 1>& s, int64_t n) {
                    const bool* m = reinterpret_cast<const bool*>(p[0]);
                    int64_t c = 0;
                    for (int64_t k = 0; k < n; ++k) c += m[k * s[0]] ? 1 : 0;
                    total += c;
                  });
  return total.load();
}

// out (1-d, count_true elements) = the elements of x where mask, in row-major order over `shape`
// (x and mask broadcast to it). Serial: the output position of each element depends on all before.
template <class T>
void masked_select(const Tensor<T>& x, const Tensor<bool>& mask, const Shape& shape,
                   const Tensor<T>& out) {
  std::array<const detail::TensorImpl*, 2> ops{&x.impl(), &mask.impl()};
  auto L = make_layout<2>(shape, ops);
  T* o = out.data_ptr();
  for_each_row<2>(
      L, {reinterpret_cast<char*>(x.data_ptr()), reinterpret_cast<char*>(mask.data_ptr())},
      {sizeof(T), 1}, 0, [&](std::array<char*, 2> p, const std::array<int64_t, 2>& s, int64_t n) {
        const T* xs = reinterpret_cast<const T*>(p[0]);
        const bool* m = reinterpret_cast<const bool*>(p[1]);
        for (int64_t k = 0; k < n; ++k) {
          if (m[k * s[1]]) *o++ = xs[k * s[0]];
        }
      });
}

// Writes src[0], src[1], ... (src contiguous, at least count_true elements) into the positions of
// out where mask (broadcast to out's shape) is true, in row-major order. Serial, as masked_select.
template <class T>
void masked_scatter(const Tensor<T>& out, const Tensor<bool>& mask, const Tensor<T>& src) {
  std::array<const detail::TensorImpl*, 2> ops{&out.impl(), &mask.impl()};
  auto L = make_layout<2>(out.shape(), ops);
  const T* next = src.data_ptr();
  for_each_row<2>(
      L, {reinterpret_cast<char*>(out.data_ptr()), reinterpret_cast<char*>(mask.data_ptr())},
      {sizeof(T), 1}, 0, [&](std::array<char*, 2> p, const std::array<int64_t, 2>& s, int64_t n) {
        T* o = reinterpret_cast<T*>(p[0]);
        const bool* m = reinterpret_cast<const bool*>(p[1]);
        for (int64_t k = 0; k < n; ++k) {
          if (m[k * s[1]]) o[k * s[0]] = *next++;
        }
      });
}

}  // namespace sinew::backend::cpu
