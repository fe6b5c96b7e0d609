// Convolution ops (nn::functional, PyTorch's semantics): conv1d, conv2d, conv_transpose2d and
// pad with the reflect / replicate / circular modes; plus the three recorded primitives they are
// made of (im2col conv, its adjoint col2im conv, and the weight gradient), each differentiating
// into the others so that double backward works.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sinew/backend/cpu/conv.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/nn/size2d.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/shape.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

// The padding of a 1-d convolution: an int, or "same" / "valid".
struct Padding1d {
  int64_t size = 0;
  std::string mode;  // "" (use size), "same" or "valid"
  template <std::integral I>
  Padding1d(I v) : size(static_cast<int64_t>(v)) {}  // NOLINT: implicit
  Padding1d(const char* m) : mode(m) {}              // NOLINT: implicit
  Padding1d(std::string m) : mode(std::move(m)) {}   // NOLINT: implicit
};

// The padding of a 2-d convolution: an int, a pair (height, width), or "same" / "valid".
struct Padding2d {
  IntPair size = 0;
  std::string mode;  // "" (use size), "same" or "valid"
  template <std::integral I>
  Padding2d(I v) : size(v) {}  // NOLINT: implicit
  Padding2d(int64_t height, int64_t width) : size(height, width) {}
  Padding2d(IntPair s) : size(s) {}                 // NOLINT: implicit
  Padding2d(const char* m) : mode(m) {}             // NOLINT: implicit
  Padding2d(std::string m) : mode(std::move(m)) {}  // NOLINT: implicit
};

}  // namespace sinew::nn

namespace sinew::detail {

// Stride, leading padding, dilation and groups of one convolution in (h, w).
struct ConvParams {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

inline backend::ConvGeometry conv_geometry(const Shape& image, const Shape& grid, const Shape& w,
                                           const ConvParams& p) {
  backend::ConvGeometry g;
  g.batch = image[0];
  g.groups = p.groups;
  g.image_channels = image[1], g.image_h = image[2], g.image_w = image[3];
  g.grid_channels = grid[1], g.grid_h = grid[2], g.grid_w = grid[3];
  g.kernel_h = w[2], g.kernel_w = w[3];
  g.stride_h = p.stride_h, g.stride_w = p.stride_w;
  g.pad_h = p.pad_h, g.pad_w = p.pad_w;
  g.dilation_h = p.dilation_h, g.dilation_w = p.dilation_w;
  return g;
}

// x itself when contiguous, else a dense copy (records nothing: for kernels only).
template <class T>
Tensor<T> kernel_dense(const Tensor<T>& x) {
  if (!x.defined() || x.is_contiguous()) return x;
  Tensor<T> d = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), copy, d, x);
  return d;
}

template <class T>
Tensor<T> conv_im2col_op(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvParams& p, int64_t gh, int64_t gw);
template <class T>
Tensor<T> conv_col2im_op(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvParams& p, int64_t h, int64_t wd);
template <class T>
Tensor<T> conv_weight_op(const Tensor<T>& x, const Tensor<T>& g, const ConvParams& p, int64_t kh,
                         int64_t kw);

// The three primitives below take checked shapes (the public ops validate): x [N, C, H, W],
// w [O, C / G, kh, kw], grid [N, O, gh, gw]; any geometry is memory-safe in the kernels.

// y = W (*) x + b: y[n, o] = sum_{c, i, j} w[o, c, i, j] x[n, c, oh sh - ph + i dh, ...] + b[o],
// y [N, O, gh, gw].  dx = col2im conv of g with w;  dw = conv_weight(x, g);  db = sum of g over
// (N, gh, gw).
template <class T>
Tensor<T> conv_im2col_op(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvParams& p, int64_t gh, int64_t gw) {
  Tensor<T> y = empty<T>({x.size(0), w.size(0), gh, gw}, x.device());
  SINEW_DISPATCH(x.device(), conv_im2col, kernel_dense(x), kernel_dense(w), kernel_dense(b), y,
                 conv_geometry(x.shape(), y.shape(), w.shape(), p));
  const bool has_bias = b.defined();
  return autograd::record(
      y, "conv2d", {x, w, b},
      [x, w, p, has_bias](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        return std::vector<Tensor<T>>{
            ctx.needs(0) ? conv_col2im_op(g, w, Tensor<T>(), p, x.size(2), x.size(3)) : Tensor<T>(),
            ctx.needs(1) ? conv_weight_op(x, g, p, w.size(2), w.size(3)) : Tensor<T>(),
            has_bias && ctx.needs(2) ? g.sum({0, 2, 3}) : Tensor<T>()};
      },
      {.saved = {x, w}});
}

