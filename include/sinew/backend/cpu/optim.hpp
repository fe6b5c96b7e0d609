// CPU kernels of the fused optimizer steps: SGD, Adam/AdamW, RMSprop and Adagrad, each one pass
// over a parameter, its gradient and its state buffers (the formulas: backend/optim_step.hpp).
//
// Fused for speed: the composed form (PyTorch's single-tensor loop of mul_/add_/addcdiv_) reads
// and writes each buffer several times and allocates temporaries; here every element is read once
// and written once, in a vectorized loop split across the thread pool. The arithmetic of each
// element is written in a fixed order in the parameter's type, with the scalars cast from double
// once, so the result does not depend on the thread count or on the chunking. tests/optim/
// compares each kernel with the update composed from tensor ops.
//
// Every tensor is contiguous with the parameter's shape (the optimizer made it so); an optional
// buffer that is absent is an undefined tensor. Kernels never check shapes and never touch
// autograd or version counters.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/backend/optim_step.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

namespace detail_optim {

// Rough per-element costs for parallel_for (1 is an add): the steps are memory bound, so the
// threshold is reached at a few thousand elements, not at 32k.
inline constexpr int64_t kSgdCost = 2;
inline constexpr int64_t kRootCost = 4;  // a square root and a division per element

template <class T>
T* data_or_null(const Tensor<T>& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

template <class T, bool kMomentum>
void sgd_range(T* __restrict w, const T* __restrict gp, T* __restrict buf, int64_t begin,
               int64_t end, const SgdScalars<T>& c) {
  const T wd = c.wd, mu = c.mu, damp = c.damp, lr = c.lr;
  const bool has_wd = c.has_wd, nesterov = c.nesterov, maximize = c.maximize, first = c.first;
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const T wi = w[i];
    T d = maximize ? -gp[i] : gp[i];
    d = has_wd ? d + wd * wi : d;
    if constexpr (kMomentum) {
      const T b = first ? d : buf[i] * mu + damp * d;
      buf[i] = b;
      d = nesterov ? d + mu * b : b;
    }
    w[i] = wi - lr * d;
  }
}

// Elements per block of the steps that take a square root: a block's intermediates stay in L1
// between the passes below.
inline constexpr int64_t kBlock = 256;

// The vector square root below: the instruction and its register width, written as inline
// assembly on GCC vector types. The intrinsics header would do the same at a third of a second of
// compile time for every program that includes Sinew without AVX-512 (with it, the SGEMM kernel
// includes that header anyway).
#if defined(__AVX512F__)
#define SINEW_DETAIL_SQRT_BYTES 64
#define SINEW_DETAIL_VEX "v"
#elif defined(__AVX__)
#define SINEW_DETAIL_SQRT_BYTES 32
#define SINEW_DETAIL_VEX "v"
#elif defined(__SSE2__)
#define SINEW_DETAIL_SQRT_BYTES 16
#define SINEW_DETAIL_VEX ""
#endif

// x[i] <- sqrt(x[i]) for i < n, correctly rounded as std::sqrt (the same instruction, the same
// bits, NaN included). A loop that calls std::sqrt is not vectorized by GCC under -fmath-errno
// (the default: the call keeps a branch for errno), so the steps below stage the argument of
// their square root in a block, take the roots here with vector instructions, and finish in a
// second vectorized pass.
template <class T>
void sqrt_in_place(T* x, int64_t n) {
  int64_t i = 0;
#if defined(SINEW_DETAIL_SQRT_BYTES)
  using Packet [[gnu::vector_size(SINEW_DETAIL_SQRT_BYTES)]] = T;
  constexpr int64_t kWidth = SINEW_DETAIL_SQRT_BYTES / sizeof(T);
  for (; i + kWidth <= n; i += kWidth) {
    Packet p;
    __builtin_memcpy(&p, x + i, sizeof p);
    if constexpr (std::is_same_v<T, float>) {
      asm(SINEW_DETAIL_VEX "sqrtps {%1, %0|%0, %1}" : "=x"(p) : "x"(p));
    } else {
      asm(SINEW_DETAIL_VEX "sqrtpd {%1, %0|%0, %1}" : "=x"(p) : "x"(p));
    }
    __builtin_memcpy(x + i, &p, sizeof p);
  }
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}
#undef SINEW_DETAIL_VEX
#undef SINEW_DETAIL_SQRT_BYTES

template <class T, bool kAmsgrad>
void adam_range(T* __restrict w, const T* __restrict gp, T* __restrict m, T* __restrict v,
                T* __restrict vmax, int64_t begin, int64_t end, const AdamScalars<T>& c) {
  const T b1 = c.b1, b2 = c.b2, one_b1 = c.one_b1, one_b2 = c.one_b2, wd = c.wd;
  const T decay = c.decay, step_size = c.step_size, c2_sqrt = c.c2_sqrt, eps = c.eps;
  const bool maximize = c.maximize, decay_param = c.decay_param, decay_grad = c.decay_grad;
  T root[kBlock];
  for (int64_t b0 = begin; b0 < end; b0 += kBlock) {
    const int64_t n = std::min(kBlock, end - b0);
    T* __restrict wb = w + b0;
    T* __restrict mb = m + b0;
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = b0 + k;
      T wi = wb[k];
      T g = maximize ? -gp[i] : gp[i];
      wi = decay_param ? wi * decay : wi;
      g = decay_grad ? g + wd * wi : g;
      const T mi = mb[k] * b1 + one_b1 * g;
      const T vi = v[i] * b2 + one_b2 * (g * g);
      mb[k] = mi;
      v[i] = vi;
      T second = vi;
      if constexpr (kAmsgrad) {
        second = std::max(vmax[i], vi);
        vmax[i] = second;
      }
      wb[k] = wi;
      root[k] = second;
    }
    sqrt_in_place(root, n);
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) {
      const T denom = root[k] / c2_sqrt + eps;
      wb[k] = wb[k] - step_size * (mb[k] / denom);
    }
  }
}

