R"SINEW_CUDA(
// Layer kernels: convolution's im2col / col2im (the GEMMs around them run through cuBLAS), max,
// average and adaptive pooling, batch norm statistics and backward, the per-channel affine, the
// row normalization of layer norm and group norm, and the fused LSTM, GRU and Elman RNN cells:
// the arithmetic of backend/cpu/{conv,pool,normalization,rnn}.hpp, element for element where no
// sum is reordered.
//
// Every tensor operand is contiguous (the ops make them so). Indices are 64-bit throughout: the
// geometry descriptors are int64 and one instantiation per element type keeps the table small.
// Elementwise kernels are 1-D grid-stride loops over their output; the reductions (batch norm,
// row normalization) run one block per channel or row, summing in double as the CPU does (in
// another order: a tree over the block instead of a sequential loop).
namespace sinew {
namespace dev {

// backend/descriptors.hpp's ConvGeometry and Pool2dParams, member for member (passed by value;
// the emulator converts with std::bit_cast, which checks the size).
struct ConvGeometry {
  int64_t batch, groups;
  int64_t image_channels, image_h, image_w;
  int64_t grid_channels, grid_h, grid_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t dilation_h, dilation_w;
};

struct Pool2dParams {
  int64_t planes, in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w;
  int64_t pad_h, pad_w, dilation_h, dilation_w;
};

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a < b ? b : a; }
// floor(a / b) for b > 0 and any sign of a.
__device__ __forceinline__ int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// PyTorch's adaptive bins: [floor(i in / out), ceil((i + 1) in / out)).
__device__ __forceinline__ int64_t adaptive_start(int64_t i, int64_t in, int64_t out) {
  return (i * in) / out;
}
__device__ __forceinline__ int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

// v summed over the block (blockDim.x a multiple of 32) and handed to every thread. `scratch` is
// 33 doubles of shared memory; the block may call it again right after.
__device__ __forceinline__ double block_sum_all(double v, double* scratch) {
  v = block_reduce(v, SumOp(), 0.0, scratch);
  if (threadIdx.x == 0) scratch[32] = v;
  __syncthreads();
  // Read before thread 0 can write the slot again: only after the two barriers of the next
  // block_reduce.
  return scratch[32];
}

// The max of plane[h * width + w] over h in [h0, h1) step dh, w in [w0, w1) step dw, into best
// and its position into at (both hold the start value): NaN wins and the first maximum is kept,
// as the CPU's scan.
template <class T>
__device__ __forceinline__ void window_max(const T* plane, int64_t width, int64_t h0, int64_t h1,
                                           int64_t dh, int64_t w0, int64_t w1, int64_t dw, T& best,
                                           int64_t& at) {
  for (int64_t h = h0; h < h1; h += dh) {
    for (int64_t w = w0; w < w1; w += dw) {
      const T v = plane[h * width + w];
      if (v > best || v != v) {
        best = v;
        at = h * width + w;
      }
    }
  }
}

__device__ __forceinline__ float logistic(float x) { return 1.0f / (1.0f + m_exp(-x)); }
__device__ __forceinline__ double logistic(double x) { return 1.0 / (1.0 + m_exp(-x)); }

}  // namespace dev

// ---- convolution -----------------------------------------------------------------------------

// The columns of the images [N, C, H, W]: entry (n, (c, i, j), (oh, ow)) is pixel
// (oh sh - ph + i dh, ow sw - pw + j dw) of plane c of image n, or 0 outside the image, written at
// col[n batch_stride + (c kh kw + i kw + j) row_stride + oh gw + ow] ([N, C kh kw, gh gw] with
// batch_stride = C kh kw gh gw and row_stride = gh gw; [C kh kw, N, gh gw] for the weight
// gradient's single GEMM with batch_stride = gh gw and row_stride = N gh gw).
template <class T>
__global__ void im2col_cells(const T* image, T* col, dev::ConvGeometry g, int64_t batch_stride,
                             int64_t row_stride, int64_t n) {
  const int64_t gh = g.grid_h, gw = g.grid_w, kh = g.kernel_h, kw = g.kernel_w;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    int64_t r = e;
    const int64_t ow = r % gw;
    r /= gw;
    const int64_t oh = r % gh;
    r /= gh;
    const int64_t j = r % kw;
    r /= kw;
    const int64_t i = r % kh;
    r /= kh;
    const int64_t c = r % g.image_channels;
    const int64_t img = r / g.image_channels;
    const int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
    const int64_t iw = ow * g.stride_w - g.pad_w + j * g.dilation_w;
    const bool inside = ih >= 0 && ih < g.image_h && iw >= 0 && iw < g.image_w;
    col[img * batch_stride + ((c * kh + i) * kw + j) * row_stride + oh * gw + ow] = inside ? image[((img * g.image_channels + c) * g.image_h + ih) * g.image_w + iw] : T(0);
  }
}

