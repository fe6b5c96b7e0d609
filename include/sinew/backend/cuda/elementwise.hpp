// The elementwise kernels of the CUDA backend (kernels/elementwise.cuh) with backend::cpu's
// signatures: fill, copy between dtypes, the unary / binary / compare / logical / classify op
// kinds of backend/kinds.hpp, isclose, where and masked_fill. Each plans the launch
// (launch_plan.hpp: the CPU loops' dimension coalescing, flat or strided layout, access width,
// index width, grid), picks the instantiation by name expression and launches it (launch.hpp) on
// the output's device.
//
// The operands are tensors on one CUDA device (the op checked that), except for copy, which also
// copies between the host and a device or two devices: the cast and broadcast run on the source's
// side, dense bytes cross (memory.hpp's copy_bytes), and a strided destination is written from
// them on its own side.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "sinew/backend/cpu/elementwise.hpp"
#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/kinds.hpp"
#include "sinew/core/tensor.hpp"
#ifndef SINEW_CUDA_EMULATED_KERNELS
#include "sinew/backend/cuda/memory.hpp"
#endif

namespace sinew::backend::cuda {

namespace detail_elementwise {

template <class... T>
std::array<const sinew::detail::TensorImpl*, sizeof...(T)> impls(const T&... t) {
  return {&t.impl()...};
}

// The plan of out = f(inputs...) on out's device.
template <class Out, class... In>
ElementwisePlan<1 + sizeof...(In)> plan(const Out& out, const In&... inputs) {
  return plan_elementwise<1 + sizeof...(In)>(out.shape(), impls(out, inputs...),
                                             plan_options(out.device().index()));
}

// Runs flat.template operator()<I, V>(launch) or strided.template operator()<I>(launch) as the plan
// says, `launch` naming the instantiation of `family` with the leading template arguments `args`
// (then the index type, then V for a flat kernel).
template <size_t N, class Flat, class Strided>
void dispatch(const ElementwisePlan<N>& p, const Device& device, const char* family,
              std::initializer_list<std::string> args, Flat&& flat, Strided&& strided) {
  if (p.numel == 0) return;
  std::vector<std::string> a(args);
  a.push_back(index_type_name(p.index32));
  if (p.flat) a.push_back(std::to_string(p.vec));
  const KernelLaunch k = kernel_launch(
      device, kElementwise,
      name_expression(std::string(family) + (p.flat ? "_flat" : "_strided"), a), p.grid, p.block);
  auto with_index = [&]<class I>() {
    if (!p.flat)
      strided.template operator()<I>(k);
    else
      with_vector_width(p.vec, [&]<int V>() { flat.template operator()<I, V>(k); });
  };
  with_index_type(p.index32, with_index);
}

}  // namespace detail_elementwise

template <class To, class From>
void copy(const Tensor<To>& dst, const Tensor<From>& src);

namespace detail_elementwise {

// dst = src on one device, whichever backend it belongs to.
template <class To, class From>
void copy_on_device(const Tensor<To>& dst, const Tensor<From>& src) {
  if (dst.device().is_cpu())
    cpu::copy(dst, src);
  else
    copy(dst, src);
}

// dst = src (broadcast to dst's shape and converted to To) where they are on different devices.
template <class To, class From>
void copy_across_devices(const Tensor<To>& dst, const Tensor<From>& src) {
  Tensor<To> dense_src = [&] {
    if constexpr (std::is_same_v<To, From>) {
      if (src.is_contiguous() && src.shape() == dst.shape()) return src;
    }
    Tensor<To> staged = empty<To>(dst.shape(), src.device());
    copy_on_device(staged, src);
    return staged;
  }();
  const Tensor<To> dense_dst = dst.is_contiguous() ? dst : empty<To>(dst.shape(), dst.device());
  copy_bytes(dense_dst.data_ptr(), dst.device(), dense_src.data_ptr(), src.device(),
             static_cast<size_t>(dst.numel()) * sizeof(To));
  if (!dst.is_contiguous()) copy_on_device(dst, dense_dst);
}

}  // namespace detail_elementwise

template <class To, class From>
void copy(const Tensor<To>& dst, const Tensor<From>& src) {
  if (dst.device() != src.device()) {
    detail_elementwise::copy_across_devices(dst, src);
    return;
  }
  const auto p = detail_elementwise::plan(dst, src);
  To* o = dst.data_ptr();
  const From* x = src.data_ptr();
  detail_elementwise::dispatch(
      p, dst.device(), "copy", {type_name<To>(), type_name<From>()},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(copy_flat<To, From, I, V>), o, x, I(p.numel));
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(copy_strided<To, From, I>), o, x, strided_args<I>(p),
               I(p.numel));
      });
}

template <class T>
void fill(const Tensor<T>& out, double value) {
  const auto p = detail_elementwise::plan(out);
  T* o = out.data_ptr();
  const T v = scalar_param<T>(value);
  detail_elementwise::dispatch(
      p, out.device(), "fill", {type_name<T>()},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(fill_flat<T, I, V>), o, I(p.numel), v);
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(fill_strided<T, I>), o, strided_args<I>(p), I(p.numel), v);
      });
}

