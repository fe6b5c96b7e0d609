// Tests for ops/view.hpp: view, reshape, flatten, unsqueeze, squeeze, transpose, permute, t, slice,
// narrow, select, expand and contiguous — values, memory sharing, gradients and error messages.
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::grad_ok;
using sinew::testing::gradgrad_ok;
using sinew::testing::rand_input;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {

// 0, 1, 2, ... in the given shape (double).
Tensor<double> iota(const Shape& s) { return arange<double>(0, double(s.numel())).view(s); }

// ---- view / reshape / flatten -------------------------------------------------------------------

TEST(View, ReshapesWithoutCopying) {
  auto x = iota({6});
  auto v = x.view({2, -1});
  EXPECT_EQ(v.shape(), Shape({2, 3}));
  EXPECT_EQ(v.strides(), Shape({3, 1}));
  EXPECT_TRUE(v.shares_storage(x));
  EXPECT_EQ(v.at({1, 0}), 3.0);
  x.set({4}, 40.0);
  EXPECT_EQ(v.at({1, 1}), 40.0);  // same memory
  SINEW_EXPECT_ERROR(iota({2, 3}).view({}), "view", "[]", "6 elements");
}

TEST(View, ViewOfScalarAndToScalar) {
  auto s = scalar_tensor<double>(5);
  EXPECT_EQ(s.view({1, 1}).shape(), Shape({1, 1}));
  EXPECT_EQ(s.view({1, 1}).view({}).item(), 5.0);
}

TEST(View, RejectsBadShapesAndNonContiguousInput) {
  auto x = iota({2, 3});
  SINEW_EXPECT_ERROR(x.view({4, 2}), "view", "[4, 2]", "[2, 3]", "6 elements");
  SINEW_EXPECT_ERROR(x.view({-1, -1}), "view", "only one dimension can be -1");
  SINEW_EXPECT_ERROR(x.view({4, -1}), "view", "[4, -1]");
  SINEW_EXPECT_ERROR(x.view({-2, 3}), "view", "invalid size -2");
  SINEW_EXPECT_ERROR(x.t().view({6}), "view", "not contiguous", "reshape");
}

TEST(Reshape, SharesContiguousMemoryAndCopiesOtherwise) {
  auto x = iota({2, 3});
  auto r = x.reshape({3, 2});
  EXPECT_TRUE(r.shares_storage(x));
  auto rt = x.t().reshape({6});  // x^T = [[0, 3], [1, 4], [2, 5]]
  EXPECT_FALSE(rt.shares_storage(x));
  EXPECT_TRUE(values_are(rt, {0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(x.reshape({-1}).shape(), Shape({6}));
  SINEW_EXPECT_ERROR(x.t().reshape({5}), "reshape", "[5]", "[3, 2]");
}

TEST(Reshape, Gradients) {
  auto x = rand_input({2, 3});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].view({3, 2}) * in[0].view({3, 2}); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].t().reshape({6}) * 2.0; }, {x}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return in[0].t().reshape({3, 2}).pow(3.0); }, {x}));
}

TEST(Flatten, MergesTheGivenRange) {
  auto x = iota({2, 3, 4});
  EXPECT_EQ(x.flatten().shape(), Shape({24}));
  EXPECT_EQ(x.flatten(1).shape(), Shape({2, 12}));
  EXPECT_EQ(x.flatten(0, 1).shape(), Shape({6, 4}));
  EXPECT_EQ(x.flatten(-2, -1).shape(), Shape({2, 12}));
  EXPECT_EQ(x.flatten(1, 1).shape(), Shape({2, 3, 4}));
  EXPECT_TRUE(x.flatten(1).shares_storage(x));
  EXPECT_EQ(scalar_tensor<double>(3).flatten().shape(), Shape({1}));
  EXPECT_TRUE(values_are(x.transpose(0, 1).flatten(0, 1).select(1, 0), {0, 12, 4, 16, 8, 20}));
  SINEW_EXPECT_ERROR(x.flatten(2, 1), "flatten", "start_dim 2", "end_dim 1");
  SINEW_EXPECT_ERROR(x.flatten(0, 3), "flatten", "dimension 3");
  auto g = rand_input({2, 3, 2});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].transpose(0, 2).flatten(1); }, {g}));
}

// ---- unsqueeze / squeeze -----------------------------------------------------------------------

