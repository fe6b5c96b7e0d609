// CPU pooling kernels (max, average, adaptive) over contiguous [planes, H, W] data, one OpenMP
// task per block of planes (planes = N * C). 1-d pooling runs as 2-d with H = 1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/backend/descriptors.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

namespace detail_pool {

// PyTorch's adaptive bins: [floor(i * in / out), ceil((i + 1) * in / out)).
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

template <class F>
void for_planes(const Pool2dParams& p, int64_t cost_per_plane, F&& f) {
  parallel_for(p.planes, std::max<int64_t>(cost_per_plane, 1), [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) f(q);
  });
}

// MaxPool2d(2) with every window inside the plane (the CNN case). The four elements of each
// window are first split into four arrays so that the selects below vectorize: a branchy scan
// mispredicts on random data and runs about 15x slower. The index of each window's first element
// is the same for every plane, so it is worked out once. Same result as the general loop.
template <class T>
void max_pool_2x2(const T* xd, const Pool2dParams& p, T* yd, int64_t* id) {
  const int64_t iw = p.in_w, oh_n = p.out_h, ow_n = p.out_w;
  const int64_t in_plane = p.in_h * p.in_w, out_plane = oh_n * ow_n;
  parallel_for(p.planes, 4 * out_plane, [&](int64_t b, int64_t e) {
    std::vector<T> buf(static_cast<size_t>(4 * out_plane));
    std::vector<int64_t> first(static_cast<size_t>(out_plane));
    T* a0 = buf.data();
    T* a1 = a0 + out_plane;
    T* b0 = a1 + out_plane;
    T* b1 = b0 + out_plane;
    int64_t* f = first.data();
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t j = 0; j < ow_n; ++j) f[oh * ow_n + j] = 2 * oh * iw + 2 * j;
    }
    const int64_t w1 = iw, w2 = iw + 1;
    for (int64_t q = b; q < e; ++q) {
      const T* in = xd + q * in_plane;
      T* yo = yd + q * out_plane;
      int64_t* io = id + q * out_plane;
      for (int64_t oh = 0; oh < oh_n; ++oh) {
        const T* r0 = in + 2 * oh * iw;
        const T* r1 = r0 + iw;
        const int64_t o = oh * ow_n;
        for (int64_t j = 0; j < ow_n; ++j) {
          a0[o + j] = r0[2 * j];
          a1[o + j] = r0[2 * j + 1];
          b0[o + j] = r1[2 * j];
          b1[o + j] = r1[2 * j + 1];
        }
      }
      // Scan order a0, a1, b0, b1: a later element wins when greater or NaN (as the general loop).
#pragma omp simd
      for (int64_t j = 0; j < out_plane; ++j) {
        T best = a0[j], v = a1[j];
        int64_t k = 0;
        bool t = v > best || v != v;
        best = t ? v : best;
        k = t ? 1 : k;
        v = b0[j];
        t = v > best || v != v;
        best = t ? v : best;
        k = t ? w1 : k;
        v = b1[j];
        t = v > best || v != v;
        best = t ? v : best;
        k = t ? w2 : k;
        yo[j] = best;
        io[j] = f[j] + k;
      }
    }
  });
}

}  // namespace detail_pool

// y = the max over each (dilated, padded) window, idx = its flat position h * W + w in the plane.
// Padding never wins (it is -inf); ties keep the first max and NaN propagates (the last NaN of
// the window), as PyTorch.
template <class T>
void max_pool2d(const Tensor<T>& x, const Pool2dParams& p, const Tensor<T>& y,
                const Tensor<int64_t>& idx) {
  const T* xd = x.data_ptr();
  T* yd = y.data_ptr();
  int64_t* id = idx.data_ptr();
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  if (p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 &&
      p.pad_w == 0 && p.dilation_h == 1 && p.dilation_w == 1 && 2 * p.out_h <= p.in_h &&
      2 * p.out_w <= p.in_w && p.in_w < (int64_t{1} << 30)) {
    detail_pool::max_pool_2x2(xd, p, yd, id);
    return;
  }
  detail_pool::for_planes(p, out_plane * p.kernel_h * p.kernel_w, [&](int64_t q) {
    const T* in = xd + q * in_plane;
    T* out = yd + q * out_plane;
    int64_t* ind = id + q * out_plane;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      int64_t h0 = oh * p.stride_h - p.pad_h;
      int64_t h1 = std::min(h0 + (p.kernel_h - 1) * p.dilation_h + 1, p.in_h);
      while (h0 < 0) h0 += p.dilation_h;
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        int64_t w0 = ow * p.stride_w - p.pad_w;
        int64_t w1 = std::min(w0 + (p.kernel_w - 1) * p.dilation_w + 1, p.in_w);
        while (w0 < 0) w0 += p.dilation_w;
        T best = -std::numeric_limits<T>::infinity();
        int64_t at = (h0 < p.in_h && w0 < p.in_w) ? h0 * p.in_w + w0 : 0;
        for (int64_t h = h0; h < h1; h += p.dilation_h) {
          for (int64_t w = w0; w < w1; w += p.dilation_w) {
            T v = in[h * p.in_w + w];
            if (v > best || v != v) {
              best = v;
              at = h * p.in_w + w;
            }
          }
        }
        out[oh * p.out_w + ow] = best;
        ind[oh * p.out_w + ow] = at;
      }
    }
  });
}

