// fill, copy with cast, compare (tensor and scalar), logical, classify, isclose and where of
// kernels/elementwise.cuh on the emulator against the backend::cpu kernels; int32 casts (no
// Tensor type) against a plain static_cast loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using backend::Classify;
using backend::Compare;
using backend::Logical;
using namespace parity;

template <class T>
void check_fill(double value) {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>() << ", value " << value);
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(describe(c.out));
    const Tensor<T> expected = make_output<T>(c.out);
    backend::cpu::fill(expected, value);
    for_each_launch([&](const std::string& label) {
      const Tensor<T> out = make_output<T>(c.out);
      emu::fill(out, value);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

TEST(CudaEmulatedFill, AllTypes) {
  for (double v : {0.0, 2.7, -1.0}) {
    check_fill<float>(v);
    check_fill<double>(v);
    check_fill<int64_t>(v);
    check_fill<uint8_t>(v);  // -1 fills 255
    check_fill<bool>(v);
  }
  check_fill<float>(NAN);
  check_fill<double>(-INFINITY);
}

// Inputs a cast is defined for: floating to integer only in range (truncation of 2.7 included).
template <class To, class From>
Tensor<From> cast_input(const Spec& s) {
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To> &&
                !std::is_same_v<To, bool>)
    return make<From>(s, [](int64_t i) {
      return static_cast<From>(static_cast<double>((i * 37) % 250) + (i % 3) * 0.35);
    });
  else
    return make_input<From>(s, 0);
}

template <class To, class From>
void check_copy() {
  SCOPED_TRACE(::testing::Message() << dtype_of<From>() << " -> " << dtype_of<To>());
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(describe(c.x) + " -> " + describe(c.out));
    const Tensor<From> x = cast_input<To, From>(c.x);
    const Tensor<To> expected = make_output<To>(c.out);
    backend::cpu::copy(expected, x);
    for_each_launch([&](const std::string& label) {
      const Tensor<To> out = make_output<To>(c.out);
      emu::copy(out, x);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

template <class To>
void check_copy_from_all() {
  check_copy<To, float>();
  check_copy<To, double>();
  check_copy<To, int64_t>();
  check_copy<To, uint8_t>();
  check_copy<To, bool>();
}

TEST(CudaEmulatedCopy, ToFloat) { check_copy_from_all<float>(); }
TEST(CudaEmulatedCopy, ToDouble) { check_copy_from_all<double>(); }
TEST(CudaEmulatedCopy, ToInt64) { check_copy_from_all<int64_t>(); }
TEST(CudaEmulatedCopy, ToUInt8) { check_copy_from_all<uint8_t>(); }
TEST(CudaEmulatedCopy, ToBool) { check_copy_from_all<bool>(); }

// int32 has no Tensor type: the flat (4 and 1 per access) and strided kernels launched by hand on
// buffers aligned as cudaMalloc aligns them (256 bytes): a packed access of 4 doubles needs 32,
// more than std::vector's storage promises.
template <class T>
class DeviceLikeBuffer {
 public:
  explicit DeviceLikeBuffer(size_t n) : n_(n), data_(allocate(n)) {}
  template <class U>
  explicit DeviceLikeBuffer(const std::vector<U>& values) : DeviceLikeBuffer(values.size()) {
    for (size_t i = 0; i < n_; ++i) data_[i] = static_cast<T>(values[i]);
  }
  T* data() { return data_.get(); }
  std::vector<T> values() const { return std::vector<T>(data_.get(), data_.get() + n_); }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  static T* allocate(size_t n) {
    constexpr size_t kAlign = 256;
    void* p = std::aligned_alloc(
        kAlign, (std::max<size_t>(n * sizeof(T), 1) + kAlign - 1) / kAlign * kAlign);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(std::memset(p, 0, n * sizeof(T)));
  }
  size_t n_;
  std::unique_ptr<T[], Free> data_;
};

template <class To, class From>
void check_int32_cast(const std::vector<From>& values) {
  const int n = static_cast<int>(values.size());
  std::vector<To> expected(values.size());
  for (size_t i = 0; i < values.size(); ++i) expected[i] = static_cast<To>(values[i]);
  DeviceLikeBuffer<From> in(values);
  DeviceLikeBuffer<To> flat4(values.size()), flat1(values.size()), strided(values.size());
  sim::launch(&copy_flat<To, From, int32_t, 4>, dim3(2), dim3(32), 0, flat4.data(), in.data(), n);
  sim::launch(&copy_flat<To, From, int32_t, 1>, dim3(2), dim3(32), 0, flat1.data(), in.data(), n);
  backend::cuda::StridedArgs<int64_t, 2> s{};
  s.ndim = 1;
  for (int d = 0; d < backend::cuda::kMaxDims; ++d) s.size[d] = 1;
  s.size[0] = n;
  s.stride[0][0] = s.stride[1][0] = 1;
  sim::launch(&copy_strided<To, From, int64_t>, dim3(1), dim3(64), 0, strided.data(), in.data(),
              std::bit_cast<dev::Strided<int64_t, 2>>(s), int64_t{n});
  EXPECT_EQ(flat4.values(), expected);
  EXPECT_EQ(flat1.values(), expected);
  EXPECT_EQ(strided.values(), expected);
}

TEST(CudaEmulatedCopy, Int32CastsBothWays) {
  std::vector<int32_t> i32;
  for (int i = 0; i < 131; ++i) i32.push_back((i * 7919) % 2001 - 1000);
  i32[3] = std::numeric_limits<int32_t>::max();
  i32[4] = std::numeric_limits<int32_t>::min();
  std::vector<float> f;
  std::vector<double> d;
  std::vector<int64_t> l;
  std::vector<uint8_t> u;
  for (int32_t v : i32) {
    f.push_back(static_cast<float>(v % 1000) + 0.75f);
    d.push_back(static_cast<double>(v) - 0.5);
    l.push_back(int64_t{v} * 3);  // wraps to int32
    u.push_back(static_cast<uint8_t>(v));
  }
  check_int32_cast<float, int32_t>(i32);
  check_int32_cast<double, int32_t>(i32);
  check_int32_cast<int64_t, int32_t>(i32);
  check_int32_cast<uint8_t, int32_t>(i32);
  check_int32_cast<int32_t, float>(f);
  check_int32_cast<int32_t, double>(d);
  check_int32_cast<int32_t, int64_t>(l);
  check_int32_cast<int32_t, uint8_t>(u);
  check_int32_cast<int32_t, int32_t>(i32);
  // bool: std::vector<bool> has no data(); a buffer of bools instead.
  DeviceLikeBuffer<bool> bits(i32.size());
  DeviceLikeBuffer<int32_t> from_bool(i32.size());
  std::vector<int32_t> expected(i32.size());
  for (size_t i = 0; i < i32.size(); ++i) {
    bits.data()[i] = i32[i] % 3 == 0;
    expected[i] = bits.data()[i] ? 1 : 0;
  }
  sim::launch(&copy_flat<int32_t, bool, int32_t, 4>, dim3(1), dim3(32), 0, from_bool.data(),
              bits.data(), static_cast<int32_t>(i32.size()));
  EXPECT_EQ(from_bool.values(), expected);
}

template <Compare OP, class T>
void check_compare() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(describe(c.x) + ", " + describe(c.y) + " -> " + describe(c.out));
    // y repeats x's value at every third element, so that equal pairs are tested.
    const Tensor<T> x = make_input<T>(c.x, 0);
    const Tensor<T> y =
        make<T>(c.y, [](int64_t i) { return i % 3 == 0 ? value<T>(i, 0) : value<T>(i, 1); });
    const Tensor<bool> expected = make_output<bool>(c.out);
    backend::cpu::compare_op<OP>(x, y, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<bool> out = make_output<bool>(c.out);
      emu::compare_op<OP>(x, y, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

template <Compare OP, class T, class P>
void check_compare_scalar(P s) {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>() << ", scalar " << s);
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(describe(c.x) + " -> " + describe(c.out));
    const Tensor<T> x = make_input<T>(c.x, 0);
    const Tensor<bool> expected = make_output<bool>(c.out);
    backend::cpu::compare_scalar_op<OP>(x, s, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<bool> out = make_output<bool>(c.out);
      emu::compare_scalar_op<OP>(x, s, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

template <Compare OP>
void check_compare_kind() {
  check_compare<OP, float>();
  check_compare<OP, double>();
  check_compare<OP, int64_t>();
  check_compare<OP, uint8_t>();
  check_compare<OP, bool>();
  check_compare_scalar<OP, float>(0.1);  // rounded to float first
  check_compare_scalar<OP, double>(2.5);
  check_compare_scalar<OP, int64_t>(int64_t{3});
  check_compare_scalar<OP, int64_t>(2.5);  // compared in double
  check_compare_scalar<OP, uint8_t>(int64_t{-1});
  check_compare_scalar<OP, uint8_t>(100.5);
}

#define SINEW_COMPARE_TEST(name) \
  TEST(CudaEmulatedCompare, name) { check_compare_kind<Compare::name>(); }
SINEW_COMPARE_KINDS(SINEW_COMPARE_TEST)
#undef SINEW_COMPARE_TEST

template <Logical OP>
void check_logical() {
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(describe(c.x) + ", " + describe(c.y) + " -> " + describe(c.out));
    const Tensor<bool> x = make_input<bool>(c.x, 0), y = make_input<bool>(c.y, 1);
    const Tensor<bool> expected = make_output<bool>(c.out);
    backend::cpu::logical_op<OP>(x, y, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<bool> out = make_output<bool>(c.out);
      emu::logical_op<OP>(x, y, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

#define SINEW_LOGICAL_TEST(name) \
  TEST(CudaEmulatedLogical, name) { check_logical<Logical::name>(); }
SINEW_LOGICAL_KINDS(SINEW_LOGICAL_TEST)
#undef SINEW_LOGICAL_TEST

template <Classify OP, class T>
void check_classify() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(describe(c.x) + " -> " + describe(c.out));
    const Tensor<T> x = make_input<T>(c.x, 0);
    const Tensor<bool> expected = make_output<bool>(c.out);
    backend::cpu::classify_op<OP>(x, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<bool> out = make_output<bool>(c.out);
      emu::classify_op<OP>(x, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

template <Classify OP>
void check_classify_all() {
  check_classify<OP, float>();
  check_classify<OP, double>();
  check_classify<OP, int64_t>();
  check_classify<OP, uint8_t>();
  check_classify<OP, bool>();
}

#define SINEW_CLASSIFY_TEST(name) \
  TEST(CudaEmulatedClassify, name) { check_classify_all<Classify::name>(); }
SINEW_CLASSIFY_KINDS(SINEW_CLASSIFY_TEST)
#undef SINEW_CLASSIFY_TEST

template <class T>
void check_isclose(double rtol, double atol, bool equal_nan) {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>() << ", equal_nan " << equal_nan);
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(describe(c.x) + ", " + describe(c.y) + " -> " + describe(c.out));
    // y is x, x nudged by a little, or another value.
    const Tensor<T> x = make_input<T>(c.x, 0);
    const Tensor<T> y = make<T>(c.y, [](int64_t i) {
      const T v = value<T>(i, 0);
      if (i % 3 == 0) return v;
      if (i % 3 == 1) return static_cast<T>(v + T(1e-6) * v + T(i % 2));
      return value<T>(i, 1);
    });
    const Tensor<bool> expected = make_output<bool>(c.out);
    backend::cpu::isclose(x, y, rtol, atol, equal_nan, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<bool> out = make_output<bool>(c.out);
      emu::isclose(x, y, rtol, atol, equal_nan, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

TEST(CudaEmulatedIsClose, FloatingAndInteger) {
  for (bool equal_nan : {false, true}) {
    check_isclose<float>(1e-5, 1e-8, equal_nan);
    check_isclose<double>(1e-5, 1e-8, equal_nan);
  }
  check_isclose<int64_t>(0.0, 1.0, false);
  check_isclose<uint8_t>(0.5, 0.0, false);
}

template <class T>
void check_where() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  using L = Layout;
  struct Case {
    Spec c, x, y, out;
  };
  const std::vector<Case> cases = {
      {{L::Contiguous, {0}}, {L::Contiguous, {0}}, {L::Contiguous, {0}}, {L::Contiguous, {0}}},
      {{L::Contiguous, {1}}, {L::Contiguous, {1}}, {L::Contiguous, {1}}, {L::Contiguous, {1}}},
      {{L::Contiguous, {33}}, {L::Contiguous, {33}}, {L::Contiguous, {33}}, {L::Contiguous, {33}}},
      {{L::Contiguous, {257}}, {L::Offset1, {257}}, {L::Contiguous, {257}}, {L::Contiguous, {257}}},
      {{L::Contiguous, {3, 1}},
       {L::Contiguous, {1, 4}},
       {L::Contiguous, {1}},
       {L::Contiguous, {3, 4}}},
      {{L::Transposed, {6, 5}}, {L::Expanded, {6, 5}}, {L::Step2, {5}}, {L::Transposed, {6, 5}}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(describe(k.c) + ", " + describe(k.x) + ", " + describe(k.y) + " -> " +
                 describe(k.out));
    const Tensor<bool> c = make_input<bool>(k.c, 2);
    const Tensor<T> x = make_input<T>(k.x, 0), y = make_input<T>(k.y, 1);
    const Tensor<T> expected = make_output<T>(k.out);
    backend::cpu::where(c, x, y, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<T> out = make_output<T>(k.out);
      emu::where(c, x, y, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

TEST(CudaEmulatedWhere, AllTypes) {
  check_where<float>();
  check_where<double>();
  check_where<int64_t>();
  check_where<uint8_t>();
  check_where<bool>();
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
