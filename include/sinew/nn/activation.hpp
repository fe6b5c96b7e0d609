// Activation modules (ReLU, LeakyReLU, ELU, SELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Hardtanh,
// PReLU, Maxout, Softmax, LogSoftmax) and the shape modules Identity, Flatten and Unflatten. Each
// forwards to the differentiable op of the same name (ops/elementwise.hpp, ops/reduce.hpp, or
// nn::functional below for selu, hardtanh, prelu and maxout), so its gradient is that op's.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sinew/nn/init.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/reduce.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

namespace functional {

// scale * elu(x, alpha) with PyTorch's constants (self-normalizing networks);
// d/dx = scale where x > 0, scale alpha e^x elsewhere.
template <class T>
Tensor<T> selu(const Tensor<T>& x) {
  constexpr double alpha = 1.6732632423543772848170429916717;
  constexpr double scale = 1.0507009873554804934193349852946;
  return elu(x, alpha) * scale;
}

// clamp(x, min_val, max_val);  d/dx = 1 where min_val < x < max_val, 0 elsewhere (both ends
// excluded, as PyTorch's hardtanh_backward, unlike clamp's).
template <class T>
Tensor<T> hardtanh(const Tensor<T>& x, double min_val = -1.0, double max_val = 1.0) {
  SINEW_CHECK(min_val <= max_val, "hardtanh", "min_val must be <= max_val, got ", min_val, " and ",
              max_val);
  Tensor<bool> inside = logical_and(x > min_val, x < max_val);
  return where(inside, x, clamp(x, min_val, max_val).detach());
}

// x where x > 0, w_c x elsewhere, with w [C] (or [1]) broadcast over the channel dim 1 of x
// ([N, C, ...]; an input with fewer than 2 dims has one channel);
// dL/dx = g or w_c g;  dL/dw_c = sum of g x over the elements of channel c where x <= 0.
template <class T>
Tensor<T> prelu(const Tensor<T>& x, const Tensor<T>& weight) {
  SINEW_CHECK(weight.dim() <= 1, "prelu", "weight must be 0-d or 1-d, got ", weight.shape());
  int64_t n = weight.numel();
  SINEW_CHECK(n == 1 || (x.dim() >= 2 && x.size(1) == n), "prelu", "weight of ", n,
              " parameters does not match input ", x.shape(),
              " (needs 1 parameter, or one per channel of dim 1)");
  Tensor<T> w = weight;
  if (n == 1) {
    w = weight.reshape({});
  } else {
    std::vector<int64_t> s(size_t(x.dim()), 1);
    s[1] = n;
    w = weight.reshape(s);
  }
  return where(x > 0.0, x, w * x);
}

// Maxout: dim 1 of x ([N, C, ...]) split into C / pieces consecutive groups of `pieces` features,
// y[:, j] = max of group j, so y is [N, C / pieces, ...];  dL/dx = g at each group's (first) max,
// 0 elsewhere.
template <class T>
Tensor<T> maxout(const Tensor<T>& x, int64_t pieces) {
  SINEW_CHECK(pieces >= 1, "maxout", "pieces must be >= 1, got ", pieces);
  SINEW_CHECK(x.dim() >= 2, "maxout", "expected an input [N, C, ...], got ", x.shape());
  SINEW_CHECK(x.size(1) % pieces == 0, "maxout", "features dim 1 of ", x.shape(),
              " is not divisible by pieces = ", pieces);
  Shape s = x.shape();
  s[1] = x.size(1) / pieces;
  s.insert(2, pieces);
  return max(x.reshape(s), 2).values;
}

}  // namespace functional

// max(x, 0).
template <class T = float>
class ReLUT : public Cloneable<ReLUT<T>, T> {
 public:
  ReLUT() : Cloneable<ReLUT<T>, T>("ReLU") {}
  Tensor<T> forward(const Tensor<T>& x) override { return relu(x); }
};

using ReLU = ReLUT<float>;

// x for x > 0, negative_slope x elsewhere.
template <class T = float>
class LeakyReLUT : public Cloneable<LeakyReLUT<T>, T> {
 public:
  explicit LeakyReLUT(double negative_slope = 0.01)
      : Cloneable<LeakyReLUT<T>, T>("LeakyReLU"), negative_slope_(negative_slope) {}
  Tensor<T> forward(const Tensor<T>& x) override { return leaky_relu(x, negative_slope_); }
  std::string extra_repr() const override {
    return sinew::detail::str("negative_slope=", negative_slope_);
  }

 private:
  double negative_slope_;
};

