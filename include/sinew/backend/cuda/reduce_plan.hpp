// Host-side launch planning for the CUDA reduction kernels (kernels/reduce.cuh): the split of the
// input's dimensions into kept and reduced ones as backend/cpu/reduce.hpp makes it (each side
// coalesced, order kept, so that outputs and region indices are row-major as on the CPU), then
// the layout (one block per output, or one thread per output), block, grid, shared memory and
// index width. Pure host logic with no CUDA headers, so that the backend and the emulator tests
// launch through the same plan.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sinew/backend/cpu/loops.hpp"
#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/descriptors.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

// Bytes of dynamic shared memory a rows launch takes (kernels/reduce.cuh's dev::Shared): 32
// partial values of up to 8 bytes, 32 int64 indices, a 16-byte broadcast slot.
inline constexpr size_t kReduceShared = 32 * 8 + 32 * 8 + 16;

// Regions shorter than this run one thread per output: a block would leave most threads idle.
inline constexpr int64_t kShortRegion = 32;
// A strided region with adjacent outputs (vertical) runs one thread per output when there are at
// least this many outputs, so that a warp reads 32 neighbouring elements a step.
inline constexpr int64_t kMinVerticalOutputs = 64;

// One launch of a reduction kernel (or of softmax_dim) over x.
struct ReducePlan {
  int64_t outputs = 0;   // 0: nothing to launch
  int64_t region = 1;    // elements each output reduces (0 allowed)
  bool columns = false;  // one thread per output (else one block per output)
  bool index32 = false;  // int32_t indices and offsets suffice (else int64_t)
  uint32_t grid = 0, block = 0;
  size_t shared_bytes = 0;
  int64_t inner = 1, inner_stride = 0;  // the region's innermost coalesced dimension
  int kept_ndim = 0, rows_ndim = 0;     // the kept dims; the region's other dims
  std::array<int64_t, kMaxDims> kept_size{}, kept_stride{}, rows_size{}, rows_stride{};
  int64_t softmax_inner = 1;  // softmax: the extent of the dimensions after dim
};

// dev::ReduceShape<I> of kernels/reduce.cuh, byte for byte: a kernel parameter passed by value.
template <class I>
struct ReduceArgs {
  I outputs, region, inner, inner_stride, columns;
  StridedArgs<I, 1> kept, rows;
};

// p of a norm as kernels/reduce.cuh's reduce_norm mode.
enum class NormMode : int { General = 0, One = 1, Two = 2, Inf = 3, NegInf = 4, Zero = 5 };
inline NormMode norm_mode(double p) {
  if (p == 2) return NormMode::Two;
  if (p == 1) return NormMode::One;
  if (std::isinf(p)) return p > 0 ? NormMode::Inf : NormMode::NegInf;
  if (p == 0) return NormMode::Zero;
  return NormMode::General;
}

