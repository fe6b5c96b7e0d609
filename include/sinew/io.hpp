// Sinew's files: safetensors read and write, module, optimizer and plain tensor save/load (the one
// part of Sinew that parses JSON).
#pragma once

// In dependency order, not alphabetical:
// clang-format off
#include "sinew/tensor.hpp"
#include "sinew/io/safetensors.hpp"
#include "sinew/io/tensors.hpp"
#include "sinew/optim/serialize.hpp"
// clang-format on
