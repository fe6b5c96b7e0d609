// IndexedModules<Derived, T>: the part Sequential and ModuleList share, submodules held by
// position under the names "0", "1", ... with push_back, indexing and a deep clone.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "sinew/nn/module.hpp"

namespace sinew::nn {

template <class Derived, class T = float>
class IndexedModules : public ModuleT<T> {
 public:
  using ModuleT<T>::ModuleT;

  // Appends under the name std::to_string(size()). Module values are copied (sharing their
  // parameters); a std::shared_ptr is kept as is.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    return this->register_module(std::to_string(size()), std::move(m));
  }
  template <ModuleValue M>
  std::shared_ptr<std::remove_cvref_t<M>> push_back(M&& m) {
    return this->register_module(std::to_string(size()), std::forward<M>(m));
  }
  template <ModuleHandle H>
  auto push_back(H&& holder) {
    return this->register_module(std::to_string(size()), holder.ptr());
  }

  size_t size() const { return this->named_children().size(); }
  bool empty() const { return size() == 0; }

  // The i-th module (an Error when i >= size()).
  const std::shared_ptr<ModuleT<T>>& operator[](size_t i) const {
    SINEW_CHECK(i < size(), this->name().c_str(), "index ", i, " out of range for ", size(),
                " modules");
    return this->named_children().item(i).second;
  }
  // The i-th module as its own type (an Error when it is another type).
  template <class M>
  std::shared_ptr<M> at(size_t i) const {
    auto p = std::dynamic_pointer_cast<M>((*this)[i]);
    SINEW_CHECK(p != nullptr, (this->name() + "::at").c_str(), "module ", i, " is a ",
                (*this)[i]->name(), ", not the type asked for");
    return p;
  }
  auto begin() const { return this->named_children().begin(); }
  auto end() const { return this->named_children().end(); }

  // Deep copy: a clone of each member, the same training mode.
  std::shared_ptr<ModuleT<T>> clone() const override {
    auto copy = std::make_shared<Derived>();
    for (const auto& [key, m] : this->named_children()) copy->push_back(m->clone());
    copy->train(this->is_training());
    return copy;
  }
};

}  // namespace sinew::nn
