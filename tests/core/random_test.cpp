// Random generation: distribution moments, seeding, and independence from the thread count; the
// in-place fills uniform_, normal_, bernoulli_ and random_ (moments and ranges on large samples,
// the global generator's sequence, views, autograd rules, argument errors).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

// Restores the thread count a test changed.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(get_num_threads()) {}
  ~ThreadCountGuard() { set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(Random, RandnHasZeroMeanAndUnitStd) {
  Generator g(2024);
  auto v = randn<double>({100000}, g).to_vector();
  double mean = 0, sq = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  double std = std::sqrt(sq / double(v.size() - 1));
  // Standard errors: 1/sqrt(n) = 0.0032 for the mean, ~0.0022 for the std.
  EXPECT_NEAR(mean, 0.0, 0.015);
  EXPECT_NEAR(std, 1.0, 0.01);
  // About 68.3 % within one standard deviation.
  int inside = 0;
  for (double x : v) inside += std::abs(x) < 1;
  EXPECT_NEAR(inside / 1e5, 0.6827, 0.01);
}

TEST(Random, RandIsUniform) {
  Generator g(8);
  auto v = rand<float>({100000}, g).to_vector();
  double mean = 0;
  std::vector<int> bins(10, 0);
  for (float x : v) {
    mean += x;
    ++bins[static_cast<size_t>(x * 10)];
  }
  EXPECT_NEAR(mean / 1e5, 0.5, 0.01);
  for (int b : bins) EXPECT_NEAR(b, 10000, 500);
}

TEST(Random, SameSeedSameTensors) {
  Generator a(123), b(123);
  EXPECT_EQ(randn({4, 5}, a).to_vector(), randn({4, 5}, b).to_vector());
  EXPECT_EQ(rand<double>({9}, a).to_vector(), rand<double>({9}, b).to_vector());
  EXPECT_EQ(randint(0, 10, {9}, a).to_vector(), randint(0, 10, {9}, b).to_vector());
  // Reseeding restarts the sequence, including the cached second normal of Box-Muller.
  Generator c(5);
  auto first = randn<double>({3}, c);
  c.manual_seed(5);
  EXPECT_EQ(randn<double>({3}, c).to_vector(), first.to_vector());
  Generator d(6);
  EXPECT_NE(randn<double>({3}, d).to_vector(), first.to_vector());
}

TEST(Random, ResultsDoNotDependOnTheThreadCount) {
  ThreadCountGuard guard;
  auto draw = [] {
    manual_seed(77);
    Tensor<float> n = randn({300, 200});  // large enough for kernels to run in parallel
    Tensor<float> u = rand({300, 200});
    Tensor<float> y = sigmoid(n * u + 1.f).exp();
    return std::vector<std::vector<float>>{n.to_vector(), u.to_vector(), y.to_vector()};
  };
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  auto one = draw();
  set_num_threads(2);
  auto two = draw();
  EXPECT_EQ(one, two);
  SINEW_EXPECT_ERROR(set_num_threads(0), "set_num_threads", "0");
}

// ---- in-place random fills --------------------------------------------------------------------

struct Moments {
  double mean, var, min, max;
};
template <class T>
Moments moments(const Tensor<T>& t) {
  auto v = t.to_vector();
  double s = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
  for (T x : v) {
    double d = double(x);
    s += d;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  double n = double(v.size()), m = s / n;
  for (T x : v) sq += (double(x) - m) * (double(x) - m);
  return {m, sq / (n - 1), lo, hi};
}

TEST(RandomFill, UniformHasItsRangeAndMoments) {
  manual_seed(31);
  Tensor<float> t = empty<float>({400, 500});
  Tensor<float>& r = t.uniform_(-2, 3);
  EXPECT_EQ(&r, &t);
  Moments m = moments(t);
  EXPECT_GE(m.min, -2.0);
  EXPECT_LT(m.max, 3.0);
  EXPECT_LT(m.min, -1.99);  // the whole range is reached
  EXPECT_GT(m.max, 2.99);
  // Standard errors: 5 / sqrt(12 n) = 0.0032 for the mean, about 0.003 for the variance.
  EXPECT_NEAR(m.mean, 0.5, 0.015);
  EXPECT_NEAR(m.var, 25.0 / 12.0, 0.02);
  std::vector<int> bins(10, 0);
  for (float x : t.to_vector()) ++bins[static_cast<size_t>((x + 2) * 2)];
  for (int b : bins) EXPECT_NEAR(b, 20000, 800);
  // Defaults [0, 1); an empty range gives `from`; double tensors too.
  Tensor<double> d = empty<double>({100000});
  m = moments(d.uniform_());
  EXPECT_GE(m.min, 0.0);
  EXPECT_LT(m.max, 1.0);
  EXPECT_NEAR(m.mean, 0.5, 0.01);
  EXPECT_NEAR(m.var, 1.0 / 12.0, 0.003);
  EXPECT_TRUE(sinew::testing::values_are(d.slice(0, 0, 3).uniform_(1.5, 1.5), {1.5, 1.5, 1.5}));
}

TEST(RandomFill, NormalHasItsMoments) {
  manual_seed(32);
  Tensor<double> t = empty<double>({200000});
  t.normal_(3, 0.5);
  Moments m = moments(t);
  // Standard errors: 0.5 / sqrt(n) = 0.0011 for the mean, about 0.0008 for the std.
  EXPECT_NEAR(m.mean, 3.0, 0.006);
  EXPECT_NEAR(std::sqrt(m.var), 0.5, 0.005);
  int inside = 0;
  for (double x : t.to_vector()) inside += std::abs(x - 3) < 0.5;
  EXPECT_NEAR(inside / 2e5, 0.6827, 0.006);
  Tensor<float> f = empty<float>({100000});
  m = moments(f.normal_());
  EXPECT_NEAR(m.mean, 0.0, 0.015);
  EXPECT_NEAR(m.var, 1.0, 0.02);
  EXPECT_TRUE(sinew::testing::values_are(f.slice(0, 0, 2).normal_(-4, 0), {-4, -4}));
}

TEST(RandomFill, BernoulliGivesZerosAndOnesWithProbabilityP) {
  manual_seed(33);
  Tensor<float> t = empty<float>({200000});
  t.bernoulli_(0.3);
  auto v = t.to_vector();
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](float x) { return x == 0 || x == 1; }));
  EXPECT_NEAR(moments(t).mean, 0.3, 0.005);  // standard error 0.001
  EXPECT_EQ(moments(t.bernoulli_(0)).max, 0.0);
  EXPECT_EQ(moments(t.bernoulli_(1)).min, 1.0);
  EXPECT_NEAR(moments(t.bernoulli_()).mean, 0.5, 0.005);
  Tensor<int64_t> i = empty<int64_t>({100000});
  Moments mi = moments(i.bernoulli_(0.8));
  EXPECT_EQ(mi.min, 0.0);
  EXPECT_EQ(mi.max, 1.0);
  EXPECT_NEAR(mi.mean, 0.8, 0.006);
  Tensor<bool> b = empty<bool>({100000});
  EXPECT_NEAR(moments(b.bernoulli_(0.1)).mean, 0.1, 0.005);
}

