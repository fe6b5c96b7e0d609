// nn::Module: the base of every layer and user network (named parameters, buffers, submodules,
// train/eval, freezing, state dicts, deep copies), plus nn::Cloneable and nn::OrderedDict.
//
// Ownership. A module object is a handle to its state (name, training flag, registered
// parameters, buffers and submodules, hooks), so copying a module is shallow: the copy is the same
// module (as a copied torch::nn::Linear handle is), and train()/eval(), hooks, registrations and
// to() on either reach both. clone() is the deep copy. Submodules are kept as std::shared_ptr;
// they are registered either as shared pointers (PyTorch C++ style) or by value:
//
//   struct Net : nn::Module {
//     nn::Linear fc1{784, 128}, fc2{128, 10};
//     nn::Dropout drop{0.5};
//     Net() : Module("Net") {
//       register_module("fc1", fc1);   // the registered module and the member are one module
//       register_module("fc2", fc2);
//       register_module("drop", drop); // net.eval() switches net.drop off
//     }
//     Tensor<float> forward(const Tensor<float>& x) override { return fc2(drop(relu(fc1(x)))); }
//   };
//
// A member registered by value must not be assigned a new module afterwards (the registry would
// keep the old one): that assignment raises an Error; assign first, then register. For clone(),
// derive from nn::Cloneable and register the members in reset():
//
//   struct Net : nn::Cloneable<Net> {
//     std::shared_ptr<nn::Linear> fc1, fc2;
//     Net() : Cloneable("Net") { reset(); }
//     void reset() override {             // registrations live here so clone() can re-run them
//       fc1 = register_module("fc1", nn::Linear(784, 128));
//       fc2 = register_module("fc2", nn::Linear(128, 10));
//     }
//     Tensor<float> forward(const Tensor<float>& x) override { return (*fc2)(relu((*fc1)(x))); }
//   };
//
// A module deriving from nn::Module alone (registering in its constructor) supports everything
// but clone(), which then raises an Error saying what to change.
//
// Calling. A module is called as m(x) (a std::shared_ptr member as (*m)(x)): that is the spelling
// that runs its hooks, and the one Sequential, ModuleList users and every layer use. m.forward(x)
// is the bare computation without hooks (as in PyTorch).
//
// Hooks. register_forward_pre_hook, register_forward_hook and register_full_backward_hook attach
// callables that operator() runs around forward(); each returns a RemovableHandle. Hooks belong to
// the module as its parameters do: shallow copies share them, clone() starts without any.
//
// Element type. nn::ModuleT<T> holds Tensor<T> parameters and buffers and maps Tensor<T> to
// Tensor<T>; nn::Module is ModuleT<float> (what PyTorch checkpoints usually hold), and every layer
// has a double form (nn::LinearT<double>, ...). Integer-valued buffers (BatchNorm's
// num_batches_tracked) are stored as T, exact up to 2^24 in float, and converted to int64 by the
// serializers. ModuleT is a template so that a program compiles only the modules it uses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sinew/autograd/engine.hpp"
#include "sinew/autograd/grad_mode.hpp"
#include "sinew/autograd/node.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/nn/module_holder.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/elementwise.hpp"

namespace sinew::nn {

// Insertion-ordered string -> value map (named_parameters(), state_dict(), submodule registry).
template <class V>
class OrderedDict {
 public:
  using Item = std::pair<std::string, V>;

