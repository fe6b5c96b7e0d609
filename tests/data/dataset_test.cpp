// Tests of data/dataset.hpp: the Dataset concept with a user's own struct, TensorDataset, Subset,
// random_split (lengths and PyTorch's fraction rounding) and ConcatDataset, and their errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <sinew/data/dataset.hpp>
#include <sinew/sinew.hpp>

#include "test_util.hpp"

using namespace sinew;

namespace {
namespace SINEW_UNITY_ID {

// A user's dataset: element i is (i, i * i), computed on demand.
struct Squares {
  int64_t n = 10;
  int64_t size() const { return n; }
  data::Example<double> get(int64_t i) const {
    return {scalar_tensor<double>(double(i)), scalar_tensor<int64_t>(double(i * i))};
  }
};

// One with a non-const get and an int size: still a Dataset.
struct Counting {
  int calls = 0;
  int size() { return 4; }
  int64_t get(int64_t i) {
    ++calls;
    return 100 + i;
  }
};

struct NoGet {
  int64_t size() const { return 1; }
};
struct VoidGet {
  int64_t size() const { return 1; }
  void get(int64_t) const {}
};

static_assert(data::Dataset<Squares>);
static_assert(data::Dataset<Counting>);
static_assert(!data::Dataset<NoGet>);
static_assert(!data::Dataset<VoidGet>);
static_assert(!data::Dataset<int>);
static_assert(std::is_same_v<data::example_t<Squares>, data::Example<double>>);
static_assert(data::Dataset<data::TensorDataset<float, int64_t>>);
static_assert(data::Dataset<data::Subset<Squares>>);
static_assert(data::Dataset<data::ConcatDataset<data::Subset<Squares>>>);
static_assert(data::Dataset<data::MNIST> && data::Dataset<data::FashionMNIST>);
static_assert(std::is_same_v<data::TensorDataset<float, int64_t>::Item, data::Example<float>>);
static_assert(std::is_same_v<data::TensorDataset<float, float, int64_t>::Item,
                             std::tuple<Tensor<float>, Tensor<float>, Tensor<int64_t>>>);

// The targets of every element of a dataset of Examples.
template <class D>
std::vector<int64_t> targets(const D& d) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < d.size(); ++i) out.push_back(d.get(i).target.item());
  return out;
}

data::TensorDataset<float, int64_t> rows(int64_t n) {
  return data::TensorDataset(arange<float>(double(n * 2)).reshape({n, 2}),
                             arange<int64_t>(double(n)));
}

TEST(TensorDataset, GivesTheIthRowOfEachTensorAsViews) {
  Tensor<float> x = arange<float>(15).reshape({5, 3});
  Tensor<int64_t> y = from_vector<int64_t>({4, 3, 2, 1, 0});
  data::TensorDataset ds(x, y);
  EXPECT_EQ(ds.size(), 5);
  auto [data, target] = ds.get(2);
  EXPECT_TRUE(sinew::testing::values_are(data, {6, 7, 8}));
  EXPECT_EQ(target.dim(), 0);
  EXPECT_EQ(target.item(), 2);
  EXPECT_TRUE(data.shares_storage(x));
}

TEST(TensorDataset, ThreeTensorsGiveATuple) {
  data::TensorDataset ds(arange<float>(4).reshape({2, 2}), zeros<double>({2, 3, 1}),
                         from_vector<int64_t>({7, 8}));
  auto [a, b, c] = ds.get(1);
  EXPECT_TRUE(sinew::testing::values_are(a, {2, 3}));
  EXPECT_EQ(b.shape(), Shape({3, 1}));
  EXPECT_EQ(c.item(), 8);
  data::TensorDataset one(arange<float>(3));
  EXPECT_EQ(std::get<0>(one.get(2)).item(), 2.0f);
}

