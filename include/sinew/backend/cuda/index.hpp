// The indexing kernels of the CUDA backend with backend::cpu's signatures: gather and scatter_add
// along a dimension (kernels/index.cuh), flip (a copy through negative strides) and count_true (a
// sum of the broadcast mask). The kernels check every index they read on the device and skip a
// bad one; the backend raises it as a sinew::Error at the next synchronization (checks.hpp), so
// the op needs no host round trip to validate its index first.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

#include "sinew/backend/cpu/index.hpp"
#include "sinew/backend/cuda/elementwise.hpp"
#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/reduce.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/descriptors.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

namespace detail_index {

using cpu::detail_index::restrided;

// Whether every element offset of t fits int32_t (the largest |offset| from its first element).
inline bool offsets_fit_int32(const sinew::detail::TensorImpl& t) {
  int64_t extent = 0;
  for (int64_t d = 0; d < t.shape.size(); ++d) extent += (t.shape[d] - 1) * std::abs(t.strides[d]);
  return extent <= std::numeric_limits<int32_t>::max();
}

// The strided plan (the indexing kernels have no flat layout) over ops on device, with 64-bit
// indices unless every one of `whole` (the operands as the kernel indexes them) fits 32 bits.
template <size_t N, class... Whole>
ElementwisePlan<N> plan(const Shape& shape,
                        const std::array<const sinew::detail::TensorImpl*, N>& ops, int device,
                        const Whole&... whole) {
  PlanOptions o = plan_options(device);
  o.allow_flat = false;
  if (!(offsets_fit_int32(whole) && ...)) o.force_index64 = true;
  return plan_elementwise<N>(shape, ops, o);
}

// t seen with `shape` (NumPy broadcasting: stride 0 where t has size 1 or no dimension).
inline sinew::detail::TensorImpl broadcast_to(const sinew::detail::TensorImpl& t,
                                              const Shape& shape) {
  Shape strides(std::vector<int64_t>(shape.size(), 0));
  const int64_t lead = shape.size() - t.shape.size();
  for (int64_t d = 0; d < t.shape.size(); ++d)
    strides[lead + d] = t.shape[d] == 1 ? 0 : t.strides[d];
  return restrided(t, shape, strides, t.offset);
}

}  // namespace detail_index

// out[p] = x[p with coordinate `dim` replaced by index[p]] for every position p of out (which has
// index's shape; index may be an expanded view, as index_select passes it).
template <class T>
void gather(const Tensor<T>& x, int64_t dim, const Tensor<int64_t>& index, const Tensor<T>& out) {
  const auto& xi = x.impl();
  Shape st = xi.strides;
  st[dim] = 0;
  const auto xv = detail_index::restrided(xi, index.shape(), st, xi.offset);
  const int device = out.device().index();
  const auto p = detail_index::plan<3>(out.shape(), {&out.impl(), &xv, &index.impl()}, device, xi,
                                       index.impl(), out.impl());
  if (p.numel == 0) return;
  const KernelCheck c = expect_kernel_check(device, "gather", dim);
  const KernelLaunch k =
      kernel_launch(out.device(), kIndex,
                    name_expression("gather_strided", {type_name<T>(), index_type_name(p.index32)}),
                    p.grid, p.block);
  T* o = out.data_ptr();
  const T* xs = x.data_ptr();
  const int64_t* ix = index.data_ptr();
  const int64_t bound = x.size(dim), x_dim_stride = xi.strides[dim];
  with_index_type(p.index32, [&]<class I>() {
    launch(k, SINEW_CUDA_HOST_KERNEL(gather_strided<T, I>), o, xs, ix, strided_args<I>(p),
           I(p.numel), I(x_dim_stride), bound, c.record, c.tag);
  });
}

// out[p with coordinate `dim` replaced by index[p]] += src[p] for every position p of index: one
// thread per position outside dim, walking dim in order (repeated indices accumulate in the CPU's
// order, without atomics).
template <class T>
void scatter_add(const Tensor<T>& out, int64_t dim, const Tensor<int64_t>& index,
                 const Tensor<T>& src) {
  const int64_t k = index.size(dim);
  if (k == 0 || index.numel() == 0) return;
  Shape it = index.shape();
  it[dim] = 1;
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < index.dim(); ++d) inner *= index.size(d);
  const auto &oi = out.impl(), &ii = index.impl(), &si = src.impl();
  const auto ov = detail_index::restrided(oi, it, oi.strides, oi.offset);
  const auto iv = detail_index::restrided(ii, it, ii.strides, ii.offset);
  const auto sv = detail_index::restrided(si, it, si.strides, si.offset);
  const int device = out.device().index();
  const auto p = detail_index::plan<3>(it, {&ov, &iv, &sv}, device, oi, ii, si);
  const KernelCheck c = expect_kernel_check(device, "scatter_add", dim);
  const KernelLaunch kl = kernel_launch(
      out.device(), kIndex,
      name_expression("scatter_add_strided", {type_name<T>(), index_type_name(p.index32)}), p.grid,
      p.block);
  T* o = out.data_ptr();
  const int64_t* ix = index.data_ptr();
  const T* sr = src.data_ptr();
  const int64_t bound = out.size(dim);
  with_index_type(p.index32, [&]<class I>() {
    launch(kl, SINEW_CUDA_HOST_KERNEL(scatter_add_strided<T, I>), o, ix, sr, strided_args<I>(p),
           I(p.numel), I(k), I(inner), I(oi.strides[dim]), I(ii.strides[dim]), I(si.strides[dim]),
           bound, c.record, c.tag);
  });
}

// out = x with the dimensions marked in `dims` reversed: a copy through negative strides.
template <class T>
void flip(const Tensor<T>& x, backend::DimMask dims, const Tensor<T>& out) {
  if (out.numel() == 0) return;
  auto v = sinew::detail::alias_impl(x.impl());
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!dims[static_cast<size_t>(d)]) continue;
    v->offset += (x.size(d) - 1) * x.stride(d);
    v->strides[d] = -x.stride(d);
  }
  copy(out, Tensor<T>(v));
}

// The number of true elements of mask broadcast to `shape`: a sum on the device, read back (the
// op needs it on the host to size its output).
inline int64_t count_true(const Tensor<bool>& mask, const Shape& shape) {
  if (shape.numel() == 0) return 0;
  const Tensor<bool> view(
      std::make_shared<sinew::detail::TensorImpl>(detail_index::broadcast_to(mask.impl(), shape)));
  const Tensor<int64_t> total = empty<int64_t>({}, mask.device());
  sum(view, backend::DimMask(static_cast<int64_t>(shape.size()), true), total);
  return total.item();
}

}  // namespace sinew::backend::cuda
