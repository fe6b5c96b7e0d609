// Tensor<T>: a cheap handle to shared storage with shape, strides and offset, plus autograd state.
// Member functions that run ops are declared here and defined in the ops/ header of their family.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "sinew/core/device.hpp"
#include "sinew/core/dtype.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/promotion.hpp"
#include "sinew/core/shape.hpp"
#include "sinew/core/tensor_impl.hpp"

namespace sinew {

template <class T>
class Tensor;
template <class T>
struct ValuesIndices;  // ops/reduce.hpp: what max(dim) / min(dim) return

// One entry of Tensor::index({...}): an integer, a Slice, Ellipsis or None (a new axis).
struct Slice {  // defaults on every field, so Slice{.stop = 3} builds without -Wextra warnings
  std::optional<int64_t> start = std::nullopt;
  std::optional<int64_t> stop = std::nullopt;
  int64_t step = 1;
};
struct EllipsisIndex {};
struct NoneIndex {};
inline constexpr EllipsisIndex Ellipsis{};
inline constexpr NoneIndex None{};

class TensorIndex {
 public:
  enum class Kind { Integer, Slice, Ellipsis, None };
  TensorIndex(int64_t i) : kind_(Kind::Integer), integer_(i) {}  // NOLINT: implicit on purpose
  TensorIndex(int i) : kind_(Kind::Integer), integer_(i) {}      // NOLINT
  TensorIndex(Slice s) : kind_(Kind::Slice), slice_(s) {}        // NOLINT
  TensorIndex(EllipsisIndex) : kind_(Kind::Ellipsis) {}          // NOLINT
  TensorIndex(NoneIndex) : kind_(Kind::None) {}                  // NOLINT
  Kind kind() const { return kind_; }
  int64_t integer() const { return integer_; }
  const Slice& slice() const { return slice_; }

 private:
  Kind kind_;
  int64_t integer_ = 0;
  Slice slice_;
};

template <class T = float>
class Tensor {
  static_assert(is_supported_dtype_v<T>,
                "Tensor<T>: T must be float, double, int64_t, uint8_t or bool");

 public:
  using value_type = T;
  using Hook = std::function<Tensor<T>(const Tensor<T>&)>;

  // An undefined tensor (like a default torch::Tensor): defined() is false.
  Tensor() = default;
  Tensor(const Tensor&) = default;
  Tensor(Tensor&&) noexcept = default;
  ~Tensor() = default;
  // Assigning to a named tensor rebinds the handle (as torch::Tensor). Assigning to a temporary,
  // such as t[0] or t.index({...}), writes into the memory it views, as LibTorch does: the tensor
  // is broadcast into it (copy_), a scalar fills it (fill_).
  Tensor& operator=(const Tensor&) & = default;
  Tensor& operator=(Tensor&&) & noexcept = default;
  Tensor& operator=(const Tensor& src) && { return copy_(src); }
  template <Scalar S>
  Tensor& operator=(S value) && {
    return fill_(static_cast<double>(value));
  }
  explicit Tensor(detail::ImplPtr impl) : impl_(std::move(impl)) {
    SINEW_CHECK(!impl_ || impl_->dtype == dtype_of<T>(), "Tensor", "cannot view a ", impl_->dtype,
                " tensor as ", dtype_of<T>());
  }

  // ---- metadata ------------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& sizes() const { return impl().shape; }
  int64_t size(int64_t d) const {
    SINEW_CHECK(dim() > 0, "Tensor::size", "dimension ", d, " requested of a 0-d tensor");
    return shape()[detail::wrap_dim(d, dim(), "Tensor::size")];
  }
  const Shape& strides() const { return impl().strides; }
  int64_t stride(int64_t d) const {
    SINEW_CHECK(dim() > 0, "Tensor::stride", "dimension ", d, " requested of a 0-d tensor");
    return strides()[detail::wrap_dim(d, dim(), "Tensor::stride")];
  }
  int64_t storage_offset() const { return impl().offset; }
  int64_t dim() const { return shape().size(); }
  int64_t numel() const { return shape().numel(); }
  static constexpr DType dtype() { return dtype_of<T>(); }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const { return impl().is_contiguous(); }
  bool is_cpu() const { return device().is_cpu(); }
  // Pointer to element [0, ..., 0] (storage offset applied).
  T* data_ptr() const { return static_cast<T*>(impl().storage->data()) + impl().offset; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }
  bool shares_storage(const Tensor& o) const { return impl().storage == o.impl().storage; }

  // The single value of a one-element tensor; item<U>() converts it (an Error when the value does
  // not fit U, e.g. NaN or 1e20 as int64_t).
  T item() const;
  template <Scalar U>
  U item() const;
  // The element at a full index (negative indices count from the end); for tests and small reads.
  T at(std::initializer_list<int64_t> index) const;
  void set(std::initializer_list<int64_t> index, T value);
  // All elements in row-major order.
  std::vector<T> to_vector() const;