TEST(TensorDataset, RejectsMismatchedOrScalarTensorsAndBadIndices) {
  SINEW_EXPECT_ERROR((void)data::TensorDataset(zeros<float>({5, 2}), zeros<int64_t>({4})),
                     "data::TensorDataset", "tensor 1", "[4]", "5 rows");
  SINEW_EXPECT_ERROR((void)data::TensorDataset(scalar_tensor<float>(1)), "tensor 0",
                     "0-dimensional");
  SINEW_EXPECT_ERROR((void)data::TensorDataset(Tensor<float>()), "tensor 0", "undefined");
  auto ds = rows(5);
  SINEW_EXPECT_ERROR(ds.get(5), "data::TensorDataset::get", "index 5", "size 5");
  SINEW_EXPECT_ERROR(ds.get(-1), "index -1", "size 5");
}

TEST(Subset, TakesTheIndicesInOrderWithRepeats) {
  data::Subset sub(rows(6), {5, 0, 5, 2});
  EXPECT_EQ(sub.size(), 4);
  EXPECT_EQ(targets(sub), (std::vector<int64_t>{5, 0, 5, 2}));
  EXPECT_TRUE(sinew::testing::values_are(sub.get(0).data, {10, 11}));
  EXPECT_EQ(sub.indices(), (std::vector<int64_t>{5, 0, 5, 2}));
  data::Subset none(rows(3), {});
  EXPECT_EQ(none.size(), 0);
}

TEST(Subset, RejectsIndicesOutOfRange) {
  SINEW_EXPECT_ERROR((void)data::Subset(rows(6), {1, 7}), "data::Subset", "indices[1] = 7",
                     "size 6");
  SINEW_EXPECT_ERROR((void)data::Subset(rows(6), {-1}), "indices[0] = -1");
  data::Subset sub(rows(6), {1, 2});
  SINEW_EXPECT_ERROR(sub.get(2), "data::Subset::get", "index 2", "size 2");
}

TEST(Subset, SharesTheDatasetAndCallsANonConstGet) {
  auto counting = std::make_shared<Counting>();
  data::Subset sub(counting, {3, 1});
  EXPECT_EQ(sub.get(0), 103);
  EXPECT_EQ(sub.get(1), 101);
  EXPECT_EQ(counting->calls, 2);
  EXPECT_EQ(&sub.dataset(), counting.get());
}

