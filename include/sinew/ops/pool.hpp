// Pooling ops (nn::functional): max_pool1d/2d (optionally with indices), avg_pool1d/2d,
// adaptive_avg_pool1d/2d and adaptive_max_pool1d/2d, each with its backward.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "sinew/backend/cpu/pool.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/nn/size2d.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

namespace detail_pool {

using backend::Pool2dParams;

// What a pooling call computes; kernels of the adaptive kinds ignore the window fields.
enum class Kind { Max, AdaptiveMax, Avg, AdaptiveAvg };

struct Spec {
  const char* name = "";
  Kind kind = Kind::Max;
  Pool2dParams p;
  int64_t batch = 0, channels = 0;  // p.planes = batch * channels
  bool count_include_pad = true;
  int64_t divisor_override = 0;  // 0: none
  Shape in4() const { return {batch, channels, p.in_h, p.in_w}; }
  Shape out4() const { return {batch, channels, p.out_h, p.out_w}; }
};

inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// PyTorch's pooling_output_shape: floor (or ceil) of the window count, where with ceil_mode the
// last window must start inside the input or its left padding.
inline int64_t output_size(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t d, bool ceil) {
  int64_t out = floor_div(in + 2 * pad - d * (k - 1) - 1 + (ceil ? s - 1 : 0), s) + 1;
  if (ceil && (out - 1) * s >= in + pad) --out;
  return out;
}

// The input seen as [N, C, H, W]: a 1-d op's [N, C, L] / [C, L] gets H = 1, unbatched inputs get
// N = 1. Spatial and channel sizes must be non-zero (the batch may be empty), as PyTorch.
template <class T>
Tensor<T> as_4d(const Tensor<T>& x, bool one_d, const char* name) {
  int64_t r = x.dim();
  if (one_d) {
    SINEW_CHECK(r == 2 || r == 3, name, "expected a 2-d [C, L] or 3-d [N, C, L] input, got ",
                x.shape());
  } else {
    SINEW_CHECK(r == 3 || r == 4, name, "expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, got ",
                x.shape());
  }
  for (int64_t d = (r == (one_d ? 3 : 4)) ? 1 : 0; d < r; ++d) {
    SINEW_CHECK(x.size(d) > 0, name, "expected non-zero sizes outside the batch dimension, got ",
                x.shape());
  }
  Tensor<T> v = one_d ? x.unsqueeze(-2) : x;
  return v.dim() == 4 ? v : v.unsqueeze(0);
}

// The output in the caller's layout: drop the H = 1 of 1-d ops and the N = 1 of unbatched input.
template <class U>
Tensor<U> from_4d(const Tensor<U>& y, const Shape& given, bool one_d) {
  Shape s = given;
  if (one_d) {
    s[s.size() - 1] = y.size(3);
  } else {
    s[s.size() - 2] = y.size(2);
    s[s.size() - 1] = y.size(3);
  }
  return y.reshape(s);
}

// Fills the geometry of a windowed pool after checking it.
inline Spec window_spec(const char* name, Kind kind, const Shape& s4, IntPair k,
                        std::optional<IntPair> stride, IntPair pad, IntPair dil, bool ceil_mode,
                        bool one_d, const Shape& given) {
  IntPair st = stride.value_or(k);
  auto show = [&](const IntPair& v) {
    return one_d ? sinew::detail::str(v.w) : sinew::detail::str("[", v.h, ", ", v.w, "]");
  };
  SINEW_CHECK(k.h > 0 && k.w > 0, name, "kernel_size must be positive, got ", show(k));
  SINEW_CHECK(st.h > 0 && st.w > 0, name, "stride must be positive, got ", show(st));
  SINEW_CHECK(dil.h > 0 && dil.w > 0, name, "dilation must be positive, got ", show(dil));
  SINEW_CHECK(pad.h >= 0 && pad.w >= 0 && pad.h <= k.h / 2 && pad.w <= k.w / 2, name,
              "padding must be between 0 and half the kernel size, got padding ", show(pad),
              " for kernel_size ", show(k));
  Spec sp;
  sp.name = name;
  sp.kind = kind;
  sp.batch = s4[0];
  sp.channels = s4[1];
  Pool2dParams& p = sp.p;
  p.planes = s4[0] * s4[1];
  p.in_h = s4[2];
  p.in_w = s4[3];
  p.kernel_h = k.h;
  p.kernel_w = k.w;
  p.stride_h = st.h;
  p.stride_w = st.w;
  p.pad_h = pad.h;
  p.pad_w = pad.w;
  p.dilation_h = dil.h;
  p.dilation_w = dil.w;
  p.out_h = output_size(p.in_h, k.h, st.h, pad.h, dil.h, ceil_mode);
  p.out_w = output_size(p.in_w, k.w, st.w, pad.w, dil.w, ceil_mode);
  SINEW_CHECK(p.out_h >= 1 && p.out_w >= 1, name, "the output would be empty (",
              one_d ? sinew::detail::str(p.out_w) : show(IntPair(p.out_h, p.out_w)), ") for input ",
              given, " with kernel_size ", show(k), ", stride ", show(st), ", padding ", show(pad),
              ", dilation ", show(dil));
  return sp;
}

inline Spec adaptive_spec(const char* name, Kind kind, const Shape& s4, IntPair out, bool one_d) {
  SINEW_CHECK(out.h >= 1 && out.w >= 1, name, "output_size must be positive, got ",
              one_d ? sinew::detail::str(out.w) : sinew::detail::str("[", out.h, ", ", out.w, "]"));
  Spec sp;
  sp.name = name;
  sp.kind = kind;
  sp.batch = s4[0];
  sp.channels = s4[1];
  sp.p.planes = s4[0] * s4[1];
  sp.p.in_h = s4[2];
  sp.p.in_w = s4[3];
  sp.p.out_h = out.h;
  sp.p.out_w = out.w;
  return sp;
}

// gx = zeros of the input's shape with g added at the chosen positions idx (per plane);
// d(gx)/d(g) is the gather of the incoming gradient at idx, so the max pools twice differentiate.
template <class T>
Tensor<T> max_scatter(const Tensor<T>& g, const Tensor<int64_t>& idx, const Spec& sp) {
  Tensor<T> gx = empty<T>(sp.in4(), g.device());
  SINEW_DISPATCH(g.device(), max_pool2d_backward, g.detach().contiguous(), idx, sp.p, gx);
  return autograd::record(gx, "max_pool2d_backward", {g},
                          [idx, sp](const Tensor<T>& gg) {
                            const Pool2dParams& p = sp.p;
                            return gather(gg.reshape({p.planes, p.in_h * p.in_w}), 1,
                                          idx.reshape({p.planes, p.out_h * p.out_w}))
                                .reshape(sp.out4());
                          },
                          {.saved = {idx}});
}

// Max and adaptive max pooling of x [N, C, H, W]: values and flat per-plane indices;
// dL/dx = dL/dy scattered to the chosen positions (summed where windows overlap).
template <class T>
ValuesIndices<T> max_core(const Tensor<T>& x, const Spec& sp) {
  sinew::detail::check_floating<T>(sp.name);
  ValuesIndices<T> r{empty<T>(sp.out4(), x.device()), empty<int64_t>(sp.out4(), x.device())};
  Tensor<T> xc = x.detach().contiguous();
  if (sp.kind == Kind::Max)
    SINEW_DISPATCH(x.device(), max_pool2d, xc, sp.p, r.values, r.indices);
  else
    SINEW_DISPATCH(x.device(), adaptive_max_pool2d, xc, sp.p, r.values, r.indices);
  autograd::record(r.values, sp.name, {x},
                   [idx = r.indices, sp](const Tensor<T>& g) { return max_scatter(g, idx, sp); },
                   {.saved = {r.indices}});
  return r;
}

template <class T>
Tensor<T> avg_backward(const Tensor<T>& g, const Spec& sp);

// Average and adaptive average pooling of x [N, C, H, W], linear in x: y = A x;
// dL/dx = A^T dL/dy (avg_backward), whose own gradient is A again.
template <class T>
Tensor<T> avg_core(const Tensor<T>& x, const Spec& sp) {
  sinew::detail::check_floating<T>(sp.name);
  Tensor<T> y = empty<T>(sp.out4(), x.device());
  Tensor<T> xc = x.detach().contiguous();
  if (sp.kind == Kind::Avg)
    SINEW_DISPATCH(x.device(), avg_pool2d, xc, sp.p, sp.count_include_pad, sp.divisor_override, y);
  else
    SINEW_DISPATCH(x.device(), adaptive_avg_pool2d, xc, sp.p, y);
  return autograd::record(y, sp.name, {x},
                          [sp](const Tensor<T>& g) { return avg_backward(g, sp); });
}

template <class T>
Tensor<T> avg_backward(const Tensor<T>& g, const Spec& sp) {
  Tensor<T> gx = empty<T>(sp.in4(), g.device());
  Tensor<T> gc = g.detach().contiguous();
  if (sp.kind == Kind::Avg)
    SINEW_DISPATCH(g.device(), avg_pool2d_backward, gc, sp.p, sp.count_include_pad,
                   sp.divisor_override, gx);
  else
    SINEW_DISPATCH(g.device(), adaptive_avg_pool2d_backward, gc, sp.p, gx);
  return autograd::record(gx, "avg_pool2d_backward", {g},
                          [sp](const Tensor<T>& gg) { return avg_core(gg, sp); });
}

template <class T>
ValuesIndices<T> max_pool(const Tensor<T>& x, const char* name, bool one_d, IntPair k,
                          std::optional<IntPair> stride, IntPair pad, IntPair dil, bool ceil_mode) {
  Tensor<T> x4 = as_4d(x, one_d, name);
  Spec sp =
      window_spec(name, Kind::Max, x4.shape(), k, stride, pad, dil, ceil_mode, one_d, x.shape());
  ValuesIndices<T> r = max_core(x4, sp);
  return {from_4d(r.values, x.shape(), one_d), from_4d(r.indices, x.shape(), one_d)};
}

template <class T>
Tensor<T> avg_pool(const Tensor<T>& x, const char* name, bool one_d, IntPair k,
                   std::optional<IntPair> stride, IntPair pad, bool ceil_mode,
                   bool count_include_pad, std::optional<int64_t> divisor_override) {
  Tensor<T> x4 = as_4d(x, one_d, name);
  Spec sp =
      window_spec(name, Kind::Avg, x4.shape(), k, stride, pad, 1, ceil_mode, one_d, x.shape());
  SINEW_CHECK(!divisor_override || *divisor_override > 0, name,
              "divisor_override must be positive, got ", divisor_override.value_or(0));
  sp.count_include_pad = count_include_pad;
  sp.divisor_override = divisor_override.value_or(0);
  return from_4d(avg_core(x4, sp), x.shape(), one_d);
}

}  // namespace detail_pool