// The adjoint of conv_im2col_op in x (conv_transpose2d): x is a grid [N, O, gh, gw], y an image
// [N, C, h, wd] with y[n, c, pixel] = sum of w[o, c, i, j] x[n, o, cell] over the (cell, tap)
// pairs that read that pixel, + b[c].  dx = im2col conv of g with w;  dw = conv_weight(g, x);
// db = sum of g over (N, h, wd).
template <class T>
Tensor<T> conv_col2im_op(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                         const ConvParams& p, int64_t h, int64_t wd) {
  Tensor<T> y = empty<T>({x.size(0), w.size(1) * p.groups, h, wd}, x.device());
  SINEW_DISPATCH(x.device(), conv_col2im, kernel_dense(x), kernel_dense(w), kernel_dense(b), y,
                 conv_geometry(y.shape(), x.shape(), w.shape(), p));
  const bool has_bias = b.defined();
  return autograd::record(
      y, "conv_transpose2d", {x, w, b},
      [x, w, p, has_bias](const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        return std::vector<Tensor<T>>{
            ctx.needs(0) ? conv_im2col_op(g, w, Tensor<T>(), p, x.size(2), x.size(3)) : Tensor<T>(),
            ctx.needs(1) ? conv_weight_op(g, x, p, w.size(2), w.size(3)) : Tensor<T>(),
            has_bias && ctx.needs(2) ? g.sum({0, 2, 3}) : Tensor<T>()};
      },
      {.saved = {x, w}});
}

// dw = sum_n g[n] im2col(x[n])^T per group, [O, C / G, kh, kw], for image x [N, C, H, W] and grid
// g [N, O, gh, gw]. Bilinear: with G = dL/d(dw), dx = col2im conv of g with G, dg = im2col conv
// of x with G.
template <class T>
Tensor<T> conv_weight_op(const Tensor<T>& x, const Tensor<T>& g, const ConvParams& p, int64_t kh,
                         int64_t kw) {
  Tensor<T> dw = empty<T>({g.size(1), x.size(1) / p.groups, kh, kw}, x.device());
  SINEW_DISPATCH(x.device(), conv_weight, kernel_dense(x), kernel_dense(g), dw,
                 conv_geometry(x.shape(), g.shape(), dw.shape(), p));
  return autograd::record(
      dw, "conv2d_weight", {x, g},
      [x, g, p](const Tensor<T>& gw, const autograd::BackwardContext<T>& ctx) {
        return std::vector<Tensor<T>>{
            ctx.needs(0) ? conv_col2im_op(g, gw, Tensor<T>(), p, x.size(2), x.size(3))
                         : Tensor<T>(),
            ctx.needs(1) ? conv_im2col_op(x, gw, Tensor<T>(), p, g.size(2), g.size(3))
                         : Tensor<T>()};
      },
      {.saved = {x, g}});
}

// One convolution's options per spatial dimension (nd = 1 or 2 of them), as the public ops
// received them; pad_lo / pad_hi are filled in by check_conv ("same" pads asymmetrically).
struct ConvSpec {
  int64_t nd = 2;
  std::array<int64_t, 2> stride{1, 1}, dilation{1, 1}, pad_lo{0, 0}, pad_hi{0, 0};
  std::string padding_mode;  // "", "same" or "valid"
  int64_t groups = 1;
};

// "5" for one dimension, "(5, 3)" for two.
inline std::string spatial(const std::array<int64_t, 2>& v, int64_t nd) {
  return nd == 1 ? str(v[0]) : str("(", v[0], ", ", v[1], ")");
}

