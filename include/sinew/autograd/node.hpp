// Graph nodes: what an op records so that backward can run, and autograd::record, the one way ops
// attach a backward closure to their output.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::autograd {

class Node;

// Where the gradient for one input of a node goes: another node, or a leaf tensor's .grad.
struct Edge {
  std::shared_ptr<Node> node;
  sinew::detail::ImplPtr leaf;
  Shape shape;  // of the input, which its gradient must match
  DType dtype = DType::Float32;
  bool valid() const { return node != nullptr || leaf != nullptr; }
};

// A tensor of any element type, as an input of a recorded op.
struct Input {
  sinew::detail::ImplPtr impl;
  template <class U>
  Input(const Tensor<U>& t) : impl(t.impl_ptr()) {}  // NOLINT: implicit on purpose
};

namespace detail {
inline uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> counter{0};
  return counter++;
}
}  // namespace detail

// One graph node class for every op. The op's backward closure lives on the heap behind a void*
// with two plain function pointers (run it, free it), so each closure costs a program two small
// functions instead of a node class with its own vtable and shared_ptr control block.
class Node final : public std::enable_shared_from_this<Node> {
 public:
  // run(closure, node, grad_output) returns one gradient (or nullptr) per input; destroy frees the
  // closure.
  using RunFn = std::vector<sinew::detail::ImplPtr> (*)(void* closure, Node& node,
                                                        const sinew::detail::ImplPtr& grad_output);
  using DestroyFn = void (*)(void* closure);

  Node(const char* name, void* closure, RunFn run, DestroyFn destroy)
      : name_(name),
        sequence_nr_(detail::next_sequence_nr()),
        closure_(closure),
        run_(run),
        destroy_(destroy) {}
  // Freeing a long chain through nested shared_ptr destructors would recurse once per node and
  // overflow the stack (10^5 ops; far fewer under ASan). A dying node hands its edges to a list
  // that the outermost destructor on this thread drains, so the chain is freed in a loop. (The
  // tensors the closure captured hold their grad_fn, which next_ holds too, so freeing the closure
  // never frees a node itself.)
  ~Node() {
    thread_local std::vector<std::shared_ptr<Node>>* pending = nullptr;  // trivially destructible
    release_closure();
    saved_.clear();
    output_.reset();
    if (pending != nullptr) {
      for (auto& e : next_) {
        if (e.node) pending->push_back(std::move(e.node));
      }
      return;
    }
    std::vector<std::shared_ptr<Node>> local;
    for (auto& e : next_) {
      if (e.node) local.push_back(std::move(e.node));
    }
    pending = &local;
    while (!local.empty()) {
      std::shared_ptr<Node> n = std::move(local.back());
      local.pop_back();
      n.reset();  // when it was the last owner, its destructor appends its own edges to `local`
    }
    pending = nullptr;
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  // Later nodes run first when several are ready (reverse creation order).
  uint64_t sequence_nr() const { return sequence_nr_; }
  const std::vector<Edge>& next_edges() const { return next_; }
  bool needs_input_grad(size_t i) const { return i < next_.size() && next_[i].valid(); }
  bool released() const { return released_; }

  // Runs the backward closure: one gradient (or nullptr) per input.
  std::vector<sinew::detail::ImplPtr> run(const sinew::detail::ImplPtr& grad_output) {
    SINEW_CHECK(!released_, "backward",
                "trying to backward through the graph a second time (or to use saved tensors after "
                "they were freed) at node ",
                name_,
                "; pass retain_graph=true to the first backward if you need to run it twice");
    for (const auto& [impl, version] : saved_) {
      SINEW_CHECK(impl->storage->version() == version, "backward", "a tensor of shape ",
                  impl->shape, " needed by ", name_,
                  " was modified by an in-place operation (version ", impl->storage->version(),
                  ", expected ", version, ")");
    }
    return run_(closure_, *this, grad_output);
  }

  // Frees what the closure captured (after a backward without retain_graph).
  void release() {
    released_ = true;
    saved_.clear();
    output_.reset();
    release_closure();
  }

  // Set up by record(): where gradients go, which tensors to version-check, the saved output.
  void add_edge(Edge e) { next_.push_back(std::move(e)); }
  void add_saved(const sinew::detail::ImplPtr& impl) {
    saved_.emplace_back(impl, impl->storage->version());
  }
  void save_output(const sinew::detail::TensorImpl& y) {
    output_ = sinew::detail::alias_impl(y);
    add_saved(output_);
  }
  const sinew::detail::ImplPtr& saved_output() const { return output_; }

  // Hooks registered on the (non-leaf) tensor this node produced, and retain_grad's target.
  std::vector<sinew::detail::ImplHook> tensor_hooks;
  std::vector<std::weak_ptr<sinew::detail::TensorImpl>> retained;

 private:
  void release_closure() {
    if (closure_ != nullptr) destroy_(closure_);
    closure_ = nullptr;
  }

  std::string name_;
  uint64_t sequence_nr_;
  std::vector<Edge> next_;
  std::vector<std::pair<sinew::detail::ImplPtr, uint64_t>> saved_;
  sinew::detail::ImplPtr output_;  // alias of the op's output without history, when saved
  bool released_ = false;
  void* closure_;
  RunFn run_;
  DestroyFn destroy_;
};

// What a backward closure may ask about its node: which inputs need a gradient, and the op's output
// (rebuilt with this node as grad_fn, so a backward written with ops is itself differentiable).
template <class T>
class BackwardContext {
 public:
  explicit BackwardContext(Node& node) : node_(node) {}
  bool needs(size_t input) const { return node_.needs_input_grad(input); }
  Tensor<T> output() const {
    SINEW_CHECK(node_.saved_output() != nullptr, node_.name().c_str(),
                "backward asked for the output, but record() was not told to save it");
    auto impl = sinew::detail::alias_impl(*node_.saved_output());
    impl->grad_fn = node_.shared_from_this();
    return Tensor<T>(impl);
  }

