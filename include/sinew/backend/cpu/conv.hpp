// CPU convolution kernels: im2col / col2im and the three GEMM-based products that conv2d,
// conv_transpose2d and their gradients are made of, parallel over the batch.
//
// Vocabulary. A convolution relates an "image" [N, C, H, W] (what im2col reads and col2im writes)
// to a "grid" [N, O, gh, gw] (one cell per kernel placement) through a weight [O, C / G, kh, kw]:
// grid cell (oh, ow) sees image pixel (oh sh - ph + i dh, ow sw - pw + j dw) through kernel tap
// (i, j); pixels outside the image read as zero and receive nothing. conv2d maps image -> grid,
// conv_transpose2d grid -> image (its input is the grid), and both weight gradients are
// sum_n grid[n] im2col(image[n])^T. Every image access is bounds-checked, so any geometry is safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "sinew/backend/cpu/gemm.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/backend/cpu/scratch.hpp"
#include "sinew/backend/cpu/winograd.hpp"
#include "sinew/backend/descriptors.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

namespace detail_conv {

using detail_gemm::Mat;

// Grid positions o in [0, count) with 0 <= o * stride + offset < size: the range [lo, hi).
inline void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t count, int64_t& lo,
                        int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  hi = std::min(hi, count);
  lo = std::min(lo, hi);
}

// A 1x1 kernel with unit stride, no padding and an image the size of the grid: im2col is the
// identity, so the image is used in place of the columns.
inline bool is_pointwise(const ConvGeometry& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 &&
         g.pad_w == 0 && g.image_h == g.grid_h && g.image_w == g.grid_w;
}

// A kernel that covers the whole unpadded image in one placement (a 1x1 grid): the convolution
// is a fully connected layer, image [N, C kh kw] -> grid [N, O] per group, one GEMM for the
// batch (a classifier's last convolution; a generator's first transposed one).
inline bool is_dense(const ConvGeometry& g) {
  return g.grid_h == 1 && g.grid_w == 1 && g.pad_h == 0 && g.pad_w == 0 && g.dilation_h == 1 &&
         g.dilation_w == 1 && g.image_h == g.kernel_h && g.image_w == g.kernel_w;
}

// Calls f(tap, off_h, off_w, h0, h1, w0, w1) for each kernel tap (i, j), tap = i kw + j: the
// image offset of the pixel the tap reads for grid cell (0, 0), and the grid rows [h0, h1) and
// columns [w0, w1) for which that pixel lies inside the image. Worked out once per tap, for every
// channel.
template <class F>
void for_each_tap(const ConvGeometry& g, F&& f) {
  for (int64_t i = 0; i < g.kernel_h; ++i) {
    const int64_t off_h = i * g.dilation_h - g.pad_h;
    int64_t h0, h1;
    valid_range(off_h, g.stride_h, g.image_h, g.grid_h, h0, h1);
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t off_w = j * g.dilation_w - g.pad_w;
      int64_t w0, w1;
      valid_range(off_w, g.stride_w, g.image_w, g.grid_w, w0, w1);
      f(i * g.kernel_w + j, off_h, off_w, h0, h1, w0, w1);
    }
  }
}

// A horizontal stride s > 1 reads every s-th column, so im2col and col2im work on the image's
// "phases": phase p of a row is its columns p, p + s, p + 2 s, ... ([planes, H, wp] each,
// wp = ceil(W / s), phase p at dst + p planes H wp). A tap at column offset off = m s + p
// (0 <= p < s) then reads phase p from column m on: a contiguous run instead of a strided one.
inline int64_t phase_width(const ConvGeometry& g) {
  return (g.image_w + g.stride_w - 1) / g.stride_w;
}

