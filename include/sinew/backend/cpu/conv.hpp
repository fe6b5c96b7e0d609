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

#include "sinew/backend/cpu/allocator.hpp"
#include "sinew/backend/cpu/gemm.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/backend/descriptors.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

namespace detail_conv {

using detail_gemm::Mat;

// Scratch memory from the pooled allocator, returned when the owner leaves scope.
template <class T>
class Scratch {
 public:
  explicit Scratch(int64_t count)
      : bytes_(static_cast<std::size_t>(std::max<int64_t>(count, 1)) * sizeof(T)),
        data_(static_cast<T*>(PooledAllocator::instance().allocate(bytes_))) {}
  ~Scratch() { PooledAllocator::instance().deallocate(data_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() const { return data_; }

 private:
  std::size_t bytes_;
  T* data_;
};

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

// col [channels kh kw, gh gw] from `channels` planes of the image.
template <class T>
void im2col(const T* img, const ConvGeometry& g, int64_t channels, T* col) {
  const int64_t gh = g.grid_h, gw = g.grid_w, cells = gh * gw, H = g.image_h, W = g.image_w;
  for (int64_t c = 0; c < channels; ++c) {
    const T* plane = img + c * H * W;
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      const int64_t off_h = i * g.dilation_h - g.pad_h;
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const int64_t off_w = j * g.dilation_w - g.pad_w;
        int64_t w0, w1;
        valid_range(off_w, g.stride_w, W, gw, w0, w1);
        T* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * cells;
        for (int64_t oh = 0; oh < gh; ++oh) {
          T* out = row + oh * gw;
          const int64_t ih = oh * g.stride_h + off_h;
          if (ih < 0 || ih >= H) {
            std::fill(out, out + gw, T(0));
            continue;
          }
          const T* src = plane + ih * W + off_w;
          std::fill(out, out + w0, T(0));
          if (g.stride_w == 1) {
            std::copy(src + w0, src + w1, out + w0);
          } else {
            for (int64_t ow = w0; ow < w1; ++ow) out[ow] = src[ow * g.stride_w];
          }
          std::fill(out + w1, out + gw, T(0));
        }
      }
    }
  }
}

// The adjoint of im2col: adds each column entry into the image pixel it was read from.
template <class T>
void col2im(const T* col, const ConvGeometry& g, int64_t channels, T* img) {
  const int64_t gh = g.grid_h, gw = g.grid_w, cells = gh * gw, H = g.image_h, W = g.image_w;
  for (int64_t c = 0; c < channels; ++c) {
    T* plane = img + c * H * W;
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      const int64_t off_h = i * g.dilation_h - g.pad_h;
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const int64_t off_w = j * g.dilation_w - g.pad_w;
        int64_t w0, w1;
        valid_range(off_w, g.stride_w, W, gw, w0, w1);
        const T* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * cells;
        for (int64_t oh = 0; oh < gh; ++oh) {
          const int64_t ih = oh * g.stride_h + off_h;
          if (ih < 0 || ih >= H) continue;
          const T* in = row + oh * gw;
          T* dst = plane + ih * W + off_w;
          if (g.stride_w == 1) {
            for (int64_t ow = w0; ow < w1; ++ow) dst[ow] += in[ow];
          } else {
            for (int64_t ow = w0; ow < w1; ++ow) dst[ow * g.stride_w] += in[ow];
          }
        }
      }
    }
  }
}

// Runs f(begin, end) over the batch: split across threads when there are at least as many images
// as threads (each GEMM then runs serially), otherwise in order on this thread so that each GEMM
// can use the threads itself. parallel_for carries exceptions (allocation) out of its region.
template <class F>
void over_batch(int64_t batch, int64_t cost_per_image, F&& f) {
  if (batch >= get_num_threads()) {
    parallel_for(batch, cost_per_image, f);
  } else {
    f(int64_t{0}, batch);
  }
}

// The weight of group `grp` as a matrix [O / G, C / G kh kw].
template <class T>
Mat<T> weight_matrix(T* w, const ConvGeometry& g, int64_t grp) {
  const int64_t og = g.grid_channels / g.groups;
  const int64_t k = g.image_channels / g.groups * g.kernel_h * g.kernel_w;
  return {w + grp * og * k, og, k, k, 1};
}

// The chunks conv_weight splits a batch into: up to kWeightChunks, fewer when the batch is smaller
// or the partial sums would pass kWeightPartials elements. A function of the shapes alone.
inline constexpr int64_t kWeightChunks = 16;
inline constexpr int64_t kWeightPartials = int64_t{1} << 22;
inline int64_t weight_chunks(int64_t batch, int64_t wsize) {
  return std::max<int64_t>(1, std::min({batch, kWeightChunks, kWeightPartials / wsize + 1}));
}

}  // namespace detail_conv