  // Adds a new key; a key already present is an Error naming it.
  V& insert(std::string key, V value) {
    SINEW_CHECK(!contains(key), "OrderedDict::insert", "key '", key, "' is already present");
    index_.emplace(key, items_.size());
    items_.emplace_back(std::move(key), std::move(value));
    return items_.back().second;
  }
  // Adds the key or replaces its value.
  V& insert_or_assign(std::string key, V value) {
    if (V* v = find(key)) return *v = std::move(value);
    return insert(std::move(key), std::move(value));
  }
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  V* find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  const V* find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  V& at(const std::string& key) {
    V* v = find(key);
    SINEW_CHECK(v != nullptr, "OrderedDict::at", "no key '", key, "'");
    return *v;
  }
  const V& at(const std::string& key) const { return const_cast<OrderedDict*>(this)->at(key); }
  V& operator[](const std::string& key) { return at(key); }
  const V& operator[](const std::string& key) const { return at(key); }
  // The i-th item in insertion order.
  Item& item(size_t i) {
    SINEW_CHECK(i < items_.size(), "OrderedDict::item", "index ", i, " out of range for ",
                items_.size(), " items");
    return items_[i];
  }
  const Item& item(size_t i) const { return const_cast<OrderedDict*>(this)->item(i); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void clear() {
    items_.clear();
    index_.clear();
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& it : items_) k.push_back(it.first);
    return k;
  }
  std::vector<V> values() const {
    std::vector<V> v;
    for (const auto& it : items_) v.push_back(it.second);
    return v;
  }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
  std::unordered_map<std::string, size_t> index_;
};

// name -> tensor, parameters then buffers of each module, in registration order, dotted names.
template <class T = float>
using StateDictT = OrderedDict<Tensor<T>>;
using StateDict = StateDictT<float>;

struct LoadStateDictOptions {
  bool strict = true;  // missing or unexpected keys are an Error (shape mismatches always are)
};

// What load_state_dict found (non-strict loading reports instead of throwing).
struct LoadStateDictResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

namespace detail {
inline std::string join_keys(const std::vector<std::string>& keys) {
  std::string s = "[";
  for (size_t i = 0; i < keys.size(); ++i) s += (i ? ", " : "") + keys[i];
  return s + "]";
}
inline std::string dotted(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace detail

template <class T>
class ModuleT;

// Module hooks (PyTorch's signatures, one tensor each way). A returned tensor replaces the input
// (pre-hook), the output (forward hook) or the input's gradient (backward hook); std::nullopt keeps
// it. The register_* functions also take callables returning void.
template <class T>
using ForwardPreHook = std::function<std::optional<Tensor<T>>(ModuleT<T>&, const Tensor<T>&)>;
template <class T>
using ForwardHook = std::function<std::optional<Tensor<T>>(ModuleT<T>&, const Tensor<T>& input,
                                                           const Tensor<T>& output)>;
template <class T>
using BackwardHook = std::function<std::optional<Tensor<T>>(
    ModuleT<T>&, const Tensor<T>& grad_input, const Tensor<T>& grad_output)>;

namespace detail {
// What a RemovableHandle needs of a hook registry, whatever the element type.
struct HookRegistryBase {
  virtual ~HookRegistryBase() = default;
  virtual void erase(uint64_t id) = 0;
};

// The hooks of a module (shared by its shallow copies); ids are unique across the three lists.
template <class T>
struct HookRegistry final : HookRegistryBase {
  uint64_t next_id = 0;
  std::vector<std::pair<uint64_t, ForwardPreHook<T>>> pre;
  std::vector<std::pair<uint64_t, ForwardHook<T>>> forward;
  std::vector<std::pair<uint64_t, BackwardHook<T>>> backward;
  bool empty() const { return pre.empty() && forward.empty() && backward.empty(); }
  void erase(uint64_t id) override {
    auto drop = [id](auto& v) {
      v.erase(std::remove_if(v.begin(), v.end(), [id](const auto& p) { return p.first == id; }),
              v.end());
    };
    drop(pre);
    drop(forward);
    drop(backward);
  }
};

// Wraps a hook returning void into one returning std::nullopt.
template <class T, class R, class F, class... Args>
std::function<std::optional<Tensor<T>>(Args...)> hook_fn(F&& fn) {
  if constexpr (std::is_void_v<R>) {
    return [fn = std::forward<F>(fn)](Args... args) mutable -> std::optional<Tensor<T>> {
      fn(std::forward<Args>(args)...);
      return std::nullopt;
    };
  } else {
    return std::forward<F>(fn);
  }
}

// y = x as a new graph node, so a hook on y sees exactly the gradient flowing through this use
// of x (what PyTorch's BackwardHookFunction does);  dL/dx = dL/dy.
template <class T>
Tensor<T> hook_identity(const Tensor<T>& x) {
  Tensor<T> y = x.detach();
  return autograd::record(y, "BackwardHookFunction", {x}, [](const Tensor<T>& g) { return g; });
}
}  // namespace detail

// What the register_*_hook functions return; remove() unregisters the hook. Removing twice, or
// after the module is gone, does nothing.
class RemovableHandle {
 public:
  RemovableHandle() = default;
  RemovableHandle(std::weak_ptr<detail::HookRegistryBase> registry, uint64_t id)
      : registry_(std::move(registry)), id_(id) {}
  void remove() {
    if (auto r = registry_.lock()) r->erase(id_);
    registry_.reset();
  }
  uint64_t id() const { return id_; }

 private:
  std::weak_ptr<detail::HookRegistryBase> registry_;
  uint64_t id_ = 0;
};

// A module type or a reference to one (what register_module and push_back accept by value).
// (Kept by hand: clang-format 14 mangles concept definitions.)
// clang-format off
template <class M>
concept ModuleValue = requires { typename std::remove_cvref_t<M>::value_type; } &&
                      std::is_base_of_v<ModuleT<typename std::remove_cvref_t<M>::value_type>,
                                        std::remove_cvref_t<M>>;
// clang-format on

namespace detail {
// What a module object is a handle to: copies of a module share it, so they are one module.
template <class T>
struct ModuleCore {
  explicit ModuleCore(std::string n) : name(std::move(n)) {}
  std::string name;
  bool training = true;
  OrderedDict<Tensor<T>> parameters;
  OrderedDict<Tensor<T>> buffers;
  OrderedDict<std::shared_ptr<ModuleT<T>>> children;
  std::shared_ptr<HookRegistry<T>> hooks = std::make_shared<HookRegistry<T>>();
  // The copies made by registering this module by value (parent's name, key, the copy): while
  // one lives, assigning another module to a handle of this core would split the member from the
  // registered module, so it raises instead.
  struct ValueRegistration {
    std::string parent, key;
    std::weak_ptr<ModuleT<T>> copy;
  };
  std::vector<ValueRegistration> value_registrations;
};

// While Cloneable::clone re-runs reset(), the copy's value members (still handles of the
// original's) may be reassigned: that is how reset() makes them new.
inline int& cloning_depth() {
  thread_local int depth = 0;
  return depth;
}
}  // namespace detail

// The base of every module whose parameters are Tensor<T>; nn::Module is ModuleT<float>. Being a
// template, none of it is compiled into a program that does not use it.
template <class T>
class ModuleT {
 public:
  using value_type = T;  // the element type of the parameters, buffers and forward
  // So that a user module can name its base as `Module` in its constructor, as when nn::Module was
  // a class: struct Net : nn::Module { Net() : Module("Net") {} };
  using Module = ModuleT;

  explicit ModuleT(std::string name = "Module")
      : core_(std::make_shared<detail::ModuleCore<T>>(std::move(name))) {}
  virtual ~ModuleT() = default;
  // A copy is the same module (shares its state); a moved-from module is a new empty one.
  ModuleT(const ModuleT&) = default;
  ModuleT(ModuleT&& other) : core_(std::move(other.core_)) { other.renew_core(); }
  // Makes this handle refer to `other`'s module. Raises when this module was registered by value
  // somewhere and that registration lives: the member and the registered module would split.
  ModuleT& operator=(const ModuleT& other) {
    if (core_ != other.core_) {
      check_reassignable();
      core_ = other.core_;
    }
    return *this;
  }
  ModuleT& operator=(ModuleT&& other) {
    if (this != &other && core_ != other.core_) {
      check_reassignable();
      core_ = std::move(other.core_);
      other.renew_core();
    }
    return *this;
  }

  // The type name used when printing ("Linear", "Sequential", a user's "Net").
  virtual std::string name() const { return core_->name; }
  // The text inside the parentheses when printing, e.g. "in_features=3, out_features=4, bias=true".
  virtual std::string extra_repr() const { return ""; }

  // The single-tensor forward that Sequential chains; modules with other signatures keep the
  // default, which raises an Error naming the module.
  virtual Tensor<T> forward(const Tensor<T>& x) {
    (void)x;
    sinew::detail::fail(core_->name.c_str(), "this module has no forward(const Tensor<T>&)");
  }
  // forward(x) with the hooks around it: pre-hooks (may replace the input), forward, forward hooks
  // (may replace the output), then the backward hooks' wiring. Containers call their members
  // through here, so a member's hooks fire inside a Sequential.
  Tensor<T> operator()(const Tensor<T>& x) {
    if (core_->hooks->empty()) return forward(x);
    return call_with_hooks(x);
  }

  // ---- hooks ----------------------------------------------------------------------------------
  // fn(module, input) runs before forward; a returned tensor becomes forward's input.
  template <class F>
  RemovableHandle register_forward_pre_hook(F fn) {
    using R = std::invoke_result_t<F&, ModuleT&, const Tensor<T>&>;
    return add_hook(hooks().pre,
                    detail::hook_fn<T, R, F, ModuleT&, const Tensor<T>&>(std::move(fn)));
  }
  // fn(module, input, output) runs after forward; a returned tensor replaces the output.
  template <class F>
  RemovableHandle register_forward_hook(F fn) {
    using R = std::invoke_result_t<F&, ModuleT&, const Tensor<T>&, const Tensor<T>&>;
    return add_hook(
        hooks().forward,
        detail::hook_fn<T, R, F, ModuleT&, const Tensor<T>&, const Tensor<T>&>(std::move(fn)));
  }
  // fn(module, grad_input, grad_output) runs during backward once the gradient with respect to
  // this call's input is known (grad_output: with respect to its output); a returned tensor
  // replaces grad_input. When the input needs no gradient, fn runs as soon as grad_output is
  // known, with an undefined grad_input (its result is then ignored). The graph refers to this
  // module object, so it must outlive the backward of that call (as a module in training does).
  template <class F>
  RemovableHandle register_full_backward_hook(F fn) {
    using R = std::invoke_result_t<F&, ModuleT&, const Tensor<T>&, const Tensor<T>&>;
    return add_hook(
        hooks().backward,
        detail::hook_fn<T, R, F, ModuleT&, const Tensor<T>&, const Tensor<T>&>(std::move(fn)));
  }

  // A deep copy: new parameters and buffers with the same values and requires_grad flags, new
  // submodules, the same training mode. Provided by nn::Cloneable and by Sequential.
  virtual std::shared_ptr<ModuleT> clone() const {
    sinew::detail::fail("clone", name(),
                        " does not implement clone(); derive it from nn::Cloneable<", name(),
                        "> and register its members in reset()");
  }

  // ---- registration ---------------------------------------------------------------------------
  // Registers a parameter and returns it (the same handle when `t` is a leaf, else a detached
  // alias), with requires_grad set as asked.
  Tensor<T> register_parameter(const std::string& name, Tensor<T> t, bool requires_grad = true) {
    check_new_name(name, "register_parameter");
    SINEW_CHECK(t.defined(), "register_parameter", "parameter '", name, "' of ", core_->name,
                " is an undefined tensor");
    if (!t.is_leaf()) t = t.detach();
    t.requires_grad_(requires_grad);
    return core_->parameters.insert(name, t);
  }
  // Registers a buffer: state saved in state_dict() that is not trained (running statistics).
  Tensor<T> register_buffer(const std::string& name, Tensor<T> t) {
    check_new_name(name, "register_buffer");
    SINEW_CHECK(t.defined(), "register_buffer", "buffer '", name, "' of ", core_->name,
                " is an undefined tensor");
    return core_->buffers.insert(name, t.detach());
  }
  // Registers a submodule, shared with the caller.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    static_assert(std::is_base_of_v<ModuleT, M>,
                  "register_module: M must derive from nn::ModuleT of the same element type");
    check_new_name(name, "register_module");
    SINEW_CHECK(m != nullptr, "register_module", "submodule '", name, "' of ", core_->name,
                " is null");
    const ModuleT& sub = *m;
    SINEW_CHECK(sub.core_ != core_ && !sub.contains_core(core_.get()), "register_module",
                "cannot register ", m->name(), " as '", name, "' in ", core_->name,
                ": it is this module or contains it (a module cannot be its own submodule)");
    core_->children.insert(name, m);
    return m;
  }
  // Registers a module value and returns the registered handle. An lvalue (a member) and the
  // registered module are one module: train()/eval(), hooks, to(), requires_grad_, zero_grad,
  // parameters and buffers reach both, and assigning another module to the member afterwards
  // raises. An rvalue is moved in.
  template <ModuleValue M>
  std::shared_ptr<std::remove_cvref_t<M>> register_module(const std::string& name, M&& m) {
    auto p = register_module(name, std::make_shared<std::remove_cvref_t<M>>(std::forward<M>(m)));
    if constexpr (std::is_lvalue_reference_v<M>) {
      auto& regs = static_cast<ModuleT&>(*p).core_->value_registrations;
      std::erase_if(regs, [](const auto& r) { return r.copy.expired(); });
      regs.push_back({core_->name, name, p});
    }
    return p;
  }
  // Registers the module a SINEW_MODULE holder refers to and returns the holder (LibTorch style:
  // `fc = register_module("fc", Linear(3, 4));`).
  template <ModuleHandle H>
  std::remove_cvref_t<H> register_module(const std::string& name, H&& holder) {
    register_module(name, holder.ptr());
    return std::forward<H>(holder);
  }

