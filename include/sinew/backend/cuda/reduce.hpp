// The reduction kernels of the CUDA backend (kernels/reduce.cuh) with backend::cpu's signatures:
// sum, prod, all/any, max/min, argmax/argmin, var, norm, logsumexp over the dimensions of a
// DimMask, and softmax/log_softmax along one dimension. Each plans the launch (reduce_plan.hpp),
// names the instantiation and launches it (launch.hpp) on the input's device.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/reduce_plan.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/descriptors.hpp"
#include "sinew/backend/kinds.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

namespace detail_reduce {

// Runs body.template operator()<I>(launch) with the plan's index type, `launch` naming the
// instantiation of `kernel` with the leading template arguments `args` (then I).
template <class Body>
void dispatch(const ReducePlan& p, const Device& device, const char* kernel,
              std::initializer_list<std::string> args, Body&& body) {
  if (p.outputs == 0) return;
  std::vector<std::string> a(args);
  a.push_back(index_type_name(p.index32));
  const KernelLaunch k =
      kernel_launch(device, kReduce, name_expression(kernel, a), p.grid, p.block, p.shared_bytes);
  with_index_type(p.index32, [&]<class I>() { body.template operator()<I>(k); });
}

template <class T>
ReducePlan plan(const Tensor<T>& x, backend::DimMask reduced) {
  return plan_reduce(x.impl(), reduced, plan_options(x.device().index()));
}

}  // namespace detail_reduce

template <class T, class R>
void sum(const Tensor<T>& x, backend::DimMask reduced, const Tensor<R>& out) {
  const auto p = detail_reduce::plan(x, reduced);
  R* o = out.data_ptr();
  const T* in = x.data_ptr();
  detail_reduce::dispatch(p, x.device(), "reduce_sum", {type_name<T>(), type_name<R>()},
                          [&]<class I>(const KernelLaunch& k) {
                            launch(k, SINEW_CUDA_HOST_KERNEL(reduce_sum<T, R, I>), o, in,
                                   reduce_args<I>(p));
                          });
}

template <class T, class R>
void prod(const Tensor<T>& x, backend::DimMask reduced, const Tensor<R>& out) {
  const auto p = detail_reduce::plan(x, reduced);
  R* o = out.data_ptr();
  const T* in = x.data_ptr();
  detail_reduce::dispatch(p, x.device(), "reduce_prod", {type_name<T>(), type_name<R>()},
                          [&]<class I>(const KernelLaunch& k) {
                            launch(k, SINEW_CUDA_HOST_KERNEL(reduce_prod<T, R, I>), o, in,
                                   reduce_args<I>(p));
                          });
}

template <Quantifier OP, class T>
void all_any(const Tensor<T>& x, backend::DimMask reduced, const Tensor<bool>& out) {
  const auto p = detail_reduce::plan(x, reduced);
  bool* o = out.data_ptr();
  const T* in = x.data_ptr();
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  detail_reduce::dispatch(p, x.device(), "reduce_all_any", {kind_arg(OP), type_name<T>()},
                          [&]<class I>(const KernelLaunch& k) {
                            launch(k, SINEW_CUDA_HOST_KERNEL(reduce_all_any<K, T, I>), o, in,
                                   reduce_args<I>(p));
                          });
}

template <class T>
void extremum(const Tensor<T>& x, backend::DimMask reduced, bool is_max, const Tensor<T>& out) {
  const auto p = detail_reduce::plan(x, reduced);
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const int max = is_max ? 1 : 0;
  detail_reduce::dispatch(
      p, x.device(), "reduce_extremum", {type_name<T>()}, [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(reduce_extremum<T, I>), o, in, reduce_args<I>(p), max);
      });
}

template <class T>
void arg_extremum(const Tensor<T>& x, backend::DimMask reduced, bool is_max,
                  const Tensor<T>& values, const Tensor<int64_t>& indices) {
  const auto p = detail_reduce::plan(x, reduced);
  T* v = values.data_ptr();
  int64_t* ix = indices.data_ptr();
  const T* in = x.data_ptr();
  const int max = is_max ? 1 : 0;
  detail_reduce::dispatch(p, x.device(), "reduce_arg_extremum", {type_name<T>()},
                          [&]<class I>(const KernelLaunch& k) {
                            launch(k, SINEW_CUDA_HOST_KERNEL(reduce_arg_extremum<T, I>), v, ix, in,
                                   reduce_args<I>(p), max);
                          });
}

template <class T>
void var(const Tensor<T>& x, backend::DimMask reduced, double correction, const Tensor<T>& out) {
  const auto p = detail_reduce::plan(x, reduced);
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const double denom = std::max(0.0, static_cast<double>(p.region) - correction);
  detail_reduce::dispatch(
      p, x.device(), "reduce_var", {type_name<T>()}, [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(reduce_var<T, I>), o, in, reduce_args<I>(p), denom);
      });
}

template <class T>
void norm(const Tensor<T>& x, backend::DimMask reduced, double pv, const Tensor<T>& out) {
  const auto p = detail_reduce::plan(x, reduced);
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const int mode = static_cast<int>(norm_mode(pv));
  detail_reduce::dispatch(
      p, x.device(), "reduce_norm", {type_name<T>()}, [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(reduce_norm<T, I>), o, in, reduce_args<I>(p), mode, pv);
      });
}

template <class T>
void logsumexp(const Tensor<T>& x, backend::DimMask reduced, const Tensor<T>& out) {
  const auto p = detail_reduce::plan(x, reduced);
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  detail_reduce::dispatch(
      p, x.device(), "reduce_logsumexp", {type_name<T>()}, [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(reduce_logsumexp<T, I>), o, in, reduce_args<I>(p));
      });
}

template <class T>
void softmax(const Tensor<T>& x, int64_t dim, bool log, const Tensor<T>& out) {
  const auto p = plan_softmax(x.impl(), dim, plan_options(x.device().index()));
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const int log_flag = log ? 1 : 0;
  detail_reduce::dispatch(p, x.device(), "softmax_dim", {type_name<T>()},
                          [&]<class I>(const KernelLaunch& k) {
                            launch(k, SINEW_CUDA_HOST_KERNEL(softmax_dim<T, I>), o, in,
                                   reduce_args<I>(p), static_cast<I>(p.softmax_inner), log_flag);
                          });
}

}  // namespace sinew::backend::cuda