using LeakyReLU = LeakyReLUT<float>;

// x for x > 0, alpha (e^x - 1) elsewhere.
template <class T = float>
class ELUT : public Cloneable<ELUT<T>, T> {
 public:
  explicit ELUT(double alpha = 1.0) : Cloneable<ELUT<T>, T>("ELU"), alpha_(alpha) {}
  Tensor<T> forward(const Tensor<T>& x) override { return elu(x, alpha_); }
  std::string extra_repr() const override { return sinew::detail::str("alpha=", alpha_); }

 private:
  double alpha_;
};

using ELU = ELUT<float>;

// scale * ELU(x, alpha) with scale = 1.0507..., alpha = 1.6732... (Klambauer et al.).
template <class T = float>
class SELUT : public Cloneable<SELUT<T>, T> {
 public:
  SELUT() : Cloneable<SELUT<T>, T>("SELU") {}
  Tensor<T> forward(const Tensor<T>& x) override { return functional::selu(x); }
};

using SELU = SELUT<float>;

// clamp(x, min_val, max_val), gradient 1 strictly inside the range.
template <class T = float>
class HardtanhT : public Cloneable<HardtanhT<T>, T> {
 public:
  explicit HardtanhT(double min_val = -1.0, double max_val = 1.0)
      : Cloneable<HardtanhT<T>, T>("Hardtanh"), min_val_(min_val), max_val_(max_val) {
    SINEW_CHECK(min_val <= max_val, "Hardtanh", "min_val must be <= max_val, got ", min_val,
                " and ", max_val);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return functional::hardtanh(x, min_val_, max_val_);
  }
  std::string extra_repr() const override {
    return sinew::detail::str("min_val=", min_val_, ", max_val=", max_val_);
  }

 private:
  double min_val_;
  double max_val_;
};

using Hardtanh = HardtanhT<float>;

// x where x > 0, a_c x elsewhere, with a learnable `weight` [num_parameters] (1, or the number of
// channels of dim 1), initialized to `init`.
template <class T = float>
class PReLUT : public Cloneable<PReLUT<T>, T> {
 public:
  Tensor<T> weight;

  explicit PReLUT(int64_t num_parameters = 1, double init = 0.25)
      : Cloneable<PReLUT<T>, T>("PReLU"), num_parameters_(num_parameters), init_(init) {
    SINEW_CHECK(num_parameters >= 1, "PReLU", "num_parameters must be >= 1, got ", num_parameters);
    reset();
  }
  void reset() override {
    weight = this->register_parameter("weight", full<T>({num_parameters_}, init_));
  }
  Tensor<T> forward(const Tensor<T>& x) override { return functional::prelu(x, weight); }
  std::string extra_repr() const override {
    return sinew::detail::str("num_parameters=", num_parameters_);
  }

 private:
  int64_t num_parameters_;
  double init_;
};

using PReLU = PReLUT<float>;

// The max over consecutive groups of `pieces` features of dim 1 (Goodfellow et al.).
template <class T = float>
class MaxoutT : public Cloneable<MaxoutT<T>, T> {
 public:
  explicit MaxoutT(int64_t pieces) : Cloneable<MaxoutT<T>, T>("Maxout"), pieces_(pieces) {
    SINEW_CHECK(pieces >= 1, "Maxout", "pieces must be >= 1, got ", pieces);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return functional::maxout(x, pieces_); }
  std::string extra_repr() const override { return sinew::detail::str("pieces=", pieces_); }

 private:
  int64_t pieces_;
};

using Maxout = MaxoutT<float>;

// x Phi(x); approximate = "none" (erf) or "tanh".
template <class T = float>
class GELUT : public Cloneable<GELUT<T>, T> {
 public:
  explicit GELUT(std::string approximate = "none")
      : Cloneable<GELUT<T>, T>("GELU"), approximate_(std::move(approximate)) {
    SINEW_CHECK(approximate_ == "none" || approximate_ == "tanh", "GELU",
                "approximate must be 'none' or 'tanh', got '", approximate_, "'");
  }
  Tensor<T> forward(const Tensor<T>& x) override { return gelu(x, approximate_); }
  std::string extra_repr() const override {
    return sinew::detail::str("approximate='", approximate_, "'");
  }

 private:
  std::string approximate_;
};

using GELU = GELUT<float>;

// x sigmoid(x).
template <class T = float>
class SiLUT : public Cloneable<SiLUT<T>, T> {
 public:
  SiLUT() : Cloneable<SiLUT<T>, T>("SiLU") {}
  Tensor<T> forward(const Tensor<T>& x) override { return silu(x); }
};