// gx = 0, then gx[plane, idx[plane, o]] += g[plane, o]: the max pool gradient (overlapping windows
// that chose the same element accumulate).
template <class T>
void max_pool2d_backward(const Tensor<T>& g, const Tensor<int64_t>& idx, const Pool2dParams& p,
                         const Tensor<T>& gx) {
  const T* gd = g.data_ptr();
  const int64_t* id = idx.data_ptr();
  T* out = gx.data_ptr();
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  detail_pool::for_planes(p, in_plane + out_plane, [&](int64_t q) {
    T* o = out + q * in_plane;
    std::fill(o, o + in_plane, T(0));
    const T* gq = gd + q * out_plane;
    const int64_t* iq = id + q * out_plane;
    for (int64_t k = 0; k < out_plane; ++k) o[iq[k]] += gq[k];
  });
}

// y = the window sum / divisor: divisor_override when > 0, else the window's size counting the
// padding (count_include_pad, and clipped at in + pad) or only the elements inside the plane.
template <class T>
void avg_pool2d(const Tensor<T>& x, const Pool2dParams& p, bool count_include_pad,
                int64_t divisor_override, const Tensor<T>& y) {
  const T* xd = x.data_ptr();
  T* yd = y.data_ptr();
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  detail_pool::for_planes(p, out_plane * p.kernel_h * p.kernel_w, [&](int64_t q) {
    const T* in = xd + q * in_plane;
    T* out = yd + q * out_plane;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      int64_t h0 = oh * p.stride_h - p.pad_h;
      int64_t h1 = std::min(h0 + p.kernel_h, p.in_h + p.pad_h);
      int64_t ph = h1 - h0;
      h0 = std::max<int64_t>(h0, 0);
      h1 = std::min(h1, p.in_h);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        int64_t w0 = ow * p.stride_w - p.pad_w;
        int64_t w1 = std::min(w0 + p.kernel_w, p.in_w + p.pad_w);
        int64_t pool = ph * (w1 - w0);
        w0 = std::max<int64_t>(w0, 0);
        w1 = std::min(w1, p.in_w);
        if (h0 >= h1 || w0 >= w1) {
          out[oh * p.out_w + ow] = T(0);
          continue;
        }
        T s = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) s += in[h * p.in_w + w];
        int64_t div = divisor_override > 0 ? divisor_override
                      : count_include_pad  ? pool
                                           : (h1 - h0) * (w1 - w0);
        out[oh * p.out_w + ow] = s / T(div);
      }
    }
  });
}

// gx = the adjoint of avg_pool2d applied to g: each output's gradient / divisor spread over its
// window.
template <class T>
void avg_pool2d_backward(const Tensor<T>& g, const Pool2dParams& p, bool count_include_pad,
                         int64_t divisor_override, const Tensor<T>& gx) {
  const T* gd = g.data_ptr();
  T* xd = gx.data_ptr();
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  detail_pool::for_planes(p, in_plane + out_plane * p.kernel_h * p.kernel_w, [&](int64_t q) {
    T* o = xd + q * in_plane;
    std::fill(o, o + in_plane, T(0));
    const T* gq = gd + q * out_plane;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      int64_t h0 = oh * p.stride_h - p.pad_h;
      int64_t h1 = std::min(h0 + p.kernel_h, p.in_h + p.pad_h);
      int64_t ph = h1 - h0;
      h0 = std::max<int64_t>(h0, 0);
      h1 = std::min(h1, p.in_h);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        int64_t w0 = ow * p.stride_w - p.pad_w;
        int64_t w1 = std::min(w0 + p.kernel_w, p.in_w + p.pad_w);
        int64_t pool = ph * (w1 - w0);
        w0 = std::max<int64_t>(w0, 0);
        w1 = std::min(w1, p.in_w);
        if (h0 >= h1 || w0 >= w1) continue;
        int64_t div = divisor_override > 0 ? divisor_override
                      : count_include_pad  ? pool
                                           : (h1 - h0) * (w1 - w0);
        T v = gq[oh * p.out_w + ow] / T(div);
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) o[h * p.in_w + w] += v;
      }
    }
  });
}

