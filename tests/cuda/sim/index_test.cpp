// The CUDA backend's indexing functions (backend/cuda/index.hpp: gather, scatter_add, flip,
// count_true; masked_fill of elementwise.hpp) on the emulator against the CPU kernels: every
// element type, indices along each dimension of strided and expanded operands, repeated indices,
// and an out-of-range index, which the kernel records and skips and the synchronization raises.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"
#include "emulator_parity.hpp"
#include "sinew/backend/cuda/instantiations.hpp"
#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace parity;  // NOLINT(google-build-using-namespace)
namespace cuda = backend::cuda;

bool in_table(const std::string& name) {
  for (const auto& i : cuda::instantiations())
    if (i.name_expression == name) return true;
  return false;
}

// Indices into a dimension of size `bound`, pseudo-random with repeats (a multiplicative walk).
Tensor<int64_t> indices(const Shape& shape, int64_t bound, int salt) {
  std::vector<int64_t> v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<int64_t>((i * 7 + static_cast<size_t>(salt) * 3 + i / 3) %
                                static_cast<size_t>(bound));
  return from_vector<int64_t>(v, shape);
}

// x [4, 5, 6] (contiguous or a permutation of a contiguous tensor), an index along each dim.
template <class T>
void check_gather() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (Layout layout : {Layout::Contiguous, Layout::Permuted}) {
    const Tensor<T> x = make_input<T>({layout, {4, 5, 6}}, 0);
    for (int64_t dim = 0; dim < 3; ++dim) {
      Shape is = x.shape();
      is[dim] = 7;  // more than the dim's size: repeats
      const Tensor<int64_t> index = indices(is, x.size(dim), static_cast<int>(dim));
      const Tensor<T> expected = make_output<T>({Layout::Contiguous, is});
      backend::cpu::gather(x, dim, index, expected);
      for_each_launch([&](const std::string& label) {
        const Tensor<T> out = make_output<T>({Layout::Contiguous, is});
        emu::gather(x, dim, index, out);
        EXPECT_TRUE(same_values(out, expected)) << label << ", dim " << dim;
        EXPECT_TRUE(in_table(emu::last_kernel())) << emu::last_kernel();
      });
      cuda::raise_emulated_checks(0, "test");  // nothing recorded
    }
  }
}

TEST(CudaEmulatedIndex, GatherAllTypes) {
  check_gather<float>();
  check_gather<double>();
  check_gather<int64_t>();
  check_gather<uint8_t>();
  check_gather<bool>();
}

// index_select's form: a 1-d index expanded (stride 0) over the other dimensions.
TEST(CudaEmulatedIndex, GatherThroughAnExpandedIndex) {
  const Tensor<float> x = make_input<float>({Layout::Transposed, {6, 5}}, 1);
  const Tensor<int64_t> rows = from_vector<int64_t>({5, 0, 2, 2, 3}, {5, 1});
  const Tensor<int64_t> index = rows.expand({5, 5});
  const Tensor<float> expected = make_output<float>({Layout::Contiguous, {5, 5}});
  backend::cpu::gather(x, 0, index, expected);
  for_each_launch([&](const std::string& label) {
    const Tensor<float> out = make_output<float>({Layout::Contiguous, {5, 5}});
    emu::gather(x, 0, index, out);
    EXPECT_TRUE(same_values(out, expected)) << label;
  });
  EXPECT_EQ(emu::last_kernel(), "sinew::gather_strided<float, sinew::int32_t>");
}

template <class T>
void check_scatter_add() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (int64_t dim = 0; dim < 3; ++dim) {
    Shape is{3, 4, 5};
    is[dim] = 6;  // more entries than the target dim has (size 3, 4 or 5): repeats accumulate
    const Tensor<int64_t> index = indices(is, Shape{3, 4, 5}[dim], static_cast<int>(dim) + 1);
    const Tensor<T> src = make_input<T>({Layout::Contiguous, is}, 2);
    const Tensor<T> base = make_input<T>({Layout::Permuted, {3, 4, 5}}, 3);
    const Tensor<T> expected = base.clone();
    backend::cpu::scatter_add(expected, dim, index, src);
    for_each_launch([&](const std::string& label) {
      const Tensor<T> out = base.clone();
      emu::scatter_add(out, dim, index, src);
      EXPECT_TRUE(same_values(out, expected)) << label << ", dim " << dim;
      EXPECT_TRUE(in_table(emu::last_kernel())) << emu::last_kernel();
    });
  }
}

TEST(CudaEmulatedIndex, ScatterAddAllTypes) {
  check_scatter_add<float>();
  check_scatter_add<double>();
  check_scatter_add<int64_t>();
  check_scatter_add<uint8_t>();
  check_scatter_add<bool>();
}

