// Winograd F(2x2, 3x3) convolution (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for conv.hpp: 3x3 kernels at unit stride and dilation, one group, enough
// channels on both sides (the middle layers of a VGG-style CNN). Each 2x2 block ("tile") of the
// output is
//     y = A^T [(G g G^T) (.) (B^T d B)] A,
// summed over input channels, where d is the 4x4 input patch under the tile, g the 3x3 kernel and
// (.) the element-wise product: for each of the 16 positions xi of the 4x4 transformed domain the
// sum over channels is one GEMM, U_xi [O, C] V_xi [C, tiles], and the multiplications drop from 36
// to 16 per tile and channel pair (2.25x fewer flops than im2col + GEMM).
//
// The same algebra gives the two gradients. The input gradient of a 3x3 unit-stride convolution
// with padding p is a 3x3 convolution of the output gradient with padding 2 - p and the kernel
// flipped, input and output channels exchanged, so it runs through the forward code. The weight
// gradient is the adjoint of the forward in g:
//     dg = G^T [sum over tiles (A dy A^T) (.) (B^T d B)] G,
// again 16 GEMMs, [O, tiles] [tiles, C], summed over the batch in chunks fixed by the shapes so
// that the bits do not depend on the thread count. All of it is exact in exact arithmetic; in
// float the results differ from im2col's by rounding only (the transforms' coefficients are 0,
// +-1 and +-1/2).
#pragma once

#include <algorithm>
#include <cstdint>

#include "sinew/backend/cpu/gemm.hpp"
#include "sinew/backend/cpu/scratch.hpp"
#include "sinew/backend/descriptors.hpp"

namespace sinew::backend::cpu::detail_winograd {

using detail_gemm::Mat;

// Whether a convolution geometry runs through Winograd: 3x3, unit stride and dilation, one group,
// padding at most 2 (the input gradient pads by 2 - p) and at least kMinChannels on each side
// (fewer make the 16 GEMMs too thin to pay for the transforms; a first layer with one input
// channel stays with im2col).
inline constexpr int64_t kMinChannels = 16;
inline bool applies(const ConvGeometry& g) {
  return g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1 &&
         g.dilation_h == 1 && g.dilation_w == 1 && g.groups == 1 && g.pad_h >= 0 && g.pad_h <= 2 &&
         g.pad_w >= 0 && g.pad_w <= 2 && g.image_channels >= kMinChannels &&
         g.grid_channels >= kMinChannels && g.grid_h >= 2 && g.grid_w >= 2 &&
         g.grid_h == g.image_h + 2 * g.pad_h - 2 && g.grid_w == g.image_w + 2 * g.pad_w - 2;
}

// One forward pass: input [batch, in_ch, in_h, in_w] -> output [batch, out_ch, out_h, out_w]
// (out = in + 2 pad - 2), in tiles of 2x2 output cells; a tile row is the tw tiles of output
// rows 2 ty and 2 ty + 1 of one image.
struct Shape {
  int64_t batch, in_ch, in_h, in_w, pad_h, pad_w, out_ch, out_h, out_w;
  int64_t tile_rows() const { return (out_h + 1) / 2; }  // th, per image
  int64_t tile_cols() const { return (out_w + 1) / 2; }  // tw
};

// Elements of transformed data per block of tile rows: the 16 planes of the input tiles and of
// the products, at most about 1 MiB of floats, so that a block's GEMMs run from the L2 cache.
// Within that, the block's tiles (the GEMMs' columns) are made a multiple of 16 where a few rows
// less allow it, so that the micro-kernel's last panel is full.
inline constexpr int64_t kBlockElements = int64_t{1} << 18;
inline int64_t rows_per_block(const Shape& s) {
  const int64_t most =
      std::max<int64_t>(1, kBlockElements / (16 * (s.in_ch + s.out_ch) * s.tile_cols()));
  for (int64_t rows = most; rows > 0 && rows + 16 > most; --rows) {
    if (rows * s.tile_cols() % 16 == 0) return rows;
  }
  return most;
}

// U [16, rows, cols] = G g G^T for each kernel: forward (rows = O, cols = C, g = w[o, c]), or
// `flipped` for the input gradient (rows = C, cols = O, g = w[o, c] rotated by 180 degrees).
template <class T>
void transform_weight(const T* w, int64_t out_ch, int64_t in_ch, bool flipped, T* u) {
  const int64_t cols = flipped ? out_ch : in_ch;
  const int64_t plane = out_ch * in_ch;
  for (int64_t o = 0; o < out_ch; ++o) {
    for (int64_t c = 0; c < in_ch; ++c) {
      const T* k = w + (o * in_ch + c) * 9;
      T g[3][3];
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) g[i][j] = flipped ? k[(2 - i) * 3 + (2 - j)] : k[i * 3 + j];
      }
      T h[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        h[0][j] = g[0][j];
        h[1][j] = T(0.5) * (g[0][j] + g[1][j] + g[2][j]);
        h[2][j] = T(0.5) * (g[0][j] - g[1][j] + g[2][j]);
        h[3][j] = g[2][j];
      }
      T* dst = u + (flipped ? c * cols + o : o * cols + c);
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        const T a = h[i][0], b = h[i][1], e = h[i][2];
        dst[(4 * i + 0) * plane] = a;
        dst[(4 * i + 1) * plane] = T(0.5) * (a + b + e);
        dst[(4 * i + 2) * plane] = T(0.5) * (a - b + e);
        dst[(4 * i + 3) * plane] = e;
      }
    }
  }
}