// The adjoint of im2col_cells: pixel (n, c, ih, iw) of the images = bias[c] (0 without a bias)
// plus every column entry read from it, taps (i, j) in order as the CPU's col2im adds them.
template <class T>
__global__ void col2im_pixels(const T* col, const T* bias, T* image, dev::ConvGeometry g,
                              int64_t n) {
  const int64_t gh = g.grid_h, gw = g.grid_w, kh = g.kernel_h, kw = g.kernel_w;
  const int64_t cells = gh * gw;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    int64_t r = e;
    const int64_t iw = r % g.image_w;
    r /= g.image_w;
    const int64_t ih = r % g.image_h;
    r /= g.image_h;
    const int64_t c = r % g.image_channels;
    const int64_t img = r / g.image_channels;
    T acc = bias != nullptr ? bias[c] : T(0);
    const T* rows = col + (img * g.image_channels + c) * kh * kw * cells;
    for (int64_t i = 0; i < kh; ++i) {
      const int64_t th = ih + g.pad_h - i * g.dilation_h;  // oh sh
      if (th < 0 || th % g.stride_h != 0) continue;
      const int64_t oh = th / g.stride_h;
      if (oh >= gh) continue;
      for (int64_t j = 0; j < kw; ++j) {
        const int64_t tw = iw + g.pad_w - j * g.dilation_w;
        if (tw < 0 || tw % g.stride_w != 0) continue;
        const int64_t ow = tw / g.stride_w;
        if (ow >= gw) continue;
        acc += rows[(i * kw + j) * cells + oh * gw + ow];
      }
    }
    image[e] = acc;
  }
}

// out [N, O, cells] = bias[o] for every cell (before a GEMM that adds into it).
template <class T>
__global__ void channel_fill(const T* bias, T* out, int64_t channels, int64_t cells, int64_t n) {
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>())
    out[e] = bias[(e / cells) % channels];
}

// ---- pooling ---------------------------------------------------------------------------------

// Max over each window (dilated, padded): the value and its flat position in the plane; NaN wins
// and the first maximum is kept, as the CPU's scan.
template <class T>
__global__ void max_pool2d_cells(const T* x, T* y, int64_t* idx, dev::Pool2dParams p, int64_t n) {
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t q = e / out_plane, o = e % out_plane, oh = o / p.out_w, ow = o % p.out_w;
    const T* in = x + q * in_plane;
    int64_t h0 = oh * p.stride_h - p.pad_h;
    const int64_t h1 = dev::min64(h0 + (p.kernel_h - 1) * p.dilation_h + 1, p.in_h);
    while (h0 < 0) h0 += p.dilation_h;
    int64_t w0 = ow * p.stride_w - p.pad_w;
    const int64_t w1 = dev::min64(w0 + (p.kernel_w - 1) * p.dilation_w + 1, p.in_w);
    while (w0 < 0) w0 += p.dilation_w;
    T best = -dev::max_finite(T(0)) * T(2);  // -inf
    int64_t at = (h0 < p.in_h && w0 < p.in_w) ? h0 * p.in_w + w0 : 0;
    dev::window_max(in, p.in_w, h0, h1, p.dilation_h, w0, w1, p.dilation_w, best, at);
    y[e] = best;
    idx[e] = at;
  }
}

