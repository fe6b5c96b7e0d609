// Strided elementwise loops over tensors with broadcasting: dimensions are coalesced so that the
// common cases (contiguous, bias broadcast, scalar) run as flat vectorizable inner loops.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

// N operands laid over one iteration shape, with per-operand element strides (0 where broadcast).
template <size_t N>
struct LoopLayout {  // Shapes: no allocation for up to Shape::kInline dimensions
  Shape shape;
  std::array<Shape, N> strides;
};

// Aligns each operand's strides to `shape` (NumPy broadcasting), drops size-1 dimensions and merges
// dimensions that are adjacent in memory for every operand.
template <size_t N>
LoopLayout<N> make_layout(const Shape& shape, const std::array<const detail::TensorImpl*, N>& ops) {
  int64_t nd = shape.size();
  LoopLayout<N> out;
  for (int64_t i = 0; i < nd; ++i) {
    if (shape[i] == 1) continue;
    std::array<int64_t, N> st{};
    for (size_t k = 0; k < N; ++k) {
      const auto& op = *ops[k];
      int64_t j = i - (nd - op.shape.size());
      st[k] = (j < 0 || op.shape[j] == 1) ? 0 : op.strides[j];
    }
    bool merge = !out.shape.empty();
    for (size_t k = 0; k < N && merge; ++k) merge = out.strides[k].back() == st[k] * shape[i];
    if (merge) {
      out.shape.back() *= shape[i];
      for (size_t k = 0; k < N; ++k) out.strides[k].back() = st[k];
    } else {
      out.shape.push_back(shape[i]);
      for (size_t k = 0; k < N; ++k) out.strides[k].push_back(st[k]);
    }
  }
  if (out.shape.empty()) {
    out.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) out.strides[k].push_back(0);
  }
  return out;
}

namespace detail_loops {

template <size_t N>
using RowFn = void (*)(void* ctx, std::array<char*, N> ptrs, const std::array<int64_t, N>& strides,
                       int64_t count);

// The row walk behind for_each_row, one instantiation per operand count: the body is called
// through a pointer (rows are long after coalescing, so the indirect call is noise), which keeps
// this index arithmetic and its parallel region out of every kernel's own code.
template <size_t N>
void walk(const LoopLayout<N>& L, std::array<char*, N> base,
          const std::array<int64_t, N>& elem_size, int64_t cost, RowFn<N> body, void* ctx) {
  int64_t nd = static_cast<int64_t>(L.shape.size());
  int64_t inner = L.shape[nd - 1];
  int64_t total = 1;
  for (int64_t d : L.shape) total *= d;
  if (total == 0) return;
  std::array<int64_t, N> inner_stride;
  for (size_t k = 0; k < N; ++k) inner_stride[k] = L.strides[k][nd - 1];
  parallel_for(total, cost, [&](int64_t begin, int64_t end) {
    // Decompose `begin` into an outer multi-index and an inner position.
    Shape idx;
    idx.resize(nd);
    int64_t rest = begin;
    for (int64_t d = nd - 1; d >= 0; --d) {
      idx[d] = rest % L.shape[d];
      rest /= L.shape[d];
    }
    int64_t pos = begin;
    while (pos < end) {
      std::array<char*, N> p;
      for (size_t k = 0; k < N; ++k) {
        int64_t off = 0;
        for (int64_t d = 0; d < nd; ++d) off += idx[d] * L.strides[k][d];
        p[k] = base[k] + off * elem_size[k];
      }
      int64_t count = std::min(inner - idx[nd - 1], end - pos);
      body(ctx, p, inner_stride, count);
      pos += count;
      idx[nd - 1] += count;
      for (int64_t d = nd - 1; d > 0 && idx[d] >= L.shape[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
      }
    }
  });
}

}  // namespace detail_loops

// Runs body(ptrs, inner_strides, count) over every inner row of the layout, where ptrs are the
// operands' byte pointers at the row start; rows are split across threads for large work.
template <size_t N, class Body>
void for_each_row(const LoopLayout<N>& L, std::array<char*, N> base,
                  const std::array<int64_t, N>& elem_size, int64_t cost, Body&& body) {
  using B = std::remove_reference_t<Body>;
  detail_loops::walk<N>(
      L, base, elem_size, cost,
      [](void* ctx, std::array<char*, N> p, const std::array<int64_t, N>& s, int64_t n) {
        (*static_cast<B*>(ctx))(p, s, n);
      },
      const_cast<void*>(static_cast<const void*>(&body)));
}

namespace detail_loops {
template <class Out, class F, class... In, size_t... I>
inline void run_row(std::array<char*, sizeof...(In) + 1> p,
                    const std::array<int64_t, sizeof...(In) + 1>& s, int64_t n, F& f,
                    std::index_sequence<I...>) {
  Out* o = reinterpret_cast<Out*>(p[0]);
  bool unit = s[0] == 1 && ((s[I + 1] == 1) && ...);
  if (unit) {
    std::tuple<const In*...> in{reinterpret_cast<const In*>(p[I + 1])...};
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) o[k] = f(std::get<I>(in)[k]...);
  } else {
    std::tuple<const In*...> in{reinterpret_cast<const In*>(p[I + 1])...};
    for (int64_t k = 0; k < n; ++k) o[k * s[0]] = f(std::get<I>(in)[k * s[I + 1]]...);
  }
}
}  // namespace detail_loops

// out[i] = f(in[i]...) over out's shape; inputs broadcast to it. out may alias an input exactly.
// `cost` is a rough per-element work estimate (1 for add, ~10 for exp) that decides threading.
template <class Out, class... In, class F>
void map(const Tensor<Out>& out, F f, int64_t cost, const Tensor<In>&... in) {
  constexpr size_t N = sizeof...(In) + 1;
  std::array<const detail::TensorImpl*, N> ops{&out.impl(), &in.impl()...};
  auto L = make_layout<N>(out.shape(), ops);
  std::array<char*, N> base{reinterpret_cast<char*>(out.data_ptr()),
                            reinterpret_cast<char*>(in.data_ptr())...};
  std::array<int64_t, N> es{int64_t(sizeof(Out)), int64_t(sizeof(In))...};
  for_each_row<N>(
      L, base, es, cost, [&](std::array<char*, N> p, const std::array<int64_t, N>& s, int64_t n) {
        detail_loops::run_row<Out, F, In...>(p, s, n, f, std::index_sequence_for<In...>{});
      });
}

}  // namespace sinew::backend::cpu