namespace functional {

// ---- max pooling --------------------------------------------------------------------------------
// y[n, c, i, j] = max over the window at (i s_h - p_h + a d_h, j s_w - p_w + b d_w), a < k_h,
// b < k_w (padding counts as -inf); indices = the flat position h W + w of the max within its
// [H, W] plane (first max on ties, as PyTorch's return_indices). Output size per dimension:
// floor((in + 2p - d (k - 1) - 1) / s) + 1 (ceil with ceil_mode, the last window starting inside
// the input or its left padding). stride defaults to kernel_size; padding <= kernel_size / 2.
// dL/dx = dL/dy added at the max of each window (overlapping windows accumulate).
// x: [N, C, H, W] or [C, H, W] (2d), [N, C, L] or [C, L] (1d).
template <class T>
ValuesIndices<T> max_pool2d_with_indices(const Tensor<T>& x, IntPair kernel_size,
                                         std::optional<IntPair> stride = std::nullopt,
                                         IntPair padding = 0, IntPair dilation = 1,
                                         bool ceil_mode = false) {
  return detail_pool::max_pool(x, "max_pool2d", false, kernel_size, stride, padding, dilation,
                               ceil_mode);
}
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& x, IntPair kernel_size,
                     std::optional<IntPair> stride = std::nullopt, IntPair padding = 0,
                     IntPair dilation = 1, bool ceil_mode = false) {
  return max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode).values;
}
template <class T>
ValuesIndices<T> max_pool1d_with_indices(const Tensor<T>& x, int64_t kernel_size,
                                         std::optional<int64_t> stride = std::nullopt,
                                         int64_t padding = 0, int64_t dilation = 1,
                                         bool ceil_mode = false) {
  return detail_pool::max_pool(x, "max_pool1d", true, {1, kernel_size},
                               IntPair(1, stride.value_or(kernel_size)), {0, padding},
                               {1, dilation}, ceil_mode);
}
template <class T>
Tensor<T> max_pool1d(const Tensor<T>& x, int64_t kernel_size,
                     std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                     int64_t dilation = 1, bool ceil_mode = false) {
  return max_pool1d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode).values;
}

