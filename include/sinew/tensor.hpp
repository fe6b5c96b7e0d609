// Sinew's tensors and autograd: Tensor<T>, every op, the CPU kernels, backward, gradcheck. A
// program that needs no layers, optimizers or files includes this alone.
#pragma once

// In dependency order, not alphabetical:
// clang-format off
#include "sinew/core/device.hpp"
#include "sinew/core/dtype.hpp"
#include "sinew/core/promotion.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/deterministic.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/shape.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/core/print.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/autograd/grad_mode.hpp"
#include "sinew/autograd/node.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/compare.hpp"
#include "sinew/ops/arithmetic.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/view.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/shape.hpp"
#include "sinew/ops/scan.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/sort.hpp"
#include "sinew/ops/linalg.hpp"
#include "sinew/ops/conv.hpp"
#include "sinew/ops/pool.hpp"
#include "sinew/ops/normalization.hpp"
#include "sinew/autograd/engine.hpp"
#include "sinew/autograd/function.hpp"
#include "sinew/autograd/gradcheck.hpp"
// clang-format on
