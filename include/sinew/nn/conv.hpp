// Convolution layers nn::Conv1d, nn::Conv2d and nn::ConvTranspose2d: PyTorch's options, parameter
// names and layouts, default init and printing, over the ops in ops/conv.hpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "sinew/nn/init.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/conv.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew::nn {

struct Conv1dOptions {
  int64_t stride = 1;
  Padding1d padding = 0;  // an int, "same" (stride 1 only) or "valid"
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  std::string padding_mode = "zeros";  // "zeros", "reflect", "replicate" or "circular"
};

struct Conv2dOptions {
  IntPair stride = 1;
  Padding2d padding = 0;  // an int, a pair, "same" (stride 1 only) or "valid"
  IntPair dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  std::string padding_mode = "zeros";  // "zeros", "reflect", "replicate" or "circular"
};

struct ConvTranspose2dOptions {
  IntPair stride = 1;
  IntPair padding = 0;
  IntPair output_padding = 0;
  int64_t groups = 1;
  bool bias = true;
  IntPair dilation = 1;
};

namespace detail {

inline std::string tuple_str(const IntPair& p, int64_t nd) {
  return nd == 1 ? sinew::detail::str("(", p.w, ",)")
                 : sinew::detail::str("(", p.h, ", ", p.w, ")");
}

// The parts shared by the three layers: sizes, parameters, init, checks and printing. Sizes are
// kept as (h, w) pairs; a 1-d layer uses only w.
class ConvBase {
 protected:
  ConvBase(const char* name, int64_t nd, int64_t in, int64_t out, IntPair kernel, IntPair stride,
           Padding2d padding, IntPair dilation, IntPair output_padding, int64_t groups, bool bias,
           std::string padding_mode, bool transposed)
      : nd_(nd),
        in_(in),
        out_(out),
        kernel_(kernel),
        stride_(stride),
        padding_(padding),
        dilation_(dilation),
        output_padding_(output_padding),
        groups_(groups),
        bias_(bias),
        padding_mode_(std::move(padding_mode)),
        transposed_(transposed) {
    const std::string who =
        sinew::detail::str(name, "(", in, ", ", out, ", kernel_size=", tuple_str(kernel, nd), ")");
    const char* w = who.c_str();
    auto positive = [nd](const IntPair& p) { return p.w > 0 && (nd == 1 || p.h > 0); };
    SINEW_CHECK(in > 0 && out > 0, w, "in_channels and out_channels must be positive");
    SINEW_CHECK(groups > 0, w, "groups must be positive, got ", groups);
    SINEW_CHECK(in % groups == 0, w, "in_channels ", in, " must be divisible by groups ", groups);
    SINEW_CHECK(out % groups == 0, w, "out_channels ", out, " must be divisible by groups ",
                groups);
    SINEW_CHECK(positive(kernel), w, "kernel_size must be positive, got ", tuple_str(kernel, nd));
    SINEW_CHECK(positive(stride), w, "stride must be positive, got ", tuple_str(stride, nd));
    SINEW_CHECK(positive(dilation), w, "dilation must be positive, got ", tuple_str(dilation, nd));
    const std::string& m = padding.mode;
    SINEW_CHECK(m.empty() || m == "same" || m == "valid", w,
                "padding must be a size, \"same\" or \"valid\", got \"", m, "\"");
    SINEW_CHECK(padding.size.h >= 0 && padding.size.w >= 0, w, "padding must be non-negative, got ",
                tuple_str(padding.size, nd));
    SINEW_CHECK(m != "same" || (stride.w == 1 && (nd == 1 || stride.h == 1)), w,
                "padding=\"same\" is not supported for strided convolutions (stride ",
                tuple_str(stride, nd), ")");
    SINEW_CHECK(
        padding_mode_ == "zeros" || padding_mode_ == "reflect" || padding_mode_ == "replicate" ||
            padding_mode_ == "circular",
        w, "padding_mode must be \"zeros\", \"reflect\", \"replicate\" or \"circular\", got \"",
        padding_mode_, "\"");
    if (m == "same") {  // PyTorch: total d (k - 1) per dimension, the odd one after
      int64_t th = dilation.h * (kernel.h - 1), tw = dilation.w * (kernel.w - 1);
      pad_lo_ = {th / 2, tw / 2};
      pad_hi_ = {th - th / 2, tw - tw / 2};
    } else if (m.empty()) {
      pad_lo_ = pad_hi_ = padding.size;
    }
    if (nd == 1) pad_lo_.h = pad_hi_.h = 0;
  }

