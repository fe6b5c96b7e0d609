// nn::ModuleHolder and SINEW_MODULE(Name): LibTorch's handle spelling, as a porting aid.
//
// Code ported from LibTorch declares a module as `struct NetImpl : nn::Module {...};
// TORCH_MODULE(Net);` and then uses `Net net; net->fc(x); net(x);`. With SINEW_MODULE(Net) that
// code compiles unchanged: `Net` is a shared handle of a NetImpl, constructed with NetImpl's
// arguments, with `->`, `*`, ptr() and a call operator that runs the module (hooks included).
// Sinew's recommended style stays the value style (module.hpp): a module is already a handle of
// its state, so the holder adds nothing but the spelling.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "sinew/core/error.hpp"

namespace sinew::nn {

template <class Impl>
class ModuleHolder {
 public:
  using ImplType = Impl;

  // Constructs the module from Impl's constructor arguments (a default Impl when there are none).
  // clang-format off
  template <class... Args>
    requires std::is_constructible_v<Impl, Args...>
  explicit(sizeof...(Args) == 1) ModuleHolder(Args&&... args)  // NOLINT: as LibTorch's
      : impl_(std::make_shared<Impl>(std::forward<Args>(args)...)) {}
  // clang-format on
  // An empty holder, to be assigned later (LibTorch's `Net net{nullptr};`).
  ModuleHolder(std::nullptr_t) {}  // NOLINT: implicit on purpose
  ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}  // NOLINT

  Impl* operator->() const { return &get(); }
  Impl& operator*() const { return get(); }
  Impl& get() const {
    SINEW_CHECK(impl_ != nullptr, "ModuleHolder", "use of an empty module holder");
    return *impl_;
  }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  bool is_empty() const { return impl_ == nullptr; }
  explicit operator bool() const { return impl_ != nullptr; }
  operator std::shared_ptr<Impl>() const { return impl_; }  // NOLINT: to pass it where one goes

  // Runs the module: m(x) with its hooks when Impl takes one tensor, else Impl::forward(args...).
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    if constexpr (std::is_invocable_v<Impl&, Args&&...>)
      return get()(std::forward<Args>(args)...);
    else
      return get().forward(std::forward<Args>(args)...);
  }

 private:
  std::shared_ptr<Impl> impl_;
};

// What register_module, push_back and insert accept besides modules and shared pointers.
template <class H>
concept ModuleHandle = requires(const H& h) {
  typename std::remove_cvref_t<H>::ImplType;
  { h.ptr() } -> std::convertible_to<std::shared_ptr<typename std::remove_cvref_t<H>::ImplType>>;
};

}  // namespace sinew::nn

// Declares Name as a ModuleHolder of NameImpl (LibTorch's TORCH_MODULE).
#define SINEW_MODULE(Name)                                     \
  class Name : public ::sinew::nn::ModuleHolder<Name##Impl> {  \
   public:                                                     \
    using ::sinew::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
  }