TEST(Unsqueeze, InsertsSizeOneDimensions) {
  auto x = iota({2, 3});
  EXPECT_EQ(x.unsqueeze(0).shape(), Shape({1, 2, 3}));
  EXPECT_EQ(x.unsqueeze(1).shape(), Shape({2, 1, 3}));
  EXPECT_EQ(x.unsqueeze(2).shape(), Shape({2, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), Shape({2, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-3).shape(), Shape({1, 2, 3}));
  EXPECT_TRUE(x.unsqueeze(1).shares_storage(x));
  EXPECT_TRUE(x.unsqueeze(1).is_contiguous());
  EXPECT_EQ(x.unsqueeze(1).at({1, 0, 2}), 5.0);
  EXPECT_EQ(scalar_tensor<double>(2).unsqueeze(0).shape(), Shape({1}));
  SINEW_EXPECT_ERROR(x.unsqueeze(3), "unsqueeze", "dimension 3");
  SINEW_EXPECT_ERROR(x.unsqueeze(-4), "unsqueeze", "dimension -4");
}

TEST(Squeeze, RemovesSizeOneDimensions) {
  auto x = iota({1, 3, 1});
  EXPECT_EQ(x.squeeze().shape(), Shape({3}));
  EXPECT_EQ(x.squeeze(0).shape(), Shape({3, 1}));
  EXPECT_EQ(x.squeeze(-1).shape(), Shape({1, 3}));
  EXPECT_EQ(x.squeeze(1).shape(), Shape({1, 3, 1}));  // size 3: unchanged, as PyTorch
  EXPECT_TRUE(x.squeeze().shares_storage(x));
  EXPECT_EQ(iota({1, 1}).squeeze().shape(), Shape({}));
  EXPECT_EQ(scalar_tensor<double>(1).squeeze(0).shape(), Shape({}));
  SINEW_EXPECT_ERROR(x.squeeze(3), "squeeze", "dimension 3");
}

TEST(Squeeze, Gradients) {
  auto x = rand_input({1, 3, 1});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].squeeze() * 3.0; }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].squeeze(2).unsqueeze(0); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].unsqueeze(-1).squeeze(0); }, {x}));
}

// ---- transpose / permute / t --------------------------------------------------------------------

TEST(Transpose, SwapsStridesWithoutCopying) {
  auto x = iota({2, 3});
  auto y = x.transpose(0, 1);
  EXPECT_EQ(y.shape(), Shape({3, 2}));
  EXPECT_EQ(y.strides(), Shape({1, 3}));
  EXPECT_TRUE(y.shares_storage(x));
  EXPECT_FALSE(y.is_contiguous());
  EXPECT_TRUE(values_are(y, {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(values_are(x.transpose(-1, -2), {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(values_are(x.t(), {0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(iota({3}).t().shape(), Shape({3}));
  EXPECT_EQ(scalar_tensor<double>(1).transpose(0, -1).shape(), Shape({}));
  SINEW_EXPECT_ERROR(x.transpose(0, 2), "transpose", "dimension 2");
  SINEW_EXPECT_ERROR(scalar_tensor<double>(1).transpose(0, 1), "transpose", "dimension 1");
  SINEW_EXPECT_ERROR(iota({2, 2, 2}).t(), "t", "at most 2 dimensions", "[2, 2, 2]");
}

TEST(Permute, ReordersDimensions) {
  auto x = iota({2, 3, 4});
  auto y = x.permute({2, 0, 1});
  EXPECT_EQ(y.shape(), Shape({4, 2, 3}));
  EXPECT_EQ(y.strides(), Shape({1, 12, 4}));
  EXPECT_TRUE(y.shares_storage(x));
  EXPECT_EQ(y.at({3, 1, 2}), x.at({1, 2, 3}));
  EXPECT_EQ(x.permute({-1, 0, 1}).shape(), Shape({4, 2, 3}));
  SINEW_EXPECT_ERROR(x.permute({0, 1}), "permute", "2 dims", "[2, 3, 4]");
  SINEW_EXPECT_ERROR(x.permute({0, 1, 1}), "permute", "dimension 1 repeats");
  SINEW_EXPECT_ERROR(x.permute({0, 1, 3}), "permute", "dimension 3");
}

TEST(Permute, Gradients) {
  auto x = rand_input({2, 3, 2});
  auto w = rand_input({2, 2, 3}, 5).detach();
  EXPECT_TRUE(grad_ok([w](auto& in) { return in[0].permute({2, 0, 1}) * w; }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].transpose(0, 2).pow(2.0); }, {x}));
  auto m = rand_input({3, 2});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].t() * 2.0; }, {m}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return in[0].permute({1, 2, 0}).pow(3.0); }, {x}));
}

// ---- slice / narrow / select --------------------------------------------------------------------

TEST(Slice, FollowsPythonSliceRules) {
  auto x = iota({10});
  EXPECT_TRUE(values_are(x.slice(0, 2, 8, 3), {2, 5}));
  EXPECT_TRUE(values_are(x.slice(0, -3, std::nullopt), {7, 8, 9}));
  EXPECT_TRUE(values_are(x.slice(0, std::nullopt, 3), {0, 1, 2}));
  EXPECT_TRUE(values_are(x.slice(0, 8, 100), {8, 9}));  // clamped
  EXPECT_TRUE(values_are(x.slice(0, -100, 2), {0, 1}));
  EXPECT_EQ(x.slice(0, 6, 2).numel(), 0);
  EXPECT_EQ(x.slice(0, 10, 12).numel(), 0);
  auto s = x.slice(0, 1, 9, 2);
  EXPECT_TRUE(s.shares_storage(x));
  EXPECT_EQ(s.strides(), Shape({2}));
  EXPECT_EQ(s.storage_offset(), 1);
  auto m = iota({3, 4});
  EXPECT_TRUE(values_are(m.slice(1, 1, 3), {1, 2, 5, 6, 9, 10}));
  EXPECT_TRUE(values_are(m.slice(-2, 1, std::nullopt), {4, 5, 6, 7, 8, 9, 10, 11}));
  SINEW_EXPECT_ERROR(x.slice(0, 0, 5, 0), "slice", "step must be positive, got 0");
  SINEW_EXPECT_ERROR(x.slice(0, 0, 5, -1), "slice", "step must be positive, got -1");
  SINEW_EXPECT_ERROR(x.slice(1, 0, 5), "slice", "dimension 1");
  SINEW_EXPECT_ERROR(scalar_tensor<double>(1).slice(0, 0, 1), "slice", "0-d");
}

TEST(Slice, Gradients) {
  auto x = rand_input({4, 5});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].slice(1, 1, 5, 2) * 3.0; }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].t().slice(0, -2, std::nullopt); }, {x}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return in[0].slice(0, 0, 4, 3).pow(2.0); }, {x}));
  // Two slices of one tensor: their gradients add up in the base.
  auto y = rand_input({6});
  auto z = y.slice(0, 0, 4) * 1.0 + y.slice(0, 2, 6) * 10.0;
  z.sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {1, 1, 11, 11, 10, 10}));
  // An empty slice sends back zeros.
  auto e = rand_input({3});
  (e.slice(0, 2, 1).sum() + e.sum()).backward();
  EXPECT_TRUE(values_are(e.grad(), {1, 1, 1}));
}

