// Tests for the backward engine and the autograd members of Tensor: backward, accumulation,
// retain_graph, retain_grad, hooks, detach, leaf rules, the version check, graph shapes, threads.
#include <cmath>
#include <functional>
#include <latch>
#include <optional>
#include <thread>
#include <vector>

#if defined(__unix__)
#include <pthread.h>
#endif

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using testing::all_close;
using testing::rand_input;
using testing::values_are;

TEST(Backward, ScalarRootFillsLeafGrad) {
  Tensor<double> x = from_vector<double>({1.0, -2.0, 3.0}).requires_grad_();
  (x * x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {2.0, -4.0, 6.0}));
}

TEST(Backward, ExplicitGradientOnNonScalar) {
  Tensor<double> x = from_vector<double>({1.0, 2.0, 3.0}).requires_grad_();
  Tensor<double> y = x * x;
  y.backward(from_vector<double>({1.0, 0.5, -1.0}));
  EXPECT_TRUE(values_are(x.grad(), {2.0, 2.0, -6.0}));  // 2 x g
}

TEST(Backward, NonScalarWithoutGradientNamesTheShape) {
  Tensor<double> x = rand_input({2, 3});
  SINEW_EXPECT_ERROR((x * 2.0).backward(), "backward", "only for scalar outputs", "[2, 3]");
}

TEST(Backward, GradientOfWrongShapeIsAnError) {
  Tensor<double> x = rand_input({2, 3});
  SINEW_EXPECT_ERROR((x * 2.0).backward(ones<double>({3, 2})), "backward", "[3, 2]", "[2, 3]");
}

TEST(Backward, TensorNotRequiringGradIsAnError) {
  Tensor<double> x = ones<double>({2});
  SINEW_EXPECT_ERROR((x * 2.0).sum().backward(), "backward", "does not require grad");
  SINEW_EXPECT_ERROR(ones<int64_t>({1}).backward(), "backward", "only float and double");
}

TEST(Backward, LeafRootGetsItsGradient) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  x.backward(from_vector<double>({3.0, 4.0}));
  EXPECT_TRUE(values_are(x.grad(), {3.0, 4.0}));
}

TEST(Backward, AccumulatesOverTwoCalls) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  (x * 3.0).sum().backward();
  (x * x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {3.0 + 2.0, 3.0 + 4.0}));
}

TEST(Backward, ZeroingGrads) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  (x * 3.0).sum().backward();
  x.set_grad(Tensor<double>());
  EXPECT_FALSE(x.grad().defined());
  (x * 3.0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {3.0, 3.0}));
  x.grad().zero_();
  EXPECT_TRUE(values_are(x.grad(), {0.0, 0.0}));
  (x * 5.0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {5.0, 5.0}));
  SINEW_EXPECT_ERROR(x.set_grad(ones<double>({3})), "set_grad", "[3]", "[2]");
}

TEST(Backward, NeverWritesIntoTheCallersGradient) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> g = from_vector<double>({1.0, 1.0});
  x.backward(g);
  x.backward(g);
  EXPECT_TRUE(values_are(g, {1.0, 1.0}));
  EXPECT_TRUE(values_are(x.grad(), {2.0, 2.0}));
  Tensor<double> y = x * 1.0;
  Tensor<double> a = from_vector<double>({1.0, 1.0});
  y.backward(a);
  EXPECT_TRUE(values_are(a, {1.0, 1.0}));
}

// add hands the same gradient tensor to both inputs: each leaf must get its own .grad buffer,
// or the in-place accumulation of the second backward counts twice.
TEST(Backward, InputsSharingAGradientGetSeparateBuffers) {
  Tensor<double> a = ones<double>({3}).requires_grad_();
  Tensor<double> b = ones<double>({3}).requires_grad_();
  Tensor<double> z = (a + b) * 1.0;
  z.backward(ones<double>({3}), /*retain_graph=*/true);
  EXPECT_FALSE(a.grad().shares_storage(b.grad()));
  z.backward(ones<double>({3}));
  EXPECT_TRUE(values_are(a.grad(), {2.0, 2.0, 2.0}));
  EXPECT_TRUE(values_are(b.grad(), {2.0, 2.0, 2.0}));
}

TEST(Backward, SameTensorUsedTwiceAccumulates) {
  Tensor<double> x = from_vector<double>({3.0, -1.0}).requires_grad_();
  (x * x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {6.0, -2.0}));
  Tensor<double> w = from_vector<double>({1.0, 2.0}).requires_grad_();
  (w + w + w).sum().backward();
  EXPECT_TRUE(values_are(w.grad(), {3.0, 3.0}));
}

// x -> a -> (b, c) -> d: both branches deliver into a before a's backward runs.
TEST(Backward, DiamondGraph) {
  Tensor<double> x = from_vector<double>({0.3, -0.7}).requires_grad_();
  Tensor<double> a = x * 2.0;
  Tensor<double> b = a * 3.0;
  Tensor<double> c = sin(a);
  (b + c).sum().backward();
  EXPECT_TRUE(
      values_are(x.grad(), {2.0 * (3.0 + std::cos(0.6)), 2.0 * (3.0 + std::cos(-1.4))}, 1e-12));
}

