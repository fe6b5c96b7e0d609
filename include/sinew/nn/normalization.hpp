// Normalization layers: BatchNorm1d, BatchNorm2d (running statistics as PyTorch-named buffers),
// LayerNorm, GroupNorm (the math is in ops/normalization.hpp, nn::functional).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/normalization.hpp"

namespace sinew::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  // Weight of the new batch statistics in the running ones; std::nullopt: a cumulative average
  // (1 / num_batches_tracked), as PyTorch's momentum=None.
  std::optional<double> momentum = 0.1;
  bool affine = true;               // learnable weight (init 1) and bias (init 0)
  bool track_running_stats = true;  // else batch statistics also in eval, and no buffers
};

namespace detail_norm {

// The shared body of BatchNorm1d and BatchNorm2d: parameters weight and bias [C], buffers
// running_mean (0), running_var (1) and num_batches_tracked (a 0-d count), PyTorch's names.
// Training normalizes with the batch's statistics and updates the running ones; eval uses the
// running ones (or the batch's without track_running_stats).
template <class Derived, class T>
class BatchNormBase : public Cloneable<Derived, T> {
 public:
  Tensor<T> weight, bias;                                    // undefined without affine
  Tensor<T> running_mean, running_var, num_batches_tracked;  // undefined without tracking

  BatchNormBase(const char* name, int64_t num_features, BatchNormOptions options)
      : Cloneable<Derived, T>(name), c_(num_features), options_(options) {
    SINEW_CHECK(num_features > 0, name, "num_features must be positive, got ", num_features);
    SINEW_CHECK(options.eps > 0, name, "eps must be positive, got ", options.eps);
    SINEW_CHECK(!options.momentum || (*options.momentum >= 0 && *options.momentum <= 1), name,
                "momentum must be in [0, 1], got ", options.momentum.value_or(0));
  }

  void reset() override {
    if (options_.affine) {
      weight = this->register_parameter("weight", ones<T>({c_}));
      bias = this->register_parameter("bias", zeros<T>({c_}));
    } else {
      weight = bias = Tensor<T>();
    }
    if (options_.track_running_stats) {
      running_mean = this->register_buffer("running_mean", zeros<T>({c_}));
      running_var = this->register_buffer("running_var", ones<T>({c_}));
      num_batches_tracked = this->register_buffer("num_batches_tracked", zeros<T>({}));
    } else {
      running_mean = running_var = num_batches_tracked = Tensor<T>();
    }
  }

  // Running statistics back to mean 0, variance 1, no batches seen.
  void reset_running_stats() {
    if (!options_.track_running_stats) return;
    NoGradGuard guard;
    running_mean.zero_();
    running_var.fill_(1.0);
    num_batches_tracked.zero_();
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    static_cast<Derived*>(this)->check_input(x);
    const bool training = this->is_training();
    if (training) {
      SINEW_CHECK(x.numel() / c_ > 1, where().c_str(),
                  "Expected more than 1 value per channel when training, got input ", x.shape());
    }
    double factor = 0.0;
    if (training && options_.track_running_stats) {
      NoGradGuard guard;
      num_batches_tracked.add_(1.0);
      factor = options_.momentum ? *options_.momentum : 1.0 / double(num_batches_tracked.item());
    }
    const bool use_running = !training && options_.track_running_stats;
    const bool update_running = training && options_.track_running_stats;
    return functional::batch_norm(x, use_running || update_running ? running_mean : Tensor<T>(),
                                  use_running || update_running ? running_var : Tensor<T>(), weight,
                                  bias,
                                  /*training=*/!use_running, factor, options_.eps);
  }

  int64_t num_features() const { return c_; }
  const BatchNormOptions& options() const { return options_; }
  // "BatchNorm2d(32)", how errors name the layer.
  std::string where() const { return sinew::detail::str(this->name(), "(", c_, ")"); }

  std::string extra_repr() const override {
    std::string momentum =
        options_.momentum ? sinew::detail::str(*options_.momentum) : std::string("None");
    return sinew::detail::str(
        c_, ", eps=", options_.eps, ", momentum=", momentum,
        ", affine=", options_.affine ? "true" : "false",
        ", track_running_stats=", options_.track_running_stats ? "true" : "false");
  }

 protected:
  int64_t c_;
  BatchNormOptions options_;
};

}  // namespace detail_norm

// Batch normalization over x [N, C] or [N, C, L] (per channel, over N and L).
template <class T = float>
class BatchNorm1dT : public detail_norm::BatchNormBase<BatchNorm1dT<T>, T> {
 public:
  explicit BatchNorm1dT(int64_t num_features, BatchNormOptions options = {})
      : detail_norm::BatchNormBase<BatchNorm1dT<T>, T>("BatchNorm1d", num_features, options) {
    this->reset();
  }
  void check_input(const Tensor<T>& x) const {
    const int64_t c = this->c_;
    SINEW_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(1) == c, this->where().c_str(),
                "expected input [N, ", c, "] or [N, ", c, ", L], got ", x.shape());
  }
};

using BatchNorm1d = BatchNorm1dT<float>;