template <class T>
void split_phases(const T* img, const ConvGeometry& g, int64_t planes, T* dst) {
  const int64_t sw = g.stride_w, W = g.image_w, wp = phase_width(g);
  const int64_t rows = planes * g.image_h, size = rows * wp;
  if (sw == 2 && W % 2 == 0) {  // rows of whole pairs: one pass over all of them
#pragma omp simd
    for (int64_t i = 0; i < size; ++i) {
      dst[i] = img[2 * i];
      dst[size + i] = img[2 * i + 1];
    }
    return;
  }
  for (int64_t p = 0; p < sw; ++p) {
    const int64_t width = (W - p + sw - 1) / sw;
    for (int64_t r = 0; r < rows; ++r) {
      const T* src = img + r * W + p;
      T* out = dst + p * size + r * wp;
      for (int64_t x = 0; x < width; ++x) out[x] = src[x * sw];
    }
  }
}

// img += the phases (the adjoint of split_phases).
template <class T>
void add_phases(const T* phases, const ConvGeometry& g, int64_t planes, T* img) {
  const int64_t sw = g.stride_w, W = g.image_w, wp = phase_width(g);
  const int64_t rows = planes * g.image_h, size = rows * wp;
  if (sw == 2 && W % 2 == 0) {
#pragma omp simd
    for (int64_t i = 0; i < size; ++i) {
      img[2 * i] += phases[i];
      img[2 * i + 1] += phases[size + i];
    }
    return;
  }
  for (int64_t p = 0; p < sw; ++p) {
    const int64_t width = (W - p + sw - 1) / sw;
    for (int64_t r = 0; r < rows; ++r) {
      const T* src = phases + p * size + r * wp;
      T* out = img + r * W + p;
      for (int64_t x = 0; x < width; ++x) out[x * sw] += src[x];
    }
  }
}

// Scratch elements im2col and col2im need for `planes` planes: the phases, with a column stride.
inline int64_t phase_scratch(const ConvGeometry& g, int64_t planes) {
  return g.stride_w > 1 ? g.stride_w * planes * g.image_h * phase_width(g) : 0;
}

// The phase and the column within it of column offset off: off = m s + p, 0 <= p < s.
inline void phase_of(int64_t off, int64_t s, int64_t& p, int64_t& m) {
  p = ((off % s) + s) % s;
  m = (off - p) / s;
}

// col [channels kh kw, gh gw] (row r at col + r ld) from `channels` planes of the image;
// `phases`: phase_scratch(g, channels) elements of scratch.
template <class T>
void im2col(const T* img, const ConvGeometry& g, int64_t channels, T* col, int64_t ld, T* phases) {
  const int64_t gh = g.grid_h, gw = g.grid_w, H = g.image_h, W = g.image_w, sw = g.stride_w;
  const int64_t taps = g.kernel_h * g.kernel_w;
  if (sw > 1) {  // each tap row is a contiguous run of one phase
    const int64_t wp = phase_width(g), size = channels * H * wp;
    split_phases(img, g, channels, phases);
    for_each_tap(g, [&](int64_t tap, int64_t off_h, int64_t off_w, int64_t h0, int64_t h1,
                        int64_t w0, int64_t w1) {
      int64_t p, m;
      phase_of(off_w, sw, p, m);
      for (int64_t c = 0; c < channels; ++c) {
        const T* plane = phases + p * size + c * H * wp;
        T* row = col + (c * taps + tap) * ld;
        std::fill(row, row + h0 * gw, T(0));
        for (int64_t oh = h0; oh < h1; ++oh) {
          T* out = row + oh * gw;
          const T* src = plane + (oh * g.stride_h + off_h) * wp + m;
          for (int64_t ow = 0; ow < w0; ++ow) out[ow] = T(0);
#pragma omp simd
          for (int64_t ow = w0; ow < w1; ++ow) out[ow] = src[ow];
          for (int64_t ow = w1; ow < gw; ++ow) out[ow] = T(0);
        }
        std::fill(row + h1 * gw, row + gh * gw, T(0));
      }
    });
    return;
  }
  for_each_tap(g, [&](int64_t tap, int64_t off_h, int64_t off_w, int64_t h0, int64_t h1, int64_t w0,
                      int64_t w1) {
    for (int64_t c = 0; c < channels; ++c) {
      const T* plane = img + c * H * W;
      T* row = col + (c * taps + tap) * ld;
      std::fill(row, row + h0 * gw, T(0));
      if (sw == 1 && g.stride_h == 1 && W == gw && h1 > h0 && w1 > w0) {
        // Rows as wide as the grid at unit stride ("same" padding): grid cells (h0, w0) to
        // (h1 - 1, w1 - 1) read one contiguous run of the plane, shifted by the tap; then the
        // cells in that run whose column ran off the image's left or right edge are set to zero.
        const int64_t first = h0 * gw + w0, last = (h1 - 1) * gw + w1;
        std::copy_n(plane + (h0 + off_h) * W + off_w + w0, last - first, row + first);
        for (int64_t oh = h0; oh < h1; ++oh) {
          T* out = row + oh * gw;
          for (int64_t ow = 0; ow < w0; ++ow) out[ow] = T(0);
          for (int64_t ow = w1; ow < gw; ++ow) out[ow] = T(0);
        }
        std::fill(row + h1 * gw, row + gh * gw, T(0));
        continue;
      }
      for (int64_t oh = h0; oh < h1; ++oh) {
        T* out = row + oh * gw;
        const T* src = plane + (oh * g.stride_h + off_h) * W + off_w;
        for (int64_t ow = 0; ow < w0; ++ow) out[ow] = T(0);
#pragma omp simd
        for (int64_t ow = w0; ow < w1; ++ow) out[ow] = src[ow];  // short rows: no memmove call
        for (int64_t ow = w1; ow < gw; ++ow) out[ow] = T(0);
      }
      std::fill(row + h1 * gw, row + gh * gw, T(0));
    }
  });
}