// grid = w (*) image + bias: grid[n, grp] = W_grp @ im2col(image[n, grp]) (+ bias[o] on each
// channel; an undefined bias adds nothing). All tensors contiguous; grid is written.
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
  const bool pointwise = is_pointwise(g);
  const T* x = image.data_ptr();
  T* w_ptr = w.data_ptr();
  T* y = grid.data_ptr();
  const T* b = bias.defined() ? bias.data_ptr() : nullptr;
  over_batch(g.batch, 2 * grid_size * std::max<int64_t>(k, 1), [&](int64_t n0, int64_t n1) {
    Scratch<T> col(pointwise ? 0 : g.groups * k * cells);
    for (int64_t n = n0; n < n1; ++n) {
      const T* img = x + n * image_size;
      T* out = y + n * grid_size;
      if (!pointwise) im2col(img, g, g.image_channels, col.data());
      if (b != nullptr) {
        for (int64_t o = 0; o < g.grid_channels; ++o)
          std::fill(out + o * cells, out + (o + 1) * cells, b[o]);
      }
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        T* cols = pointwise ? const_cast<T*>(img) + grp * k * cells : col.data() + grp * k * cells;
        Mat<T> c{out + grp * og * cells, og, cells, cells, 1};
        if (k == 0) {
          if (b == nullptr) std::fill(c.data, c.data + og * cells, T(0));
          continue;
        }
        detail_gemm::gemm_one(weight_matrix(w_ptr, g, grp), Mat<T>{cols, k, cells, cells, 1}, c,
                              T(1), b != nullptr ? T(1) : T(0));
      }
    }
  });
}

// image = col2im(W^T grid) + bias: the adjoint of conv_im2col (conv_transpose2d, and conv2d's
// input gradient): image[n, grp] = col2im(W_grp^T @ grid[n, grp]) (+ bias[c] on each image
// channel). All tensors contiguous; image is written.
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
  const bool pointwise = is_pointwise(g) && bias.defined() == false;
  const T* x = grid.data_ptr();
  T* w_ptr = w.data_ptr();
  T* y = image.data_ptr();
  const T* b = bias.defined() ? bias.data_ptr() : nullptr;
  over_batch(g.batch, 2 * grid_size * std::max<int64_t>(k, 1), [&](int64_t n0, int64_t n1) {
    Scratch<T> col(pointwise ? 0 : k * cells);
    for (int64_t n = n0; n < n1; ++n) {
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
      if (b != nullptr) {
        for (int64_t c = 0; c < g.image_channels; ++c)
          std::fill(img + c * plane, img + (c + 1) * plane, b[c]);
      } else {
        std::fill(img, img + image_size, T(0));
      }
      if (og == 0 || k == 0) continue;
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        Mat<T> c{col.data(), k, cells, cells, 1};
        detail_gemm::gemm_one(weight_matrix(w_ptr, g, grp).transposed(),
                              Mat<T>{const_cast<T*>(in) + grp * og * cells, og, cells, cells, 1}, c,
                              T(1), T(0));
        col2im(col.data(), g, cg, img + grp * cg * plane);
      }
    }
  });
}

// dw[grp] = sum_n grid[n, grp] @ im2col(image[n, grp])^T, dw [O, C / G, kh, kw]: the weight
// gradient of conv2d (grid = dL/dy) and of conv_transpose2d (image = dL/dy, grid = its input).
// The batch is split into chunks, each summed in order into its own partial, and the partials are
// added in a fixed order. The chunks depend on the shapes only, never on the thread count, so the
// result has the same bits on any number of threads (a training run is reproducible on another
// machine). All tensors contiguous; dw is written.
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
  const int64_t chunks = weight_chunks(g.batch, wsize);
  Scratch<T> partials((chunks - 1) * wsize);
  auto run_chunk = [&](int64_t c0, int64_t c1) {  // parallel_for carries exceptions out
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      T* acc = chunk == 0 ? out : partials.data() + (chunk - 1) * wsize;
      const int64_t n0 = g.batch * chunk / chunks, n1 = g.batch * (chunk + 1) / chunks;
      Scratch<T> col(pointwise ? 0 : g.groups * k * cells);
      for (int64_t n = n0; n < n1; ++n) {
        const T* img = x + n * image_size;
        if (!pointwise) im2col(img, g, g.image_channels, col.data());
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          T* cols =
              pointwise ? const_cast<T*>(img) + grp * k * cells : col.data() + grp * k * cells;
          Mat<T> c = weight_matrix(acc, g, grp);
          detail_gemm::gemm_one(
              Mat<T>{const_cast<T*>(gy) + n * grid_size + grp * og * cells, og, cells, cells, 1},
              Mat<T>{cols, k, cells, cells, 1}.transposed(), c, T(1), n == n0 ? T(0) : T(1));
        }
      }
    }
  };
  if (chunks >= get_num_threads()) {
    parallel_for(chunks, kParallelGrain, run_chunk);
  } else {
    run_chunk(0, chunks);  // in order here, each GEMM using the threads (the same bits)
  }
  for (int64_t chunk = 1; chunk < chunks; ++chunk) {
    const T* p = partials.data() + (chunk - 1) * wsize;
    for (int64_t i = 0; i < wsize; ++i) out[i] += p[i];
  }
}

}  // namespace sinew::backend::cpu
