// Every kernel of the CUDA backend, and the compile-time proof that it provides the whole kernel
// list (backend/kernels.hpp). The ops include this header in a build with SINEW_WITH_CUDA, so that
// SINEW_DISPATCH finds backend::cuda::<kernel> next to backend::cpu::<kernel>.
#pragma once

#include "sinew/backend/cuda/elementwise.hpp"
#include "sinew/backend/cuda/gemm.hpp"
#include "sinew/backend/cuda/index.hpp"
#include "sinew/backend/cuda/layers.hpp"
#include "sinew/backend/cuda/optim.hpp"
#include "sinew/backend/cuda/random.hpp"
#include "sinew/backend/cuda/reduce.hpp"
#include "sinew/backend/cuda/scan.hpp"
#include "sinew/backend/kernels.hpp"

#define SINEW_CUDA_KERNEL_(name) using ::sinew::backend::cuda::name;
namespace sinew::backend::cuda::detail_kernel_list {
SINEW_BACKEND_KERNELS(SINEW_CUDA_KERNEL_)
}  // namespace sinew::backend::cuda::detail_kernel_list
#undef SINEW_CUDA_KERNEL_