// The adjoint of im2col: adds each column entry into the image pixel it was read from. Each pixel
// receives its taps in the order (i, j) (with a stride over columns, their sum, in that order).
template <class T>
void col2im(const T* col, const ConvGeometry& g, int64_t channels, int64_t ld, T* img, T* phases) {
  const int64_t gw = g.grid_w, H = g.image_h, W = g.image_w, sw = g.stride_w;
  const int64_t taps = g.kernel_h * g.kernel_w;
  // With a column stride the taps are summed into the phases (a pixel's all lie in one), which
  // are then added into the image; otherwise straight into the image, whose rows are W wide.
  const int64_t width = sw > 1 ? phase_width(g) : W, size = channels * H * width;
  T* target = sw > 1 ? phases : img;
  if (sw > 1) std::fill(phases, phases + sw * size, T(0));
  for_each_tap(g, [&](int64_t tap, int64_t off_h, int64_t off_w, int64_t h0, int64_t h1, int64_t w0,
                      int64_t w1) {
    int64_t p = 0, m = off_w;
    if (sw > 1) phase_of(off_w, sw, p, m);
    for (int64_t c = 0; c < channels; ++c) {
      T* plane = target + p * size + c * H * width;
      const T* row = col + (c * taps + tap) * ld;
      for (int64_t oh = h0; oh < h1; ++oh) {
        const T* in = row + oh * gw;
        T* dst = plane + (oh * g.stride_h + off_h) * width + m;
#pragma omp simd
        for (int64_t ow = w0; ow < w1; ++ow) dst[ow] += in[ow];
      }
    }
  });
  if (sw > 1) add_phases(phases, g, channels, img);
}

// Images per GEMM. A grid of few cells (the late layers of a CNN; a generator's first transposed
// convolution has one) makes a thin GEMM per image, whose weight packing costs more than its
// arithmetic: images of fewer than kGemmColumns / 2 cells are then laid side by side as
// [rows, images x cells] and multiplied at once, about kGemmColumns columns per GEMM. The number of
// GEMMs is rounded up to a multiple of 4 so that 2 or 4 threads share them evenly. A function of
// the shapes only, so the bits never depend on the thread count.
inline constexpr int64_t kGemmColumns = 256;
inline int64_t images_per_gemm(const ConvGeometry& g, int64_t cells, int64_t batch) {
  if (is_pointwise(g) || 2 * cells >= kGemmColumns || batch <= 1) return 1;
  const int64_t gemms =
      std::min(batch, ((batch * cells + kGemmColumns - 1) / kGemmColumns + 3) / 4 * 4);
  return (batch + gemms - 1) / gemms;
}

