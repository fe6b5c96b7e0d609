// nn::functional (alias nn::F): every functional op family in one namespace, PyTorch's
// torch.nn.functional. Includes the headers that define their ops there (activations, dropout,
// embedding, convolution and pad modes, pooling, normalization, losses) and brings the tensor ops
// that are layers' math into it with using-declarations, so user code writes nn::F::relu(x),
// nn::F::linear(x, w, b), nn::F::conv2d(x, w, b, {.padding = 1}), nn::F::cross_entropy(y, t).
#pragma once

#include "sinew/nn/activation.hpp"
#include "sinew/nn/dropout.hpp"
#include "sinew/nn/embedding.hpp"
#include "sinew/nn/loss.hpp"
#include "sinew/ops/conv.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/linalg.hpp"
#include "sinew/ops/normalization.hpp"
#include "sinew/ops/pool.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/shape.hpp"

namespace sinew::nn::functional {

// Activations (ops/elementwise.hpp, ops/reduce.hpp); selu, hardtanh, prelu and maxout are defined
// in this namespace by nn/activation.hpp.
using sinew::elu;
using sinew::gelu;
using sinew::leaky_relu;
using sinew::log_softmax;
using sinew::relu;
using sinew::sigmoid;
using sinew::silu;
using sinew::softmax;
using sinew::softplus;
using sinew::tanh;
// Linear layers (ops/linalg.hpp) and constant padding (ops/shape.hpp; the reflect, replicate and
// circular modes are nn::functional::pad(x, pads, mode) in ops/conv.hpp).
using sinew::linear;
using sinew::pad;

}  // namespace sinew::nn::functional

namespace sinew::nn {
namespace F = functional;
}  // namespace sinew::nn
