// nn::utils: gradient clipping (clip_grad_norm_, clip_grad_value_), flattening parameters to one
// vector and back, and the L1 / L2 penalties of a parameter list.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/shape.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn::utils {

namespace detail {

template <class T>
void check_defined(const char* where, const std::vector<Tensor<T>>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    SINEW_CHECK(params[i].defined(), where, "parameter ", i, " is an undefined tensor");
  }
}

}  // namespace detail

// Scales the gradients of `params` in place so that their joint norm is at most max_norm, as
// torch.nn.utils.clip_grad_norm_: total = || (||g_1||_p, ..., ||g_k||_p) ||_p (the p-norm of all
// gradients seen as one vector; p = INFINITY takes the largest |g|), then every g is multiplied by
// min(1, max_norm / (total + 1e-6)). Parameters without a gradient are skipped. Returns total
// (0 when no parameter has a gradient). A NaN or infinite total raises with error_if_nonfinite,
// else (as PyTorch) the gradients are scaled by the resulting NaN / 0.
template <class T>
double clip_grad_norm_(const std::vector<Tensor<T>>& params, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false) {
  const char* where = "clip_grad_norm_";
  SINEW_CHECK(max_norm >= 0, where, "max_norm must be >= 0, got ", max_norm);
  SINEW_CHECK(norm_type > 0, where, "norm_type must be > 0 (or INFINITY), got ", norm_type);
  detail::check_defined(where, params);
  NoGradGuard guard;
  std::vector<Tensor<T>> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad().detach());
  }
  if (grads.empty()) return 0.0;
  // Each gradient's norm stays on its device, the norms are stacked on the first one's, and the
  // norm of that vector is the total: one reduction over k numbers and one read to the host (not
  // one per parameter), as PyTorch does. The norm of the norms is the norm of all elements for
  // every p (p = inf: the largest of the maxima).
  std::vector<Tensor<T>> norms;
  norms.reserve(grads.size());
  const Device device = grads.front().device();
  for (const auto& g : grads) norms.push_back(norm(g, norm_type).to(device));
  const double total = double(norm(stack(norms), norm_type).item());
  SINEW_CHECK(!error_if_nonfinite || std::isfinite(total), where, "the total norm of order ",
              norm_type, " of the gradients is ", total,
              ", so it cannot be clipped; set error_if_nonfinite = false to scale anyway");
  double coef = std::min(max_norm / (total + 1e-6), 1.0);
  if (std::isnan(total)) coef = NAN;
  if (!(coef == 1.0)) {  // scaling by 1 changes nothing
    for (auto& g : grads) g.mul_(coef);
  }
  return total;
}

// Clamps every gradient of `params` into [-clip_value, clip_value] in place
// (torch.nn.utils.clip_grad_value_). Parameters without a gradient are skipped.
template <class T>
void clip_grad_value_(const std::vector<Tensor<T>>& params, double clip_value) {
  SINEW_CHECK(clip_value >= 0, "clip_grad_value_", "clip_value must be >= 0, got ", clip_value);
  detail::check_defined("clip_grad_value_", params);
  NoGradGuard guard;
  for (const auto& p : params) {
    if (p.grad().defined()) p.grad().detach().clamp_(-clip_value, clip_value);
  }
}

// All parameters flattened and concatenated into one 1-d tensor, in order (a new tensor, as
// torch.nn.utils.parameters_to_vector; differentiable with respect to the parameters).
template <class T>
Tensor<T> parameters_to_vector(const std::vector<Tensor<T>>& params) {
  detail::check_defined("parameters_to_vector", params);
  if (params.empty()) return zeros<T>({0});
  std::vector<Tensor<T>> flat;
  for (const auto& p : params) flat.push_back(p.reshape({p.numel()}));
  return cat(flat, 0);
}

// Copies consecutive slices of the 1-d `vec` into the parameters, in place (each parameter keeps
// its identity, so modules and optimizers holding it see the new values; PyTorch instead rebinds
// .data to views of vec). vec must have exactly as many elements as the parameters together.
template <class T>
void vector_to_parameters(const Tensor<T>& vec, const std::vector<Tensor<T>>& params) {
  const char* where = "vector_to_parameters";
  detail::check_defined(where, params);
  SINEW_CHECK(vec.dim() == 1, where, "vec must be 1-d, got shape ", vec.shape());
  int64_t total = 0;
  for (const auto& p : params) total += p.numel();
  SINEW_CHECK(vec.numel() == total, where, "vec has ", vec.numel(), " elements but the ",
              params.size(), " parameters have ", total);
  NoGradGuard guard;
  int64_t offset = 0;
  for (const auto& p : params) {
    Tensor<T> dst = p.detach();
    dst.copy_(vec.detach().narrow(0, offset, p.numel()).reshape(p.shape()));
    offset += p.numel();
  }
}

// sum over all parameters of sum |w|: an L1 regularization term to add to a loss (its gradient,
// sign(w), joins the loss's). 0-d; 0 for no parameters.
template <class T>
Tensor<T> l1_penalty(const std::vector<Tensor<T>>& params) {
  detail::check_defined("l1_penalty", params);
  if (params.empty()) return zeros<T>({});
  Tensor<T> s = sum(abs(params[0]));
  for (size_t i = 1; i < params.size(); ++i) s = s + sum(abs(params[i]));
  return s;
}

// sum over all parameters of sum w^2 (gradient 2 w): the classic L2 regularization term, which
// with SGD equals weight decay; unlike AdamW's decoupled weight decay it passes through Adam's
// scaling. Multiply by lambda (or lambda / 2) yourself. 0-d; 0 for no parameters.
template <class T>
Tensor<T> l2_penalty(const std::vector<Tensor<T>>& params) {
  detail::check_defined("l2_penalty", params);
  if (params.empty()) return zeros<T>({});
  Tensor<T> s = sum(params[0] * params[0]);
  for (size_t i = 1; i < params.size(); ++i) s = s + sum(params[i] * params[i]);
  return s;
}

}  // namespace sinew::nn::utils
