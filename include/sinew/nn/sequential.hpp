// nn::Sequential (nn::SequentialT<T>): a chain of modules named "0", "1", ... whose forward feeds
// each output to the next.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "sinew/nn/indexed_modules.hpp"
#include "sinew/nn/module.hpp"

namespace sinew::nn {

// y = m_{n-1}(... m_1(m_0(x))); an empty Sequential returns x. Members are shared handles: a
// module value passed in is copied (sharing its parameters), a std::shared_ptr is kept as is.
//   nn::Sequential mlp(nn::Flatten(), nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
//   state_dict keys: "1.weight", "1.bias", "3.weight", "3.bias".
template <class T = float>
class SequentialT : public IndexedModules<SequentialT<T>, T> {
 public:
  SequentialT() : IndexedModules<SequentialT<T>, T>("Sequential") {}

  // Any mix of module values and std::shared_ptr's to modules (one Sequential argument alone is
  // the shallow copy constructor instead).
  // clang-format off
  template <class... Ms>
    requires(sizeof...(Ms) > 0 &&
             !(sizeof...(Ms) == 1 && (std::is_same_v<std::remove_cvref_t<Ms>, SequentialT> && ...)))
  explicit SequentialT(Ms&&... modules) : IndexedModules<SequentialT<T>, T>("Sequential") {
    (this->push_back(std::forward<Ms>(modules)), ...);
  }
  // clang-format on

  Tensor<T> forward(const Tensor<T>& x) override {
    Tensor<T> y = x;
    for (const auto& [name, m] : this->named_children()) y = (*m)(y);  // runs the member's hooks
    return y;
  }
};

using Sequential = SequentialT<float>;

}  // namespace sinew::nn