// gx = 0, then gx[q, idx[q, o]] += g[q, o] for the outputs o of plane q in order (max and adaptive
// max pooling): one thread per plane, so that overlapping windows add in the CPU's order and no
// atomics make the sum depend on scheduling.
template <class T>
__global__ void max_pool2d_backward_planes(const T* g, const int64_t* idx, T* gx, int64_t in_plane,
                                           int64_t out_plane, int64_t planes) {
  for (int64_t q = dev::grid_start<int64_t>(); q < planes; q += dev::grid_step<int64_t>()) {
    T* o = gx + q * in_plane;
    for (int64_t k = 0; k < in_plane; ++k) o[k] = T(0);
    const T* gq = g + q * out_plane;
    const int64_t* iq = idx + q * out_plane;
    for (int64_t k = 0; k < out_plane; ++k) o[iq[k]] += gq[k];
  }
}

// The window [h0, h1) x [w0, w1) of output (oh, ow) of avg_pool2d, clipped to the plane, and its
// divisor (divisor_override when > 0, else the padded or the clipped window's size).
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};
__device__ __forceinline__ AvgWindow avg_window(const dev::Pool2dParams& p, int64_t oh, int64_t ow,
                                                bool count_include_pad, int64_t divisor_override) {
  AvgWindow a;
  a.h0 = oh * p.stride_h - p.pad_h;
  a.h1 = dev::min64(a.h0 + p.kernel_h, p.in_h + p.pad_h);
  const int64_t ph = a.h1 - a.h0;
  a.h0 = dev::max64(a.h0, 0);
  a.h1 = dev::min64(a.h1, p.in_h);
  a.w0 = ow * p.stride_w - p.pad_w;
  a.w1 = dev::min64(a.w0 + p.kernel_w, p.in_w + p.pad_w);
  const int64_t pool = ph * (a.w1 - a.w0);
  a.w0 = dev::max64(a.w0, 0);
  a.w1 = dev::min64(a.w1, p.in_w);
  a.divisor = divisor_override > 0 ? divisor_override
              : count_include_pad  ? pool
                                   : (a.h1 - a.h0) * (a.w1 - a.w0);
  return a;
}

template <class T>
__global__ void avg_pool2d_cells(const T* x, T* y, dev::Pool2dParams p, bool count_include_pad,
                                 int64_t divisor_override, int64_t n) {
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t q = e / out_plane, o = e % out_plane;
    const AvgWindow a = avg_window(p, o / p.out_w, o % p.out_w, count_include_pad, divisor_override);
    if (a.h0 >= a.h1 || a.w0 >= a.w1) {
      y[e] = T(0);
      continue;
    }
    const T* in = x + q * in_plane;
    T s = 0;
    for (int64_t h = a.h0; h < a.h1; ++h)
      for (int64_t w = a.w0; w < a.w1; ++w) s += in[h * p.in_w + w];
    y[e] = s / T(a.divisor);
  }
}

// The extent along one axis of avg_pool2d's window o that enters its divisor: the window clipped
// at in + pad (count_include_pad), or to the plane. The divisor is the product of the two axes'.
__device__ __forceinline__ int64_t avg_extent(int64_t o, int64_t stride, int64_t pad,
                                              int64_t kernel, int64_t in, bool count_include_pad) {
  const int64_t start = o * stride - pad;
  const int64_t end = dev::min64(start + kernel, in + pad);
  return count_include_pad ? end - start : dev::min64(end, in) - dev::max64(start, 0);
}

