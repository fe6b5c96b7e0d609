// Module containers besides Sequential: ModuleList (indexed, names "0", "1", ...), ModuleDict
// (named), and Functional (a function of one tensor as a layer, e.g. inside a Sequential).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/nn/indexed_modules.hpp"
#include "sinew/nn/module.hpp"

namespace sinew::nn {

// Holds submodules by index; it has no forward of its own (the owner decides how to use them).
//   layers = register_module("layers", nn::ModuleList());
//   for (int i = 0; i < 3; ++i) layers->push_back(nn::Linear(8, 8));   // "layers.0.weight", ...
template <class T = float>
class ModuleListT : public IndexedModules<ModuleListT<T>, T> {
 public:
  ModuleListT() : IndexedModules<ModuleListT<T>, T>("ModuleList") {}
  // clang-format off
  template <class... Ms>
    requires(sizeof...(Ms) > 0 &&
             !(sizeof...(Ms) == 1 && (std::is_same_v<std::remove_cvref_t<Ms>, ModuleListT> && ...)))
  explicit ModuleListT(Ms&&... modules) : IndexedModules<ModuleListT<T>, T>("ModuleList") {
    (this->push_back(std::forward<Ms>(modules)), ...);
  }
  // clang-format on
};

using ModuleList = ModuleListT<float>;

// Holds submodules by name, in insertion order; keys are the state-dict prefixes.
template <class T = float>
class ModuleDictT : public ModuleT<T> {
 public:
  ModuleDictT() : ModuleT<T>("ModuleDict") {}

  template <class M>
  std::shared_ptr<M> insert(const std::string& key, std::shared_ptr<M> m) {
    return this->register_module(key, std::move(m));
  }
  template <ModuleValue M>
  std::shared_ptr<std::remove_cvref_t<M>> insert(const std::string& key, M&& m) {
    return this->register_module(key, std::forward<M>(m));
  }
  template <ModuleHandle H>
  auto insert(const std::string& key, H&& holder) {
    return this->register_module(key, holder.ptr());
  }

  size_t size() const { return this->named_children().size(); }
  bool empty() const { return size() == 0; }
  bool contains(const std::string& key) const { return this->named_children().contains(key); }
  std::vector<std::string> keys() const { return this->named_children().keys(); }
  const std::shared_ptr<ModuleT<T>>& operator[](const std::string& key) const {
    const std::shared_ptr<ModuleT<T>>* m = this->named_children().find(key);
    SINEW_CHECK(m != nullptr, "ModuleDict", "no module named '", key, "' (keys ",
                detail::join_keys(keys()), ")");
    return *m;
  }
  template <class M>
  std::shared_ptr<M> at(const std::string& key) const {
    auto p = std::dynamic_pointer_cast<M>((*this)[key]);
    SINEW_CHECK(p != nullptr, "ModuleDict::at", "module '", key, "' is a ", (*this)[key]->name(),
                ", not the type asked for");
    return p;
  }
  auto begin() const { return this->named_children().begin(); }
  auto end() const { return this->named_children().end(); }

  std::shared_ptr<ModuleT<T>> clone() const override {
    auto copy = std::make_shared<ModuleDictT>();
    for (const auto& [name, m] : this->named_children()) copy->insert(name, m->clone());
    copy->train(this->is_training());
    return copy;
  }
};

using ModuleDict = ModuleDictT<float>;

// A layer made from a function of one tensor (no parameters of its own; whatever the function
// captures is shared by clones):  nn::Sequential(nn::Linear(4, 4), nn::Functional(relu<float>)).
template <class T = float>
class FunctionalT : public Cloneable<FunctionalT<T>, T> {
 public:
  using Function = std::function<Tensor<T>(const Tensor<T>&)>;
  explicit FunctionalT(Function fn, std::string name = "Functional")
      : Cloneable<FunctionalT<T>, T>(std::move(name)), fn_(std::move(fn)) {
    SINEW_CHECK(fn_ != nullptr, "Functional", "the function is empty");
  }
  Tensor<T> forward(const Tensor<T>& x) override { return fn_(x); }

 private:
  Function fn_;
};

using Functional = FunctionalT<float>;

}  // namespace sinew::nn
