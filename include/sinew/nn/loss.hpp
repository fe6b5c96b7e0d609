// Losses: nn::functional forms and nn:: modules (MSELossT<T>, ..., float aliases nn::MSELoss, ...),
// templated on the element type (so gradcheckable in double), with PyTorch's names, options,
// defaults, reductions and weighting. Every loss is built from differentiable ops, so it records
// nothing of its own and supports double backward.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

// How a loss combines its per-element values: None keeps them, Mean averages, Sum adds.
// BatchMean (the sum divided by the batch size) is PyTorch's 'batchmean', KLDivLoss's own; the
// other losses reject it.
enum class Reduction { None, Mean, Sum, BatchMean };

inline const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None:
      return "none";
    case Reduction::Mean:
      return "mean";
    case Reduction::Sum:
      return "sum";
    case Reduction::BatchMean:
      return "batchmean";
  }
  return "?";
}

// ---- options (aggregates: {.reduction = Reduction::Sum, .beta = 0.5}) ---------------------------

struct MSELossOptions {  // SSE, the sum of squared errors, is MSELoss with Reduction::Sum
  Reduction reduction = Reduction::Mean;
};
struct L1LossOptions {
  Reduction reduction = Reduction::Mean;
};
struct SmoothL1LossOptions {
  Reduction reduction = Reduction::Mean;
  double beta = 1.0;
};
struct HuberLossOptions {
  Reduction reduction = Reduction::Mean;
  double delta = 1.0;
};
template <class T = float>
struct BCELossOptions {
  Tensor<T> weight{};  // rescales each element; broadcasts to the input's shape
  Reduction reduction = Reduction::Mean;
};
template <class T = float>
struct BCEWithLogitsLossOptions {
  Tensor<T> weight{};      // rescales each element; broadcasts to the input's shape
  Tensor<T> pos_weight{};  // weight of the positive term, per class (last dim); broadcasts too
  Reduction reduction = Reduction::Mean;
};
template <class T = float>
struct CrossEntropyLossOptions {
  Tensor<T> weight{};           // [C]: one weight per class
  int64_t ignore_index = -100;  // class-index targets equal to it add nothing (and count nothing)
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;  // in [0, 1]
};
template <class T = float>
struct NLLLossOptions {
  Tensor<T> weight{};  // [C]
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};
struct KLDivLossOptions {
  Reduction reduction = Reduction::Mean;  // BatchMean is the one matching the math of KL
  bool log_target = false;                // the target holds log-probabilities
};
struct CosineEmbeddingLossOptions {
  double margin = 0.0;
  Reduction reduction = Reduction::Mean;
};
struct MarginRankingLossOptions {
  double margin = 0.0;
  Reduction reduction = Reduction::Mean;
};

