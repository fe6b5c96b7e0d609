// Activation modules (ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax,
// LogSoftmax) and the shape modules Identity, Flatten and Unflatten. Each forwards to the
// differentiable op of the same name (ops/elementwise.hpp, ops/reduce.hpp), so its gradient is that
// op's.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "sinew/nn/module.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

// max(x, 0).
class ReLU : public Cloneable<ReLU> {
 public:
  ReLU() : Cloneable("ReLU") {}
  Tensor<float> forward(const Tensor<float>& x) override { return relu(x); }
};

// x for x > 0, negative_slope x elsewhere.
class LeakyReLU : public Cloneable<LeakyReLU> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01)
      : Cloneable("LeakyReLU"), negative_slope_(negative_slope) {}
  Tensor<float> forward(const Tensor<float>& x) override { return leaky_relu(x, negative_slope_); }
  std::string extra_repr() const override {
    return sinew::detail::str("negative_slope=", negative_slope_);
  }

 private:
  double negative_slope_;
};

// x for x > 0, alpha (e^x - 1) elsewhere.
class ELU : public Cloneable<ELU> {
 public:
  explicit ELU(double alpha = 1.0) : Cloneable("ELU"), alpha_(alpha) {}
  Tensor<float> forward(const Tensor<float>& x) override { return elu(x, alpha_); }
  std::string extra_repr() const override { return sinew::detail::str("alpha=", alpha_); }

 private:
  double alpha_;
};

// x Phi(x); approximate = "none" (erf) or "tanh".
class GELU : public Cloneable<GELU> {
 public:
  explicit GELU(std::string approximate = "none")
      : Cloneable("GELU"), approximate_(std::move(approximate)) {
    SINEW_CHECK(approximate_ == "none" || approximate_ == "tanh", "GELU",
                "approximate must be 'none' or 'tanh', got '", approximate_, "'");
  }
  Tensor<float> forward(const Tensor<float>& x) override { return gelu(x, approximate_); }
  std::string extra_repr() const override {
    return sinew::detail::str("approximate='", approximate_, "'");
  }

 private:
  std::string approximate_;
};

// x sigmoid(x).
class SiLU : public Cloneable<SiLU> {
 public:
  SiLU() : Cloneable("SiLU") {}
  Tensor<float> forward(const Tensor<float>& x) override { return silu(x); }
};

// 1 / (1 + e^-x).
class Sigmoid : public Cloneable<Sigmoid> {
 public:
  Sigmoid() : Cloneable("Sigmoid") {}
  Tensor<float> forward(const Tensor<float>& x) override { return sigmoid(x); }
};

class Tanh : public Cloneable<Tanh> {
 public:
  Tanh() : Cloneable("Tanh") {}
  Tensor<float> forward(const Tensor<float>& x) override { return tanh(x); }
};

// log(1 + e^(beta x)) / beta, x itself where beta x > threshold.
class Softplus : public Cloneable<Softplus> {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : Cloneable("Softplus"), beta_(beta), threshold_(threshold) {
    SINEW_CHECK(beta != 0, "Softplus", "beta must be non-zero");
  }
  Tensor<float> forward(const Tensor<float>& x) override { return softplus(x, beta_, threshold_); }
  std::string extra_repr() const override {
    return sinew::detail::str("beta=", beta_, ", threshold=", threshold_);
  }

 private:
  double beta_;
  double threshold_;
};

// e^x / sum(e^x) along dim (required, as PyTorch's implicit dim is deprecated).
class Softmax : public Cloneable<Softmax> {
 public:
  explicit Softmax(int64_t dim) : Cloneable("Softmax"), dim_(dim) {}
  Tensor<float> forward(const Tensor<float>& x) override { return softmax(x, dim_); }
  std::string extra_repr() const override { return sinew::detail::str("dim=", dim_); }

 private:
  int64_t dim_;
};

// x - logsumexp(x) along dim.
class LogSoftmax : public Cloneable<LogSoftmax> {
 public:
  explicit LogSoftmax(int64_t dim) : Cloneable("LogSoftmax"), dim_(dim) {}
  Tensor<float> forward(const Tensor<float>& x) override { return log_softmax(x, dim_); }
  std::string extra_repr() const override { return sinew::detail::str("dim=", dim_); }

 private:
  int64_t dim_;
};

// Returns its input (a placeholder, e.g. for a removed head).
class Identity : public Cloneable<Identity> {
 public:
  Identity() : Cloneable("Identity") {}
  Tensor<float> forward(const Tensor<float>& x) override { return x; }
};

// Merges dims start_dim..end_dim into one: [N, C, H, W] -> [N, C*H*W] by default (keeps the batch).
class Flatten : public Cloneable<Flatten> {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Cloneable("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor<float> forward(const Tensor<float>& x) override {
    SINEW_CHECK(
        x.dim() > 0 || ((start_dim_ == 0 || start_dim_ == -1) && (end_dim_ == 0 || end_dim_ == -1)),
        "Flatten", "start_dim ", start_dim_, " and end_dim ", end_dim_,
        " are out of range for a 0-d input");
    return x.flatten(start_dim_, end_dim_);
  }
  std::string extra_repr() const override {
    return sinew::detail::str("start_dim=", start_dim_, ", end_dim=", end_dim_);
  }

 private:
  int64_t start_dim_;
  int64_t end_dim_;
};

// Splits dim into `sizes` (one entry may be -1, inferred): Unflatten(1, {16, 7, 7}) turns
// [N, 784] into [N, 16, 7, 7]. The inverse of Flatten.
class Unflatten : public Cloneable<Unflatten> {
 public:
  Unflatten(int64_t dim, Shape sizes)
      : Cloneable("Unflatten"), dim_(dim), sizes_(std::move(sizes)) {
    int64_t inferred = 0;
    for (int64_t s : sizes_) {
      SINEW_CHECK(s >= 0 || s == -1, "Unflatten", "sizes must be >= 0 or -1, got ", sizes_);
      inferred += s == -1;
    }
    SINEW_CHECK(!sizes_.empty() && inferred <= 1, "Unflatten",
                "sizes must be non-empty with at most one -1, got ", sizes_);
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    SINEW_CHECK(x.dim() > 0, "Unflatten",
                "needs an input with at least 1 dimension, got a 0-d one");
    int64_t d = sinew::detail::wrap_dim(dim_, x.dim(), "Unflatten");
    int64_t known = 1;
    bool has_inferred = false;
    for (int64_t s : sizes_) {
      if (s == -1) {
        has_inferred = true;
      } else {
        known *= s;
      }
    }
    SINEW_CHECK(has_inferred ? (known != 0 && x.size(d) % known == 0) : known == x.size(d),
                "Unflatten", "sizes ", sizes_, " do not split dim ", d, " of size ", x.size(d),
                " of input ", x.shape());
    Shape s(x.shape().begin(), x.shape().begin() + d);
    for (int64_t v : sizes_) s.push_back(v == -1 ? x.size(d) / known : v);
    for (int64_t i = d + 1; i < x.dim(); ++i) s.push_back(x.size(i));
    return x.reshape(s);
  }
  std::string extra_repr() const override {
    return sinew::detail::str("dim=", dim_, ", unflattened_size=", sizes_);
  }

 private:
  int64_t dim_;
  Shape sizes_;
};

}  // namespace sinew::nn
