// The optimizer steps of the CUDA backend as the tests launch them on the emulator: plan
// (backend/cuda/optim_plan.hpp), choose the instantiation, launch kernels/optim.cuh. Each
// mirrors a backend::cpu step's signature, so a test runs both on the same tensors and compares.
#pragma once

#include <bit>
#include <cstdint>

#include "sinew/backend/cuda/optim_plan.hpp"
#include "sinew/backend/optim_step.hpp"

#include "emulator_kernels.hpp"

namespace sinew::emu {

// body.template operator()<I, V>() for the plan's index type and vector width; records the name
// expression. Nothing runs for an empty parameter.
template <class Scalars, class Body>
void dispatch_step(const cuda::OptimLaunch<Scalars>& l, Body&& body) {
  if (l.numel == 0) return;
  last_kernel() = l.name_expression();
  auto with_index = [&]<class I>() {
    if (l.vec == 4) {
      body.template operator()<I, 4>();
    } else if (l.vec == 2) {
      body.template operator()<I, 2>();
    } else {
      body.template operator()<I, 1>();
    }
  };
  if (l.index32)
    with_index.template operator()<int32_t>();
  else
    with_index.template operator()<int64_t>();
}

template <class T>
T* ptr_or_null(const Tensor<T>& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

template <class T>
void sgd_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& momentum_buffer,
              const backend::SgdStep& s) {
  const auto l = cuda::plan_sgd_step(param, grad, momentum_buffer, s, plan_options());
  const auto c = std::bit_cast<dev::SgdScalars<T>>(l.scalars);
  T *w = param.data_ptr(), *buf = ptr_or_null(momentum_buffer);
  const T* g = grad.data_ptr();
  dispatch_step(l, [&]<class I, int V>() {
    if (buf != nullptr)
      sim::launch(&sgd_step_flat<T, true, I, V>, l.grid, l.block, 0, w, g, buf, I(l.numel), c);
    else
      sim::launch(&sgd_step_flat<T, false, I, V>, l.grid, l.block, 0, w, g, buf, I(l.numel), c);
  });
}

template <class T>
void adam_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& exp_avg,
               const Tensor<T>& exp_avg_sq, const Tensor<T>& max_exp_avg_sq,
               const backend::AdamStep& s) {
  const auto l =
      cuda::plan_adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, s, plan_options());
  const auto c = std::bit_cast<dev::AdamScalars<T>>(l.scalars);
  T *w = param.data_ptr(), *m = exp_avg.data_ptr(), *v = exp_avg_sq.data_ptr();
  T* vmax = ptr_or_null(max_exp_avg_sq);
  const T* g = grad.data_ptr();
  dispatch_step(l, [&]<class I, int V>() {
    if (vmax != nullptr)
      sim::launch(&adam_step_flat<T, true, I, V>, l.grid, l.block, 0, w, g, m, v, vmax, I(l.numel),
                  c);
    else
      sim::launch(&adam_step_flat<T, false, I, V>, l.grid, l.block, 0, w, g, m, v, vmax, I(l.numel),
                  c);
  });
}

template <class T>
void rmsprop_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& square_avg,
                  const Tensor<T>& momentum_buffer, const Tensor<T>& grad_avg,
                  const backend::RmspropStep& s) {
  const auto l = cuda::plan_rmsprop_step(param, grad, square_avg, momentum_buffer, grad_avg, s,
                                         plan_options());
  const auto c = std::bit_cast<dev::RmspropScalars<T>>(l.scalars);
  T *w = param.data_ptr(), *sq = square_avg.data_ptr();
  T *buf = ptr_or_null(momentum_buffer), *ga = ptr_or_null(grad_avg);
  const T* g = grad.data_ptr();
  dispatch_step(l, [&]<class I, int V>() {
    const I n(l.numel);
    if (buf != nullptr && ga != nullptr)
      sim::launch(&rmsprop_step_flat<T, true, true, I, V>, l.grid, l.block, 0, w, g, sq, buf, ga, n,
                  c);
    else if (buf != nullptr)
      sim::launch(&rmsprop_step_flat<T, true, false, I, V>, l.grid, l.block, 0, w, g, sq, buf, ga,
                  n, c);
    else if (ga != nullptr)
      sim::launch(&rmsprop_step_flat<T, false, true, I, V>, l.grid, l.block, 0, w, g, sq, buf, ga,
                  n, c);
    else
      sim::launch(&rmsprop_step_flat<T, false, false, I, V>, l.grid, l.block, 0, w, g, sq, buf, ga,
                  n, c);
  });
}

template <class T>
void adagrad_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& sum,
                  const backend::AdagradStep& s) {
  const auto l = cuda::plan_adagrad_step(param, grad, sum, s, plan_options());
  const auto c = std::bit_cast<dev::AdagradScalars<T>>(l.scalars);
  T *w = param.data_ptr(), *acc = sum.data_ptr();
  const T* g = grad.data_ptr();
  dispatch_step(l, [&]<class I, int V>() {
    sim::launch(&adagrad_step_flat<T, I, V>, l.grid, l.block, 0, w, g, acc, I(l.numel), c);
  });
}

}  // namespace sinew::emu