namespace detail_reduce {

// dims (shape, strides) coalesced in order as the CPU loops do (size-1 dims dropped, adjacent
// ones merged); a single {1, 0} when nothing is left.
inline cpu::LoopLayout<1> coalesce(const std::vector<int64_t>& shape,
                                   const std::vector<int64_t>& strides) {
  sinew::detail::TensorImpl view;
  for (size_t d = 0; d < shape.size(); ++d) {
    view.shape.push_back(shape[d]);
    view.strides.push_back(strides[d]);
  }
  return cpu::make_layout<1>(view.shape, {&view});
}

inline void finish(ReducePlan& p, const sinew::detail::TensorImpl& x,
                   const std::vector<int64_t>& kept_shape, const std::vector<int64_t>& kept_strides,
                   const std::vector<int64_t>& red_shape, const std::vector<int64_t>& red_strides,
                   const PlanOptions& options, int64_t extra_extent) {
  p.outputs = 1;
  for (int64_t s : kept_shape) p.outputs *= s;
  p.region = 1;
  for (int64_t s : red_shape) p.region *= s;
  if (p.outputs == 0) return;
  const cpu::LoopLayout<1> kept = coalesce(kept_shape, kept_strides);
  const cpu::LoopLayout<1> red = coalesce(red_shape, red_strides);
  const int nk = static_cast<int>(kept.shape.size()), nr = static_cast<int>(red.shape.size());
  SINEW_CHECK(nk <= kMaxDims && nr - 1 <= kMaxDims, "cuda::plan_reduce", "a reduction of shape ",
              x.shape, " keeps ", nk, " and reduces ", nr,
              " dimensions after coalescing; the CUDA kernels take at most ", kMaxDims, " and ",
              kMaxDims + 1);
  p.kept_ndim = nk;
  for (int d = 0; d < nk; ++d) {
    p.kept_size[d] = kept.shape[d];
    p.kept_stride[d] = kept.strides[0][d];
  }
  p.rows_ndim = nr - 1;
  for (int d = 0; d < nr - 1; ++d) {
    p.rows_size[d] = red.shape[d];
    p.rows_stride[d] = red.strides[0][d];
  }
  p.inner = red.shape[nr - 1];
  p.inner_stride = red.strides[0][nr - 1];
  // Adjacent outputs adjacent in memory while the region is strided: a warp of threads, one per
  // output, reads neighbouring elements.
  const bool vertical = kept.strides[0][nk - 1] == 1 && kept.shape[nk - 1] > 1 &&
                        (p.inner_stride != 1 || p.region == 1);
  p.columns =
      p.region < kShortRegion || (vertical && p.outputs >= kMinVerticalOutputs) || p.region == 0;
  const int64_t max_block = std::max<int64_t>(32, options.block / 32 * 32);
  if (p.columns) {  // whole warps, no more than the outputs need
    p.block = static_cast<uint32_t>(std::min(max_block, (p.outputs + 31) / 32 * 32));
    p.grid = grid_blocks(p.outputs, p.block, options);
    p.shared_bytes = 0;
  } else {
    // At least four elements a thread: a power of two up to the region's quarter.
    int64_t b = 32;
    while (b * 2 * 4 <= p.region && b * 2 <= max_block) b *= 2;
    p.block = static_cast<uint32_t>(b);
    p.grid = grid_blocks(p.outputs, 1, options);
    p.shared_bytes = kReduceShared;
  }
  // 32 bits when every index a loop forms (one step past its end included) and every offset
  // fits int32_t.
  constexpr int64_t lim = std::numeric_limits<int32_t>::max();
  int64_t extent = 0;
  for (int64_t d = 0; d < x.shape.size(); ++d) extent += (x.shape[d] - 1) * std::abs(x.strides[d]);
  const int64_t threads = int64_t{p.grid} * p.block;
  p.index32 = !options.force_index64 && p.outputs + threads <= lim && p.region + p.block <= lim &&
              extent <= lim && extra_extent <= lim;
}

}  // namespace detail_reduce

// Plans a reduction of x over the dimensions in `reduced` (the output: one value per kept
// element, contiguous, row-major).
inline ReducePlan plan_reduce(const sinew::detail::TensorImpl& x, backend::DimMask reduced,
                              const PlanOptions& options = {}) {
  std::vector<int64_t> ks, kst, rs, rst;
  for (int64_t d = 0; d < x.shape.size(); ++d) {
    const bool r = reduced[static_cast<size_t>(d)];
    (r ? rs : ks).push_back(x.shape[d]);
    (r ? rst : kst).push_back(x.strides[d]);
  }
  ReducePlan p;
  detail_reduce::finish(p, x, ks, kst, rs, rst, options, 0);
  return p;
}

// Plans softmax along dim of x (out contiguous of x's shape): the region is dim, the outputs the
// other elements; nothing to launch when x is empty.
inline ReducePlan plan_softmax(const sinew::detail::TensorImpl& x, int64_t dim,
                               const PlanOptions& options = {}) {
  std::vector<int64_t> ks, kst, rs, rst;
  ReducePlan p;
  for (int64_t d = 0; d < x.shape.size(); ++d) {
    if (d == dim) {
      rs.push_back(x.shape[d]);
      rst.push_back(x.strides[d]);
    } else {
      ks.push_back(x.shape[d]);
      kst.push_back(x.strides[d]);
      if (d > dim) p.softmax_inner *= x.shape[d];
    }
  }
  if (x.shape.numel() == 0) return p;  // outputs 0
  detail_reduce::finish(p, x, ks, kst, rs, rst, options, x.shape.numel());
  return p;
}

// The kernel's geometry argument of a plan in the index type I.
template <class I>
ReduceArgs<I> reduce_args(const ReducePlan& p) {
  ReduceArgs<I> a{};
  a.outputs = static_cast<I>(p.outputs);
  a.region = static_cast<I>(p.region);
  a.inner = static_cast<I>(p.inner);
  a.inner_stride = static_cast<I>(p.inner_stride);
  a.columns = static_cast<I>(p.columns ? 1 : 0);
  a.kept.ndim = static_cast<I>(p.kept_ndim);
  a.rows.ndim = static_cast<I>(p.rows_ndim);
  for (int d = 0; d < kMaxDims; ++d) {
    a.kept.size[d] = static_cast<I>(d < p.kept_ndim ? p.kept_size[d] : 1);
    a.kept.stride[0][d] = static_cast<I>(d < p.kept_ndim ? p.kept_stride[d] : 0);
    a.rows.size[d] = static_cast<I>(d < p.rows_ndim ? p.rows_size[d] : 1);
    a.rows.stride[0][d] = static_cast<I>(d < p.rows_ndim ? p.rows_stride[d] : 0);
  }
  return a;
}

}  // namespace sinew::backend::cuda
