// Tensor factories: zeros, ones, full, empty, arange, linspace, eye, rand, randn, randint,
// from_vector, *_like, the in-place random fills (uniform_, normal_, bernoulli_, random_) and the
// Tensor members that read or write single elements.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <type_traits>
#include <vector>

#include "sinew/autograd/node.hpp"
#include "sinew/backend/cpu/elementwise.hpp"
#include "sinew/backend/cpu/random.hpp"
#ifdef SINEW_WITH_CUDA
#include "sinew/backend/cuda/kernels.hpp"
#endif
#include "sinew/backend/dispatch.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/ops/common.hpp"

namespace sinew {

template <class T = float>
Tensor<T> full(const Shape& shape, double value, Device device = Device::cpu()) {
  Tensor<T> t = empty<T>(shape, device);
  SINEW_DISPATCH(device, fill, t, value);
  return t;
}
template <class T = float>
Tensor<T> zeros(const Shape& shape, Device device = Device::cpu()) {
  return full<T>(shape, 0, device);
}
template <class T = float>
Tensor<T> ones(const Shape& shape, Device device = Device::cpu()) {
  return full<T>(shape, 1, device);
}
// A 0-d tensor holding one value.
template <class T = float>
Tensor<T> scalar_tensor(double value, Device device = Device::cpu()) {
  return full<T>(Shape{}, value, device);
}

template <class T>
Tensor<T> empty_like(const Tensor<T>& t) {
  return empty<T>(t.shape(), t.device());
}
template <class T>
Tensor<T> zeros_like(const Tensor<T>& t) {
  return zeros<T>(t.shape(), t.device());
}
template <class T>
Tensor<T> ones_like(const Tensor<T>& t) {
  return ones<T>(t.shape(), t.device());
}
template <class T>
Tensor<T> full_like(const Tensor<T>& t, double value) {
  return full<T>(t.shape(), value, t.device());
}

namespace detail {

// Fills a CPU tensor from a host generator function, then moves it to the device.
template <class T, class F>
Tensor<T> generate(const Shape& shape, Device device, F&& f) {
  Tensor<T> t = empty<T>(shape);
  T* p = t.data_ptr();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(f(i));
  return device.is_cpu() ? t : t.to(device);
}
}  // namespace detail

// Copies `data` (row-major) into a new tensor of `shape`.
template <class T>
Tensor<T> from_vector(const std::vector<T>& data, const Shape& shape,
                      Device device = Device::cpu()) {
  detail::check_sizes(shape, "from_vector");
  SINEW_CHECK(static_cast<int64_t>(data.size()) == shape.numel(), "from_vector", "got ",
              data.size(), " values for shape ", shape, " (", shape.numel(), " elements)");
  return detail::generate<T>(shape, device,
                             [&](int64_t i) { return data[static_cast<size_t>(i)]; });
}
// A 1-d tensor of the values (CTAD-friendly: from_vector(std::vector{1.f, 2.f})).
template <class T>
Tensor<T> from_vector(const std::vector<T>& data, Device device = Device::cpu()) {
  return from_vector<T>(data, Shape{static_cast<int64_t>(data.size())}, device);
}

// Values start, start + step, ... below end (above end for a negative step).
template <class T = float>
Tensor<T> arange(double start, double end, double step = 1, Device device = Device::cpu()) {
  SINEW_CHECK(step != 0, "arange", "step must be non-zero");
  SINEW_CHECK(std::isfinite(start) && std::isfinite(end) && std::isfinite(step), "arange",
              "start, end and step must be finite, got ", start, ", ", end, ", ", step);
  SINEW_CHECK((end - start) / step >= 0, "arange", "range [", start, ", ", end,
              ") is empty or has the wrong sign for step ", step);
  int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  return detail::generate<T>({n}, device,
                             [&](int64_t i) { return start + static_cast<double>(i) * step; });
}
template <class T = float>
Tensor<T> arange(double end, Device device = Device::cpu()) {
  return arange<T>(0, end, 1, device);
}

template <class T = float>
Tensor<T> linspace(double start, double end, int64_t steps, Device device = Device::cpu()) {
  SINEW_CHECK(steps >= 0, "linspace", "steps must be >= 0, got ", steps);
  double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0;
  // Like PyTorch, the second half is computed from the end so both endpoints are exact; a single
  // step gives start.
  return detail::generate<T>({steps}, device, [&](int64_t i) {
    return steps == 1 || i < steps / 2 ? start + step * static_cast<double>(i)
                                       : end - step * static_cast<double>(steps - 1 - i);
  });
}

template <class T = float>
Tensor<T> eye(int64_t n, int64_t m = -1, Device device = Device::cpu()) {
  if (m < 0) m = n;
  SINEW_CHECK(n >= 0, "eye", "size must be >= 0, got ", n);
  return detail::generate<T>({n, m}, device, [m](int64_t i) { return i / m == i % m ? 1 : 0; });
}

// Uniform in [0, 1).
template <class T = float>
Tensor<T> rand(const Shape& shape, Generator& gen, Device device = Device::cpu()) {
  static_assert(is_floating_dtype_v<T>, "rand makes float or double tensors");
  detail::check_sizes(shape, "rand");
  Tensor<T> t = empty<T>(shape, device);
  SINEW_DISPATCH(device, uniform_fill, t, 0.0, 1.0, gen.fill_stream(shape.numel()));
  return t;
}
template <class T = float>
Tensor<T> rand(const Shape& shape, Device device = Device::cpu()) {
  return rand<T>(shape, default_generator(), device);
}

// Standard normal.
template <class T = float>
Tensor<T> randn(const Shape& shape, Generator& gen, Device device = Device::cpu()) {
  static_assert(is_floating_dtype_v<T>, "randn makes float or double tensors");
  detail::check_sizes(shape, "randn");
  Tensor<T> t = empty<T>(shape, device);
  SINEW_DISPATCH(device, normal_fill, t, 0.0, 1.0, gen.fill_stream(shape.numel()));
  return t;
}
template <class T = float>
Tensor<T> randn(const Shape& shape, Device device = Device::cpu()) {
  return randn<T>(shape, default_generator(), device);
}

// Uniform integers in [low, high).
template <class T = int64_t>
Tensor<T> randint(int64_t low, int64_t high, const Shape& shape, Generator& gen,
                  Device device = Device::cpu()) {
  SINEW_CHECK(low < high, "randint", "empty range [", low, ", ", high, ")");
  detail::check_sizes(shape, "randint");
  const RandomStream s = gen.fill_stream(shape.numel());
  return detail::generate<T>(shape, device,
                             [&s, low, high](int64_t i) { return s.randint(i, low, high); });
}
template <class T = int64_t>
Tensor<T> randint(int64_t low, int64_t high, const Shape& shape, Device device = Device::cpu()) {
  return randint<T>(low, high, shape, default_generator(), device);
}

template <class T>
Tensor<T> rand_like(const Tensor<T>& t) {
  return rand<T>(t.shape(), t.device());
}
template <class T>
Tensor<T> randn_like(const Tensor<T>& t) {
  return randn<T>(t.shape(), t.device());
}

// ---- in-place random fills ----------------------------------------------------------------------
// Each draws one value per element, in row-major order, from the global generator (manual_seed
// makes them reproducible), writes them into the tensor and bumps its version. In-place autograd
// rules as fill_: a leaf that requires grad cannot be filled while grad mode is on; a tensor with
// history takes a new one whose gradient to the old values is zero.

namespace detail {
// fill(r, stream) writes the values into a fresh contiguous tensor r on self's device.
template <class T, class Fill>
Tensor<T>& random_fill(Tensor<T>& self, const char* name, Fill&& fill) {
  auto make = [&] {
    Tensor<T> r = empty<T>(self.shape(), self.device());
    fill(r, default_generator().fill_stream(self.numel()));
    return r;
  };
  return inplace(
      self, name, false,
      [&] {
        Tensor<T> r = make();
        SINEW_DISPATCH(self.device(), copy, self, r);
      },
      [&] {
        Tensor<T> r = make();
        return autograd::record(r, name, {self}, [](const Tensor<T>& g) { return zeros_like(g); });
      });
}
}  // namespace detail

// U(from, to): every value in [from, to) (from == to gives from).
template <class T>
Tensor<T>& Tensor<T>::uniform_(double from, double to) {
  static_assert(is_floating_dtype_v<T>, "uniform_ fills float or double tensors");
  SINEW_CHECK(from <= to, "uniform_", "expects a [from, to) range, got from = ", from,
              " > to = ", to);
  SINEW_CHECK(std::isfinite(to - from), "uniform_",
              "from, to and to - from must be finite, got from = ", from, ", to = ", to);
  return detail::random_fill(*this, "uniform_", [from, to](const Tensor<T>& r, RandomStream s) {
    SINEW_DISPATCH(r.device(), uniform_fill, r, from, to, s);
  });
}

// N(mean, std^2); std = 0 gives mean.
template <class T>
Tensor<T>& Tensor<T>::normal_(double mean, double std) {
  static_assert(is_floating_dtype_v<T>, "normal_ fills float or double tensors");
  SINEW_CHECK(std >= 0, "normal_", "expects std >= 0, got std = ", std);
  return detail::random_fill(*this, "normal_", [mean, std](const Tensor<T>& r, RandomStream s) {
    SINEW_DISPATCH(r.device(), normal_fill, r, mean, std, s);
  });
}

// 1 with probability p, else 0 (any element type).
template <class T>
Tensor<T>& Tensor<T>::bernoulli_(double p) {
  SINEW_CHECK(p >= 0 && p <= 1, "bernoulli_", "expects p in [0, 1], got p = ", p);
  return detail::random_fill(*this, "bernoulli_", [p](const Tensor<T>& r, RandomStream s) {
    SINEW_DISPATCH(r.device(), bernoulli_fill, r, p, s);
  });
}

// Integers uniform in [from, to), for every element type. For an integer type [from, to) must lie
// inside its range (uint8: [0, 256), bool: [0, 2)); float and double take any range, as PyTorch
// (which only warns beyond 2^24 / 2^53, where not every integer is representable).
template <class T>
Tensor<T>& Tensor<T>::random_(int64_t from, int64_t to) {
  SINEW_CHECK(from < to, "random_", "expects from < to, got from = ", from, " >= to = ", to);
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint8_t>) {
    constexpr int64_t hi = std::is_same_v<T, bool> ? 1 : std::numeric_limits<uint8_t>::max();
    SINEW_CHECK(from >= 0, "random_", "from = ", from, " is out of bounds for ", dtype(),
                " (values in [0, ", hi, "])");
    SINEW_CHECK(to - 1 <= hi, "random_", "to - 1 = ", to - 1, " is out of bounds for ", dtype(),
                " (values in [0, ", hi, "])");
  }
  // Cast here, not through double: an int64 beyond 2^53 stays exact.
  return detail::random_fill(*this, "random_", [from, to](Tensor<T>& r, RandomStream s) {
    // Drawn on the host: no backend kernel draws integers.
    Tensor<T> h = detail::generate<T>(r.shape(), r.device(), [&s, from, to](int64_t i) {
      return static_cast<T>(s.randint(i, from, to));
    });
    r = h;
  });
}
template <class T>
Tensor<T>& Tensor<T>::random_(int64_t to) {
  return random_(0, to);
}