  // ---- traversal ------------------------------------------------------------------------------
  // Parameters, each once even when registered under several names (PyTorch's remove_duplicate).
  OrderedDict<Tensor<T>> named_parameters(bool recurse = true) const {
    OrderedDict<Tensor<T>> out;
    std::unordered_set<const void*> seen;
    collect(out, "", recurse, /*buffers=*/false, &seen);
    return out;
  }
  std::vector<Tensor<T>> parameters(bool recurse = true) const {
    return named_parameters(recurse).values();
  }
  OrderedDict<Tensor<T>> named_buffers(bool recurse = true) const {
    OrderedDict<Tensor<T>> out;
    std::unordered_set<const void*> seen;
    collect(out, "", recurse, /*buffers=*/true, &seen);
    return out;
  }
  std::vector<Tensor<T>> buffers(bool recurse = true) const {
    return named_buffers(recurse).values();
  }
  const OrderedDict<std::shared_ptr<ModuleT>>& named_children() const { return core_->children; }
  std::vector<std::shared_ptr<ModuleT>> children() const { return core_->children.values(); }
  // This module first, then every submodule depth-first ("" names this module). The pointers are
  // valid while this module lives.
  std::vector<std::pair<std::string, ModuleT*>> named_modules() {
    std::vector<std::pair<std::string, ModuleT*>> out;
    walk("", out);
    return out;
  }
  std::vector<ModuleT*> modules() {
    std::vector<ModuleT*> out;
    for (auto& [n, m] : named_modules()) out.push_back(m);
    return out;
  }
  // fn on every submodule (depth-first, children before their parent), then on this module.
  ModuleT& apply(const std::function<void(ModuleT&)>& fn) {
    for (auto& [n, c] : core_->children) c->apply(fn);
    fn(*this);
    return *this;
  }

