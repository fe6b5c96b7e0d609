// Normalization ops (nn::functional): batch_norm (fused kernel, analytic backward, running
// statistics), layer_norm and group_norm (a fused row normalization plus broadcast affine ops).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/backend/cpu/normalization.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/ops/common.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

namespace detail_norm {

template <class T>
void check_channel_vector(const Tensor<T>& t, int64_t c, const char* name, const char* what,
                          const Shape& input) {
  if (!t.defined()) return;
  SINEW_CHECK(t.shape() == Shape({c}), name, what, " must have shape [", c,
              "] (the channels of input ", input, "), got ", t.shape());
}

// The batch norm gradients written with differentiable ops (used under create_graph, so the
// backward is itself differentiable; the fused kernel serves plain backward). x3, g3: [N, C, S].
// Training recomputes the batch statistics from x3, so second derivatives see their dependence
// on x.
template <class T>
std::vector<Tensor<T>> batch_norm_backward_ops(const Tensor<T>& g3, const Tensor<T>& x3,
                                               const Tensor<T>& weight, const Tensor<T>& mean,
                                               const Tensor<T>& invstd, bool training, double eps) {
  int64_t c = x3.size(1);
  const Shape dims{0, 2};
  Tensor<T> inv, xhat;
  if (training) {
    Tensor<T> xc = x3 - sinew::mean(x3, dims, true);
    inv = rsqrt(sinew::mean(xc * xc, dims, true) + eps);
    xhat = xc * inv;
  } else {
    inv = invstd.reshape({1, c, 1});
    xhat = (x3 - mean.reshape({1, c, 1})) * inv;
  }
  Tensor<T> dxhat = weight.defined() ? g3 * weight.reshape({1, c, 1}) : g3;
  Tensor<T> gx;
  if (training) {
    gx = inv *
         (dxhat - sinew::mean(dxhat, dims, true) - xhat * sinew::mean(dxhat * xhat, dims, true));
  } else {
    gx = dxhat * inv;
  }
  return {gx, sum(g3 * xhat, dims), sum(g3, dims)};
}

// y = (x - mean) invstd per row of x [R, K], invstd = 1 / sqrt(biased var + eps);
// dL/dx = invstd (g - mean(g) - y mean(g y)) per row (fused kernel; composed from ops, with the
// statistics recomputed, under create_graph so that it twice differentiates).
template <class T>
Tensor<T> row_normalize(const Tensor<T>& x2, double eps, const char* name) {
  int64_t r = x2.size(0), k = x2.size(1);
  Tensor<T> xc = x2.detach().contiguous();
  Tensor<T> y = empty<T>({r, k}, x2.device());
  Tensor<T> mean = empty<T>({r}, x2.device()), invstd = empty<T>({r}, x2.device());
  SINEW_DISPATCH(x2.device(), row_normalize, xc, r, k, eps, y, mean, invstd);
  return autograd::record(
      y, name, {x2},
      [x2, xc, mean, invstd, eps, r, k](const Tensor<T>& g) {
        if (autograd::is_grad_enabled()) {
          Tensor<T> d = x2 - sinew::mean(x2, {1}, true);
          Tensor<T> inv = rsqrt(sinew::mean(d * d, {1}, true) + eps);
          Tensor<T> yy = d * inv;
          return inv * (g - sinew::mean(g, {1}, true) - yy * sinew::mean(g * yy, {1}, true));
        }
        Tensor<T> gx = empty<T>({r, k}, g.device());
        SINEW_DISPATCH(g.device(), row_normalize_backward, g.contiguous(), xc, mean, invstd, r, k,
                       gx);
        return gx;
      },
      {.saved = {x2}});
}

}  // namespace detail_norm

