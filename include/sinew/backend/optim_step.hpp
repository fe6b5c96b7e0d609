// The scalar hyperparameters of one fused optimizer step, as every backend's kernels take them
// (backend::cpu::sgd_step, adam_step, rmsprop_step, adagrad_step and their CUDA counterparts).
//
// Plain aggregates of doubles and bools: no tensors, no device code. The optimizer fills them per
// parameter (per-step scalars such as Adam's bias corrections are computed here in double, as
// Python floats are in PyTorch); each kernel casts the values it needs to the parameter's type
// once, so every backend sees the same numbers.
#pragma once

namespace sinew::backend {

// SGD (PyTorch 1.13): g <- -g if maximize;  g <- g + weight_decay * p;
// with a momentum buffer b:  b <- g on the first step, else b <- momentum * b + (1 - dampening) *
// g; g <- g + momentum * b (nesterov) or g <- b;  p <- p - lr * g.
struct SgdStep {
  double lr = 0;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
  bool first_step = false;  // the momentum buffer is filled with g (its old values are ignored)
};

// Adam / AdamW (PyTorch 1.13, single-tensor): g <- -g if maximize;
// decoupled: p <- p * (1 - lr * weight_decay), else g <- g + weight_decay * p;
// m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2;
// amsgrad: vmax <- max(vmax, v) replaces v below;
// p <- p - step_size * m / (sqrt(v) / bias_correction2_sqrt + eps).
struct AdamStep {
  double lr = 0;                     // for the decoupled decay
  double step_size = 0;              // lr / (1 - beta1^t)
  double bias_correction2_sqrt = 1;  // sqrt(1 - beta2^t)
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled = false;  // AdamW
  bool amsgrad = false;
  bool maximize = false;
};

// RMSprop (PyTorch 1.13): g <- -g if maximize;  g <- g + weight_decay * p;
// v <- alpha * v + (1 - alpha) * g^2;
// centered: a <- alpha * a + (1 - alpha) * g, avg = sqrt(v - a^2) + eps, else avg = sqrt(v) + eps;
// momentum > 0: b <- momentum * b + g / avg, p <- p - lr * b;  else p <- p - lr * g / avg.
struct RmspropStep {
  double lr = 0;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
};

// Adagrad (PyTorch 1.13): g <- -g if maximize;  g <- g + weight_decay * p;
// s <- s + g^2;  p <- p - clr * g / (sqrt(s) + eps).
struct AdagradStep {
  double clr = 0;  // lr / (1 + (t - 1) * lr_decay), the decayed rate of this step
  double eps = 1e-10;
  double weight_decay = 0;
  bool maximize = false;
};

// ---- the scalars a kernel computes with --------------------------------------------------------
// Each step's values cast from the descriptor's doubles to the parameter's type T once, with the
// derived constants (1 - beta1, ...): the CPU kernels (backend/cpu/optim.hpp) and the CUDA kernels'
// parameters (kernels/optim.cuh, member for member) compute with the same numbers.

template <class T>
struct SgdScalars {
  T wd, mu, damp, lr;
  bool has_wd, nesterov, maximize, first;
};
template <class T>
struct AdamScalars {
  T b1, b2, one_b1, one_b2, wd, decay, step_size, c2_sqrt, eps;
  bool maximize, decay_param, decay_grad;
};
template <class T>
struct RmspropScalars {
  T alpha, one_alpha, wd, eps, mu, lr;
  bool has_wd, maximize;
};
template <class T>
struct AdagradScalars {
  T wd, eps, clr;
  bool has_wd, maximize;
};

template <class T>
SgdScalars<T> sgd_scalars(const SgdStep& s) {
  return {static_cast<T>(s.weight_decay),
          static_cast<T>(s.momentum),
          static_cast<T>(1 - s.dampening),
          static_cast<T>(s.lr),
          s.weight_decay != 0,
          s.nesterov,
          s.maximize,
          s.first_step};
}
template <class T>
AdamScalars<T> adam_scalars(const AdamStep& s) {
  const bool has_wd = s.weight_decay != 0;
  return {static_cast<T>(s.beta1),        static_cast<T>(s.beta2),
          static_cast<T>(1 - s.beta1),    static_cast<T>(1 - s.beta2),
          static_cast<T>(s.weight_decay), static_cast<T>(1 - s.lr * s.weight_decay),
          static_cast<T>(s.step_size),    static_cast<T>(s.bias_correction2_sqrt),
          static_cast<T>(s.eps),          s.maximize,
          has_wd && s.decoupled,          has_wd && !s.decoupled};
}
template <class T>
RmspropScalars<T> rmsprop_scalars(const RmspropStep& s) {
  return {static_cast<T>(s.alpha),
          static_cast<T>(1 - s.alpha),
          static_cast<T>(s.weight_decay),
          static_cast<T>(s.eps),
          static_cast<T>(s.momentum),
          static_cast<T>(s.lr),
          s.weight_decay != 0,
          s.maximize};
}
template <class T>
AdagradScalars<T> adagrad_scalars(const AdagradStep& s) {
  return {static_cast<T>(s.weight_decay), static_cast<T>(s.eps), static_cast<T>(s.clr),
          s.weight_decay != 0, s.maximize};
}

}  // namespace sinew::backend