  // ---- modes and gradients --------------------------------------------------------------------
  // Training mode for this module and every submodule (Dropout and BatchNorm read it).
  virtual ModuleT& train(bool on = true) {
    core_->training = on;
    for (auto& [n, c] : core_->children) c->train(on);
    return *this;
  }
  ModuleT& eval() { return train(false); }
  bool is_training() const { return core_->training; }

  // Resets every parameter's .grad: undefined (PyTorch 2's set_to_none default) or zero-filled.
  void zero_grad(bool set_to_none = true) {
    for (auto& p : parameters()) {
      if (set_to_none || !p.grad().defined()) {
        p.set_grad(Tensor<T>());
      } else {
        NoGradGuard guard;
        p.grad().detach().zero_();
      }
    }
  }
  // Freezes (false) or unfreezes (true) every parameter: a frozen one gets no .grad in backward.
  ModuleT& requires_grad_(bool on = true) {
    for (auto& p : parameters()) p.requires_grad_(on);
    return *this;
  }

  // Moves every parameter and buffer (and its .grad) to `device` in place: each tensor keeps its
  // identity, so member handles and optimizers holding it see the move (as PyTorch swaps .data).
  // Every copy is made before any tensor switches, so an error leaves the module unchanged.
  ModuleT& to(Device device) {
    std::vector<std::pair<Tensor<T>, Tensor<T>>> moves;  // (tensor, its copy on device)
    std::vector<std::pair<Tensor<T>, Tensor<T>>> grads;
    {
      NoGradGuard guard;
      auto plan = [&](const OrderedDict<Tensor<T>>& ts) {
        for (const auto& [n, t] : ts) {
          if (t.device() != device) moves.emplace_back(t, t.detach().to(device).contiguous());
          Tensor<T> g = t.grad();
          if (g.defined() && g.device() != device) grads.emplace_back(t, g.detach().to(device));
        }
      };
      plan(named_parameters());
      plan(named_buffers());
    }
    for (auto& [t, moved] : moves) {
      sinew::detail::TensorImpl& impl = t.impl();
      impl.storage = moved.impl().storage;
      impl.strides = moved.impl().strides;
      impl.offset = moved.impl().offset;
    }
    for (auto& [t, g] : grads) t.set_grad(g);
    return *this;
  }