namespace functional {

// Batch normalization of x [N, C], [N, C, L] or [N, C, H, W] per channel c:
//   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c   (weight 1 and bias 0 when undefined)
// training: mean_c and the biased var_c over N and the spatial dims of this batch; the running
// statistics (when defined) move in place, without autograd:
//   running_mean = (1 - momentum) running_mean + momentum mean_c,
//   running_var  = (1 - momentum) running_var + momentum var_c M / (M - 1)   (M = values per c).
// eval: mean_c and var_c are running_mean and running_var.
// Gradients (xhat = the normalized x, M values per channel):
//   dL/dweight = sum g xhat,  dL/dbias = sum g,
//   dL/dx = weight invstd (g - mean(g) - xhat mean(g xhat))   (training; eval: g weight invstd).
// Forward and backward are fused kernels; under create_graph the backward is built from ops.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& running_mean,
                     const Tensor<T>& running_var, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), bool training = false,
                     double momentum = 0.1, double eps = 1e-5) {
  sinew::detail::check_floating<T>("batch_norm");
  const char* name = "batch_norm";
  SINEW_CHECK(x.dim() >= 2, name, "expected an input [N, C, ...] of rank 2 or more, got ",
              x.shape());
  const int64_t n = x.size(0), c = x.size(1);
  int64_t spatial = 1;
  for (int64_t d = 2; d < x.dim(); ++d) spatial *= x.size(d);
  detail_norm::check_channel_vector(running_mean, c, name, "running_mean", x.shape());
  detail_norm::check_channel_vector(running_var, c, name, "running_var", x.shape());
  detail_norm::check_channel_vector(weight, c, name, "weight", x.shape());
  detail_norm::check_channel_vector(bias, c, name, "bias", x.shape());
  for (const Tensor<T>* t : {&running_mean, &running_var, &weight, &bias}) {
    if (t->defined()) sinew::detail::check_same_device(name, x, *t);
  }
  SINEW_CHECK(running_mean.defined() == running_var.defined(), name,
              "running_mean and running_var must both be given or both be undefined");
  SINEW_CHECK(training || running_mean.defined(), name,
              "eval mode needs running_mean and running_var (or pass training = true)");
  SINEW_CHECK(eps > 0, name, "eps must be positive, got ", eps);
  const int64_t m = n * spatial;
  if (training) {
    SINEW_CHECK(m > 1, name, "Expected more than 1 value per channel when training, got input ",
                x.shape());
  }

  Tensor<T> xc = x.detach().contiguous();
  Tensor<T> mean, invstd;
  {
    NoGradGuard no_grad;
    if (training) {
      mean = empty<T>({c}, x.device());
      Tensor<T> var = empty<T>({c}, x.device());
      SINEW_DISPATCH(x.device(), batch_norm_stats, xc, n, c, spatial, mean, var);
      invstd = rsqrt(var + eps);
      if (running_mean.defined()) {
        Tensor<T> rm = running_mean.detach(), rv = running_var.detach();
        rm.mul_(1.0 - momentum).add_(mean, momentum);
        rv.mul_(1.0 - momentum).add_(var, momentum * double(m) / double(m - 1));
      }
    } else {
      mean = running_mean.detach().clone();
      invstd = rsqrt(running_var.detach() + eps);
    }
  }
  Tensor<T> scale, shift;
  {
    NoGradGuard no_grad;
    scale = weight.defined() ? weight.detach() * invstd : invstd;
    shift = -(mean * scale);
    if (bias.defined()) shift = shift + bias.detach();
  }
  Tensor<T> y = empty<T>(x.shape(), x.device());
  SINEW_DISPATCH(x.device(), channel_affine, xc, n, c, spatial, scale, shift, y);
  autograd::RecordOptions saved{.saved = {x}};
  if (weight.defined()) saved.saved.push_back(weight);
  return autograd::record(
      y, name, {x, weight, bias},
      [x, xc, weight, mean, invstd, training, eps, n, c, spatial](
          const Tensor<T>& g, const autograd::BackwardContext<T>& ctx) {
        if (autograd::is_grad_enabled()) {
          auto r = detail_norm::batch_norm_backward_ops(g.reshape({n, c, spatial}),
                                                        x.reshape({n, c, spatial}), weight, mean,
                                                        invstd, training, eps);
          return std::vector<Tensor<T>>{ctx.needs(0) ? r[0].reshape(x.shape()) : Tensor<T>(),
                                        ctx.needs(1) ? r[1] : Tensor<T>(),
                                        ctx.needs(2) ? r[2] : Tensor<T>()};
        }
        Tensor<T> gx = ctx.needs(0) ? empty<T>(x.shape(), g.device()) : Tensor<T>();
        Tensor<T> gw = ctx.needs(1) ? empty<T>({c}, g.device()) : Tensor<T>();
        Tensor<T> gb = ctx.needs(2) ? empty<T>({c}, g.device()) : Tensor<T>();
        SINEW_DISPATCH(g.device(), batch_norm_backward, g.contiguous(), xc, mean, invstd,
                       weight.defined() ? weight.detach().contiguous() : Tensor<T>(), training, n,
                       c, spatial, gx, gw, gb);
        return std::vector<Tensor<T>>{gx, gw, gb};
      },
      saved);
}

