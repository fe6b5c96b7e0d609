// Per-example transforms of images [C, H, W] (float, CPU), as torchvision.transforms.
//
//   namespace T = data::transforms;
//   data::DataLoader loader(train_set, {.batch_size = 64, .shuffle = true,
//                                       .transform = T::Compose{T::RandomCrop(28, 2),
//                                                               T::RandomHorizontalFlip(),
//                                                               T::Normalize({0.2860},
//                                                               {0.3530})}});
//
// Each transform is a small callable class: image = t(image, gen). The random ones draw from
// `gen` only (the DataLoader gives every example its own generator, seeded from the loader's
// seed, the epoch and the example's index), so a generator's state fixes the result. They return
// new tensors and never modify their input (a dataset's examples are views of its storage).
// Geometry follows torchvision: a positive angle turns the content counter-clockwise, about the
// centre ((W - 1) / 2, (H - 1) / 2) in pixel coordinates, sampled bilinearly with zeros outside
// the image; RandomCrop pads with zeros. Multiples of 90 degrees use exact sines and cosines, so
// those rotations move pixels without blending them.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/core/error.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::data::transforms {

// What a DataLoader over Example<float> takes as its transform; every class here converts to it.
using TransformFn = std::function<Tensor<float>(Tensor<float>, Generator&)>;

// The functions and call operators below that work on tensors are templates with a defaulted
// parameter (rather than plain inline functions) so that a program instantiates the tensor code
// they use only when it applies a transform.

namespace detail {

template <class D = void>
Tensor<float> checked_image(const Tensor<float>& image, const char* where) {
  SINEW_CHECK(image.defined(), where, "the image is undefined");
  SINEW_CHECK(image.dim() == 3, where, "expected an image [C, H, W], got shape ", image.shape());
  SINEW_CHECK(image.is_cpu(), where, "transforms run on CPU images, got one on ", image.device());
  return image.contiguous();
}

// out(c, y, x) = in(c, sy, sx), bilinear with zeros outside, where the source point is
// (sx, sy) = centre + inverse (out point - centre - shift) for the 2x2 matrix `inverse` (rows).
template <class D = void>
Tensor<float> warp(const Tensor<float>& src, const std::array<double, 4>& inverse, double shift_x,
                   double shift_y) {
  const int64_t c = src.size(0), h = src.size(1), w = src.size(2);
  Tensor<float> out = empty<float>({c, h, w});
  const float* in = src.data_ptr();
  float* o = out.data_ptr();
  const double cx = static_cast<double>(w - 1) / 2, cy = static_cast<double>(h - 1) / 2;
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const double u = static_cast<double>(x) - cx - shift_x;
      const double v = static_cast<double>(y) - cy - shift_y;
      const double sx = cx + inverse[0] * u + inverse[1] * v;
      const double sy = cy + inverse[2] * u + inverse[3] * v;
      const double x0 = std::floor(sx), y0 = std::floor(sy);
      const double fx = sx - x0, fy = sy - y0;
      const int64_t ix = static_cast<int64_t>(x0), iy = static_cast<int64_t>(y0);
      // The four neighbours and their weights; a neighbour outside the image (or of weight 0,
      // so an exact grid point reads one pixel) adds nothing.
      const int64_t nx[4] = {ix, ix + 1, ix, ix + 1};
      const int64_t ny[4] = {iy, iy, iy + 1, iy + 1};
      const double wt[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* plane = in + ch * h * w;
        double acc = 0;
        for (int k = 0; k < 4; ++k) {
          if (wt[k] != 0 && nx[k] >= 0 && nx[k] < w && ny[k] >= 0 && ny[k] < h) {
            acc += wt[k] * static_cast<double>(plane[ny[k] * w + nx[k]]);
          }
        }
        o[(ch * h + y) * w + x] = static_cast<float>(acc);
      }
    }
  }
  return out;
}

// cos and sin of an angle in degrees, exact at multiples of 90.
inline std::pair<double, double> cos_sin_degrees(double degrees) {
  const double turns = degrees / 90;
  if (turns == std::round(turns)) {
    const auto q = ((static_cast<int64_t>(std::round(turns)) % 4) + 4) % 4;
    constexpr double c[4] = {1, 0, -1, 0}, s[4] = {0, 1, 0, -1};
    return {c[q], s[q]};
  }
  const double r = degrees * 3.14159265358979323846 / 180;
  return {std::cos(r), std::sin(r)};
}

// Rotation by `degrees` (counter-clockwise as displayed, y pointing down), scaling by `scale`
// and shifting by (tx, ty) pixels: the inverse map that warp takes.
template <class D = void>
Tensor<float> affine(const Tensor<float>& src, double degrees, double tx, double ty, double scale) {
  const auto [c, s] = cos_sin_degrees(degrees);
  return warp(src, {c / scale, -s / scale, s / scale, c / scale}, tx, ty);
}

