// Tests for ops/shape.hpp: cat, stack, split, chunk, pad, flip and repeat — hand-computed values,
// non-contiguous inputs, negative dims, gradcheck in double and error messages.
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::grad_ok;
using sinew::testing::gradgrad_ok;
using sinew::testing::rand_input;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {

using TD = Tensor<double>;

TD iota(const Shape& s, double start = 0) {
  return arange<double>(start, start + double(s.numel())).view(s);
}

// ---- cat ----------------------------------------------------------------------------------------

TEST(Cat, JoinsAlongTheGivenDimension) {
  auto a = iota({2, 2});      // [[0, 1], [2, 3]]
  auto b = iota({1, 2}, 10);  // [[10, 11]]
  auto c = iota({2, 3}, 20);  // [[20, 21, 22], [23, 24, 25]]
  auto y0 = cat(std::vector<TD>{a, b}, 0);
  EXPECT_EQ(y0.shape(), Shape({3, 2}));
  EXPECT_TRUE(values_are(y0, {0, 1, 2, 3, 10, 11}));
  auto y1 = cat(std::vector<TD>{a, c}, 1);
  EXPECT_EQ(y1.shape(), Shape({2, 5}));
  EXPECT_TRUE(values_are(y1, {0, 1, 20, 21, 22, 2, 3, 23, 24, 25}));
  EXPECT_TRUE(values_are(cat(std::vector<TD>{a, c}, -1), {0, 1, 20, 21, 22, 2, 3, 23, 24, 25}));
  EXPECT_TRUE(values_are(cat(std::vector<TD>{a}, 0), {0, 1, 2, 3}));
  EXPECT_FALSE(cat(std::vector<TD>{a}, 0).shares_storage(a));
}

TEST(Cat, ReadsNonContiguousInputs) {
  auto a = iota({2, 3}).t();                    // [[0, 3], [1, 4], [2, 5]]
  auto b = iota({3, 4}, 10).slice(1, 0, 4, 2);  // [[10, 12], [14, 16], [18, 20]]
  EXPECT_TRUE(
      values_are(cat(std::vector<TD>{a, b}, 1), {0, 3, 10, 12, 1, 4, 14, 16, 2, 5, 18, 20}));
  auto e = from_vector<double>({7}, {1, 1}).expand({3, 2});
  EXPECT_TRUE(values_are(cat(std::vector<TD>{e, a}, 0), {7, 7, 7, 7, 7, 7, 0, 3, 1, 4, 2, 5}));
}

TEST(Cat, SkipsLegacyEmptyTensorsAndKeepsEmptyBlocks) {
  auto a = iota({2, 2});
  auto none = zeros<double>({0});
  EXPECT_TRUE(values_are(cat(std::vector<TD>{none, a, none}, 1), {0, 1, 2, 3}));
  auto empty_rows = zeros<double>({0, 2});
  EXPECT_EQ(cat(std::vector<TD>{empty_rows, a}, 0).shape(), Shape({2, 2}));
  EXPECT_EQ(cat(std::vector<TD>{none, none}, 0).shape(), Shape({0}));
}

TEST(Cat, OtherElementTypes) {
  auto a = from_vector<int64_t>({1, 2}, {2});
  auto b = from_vector<int64_t>({3}, {1});
  EXPECT_EQ(cat(std::vector<Tensor<int64_t>>{a, b}).to_vector(), (std::vector<int64_t>{1, 2, 3}));
  auto f = cat(std::vector<Tensor<float>>{ones<float>({1, 2}), zeros<float>({1, 2})}, 0);
  EXPECT_TRUE(values_are(f, {1, 1, 0, 0}));
}

TEST(Cat, GradientsGoToEachBlock) {
  auto a = rand_input({2, 3}, 1), b = rand_input({2, 1}, 2), c = rand_input({3, 2}, 3);
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        return cat(std::vector<TD>{in[0], in[1], in[2].t()}, 1) * 2.0;
      },
      {a, b, c}));
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        return cat(std::vector<TD>{in[0], in[0]}, 0);
      },
      {a}));  // reused input
  EXPECT_TRUE(gradgrad_ok(
      [](auto& in) {
        return cat(std::vector<TD>{in[0], in[1]}, -1).pow(2.0);
      },
      {a, b}));
  // Only the inputs that need a gradient get one.
  auto fixed = iota({2, 2});
  auto y = cat(std::vector<TD>{fixed, a}, 1);
  (y * y).sum().backward();
  EXPECT_TRUE(all_close(a.grad(), a.detach() * 2.0));
  EXPECT_FALSE(fixed.grad().defined());
}