// Batch normalization over x [N, C, H, W] (per channel, over N, H and W).
template <class T = float>
class BatchNorm2dT : public detail_norm::BatchNormBase<BatchNorm2dT<T>, T> {
 public:
  explicit BatchNorm2dT(int64_t num_features, BatchNormOptions options = {})
      : detail_norm::BatchNormBase<BatchNorm2dT<T>, T>("BatchNorm2d", num_features, options) {
    this->reset();
  }
  void check_input(const Tensor<T>& x) const {
    const int64_t c = this->c_;
    SINEW_CHECK(x.dim() == 4 && x.size(1) == c, this->where().c_str(), "expected input [N, ", c,
                ", H, W], got ", x.shape());
  }
};

using BatchNorm2d = BatchNorm2dT<float>;

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  // learnable weight (init 1) and bias (init 0) of that shape
};

// Normalizes over the trailing dims normalized_shape (see functional::layer_norm).
template <class T = float>
class LayerNormT : public Cloneable<LayerNormT<T>, T> {
 public:
  Tensor<T> weight, bias;  // normalized_shape, undefined without elementwise_affine

  explicit LayerNormT(Shape normalized_shape, LayerNormOptions options = {})
      : Cloneable<LayerNormT<T>, T>("LayerNorm"),
        shape_(std::move(normalized_shape)),
        options_(options) {
    SINEW_CHECK(shape_.size() >= 1, "LayerNorm", "normalized_shape must have at least one dim");
    for (int64_t d : shape_) {
      SINEW_CHECK(d > 0, "LayerNorm", "normalized_shape must have positive sizes, got ", shape_);
    }
    SINEW_CHECK(options.eps > 0, "LayerNorm", "eps must be positive, got ", options.eps);
    reset();
  }
  void reset() override {
    if (options_.elementwise_affine) {
      weight = this->register_parameter("weight", ones<T>(shape_));
      bias = this->register_parameter("bias", zeros<T>(shape_));
    } else {
      weight = bias = Tensor<T>();
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    int64_t d = shape_.size();
    bool fits = x.dim() >= d;
    for (int64_t i = 0; fits && i < d; ++i) fits = x.size(x.dim() - d + i) == shape_[i];
    if (!fits) {
      std::string dims;
      for (int64_t s : shape_) dims += sinew::detail::str(", ", s);
      std::string where = sinew::detail::str("LayerNorm(", shape_, ")");
      sinew::detail::fail(where.c_str(), "expected input [*", dims, "], got ", x.shape());
    }
    return functional::layer_norm(x, shape_, weight, bias, options_.eps);
  }
  const Shape& normalized_shape() const { return shape_; }
  const LayerNormOptions& options() const { return options_; }
  std::string extra_repr() const override {
    return sinew::detail::str(shape_, ", eps=", options_.eps, ", elementwise_affine=",
                              options_.elementwise_affine ? "true" : "false");
  }

 private:
  Shape shape_;
  LayerNormOptions options_;
};

using LayerNorm = LayerNormT<float>;

struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;  // learnable per-channel weight (init 1) and bias (init 0)
};

// Normalizes each group of num_channels / num_groups channels per sample (see
// functional::group_norm).
template <class T = float>
class GroupNormT : public Cloneable<GroupNormT<T>, T> {
 public:
  Tensor<T> weight, bias;  // [num_channels], undefined without affine

  GroupNormT(int64_t num_groups, int64_t num_channels, GroupNormOptions options = {})
      : Cloneable<GroupNormT<T>, T>("GroupNorm"),
        groups_(num_groups),
        c_(num_channels),
        options_(options) {
    SINEW_CHECK(num_groups > 0 && num_channels > 0 && num_channels % num_groups == 0, "GroupNorm",
                "num_channels (", num_channels, ") must be divisible by num_groups (", num_groups,
                "), both positive");
    SINEW_CHECK(options.eps > 0, "GroupNorm", "eps must be positive, got ", options.eps);
    reset();
  }
  void reset() override {
    if (options_.affine) {
      weight = this->register_parameter("weight", ones<T>({c_}));
      bias = this->register_parameter("bias", zeros<T>({c_}));
    } else {
      weight = bias = Tensor<T>();
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    if (x.dim() < 2 || x.size(1) != c_) {
      std::string where = sinew::detail::str("GroupNorm(", groups_, ", ", c_, ")");
      sinew::detail::fail(where.c_str(), "expected input [N, ", c_, ", *], got ", x.shape());
    }
    return functional::group_norm(x, groups_, weight, bias, options_.eps);
  }
  int64_t num_groups() const { return groups_; }
  int64_t num_channels() const { return c_; }
  const GroupNormOptions& options() const { return options_; }
  std::string extra_repr() const override {
    return sinew::detail::str(groups_, ", ", c_, ", eps=", options_.eps,
                              ", affine=", options_.affine ? "true" : "false");
  }

 private:
  int64_t groups_;
  int64_t c_;
  GroupNormOptions options_;
};

using GroupNorm = GroupNormT<float>;

}  // namespace sinew::nn
