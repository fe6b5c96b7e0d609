// What the elementwise parity tests share: operand layouts (contiguous, misaligned, strided,
// transposed, permuted, expanded with stride 0), input values with the edge cases of each type,
// the launch configurations and schedule orders every case runs under, and the comparison with the
// CPU kernel's result (same bits; NaN compared as NaN).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"

namespace sinew::parity {

enum class Layout {
  Contiguous,  // a fresh tensor of the shape
  Offset1,     // contiguous, one element past an aligned start (one element per access)
  Step2,       // 1-d, every other element of a buffer twice as long
  Transposed,  // 2-d, the transpose of a contiguous [c, r] tensor
  Permuted,    // 3-d [a, b, c] as a permutation of a contiguous [c, a, b] tensor
  Expanded,    // 2-d [r, c] expanded from [1, c] (stride 0)
};

struct Spec {
  Layout layout;
  Shape shape;  // the operand's own shape (it broadcasts to the output's)
};

inline std::string describe(const Spec& s) {
  static const char* names[] = {"contiguous", "offset-1", "step-2",
                                "transposed", "permuted", "expanded"};
  std::ostringstream os;
  os << names[static_cast<int>(s.layout)] << ' ' << s.shape;
  return os.str();
}

// Value i of an input stream `salt`: the type's edge values first (in an order that depends on
// salt, so that two operands pair them differently), then pseudo-random values.
template <class T>
T value(int64_t i, int salt) {
  uint64_t h = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL +
               static_cast<uint64_t>(salt) * 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 29;
  if constexpr (std::is_same_v<T, bool>) {
    return (h >> 7) & 1;
  } else if constexpr (std::is_floating_point_v<T>) {
    const T inf = std::numeric_limits<T>::infinity();
    const T specials[] = {T(0),    T(-0.0), T(1),    T(-1),   T(0.5), T(-0.5),  T(1.5),  T(2.5),
                          T(-2.5), T(3.5),  NAN,     inf,     -inf,   T(1e-40), T(1e-8), T(30),
                          T(-30),  T(100),  T(-100), T(0.25), T(710), T(-745),  T(-3),   T(2)};
    constexpr int64_t ns = sizeof(specials) / sizeof(specials[0]);
    const int64_t j = i - salt * 5;
    if (j >= 0 && j < ns) return specials[j];
    if (h % 7 == 0) return static_cast<T>(static_cast<int64_t>(h >> 40) % 13 - 6) / T(2);  // halves
    return static_cast<T>(static_cast<double>(h >> 11) * 0x1.0p-53 * 12.0 - 6.0);
  } else {
    using L = std::numeric_limits<T>;
    const T specials[] = {T(0),
                          T(1),
                          T(2),
                          T(3),
                          T(7),
                          L::max(),
                          L::min(),
                          T(L::max() - 1),
                          T(100),
                          T(63),
                          T(64),
                          static_cast<T>(-1),
                          static_cast<T>(-2),
                          static_cast<T>(-7),
                          static_cast<T>(-64)};
    constexpr int64_t ns = sizeof(specials) / sizeof(specials[0]);
    const int64_t j = i - salt * 3;
    if (j >= 0 && j < ns) return specials[j];
    if constexpr (std::is_signed_v<T>)
      return static_cast<T>(static_cast<int64_t>(h % 101) - 50);
    else
      return static_cast<T>(h % 256);
  }
}

// A tensor of spec's layout whose elements in row-major order are gen(i) (i < numel).
template <class T, class Gen>
Tensor<T> make(const Spec& s, Gen gen) {
  const int64_t n = s.shape.numel();
  auto fill = [&](const Shape& base_shape, const std::vector<int64_t>& order) {
    // order[k]: the base element (row-major) that view element k is; the rest get -1 fills.
    std::vector<T> data(static_cast<size_t>(base_shape.numel()), T(1));
    for (int64_t k = 0; k < n; ++k)
      data[static_cast<size_t>(order[static_cast<size_t>(k)])] = gen(k);
    return from_vector<T>(data, base_shape);
  };
  std::vector<int64_t> order(static_cast<size_t>(n));
  switch (s.layout) {
    case Layout::Contiguous: {
      for (int64_t k = 0; k < n; ++k) order[static_cast<size_t>(k)] = k;
      return fill(s.shape, order);
    }
    case Layout::Offset1: {
      for (int64_t k = 0; k < n; ++k) order[static_cast<size_t>(k)] = k + 1;
      return fill(Shape{n + 1}, order).slice(0, 1, n + 1).view(s.shape);
    }
    case Layout::Step2: {
      for (int64_t k = 0; k < n; ++k) order[static_cast<size_t>(k)] = 2 * k;
      return fill(Shape{2 * n}, order).slice(0, 0, 2 * n, 2);
    }
    case Layout::Transposed: {
      const int64_t r = s.shape[0], c = s.shape[1];
      for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < c; ++j) order[static_cast<size_t>(i * c + j)] = j * r + i;
      return fill(Shape{c, r}, order).t();
    }
    case Layout::Permuted: {
      const int64_t a = s.shape[0], b = s.shape[1], c = s.shape[2];
      for (int64_t i = 0; i < a; ++i)
        for (int64_t j = 0; j < b; ++j)
          for (int64_t k = 0; k < c; ++k)
            order[static_cast<size_t>((i * b + j) * c + k)] = (k * a + i) * b + j;
      return fill(Shape{c, a, b}, order).permute({1, 2, 0});
    }
    case Layout::Expanded: {
      const int64_t r = s.shape[0], c = s.shape[1];
      std::vector<T> row(static_cast<size_t>(c));
      for (int64_t j = 0; j < c; ++j) row[static_cast<size_t>(j)] = gen(j);
      // A stride-0 view built directly: Tensor<uint8_t>::expand does not compile at present
      // (its gradient's sum_to returns the int64 sum as the tensor's own type).
      const Tensor<T> base = from_vector<T>(row, Shape{1, c});
      auto impl = std::make_shared<sinew::detail::TensorImpl>();
      impl->storage = base.impl().storage;
      impl->shape = Shape{r, c};
      impl->strides = Shape{0, 1};
      impl->offset = base.impl().offset;
      impl->dtype = base.impl().dtype;
      impl->is_view = true;
      return Tensor<T>(impl);
    }
  }
  return Tensor<T>();
}

