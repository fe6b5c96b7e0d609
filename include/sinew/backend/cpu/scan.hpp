// CPU inclusive scans along one dimension: cumsum and cumprod (Scan::Sum, Scan::Prod).
#pragma once

#include <algorithm>
#include <cstdint>

#include "sinew/backend/cpu/elementwise.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/backend/cpu/reduce.hpp"
#include "sinew/backend/kinds.hpp"

namespace sinew::backend::cpu {

// out (contiguous, x's shape, element type R) = the running sum (Scan::Sum) or product of x along
// dim, accumulated in double for floating types (as PyTorch's CPU cumsum, so a float32 cumsum
// carries no float32 rounding from one element to the next) and wrapping for integers. Along the
// last dimension each row runs one accumulator; along another, a block of adjacent columns is
// scanned together so that the inner loop stays contiguous.
template <Scan OP, class T, class R>
void scan(const Tensor<T>& x, int64_t dim, const Tensor<R>& out) {
  copy(out, x);  // converted to R; then scanned in place
  R* o = out.data_ptr();
  const AroundDim around = split_at(x.shape(), dim);
  const int64_t outer = around.outer, n = around.n, inner = around.inner;
  if (outer * n * inner == 0) return;
  using A = AccOf<R>;
  constexpr A init = OP == Scan::Sum ? A(0) : A(1);
  auto step = [](A acc, R v) { return OP == Scan::Sum ? acc + A(v) : acc * A(v); };
  if (inner == 1) {
    parallel_for(outer, n, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        R* p = o + r * n;
        A acc = init;
        for (int64_t k = 0; k < n; ++k) {
          acc = step(acc, p[k]);
          p[k] = static_cast<R>(acc);
        }
      }
    });
    return;
  }
  constexpr int64_t kBlock = 64;
  int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallel_for(outer * blocks, n * std::min(inner, kBlock), [&](int64_t b, int64_t e) {
    A acc[kBlock];
    for (int64_t t = b; t < e; ++t) {
      int64_t j0 = (t % blocks) * kBlock, w = std::min(kBlock, inner - j0);
      R* base = o + (t / blocks) * n * inner + j0;
      std::fill(acc, acc + w, init);
      for (int64_t k = 0; k < n; ++k) {
        R* p = base + k * inner;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) {
          acc[j] = step(acc[j], p[j]);
          p[j] = static_cast<R>(acc[j]);
        }
      }
    }
  });
}

}  // namespace sinew::backend::cpu
