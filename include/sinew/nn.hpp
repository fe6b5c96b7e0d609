// Sinew's layers: nn::Module, the containers, every layer and loss, nn::F, init, summary and the
// gradient utilities (includes sinew/tensor.hpp).
#pragma once

// In dependency order, not alphabetical:
// clang-format off
#include "sinew/tensor.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/nn/init.hpp"
#include "sinew/nn/linear.hpp"
#include "sinew/nn/activation.hpp"
#include "sinew/nn/dropout.hpp"
#include "sinew/nn/loss.hpp"
#include "sinew/nn/utils.hpp"
#include "sinew/nn/conv.hpp"
#include "sinew/nn/pooling.hpp"
#include "sinew/nn/normalization.hpp"
#include "sinew/nn/embedding.hpp"
#include "sinew/nn/rnn.hpp"
#include "sinew/nn/sequential.hpp"
#include "sinew/nn/container.hpp"
#include "sinew/nn/summary.hpp"
#include "sinew/nn/functional.hpp"
// clang-format on