// Validates a conv1d / conv2d call (x [N, C, *] or unbatched [C, *], w [O, C / G, *]) and
// resolves the padding. Raises naming `op` and the shapes.
template <class T>
void check_conv(const char* op, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b,
                ConvSpec& s) {
  const int64_t nd = s.nd;
  const char* dims = nd == 1 ? "L" : "H, W";
  SINEW_CHECK(x.defined() && w.defined(), op, "input and weight must be defined tensors");
  SINEW_CHECK(x.dim() == nd + 1 || x.dim() == nd + 2, op, "expected a ", nd + 1,
              "-d (unbatched) or ", nd + 2, "-d (batched) input [N, C, ", dims, "], got ",
              x.shape());
  SINEW_CHECK(w.dim() == nd + 2, op, "weight must be ", nd + 2,
              "-d [out_channels, in_channels / groups, ", nd == 1 ? "kL" : "kH, kW", "], got ",
              w.shape());
  check_same_device(op, x, w);
  SINEW_CHECK(s.groups > 0, op, "groups must be positive, got ", s.groups);
  for (int64_t d = 0; d < nd; ++d) {
    SINEW_CHECK(s.stride[d] > 0, op, "stride must be positive, got ", spatial(s.stride, nd));
    SINEW_CHECK(s.dilation[d] > 0, op, "dilation must be positive, got ", spatial(s.dilation, nd));
    SINEW_CHECK(s.pad_lo[d] >= 0, op, "padding must be non-negative, got ", spatial(s.pad_lo, nd));
    SINEW_CHECK(w.size(2 + d) > 0, op, "weight ", w.shape(), " has an empty kernel");
  }
  SINEW_CHECK(s.padding_mode.empty() || s.padding_mode == "same" || s.padding_mode == "valid", op,
              "padding must be a size, \"same\" or \"valid\", got \"", s.padding_mode, "\"");
  SINEW_CHECK(w.size(0) % s.groups == 0, op, "weight ", w.shape(), " has ", w.size(0),
              " output channels, not divisible by groups ", s.groups);
  const int64_t c = x.size(x.dim() - nd - 1);
  SINEW_CHECK(c == w.size(1) * s.groups, op, "input ", x.shape(), " has ", c, " channels, weight ",
              w.shape(), " expects ", w.size(1) * s.groups, " (groups ", s.groups, ")");
  if (b.defined()) {
    check_same_device(op, x, b);
    SINEW_CHECK(b.dim() == 1 && b.size(0) == w.size(0), op, "bias must have shape [", w.size(0),
                "] for weight ", w.shape(), ", got ", b.shape());
  }
  std::array<int64_t, 2> span{1, 1}, padded{1, 1};
  for (int64_t d = 0; d < nd; ++d) {
    span[d] = s.dilation[d] * (w.size(2 + d) - 1) + 1;
    if (s.padding_mode == "same") {
      SINEW_CHECK(s.stride[d] == 1, op, "padding=\"same\" is not supported for strided ",
                  "convolutions (stride ", spatial(s.stride, nd), ")");
      // PyTorch: total d (k - 1), the odd one on the right / bottom.
      s.pad_lo[d] = (span[d] - 1) / 2;
      s.pad_hi[d] = span[d] - 1 - s.pad_lo[d];
    } else if (s.padding_mode == "valid") {
      s.pad_lo[d] = s.pad_hi[d] = 0;
    } else {
      s.pad_hi[d] = s.pad_lo[d];
    }
    padded[d] = x.size(x.dim() - nd + d) + s.pad_lo[d] + s.pad_hi[d];
  }
  for (int64_t d = 0; d < nd; ++d) {
    SINEW_CHECK(span[d] <= padded[d], op, "kernel size ", spatial(span, nd),
                " (dilated) is larger than the padded input ", spatial(padded, nd), " (input ",
                x.shape(), ", weight ", w.shape(), ")");
  }
}