// dw [O, C, 3, 3] = G^T m G for each of the O x C transformed-domain sums m [16, O, C].
template <class T>
void weight_from_transformed(const T* m, int64_t out_ch, int64_t in_ch, T* dw) {
  const int64_t plane = out_ch * in_ch;
  for (int64_t oc = 0; oc < plane; ++oc) {
    T r[3][4];  // G^T m
    for (int q = 0; q < 4; ++q) {
      const T m0 = m[(0 + q) * plane + oc], m1 = m[(4 + q) * plane + oc];
      const T m2 = m[(8 + q) * plane + oc], m3 = m[(12 + q) * plane + oc];
      r[0][q] = m0 + T(0.5) * (m1 + m2);
      r[1][q] = T(0.5) * (m1 - m2);
      r[2][q] = T(0.5) * (m1 + m2) + m3;
    }
    T* k = dw + oc * 9;
    for (int i = 0; i < 3; ++i) {  // (G^T m) G
      k[i * 3 + 0] = r[i][0] + T(0.5) * (r[i][1] + r[i][2]);
      k[i * 3 + 1] = T(0.5) * (r[i][1] - r[i][2]);
      k[i * 3 + 2] = T(0.5) * (r[i][1] + r[i][2]) + r[i][3];
    }
  }
}

// Calls f(n, ty0, ty1, first) for the pieces of tile rows [r0, r1) that lie in one image:
// image n, its tile rows [ty0, ty1), the first of them at block column first * tw.
template <class F>
void for_each_image(const Shape& s, int64_t r0, int64_t r1, F&& f) {
  const int64_t th = s.tile_rows();
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / th, ty0 = r % th, ty1 = std::min(th, ty0 + (r1 - r));
    f(n, ty0, ty1, r - r0);
    r += ty1 - ty0;
  }
}

// Scratch elements transform_input needs for a block of `rows` tile rows.
inline int64_t input_scratch(const Shape& s, int64_t rows) {
  return 8 * (2 * std::min(rows, s.tile_rows()) + 2) * (s.tile_cols() + 2) + 1;
}