TEST(Backward, SeveralRootsAtOnce) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y1 = (x * 2.0).sum();
  Tensor<double> y2 = (x * x).sum();
  autograd::backward<double>({y1, y2});
  EXPECT_TRUE(values_are(x.grad(), {2.0 + 2.0, 2.0 + 4.0}));
}

TEST(Backward, SecondBackwardNeedsRetainGraph) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = exp(x).sum();
  y.backward();
  SINEW_EXPECT_ERROR(y.backward(), "backward", "second time", "retain_graph");
}

TEST(Backward, RetainGraphAllowsASecondBackwardThatAccumulates) {
  Tensor<double> x = from_vector<double>({0.0, 1.0}).requires_grad_();
  Tensor<double> y = exp(x).sum();
  y.backward(Tensor<double>(), /*retain_graph=*/true);
  y.backward(Tensor<double>(), /*retain_graph=*/true);
  EXPECT_TRUE(values_are(x.grad(), {2.0, 2.0 * std::exp(1.0)}, 1e-12));
  y.backward();
  EXPECT_TRUE(values_are(x.grad(), {3.0, 3.0 * std::exp(1.0)}, 1e-12));
}

TEST(Backward, RetainGradOnNonLeaf) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x * 3.0;
  Tensor<double> z = y * y;
  y.retain_grad();
  EXPECT_TRUE(y.retains_grad());
  z.sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {6.0, 12.0}));   // 2 y
  EXPECT_TRUE(values_are(x.grad(), {18.0, 36.0}));  // 2 y * 3
  EXPECT_FALSE(z.grad().defined());                 // not retained
  SINEW_EXPECT_ERROR(ones<double>({1}).retain_grad(), "retain_grad", "does not require grad");
}

TEST(Backward, RetainedGradAccumulates) {
  Tensor<double> x = from_vector<double>({1.0}).requires_grad_();
  Tensor<double> y = x * 2.0;
  y.retain_grad();
  Tensor<double> z = (y * 5.0).sum();
  z.backward(Tensor<double>(), /*retain_graph=*/true);
  z.backward();
  EXPECT_TRUE(values_are(y.grad(), {10.0}));
}

TEST(LeafRules, WhoIsALeaf) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> c = ones<double>({2});
  EXPECT_TRUE(x.is_leaf());
  EXPECT_TRUE(x.requires_grad());
  EXPECT_EQ(x.grad_fn(), nullptr);
  Tensor<double> y = x * c;
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward0");
  EXPECT_EQ(exp(y).grad_fn()->name(), "ExpBackward0");
  EXPECT_EQ((y + c).grad_fn()->name(), "AddBackward0");
  EXPECT_EQ(y.sum().grad_fn()->name(), "SumBackward0");
  Tensor<double> k = c * 2.0;  // nothing requires grad: a leaf without history
  EXPECT_TRUE(k.is_leaf());
  EXPECT_FALSE(k.requires_grad());
  NoGradGuard no_grad;
  Tensor<double> n = x * 2.0;
  EXPECT_TRUE(n.is_leaf());
  EXPECT_FALSE(n.requires_grad());
}

TEST(LeafRules, NonLeafGetsNoGradUnlessRetained) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> y = x * 2.0;
  y.sum().backward();
  EXPECT_FALSE(y.grad().defined());
  EXPECT_TRUE(x.grad().defined());
}

TEST(LeafRules, RequiresGradOnlyOnFloatingLeaves) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> y = x * 2.0;
  SINEW_EXPECT_ERROR(y.requires_grad_(), "requires_grad_", "leaf", "detach()");
  SINEW_EXPECT_ERROR(y.requires_grad_(false), "requires_grad_", "leaf");
  Tensor<int64_t> i = ones<int64_t>({2});
  SINEW_EXPECT_ERROR(i.requires_grad_(), "requires_grad_", "only float and double", "int64");
  x.requires_grad_(false);
  EXPECT_FALSE(x.requires_grad());
}

TEST(Detach, SharesMemoryWithoutHistory) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x * 3.0;
  Tensor<double> d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_TRUE(d.shares_storage(y));
  (d * x).sum().backward();  // d is a constant here
  EXPECT_TRUE(values_are(x.grad(), {3.0, 6.0}));
}

TEST(Detach, InPlaceDetachCutsHistory) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x * 3.0;
  y.detach_();
  EXPECT_TRUE(y.is_leaf());
  EXPECT_FALSE(y.requires_grad());
}

TEST(Hooks, LeafHookModifiesTheGradient) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  x.register_hook([](const Tensor<double>& g) { return g * 2.0; });
  (x * 3.0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {6.0, 6.0}));
}

