// Sinew's optimizers and learning-rate schedulers (includes sinew/tensor.hpp and nn::Module).
#pragma once

// In dependency order, not alphabetical:
// clang-format off
#include "sinew/tensor.hpp"
#include "sinew/optim/optimizer.hpp"
#include "sinew/optim/sgd.hpp"
#include "sinew/optim/adam.hpp"
#include "sinew/optim/rmsprop.hpp"
#include "sinew/optim/adagrad.hpp"
#include "sinew/optim/lbfgs.hpp"
#include "sinew/optim/scheduler.hpp"
// clang-format on
