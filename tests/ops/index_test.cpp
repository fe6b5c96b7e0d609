// Tests for ops/index.hpp: index_select, index_add, gather, scatter_add, masked_fill(_),
// masked_select, masked_scatter and Tensor::index — hand-computed values, non-contiguous operands,
// repeated indices, gradcheck in double, out-of-range indices and other errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
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
using TI = Tensor<int64_t>;
using TB = Tensor<bool>;

TD iota(const Shape& s, double start = 0) {
  return arange<double>(start, start + double(s.numel())).view(s);
}
TI ids(std::vector<int64_t> v, const Shape& s) { return from_vector<int64_t>(v, s); }
TI ids(std::vector<int64_t> v) { return from_vector<int64_t>(v); }
TB mask(const std::vector<bool>& v, const Shape& s) {
  TB t = empty<bool>(s);
  for (size_t i = 0; i < v.size(); ++i) t.data_ptr()[i] = v[i];
  return t;
}

// ---- index_select / index_add -------------------------------------------------------------------

TEST(IndexSelect, PicksSlicesAlongADimension) {
  auto x = iota({3, 4});  // rows [0..3], [4..7], [8..11]
  EXPECT_TRUE(values_are(index_select(x, 0, ids({2, 0})), {8, 9, 10, 11, 0, 1, 2, 3}));
  auto c = x.index_select(1, ids({3, 1, 3}));
  EXPECT_EQ(c.shape(), Shape({3, 3}));
  EXPECT_TRUE(values_are(c, {3, 1, 3, 7, 5, 7, 11, 9, 11}));
  EXPECT_TRUE(values_are(index_select(x, -1, ids({0})), {0, 4, 8}));
  EXPECT_EQ(index_select(x, 0, ids({}, {0})).shape(), Shape({0, 4}));
  auto s = index_select(x, 0, from_vector<int64_t>({1}, Shape{}));  // 0-d index keeps the dimension
  EXPECT_EQ(s.shape(), Shape({1, 4}));
  EXPECT_EQ(index_select(scalar_tensor<double>(3), 0, ids({0})).item(), 3.0);
  EXPECT_EQ(index_select(from_vector<int64_t>({5, 6, 7}), 0, ids({2, 2})).to_vector(),
            (std::vector<int64_t>{7, 7}));
}

TEST(IndexSelect, NonContiguousInputAndIndex) {
  auto x = iota({4, 3}).t();                          // [3, 4]: x[i][j] = 3 j + i
  auto idx = ids({3, 9, 0, 9, 1}).slice(0, 0, 5, 2);  // [3, 0, 1], stride 2
  EXPECT_TRUE(values_are(index_select(x, 1, idx), {9, 0, 3, 10, 1, 4, 11, 2, 5}));
  auto e = from_vector<double>({1, 2}, {2, 1}).expand({2, 3});
  EXPECT_TRUE(values_are(index_select(e, 1, ids({2, 0})), {1, 1, 2, 2}));
}

TEST(IndexSelect, RepeatedIndicesAccumulateGradients) {
  auto x = rand_input({4});
  index_select(x, 0, ids({0, 0, 3, 0})).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {3, 0, 0, 1}));
  auto m = rand_input({3, 4});
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        return index_select(in[0], 1, ids({1, 1, 3, 0, 1})) * iota({3, 5});
      },
      {m}));
  EXPECT_TRUE(grad_ok([](auto& in) { return index_select(in[0].t(), 0, ids({2, 2})); }, {m}));
  EXPECT_TRUE(gradgrad_ok(
      [](auto& in) {
        return index_select(in[0], 0, ids({2, 0, 2})).pow(2.0);
      },
      {m}));
}

TEST(IndexSelect, RejectsOutOfRangeIndicesBeforeReading) {
  auto x = iota({3, 2});
  SINEW_EXPECT_ERROR(index_select(x, 0, ids({0, 3})), "index_select", "index 3", "dimension 0",
                     "size 3");
  SINEW_EXPECT_ERROR(index_select(x, 1, ids({-1})), "index_select", "index -1", "dimension 1",
                     "size 2");
  SINEW_EXPECT_ERROR(index_select(x, 0, ids({1000000000000})), "index_select",
                     "index 1000000000000");
  SINEW_EXPECT_ERROR(index_select(x, 0, ids({0, 1}, {1, 2})), "index_select", "0-d or 1-d",
                     "[1, 2]");
  SINEW_EXPECT_ERROR(index_select(x, 2, ids({0})), "index_select", "dimension 2");
  SINEW_EXPECT_ERROR(index_select(zeros<double>({0, 2}), 0, ids({0})), "index_select", "index 0",
                     "size 0");
  SINEW_EXPECT_ERROR(index_select(scalar_tensor<double>(1), 0, ids({0, 0})), "index_select", "0-d");
}