namespace detail {

template <class T>
Tensor<T> apply_reduction(const Tensor<T>& loss, Reduction r, const char* where) {
  switch (r) {
    case Reduction::None:
      return loss;
    case Reduction::Mean:
      return mean(loss);
    case Reduction::Sum:
      return sum(loss);
    case Reduction::BatchMean:
      break;
  }
  sinew::detail::fail(where,
                      "reduction 'batchmean' is only for kl_div / KLDivLoss; use None, "
                      "Mean or Sum");
}

template <class A, class B>
void check_same_shape(const char* where, const Tensor<A>& input, const Tensor<B>& other,
                      const char* what = "target") {
  sinew::detail::check_same_device(where, input, other);
  SINEW_CHECK(input.shape() == other.shape(), where, what, " must have the input's shape ",
              input.shape(), ", got ", other.shape());
}

// An optional weight must broadcast to the input's shape (the loss keeps the input's shape).
template <class T>
void check_broadcasts_to(const char* where, const Tensor<T>& w, const Tensor<T>& input,
                         const char* what) {
  if (!w.defined()) return;
  sinew::detail::check_same_device(where, input, w);
  bool ok = w.dim() <= input.dim();
  for (int64_t k = 1; ok && k <= w.dim(); ++k) {
    ok = w.size(-k) == 1 || w.size(-k) == input.size(-k);
  }
  SINEW_CHECK(ok, where, what, " of shape ", w.shape(), " does not broadcast to the input's shape ",
              input.shape());
}

// Raises unless every value of t lies in [0, 1] (NaN does not).
template <class T>
void check_unit_range(const char* where, const Tensor<T>& t, const char* what) {
  if (t.numel() == 0) return;
  NoGradGuard guard;
  double lo = double(amin(t.detach()).item()), hi = double(amax(t.detach()).item());
  SINEW_CHECK(lo >= 0 && hi <= 1, where, "every ", what, " value must be in [0, 1], found ",
              (lo >= 0 && lo <= 1) ? hi : lo, " (", what, " of shape ", t.shape(), ")");
}

// Raises unless every value of t is 1 or -1.
template <class T>
void check_signs(const char* where, const Tensor<T>& t) {
  NoGradGuard guard;
  Tensor<bool> bad = logical_and(t.detach() != 1.0, t.detach() != -1.0);
  Tensor<T> found = masked_select(t.detach(), bad);
  SINEW_CHECK(found.numel() == 0, where, "target values must be 1 or -1, found ",
              found.numel() ? double(found.to_vector()[0]) : 0.0, " (target of shape ", t.shape(),
              ")");
}

// max(log x, -100) (or max(log(1 - x), -100) through log1p), as PyTorch's BCE clamps its logs so
// that x = 0 or 1 gives a finite loss. Where the log is clamped the gradient is 0, never NaN.
template <class T>
Tensor<T> clamped_log(const Tensor<T>& x, bool one_minus) {
  Tensor<bool> ok = one_minus ? x < 1.0 : x > 0.0;
  Tensor<T> safe = where(ok, x, one_minus ? 0.0 : 1.0);
  Tensor<T> l = one_minus ? log1p(-safe) : log(safe);
  return clamp_min(where(ok, l, -100.0), -100.0);
}

// log(1 + e^z) without overflow: z + log1p(e^-z) for z > 0, log1p(e^z) otherwise. Each branch
// only sees the inputs where it is finite, so neither the value nor any gradient is NaN.
template <class T>
Tensor<T> stable_softplus(const Tensor<T>& z) {
  Tensor<bool> pos = z > 0.0;
  Tensor<T> zp = where(pos, z, 0.0), zn = where(pos, 0.0, z);
  return where(pos, zp + log1p(exp(-zp)), log1p(exp(zn)));
}

// t log t, 0 where t = 0 (torch.xlogy(t, t)).
template <class T>
Tensor<T> xlogx(const Tensor<T>& t) {
  Tensor<bool> zero = t == 0.0;
  return where(zero, 0.0, t * log(where(zero, 1.0, t)));
}

// The class dimension: 0 for an unbatched [C] input, 1 for [N, C, d1, ...].
template <class T>
int64_t class_dim(const char* where, const Tensor<T>& input) {
  SINEW_CHECK(input.dim() >= 1, where, "input must be [C] or [N, C, d1, ...], got ", input.shape());
  return input.dim() == 1 ? 0 : 1;
}

template <class T>
void check_class_weight(const char* where, const Tensor<T>& w, const Tensor<T>& input,
                        int64_t classes) {
  if (!w.defined()) return;
  sinew::detail::check_same_device(where, input, w);
  SINEW_CHECK(w.dim() == 1 && w.size(0) == classes, where,
              "weight must have one value per class, shape [", classes, "], got ", w.shape());
}

// The per-class weight with the input's rank: [1, C, 1, ...] (or [C] unbatched).
template <class T>
Tensor<T> class_weight_view(const Tensor<T>& w, int64_t ndim, int64_t cd) {
  Shape s(std::vector<int64_t>(static_cast<size_t>(ndim), 1));
  s[cd] = w.size(0);
  return w.reshape(s);
}

// What a class-index target contributes: which entries are ignored, the indices with ignored
// ones replaced by 0 (safe to gather), and each entry's weight (w[t], or 1; 0 where ignored).
template <class T>
struct ClassTarget {
  Tensor<bool> ignored;
  Tensor<int64_t> safe;
  Tensor<T> weight;
};

// Checks a class-index target against input [C] / [N, C, d1, ...]: shape [] / [N, d1, ...] and
// every value in [0, C) or equal to ignore_index.
template <class T>
ClassTarget<T> class_target(const char* where, const Tensor<T>& input,
                            const Tensor<int64_t>& target, const Tensor<T>& weight,
                            int64_t ignore_index) {
  int64_t cd = class_dim(where, input), classes = input.size(cd);
  sinew::detail::check_same_device(where, input, target);
  Shape expected = input.shape();
  expected.erase(cd);
  SINEW_CHECK(target.shape() == expected, where, "class-index target must have shape ", expected,
              " for input ", input.shape(),
              " (input [N, C, d1, ...] takes target [N, d1, ...]), got ", target.shape());
  check_class_weight(where, weight, input, classes);
  ClassTarget<T> r;
  r.ignored = target == static_cast<double>(ignore_index);
  r.safe = masked_fill(target, r.ignored, 0.0);
  if (target.numel() > 0) {
    int64_t lo = amin(r.safe).item(), hi = amax(r.safe).item();
    SINEW_CHECK(lo >= 0 && hi < classes, where, "target value ", lo < 0 ? lo : hi,
                " is out of range for ", classes, " classes (expected in [0, ", classes,
                ") or ignore_index = ", ignore_index, "); input ", input.shape(), ", target ",
                target.shape());
  }
  r.weight = logical_not(r.ignored).template to<T>();
  if (weight.defined()) {
    r.weight = r.weight * index_select(weight, 0, r.safe.flatten()).reshape(target.shape());
  }
  return r;
}

}  // namespace detail

