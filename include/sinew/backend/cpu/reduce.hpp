// CPU reductions. A reduction splits the input's dimensions into kept and reduced ones; each
// output element walks its reduced region as coalesced rows (contiguous where memory allows).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sinew/backend/cpu/loops.hpp"

namespace sinew::backend::cpu {

// Dimensions of x split into kept (outputs, row-major) and reduced (walked per output).
struct ReducePlan {
  std::vector<int64_t> kept_shape, kept_strides;  // not coalesced: outputs are indexed row-major
  LoopLayout<1> region;                           // coalesced reduced dimensions
  int64_t outputs = 1, region_size = 1;
};

inline ReducePlan make_reduce_plan(const detail::TensorImpl& x, const std::vector<bool>& reduced) {
  ReducePlan p;
  Shape rshape;
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

// Calls row(p, stride, n, first) over the reduced region of output m, where first is the
// row-major index (within the region) of p[0]; rows come in increasing index order.
template <class T, class Row>
inline void walk_region(const ReducePlan& plan, const T* base, int64_t m, Row&& row) {
  int64_t off = 0;
  for (int64_t d = static_cast<int64_t>(plan.kept_shape.size()) - 1; d >= 0; --d) {
    off += (m % plan.kept_shape[d]) * plan.kept_strides[d];
    m /= plan.kept_shape[d];
  }
  const auto& L = plan.region;
  int64_t nd = static_cast<int64_t>(L.shape.size());
  int64_t inner = L.shape[nd - 1], stride = L.strides[0][nd - 1];
  int64_t rows = plan.region_size / std::max<int64_t>(inner, 1);
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t roff = 0;
    for (int64_t d = 0; d < nd - 1; ++d) roff += idx[d] * L.strides[0][d];
    row(base + off + roff, stride, inner, r * inner);
    for (int64_t d = nd - 2; d >= 0; --d) {
      if (++idx[d] < L.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// out (contiguous, one value per output) = sum over the reduced dimensions; accumulates in double.
template <class T>
void sum(const Tensor<T>& x, const std::vector<bool>& reduced, const Tensor<T>& out) {
  ReducePlan plan = make_reduce_plan(x.impl(), reduced);
  const T* base = x.data_ptr();
  T* o = out.data_ptr();
  if (plan.region_size == 0) {
    for (int64_t m = 0; m < plan.outputs; ++m) o[m] = T(0);
    return;
  }
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  parallel_for(plan.outputs, plan.region_size, [&](int64_t b, int64_t e) {
    for (int64_t m = b; m < e; ++m) {
      Acc acc = 0;
      walk_region(plan, base, m, [&](const T* p, int64_t s, int64_t n, int64_t) {
        Acc a = 0;
        if (s == 1) {
#pragma omp simd reduction(+ : a)
          for (int64_t k = 0; k < n; ++k) a += Acc(p[k]);
        } else {
          for (int64_t k = 0; k < n; ++k) a += Acc(p[k * s]);
        }
        acc += a;
      });
      o[m] = static_cast<T>(acc);
    }
  });
}

}  // namespace sinew::backend::cpu
