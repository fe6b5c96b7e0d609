// Tests of data/dataloader.hpp: batching (shuffle, order, drop_last, the short last batch), the
// same batches for any worker count, epochs and seeds, early exit, worker exceptions, a user's
// dataset with its own collate, and the tensor fast path against the per-example path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <sinew/data/dataloader.hpp>
#include <sinew/data/transforms.hpp>
#include <sinew/sinew.hpp>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;

namespace {
namespace SINEW_UNITY_ID {

// n examples: data [2] = (i, -i), target i.
data::TensorDataset<float, int64_t> rows(int64_t n) {
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(float(i));
    x.push_back(-float(i));
    y.push_back(i);
  }
  return data::TensorDataset<float, int64_t>(from_vector<float>(x, {n, 2}),
                                             from_vector<int64_t>(y, {n}));
}

// n random images [1, 6, 6] with targets i.
data::TensorDataset<float, int64_t> images(int64_t n) {
  Generator g(3);
  std::vector<int64_t> y(static_cast<size_t>(n));
  std::iota(y.begin(), y.end(), int64_t{0});
  return data::TensorDataset<float, int64_t>(rand<float>({n, 1, 6, 6}, g),
                                             from_vector<int64_t>(y, {n}));
}

template <class L>
std::vector<data::Example<float>> all_batches(L& loader) {
  std::vector<data::Example<float>> out;
  for (auto& [x, y] : loader) out.push_back({x, y});
  return out;
}

::testing::AssertionResult same_batches(const std::vector<data::Example<float>>& a,
                                        const std::vector<data::Example<float>>& b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " batches";
  }
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k].data.shape() != b[k].data.shape() || !a[k].data.equal(b[k].data) ||
        a[k].target.shape() != b[k].target.shape() || !a[k].target.equal(b[k].target)) {
      return ::testing::AssertionFailure() << "batch " << k << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<int64_t> targets(const std::vector<data::Example<float>>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) {
    for (int64_t v : b.target.to_vector()) out.push_back(v);
  }
  return out;
}

// A per-example dataset (no fast path) over the same rows; throws at index `bad`.
struct Rows {
  data::TensorDataset<float, int64_t> inner;
  int64_t bad = -1;
  int64_t size() const { return inner.size(); }
  data::Example<float> get(int64_t i) const {
    if (i == bad) throw std::invalid_argument("bad example " + std::to_string(i));
    return inner.get(i);
  }
};

static_assert(std::input_iterator<data::DataLoader<Rows>::iterator>);
static_assert(std::sentinel_for<std::default_sentinel_t, data::DataLoader<Rows>::iterator>);

// A transform drawing from its generator: adds one uniform number to the whole image.
data::transforms::TransformFn noise() {
  return [](Tensor<float> x, Generator& g) { return x + float(g.uniform()); };
}

TEST(DataLoader, ShuffleGivesEverySampleOncePerEpoch) {
  data::DataLoader loader(rows(10), {.batch_size = 3, .shuffle = true, .seed = 5});
  EXPECT_EQ(loader.size(), 4);
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto batches = all_batches(loader);
    ASSERT_EQ(batches.size(), 4u);
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(batches[k].data.shape(), Shape({k < 3 ? 3 : 1, 2}));
      EXPECT_EQ(batches[k].target.shape(), Shape({k < 3 ? 3 : 1}));
      // Each row still goes with its target.
      EXPECT_TRUE(all_close(batches[k].data.select(1, 0), batches[k].target.to<float>()));
    }
    std::vector<int64_t> seen = targets(batches);
    std::vector<int64_t> order = seen;
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> expected(10);
    std::iota(expected.begin(), expected.end(), int64_t{0});
    EXPECT_EQ(seen, expected);
    EXPECT_NE(order, expected);  // 1 in 10! to fail by chance
  }
  EXPECT_EQ(loader.epoch(), 2);
}