TEST(Cat, RejectsBadInputs) {
  auto a = iota({2, 3}), b = iota({3, 4});
  SINEW_EXPECT_ERROR(cat(std::vector<TD>{}, 0), "cat", "non-empty");
  SINEW_EXPECT_ERROR(cat(std::vector<TD>{a, b}, 0), "cat", "except in dimension 0",
                     "[2, 3], [3, 4]");
  SINEW_EXPECT_ERROR(cat(std::vector<TD>{a, iota({2, 3, 1})}, 1), "cat", "[2, 3], [2, 3, 1]");
  SINEW_EXPECT_ERROR(cat(std::vector<TD>{a, a}, 2), "cat", "dimension 2");
  SINEW_EXPECT_ERROR(cat(std::vector<TD>{scalar_tensor<double>(1), scalar_tensor<double>(2)}, 0),
                     "cat", "zero-dimensional");
  SINEW_EXPECT_ERROR(cat(std::vector<TD>{a, TD()}, 0), "cat", "tensor 1 is undefined");
}

// ---- stack --------------------------------------------------------------------------------------

TEST(Stack, AddsANewDimension) {
  auto a = iota({2}), b = iota({2}, 10);
  auto y0 = stack(std::vector<TD>{a, b});
  EXPECT_EQ(y0.shape(), Shape({2, 2}));
  EXPECT_TRUE(values_are(y0, {0, 1, 10, 11}));
  auto y1 = stack(std::vector<TD>{a, b}, 1);
  EXPECT_EQ(y1.shape(), Shape({2, 2}));
  EXPECT_TRUE(values_are(y1, {0, 10, 1, 11}));
  EXPECT_TRUE(values_are(stack(std::vector<TD>{a, b}, -1), {0, 10, 1, 11}));
  auto m = iota({2, 3});
  EXPECT_EQ(stack(std::vector<TD>{m, m, m}, 1).shape(), Shape({2, 3, 3}));
  EXPECT_EQ(stack(std::vector<TD>{scalar_tensor<double>(1), scalar_tensor<double>(2)}).shape(),
            Shape({2}));
  EXPECT_TRUE(values_are(stack(std::vector<TD>{m.t(), m.t()}, 2).select(2, 1), {0, 3, 1, 4, 2, 5}));
}

TEST(Stack, GradientsAndErrors) {
  auto a = rand_input({2, 3}, 1), b = rand_input({2, 3}, 2);
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        return stack(std::vector<TD>{in[0], in[1].pow(2.0)}, 1);
      },
      {a, b}));
  SINEW_EXPECT_ERROR(stack(std::vector<TD>{}), "stack", "non-empty");
  SINEW_EXPECT_ERROR(stack(std::vector<TD>{iota({2, 3}), iota({3, 2})}), "stack", "equal size",
                     "[2, 3], [3, 2]");
  SINEW_EXPECT_ERROR(stack(std::vector<TD>{iota({2}), iota({2})}, 2), "stack", "dimension 2");
}

// ---- split / chunk ------------------------------------------------------------------------------

TEST(Split, ReturnsViewsOfEqualBlocks) {
  auto x = iota({5, 2});
  auto parts = split(x, 2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TRUE(values_are(parts[0], {0, 1, 2, 3}));
  EXPECT_TRUE(values_are(parts[1], {4, 5, 6, 7}));
  EXPECT_TRUE(values_are(parts[2], {8, 9}));
  for (const auto& p : parts) EXPECT_TRUE(p.shares_storage(x));
  auto cols = split(x, 1, -1);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_TRUE(values_are(cols[1], {1, 3, 5, 7, 9}));
  EXPECT_EQ(split(x, 10).size(), 1u);
  auto e = split(zeros<double>({0, 2}), 3);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].shape(), Shape({0, 2}));
}

TEST(Split, BySizes) {
  auto x = iota({2, 6});
  auto parts = split(x, Shape{1, 3, 0, 2}, 1);
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_TRUE(values_are(parts[0], {0, 6}));
  EXPECT_TRUE(values_are(parts[1], {1, 2, 3, 7, 8, 9}));
  EXPECT_EQ(parts[2].shape(), Shape({2, 0}));
  EXPECT_TRUE(values_are(parts[3], {4, 5, 10, 11}));
  SINEW_EXPECT_ERROR(split(x, Shape{2, 3}, 1), "split", "[2, 3]", "add up to 5", "size 6");
  SINEW_EXPECT_ERROR(split(x, Shape{-1, 7}, 1), "split", "non-negative");
  SINEW_EXPECT_ERROR(split(x, 0, 1), "split", "split_size can only be 0", "size 6");
  SINEW_EXPECT_ERROR(split(x, -2, 1), "split", "non-negative, got -2");
  SINEW_EXPECT_ERROR(split(x, 2, 2), "split", "dimension 2");
  SINEW_EXPECT_ERROR(split(scalar_tensor<double>(1), 1), "split", "0-d");
}