TEST(IndexAdd, AddsSlicesAtIndices) {
  auto x = zeros<double>({3, 2});
  auto src = iota({4, 2}, 1);  // [[1, 2], [3, 4], [5, 6], [7, 8]]
  auto y = index_add(x, 0, ids({2, 0, 2, 1}), src);
  EXPECT_TRUE(values_are(y, {3, 4, 7, 8, 6, 8}));
  EXPECT_TRUE(values_are(x, {0, 0, 0, 0, 0, 0}));  // out of place
  EXPECT_TRUE(values_are(index_add(ones<double>({2, 3}), -1, ids({0, 0}), iota({2, 2})),
                         {2, 1, 1, 6, 1, 1}));
  auto a = rand_input({3, 2}, 1), b = rand_input({4, 2}, 2);
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        return index_add(in[0], 0, ids({2, 0, 2, 1}), in[1]);
      },
      {a, b}));
  EXPECT_TRUE(gradgrad_ok(
      [](auto& in) {
        return index_add(in[0], 0, ids({1, 1, 0, 1}), in[1]).pow(2.0);
      },
      {a, b}));
  SINEW_EXPECT_ERROR(index_add(x, 0, ids({0, 3}), iota({2, 2})), "index_add", "index 3", "size 3");
  SINEW_EXPECT_ERROR(index_add(x, 0, ids({0}), iota({2, 2})), "index_add", "[2, 2]", "[3, 2]");
}

// ---- gather / scatter_add -----------------------------------------------------------------------

TEST(Gather, ReadsAlongADimensionByIndex) {
  auto x = from_vector<double>({1, 2, 3, 4}, {2, 2});
  // torch.gather(t, 1, [[0, 0], [1, 0]]) = [[1, 1], [4, 3]]
  EXPECT_TRUE(values_are(gather(x, 1, ids({0, 0, 1, 0}, {2, 2})), {1, 1, 4, 3}));
  EXPECT_TRUE(values_are(x.gather(0, ids({1, 0, 1}, {1, 3}).slice(1, 0, 2)), {3, 2}));
  auto m = iota({3, 4});
  auto g = gather(m, -1, ids({3, 0, 2}, {3, 1}));  // one label per row: the NLL-loss pattern
  EXPECT_EQ(g.shape(), Shape({3, 1}));
  EXPECT_TRUE(values_are(g, {3, 4, 10}));
  EXPECT_TRUE(values_are(gather(m, 0, ids({2, 1}, {1, 2})), {8, 5}));  // index smaller than x
  EXPECT_EQ(gather(scalar_tensor<double>(6), 0, from_vector<int64_t>({0}, Shape{})).item(), 6.0);
  EXPECT_EQ(gather(m, 1, ids({}, {3, 0})).shape(), Shape({3, 0}));
}

TEST(Gather, NonContiguousOperands) {
  auto x = iota({3, 2}).t();                 // [[0, 2, 4], [1, 3, 5]]
  auto idx = ids({2, 0, 1, 1}, {2, 2}).t();  // [[2, 1], [0, 1]]
  EXPECT_TRUE(values_are(gather(x, 1, idx), {4, 2, 1, 3}));
  auto bidx = ids({1, 0}, {1, 2}).expand({2, 2});
  EXPECT_TRUE(values_are(gather(x, 1, bidx), {2, 0, 3, 1}));
}

TEST(Gather, RepeatedIndicesAccumulateGradients) {
  auto x = rand_input({2, 3});
  gather(x, 1, ids({0, 0, 0, 2, 1, 2}, {2, 3})).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {3, 0, 0, 0, 1, 2}));
  auto m = rand_input({3, 4});
  auto idx = ids({0, 3, 3, 1, 1, 1, 2, 0, 2}, {3, 3});
  EXPECT_TRUE(grad_ok([idx](auto& in) { return gather(in[0], 1, idx) * iota({3, 3}); }, {m}));
  EXPECT_TRUE(grad_ok([](auto& in) { return gather(in[0].t(), 0, ids({2, 2, 0}, {1, 3})); }, {m}));
  EXPECT_TRUE(gradgrad_ok([idx](auto& in) { return gather(in[0], 1, idx).pow(2.0); }, {m}));
}

