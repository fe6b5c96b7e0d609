// Tests for the LibTorch idioms on Tensor (core/tensor.hpp): t[i], assignment through a view,
// index_put_, compound assignment, item<U>(), and the print options with LibTorch's footer.
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
Tensor<float> grid() { return arange<float>(6).reshape({2, 3}); }  // [[0, 1, 2], [3, 4, 5]]

std::string printed(const auto& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

// Restores the default print options even when a test fails.
struct PrintOptionsGuard {
  ~PrintOptionsGuard() { set_printoptions({}); }
};

TEST(Idioms, SubscriptSelectsAlongTheFirstDimension) {
  Tensor<float> t = grid();
  EXPECT_TRUE(values_are(t[1], {3, 4, 5}));
  EXPECT_EQ(t[1][2].item(), 5.0f);
  EXPECT_EQ(t[-1][0].item(), 3.0f);
  EXPECT_TRUE(t[0].shares_storage(t));
  SINEW_EXPECT_ERROR(t[2], "select", "2");
  SINEW_EXPECT_ERROR(t[0][0][0], "select");  // a 0-d tensor has no dimension to select
}

TEST(Idioms, AssigningToASubscriptWritesIntoTheTensor) {
  Tensor<float> t = grid();
  t[0] = 7;
  EXPECT_TRUE(values_are(t, {7, 7, 7, 3, 4, 5}));
  t[1][1] = 2.5;
  EXPECT_TRUE(values_are(t, {7, 7, 7, 3, 2.5, 5}));
  t[1] = from_vector<float>({1, 2, 3});
  EXPECT_TRUE(values_are(t, {7, 7, 7, 1, 2, 3}));
  t[0] = full<float>({1}, -1);  // broadcast
  EXPECT_TRUE(values_are(t, {-1, -1, -1, 1, 2, 3}));
  t.index({Slice(), 1}) = 0;
  EXPECT_TRUE(values_are(t, {-1, 0, -1, 1, 0, 3}));
  SINEW_EXPECT_ERROR(t[0] = from_vector<float>({1, 2}), "copy_", "[2]", "[3]");
  // A named tensor is a handle: assigning to it rebinds, the old memory is unchanged.
  Tensor<float> row = t[0];
  row = zeros<float>({3});
  EXPECT_TRUE(values_are(t, {-1, 0, -1, 1, 0, 3}));
  Tensor<int64_t> ints = zeros<int64_t>({2, 2});
  ints[1][0] = 9;
  EXPECT_TRUE(values_are(ints, {0, 0, 9, 0}));
}

TEST(Idioms, AssignmentThroughAViewFollowsTheInPlaceRules) {
  Tensor<float> w = ones<float>({2, 2}).requires_grad_();
  SINEW_EXPECT_ERROR(w[0] = 3, "fill_", "view");
  {
    NoGradGuard g;
    w[0] = 3;
  }
  EXPECT_TRUE(values_are(w, {3, 3, 1, 1}));
}

TEST(Idioms, IndexPutWritesTensorsScalarsAndMasks) {
  Tensor<float> t = grid();
  t.index_put_({Slice(), 0}, from_vector<float>({10, 20}));
  EXPECT_TRUE(values_are(t, {10, 1, 2, 20, 4, 5}));
  t.index_put_({1, Slice{.start = 1}}, 0);
  EXPECT_TRUE(values_are(t, {10, 1, 2, 20, 0, 0}));
  t.index_put_(t > 5.0f, -1);
  EXPECT_TRUE(values_are(t, {-1, 1, 2, -1, 0, 0}));
  uint64_t v = t.version();
  t.index_put_({0, 0}, 4);
  EXPECT_GT(t.version(), v);
  EXPECT_EQ(t.at({0, 0}), 4.0f);
  SINEW_EXPECT_ERROR(t.index_put_({2}, 1), "index", "out of range");
}

TEST(Idioms, CompoundAssignmentIsInPlace) {
  Tensor<float> t = grid();
  Tensor<float> alias = t;
  t += 1;
  t *= 2;
  t -= from_vector<float>({1, 1, 1});  // broadcast
  t /= 2.0;
  EXPECT_TRUE(values_are(alias, {0.5, 1.5, 2.5, 3.5, 4.5, 5.5}));
  t += t;
  EXPECT_TRUE(values_are(alias, {1, 3, 5, 7, 9, 11}));
  t[0] *= 0;
  EXPECT_TRUE(values_are(alias, {0, 0, 0, 7, 9, 11}));
  Tensor<int64_t> n = full<int64_t>({2}, 3);
  n += 2;
  n *= n;
  EXPECT_TRUE(values_are(n, {25, 25}));
  SINEW_EXPECT_ERROR(t += zeros<float>({4}), "add_", "[4]", "[2, 3]");
}

TEST(Idioms, CompoundAssignmentHasTheAutogradRulesOfAdd) {
  Tensor<float> leaf = ones<float>({2}).requires_grad_();
  SINEW_EXPECT_ERROR(leaf += 1, "add_", "leaf");
  Tensor<float> x = from_vector<float>({1, 2}).requires_grad_();
  Tensor<float> y = x * 3.0f;
  y += x;  // y = 4x
  y *= x;  // y = 4x^2,  dy/dx = 8x
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {8, 16}));
}