// avg_pool2d's adjoint, one thread per input pixel: the sum of g / divisor over the windows that
// hold it (every window of the ranges below does), in output order (the CPU's order of
// additions).
template <class T>
__global__ void avg_pool2d_backward_pixels(const T* g, T* gx, dev::Pool2dParams p,
                                           bool count_include_pad, int64_t divisor_override,
                                           int64_t n) {
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t q = e / in_plane, pix = e % in_plane, h = pix / p.in_w, w = pix % p.in_w;
    // Windows oh with oh sh - ph <= h < oh sh - ph + kh.
    const int64_t oh0 = dev::max64(dev::floor_div(h + p.pad_h - p.kernel_h, p.stride_h) + 1, 0);
    const int64_t oh1 = dev::min64(dev::floor_div(h + p.pad_h, p.stride_h) + 1, p.out_h);
    const int64_t ow0 = dev::max64(dev::floor_div(w + p.pad_w - p.kernel_w, p.stride_w) + 1, 0);
    const int64_t ow1 = dev::min64(dev::floor_div(w + p.pad_w, p.stride_w) + 1, p.out_w);
    const T* gq = g + q * out_plane;
    T acc = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const int64_t eh =
          avg_extent(oh, p.stride_h, p.pad_h, p.kernel_h, p.in_h, count_include_pad);
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const int64_t divisor =
            divisor_override > 0
                ? divisor_override
                : eh * avg_extent(ow, p.stride_w, p.pad_w, p.kernel_w, p.in_w, count_include_pad);
        acc += gq[oh * p.out_w + ow] / T(divisor);
      }
    }
    gx[e] = acc;
  }
}

template <class T>
__global__ void adaptive_avg_pool2d_cells(const T* x, T* y, dev::Pool2dParams p, int64_t n) {
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t q = e / out_plane, o = e % out_plane, oh = o / p.out_w, ow = o % p.out_w;
    const int64_t h0 = dev::adaptive_start(oh, p.in_h, p.out_h);
    const int64_t h1 = dev::adaptive_end(oh, p.in_h, p.out_h);
    const int64_t w0 = dev::adaptive_start(ow, p.in_w, p.out_w);
    const int64_t w1 = dev::adaptive_end(ow, p.in_w, p.out_w);
    const T* in = x + q * in_plane;
    T s = 0;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) s += in[h * p.in_w + w];
    y[e] = s / T((h1 - h0) * (w1 - w0));
  }
}

// adaptive_avg_pool2d's adjoint, one thread per input pixel, over the bins that hold it in output
// order.
template <class T>
__global__ void adaptive_avg_pool2d_backward_pixels(const T* g, T* gx, dev::Pool2dParams p,
                                                    int64_t n) {
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t q = e / in_plane, pix = e % in_plane, h = pix / p.in_w, w = pix % p.in_w;
    // Bin oh holds h when start(oh) <= h < end(oh); start is monotone, so the bins from
    // floor(h out / in) - 1 on cover every candidate.
    const int64_t oh0 = dev::max64((h * p.out_h) / p.in_h - 1, 0);
    const int64_t ow0 = dev::max64((w * p.out_w) / p.in_w - 1, 0);
    const T* gq = g + q * out_plane;
    T acc = 0;
    for (int64_t oh = oh0; oh < p.out_h; ++oh) {
      const int64_t h0 = dev::adaptive_start(oh, p.in_h, p.out_h);
      if (h0 > h) break;
      const int64_t h1 = dev::adaptive_end(oh, p.in_h, p.out_h);
      if (h >= h1) continue;
      for (int64_t ow = ow0; ow < p.out_w; ++ow) {
        const int64_t w0 = dev::adaptive_start(ow, p.in_w, p.out_w);
        if (w0 > w) break;
        const int64_t w1 = dev::adaptive_end(ow, p.in_w, p.out_w);
        if (w >= w1) continue;
        acc += gq[oh * p.out_w + ow] / T((h1 - h0) * (w1 - w0));
      }
    }
    gx[e] = acc;
  }
}

template <class T>
__global__ void adaptive_max_pool2d_cells(const T* x, T* y, int64_t* idx, dev::Pool2dParams p,
                                          int64_t n) {
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t q = e / out_plane, o = e % out_plane, oh = o / p.out_w, ow = o % p.out_w;
    const int64_t h0 = dev::adaptive_start(oh, p.in_h, p.out_h);
    const int64_t h1 = dev::adaptive_end(oh, p.in_h, p.out_h);
    const int64_t w0 = dev::adaptive_start(ow, p.in_w, p.out_w);
    const int64_t w1 = dev::adaptive_end(ow, p.in_w, p.out_w);
    const T* in = x + q * in_plane;
    T best = in[h0 * p.in_w + w0];
    int64_t at = h0 * p.in_w + w0;
    dev::window_max(in, p.in_w, h0, h1, int64_t(1), w0, w1, int64_t(1), best, at);
    y[e] = best;
    idx[e] = at;
  }
}

