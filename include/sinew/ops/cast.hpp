// Copies and conversions: to<U>() (differentiable between float and double), to(Device), clone,
// contiguous, copy_, item<U>().
#pragma once

#include <cmath>
#include <limits>
#include <utility>

#include "sinew/backend/cpu/elementwise.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew {

template <class T>
template <class U>
Tensor<U> Tensor<T>::to() const {
  if constexpr (std::is_same_v<T, U>) {
    return *this;
  } else {
    Tensor<U> y = empty<U>(shape(), device());
    SINEW_DISPATCH(device(), copy, y, *this);
    if constexpr (is_floating_dtype_v<T> && is_floating_dtype_v<U>) {
      autograd::record(y, "to", {*this}, [](const Tensor<U>& g) { return g.template to<T>(); });
    }
    return y;
  }
}

template <class T>
Tensor<T> Tensor<T>::pin_memory() const {
  SINEW_CHECK(is_cpu(), "Tensor::pin_memory", "only CPU tensors can be pinned; this one of shape ",
              shape(), " is on ", device());
  if (is_pinned()) return *this;
  Tensor<T> y(detail::make_impl(shape(), dtype_of<T>(), Device::cpu(), true));
  SINEW_DISPATCH(Device::cpu(), copy, y, *this);
  return y;
}

// A copy on another device (this tensor itself when it is there already);  the gradient is
// copied back. Copies between devices run on the device side: the CPU backend reads host memory
// only.
template <class T>
Tensor<T> Tensor<T>::to(Device target) const {
  if (target == device()) return *this;
#ifndef SINEW_WITH_CUDA
  no_cuda("Tensor::to", target.is_cpu() ? device() : target);
#else
  Tensor<T> y = empty<T>(shape(), target);
  SINEW_DISPATCH(target.is_cpu() ? device() : target, copy, y, *this);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "to", {*this},
                     [from = device()](const Tensor<T>& g) { return g.to(from); });
  }
  return y;
#endif
}

// A copy in new contiguous memory;  the gradient passes through unchanged.
template <class T>
Tensor<T> Tensor<T>::clone() const {
  Tensor<T> y = empty<T>(shape(), device());
  SINEW_DISPATCH(device(), copy, y, *this);
  if constexpr (is_floating_dtype_v<T>) {
    autograd::record(y, "clone", {*this}, [](const Tensor<T>& g) { return g; });
  }
  return y;
}

template <class T>
Tensor<T> Tensor<T>::contiguous() const {
  return is_contiguous() ? *this : clone();
}

// Copies src (broadcast to self's shape) into self;  d/dsrc = the gradient summed to src's shape.
template <class T>
Tensor<T>& Tensor<T>::copy_(const Tensor<T>& src) {
  if (src.device() != device()) return copy_(src.to(device()));
  SINEW_CHECK(detail::broadcast_shapes(shape(), src.shape(), "copy_") == shape(), "copy_",
              "cannot broadcast ", src.shape(), " into ", shape());
  return detail::inplace(
      *this, "copy_", src.requires_grad(), [&] { SINEW_DISPATCH(device(), copy, *this, src); },
      [&] {
        Tensor<T> r = empty_like(*this);
        SINEW_DISPATCH(device(), copy, r, src);
        if constexpr (is_floating_dtype_v<T>) {
          autograd::record(r, "copy_", {*this, src}, [ss = src.shape()](const Tensor<T>& g) {
            return std::vector<Tensor<T>>{zeros_like(g), detail::reduce_grad(g, ss)};
          });
        }
        return r;
      });
}

// The single value converted to U, as LibTorch's item<U>(): a floating value must be finite and
// in U's range to become an integer (NaN or 1e20 as int64_t raise); any value becomes a bool.
template <class T>
template <Scalar U>
U Tensor<T>::item() const {
  T v = item();
  if constexpr (std::is_integral_v<U> && !std::is_same_v<U, bool> && !std::is_same_v<T, bool>) {
    bool fits;
    if constexpr (std::is_floating_point_v<T>) {
      // [min, 2^digits): both bounds are powers of two (or 0), exact in double.
      const double d = static_cast<double>(v);
      fits = std::isfinite(d) && d >= static_cast<double>(std::numeric_limits<U>::min()) &&
             d < std::ldexp(1.0, std::numeric_limits<U>::digits);
    } else {
      fits = std::in_range<U>(v);
    }
    SINEW_CHECK(fits, "Tensor::item", "value ", static_cast<double>(v), " of a ", dtype_of<T>(),
                " tensor cannot be converted to ",
                std::is_signed_v<U> ? "a signed " : "an unsigned ", 8 * sizeof(U),
                "-bit integer without overflow");
  }
  return static_cast<U>(v);
}

}  // namespace sinew
