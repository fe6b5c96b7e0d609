// The backward engine: runs recorded nodes in reverse topological order, accumulating gradients
// into leaves' .grad (backward) or returning them (autograd::grad). Also the Tensor members that
// deal with autograd state.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <queue>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "sinew/autograd/node.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/compare.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/scan.hpp"

namespace sinew::autograd {

namespace detail {

using sinew::detail::ImplPtr;

// Calls f(Tensor<float>) or f(Tensor<double>) for a floating tensor of either type.
template <class F>
auto visit_floating(const ImplPtr& impl, F&& f) {
  if (impl->dtype == DType::Float64) return f(Tensor<double>(impl));
  SINEW_CHECK(impl->dtype == DType::Float32, "autograd", "gradients must be float or double, got ",
              impl->dtype);
  return f(Tensor<float>(impl));
}

// The functions below are templates with a defaulted parameter (rather than plain inline
// functions) so that a program instantiates the engine's tensor ops and containers only when it
// runs a backward pass.

// By value, so a gradient moved in can end up the only handle (see owned()).
template <class D = void>
ImplPtr add_grads(ImplPtr a, ImplPtr b) {
  if (!a) return b;
  if (!b) return a;
  return visit_floating(a, [&](auto ta) {
    using T = typename decltype(ta)::value_type;
    return (ta + Tensor<T>(b)).impl_ptr();
  });
}

inline ImplPtr run_hooks(const std::vector<sinew::detail::ImplHook>& hooks, ImplPtr grad) {
  for (const auto& h : hooks) {
    ImplPtr r = h(grad);
    if (r) grad = std::move(r);
  }
  return grad;
}

// A gradient that backward may keep as .grad without copying: nothing else refers to it (the
// caller holds the only handle and no other tensor shares its memory), contiguous, no history.
// Otherwise a later in-place accumulation would write into someone else's tensor (a gradient the
// user passed, or the one `add` hands to both of its inputs).
inline bool owned(const ImplPtr& g) {
  return g.use_count() == 1 && g->storage.use_count() == 1 && g->is_contiguous() &&
         g->grad_fn == nullptr;
}

// A copy of g for .grad: differentiable under create_graph (like PyTorch), detached otherwise.
template <class D = void>
ImplPtr grad_copy(const ImplPtr& g, bool create_graph) {
  return visit_floating(
      g, [&](auto t) { return (create_graph ? t.clone() : t.detach().clone()).impl_ptr(); });
}

// Adds a gradient into a tensor's .grad: takes the buffer when owned, adds in place when no graph
// is being built, out of place (differentiably) under create_graph or onto a .grad with history.
template <class D = void>
void accumulate_grad(sinew::detail::TensorImpl& t, ImplPtr g, bool create_graph) {
  if (!t.grad) {
    t.grad = owned(g) ? std::move(g) : grad_copy(g, create_graph);
    return;
  }
  if (create_graph || t.grad->grad_fn) {
    t.grad = add_grads(t.grad, g);
  } else {
    visit_floating(t.grad, [&](auto tg) {
      using T = typename decltype(tg)::value_type;
      NoGradGuard no_grad;
      tg.add_(Tensor<T>(g));
      return 0;
    });
  }
}

// node: the node that produced g (nullptr: g was given for a root).
inline void check_grad_shape(const ImplPtr& g, const Shape& shape, DType dtype, const Node* node) {
  if (g->shape == shape && g->dtype == dtype) return;
  std::string who = node != nullptr ? "node " + node->describe() : std::string("the root gradient");
  SINEW_CHECK(g->shape == shape, "backward", who, " produced a gradient of shape ", g->shape,
              " for an input of shape ", shape);
  sinew::detail::fail("backward", who, " produced a ", g->dtype, " gradient for a ", dtype,
                      " input");
}

// Anomaly detection: raises when g, the gradient node n returned for its input i, holds a NaN or
// an infinity, naming the node and the forward op (with its input shapes, when noted).
template <class D = void>
void check_finite_grad(const ImplPtr& g, const Node& n, size_t i) {
  const int bad = visit_floating(g, [](auto t) {
    NoGradGuard no_grad;
    if (all(isfinite(t)).item()) return 0;
    return any(isnan(t)).item() ? 1 : 2;
  });
  if (bad == 0) return;
  const std::string* forward = n.forward_info();
  sinew::detail::fail("backward", "anomaly detected: node ", n.describe(), " returned ",
                      bad == 1 ? "NaN" : "infinite", " values in its gradient for input ", i,
                      " (shape ", g->shape, "); it came from the forward op ",
                      forward != nullptr ? *forward
                                         : n.op_name() +
                                               " (recorded before anomaly detection "
                                               "was on: input shapes unknown)");
}

struct EngineTask {
  std::vector<ImplPtr> roots;
  std::vector<ImplPtr> root_grads;
  bool retain_graph = false;
  bool create_graph = false;
  // autograd::grad: capture the gradients of these tensors instead of accumulating into leaves.
  std::vector<ImplPtr> capture;
};

// Runs the backward pass; returns the captured gradients (one per task.capture, may be null).
template <class D = void>
std::vector<ImplPtr> execute(const EngineTask& task) {
  using sinew::detail::TensorImpl;
  GradModeGuard mode(task.create_graph);
  bool capturing = !task.capture.empty();
  // One tensor may be asked for several times (autograd::grad({y}, {x, x})).
  std::unordered_map<const Node*, std::vector<size_t>> capture_node;
  std::unordered_map<const TensorImpl*, std::vector<size_t>> capture_leaf;
  for (size_t i = 0; i < task.capture.size(); ++i) {
    const auto& c = task.capture[i];
    if (c->grad_fn)
      capture_node[c->grad_fn.get()].push_back(i);
    else
      capture_leaf[c.get()].push_back(i);
  }
  std::vector<ImplPtr> captured(task.capture.size());

  // Dependencies: how many edges from reachable nodes point at each node and at each leaf. A leaf
  // gets its gradient (and its hooks run) once, when every edge into it has delivered, like
  // PyTorch's AccumulateGrad node.
  // One entry per reachable node (one allocation each): its pending edges and the gradient
  // summed so far (`started` once one has arrived).
  struct NodeState {
    int deps = 0;
    bool started = false;
    ImplPtr buffer;
  };
  std::unordered_map<Node*, NodeState> nodes;
  std::unordered_map<const TensorImpl*, int> leaf_deps;
  std::unordered_map<const TensorImpl*, ImplPtr> leaf_buffer;
  std::vector<Node*> stack;
  for (const auto& r : task.roots) {
    if (r->grad_fn && nodes.try_emplace(r->grad_fn.get()).second) stack.push_back(r->grad_fn.get());
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& e : n->next_edges()) {
      if (e.leaf) ++leaf_deps[e.leaf.get()];
      if (!e.node) continue;
      auto [it, fresh] = nodes.try_emplace(e.node.get());
      ++it->second.deps;
      if (fresh) stack.push_back(e.node.get());
    }
  }