// A source larger than the index (scatter_add reads only index's extent of it), into a
// transposed output.
TEST(CudaEmulatedIndex, ScatterAddFromALargerSource) {
  const Tensor<int64_t> index = from_vector<int64_t>({0, 3, 3, 1, 2, 0}, {2, 3});
  const Tensor<double> src = make_input<double>({Layout::Contiguous, {3, 4}}, 4);
  const Tensor<double> base = make_input<double>({Layout::Transposed, {4, 3}}, 5);
  const Tensor<double> expected = base.clone();
  backend::cpu::scatter_add(expected, 0, index, src);
  for_each_launch([&](const std::string& label) {
    const Tensor<double> out = base.clone();
    emu::scatter_add(out, 0, index, src);
    EXPECT_TRUE(same_values(out, expected)) << label;
  });
}

template <class T>
void check_masked_fill() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (const BinaryCase& k : binary_cases()) {
    SCOPED_TRACE(describe(k.x) + ", mask " + describe(k.y) + " -> " + describe(k.out));
    const Tensor<T> x = make_input<T>(k.x, 0);
    const Tensor<bool> mask = make_input<bool>(k.y, 1);
    const Tensor<T> expected = make_output<T>(k.out);
    backend::cpu::masked_fill(x, mask, 3.0, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<T> out = make_output<T>(k.out);
      emu::masked_fill(x, mask, 3.0, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", " << emu::last_kernel();
    });
  }
}

TEST(CudaEmulatedIndex, MaskedFillAllTypes) {
  check_masked_fill<float>();
  check_masked_fill<double>();
  check_masked_fill<int64_t>();
  check_masked_fill<uint8_t>();
  check_masked_fill<bool>();
}

TEST(CudaEmulatedIndex, FlipAnySetOfDims) {
  const Tensor<float> x = make_input<float>({Layout::Permuted, {2, 3, 4}}, 0);
  for (uint64_t bits = 0; bits < 8; ++bits) {
    backend::DimMask dims(3, false);
    for (int d = 0; d < 3; ++d)
      if ((bits >> d) & 1) dims.set(d);
    const Tensor<float> expected = make_output<float>({Layout::Contiguous, {2, 3, 4}});
    backend::cpu::flip(x, dims, expected);
    for_each_launch([&](const std::string& label) {
      const Tensor<float> out = make_output<float>({Layout::Contiguous, {2, 3, 4}});
      emu::flip(x, dims, out);
      EXPECT_TRUE(same_values(out, expected)) << label << ", dims " << bits;
    });
  }
}

// The mask as it is and broadcast to a leading dimension of 3.
TEST(CudaEmulatedIndex, CountTrueOfABroadcastMask) {
  for (const Spec& s : {Spec{Layout::Contiguous, {0}}, Spec{Layout::Contiguous, {257}},
                        Spec{Layout::Transposed, {6, 5}}, Spec{Layout::Expanded, {5, 6}}}) {
    const Tensor<bool> mask = make_input<bool>(s, 2);
    std::vector<int64_t> wider = s.shape.vec();
    wider.insert(wider.begin(), 3);
    for (const Shape& shape : {s.shape, Shape(wider)}) {
      const int64_t expected = backend::cpu::count_true(mask, shape);
      for_each_launch([&](const std::string& label) {
        EXPECT_EQ(emu::count_true(mask, shape), expected)
            << describe(s) << " as " << shape << ", " << label;
      });
    }
  }
}

// An index out of range: its element is skipped (gather writes 0, scatter_add adds nothing), the
// others are right, and the next synchronization raises the first bad index once, naming the op,
// the dimension and the element of the index.
TEST(CudaEmulatedIndex, AnOutOfRangeIndexIsRecordedSkippedAndRaised) {
  const Tensor<float> x = from_vector<float>({10, 11, 12, 13, 14}, {5});
  const Tensor<int64_t> index = from_vector<int64_t>({4, 0, 9, 2, -1, 3}, {6});
  Tensor<float> out = full<float>({6}, -7.0);
  emu::gather(x, 0, index, out);
  EXPECT_EQ(out.to_vector(), (std::vector<float>{14, 10, 0, 12, 0, 13}));
  SINEW_EXPECT_ERROR(cuda::raise_emulated_checks(0, "Tensor::to"), "gather (cuda:0)",
                     "index 9 is out of range for dimension 0 of size 5 (element 2 of the index)",
                     "Tensor::to");
  EXPECT_NO_THROW(cuda::raise_emulated_checks(0, "cuda::synchronize"));  // raised once

  Tensor<float> acc = zeros<float>({2, 3});
  const Tensor<int64_t> rows = from_vector<int64_t>({0, 1, 1, 5, 0, 1}, {2, 3});
  const Tensor<float> src = ones<float>({2, 3});
  emu::scatter_add(acc, 0, rows, src);
  EXPECT_EQ(acc.to_vector(), (std::vector<float>{1, 1, 0, 0, 1, 2}));
  SINEW_EXPECT_ERROR(cuda::raise_emulated_checks(0, "cuda::synchronize"), "scatter_add (cuda:0)",
                     "index 5 is out of range for dimension 0 of size 2 (element 3 of the index)");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