  // ---- state dicts ----------------------------------------------------------------------------
  // Parameters and buffers under PyTorch's dotted keys, every module's parameters before its
  // buffers, then its submodules. The tensors are detached aliases of the module's memory (as in
  // PyTorch): clone() them for a snapshot that later training does not change.
  StateDictT<T> state_dict() const {
    StateDictT<T> out;
    state_items(out, "");
    return out;
  }

  // Copies values from `dict` into this module's parameters and buffers (same keys, same shapes).
  // Nothing is written unless every check passes. Shape mismatches are always an Error; missing
  // and unexpected keys are one with strict, else they are reported in the result.
  LoadStateDictResult load_state_dict(const StateDictT<T>& dict, LoadStateDictOptions opt = {}) {
    StateDictT<T> own = state_dict();
    LoadStateDictResult r;
    std::vector<std::string> mismatches;
    for (const auto& [key, t] : own) {
      const Tensor<T>* src = dict.find(key);
      if (src == nullptr || !src->defined()) {
        r.missing_keys.push_back(key);
      } else if (src->shape() != t.shape()) {
        std::ostringstream os;
        os << key << ": expected " << t.shape() << ", got " << src->shape();
        mismatches.push_back(os.str());
      } else if (src->device() != t.device()) {
        std::ostringstream os;
        os << key << ": on " << src->device() << ", the module's is on " << t.device();
        mismatches.push_back(os.str());
      }
    }
    for (const auto& [key, t] : dict) {
      if (!own.contains(key)) r.unexpected_keys.push_back(key);
    }
    bool bad_keys = opt.strict && (!r.missing_keys.empty() || !r.unexpected_keys.empty());
    if (bad_keys || !mismatches.empty()) {
      std::string msg = "error(s) loading the state dict of " + name() + ":";
      if (opt.strict && !r.missing_keys.empty())
        msg += " missing keys " + detail::join_keys(r.missing_keys) + ";";
      if (opt.strict && !r.unexpected_keys.empty())
        msg += " unexpected keys " + detail::join_keys(r.unexpected_keys) + ";";
      if (!mismatches.empty())
        msg += " size or device mismatch for " + detail::join_keys(mismatches) + ";";
      msg.pop_back();
      sinew::detail::fail("load_state_dict", msg);
    }
    NoGradGuard guard;
    for (auto& [key, t] : own) {
      if (const Tensor<T>* src = dict.find(key); src != nullptr && src->defined()) {
        Tensor<T> dst = t;  // a detached alias: writes reach the module's memory
        dst.copy_(*src);
      }
    }
    return r;
  }

