// Tests for nn/dropout.hpp: the kept fraction and the 1/(1-p) scale in training, identity in eval,
// the gradient equal to the mask times the scale, seeding, the p = 0 and p = 1 ends and p errors;
// Dropout2d dropping whole channels of batched and unbatched inputs.
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

TEST(Dropout2d, ZeroesWholeChannelsAndScalesTheRest) {
  manual_seed(4);
  nn::Dropout2d drop(0.4);
  const int64_t n = 50, c = 40;
  Tensor<float> y = drop(ones<float>({n, c, 3, 2}));
  EXPECT_EQ(y.shape(), (Shape{n, c, 3, 2}));
  auto v = y.to_vector();
  int64_t dropped = 0;
  for (int64_t k = 0; k < n * c; ++k) {
    // Every element of one feature map has the same fate.
    float first = v[size_t(k * 6)];
    for (int64_t e = 0; e < 6; ++e) EXPECT_EQ(v[size_t(k * 6 + e)], first);
    if (first == 0) {
      ++dropped;
    } else {
      EXPECT_FLOAT_EQ(first, 1.0f / 0.6f);
    }
  }
  // Binomial(2000, 0.4): sd of the fraction ~0.011.
  EXPECT_NEAR(double(dropped) / double(n * c), 0.4, 0.05);
}

TEST(Dropout2d, UnbatchedInputGradientEvalAndEnds) {
  manual_seed(5);
  Tensor<float> x = ones<float>({30, 2, 2}).requires_grad_();
  Tensor<float> y = nn::functional::dropout2d(x, 0.5);
  auto v = y.to_vector();
  int64_t kept = 0;
  for (int64_t ch = 0; ch < 30; ++ch) {
    for (int64_t e = 1; e < 4; ++e) EXPECT_EQ(v[size_t(ch * 4 + e)], v[size_t(ch * 4)]);
    kept += v[size_t(ch * 4)] != 0;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 30);
  y.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), y.detach(), 0, 0));  // x = 1: the gradient is mask / (1 - p)

  nn::Dropout2d drop;
  drop.eval();
  Tensor<float> z = rand<float>({2, 3, 4, 4});
  EXPECT_TRUE(drop(z).is_same(z));
  drop.train();
  EXPECT_TRUE(values_are(nn::Dropout2d(1.0)(z), std::vector<double>(96, 0.0)));
  EXPECT_TRUE(all_close(nn::Dropout2d(0.0)(z), z, 0, 0));
  Generator g1(1), g2(1);
  Tensor<double> zd = rand<double>({2, 5, 2, 2});
  EXPECT_EQ(nn::functional::dropout2d(zd, 0.3, true, g1).to_vector(),
            nn::functional::dropout2d(zd, 0.3, true, g2).to_vector());
}

TEST(Dropout2d, RejectsBadShapesAndP) {
  SINEW_EXPECT_ERROR(nn::Dropout2d()(rand<float>({2, 3})), "dropout2d", "[2, 3]");
  SINEW_EXPECT_ERROR(nn::Dropout2d()(rand<float>({1, 2, 3, 4, 5})), "dropout2d");
  SINEW_EXPECT_ERROR(nn::Dropout2d(1.5), "Dropout2d", "1.5");
  SINEW_EXPECT_ERROR(nn::functional::dropout2d(rand<float>({1, 2, 2}), -0.5), "dropout2d", "-0.5");
  EXPECT_EQ(nn::Dropout2d(0.1).extra_repr(), "p=0.1");
  EXPECT_EQ(nn::clone(nn::Dropout2d(0.1))->p(), 0.1);
}
