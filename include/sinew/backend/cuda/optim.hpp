// The fused optimizer steps of the CUDA backend (kernels/optim.cuh) with backend::cpu's
// signatures: SGD (momentum, nesterov), Adam/AdamW (amsgrad), RMSprop (momentum, centered) and
// Adagrad, one pass over a parameter, its gradient and its state buffers. Each plans the launch
// (optim_plan.hpp, with the per-type scalars of backend/optim_step.hpp), names the instantiation
// and launches it (launch.hpp) on the parameter's device. An undefined optional buffer is a null
// pointer, and the kernel instantiation that does not read it.
#pragma once

#include <cstdint>

#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/optim_plan.hpp"
#include "sinew/backend/optim_step.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

namespace detail_optim {

// body.template operator()<I, V>(launch) for the plan's index type and vector width. Nothing runs
// for an empty parameter.
template <class Scalars, class Body>
void dispatch(const OptimLaunch<Scalars>& l, const Device& device, Body&& body) {
  if (l.numel == 0) return;
  const KernelLaunch k = kernel_launch(device, kOptim, l.name_expression(), l.grid, l.block);
  with_index_type(l.index32, [&]<class I>() {
    with_vector_width(l.vec, [&]<int V>() { body.template operator()<I, V>(k); });
  });
}

template <class T>
T* ptr_or_null(const Tensor<T>& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

}  // namespace detail_optim

template <class T>
void sgd_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& momentum_buffer,
              const backend::SgdStep& s) {
  const auto l =
      plan_sgd_step(param, grad, momentum_buffer, s, plan_options(param.device().index()));
  T *w = param.data_ptr(), *buf = detail_optim::ptr_or_null(momentum_buffer);
  const T* g = grad.data_ptr();
  detail_optim::dispatch(l, param.device(), [&]<class I, int V>(const KernelLaunch& k) {
    const I n(l.numel);
    if (buf != nullptr)
      launch(k, SINEW_CUDA_HOST_KERNEL(sgd_step_flat<T, true, I, V>), w, g, buf, n, l.scalars);
    else
      launch(k, SINEW_CUDA_HOST_KERNEL(sgd_step_flat<T, false, I, V>), w, g, buf, n, l.scalars);
  });
}

template <class T>
void adam_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& exp_avg,
               const Tensor<T>& exp_avg_sq, const Tensor<T>& max_exp_avg_sq,
               const backend::AdamStep& s) {
  const auto l = plan_adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, s,
                                plan_options(param.device().index()));
  T *w = param.data_ptr(), *m = exp_avg.data_ptr(), *v = exp_avg_sq.data_ptr();
  T* vmax = detail_optim::ptr_or_null(max_exp_avg_sq);
  const T* g = grad.data_ptr();
  detail_optim::dispatch(l, param.device(), [&]<class I, int V>(const KernelLaunch& k) {
    const I n(l.numel);
    if (vmax != nullptr)
      launch(k, SINEW_CUDA_HOST_KERNEL(adam_step_flat<T, true, I, V>), w, g, m, v, vmax, n,
             l.scalars);
    else
      launch(k, SINEW_CUDA_HOST_KERNEL(adam_step_flat<T, false, I, V>), w, g, m, v, vmax, n,
             l.scalars);
  });
}

template <class T>
void rmsprop_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& square_avg,
                  const Tensor<T>& momentum_buffer, const Tensor<T>& grad_avg,
                  const backend::RmspropStep& s) {
  const auto l = plan_rmsprop_step(param, grad, square_avg, momentum_buffer, grad_avg, s,
                                   plan_options(param.device().index()));
  T *w = param.data_ptr(), *sq = square_avg.data_ptr();
  T *buf = detail_optim::ptr_or_null(momentum_buffer), *ga = detail_optim::ptr_or_null(grad_avg);
  const T* g = grad.data_ptr();
  detail_optim::dispatch(l, param.device(), [&]<class I, int V>(const KernelLaunch& k) {
    const I n(l.numel);
    const auto& c = l.scalars;
    if (buf != nullptr && ga != nullptr)
      launch(k, SINEW_CUDA_HOST_KERNEL(rmsprop_step_flat<T, true, true, I, V>), w, g, sq, buf, ga,
             n, c);
    else if (buf != nullptr)
      launch(k, SINEW_CUDA_HOST_KERNEL(rmsprop_step_flat<T, true, false, I, V>), w, g, sq, buf, ga,
             n, c);
    else if (ga != nullptr)
      launch(k, SINEW_CUDA_HOST_KERNEL(rmsprop_step_flat<T, false, true, I, V>), w, g, sq, buf, ga,
             n, c);
    else
      launch(k, SINEW_CUDA_HOST_KERNEL(rmsprop_step_flat<T, false, false, I, V>), w, g, sq, buf, ga,
             n, c);
  });
}

template <class T>
void adagrad_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& sum,
                  const backend::AdagradStep& s) {
  const auto l = plan_adagrad_step(param, grad, sum, s, plan_options(param.device().index()));
  T *w = param.data_ptr(), *acc = sum.data_ptr();
  const T* g = grad.data_ptr();
  detail_optim::dispatch(l, param.device(), [&]<class I, int V>(const KernelLaunch& k) {
    launch(k, SINEW_CUDA_HOST_KERNEL(adagrad_step_flat<T, I, V>), w, g, acc, I(l.numel), l.scalars);
  });
}

}  // namespace sinew::backend::cuda