  // Prints the module tree as PyTorch does: "Sequential(\n  (0): Linear(...)\n)".
  void pretty_print(std::ostream& os, int indent = 0) const {
    os << name() << "(" << extra_repr();
    if (!core_->children.empty()) {
      os << "\n";
      for (const auto& [n, c] : core_->children) {
        os << std::string(indent + 2, ' ') << "(" << n << "): ";
        c->pretty_print(os, indent + 2);
        os << "\n";
      }
      os << std::string(indent, ' ');
    }
    os << ")";
  }

 protected:
  // The registries, for modules that reach their members by name and for Cloneable.
  OrderedDict<Tensor<T>>& own_parameters() { return core_->parameters; }
  OrderedDict<Tensor<T>>& own_buffers() { return core_->buffers; }
  OrderedDict<std::shared_ptr<ModuleT>>& own_children() { return core_->children; }

  // Makes this handle a new module of the same name and training mode, with empty registries and
  // no hooks (clone() calls it on the copy before re-running reset()).
  void renew_core() {
    auto fresh = std::make_shared<detail::ModuleCore<T>>(core_ ? core_->name : "Module");
    if (core_) fresh->training = core_->training;
    core_ = std::move(fresh);
  }

  // Copies values, requires_grad flags and training modes from `src`, a module whose registry has
  // the same names and shapes (checked), recursively. Used by Cloneable::clone after reset().
  void copy_state_from(const ModuleT& src) {
    auto check_same = [&](const std::vector<std::string>& mine,
                          const std::vector<std::string>& theirs, const char* what) {
      SINEW_CHECK(mine == theirs, "clone", name(), "::reset() registered the ", what, " ",
                  detail::join_keys(mine), " but the original has ", detail::join_keys(theirs),
                  "; register every member in reset()");
    };
    detail::ModuleCore<T>& mine = *core_;
    const detail::ModuleCore<T>& theirs = *src.core_;
    check_same(mine.parameters.keys(), theirs.parameters.keys(), "parameters");
    check_same(mine.buffers.keys(), theirs.buffers.keys(), "buffers");
    check_same(mine.children.keys(), theirs.children.keys(), "submodules");
    NoGradGuard guard;
    auto copy_values = [&](OrderedDict<Tensor<T>>& dst, const OrderedDict<Tensor<T>>& from) {
      for (size_t i = 0; i < dst.size(); ++i) {
        Tensor<T>& d = dst.item(i).second;
        const Tensor<T>& s = from.item(i).second;
        SINEW_CHECK(d.shape() == s.shape(), "clone", name(), "::reset() made '", dst.item(i).first,
                    "' of shape ", d.shape(), " but the original's is ", s.shape());
        d.copy_(s);
        if (d.is_leaf()) d.requires_grad_(s.requires_grad());
      }
    };
    copy_values(mine.parameters, theirs.parameters);
    copy_values(mine.buffers, theirs.buffers);
    for (size_t i = 0; i < mine.children.size(); ++i) {
      mine.children.item(i).second->copy_state_from(*theirs.children.item(i).second);
    }
    mine.training = theirs.training;
  }