namespace functional {

// ---- regression losses --------------------------------------------------------------------------

// l = (x - y)^2;  dl/dx = 2 (x - y), dl/dy = -2 (x - y). Input and target of the same shape.
// SSE (the sum of squared errors) is mse_loss with {.reduction = Reduction::Sum}.
template <class T>
Tensor<T> mse_loss(const Tensor<T>& input, const Tensor<T>& target,
                   const MSELossOptions& options = {}) {
  sinew::detail::check_floating<T>("mse_loss");
  detail::check_same_shape("mse_loss", input, target);
  Tensor<T> d = input - target;
  return detail::apply_reduction(d * d, options.reduction, "mse_loss");
}

// l = |x - y|;  dl/dx = sign(x - y) (0 where x = y, as PyTorch).
template <class T>
Tensor<T> l1_loss(const Tensor<T>& input, const Tensor<T>& target,
                  const L1LossOptions& options = {}) {
  sinew::detail::check_floating<T>("l1_loss");
  detail::check_same_shape("l1_loss", input, target);
  return detail::apply_reduction(abs(input - target), options.reduction, "l1_loss");
}

// d = x - y;  l = 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (beta = 0: |d|);
// dl/dx = d / beta inside, sign(d) outside.
template <class T>
Tensor<T> smooth_l1_loss(const Tensor<T>& input, const Tensor<T>& target,
                         const SmoothL1LossOptions& options = {}) {
  sinew::detail::check_floating<T>("smooth_l1_loss");
  detail::check_same_shape("smooth_l1_loss", input, target);
  double beta = options.beta;
  SINEW_CHECK(beta >= 0, "smooth_l1_loss", "beta must be >= 0, got ", beta);
  if (beta == 0) return l1_loss(input, target, {.reduction = options.reduction});
  Tensor<T> d = input - target, a = abs(d);
  return detail::apply_reduction(where(a < beta, d * d * (0.5 / beta), a - 0.5 * beta),
                                 options.reduction, "smooth_l1_loss");
}

// d = x - y;  l = 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere;
// dl/dx = d inside, delta sign(d) outside. (Huber = delta * SmoothL1 with beta = delta.)
template <class T>
Tensor<T> huber_loss(const Tensor<T>& input, const Tensor<T>& target,
                     const HuberLossOptions& options = {}) {
  sinew::detail::check_floating<T>("huber_loss");
  detail::check_same_shape("huber_loss", input, target);
  double delta = options.delta;
  SINEW_CHECK(delta > 0, "huber_loss", "delta must be > 0, got ", delta);
  Tensor<T> d = input - target, a = abs(d);
  return detail::apply_reduction(where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta),
                                 options.reduction, "huber_loss");
}

// ---- binary classification ----------------------------------------------------------------------

