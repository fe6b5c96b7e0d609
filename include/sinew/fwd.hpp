// Declarations of Sinew's main types, without their definitions: for a user's own headers that
// name Sinew types in signatures and want to stay cheap to include. Every layer and optimizer is a
// template on the element type with a float alias (nn::Linear = nn::LinearT<float>), declared
// here the same way; the definitions come with sinew/sinew.hpp or the part headers.
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

template <class T>
class LinearT;
using Linear = LinearT<float>;
template <class T>
class Conv1dT;
using Conv1d = Conv1dT<float>;
template <class T>
class Conv2dT;
using Conv2d = Conv2dT<float>;
template <class T>
class ConvTranspose2dT;
using ConvTranspose2d = ConvTranspose2dT<float>;
template <class T>
class MaxPool2dT;
using MaxPool2d = MaxPool2dT<float>;
template <class T>
class AvgPool2dT;
using AvgPool2d = AvgPool2dT<float>;
template <class T>
class BatchNorm1dT;
using BatchNorm1d = BatchNorm1dT<float>;
template <class T>
class BatchNorm2dT;
using BatchNorm2d = BatchNorm2dT<float>;
template <class T>
class LayerNormT;
using LayerNorm = LayerNormT<float>;
template <class T>
class GroupNormT;
using GroupNorm = GroupNormT<float>;
template <class T>
class DropoutT;
using Dropout = DropoutT<float>;
template <class T>
class Dropout2dT;
using Dropout2d = Dropout2dT<float>;
template <class T>
class EmbeddingT;
using Embedding = EmbeddingT<float>;
template <class T>
class ReLUT;
using ReLU = ReLUT<float>;
template <class T>
class TanhT;
using Tanh = TanhT<float>;
template <class T>
class SigmoidT;
using Sigmoid = SigmoidT<float>;
template <class T>
class FlattenT;
using Flatten = FlattenT<float>;
template <class T>
class SequentialT;
using Sequential = SequentialT<float>;
template <class T>
class ModuleListT;
using ModuleList = ModuleListT<float>;
template <class T>
class ModuleDictT;
using ModuleDict = ModuleDictT<float>;
template <class T>
class MSELossT;
using MSELoss = MSELossT<float>;
template <class T>
class CrossEntropyLossT;
using CrossEntropyLoss = CrossEntropyLossT<float>;
template <class T>
class NLLLossT;
using NLLLoss = NLLLossT<float>;
template <class T>
class BCELossT;
using BCELoss = BCELossT<float>;
template <class T>
class BCEWithLogitsLossT;
using BCEWithLogitsLoss = BCEWithLogitsLossT<float>;
}  // namespace nn

namespace optim {
class Optimizer;  // the element-type-free base the LR schedulers take
template <class T>
class OptimizerT;
template <class T>
class SGDT;
using SGD = SGDT<float>;
template <class T>
class AdamT;
using Adam = AdamT<float>;
template <class T>
class AdamWT;
using AdamW = AdamWT<float>;
template <class T>
class RMSpropT;
using RMSprop = RMSpropT<float>;
template <class T>
class AdagradT;
using Adagrad = AdagradT<float>;
template <class T>
class LBFGST;
using LBFGS = LBFGST<float>;
}  // namespace optim

}  // namespace sinew