TEST(DataLoader, WithoutShuffleKeepsTheOrderAndTheShortLastBatch) {
  data::DataLoader loader(rows(7), {.batch_size = 3});
  EXPECT_EQ(loader.size(), 3);
  auto batches = all_batches(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(targets(batches), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(batches[2].data.shape(), Shape({1, 2}));
  EXPECT_TRUE(sinew::testing::values_are(batches[2].data, {6, -6}));
}

TEST(DataLoader, DropLastDropsTheShortBatch) {
  data::DataLoader loader(rows(7), {.batch_size = 3, .drop_last = true});
  EXPECT_EQ(loader.size(), 2);
  auto batches = all_batches(loader);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(targets(batches), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));

  data::DataLoader exact(rows(6), {.batch_size = 3, .drop_last = true});
  EXPECT_EQ(exact.size(), 2);
  data::DataLoader small(rows(2), {.batch_size = 3, .drop_last = true, .num_workers = 2});
  EXPECT_EQ(small.size(), 0);
  EXPECT_TRUE(all_batches(small).empty());
  data::DataLoader none(Rows{rows(0)}, {.batch_size = 3, .num_workers = 2});
  EXPECT_EQ(none.size(), 0);
  EXPECT_TRUE(all_batches(none).empty());
}

TEST(DataLoader, SameBatchesForAnyWorkerCount) {
  for (bool transform : {false, true}) {
    std::vector<std::vector<data::Example<float>>> runs;
    for (int64_t workers : {0, 1, 3}) {
      data::DataLoader loader(images(50), {.batch_size = 4,
                                           .shuffle = true,
                                           .num_workers = workers,
                                           .seed = 11,
                                           .transform = transform ? noise() : nullptr});
      all_batches(loader);  // epoch 0
      runs.push_back(all_batches(loader));
      EXPECT_EQ(runs.back().size(), 13u);
    }
    EXPECT_TRUE(same_batches(runs[0], runs[1])) << "transform " << transform;
    EXPECT_TRUE(same_batches(runs[0], runs[2])) << "transform " << transform;
  }
  // Image transforms on the per-example path of a user's dataset.
  namespace T = data::transforms;
  std::vector<std::vector<data::Example<float>>> runs;
  for (int64_t workers : {0, 1, 3}) {
    data::DataLoader loader(Rows{images(30)},
                            {.batch_size = 7,
                             .shuffle = true,
                             .num_workers = workers,
                             .transform = T::Compose{T::RandomHorizontalFlip(), T::RandomCrop(6, 1),
                                                     T::RandomAffine(10, {0.1, 0.1}, {0.9, 1.1})}});
    runs.push_back(all_batches(loader));
  }
  EXPECT_TRUE(same_batches(runs[0], runs[1]));
  EXPECT_TRUE(same_batches(runs[0], runs[2]));
}

TEST(DataLoader, TransformDrawsDependOnSeedEpochAndIndex) {
  auto first = [](uint64_t seed) {
    data::DataLoader loader(Rows{rows(6)}, {.batch_size = 6, .seed = seed, .transform = noise()});
    return all_batches(loader)[0].data;
  };
  Tensor<float> a = first(1);
  EXPECT_TRUE(a.equal(first(1)));
  EXPECT_FALSE(a.equal(first(2)));
  // Each example got its own draw, in [0, 1).
  Tensor<float> shift = a - std::get<0>(rows(6).tensors());
  std::vector<float> s = shift.select(1, 0).to_vector();
  for (float v : s) EXPECT_TRUE(v >= 0 && v < 1) << v;
  EXPECT_NE(s[0], s[1]);
}

TEST(DataLoader, EpochsDifferAndTheSameSeedRepeats) {
  data::DataLoader a(rows(40), {.batch_size = 8, .shuffle = true, .seed = 3});
  data::DataLoader b(rows(40), {.batch_size = 8, .shuffle = true, .seed = 3});
  data::DataLoader c(rows(40), {.batch_size = 8, .shuffle = true, .seed = 4});
  auto a0 = targets(all_batches(a));
  auto a1 = targets(all_batches(a));
  EXPECT_NE(a0, a1);
  EXPECT_EQ(targets(all_batches(b)), a0);
  EXPECT_NE(targets(all_batches(c)), a0);
  a.set_epoch(1);
  EXPECT_EQ(targets(all_batches(a)), a1);
  EXPECT_EQ(a.epoch(), 2);
}

TEST(DataLoader, EarlyBreakWithWorkersThenAFullPass) {
  data::DataLoader loader(Rows{rows(100)}, {.batch_size = 4, .num_workers = 3});
  int seen = 0;
  for (auto& [x, y] : loader) {
    EXPECT_EQ(x.size(0), 4);
    if (++seen == 2) break;
  }
  EXPECT_EQ(seen, 2);
  auto batches = all_batches(loader);
  EXPECT_EQ(batches.size(), 25u);
  EXPECT_EQ(targets(batches).size(), 100u);
  // Leaving before the first batch is used.
  for (int k = 0; k < 5; ++k) {
    auto it = loader.begin();
    (void)it;
  }
}

TEST(DataLoader, WorkerExceptionReachesTheLoopAtItsBatch) {
  for (int64_t workers : {0, 1, 3}) {
    data::DataLoader loader(Rows{rows(20), 9}, {.batch_size = 2, .num_workers = workers});
    std::vector<int64_t> seen;
    try {
      for (auto& [x, y] : loader) {
        for (int64_t v : y.to_vector()) seen.push_back(v);
      }
      ADD_FAILURE() << "no exception with " << workers << " workers";
    } catch (const std::invalid_argument& e) {
      EXPECT_STREQ(e.what(), "bad example 9");
    }
    EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7})) << workers << " workers";
    // The loader still works for a pass that avoids the bad example.
    data::DataLoader ok(Rows{rows(8), 9}, {.batch_size = 2, .num_workers = workers});
    EXPECT_EQ(all_batches(ok).size(), 4u);
  }
  // One thrown in the first batch, while the iterator is made.
  data::DataLoader first(Rows{rows(8), 0}, {.batch_size = 2, .num_workers = 2});
  EXPECT_THROW(first.begin(), std::invalid_argument);
  // A sinew::Error from a transform.
  data::DataLoader bad(rows(8), {.batch_size = 2,
                                 .num_workers = 2,
                                 .transform = data::transforms::Normalize({0, 0, 0}, {1, 1, 1})});
  SINEW_EXPECT_ERROR(all_batches(bad), "data::transforms::Normalize", "[C, H, W]");
}