// A checked conv1d / conv2d: the 1-d case runs as 2-d with a unit height.
template <class T>
Tensor<T> run_conv(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b, const ConvSpec& s) {
  const bool batched = x.dim() == s.nd + 2;
  Tensor<T> x4 = batched ? x : x.unsqueeze(0), w4 = w;
  ConvParams p;
  p.groups = s.groups;
  int64_t gh = 1, gw = 1;
  auto out_size = [&](int64_t d, int64_t n, int64_t k) {
    return (n + s.pad_lo[d] + s.pad_hi[d] - s.dilation[d] * (k - 1) - 1) / s.stride[d] + 1;
  };
  if (s.nd == 1) {
    x4 = x4.unsqueeze(2);
    w4 = w.unsqueeze(2);
    p.stride_w = s.stride[0], p.pad_w = s.pad_lo[0], p.dilation_w = s.dilation[0];
    gw = out_size(0, x4.size(3), w4.size(3));
  } else {
    p.stride_h = s.stride[0], p.pad_h = s.pad_lo[0], p.dilation_h = s.dilation[0];
    p.stride_w = s.stride[1], p.pad_w = s.pad_lo[1], p.dilation_w = s.dilation[1];
    gh = out_size(0, x4.size(2), w4.size(2));
    gw = out_size(1, x4.size(3), w4.size(3));
  }
  Tensor<T> y = conv_im2col_op(x4, w4, b, p, gh, gw);
  if (s.nd == 1) y = y.squeeze(2);
  return batched ? y : y.squeeze(0);
}

}  // namespace sinew::detail

namespace sinew::nn::functional {

struct Conv1dFuncOptions {
  int64_t stride = 1;
  Padding1d padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
};

struct Conv2dFuncOptions {
  IntPair stride = 1;
  Padding2d padding = 0;
  IntPair dilation = 1;
  int64_t groups = 1;
};

struct ConvTranspose2dFuncOptions {
  IntPair stride = 1;
  IntPair padding = 0;
  IntPair output_padding = 0;
  int64_t groups = 1;
  IntPair dilation = 1;
};

// y[n, o, l] = b[o] + sum_{c in group(o), k} w[o, c, k] x_pad[n, c, l s + k d]: x [N, C, L] or
// unbatched [C, L], w [O, C / groups, kL], b [O] or undefined; y [N, O, (L + 2p - d (kL - 1) - 1)
// / s + 1]. padding "same" (stride 1 only) keeps L, the odd cell on the right; "valid" is 0.
// Gradients: dx is the transposed convolution of dy, dw = sum_n dy[n] im2col(x[n])^T, db = sum dy.
template <class T>
Tensor<T> conv1d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b = Tensor<T>(),
                 const Conv1dFuncOptions& opt = {}) {
  sinew::detail::check_floating<T>("conv1d");
  sinew::detail::ConvSpec s;
  s.nd = 1;
  s.stride[0] = opt.stride, s.dilation[0] = opt.dilation, s.groups = opt.groups;
  s.pad_lo[0] = opt.padding.size, s.padding_mode = opt.padding.mode;
  sinew::detail::check_conv("conv1d", x, w, b, s);
  return sinew::detail::run_conv(x, w, b, s);
}

// y[n, o, oh, ow] = b[o] + sum_{c in group(o), i, j} w[o, c, i, j] x_pad[n, c, oh sh + i dh,
// ow sw + j dw]: x [N, C, H, W] or unbatched [C, H, W], w [O, C / groups, kH, kW] (PyTorch's
// layout), b [O] or undefined; y [N, O, Ho, Wo] with Ho = (H + 2 ph - dh (kH - 1) - 1) / sh + 1.
// padding: an int, a pair, "valid" (0) or "same" (stride 1; total dh (kH - 1), the odd row at the
// bottom and column at the right, as PyTorch). im2col + GEMM, parallel over the batch; 3x3
// unit-stride convolutions with 16 or more channels in and out use Winograd F(2x2, 3x3) instead
// (2.25x fewer multiplications; the same result up to rounding).
// Gradients: dx = conv_transpose2d(dy, w) (cropped to x), dw = sum_n dy[n] im2col(x[n])^T,
// db = dy summed over N, Ho, Wo; each is itself differentiable (double backward).
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b = Tensor<T>(),
                 const Conv2dFuncOptions& opt = {}) {
  sinew::detail::check_floating<T>("conv2d");
  sinew::detail::ConvSpec s;
  s.stride = {opt.stride.h, opt.stride.w};
  s.dilation = {opt.dilation.h, opt.dilation.w};
  s.pad_lo = {opt.padding.size.h, opt.padding.size.w};
  s.padding_mode = opt.padding.mode;
  s.groups = opt.groups;
  sinew::detail::check_conv("conv2d", x, w, b, s);
  return sinew::detail::run_conv(x, w, b, s);
}