// x, y in [0, 1] (checked):  l = -w [y max(log x, -100) + (1 - y) max(log(1 - x), -100)];
// dl/dx = w (x - y) / (x (1 - x)) where no log is clamped, dl/dy = w (log(1 - x) - log x).
template <class T>
Tensor<T> binary_cross_entropy(const Tensor<T>& input, const Tensor<T>& target,
                               const BCELossOptions<T>& options = {}) {
  const char* where_ = "binary_cross_entropy";
  sinew::detail::check_floating<T>(where_);
  detail::check_same_shape(where_, input, target);
  detail::check_broadcasts_to(where_, options.weight, input, "weight");
  detail::check_unit_range(where_, input, "input");
  detail::check_unit_range(where_, target, "target");
  Tensor<T> l = -(target * detail::clamped_log(input, false) +
                  (1.0 - target) * detail::clamped_log(input, true));
  if (options.weight.defined()) l = l * options.weight;
  return detail::apply_reduction(l, options.reduction, where_);
}

// x: logits, y in [0, 1], p = pos_weight:  l = w [(1 - y) x + (1 + (p - 1) y) softplus(-x)]
// = -w [p y log s(x) + (1 - y) log(1 - s(x))], stable for any x (softplus without overflow);
// dl/dx = w [(1 - y) - (1 + (p - 1) y) s(-x)], dl/dy = w [(p - 1) softplus(-x) - x].
template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& input, const Tensor<T>& target,
                                           const BCEWithLogitsLossOptions<T>& options = {}) {
  const char* where_ = "binary_cross_entropy_with_logits";
  sinew::detail::check_floating<T>(where_);
  detail::check_same_shape(where_, input, target);
  detail::check_broadcasts_to(where_, options.weight, input, "weight");
  detail::check_broadcasts_to(where_, options.pos_weight, input, "pos_weight");
  Tensor<T> sp = detail::stable_softplus(-input);
  Tensor<T> scale =
      options.pos_weight.defined() ? (options.pos_weight - 1.0) * target + 1.0 : Tensor<T>();
  Tensor<T> l = (1.0 - target) * input + (scale.defined() ? scale * sp : sp);
  if (options.weight.defined()) l = l * options.weight;
  return detail::apply_reduction(l, options.reduction, where_);
}

// ---- classification ----------------------------------------------------------------------------

// input [C] or [N, C, d1, ...] of log-probabilities, target [] or [N, d1, ...] of class indices
// in [0, C) or ignore_index:  l_i = -w[t_i] input[i, t_i], 0 where t_i = ignore_index.
// Mean = sum_i l_i / sum_i w[t_i] over the targets not ignored (PyTorch's weighted mean; NaN when
// all are ignored);  dl/dinput[i, t_i] = -w[t_i] (scaled by the reduction), 0 elsewhere.
template <class T>
Tensor<T> nll_loss(const Tensor<T>& input, const Tensor<int64_t>& target,
                   const NLLLossOptions<T>& options = {}) {
  sinew::detail::check_floating<T>("nll_loss");
  int64_t cd = detail::class_dim("nll_loss", input);
  auto ct = detail::class_target("nll_loss", input, target, options.weight, options.ignore_index);
  Tensor<T> l = -(gather(input, cd, ct.safe.unsqueeze(cd)).squeeze(cd) * ct.weight);
  if (options.reduction == Reduction::Mean) return sum(l) / sum(ct.weight);
  return detail::apply_reduction(l, options.reduction, "nll_loss");
}
// Class indices are integers: a floating target is an Error saying so.
template <class T>
Tensor<T> nll_loss(const Tensor<T>& input, const Tensor<T>& target,
                   const NLLLossOptions<T>& options = {}) {
  (void)options;
  sinew::detail::fail("nll_loss", "target must hold class indices as a Tensor<int64_t>, got a ",
                      dtype_of<T>(), " tensor of shape ", target.shape(), " (input ", input.shape(),
                      "); convert it with target.to<int64_t>()");
}