TEST(DataLoader, CanBeDestroyedMidEpoch) {
  auto loader = std::make_unique<data::DataLoader<Rows>>(
      Rows{rows(64)}, data::DataLoaderOptions<data::Example<float>>{
                          .batch_size = 2, .shuffle = true, .num_workers = 3});
  {
    auto it = loader->begin();
    ++it;
    loader.reset();  // the pass keeps the dataset alive
    int64_t rest = 0;
    for (; it != std::default_sentinel; ++it) rest += it->target.size(0);
    EXPECT_EQ(rest, 62);
  }
  auto again = std::make_unique<data::DataLoader<Rows>>(
      Rows{rows(64)},
      data::DataLoaderOptions<data::Example<float>>{.batch_size = 2, .num_workers = 3});
  auto it = again->begin();
  ++it;
  again.reset();
}

// A user's dataset of strings.
struct Words {
  std::vector<std::string> words = {"a", "b", "c", "d", "e"};
  int64_t size() const { return static_cast<int64_t>(words.size()); }
  std::string get(int64_t i) const { return words[static_cast<size_t>(i)]; }
};

TEST(DataLoader, UserDatasetWithItsOwnCollate) {
  auto join = [](std::vector<std::string> items) {
    std::string s;
    for (const auto& w : items) s += w;
    return s;
  };
  for (int64_t workers : {0, 2}) {
    data::DataLoader loader(Words{}, {.batch_size = 2, .num_workers = workers}, join);
    static_assert(std::is_same_v<decltype(loader)::batch_type, std::string>);
    std::vector<std::string> got;
    for (const std::string& s : loader) got.push_back(s);
    EXPECT_EQ(got, (std::vector<std::string>{"ab", "cd", "e"}));
  }
  // Without a collate, a batch of strings is a vector of them.
  data::DataLoader plain(Words{}, {.batch_size = 3});
  std::vector<std::vector<std::string>> got;
  for (auto& b : plain) got.push_back(b);
  EXPECT_EQ(got, (std::vector<std::vector<std::string>>{{"a", "b", "c"}, {"d", "e"}}));
  // A collate in the options, for Example batches (here: keeping only the first example).
  data::DataLoader firsts(
      rows(6), {.batch_size = 3, .collate = [](std::vector<data::Example<float>> v) {
                  return data::Example<float>{v[0].data.unsqueeze(0), v[0].target.unsqueeze(0)};
                }});
  EXPECT_EQ(targets(all_batches(firsts)), (std::vector<int64_t>{0, 3}));
}

TEST(DataLoader, TuplesOfTensorsAreStacked) {
  data::TensorDataset<float, float> ds(arange<float>(6).reshape({3, 2}), arange<float>(3));
  data::DataLoader fast(ds, {.batch_size = 2});
  data::DataLoader slow(data::Subset(ds, {0, 1, 2}), {.batch_size = 2});
  auto it = fast.begin();
  auto& [x, y] = *it;
  EXPECT_EQ(x.shape(), Shape({2, 2}));
  EXPECT_TRUE(sinew::testing::values_are(y, {0, 1}));
  auto slow_it = slow.begin();
  auto& [sx, sy] = *slow_it;
  EXPECT_TRUE(x.equal(sx) && y.equal(sy));
}

TEST(DataLoader, FastPathGivesThePerExampleBatches) {
  auto ds = images(37);
  for (int64_t workers : {0, 2}) {
    data::DataLoader fast(ds, {.batch_size = 5, .shuffle = true, .num_workers = workers});
    data::DataLoader slow(Rows{ds}, {.batch_size = 5, .shuffle = true, .num_workers = workers});
    EXPECT_TRUE(same_batches(all_batches(fast), all_batches(slow)));
  }
}