// ---- normalization ---------------------------------------------------------------------------
// One block per channel or row (blocks loop over them when there are more than the grid), the
// block's threads striding over its elements; blockDim.x a multiple of 32 and 33 doubles of
// dynamic shared memory (dev::block_sum_all).

// Channel ch of x [n, c, s]: mean and biased variance over n and s, two passes in double.
template <class T>
__global__ void batch_norm_stats_channels(const T* x, T* mean, T* var, int64_t n, int64_t c,
                                          int64_t s) {
  SINEW_DYNAMIC_SHARED(double, scratch);
  const int64_t m = n * s;
  const double count = double(n) * double(s);
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double part = 0;
    for (int64_t e = threadIdx.x; e < m; e += blockDim.x)
      part += double(x[((e / s) * c + ch) * s + e % s]);
    const double mu = dev::block_sum_all(part, scratch) / count;
    part = 0;
    for (int64_t e = threadIdx.x; e < m; e += blockDim.x) {
      const double d = double(x[((e / s) * c + ch) * s + e % s]) - mu;
      part += d * d;
    }
    const double ss = dev::block_sum_all(part, scratch);
    if (threadIdx.x == 0) {
      mean[ch] = static_cast<T>(mu);
      var[ch] = static_cast<T>(ss / count);
    }
  }
}

// y = x scale[ch] + shift[ch] over x [n, c, s].
template <class T>
__global__ void channel_affine_cells(const T* x, const T* scale, const T* shift, T* y, int64_t c,
                                     int64_t s, int64_t total) {
  for (int64_t e = dev::grid_start<int64_t>(); e < total; e += dev::grid_step<int64_t>()) {
    const int64_t ch = (e / s) % c;
    y[e] = x[e] * scale[ch] + shift[ch];
  }
}

// backend/cpu/normalization.hpp's batch_norm_backward, a block per channel (weight, gx,
// grad_weight and grad_bias may be null).
template <class T>
__global__ void batch_norm_backward_channels(const T* g, const T* x, const T* mean,
                                             const T* invstd, const T* weight, bool training,
                                             int64_t n, int64_t c, int64_t s, T* gx, T* grad_weight,
                                             T* grad_bias) {
  SINEW_DYNAMIC_SHARED(double, scratch);
  const int64_t m = n * s;
  const double count = double(n) * double(s);
  const bool sums = grad_weight != nullptr || grad_bias != nullptr || (gx != nullptr && training);
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    const double mu = double(mean[ch]), inv = double(invstd[ch]);
    const double w = weight != nullptr ? double(weight[ch]) : 1.0;
    double sg = 0, sgx = 0;
    if (sums) {
      for (int64_t e = threadIdx.x; e < m; e += blockDim.x) {
        const int64_t at = ((e / s) * c + ch) * s + e % s;
        sg += double(g[at]);
        sgx += double(g[at]) * (double(x[at]) - mu);
      }
      sg = dev::block_sum_all(sg, scratch);
      sgx = dev::block_sum_all(sgx, scratch);
    }
    if (threadIdx.x == 0) {
      if (grad_weight != nullptr) grad_weight[ch] = static_cast<T>(sgx * inv);
      if (grad_bias != nullptr) grad_bias[ch] = static_cast<T>(sg);
    }
    if (gx == nullptr) continue;
    const double alpha = w * inv;
    double beta = 0, gamma = 0;
    if (training) {
      beta = -w * inv * inv * inv * sgx / count;
      gamma = -w * inv * sg / count;
    }
    const T ta = static_cast<T>(alpha), tb = static_cast<T>(beta), tc = static_cast<T>(gamma);
    const T tm = static_cast<T>(mu);
    for (int64_t e = threadIdx.x; e < m; e += blockDim.x) {
      const int64_t at = ((e / s) * c + ch) * s + e % s;
      gx[at] = ta * g[at] + tb * (x[at] - tm) + tc;
    }
  }
}

