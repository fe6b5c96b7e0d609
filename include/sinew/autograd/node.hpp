// Graph nodes: what an op records so that backward can run, and autograd::record, the one way ops
// attach a backward closure to their output.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <iterator>
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

// The inputs of one record() call, viewed in place: a braced list at the call ({x, w}) or a
// std::vector<Input>, never copied (the list lives until the call returns).
class InputList {
 public:
  InputList(std::initializer_list<Input> list)  // NOLINT: implicit on purpose
      : size_(list.size()) {
    data_ = std::data(list);  // the caller's array, alive for the whole call
  }
  InputList(const std::vector<Input>& v)  // NOLINT: implicit on purpose
      : data_(v.data()), size_(v.size()) {}
  const Input* begin() const { return data_; }
  const Input* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  const Input& operator[](size_t i) const { return data_[i]; }

 private:
  const Input* data_ = nullptr;
  size_t size_;
};

namespace detail {
inline uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> counter{0};
  return counter++;
}

// PyTorch's node name for the Sinew ops whose name is not CamelCase(op) + "Backward0": those
// PyTorch names after another ATen function, and the reductions PyTorch names by overload (over
// everything, or over given dims), told apart here by the output: 0-d or not. (So a reduction over
// every dim of a 1-d tensor without keepdim, which PyTorch counts as the dims overload, gets the
// other name.)
struct NodeName {
  const char* op;
  const char* name;                 // for a 0-d output, or any output when no dims_name
  const char* dims_name = nullptr;  // for an output with dimensions
};
inline constexpr NodeName node_names[] = {
    {"sum", "SumBackward0", "SumBackward1"},
    {"mean", "MeanBackward0", "MeanBackward1"},
    {"prod", "ProdBackward0", "ProdBackward1"},
    // max() and min() are PyTorch's second overloads, max(dim) and min(dim) the first.
    {"max", "MaxBackward1", "MaxBackward0"},
    {"min", "MinBackward1", "MinBackward0"},
    {"to", "ToCopyBackward0"},
    {"copy_", "CopyBackwards"},
    {"fill_", "FillBackward2"},
    {"rsub", "RsubBackward1"},
    {"rdiv", "DivBackward0"},  // LibTorch's s / x (Python's s / x is x.reciprocal() * s)
    {"gelu_exact", "GeluBackward0"},
    {"clamp", "ClampBackward1"},  // the overload with number bounds
    {"norm", "NormBackward1"},
    {"pad", "ConstantPadNdBackward0"},
    {"linear", "AddmmBackward0"},  // one fused node; PyTorch's 2-d input with a bias
    {"conv2d", "ConvolutionBackward0"},
    {"conv_transpose2d", "ConvolutionBackward0"},
    {"conv2d_weight", "ConvolutionBackwardBackward0"},
    {"max_pool2d", "MaxPool2DWithIndicesBackward0"},
    {"max_pool1d", "MaxPool2DWithIndicesBackward0"},  // PyTorch runs the 1-d pools as 2-d ones
    {"max_pool2d_backward", "MaxPool2DWithIndicesBackwardBackward0"},
    {"avg_pool1d", "AvgPool2DBackward0"},
    {"adaptive_avg_pool1d", "AdaptiveAvgPool2DBackward0"},
    {"adaptive_max_pool1d", "AdaptiveMaxPool2DBackward0"},
    {"batch_norm", "NativeBatchNormBackward0"},
    {"layer_norm", "NativeLayerNormBackward0"},
    {"group_norm", "NativeGroupNormBackward0"},
    {"BackwardHookFunction", "BackwardHookFunctionBackward"},
};