template <class T>
Tensor<T> make_input(const Spec& s, int salt) {
  return make<T>(s, [salt](int64_t i) { return value<T>(i, salt); });
}

// A fresh output of the spec's layout (contents -1, or true for bool, so untouched elements show).
template <class T>
Tensor<T> make_output(const Spec& s) {
  return make<T>(s, [](int64_t) { return static_cast<T>(-1); });
}

template <class T>
bool same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a && b != b) return true;  // NaN payloads are not part of the contract
    return std::memcmp(&a, &b, sizeof(T)) == 0;
  } else {
    return a == b;
  }
}

// Whether match(emulated element, cpu element) holds everywhere; else the first that differs.
template <class T, class Match>
::testing::AssertionResult values_match(const Tensor<T>& emulated, const Tensor<T>& cpu,
                                        Match&& match) {
  if (emulated.shape() != cpu.shape())
    return ::testing::AssertionFailure() << "shapes " << emulated.shape() << " vs " << cpu.shape();
  const std::vector<T> a = emulated.to_vector(), b = cpu.to_vector();
  for (size_t i = 0; i < a.size(); ++i)
    if (!match(a[i], b[i])) {
      std::ostringstream os;
      os.precision(17);
      using P = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
      os << "element " << i << ": emulated " << P(a[i]) << ", cpu " << P(b[i]);
      return ::testing::AssertionFailure() << os.str();
    }
  return ::testing::AssertionSuccess();
}

template <class T>
::testing::AssertionResult same_values(const Tensor<T>& emulated, const Tensor<T>& cpu) {
  return values_match(emulated, cpu, [](T a, T b) { return same(a, b); });
}

