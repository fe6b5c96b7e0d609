// Helpers shared by the ops: device checks, output allocation, broadcasting, in-place rules,
// scalar parameters.
#pragma once

#include <cstdint>
#include <type_traits>

#include "sinew/autograd/node.hpp"
#include "sinew/backend/cpu/elementwise.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/backend/dispatch.hpp"
#include "sinew/core/promotion.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew {

// Declared here, defined in ops/reduce.hpp: sums a broadcast gradient back to `shape`.
template <class T>
Tensor<T> sum_to(const Tensor<T>& x, const Shape& shape);

namespace detail {

template <class A, class B>
void check_same_device(const char* where, const Tensor<A>& a, const Tensor<B>& b) {
  SINEW_CHECK(a.device() == b.device(), where, "tensors are on different devices: ", a.device(),
              " and ", b.device());
}

// Ops PyTorch defines for floating tensors only (mean, var, softmax, elu, ...): convert an
// integer or bool tensor first, with .to<float>().
template <class T>
void check_floating(const char* where) {
  static_assert(std::is_floating_point_v<T>,
                "this op needs a float or double tensor (PyTorch raises for integer and bool "
                "tensors too): convert with .to<float>() first");
  (void)where;
}

// Whether an integer scalar may be stored in an integer tensor of T (where's scalar operand, clamp
// bounds): as PyTorch, a uint8 takes -255..255, negatives wrapping (-3 is stored as 253).
template <class T>
constexpr bool storable_integer(int64_t v) {
  if constexpr (std::is_same_v<T, uint8_t>) return v >= -255 && v <= 255;
  return true;
}

// A scalar as a kernel parameter: int64 for integer and bool scalars (exact, and wrapping into
// uint8 as PyTorch), double for floating ones.
template <Scalar S>
auto kernel_scalar(S s) {
  if constexpr (std::is_integral_v<S>)
    return static_cast<int64_t>(s);
  else
    return static_cast<double>(s);
}

// Reduces a gradient to an input's shape when that input was broadcast.
template <class T>
Tensor<T> reduce_grad(const Tensor<T>& g, const Shape& shape) {
  return g.shape() == shape ? g : sum_to(g, shape);
}

// The checks an in-place write to `self` must pass: no writes to overlapping memory, no in-place
// change of a leaf that requires grad, no tracked in-place change of a view.
template <class T>
void check_inplace(const Tensor<T>& self, const char* where, bool tracked) {
  const auto& s = self.impl();
  for (int64_t d = 0; d < s.shape.size(); ++d) {
    SINEW_CHECK(s.strides[d] != 0 || s.shape[d] <= 1, where,
                "cannot write in place to an expanded tensor (shape ", s.shape,
                ", stride 0 in dim ", d, "): several elements share one memory location");
  }
  if (!tracked) return;
  SINEW_CHECK(!(s.grad_fn == nullptr && s.leaf_requires_grad), where,
              "a leaf tensor that requires grad (shape ", s.shape,
              ") is used in an in-place operation; wrap the update in NoGradGuard");
  SINEW_CHECK(!s.is_view, where, "in-place operation on a view (shape ", s.shape,
              ") while autograd records: apply it to the base tensor or clone the view first");
}

// Runs an in-place op. Without autograd `direct()` writes into self. With autograd the op runs
// out of place (recording its backward against self's old history), the result is copied into
// self's memory and self takes over the new history.
template <class T, class Direct, class OutOfPlace>
Tensor<T>& inplace(Tensor<T>& self, const char* where, bool others_require_grad, Direct&& direct,
                   OutOfPlace&& out_of_place) {
  bool tracked = autograd::is_grad_enabled() && (self.requires_grad() || others_require_grad);
  check_inplace(self, where, tracked);
  if (!tracked) {
    direct();
  } else {
    Tensor<T> r = out_of_place();
    SINEW_DISPATCH(self.device(), copy, self, r);
    self.impl().grad_fn = r.impl().grad_fn;
  }
  self.impl().storage->bump_version();
  return self;
}

}  // namespace detail
}  // namespace sinew