// V [16, in_ch, ld] = B^T d B for the tiles of tile rows [r0, r1) (global: image r / th, tile
// row r % th), block column (r - r0) tw + tx for tile tx. The patch of tile (ty, tx) is patch
// rows 2 ty + [0, 4) and columns 2 tx + [0, 4) of the input padded by (pad_h, pad_w) zeros.
// For the tile rows of one image and one channel, the patch rows are first split into their
// even and odd columns (e[p][j] = patch column 2 j, o[p][j] = 2 j + 1: tile tx reads e[tx],
// o[tx], e[tx + 1], o[tx + 1]); then d B is taken for all rows at once and B^T (d B) per tile
// row, each loop running over whole rows of tiles. Rows are tw + 2 apart in the scratch, so the
// loops run one column past the tiles (into values that are never used), and each row of V is
// written tw + 1 wide, the extra value overwritten by the next tile row (ld leaves room for the
// block's last one).
template <class T>
void transform_input(const T* x, const Shape& s, int64_t r0, int64_t r1, T* v, int64_t ld,
                     T* scratch /* input_scratch(s, r1 - r0) */) {
  const int64_t tw = s.tile_cols(), n1 = tw + 1, rs = tw + 2, plane = s.in_h * s.in_w;
  const int64_t hrows = 2 * std::min(r1 - r0, s.tile_rows()) + 2, hsize = hrows * rs;
  T* h[4] = {scratch, scratch + hsize, scratch + 2 * hsize, scratch + 3 * hsize};
  T* e = scratch + 4 * hsize;
  T* o = e + hsize;
  T* padded = o + hsize + 1;  // the patch rows, 2 rs wide, image columns at [pad_w, pad_w + W)
  const int64_t cols = std::min<int64_t>(s.in_w, 2 * rs - s.pad_w);
  const int64_t plane_step = s.in_ch * ld;
  for (int64_t c = 0; c < s.in_ch; ++c) {
    for_each_image(s, r0, r1, [&](int64_t n, int64_t ty0, int64_t ty1, int64_t first) {
      const T* img = x + (n * s.in_ch + c) * plane;
      const int64_t p0 = 2 * ty0, rows = 2 * (ty1 - ty0) + 2;  // patch rows of these tiles
      std::fill(padded, padded + 2 * rows * rs, T(0));
      for (int64_t p = 0; p < rows; ++p) {
        const int64_t row = p0 + p - s.pad_h;
        if (row < 0 || row >= s.in_h) continue;
        const T* src = img + row * s.in_w;
        T* dst = padded + 2 * p * rs + s.pad_w;
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dst[j] = src[j];
      }
#pragma omp simd
      for (int64_t i = 0; i < rows * rs; ++i) {  // even and odd patch columns
        e[i] = padded[2 * i];
        o[i] = padded[2 * i + 1];
      }
      // d B: columns q0 - q2, q1 + q2, q2 - q1, q1 - q3 (the last column of each row reads past
      // it: a value no tile uses)
#pragma omp simd
      for (int64_t i = 0; i < rows * rs; ++i) {
        h[0][i] = e[i] - e[i + 1];
        h[1][i] = o[i] + e[i + 1];
        h[2][i] = e[i + 1] - o[i];
        h[3][i] = o[i] - o[i + 1];
      }
      for (int64_t ty = ty0; ty < ty1;
           ++ty) {  // B^T (d B): rows d0 - d2, d1 + d2, d2 - d1, d1 - d3
        T* dst = v + c * ld + (first + ty - ty0) * tw;
        const int64_t p = 2 * (ty - ty0) * rs;
        for (int q = 0; q < 4; ++q) {
          const T* a0 = h[q] + p;
          T* d0 = dst + q * plane_step;
          T* d1 = dst + (4 + q) * plane_step;
          T* d2 = dst + (8 + q) * plane_step;
          T* d3 = dst + (12 + q) * plane_step;
#pragma omp simd
          for (int64_t t = 0; t < n1; ++t) {
            const T a = a0[t], b = a0[rs + t], c2 = a0[2 * rs + t], d = a0[3 * rs + t];
            d0[t] = a - c2;
            d1[t] = b + c2;
            d2[t] = c2 - b;
            d3[t] = b - d;
          }
        }
      }
    });
  }
}

// Scratch elements transform_output and transform_grad need for a block of `rows` tile rows.
inline int64_t output_scratch(const Shape& s, int64_t rows) {
  return 8 * std::min(rows, s.tile_rows()) * s.tile_cols();
}

// The output of tile rows [r0, r1) from the products m [16, out_ch, ld]: y = A^T m A (+ bias),
// cells past the output's last row or column dropped. For the tile rows of one image and one
// channel, the four cells of each tile are worked out for all tiles at once, interleaved into
// output rows 2 tw wide (even rows, then odd rows), and copied out.
template <class T>
void transform_output(const T* m, int64_t ld, const Shape& s, int64_t r0, int64_t r1, const T* bias,
                      T* y, T* scratch /* output_scratch(s, r1 - r0) */) {
  const int64_t tw = s.tile_cols(), plane = s.out_h * s.out_w, step = s.out_ch * ld;
  const int64_t size = std::min(r1 - r0, s.tile_rows()) * tw;
  T* cell[4] = {scratch, scratch + size, scratch + 2 * size, scratch + 3 * size};
  T* rows[2] = {scratch + 4 * size, scratch + 6 * size};  // even, odd output rows: 2 tw wide
  for (int64_t oc = 0; oc < s.out_ch; ++oc) {
    const T add = bias != nullptr ? bias[oc] : T(0);
    for_each_image(s, r0, r1, [&](int64_t n, int64_t ty0, int64_t ty1, int64_t first) {
      const T* src = m + oc * ld + first * tw;
      const int64_t count = (ty1 - ty0) * tw;
#pragma omp simd
      for (int64_t t = 0; t < count; ++t) {
        T q[16];
        for (int i = 0; i < 16; ++i) q[i] = src[i * step + t];
        T s0[4], s1[4];  // A^T m: rows m0 + m1 + m2, m1 - m2 - m3
        for (int c = 0; c < 4; ++c) {
          s0[c] = q[c] + q[4 + c] + q[8 + c];
          s1[c] = q[4 + c] - q[8 + c] - q[12 + c];
        }
        cell[0][t] = s0[0] + s0[1] + s0[2] + add;  // (A^T m) A: columns r0 + r1 + r2, r1 - r2 - r3
        cell[1][t] = s0[1] - s0[2] - s0[3] + add;
        cell[2][t] = s1[0] + s1[1] + s1[2] + add;
        cell[3][t] = s1[1] - s1[2] - s1[3] + add;
      }
      for (int a = 0; a < 2; ++a) {
        const T* even = cell[2 * a];
        const T* odd = cell[2 * a + 1];
        T* row = rows[a];
#pragma omp simd
        for (int64_t t = 0; t < count; ++t) {
          row[2 * t] = even[t];
          row[2 * t + 1] = odd[t];
        }
      }
      T* out = y + (n * s.out_ch + oc) * plane;
      for (int64_t ty = ty0; ty < ty1; ++ty) {
        for (int a = 0; a < 2 && 2 * ty + a < s.out_h; ++a) {
          const T* src_row = rows[a] + (ty - ty0) * 2 * tw;
          T* dst = out + (2 * ty + a) * s.out_w;
#pragma omp simd
          for (int64_t j = 0; j < s.out_w; ++j) dst[j] = src_row[j];
        }
      }
    });
  }
}