  // ---- autograd ------------------------------------------------------------------------------
  bool requires_grad() const { return impl().requires_grad(); }
  Tensor& requires_grad_(bool on = true);
  Tensor& set_requires_grad(bool on) { return requires_grad_(on); }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  // The accumulated gradient (undefined until a backward reaches this tensor).
  Tensor grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
  void set_grad(const Tensor& g);
  // Keep .grad() for a non-leaf tensor after backward.
  Tensor& retain_grad();
  bool retains_grad() const { return impl().retains_grad; }
  // A hook runs on this tensor's gradient during backward; returning a defined tensor replaces it.
  void register_hook(Hook hook);
  // Accumulates d(this)/d(leaf) into each leaf's .grad (gradient required unless one element).
  // With create_graph each .grad keeps a history that refers back to its leaf: a reference cycle,
  // as in PyTorch, until the .grad is reset (set_grad(Tensor())); autograd::grad avoids it.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  // Same memory, no history, requires_grad false.
  Tensor detach() const;
  Tensor& detach_();
  uint64_t version() const { return impl().storage->version(); }

  // ---- conversion ----------------------------------------------------------------------------
  template <class U>
  Tensor<U> to() const;
  Tensor to(Device device) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }
  // A copy in page-locked host memory, whose copies to a GPU run asynchronously (itself when it is
  // pinned already); no autograd history. Only for CPU tensors; needs the CUDA backend.
  Tensor pin_memory() const;
  bool is_pinned() const { return impl().storage->pinned(); }
  Tensor clone() const;
  Tensor contiguous() const;

  // ---- views (ops/shape.hpp) -----------------------------------------------------------------
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor permute(const Shape& dims) const;
  Tensor t() const;
  Tensor slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
               int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor expand(const Shape& shape) const;
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor view_as(const Tensor& other) const { return view(other.shape()); }
  Tensor index(std::initializer_list<TensorIndex> indices) const;
  // t[i] = t.select(0, i), so t[i][j] reads one element and t[0] = 1 writes a row (LibTorch's []).
  Tensor operator[](int64_t i) const { return select(0, i); }
  // Writes `values` (broadcast) or a scalar into t.index(indices), or a scalar where mask is true.
  Tensor& index_put_(std::initializer_list<TensorIndex> indices, const Tensor& values);
  template <Scalar S>
  Tensor& index_put_(std::initializer_list<TensorIndex> indices, S value) {
    index(indices).fill_(static_cast<double>(value));
    return *this;
  }
  template <Scalar S>
  Tensor& index_put_(const Tensor<bool>& mask, S value) {
    return masked_fill_(mask, static_cast<double>(value));
  }
  Tensor index_select(int64_t dim, const Tensor<int64_t>& index) const;  // ops/index.hpp
  Tensor gather(int64_t dim, const Tensor<int64_t>& index) const;
  Tensor masked_fill(const Tensor<bool>& mask, double value) const;
  Tensor flip(const Shape& dims) const;
  Tensor repeat(const Shape& repeats) const;

  // ---- elementwise (ops/elementwise.hpp); result types of integer and bool tensors as
  // core/promotion.hpp: float math gives float, rounding keeps the type ----------------------
  Tensor neg() const;
  Tensor<floating_t<T>> exp() const;
  Tensor<floating_t<T>> log() const;
  Tensor<floating_t<T>> sqrt() const;
  Tensor abs() const;
  Tensor<floating_t<T>> sigmoid() const;
  Tensor<floating_t<T>> tanh() const;
  Tensor relu() const;
  template <Scalar S>
  Tensor<scalar_result_t<T, S>> pow(S exponent) const;
  Tensor clamp(std::optional<double> min, std::optional<double> max) const;
  Tensor floor() const;
  Tensor ceil() const;
  Tensor round() const;  // half to even
  Tensor trunc() const;

  // ---- comparisons (ops/compare.hpp): a tensor (broadcast) or a scalar -------------------------
  Tensor<bool> eq(const Tensor& other) const;
  Tensor<bool> ne(const Tensor& other) const;
  Tensor<bool> lt(const Tensor& other) const;
  Tensor<bool> le(const Tensor& other) const;
  Tensor<bool> gt(const Tensor& other) const;
  Tensor<bool> ge(const Tensor& other) const;
  template <Scalar S>
  Tensor<bool> eq(S other) const;
  template <Scalar S>
  Tensor<bool> ne(S other) const;
  template <Scalar S>
  Tensor<bool> lt(S other) const;
  template <Scalar S>
  Tensor<bool> le(S other) const;
  template <Scalar S>
  Tensor<bool> gt(S other) const;
  template <Scalar S>
  Tensor<bool> ge(S other) const;
  Tensor<bool> isnan() const;
  Tensor<bool> isinf() const;
  Tensor<bool> isfinite() const;
  Tensor<bool> isclose(const Tensor& other, double rtol = 1e-5, double atol = 1e-8,
                       bool equal_nan = false) const;
  // ops/scan.hpp: isclose everywhere (broadcast); same shape and values (NaN != NaN).
  bool allclose(const Tensor& other, double rtol = 1e-5, double atol = 1e-8,
                bool equal_nan = false) const;
  bool equal(const Tensor& other) const;