  auto flush_leaf = [&](const ImplPtr& leaf) {
    auto it = leaf_buffer.find(leaf.get());
    if (it == leaf_buffer.end()) return;
    ImplPtr g = std::move(it->second);
    leaf_buffer.erase(it);
    if (!g) return;
    g = run_hooks(leaf->leaf_hooks, std::move(g));
    if (capturing) {
      auto c = capture_leaf.find(leaf.get());
      if (c != capture_leaf.end()) {
        for (size_t i : c->second) captured[i] = g;
      }
      return;
    }
    accumulate_grad(*leaf, std::move(g), task.create_graph);
  };

  auto cmp = [](Node* a, Node* b) { return a->sequence_nr() < b->sequence_nr(); };
  std::priority_queue<Node*, std::vector<Node*>, decltype(cmp)> ready(cmp);
  std::vector<ImplPtr> root_leaves;
  for (size_t i = 0; i < task.roots.size(); ++i) {
    const auto& r = task.roots[i];
    check_grad_shape(task.root_grads[i], r->shape, r->dtype, nullptr);
    if (r->grad_fn) {
      NodeState& st = nodes[r->grad_fn.get()];
      st.buffer = add_grads(st.buffer, task.root_grads[i]);
      if (!st.started && st.deps == 0) ready.push(r->grad_fn.get());
      st.started = true;
    } else {
      leaf_buffer[r.get()] = add_grads(leaf_buffer[r.get()], task.root_grads[i]);
      root_leaves.push_back(r);
    }
  }
  for (const auto& r : root_leaves) {
    if (leaf_deps[r.get()] == 0) flush_leaf(r);
  }

  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    ImplPtr g = std::move(nodes[n].buffer);
    std::vector<ImplPtr> grads;
    if (g) {
      g = run_hooks(n->tensor_hooks, std::move(g));
      if (!capturing) {
        for (const auto& w : n->retained) {
          if (auto t = w.lock()) accumulate_grad(*t, g, task.create_graph);
        }
      } else {
        auto c = capture_node.find(n);
        if (c != capture_node.end()) {
          for (size_t i : c->second) captured[i] = g;
        }
      }
      grads = n->run(g);
      g.reset();  // so a gradient passed through unchanged can become a leaf's .grad uncopied
      SINEW_CHECK(grads.size() == n->next_edges().size(), "backward", "node ", n->describe(),
                  " returned ", grads.size(), " gradients for ", n->next_edges().size(), " inputs");
      if (is_anomaly_enabled()) {
        for (size_t i = 0; i < grads.size(); ++i) {
          if (grads[i]) check_finite_grad(grads[i], *n, i);
        }
      }
    }
    const auto& edges = n->next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      ImplPtr gi = i < grads.size() ? std::move(grads[i]) : nullptr;
      if (gi && e.valid()) check_grad_shape(gi, e.shape, e.dtype, n);
      if (e.leaf) {
        if (gi) leaf_buffer[e.leaf.get()] = add_grads(leaf_buffer[e.leaf.get()], std::move(gi));
        if (--leaf_deps[e.leaf.get()] == 0) flush_leaf(e.leaf);
      } else if (e.node) {
        NodeState& st = nodes[e.node.get()];
        if (gi) st.buffer = add_grads(st.buffer, std::move(gi));
        st.started = true;
        if (--st.deps == 0) ready.push(e.node.get());
      }
    }
    if (!task.retain_graph) n->release();
  }
  return captured;
}

