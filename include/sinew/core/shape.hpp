// Shape: the sizes of a tensor's dimensions, plus stride, broadcast and dimension-index helpers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <vector>

#include "sinew/core/error.hpp"

namespace sinew {

// A list of dimension sizes (or strides). Prints as PyTorch does: [64, 784].
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}  // NOLINT: implicit on purpose
  template <class It>
  Shape(It first, It last) : dims_(first, last) {}

  int64_t size() const { return static_cast<int64_t>(dims_.size()); }
  bool empty() const { return dims_.empty(); }
  int64_t& operator[](int64_t i) { return dims_[static_cast<size_t>(i)]; }
  int64_t operator[](int64_t i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t back() const { return dims_.back(); }
  auto begin() const { return dims_.begin(); }
  auto end() const { return dims_.end(); }
  auto begin() { return dims_.begin(); }
  auto end() { return dims_.end(); }
  void push_back(int64_t d) { dims_.push_back(d); }
  void insert(int64_t pos, int64_t d) { dims_.insert(dims_.begin() + pos, d); }
  void erase(int64_t pos) { dims_.erase(dims_.begin() + pos); }
  void resize(int64_t n, int64_t v = 0) { dims_.resize(static_cast<size_t>(n), v); }
  const std::vector<int64_t>& vec() const { return dims_; }
  bool operator==(const Shape&) const = default;

  // The element count; 0 when any size is 0, whatever the others (so that a shape like
  // [2^32, 2^32, 0] does not overflow on the way).
  int64_t numel() const {
    for (int64_t d : dims_) {
      if (d == 0) return 0;
    }
    int64_t n = 1;
    for (int64_t d : dims_) n *= d;
    return n;
  }

 private:
  std::vector<int64_t> dims_;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << '[';
  for (int64_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << ']';
}

namespace detail {

// Row-major strides of a contiguous tensor of this shape.
inline Shape contiguous_strides(const Shape& shape) {
  Shape strides;
  strides.resize(shape.size());
  int64_t s = 1;
  for (int64_t i = shape.size() - 1; i >= 0; --i) {
    strides[i] = s;
    // Only a shape with a zero size can overflow here (check_sizes bounds the others), and an
    // empty tensor's strides are never used to address memory: the wrapped product is harmless.
    (void)__builtin_mul_overflow(s, std::max<int64_t>(shape[i], 1), &s);
  }
  return strides;
}

// Maps a possibly negative dimension index into [0, ndim), or raises naming the function.
inline int64_t wrap_dim(int64_t dim, int64_t ndim, const char* where) {
  int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  SINEW_CHECK(dim >= lo && dim <= hi, where, "dimension ", dim, " out of range for a ", ndim,
              "-d tensor (expected in [", lo, ", ", hi, "])");
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

// NumPy broadcasting of two shapes; raises naming the op and both shapes.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* where) {
  int64_t n = std::max(a.size(), b.size());
  Shape out;
  out.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SINEW_CHECK(da == db || da == 1 || db == 1, where, "shapes ", a, " and ", b,
                " do not broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// A shape a tensor can be made with: no negative size, and an element count that fits in int64
// (checked before anything is allocated).
inline void check_sizes(const Shape& shape, const char* where) {
  int64_t n = 1;
  bool overflow = false, empty = false;  // a zero size makes the count 0 whatever the others
  for (int64_t d : shape) {
    SINEW_CHECK(d >= 0, where, "negative size in shape ", shape);
    empty = empty || d == 0;
    overflow = overflow || __builtin_mul_overflow(n, d, &n);
  }
  SINEW_CHECK(empty || !overflow, where, "the shape ", shape,
              " has more elements than an int64 can count (2^63 - 1)");
}

}  // namespace detail
}  // namespace sinew
