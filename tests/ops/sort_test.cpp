// Tests for ops/sort.hpp: sort, argsort, topk and nonzero against PyTorch fixtures
// (tests/fixtures/gen_sort.py) and hand-computed cases — ties in stable order, NaN as the largest,
// non-contiguous and large (parallel) inputs, integer and bool tensors, 0-d and empty tensors,
// gradients (fixtures, gradcheck in double) and errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "fixture.hpp"
#include "test_util.hpp"

using namespace sinew;
using nlohmann::json;
using sinew::testing::all_close;
using sinew::testing::fixture_tensor;
using sinew::testing::grad_ok;
using sinew::testing::gradgrad_ok;
using sinew::testing::rand_input;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {

using TD = Tensor<double>;
using TI = Tensor<int64_t>;

const json& sort_fixture() {
  static const json j = sinew::testing::load_fixture("ops/sort.json");
  return j;
}

std::vector<int64_t> ints(const TI& t) { return t.to_vector(); }
std::vector<int64_t> ints(const json& j) {
  std::vector<int64_t> v;
  for (double d : j.at("data").get<std::vector<double>>()) v.push_back(static_cast<int64_t>(d));
  return v;
}

constexpr double kNaN = NAN;

// ---- sort
// -----------------------------------------------------------------------------------------

TEST(Sort, MatchesPyTorchStableSortWithTies) {
  const json& cases = sort_fixture()["sort"];
  ASSERT_EQ(cases.size(), 12u);
  for (const json& c : cases) {
    SCOPED_TRACE(c["x"]["shape"].dump() + " dim " + c["dim"].dump() + " descending " +
                 c["descending"].dump());
    TD x = fixture_tensor<double>(c["x"]).requires_grad_();
    auto [v, i] = sort(x, c["dim"].get<int64_t>(), c["descending"].get<bool>(), true);
    TD expected = fixture_tensor<double>(c["values"]);
    EXPECT_TRUE(all_close(v, expected, 0, 0));
    EXPECT_EQ(i.shape(), expected.shape());
    EXPECT_EQ(ints(i), ints(c["indices"]));
    (v * fixture_tensor<double>(c["gy"])).sum().backward();
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor<double>(c["gx"]), 1e-15, 0));
    // The member, argsort and the other element types give the same order.
    auto [mv, mi] = x.detach().sort(c["dim"].get<int64_t>(), c["descending"].get<bool>());
    EXPECT_EQ(mv.to_vector(), v.to_vector());
    EXPECT_EQ(ints(mi), ints(i));
    EXPECT_EQ(ints(argsort(x.detach(), c["dim"].get<int64_t>(), c["descending"].get<bool>())),
              ints(i));
    Tensor<float> xf = x.detach().to<float>();
    EXPECT_EQ(ints(xf.argsort(c["dim"].get<int64_t>(), c["descending"].get<bool>())), ints(i));
    TI xi = (x.detach() * 2.0).to<int64_t>();  // halves become integers, ties stay ties
    EXPECT_EQ(ints(xi.sort(c["dim"].get<int64_t>(), c["descending"].get<bool>()).indices), ints(i));
  }
}

TEST(Sort, HandComputedOrderAndStructuredBinding) {
  TD x = from_vector<double>({3, -1, 2, 0.5, 2, -7}, {2, 3});
  auto [v, i] = x.sort();
  EXPECT_TRUE(values_are(v, {-1, 2, 3, -7, 0.5, 2}));
  EXPECT_EQ(ints(i), (std::vector<int64_t>{1, 2, 0, 2, 0, 1}));
  auto [dv, di] = sort(x, 0, true);
  EXPECT_TRUE(values_are(dv, {3, 2, 2, 0.5, -1, -7}));
  EXPECT_EQ(ints(di), (std::vector<int64_t>{0, 1, 0, 1, 0, 1}));
  // Ties keep their input order, ascending and descending.
  TD t = from_vector<double>({1, 0, 1, 0, 1});
  EXPECT_EQ(ints(t.argsort()), (std::vector<int64_t>{1, 3, 0, 2, 4}));
  EXPECT_EQ(ints(t.argsort(0, true)), (std::vector<int64_t>{0, 2, 4, 1, 3}));
  EXPECT_EQ(ints(argsort(t, -1, true, true)), (std::vector<int64_t>{0, 2, 4, 1, 3}));
}

