// Tests for grad mode: NoGradGuard, EnableGradGuard (nested), set_grad_enabled, thread-locality.
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

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