// ---- average pooling ----------------------------------------------------------------------------
// y = (sum of x over the window) / divisor, where the divisor is divisor_override when given,
// else the window size counting the zero padding (count_include_pad; windows reaching past
// in + padding under ceil_mode are clipped there), else the number of input elements in the
// window. Output size as max pooling with dilation 1.  dL/dx = dL/dy / divisor spread over each
// window (the adjoint; its own gradient is the pooling again, so it twice differentiates).
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& x, IntPair kernel_size,
                     std::optional<IntPair> stride = std::nullopt, IntPair padding = 0,
                     bool ceil_mode = false, bool count_include_pad = true,
                     std::optional<int64_t> divisor_override = std::nullopt) {
  return detail_pool::avg_pool(x, "avg_pool2d", false, kernel_size, stride, padding, ceil_mode,
                               count_include_pad, divisor_override);
}
template <class T>
Tensor<T> avg_pool1d(const Tensor<T>& x, int64_t kernel_size,
                     std::optional<int64_t> stride = std::nullopt, int64_t padding = 0,
                     bool ceil_mode = false, bool count_include_pad = true) {
  return detail_pool::avg_pool(x, "avg_pool1d", true, {1, kernel_size},
                               IntPair(1, stride.value_or(kernel_size)), {0, padding}, ceil_mode,
                               count_include_pad, std::nullopt);
}

