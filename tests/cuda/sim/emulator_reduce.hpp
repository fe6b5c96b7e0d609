// The reduction functions of the CUDA backend as the tests launch them on the emulator: plan
// (backend/cuda/reduce_plan.hpp), choose the instantiation, launch kernels/reduce.cuh. Each
// mirrors a backend::cpu kernel's signature (backend/cpu/reduce.hpp), so that a test runs both
// on the same tensors and compares.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "sinew/backend/cuda/reduce_plan.hpp"
#include "sinew/backend/descriptors.hpp"

#include "emulator_kernels.hpp"

namespace sinew::emu {

template <class I>
dev::ReduceShape<I> reduce_shape(const cuda::ReducePlan& p) {
  return std::bit_cast<dev::ReduceShape<I>>(cuda::reduce_args<I>(p));
}

// Runs body.template operator()<I>() with the plan's index type and records the name expression
// of `kernel` with `args` (the leading template arguments, then I).
template <class Body>
void reduce_dispatch(const cuda::ReducePlan& p, const char* kernel,
                     std::initializer_list<std::string> args, Body&& body) {
  if (p.outputs == 0) return;
  std::vector<std::string> a(args);
  a.push_back(cuda::index_type_name(p.index32));
  last_kernel() = cuda::name_expression(kernel, a);
  if (p.index32)
    body.template operator()<int32_t>();
  else
    body.template operator()<int64_t>();
}

template <class T, class R>
void sum(const Tensor<T>& x, backend::DimMask reduced, const Tensor<R>& out) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  R* o = out.data_ptr();
  const T* in = x.data_ptr();
  reduce_dispatch(p, "reduce_sum", {cuda::type_name<T>(), cuda::type_name<R>()}, [&]<class I>() {
    sim::launch(&reduce_sum<T, R, I>, p.grid, p.block, p.shared_bytes, o, in, reduce_shape<I>(p));
  });
}

template <class T, class R>
void prod(const Tensor<T>& x, backend::DimMask reduced, const Tensor<R>& out) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  R* o = out.data_ptr();
  const T* in = x.data_ptr();
  reduce_dispatch(p, "reduce_prod", {cuda::type_name<T>(), cuda::type_name<R>()}, [&]<class I>() {
    sim::launch(&reduce_prod<T, R, I>, p.grid, p.block, p.shared_bytes, o, in, reduce_shape<I>(p));
  });
}

template <Quantifier OP, class T>
void all_any(const Tensor<T>& x, backend::DimMask reduced, const Tensor<bool>& out) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  bool* o = out.data_ptr();
  const T* in = x.data_ptr();
  constexpr int K = static_cast<int>(OP);
  reduce_dispatch(p, "reduce_all_any", {cuda::kind_arg(OP), cuda::type_name<T>()}, [&]<class I>() {
    sim::launch(&reduce_all_any<K, T, I>, p.grid, p.block, p.shared_bytes, o, in,
                reduce_shape<I>(p));
  });
}

template <class T>
void extremum(const Tensor<T>& x, backend::DimMask reduced, bool is_max, const Tensor<T>& out) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  reduce_dispatch(p, "reduce_extremum", {cuda::type_name<T>()}, [&]<class I>() {
    sim::launch(&reduce_extremum<T, I>, p.grid, p.block, p.shared_bytes, o, in, reduce_shape<I>(p),
                int(is_max));
  });
}

template <class T>
void arg_extremum(const Tensor<T>& x, backend::DimMask reduced, bool is_max,
                  const Tensor<T>& values, const Tensor<int64_t>& indices) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  T* v = values.data_ptr();
  int64_t* ix = indices.data_ptr();
  const T* in = x.data_ptr();
  reduce_dispatch(p, "reduce_arg_extremum", {cuda::type_name<T>()}, [&]<class I>() {
    sim::launch(&reduce_arg_extremum<T, I>, p.grid, p.block, p.shared_bytes, v, ix, in,
                reduce_shape<I>(p), int(is_max));
  });
}

template <class T>
void var(const Tensor<T>& x, backend::DimMask reduced, double correction, const Tensor<T>& out) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const double denom = std::max(0.0, static_cast<double>(p.region) - correction);
  reduce_dispatch(p, "reduce_var", {cuda::type_name<T>()}, [&]<class I>() {
    sim::launch(&reduce_var<T, I>, p.grid, p.block, p.shared_bytes, o, in, reduce_shape<I>(p),
                denom);
  });
}

template <class T>
void norm(const Tensor<T>& x, backend::DimMask reduced, double pv, const Tensor<T>& out) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const int mode = static_cast<int>(cuda::norm_mode(pv));
  reduce_dispatch(p, "reduce_norm", {cuda::type_name<T>()}, [&]<class I>() {
    sim::launch(&reduce_norm<T, I>, p.grid, p.block, p.shared_bytes, o, in, reduce_shape<I>(p),
                mode, pv);
  });
}

template <class T>
void logsumexp(const Tensor<T>& x, backend::DimMask reduced, const Tensor<T>& out) {
  const auto p = cuda::plan_reduce(x.impl(), reduced, plan_options());
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  reduce_dispatch(p, "reduce_logsumexp", {cuda::type_name<T>()}, [&]<class I>() {
    sim::launch(&reduce_logsumexp<T, I>, p.grid, p.block, p.shared_bytes, o, in,
                reduce_shape<I>(p));
  });
}

template <class T>
void softmax(const Tensor<T>& x, int64_t dim, bool log, const Tensor<T>& out) {
  const auto p = cuda::plan_softmax(x.impl(), dim, plan_options());
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  reduce_dispatch(p, "softmax_dim", {cuda::type_name<T>()}, [&]<class I>() {
    sim::launch(&softmax_dim<T, I>, p.grid, p.block, p.shared_bytes, o, in, reduce_shape<I>(p),
                static_cast<I>(p.softmax_inner), int(log));
  });
}

}  // namespace sinew::emu
