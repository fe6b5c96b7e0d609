// The CUDA backend's scans and compactions (backend/cuda/scan.hpp) on the emulator against the CPU
// kernels, bitwise: cumsum and cumprod of every type along each dimension of contiguous and
// permuted inputs, count_nonzero and nonzero with NaN and -0.0, masked_select and masked_scatter
// with broadcast masks over several compaction chunks, and sort (stable, NaN last, top k).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"
#include "emulator_parity.hpp"
#include "sinew/backend/cuda/instantiations.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace parity;  // NOLINT(google-build-using-namespace)
using backend::Scan;

bool in_table(const std::string& name) {
  for (const auto& i : backend::cuda::instantiations())
    if (i.name_expression == name) return true;
  return false;
}

template <Scan OP, class T>
void check_scan() {
  using R = accumulate_t<T>;
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>() << ", scan " << int(OP));
  for (Layout layout : {Layout::Contiguous, Layout::Permuted}) {
    const Tensor<T> x = make_input<T>({layout, {3, 4, 5}}, 1);
    for (int64_t dim = 0; dim < 3; ++dim) {
      const Tensor<R> expected = empty<R>(x.shape());
      backend::cpu::scan<OP>(x, dim, expected);
      for_each_launch([&](const std::string& label) {
        const Tensor<R> out = empty<R>(x.shape());
        emu::scan<OP>(x, dim, out);
        EXPECT_TRUE(same_values(out, expected)) << label << ", dim " << dim;
        EXPECT_TRUE(in_table(emu::last_kernel())) << emu::last_kernel();
      });
    }
  }
}

TEST(CudaEmulatedScan, CumsumAllTypes) {
  check_scan<Scan::Sum, float>();
  check_scan<Scan::Sum, double>();
  check_scan<Scan::Sum, int64_t>();
  check_scan<Scan::Sum, uint8_t>();
  check_scan<Scan::Sum, bool>();
}

TEST(CudaEmulatedScan, CumprodAllTypes) {
  check_scan<Scan::Prod, float>();
  check_scan<Scan::Prod, double>();
  check_scan<Scan::Prod, int64_t>();
  check_scan<Scan::Prod, uint8_t>();
}

// A long float row: the running sum is accumulated in double, as on the CPU.
TEST(CudaEmulatedScan, LongFloatRowAccumulatesInDouble) {
  const Tensor<float> x = make_input<float>({Layout::Contiguous, {2, 3000}}, 4);
  const Tensor<float> expected = empty<float>(x.shape()), out = empty<float>(x.shape());
  backend::cpu::scan<Scan::Sum>(x, 1, expected);
  emu::scan<Scan::Sum>(x, 1, out);
  EXPECT_TRUE(same_values(out, expected));
}

template <class T>
void check_nonzero(const Spec& spec) {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>() << ", " << describe(spec));
  const Tensor<T> x = make_input<T>(spec, 2);
  const int64_t count = backend::cpu::count_nonzero(x);
  for_each_launch([&](const std::string& label) {
    ASSERT_EQ(emu::count_nonzero(x), count) << label;
    const Tensor<int64_t> expected = full<int64_t>({count, x.dim()}, -1.0);
    const Tensor<int64_t> out = full<int64_t>({count, x.dim()}, -1.0);
    backend::cpu::nonzero(x, expected);
    emu::nonzero(x, out);
    EXPECT_TRUE(same_values(out, expected)) << label;
  });
}

TEST(CudaEmulatedScan, NonzeroAllTypes) {
  for (const Spec& s : {Spec{Layout::Contiguous, {0}}, Spec{Layout::Contiguous, {1}},
                        Spec{Layout::Contiguous, {700}}, Spec{Layout::Transposed, {30, 25}},
                        Spec{Layout::Permuted, {6, 7, 9}}, Spec{Layout::Expanded, {40, 9}}}) {
    check_nonzero<float>(s);
    check_nonzero<double>(s);
    check_nonzero<int64_t>(s);
    check_nonzero<uint8_t>(s);
    check_nonzero<bool>(s);
  }
}

