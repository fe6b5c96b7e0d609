// Scans, compactions and sorting of the CUDA backend with backend::cpu's signatures
// (kernels/scan.cuh): scan (cumsum, cumprod), count_nonzero, nonzero, masked_select,
// masked_scatter and sort. Results are
// bitwise the CPU's: the scans walk their dimension in order with the CPU's accumulator, and the
// compactions keep row-major order (chunks counted, the counts scanned, each chunk written in
// order).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "sinew/backend/cpu/index.hpp"
#include "sinew/backend/cpu/reduce.hpp"
#include "sinew/backend/cuda/elementwise.hpp"
#include "sinew/backend/cuda/index.hpp"
#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/reduce.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/kinds.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

namespace detail_scan {

// Positions a compaction thread walks.
inline constexpr int64_t kChunk = 256;

inline KernelLaunch kernel_launch(const Device& device, const std::string& kernel,
                                  std::initializer_list<std::string> args, bool index32,
                                  int64_t threads) {
  std::vector<std::string> a(args);
  a.push_back(index_type_name(index32));
  const PlanOptions o = plan_options(device.index());
  return kernel_launch(device, kScan, name_expression(kernel, a), grid_blocks(threads, o.block, o),
                       static_cast<uint32_t>(o.block));
}

// The inclusive running sums of the chunk counts of `v` (the selected elements up to the end of
// each chunk), counted through the plan's one-operand descriptor.
template <class T>
Tensor<int64_t> chunk_ends(const Device& device, const T* v, const ElementwisePlan<1>& p) {
  const int64_t chunks = (p.numel + kChunk - 1) / kChunk;
  const Tensor<int64_t> ends = empty<int64_t>({chunks}, device);
  int64_t* e = ends.data_ptr();
  const KernelLaunch count =
      kernel_launch(device, "chunk_count", {type_name<T>()}, p.index32, chunks);
  const KernelLaunch scan = kernel_launch(
      device, "scan_inplace", {kind_arg(Scan::Sum), type_name<int64_t>()}, p.index32, 1);
  [[maybe_unused]] constexpr int kSum = static_cast<int>(Scan::Sum);
  with_index_type(p.index32, [&]<class I>() {
    launch(count, SINEW_CUDA_HOST_KERNEL(chunk_count<T, I>), e, v, strided_args<I>(p), I(p.numel),
           I(kChunk));
    launch(scan, SINEW_CUDA_HOST_KERNEL(scan_inplace<kSum, int64_t, I>), e, I(1), I(chunks), I(1));
  });
  return ends;
}

// A plan for the strided descriptors of the compactions (one element a step, row-major order).
template <size_t N>
ElementwisePlan<N> plan(const Shape& shape,
                        const std::array<const sinew::detail::TensorImpl*, N>& ops,
                        const Device& device) {
  PlanOptions o = plan_options(device.index());
  o.allow_flat = false;
  return plan_elementwise<N>(shape, ops, o);
}

}  // namespace detail_scan

// out (contiguous, x's shape, element type R) = the running sum (Scan::Sum) or product of x along
// dim: x converted to R, then scanned in place.
template <Scan OP, class T, class R>
void scan(const Tensor<T>& x, int64_t dim, const Tensor<R>& out) {
  copy(out, x);
  const cpu::AroundDim around = cpu::split_at(x.shape(), dim);
  const int64_t columns = around.outer * around.inner;
  if (columns * around.n == 0) return;
  const bool index32 = out.numel() <= std::numeric_limits<int32_t>::max() / 2;
  const KernelLaunch k = detail_scan::kernel_launch(
      out.device(), "scan_inplace", {kind_arg(OP), type_name<R>()}, index32, columns);
  R* o = out.data_ptr();
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  with_index_type(index32, [&]<class I>() {
    launch(k, SINEW_CUDA_HOST_KERNEL(scan_inplace<K, R, I>), o, I(around.outer), I(around.n),
           I(around.inner));
  });
}

// The number of elements of x that are not zero (NaN is not zero, -0.0 is), read back.
template <class T>
int64_t count_nonzero(const Tensor<T>& x) {
  if (x.numel() == 0) return 0;
  const Tensor<bool> nonzero = empty<bool>(x.shape(), x.device());
  compare_scalar_op<Compare::Ne>(x, int64_t{0}, nonzero);
  const Tensor<int64_t> total = empty<int64_t>({}, x.device());
  sum(nonzero, backend::DimMask(x.dim(), true), total);
  return total.item();
}

// out (contiguous, [count_nonzero(x), x.dim()]) = the coordinates of x's nonzero elements in
// row-major order.
template <class T>
void nonzero(const Tensor<T>& x, const Tensor<int64_t>& out) {
  SINEW_CHECK(x.dim() <= kMaxDims, "nonzero", "the CUDA backend takes at most ", kMaxDims,
              " dimensions, got ", x.shape());
  const int64_t n = x.numel();
  if (n == 0 || out.numel() == 0) return;
  // x's own dimensions (the coordinates are x's): a descriptor without coalescing.
  ElementwisePlan<1> p;
  p.numel = n;
  p.ndim = static_cast<int>(x.dim());
  int64_t extent = n + detail_scan::kChunk;
  for (int d = 0; d < p.ndim; ++d) {
    p.size[d] = x.size(d);
    p.stride[0][d] = x.stride(d);
    extent = std::max(extent, (x.size(d) - 1) * std::abs(x.stride(d)));
  }
  p.index32 = extent <= std::numeric_limits<int32_t>::max() / 2;
  const T* xs = x.data_ptr();
  const Tensor<int64_t> ends = detail_scan::chunk_ends(x.device(), xs, p);
  const int64_t chunks = ends.numel();
  const KernelLaunch k =
      detail_scan::kernel_launch(x.device(), "nonzero_chunks", {type_name<T>()}, p.index32, chunks);
  int64_t* o = out.data_ptr();
  const int64_t* e = ends.data_ptr();
  with_index_type(p.index32, [&]<class I>() {
    launch(k, SINEW_CUDA_HOST_KERNEL(nonzero_chunks<T, I>), o, xs, strided_args<I>(p), I(n),
           I(detail_scan::kChunk), e);
  });
}

