// Sinew's CUDA kernel sources compiled as host C++ for the emulator, and the elementwise
// functions of the CUDA backend as the tests launch them: plan (backend/cuda/launch_plan.hpp),
// choose the instantiation, launch on the emulator. Each mirrors a backend::cpu kernel's
// signature, so a test runs both on the same tensors (host memory) and compares.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/kinds.hpp"

#include "emulator.hpp"  // after Sinew's headers: it defines threadIdx, blockDim, ... as macros

// The prelude's op-kind enums: in NVRTC programs the text source.hpp generates, here the host's.
namespace sinew {
using backend::Binary;
using backend::Classify;
using backend::Compare;
using backend::Logical;
using backend::Quantifier;
using backend::Scan;
using backend::Unary;
}  // namespace sinew

// The prelude first: the fragments use what it defines.
#include <sinew_host_kernels/prelude.cuh>

#include <sinew_host_kernels/elementwise.cuh>
#include <sinew_host_kernels/optim.cuh>
#include <sinew_host_kernels/random.cuh>
#include <sinew_host_kernels/reduce.cuh>

namespace sinew::emu {

namespace cuda = backend::cuda;

// The plan options of the next launches (tests shrink block and grid so that grid-stride loops
// take several steps and blocks end part-way).
inline cuda::PlanOptions& plan_options() {
  static cuda::PlanOptions o;
  return o;
}

// The name expression of the last instantiation launched (what NVRTC would be asked for).
inline std::string& last_kernel() {
  static std::string s;
  return s;
}

template <class I, size_t N>
dev::Strided<I, static_cast<int>(N)> strided(const cuda::ElementwisePlan<N>& p) {
  return std::bit_cast<dev::Strided<I, static_cast<int>(N)>>(cuda::strided_args<I, N>(p));
}

template <class... T>
std::array<const sinew::detail::TensorImpl*, sizeof...(T)> impls(const T&... t) {
  return {&t.impl()...};
}

// Runs flat.template operator()<I, V>() or strided.template operator()<I>() as the plan says, and
// records the name expression of `family` with `args` (the leading template arguments).
template <size_t N, class Flat, class Strided>
void dispatch(const cuda::ElementwisePlan<N>& p, const char* family,
              std::initializer_list<std::string> args, Flat&& flat, Strided&& strided) {
  if (p.numel == 0) return;
  std::vector<std::string> a(args);
  a.push_back(cuda::index_type_name(p.index32));
  if (p.flat) a.push_back(std::to_string(p.vec));
  const std::string name =
      cuda::name_expression(std::string(family) + (p.flat ? "_flat" : "_strided"), a);
  last_kernel() = name;
  auto with_index = [&]<class I>() {
    if (!p.flat) {
      strided.template operator()<I>();
    } else if (p.vec == 4) {
      flat.template operator()<I, 4>();
    } else if (p.vec == 2) {
      flat.template operator()<I, 2>();
    } else {
      flat.template operator()<I, 1>();
    }
  };
  if (p.index32)
    with_index.template operator()<int32_t>();
  else
    with_index.template operator()<int64_t>();
}

template <class To, class From>
void copy(const Tensor<To>& dst, const Tensor<From>& src) {
  const auto p = cuda::plan_elementwise<2>(dst.shape(), impls(dst, src), plan_options());
  To* o = dst.data_ptr();
  const From* x = src.data_ptr();
  dispatch(
      p, "copy", {cuda::type_name<To>(), cuda::type_name<From>()},
      [&]<class I, int V>() {
        sim::launch(&copy_flat<To, From, I, V>, p.grid, p.block, 0, o, x, I(p.numel));
      },
      [&]<class I>() {
        sim::launch(&copy_strided<To, From, I>, p.grid, p.block, 0, o, x, strided<I>(p),
                    I(p.numel));
      });
}

template <class T>
void fill(const Tensor<T>& out, double value) {
  const auto p = cuda::plan_elementwise<1>(out.shape(), impls(out), plan_options());
  T* o = out.data_ptr();
  const T v = cuda::scalar_param<T>(value);
  dispatch(
      p, "fill", {cuda::type_name<T>()},
      [&]<class I, int V>() {
        sim::launch(&fill_flat<T, I, V>, p.grid, p.block, 0, o, I(p.numel), v);
      },
      [&]<class I>() {
        sim::launch(&fill_strided<T, I>, p.grid, p.block, 0, o, strided<I>(p), I(p.numel), v);
      });
}

template <Unary OP, class T, class P = double>
void unary_op(const Tensor<T>& x, const Tensor<T>& out, P a = 0, P b = 0) {
  const auto p = cuda::plan_elementwise<2>(out.shape(), impls(out, x), plan_options());
  T* o = out.data_ptr();
  const T* in = x.data_ptr();
  const T ta = cuda::scalar_param<T>(a), tb = cuda::scalar_param<T>(b);
  constexpr int K = static_cast<int>(OP);
  dispatch(
      p, "unary", {cuda::type_name<T>(), cuda::kind_arg(OP)},
      [&]<class I, int V>() {
        sim::launch(&unary_flat<T, K, I, V>, p.grid, p.block, 0, o, in, I(p.numel), ta, tb);
      },
      [&]<class I>() {
        sim::launch(&unary_strided<T, K, I>, p.grid, p.block, 0, o, in, strided<I>(p), I(p.numel),
                    ta, tb);
      });
}

template <Binary OP, class T, class P = double>
void binary_op(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out, P alpha = 1) {
  const auto p = cuda::plan_elementwise<3>(out.shape(), impls(out, x, y), plan_options());
  T* o = out.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  const T ta = cuda::scalar_param<T>(alpha);
  constexpr int K = static_cast<int>(OP);
  dispatch(
      p, "binary", {cuda::type_name<T>(), cuda::kind_arg(OP)},
      [&]<class I, int V>() {
        sim::launch(&binary_flat<T, K, I, V>, p.grid, p.block, 0, o, u, v, I(p.numel), ta);
      },
      [&]<class I>() {
        sim::launch(&binary_strided<T, K, I>, p.grid, p.block, 0, o, u, v, strided<I>(p),
                    I(p.numel), ta);
      });
}

template <Compare OP, class T>
void compare_op(const Tensor<T>& x, const Tensor<T>& y, const Tensor<bool>& out) {
  const auto p = cuda::plan_elementwise<3>(out.shape(), impls(out, x, y), plan_options());
  bool* o = out.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  constexpr int K = static_cast<int>(OP);
  dispatch(
      p, "compare", {cuda::type_name<T>(), cuda::kind_arg(OP)},
      [&]<class I, int V>() {
        sim::launch(&compare_flat<T, K, I, V>, p.grid, p.block, 0, o, u, v, I(p.numel));
      },
      [&]<class I>() {
        sim::launch(&compare_strided<T, K, I>, p.grid, p.block, 0, o, u, v, strided<I>(p),
                    I(p.numel));
      });
}

template <Compare OP, class T, class P = double>
void compare_scalar_op(const Tensor<T>& x, P s, const Tensor<bool>& out) {
  using C = cuda::compare_scalar_t<T, P>;
  const auto p = cuda::plan_elementwise<2>(out.shape(), impls(out, x), plan_options());
  bool* o = out.data_ptr();
  const T* u = x.data_ptr();
  const C v = static_cast<C>(s);
  constexpr int K = static_cast<int>(OP);
  dispatch(
      p, "compare_scalar", {cuda::type_name<T>(), cuda::type_name<C>(), cuda::kind_arg(OP)},
      [&]<class I, int V>() {
        sim::launch(&compare_scalar_flat<T, C, K, I, V>, p.grid, p.block, 0, o, u, v, I(p.numel));
      },
      [&]<class I>() {
        sim::launch(&compare_scalar_strided<T, C, K, I>, p.grid, p.block, 0, o, u, v, strided<I>(p),
                    I(p.numel));
      });
}

template <Logical OP>
void logical_op(const Tensor<bool>& x, const Tensor<bool>& y, const Tensor<bool>& out) {
  const auto p = cuda::plan_elementwise<3>(out.shape(), impls(out, x, y), plan_options());
  bool* o = out.data_ptr();
  const bool *u = x.data_ptr(), *v = y.data_ptr();
  constexpr int K = static_cast<int>(OP);
  dispatch(
      p, "logical", {cuda::kind_arg(OP)},
      [&]<class I, int V>() {
        sim::launch(&logical_flat<K, I, V>, p.grid, p.block, 0, o, u, v, I(p.numel));
      },
      [&]<class I>() {
        sim::launch(&logical_strided<K, I>, p.grid, p.block, 0, o, u, v, strided<I>(p), I(p.numel));
      });
}

template <Classify OP, class T>
void classify_op(const Tensor<T>& x, const Tensor<bool>& out) {
  const auto p = cuda::plan_elementwise<2>(out.shape(), impls(out, x), plan_options());
  bool* o = out.data_ptr();
  const T* u = x.data_ptr();
  constexpr int K = static_cast<int>(OP);
  dispatch(
      p, "classify", {cuda::type_name<T>(), cuda::kind_arg(OP)},
      [&]<class I, int V>() {
        sim::launch(&classify_flat<T, K, I, V>, p.grid, p.block, 0, o, u, I(p.numel));
      },
      [&]<class I>() {
        sim::launch(&classify_strided<T, K, I>, p.grid, p.block, 0, o, u, strided<I>(p),
                    I(p.numel));
      });
}

template <class T>
void isclose(const Tensor<T>& x, const Tensor<T>& y, double rtol, double atol, bool equal_nan,
             const Tensor<bool>& out) {
  const auto p = cuda::plan_elementwise<3>(out.shape(), impls(out, x, y), plan_options());
  bool* o = out.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  dispatch(
      p, "isclose", {cuda::type_name<T>()},
      [&]<class I, int V>() {
        sim::launch(&isclose_flat<T, I, V>, p.grid, p.block, 0, o, u, v, I(p.numel), rtol, atol,
                    equal_nan);
      },
      [&]<class I>() {
        sim::launch(&isclose_strided<T, I>, p.grid, p.block, 0, o, u, v, strided<I>(p), I(p.numel),
                    rtol, atol, equal_nan);
      });
}

template <class T>
void where(const Tensor<bool>& cond, const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& out) {
  const auto p = cuda::plan_elementwise<4>(out.shape(), impls(out, cond, x, y), plan_options());
  T* o = out.data_ptr();
  const bool* c = cond.data_ptr();
  const T *u = x.data_ptr(), *v = y.data_ptr();
  dispatch(
      p, "where", {cuda::type_name<T>()},
      [&]<class I, int V>() {
        sim::launch(&where_flat<T, I, V>, p.grid, p.block, 0, o, c, u, v, I(p.numel));
      },
      [&]<class I>() {
        sim::launch(&where_strided<T, I>, p.grid, p.block, 0, o, c, u, v, strided<I>(p),
                    I(p.numel));
      });
}

}  // namespace sinew::emu
