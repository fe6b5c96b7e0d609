// IntPair: a 2-d size (kernel, stride, padding, dilation) given as one int or as (height, width).
#pragma once

#include <concepts>
#include <cstdint>
#include <ostream>

namespace sinew::nn {

// One int for both spatial dimensions, or a pair (height, width):
// {.stride = 2}, {.stride = {2, 1}}.
struct IntPair {
  int64_t h = 0, w = 0;
  template <std::integral I>
  IntPair(I v) : h(static_cast<int64_t>(v)), w(static_cast<int64_t>(v)) {}  // NOLINT: implicit
  IntPair(int64_t height, int64_t width) : h(height), w(width) {}
  bool square() const { return h == w; }
  bool operator==(const IntPair&) const = default;
};

// Prints "2" for a square size and "(2, 3)" otherwise, as PyTorch's pooling reprs do.
inline std::ostream& operator<<(std::ostream& os, const IntPair& s) {
  if (s.square()) return os << s.h;
  return os << "(" << s.h << ", " << s.w << ")";
}

}  // namespace sinew::nn