TEST(Sort, NaNCountsAsTheLargest) {
  TD x = from_vector<double>({1, kNaN, -1, kNaN, 0});
  auto [v, i] = sort(x);
  auto vv = v.to_vector();
  EXPECT_EQ(std::vector<double>(vv.begin(), vv.begin() + 3), (std::vector<double>{-1, 0, 1}));
  EXPECT_TRUE(std::isnan(vv[3]) && std::isnan(vv[4]));
  EXPECT_EQ(ints(i), (std::vector<int64_t>{2, 4, 0, 1, 3}));  // torch.sort's order
  auto [dv, di] = sort(x, 0, true);
  auto dvv = dv.to_vector();
  EXPECT_TRUE(std::isnan(dvv[0]) && std::isnan(dvv[1]));
  EXPECT_EQ(std::vector<double>(dvv.begin() + 2, dvv.end()), (std::vector<double>{1, 0, -1}));
  EXPECT_EQ(ints(di), (std::vector<int64_t>{1, 3, 0, 4, 2}));
  Tensor<float> inf = from_vector<float>({INFINITY, NAN, -INFINITY});
  EXPECT_EQ(ints(inf.argsort()), (std::vector<int64_t>{2, 0, 1}));
}

TEST(Sort, NonContiguousInputs) {
  // x[i][j] = 10 * ((7 * (3 i + j)) % 12): a permutation, read through a transpose.
  std::vector<double> d;
  for (int64_t k = 0; k < 12; ++k) d.push_back(10.0 * double((7 * k) % 12));
  TD base = from_vector<double>(d, {4, 3});
  TD xt = base.t();  // [3, 4], strides [1, 3]
  ASSERT_FALSE(xt.is_contiguous());
  auto [v, i] = xt.sort(1);
  auto [cv, ci] = xt.contiguous().sort(1);
  EXPECT_EQ(v.to_vector(), cv.to_vector());
  EXPECT_EQ(ints(i), ints(ci));
  // Row 0 of xt is base[:, 0] = 0, 10 * 21 % 12 = 90, 10 * 42 % 12 = 60, 10 * 63 % 12 = 30.
  EXPECT_TRUE(values_are(v.select(0, 0), {0, 30, 60, 90}));
  EXPECT_EQ(ints(i.select(0, 0)), (std::vector<int64_t>{0, 3, 2, 1}));
  // A stepped slice and an expanded tensor.
  TD s = from_vector<double>({5, 9, 4, 9, 3, 9}).slice(0, 0, 6, 2);  // [5, 4, 3]
  EXPECT_EQ(ints(s.argsort()), (std::vector<int64_t>{2, 1, 0}));
  TD e = from_vector<double>({2, 1}, {2, 1}).expand({2, 3});
  EXPECT_TRUE(values_are(sort(e, 0).values, {1, 1, 1, 2, 2, 2}));
}