TEST(RandomFill, RandomDrawsIntegersUniformlyInTheRange) {
  manual_seed(34);
  Tensor<int64_t> t = empty<int64_t>({160000});
  t.random_(-3, 5);
  std::map<int64_t, int> counts;
  for (int64_t x : t.to_vector()) ++counts[x];
  ASSERT_EQ(counts.size(), 8u);
  EXPECT_EQ(counts.begin()->first, -3);
  EXPECT_EQ(counts.rbegin()->first, 4);
  for (auto [value, c] : counts) EXPECT_NEAR(c, 20000, 700) << value;
  // Float tensors hold whole numbers; random_(to) means [0, to).
  Tensor<float> f = empty<float>({50000});
  f.random_(10);
  auto fv = f.to_vector();
  EXPECT_TRUE(std::all_of(fv.begin(), fv.end(), [](float x) { return x == std::floor(x); }));
  Moments m = moments(f);
  EXPECT_EQ(m.min, 0.0);
  EXPECT_EQ(m.max, 9.0);
  EXPECT_NEAR(m.mean, 4.5, 0.06);  // standard error 0.013
  // Every representable uint8 and bool value.
  Tensor<uint8_t> u = empty<uint8_t>({100000});
  m = moments(u.random_(0, 256));
  EXPECT_EQ(m.min, 0.0);
  EXPECT_EQ(m.max, 255.0);
  EXPECT_NEAR(m.mean, 127.5, 1.0);
  Tensor<bool> b = empty<bool>({100000});
  EXPECT_NEAR(moments(b.random_(2)).mean, 0.5, 0.01);
  // The full int64 range: about half negative, and values beyond 2^53 stay exact integers.
  Tensor<int64_t> w = empty<int64_t>({20000});
  w.random_(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  auto wv = w.to_vector();
  double negative = double(std::count_if(wv.begin(), wv.end(), [](int64_t x) { return x < 0; }));
  EXPECT_NEAR(negative / 20000, 0.5, 0.03);
  EXPECT_TRUE(std::any_of(wv.begin(), wv.end(), [](int64_t x) { return x % 2 != 0; }));
}

TEST(RandomFill, FillsDrawTheGlobalGeneratorsSequence) {
  // The same numbers as the factories after the same manual_seed, element by element.
  manual_seed(35);
  Tensor<float> a = empty<float>({3, 4});
  a.uniform_();
  manual_seed(35);
  EXPECT_EQ(a.to_vector(), rand<float>({3, 4}).to_vector());
  manual_seed(36);
  Tensor<double> n = empty<double>({7});
  n.normal_();
  manual_seed(36);
  EXPECT_EQ(n.to_vector(), randn<double>({7}).to_vector());
  manual_seed(37);
  Tensor<int64_t> i = empty<int64_t>({9});
  i.random_(2, 50);
  manual_seed(37);
  EXPECT_EQ(i.to_vector(), randint(2, 50, {9}).to_vector());
  // Same seed, same fills; another seed, other numbers.
  auto draw = [](uint64_t seed) {
    manual_seed(seed);
    Tensor<double> t = empty<double>({5});
    std::vector<double> v = t.uniform_(-1, 1).to_vector();
    for (double x : t.normal_(2, 3).to_vector()) v.push_back(x);
    for (double x : t.bernoulli_(0.5).to_vector()) v.push_back(x);
    for (double x : t.random_(-100, 100).to_vector()) v.push_back(x);
    return v;
  };
  EXPECT_EQ(draw(38), draw(38));
  EXPECT_NE(draw(38), draw(39));
}

TEST(RandomFill, WritesThroughAViewAndBumpsTheVersion) {
  Tensor<float> base = zeros<float>({3, 4});
  uint64_t v0 = base.version();
  Tensor<float> cols = base.slice(1, 0, 4, 2);  // columns 0 and 2
  cols.uniform_(5, 6);
  EXPECT_GT(base.version(), v0);
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t c = 0; c < 4; ++c) {
      float x = base.at({r, c});
      if (c % 2 == 0) {
        EXPECT_GE(x, 5.0f);
        EXPECT_LT(x, 6.0f);
      } else {
        EXPECT_EQ(x, 0.0f);
      }
    }
  }
  uint64_t v1 = base.version();
  base.t().random_(1, 2);
  EXPECT_TRUE(sinew::testing::values_are(base, std::vector<double>(12, 1.0)));
  EXPECT_GT(base.version(), v1);
  Tensor<float> expanded = zeros<float>({1, 3}).expand({2, 3});
  SINEW_EXPECT_ERROR(expanded.normal_(), "normal_", "expanded");
}