// Row `row` of x [r, k]: y = (x - mean) invstd, invstd = 1 / sqrt(biased var + eps).
template <class T>
__global__ void row_normalize_rows(const T* x, T* y, T* mean, T* invstd, int64_t r, int64_t k,
                                   double eps) {
  SINEW_DYNAMIC_SHARED(double, scratch);
  for (int64_t row = blockIdx.x; row < r; row += gridDim.x) {
    const T* xr = x + row * k;
    T* yr = y + row * k;
    double part = 0;
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) part += double(xr[j]);
    const double sum = dev::block_sum_all(part, scratch);
    const double mu = k > 0 ? sum / double(k) : 0.0;
    part = 0;
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
      const double d = double(xr[j]) - mu;
      part += d * d;
    }
    const double ss = dev::block_sum_all(part, scratch);
    const double inv = 1.0 / dev::m_sqrt((k > 0 ? ss / double(k) : 0.0) + eps);
    const T tm = static_cast<T>(mu), ti = static_cast<T>(inv);
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) yr[j] = (xr[j] - tm) * ti;
    if (threadIdx.x == 0) {
      mean[row] = tm;
      invstd[row] = ti;
    }
  }
}

// Row `row`: gx = invstd (g - mean(g) - xhat mean(g xhat)).
template <class T>
__global__ void row_normalize_backward_rows(const T* g, const T* x, const T* mean,
                                            const T* invstd, T* gx, int64_t r, int64_t k) {
  SINEW_DYNAMIC_SHARED(double, scratch);
  for (int64_t row = blockIdx.x; row < r; row += gridDim.x) {
    const T* gr = g + row * k;
    const T* xr = x + row * k;
    T* out = gx + row * k;
    const double mu = double(mean[row]), inv = double(invstd[row]);
    double sg = 0, sgx = 0;
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
      sg += double(gr[j]);
      sgx += double(gr[j]) * (double(xr[j]) - mu);
    }
    sg = dev::block_sum_all(sg, scratch);
    sgx = dev::block_sum_all(sgx, scratch);
    const double beta = -inv * inv * inv * sgx / double(k);
    const double gamma = -inv * sg / double(k);
    const T ta = static_cast<T>(inv), tb = static_cast<T>(beta), tc = static_cast<T>(gamma);
    const T tm = static_cast<T>(mu);
    for (int64_t j = threadIdx.x; j < k; j += blockDim.x)
      out[j] = ta * gr[j] + tb * (xr[j] - tm) + tc;
  }
}

// ---- recurrent cells: one thread per (row, unit), backend/cpu/rnn.hpp's formulas -------------

// LSTM: gates i, f, g, o of gx + gh + bias [rows, 4H] (bias may be null); writes h, c [rows, H]
// and the activated gates.
template <class T>
__global__ void lstm_cell_forward_units(const T* gx, const T* gh, const T* bias, const T* c_prev,
                                        T* h, T* c, T* gates, int64_t H, int64_t n) {
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t r = e / H, u = e % H, base = r * 4 * H + u;
    T pre[4];
    for (int q = 0; q < 4; ++q)
      pre[q] = gx[base + q * H] + gh[base + q * H] + (bias != nullptr ? bias[u + q * H] : T(0));
    const T i = dev::logistic(pre[0]), f = dev::logistic(pre[1]), g = dev::m_tanh(pre[2]),
            o = dev::logistic(pre[3]);
    gates[base] = i;
    gates[base + H] = f;
    gates[base + 2 * H] = g;
    gates[base + 3 * H] = o;
    const T cr = f * c_prev[e] + i * g;
    c[e] = cr;
    h[e] = o * dev::m_tanh(cr);
  }
}