inline void check_root(const sinew::detail::TensorImpl& r, size_t i) {
  SINEW_CHECK(r.requires_grad(), "backward", "element ", i,
              " of tensors does not require grad and does not have a grad_fn");
}

}  // namespace detail

struct GradOptions {
  std::optional<bool> retain_graph = std::nullopt;  // defaults to create_graph
  bool create_graph = false;
  bool allow_unused = false;
};

namespace detail {

// What grad and backward return when their tensors mix element types: see the overloads taking
// MixedTensorList below, chosen only when no other one fits.
struct MixedElementTypes {};
struct AnyTensorArg {
  template <class U>
  AnyTensorArg(const Tensor<U>&) {}  // NOLINT: implicit on purpose
};
struct MixedTensorList {
  MixedTensorList() = default;
  MixedTensorList(std::initializer_list<AnyTensorArg>) {}
  template <class U>
  MixedTensorList(const std::vector<Tensor<U>>&) {}  // NOLINT: implicit on purpose
};
template <class>
inline constexpr bool always_false = false;

}  // namespace detail

// Gradients of sum(outputs[i] * grad_outputs[i]) with respect to each input, returned rather
// than accumulated into .grad. grad_outputs may be empty for scalar outputs. The element type
// comes from the arguments, braced lists included: autograd::grad({y}, {x}, {g}).
template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs,
                            const std::vector<Tensor<T>>& inputs,
                            const std::vector<Tensor<T>>& grad_outputs = {},
                            GradOptions options = {}) {
  static_assert(is_floating_dtype_v<T>,
                "autograd::grad: gradients exist for Tensor<float> and Tensor<double> only");
  SINEW_CHECK(!outputs.empty(), "autograd::grad", "no outputs given");
  SINEW_CHECK(!inputs.empty(), "autograd::grad", "no inputs given");
  SINEW_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "autograd::grad",
              "got ", grad_outputs.size(), " grad_outputs for ", outputs.size(), " outputs");
  detail::EngineTask task;
  task.create_graph = options.create_graph;
  task.retain_graph = options.retain_graph.value_or(options.create_graph);
  for (size_t i = 0; i < outputs.size(); ++i) {
    detail::check_root(outputs[i].impl(), i);
    Tensor<T> g;
    if (!grad_outputs.empty() && grad_outputs[i].defined()) {
      g = grad_outputs[i];
      SINEW_CHECK(g.shape() == outputs[i].shape(), "autograd::grad", "grad_outputs[", i,
                  "] has shape ", g.shape(), " but outputs[", i, "] has shape ",
                  outputs[i].shape());
    } else {
      SINEW_CHECK(outputs[i].numel() == 1, "autograd::grad",
                  "grad can be implicitly created only for "
                  "scalar outputs; outputs[",
                  i, "] has shape ", outputs[i].shape());
      g = ones_like(outputs[i]);
    }
    task.roots.push_back(outputs[i].impl_ptr());
    task.root_grads.push_back(g.impl_ptr());
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    SINEW_CHECK(inputs[i].requires_grad(), "autograd::grad", "inputs[", i, "] (shape ",
                inputs[i].shape(), ") does not require grad");
    task.capture.push_back(inputs[i].impl_ptr());
  }
  auto captured = detail::execute(task);
  std::vector<Tensor<T>> result;
  for (size_t i = 0; i < captured.size(); ++i) {
    SINEW_CHECK(captured[i] || options.allow_unused, "autograd::grad", "inputs[", i, "] (shape ",
                inputs[i].shape(),
                ") was not used in the graph; pass allow_unused = true to get an "
                "undefined gradient instead");
    result.push_back(captured[i] ? Tensor<T>(captured[i]) : Tensor<T>());
  }
  return result;
}