TEST(Idioms, ItemConvertsAndChecksRange) {
  Tensor<float> t = full<float>({}, 3.75);
  EXPECT_EQ(t.item<double>(), 3.75);
  EXPECT_EQ(t.item<int64_t>(), 3);
  EXPECT_EQ(t.item<int>(), 3);
  EXPECT_TRUE(t.item<bool>());
  EXPECT_EQ((grid() > 1.0f).to<int64_t>().sum().item<int>(), 4);
  EXPECT_EQ(full<int64_t>({1}, 300).item<double>(), 300.0);
  SINEW_EXPECT_ERROR(full<float>({}, NAN).item<int64_t>(), "item", "nan", "64-bit");
  SINEW_EXPECT_ERROR(full<double>({}, 1e20).item<int64_t>(), "item", "1e+20");
  SINEW_EXPECT_ERROR(full<int64_t>({}, 300).item<uint8_t>(), "item", "300", "unsigned 8-bit");
  SINEW_EXPECT_ERROR(full<float>({}, -1).item<uint8_t>(), "item", "-1");
  SINEW_EXPECT_ERROR(zeros<float>({2}).item<int>(), "item");
  // The bounds are exact: -2^63 fits an int64_t, 2^63 does not.
  EXPECT_EQ(full<double>({}, -9223372036854775808.0).item<int64_t>(),
            std::numeric_limits<int64_t>::min());
  SINEW_EXPECT_ERROR(full<double>({}, 9223372036854775808.0).item<int64_t>(), "item");
}

TEST(Idioms, PrintOptionsChangePrecisionAndAddTheLibTorchFooter) {
  PrintOptionsGuard restore;
  Tensor<float> t = from_vector<float>({1.23456f, 2.5f}, {1, 2});
  EXPECT_EQ(printed(t), "tensor([[1.2346, 2.5000]])");
  set_printoptions({.precision = 2});
  EXPECT_EQ(printed(t), "tensor([[1.23, 2.50]])");
  set_printoptions({.footer = true});
  EXPECT_EQ(printed(t), "tensor([[1.2346, 2.5000]])\n[ CPUFloatType{1,2} ]");
  EXPECT_EQ(printed(full<double>({}, 2)), "tensor(2., dtype=float64)\n[ CPUDoubleType{} ]");
  EXPECT_EQ(printed(zeros<int64_t>({3})), "tensor([0, 0, 0])\n[ CPULongType{3} ]");
  EXPECT_EQ(printed(zeros<uint8_t>({1})), "tensor([0], dtype=uint8)\n[ CPUByteType{1} ]");
  EXPECT_EQ(printed(ones<bool>({1})), "tensor([True])\n[ CPUBoolType{1} ]");
  set_printoptions({.threshold = 4, .edgeitems = 1});
  EXPECT_EQ(printed(arange<float>(5)), "tensor([0.,  ..., 4.])");  // PyTorch 1.13 prints two spaces
  set_printoptions({.sci_mode = true});
  EXPECT_EQ(printed(from_vector<float>({1.5f})), "tensor([1.5000e+00])");
  SINEW_EXPECT_ERROR(set_printoptions({.precision = -1}), "set_printoptions", "precision -1");
  set_printoptions({});
  EXPECT_EQ(printed(t), "tensor([[1.2346, 2.5000]])");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
