// Sinew's data layer: IDX files (plain or gzip), the Dataset concept and its combinators
// (TensorDataset, Subset, random_split, ConcatDataset), MNIST and Fashion-MNIST, the DataLoader
// (shuffled batches, background workers) and per-example image transforms.
#pragma once

// In dependency order, not alphabetical:
// clang-format off
#include "sinew/data/idx.hpp"
#include "sinew/data/dataset.hpp"
#include "sinew/data/mnist.hpp"
#include "sinew/data/transforms.hpp"
#include "sinew/data/dataloader.hpp"
// clang-format on