// The grids of `count` images [count, channels, cells] side by side: dst [channels, count cells].
template <class T>
void gather_grids(const T* src, int64_t count, int64_t channels, int64_t cells, T* dst) {
  const int64_t ld = count * cells;
  for (int64_t t = 0; t < count; ++t) {
    for (int64_t o = 0; o < channels; ++o)
      std::copy_n(src + (t * channels + o) * cells, cells, dst + o * ld + t * cells);
  }
}

// The im2col columns of `count` images side by side: col [channels kh kw, count cells].
template <class T>
void im2col_images(const T* img, int64_t image_size, const ConvGeometry& g, int64_t count, T* col,
                   T* phases) {
  const int64_t cells = g.grid_h * g.grid_w;
  for (int64_t t = 0; t < count; ++t)
    im2col(img + t * image_size, g, g.image_channels, col + t * cells, count * cells, phases);
}

// The weight of group `grp` as a matrix [O / G, C / G kh kw].
template <class T>
Mat<T> weight_matrix(T* w, const ConvGeometry& g, int64_t grp) {
  const int64_t og = g.grid_channels / g.groups;
  const int64_t k = g.image_channels / g.groups * g.kernel_h * g.kernel_w;
  return {w + grp * og * k, og, k, k, 1};
}

// Sets `count` contiguous images [channels, plane] to the bias of each channel (0 without one).
template <class T>
void fill_bias(T* img, int64_t count, int64_t channels, int64_t plane, const T* bias) {
  for (int64_t i = 0; i < count * channels; ++i) {
    T* p = img + i * plane;
    std::fill(p, p + plane, bias != nullptr ? bias[i % channels] : T(0));
  }
}

// The chunks conv_weight splits a batch into: up to kWeightChunks, fewer when the batch is smaller,
// the partial sums would pass kWeightPartials elements, or there are fewer GEMMs of `per_gemm`
// images (images_per_gemm). A function of the shapes alone.
inline constexpr int64_t kWeightChunks = 16;
inline constexpr int64_t kWeightPartials = int64_t{1} << 22;
inline int64_t weight_chunks(int64_t batch, int64_t wsize, int64_t per_gemm) {
  const int64_t gemms = (batch + per_gemm - 1) / per_gemm;
  return std::max<int64_t>(1, std::min({gemms, kWeightChunks, kWeightPartials / wsize + 1}));
}

// The Winograd pass of a geometry that detail_winograd::applies to: image -> grid (conv2d), or
// for the adjoint, grid -> image as a convolution padded by 2 - p with the kernel flipped.
inline detail_winograd::Shape winograd_shape(const ConvGeometry& g, bool adjoint) {
  if (!adjoint)
    return {g.batch, g.image_channels, g.image_h, g.image_w, g.pad_h,
            g.pad_w, g.grid_channels,  g.grid_h,  g.grid_w};
  return {g.batch,     g.grid_channels,  g.grid_h,  g.grid_w, 2 - g.pad_h,
          2 - g.pad_w, g.image_channels, g.image_h, g.image_w};
}

// grid (adjoint: image) through Winograd F(2x2, 3x3), + bias on its channels.
template <class T>
void winograd_conv(const T* in, const T* w, const T* bias, T* out, const ConvGeometry& g,
                   bool adjoint) {
  Scratch<T> u(16 * g.grid_channels * g.image_channels);
  detail_winograd::transform_weight(w, g.grid_channels, g.image_channels, adjoint, u.data());
  detail_winograd::forward(in, u.data(), bias, out, winograd_shape(g, adjoint));
}

}  // namespace detail_conv

