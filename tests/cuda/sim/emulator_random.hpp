// The random fills of the CUDA backend as the tests launch them on the emulator: plan
// (backend/cuda/random_plan.hpp), launch kernels/random.cuh on a contiguous output, record the
// instantiation. Each takes the stream a CPU fill draws from (Generator::fill_stream), so a test
// compares with the CPU fill of the same generator state.
#pragma once

#include <cstdint>

#include "sinew/backend/cuda/random_plan.hpp"
#include "sinew/core/random.hpp"

#include "emulator_kernels.hpp"

namespace sinew::emu {

// body.template operator()<I>() for the plan's index type, after recording its name expression.
template <class Body>
void dispatch_fill(const cuda::RandomLaunch& l, Body&& body) {
  if (l.numel == 0) return;
  last_kernel() = l.name_expression();
  if (l.index32)
    body.template operator()<int32_t>();
  else
    body.template operator()<int64_t>();
}

template <class T>
void uniform_fill(const Tensor<T>& out, double from, double to, const RandomStream& s) {
  const auto l = cuda::plan_random_fill<T>("uniform_fill", out.numel(), s, plan_options());
  const auto u = cuda::uniform_params<T>(from, to);
  T* o = out.data_ptr();
  dispatch_fill(l, [&]<class I>() {
    sim::launch(&sinew::uniform_fill<T, I>, l.grid, l.block, 0, o, I(l.numel), l.seed,
                l.first_block, u.from, u.span, u.to_t, u.below_to, u.from_t, u.step_back);
  });
}

template <class T>
void normal_fill(const Tensor<T>& out, double mean, double std, const RandomStream& s) {
  const auto l = cuda::plan_random_fill<T>("normal_fill", out.numel(), s, plan_options());
  T* o = out.data_ptr();
  dispatch_fill(l, [&]<class I>() {
    sim::launch(&sinew::normal_fill<T, I>, l.grid, l.block, 0, o, I(l.numel), l.seed, l.first_block,
                mean, std);
  });
}

template <class T>
void bernoulli_fill(const Tensor<T>& out, double p, const RandomStream& s) {
  const auto l = cuda::plan_random_fill<T>("bernoulli_fill", out.numel(), s, plan_options());
  T* o = out.data_ptr();
  dispatch_fill(l, [&]<class I>() {
    sim::launch(&sinew::bernoulli_fill<T, I>, l.grid, l.block, 0, o, I(l.numel), l.seed,
                l.first_block, p);
  });
}

}  // namespace sinew::emu