 private:
  detail::HookRegistry<T>& hooks() { return *core_->hooks; }
  template <class H>
  RemovableHandle add_hook(std::vector<std::pair<uint64_t, H>>& list, H fn) {
    SINEW_CHECK(fn != nullptr, "register hook", "the hook of ", core_->name, " is empty");
    uint64_t id = core_->hooks->next_id++;
    list.emplace_back(id, std::move(fn));
    return RemovableHandle(core_->hooks, id);
  }

  void check_reassignable() const {
    if (detail::cloning_depth() > 0) return;
    for (const auto& r : core_->value_registrations) {
      SINEW_CHECK(r.copy.expired(), "Module::operator=", "cannot assign another module to ",
                  core_->name, " registered by value as '", r.key, "' in ", r.parent,
                  ": the registered module would stay the old one. Assign the member before "
                  "register_module, or hold it as a std::shared_ptr");
    }
  }
  // Whether `core` is this module's or one of its submodules' (cycle check at registration).
  bool contains_core(const detail::ModuleCore<T>* core) const {
    if (core_.get() == core) return true;
    for (const auto& [n, c] : core_->children)
      if (c->contains_core(core)) return true;
    return false;
  }

  Tensor<T> call_with_hooks(const Tensor<T>& x) {
    std::shared_ptr<detail::HookRegistry<T>> reg = core_->hooks;  // alive if a hook resets ours
    auto pre = reg->pre;  // copies: a hook may remove itself while running
    auto fwd = reg->forward;
    auto bwd = reg->backward;
    Tensor<T> input = x;
    for (auto& [id, h] : pre) {
      if (auto r = h(*this, input)) input = *r;
    }
    bool wire_backward = !bwd.empty() && autograd::is_grad_enabled();
    // grad_output, filled in by the output's hook before the input's hook runs.
    auto grad_output = std::make_shared<Tensor<T>>();
    bool input_hooked = wire_backward && input.requires_grad();
    if (input_hooked) {
      input = detail::hook_identity(input);
      input.register_hook([this, bwd, grad_output](const Tensor<T>& g) {
        Tensor<T> gi = g;
        for (auto& [id, h] : bwd) {
          if (auto r = h(*this, gi, *grad_output)) gi = *r;
        }
        return gi;
      });
    }
    Tensor<T> out = forward(input);
    for (auto& [id, h] : fwd) {
      if (auto r = h(*this, input, out)) out = *r;
    }
    if (wire_backward && out.defined() && out.requires_grad()) {
      out = detail::hook_identity(out);
      out.register_hook([this, bwd, grad_output, input_hooked](const Tensor<T>& g) {
        *grad_output = g;
        if (!input_hooked) {
          for (auto& [id, h] : bwd) h(*this, Tensor<T>(), g);
        }
        return Tensor<T>();
      });
    }
    return out;
  }