TEST(Sort, LargeInputsMatchAStableSortOfEachRow) {
  // 3000 rows of 64: enough work for the rows to be sorted in parallel. Few distinct values, so
  // ties are everywhere; each row is checked against std::stable_sort of its own indices.
  Generator g(12);
  Tensor<int64_t> x = randint(0, 9, {3000, 64}, g);
  for (bool descending : {false, true}) {
    auto [v, i] = x.sort(1, descending);
    auto xv = x.to_vector(), vv = v.to_vector(), iv = i.to_vector();
    bool ok = true;
    for (int64_t r = 0; r < 3000 && ok; ++r) {
      std::vector<int64_t> order(64);
      std::iota(order.begin(), order.end(), 0);
      const int64_t* row = xv.data() + r * 64;
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return descending ? row[a] > row[b] : row[a] < row[b];
      });
      for (int64_t j = 0; j < 64; ++j) {
        ok = ok && iv[r * 64 + j] == order[j] && vv[r * 64 + j] == row[order[j]];
      }
    }
    EXPECT_TRUE(ok) << "descending " << descending;
  }
  // Along dimension 0 of a [500, 3, 40] tensor (rows strided in memory).
  Tensor<float> y = rand<float>({500, 3, 40}, g);
  Tensor<float> sorted = y.sort(0).values;
  auto yv = sorted.to_vector();
  bool monotone = true;
  for (int64_t k = 0; k + 120 < 500 * 120; ++k) monotone = monotone && yv[k] <= yv[k + 120];
  EXPECT_TRUE(monotone);
  EXPECT_FLOAT_EQ(sorted.sum().item(), y.sum().item());
}

TEST(Sort, BoolZeroDimAndEmptyTensors) {
  Tensor<bool> b = from_vector<bool>({true, false, true, false});
  auto [bv, bi] = b.sort();
  EXPECT_EQ(bv.to_vector(), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(ints(bi), (std::vector<int64_t>{1, 3, 0, 2}));
  Tensor<uint8_t> u = from_vector<uint8_t>({200, 7, 255});
  EXPECT_EQ(u.sort(0, true).values.to_vector(), (std::vector<uint8_t>{255, 200, 7}));
  // 0-d: the element itself at index 0 (dim 0 or -1), as PyTorch.
  TD s = scalar_tensor<double>(4);
  auto [sv, si] = s.sort();
  EXPECT_EQ(sv.shape(), Shape{});
  EXPECT_EQ(sv.item(), 4.0);
  EXPECT_EQ(si.shape(), Shape{});
  EXPECT_EQ(si.item(), 0);
  EXPECT_EQ(argsort(s, 0).item(), 0);
  // Empty along or across the sorted dimension.
  auto [ev, ei] = zeros<double>({3, 0}).sort(1);
  EXPECT_EQ(ev.shape(), Shape({3, 0}));
  EXPECT_EQ(ei.shape(), Shape({3, 0}));
  EXPECT_EQ(zeros<double>({0, 4}).sort().values.shape(), Shape({0, 4}));
}

TEST(Sort, GradientGoesToWhereEachValueCameFrom) {
  TD x = from_vector<double>({3, 1, 2}).requires_grad_();
  auto [v, i] = x.sort(0, true);  // [3, 2, 1] from positions [0, 2, 1]
  (v * from_vector<double>({10, 20, 30})).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {10, 30, 20}));
  EXPECT_TRUE(grad_ok([](const std::vector<TD>& in) { return sort(in[0], 1).values; },
                      {rand_input({3, 5}, 1)}));
  EXPECT_TRUE(grad_ok([](const std::vector<TD>& in) { return sort(in[0], 0, true).values; },
                      {rand_input({4, 2, 3}, 2)}));
  EXPECT_TRUE(
      gradgrad_ok([](const std::vector<TD>& in) { return (sort(in[0]).values * in[0]).sum(); },
                  {rand_input({2, 4}, 3)}));
  // The indices are saved: changing them in place before backward is caught.
  TD y = from_vector<double>({2, 1}).requires_grad_();
  ValuesIndices<double> ys = y.sort();  // not a structured binding: clang 14 cannot capture one
  ys.indices.zero_();
  SINEW_EXPECT_ERROR(ys.values.sum().backward(), "backward", "modified by an in-place operation");
  // Integer indices carry no history.
  EXPECT_FALSE(i.requires_grad());
  EXPECT_TRUE(v.requires_grad());
}