TEST(RandomSplit, LengthsPartitionTheDataset) {
  Generator gen(7);
  auto parts = data::random_split(rows(10), {6, 3, 1}, gen);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].size(), 6);
  EXPECT_EQ(parts[1].size(), 3);
  EXPECT_EQ(parts[2].size(), 1);
  std::vector<int64_t> all;
  for (const auto& p : parts) {
    std::vector<int64_t> t = targets(p);
    EXPECT_EQ(t, p.indices());  // target i is element i
    all.insert(all.end(), t.begin(), t.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(10);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
  // The parts share one copy of the dataset.
  EXPECT_EQ(&parts[0].dataset(), &parts[2].dataset());
}

TEST(RandomSplit, IsReproducibleFromTheGeneratorsSeed) {
  Generator a(42), b(42), c(43);
  auto pa = data::random_split(Squares{}, {5, 5}, a);
  auto pb = data::random_split(Squares{}, {5, 5}, b);
  auto pc = data::random_split(Squares{}, {5, 5}, c);
  EXPECT_EQ(pa[0].indices(), pb[0].indices());
  EXPECT_NE(pa[0].indices(), pc[0].indices());  // 1 in 252 by chance, not for these seeds
  // The same generator draws on: a second split differs from the first.
  auto again = data::random_split(Squares{}, {5, 5}, a);
  EXPECT_NE(again[0].indices(), pa[0].indices());
}

TEST(RandomSplit, FractionsRoundDownAndHandTheRemainderOutRoundRobin) {
  Generator gen(1);
  auto sizes = [&](int64_t n, std::vector<double> f) {
    std::vector<int64_t> out;
    for (const auto& p : data::random_split(Squares{n}, f, gen)) out.push_back(p.size());
    return out;
  };
  // As torch.utils.data.random_split (1.13+), worked by hand: floor(n f), then +1 from the start.
  EXPECT_EQ(sizes(10, {0.7, 0.2, 0.1}), (std::vector<int64_t>{7, 2, 1}));
  EXPECT_EQ(sizes(10, {1.0 / 3, 1.0 / 3, 1.0 / 3}), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(sizes(11, {0.5, 0.5}), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(sizes(7, std::vector<double>(10, 0.1)),
            (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(sizes(5, {1.0, 0.0}), (std::vector<int64_t>{5, 0}));
  auto braced = data::random_split(Squares{20}, {0.25, 0.75}, gen);
  EXPECT_EQ(braced[0].size(), 5);
  EXPECT_EQ(braced[1].size(), 15);
}

TEST(RandomSplit, RejectsLengthsOrFractionsThatDoNotFit) {
  Generator gen;
  SINEW_EXPECT_ERROR(data::random_split(Squares{10}, {6, 3}, gen), "data::random_split", "sum to 9",
                     "10 elements");
  SINEW_EXPECT_ERROR(data::random_split(Squares{10}, {6, 5}, gen), "more than", "10");
  SINEW_EXPECT_ERROR(data::random_split(Squares{10}, {-1, 11}, gen), "length 0 is negative");
  SINEW_EXPECT_ERROR(data::random_split(Squares{10}, {0.5, 0.6}, gen), "sum to 1.1", "not 1");
  SINEW_EXPECT_ERROR(data::random_split(Squares{10}, {0.5, 0.4}, gen), "sum to 0.9");
  SINEW_EXPECT_ERROR(data::random_split(Squares{10}, {1.2, -0.2}, gen), "fraction 0 (1.2)",
                     "not in [0, 1]");
  SINEW_EXPECT_ERROR(data::random_split(Squares{10}, std::vector<double>{}, gen), "no fractions");
}

TEST(RandomSplit, UsesTheGlobalGeneratorWhenNoneIsGiven) {
  manual_seed(5);
  auto a = data::random_split(Squares{}, {0.5, 0.5});
  manual_seed(5);
  auto b = data::random_split(Squares{}, std::vector<int64_t>{5, 5});
  EXPECT_EQ(a[0].indices(), b[0].indices());
}

TEST(ConcatDataset, ChainsTheDatasetsInOrder) {
  data::ConcatDataset both(data::Subset(rows(5), {0, 1, 2}), data::Subset(rows(5), {4, 3, 2, 1}));
  EXPECT_EQ(both.size(), 7);
  EXPECT_EQ(targets(both), (std::vector<int64_t>{0, 1, 2, 4, 3, 2, 1}));
  EXPECT_EQ(both.cumulative_sizes(), (std::vector<int64_t>{3, 7}));
  // Empty datasets in between are skipped over.
  data::ConcatDataset<Squares> gaps(std::vector<Squares>{Squares{2}, Squares{0}, Squares{3}});
  EXPECT_EQ(gaps.size(), 5);
  EXPECT_EQ(gaps.get(2).target.item(), 0);  // Squares{3}'s element 0
  EXPECT_EQ(gaps.get(4).target.item(), 4);  // its element 2: 2 * 2
}

TEST(ConcatDataset, RejectsNoDatasetsAndBadIndices) {
  SINEW_EXPECT_ERROR((void)data::ConcatDataset<Squares>(std::vector<Squares>{}),
                     "data::ConcatDataset", "no datasets");
  data::ConcatDataset<Squares> c(Squares{2}, Squares{3});
  SINEW_EXPECT_ERROR(c.get(5), "data::ConcatDataset::get", "index 5", "size 5");
  SINEW_EXPECT_ERROR(c.get(-1), "index -1");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