// grid = w (*) image + bias: grid[n, grp] = W_grp @ im2col(image[n, grp]) (+ bias[o] on each
// channel; an undefined bias adds nothing). Images of a small grid go through the GEMM together
// (images_per_gemm). All tensors contiguous; grid is written.
template <class T>
void conv_im2col(const Tensor<T>& image, const Tensor<T>& w, const Tensor<T>& bias,
                 const Tensor<T>& grid, const ConvGeometry& g) {
  static_assert(std::is_floating_point_v<T>, "conv_im2col: float or double only");
  using namespace detail_conv;
  const int64_t cg = g.image_channels / g.groups, og = g.grid_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w, cells = g.grid_h * g.grid_w;
  const int64_t image_size = g.image_channels * g.image_h * g.image_w;
  const int64_t grid_size = g.grid_channels * cells;
  if (g.batch == 0 || grid_size == 0) return;
  if (detail_winograd::applies(g))
    return winograd_conv(image.data_ptr(), w.data_ptr(), bias.defined() ? bias.data_ptr() : nullptr,
                         grid.data_ptr(), g, false);
  const bool pointwise = is_pointwise(g);
  const int64_t nb = images_per_gemm(g, cells, g.batch), gemms = (g.batch + nb - 1) / nb;
  const T* x = image.data_ptr();
  T* w_ptr = w.data_ptr();
  T* y = grid.data_ptr();
  const T* b = bias.defined() ? bias.data_ptr() : nullptr;
  if (is_dense(g) && k > 0) {  // grid [N, og] = image [N, k] W_grp^T per group
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      Mat<T> c{y + grp * og, g.batch, og, grid_size, 1};
      if (b != nullptr) {
        for (int64_t n = 0; n < g.batch; ++n) std::copy_n(b + grp * og, og, c.data + n * c.rs);
      }
      detail_gemm::gemm_one(Mat<T>{const_cast<T*>(x) + grp * k, g.batch, k, image_size, 1},
                            weight_matrix(w_ptr, g, grp).transposed(), c, T(1),
                            b != nullptr ? T(1) : T(0));
    }
    return;
  }
  // Per thread: the columns, the product of several images, im2col's phases.
  const int64_t col_size = pointwise ? 0 : g.groups * k * nb * cells;
  const int64_t product_size = nb > 1 ? og * nb * cells : 0;
  const int64_t work = col_size + product_size + phase_scratch(g, g.image_channels);
  const int64_t cost = 2 * nb * grid_size * std::max<int64_t>(k, 1);
  parallel_with_scratch<T>(gemms, cost, work, [&](int64_t q0, int64_t q1, T* scratch) {
    T* col = scratch;
    T* product = col + col_size;
    T* phases = product + product_size;
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t n = q * nb, count = std::min(nb, g.batch - n), ld = count * cells;
      const T* img = x + n * image_size;
      T* out = y + n * grid_size;
      if (!pointwise) im2col_images(img, image_size, g, count, col, phases);
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        T* cols = pointwise ? const_cast<T*>(img) + grp * k * cells : col + grp * k * ld;
        // One image: the product goes straight into the grid, on top of the bias.
        T* c_data = count == 1 ? out + grp * og * cells : product;
        const bool onto_bias = count == 1 && b != nullptr;
        if (onto_bias) fill_bias(out + grp * og * cells, 1, og, cells, b + grp * og);
        if (k == 0) {
          if (!onto_bias) std::fill(c_data, c_data + og * ld, T(0));
        } else {
          detail_gemm::gemm_one(weight_matrix(w_ptr, g, grp), Mat<T>{cols, k, ld, ld, 1},
                                Mat<T>{c_data, og, ld, ld, 1}, T(1), onto_bias ? T(1) : T(0));
        }
        if (count == 1) continue;
        for (int64_t t = 0; t < count; ++t) {  // [og, count cells] -> the images' grids
          for (int64_t o = 0; o < og; ++o) {
            const T* src = c_data + o * ld + t * cells;
            T* dst = out + t * grid_size + (grp * og + o) * cells;
            const T add = b != nullptr ? b[grp * og + o] : T(0);
            for (int64_t i = 0; i < cells; ++i) dst[i] = src[i] + add;
          }
        }
      }
    }
  });
}