using SiLU = SiLUT<float>;

// 1 / (1 + e^-x).
template <class T = float>
class SigmoidT : public Cloneable<SigmoidT<T>, T> {
 public:
  SigmoidT() : Cloneable<SigmoidT<T>, T>("Sigmoid") {}
  Tensor<T> forward(const Tensor<T>& x) override { return sigmoid(x); }
};

using Sigmoid = SigmoidT<float>;

template <class T = float>
class TanhT : public Cloneable<TanhT<T>, T> {
 public:
  TanhT() : Cloneable<TanhT<T>, T>("Tanh") {}
  Tensor<T> forward(const Tensor<T>& x) override { return tanh(x); }
};

using Tanh = TanhT<float>;

// log(1 + e^(beta x)) / beta, x itself where beta x > threshold.
template <class T = float>
class SoftplusT : public Cloneable<SoftplusT<T>, T> {
 public:
  explicit SoftplusT(double beta = 1.0, double threshold = 20.0)
      : Cloneable<SoftplusT<T>, T>("Softplus"), beta_(beta), threshold_(threshold) {
    SINEW_CHECK(beta != 0, "Softplus", "beta must be non-zero");
  }
  Tensor<T> forward(const Tensor<T>& x) override { return softplus(x, beta_, threshold_); }
  std::string extra_repr() const override {
    return sinew::detail::str("beta=", beta_, ", threshold=", threshold_);
  }

 private:
  double beta_;
  double threshold_;
};

using Softplus = SoftplusT<float>;

// e^x / sum(e^x) along dim (required, as PyTorch's implicit dim is deprecated).
template <class T = float>
class SoftmaxT : public Cloneable<SoftmaxT<T>, T> {
 public:
  explicit SoftmaxT(int64_t dim) : Cloneable<SoftmaxT<T>, T>("Softmax"), dim_(dim) {}
  Tensor<T> forward(const Tensor<T>& x) override { return softmax(x, dim_); }
  std::string extra_repr() const override { return sinew::detail::str("dim=", dim_); }

 private:
  int64_t dim_;
};

using Softmax = SoftmaxT<float>;

// x - logsumexp(x) along dim.
template <class T = float>
class LogSoftmaxT : public Cloneable<LogSoftmaxT<T>, T> {
 public:
  explicit LogSoftmaxT(int64_t dim) : Cloneable<LogSoftmaxT<T>, T>("LogSoftmax"), dim_(dim) {}
  Tensor<T> forward(const Tensor<T>& x) override { return log_softmax(x, dim_); }
  std::string extra_repr() const override { return sinew::detail::str("dim=", dim_); }

 private:
  int64_t dim_;
};

using LogSoftmax = LogSoftmaxT<float>;

// Returns its input (a placeholder, e.g. for a removed head).
template <class T = float>
class IdentityT : public Cloneable<IdentityT<T>, T> {
 public:
  IdentityT() : Cloneable<IdentityT<T>, T>("Identity") {}
  Tensor<T> forward(const Tensor<T>& x) override { return x; }
};

using Identity = IdentityT<float>;

// Merges dims start_dim..end_dim into one: [N, C, H, W] -> [N, C*H*W] by default (keeps the batch).
template <class T = float>
class FlattenT : public Cloneable<FlattenT<T>, T> {
 public:
  explicit FlattenT(int64_t start_dim = 1, int64_t end_dim = -1)
      : Cloneable<FlattenT<T>, T>("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor<T> forward(const Tensor<T>& x) override {
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

using Flatten = FlattenT<float>;

// Splits dim into `sizes` (one entry may be -1, inferred): Unflatten(1, {16, 7, 7}) turns
// [N, 784] into [N, 16, 7, 7]. The inverse of Flatten.
template <class T = float>
class UnflattenT : public Cloneable<UnflattenT<T>, T> {
 public:
  UnflattenT(int64_t dim, Shape sizes)
      : Cloneable<UnflattenT<T>, T>("Unflatten"), dim_(dim), sizes_(std::move(sizes)) {
    int64_t inferred = 0;
    for (int64_t s : sizes_) {
      SINEW_CHECK(s >= 0 || s == -1, "Unflatten", "sizes must be >= 0 or -1, got ", sizes_);
      inferred += s == -1;
    }
    SINEW_CHECK(!sizes_.empty() && inferred <= 1, "Unflatten",
                "sizes must be non-empty with at most one -1, got ", sizes_);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
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

using Unflatten = UnflattenT<float>;

}  // namespace sinew::nn