// The adjoint of conv2d in its input (the gradient of conv2d w.r.t. x), PyTorch's
// ConvTranspose2d: x [N, Cin, H, W] or unbatched, w [Cin, Cout / groups, kH, kW], b [Cout];
// y [N, Cout, Ho, Wo] with Ho = (H - 1) sh - 2 ph + dh (kH - 1) + oph + 1, output_padding < stride
// or < dilation adding rows / columns at the bottom / right. Per image: col = W^T x, col2im.
// Gradients: dx = conv2d(dy, w) (same options), dw = sum_n x[n] im2col(dy[n])^T, db = sum dy.
template <class T>
Tensor<T> conv_transpose2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b = Tensor<T>(),
                           const ConvTranspose2dFuncOptions& opt = {}) {
  sinew::detail::check_floating<T>("conv_transpose2d");
  const char* op = "conv_transpose2d";
  using sinew::detail::spatial;
  SINEW_CHECK(x.defined() && w.defined(), op, "input and weight must be defined tensors");
  SINEW_CHECK(x.dim() == 3 || x.dim() == 4, op,
              "expected a 3-d (unbatched) or 4-d (batched) input [N, C, H, W], got ", x.shape());
  SINEW_CHECK(w.dim() == 4, op,
              "weight must be 4-d [in_channels, out_channels / groups, kH, kW], got ", w.shape());
  sinew::detail::check_same_device(op, x, w);
  const std::array<int64_t, 2> stride{opt.stride.h, opt.stride.w},
      pad{opt.padding.h, opt.padding.w}, out_pad{opt.output_padding.h, opt.output_padding.w},
      dil{opt.dilation.h, opt.dilation.w};
  SINEW_CHECK(opt.groups > 0, op, "groups must be positive, got ", opt.groups);
  for (int64_t d = 0; d < 2; ++d) {
    SINEW_CHECK(stride[d] > 0, op, "stride must be positive, got ", spatial(stride, 2));
    SINEW_CHECK(dil[d] > 0, op, "dilation must be positive, got ", spatial(dil, 2));
    SINEW_CHECK(pad[d] >= 0, op, "padding must be non-negative, got ", spatial(pad, 2));
    SINEW_CHECK(out_pad[d] >= 0 && (out_pad[d] < stride[d] || out_pad[d] < dil[d]), op,
                "output_padding ", spatial(out_pad, 2),
                " must be non-negative and smaller than either stride ", spatial(stride, 2),
                " or dilation ", spatial(dil, 2));
    SINEW_CHECK(w.size(2 + d) > 0, op, "weight ", w.shape(), " has an empty kernel");
  }
  const int64_t c = x.size(x.dim() - 3);
  SINEW_CHECK(c == w.size(0), op, "input ", x.shape(), " has ", c, " channels, weight ", w.shape(),
              " expects ", w.size(0), " (weight is [in_channels, out_channels / groups, kH, kW])");
  SINEW_CHECK(w.size(0) % opt.groups == 0, op, "weight ", w.shape(), " has ", w.size(0),
              " input channels, not divisible by groups ", opt.groups);
  const int64_t cout = w.size(1) * opt.groups;
  if (b.defined()) {
    sinew::detail::check_same_device(op, x, b);
    SINEW_CHECK(b.dim() == 1 && b.size(0) == cout, op, "bias must have shape [", cout,
                "] for weight ", w.shape(), " and groups ", opt.groups, ", got ", b.shape());
  }
  std::array<int64_t, 2> out{0, 0};
  for (int64_t d = 0; d < 2; ++d) {
    out[d] = (x.size(x.dim() - 2 + d) - 1) * stride[d] - 2 * pad[d] + dil[d] * (w.size(2 + d) - 1) +
             out_pad[d] + 1;
  }
  SINEW_CHECK(out[0] > 0 && out[1] > 0, op, "input ", x.shape(), " with weight ", w.shape(),
              ", stride ", spatial(stride, 2), " and padding ", spatial(pad, 2),
              " gives an empty output ", spatial(out, 2));
  sinew::detail::ConvParams p;
  p.stride_h = stride[0], p.stride_w = stride[1], p.pad_h = pad[0], p.pad_w = pad[1];
  p.dilation_h = dil[0], p.dilation_w = dil[1], p.groups = opt.groups;
  const bool batched = x.dim() == 4;
  Tensor<T> y =
      sinew::detail::conv_col2im_op(batched ? x : x.unsqueeze(0), w, b, p, out[0], out[1]);
  return batched ? y : y.squeeze(0);
}

