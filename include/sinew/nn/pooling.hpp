// Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d (the
// math is in ops/pool.hpp, nn::functional).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sinew/nn/module.hpp"
#include "sinew/ops/pool.hpp"

namespace sinew::nn {

namespace detail_pool {

// 1-d layers pass {1, size} (and {0, padding}); their messages show only the size.
inline void check_window(const char* layer, IntPair k, IntPair stride, IntPair pad, IntPair dil,
                         bool one_d) {
  auto show = [one_d](IntPair v) {
    return one_d ? sinew::detail::str(v.w) : sinew::detail::str(v);
  };
  SINEW_CHECK(k.h > 0 && k.w > 0, layer, "kernel_size must be positive, got ", show(k));
  SINEW_CHECK(stride.h > 0 && stride.w > 0, layer, "stride must be positive, got ", show(stride));
  SINEW_CHECK(dil.h > 0 && dil.w > 0, layer, "dilation must be positive, got ", show(dil));
  SINEW_CHECK(pad.h >= 0 && pad.w >= 0 && pad.h <= k.h / 2 && pad.w <= k.w / 2, layer,
              "padding must be between 0 and half the kernel size, got padding ", show(pad),
              " for kernel_size ", show(k));
}

inline const char* flag(bool b) { return b ? "true" : "false"; }

}  // namespace detail_pool

// ---- max pooling
// ----------------------------------------------------------------------------------

struct MaxPool2dOptions {
  std::optional<IntPair> stride = std::nullopt;  // kernel_size when not given
  IntPair padding = 0;
  IntPair dilation = 1;
  bool ceil_mode = false;
  bool return_indices = false;  // PyTorch parity; forward_with_indices() always returns them
};

// y = the max over each window of x [N, C, H, W] or [C, H, W] (see functional::max_pool2d);
// forward_with_indices also gives each max's flat h W + w position in its plane, as PyTorch's
// return_indices = True.
template <class T = float>
class MaxPool2dT : public Cloneable<MaxPool2dT<T>, T> {
 public:
  explicit MaxPool2dT(IntPair kernel_size, MaxPool2dOptions options = {})
      : Cloneable<MaxPool2dT<T>, T>("MaxPool2d"), kernel_(kernel_size), options_(options) {
    detail_pool::check_window("MaxPool2d", kernel_, stride(), options_.padding, options_.dilation,
                              false);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return forward_with_indices(x).values; }
  ValuesIndices<T> forward_with_indices(const Tensor<T>& x) {
    return functional::max_pool2d_with_indices(x, kernel_, stride(), options_.padding,
                                               options_.dilation, options_.ceil_mode);
  }
  IntPair kernel_size() const { return kernel_; }
  IntPair stride() const { return options_.stride.value_or(kernel_); }
  const MaxPool2dOptions& options() const { return options_; }
  std::string extra_repr() const override {
    return sinew::detail::str("kernel_size=", kernel_, ", stride=", stride(),
                              ", padding=", options_.padding, ", dilation=", options_.dilation,
                              ", ceil_mode=", detail_pool::flag(options_.ceil_mode));
  }

 private:
  IntPair kernel_;
  MaxPool2dOptions options_;
};

using MaxPool2d = MaxPool2dT<float>;

struct MaxPool1dOptions {
  std::optional<int64_t> stride = std::nullopt;  // kernel_size when not given
  int64_t padding = 0;
  int64_t dilation = 1;
  bool ceil_mode = false;
  bool return_indices = false;  // PyTorch parity; forward_with_indices() always returns them
};

// y = the max over each window of x [N, C, L] or [C, L] (see functional::max_pool1d).
template <class T = float>
class MaxPool1dT : public Cloneable<MaxPool1dT<T>, T> {
 public:
  explicit MaxPool1dT(int64_t kernel_size, MaxPool1dOptions options = {})
      : Cloneable<MaxPool1dT<T>, T>("MaxPool1d"), kernel_(kernel_size), options_(options) {
    detail_pool::check_window("MaxPool1d", {1, kernel_}, {1, stride()}, {0, options_.padding},
                              {1, options_.dilation}, true);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return forward_with_indices(x).values; }
  ValuesIndices<T> forward_with_indices(const Tensor<T>& x) {
    return functional::max_pool1d_with_indices(x, kernel_, stride(), options_.padding,
                                               options_.dilation, options_.ceil_mode);
  }
  int64_t kernel_size() const { return kernel_; }
  int64_t stride() const { return options_.stride.value_or(kernel_); }
  const MaxPool1dOptions& options() const { return options_; }
  std::string extra_repr() const override {
    return sinew::detail::str("kernel_size=", kernel_, ", stride=", stride(),
                              ", padding=", options_.padding, ", dilation=", options_.dilation,
                              ", ceil_mode=", detail_pool::flag(options_.ceil_mode));
  }