inline double uniform(Generator& gen, double lo, double hi) {
  return lo + (hi - lo) * gen.uniform();
}

}  // namespace detail

// y[c] = (x[c] - mean[c]) / std[c] per channel; one value of mean or std applies to every channel.
class Normalize {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std)
      : mean_(std::move(mean)), std_(std::move(std)) {
    SINEW_CHECK(!mean_.empty() && !std_.empty(), "data::transforms::Normalize",
                "mean and std need at least one value each");
    for (size_t k = 0; k < std_.size(); ++k) {
      SINEW_CHECK(std_[k] != 0, "data::transforms::Normalize", "std[", k, "] is 0");
    }
  }

  template <class D = void>
  Tensor<float> operator()(const Tensor<float>& image) const {
    constexpr const char* where = "data::transforms::Normalize";
    const Tensor<float> src = detail::checked_image(image, where);
    const int64_t c = src.size(0), plane = src.size(1) * src.size(2);
    for (const std::vector<double>* v : {&mean_, &std_}) {
      SINEW_CHECK(v->size() == 1 || static_cast<int64_t>(v->size()) == c, where, "the image has ",
                  c, " channels but ", v == &mean_ ? "mean" : "std", " has ", v->size(), " values");
    }
    Tensor<float> out = empty<float>(src.shape());
    const float* in = src.data_ptr();
    float* o = out.data_ptr();
    for (int64_t ch = 0; ch < c; ++ch) {
      const auto m = static_cast<float>(mean_[mean_.size() == 1 ? 0 : static_cast<size_t>(ch)]);
      const auto s = static_cast<float>(std_[std_.size() == 1 ? 0 : static_cast<size_t>(ch)]);
      for (int64_t k = ch * plane; k < (ch + 1) * plane; ++k) o[k] = (in[k] - m) / s;
    }
    return out;
  }
  template <class D = void>
  Tensor<float> operator()(const Tensor<float>& image, Generator&) const {
    return (*this)(image);
  }

 private:
  std::vector<double> mean_, std_;
};

// Mirrors the image left-right with probability p (one draw from gen).
class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(double p = 0.5) : p_(p) {
    SINEW_CHECK(p >= 0 && p <= 1, "data::transforms::RandomHorizontalFlip", "p = ", p,
                " is not in [0, 1]");
  }

  template <class D = void>
  Tensor<float> operator()(const Tensor<float>& image, Generator& gen) const {
    const Tensor<float> src =
        detail::checked_image(image, "data::transforms::RandomHorizontalFlip");
    if (!(gen.uniform() < p_)) return src;
    const int64_t rows = src.size(0) * src.size(1), w = src.size(2);
    Tensor<float> out = empty<float>(src.shape());
    const float* in = src.data_ptr();
    float* o = out.data_ptr();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t x = 0; x < w; ++x) o[r * w + x] = in[r * w + (w - 1 - x)];
    }
    return out;
  }

 private:
  double p_;
};

// A size[0] x size[1] window at a random place of the image padded with `padding` zeros on each
// side (top drawn first, then left, each uniform over the places that fit).
class RandomCrop {
 public:
  explicit RandomCrop(int64_t size, int64_t padding = 0) : RandomCrop({size, size}, padding) {}
  RandomCrop(std::array<int64_t, 2> size, int64_t padding = 0) : size_(size), padding_(padding) {
    SINEW_CHECK(size[0] >= 1 && size[1] >= 1, "data::transforms::RandomCrop", "the size (", size[0],
                ", ", size[1], ") must be positive");
    SINEW_CHECK(padding >= 0, "data::transforms::RandomCrop", "padding must be >= 0, got ",
                padding);
  }

  template <class D = void>
  Tensor<float> operator()(const Tensor<float>& image, Generator& gen) const {
    constexpr const char* where = "data::transforms::RandomCrop";
    const Tensor<float> src = detail::checked_image(image, where);
    const int64_t c = src.size(0), h = src.size(1), w = src.size(2);
    const int64_t ph = h + 2 * padding_, pw = w + 2 * padding_;
    SINEW_CHECK(size_[0] <= ph && size_[1] <= pw, where, "the crop (", size_[0], ", ", size_[1],
                ") is larger than the padded image (", ph, ", ", pw, ")");
    const int64_t top = gen.randint(0, ph - size_[0] + 1);
    const int64_t left = gen.randint(0, pw - size_[1] + 1);
    Tensor<float> out = empty<float>({c, size_[0], size_[1]});
    const float* in = src.data_ptr();
    float* o = out.data_ptr();
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t i = 0; i < size_[0]; ++i) {
        const int64_t y = top + i - padding_;
        for (int64_t j = 0; j < size_[1]; ++j) {
          const int64_t x = left + j - padding_;
          const bool inside = y >= 0 && y < h && x >= 0 && x < w;
          o[(ch * size_[0] + i) * size_[1] + j] = inside ? in[(ch * h + y) * w + x] : 0.0f;
        }
      }
    }
    return out;
  }

 private:
  std::array<int64_t, 2> size_;
  int64_t padding_;
};

