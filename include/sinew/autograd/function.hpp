// Custom differentiable functions, like torch::autograd::Function: derive from
// autograd::Function<Derived>, give it static forward and backward, call Derived::apply(...).
#pragma once

#include <any>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#if defined(__GNUG__)
#include <cxxabi.h>
#endif

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/autograd/node.hpp"

namespace sinew::autograd {

template <class Derived>
struct Function;

// What forward leaves for backward: saved tensors (version-checked), any other values, and which
// tensor arguments need a gradient. "Inputs" below are forward's tensor arguments, in order;
// other arguments (numbers, options) are not counted.
class FunctionContext {
 public:
  // Tensors backward will read (any element type; an undefined tensor keeps its slot). Saving
  // forward's own output is fine: it is kept as the node's saved output rather than by the
  // context, so no reference cycle forms, and backward gets it back with its history (so a
  // backward written with ops is differentiable again). An in-place change to a saved tensor
  // after forward makes backward fail with an error. Call once, from forward.
  void save_for_backward(std::vector<Input> tensors) {
    SINEW_CHECK(in_forward_, "FunctionContext::save_for_backward",
                "can only be called from forward");
    saved_ = std::move(tensors);
    is_output_.assign(saved_.size(), false);
  }

  // The i-th saved tensor, as Tensor<U> (U must be its element type).
  template <class U = float>
  Tensor<U> saved(size_t i) const {
    SINEW_CHECK(i < saved_.size(), "FunctionContext::saved", "index ", i,
                " out of range: ", saved_.size(), " tensors were saved");
    sinew::detail::ImplPtr impl = saved_[i].impl;
    if (is_output_[i]) {
      SINEW_CHECK(output_ != nullptr, "FunctionContext::saved", "saved tensor ", i,
                  " is forward's output, available only inside backward");
      impl = output_();
    }
    if (!impl) return Tensor<U>();
    SINEW_CHECK(impl->dtype == dtype_of<U>(), "FunctionContext::saved", "saved tensor ", i, " is ",
                impl->dtype, ", asked for as ", dtype_of<U>());
    return Tensor<U>(impl);
  }
  size_t saved_count() const { return saved_.size(); }

  // Whether the i-th tensor argument needs a gradient (backward may return an undefined tensor
  // for the others and skip computing it). Valid in forward and backward.
  bool needs_input_grad(size_t i) const {
    SINEW_CHECK(i < needs_.size(), "FunctionContext::needs_input_grad", "index ", i,
                " out of range: forward has ", needs_.size(), " tensor arguments");
    return needs_[i];
  }
  size_t input_count() const { return needs_.size(); }

  // Non-tensor values for backward (a clipping bound, an input's shape), by name:
  // ctx.saved_data["lo"] = lo;  ...  double lo = ctx.get<double>("lo");
  std::map<std::string, std::any> saved_data;

  // saved_data[key] as V; an error names the key when it is missing or holds another type.
  template <class V>
  const V& get(const std::string& key) const {
    auto it = saved_data.find(key);
    SINEW_CHECK(it != saved_data.end(), "FunctionContext::get", "no saved_data entry '", key, "'");
    const V* v = std::any_cast<V>(&it->second);
    SINEW_CHECK(v != nullptr, "FunctionContext::get", "saved_data entry '", key,
                "' holds another type than the one asked for");
    return *v;
  }

 private:
  template <class D>
  friend struct Function;