// y = the mean of each adaptive bin (see detail_pool::adaptive_start / adaptive_end).
template <class T>
void adaptive_avg_pool2d(const Tensor<T>& x, const Pool2dParams& p, const Tensor<T>& y) {
  using namespace detail_pool;
  const T* xd = x.data_ptr();
  T* yd = y.data_ptr();
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  detail_pool::for_planes(p, in_plane + out_plane, [&](int64_t q) {
    const T* in = xd + q * in_plane;
    T* out = yd + q * out_plane;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      int64_t h0 = adaptive_start(oh, p.in_h, p.out_h), h1 = adaptive_end(oh, p.in_h, p.out_h);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        int64_t w0 = adaptive_start(ow, p.in_w, p.out_w), w1 = adaptive_end(ow, p.in_w, p.out_w);
        T s = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) s += in[h * p.in_w + w];
        out[oh * p.out_w + ow] = s / T((h1 - h0) * (w1 - w0));
      }
    }
  });
}

// gx = the adjoint of adaptive_avg_pool2d applied to g.
template <class T>
void adaptive_avg_pool2d_backward(const Tensor<T>& g, const Pool2dParams& p, const Tensor<T>& gx) {
  using namespace detail_pool;
  const T* gd = g.data_ptr();
  T* xd = gx.data_ptr();
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  detail_pool::for_planes(p, 2 * in_plane + out_plane, [&](int64_t q) {
    T* o = xd + q * in_plane;
    std::fill(o, o + in_plane, T(0));
    const T* gq = gd + q * out_plane;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      int64_t h0 = adaptive_start(oh, p.in_h, p.out_h), h1 = adaptive_end(oh, p.in_h, p.out_h);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        int64_t w0 = adaptive_start(ow, p.in_w, p.out_w), w1 = adaptive_end(ow, p.in_w, p.out_w);
        T v = gq[oh * p.out_w + ow] / T((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) o[h * p.in_w + w] += v;
      }
    }
  });
}

// y = the max of each adaptive bin, idx = its flat position in the plane (first max; the last
// NaN wins, as PyTorch).
template <class T>
void adaptive_max_pool2d(const Tensor<T>& x, const Pool2dParams& p, const Tensor<T>& y,
                         const Tensor<int64_t>& idx) {
  using namespace detail_pool;
  const T* xd = x.data_ptr();
  T* yd = y.data_ptr();
  int64_t* id = idx.data_ptr();
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  detail_pool::for_planes(p, in_plane + out_plane, [&](int64_t q) {
    const T* in = xd + q * in_plane;
    T* out = yd + q * out_plane;
    int64_t* ind = id + q * out_plane;
    for (int64_t oh = 0; oh < p.out_h; ++oh) {
      int64_t h0 = adaptive_start(oh, p.in_h, p.out_h), h1 = adaptive_end(oh, p.in_h, p.out_h);
      for (int64_t ow = 0; ow < p.out_w; ++ow) {
        int64_t w0 = adaptive_start(ow, p.in_w, p.out_w), w1 = adaptive_end(ow, p.in_w, p.out_w);
        T best = in[h0 * p.in_w + w0];
        int64_t at = h0 * p.in_w + w0;
        for (int64_t h = h0; h < h1; ++h) {
          for (int64_t w = w0; w < w1; ++w) {
            T v = in[h * p.in_w + w];
            if (v > best || v != v) {
              best = v;
              at = h * p.in_w + w;
            }
          }
        }
        out[oh * p.out_w + ow] = best;
        ind[oh * p.out_w + ow] = at;
      }
    }
  });
}

}  // namespace sinew::backend::cpu