TEST(Sort, RejectsADimensionOutOfRange) {
  TD x = zeros<double>({3, 4});
  SINEW_EXPECT_ERROR(x.sort(2), "sort", "dimension 2", "2-d");
  SINEW_EXPECT_ERROR(sort(x, -3), "sort", "dimension -3");
  SINEW_EXPECT_ERROR(argsort(x, 5), "argsort", "dimension 5");
  SINEW_EXPECT_ERROR(scalar_tensor<double>(1).sort(1), "sort", "dimension 1", "0-d");
}

// ---- topk
// ------------------------------------------------------------------------------------------

TEST(Topk, MatchesPyTorch) {
  const json& cases = sort_fixture()["topk"];
  ASSERT_EQ(cases.size(), 13u);
  for (const json& c : cases) {
    int64_t k = c["k"], dim = c["dim"];
    bool largest = c["largest"];
    SCOPED_TRACE("k " + std::to_string(k) + " dim " + std::to_string(dim) + " largest " +
                 std::to_string(largest));
    TD x = fixture_tensor<double>(c["x"]).requires_grad_();
    auto [v, i] = topk(x, k, dim, largest);
    TD expected = fixture_tensor<double>(c["values"]);
    EXPECT_TRUE(all_close(v, expected, 0, 0));
    EXPECT_EQ(i.shape(), expected.shape());
    EXPECT_EQ(ints(i), ints(c["indices"]));
    (v * fixture_tensor<double>(c["gy"])).sum().backward();
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor<double>(c["gx"]), 1e-15, 0));
    auto [mv, mi] = x.detach().to<float>().topk(k, dim, largest, true);
    EXPECT_EQ(ints(mi), ints(i));
  }
}

TEST(Topk, HandComputedTiesAndNaN) {
  TD x = from_vector<double>({3, 1, 3, 2, 1});
  auto [v, i] = x.topk(2);
  EXPECT_TRUE(values_are(v, {3, 3}));
  EXPECT_EQ(ints(i), (std::vector<int64_t>{0, 2}));  // tied values in input order
  auto [sv, si] = x.topk(3, 0, false);
  EXPECT_TRUE(values_are(sv, {1, 1, 2}));
  EXPECT_EQ(ints(si), (std::vector<int64_t>{1, 4, 3}));
  // A small k takes the partial-sort path: the same as the first k of the full sort.
  TI big = randint(0, 5, {4, 100});
  auto [bv, bi] = big.topk(3, 1);
  auto full = big.sort(1, true);
  EXPECT_EQ(ints(bi), ints(full.indices.slice(1, 0, 3)));
  EXPECT_EQ(ints(bv), ints(full.values.slice(1, 0, 3)));
  // NaN is the largest: first for largest, never picked by smallest while numbers remain.
  TD n = from_vector<double>({1, kNaN, -1, kNaN, 0});
  auto [nv, ni] = n.topk(2);
  EXPECT_TRUE(std::isnan(nv.to_vector()[0]) && std::isnan(nv.to_vector()[1]));
  EXPECT_EQ(ints(ni), (std::vector<int64_t>{1, 3}));
  auto [lv, li] = n.topk(2, -1, false);
  EXPECT_TRUE(values_are(lv, {-1, 0}));
  EXPECT_EQ(ints(li), (std::vector<int64_t>{2, 4}));
  // k = 0, a 0-d input, an empty batch.
  EXPECT_EQ(x.topk(0).values.shape(), Shape({0}));
  auto [zv, zi] = scalar_tensor<double>(5).topk(1);
  EXPECT_EQ(zv.shape(), Shape{});
  EXPECT_EQ(zv.item(), 5.0);
  EXPECT_EQ(zi.item(), 0);
  EXPECT_EQ(zeros<double>({0, 3}).topk(2).values.shape(), Shape({0, 2}));
}