  std::vector<Input> saved_;
  std::vector<bool> is_output_;  // saved_[i] is forward's output: fetched through output_
  std::vector<bool> needs_;
  bool in_forward_ = false;
  std::function<sinew::detail::ImplPtr()> output_;  // set only while backward runs
};

namespace detail {

template <class X>
struct is_tensor : std::false_type {};
template <class U>
struct is_tensor<Tensor<U>> : std::true_type {};
template <class X>
inline constexpr bool is_tensor_v = is_tensor<std::remove_cvref_t<X>>::value;

template <class X>
void collect_tensor(std::vector<Input>& inputs, const X& x) {
  if constexpr (is_tensor_v<X>) inputs.emplace_back(x);
}

// The node's name: Derived::name when it has one, else the type's name without namespaces.
template <class D>
const char* function_name() {
  static const std::string name = [] {
    if constexpr (requires { std::string_view(D::name); }) {
      return std::string(D::name);
    } else {
      std::string full = typeid(D).name();
#if defined(__GNUG__)
      int status = 0;
      char* readable = abi::__cxa_demangle(full.c_str(), nullptr, nullptr, &status);
      if (status == 0 && readable != nullptr) full = readable;
      std::free(readable);
#endif
      if (full.find('<') != std::string::npos) return full;
      size_t colon = full.rfind("::");
      return colon == std::string::npos ? full : full.substr(colon + 2);
    }
  }();
  return name.c_str();
}

// The gradients of forward's tensor arguments, from what backward returned in either convention:
// one per tensor argument (Sinew's), or one per argument given to apply (LibTorch's), with an
// undefined tensor for each non-tensor argument; beyond those, LibTorch allows extra gradients when
// they are undefined (for defaulted trailing arguments of forward). arg_is_tensor: one entry per
// argument of apply.
inline std::vector<sinew::detail::ImplPtr> input_grads(std::vector<sinew::detail::ImplPtr> grads,
                                                       const std::vector<bool>& arg_is_tensor,
                                                       const char* name) {
  const size_t n_args = arg_is_tensor.size();
  size_t n_tensors = 0;
  for (bool t : arg_is_tensor) n_tensors += t ? 1 : 0;
  size_t n = grads.size();
  if (n > n_args) {
    size_t last_defined = 0;  // 1 + the index of the last defined gradient
    for (size_t i = 0; i < n; ++i) {
      if (grads[i]) last_defined = i + 1;
    }
    SINEW_CHECK(last_defined <= n_args, name, "backward returned ", n,
                " gradients, and the one at index ", last_defined - 1,
                " is defined, but forward was given ", n_args,
                " arguments (gradients past one per argument must be undefined tensors)");
    grads.resize(n_args);
    n = n_args;
  }
  if (n == n_tensors) return grads;
  SINEW_CHECK(n == n_args, name, "backward returned ", n, " gradients, expected ", n_tensors,
              " (one per tensor argument of forward) or ", n_args,
              " (one per argument of forward, as LibTorch, undefined for the non-tensor ones)");
  std::vector<sinew::detail::ImplPtr> out;
  out.reserve(n_tensors);
  for (size_t i = 0; i < n_args; ++i) {
    if (arg_is_tensor[i]) {
      out.push_back(std::move(grads[i]));
    } else {
      SINEW_CHECK(grads[i] == nullptr, name, "backward returned a defined gradient at index ", i,
                  ", but argument ", i,
                  " of forward (after ctx) is not a tensor: return an undefined Tensor there");
    }
  }
  return out;
}

// Clears the context's view of the output when backward ends (it must not outlive the call: the
// output refers to the node that owns the context).
struct OutputBinding {
  std::function<sinew::detail::ImplPtr()>& slot;
  ~OutputBinding() { slot = nullptr; }
};

}  // namespace detail

// A user-defined differentiable operation:
//
//   // y = e^x;  dL/dx = dL/dy * y.
//   struct MyExp : autograd::Function<MyExp> {
//     template <class T>
//     static Tensor<T> forward(autograd::FunctionContext& ctx, const Tensor<T>& x) {
//       Tensor<T> y = exp(x);
//       ctx.save_for_backward({y});
//       return y;
//     }
//     template <class T>
//     static std::vector<Tensor<T>> backward(autograd::FunctionContext& ctx, const Tensor<T>& g) {
//       return {g * ctx.saved<T>(0)};
//     }
//   };
//   Tensor<float> y = MyExp::apply(x);
//
// forward(ctx, args...) takes the arguments given to apply (tensors and anything else) and returns
// one Tensor<T>; it runs under NoGradGuard, so what it computes records no history. backward(ctx,
// g) gets the gradient of the output and returns, in order, either one gradient per tensor argument
// (a Tensor<T> when there is one, else a std::vector<Tensor<T>>) or, as LibTorch's Function, one
// per argument given to apply, with an undefined Tensor for each non-tensor argument (and, past
// those, only undefined ones: LibTorch's allowance for defaulted trailing arguments). Each gradient
// has its input's shape, or is undefined where none is needed (see ctx.needs_input_grad). For
// forward(ctx, x, scale, w): return {gx, gw} or {gx, Tensor<T>(), gw}. backward is written with
// ops, so with create_graph it is itself differentiated. forward and backward may be templates on T
// or use float/double directly. The node is named after Derived (or Derived::name when defined).
// forward must not modify its tensor arguments in place (the change would not be recorded).
template <class Derived>
struct Function {
  template <class... Args>
  static auto apply(Args&&... args) {
    FunctionContext ctx;
    std::vector<Input> inputs;
    (detail::collect_tensor(inputs, args), ...);
    bool grad_on = is_grad_enabled();
    for (const auto& in : inputs)
      ctx.needs_.push_back(grad_on && in.impl && in.impl->requires_grad());

    using Out = decltype(Derived::forward(ctx, std::forward<Args>(args)...));
    static_assert(detail::is_tensor_v<Out>, "Function: forward must return a Tensor<T>");
    using T = typename std::remove_cvref_t<Out>::value_type;
    const char* name = detail::function_name<Derived>();

    Tensor<T> result;
    ctx.in_forward_ = true;
    {
      NoGradGuard no_grad;
      result = Derived::forward(ctx, std::forward<Args>(args)...);
    }
    ctx.in_forward_ = false;
    SINEW_CHECK(result.defined(), name, "forward returned an undefined tensor");

    // The output gets a handle of its own, so recording never rewrites the history of a tensor
    // forward returned unchanged (an input) or that the context holds.
    auto impl = sinew::detail::alias_impl(result.impl());
    bool returns_input = false;
    for (const auto& in : inputs) {
      if (in.impl && in.impl->storage == impl->storage) impl->is_view = true;
      returns_input = returns_input || in.impl == result.impl_ptr();
    }
    Tensor<T> y(impl);
    if constexpr (!is_floating_dtype_v<T>) {
      return y;  // integer and bool outputs are not differentiable
    } else {
      RecordOptions options;
      for (size_t i = 0; i < ctx.saved_.size(); ++i) {
        const auto& s = ctx.saved_[i].impl;
        if (!s) continue;
        if (s == result.impl_ptr() && !returns_input) {
          ctx.saved_[i].impl = nullptr;  // fetched from the node in backward
          ctx.is_output_[i] = true;
          options.save_output = true;
        } else {
          options.saved.push_back(ctx.saved_[i]);
        }
      }
      result = Tensor<T>();
      options.name_as_given = true;
      std::vector<bool> arg_is_tensor = {detail::is_tensor_v<Args>...};
      record(
          y, name, inputs,
          [ctx = std::move(ctx), arg_is_tensor = std::move(arg_is_tensor), name](
              const Tensor<T>& g, const BackwardContext<T>& bctx) mutable {
            detail::OutputBinding binding{ctx.output_};
            ctx.output_ = [&bctx] { return bctx.output().impl_ptr(); };
            return detail::input_grads(detail::to_impls(Derived::backward(ctx, g)), arg_is_tensor,
                                       name);
          },
          std::move(options));
      return y;
    }
  }
};

}  // namespace sinew::autograd