TEST(Narrow, TakesALengthFromAStart) {
  auto x = iota({3, 4});
  EXPECT_TRUE(values_are(x.narrow(1, 1, 2), {1, 2, 5, 6, 9, 10}));
  EXPECT_TRUE(values_are(x.narrow(0, -1, 1), {8, 9, 10, 11}));
  EXPECT_TRUE(x.narrow(0, 1, 2).shares_storage(x));
  EXPECT_EQ(x.narrow(1, 4, 0).shape(), Shape({3, 0}));
  SINEW_EXPECT_ERROR(x.narrow(1, 3, 2), "narrow", "[3, 5)", "size 4");
  SINEW_EXPECT_ERROR(x.narrow(0, 0, -1), "narrow", "out of bounds");
  SINEW_EXPECT_ERROR(x.narrow(0, -5, 1), "narrow", "out of bounds");
  SINEW_EXPECT_ERROR(scalar_tensor<double>(1).narrow(0, 0, 1), "narrow", "0-d");
  auto g = rand_input({3, 4});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].narrow(1, 1, 2).pow(2.0); }, {g}));
}

TEST(Select, DropsTheIndexedDimension) {
  auto x = iota({3, 4});
  EXPECT_TRUE(values_are(x.select(0, 1), {4, 5, 6, 7}));
  EXPECT_TRUE(values_are(x.select(1, -1), {3, 7, 11}));
  EXPECT_EQ(x.select(1, 0).shape(), Shape({3}));
  EXPECT_EQ(x.select(1, 0).strides(), Shape({4}));
  EXPECT_TRUE(x.select(0, 2).shares_storage(x));
  EXPECT_EQ(x.select(0, 2).select(0, 3).item(), 11.0);
  SINEW_EXPECT_ERROR(x.select(0, 3), "select", "index 3", "size 3");
  SINEW_EXPECT_ERROR(x.select(1, -5), "select", "index -5", "size 4");
  SINEW_EXPECT_ERROR(x.select(2, 0), "select", "dimension 2");
  SINEW_EXPECT_ERROR(scalar_tensor<double>(1).select(0, 0), "select", "0-d");
}

