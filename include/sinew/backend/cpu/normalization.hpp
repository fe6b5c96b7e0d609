// CPU normalization kernels: batch norm statistics, per-channel affine and backward over contiguous
// [N, C, S] data, and the row normalization behind layer_norm and group_norm over [R, K] data.
// Sums accumulate in double; variances take two passes (no cancellation for large means).
#pragma once

#include <cmath>
#include <cstdint>

#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

// mean[c], var[c] = mean and biased variance of x [n, c, s] over n and s (the op made n s > 0).
template <class T>
void batch_norm_stats(const Tensor<T>& x, int64_t n, int64_t c, int64_t s, const Tensor<T>& mean,
                      const Tensor<T>& var) {
  const T* xd = x.data_ptr();
  T* md = mean.data_ptr();
  T* vd = var.data_ptr();
  const double count = double(n) * double(s);
  parallel_for(c, 2 * n * s, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* r = xd + (i * c + ch) * s;
        double part = 0;
#pragma omp simd reduction(+ : part)
        for (int64_t k = 0; k < s; ++k) part += double(r[k]);
        sum += part;
      }
      const double mu = sum / count;
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) {
        const T* r = xd + (i * c + ch) * s;
        double part = 0;
#pragma omp simd reduction(+ : part)
        for (int64_t k = 0; k < s; ++k) {
          double d = double(r[k]) - mu;
          part += d * d;
        }
        ss += part;
      }
      md[ch] = static_cast<T>(mu);
      vd[ch] = static_cast<T>(ss / count);
    }
  });
}

// y[i, ch, k] = x[i, ch, k] * scale[ch] + shift[ch].
template <class T>
void channel_affine(const Tensor<T>& x, int64_t n, int64_t c, int64_t s, const Tensor<T>& scale,
                    const Tensor<T>& shift, const Tensor<T>& y) {
  const T* xd = x.data_ptr();
  const T* sc = scale.data_ptr();
  const T* sh = shift.data_ptr();
  T* yd = y.data_ptr();
  parallel_for(n * c, s, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const T a = sc[row % c], o = sh[row % c];
      const T* r = xd + row * s;
      T* w = yd + row * s;
#pragma omp simd
      for (int64_t k = 0; k < s; ++k) w[k] = r[k] * a + o;
    }
  });
}

// The batch norm backward for x [n, c, s] normalized as xhat = (x - mean[ch]) invstd[ch] and
// scaled by weight[ch] (1 when undefined), with M = n s:
//   grad_weight[ch] = sum g xhat,  grad_bias[ch] = sum g  (written when defined);
//   training (mean and invstd are the batch's):
//     gx = weight invstd (g - sum g / M - xhat sum(g xhat) / M)
//   eval (mean and invstd are constants):  gx = g weight invstd   (written when gx is defined).
template <class T>
void batch_norm_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& mean,
                         const Tensor<T>& invstd, const Tensor<T>& weight, bool training, int64_t n,
                         int64_t c, int64_t s, const Tensor<T>& gx, const Tensor<T>& grad_weight,
                         const Tensor<T>& grad_bias) {
  const T* gd = g.data_ptr();
  const T* xd = x.data_ptr();
  const T* md = mean.data_ptr();
  const T* id = invstd.data_ptr();
  const T* wd = weight.defined() ? weight.data_ptr() : nullptr;
  const double count = double(n) * double(s);
  T* gxd = gx.defined() ? gx.data_ptr() : nullptr;
  T* gwd = grad_weight.defined() ? grad_weight.data_ptr() : nullptr;
  T* gbd = grad_bias.defined() ? grad_bias.data_ptr() : nullptr;
  parallel_for(c, 3 * n * s, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      const double mu = double(md[ch]), inv = double(id[ch]);
      const double w = wd ? double(wd[ch]) : 1.0;
      double sg = 0, sgx = 0;  // sum g, sum g (x - mean)
      if (gwd || gbd || (gxd && training)) {
        for (int64_t i = 0; i < n; ++i) {
          const T* gr = gd + (i * c + ch) * s;
          const T* xr = xd + (i * c + ch) * s;
          double a = 0, bsum = 0;
#pragma omp simd reduction(+ : a, bsum)
          for (int64_t k = 0; k < s; ++k) {
            a += double(gr[k]);
            bsum += double(gr[k]) * (double(xr[k]) - mu);
          }
          sg += a;
          sgx += bsum;
        }
      }
      if (gwd) gwd[ch] = static_cast<T>(sgx * inv);
      if (gbd) gbd[ch] = static_cast<T>(sg);
      if (!gxd) continue;
      // gx = alpha g + beta (x - mean) + gamma, per channel.
      const double alpha = w * inv;
      double beta = 0, gamma = 0;
      if (training) {
        beta = -w * inv * inv * inv * sgx / count;
        gamma = -w * inv * sg / count;
      }
      const T ta = static_cast<T>(alpha), tb = static_cast<T>(beta), tc = static_cast<T>(gamma);
      const T tm = static_cast<T>(mu);
      for (int64_t i = 0; i < n; ++i) {
        const T* gr = gd + (i * c + ch) * s;
        const T* xr = xd + (i * c + ch) * s;
        T* o = gxd + (i * c + ch) * s;
#pragma omp simd
        for (int64_t k = 0; k < s; ++k) o[k] = ta * gr[k] + tb * (xr[k] - tm) + tc;
      }
    }
  });
}