// A braced list of outputs (a braced list cannot deduce T for a std::vector parameter): T comes
// from the outputs, and inputs and grad_outputs may be braced lists or vectors of the same T.
template <class T>
std::vector<Tensor<T>> grad(std::initializer_list<Tensor<T>> outputs,
                            const std::vector<Tensor<std::type_identity_t<T>>>& inputs,
                            const std::vector<Tensor<std::type_identity_t<T>>>& grad_outputs = {},
                            GradOptions options = {}) {
  return grad(std::vector<Tensor<T>>(outputs), inputs, grad_outputs, options);
}

// Chosen only when the tensors given to grad are not all Tensor<T> of one T: stops the build with
// a readable message instead of a list of overloads that do not fit.
template <class D = void>
detail::MixedElementTypes grad(detail::MixedTensorList, detail::MixedTensorList,
                               detail::MixedTensorList = {}, GradOptions = {}) {
  static_assert(detail::always_false<D>,
                "autograd::grad: outputs, inputs and grad_outputs must all be Tensor<T> of one "
                "element type T (float or double); convert the others with .to<T>() first");
  return {};
}

// Runs backward from several roots at once (see Tensor::backward on create_graph's cycle).
template <class T>
void backward(const std::vector<Tensor<T>>& tensors,
              const std::vector<Tensor<T>>& grad_tensors = {}, bool retain_graph = false,
              bool create_graph = false) {
  static_assert(is_floating_dtype_v<T>,
                "autograd::backward: gradients exist for Tensor<float> and Tensor<double> only");
  detail::EngineTask task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor<T>& t = tensors[i];
    detail::check_root(t.impl(), i);
    Tensor<T> g = i < grad_tensors.size() ? grad_tensors[i] : Tensor<T>();
    if (g.defined()) {
      SINEW_CHECK(g.shape() == t.shape(), "backward", "gradient has shape ", g.shape(),
                  " but the tensor has shape ", t.shape());
      sinew::detail::check_same_device("backward", g, t);
    } else {
      SINEW_CHECK(t.numel() == 1, "backward",
                  "grad can be implicitly created only for scalar outputs; "
                  "got a tensor of shape ",
                  t.shape(), " (pass a gradient of that shape)");
      g = ones_like(t);
    }
    task.roots.push_back(t.impl_ptr());
    task.root_grads.push_back(g.impl_ptr());
  }
  detail::execute(task);
}

