// GEMM of the CUDA backend with backend::cpu's signature: C = alpha op(A) op(B) + beta C over the
// last two dimensions of strided tensors, batched over the leading ones (a and b may be expanded
// over the batch). The row-major request is planned as column-major cuBLAS calls (gemm_plan.hpp:
// transposes, leading dimensions and batch strides folded into the call); operands cuBLAS cannot
// take as they are are copied to dense ones first. k == 0 scales C by beta, as PyTorch does. On
// the emulator (SINEW_CUDA_EMULATED_KERNELS) the calls run through the reference of what cuBLAS
// computes.
#pragma once

#include <cstdint>
#include <type_traits>

#include "sinew/backend/cuda/elementwise.hpp"
#include "sinew/backend/cuda/gemm_plan.hpp"
#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/kinds.hpp"
#include "sinew/core/tensor.hpp"
#ifndef SINEW_CUDA_EMULATED_KERNELS
#include "sinew/backend/cuda/cublas.hpp"
#endif

namespace sinew::backend::cuda {

namespace detail_gemm {

#ifdef SINEW_CUDA_EMULATED_KERNELS
template <class T>
void blas_call(int, const BlasGemmCall& c, const T* a, const T* b, T* cm, T alpha, T beta) {
  reference_blas_gemm(c, a, b, cm, alpha, beta);
}
#else
template <class T>
void blas_call(int device, const BlasGemmCall& c, const T* a, const T* b, T* cm, T alpha, T beta) {
  blas_gemm(device, c, a, b, cm, alpha, beta);
}
#endif

// The request of c = a b: a [..., m, k], b [..., k, n], c [..., m, n].
template <class T>
GemmRequest request(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& c) {
  const int64_t nd = c.dim();
  GemmRequest r;
  r.m = c.size(nd - 2);
  r.n = c.size(nd - 1);
  r.k = a.size(nd - 1);
  r.a = {a.stride(nd - 2), a.stride(nd - 1)};
  r.b = {b.stride(nd - 2), b.stride(nd - 1)};
  r.c = {c.stride(nd - 2), c.stride(nd - 1)};
  for (int64_t d = 0; d < nd - 2; ++d)
    r.batch.push_back({c.size(d), a.stride(d), b.stride(d), c.stride(d)});
  return r;
}

// A dense copy of t on its device.
template <class T>
Tensor<T> dense(const Tensor<T>& t) {
  Tensor<T> d = empty<T>(t.shape(), t.device());
  copy(d, t);
  return d;
}

}  // namespace detail_gemm

template <class T>
void gemm(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& c, double alpha = 1,
          double beta = 0) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "gemm: float or double only");
  const int device = c.device().index();
  const GemmPlan p = plan_gemm(detail_gemm::request(a, b, c));
  switch (p.status) {
    case GemmPlan::Status::Empty:
      return;
    case GemmPlan::Status::ScaleOnly:
      if (beta == 0)
        fill(c, 0.0);
      else
        unary_op<Unary::MulScalar>(c, c, beta);
      return;
    case GemmPlan::Status::TooLarge:
      ::sinew::detail::fail("gemm (cuda:" + std::to_string(device) + ")", p.reason,
                            ": split the product into smaller ones");
    case GemmPlan::Status::NeedsCopy: {
      const Tensor<T> ad = p.copy_a ? detail_gemm::dense(a) : a;
      const Tensor<T> bd = p.copy_b ? detail_gemm::dense(b) : b;
      if (!p.copy_c) return gemm(ad, bd, c, alpha, beta);
      const Tensor<T> cd = beta == 0 ? empty<T>(c.shape(), c.device()) : detail_gemm::dense(c);
      gemm(ad, bd, cd, alpha, beta);
      copy(c, cd);
      return;
    }
    case GemmPlan::Status::Ok:
      break;
  }
  const T* pa = a.data_ptr();
  const T* pb = b.data_ptr();
  T* pc = c.data_ptr();
  for (int64_t i = 0; i < p.call_count(); ++i) {
    int64_t oa = 0, ob = 0, oc = 0;
    p.offsets(i, &oa, &ob, &oc);
    const T* first = p.call.swap_operands ? pb + ob : pa + oa;
    const T* second = p.call.swap_operands ? pa + oa : pb + ob;
    detail_gemm::blas_call(device, p.call, first, second, pc + oc, static_cast<T>(alpha),
                           static_cast<T>(beta));
  }
}

}  // namespace sinew::backend::cuda
