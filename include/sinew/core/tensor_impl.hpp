// TensorImpl: the untyped state behind a Tensor handle (storage, shape, strides, offset, autograd
// fields).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sinew/core/dtype.hpp"
#include "sinew/core/shape.hpp"
#include "sinew/core/storage.hpp"

namespace sinew {

namespace autograd {
class Node;
}

namespace detail {

struct TensorImpl;
using ImplPtr = std::shared_ptr<TensorImpl>;
// A hook sees the gradient of a tensor and may return a replacement (or nullptr to keep it).
using ImplHook = std::function<ImplPtr(const ImplPtr&)>;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;

  // Autograd. A tensor requires grad when it is a leaf marked so, or the output of a recorded op.
  bool leaf_requires_grad = false;
  bool retains_grad = false;
  bool is_view = false;  // shares storage with a tensor that autograd may track separately
  ImplPtr grad;
  std::shared_ptr<autograd::Node> grad_fn;
  std::vector<ImplHook> leaf_hooks;  // hooks of non-leaves live on their grad_fn

  bool requires_grad() const { return leaf_requires_grad || grad_fn != nullptr; }
  int64_t numel() const { return shape.numel(); }
  bool is_contiguous() const {
    int64_t expected = 1;
    for (int64_t i = shape.size() - 1; i >= 0; --i) {
      if (shape[i] == 1) continue;
      if (strides[i] != expected) return false;
      expected *= shape[i];
    }
    return true;
  }
};

// A fresh contiguous tensor's state (uninitialized memory; pinned: page-locked host memory).
inline ImplPtr make_impl(const Shape& shape, DType dtype, Device device, bool pinned = false) {
  check_sizes(shape, "empty");
  std::size_t nbytes = 0;
  SINEW_CHECK(!__builtin_mul_overflow(static_cast<std::size_t>(shape.numel()), dtype_size(dtype),
                                      &nbytes) &&
                  nbytes <= static_cast<std::size_t>(PTRDIFF_MAX),
              "empty", "a tensor of shape ", shape, " and dtype ", dtype,
              " needs more bytes than the address space holds");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(nbytes, device, pinned);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return impl;
}

// Same memory, shape and strides; no autograd history.
inline ImplPtr alias_impl(const TensorImpl& src) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = src.storage;
  impl->shape = src.shape;
  impl->strides = src.strides;
  impl->offset = src.offset;
  impl->dtype = src.dtype;
  impl->is_view = src.is_view;
  return impl;
}

}  // namespace detail
}  // namespace sinew