// A braced list of roots: autograd::backward({y1, y2}, {g1, g2}).
template <class T>
void backward(std::initializer_list<Tensor<T>> tensors,
              const std::vector<Tensor<std::type_identity_t<T>>>& grad_tensors = {},
              bool retain_graph = false, bool create_graph = false) {
  backward(std::vector<Tensor<T>>(tensors), grad_tensors, retain_graph, create_graph);
}

template <class D = void>
detail::MixedElementTypes backward(detail::MixedTensorList, detail::MixedTensorList = {},
                                   bool = false, bool = false) {
  static_assert(detail::always_false<D>,
                "autograd::backward: tensors and grad_tensors must all be Tensor<T> of one element "
                "type T (float or double); convert the others with .to<T>() first");
  return {};
}

}  // namespace sinew::autograd

namespace sinew {

template <class T>
void Tensor<T>::backward(const Tensor<T>& gradient, bool retain_graph, bool create_graph) const {
  if constexpr (is_floating_dtype_v<T>) {
    autograd::backward<T>({*this}, {gradient}, retain_graph, create_graph);
  } else {
    detail::fail("backward", "only float and double tensors have gradients, this one is ", dtype());
  }
}

template <class T>
Tensor<T>& Tensor<T>::requires_grad_(bool on) {
  SINEW_CHECK(!on || is_floating_dtype_v<T>, "requires_grad_",
              "only float and double tensors can require gradients, this one is ", dtype());
  SINEW_CHECK(is_leaf(), "requires_grad_",
              "can only change requires_grad of leaf tensors; use detach() to make a new leaf");
  impl().leaf_requires_grad = on;
  return *this;
}

template <class T>
void Tensor<T>::set_grad(const Tensor<T>& g) {
  if (g.defined()) {
    SINEW_CHECK(g.shape() == shape(), "set_grad", "gradient of shape ", g.shape(),
                " assigned to a tensor of shape ", shape());
    impl().grad = g.impl_ptr();
  } else {
    impl().grad = nullptr;
  }
}

template <class T>
Tensor<T>& Tensor<T>::retain_grad() {
  SINEW_CHECK(requires_grad(), "retain_grad", "called on a tensor that does not require grad");
  if (is_leaf() || impl().retains_grad) return *this;
  impl().retains_grad = true;
  impl().grad_fn->retained.push_back(impl_);
  return *this;
}

template <class T>
void Tensor<T>::register_hook(Hook hook) {
  SINEW_CHECK(requires_grad(), "register_hook",
              "cannot register a hook on a tensor that does not require grad");
  auto h = [hook = std::move(hook)](const detail::ImplPtr& g) -> detail::ImplPtr {
    Tensor<T> r = hook(Tensor<T>(g));
    return r.defined() ? r.impl_ptr() : nullptr;
  };
  if (is_leaf())
    impl().leaf_hooks.push_back(std::move(h));
  else
    impl().grad_fn->tensor_hooks.push_back(std::move(h));
}

template <class T>
Tensor<T> Tensor<T>::detach() const {
  auto a = detail::alias_impl(impl());
  a->is_view = false;
  return Tensor<T>(a);
}

template <class T>
Tensor<T>& Tensor<T>::detach_() {
  SINEW_CHECK(!impl().is_view || !requires_grad(), "detach_",
              "cannot detach a view in place; use detach()");
  impl().grad_fn = nullptr;
  impl().leaf_requires_grad = false;
  return *this;
}

}  // namespace sinew
