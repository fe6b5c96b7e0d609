// The random fills of the CUDA backend (kernels/random.cuh): uniform, normal and bernoulli from
// the Philox stream a RandomStream names (core/random.hpp), bitwise the numbers the CPU backend
// draws for the same stream. Each plans the launch (random_plan.hpp), names the instantiation and
// launches it (launch.hpp) on the output's device.
#pragma once

#include <cstdint>

#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/random_plan.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

namespace detail_random {

// body.template operator()<I>(launch) for the plan's index type.
template <class Body>
void dispatch(const RandomLaunch& l, const Device& device, Body&& body) {
  if (l.numel == 0) return;
  const KernelLaunch k = kernel_launch(device, kRandom, l.name_expression(), l.grid, l.block);
  with_index_type(l.index32, [&]<class I>() { body.template operator()<I>(k); });
}

}  // namespace detail_random

template <class T>
void uniform_fill(const Tensor<T>& out, double from, double to, const RandomStream& s) {
  const auto l =
      plan_random_fill<T>("uniform_fill", out.numel(), s, plan_options(out.device().index()));
  const auto u = uniform_params<T>(from, to);
  T* o = out.data_ptr();
  detail_random::dispatch(l, out.device(), [&]<class I>(const KernelLaunch& k) {
    launch(k, SINEW_CUDA_HOST_KERNEL(uniform_fill<T, I>), o, I(l.numel), l.seed, l.first_block,
           u.from, u.span, u.to_t, u.below_to, u.from_t, u.step_back);
  });
}

template <class T>
void normal_fill(const Tensor<T>& out, double mean, double std, const RandomStream& s) {
  const auto l =
      plan_random_fill<T>("normal_fill", out.numel(), s, plan_options(out.device().index()));
  T* o = out.data_ptr();
  detail_random::dispatch(l, out.device(), [&]<class I>(const KernelLaunch& k) {
    launch(k, SINEW_CUDA_HOST_KERNEL(normal_fill<T, I>), o, I(l.numel), l.seed, l.first_block, mean,
           std);
  });
}

template <class T>
void bernoulli_fill(const Tensor<T>& out, double p, const RandomStream& s) {
  const auto l =
      plan_random_fill<T>("bernoulli_fill", out.numel(), s, plan_options(out.device().index()));
  T* o = out.data_ptr();
  detail_random::dispatch(l, out.device(), [&]<class I>(const KernelLaunch& k) {
    launch(k, SINEW_CUDA_HOST_KERNEL(bernoulli_fill<T, I>), o, I(l.numel), l.seed, l.first_block,
           p);
  });
}

}  // namespace sinew::backend::cuda
