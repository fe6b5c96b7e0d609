// Random generation: distribution moments, seeding, and independence from the thread count.
#include <cmath>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {

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

}  // namespace
}  // namespace sinew