template <class T, bool kMomentum, bool kCentered>
void rmsprop_range(T* __restrict w, const T* __restrict gp, T* __restrict sq, T* __restrict buf,
                   T* __restrict ga, int64_t begin, int64_t end, const RmspropScalars<T>& c) {
  const T alpha = c.alpha, one_alpha = c.one_alpha, wd = c.wd, eps = c.eps, mu = c.mu, lr = c.lr;
  const bool has_wd = c.has_wd, maximize = c.maximize;
  T root[kBlock], grad[kBlock];
  for (int64_t b0 = begin; b0 < end; b0 += kBlock) {
    const int64_t n = std::min(kBlock, end - b0);
    T* __restrict wb = w + b0;
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = b0 + k;
      T g = maximize ? -gp[i] : gp[i];
      g = has_wd ? g + wd * wb[k] : g;
      const T si = sq[i] * alpha + one_alpha * (g * g);
      sq[i] = si;
      if constexpr (kCentered) {
        const T ai = ga[i] * alpha + one_alpha * g;
        ga[i] = ai;
        root[k] = si - ai * ai;
      } else {
        root[k] = si;
      }
      grad[k] = g;
    }
    sqrt_in_place(root, n);
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) {
      const T avg = root[k] + eps;
      const T g = grad[k];
      if constexpr (kMomentum) {
        const T bi = buf[b0 + k] * mu + g / avg;
        buf[b0 + k] = bi;
        wb[k] = wb[k] - lr * bi;
      } else {
        wb[k] = wb[k] - lr * (g / avg);
      }
    }
  }
}

