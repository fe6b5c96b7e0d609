// Declarations of Sinew's main types, without their definitions: for headers of a user's own
// that name Sinew types in signatures and want to stay cheap to include.
#pragma once

#include <cstdint>

namespace sinew {

template <class T>
class Tensor;
class Shape;
class Device;
class Error;
class Generator;
enum class DType : uint8_t;

namespace autograd {
class Node;
}  // namespace autograd

namespace nn {
template <class T>
class ModuleT;
using Module = ModuleT<float>;
}  // namespace nn

namespace optim {
class Optimizer;
}  // namespace optim

}  // namespace sinew
