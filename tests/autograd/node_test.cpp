// Tests for graph nodes and autograd::record: when history is recorded, edges, saved tensors,
// BackwardContext, and freeing what backward no longer needs.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using testing::rand_input;
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
  EXPECT_EQ(y.grad_fn()->name(), "TwiceBackward0");
  EXPECT_EQ(y.grad_fn()->op_name(), "twice");
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
  SINEW_EXPECT_ERROR(y.sum().backward(), "node bad_op (BadOpBackward0)", "gradient of shape []",
                     "[2, 3]");
}

TEST(Record, WrongNumberOfGradientsNamesTheNode) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> y = empty<double>({2});
  autograd::record(y, "two_grads", {x}, [](const Tensor<double>& g) {
    return std::vector<Tensor<double>>{g, g};
  });
  SINEW_EXPECT_ERROR(y.sum().backward(), "node two_grads (TwoGradsBackward0)",
                     "returned 2 gradients for 1 inputs");
}

// Each name below is what PyTorch 1.13 prints for the same expression (tests/fixtures/
// check_node_names.py prints them: /usr/bin/python3 tests/fixtures/check_node_names.py).
TEST(NodeName, CommonOpsHavePyTorchsNames) {
  using namespace nn::functional;
  Tensor<double> x = rand_input({3, 4}, 1), y = rand_input({3, 4}, 2), v = rand_input({4}, 3);
  Tensor<double> img = rand_input({1, 2, 6, 6}, 4), w = rand_input({3, 2, 3, 3}, 5);
  Tensor<double> pos = abs(x) + 0.5;
  Tensor<int64_t> idx = from_vector<int64_t>({0, 2});
  std::vector<std::pair<Tensor<double>, std::string>> cases = {
      {x + y, "AddBackward0"},
      {x + 1.0, "AddBackward0"},
      {x - y, "SubBackward0"},
      {x - 1.0, "SubBackward0"},
      {1.0 - x, "RsubBackward1"},
      {x * y, "MulBackward0"},
      {x * 2.0, "MulBackward0"},
      {x / y, "DivBackward0"},
      {x / 2.0, "DivBackward0"},
      {-x, "NegBackward0"},
      {pow(x, 2.0), "PowBackward0"},
      {pow(pos, y), "PowBackward1"},
      {maximum(x, y), "MaximumBackward0"},
      {exp(x), "ExpBackward0"},
      {log(pos), "LogBackward0"},
      {log1p(pos), "Log1PBackward0"},
      {sqrt(pos), "SqrtBackward0"},
      {abs(x), "AbsBackward0"},
      {tanh(x), "TanhBackward0"},
      {sigmoid(x), "SigmoidBackward0"},
      {relu(x), "ReluBackward0"},
      {gelu(x), "GeluBackward0"},
      {silu(x), "SiluBackward0"},
      {leaky_relu(x), "LeakyReluBackward0"},
      {elu(x), "EluBackward0"},
      {softplus(x), "SoftplusBackward0"},
      {clamp(x, -0.5, 0.5), "ClampBackward1"},
      {where(x > 0.0, x, y), "WhereBackward0"},
      {x.sum(), "SumBackward0"},
      {x.sum({1}), "SumBackward1"},
      {x.sum({0}, true), "SumBackward1"},
      {x.mean(), "MeanBackward0"},
      {x.mean({1}), "MeanBackward1"},
      {prod(x), "ProdBackward0"},
      {prod(x, {1}), "ProdBackward1"},
      {max(x), "MaxBackward1"},
      {max(x, 1).values, "MaxBackward0"},
      {min(x), "MinBackward1"},
      {amax(x, {1}), "AmaxBackward0"},
      {var(x), "VarBackward0"},
      {norm(x), "NormBackward1"},
      {logsumexp(x, {1}), "LogsumexpBackward0"},
      {softmax(x, 1), "SoftmaxBackward0"},
      {log_softmax(x, 1), "LogSoftmaxBackward0"},
      {mm(x, y.t()), "MmBackward0"},
      {bmm(x.unsqueeze(0), y.t().unsqueeze(0)), "BmmBackward0"},
      {matmul(x, y.t()), "MmBackward0"},
      {dot(v, v), "DotBackward0"},
      {addmm(v, y.t(), x), "AddmmBackward0"},
      {linear(x, y, v.slice(0, 0, 3)), "AddmmBackward0"},
      {conv2d(img, w), "ConvolutionBackward0"},
      {batch_norm(img, zeros<double>({2}), ones<double>({2}), Tensor<double>(), Tensor<double>(),
                  true),
       "NativeBatchNormBackward0"},
      {x.view({12}), "ViewBackward0"},
      {x.permute({1, 0}), "PermuteBackward0"},
      {x.unsqueeze(0), "UnsqueezeBackward0"},
      {x.unsqueeze(0).squeeze(), "SqueezeBackward0"},
      {v.expand({3, 4}), "ExpandBackward0"},
      {x.slice(0, 1, std::nullopt), "SliceBackward0"},
      {cat<double>({x, y}), "CatBackward0"},
      {pad(x, {1, 1}), "ConstantPadNdBackward0"},
      {flip(x, {0}), "FlipBackward0"},
      {x.clone(), "CloneBackward0"},
      {x.to<float>().to<double>(), "ToCopyBackward0"},
      {index_select(x, 0, idx), "IndexSelectBackward0"},
      {gather(x, 1, zeros<int64_t>({3, 1})), "GatherBackward0"},
      {masked_fill(x, x > 0.0, 0.0), "MaskedFillBackward0"},
      {embedding(idx, x), "EmbeddingBackward0"},
  };
  for (const auto& [t, expected] : cases) {
    ASSERT_NE(t.grad_fn(), nullptr) << expected;
    EXPECT_EQ(t.grad_fn()->name(), expected) << "recorded as " << t.grad_fn()->op_name();
  }
}