TEST(RandomFill, FollowsTheInPlaceAutogradRules) {
  Tensor<double> leaf = zeros<double>({4}).requires_grad_();
  SINEW_EXPECT_ERROR(leaf.uniform_(), "uniform_", "leaf tensor that requires grad");
  SINEW_EXPECT_ERROR(leaf.normal_(), "normal_", "leaf tensor that requires grad");
  SINEW_EXPECT_ERROR(leaf.bernoulli_(), "bernoulli_", "leaf tensor that requires grad");
  SINEW_EXPECT_ERROR(leaf.random_(3), "random_", "leaf tensor that requires grad");
  {
    NoGradGuard guard;
    leaf.normal_(0, 1);
  }
  EXPECT_TRUE(leaf.is_leaf());
  EXPECT_TRUE(leaf.requires_grad());
  EXPECT_NE(moments(leaf).max, 0.0);
  // A tensor with history takes a new one: the filled values do not depend on the old ones.
  Tensor<double> y = leaf * 2.0;
  y.uniform_(1, 2);
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  (y * 3.0).sum().backward();
  EXPECT_TRUE(sinew::testing::values_are(leaf.grad(), {0, 0, 0, 0}));
}

TEST(RandomFill, RejectsBadArguments) {
  Tensor<double> t = empty<double>({3});
  SINEW_EXPECT_ERROR(t.uniform_(1, 0), "uniform_", "from = 1 > to = 0");
  SINEW_EXPECT_ERROR(t.uniform_(0, INFINITY), "uniform_", "finite");
  SINEW_EXPECT_ERROR(t.normal_(0, -1), "normal_", "std = -1");
  SINEW_EXPECT_ERROR(t.bernoulli_(1.5), "bernoulli_", "p = 1.5");
  SINEW_EXPECT_ERROR(t.bernoulli_(-0.1), "bernoulli_", "p = -0.1");
  SINEW_EXPECT_ERROR(t.bernoulli_(NAN), "bernoulli_", "p in [0, 1]");
  SINEW_EXPECT_ERROR(t.random_(3, 3), "random_", "from = 3 >= to = 3");
  SINEW_EXPECT_ERROR(t.random_(0), "random_", "from = 0 >= to = 0");
  Tensor<uint8_t> u = empty<uint8_t>({3});
  SINEW_EXPECT_ERROR(u.random_(0, 257), "random_", "to - 1 = 256", "uint8");
  SINEW_EXPECT_ERROR(u.random_(-1, 5), "random_", "from = -1", "uint8");
  Tensor<bool> b = empty<bool>({3});
  SINEW_EXPECT_ERROR(b.random_(3), "random_", "to - 1 = 2", "bool");
  // A failed call draws nothing and leaves the tensor as it was.
  Tensor<double> z = zeros<double>({3});
  manual_seed(40);
  SINEW_EXPECT_ERROR(z.normal_(0, -2), "normal_");
  Tensor<double> leaf = zeros<double>({3}).requires_grad_();
  SINEW_EXPECT_ERROR(leaf.uniform_(), "uniform_");
  EXPECT_TRUE(sinew::testing::values_are(z, {0, 0, 0}));
  std::vector<double> after = rand<double>({2}).to_vector();
  manual_seed(40);
  EXPECT_EQ(after, rand<double>({2}).to_vector());
}