// image = col2im(W^T grid) + bias: the adjoint of conv_im2col (conv_transpose2d, and conv2d's
// input gradient): image[n, grp] = col2im(W_grp^T @ grid[n, grp]) (+ bias[c] on each image
// channel). Images of a small grid go through the GEMM together (images_per_gemm). All tensors
// contiguous; image is written.
template <class T>
void conv_col2im(const Tensor<T>& grid, const Tensor<T>& w, const Tensor<T>& bias,
                 const Tensor<T>& image, const ConvGeometry& g) {
  static_assert(std::is_floating_point_v<T>, "conv_col2im: float or double only");
  using namespace detail_conv;
  const int64_t cg = g.image_channels / g.groups, og = g.grid_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w, cells = g.grid_h * g.grid_w;
  const int64_t plane = g.image_h * g.image_w, image_size = g.image_channels * plane;
  const int64_t grid_size = g.grid_channels * cells;
  if (g.batch == 0 || image_size == 0) return;
  if (detail_winograd::applies(g))
    return winograd_conv(grid.data_ptr(), w.data_ptr(), bias.defined() ? bias.data_ptr() : nullptr,
                         image.data_ptr(), g, true);
  const bool pointwise = is_pointwise(g) && bias.defined() == false;
  const int64_t nb = images_per_gemm(g, cells, g.batch), gemms = (g.batch + nb - 1) / nb;
  const T* x = grid.data_ptr();
  T* w_ptr = w.data_ptr();
  T* y = image.data_ptr();
  const T* b = bias.defined() ? bias.data_ptr() : nullptr;
  if (is_dense(g) && og > 0 && k > 0) {  // image [N, k] = grid [N, og] W_grp per group
    if (b != nullptr) fill_bias(y, g.batch, g.image_channels, plane, b);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      detail_gemm::gemm_one(Mat<T>{const_cast<T*>(x) + grp * og, g.batch, og, grid_size, 1},
                            weight_matrix(w_ptr, g, grp),
                            Mat<T>{y + grp * k, g.batch, k, image_size, 1}, T(1),
                            b != nullptr ? T(1) : T(0));
    }
    return;
  }
  // Per thread: the columns, the grids of several images, col2im's phases.
  const int64_t col_size = pointwise ? 0 : k * nb * cells, grids_size = nb > 1 ? grid_size * nb : 0;
  const int64_t work = col_size + grids_size + phase_scratch(g, cg);
  const int64_t cost = 2 * nb * grid_size * std::max<int64_t>(k, 1);
  parallel_with_scratch<T>(gemms, cost, work, [&](int64_t q0, int64_t q1, T* scratch) {
    T* col = scratch;
    T* grids = col + col_size;
    T* phases = grids + grids_size;
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t n = q * nb, count = std::min(nb, g.batch - n), ld = count * cells;
      T* img = y + n * image_size;
      const T* in = x + n * grid_size;
      if (pointwise) {  // the columns are the image: one GEMM per group straight into it
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          Mat<T> c{img + grp * k * cells, k, cells, cells, 1};
          if (og == 0) {
            std::fill(c.data, c.data + k * cells, T(0));
            continue;
          }
          detail_gemm::gemm_one(weight_matrix(w_ptr, g, grp).transposed(),
                                Mat<T>{const_cast<T*>(in) + grp * og * cells, og, cells, cells, 1},
                                c, T(1), T(0));
        }
        continue;
      }
      fill_bias(img, count, g.image_channels, plane, b);
      if (og == 0 || k == 0) continue;
      // The grids side by side, [O, count cells] (one image: the grid itself).
      const T* gin = in;
      if (count > 1) {
        gather_grids(in, count, g.grid_channels, cells, grids);
        gin = grids;
      }
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        detail_gemm::gemm_one(weight_matrix(w_ptr, g, grp).transposed(),
                              Mat<T>{const_cast<T*>(gin) + grp * og * ld, og, ld, ld, 1},
                              Mat<T>{col, k, ld, ld, 1}, T(1), T(0));
        for (int64_t t = 0; t < count; ++t)
          col2im(col + t * cells, g, cg, ld, img + t * image_size + grp * cg * plane, phases);
      }
    }
  });
}

