// Host-side launch planning for the CUDA random fills (kernels/random.cuh): the index width and
// grid of a fill of n elements (one Philox block, two elements, per grid-stride step) and the
// scalar parameters of uniform_, normal_ and bernoulli_ as the CPU computes them. Pure host logic
// with no CUDA headers, shared by the backend and the emulator tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/core/dtype.hpp"
#include "sinew/core/random.hpp"

namespace sinew::backend::cuda {

// One launch of a random fill kernel (<kernel><T, I>) over a contiguous output of numel elements
// whose values are those of `stream`.
struct RandomLaunch {
  const char* kernel = "";  // "uniform_fill", "normal_fill", "bernoulli_fill"
  DType dtype = DType::Float32;
  int64_t numel = 0;  // 0: nothing to launch
  bool index32 = false;
  uint32_t grid = 0, block = 0;
  uint64_t seed = 0, first_block = 0;  // the stream: Philox block first_block + p gives pair p

  // What NVRTC is asked for: "sinew::normal_fill<float, sinew::int32_t>".
  std::string name_expression() const {
    return cuda::name_expression(
        kernel, std::vector<std::string>{type_name(dtype), index_type_name(index32)});
  }
};

template <class T>
RandomLaunch plan_random_fill(const char* kernel, int64_t numel, const RandomStream& stream,
                              const PlanOptions& options = {}) {
  RandomLaunch l;
  l.kernel = kernel;
  l.dtype = dtype_of<T>();
  l.numel = numel;
  l.seed = stream.seed;
  l.first_block = stream.block;
  if (numel == 0) return l;
  const int64_t pairs = (numel + 1) / 2;
  l.block = static_cast<uint32_t>(options.block);
  l.grid = grid_blocks(pairs, options.block, options);
  // 32 bits when every element index of the last grid-stride step past the end fits int32_t.
  constexpr int64_t lim = std::numeric_limits<int32_t>::max();
  l.index32 = !options.force_index64 && 2 * (pairs + int64_t{l.grid} * l.block) + 1 <= lim;
  return l;
}

}  // namespace sinew::backend::cuda