// Class indices: logp = log_softmax(input, class dim) (stable), eps = label_smoothing:
//   l = (1 - eps) nll_loss(logp, t) + eps / C * s,  s_i = -sum_c w_c logp[i, c] (0 where ignored);
//   s is reduced like the nll term (Mean divides by the same sum of w[t_i] over kept targets).
// Class probabilities (a floating target of the input's shape; no ignore_index):
//   q = (1 - eps) target + eps / C,  l_i = -sum_c w_c q[i, c] logp[i, c];  Mean divides by the
//   number of rows N d1 ... (not by weights).
// dl/dinput = w-weighted (softmax(input) - q) per row, as PyTorch; both are built from ops.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& input, const Tensor<int64_t>& target,
                        const CrossEntropyLossOptions<T>& options = {}) {
  const char* where_ = "cross_entropy";
  sinew::detail::check_floating<T>(where_);
  double eps = options.label_smoothing;
  SINEW_CHECK(eps >= 0 && eps <= 1, where_, "label_smoothing must be in [0, 1], got ", eps);
  int64_t cd = detail::class_dim(where_, input), classes = input.size(cd);
  auto ct = detail::class_target(where_, input, target, options.weight, options.ignore_index);
  Tensor<T> logp = log_softmax(input, cd);
  Tensor<T> nll = -(gather(logp, cd, ct.safe.unsqueeze(cd)).squeeze(cd) * ct.weight);
  Tensor<T> l = nll;
  if (eps > 0) {
    Tensor<T> lw = options.weight.defined()
                       ? logp * detail::class_weight_view(options.weight, input.dim(), cd)
                       : logp;
    Tensor<T> smooth = masked_fill(-sum(lw, {cd}), ct.ignored, 0.0);
    l = nll * (1.0 - eps) + smooth * (eps / double(classes));
  }
  if (options.reduction == Reduction::Mean) return sum(l) / sum(ct.weight);
  return detail::apply_reduction(l, options.reduction, where_);
}
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& input, const Tensor<T>& target,
                        const CrossEntropyLossOptions<T>& options = {}) {
  const char* where_ = "cross_entropy";
  sinew::detail::check_floating<T>(where_);
  double eps = options.label_smoothing;
  SINEW_CHECK(eps >= 0 && eps <= 1, where_, "label_smoothing must be in [0, 1], got ", eps);
  int64_t cd = detail::class_dim(where_, input), classes = input.size(cd);
  SINEW_CHECK(target.shape() == input.shape(), where_,
              "a floating target holds class probabilities and must have the input's shape ",
              input.shape(), ", got ", target.shape(),
              "; pass class indices as a Tensor<int64_t> of shape [N, d1, ...]");
  sinew::detail::check_same_device(where_, input, target);
  SINEW_CHECK(options.ignore_index < 0, where_, "ignore_index (", options.ignore_index,
              ") is not supported with class-probability targets");
  detail::check_class_weight(where_, options.weight, input, classes);
  Tensor<T> logp = log_softmax(input, cd);
  Tensor<T> q = eps > 0 ? target * (1.0 - eps) + eps / double(classes) : target;
  Tensor<T> prod = logp * q;
  if (options.weight.defined())
    prod = prod * detail::class_weight_view(options.weight, input.dim(), cd);
  Tensor<T> l = -sum(prod, {cd});
  if (options.reduction == Reduction::Mean)
    return sum(l) / (classes > 0 ? double(input.numel() / classes) : 0.0);
  return detail::apply_reduction(l, options.reduction, where_);
}

// ---- distributions and embeddings ---------------------------------------------------------------

// x: log-probabilities, t: probabilities (or log-probabilities with log_target), same shape:
//   l = t (log t - x) (0 where t = 0), or l = e^t (t - x);  dl/dx = -t (or -e^t).
// BatchMean = sum / input.size(0) (the KL divergence per sample); Mean divides by every element.
template <class T>
Tensor<T> kl_div(const Tensor<T>& input, const Tensor<T>& target,
                 const KLDivLossOptions& options = {}) {
  sinew::detail::check_floating<T>("kl_div");
  detail::check_same_shape("kl_div", input, target);
  Tensor<T> l =
      options.log_target ? exp(target) * (target - input) : detail::xlogx(target) - target * input;
  if (options.reduction != Reduction::BatchMean)
    return detail::apply_reduction(l, options.reduction, "kl_div");
  return input.dim() == 0 ? sum(l) : sum(l) / double(input.size(0));
}

