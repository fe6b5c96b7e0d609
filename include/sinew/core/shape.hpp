// Shape: the sizes of a tensor's dimensions, plus stride, broadcast and dimension-index helpers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <ostream>
#include <vector>

#include "sinew/core/error.hpp"

namespace sinew {

// A list of dimension sizes (or strides). Prints as PyTorch does: [64, 784]. Up to kInline sizes
// are held in the object itself: making, copying and destroying the shape and strides of a tensor
// of up to six dimensions allocates nothing, which is most of what a small op costs.
class Shape {
 public:
  static constexpr int64_t kInline = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.size()); }
  Shape(const std::vector<int64_t>& dims) {  // NOLINT: implicit on purpose
    assign(dims.data(), dims.size());
  }
  template <std::input_iterator It>
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  Shape(const Shape& o) { assign(o.data(), static_cast<size_t>(o.size_)); }
  Shape(Shape&& o) noexcept { take(o); }
  Shape& operator=(const Shape& o) {
    if (this != &o) {
      size_ = 0;
      assign(o.data(), static_cast<size_t>(o.size_));
    }
    return *this;
  }
  Shape& operator=(Shape&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  ~Shape() { release(); }

  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t& operator[](int64_t i) { return data()[i]; }
  int64_t operator[](int64_t i) const { return data()[i]; }
  int64_t back() const { return data()[size_ - 1]; }
  int64_t& back() { return data()[size_ - 1]; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + size_; }
  int64_t* begin() { return data(); }
  int64_t* end() { return data() + size_; }
  void push_back(int64_t d) {
    reserve(size_ + 1);
    data()[size_++] = d;
  }
  void insert(int64_t pos, int64_t d) {
    reserve(size_ + 1);
    int64_t* p = data();
    std::copy_backward(p + pos, p + size_, p + size_ + 1);
    p[pos] = d;
    ++size_;
  }
  void erase(int64_t pos) {
    int64_t* p = data();
    std::copy(p + pos + 1, p + size_, p + pos);
    --size_;
  }
  void resize(int64_t n, int64_t v = 0) {
    reserve(n);
    int64_t* p = data();
    for (int64_t i = size_; i < n; ++i) p[i] = v;
    size_ = n;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  bool operator==(const Shape& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

  // The element count; 0 when any size is 0, whatever the others (so that a shape like
  // [2^32, 2^32, 0] does not overflow on the way).
  int64_t numel() const {
    for (int64_t d : *this) {
      if (d == 0) return 0;
    }
    int64_t n = 1;
    for (int64_t d : *this) n *= d;
    return n;
  }

 private:
  int64_t* data() { return heap_ != nullptr ? heap_ : inline_; }
  const int64_t* data() const { return heap_ != nullptr ? heap_ : inline_; }
  void assign(const int64_t* src, size_t n) {
    reserve(static_cast<int64_t>(n));
    std::copy(src, src + n, data());
    size_ = static_cast<int64_t>(n);
  }
  // Room for n sizes, keeping the first size_.
  void reserve(int64_t n) {
    if (n <= capacity_) return;
    const int64_t cap = std::max(n, 2 * capacity_);
    int64_t* fresh = new int64_t[static_cast<size_t>(cap)];
    std::copy(data(), data() + size_, fresh);
    release();
    heap_ = fresh;
    capacity_ = cap;
  }
  void release() noexcept {
    delete[] heap_;
    heap_ = nullptr;
    capacity_ = kInline;
  }
  void take(Shape& o) noexcept {
    size_ = o.size_;
    if (o.heap_ != nullptr) {
      heap_ = o.heap_;
      capacity_ = o.capacity_;
      o.heap_ = nullptr;
      o.capacity_ = kInline;
    } else {
      std::copy(o.inline_, o.inline_ + o.size_, inline_);
    }
    o.size_ = 0;
  }

  int64_t size_ = 0;
  int64_t capacity_ = kInline;
  int64_t* heap_ = nullptr;
  int64_t inline_[kInline];
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
