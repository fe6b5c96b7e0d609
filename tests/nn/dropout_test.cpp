// Tests for nn/dropout.hpp: the kept fraction and the 1/(1-p) scale in training, identity in eval,
// the gradient equal to the mask times the scale, seeding, the p = 0 and p = 1 ends and p errors.
#include <cmath>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::values_are;

TEST(Dropout, TrainingZeroesAboutPAndScalesTheRest) {
  manual_seed(11);
  nn::Dropout drop(0.3);
  const int64_t n = 20000;
  auto v = drop(ones<float>({n})).to_vector();
  int64_t zeros_count = 0;
  double sum = 0;
  for (float f : v) {
    if (f == 0) {
      ++zeros_count;
    } else {
      EXPECT_FLOAT_EQ(f, 1.0f / 0.7f);
    }
    sum += f;
  }
  // Binomial(20000, 0.3): standard deviation of the fraction ~0.0032.
  EXPECT_NEAR(double(zeros_count) / n, 0.3, 0.02);
  EXPECT_NEAR(sum / n, 1.0, 0.03);  // expectation preserved
}

TEST(Dropout, EvalIsTheIdentity) {
  nn::Dropout drop(0.5);
  drop.eval();
  Tensor<float> x = rand<float>({4, 5});
  EXPECT_TRUE(all_close(drop(x), x, 0, 0));
  drop.train();
  EXPECT_FALSE(all_close(drop(x), x, 0, 0));
}

TEST(Dropout, GradientIsTheMaskTimesTheScale) {
  manual_seed(2);
  Tensor<float> x = ones<float>({1000}).requires_grad_();
  Tensor<float> y = nn::Dropout(0.25)(x);
  y.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), y.detach(), 0, 0));  // x = 1, so y = mask / (1 - p)
}

TEST(Dropout, SameSeedSameMask) {
  nn::Dropout drop(0.5);
  manual_seed(9);
  auto a = drop(ones<float>({64})).to_vector();
  manual_seed(9);
  auto b = drop(ones<float>({64})).to_vector();
  EXPECT_EQ(a, b);
}

TEST(Dropout, ZeroAndOneAreTheEnds) {
  Tensor<float> x = rand<float>({10}) + 1.0;
  EXPECT_TRUE(all_close(nn::Dropout(0.0)(x), x, 0, 0));
  EXPECT_TRUE(values_are(nn::Dropout(1.0)(x), std::vector<double>(10, 0.0)));
  Tensor<double> xd = from_vector<double>({1, 2}, {2});
  EXPECT_TRUE(values_are(nn::functional::dropout(xd, 0.5, /*training=*/false), {1, 2}));
}

TEST(Dropout, RejectsPOutsideZeroOne) {
  SINEW_EXPECT_ERROR(nn::Dropout(1.5), "Dropout", "[0, 1]", "1.5");
  SINEW_EXPECT_ERROR(nn::Dropout(-0.1), "Dropout", "-0.1");
  SINEW_EXPECT_ERROR(nn::Dropout(std::nan("")), "Dropout");
  SINEW_EXPECT_ERROR(nn::functional::dropout(ones<float>({2}), 2.0), "dropout", "2");
  EXPECT_EQ(nn::Dropout(0.2).extra_repr(), "p=0.2");
}