TEST(Gather, RejectsBadIndices) {
  auto x = iota({2, 3});
  SINEW_EXPECT_ERROR(gather(x, 1, ids({0, 3}, {2, 1})), "gather", "index 3", "dimension 1",
                     "size 3");
  SINEW_EXPECT_ERROR(gather(x, 0, ids({-1, 0}, {1, 2})), "gather", "index -1", "dimension 0",
                     "size 2");
  SINEW_EXPECT_ERROR(gather(x, 1, ids({0, 1})), "gather", "as many dimensions", "[2]", "[2, 3]");
  SINEW_EXPECT_ERROR(gather(x, 1, ids({0, 0, 0}, {3, 1})), "gather", "[3, 1]", "dimension 0");
  SINEW_EXPECT_ERROR(gather(x, 2, ids({0}, {1, 1})), "gather", "dimension 2");
}

TEST(ScatterAdd, AccumulatesSourceAtIndices) {
  auto x = zeros<double>({2, 3});
  auto src = iota({2, 3}, 1);  // [[1, 2, 3], [4, 5, 6]]
  auto idx = ids({0, 0, 2, 1, 1, 1}, {2, 3});
  EXPECT_TRUE(values_are(scatter_add(x, 1, idx, src), {3, 0, 3, 0, 15, 0}));
  EXPECT_TRUE(
      values_are(scatter_add(ones<double>({2, 2}), 0, ids({1, 1}, {1, 2}), src), {1, 1, 2, 3}));
  // src larger than index: only index's block of src is used.
  EXPECT_TRUE(values_are(scatter_add(zeros<double>({3}), 0, ids({2, 2}), iota({4}, 1)), {0, 0, 3}));
  EXPECT_TRUE(values_are(x, {0, 0, 0, 0, 0, 0}));
  auto nc = scatter_add(zeros<double>({3, 2}).t(), 1, idx, src.t().contiguous().t());
  EXPECT_TRUE(values_are(nc, {3, 0, 3, 0, 15, 0}));
}

TEST(ScatterAdd, Gradients) {
  auto x = rand_input({2, 3}, 1), src = rand_input({2, 4}, 2);
  auto idx = ids({0, 0, 2, 1, 1, 1}, {2, 3});
  EXPECT_TRUE(grad_ok(
      [idx](auto& in) {
        return scatter_add(in[0], 1, idx, in[1]) * iota({2, 3});
      },
      {x, src}));
  EXPECT_TRUE(gradgrad_ok([idx](auto& in) { return scatter_add(in[0], 1, idx, in[1]).pow(2.0); },
                          {x, src}));
  // The part of src that index does not cover gets a zero gradient.
  auto s = rand_input({2, 4}, 3);
  scatter_add(zeros<double>({2, 3}), 1, idx, s).sum().backward();
  EXPECT_TRUE(values_are(s.grad(), {1, 1, 1, 0, 1, 1, 1, 0}));
}

TEST(ScatterAdd, RejectsBadIndices) {
  auto x = zeros<double>({2, 3});
  SINEW_EXPECT_ERROR(scatter_add(x, 1, ids({0, 5}, {1, 2}), iota({1, 2})), "scatter_add", "index 5",
                     "size 3");
  SINEW_EXPECT_ERROR(scatter_add(x, 0, ids({-2}, {1, 1}), iota({1, 1})), "scatter_add", "index -2",
                     "size 2");
  SINEW_EXPECT_ERROR(scatter_add(x, 1, ids({0, 1}, {1, 2}), iota({1, 1})), "scatter_add", "[1, 2]",
                     "[1, 1]");
  SINEW_EXPECT_ERROR(scatter_add(x, 1, ids({0, 0, 0}, {3, 1}), iota({3, 1})), "scatter_add",
                     "[3, 1]");
}