// x1, x2 [N, D] with y [N] (or [D] with y []), y = 1 or -1:
//   cos = <x1, x2> / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)),  l = 1 - cos for y = 1,
//   max(0, cos - margin) for y = -1. Gradients through the ops (cos is smooth).
template <class T>
Tensor<T> cosine_embedding_loss(const Tensor<T>& input1, const Tensor<T>& input2,
                                const Tensor<T>& target,
                                const CosineEmbeddingLossOptions& options = {}) {
  const char* where_ = "cosine_embedding_loss";
  sinew::detail::check_floating<T>(where_);
  detail::check_same_shape(where_, input1, input2, "input2");
  sinew::detail::check_same_device(where_, input1, target);
  int64_t d = target.dim();
  SINEW_CHECK((d == 1 && input1.dim() == 2 && input1.size(0) == target.size(0)) ||
                  (d == 0 && input1.dim() == 1),
              where_,
              "expected inputs [N, D] with target [N], or inputs [D] with a 0-d target; got "
              "inputs ",
              input1.shape(), " and target ", target.shape());
  detail::check_signs(where_, target);
  Tensor<T> dot = sum(input1 * input2, {d});
  Tensor<T> m1 = sum(input1 * input1, {d}) + 1e-12, m2 = sum(input2 * input2, {d}) + 1e-12;
  Tensor<T> cos = dot / sqrt(m1 * m2);
  Tensor<T> l = where(target == 1.0, 1.0 - cos, clamp_min(cos - options.margin, 0.0));
  return detail::apply_reduction(l, options.reduction, where_);
}

// x1, x2, y of one shape, y = 1 (x1 should rank higher) or -1:  l = max(0, -y (x1 - x2) + margin);
// dl/dx1 = -y where the hinge is active, dl/dx2 = y there.
template <class T>
Tensor<T> margin_ranking_loss(const Tensor<T>& input1, const Tensor<T>& input2,
                              const Tensor<T>& target,
                              const MarginRankingLossOptions& options = {}) {
  const char* where_ = "margin_ranking_loss";
  sinew::detail::check_floating<T>(where_);
  detail::check_same_shape(where_, input1, input2, "input2");
  detail::check_same_shape(where_, input1, target, "target");
  detail::check_signs(where_, target);
  Tensor<T> l = clamp_min(-target * (input1 - input2) + options.margin, 0.0);
  return detail::apply_reduction(l, options.reduction, where_);
}

}  // namespace functional
// ---- modules (MSELossT<T>, ...; nn::MSELoss = MSELossT<float>): loss(input, target) calls the
// functional form with the options ------------------------------------------------------------

namespace detail {

// What every loss module shares: its options, the printed reduction, and weights kept as buffers
// (PyTorch's state_dict keys "weight" and "pos_weight"; they follow to(device)).
template <class Derived, class Options, class T>
class Loss : public Cloneable<Derived, T> {
 public:
  Loss(const char* name, Options options)
      : Cloneable<Derived, T>(name), options_(std::move(options)) {}
  // A loss's forward takes (input, target): the one-tensor forward stays the base's (an Error).
  using ModuleT<T>::forward;
  const Options& options() const { return options_; }
  std::string extra_repr() const override {
    return std::string("reduction=") + reduction_name(options_.reduction);
  }

 protected:
  // Registers w (a copy of it when cloning) as a buffer and returns the registered handle.
  Tensor<T> keep_buffer(const char* name, const Tensor<T>& w, bool copy) {
    if (!w.defined()) return w;
    return this->register_buffer(name, copy ? w.detach().clone() : w);
  }
  Options options_;
};

}  // namespace detail

#define SINEW_LOSS_CALL(FN)                                               \
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) {    \
    return functional::FN(input, target, this->options_);                 \
  }                                                                       \
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<T>& target) { \
    return forward(input, target);                                        \
  }

// Mean squared error (functional::mse_loss). With {.reduction = Reduction::Sum} it is the SSE.
template <class T = float>
class MSELossT : public detail::Loss<MSELossT<T>, MSELossOptions, T> {
 public:
  explicit MSELossT(MSELossOptions options = {})
      : detail::Loss<MSELossT<T>, MSELossOptions, T>("MSELoss", options) {}
  SINEW_LOSS_CALL(mse_loss)
};

