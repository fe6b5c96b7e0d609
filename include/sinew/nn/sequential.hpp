// nn::Sequential: a chain of modules named "0", "1", ... whose forward feeds each output to the
// next.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "sinew/nn/module.hpp"

namespace sinew::nn {

// y = m_{n-1}(... m_1(m_0(x))); an empty Sequential returns x. Members are shared handles: a
// module value passed in is copied (sharing its parameters), a std::shared_ptr is kept as is.
//   nn::Sequential mlp(nn::Flatten(), nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
//   state_dict keys: "1.weight", "1.bias", "3.weight", "3.bias".
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}

  // Any mix of module values and std::shared_ptr's to modules (one Sequential argument alone is
  // the shallow copy constructor instead).
  // clang-format off
  template <class... Ms>
    requires(sizeof...(Ms) > 0 &&
             !(sizeof...(Ms) == 1 && (std::is_same_v<std::remove_cvref_t<Ms>, Sequential> && ...)))
  explicit Sequential(Ms&&... modules) : Module("Sequential") {
    (push_back(std::forward<Ms>(modules)), ...);
  }
  // clang-format on

  // Appends under the name std::to_string(size()).
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    return register_module(std::to_string(size()), std::move(m));
  }
  template <ModuleValue M>
  std::shared_ptr<std::remove_cvref_t<M>> push_back(M&& m) {
    return register_module(std::to_string(size()), std::forward<M>(m));
  }

  size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }

  // The i-th module (an Error when i >= size()).
  const std::shared_ptr<Module>& operator[](size_t i) const {
    SINEW_CHECK(i < size(), "Sequential", "index ", i, " out of range for ", size(), " modules");
    return named_children().item(i).second;
  }
  // The i-th module as its own type (an Error when it is another type).
  template <class M>
  std::shared_ptr<M> at(size_t i) const {
    auto p = std::dynamic_pointer_cast<M>((*this)[i]);
    SINEW_CHECK(p != nullptr, "Sequential::at", "module ", i, " is a ", (*this)[i]->name(),
                ", not the type asked for");
    return p;
  }
  auto begin() const { return named_children().begin(); }
  auto end() const { return named_children().end(); }

  Tensor<float> forward(const Tensor<float>& x) override {
    Tensor<float> y = x;
    for (const auto& [name, m] : named_children()) y = m->forward(y);
    return y;
  }

  // Deep copy: a clone of each member, the same training mode.
  std::shared_ptr<Module> clone() const override {
    auto copy = std::make_shared<Sequential>();
    for (const auto& [name, m] : named_children()) copy->push_back(m->clone());
    copy->train(is_training());
    return copy;
  }
};

}  // namespace sinew::nn