// NaN counts as nonzero, -0.0 as zero.
TEST(CudaEmulatedScan, NanIsNonzeroNegativeZeroIsNot) {
  const Tensor<double> x = from_vector<double>({0.0, -0.0, NAN, 1.0, -0.0, -2.0}, {2, 3});
  EXPECT_EQ(emu::count_nonzero(x), 3);
  const Tensor<int64_t> out = empty<int64_t>({3, 2});
  emu::nonzero(x, out);
  EXPECT_EQ(out.to_vector(), (std::vector<int64_t>{0, 2, 1, 0, 1, 2}));
}

template <class T>
void check_masked() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  struct Case {
    Spec x, mask;
    Shape shape;
  };
  using L = Layout;
  const std::vector<Case> cases = {
      {{L::Contiguous, {700}}, {L::Contiguous, {700}}, {700}},
      {{L::Transposed, {30, 25}}, {L::Contiguous, {1, 25}}, {30, 25}},
      {{L::Contiguous, {25}}, {L::Transposed, {30, 25}}, {30, 25}},
      {{L::Permuted, {6, 7, 9}}, {L::Expanded, {7, 9}}, {6, 7, 9}},
      {{L::Contiguous, {3, 1}}, {L::Contiguous, {1, 4}}, {3, 4}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(describe(k.x) + ", mask " + describe(k.mask));
    const Tensor<T> x = make_input<T>(k.x, 0);
    const Tensor<bool> mask = make_input<bool>(k.mask, 3);
    const int64_t count = backend::cpu::count_true(mask, k.shape);
    const Tensor<T> expected = make_output<T>({L::Contiguous, {count}});
    backend::cpu::masked_select(x, mask, k.shape, expected);
    // masked_scatter into a tensor of the shape from a source of `count` elements.
    const Tensor<T> source = make_input<T>({L::Contiguous, {count}}, 5);
    const Tensor<T> base = make_input<T>({L::Contiguous, k.shape}, 6);
    const Tensor<T> scattered = base.clone();
    backend::cpu::masked_scatter(scattered, mask, source);
    for_each_launch([&](const std::string& label) {
      EXPECT_EQ(emu::count_true(mask, k.shape), count) << label;
      const Tensor<T> out = make_output<T>({L::Contiguous, {count}});
      emu::masked_select(x, mask, k.shape, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", masked_select";
      const Tensor<T> into = base.clone();
      emu::masked_scatter(into, mask, source);
      EXPECT_TRUE(same_values(into, scattered)) << label << ", masked_scatter";
    });
  }
}

TEST(CudaEmulatedScan, MaskedSelectAndScatterAllTypes) {
  check_masked<float>();
  check_masked<double>();
  check_masked<int64_t>();
  check_masked<uint8_t>();
  check_masked<bool>();
}

template <class T>
void check_sort() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (Layout layout : {Layout::Contiguous, Layout::Permuted}) {
    // Few distinct values in rows of 7-9: ties (kept in input order) and, for floats, NaN and
    // infinities from the edge-value stream.
    const Tensor<T> x = make<T>({layout, {7, 8, 9}}, [](int64_t i) {
      return i % 5 == 0 ? value<T>(i / 5, 1) : static_cast<T>(i * 7 % 4);
    });
    for (int64_t dim = 0; dim < 3; ++dim) {
      const int64_t n = x.size(dim);
      for (int64_t k : {n, int64_t{3}}) {
        for (bool descending : {false, true}) {
          Shape os = x.shape();
          os[dim] = k;
          const Tensor<T> ev = make_output<T>({Layout::Contiguous, os});
          const Tensor<int64_t> ei = make_output<int64_t>({Layout::Contiguous, os});
          backend::cpu::sort(x, dim, k, descending, ev, ei);
          for_each_launch([&](const std::string& label) {
            const Tensor<T> v = make_output<T>({Layout::Contiguous, os});
            const Tensor<int64_t> ix = make_output<int64_t>({Layout::Contiguous, os});
            emu::sort(x, dim, k, descending, v, ix);
            EXPECT_TRUE(same_values(v, ev)) << label << ", dim " << dim << ", k " << k;
            EXPECT_TRUE(same_values(ix, ei)) << label << ", dim " << dim << ", k " << k;
          });
        }
      }
    }
  }
}

TEST(CudaEmulatedSort, StableWithNanLastAllTypes) {
  check_sort<float>();
  check_sort<double>();
  check_sort<int64_t>();
  check_sort<uint8_t>();
  check_sort<bool>();
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