// Each row of x [r, k]: y = (x - mean) invstd with invstd = 1 / sqrt(biased var + eps); the row's
// mean and invstd are written too (for the backward).
template <class T>
void row_normalize(const Tensor<T>& x, int64_t r, int64_t k, double eps, const Tensor<T>& y,
                   const Tensor<T>& mean, const Tensor<T>& invstd) {
  const T* xd = x.data_ptr();
  T* yd = y.data_ptr();
  T* md = mean.data_ptr();
  T* id = invstd.data_ptr();
  parallel_for(r, 3 * k, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const T* xr = xd + row * k;
      T* yr = yd + row * k;
      double sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < k; ++j) sum += double(xr[j]);
      const double mu = k > 0 ? sum / double(k) : 0.0;
      double ss = 0;
#pragma omp simd reduction(+ : ss)
      for (int64_t j = 0; j < k; ++j) {
        double d = double(xr[j]) - mu;
        ss += d * d;
      }
      const double inv = 1.0 / std::sqrt((k > 0 ? ss / double(k) : 0.0) + eps);
      const T tm = static_cast<T>(mu), ti = static_cast<T>(inv);
#pragma omp simd
      for (int64_t j = 0; j < k; ++j) yr[j] = (xr[j] - tm) * ti;
      md[row] = tm;
      id[row] = ti;
    }
  });
}

// The row normalization backward: gx = invstd (g - mean(g) - xhat mean(g xhat)) per row.
template <class T>
void row_normalize_backward(const Tensor<T>& g, const Tensor<T>& x, const Tensor<T>& mean,
                            const Tensor<T>& invstd, int64_t r, int64_t k, const Tensor<T>& gx) {
  const T* gd = g.data_ptr();
  const T* xd = x.data_ptr();
  const T* md = mean.data_ptr();
  const T* id = invstd.data_ptr();
  T* o = gx.data_ptr();
  parallel_for(r, 3 * k, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const T* gr = gd + row * k;
      const T* xr = xd + row * k;
      T* out = o + row * k;
      const double mu = double(md[row]), inv = double(id[row]);
      double sg = 0, sgx = 0;
#pragma omp simd reduction(+ : sg, sgx)
      for (int64_t j = 0; j < k; ++j) {
        sg += double(gr[j]);
        sgx += double(gr[j]) * (double(xr[j]) - mu);
      }
      const double beta = -inv * inv * inv * sgx / double(k);
      const double gamma = -inv * sg / double(k);
      const T ta = static_cast<T>(inv), tb = static_cast<T>(beta), tc = static_cast<T>(gamma);
      const T tm = static_cast<T>(mu);
#pragma omp simd
      for (int64_t j = 0; j < k; ++j) out[j] = ta * gr[j] + tb * (xr[j] - tm) + tc;
    }
  });
}

}  // namespace sinew::backend::cpu
