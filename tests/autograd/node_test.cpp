// Tests for graph nodes and autograd::record: when history is recorded, edges, saved tensors,
// BackwardContext, and freeing what backward no longer needs.
#include <memory>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {

using testing::values_are;

// y = 2 x through record directly, with a closure that counts its calls.
Tensor<double> twice(const Tensor<double>& x, int* calls) {
  Tensor<double> y;
  {
    NoGradGuard no_grad;
    y = x * 2.0;
  }
  return autograd::record(y, "twice", {x}, [calls](const Tensor<double>& g) {
    ++*calls;
    return g * 2.0;
  });
}

TEST(Record, AttachesANodeOnlyWhenAnInputRequiresGrad) {
  int calls = 0;
  Tensor<double> c = ones<double>({2});
  EXPECT_EQ(twice(c, &calls).grad_fn(), nullptr);
  Tensor<double> x = ones<double>({2}).requires_grad_();
  {
    NoGradGuard no_grad;
    EXPECT_EQ(twice(x, &calls).grad_fn(), nullptr);
  }
  Tensor<double> y = twice(x, &calls);
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "twice");
  y.sum().backward();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(values_are(x.grad(), {2.0, 2.0}));
}

TEST(Record, EdgesPointAtProducersAndLeaves) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> c = ones<double>({2});
  Tensor<double> h = x * 3.0;
  Tensor<double> y = h * c;
  const auto& edges = y.grad_fn()->next_edges();
  ASSERT_EQ(edges.size(), 2u);
  EXPECT_EQ(edges[0].node, h.grad_fn());
  EXPECT_FALSE(edges[1].valid());
  EXPECT_TRUE(y.grad_fn()->needs_input_grad(0));
  EXPECT_FALSE(y.grad_fn()->needs_input_grad(1));
  const auto& into_h = h.grad_fn()->next_edges();
  ASSERT_EQ(into_h.size(), 1u);
  EXPECT_EQ(into_h[0].leaf, x.impl_ptr());
  EXPECT_GT(y.grad_fn()->sequence_nr(), h.grad_fn()->sequence_nr());
}

TEST(Record, BackwardFreesSavedTensorsUnlessRetained) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  std::weak_ptr<detail::TensorImpl> saved;
  Tensor<double> y;
  {
    Tensor<double> a = x * 1.0;
    saved = a.impl_ptr();
    y = sin(a).sum();  // sin keeps a for its backward
  }
  EXPECT_FALSE(saved.expired());
  y.backward(Tensor<double>(), /*retain_graph=*/true);
  EXPECT_FALSE(saved.expired());
  y.backward();
  EXPECT_TRUE(saved.expired());
  EXPECT_TRUE(y.grad_fn()->next_edges()[0].node->released());
}

TEST(Record, OutputWithoutSaveOutputIsAnError) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> y = empty<double>({2});
  autograd::record(y, "needs_output", {x},
                   [](const Tensor<double>& g, const autograd::BackwardContext<double>& ctx) {
                     return g * ctx.output();
                   });
  SINEW_EXPECT_ERROR(y.sum().backward(), "needs_output", "record() was not told to save it");
}

TEST(Record, GradientOfWrongShapeNamesTheNode) {
  Tensor<double> x = ones<double>({2, 3}).requires_grad_();
  Tensor<double> y = empty<double>({2, 3});
  autograd::record(y, "bad_op", {x}, [](const Tensor<double>& g) { return g.sum(); });
  SINEW_EXPECT_ERROR(y.sum().backward(), "bad_op", "gradient of shape []", "[2, 3]");
}

TEST(Record, WrongNumberOfGradientsNamesTheNode) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> y = empty<double>({2});
  autograd::record(y, "two_grads", {x}, [](const Tensor<double>& g) {
    return std::vector<Tensor<double>>{g, g};
  });
  SINEW_EXPECT_ERROR(y.sum().backward(), "two_grads", "returned 2 gradients for 1 inputs");
}

}  // namespace
}  // namespace sinew