// dh2 and dc may be null (zero); dc_prev may be dc itself (each thread reads its element first).
template <class T>
__global__ void lstm_cell_backward_units(const T* dh, const T* dh2, const T* dc, const T* gates,
                                         const T* c_prev, const T* c, T* dgates, T* dc_prev,
                                         int64_t H, int64_t n) {
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t r = e / H, u = e % H, base = r * 4 * H + u;
    const T i = gates[base], f = gates[base + H], g = gates[base + 2 * H], o = gates[base + 3 * H];
    const T dhr = dh2 != nullptr ? dh[e] + dh2[e] : dh[e];
    const T tc = dev::m_tanh(c[e]);
    T dct = dhr * o * (T(1) - tc * tc);
    if (dc != nullptr) dct += dc[e];
    dgates[base] = dct * g * i * (T(1) - i);
    dgates[base + H] = dct * c_prev[e] * f * (T(1) - f);
    dgates[base + 2 * H] = dct * i * (T(1) - g * g);
    dgates[base + 3 * H] = dhr * tc * o * (T(1) - o);
    dc_prev[e] = dct * f;
  }
}

// GRU: gates r, z, n of gx, gh [rows, 3H]; bias [3H] (b_hh) may be null. Writes h [rows, H] and
// the workspace [rows, 4H] = (r, z, n, hn).
template <class T>
__global__ void gru_cell_forward_units(const T* gx, const T* gh, const T* bias, const T* h_prev,
                                       T* h, T* workspace, int64_t H, int64_t n) {
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t row = e / H, u = e % H, base = row * 3 * H + u, wb = row * 4 * H + u;
    const T b0 = bias != nullptr ? bias[u] : T(0), b1 = bias != nullptr ? bias[u + H] : T(0),
            b2 = bias != nullptr ? bias[u + 2 * H] : T(0);
    const T r = dev::logistic(gx[base] + gh[base] + b0);
    const T z = dev::logistic(gx[base + H] + gh[base + H] + b1);
    const T hn = gh[base + 2 * H] + b2;
    const T nn = dev::m_tanh(gx[base + 2 * H] + r * hn);
    workspace[wb] = r;
    workspace[wb + H] = z;
    workspace[wb + 2 * H] = nn;
    workspace[wb + 3 * H] = hn;
    h[e] = (T(1) - z) * nn + z * h_prev[e];
  }
}

// dh2 may be null; dh_prev may be dh2 itself.
template <class T>
__global__ void gru_cell_backward_units(const T* dh, const T* dh2, const T* workspace,
                                        const T* h_prev, T* dgx, T* dgh, T* dh_prev, int64_t H,
                                        int64_t n) {
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const int64_t row = e / H, u = e % H, base = row * 3 * H + u, wb = row * 4 * H + u;
    const T r = workspace[wb], z = workspace[wb + H], nn = workspace[wb + 2 * H],
            hn = workspace[wb + 3 * H];
    const T dhr = dh2 != nullptr ? dh[e] + dh2[e] : dh[e];
    const T dn = dhr * (T(1) - z) * (T(1) - nn * nn);
    const T dz = dhr * (h_prev[e] - nn) * z * (T(1) - z);
    const T dr = dn * hn * r * (T(1) - r);
    dgx[base] = dr;
    dgx[base + H] = dz;
    dgx[base + 2 * H] = dn;
    dgh[base] = dr;
    dgh[base + H] = dz;
    dgh[base + 2 * H] = dn * r;
    dh_prev[e] = dhr * z;
  }
}

// Elman RNN: h = tanh(gx + gh + b), or relu; bias [H] may be null.
template <class T>
__global__ void rnn_cell_forward_units(const T* gx, const T* gh, const T* bias, bool relu, T* h,
                                       int64_t H, int64_t n) {
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const T pre = gx[e] + gh[e] + (bias != nullptr ? bias[e % H] : T(0));
    h[e] = relu ? (pre > T(0) ? pre : T(0)) : dev::m_tanh(pre);
  }
}

template <class T>
__global__ void rnn_cell_backward_units(const T* dh, const T* dh2, const T* h, bool relu, T* dpre,
                                        int64_t n) {
  for (int64_t e = dev::grid_start<int64_t>(); e < n; e += dev::grid_step<int64_t>()) {
    const T d = dh2 != nullptr ? dh[e] + dh2[e] : dh[e];
    const T hr = h[e];
    dpre[e] = relu ? (hr > T(0) ? d : T(0)) : d * (T(1) - hr * hr);
  }
}

}  // namespace sinew
)SINEW_CUDA"