  void check_new_name(const std::string& n, const char* where) const {
    const detail::ModuleCore<T>& c = *core_;
    SINEW_CHECK(!n.empty() && n.find('.') == std::string::npos, where, "name '", n, "' in ", c.name,
                " must be non-empty and contain no '.'");
    SINEW_CHECK(!c.parameters.contains(n) && !c.buffers.contains(n) && !c.children.contains(n),
                where, "'", n, "' is already registered in ", c.name);
  }

  void collect(OrderedDict<Tensor<T>>& out, const std::string& prefix, bool recurse, bool buffers,
               std::unordered_set<const void*>* seen) const {
    for (const auto& [n, t] : buffers ? core_->buffers : core_->parameters) {
      if (seen->insert(t.impl_ptr().get()).second) out.insert(detail::dotted(prefix, n), t);
    }
    if (!recurse) return;
    for (const auto& [n, c] : core_->children)
      c->collect(out, detail::dotted(prefix, n), true, buffers, seen);
  }

  void state_items(StateDictT<T>& out, const std::string& prefix) const {
    for (const auto& [n, t] : core_->parameters) out.insert(detail::dotted(prefix, n), t.detach());
    for (const auto& [n, t] : core_->buffers) out.insert(detail::dotted(prefix, n), t.detach());
    for (const auto& [n, c] : core_->children) c->state_items(out, detail::dotted(prefix, n));
  }

  void walk(const std::string& prefix, std::vector<std::pair<std::string, ModuleT*>>& out) {
    out.emplace_back(prefix, this);
    for (auto& [n, c] : core_->children) c->walk(detail::dotted(prefix, n), out);
  }

  std::shared_ptr<detail::ModuleCore<T>> core_;
};

// nn::Module: the float module every layer and user network derives from by default.
using Module = ModuleT<float>;

// The device of a module's first parameter or buffer (the CPU for one with neither): where its
// inputs belong. nn::summary, train::fit and train::evaluate put their tensors there.
template <class T>
Device module_device(const ModuleT<T>& module) {
  for (const auto& p : module.parameters()) return p.device();
  for (const auto& [name, b] : module.named_buffers()) return b.device();
  return Device::cpu();
}

template <class T>
std::ostream& operator<<(std::ostream& os, const ModuleT<T>& m) {
  m.pretty_print(os);
  return os;
}

// Gives Derived a deep clone(), PyTorch C++ style: copy-construct Derived (options and plain
// members), give the copy a state of its own, re-run reset() so every parameter, buffer and
// submodule is new (and member handles point at the new ones), then copy values and flags from the
// original by name. reset() must register every member; the names are checked against the
// original's.
template <class Derived, class T = float>
class Cloneable : public ModuleT<T> {
 public:
  using ModuleT<T>::ModuleT;

  // (Re)creates and registers this module's parameters, buffers and submodules.
  virtual void reset() {}

  std::shared_ptr<ModuleT<T>> clone() const override {
    auto copy = std::make_shared<Derived>(static_cast<const Derived&>(*this));
    Cloneable& c = *copy;
    c.renew_core();  // the copy shared this module's state until here
    struct Cloning {
      Cloning() { ++detail::cloning_depth(); }
      ~Cloning() { --detail::cloning_depth(); }
    } cloning;
    c.reset();
    c.copy_state_from(*this);
    return copy;
  }
};

// clone() with the module's own type: auto copy = nn::clone(linear);  // std::shared_ptr<Linear>
template <class M>
std::shared_ptr<M> clone(const M& m) {
  static_assert(std::is_base_of_v<ModuleT<typename M::value_type>, M>,
                "nn::clone: M must derive from nn::Module");
  auto p = std::dynamic_pointer_cast<M>(m.clone());
  SINEW_CHECK(p != nullptr, "clone", m.name(), "::clone() returned a module of another type");
  return p;
}

}  // namespace sinew::nn