 private:
  int64_t kernel_;
  MaxPool1dOptions options_;
};

using MaxPool1d = MaxPool1dT<float>;

// ---- average pooling
// ------------------------------------------------------------------------------

struct AvgPool2dOptions {
  std::optional<IntPair> stride = std::nullopt;  // kernel_size when not given
  IntPair padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::optional<int64_t> divisor_override = std::nullopt;
};

// y = the mean over each window of x [N, C, H, W] or [C, H, W] (see functional::avg_pool2d).
template <class T = float>
class AvgPool2dT : public Cloneable<AvgPool2dT<T>, T> {
 public:
  explicit AvgPool2dT(IntPair kernel_size, AvgPool2dOptions options = {})
      : Cloneable<AvgPool2dT<T>, T>("AvgPool2d"), kernel_(kernel_size), options_(options) {
    detail_pool::check_window("AvgPool2d", kernel_, stride(), options_.padding, 1, false);
    SINEW_CHECK(!options_.divisor_override || *options_.divisor_override > 0, "AvgPool2d",
                "divisor_override must be positive, got ", options_.divisor_override.value_or(0));
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return functional::avg_pool2d(x, kernel_, stride(), options_.padding, options_.ceil_mode,
                                  options_.count_include_pad, options_.divisor_override);
  }
  IntPair kernel_size() const { return kernel_; }
  IntPair stride() const { return options_.stride.value_or(kernel_); }
  const AvgPool2dOptions& options() const { return options_; }
  std::string extra_repr() const override {
    return sinew::detail::str("kernel_size=", kernel_, ", stride=", stride(),
                              ", padding=", options_.padding);
  }

 private:
  IntPair kernel_;
  AvgPool2dOptions options_;
};

using AvgPool2d = AvgPool2dT<float>;

struct AvgPool1dOptions {
  std::optional<int64_t> stride = std::nullopt;  // kernel_size when not given
  int64_t padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

// y = the mean over each window of x [N, C, L] or [C, L] (see functional::avg_pool1d).
template <class T = float>
class AvgPool1dT : public Cloneable<AvgPool1dT<T>, T> {
 public:
  explicit AvgPool1dT(int64_t kernel_size, AvgPool1dOptions options = {})
      : Cloneable<AvgPool1dT<T>, T>("AvgPool1d"), kernel_(kernel_size), options_(options) {
    detail_pool::check_window("AvgPool1d", {1, kernel_}, {1, stride()}, {0, options_.padding}, 1,
                              true);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return functional::avg_pool1d(x, kernel_, stride(), options_.padding, options_.ceil_mode,
                                  options_.count_include_pad);
  }
  int64_t kernel_size() const { return kernel_; }
  int64_t stride() const { return options_.stride.value_or(kernel_); }
  const AvgPool1dOptions& options() const { return options_; }
  std::string extra_repr() const override {
    return sinew::detail::str("kernel_size=", kernel_, ", stride=", stride(),
                              ", padding=", options_.padding);
  }