using MSELoss = MSELossT<float>;

// Mean absolute error (functional::l1_loss).
template <class T = float>
class L1LossT : public detail::Loss<L1LossT<T>, L1LossOptions, T> {
 public:
  explicit L1LossT(L1LossOptions options = {})
      : detail::Loss<L1LossT<T>, L1LossOptions, T>("L1Loss", options) {}
  SINEW_LOSS_CALL(l1_loss)
};

using L1Loss = L1LossT<float>;

// functional::smooth_l1_loss: quadratic below beta, linear above.
template <class T = float>
class SmoothL1LossT : public detail::Loss<SmoothL1LossT<T>, SmoothL1LossOptions, T> {
 public:
  explicit SmoothL1LossT(SmoothL1LossOptions options = {})
      : detail::Loss<SmoothL1LossT<T>, SmoothL1LossOptions, T>("SmoothL1Loss", options) {
    SINEW_CHECK(options.beta >= 0, "SmoothL1Loss", "beta must be >= 0, got ", options.beta);
  }
  SINEW_LOSS_CALL(smooth_l1_loss)
};

using SmoothL1Loss = SmoothL1LossT<float>;

// functional::huber_loss: quadratic below delta, delta-sloped linear above.
template <class T = float>
class HuberLossT : public detail::Loss<HuberLossT<T>, HuberLossOptions, T> {
 public:
  explicit HuberLossT(HuberLossOptions options = {})
      : detail::Loss<HuberLossT<T>, HuberLossOptions, T>("HuberLoss", options) {
    SINEW_CHECK(options.delta > 0, "HuberLoss", "delta must be > 0, got ", options.delta);
  }
  SINEW_LOSS_CALL(huber_loss)
};

using HuberLoss = HuberLossT<float>;

// Binary cross-entropy on probabilities (functional::binary_cross_entropy); weight is a buffer.
template <class T = float>
class BCELossT : public detail::Loss<BCELossT<T>, BCELossOptions<T>, T> {
 public:
  explicit BCELossT(BCELossOptions<T> options = {})
      : detail::Loss<BCELossT<T>, BCELossOptions<T>, T>("BCELoss", std::move(options)) {
    keep_weights(false);
  }
  void reset() override { keep_weights(true); }
  SINEW_LOSS_CALL(binary_cross_entropy)

 private:
  void keep_weights(bool copy) {
    this->options_.weight = this->keep_buffer("weight", this->options_.weight, copy);
  }
};

using BCELoss = BCELossT<float>;

// Binary cross-entropy on logits, numerically stable
// (functional::binary_cross_entropy_with_logits); weight and pos_weight are buffers.
template <class T = float>
class BCEWithLogitsLossT
    : public detail::Loss<BCEWithLogitsLossT<T>, BCEWithLogitsLossOptions<T>, T> {
 public:
  explicit BCEWithLogitsLossT(BCEWithLogitsLossOptions<T> options = {})
      : detail::Loss<BCEWithLogitsLossT<T>, BCEWithLogitsLossOptions<T>, T>("BCEWithLogitsLoss",
                                                                            std::move(options)) {
    keep_weights(false);
  }
  void reset() override { keep_weights(true); }
  SINEW_LOSS_CALL(binary_cross_entropy_with_logits)

 private:
  void keep_weights(bool copy) {
    this->options_.weight = this->keep_buffer("weight", this->options_.weight, copy);
    this->options_.pos_weight = this->keep_buffer("pos_weight", this->options_.pos_weight, copy);
  }
};

using BCEWithLogitsLoss = BCEWithLogitsLossT<float>;

// Negative log-likelihood of log-probabilities (functional::nll_loss): class indices as int64.
template <class T = float>
class NLLLossT : public detail::Loss<NLLLossT<T>, NLLLossOptions<T>, T> {
 public:
  explicit NLLLossT(NLLLossOptions<T> options = {})
      : detail::Loss<NLLLossT<T>, NLLLossOptions<T>, T>("NLLLoss", std::move(options)) {
    keep_weights(false);
  }
  void reset() override { keep_weights(true); }
  Tensor<T> forward(const Tensor<T>& input, const Tensor<int64_t>& target) {
    return functional::nll_loss(input, target, this->options_);
  }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<int64_t>& target) {
    return forward(input, target);
  }
  SINEW_LOSS_CALL(nll_loss)  // a floating target is an Error naming the fix

 private:
  void keep_weights(bool copy) {
    this->options_.weight = this->keep_buffer("weight", this->options_.weight, copy);
  }
};