// G [16, out_ch, ld] = A dy A^T of the output-gradient tiles of tile rows [r0, r1) (dy
// [batch, out_ch, out_h, out_w]; cells past its edge read as zero). For the tile rows of one
// image and one channel, the rows are copied into a zero-padded buffer (even rows, then odd
// rows, 2 tw wide), and each tile's four cells read from it for all tiles at once.
template <class T>
void transform_grad(const T* dy, const Shape& s, int64_t r0, int64_t r1, T* gt, int64_t ld,
                    T* scratch /* output_scratch(s, r1 - r0) */) {
  const int64_t tw = s.tile_cols(), plane = s.out_h * s.out_w, step = s.out_ch * ld;
  const int64_t size = std::min(r1 - r0, s.tile_rows()) * tw;
  T* rows[2] = {scratch, scratch + 2 * size};
  for (int64_t oc = 0; oc < s.out_ch; ++oc) {
    for_each_image(s, r0, r1, [&](int64_t n, int64_t ty0, int64_t ty1, int64_t first) {
      const T* in = dy + (n * s.out_ch + oc) * plane;
      const int64_t count = (ty1 - ty0) * tw;
      if (s.out_w % 2 == 1 || 2 * ty1 > s.out_h) {
        std::fill(rows[0], rows[0] + 2 * count, T(0));
        std::fill(rows[1], rows[1] + 2 * count, T(0));
      }
      for (int64_t ty = ty0; ty < ty1; ++ty) {
        for (int a = 0; a < 2 && 2 * ty + a < s.out_h; ++a) {
          const T* src = in + (2 * ty + a) * s.out_w;
          T* dst = rows[a] + (ty - ty0) * 2 * tw;
#pragma omp simd
          for (int64_t j = 0; j < s.out_w; ++j) dst[j] = src[j];
        }
      }
      T* dst = gt + oc * ld + first * tw;
      const T* even = rows[0];
      const T* odd = rows[1];
#pragma omp simd
      for (int64_t t = 0; t < count; ++t) {
        const T a = even[2 * t], b = even[2 * t + 1], c = odd[2 * t], d = odd[2 * t + 1];
        // A dy: rows u0 = dy0, u1 = dy0 + dy1, u2 = dy0 - dy1, u3 = -dy1 (each [p, q]); then
        // each row [p, q] -> [p, p + q, p - q, -q].
        const T u[4][2] = {{a, b}, {a + c, b + d}, {a - c, b - d}, {-c, -d}};
        for (int k = 0; k < 4; ++k) {
          const T p = u[k][0], q = u[k][1];
          dst[(4 * k + 0) * step + t] = p;
          dst[(4 * k + 1) * step + t] = p + q;
          dst[(4 * k + 2) * step + t] = p - q;
          dst[(4 * k + 3) * step + t] = -q;
        }
      }
    });
  }
}

// The blocks of tile rows: block b is tile rows [b per, min(rows, (b + 1) per)).
inline int64_t block_count(const Shape& s) {
  const int64_t rows = s.batch * s.tile_rows(), per = rows_per_block(s);
  return (rows + per - 1) / per;
}