TEST(Topk, GradientReachesOnlyTheSelectedElements) {
  TD x = from_vector<double>({0.5, 4, -2, 3, 1}).requires_grad_();
  topk(x, 2).values.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {0, 1, 0, 1, 0}));
  EXPECT_TRUE(grad_ok([](const std::vector<TD>& in) { return topk(in[0], 2, 1).values; },
                      {rand_input({3, 6}, 4)}));
  EXPECT_TRUE(grad_ok([](const std::vector<TD>& in) { return topk(in[0], 1, 0, false).values; },
                      {rand_input({5, 2}, 5)}));
  EXPECT_TRUE(
      gradgrad_ok([](const std::vector<TD>& in) { return topk(in[0] * in[0], 3).values.sum(); },
                  {rand_input({2, 5}, 6)}));
}

TEST(Topk, RejectsKOutOfRangeAndABadDimension) {
  TD x = zeros<double>({3, 4});
  SINEW_EXPECT_ERROR(x.topk(5), "topk", "k = 5", "dimension 1 of size 4", "[3, 4]");
  SINEW_EXPECT_ERROR(topk(x, 4, 0), "topk", "k = 4", "dimension 0 of size 3");
  SINEW_EXPECT_ERROR(topk(x, -1), "topk", "k = -1");
  SINEW_EXPECT_ERROR(x.topk(1, 2), "topk", "dimension 2");
  SINEW_EXPECT_ERROR(x.topk(1, -3), "topk", "dimension -3");
  SINEW_EXPECT_ERROR(scalar_tensor<double>(1).topk(2), "topk", "k = 2", "size 1");
}

// ---- nonzero
// ---------------------------------------------------------------------------------------

TEST(Nonzero, MatchesPyTorch) {
  for (const json& c : sort_fixture()["nonzero"]) {
    Tensor<int64_t> x = fixture_tensor<int64_t>(c["x"]);
    Tensor<int64_t> out = x.nonzero();
    std::vector<int64_t> shape = c["out"]["shape"];
    EXPECT_EQ(out.shape(), Shape(shape));
    EXPECT_EQ(ints(out), ints(c["out"]));
    EXPECT_EQ(ints(nonzero(x.to<double>())), ints(c["out"]));
    EXPECT_EQ(ints(nonzero(x.to<bool>())), ints(c["out"]));
  }
}

TEST(Nonzero, RowMajorCoordinatesOfEachNonzero) {
  TD x = from_vector<double>({0, 1.5, 0, -2, -0.0, kNaN}, {2, 3});
  TI out = nonzero(x);
  EXPECT_EQ(out.shape(), Shape({3, 2}));
  EXPECT_EQ(ints(out), (std::vector<int64_t>{0, 1, 1, 0, 1, 2}));  // -0.0 is zero, NaN is not
  // Through a transpose: coordinates of the view, in the view's row-major order.
  TI t = x.t().nonzero();
  EXPECT_EQ(ints(t), (std::vector<int64_t>{0, 1, 1, 0, 2, 1}));
  Tensor<bool> b = from_vector<bool>({false, true, true});
  EXPECT_EQ(ints(b.nonzero()), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(b.nonzero().shape(), Shape({2, 1}));
  // 0-d: [1, 0] when nonzero, [0, 0] when zero; empty and all-zero inputs give no rows.
  EXPECT_EQ(scalar_tensor<int64_t>(7).nonzero().shape(), Shape({1, 0}));
  EXPECT_EQ(scalar_tensor<int64_t>(0).nonzero().shape(), Shape({0, 0}));
  EXPECT_EQ(zeros<float>({2, 0, 3}).nonzero().shape(), Shape({0, 3}));
  EXPECT_EQ(zeros<float>({4, 5}).nonzero().shape(), Shape({0, 2}));
  // Large enough for the count to run in parallel.
  Tensor<uint8_t> big = zeros<uint8_t>({300, 400});
  big.set({0, 5}, 1);
  big.set({299, 399}, 2);
  big.set({150, 0}, 3);
  EXPECT_EQ(ints(big.nonzero()), (std::vector<int64_t>{0, 5, 150, 0, 299, 399}));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