// The launch configurations every case runs under, each in both schedule orders: small blocks and
// a grid cap of 3 (grid-stride loops take several steps, blocks end part-way) with 32-bit
// indices; the default block with 64-bit indices; and the strided kernels for every layout.
struct Config {
  const char* name;
  backend::cuda::PlanOptions options;
};
inline std::vector<Config> configs() {
  backend::cuda::PlanOptions small;
  small.block = 64;
  small.max_blocks = 3;
  backend::cuda::PlanOptions wide;
  wide.force_index64 = true;
  backend::cuda::PlanOptions strided = small;
  strided.allow_flat = false;
  return {
      {"block 64, grid <= 3", small}, {"block 256, 64-bit index", wide}, {"strided only", strided}};
}

// Runs body(label) under every configuration and order; restores the defaults after.
template <class Body>
void for_each_launch(Body body) {
  for (const Config& c : configs()) {
    for (sim::Order order : {sim::Order::Forward, sim::Order::Reverse}) {
      emu::plan_options() = c.options;
      sim::set_order(order);
      std::string label =
          std::string(c.name) + (order == sim::Order::Forward ? ", forward" : ", reversed");
      body(label);
    }
  }
  emu::plan_options() = {};
  sim::set_order(sim::Order::Forward);
}

// One input: output contiguous of the input's shape unless given.
struct UnaryCase {
  Spec x;
  Spec out;
};
inline std::vector<UnaryCase> unary_cases() {
  using L = Layout;
  return {
      {{L::Contiguous, {0}}, {L::Contiguous, {0}}},
      {{L::Contiguous, {1}}, {L::Contiguous, {1}}},
      {{L::Contiguous, {33}}, {L::Contiguous, {33}}},
      {{L::Contiguous, {257}}, {L::Contiguous, {257}}},
      {{L::Contiguous, {7}}, {L::Contiguous, {7}}},
      {{L::Offset1, {33}}, {L::Contiguous, {33}}},
      {{L::Contiguous, {34}}, {L::Offset1, {34}}},
      {{L::Step2, {40}}, {L::Contiguous, {40}}},
      {{L::Transposed, {6, 5}}, {L::Contiguous, {6, 5}}},
      {{L::Contiguous, {6, 5}}, {L::Transposed, {6, 5}}},
      {{L::Permuted, {2, 3, 4}}, {L::Contiguous, {2, 3, 4}}},
      {{L::Expanded, {5, 6}}, {L::Contiguous, {5, 6}}},
      {{L::Contiguous, {2, 0}}, {L::Contiguous, {2, 0}}},
  };
}

// Two inputs broadcast to the output's shape.
struct BinaryCase {
  Spec x, y, out;
};
inline std::vector<BinaryCase> binary_cases() {
  using L = Layout;
  return {
      {{L::Contiguous, {0}}, {L::Contiguous, {0}}, {L::Contiguous, {0}}},
      {{L::Contiguous, {1}}, {L::Contiguous, {1}}, {L::Contiguous, {1}}},
      {{L::Contiguous, {33}}, {L::Contiguous, {33}}, {L::Contiguous, {33}}},
      {{L::Contiguous, {257}}, {L::Contiguous, {257}}, {L::Contiguous, {257}}},
      {{L::Offset1, {33}}, {L::Contiguous, {33}}, {L::Contiguous, {33}}},
      {{L::Contiguous, {3, 1}}, {L::Contiguous, {1, 4}}, {L::Contiguous, {3, 4}}},
      {{L::Transposed, {6, 5}}, {L::Expanded, {6, 5}}, {L::Contiguous, {6, 5}}},
      {{L::Step2, {40}}, {L::Contiguous, {1}}, {L::Contiguous, {40}}},
      {{L::Permuted, {2, 3, 4}}, {L::Contiguous, {4}}, {L::Permuted, {2, 3, 4}}},
      {{L::Contiguous, {2, 0}}, {L::Contiguous, {1, 0}}, {L::Contiguous, {2, 0}}},
  };
}

}  // namespace sinew::parity
