// Host-side launch planning for the CUDA elementwise kernels (kernels/elementwise.cuh): the
// dimension coalescing of the CPU loops, then the layout (flat or strided), the elements per
// access, the index width and the grid. Pure host logic with no CUDA headers, so that it is tested
// without a GPU and the backend and the emulator tests launch through the same plan.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "sinew/backend/cpu/loops.hpp"
#include "sinew/core/dtype.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

// Most dimensions a strided launch takes after coalescing (dev::kMaxDims in kernels/prelude.cuh).
inline constexpr int kMaxDims = 8;

struct PlanOptions {
  int block = 256;               // threads per block
  int64_t max_blocks = 8 * 132;  // grid cap of the grid-stride loops: 8 x the device's SMs
  bool force_index64 = false;    // take the 64-bit index path even where 32 bits suffice
  bool allow_flat = true;        // false: the strided kernel even for contiguous operands
};

// A launch of an elementwise kernel over N operands, operand 0 the output.
template <size_t N>
struct ElementwisePlan {
  int64_t numel = 0;     // 0: nothing to launch
  bool flat = false;     // every operand contiguous over one range: the *_flat kernels
  bool index32 = false;  // int32_t indices and offsets suffice (else int64_t)
  int vec = 1;           // elements per access of a *_flat kernel: 1, 2 or 4
  uint32_t grid = 0, block = 0;
  int ndim = 0;  // the coalesced iteration space, outermost first
  std::array<int64_t, kMaxDims> size{};
  std::array<std::array<int64_t, kMaxDims>, N> stride{};  // element strides, 0 where broadcast
};

// dev::Strided<I, N> of kernels/prelude.cuh, byte for byte: a kernel parameter passed by value.
template <class I, size_t N>
struct StridedArgs {
  I ndim;
  I size[kMaxDims];
  I stride[N][kMaxDims];
};

namespace detail_plan {
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace detail_plan

// The blocks of a grid-stride loop over `items`, `per_block` a block a step: enough for one step
// each, at least 1, at most options.max_blocks.
inline uint32_t grid_blocks(int64_t items, int64_t per_block, const PlanOptions& options) {
  return static_cast<uint32_t>(
      std::clamp<int64_t>(detail_plan::ceil_div(items, per_block), 1, options.max_blocks));
}

// Whether an operand starting at `address`, of `element_bytes`-byte elements, can be moved `v`
// elements an access: at most 16 bytes, and its start aligned to them.
inline bool takes_access(uintptr_t address, size_t element_bytes, int v) {
  const auto bytes = static_cast<uintptr_t>(v) * element_bytes;
  return bytes <= 16 && address % bytes == 0;
}

// The most elements per access, 4, 2 or 1, that every operand takes (all_take(v) says whether
// they do).
template <class AllTake>
int widest_access(AllTake&& all_take) {
  for (int v : {4, 2})
    if (all_take(v)) return v;
  return 1;
}

// Plans out = f(in...) over `shape` (the output's), inputs broadcast to it as NumPy does. Each
// operand's data pointer (storage base + offset) decides the vector width: a flat launch moves
// `vec` elements per access only where every operand is aligned to it, and never more than 16
// bytes of one operand.
template <size_t N>
ElementwisePlan<N> plan_elementwise(const Shape& shape,
                                    const std::array<const sinew::detail::TensorImpl*, N>& ops,
                                    const PlanOptions& options = {}) {
  ElementwisePlan<N> plan;
  plan.numel = shape.numel();
  if (plan.numel == 0) return plan;
  const cpu::LoopLayout<N> layout = cpu::make_layout<N>(shape, ops);
  const int nd = static_cast<int>(layout.shape.size());
  SINEW_CHECK(nd <= kMaxDims, "cuda::plan_elementwise", "the operands of shape ", shape,
              " coalesce to ", nd, " dimensions; the CUDA kernels take at most ", kMaxDims);
  plan.ndim = nd;
  for (int d = 0; d < nd; ++d) {
    plan.size[d] = layout.shape[d];
    for (size_t k = 0; k < N; ++k) plan.stride[k][d] = layout.strides[k][d];
  }
  bool flat = options.allow_flat && nd == 1;
  for (size_t k = 0; k < N && flat; ++k) flat = layout.strides[k][0] == 1;
  plan.flat = flat;
  if (flat) {
    plan.vec = widest_access([&ops](int v) {
      for (size_t k = 0; k < N; ++k) {
        const size_t es = dtype_size(ops[k]->dtype);
        const auto addr = reinterpret_cast<uintptr_t>(ops[k]->storage->data()) +
                          static_cast<uintptr_t>(ops[k]->offset) * es;
        if (!takes_access(addr, es, v)) return false;
      }
      return true;
    });
  }
  plan.block = static_cast<uint32_t>(options.block);
  plan.grid = grid_blocks(plan.numel, int64_t{options.block} * plan.vec, options);
  // 32 bits when every linear index, including the last grid-stride step past the end, and every
  // operand's largest offset fit int32_t.
  constexpr int64_t lim = std::numeric_limits<int32_t>::max();
  bool fits =
      !options.force_index64 && plan.numel + int64_t{plan.grid} * plan.block * plan.vec <= lim;
  for (size_t k = 0; k < N && fits; ++k) {
    int64_t extent = 0;
    for (int d = 0; d < nd; ++d) extent += (plan.size[d] - 1) * std::abs(plan.stride[k][d]);
    fits = extent <= lim;
  }
  plan.index32 = fits;
  return plan;
}

// The strided descriptor of a plan in the index type I (int32_t or int64_t).
template <class I, size_t N>
StridedArgs<I, N> strided_args(const ElementwisePlan<N>& plan) {
  StridedArgs<I, N> s{};
  s.ndim = static_cast<I>(plan.ndim);
  for (int d = 0; d < kMaxDims; ++d) {
    s.size[d] = static_cast<I>(d < plan.ndim ? plan.size[d] : 1);
    for (size_t k = 0; k < N; ++k)
      s.stride[k][d] = static_cast<I>(d < plan.ndim ? plan.stride[k][d] : 0);
  }
  return s;
}

// A kernel's scalar parameter in the element type, as the CPU kernels convert it: integer scalars
// come as int64 (exact); a double goes through int64 for integer types (a negative one would be
// undefined behaviour to convert to uint8 directly, through int64 it wraps: -1 gives 255).
template <class T, class P>
T scalar_param(P v) {
  if constexpr (std::is_same_v<T, bool>)
    return v != P(0);
  else if constexpr (std::is_integral_v<T> && std::is_floating_point_v<P>)
    return static_cast<T>(static_cast<int64_t>(v));
  else
    return static_cast<T>(v);
}

// The comparison type of a tensor-scalar comparison, as the CPU's compare_scalar_op: T for a
// floating tensor (the scalar rounded to T); for an integer one int64 with an integer scalar and
// double with a floating one.
template <class T, class P>
using compare_scalar_t =
    std::conditional_t<std::is_floating_point_v<T>, T,
                       std::conditional_t<std::is_floating_point_v<P>, double, int64_t>>;

}  // namespace sinew::backend::cuda
