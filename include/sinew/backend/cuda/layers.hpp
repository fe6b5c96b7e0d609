// The layer kernels of the kernel list (convolution, pooling, normalization, recurrent cells) on
// the CUDA backend. They are not in this version: each raises sinew::Error naming the kernel and
// the device, so that a layer on a CUDA tensor fails at its first kernel instead of computing on
// the wrong memory. The tensor ops, GEMM and the optimizer steps are in the other headers.
#pragma once

#include "sinew/backend/kernels.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

namespace detail_layers {
[[noreturn, gnu::cold]] inline void unsupported(const char* kernel) {
  ::sinew::detail::fail(kernel,
                        "this layer kernel is not implemented on CUDA in this version of "
                        "Sinew (convolution, pooling, normalization and recurrent layers "
                        "run on the CPU: move the model and its inputs with .to(Device::cpu()))");
}
}  // namespace detail_layers

#define SINEW_CUDA_LAYER_KERNEL_(name)          \
  template <class... A>                         \
  void name(const A&...) {                      \
    detail_layers::unsupported("cuda::" #name); \
  }
SINEW_CONV_POOL_KERNELS(SINEW_CUDA_LAYER_KERNEL_)
SINEW_NORMALIZATION_KERNELS(SINEW_CUDA_LAYER_KERNEL_)
SINEW_RNN_KERNELS(SINEW_CUDA_LAYER_KERNEL_)
#undef SINEW_CUDA_LAYER_KERNEL_

}  // namespace sinew::backend::cuda