TEST(Philox, MatchesRandom123KnownAnswers) {
  // Random123's kat_vectors, the three philox4x32 10 lines: counter, key, result.
  const Philox4x32 zero = philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(zero.v[0], 0x6627e8d5u);
  EXPECT_EQ(zero.v[1], 0xe169c58du);
  EXPECT_EQ(zero.v[2], 0xbc57ac4cu);
  EXPECT_EQ(zero.v[3], 0x9b00dbd8u);
  const Philox4x32 ones = philox4x32_10({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
                                        0xffffffffu, 0xffffffffu);
  EXPECT_EQ(ones.v[0], 0x408f276du);
  EXPECT_EQ(ones.v[1], 0x41c83b0eu);
  EXPECT_EQ(ones.v[2], 0xa20bc7c6u);
  EXPECT_EQ(ones.v[3], 0x6d5451fdu);
  const Philox4x32 pi = philox4x32_10({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
                                      0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(pi.v[0], 0xd16cfe09u);
  EXPECT_EQ(pi.v[1], 0x94fdccebu);
  EXPECT_EQ(pi.v[2], 0x5001e420u);
  EXPECT_EQ(pi.v[3], 0x24126ea1u);
  static_assert(philox4x32_10({{0, 0, 0, 0}}, 0, 0).v[0] == 0x6627e8d5u, "usable in constexpr");
}

TEST(Philox, FillsFollowTheCounterLayout) {
  // Element i of a fill from a fresh generator uses block i / 2 of the seed's stream.
  Generator g(0x0123456789abcdefULL);
  const std::vector<double> u = rand<double>({5}, g).to_vector();
  for (int64_t i = 0; i < 5; ++i) {
    const Philox4x32 b = philox_block(0x0123456789abcdefULL, static_cast<uint64_t>(i / 2));
    const int h = static_cast<int>(i % 2) * 2;
    EXPECT_EQ(u[static_cast<size_t>(i)], philox_uniform(b.v[h], b.v[h + 1])) << i;
  }
  // Five elements take three blocks: the next fill starts at block 3.
  EXPECT_EQ(g.offset(), 12u);
  const std::vector<double> n = randn<double>({2}, g).to_vector();
  const Philox4x32 b = philox_block(0x0123456789abcdefULL, 3);
  const double r = std::sqrt(-2.0 * std::log(1.0 - philox_uniform(b.v[0], b.v[1])));
  const double angle = 6.283185307179586476925286766559 * philox_uniform(b.v[2], b.v[3]);
  EXPECT_EQ(n[0], r * std::cos(angle));
  EXPECT_EQ(n[1], r * std::sin(angle));
  // A serial draw takes the next words; a fill after it starts at the next whole block.
  Generator s(0x0123456789abcdefULL);
  EXPECT_EQ(s.next_u32(), philox_block(0x0123456789abcdefULL, 0).v[0]);
  EXPECT_EQ(s.fill_stream(1).block, 1u);
}

TEST(Philox, FillsDoNotDependOnTheThreadCount) {
  const int threads = get_num_threads();
  std::vector<std::vector<float>> runs;
  for (int t : {1, 2}) {
    set_num_threads(t);
    manual_seed(11);
    std::vector<float> v = randn<float>({1000}).to_vector();
    const std::vector<float> u = rand<float>({333}).to_vector();
    v.insert(v.end(), u.begin(), u.end());
    runs.push_back(v);
  }
  set_num_threads(threads);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(Generator, StateRoundTripsTheStreamIncludingTheSpareNormal) {
  Generator g(123);
  g.normal();  // leaves a spare normal value
  const std::string state = g.state();
  std::vector<double> first;
  for (int i = 0; i < 5; ++i) first.push_back(g.normal());
  first.push_back(g.uniform());
  Generator h(9);
  h.set_state(state);
  EXPECT_EQ(h.state(), state);
  std::vector<double> again;
  for (int i = 0; i < 5; ++i) again.push_back(h.normal());
  again.push_back(h.uniform());
  EXPECT_EQ(first, again);

  // The default generator: what checkpoints save.
  manual_seed(5);
  randn<float>({3});
  const std::string saved = get_rng_state();
  std::vector<float> a = randn<float>({7}).to_vector();
  manual_seed(6);
  set_rng_state(saved);
  EXPECT_EQ(randn<float>({7}).to_vector(), a);
}

TEST(Generator, SetStateRejectsWhatStateDoesNotWriteAndChangesNothing) {
  Generator g(1);
  const std::string before = g.state();
  SINEW_EXPECT_ERROR(g.set_state(""), "Generator::set_state", "not a generator state");
  SINEW_EXPECT_ERROR(g.set_state("mt19937_64 1 2 3"), "Generator::set_state");
  SINEW_EXPECT_ERROR(g.set_state(before + " 7"), "Generator::set_state");
  std::string bad_spare = before.substr(0, before.rfind(' ')) + " nonsense";
  SINEW_EXPECT_ERROR(g.set_state(bad_spare), "Generator::set_state", "nonsense");
  EXPECT_EQ(g.state(), before);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