TEST(IndexKernels, LargeInputsMatchALoop) {
  // Sizes above the parallel grain: threads split the work, and repeated indices must not race.
  const int64_t rows = 700, cols = 64, n = 900;
  Generator gen(7);
  auto table = rand<double>({rows, cols}, gen);
  auto idx = randint(0, 50, {n}, gen);  // many repeats
  auto sel = index_select(table, 0, idx);
  auto tv = table.to_vector(), sv = sel.to_vector();
  auto iv = idx.to_vector();
  bool same = true;
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t c = 0; c < cols; ++c) same = same && sv[j * cols + c] == tv[iv[j] * cols + c];
  }
  EXPECT_TRUE(same);
  auto src = rand<double>({n, cols}, gen);
  auto acc = index_add(zeros<double>({rows, cols}), 0, idx, src).to_vector();
  std::vector<double> ref(static_cast<size_t>(rows * cols), 0.0);
  auto srcv = src.to_vector();
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t c = 0; c < cols; ++c) ref[iv[j] * cols + c] += srcv[j * cols + c];
  }
  double worst = 0;
  for (size_t k = 0; k < ref.size(); ++k) worst = std::max(worst, std::abs(acc[k] - ref[k]));
  EXPECT_LT(worst, 1e-9);
  auto cidx = randint(0, cols, {rows, cols}, gen);
  auto sc = scatter_add(zeros<double>({rows, cols}), 1, cidx, table).to_vector();
  std::vector<double> ref2(static_cast<size_t>(rows * cols), 0.0);
  auto civ = cidx.to_vector();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) ref2[r * cols + civ[r * cols + c]] += tv[r * cols + c];
  }
  worst = 0;
  for (size_t k = 0; k < ref2.size(); ++k) worst = std::max(worst, std::abs(sc[k] - ref2[k]));
  EXPECT_LT(worst, 1e-9);
  auto big = table > 0.5;
  auto picked = masked_select(table, big).to_vector();
  std::vector<double> ref3;
  for (double v : tv)
    if (v > 0.5) ref3.push_back(v);
  EXPECT_EQ(picked, ref3);
}

// ---- masked_fill --------------------------------------------------------------------------------

TEST(MaskedFill, ReplacesMaskedElements) {
  auto x = iota({2, 3});
  auto m = mask({true, false, true, false, false, true}, {2, 3});
  EXPECT_TRUE(values_are(masked_fill(x, m, -1), {-1, 1, -1, 3, 4, -1}));
  EXPECT_TRUE(values_are(x.masked_fill(mask({false, true, false}, {3}), 9), {0, 9, 2, 3, 9, 5}));
  auto col = masked_fill(from_vector<double>({1, 2, 3}, {1, 3}), mask({true, false}, {2, 1}), 0);
  EXPECT_EQ(col.shape(), Shape({2, 3}));  // x broadcast too
  EXPECT_TRUE(values_are(col, {0, 0, 0, 1, 2, 3}));
  EXPECT_TRUE(values_are(masked_fill(x.t(), mask({true, false}, {2}), 7), {7, 3, 7, 4, 7, 5}));
  auto i = masked_fill(from_vector<int64_t>({1, 2}), mask({false, true}, {2}), 5);
  EXPECT_EQ(i.to_vector(), (std::vector<int64_t>{1, 5}));
  EXPECT_TRUE(values_are(x, {0, 1, 2, 3, 4, 5}));  // out of place
  SINEW_EXPECT_ERROR(masked_fill(x, mask({true, false}, {2}), 0), "masked_fill", "[2, 3]", "[2]");
}

TEST(MaskedFill, GradientIsZeroAtTheMask) {
  auto x = rand_input({2, 3});
  auto m = mask({true, false, true, false, false, true}, {2, 3});
  EXPECT_TRUE(grad_ok([m](auto& in) { return masked_fill(in[0], m, 3.0) * iota({2, 3}); }, {x}));
  auto row = rand_input({3}, 1);
  EXPECT_TRUE(grad_ok([m](auto& in) { return masked_fill(in[0], m, 0.0); }, {row}));  // x broadcast
  EXPECT_TRUE(gradgrad_ok([m](auto& in) { return masked_fill(in[0].pow(2.0), m, 1.0); }, {x}));
  masked_fill(x, m, 5.0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {0, 1, 0, 1, 1, 0}));
}