TEST(Split, GradientsReachTheWholeInput) {
  auto x = rand_input({5, 2});
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        auto p = split(in[0], 2);
        return cat(std::vector<TD>{p[2] * 3.0, p[0], p[1].pow(2.0)}, 0);
      },
      {x}));
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        auto p = split(in[0], Shape{3, 2}, 0);
        return p[0].sum() + p[1].sum() * 2.0;
      },
      {x}));
}

TEST(Chunk, SplitsIntoNearlyEqualViews) {
  auto x = iota({5});
  auto c = chunk(x, 3);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_TRUE(values_are(c[0], {0, 1}));
  EXPECT_TRUE(values_are(c[1], {2, 3}));
  EXPECT_TRUE(values_are(c[2], {4}));
  EXPECT_EQ(chunk(iota({6}), 4).size(), 3u);  // blocks of ceil(6 / 4) = 2, as torch.chunk
  auto m = iota({2, 4});
  auto halves = chunk(m, 2, -1);
  ASSERT_EQ(halves.size(), 2u);
  EXPECT_TRUE(values_are(halves[1], {2, 3, 6, 7}));
  EXPECT_TRUE(halves[1].shares_storage(m));
  auto e = chunk(zeros<double>({0, 3}), 3);
  ASSERT_EQ(e.size(), 3u);
  for (const auto& t : e) EXPECT_EQ(t.shape(), Shape({0, 3}));
  SINEW_EXPECT_ERROR(chunk(x, 0), "chunk", "positive, got 0");
  SINEW_EXPECT_ERROR(chunk(x, 2, 1), "chunk", "dimension 1");
  auto g = rand_input({4, 3});
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        auto p = chunk(in[0], 2, 1);  // sizes 2 and 1
        return p[0].sum(Shape{1}) * p[1].squeeze(1);
      },
      {g}));
}

// ---- pad ----------------------------------------------------------------------------------------

TEST(Pad, PadsFromTheLastDimensionBackwards) {
  auto x = iota({2, 2}, 1);  // [[1, 2], [3, 4]]
  auto y = pad(x, {1, 2}, 9);
  EXPECT_EQ(y.shape(), Shape({2, 5}));
  EXPECT_TRUE(values_are(y, {9, 1, 2, 9, 9, 9, 3, 4, 9, 9}));
  auto z = pad(x, {0, 1, 1, 0});
  EXPECT_EQ(z.shape(), Shape({3, 3}));
  EXPECT_TRUE(values_are(z, {0, 0, 0, 1, 2, 0, 3, 4, 0}));
  EXPECT_TRUE(values_are(pad(x, {}), {1, 2, 3, 4}));
  EXPECT_FALSE(pad(x, {}).shares_storage(x));
  EXPECT_TRUE(values_are(pad(x.t(), {1, 0}), {0, 1, 3, 0, 2, 4}));
  auto i = pad(from_vector<int64_t>({5}, {1}), {2, 1}, -1);
  EXPECT_EQ(i.to_vector(), (std::vector<int64_t>{-1, -1, 5, -1}));
}

TEST(Pad, NegativeAmountsCrop) {
  auto x = iota({2, 4});  // [[0, 1, 2, 3], [4, 5, 6, 7]]
  EXPECT_TRUE(values_are(pad(x, {-1, 1}), {1, 2, 3, 0, 5, 6, 7, 0}));
  EXPECT_TRUE(values_are(pad(x, {-1, -2}), {1, 5}));
  EXPECT_TRUE(values_are(pad(x, {0, 0, -1, 1}, 8), {4, 5, 6, 7, 8, 8, 8, 8}));
  EXPECT_EQ(pad(x, {-2, -2}).shape(), Shape({2, 0}));
  EXPECT_EQ(pad(x, {-4, 1}, 3).shape(), Shape({2, 1}));
  EXPECT_TRUE(values_are(pad(x, {-4, 1}, 3), {3, 3}));
}

TEST(Pad, GradientIsTheInteriorOfTheOutputGradient) {
  auto x = rand_input({2, 3, 3});
  EXPECT_TRUE(grad_ok([](auto& in) { return pad(in[0], {1, 2, 0, 1}, 5); }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return pad(in[0], {-1, 1, 2, -1, 1, 0}) * 2.0; }, {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return pad(in[0].transpose(0, 2), {1, 1}); }, {x}));
  EXPECT_TRUE(gradgrad_ok([](auto& in) { return pad(in[0], {1, -1}).pow(2.0); }, {x}));
}

