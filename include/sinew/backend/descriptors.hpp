// The plain descriptors that ops hand to every backend's kernels: which dimensions a reduction
// covers, the geometry of a convolution and of a pooling window. No tensors, no device code, so a
// CPU kernel, a CUDA kernel's launch and a test all read the same structs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sinew::backend {

// A set of dimensions of a tensor of rank <= 64 (the reduced dims of a reduction, the flipped dims
// of flip): one bit per dimension, so it is passed by value and copied into a kernel's arguments.
// Reads like the std::vector<bool> it replaces: mask[d], mask.size() (the tensor's rank).
class DimMask {
 public:
  static constexpr int64_t kMaxDims = 64;

  constexpr DimMask() = default;
  // A mask over `ndim` dimensions with every bit `all` (ndim <= kMaxDims; the op checks).
  constexpr DimMask(int64_t ndim, bool all)
      : bits_(all ? (ndim >= kMaxDims ? ~uint64_t{0} : (uint64_t{1} << ndim) - 1) : 0),
        ndim_(static_cast<uint8_t>(ndim)) {}

  template <class I>
  constexpr bool operator[](I d) const {
    return ((bits_ >> static_cast<unsigned>(d)) & 1u) != 0;
  }
  template <class I>
  constexpr void set(I d, bool on = true) {
    const uint64_t bit = uint64_t{1} << static_cast<unsigned>(d);
    bits_ = on ? (bits_ | bit) : (bits_ & ~bit);
  }
  constexpr size_t size() const { return ndim_; }
  constexpr uint64_t bits() const { return bits_; }
  constexpr bool any() const { return bits_ != 0; }
  constexpr bool operator==(const DimMask&) const = default;

 private:
  uint64_t bits_ = 0;
  uint8_t ndim_ = 0;
};

// The sizes of one convolution. Vocabulary: an "image" [N, C, H, W] relates to a "grid"
// [N, O, gh, gw] (one cell per kernel placement) through a weight [O, C / G, kh, kw]; pad_* is the
// padding before the first pixel, the padding after it is implied by the grid size.
struct ConvGeometry {
  int64_t batch = 0, groups = 1;
  int64_t image_channels = 0, image_h = 0, image_w = 0;
  int64_t grid_channels = 0, grid_h = 0, grid_w = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

// The geometry of one pooling call over [planes, H, W] (planes = N * C); the op fills it and has
// checked it (kernels never check). Adaptive pooling uses only the sizes.
struct Pool2dParams {
  int64_t planes = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};

}  // namespace sinew::backend