TEST(MaskedFill, InPlace) {
  auto x = iota({2, 2});
  uint64_t v0 = x.version();
  auto& r = x.masked_fill_(mask({false, true}, {2}), -3);
  EXPECT_TRUE(r.is_same(x));
  EXPECT_TRUE(values_are(x, {0, -3, 2, -3}));
  EXPECT_GT(x.version(), v0);
  auto view = x.t();
  view.masked_fill_(mask({true, false, false, false}, {2, 2}), 8);
  EXPECT_TRUE(values_are(x, {8, -3, 2, -3}));
  SINEW_EXPECT_ERROR(x.masked_fill_(mask({true, false, true}, {3}), 0), "masked_fill_", "[3]",
                     "[2, 2]");
  SINEW_EXPECT_ERROR(
      x.masked_fill_(mask({true, false, true, false, true, false, true, false}, {2, 2, 2}), 0),
      "masked_fill_", "[2, 2, 2]");
  SINEW_EXPECT_ERROR(from_vector<double>({1}).expand({3}).masked_fill_(mask({true}, {1}), 0),
                     "masked_fill_", "expanded");
  auto leaf = rand_input({2});
  SINEW_EXPECT_ERROR(leaf.masked_fill_(mask({true, false}, {2}), 0), "masked_fill_", "leaf");
  // Tracked on a non-leaf: the gradient stops at the filled positions.
  auto a = rand_input({3});
  auto y = a * 2.0;
  y.masked_fill_(mask({false, true, false}, {3}), 0);
  y.sum().backward();
  EXPECT_TRUE(values_are(a.grad(), {2, 0, 2}));
}

// ---- masked_select / masked_scatter -------------------------------------------------------------

TEST(MaskedSelect, ReturnsMaskedElementsInOrder) {
  auto x = iota({2, 3});
  auto m = mask({true, false, true, false, false, true}, {2, 3});
  auto y = masked_select(x, m);
  EXPECT_EQ(y.shape(), Shape({3}));
  EXPECT_TRUE(values_are(y, {0, 2, 5}));
  EXPECT_TRUE(values_are(masked_select(x, mask({false, true, true}, {3})),
                         {1, 2, 4, 5}));  // broadcast mask
  EXPECT_TRUE(values_are(masked_select(x.t(), mask({true, false}, {2})), {0, 1, 2}));
  EXPECT_TRUE(
      values_are(masked_select(from_vector<double>({7, 8}, {2, 1}), mask({true, false, true}, {3})),
                 {7, 7, 8, 8}));  // broadcast x
  EXPECT_EQ(masked_select(x, zeros<double>({2, 3}) > 1.0).shape(), Shape({0}));
  SINEW_EXPECT_ERROR(masked_select(x, mask({true, true}, {2})), "masked_select", "[2, 3]", "[2]");
}

TEST(MaskedSelect, GradientScattersBackIntoTheMask) {
  auto x = rand_input({2, 3});
  auto m = mask({true, false, true, false, true, true}, {2, 3});
  EXPECT_TRUE(grad_ok([m](auto& in) { return masked_select(in[0], m) * iota({4}, 1); }, {x}));
  auto col = rand_input({2, 1}, 1);
  EXPECT_TRUE(grad_ok([m](auto& in) { return masked_select(in[0], m); }, {col}));  // broadcast x
  EXPECT_TRUE(gradgrad_ok([m](auto& in) { return masked_select(in[0], m).pow(2.0); }, {x}));
  masked_select(x, m).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1, 0, 1, 0, 1, 1}));
}

TEST(MaskedScatter, WritesSourceIntoTheMask) {
  auto x = zeros<double>({2, 2});
  auto m = mask({false, true, true, false}, {2, 2});
  EXPECT_TRUE(values_are(masked_scatter(x, m, iota({5}, 1)), {0, 1, 2, 0}));
  EXPECT_TRUE(
      values_are(masked_scatter(x, mask({true, false}, {2}), iota({2, 1}, 4)), {4, 0, 5, 0}));
  SINEW_EXPECT_ERROR(masked_scatter(x, m, iota({1})), "masked_scatter", "2 true elements", "[1]");
  auto a = rand_input({2, 2}, 1), s = rand_input({3}, 2);
  EXPECT_TRUE(grad_ok(
      [m](auto& in) {
        return masked_scatter(in[0], m, in[1]) * iota({2, 2});
      },
      {a, s}));
  EXPECT_TRUE(
      gradgrad_ok([m](auto& in) { return masked_scatter(in[0], m, in[1]).pow(2.0); }, {a, s}));
}