 private:
  int64_t kernel_;
  AvgPool1dOptions options_;
};

using AvgPool1d = AvgPool1dT<float>;

// ---- adaptive pooling
// -----------------------------------------------------------------------------

// y [N, C, out_h, out_w] = the mean of PyTorch's adaptive bins (see
// functional::adaptive_avg_pool2d).
template <class T = float>
class AdaptiveAvgPool2dT : public Cloneable<AdaptiveAvgPool2dT<T>, T> {
 public:
  explicit AdaptiveAvgPool2dT(IntPair output_size)
      : Cloneable<AdaptiveAvgPool2dT<T>, T>("AdaptiveAvgPool2d"), out_(output_size) {
    SINEW_CHECK(out_.h >= 1 && out_.w >= 1, "AdaptiveAvgPool2d",
                "output_size must be positive, got ", out_);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return functional::adaptive_avg_pool2d(x, out_);
  }
  IntPair output_size() const { return out_; }
  std::string extra_repr() const override { return sinew::detail::str("output_size=", out_); }

 private:
  IntPair out_;
};

using AdaptiveAvgPool2d = AdaptiveAvgPool2dT<float>;

// y [N, C, out] = the mean of PyTorch's adaptive bins along L.
template <class T = float>
class AdaptiveAvgPool1dT : public Cloneable<AdaptiveAvgPool1dT<T>, T> {
 public:
  explicit AdaptiveAvgPool1dT(int64_t output_size)
      : Cloneable<AdaptiveAvgPool1dT<T>, T>("AdaptiveAvgPool1d"), out_(output_size) {
    SINEW_CHECK(out_ >= 1, "AdaptiveAvgPool1d", "output_size must be positive, got ", out_);
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    return functional::adaptive_avg_pool1d(x, out_);
  }
  int64_t output_size() const { return out_; }
  std::string extra_repr() const override { return sinew::detail::str("output_size=", out_); }

 private:
  int64_t out_;
};

using AdaptiveAvgPool1d = AdaptiveAvgPool1dT<float>;

struct AdaptiveMaxPoolOptions {
  bool return_indices = false;  // PyTorch parity; forward_with_indices() always returns them
};

// y [N, C, out_h, out_w] = the max of each adaptive bin; forward_with_indices adds its flat
// per-plane position.
template <class T = float>
class AdaptiveMaxPool2dT : public Cloneable<AdaptiveMaxPool2dT<T>, T> {
 public:
  explicit AdaptiveMaxPool2dT(IntPair output_size, AdaptiveMaxPoolOptions options = {})
      : Cloneable<AdaptiveMaxPool2dT<T>, T>("AdaptiveMaxPool2d"),
        out_(output_size),
        options_(options) {
    SINEW_CHECK(out_.h >= 1 && out_.w >= 1, "AdaptiveMaxPool2d",
                "output_size must be positive, got ", out_);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return forward_with_indices(x).values; }
  ValuesIndices<T> forward_with_indices(const Tensor<T>& x) {
    return functional::adaptive_max_pool2d_with_indices(x, out_);
  }
  IntPair output_size() const { return out_; }
  const AdaptiveMaxPoolOptions& options() const { return options_; }
  std::string extra_repr() const override { return sinew::detail::str("output_size=", out_); }

 private:
  IntPair out_;
  AdaptiveMaxPoolOptions options_;
};

using AdaptiveMaxPool2d = AdaptiveMaxPool2dT<float>;

// y [N, C, out] = the max of each adaptive bin along L.
template <class T = float>
class AdaptiveMaxPool1dT : public Cloneable<AdaptiveMaxPool1dT<T>, T> {
 public:
  explicit AdaptiveMaxPool1dT(int64_t output_size, AdaptiveMaxPoolOptions options = {})
      : Cloneable<AdaptiveMaxPool1dT<T>, T>("AdaptiveMaxPool1d"),
        out_(output_size),
        options_(options) {
    SINEW_CHECK(out_ >= 1, "AdaptiveMaxPool1d", "output_size must be positive, got ", out_);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return forward_with_indices(x).values; }
  ValuesIndices<T> forward_with_indices(const Tensor<T>& x) {
    return functional::adaptive_max_pool1d_with_indices(x, out_);
  }
  int64_t output_size() const { return out_; }
  const AdaptiveMaxPoolOptions& options() const { return options_; }
  std::string extra_repr() const override { return sinew::detail::str("output_size=", out_); }

 private:
  int64_t out_;
  AdaptiveMaxPoolOptions options_;
};

using AdaptiveMaxPool1d = AdaptiveMaxPool1dT<float>;

}  // namespace sinew::nn
