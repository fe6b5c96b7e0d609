// Tests for grad mode: NoGradGuard, EnableGradGuard (nested), set_grad_enabled, thread-locality;
// anomaly detection (DetectAnomalyGuard): the node, input and forward op of a NaN or infinite
// gradient.
#include <cmath>
#include <thread>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

TEST(GradMode, NoGradGuardStopsRecordingAndRestores) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  EXPECT_TRUE(autograd::is_grad_enabled());
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(autograd::is_grad_enabled());
    Tensor<double> y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
  }
  EXPECT_TRUE(autograd::is_grad_enabled());
  EXPECT_TRUE((x * 2.0).requires_grad());
}

TEST(GradMode, NestedGuardsRestoreTheEnclosingMode) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  NoGradGuard outer;
  {
    EnableGradGuard enable;
    EXPECT_TRUE(autograd::is_grad_enabled());
    Tensor<double> y = x * 2.0;
    EXPECT_TRUE(y.requires_grad());
    {
      NoGradGuard inner;
      EXPECT_FALSE((x * 2.0).requires_grad());
      {
        EnableGradGuard again;
        EXPECT_TRUE((x * 2.0).requires_grad());
      }
      EXPECT_FALSE(autograd::is_grad_enabled());
    }
    EXPECT_TRUE(autograd::is_grad_enabled());
    y.sum().backward();  // recorded under EnableGradGuard: backward works inside NoGradGuard
    EXPECT_TRUE(testing::values_are(x.grad(), {2.0, 2.0}));
  }
  EXPECT_FALSE(autograd::is_grad_enabled());
}

TEST(GradMode, SetGradEnabled) {
  autograd::GradModeGuard restore(true);  // leaves the mode on for later tests even on failure
  autograd::set_grad_enabled(false);
  EXPECT_FALSE(autograd::is_grad_enabled());
  {
    autograd::GradModeGuard guard(true);
    EXPECT_TRUE(autograd::is_grad_enabled());
  }
  EXPECT_FALSE(autograd::is_grad_enabled());
  autograd::set_grad_enabled(true);
  EXPECT_TRUE(autograd::is_grad_enabled());
}

TEST(GradMode, IsThreadLocal) {
  NoGradGuard no_grad;
  bool other_thread = false;
  std::thread t([&] { other_thread = autograd::is_grad_enabled(); });
  t.join();
  EXPECT_TRUE(other_thread);
  EXPECT_FALSE(autograd::is_grad_enabled());
}

TEST(GradMode, InPlaceUpdateOfLeafNeedsNoGrad) {
  Tensor<double> w = ones<double>({2}).requires_grad_();
  SINEW_EXPECT_ERROR(w.add_(1.0), "add_", "leaf tensor that requires grad", "NoGradGuard");
  {
    NoGradGuard no_grad;
    w.add_(1.0);  // an optimizer step
  }
  EXPECT_TRUE(testing::values_are(w, {2.0, 2.0}));
  EXPECT_TRUE(w.is_leaf());
}

TEST(AnomalyMode, OffByDefaultAndBackwardLetsNonFiniteGradientsThrough) {
  EXPECT_FALSE(autograd::is_anomaly_enabled());
  Tensor<double> x = from_vector<double>({0.0, 4.0}).requires_grad_();
  sqrt(x).sum().backward();  // d sqrt(x)/dx = 1 / (2 sqrt(x)): infinite at 0
  EXPECT_TRUE(std::isinf(x.grad().to_vector()[0]));
  EXPECT_EQ(x.grad().to_vector()[1], 0.25);
}

TEST(AnomalyMode, NamesTheNodeTheInputAndTheForwardOp) {
  Tensor<double> x = from_vector<double>({0.0, 4.0}).requires_grad_();
  Tensor<double> w = from_vector<double>({1.0, 2.0, 3.0}).requires_grad_();
  {
    autograd::DetectAnomalyGuard anomaly;
    EXPECT_TRUE(autograd::is_anomaly_enabled());
    // Infinite: sqrt's gradient at 0, the node between an outer product and the sum.
    Tensor<double> y = (sqrt(x).unsqueeze(1) * w).sum();
    SINEW_EXPECT_ERROR(y.backward(), "backward", "anomaly detected", "SqrtBackward0", "infinite",
                       "for input 0 (shape [2])", "forward op sqrt of input [2]");
    // NaN: sqrt of a negative number; a two-input forward op names both shapes.
    Tensor<double> n = from_vector<double>({-1.0, 1.0}).requires_grad_();
    Tensor<double> z = (n.pow(0.5) * from_vector<double>({1.0, 1.0})).sum();
    SINEW_EXPECT_ERROR(z.backward(), "anomaly detected", "NaN", "input 0");
    Tensor<double> d = from_vector<double>({0.0, 1.0}).requires_grad_();
    Tensor<double> q = (from_vector<double>({1.0, 1.0}).requires_grad_() / d).sum();
    SINEW_EXPECT_ERROR(q.backward(), "DivBackward0", "infinite", "div of inputs [2], [2]");
    // A finite backward passes untouched.
    Tensor<double> ok = (x + 1.0).sqrt().sum();
    ok.backward();
    EXPECT_NEAR(x.grad().to_vector()[1], 0.5 / std::sqrt(5.0), 1e-15);
  }
  EXPECT_FALSE(autograd::is_anomaly_enabled());  // restored
  // A graph recorded before the guard: the node is named, the shapes were not noted.
  Tensor<double> late = sqrt(from_vector<double>({0.0}).requires_grad_()).sum();
  autograd::DetectAnomalyGuard anomaly;
  SINEW_EXPECT_ERROR(late.backward(), "SqrtBackward0", "input shapes unknown");
}

TEST(AnomalyMode, IsPerThread) {
  autograd::DetectAnomalyGuard anomaly;
  bool other = true;
  std::thread([&] { other = autograd::is_anomaly_enabled(); }).join();
  EXPECT_FALSE(other);
  EXPECT_TRUE(autograd::is_anomaly_enabled());
  autograd::set_detect_anomaly(false);
  EXPECT_FALSE(autograd::is_anomaly_enabled());
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