TEST(Pad, RejectsBadPadding) {
  auto x = iota({2, 3});
  SINEW_EXPECT_ERROR(pad(x, {1}), "pad", "must be even, got 1");
  SINEW_EXPECT_ERROR(pad(x, {1, 1, 1, 1, 1, 1}), "pad", "3 dimensions", "[2, 3]");
  SINEW_EXPECT_ERROR(pad(x, {-2, -2}), "pad", "(-2, -2)", "dimension 1", "size 3");
  SINEW_EXPECT_ERROR(pad(x, {0, 0, 1, -3}), "pad", "(1, -3)", "dimension 0", "size 2");
}

// ---- flip ---------------------------------------------------------------------------------------

TEST(Flip, ReversesTheGivenDimensions) {
  auto x = iota({2, 3});  // [[0, 1, 2], [3, 4, 5]]
  EXPECT_TRUE(values_are(x.flip({0}), {3, 4, 5, 0, 1, 2}));
  EXPECT_TRUE(values_are(x.flip({1}), {2, 1, 0, 5, 4, 3}));
  EXPECT_TRUE(values_are(x.flip({-1, 0}), {5, 4, 3, 2, 1, 0}));
  EXPECT_TRUE(values_are(flip(x, {}), {0, 1, 2, 3, 4, 5}));
  EXPECT_FALSE(x.flip({0}).shares_storage(x));
  EXPECT_TRUE(x.flip({0}).is_contiguous());
  EXPECT_TRUE(values_are(x.t().flip({0}), {2, 5, 1, 4, 0, 3}));
  EXPECT_TRUE(values_are(iota({4}).slice(0, 0, 4, 2).flip({0}), {2, 0}));
  EXPECT_EQ(from_vector<int64_t>({1, 2, 3}).flip({0}).to_vector(), (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(scalar_tensor<double>(4).flip({0}).item(), 4.0);
  EXPECT_EQ(zeros<double>({0, 2}).flip({0}).shape(), Shape({0, 2}));
}

TEST(Flip, GradientsAndErrors) {
  auto x = rand_input({2, 3, 2});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].flip({0, 2}) * iota({2, 3, 2}); }, {x}));
  EXPECT_TRUE(gradgrad_ok(
      [](auto& in) {
        return in[0].permute({2, 1, 0}).flip({1}).pow(2.0);
      },
      {x}));
  SINEW_EXPECT_ERROR(x.flip({0, -3}), "flip", "dimension 0 appears more than once");
  SINEW_EXPECT_ERROR(x.flip({3}), "flip", "dimension 3");
}

// ---- repeat -------------------------------------------------------------------------------------

TEST(Repeat, TilesTheTensor) {
  auto x = iota({2}, 1);  // [1, 2]
  EXPECT_TRUE(values_are(x.repeat({3}), {1, 2, 1, 2, 1, 2}));
  auto y = x.repeat({2, 2});
  EXPECT_EQ(y.shape(), Shape({2, 4}));
  EXPECT_TRUE(values_are(y, {1, 2, 1, 2, 1, 2, 1, 2}));
  auto m = iota({2, 2});  // [[0, 1], [2, 3]]
  EXPECT_TRUE(values_are(m.repeat({2, 1}), {0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_TRUE(values_are(m.repeat({1, 2}), {0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(m.repeat({3, 1, 1}).shape(), Shape({3, 2, 2}));
  EXPECT_TRUE(values_are(m.t().repeat({1, 2}), {0, 2, 0, 2, 1, 3, 1, 3}));
  EXPECT_EQ(m.repeat({0, 2}).shape(), Shape({0, 4}));
  EXPECT_FALSE(m.repeat({1, 1}).shares_storage(m));
  EXPECT_EQ(from_vector<int64_t>({7, 8}).repeat({2}).to_vector(),
            (std::vector<int64_t>{7, 8, 7, 8}));
  EXPECT_TRUE(values_are(scalar_tensor<double>(5).repeat({2}), {5, 5}));
}

TEST(Repeat, GradientSumsTheTiles) {
  auto x = rand_input({2, 3});
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].repeat({2, 1, 2}) * iota({2, 2, 6}); }, {x}));
  auto y = rand_input({2});
  y.repeat({3, 2}).sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {6, 6}));
  SINEW_EXPECT_ERROR(x.repeat({2}), "repeat", "[2]", "[2, 3]");
  SINEW_EXPECT_ERROR(x.repeat({2, -1}), "repeat", "non-negative", "[2, -1]");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
