// Sinew's data layer: IDX files (plain or gzip), the Dataset concept and its combinators
// (TensorDataset, Subset, random_split, ConcatDataset), MNIST and Fashion-MNIST.
#pragma once

// In dependency order, not alphabetical:
// clang-format off
#include "sinew/data/idx.hpp"
#include "sinew/data/dataset.hpp"
#include "sinew/data/mnist.hpp"
// clang-format on
