// The random fills of the CPU backend: uniform, normal and bernoulli values of the Philox stream a
// RandomStream names (core/random.hpp) into a contiguous tensor. Element i's value depends only on
// the stream and i, so the fill runs in parallel chunks and gives the same numbers for any thread
// count, and the same as the CUDA backend's fills.
#pragma once

#include <cstdint>

#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

namespace detail_random {
// out[i] = value(i) over the contiguous output, in parallel chunks.
template <class T, class F>
void fill_each(const Tensor<T>& out, int64_t cost, F&& value) {
  T* o = out.data_ptr();
  parallel_for(out.numel(), cost, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = value(i);
  });
}
}  // namespace detail_random

// uniform_(from, to) (core/random.hpp's UniformParams).
template <class T>
void uniform_fill(const Tensor<T>& out, double from, double to, const RandomStream& s) {
  const UniformParams<T> u = uniform_params<T>(from, to);
  detail_random::fill_each(out, 16, [&](int64_t i) { return u(s.uniform(i)); });
}

// normal_(mean, std): T(mean + std * z), z the stream's standard normal.
template <class T>
void normal_fill(const Tensor<T>& out, double mean, double std, const RandomStream& s) {
  detail_random::fill_each(out, 64,
                           [&](int64_t i) { return static_cast<T>(mean + std * s.normal(i)); });
}

// bernoulli_(p): 1 where the element's uniform is below p, else 0 (any element type).
template <class T>
void bernoulli_fill(const Tensor<T>& out, double p, const RandomStream& s) {
  detail_random::fill_each(out, 16,
                           [&](int64_t i) { return static_cast<T>(s.uniform(i) < p ? 1.0 : 0.0); });
}

}  // namespace sinew::backend::cpu