  // In place; each bumps the version counter. Autograd rules as PyTorch: a leaf that requires grad
  // cannot be changed in place while grad mode is on.
  Tensor& add_(const Tensor& other, double alpha = 1);
  Tensor& add_(double value);
  Tensor& sub_(const Tensor& other, double alpha = 1);
  Tensor& sub_(double value);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(double value);
  Tensor& div_(const Tensor& other);
  Tensor& div_(double value);
  Tensor& clamp_(std::optional<double> min, std::optional<double> max);
  Tensor& relu_();
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);
  Tensor& masked_fill_(const Tensor<bool>& mask, double value);

  // Compound assignment: in place, with add_/sub_/mul_/div_'s broadcasting and autograd rules.
  // An integer or bool tensor takes only integer scalars (PyTorch raises for t_int += 0.5).
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  template <Scalar S>
  Tensor& operator+=(S s) {
    check_inplace_scalar<S>();
    return add_(static_cast<double>(s));
  }
  template <Scalar S>
  Tensor& operator-=(S s) {
    check_inplace_scalar<S>();
    return sub_(static_cast<double>(s));
  }
  template <Scalar S>
  Tensor& operator*=(S s) {
    check_inplace_scalar<S>();
    return mul_(static_cast<double>(s));
  }
  template <Scalar S>
  Tensor& operator/=(S s) {
    static_assert(std::is_floating_point_v<T>,
                  "t /= s: true division of an integer or bool tensor gives float, which cannot "
                  "be written back in place (as PyTorch); use t = t / s or t.to<float>()");
    return div_(static_cast<double>(s));
  }

  // In-place random fills from the global generator (ops/factory.hpp), PyTorch's names and rules.
  Tensor& uniform_(double from = 0, double to = 1);  // float and double only
  Tensor& normal_(double mean = 0, double std = 1);  // float and double only
  Tensor& bernoulli_(double p = 0.5);
  Tensor& random_(int64_t from, int64_t to);
  Tensor& random_(int64_t to);

  // ---- reductions (ops/reduce.hpp) -----------------------------------------------------------
  // sum and prod (and cumsum, cumprod) of integer and bool tensors give int64, as PyTorch.
  Tensor<accumulate_t<T>> sum() const;
  Tensor<accumulate_t<T>> sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor<accumulate_t<T>> prod(const Shape& dims = {}, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  ValuesIndices<T> max(int64_t dim, bool keepdim = false) const;
  ValuesIndices<T> min(int64_t dim, bool keepdim = false) const;
  Tensor amax(const Shape& dims = {}, bool keepdim = false) const;
  Tensor amin(const Shape& dims = {}, bool keepdim = false) const;
  Tensor<int64_t> argmax() const;
  Tensor<int64_t> argmax(int64_t dim, bool keepdim = false) const;
  Tensor<int64_t> argmin() const;
  Tensor<int64_t> argmin(int64_t dim, bool keepdim = false) const;
  Tensor var(const Shape& dims = {}, bool unbiased = true, bool keepdim = false) const;
  Tensor std(const Shape& dims = {}, bool unbiased = true, bool keepdim = false) const;
  Tensor norm(double p = 2, const Shape& dims = {}, bool keepdim = false) const;
  Tensor logsumexp(const Shape& dims = {}, bool keepdim = false) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // ---- scans and all/any (ops/scan.hpp) -----------------------------------------------------
  Tensor<accumulate_t<T>> cumsum(int64_t dim) const;
  Tensor<accumulate_t<T>> cumprod(int64_t dim) const;
  Tensor<bool> all() const;  // every element non-zero
  Tensor<bool> all(int64_t dim, bool keepdim = false) const;
  Tensor<bool> any() const;  // some element non-zero (NaN counts)
  Tensor<bool> any(int64_t dim, bool keepdim = false) const;

  // ---- sorting (ops/sort.hpp) ----------------------------------------------------------------
  ValuesIndices<T> sort(int64_t dim = -1, bool descending = false, bool stable = false) const;
  Tensor<int64_t> argsort(int64_t dim = -1, bool descending = false, bool stable = false) const;
  ValuesIndices<T> topk(int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true) const;
  Tensor<int64_t> nonzero() const;

  // ---- linear algebra (ops/linalg.hpp) -------------------------------------------------------
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;

  // Internal handle (used by autograd and the backends).
  detail::TensorImpl& impl() const {
    SINEW_CHECK(impl_ != nullptr, "Tensor", "use of an undefined tensor");
    return *impl_;
  }
  const detail::ImplPtr& impl_ptr() const { return impl_; }

 private:
  template <class S>
  static constexpr void check_inplace_scalar() {
    static_assert(std::is_floating_point_v<T> || !std::is_floating_point_v<S>,
                  "an integer or bool tensor cannot take a floating scalar in place: the result "
                  "would be float (PyTorch raises too); use t = t + s or convert with to<float>()");
  }

  detail::ImplPtr impl_;
};

// A new uninitialized contiguous tensor.
template <class T = float>
Tensor<T> empty(const Shape& shape, Device device = Device::cpu()) {
  return Tensor<T>(detail::make_impl(shape, dtype_of<T>(), device));
}

}  // namespace sinew