// ---- adaptive pooling ---------------------------------------------------------------------------
// Output cell i of a dimension pools the input range [floor(i in / out), ceil((i + 1) in / out))
// (PyTorch's bins, which may overlap). Average: the mean of the bin, dL/dx = dL/dy / bin size
// spread over the bin. Max: the bin's max and its flat per-plane index, dL/dx = dL/dy at it.
template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& x, IntPair output_size) {
  const char* name = "adaptive_avg_pool2d";
  Tensor<T> x4 = detail_pool::as_4d(x, false, name);
  auto sp = detail_pool::adaptive_spec(name, detail_pool::Kind::AdaptiveAvg, x4.shape(),
                                       output_size, false);
  return detail_pool::from_4d(detail_pool::avg_core(x4, sp), x.shape(), false);
}
template <class T>
Tensor<T> adaptive_avg_pool1d(const Tensor<T>& x, int64_t output_size) {
  const char* name = "adaptive_avg_pool1d";
  Tensor<T> x4 = detail_pool::as_4d(x, true, name);
  auto sp = detail_pool::adaptive_spec(name, detail_pool::Kind::AdaptiveAvg, x4.shape(),
                                       {1, output_size}, true);
  return detail_pool::from_4d(detail_pool::avg_core(x4, sp), x.shape(), true);
}
template <class T>
ValuesIndices<T> adaptive_max_pool2d_with_indices(const Tensor<T>& x, IntPair output_size) {
  const char* name = "adaptive_max_pool2d";
  Tensor<T> x4 = detail_pool::as_4d(x, false, name);
  auto sp = detail_pool::adaptive_spec(name, detail_pool::Kind::AdaptiveMax, x4.shape(),
                                       output_size, false);
  ValuesIndices<T> r = detail_pool::max_core(x4, sp);
  return {detail_pool::from_4d(r.values, x.shape(), false),
          detail_pool::from_4d(r.indices, x.shape(), false)};
}
template <class T>
Tensor<T> adaptive_max_pool2d(const Tensor<T>& x, IntPair output_size) {
  return adaptive_max_pool2d_with_indices(x, output_size).values;
}
template <class T>
ValuesIndices<T> adaptive_max_pool1d_with_indices(const Tensor<T>& x, int64_t output_size) {
  const char* name = "adaptive_max_pool1d";
  Tensor<T> x4 = detail_pool::as_4d(x, true, name);
  auto sp = detail_pool::adaptive_spec(name, detail_pool::Kind::AdaptiveMax, x4.shape(),
                                       {1, output_size}, true);
  ValuesIndices<T> r = detail_pool::max_core(x4, sp);
  return {detail_pool::from_4d(r.values, x.shape(), true),
          detail_pool::from_4d(r.indices, x.shape(), true)};
}
template <class T>
Tensor<T> adaptive_max_pool1d(const Tensor<T>& x, int64_t output_size) {
  return adaptive_max_pool1d_with_indices(x, output_size).values;
}

}  // namespace functional
}  // namespace sinew::nn