// ---- element access ----------------------------------------------------------------------------

namespace detail {
inline int64_t element_offset(const TensorImpl& t, std::initializer_list<int64_t> index,
                              const char* where) {
  SINEW_CHECK(static_cast<int64_t>(index.size()) == t.shape.size(), where, "got ", index.size(),
              " indices for a tensor of shape ", t.shape);
  int64_t off = t.offset, d = 0;
  for (int64_t i : index) {
    int64_t n = t.shape[d];
    SINEW_CHECK(i >= -n && i < n, where, "index ", i, " out of range for dimension ", d,
                " of size ", n, " (shape ", t.shape, ")");
    off += (i < 0 ? i + n : i) * t.strides[d];
    ++d;
  }
  return off;
}

// The element at storage offset `off` of t, as a 0-d tensor sharing t's memory (no history).
template <class T>
Tensor<T> element_view(const Tensor<T>& t, int64_t off) {
  ImplPtr v = alias_impl(t.impl());
  v->shape = {};
  v->strides = {};
  v->offset = off;
  v->is_view = true;
  return Tensor<T>(v);
}
}  // namespace detail

template <class T>
T Tensor<T>::item() const {
  SINEW_CHECK(numel() == 1, "item", "a tensor with ", numel(), " elements (shape ", shape(),
              ") cannot be converted to a scalar");
  if (!is_cpu()) return to(Device::cpu()).item();
  return *data_ptr();
}

template <class T>
T Tensor<T>::at(std::initializer_list<int64_t> index) const {
  int64_t off = detail::element_offset(impl(), index, "at");
  if (!is_cpu()) return detail::element_view(*this, off).item();
  return static_cast<const T*>(impl().storage->data())[off];
}

template <class T>
void Tensor<T>::set(std::initializer_list<int64_t> index, T value) {
  int64_t off = detail::element_offset(impl(), index, "set");
  if (!is_cpu()) {
    SINEW_DISPATCH(device(), copy, detail::element_view(*this, off),
                   full<T>({}, static_cast<double>(value), device()));
    impl().storage->bump_version();
    return;
  }
  static_cast<T*>(impl().storage->data())[off] = value;
  impl().storage->bump_version();
}

template <class T>
std::vector<T> Tensor<T>::to_vector() const {
  Tensor<T> c = (is_cpu() ? *this : to(Device::cpu())).contiguous();
  return std::vector<T>(c.data_ptr(), c.data_ptr() + c.numel());
}

}  // namespace sinew