  // Creates and registers weight [out, in / groups, k...] (transposed: [in, out / groups, k...])
  // and bias, then draws them as PyTorch does.
  template <class T>
  void make_parameters(ModuleT<T>& m, Tensor<T>& weight, Tensor<T>& bias) {
    Shape ws = transposed_ ? Shape{in_, out_ / groups_} : Shape{out_, in_ / groups_};
    if (nd_ == 2) ws.push_back(kernel_.h);
    ws.push_back(kernel_.w);
    weight = m.register_parameter("weight", empty<T>(ws));
    bias = bias_ ? m.register_parameter("bias", empty<T>({out_})) : Tensor<T>();
    init_parameters(weight, bias);
  }

  // weight ~ kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
  // weight.size(1) * kernel area; bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  template <class T>
  static void init_parameters(Tensor<T>& weight, Tensor<T>& bias) {
    init::kaiming_uniform_(weight, {.a = std::sqrt(5.0)});
    if (bias.defined()) {
      int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).fan_in;
      double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
      init::uniform_(bias, -bound, bound);
    }
  }

  // "Conv2d(1, 32, kernel_size=(3, 3))": how errors name the layer.
  std::string short_name(const std::string& name) const {
    return sinew::detail::str(name, "(", in_, ", ", out_, ", kernel_size=", tuple_str(kernel_, nd_),
                              ")");
  }

  // Checks x against [N, C, *] / [C, *] with this layer's channel count.
  template <class T>
  void check_input(const std::string& name, const Tensor<T>& x) const {
    const int64_t c = in_;
    const bool rank = x.dim() == nd_ + 1 || x.dim() == nd_ + 2;
    const bool channels = rank && x.size(x.dim() - nd_ - 1) == c;
    SINEW_CHECK(rank && channels, short_name(name).c_str(), "expected input [N, ", c,
                nd_ == 1 ? ", L]" : ", H, W]", ", got ", x.shape());
  }

  // x padded with padding_mode (all but zeros, which the convolution does itself).
  template <class T>
  Tensor<T> mode_pad(const Tensor<T>& x) const {
    Shape pads{pad_lo_.w, pad_hi_.w};
    if (nd_ == 2) {
      pads.push_back(pad_lo_.h);
      pads.push_back(pad_hi_.h);
    }
    return functional::pad(x, pads, padding_mode_);
  }

  std::string repr() const {
    std::string s = sinew::detail::str(in_, ", ", out_, ", kernel_size=", tuple_str(kernel_, nd_),
                                       ", stride=", tuple_str(stride_, nd_));
    if (!padding_.mode.empty()) {
      s += ", padding=" + padding_.mode;
    } else if (padding_.size.w != 0 || (nd_ == 2 && padding_.size.h != 0)) {
      s += ", padding=" + tuple_str(padding_.size, nd_);
    }
    if (dilation_.w != 1 || (nd_ == 2 && dilation_.h != 1))
      s += ", dilation=" + tuple_str(dilation_, nd_);
    if (output_padding_.w != 0 || (nd_ == 2 && output_padding_.h != 0))
      s += ", output_padding=" + tuple_str(output_padding_, nd_);
    if (groups_ != 1) s += sinew::detail::str(", groups=", groups_);
    if (!bias_) s += ", bias=False";
    if (padding_mode_ != "zeros") s += ", padding_mode=" + padding_mode_;
    return s;
  }

  int64_t nd_, in_, out_;
  IntPair kernel_, stride_;
  Padding2d padding_;
  IntPair dilation_, output_padding_;
  int64_t groups_;
  bool bias_;
  std::string padding_mode_;
  bool transposed_;
  IntPair pad_lo_ = 0, pad_hi_ = 0;  // resolved padding (before, after) per dimension
};

}  // namespace detail

// y = conv1d(x, weight, bias): x [N, in, L] or [in, L] -> [N, out, Lo]; weight [out, in / groups,
// k], bias [out]. padding_mode other than "zeros" pads x with functional::pad first (as PyTorch).
template <class T = float>
class Conv1dT : public Cloneable<Conv1dT<T>, T>, private detail::ConvBase {
 public:
  Tensor<T> weight;
  Tensor<T> bias;  // undefined with {.bias = false}

  Conv1dT(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
          Conv1dOptions options = {})
      : Cloneable<Conv1dT<T>, T>("Conv1d"),
        ConvBase("Conv1d", 1, in_channels, out_channels, IntPair(1, kernel_size),
                 IntPair(1, options.stride),
                 options.padding.mode.empty() ? Padding2d(int64_t{0}, options.padding.size)
                                              : Padding2d(options.padding.mode),
                 IntPair(1, options.dilation), 0, options.groups, options.bias,
                 options.padding_mode, false),
        options_(std::move(options)) {
    reset();
  }

  void reset() override { make_parameters(*this, weight, bias); }
  void reset_parameters() { init_parameters(weight, bias); }

  Tensor<T> forward(const Tensor<T>& x) override {
    check_input("Conv1d", x);
    if (padding_mode_ != "zeros") {
      return functional::conv1d(
          mode_pad(x), weight, bias,
          {.stride = stride_.w, .padding = 0, .dilation = dilation_.w, .groups = groups_});
    }
    return functional::conv1d(x, weight, bias,
                              {.stride = stride_.w,
                               .padding = options_.padding,
                               .dilation = dilation_.w,
                               .groups = groups_});
  }