// Multiply-adds of a block's GEMMs, the cost per item of the parallel loops.
inline int64_t block_cost(const Shape& s) {
  return 2 * 16 * rows_per_block(s) * s.tile_cols() * s.in_ch * s.out_ch;
}

// y = conv(x) + bias (bias may be null) with the transformed kernels u [16, out_ch, in_ch] of
// transform_weight.
template <class T>
void forward(const T* x, const T* u, const T* bias, T* y, const Shape& s) {
  const int64_t tw = s.tile_cols(), per = rows_per_block(s), ld = per * tw + 1;
  const int64_t rows = s.batch * s.tile_rows();
  // Per thread: the transformed input tiles V, the products M, the transforms' own scratch.
  const int64_t v_size = 16 * s.in_ch * ld, m_size = 16 * s.out_ch * ld;
  const int64_t work = v_size + m_size + std::max(input_scratch(s, per), output_scratch(s, per));
  parallel_with_scratch<T>(block_count(s), block_cost(s), work, [&](int64_t b0, int64_t b1, T* w) {
    T* v = w;
    T* m = v + v_size;
    T* scratch = m + m_size;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * per, r1 = std::min(rows, r0 + per), cols = (r1 - r0) * tw;
      transform_input(x, s, r0, r1, v, ld, scratch);
      for (int xi = 0; xi < 16; ++xi) {
        detail_gemm::gemm_one(
            Mat<T>{const_cast<T*>(u) + xi * s.out_ch * s.in_ch, s.out_ch, s.in_ch, s.in_ch, 1},
            Mat<T>{v + xi * s.in_ch * ld, s.in_ch, cols, ld, 1},
            Mat<T>{m + xi * s.out_ch * ld, s.out_ch, cols, ld, 1}, T(1), T(0));
      }
      transform_output(m, ld, s, r0, r1, bias, y, scratch);
    }
  });
}

// dw [out_ch, in_ch, 3, 3] of y = conv(x), given dy: the blocks are split into up to kChunks
// chunks fixed by the shapes, each summed in order into its own transformed-domain partial
// [16, out_ch, in_ch]; the partials are added in order and transformed back.
inline constexpr int64_t kChunks = 16;
template <class T>
void weight_grad(const T* x, const T* dy, T* dw, const Shape& s) {
  const int64_t tw = s.tile_cols(), per = rows_per_block(s), ld = per * tw + 1;
  const int64_t rows = s.batch * s.tile_rows(), blocks = block_count(s);
  const int64_t msize = 16 * s.out_ch * s.in_ch;
  const int64_t chunks =
      std::max<int64_t>(1, std::min({blocks, kChunks, (int64_t{1} << 22) / msize + 1}));
  Scratch<T> partials(chunks * msize);
  // Per thread: the transformed input tiles V and gradient tiles, the transforms' scratch.
  const int64_t v_size = 16 * s.in_ch * ld, g_size = 16 * s.out_ch * ld;
  const int64_t work = v_size + g_size + std::max(input_scratch(s, per), output_scratch(s, per));
  parallel_with_scratch<T>(chunks, block_cost(s), work, [&](int64_t c0, int64_t c1, T* w) {
    T* v = w;
    T* gt = v + v_size;
    T* scratch = gt + g_size;
    for (int64_t chunk = c0; chunk < c1; ++chunk) {
      T* acc = partials.data() + chunk * msize;
      const int64_t first = blocks * chunk / chunks, last = blocks * (chunk + 1) / chunks;
      for (int64_t b = first; b < last; ++b) {
        const int64_t r0 = b * per, r1 = std::min(rows, r0 + per), cols = (r1 - r0) * tw;
        transform_input(x, s, r0, r1, v, ld, scratch);
        transform_grad(dy, s, r0, r1, gt, ld, scratch);
        for (int xi = 0; xi < 16; ++xi) {
          detail_gemm::gemm_one(
              Mat<T>{gt + xi * s.out_ch * ld, s.out_ch, cols, ld, 1},
              Mat<T>{v + xi * s.in_ch * ld, cols, s.in_ch, 1, ld},
              Mat<T>{acc + xi * s.out_ch * s.in_ch, s.out_ch, s.in_ch, s.in_ch, 1}, T(1),
              b == first ? T(0) : T(1));
        }
      }
    }
  });
  T* sum = partials.data();
  for (int64_t chunk = 1; chunk < chunks; ++chunk) {
    const T* p = partials.data() + chunk * msize;
    for (int64_t i = 0; i < msize; ++i) sum[i] += p[i];
  }
  weight_from_transformed(sum, s.out_ch, s.in_ch, dw);
}

}  // namespace sinew::backend::cpu::detail_winograd