// The name PyTorch 1.13 gives the node of the op Sinew records as `op` (output_dim: the rank of the
// op's output; inputs: its number of tensor inputs): the table above, pow and matmul by their
// operands, else the rule of PyTorch's code generator, CamelCase(op) + "Backward0" (a capital after
// each '_' and digit, a trailing '_' of an in-place op dropped: "log_softmax" ->
// "LogSoftmaxBackward0", "log1p" -> "Log1PBackward0", "relu_" -> "ReluBackward0"). A name that is
// not snake_case is kept.
inline std::string pytorch_node_name(const std::string& op, int64_t output_dim, size_t inputs) {
  if (op == "pow") return inputs == 2 ? "PowBackward1" : "PowBackward0";  // x^y : x^e (s^x: 2)
  if (op == "matmul") return output_dim > 2 ? "BmmBackward0" : "MmBackward0";
  for (const NodeName& e : node_names) {
    if (op == e.op) return e.dims_name != nullptr && output_dim > 0 ? e.dims_name : e.name;
  }
  bool snake = !op.empty() && op[0] >= 'a' && op[0] <= 'z';
  for (char c : op) snake = snake && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!snake) return op;
  std::string out;
  bool upper = true;
  for (char c : op) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    upper = c >= '0' && c <= '9';
  }
  return out + "Backward0";
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

  // op: the op's name as recorded ("mul"); output_dim: the rank of its output (-1: unknown);
  // name_as_given: name() is op itself rather than PyTorch's name for it.
  Node(const char* op, void* closure, RunFn run, DestroyFn destroy, int64_t output_dim = -1,
       bool name_as_given = false)
      : op_(op),
        sequence_nr_(detail::next_sequence_nr()),
        output_dim_(output_dim),
        name_as_given_(name_as_given),
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

  // PyTorch's name for the node, as grad_fn.name() gives it: "MulBackward0", "SumBackward1"
  // (see detail::pytorch_node_name); for an autograd::Function, the function's name.
  std::string name() const {
    return name_as_given_ ? op_ : detail::pytorch_node_name(op_, output_dim_, next_.size());
  }
  // The name the op recorded ("mul", "sum"), as the Sinew function is called.
  const std::string& op_name() const { return op_; }
  // How error messages cite the node: "mul (MulBackward0)", or the one name when both agree.
  std::string describe() const {
    std::string n = name();
    return n == op_ ? n : op_ + " (" + n + ")";
  }
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
                describe(),
                "; pass retain_graph=true to the first backward if you need to run it twice");
    for (const auto& [impl, version] : saved_) {
      SINEW_CHECK(impl->storage->version() == version, "backward", "a tensor of shape ",
                  impl->shape, " needed by ", describe(),
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
  // Room for the edges and saved tensors record() adds, so that each vector allocates once.
  void reserve(size_t edges, size_t saved) {
    next_.reserve(edges);
    saved_.reserve(saved);
  }
  void add_saved(const sinew::detail::ImplPtr& impl) {
    saved_.emplace_back(impl, impl->storage->version());
  }
  void save_output(const sinew::detail::TensorImpl& y) {
    output_ = sinew::detail::alias_impl(y);
    add_saved(output_);
  }
  const sinew::detail::ImplPtr& saved_output() const { return output_; }

  // The forward op and its input shapes, noted when anomaly detection was on at record time
  // (nullptr otherwise): "mul of inputs [2, 3], [3]".
  const std::string* forward_info() const { return forward_info_.get(); }
  void set_forward_info(std::string info) {
    forward_info_ = std::make_unique<std::string>(std::move(info));
  }

  // Hooks registered on the (non-leaf) tensor this node produced, and retain_grad's target.
  std::vector<sinew::detail::ImplHook> tensor_hooks;
  std::vector<std::weak_ptr<sinew::detail::TensorImpl>> retained;

 private:
  void release_closure() {
    if (closure_ != nullptr) destroy_(closure_);
    closure_ = nullptr;
  }

  std::string op_;
  uint64_t sequence_nr_;
  int64_t output_dim_;
  bool name_as_given_;
  std::vector<Edge> next_;
  std::vector<std::pair<sinew::detail::ImplPtr, uint64_t>> saved_;
  sinew::detail::ImplPtr output_;  // alias of the op's output without history, when saved
  bool released_ = false;
  std::unique_ptr<std::string> forward_info_;
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
    SINEW_CHECK(node_.saved_output() != nullptr, node_.op_name().c_str(),
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
  bool name_as_given = false;     // grad_fn()->name() is the recorded name itself (not PyTorch's)
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
  if constexpr (std::is_same_v<std::remove_cvref_t<R>, std::vector<sinew::detail::ImplPtr>>) {
    out = std::forward<R>(r);
  } else if constexpr (requires { r.impl_ptr(); }) {
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
inline bool any_requires_grad(InputList inputs) {
  for (const auto& in : inputs) {
    if (in.impl && in.impl->requires_grad()) return true;
  }
  return false;
}

// The part of record() that does not depend on the closure's type, shared by every op: makes the
// node around the (already heap-allocated) closure, its edges and saved tensors, and sets y's
// grad_fn. (A template with a defaulted parameter: instantiated, with make_shared<Node>, only by a
// program that records an op.)
template <class D = void>
void attach_node(sinew::detail::TensorImpl& y, const char* name, InputList inputs,
                 const RecordOptions& options, void* closure, Node::RunFn run,
                 Node::DestroyFn destroy) {
  std::shared_ptr<Node> node;
  try {
    node =
        std::make_shared<Node>(name, closure, run, destroy, y.shape.size(), options.name_as_given);
  } catch (...) {
    destroy(closure);
    throw;
  }
  node->reserve(inputs.size(), options.saved.size() + (options.save_output ? 1 : 0));
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
  for (const auto& s : options.saved) {
    if (s.impl) node->add_saved(s.impl);  // an optional input (a bias) may be undefined
  }
  if (options.save_output) node->save_output(y);
  if (is_anomaly_enabled()) {
    std::string info = std::string(name) + " of input" + (inputs.size() == 1 ? " " : "s ");
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (i > 0) info += ", ";
      info += inputs[i].impl ? sinew::detail::str(inputs[i].impl->shape) : "(none)";
    }
    node->set_forward_info(std::move(info));
  }
  y.grad_fn = std::move(node);
}

}  // namespace detail

// Attaches `fn` (the backward of the op named `name`, snake_case as the Sinew function: the node's
// name() is PyTorch's for it, see detail::pytorch_node_name) to y, when grad mode is on and some
// input requires grad. fn takes the output gradient (and optionally a BackwardContext<T>) and
// returns one gradient per input, in order: a Tensor for a single input or a std::vector; an
// undefined tensor where an input needs none. Returns y.
template <class T, class F>
Tensor<T>& record(Tensor<T>& y, const char* name, InputList inputs, F fn,
                  const RecordOptions& options = {}) {
  if (!is_grad_enabled() || !detail::any_requires_grad(inputs)) return y;
  detail::attach_node(y.impl(), name, inputs, options, new F(std::move(fn)),
                      &detail::run_closure<T, F>, &detail::destroy_closure<F>);
  return y;
}

template <class T, class F>
Tensor<T> record(Tensor<T>&& y, const char* name, InputList inputs, F fn,
                 const RecordOptions& options = {}) {
  record(y, name, inputs, std::move(fn), options);
  return std::move(y);
}

}  // namespace sinew::autograd