// Layer normalization over the trailing dims named by normalized_shape (x [..., *normalized]):
//   y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over those dims;
// weight and bias have shape normalized_shape (or are undefined).
// dL/dx = invstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with dxhat = g weight;
// dL/dweight = sum of g xhat over the leading dims, dL/dbias = sum of g.
template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Shape& normalized_shape,
                     const Tensor<T>& weight = Tensor<T>(), const Tensor<T>& bias = Tensor<T>(),
                     double eps = 1e-5) {
  sinew::detail::check_floating<T>("layer_norm");
  const char* name = "layer_norm";
  const int64_t d = normalized_shape.size();
  bool fits = d >= 1 && x.dim() >= d;
  for (int64_t i = 0; fits && i < d; ++i) fits = x.size(x.dim() - d + i) == normalized_shape[i];
  if (!fits) {
    std::string dims;
    for (int64_t i = 0; i < d; ++i) dims += sinew::detail::str(", ", normalized_shape[i]);
    sinew::detail::fail(name, "expected input [*", dims, "] (normalized_shape ", normalized_shape,
                        "), got ", x.shape());
  }
  for (const Tensor<T>* t : {&weight, &bias}) {
    if (!t->defined()) continue;
    SINEW_CHECK(t->shape() == normalized_shape, name, t == &weight ? "weight" : "bias",
                " must have shape ", normalized_shape, ", got ", t->shape());
    sinew::detail::check_same_device(name, x, *t);
  }
  SINEW_CHECK(eps > 0, name, "eps must be positive, got ", eps);
  const int64_t k = normalized_shape.numel();
  int64_t r = 1;
  for (int64_t i = 0; i < x.dim() - d; ++i) r *= x.size(i);
  Tensor<T> y = detail_norm::row_normalize(x.reshape({r, k}), eps, name).reshape(x.shape());
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

// Group normalization of x [N, C, *]: the C channels split into num_groups groups of C / G
// consecutive channels, each (sample, group) normalized over its channels and spatial dims
// (biased var), then y = xhat * weight_c + bias_c per channel (weight, bias [C] or undefined).
// Gradients as layer_norm's, per (sample, group) row.
template <class T>
Tensor<T> group_norm(const Tensor<T>& x, int64_t num_groups, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), double eps = 1e-5) {
  sinew::detail::check_floating<T>("group_norm");
  const char* name = "group_norm";
  SINEW_CHECK(x.dim() >= 2, name, "expected an input [N, C, ...] of rank 2 or more, got ",
              x.shape());
  const int64_t n = x.size(0), c = x.size(1);
  SINEW_CHECK(num_groups >= 1 && c % num_groups == 0, name, "num_groups (", num_groups,
              ") must be positive and divide the channel count ", c, " of input ", x.shape());
  detail_norm::check_channel_vector(weight, c, name, "weight", x.shape());
  detail_norm::check_channel_vector(bias, c, name, "bias", x.shape());
  for (const Tensor<T>* t : {&weight, &bias}) {
    if (t->defined()) sinew::detail::check_same_device(name, x, *t);
  }
  SINEW_CHECK(eps > 0, name, "eps must be positive, got ", eps);
  int64_t spatial = 1;
  for (int64_t i = 2; i < x.dim(); ++i) spatial *= x.size(i);
  const int64_t k = c / num_groups * spatial;
  Tensor<T> y =
      detail_norm::row_normalize(x.reshape({n * num_groups, k}), eps, name).reshape(x.shape());
  Shape per_channel(std::vector<int64_t>(static_cast<size_t>(x.dim() - 1), 1));
  per_channel[0] = c;
  if (weight.defined()) y = y * weight.reshape(per_channel);
  if (bias.defined()) y = y + bias.reshape(per_channel);
  return y;
}

}  // namespace functional
}  // namespace sinew::nn
