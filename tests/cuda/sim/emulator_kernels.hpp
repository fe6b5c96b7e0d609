// Sinew's CUDA kernel sources compiled as host C++ for the emulator, and the CUDA backend's kernel
// functions built to launch them there (SINEW_CUDA_EMULATED_KERNELS, backend/cuda/launch.hpp):
// the backend's own planning and instantiation choice, run on the emulator. Each has a
// backend::cpu kernel's signature, so a test runs both on the same tensors (host memory) and
// compares.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/kinds.hpp"

#include "emulator.hpp"  // after Sinew's headers: it defines threadIdx, blockDim, ... as macros

// The prelude's op-kind enums: in NVRTC programs the text source.hpp generates, here the host's.
namespace sinew {
using backend::Binary;
using backend::Classify;
using backend::Compare;
using backend::Logical;
using backend::Quantifier;
using backend::Scan;
using backend::Unary;
}  // namespace sinew

// The prelude first: the fragments use what it defines.
#include <sinew_host_kernels/prelude.cuh>

#include <sinew_host_kernels/elementwise.cuh>
#include <sinew_host_kernels/index.cuh>
#include <sinew_host_kernels/layers.cuh>
#include <sinew_host_kernels/optim.cuh>
#include <sinew_host_kernels/random.cuh>
#include <sinew_host_kernels/reduce.cuh>
#include <sinew_host_kernels/scan.cuh>

// The CUDA backend's kernel functions, launching the host kernels above on the emulator.
#ifndef SINEW_CUDA_EMULATED_KERNELS
#define SINEW_CUDA_EMULATED_KERNELS 1
#endif
#include "sinew/backend/cuda/elementwise.hpp"
#include "sinew/backend/cuda/gemm.hpp"
#include "sinew/backend/cuda/index.hpp"
#include "sinew/backend/cuda/layers.hpp"
#include "sinew/backend/cuda/optim.hpp"
#include "sinew/backend/cuda/random.hpp"
#include "sinew/backend/cuda/reduce.hpp"
#include "sinew/backend/cuda/scan.hpp"

namespace sinew::emu {

namespace cuda = backend::cuda;

// The plan options of the next launches (tests shrink block and grid so that grid-stride loops
// take several steps and blocks end part-way): the launch code's per-thread override.
inline cuda::PlanOptions& plan_options() {
  std::optional<cuda::PlanOptions>& o = cuda::plan_options_override();
  if (!o) o.emplace();
  return *o;
}

// The name expression of the last instantiation launched (what NVRTC would be asked for).
inline std::string& last_kernel() { return cuda::last_launched_kernel(); }

// The backend functions the tests launch (elementwise, indexing, reductions, scans and
// compactions, optimizer steps, random fills).
using cuda::adagrad_step;
using cuda::adam_step;
using cuda::all_any;
using cuda::arg_extremum;
using cuda::bernoulli_fill;
using cuda::binary_op;
using cuda::classify_op;
using cuda::compare_op;
using cuda::compare_scalar_op;
using cuda::copy;
using cuda::count_nonzero;
using cuda::count_true;
using cuda::extremum;
using cuda::fill;
using cuda::flip;
using cuda::gather;
using cuda::gemm;
using cuda::isclose;
using cuda::logical_op;
using cuda::logsumexp;
using cuda::masked_fill;
using cuda::masked_scatter;
using cuda::masked_select;
using cuda::nonzero;
using cuda::norm;
using cuda::normal_fill;
using cuda::prod;
using cuda::rmsprop_step;
using cuda::scan;
using cuda::scatter_add;
using cuda::sgd_step;
using cuda::softmax;
using cuda::sort;
using cuda::sum;
using cuda::unary_op;
using cuda::uniform_fill;
using cuda::var;
using cuda::where;

}  // namespace sinew::emu
