// Sinew: header-only tensors, autograd and neural networks. Include this one header, or only the
// parts a program uses: sinew/tensor.hpp (tensors, ops, autograd), sinew/nn.hpp (layers, losses),
// sinew/optim.hpp (optimizers, schedulers), sinew/io.hpp (safetensors, state files),
// sinew/data.hpp (IDX files, datasets, MNIST and Fashion-MNIST); sinew/fwd.hpp declares the main
// types without defining them.
#pragma once

// In dependency order, not alphabetical:
// clang-format off
#include "sinew/fwd.hpp"
#include "sinew/tensor.hpp"
#include "sinew/nn.hpp"
#include "sinew/optim.hpp"
#include "sinew/io.hpp"
#include "sinew/data.hpp"
// clang-format on

// The CUDA backend's sinew::cuda functions (synchronize, memory statistics, empty_cache, ...).
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/public.hpp"
#endif