 private:
  Node& node_;
};

struct RecordOptions {
  std::vector<Input> saved = {};  // inputs the closure reads: in-place changes to them are errors
  bool save_output = false;       // the closure calls ctx.output()
};

namespace detail {

template <class U>
sinew::detail::ImplPtr to_impl(const Tensor<U>& t) {
  return t.impl_ptr();
}

// Normalizes a closure's result (a Tensor<U> or a vector of them) to one gradient per input.
template <class R>
std::vector<sinew::detail::ImplPtr> to_impls(R&& r) {
  std::vector<sinew::detail::ImplPtr> out;
  if constexpr (requires { r.impl_ptr(); }) {
    out.push_back(r.impl_ptr());
  } else {
    out.reserve(r.size());
    for (auto& t : r) out.push_back(t.impl_ptr());
  }
  return out;
}

// The two functions behind a closure of type F: run it on the output gradient, and free it.
template <class T, class F>
std::vector<sinew::detail::ImplPtr> run_closure(void* closure, Node& node,
                                                const sinew::detail::ImplPtr& grad_output) {
  F& fn = *static_cast<F*>(closure);
  Tensor<T> gy(grad_output);
  if constexpr (std::is_invocable_v<F&, const Tensor<T>&, const BackwardContext<T>&>) {
    return to_impls(fn(gy, BackwardContext<T>(node)));
  } else {
    return to_impls(fn(gy));
  }
}
template <class F>
void destroy_closure(void* closure) {
  delete static_cast<F*>(closure);
}

}  // namespace detail

namespace detail {

// Whether any input requires grad (record's early exit, before the closure is moved anywhere).
inline bool any_requires_grad(const std::vector<Input>& inputs) {
  for (const auto& in : inputs) {
    if (in.impl && in.impl->requires_grad()) return true;
  }
  return false;
}

// The part of record() that does not depend on the closure's type, shared by every op: makes the
// node around the (already heap-allocated) closure, its edges and saved tensors, and sets y's
// grad_fn.
inline void attach_node(sinew::detail::TensorImpl& y, const char* name,
                        const std::vector<Input>& inputs, const RecordOptions& options,
                        void* closure, Node::RunFn run, Node::DestroyFn destroy) {
  std::shared_ptr<Node> node;
  try {
    node = std::make_shared<Node>(name, closure, run, destroy);
  } catch (...) {
    destroy(closure);
    throw;
  }
  for (const auto& in : inputs) {
    Edge e;
    if (in.impl && in.impl->grad_fn)
      e.node = in.impl->grad_fn;
    else if (in.impl && in.impl->leaf_requires_grad)
      e.leaf = in.impl;
    if (e.valid()) {
      e.shape = in.impl->shape;
      e.dtype = in.impl->dtype;
    }
    node->add_edge(std::move(e));
  }
  for (const auto& s : options.saved) node->add_saved(s.impl);
  if (options.save_output) node->save_output(y);
  y.grad_fn = std::move(node);
}

}  // namespace detail

// Attaches `fn` (the backward of the op named `name`) to y, when grad mode is on and some input
// requires grad. fn takes the output gradient (and optionally a BackwardContext<T>) and returns one
// gradient per input, in order: a Tensor for a single input or a std::vector; an undefined tensor
// where an input needs none. Returns y.
template <class T, class F>
Tensor<T>& record(Tensor<T>& y, const char* name, const std::vector<Input>& inputs, F fn,
                  const RecordOptions& options = {}) {
  if (!is_grad_enabled() || !detail::any_requires_grad(inputs)) return y;
  detail::attach_node(y.impl(), name, inputs, options, new F(std::move(fn)),
                      &detail::run_closure<T, F>, &detail::destroy_closure<F>);
  return y;
}

template <class T, class F>
Tensor<T> record(Tensor<T>&& y, const char* name, const std::vector<Input>& inputs, F fn,
                 const RecordOptions& options = {}) {
  record(y, name, inputs, std::move(fn), options);
  return std::move(y);
}

}  // namespace sinew::autograd