template <Unary OP, class T, class P = double>
void unary_op(const Tensor<T>& x, const Tensor<T>& out, P a = 0, P b = 0) {
  const auto p = detail_elementwise::plan(out, x);
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const T ta = scalar_param<T>(a), tb = scalar_param<T>(b);
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  detail_elementwise::dispatch(
      p, out.device(), "unary", {type_name<T>(), kind_arg(OP)},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(unary_flat<T, K, I, V>), o, in, I(p.numel), ta, tb);
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(unary_strided<T, K, I>), o, in, strided_args<I>(p),
               I(p.numel), ta, tb);
      });
}

template <Binary OP, class T, class P = double>
void binary_op(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out, P alpha = 1) {
  const auto p = detail_elementwise::plan(out, x, y);
  T* o = out.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  const T ta = scalar_param<T>(alpha);
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  detail_elementwise::dispatch(
      p, out.device(), "binary", {type_name<T>(), kind_arg(OP)},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(binary_flat<T, K, I, V>), o, u, v, I(p.numel), ta);
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(binary_strided<T, K, I>), o, u, v, strided_args<I>(p),
               I(p.numel), ta);
      });
}

template <Compare OP, class T>
void compare_op(const Tensor<T>& x, const Tensor<T>& y, const Tensor<bool>& out) {
  const auto p = detail_elementwise::plan(out, x, y);
  bool* o = out.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  detail_elementwise::dispatch(
      p, out.device(), "compare", {type_name<T>(), kind_arg(OP)},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(compare_flat<T, K, I, V>), o, u, v, I(p.numel));
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(compare_strided<T, K, I>), o, u, v, strided_args<I>(p),
               I(p.numel));
      });
}

template <Compare OP, class T, class P = double>
void compare_scalar_op(const Tensor<T>& x, P s, const Tensor<bool>& out) {
  using C = compare_scalar_t<T, P>;
  const auto p = detail_elementwise::plan(out, x);
  bool* o = out.data_ptr();
  const T* u = x.data_ptr();
  const C v = static_cast<C>(s);
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  detail_elementwise::dispatch(
      p, out.device(), "compare_scalar", {type_name<T>(), type_name<C>(), kind_arg(OP)},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(compare_scalar_flat<T, C, K, I, V>), o, u, v, I(p.numel));
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(compare_scalar_strided<T, C, K, I>), o, u, v,
               strided_args<I>(p), I(p.numel));
      });
}

template <Logical OP>
void logical_op(const Tensor<bool>& x, const Tensor<bool>& y, const Tensor<bool>& out) {
  const auto p = detail_elementwise::plan(out, x, y);
  bool* o = out.data_ptr();
  const bool *u = x.data_ptr(), *v = y.data_ptr();
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  detail_elementwise::dispatch(
      p, out.device(), "logical", {kind_arg(OP)},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(logical_flat<K, I, V>), o, u, v, I(p.numel));
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(logical_strided<K, I>), o, u, v, strided_args<I>(p),
               I(p.numel));
      });
}

template <Classify OP, class T>
void classify_op(const Tensor<T>& x, const Tensor<bool>& out) {
  const auto p = detail_elementwise::plan(out, x);
  bool* o = out.data_ptr();
  const T* u = x.data_ptr();
  [[maybe_unused]] constexpr int K = static_cast<int>(OP);
  detail_elementwise::dispatch(
      p, out.device(), "classify", {type_name<T>(), kind_arg(OP)},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(classify_flat<T, K, I, V>), o, u, I(p.numel));
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(classify_strided<T, K, I>), o, u, strided_args<I>(p),
               I(p.numel));
      });
}

template <class T>
void isclose(const Tensor<T>& x, const Tensor<T>& y, double rtol, double atol, bool equal_nan,
             const Tensor<bool>& out) {
  const auto p = detail_elementwise::plan(out, x, y);
  bool* o = out.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  detail_elementwise::dispatch(
      p, out.device(), "isclose", {type_name<T>()},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(isclose_flat<T, I, V>), o, u, v, I(p.numel), rtol, atol,
               equal_nan);
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(isclose_strided<T, I>), o, u, v, strided_args<I>(p),
               I(p.numel), rtol, atol, equal_nan);
      });
}

template <class T>
void where(const Tensor<bool>& cond, const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out) {
  const auto p = detail_elementwise::plan(out, cond, x, y);
  T* o = out.data_ptr();
  const bool* c = cond.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  detail_elementwise::dispatch(
      p, out.device(), "where", {type_name<T>()},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(where_flat<T, I, V>), o, c, u, v, I(p.numel));
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(where_strided<T, I>), o, c, u, v, strided_args<I>(p),
               I(p.numel));
      });
}

// out = value where mask, else x (mask and x broadcast to out's shape). out may be x itself.
template <class T>
void masked_fill(const Tensor<T>& x, const Tensor<bool>& mask, double value, const Tensor<T>& out) {
  const auto p = detail_elementwise::plan(out, x, mask);
  T* o = out.data_ptr();
  const T* u = x.data_ptr();
  const bool* m = mask.data_ptr();
  const T v = scalar_param<T>(value);
  detail_elementwise::dispatch(
      p, out.device(), "masked_fill", {type_name<T>()},
      [&]<class I, int V>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(masked_fill_flat<T, I, V>), o, u, m, I(p.numel), v);
      },
      [&]<class I>(const KernelLaunch& k) {
        launch(k, SINEW_CUDA_HOST_KERNEL(masked_fill_strided<T, I>), o, u, m, strided_args<I>(p),
               I(p.numel), v);
      });
}

}  // namespace sinew::backend::cuda