TEST(Select, Gradients) {
  auto x = rand_input({3, 4});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].select(1, 2) * 2.0; }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].t().select(0, -1); }, {x}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return in[0].select(0, 1).pow(3.0); }, {x}));
  // The same row selected twice accumulates.
  auto y = rand_input({2, 2});
  (y.select(0, 1) + y.select(0, 1) * 2.0).sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {0, 0, 3, 3}));
}

// ---- expand / contiguous ------------------------------------------------------------------------

TEST(Expand, BroadcastsWithStrideZero) {
  auto x = from_vector<double>({1, 2, 3}, {3, 1});
  auto y = x.expand({2, 3, 4});
  EXPECT_EQ(y.shape(), Shape({2, 3, 4}));
  EXPECT_EQ(y.strides(), Shape({0, 1, 0}));
  EXPECT_TRUE(y.shares_storage(x));
  EXPECT_EQ(y.at({1, 2, 3}), 3.0);
  EXPECT_EQ(x.expand({-1, 2}).shape(), Shape({3, 2}));
  EXPECT_TRUE(values_are(x.expand({3, 2}), {1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(x.expand({3, 1}).strides(), x.strides());
  EXPECT_TRUE(values_are(x.expand_as(zeros<double>({3, 2})), {1, 1, 2, 2, 3, 3}));
  EXPECT_TRUE(values_are(scalar_tensor<double>(7).expand({2}), {7, 7}));
  EXPECT_EQ(x.expand({3, 0}).numel(), 0);
  SINEW_EXPECT_ERROR(x.expand({2, 2}), "expand", "[3, 1]", "[2, 2]", "dimension 0");
  SINEW_EXPECT_ERROR(x.expand({3}), "expand", "fewer dimensions");
  SINEW_EXPECT_ERROR(x.expand({-1, 3, 2}), "expand", "-1 is not allowed");
  SINEW_EXPECT_ERROR(x.expand({3, -2}), "expand", "invalid size -2");
}

// Integer and bool tensors expand too (no gradient to record).
TEST(Expand, WorksForIntegerAndBoolTensors) {
  auto u = from_vector<uint8_t>({7, 250}, {2, 1});
  auto ue = u.expand({2, 3});
  EXPECT_EQ(ue.strides(), Shape({1, 0}));
  EXPECT_EQ(ue.to_vector(), (std::vector<uint8_t>{7, 7, 7, 250, 250, 250}));
  auto i = from_vector<int64_t>({-5}, {1});
  EXPECT_EQ(i.expand({3}).to_vector(), (std::vector<int64_t>{-5, -5, -5}));
  auto b = from_vector<bool>({true, false}, {1, 2});
  EXPECT_EQ(b.expand({2, 2}).to_vector(), (std::vector<bool>{true, false, true, false}));
}

TEST(Expand, GradientSumsOverBroadcastDimensions) {
  auto x = rand_input({3, 1});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].expand({2, 3, 4}) * 1.5; }, {x}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return in[0].expand({2, 3, 2}).pow(2.0); }, {x}));
  auto y = rand_input({2});
  y.expand({4, 2}).sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {4, 4}));
}

TEST(Contiguous, ReturnsSelfOrACompactCopy) {
  auto x = iota({2, 3});
  EXPECT_TRUE(x.contiguous().is_same(x));
  auto c = x.t().contiguous();
  EXPECT_FALSE(c.shares_storage(x));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), Shape({2, 1}));
  EXPECT_TRUE(values_are(c, {0, 3, 1, 4, 2, 5}));
  auto e = from_vector<double>({1, 2}, {2, 1}).expand({2, 3}).contiguous();
  EXPECT_TRUE(values_are(e, {1, 1, 1, 2, 2, 2}));
  auto g = rand_input({2, 3});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].t().contiguous() * 2.0; }, {g}));
}

TEST(Views, ChainedViewsReadTheRightElements) {
  auto x = iota({4, 6});
  // rows 1 and 3, columns 5, 3, 1 read through transpose + slice + select
  auto v = x.slice(0, 1, 4, 2).t().slice(0, 1, 6, 2);  // [3, 2]: column c, row r
  EXPECT_TRUE(values_are(v, {7, 19, 9, 21, 11, 23}));
  EXPECT_TRUE(values_are(v.select(1, 1), {19, 21, 23}));
  EXPECT_TRUE(v.shares_storage(x));
  auto w = rand_input({4, 6});
  EXPECT_TRUE(grad_ok(
      [](auto& in) { return in[0].slice(0, 1, 4, 2).t().slice(0, 1, 6, 2).unsqueeze(0); }, {w}));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