template <class T>
void adagrad_range(T* __restrict w, const T* __restrict gp, T* __restrict sum, int64_t begin,
                   int64_t end, const AdagradScalars<T>& c) {
  const T wd = c.wd, eps = c.eps, clr = c.clr;
  const bool has_wd = c.has_wd, maximize = c.maximize;
  T root[kBlock], grad[kBlock];
  for (int64_t b0 = begin; b0 < end; b0 += kBlock) {
    const int64_t n = std::min(kBlock, end - b0);
    T* __restrict wb = w + b0;
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = b0 + k;
      T g = maximize ? -gp[i] : gp[i];
      g = has_wd ? g + wd * wb[k] : g;
      const T si = sum[i] + g * g;
      sum[i] = si;
      root[k] = si;
      grad[k] = g;
    }
    sqrt_in_place(root, n);
#pragma omp simd
    for (int64_t k = 0; k < n; ++k) {
      const T std_ = root[k] + eps;
      wb[k] = wb[k] - clr * (grad[k] / std_);
    }
  }
}

}  // namespace detail_optim

// One SGD step on `param` in place; momentum_buffer is undefined when momentum is 0.
template <class T>
void sgd_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& momentum_buffer,
              const SgdStep& s) {
  using namespace detail_optim;
  const SgdScalars<T> c = sgd_scalars<T>(s);
  T* w = param.data_ptr();
  const T* g = grad.data_ptr();
  T* buf = data_or_null(momentum_buffer);
  parallel_for(param.numel(), kSgdCost, [&](int64_t b, int64_t e) {
    if (buf != nullptr) {
      sgd_range<T, true>(w, g, buf, b, e, c);
    } else {
      sgd_range<T, false>(w, g, nullptr, b, e, c);
    }
  });
}

// One Adam/AdamW step on `param` in place; max_exp_avg_sq is undefined without amsgrad.
template <class T>
void adam_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& exp_avg,
               const Tensor<T>& exp_avg_sq, const Tensor<T>& max_exp_avg_sq, const AdamStep& s) {
  using namespace detail_optim;
  const AdamScalars<T> c = adam_scalars<T>(s);
  T* w = param.data_ptr();
  const T* g = grad.data_ptr();
  T* m = exp_avg.data_ptr();
  T* v = exp_avg_sq.data_ptr();
  T* vmax = data_or_null(max_exp_avg_sq);
  parallel_for(param.numel(), kRootCost, [&](int64_t b, int64_t e) {
    if (vmax != nullptr) {
      adam_range<T, true>(w, g, m, v, vmax, b, e, c);
    } else {
      adam_range<T, false>(w, g, m, v, nullptr, b, e, c);
    }
  });
}

// One RMSprop step on `param` in place; momentum_buffer is undefined when momentum is 0,
// grad_avg when the update is not centered.
template <class T>
void rmsprop_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& square_avg,
                  const Tensor<T>& momentum_buffer, const Tensor<T>& grad_avg,
                  const RmspropStep& s) {
  using namespace detail_optim;
  const RmspropScalars<T> c = rmsprop_scalars<T>(s);
  T* w = param.data_ptr();
  const T* g = grad.data_ptr();
  T* sq = square_avg.data_ptr();
  T* buf = data_or_null(momentum_buffer);
  T* ga = data_or_null(grad_avg);
  parallel_for(param.numel(), kRootCost, [&](int64_t b, int64_t e) {
    if (buf != nullptr && ga != nullptr) {
      rmsprop_range<T, true, true>(w, g, sq, buf, ga, b, e, c);
    } else if (buf != nullptr) {
      rmsprop_range<T, true, false>(w, g, sq, buf, nullptr, b, e, c);
    } else if (ga != nullptr) {
      rmsprop_range<T, false, true>(w, g, sq, nullptr, ga, b, e, c);
    } else {
      rmsprop_range<T, false, false>(w, g, sq, nullptr, nullptr, b, e, c);
    }
  });
}

// One Adagrad step on `param` in place.
template <class T>
void adagrad_step(const Tensor<T>& param, const Tensor<T>& grad, const Tensor<T>& sum,
                  const AdagradStep& s) {
  using namespace detail_optim;
  const AdagradScalars<T> c = adagrad_scalars<T>(s);
  T* w = param.data_ptr();
  const T* g = grad.data_ptr();
  T* acc = sum.data_ptr();
  parallel_for(param.numel(), kRootCost,
               [&](int64_t b, int64_t e) { adagrad_range<T>(w, g, acc, b, e, c); });
}

}  // namespace sinew::backend::cpu