using NLLLoss = NLLLossT<float>;

// log_softmax + nll_loss on logits (functional::cross_entropy): int64 class indices [N, d1, ...],
// or floating class probabilities of the input's shape.
template <class T = float>
class CrossEntropyLossT : public detail::Loss<CrossEntropyLossT<T>, CrossEntropyLossOptions<T>, T> {
 public:
  explicit CrossEntropyLossT(CrossEntropyLossOptions<T> options = {})
      : detail::Loss<CrossEntropyLossT<T>, CrossEntropyLossOptions<T>, T>("CrossEntropyLoss",
                                                                          std::move(options)) {
    const double eps = this->options_.label_smoothing;
    SINEW_CHECK(eps >= 0 && eps <= 1, "CrossEntropyLoss", "label_smoothing must be in [0, 1], got ",
                eps);
    keep_weights(false);
  }
  void reset() override { keep_weights(true); }
  Tensor<T> forward(const Tensor<T>& input, const Tensor<int64_t>& target) {
    return functional::cross_entropy(input, target, this->options_);
  }
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<int64_t>& target) {
    return forward(input, target);
  }
  SINEW_LOSS_CALL(cross_entropy)

 private:
  void keep_weights(bool copy) {
    this->options_.weight = this->keep_buffer("weight", this->options_.weight, copy);
  }
};

using CrossEntropyLoss = CrossEntropyLossT<float>;

// Kullback-Leibler divergence of log-probabilities from a target (functional::kl_div).
template <class T = float>
class KLDivLossT : public detail::Loss<KLDivLossT<T>, KLDivLossOptions, T> {
 public:
  explicit KLDivLossT(KLDivLossOptions options = {})
      : detail::Loss<KLDivLossT<T>, KLDivLossOptions, T>("KLDivLoss", options) {}
  SINEW_LOSS_CALL(kl_div)
};

using KLDivLoss = KLDivLossT<float>;

#undef SINEW_LOSS_CALL

// functional::cosine_embedding_loss: loss(input1, input2, target).
template <class T = float>
class CosineEmbeddingLossT
    : public detail::Loss<CosineEmbeddingLossT<T>, CosineEmbeddingLossOptions, T> {
 public:
  explicit CosineEmbeddingLossT(CosineEmbeddingLossOptions options = {})
      : detail::Loss<CosineEmbeddingLossT<T>, CosineEmbeddingLossOptions, T>("CosineEmbeddingLoss",
                                                                             options) {}
  Tensor<T> forward(const Tensor<T>& input1, const Tensor<T>& input2, const Tensor<T>& target) {
    return functional::cosine_embedding_loss(input1, input2, target, this->options_);
  }
  Tensor<T> operator()(const Tensor<T>& input1, const Tensor<T>& input2, const Tensor<T>& target) {
    return forward(input1, input2, target);
  }
};

using CosineEmbeddingLoss = CosineEmbeddingLossT<float>;

// functional::margin_ranking_loss: loss(input1, input2, target).
template <class T = float>
class MarginRankingLossT : public detail::Loss<MarginRankingLossT<T>, MarginRankingLossOptions, T> {
 public:
  explicit MarginRankingLossT(MarginRankingLossOptions options = {})
      : detail::Loss<MarginRankingLossT<T>, MarginRankingLossOptions, T>("MarginRankingLoss",
                                                                         options) {}
  Tensor<T> forward(const Tensor<T>& input1, const Tensor<T>& input2, const Tensor<T>& target) {
    return functional::margin_ranking_loss(input1, input2, target, this->options_);
  }
  Tensor<T> operator()(const Tensor<T>& input1, const Tensor<T>& input2, const Tensor<T>& target) {
    return forward(input1, input2, target);
  }
};

using MarginRankingLoss = MarginRankingLossT<float>;

}  // namespace sinew::nn