// F.pad with a mode: "constant" (sinew::pad, filled with value), "reflect" (mirrored without the
// edge, each amount < the size), "replicate" (edge repeated), "circular" (wrapped, amounts <= the
// size). pads as sinew::pad: {left, right} of the last dimension, then the one before, ...
// The non-constant modes gather with index_select per padded dimension, so dL/dx adds each
// output cell's gradient into the input cell it copies (index_add), differentiable again.
template <class T>
Tensor<T> pad(const Tensor<T>& x, const Shape& pads, const std::string& mode, double value = 0) {
  if (mode == "constant") return sinew::pad(x, pads, value);
  SINEW_CHECK(mode == "reflect" || mode == "replicate" || mode == "circular", "pad",
              "mode must be \"constant\", \"reflect\", \"replicate\" or \"circular\", got \"", mode,
              "\"");
  SINEW_CHECK(value == 0, "pad", "mode \"", mode, "\" takes no fill value, got ", value);
  SINEW_CHECK(pads.size() % 2 == 0, "pad", "padding length must be even, got ", pads.size(), " (",
              pads, ")");
  SINEW_CHECK(pads.size() / 2 <= x.dim(), "pad", "padding ", pads, " covers ", pads.size() / 2,
              " dimensions but the input has shape ", x.shape());
  Tensor<T> y = x;
  for (int64_t k = 0; k < pads.size() / 2; ++k) {
    const int64_t d = x.dim() - 1 - k, l = pads[2 * k], r = pads[2 * k + 1], n = x.size(d);
    SINEW_CHECK(l >= 0 && r >= 0, "pad", mode, " padding must be non-negative, got ", pads);
    if (l == 0 && r == 0) continue;
    SINEW_CHECK(mode != "reflect" || (l < n && r < n), "pad", "reflect padding (", l, ", ", r,
                ") of dimension ", d, " must be smaller than its size ", n, " (input ", x.shape(),
                ")");
    SINEW_CHECK(mode != "circular" || (l <= n && r <= n), "pad", "circular padding (", l, ", ", r,
                ") of dimension ", d, " must not exceed its size ", n, " (input ", x.shape(), ")");
    SINEW_CHECK(n > 0, "pad", mode, " padding of dimension ", d, " needs a non-empty input, got ",
                x.shape());
    std::vector<int64_t> idx(static_cast<size_t>(n + l + r));
    for (int64_t i = 0; i < n + l + r; ++i) {
      int64_t src = i - l;
      if (mode == "reflect") {
        src = src < 0 ? -src : src >= n ? 2 * (n - 1) - src : src;
      } else if (mode == "replicate") {
        src = std::min(std::max<int64_t>(src, 0), n - 1);
      } else {
        src = (src % n + n) % n;
      }
      idx[static_cast<size_t>(i)] = src;
    }
    y = index_select(y, d, from_vector<int64_t>(idx, {n + l + r}, x.device()));
  }
  return y;
}

}  // namespace sinew::nn::functional