  const Conv1dOptions& options() const { return options_; }
  std::string extra_repr() const override { return repr(); }

 private:
  Conv1dOptions options_;
};

using Conv1d = Conv1dT<float>;

// y = conv2d(x, weight, bias): x [N, in, H, W] or [in, H, W] -> [N, out, Ho, Wo]; weight
// [out, in / groups, kH, kW] (PyTorch's layout), bias [out]. kernel_size, stride, padding and
// dilation are an int or a pair; padding may be "same" / "valid". padding_mode other than
// "zeros" pads x with functional::pad first (as PyTorch).  nn::Conv2d conv(1, 32, 3, {.padding =
// 1});
template <class T = float>
class Conv2dT : public Cloneable<Conv2dT<T>, T>, private detail::ConvBase {
 public:
  Tensor<T> weight;
  Tensor<T> bias;  // undefined with {.bias = false}

  Conv2dT(int64_t in_channels, int64_t out_channels, IntPair kernel_size,
          Conv2dOptions options = {})
      : Cloneable<Conv2dT<T>, T>("Conv2d"),
        ConvBase("Conv2d", 2, in_channels, out_channels, kernel_size, options.stride,
                 options.padding, options.dilation, 0, options.groups, options.bias,
                 options.padding_mode, false),
        options_(std::move(options)) {
    reset();
  }

  void reset() override { make_parameters(*this, weight, bias); }
  void reset_parameters() { init_parameters(weight, bias); }

  Tensor<T> forward(const Tensor<T>& x) override {
    check_input("Conv2d", x);
    if (padding_mode_ != "zeros") {
      return functional::conv2d(
          mode_pad(x), weight, bias,
          {.stride = stride_, .padding = 0, .dilation = dilation_, .groups = groups_});
    }
    return functional::conv2d(
        x, weight, bias,
        {.stride = stride_, .padding = options_.padding, .dilation = dilation_, .groups = groups_});
  }

  const Conv2dOptions& options() const { return options_; }
  std::string extra_repr() const override { return repr(); }

 private:
  Conv2dOptions options_;
};

using Conv2d = Conv2dT<float>;

// y = conv_transpose2d(x, weight, bias): x [N, in, H, W] or [in, H, W] -> [N, out, Ho, Wo] with
// Ho = (H - 1) sh - 2 ph + dh (kH - 1) + oph + 1; weight [in, out / groups, kH, kW] (PyTorch's
// layout), bias [out]. Init as PyTorch: fan_in = (out / groups) kH kW.
template <class T = float>
class ConvTranspose2dT : public Cloneable<ConvTranspose2dT<T>, T>, private detail::ConvBase {
 public:
  Tensor<T> weight;
  Tensor<T> bias;  // undefined with {.bias = false}

  ConvTranspose2dT(int64_t in_channels, int64_t out_channels, IntPair kernel_size,
                   ConvTranspose2dOptions options = {})
      : Cloneable<ConvTranspose2dT<T>, T>("ConvTranspose2d"),
        ConvBase("ConvTranspose2d", 2, in_channels, out_channels, kernel_size, options.stride,
                 options.padding, options.dilation, options.output_padding, options.groups,
                 options.bias, "zeros", true),
        options_(options) {
    const std::string who = short_name("ConvTranspose2d");
    auto ok = [&](int64_t op, int64_t s, int64_t d) { return op < s || op < d; };
    SINEW_CHECK(options.output_padding.h >= 0 && options.output_padding.w >= 0 &&
                    ok(options.output_padding.h, options.stride.h, options.dilation.h) &&
                    ok(options.output_padding.w, options.stride.w, options.dilation.w),
                who.c_str(), "output_padding ", detail::tuple_str(options.output_padding, 2),
                " must be non-negative and smaller than either stride ",
                detail::tuple_str(options.stride, 2), " or dilation ",
                detail::tuple_str(options.dilation, 2));
    reset();
  }

  void reset() override { make_parameters(*this, weight, bias); }
  void reset_parameters() { init_parameters(weight, bias); }

  Tensor<T> forward(const Tensor<T>& x) override {
    check_input("ConvTranspose2d", x);
    return functional::conv_transpose2d(x, weight, bias,
                                        {.stride = stride_,
                                         .padding = options_.padding,
                                         .output_padding = output_padding_,
                                         .groups = groups_,
                                         .dilation = dilation_});
  }

  const ConvTranspose2dOptions& options() const { return options_; }
  std::string extra_repr() const override { return repr(); }

 private:
  ConvTranspose2dOptions options_;
};

using ConvTranspose2d = ConvTranspose2dT<float>;

}  // namespace sinew::nn
