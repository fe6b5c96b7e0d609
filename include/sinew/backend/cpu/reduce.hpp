// CPU reductions. A reduction splits the input's dimensions into kept and reduced ones; each
// output element walks its reduced region as coalesced rows (contiguous where memory allows).
// Also all/any and the fused softmax / log_softmax kernel (a reduction and a map over the same
// rows).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "sinew/backend/cpu/eigen.hpp"
#include "sinew/backend/cpu/elementwise.hpp"
#include "sinew/backend/cpu/loops.hpp"
#include "sinew/backend/descriptors.hpp"

namespace sinew::backend::cpu {

// Dimensions of x split into kept (outputs, row-major) and reduced (walked per output).
struct ReducePlan {
  std::vector<int64_t> kept_shape, kept_strides;  // not coalesced: outputs are indexed row-major
  LoopLayout<1> region;                           // coalesced reduced dimensions
  int64_t outputs = 1, region_size = 1;
};

inline ReducePlan make_reduce_plan(const detail::TensorImpl& x, backend::DimMask reduced) {
  ReducePlan p;
  detail::TensorImpl view;  // the reduced dimensions only, as a strided tensor
  for (int64_t d = 0; d < x.shape.size(); ++d) {
    if (reduced[static_cast<size_t>(d)]) {
      view.shape.push_back(x.shape[d]);
      view.strides.push_back(x.strides[d]);
      p.region_size *= x.shape[d];
    } else {
      p.kept_shape.push_back(x.shape[d]);
      p.kept_strides.push_back(x.strides[d]);
      p.outputs *= x.shape[d];
    }
  }
  p.region = make_layout<1>(view.shape, {&view});
  return p;
}

// Calls row(p, stride, n, first) over the reduced region that starts at `start` (the element of
// one output's region with all reduced indices 0), where first is the row-major index (within the
// region) of p[0]; rows come in increasing index order.
template <class T, class Row>
inline void walk_rows(const ReducePlan& plan, const T* start, Row&& row) {
  const auto& L = plan.region;
  int64_t nd = static_cast<int64_t>(L.shape.size());
  int64_t inner = L.shape[nd - 1], stride = L.strides[0][nd - 1];
  if (nd == 1) {  // the common case (one reduced dimension, or a contiguous region): no index state
    if (inner > 0) row(start, stride, inner, int64_t{0});
    return;
  }
  int64_t rows = plan.region_size / std::max<int64_t>(inner, 1);
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t roff = 0;
    for (int64_t d = 0; d < nd - 1; ++d) roff += idx[d] * L.strides[0][d];
    row(start + roff, stride, inner, r * inner);
    for (int64_t d = nd - 2; d >= 0; --d) {
      if (++idx[d] < L.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// Element offset of output m's region (m indexes the kept dimensions row-major).
inline int64_t kept_offset(const ReducePlan& plan, int64_t m) {
  int64_t off = 0;
  for (int64_t d = static_cast<int64_t>(plan.kept_shape.size()) - 1; d >= 0; --d) {
    off += (m % plan.kept_shape[d]) * plan.kept_strides[d];
    m /= plan.kept_shape[d];
  }
  return off;
}

// walk_rows over the region of output m.
template <class T, class Row>
inline void walk_region(const ReducePlan& plan, const T* base, int64_t m, Row&& row) {
  walk_rows(plan, base + kept_offset(plan, m), std::forward<Row>(row));
}

// Accumulator type: double for float and double (sums of many floats stay exact enough); uint64
// for integer results, so that overflow wraps (two's complement) as PyTorch's instead of being
// undefined.
template <class T>
using AccOf = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

// Runs f(m, start) for every output m, with start = base + the offset of its region; outputs are
// split across threads and each thread advances the offset incrementally (no division per output,
// which matters when the regions are short).
template <class T, class F>
void for_each_output(const ReducePlan& plan, const T* base, int64_t cost, F&& f) {
  parallel_for(plan.outputs, std::max<int64_t>(plan.region_size, 1) * cost,
               [&](int64_t b, int64_t e) {
                 const auto& shape = plan.kept_shape;
                 const auto& strides = plan.kept_strides;
                 int64_t nk = static_cast<int64_t>(shape.size());
                 std::vector<int64_t> idx(static_cast<size_t>(nk), 0);
                 int64_t off = 0, rest = b;
                 for (int64_t d = nk - 1; d >= 0; --d) {
                   idx[d] = rest % shape[d];
                   rest /= shape[d];
                   off += idx[d] * strides[d];
                 }
                 for (int64_t m = b; m < e; ++m) {
                   f(m, base + off);
                   for (int64_t d = nk - 1; d >= 0; --d) {
                     if (++idx[d] < shape[d]) {
                       off += strides[d];
                       break;
                     }
                     off -= (shape[d] - 1) * strides[d];
                     idx[d] = 0;
                   }
                 }
               });
}

// Contiguous rows at least this long take the `omp simd` reduction loops; shorter ones run
// scalar, as combining the vector lanes at the end costs more than it saves there.
inline constexpr int64_t kSimdMinRow = 32;

// Sum of f(v) over the region at `start`, in A; vectorized over contiguous rows.
template <class A, class T, class F>
A accumulate_region(const ReducePlan& plan, const T* start, F f) {
  A acc = 0;
  walk_rows(plan, start, [&](const T* p, int64_t s, int64_t n, int64_t) {
    A a = 0;
    if (s == 1 && n >= kSimdMinRow) {
#pragma omp simd reduction(+ : a)
      for (int64_t k = 0; k < n; ++k) a += f(p[k]);
    } else {
      for (int64_t k = 0; k < n; ++k) a += f(p[k * s]);
    }
    acc += a;
  });
  return acc;
}

// The largest (Max) or smallest f(v) over the region at `start`; NaN when any f(v) is NaN (as
// PyTorch). An empty region gives -inf / +inf (the lowest / highest value for integers).
template <bool Max, class T, class F>
T extreme(const ReducePlan& plan, const T* start, F f) {
  using L = std::numeric_limits<T>;
  const T init =
      L::has_infinity ? (Max ? -L::infinity() : L::infinity()) : (Max ? L::lowest() : L::max());
  T best = init;
  int nan = 0;
  walk_rows(plan, start, [&](const T* p, int64_t s, int64_t n, int64_t) {
    T b = best;
    int has_nan = 0;
    if (s == 1 && n >= kSimdMinRow) {
      // OpenMP starts each lane of a max (min) reduction at the lowest (highest) finite value,
      // not at -inf (+inf): clang does as the standard says. Where no element passes init, the
      // row leaves best as it was (a row of -inf must give -inf, as PyTorch).
      int passed = 0;
      if constexpr (Max) {
#pragma omp simd reduction(max : b) reduction(| : has_nan, passed)
        for (int64_t k = 0; k < n; ++k) {
          T v = f(p[k]);
          b = v > b ? v : b;
          has_nan |= (v != v);
          passed |= (v > init);
        }
      } else {
#pragma omp simd reduction(min : b) reduction(| : has_nan, passed)
        for (int64_t k = 0; k < n; ++k) {
          T v = f(p[k]);
          b = v < b ? v : b;
          has_nan |= (v != v);
          passed |= (v < init);
        }
      }
      if (!passed) b = best;
    } else {
      for (int64_t k = 0; k < n; ++k) {
        T v = f(p[k * s]);
        b = (Max ? v > b : v < b) ? v : b;
        has_nan |= (v != v);
      }
    }
    best = b;
    nan |= has_nan;
  });
  if constexpr (L::has_quiet_NaN) {
    if (nan) return L::quiet_NaN();
  }
  return best;
}

// When x's last dimension is kept and contiguous while the region is strided (a sum over the
// batch dimension, a bias gradient), adjacent outputs read adjacent memory: the extent of that
// dimension, else 0. Reducing a block of such outputs together keeps the inner loop contiguous.
inline int64_t vertical_extent(const detail::TensorImpl& x, backend::DimMask reduced,
                               const ReducePlan& plan) {
  int64_t nd = x.shape.size();
  if (nd == 0 || reduced[static_cast<size_t>(nd - 1)] || x.strides[nd - 1] != 1) return 0;
  if (x.shape[nd - 1] < 4 || plan.region_size < 2) return 0;
  return x.shape[nd - 1];
}

inline constexpr int64_t kVerticalWidth = 64;

// Calls f(m0, w, start) for blocks of w <= kVerticalWidth adjacent outputs m0, m0 + 1, ... along
// the kept last dimension (of extent c, see vertical_extent); start = base + m0's region offset,
// and output m0 + j reads start[... + j].
template <class T, class F>
void for_each_output_block(const ReducePlan& plan, const T* base, int64_t c, int64_t cost, F&& f) {
  int64_t per = (c + kVerticalWidth - 1) / kVerticalWidth;
  parallel_for(plan.outputs / c * per, plan.region_size * kVerticalWidth * cost,
               [&](int64_t b, int64_t e) {
                 for (int64_t t = b; t < e; ++t) {
                   int64_t j0 = (t % per) * kVerticalWidth, m0 = t / per * c + j0;
                   f(m0, std::min(kVerticalWidth, c - j0), base + kept_offset(plan, m0));
                 }
               });
}

// out (contiguous, one value per output) = sum over the reduced dimensions; accumulates in double
// for floating types. R is the result type: T, or int64 for integer and bool inputs.
template <class T, class R>
void sum(const Tensor<T>& x, backend::DimMask reduced, const Tensor<R>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  const T* base = x.data_ptr();
  R* o = out.data_ptr();
  using A = AccOf<R>;
  if (int64_t c = vertical_extent(x.impl(), reduced, plan); c > 0) {
    for_each_output_block(plan, base, c, 1, [&](int64_t m0, int64_t w, const T* start) {
      A acc[kVerticalWidth];
      std::fill(acc, acc + w, A(0));
      walk_rows(plan, start, [&](const T* p, int64_t s, int64_t n, int64_t) {
        for (int64_t k = 0; k < n; ++k) {
          const T* r = p + k * s;
#pragma omp simd
          for (int64_t j = 0; j < w; ++j) acc[j] += A(r[j]);
        }
      });
      for (int64_t j = 0; j < w; ++j) o[m0 + j] = static_cast<R>(acc[j]);
    });
    return;
  }
  for_each_output(plan, base, 1, [&](int64_t m, const T* r) {
    o[m] = static_cast<R>(accumulate_region<A>(plan, r, [](T v) { return A(v); }));
  });
}

// out = product over the reduced dimensions (1 for an empty region); R as for sum.
template <class T, class R>
void prod(const Tensor<T>& x, backend::DimMask reduced, const Tensor<R>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  R* o = out.data_ptr();
  using A = AccOf<R>;
  for_each_output(plan, x.data_ptr(), 1, [&](int64_t m, const T* r) {
    A acc = 1;
    walk_rows(plan, r, [&](const T* p, int64_t s, int64_t n, int64_t) {
      A a = 1;
      if (s == 1 && n >= kSimdMinRow) {
#pragma omp simd reduction(* : a)
        for (int64_t k = 0; k < n; ++k) a *= A(p[k]);
      } else {
        for (int64_t k = 0; k < n; ++k) a *= A(p[k * s]);
      }
      acc *= a;
    });
    o[m] = static_cast<R>(acc);
  });
}

// out = whether every (All) or some (Any) element of each reduced region is non-zero (NaN counts
// as non-zero, as PyTorch); over nothing All is true and Any false.
template <Quantifier OP, class T>
void all_any(const Tensor<T>& x, backend::DimMask reduced, const Tensor<bool>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  bool* o = out.data_ptr();
  for_each_output(plan, x.data_ptr(), 1, [&](int64_t m, const T* r) {
    int64_t nonzero = accumulate_region<int64_t>(plan, r, [](T v) { return int64_t(v != T(0)); });
    o[m] = OP == Quantifier::All ? nonzero == plan.region_size : nonzero > 0;
  });
}

// Max or min (and, when asked, the first index) of a block of adjacent outputs (see
// for_each_output_block), kept per column; the first NaN wins, as in extreme() and find_first().
template <class T>
struct ExtremumBlock {
  T best[kVerticalWidth];
  int64_t index[kVerticalWidth];

  void run(const ReducePlan& plan, const T* start, int64_t w, bool is_max, bool with_index) {
    std::copy(start, start + w, best);  // the region's first element, index 0
    std::fill(index, index + w, int64_t{0});
    walk_rows(plan, start, [&](const T* p, int64_t s, int64_t n, int64_t first) {
      for (int64_t k = 0; k < n; ++k) {
        const T* r = p + k * s;
        const int64_t at = first + k;
        if (with_index) {
          if (is_max)
            step<true, true>(r, w, at);
          else
            step<false, true>(r, w, at);
        } else {
          if (is_max)
            step<true, false>(r, w, at);
          else
            step<false, false>(r, w, at);
        }
      }
    });
  }

  template <bool Max, bool WithIndex>
  void step(const T* r, int64_t w, int64_t at) {
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      T v = r[j], b = best[j];
      // Strictly better, or the first NaN (a NaN best is never replaced: b == b is false).
      bool take = (Max ? v > b : v < b) || (v != v && b == b);
      best[j] = take ? v : b;
      if constexpr (WithIndex) index[j] = take ? at : index[j];
    }
  }
};

// out = max (is_max) or min over the reduced dimensions; NaN propagates. The op rejects empty
// regions.
template <class T>
void extremum(const Tensor<T>& x, backend::DimMask reduced, bool is_max, const Tensor<T>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  T* o = out.data_ptr();
  if (int64_t c = vertical_extent(x.impl(), reduced, plan); c > 0) {
    for_each_output_block(plan, x.data_ptr(), c, 1, [&](int64_t m0, int64_t w, const T* start) {
      ExtremumBlock<T> blk;  // per call: blocks run on several threads
      blk.run(plan, start, w, is_max, false);
      std::copy(blk.best, blk.best + w, o + m0);
    });
    return;
  }
  auto id = [](T v) { return v; };
  for_each_output(plan, x.data_ptr(), 1, [&](int64_t m, const T* r) {
    o[m] = is_max ? extreme<true>(plan, r, id) : extreme<false>(plan, r, id);
  });
}

// Row-major index (within the region at `start`) of the first element equal to `value`, or of
// the first NaN when value is NaN; -1 when there is none.
template <class T>
int64_t find_first(const ReducePlan& plan, const T* start, T value) {
  const bool nan = value != value;
  int64_t at = -1;
  walk_rows(plan, start, [&](const T* p, int64_t s, int64_t n, int64_t first) {
    if (at >= 0) return;
    if (s == 1 && !nan &&
        n >= kSimdMinRow) {  // a vectorized any() per block, then search the hit block
      constexpr int64_t kB = 256;
      int64_t k0 = 0;
      for (; k0 + kB <= n; k0 += kB) {
        const T* q = p + k0;
        int hit = 0;
#pragma omp simd reduction(| : hit)
        for (int64_t j = 0; j < kB; ++j) hit |= (q[j] == value);
        if (hit) break;
      }
      for (int64_t k = k0; k < n; ++k) {
        if (p[k] == value) {
          at = first + k;
          return;
        }
      }
      return;
    }
    for (int64_t k = 0; k < n; ++k) {
      T v = p[k * s];
      if (nan ? v != v : v == value) {
        at = first + k;
        return;
      }
    }
  });
  return at;
}

// values = max (is_max) or min over the reduced dimensions and indices = the row-major position of
// its first occurrence within the region (the first NaN, when there is one, as PyTorch).
template <class T>
void arg_extremum(const Tensor<T>& x, backend::DimMask reduced, bool is_max,
                  const Tensor<T>& values, const Tensor<int64_t>& indices) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  T* vo = values.data_ptr();
  int64_t* io = indices.data_ptr();
  if (int64_t c = vertical_extent(x.impl(), reduced, plan); c > 0) {
    for_each_output_block(plan, x.data_ptr(), c, 2, [&](int64_t m0, int64_t w, const T* start) {
      ExtremumBlock<T> blk;
      blk.run(plan, start, w, is_max, true);
      std::copy(blk.best, blk.best + w, vo + m0);
      std::copy(blk.index, blk.index + w, io + m0);
    });
    return;
  }
  auto id = [](T v) { return v; };
  for_each_output(plan, x.data_ptr(), 2, [&](int64_t m, const T* r) {
    // A vectorized pass finds the value, a second pass (stopping early) its first position.
    T best = is_max ? extreme<true>(plan, r, id) : extreme<false>(plan, r, id);
    vo[m] = best;
    io[m] = std::max<int64_t>(find_first(plan, r, best), 0);
  });
}

// out = sum (x - mean)^2 / max(0, N - correction) over the reduced dimensions (two passes in
// double).
template <class T>
void var(const Tensor<T>& x, backend::DimMask reduced, double correction, const Tensor<T>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  T* o = out.data_ptr();
  const double count = static_cast<double>(plan.region_size);
  const double denom = std::max(0.0, count - correction);
  for_each_output(plan, x.data_ptr(), 2, [&](int64_t m, const T* r) {
    double mu = accumulate_region<double>(plan, r, [](T v) { return double(v); }) / count;
    double ss = accumulate_region<double>(plan, r, [mu](T v) {
      double d = double(v) - mu;
      return d * d;
    });
    o[m] = static_cast<T>(ss / denom);
  });
}

// out = the p-norm over the reduced dimensions (torch.linalg.vector_norm): (sum |x|^p)^(1/p);
// p = inf: max |x|, -inf: min |x|, 0: the count of non-zeros.
template <class T>
void norm(const Tensor<T>& x, backend::DimMask reduced, double p, const Tensor<T>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  T* o = out.data_ptr();
  auto absf = [](T v) { return std::abs(v); };
  for_each_output(plan, x.data_ptr(), 2, [&](int64_t m, const T* r) {
    double y;
    if (p == 2) {
      y = std::sqrt(accumulate_region<double>(plan, r, [](T v) { return double(v) * double(v); }));
    } else if (p == 1) {
      y = accumulate_region<double>(plan, r, [](T v) { return std::abs(double(v)); });
    } else if (std::isinf(p)) {
      y = p > 0 ? extreme<true>(plan, r, absf) : extreme<false>(plan, r, absf);
    } else if (p == 0) {
      y = accumulate_region<double>(plan, r, [](T v) { return v != T(0) ? 1.0 : 0.0; });
    } else {
      y = std::pow(
          accumulate_region<double>(plan, r, [p](T v) { return std::pow(std::abs(double(v)), p); }),
          1.0 / p);
    }
    o[m] = static_cast<T>(y);
  });
}

// out = log sum exp(x) over the reduced dimensions, as m + log sum exp(x - m) with m the max (no
// overflow). A NaN or infinite max is the answer itself: all -inf (or nothing) gives -inf, any
// +inf gives +inf (not through exp, which Eigen's vectorized form clamps to a tiny non-zero).
template <class T>
void logsumexp(const Tensor<T>& x, backend::DimMask reduced, const Tensor<T>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  T* o = out.data_ptr();
  for_each_output(plan, x.data_ptr(), 10, [&](int64_t m, const T* r) {
    T mx = extreme<true>(plan, r, [](T v) { return v; });
    if (mx != mx || std::isinf(mx)) {
      o[m] = mx;
      return;
    }
    const T shift = mx;
    double s = 0;
    walk_rows(plan, r, [&](const T* p, int64_t st, int64_t n, int64_t) {
      if (st == 1) {  // Eigen's vectorized exp; each term is in [0, 1]
        s += double(
            (Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(p, n) - shift).exp().sum());
      } else {
        for (int64_t k = 0; k < n; ++k) s += std::exp(double(p[k * st]) - double(shift));
      }
    });
    o[m] = static_cast<T>(double(shift) + std::log(s));
  });
}

namespace detail_softmax {

template <class T>
using Vec = Eigen::Array<T, Eigen::Dynamic, 1>;

// One contiguous row (Eigen's vectorized exp). src may equal dst.
template <class T>
void row(const T* src, T* dst, int64_t n, bool log) {
  const T minus_inf = -std::numeric_limits<T>::infinity();
  T mx = minus_inf;
  int nan = 0, passed = 0;
#pragma omp simd reduction(max : mx) reduction(| : nan, passed)
  for (int64_t k = 0; k < n; ++k) {
    mx = src[k] > mx ? src[k] : mx;
    nan |= (src[k] != src[k]);
    passed |= (src[k] > minus_inf);
  }
  if (!passed) mx = minus_inf;  // OpenMP's max lanes start at lowest(), not -inf (see extreme)
  if (nan) mx = std::numeric_limits<T>::quiet_NaN();
  Eigen::Map<const Vec<T>> in(src, n);
  Eigen::Map<Vec<T>> out(dst, n);
  if (log) {
    T lse = mx + std::log((in - mx).exp().sum());
    out = in - lse;
  } else {
    out = (in - mx).exp();
    out *= T(1) / out.sum();
  }
}

// `w` interleaved columns: element k of column j at src[k * ld + j]. src may equal dst.
template <class T>
void columns(const T* src, T* dst, int64_t n, int64_t ld, int64_t w, bool log, T* mx, T* sm) {
  Eigen::Map<Vec<T>> vmx(mx, w), vsm(sm, w);
  vmx.setConstant(-std::numeric_limits<T>::infinity());
  vsm.setZero();
  for (int64_t k = 0; k < n; ++k) {
    const T* r = src + k * ld;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) mx[j] = (r[j] > mx[j] || r[j] != r[j]) ? r[j] : mx[j];
  }
  for (int64_t k = 0; k < n; ++k) {
    Eigen::Map<const Vec<T>> in(src + k * ld, w);
    if (log) {
      vsm += (in - vmx).exp();
    } else {
      Eigen::Map<Vec<T>> out(dst + k * ld, w);
      out = (in - vmx).exp();
      vsm += out;
    }
  }
  if (log)
    vmx += vsm.log();
  else
    vsm = vsm.inverse();
  for (int64_t k = 0; k < n; ++k) {
    Eigen::Map<Vec<T>> out(dst + k * ld, w);
    if (log)
      out = Eigen::Map<const Vec<T>>(src + k * ld, w) - vmx;
    else
      out *= vsm;
  }
}

}  // namespace detail_softmax

// A shape seen as (outer, n, inner) around dimension dim: the rows a kernel along dim walks.
// (Callers copy the fields into variables: clang 14 cannot capture structured bindings.)
struct AroundDim {
  int64_t outer = 1, n = 1, inner = 1;
};
inline AroundDim split_at(const Shape& shape, int64_t dim) {
  AroundDim r;
  for (int64_t d = 0; d < shape.size(); ++d) {
    if (d < dim)
      r.outer *= shape[d];
    else if (d == dim)
      r.n = shape[d];
    else
      r.inner *= shape[d];
  }
  return r;
}

// out (contiguous, x's shape) = softmax or log_softmax of x along dim. Fused: one read for the max,
// one for the sum of exponentials, one write; rows along the last dimension take the fast path,
// other dimensions are done for blocks of adjacent columns so that the inner loops stay contiguous.
template <class T>
void softmax(const Tensor<T>& x, int64_t dim, bool log, const Tensor<T>& out) {
  const T* src = x.data_ptr();
  if (!x.is_contiguous()) {
    copy(out, x);  // then in place in out: each row is read before it is written
    src = out.data_ptr();
  }
  T* dst = out.data_ptr();
  const AroundDim around = split_at(x.shape(), dim);
  const int64_t outer = around.outer, n = around.n, inner = around.inner;
  if (outer * n * inner == 0) return;
  if (inner == 1) {
    parallel_for(outer, n * 8, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) detail_softmax::row(src + r * n, dst + r * n, n, log);
    });
    return;
  }
  constexpr int64_t kBlock = 64;
  int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallel_for(outer * blocks, n * std::min(inner, kBlock) * 8, [&](int64_t b, int64_t e) {
    // Aligned: Eigen peels unaligned heads to scalar exp, which would make results depend on the
    // stack of whichever thread runs the block.
    alignas(64) T mx[kBlock];
    alignas(64) T sm[kBlock];
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / blocks, j0 = (t % blocks) * kBlock, w = std::min(kBlock, inner - j0);
      int64_t off = o * n * inner + j0;
      detail_softmax::columns(src + off, dst + off, n, inner, w, log, mx, sm);
    }
  });
}

}  // namespace sinew::backend::cpu