// Rotates by an angle drawn uniformly from [-degrees, degrees] (or [lo, hi]), counter-clockwise
// for positive angles, bilinear, zeros where the rotated image does not reach; the shape is kept.
class RandomRotation {
 public:
  explicit RandomRotation(double degrees) : RandomRotation(-checked(degrees), degrees) {}
  RandomRotation(double lo, double hi) : lo_(lo), hi_(hi) {
    SINEW_CHECK(lo <= hi, "data::transforms::RandomRotation", "the range [", lo, ", ", hi,
                "] is empty");
  }

  template <class D = void>
  Tensor<float> operator()(const Tensor<float>& image, Generator& gen) const {
    const Tensor<float> src = detail::checked_image(image, "data::transforms::RandomRotation");
    return detail::affine(src, detail::uniform(gen, lo_, hi_), 0, 0, 1);
  }

 private:
  static double checked(double degrees) {
    SINEW_CHECK(degrees >= 0, "data::transforms::RandomRotation", "degrees must be >= 0, got ",
                degrees, " (or give a range lo, hi)");
    return degrees;
  }

  double lo_, hi_;
};

// Rotation (angle uniform in [-degrees, degrees]), then a shift of up to translate[0] x W
// horizontally and translate[1] x H vertically (rounded to whole pixels, as torchvision), and a
// scale drawn from [scale[0], scale[1]], all about the centre; bilinear, zeros outside. The draws
// come in torchvision's order: angle, shift x, shift y, scale.
class RandomAffine {
 public:
  explicit RandomAffine(double degrees, std::array<double, 2> translate = {0, 0},
                        std::array<double, 2> scale = {1, 1})
      : degrees_(degrees), translate_(translate), scale_(scale) {
    constexpr const char* where = "data::transforms::RandomAffine";
    SINEW_CHECK(degrees >= 0, where, "degrees must be >= 0, got ", degrees);
    SINEW_CHECK(translate[0] >= 0 && translate[0] <= 1 && translate[1] >= 0 && translate[1] <= 1,
                where, "translate (", translate[0], ", ", translate[1], ") must be in [0, 1]");
    SINEW_CHECK(scale[0] > 0 && scale[0] <= scale[1], where, "scale (", scale[0], ", ", scale[1],
                ") must be a range 0 < lo <= hi");
  }

  template <class D = void>
  Tensor<float> operator()(const Tensor<float>& image, Generator& gen) const {
    const Tensor<float> src = detail::checked_image(image, "data::transforms::RandomAffine");
    const double angle = detail::uniform(gen, -degrees_, degrees_);
    const double max_dx = translate_[0] * static_cast<double>(src.size(2));
    const double max_dy = translate_[1] * static_cast<double>(src.size(1));
    const double tx = std::round(detail::uniform(gen, -max_dx, max_dx));
    const double ty = std::round(detail::uniform(gen, -max_dy, max_dy));
    const double s = detail::uniform(gen, scale_[0], scale_[1]);
    return detail::affine(src, angle, tx, ty, s);
  }

 private:
  double degrees_;
  std::array<double, 2> translate_, scale_;
};

// The transforms one after another, first to last.
class Compose {
 public:
  Compose(std::initializer_list<TransformFn> transforms)
      : Compose(std::vector<TransformFn>(transforms)) {}
  explicit Compose(std::vector<TransformFn> transforms) : transforms_(std::move(transforms)) {
    for (size_t k = 0; k < transforms_.size(); ++k) {
      SINEW_CHECK(static_cast<bool>(transforms_[k]), "data::transforms::Compose", "transform ", k,
                  " is empty");
    }
  }

  Tensor<float> operator()(Tensor<float> image, Generator& gen) const {
    for (const TransformFn& t : transforms_) image = t(std::move(image), gen);
    return image;
  }

  size_t size() const { return transforms_.size(); }

 private:
  std::vector<TransformFn> transforms_;
};

// A function as a transform: fn(image, gen), or fn(image) for one that draws nothing.
class Lambda {
 public:
  template <class F>
  requires std::is_invocable_r_v<Tensor<float>, F&, Tensor<float>, Generator&> ||
      std::is_invocable_r_v<Tensor<float>, F&, Tensor<float>> explicit Lambda(F fn) {
    if constexpr (std::is_invocable_r_v<Tensor<float>, F&, Tensor<float>, Generator&>) {
      fn_ = std::move(fn);
    } else {
      fn_ = [f = std::move(fn)](Tensor<float> image, Generator&) mutable {
        return f(std::move(image));
      };
    }
  }

  Tensor<float> operator()(Tensor<float> image, Generator& gen) const {
    return fn_(std::move(image), gen);
  }

 private:
  TransformFn fn_;
};

}  // namespace sinew::data::transforms