// out (1-d, count_true elements) = the elements of x where mask, in row-major order over `shape`
// (x and mask broadcast to it).
template <class T>
void masked_select(const Tensor<T>& x, const Tensor<bool>& mask, const Shape& shape,
                   const Tensor<T>& out) {
  if (shape.numel() == 0 || out.numel() == 0) return;
  const auto xv = detail_index::broadcast_to(x.impl(), shape);
  const auto mv = detail_index::broadcast_to(mask.impl(), shape);
  const auto p = detail_scan::plan<2>(shape, {&xv, &mv}, x.device());
  const auto pm = detail_scan::plan<1>(shape, {&mv}, x.device());
  const bool* m = mask.data_ptr();
  const Tensor<int64_t> ends = detail_scan::chunk_ends(x.device(), m, pm);
  const bool index32 = p.index32 && pm.index32;
  const KernelLaunch k = detail_scan::kernel_launch(x.device(), "masked_select_chunks",
                                                    {type_name<T>()}, index32, ends.numel());
  T* o = out.data_ptr();
  const T* xs = x.data_ptr();
  const int64_t* e = ends.data_ptr();
  with_index_type(index32, [&]<class I>() {
    launch(k, SINEW_CUDA_HOST_KERNEL(masked_select_chunks<T, I>), o, xs, m, strided_args<I>(p),
           I(p.numel), I(detail_scan::kChunk), e);
  });
}

// Writes src[0], src[1], ... (src contiguous, at least count_true elements) into the positions of
// out where mask (broadcast to out's shape) is true, in row-major order.
template <class T>
void masked_scatter(const Tensor<T>& out, const Tensor<bool>& mask, const Tensor<T>& src) {
  const Shape& shape = out.shape();
  if (shape.numel() == 0) return;
  const auto mv = detail_index::broadcast_to(mask.impl(), shape);
  const auto p = detail_scan::plan<2>(shape, {&out.impl(), &mv}, out.device());
  const auto pm = detail_scan::plan<1>(shape, {&mv}, out.device());
  const bool* m = mask.data_ptr();
  const Tensor<int64_t> ends = detail_scan::chunk_ends(out.device(), m, pm);
  const bool index32 = p.index32 && pm.index32;
  const KernelLaunch k = detail_scan::kernel_launch(out.device(), "masked_scatter_chunks",
                                                    {type_name<T>()}, index32, ends.numel());
  T* o = out.data_ptr();
  const T* s = src.data_ptr();
  const int64_t* e = ends.data_ptr();
  with_index_type(index32, [&]<class I>() {
    launch(k, SINEW_CUDA_HOST_KERNEL(masked_scatter_chunks<T, I>), o, m, s, strided_args<I>(p),
           I(p.numel), I(detail_scan::kChunk), e);
  });
}

// For every row of x along `dim` (n elements): the k smallest (largest when descending) in the
// stable order (ties keep their input order, NaN counts as the largest) into values, their
// positions along dim into indices (both x's shape with k along dim). Each element is ranked
// among its row: n^2 comparisons a row, in parallel over every element.
template <class T>
void sort(const Tensor<T>& x, int64_t dim, int64_t k, bool descending, const Tensor<T>& values,
          const Tensor<int64_t>& indices) {
  const int64_t n = x.size(dim);
  if (n == 0 || k == 0 || x.numel() == 0) return;
  Shape rs = x.shape();
  rs[dim] = 1;
  const auto xv = cpu::detail_index::restrided(x.impl(), rs, x.strides(), x.impl().offset);
  const auto vv =
      cpu::detail_index::restrided(values.impl(), rs, values.strides(), values.impl().offset);
  const auto iv =
      cpu::detail_index::restrided(indices.impl(), rs, indices.strides(), indices.impl().offset);
  const auto p = detail_scan::plan<3>(rs, {&xv, &vv, &iv}, x.device());
  const int64_t rows = rs.numel();
  const bool index32 = p.index32 && rows * n <= std::numeric_limits<int32_t>::max() / 2 &&
                       (n - 1) * std::abs(x.stride(dim)) <= std::numeric_limits<int32_t>::max();
  const KernelLaunch kl =
      detail_scan::kernel_launch(x.device(), "sort_rank", {type_name<T>()}, index32, rows * n);
  T* v = values.data_ptr();
  int64_t* ix = indices.data_ptr();
  const T* xs = x.data_ptr();
  const int desc = descending ? 1 : 0;
  with_index_type(index32, [&]<class I>() {
    launch(kl, SINEW_CUDA_HOST_KERNEL(sort_rank<T, I>), v, ix, xs, strided_args<I>(p), I(rows),
           I(n), I(k), I(x.stride(dim)), I(values.stride(dim)), I(indices.stride(dim)), desc);
  });
}

}  // namespace sinew::backend::cuda