// ---- Tensor::index ------------------------------------------------------------------------------

TEST(Index, IntegersSelectAndSlicesKeepDimensions) {
  auto x = iota({2, 3, 4});
  EXPECT_EQ(x.index({1}).shape(), Shape({3, 4}));
  EXPECT_EQ(x.index({1, 2, 3}).item(), 23.0);
  EXPECT_EQ(x.index({-1, -1, -1}).item(), 23.0);
  auto s = x.index({0, Slice{1, std::nullopt}, Slice{std::nullopt, std::nullopt, 2}});
  EXPECT_EQ(s.shape(), Shape({2, 2}));
  EXPECT_TRUE(values_are(s, {4, 6, 8, 10}));
  EXPECT_TRUE(s.shares_storage(x));
  EXPECT_TRUE(values_are(x.index({Slice{}, 1, Slice{.start = -2}}), {6, 7, 18, 19}));
  EXPECT_TRUE(values_are(x.index({Slice{.stop = 1}, Slice{.step = 2}, 0}), {0, 8}));
  EXPECT_TRUE(x.index({}).is_same(x));
}

TEST(Index, EllipsisAndNone) {
  auto x = iota({2, 3, 4});
  EXPECT_EQ(x.index({Ellipsis, 0}).shape(), Shape({2, 3}));
  EXPECT_TRUE(values_are(x.index({Ellipsis, 1, 2}), {6, 18}));
  EXPECT_TRUE(values_are(x.index({1, Ellipsis, 3}), {15, 19, 23}));
  EXPECT_EQ(x.index({Ellipsis}).shape(), Shape({2, 3, 4}));
  EXPECT_EQ(x.index({0, 1, 2, Ellipsis}).shape(), Shape({}));
  EXPECT_EQ(x.index({None}).shape(), Shape({1, 2, 3, 4}));
  EXPECT_EQ(x.index({Ellipsis, None}).shape(), Shape({2, 3, 4, 1}));
  EXPECT_EQ(x.index({0, None, Slice{}, None, 1}).shape(), Shape({1, 3, 1}));
  EXPECT_TRUE(values_are(x.index({0, None, Slice{}, None, 1}), {1, 5, 9}));
  EXPECT_EQ(x.index({None, Ellipsis, None, 0}).shape(), Shape({1, 2, 3, 1}));
  EXPECT_EQ(scalar_tensor<double>(2).index({None}).shape(), Shape({1}));
  EXPECT_TRUE(
      values_are(x.transpose(0, 2).index({Slice{1, 3}, 0, 1}), {13, 14}));  // permuted strides
}

TEST(Index, GradientsFlowThroughTheView) {
  auto x = rand_input({3, 4});
  EXPECT_TRUE(grad_ok(
      [](auto& in) {
        return in[0].index({Slice{1, std::nullopt}, None, Slice{.step = 2}}) * 2.0;
      },
      {x}));
  EXPECT_TRUE(grad_ok([](auto& in) { return in[0].index({Ellipsis, -1}).pow(2.0); }, {x}));
  x.index({1, 2}).backward();
  EXPECT_TRUE(values_are(x.grad(), {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(Index, RejectsBadIndices) {
  auto x = iota({2, 3});
  SINEW_EXPECT_ERROR(x.index({0, 5}), "Tensor::index", "index 5", "dimension 1", "size 3");
  SINEW_EXPECT_ERROR(x.index({-3}), "Tensor::index", "index -3", "dimension 0", "size 2");
  SINEW_EXPECT_ERROR(x.index({None, Ellipsis, 7}), "Tensor::index", "index 7", "dimension 1",
                     "size 3");
  SINEW_EXPECT_ERROR(x.index({0, 0, 0}), "Tensor::index", "too many indices", "[2, 3]");
  SINEW_EXPECT_ERROR(x.index({Ellipsis, Ellipsis}), "Tensor::index", "single Ellipsis");
  SINEW_EXPECT_ERROR(x.index({Slice{0, 2, 0}}), "Tensor::index", "step must be positive, got 0");
  SINEW_EXPECT_ERROR(scalar_tensor<double>(1).index({0}), "Tensor::index", "too many indices");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