// dw[grp] = sum_n grid[n, grp] @ im2col(image[n, grp])^T, dw [O, C / G, kh, kw]: the weight
// gradient of conv2d (grid = dL/dy) and of conv_transpose2d (image = dL/dy, grid = its input).
// The batch is split into chunks, each summed in order into its own partial, and the partials are
// added in a fixed order. The chunks (and the images per GEMM inside them) depend on the shapes
// only, never on the thread count, so the result has the same bits on any number of threads (a
// training run is reproducible on another machine). All tensors contiguous; dw is written.
template <class T>
void conv_weight(const Tensor<T>& image, const Tensor<T>& grid, const Tensor<T>& dw,
                 const ConvGeometry& g) {
  static_assert(std::is_floating_point_v<T>, "conv_weight: float or double only");
  using namespace detail_conv;
  const int64_t cg = g.image_channels / g.groups, og = g.grid_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w, cells = g.grid_h * g.grid_w;
  const int64_t image_size = g.image_channels * g.image_h * g.image_w;
  const int64_t grid_size = g.grid_channels * cells, wsize = g.grid_channels * k;
  T* out = dw.data_ptr();
  if (wsize == 0) return;
  std::fill(out, out + wsize, T(0));
  if (g.batch == 0 || cells == 0) return;
  const bool pointwise = is_pointwise(g);
  const T* x = image.data_ptr();
  const T* gy = grid.data_ptr();
  if (detail_winograd::applies(g))
    return detail_winograd::weight_grad(x, gy, out, winograd_shape(g, false));
  if (is_dense(g)) {  // dw_grp [og, k] = grid_grp^T [og, N] image_grp [N, k]: one GEMM
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      detail_gemm::gemm_one(Mat<T>{const_cast<T*>(gy) + grp * og, og, g.batch, 1, grid_size},
                            Mat<T>{const_cast<T*>(x) + grp * k, g.batch, k, image_size, 1},
                            weight_matrix(out, g, grp), T(1), T(0));
    }
    return;
  }
  const int64_t nb = images_per_gemm(g, cells, g.batch);
  const int64_t chunks = weight_chunks(g.batch, wsize, nb);
  Scratch<T> partials((chunks - 1) * wsize);
  // Per thread: the columns, the grids of several images, im2col's phases. Fewer chunks than
  // threads run in order here, each GEMM using the threads (the same bits).
  const int64_t col_size = pointwise ? 0 : g.groups * k * nb * cells;
  const int64_t grids_size = nb > 1 ? grid_size * nb : 0;
  const int64_t work = col_size + grids_size + phase_scratch(g, g.image_channels);
  parallel_with_scratch<T>(chunks, kParallelGrain, work, [&](int64_t c0, int64_t c1, T* scratch) {
    T* col = scratch;
    T* grids = col + col_size;
    T* phases = grids + grids_size;
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      T* acc = chunk == 0 ? out : partials.data() + (chunk - 1) * wsize;
      const int64_t n0 = g.batch * chunk / chunks, n1 = g.batch * (chunk + 1) / chunks;
      for (int64_t n = n0; n < n1; n += nb) {
        const int64_t count = std::min(nb, n1 - n), ld = count * cells;
        const T* img = x + n * image_size;
        if (!pointwise) im2col_images(img, image_size, g, count, col, phases);
        const T* gin = gy + n * grid_size;
        if (count > 1) {
          gather_grids(gin, count, g.grid_channels, cells, grids);
          gin = grids;
        }
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          T* cols = pointwise ? const_cast<T*>(img) + grp * k * cells : col + grp * k * ld;
          Mat<T> c = weight_matrix(acc, g, grp);
          detail_gemm::gemm_one(Mat<T>{const_cast<T*>(gin) + grp * og * ld, og, ld, ld, 1},
                                Mat<T>{cols, k, ld, ld, 1}.transposed(), c, T(1),
                                n == n0 ? T(0) : T(1));
        }
      }
    }
  });
  for (int64_t chunk = 1; chunk < chunks; ++chunk) {
    const T* p = partials.data() + (chunk - 1) * wsize;
    for (int64_t i = 0; i < wsize; ++i) out[i] += p[i];
  }
}

}  // namespace sinew::backend::cpu
