// cuBLAS as the CUDA backend uses it (GPU builds): one handle per (device, thread), bound to the
// device's compute stream, errors as sinew::Error, and the GEMM call of a plan (gemm_plan.hpp)
// in true FP32 by default (set_allow_tf32(true): TF32 tensor cores for float), FP64 for double.
// Handles are never destroyed: no CUDA call from a static or thread-exit destructor.
#pragma once

#include <cublas_v2.h>

#include <array>
#include <atomic>
#include <string>
#include <type_traits>

#include "sinew/backend/cuda/api.hpp"
#include "sinew/backend/cuda/device.hpp"
#include "sinew/backend/cuda/gemm_plan.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// Throws "<op> (cuda:N): <status name>: <status text>" unless s is CUBLAS_STATUS_SUCCESS.
inline void check_cublas(cublasStatus_t s, const char* op, int device) {
  if (s == CUBLAS_STATUS_SUCCESS) [[likely]]
    return;
  ::sinew::detail::fail(std::string(op) + " (cuda:" + std::to_string(device) + ")",
                        cublasGetStatusName(s), ": ", cublasGetStatusString(s));
}

// This thread's handle for device, created at its first use and bound to the compute stream.
inline cublasHandle_t cublas_handle(int device) {
  thread_local std::array<cublasHandle_t, kMaxDevices> handles{};
  SINEW_CHECK(device >= 0 && device < kMaxDevices, "cuda::cublas_handle", "device index ", device,
              " is out of range");
  cublasHandle_t& h = handles[static_cast<size_t>(device)];
  if (h == nullptr) {
    cudaStream_t stream = compute_stream(device);
    DeviceGuard guard(device);
    check_cublas(cublasCreate(&h), "cublasCreate", device);
    check_cublas(cublasSetStream(h, stream), "cublasSetStream", device);
    // cuBLAS's default, made explicit: no routine may use its atomics-based variants, whose sums
    // depend on scheduling (set_deterministic's guarantee for GEMMs).
    check_cublas(cublasSetAtomicsMode(h, CUBLAS_ATOMICS_NOT_ALLOWED), "cublasSetAtomicsMode",
                 device);
  }
  return h;
}

// One planned call: C' = alpha op(A') op(B') + beta C' on device's compute stream.
template <class T>
void blas_gemm(int device, const BlasGemmCall& c, const T* a, const T* b, T* cm, T alpha, T beta) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "gemm: float or double");
  cublasHandle_t h = cublas_handle(device);
  DeviceGuard guard(device);
  const cudaDataType_t type = std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_64F;
  const cublasComputeType_t compute = std::is_same_v<T, double> ? CUBLAS_COMPUTE_64F
                                      : allow_tf32_flag().load(std::memory_order_relaxed)
                                          ? CUBLAS_COMPUTE_32F_FAST_TF32
                                          : CUBLAS_COMPUTE_32F;
  const auto op = [](BlasOp o) { return o == BlasOp::N ? CUBLAS_OP_N : CUBLAS_OP_T; };
  if (c.strided_batched) {
    check_cublas(
        cublasGemmStridedBatchedEx(h, op(c.transa), op(c.transb), c.m, c.n, c.k, &alpha, a, type,
                                   c.lda, c.stride_a, b, type, c.ldb, c.stride_b, &beta, cm, type,
                                   c.ldc, c.stride_c, c.batch_count, compute, CUBLAS_GEMM_DEFAULT),
        "cublasGemmStridedBatchedEx", device);
  } else {
    check_cublas(cublasGemmEx(h, op(c.transa), op(c.transb), c.m, c.n, c.k, &alpha, a, type, c.lda,
                              b, type, c.ldb, &beta, cm, type, c.ldc, compute, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx", device);
  }
  if (sync_after_launch()) synchronize(device);
}

}  // namespace sinew::backend::cuda