class DataLoaderMnist : public sinew::testing::TempDirTest {
 protected:
  // An IDX file of unsigned bytes with the given dimensions.
  void write_idx(const std::string& name, const std::vector<uint32_t>& dims,
                 const std::vector<unsigned char>& values) {
    std::vector<unsigned char> b = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
    for (uint32_t d : dims) {
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
    }
    b.insert(b.end(), values.begin(), values.end());
    std::ofstream(path(name), std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
};

TEST_F(DataLoaderMnist, FastPathAndTransformsOnMnist) {
  constexpr uint32_t n = 23;
  std::vector<unsigned char> pixels, labels;
  for (uint32_t k = 0; k < n * 784; ++k) pixels.push_back(static_cast<unsigned char>(k * 7 % 251));
  for (uint32_t k = 0; k < n; ++k) labels.push_back(static_cast<unsigned char>(k % 10));
  write_idx("t10k-images-idx3-ubyte", {n, 28, 28}, pixels);
  write_idx("t10k-labels-idx1-ubyte", {n}, labels);
  data::MNIST mnist(dir_.string(), {.train = false});
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), int64_t{0});
  data::DataLoader fast(mnist, {.batch_size = 5, .shuffle = true, .num_workers = 2});
  data::DataLoader slow(data::Subset(mnist, all), {.batch_size = 5, .shuffle = true});
  auto batches = all_batches(fast);
  EXPECT_TRUE(same_batches(batches, all_batches(slow)));
  ASSERT_EQ(batches.size(), 5u);
  EXPECT_EQ(batches[0].data.shape(), Shape({5, 1, 28, 28}));
  EXPECT_EQ(batches[4].target.shape(), Shape({3}));

  namespace T = data::transforms;
  std::vector<std::vector<data::Example<float>>> runs;
  for (int64_t workers : {0, 3}) {
    data::DataLoader loader(mnist,
                            {.batch_size = 8,
                             .shuffle = true,
                             .num_workers = workers,
                             .transform = T::Compose{T::RandomCrop(28, 2), T::RandomRotation(10),
                                                     T::Normalize({0.1307}, {0.3081})}});
    runs.push_back(all_batches(loader));
  }
  EXPECT_TRUE(same_batches(runs[0], runs[1]));
  EXPECT_EQ(runs[0][0].data.shape(), Shape({8, 1, 28, 28}));
}

TEST(DataLoader, BatchesRecordNoHistory) {
  Tensor<float> x = randn({8, 3}).requires_grad_();
  data::TensorDataset<float, int64_t> ds(x, arange<int64_t>(8));
  for (int64_t workers : {0, 2}) {
    data::DataLoader fast(ds, {.batch_size = 4, .num_workers = workers});
    data::DataLoader slow(Rows{ds}, {.batch_size = 4, .num_workers = workers});
    for (auto& [bx, by] : fast) EXPECT_FALSE(bx.requires_grad());
    for (auto& [bx, by] : slow) EXPECT_FALSE(bx.requires_grad());
  }
  EXPECT_TRUE(autograd::is_grad_enabled());
}

// Each example's target is the CPU kernels' thread count on the thread that built it.
struct ThreadProbe {
  int64_t size() const { return 6; }
  data::Example<float> get(int64_t) const {
    return {zeros<float>({1}), scalar_tensor<int64_t>(double(get_num_threads()))};
  }
};

TEST(DataLoader, WorkersRunKernelsOnOneThreadEach) {
  const int before = get_num_threads();
  data::DataLoader in_loop(ThreadProbe{}, {.batch_size = 3});
  for (auto& [x, y] : in_loop) EXPECT_EQ(y.to_vector(), std::vector<int64_t>(3, before));
  data::DataLoader workers(ThreadProbe{}, {.batch_size = 3, .num_workers = 2});
  for (auto& [x, y] : workers) EXPECT_EQ(y.to_vector(), std::vector<int64_t>(3, 1));
  EXPECT_EQ(get_num_threads(), before);  // the loop's own thread count is untouched
}

TEST(DataLoader, RejectsBadOptions) {
  SINEW_EXPECT_ERROR(data::DataLoader(rows(4), {.batch_size = 0}), "data::DataLoader",
                     "batch_size must be >= 1, got 0");
  SINEW_EXPECT_ERROR(data::DataLoader(rows(4), {.num_workers = -1}), "data::DataLoader",
                     "num_workers");
  SINEW_EXPECT_ERROR(data::DataLoader(rows(4), {.prefetch_factor = 0}), "prefetch_factor");
  SINEW_EXPECT_ERROR(data::DataLoader(std::shared_ptr<Rows>()), "the dataset is null");
#ifndef SINEW_WITH_CUDA
  SINEW_EXPECT_ERROR(data::DataLoader(rows(4), {.pin_memory = true}), "data::DataLoader",
                     "pin_memory needs the CUDA backend");
#endif
}

}  // namespace SINEW_UNITY_ID
}  // namespace