TEST(NodeName, RuleAndTable) {
  using autograd::detail::pytorch_node_name;
  // CamelCase(op) + "Backward0": a capital after '_' and after a digit, an in-place '_' dropped.
  EXPECT_EQ(pytorch_node_name("scatter_add", 2, 3), "ScatterAddBackward0");
  EXPECT_EQ(pytorch_node_name("adaptive_avg_pool2d", 4, 1), "AdaptiveAvgPool2DBackward0");
  EXPECT_EQ(pytorch_node_name("avg_pool2d_backward", 4, 1), "AvgPool2DBackwardBackward0");
  EXPECT_EQ(pytorch_node_name("slice_backward", 2, 1), "SliceBackwardBackward0");
  EXPECT_EQ(pytorch_node_name("relu_", 1, 1), "ReluBackward0");
  // Named after another ATen function, or by overload.
  EXPECT_EQ(pytorch_node_name("max_pool2d", 4, 1), "MaxPool2DWithIndicesBackward0");
  EXPECT_EQ(pytorch_node_name("max_pool2d_backward", 4, 1),
            "MaxPool2DWithIndicesBackwardBackward0");
  EXPECT_EQ(pytorch_node_name("layer_norm", 2, 3), "NativeLayerNormBackward0");
  EXPECT_EQ(pytorch_node_name("copy_", 1, 2), "CopyBackwards");
  EXPECT_EQ(pytorch_node_name("mean", 0, 1), "MeanBackward0");
  EXPECT_EQ(pytorch_node_name("mean", 1, 1), "MeanBackward1");
  EXPECT_EQ(pytorch_node_name("matmul", 3, 2), "BmmBackward0");
  // Not snake_case: kept (autograd::Function names, PyTorch-style names recorded as they are).
  EXPECT_EQ(pytorch_node_name("MyFunction", 1, 1), "MyFunction");
  EXPECT_EQ(pytorch_node_name("BackwardHookFunction", 1, 1), "BackwardHookFunctionBackward");
}

TEST(NodeName, NameAsGivenKeepsTheRecordedName) {
  Tensor<double> x = ones<double>({2}).requires_grad_();
  Tensor<double> y = empty<double>({2});
  autograd::record(y, "my_op", {x}, [](const Tensor<double>& g) { return g; },
                   {.name_as_given = true});
  EXPECT_EQ(y.grad_fn()->name(), "my_op");
  EXPECT_EQ(y.grad_fn()->describe(), "my_op");
}

TEST(NodeName, ErrorsNameTheOpAndItsPyTorchName) {
  Tensor<double> x = rand_input({3}, 6);
  Tensor<double> a = x * 1.0;
  Tensor<double> z = a * a;
  a.add_(1.0);
  SINEW_EXPECT_ERROR(z.sum().backward(), "backward", "needed by mul (MulBackward0)",
                     "modified by an in-place operation");
  Tensor<double> s = (x * 2.0).sum();
  s.backward();
  SINEW_EXPECT_ERROR(s.backward(), "a second time", "at node sum (SumBackward0)");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