TEST(Hooks, LeafHookRunsOnceOnTheTotalGradient) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  std::vector<std::vector<double>> seen;
  x.register_hook([&](const Tensor<double>& g) {
    seen.push_back(g.to_vector());
    return Tensor<double>();  // undefined: keep the gradient
  });
  (x * x + x).sum().backward();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<double>{3.0, 5.0}));
  EXPECT_TRUE(values_are(x.grad(), {3.0, 5.0}));
}

TEST(Hooks, NonLeafHookChangesWhatFlowsUpstream) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x * x;
  y.register_hook([](const Tensor<double>& g) { return g * 2.0; });
  y.retain_grad();
  (y * 1.0).sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {2.0, 2.0}));  // retain_grad sees the hooked gradient
  EXPECT_TRUE(values_are(x.grad(), {4.0, 8.0}));  // 2 * 2x
}

TEST(Hooks, RegisterOnTensorNotRequiringGradIsAnError) {
  Tensor<double> c = ones<double>({2});
  SINEW_EXPECT_ERROR(c.register_hook([](const Tensor<double>& g) { return g; }), "register_hook",
                     "does not require grad");
}

TEST(VersionCounter, InPlaceChangeOfSavedTensorIsDetected) {
  Tensor<double> x = from_vector<double>({0.5, 1.0}).requires_grad_();
  Tensor<double> a = x * 1.0;
  Tensor<double> b = sin(a);  // saves a
  uint64_t before = a.version();
  a.add_(1.0);
  EXPECT_EQ(a.version(), before + 1);
  SINEW_EXPECT_ERROR(b.sum().backward(), "backward", "sin", "modified by an in-place operation");
}

TEST(VersionCounter, ChangeThroughADetachedAliasIsDetected) {
  Tensor<double> x = from_vector<double>({0.5, 1.0}).requires_grad_();
  Tensor<double> y = exp(x);  // saves its output
  Tensor<double> z = y * 1.0;
  y.detach().mul_(2.0);
  SINEW_EXPECT_ERROR(z.sum().backward(), "exp", "modified by an in-place operation");
}

TEST(VersionCounter, InPlaceOnUnsavedTensorIsFine) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = x * 2.0;  // scalar mul saves nothing
  y.add_(1.0);
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {2.0, 2.0}));
}

// Runs fn on a thread with a 1 MiB stack, so that recursion proportional to the graph's depth
// fails here too, not only in sanitizer builds (whose frames are larger).
void run_on_small_stack(const std::function<void()>& fn) {
#if defined(__unix__)
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t thread;
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, trampoline, const_cast<std::function<void()>*>(&fn)), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
#else
  fn();
#endif
}

// About 10^4 recorded ops: backward and the destruction of the graph both run without recursion.
TEST(Backward, DeepChainDoesNotOverflowTheStack) {
  double grad = 0;
  run_on_small_stack([&] {
    Tensor<double> x = from_vector<double>({2.0}).requires_grad_();
    Tensor<double> y = x;
    for (int i = 0; i < 2000; ++i)
      y = sqrt(y * y) * 1.0001;  // mul saves y, which holds its grad_fn
    y.backward();
    grad = x.grad().item();
    y = Tensor<double>();  // frees the chain after backward
    Tensor<double> z = x;
    for (int i = 0; i < 2500; ++i) z = sin(z) + 1.0;  // never backpropagated: closures still alive
    z = Tensor<double>();
  });
  EXPECT_NEAR(grad, std::pow(1.0001, 2000), 1e-9);
}

TEST(Backward, IndependentBackwardInTwoThreads) {
  std::latch both_recording(2);
  std::vector<double> grads(2, 0.0);
  std::vector<char> recorded(2, 0);  // not vector<bool>: the threads write neighbouring elements
  auto work = [&](int id) {
    // Thread 1 turns grad mode off; that must not leak into thread 0.
    std::optional<NoGradGuard> off;
    if (id == 1) off.emplace();
    both_recording.arrive_and_wait();
    Tensor<double> x = from_vector<double>({double(id + 1)}).requires_grad_();
    Tensor<double> y = x * 1.0;
    recorded[static_cast<size_t>(id)] = y.requires_grad();
    off.reset();
    for (int i = 0; i < 200; ++i) y = y * x * (1.0 / (id + 1));
    y.sum().backward();
    grads[static_cast<size_t>(id)] = x.grad().item();
  };
  std::thread t0(work, 0), t1(work, 1);
  t0.join();
  t1.join();
  EXPECT_TRUE(recorded[0]);
  EXPECT_FALSE(recorded[1]);
  // Thread 0: y = x^201 at x = 1, so 201. Thread 1: the first factor was made without history,
  // y = 2 x^200 / 2^200 at x = 2, so 2 * 200 * 2^199 / 2^200 = 200.
  EXPECT_NEAR(grads[0], 201.0, 1e-9);
  EXPECT_NEAR(grads[1], 200.0, 1e-9);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
