// Tests for nn/summary.hpp: parameter totals (trainable and frozen), each layer's output shape and
// parameter count, the printed table, the training modes and hooks restored, and errors.
#include <sstream>
#include <string>

#include "test_util.hpp"

using namespace sinew;

namespace {
namespace SINEW_UNITY_ID {
// A user network: a frozen feature layer and a head inside a Sequential.
struct Net : nn::Cloneable<Net> {
  std::shared_ptr<nn::Linear> features;
  std::shared_ptr<nn::Sequential> head;
  Net() : Cloneable("Net") { reset(); }
  void reset() override {
    features = register_module("features", nn::Linear(8, 6));
    head = register_module("head", nn::Sequential(nn::ReLU(), nn::Dropout(0.5), nn::Linear(6, 3)));
  }
  Tensor<float> forward(const Tensor<float>& x) override { return (*head)((*features)(x)); }
};

TEST(Summary, CountsTrainableAndFrozenParameters) {
  Net net;
  net.features->requires_grad_(false);
  nn::ModelSummary s = nn::summary(net, {4, 8});
  EXPECT_EQ(s.total_params, 8 * 6 + 6 + 6 * 3 + 3);
  EXPECT_EQ(s.trainable_params, 6 * 3 + 3);
  EXPECT_EQ(s.non_trainable_params, 8 * 6 + 6);
  EXPECT_EQ(s.input_shape, (Shape{4, 8}));
}

TEST(Summary, RecordsEachLayersOutputShapeAndParameters) {
  Net net;
  nn::ModelSummary s = nn::summary(net, {4, 8});
  ASSERT_EQ(s.rows.size(), 6u);  // Net, features, head, head.0, head.1, head.2
  auto row = [&](const std::string& name) -> const nn::SummaryRow& {
    for (const auto& r : s.rows) {
      if (r.name == name) return r;
    }
    ADD_FAILURE() << "no row " << name;
    return s.rows[0];
  };
  EXPECT_EQ(row("").type, "Net");
  EXPECT_EQ(row("").depth, 0);
  EXPECT_EQ(*row("").output_shape, (Shape{4, 3}));
  EXPECT_EQ(*row("features").output_shape, (Shape{4, 6}));
  EXPECT_EQ(row("features").params, 54);
  EXPECT_TRUE(row("features").leaf);
  EXPECT_EQ(row("head").depth, 1);
  EXPECT_EQ(row("head").index, 2);
  EXPECT_FALSE(row("head").leaf);
  EXPECT_EQ(row("head").params, 0);
  EXPECT_EQ(row("head.1").type, "Dropout");
  EXPECT_EQ(row("head.1").depth, 2);
  EXPECT_EQ(row("head.1").index, 2);
  EXPECT_EQ(*row("head.1").output_shape, (Shape{4, 6}));
  EXPECT_EQ(*row("head.2").output_shape, (Shape{4, 3}));
  EXPECT_EQ(row("head.2").params, 21);
}

TEST(Summary, PrintsATable) {
  Net net;
  net.features->requires_grad_(false);
  std::ostringstream os;
  os << nn::summary(net, {2, 8});
  std::string t = os.str();
  for (const char* piece :
       {"Layer (type (name): depth-idx)", "Output Shape", "Param #", "Net",
        "├─Linear (features): 1-1", "└─Sequential (head): 1-2", "│    ├─ReLU (head.0): 2-1",
        "│    └─Linear (head.2): 2-3", "[2, 6]", "[2, 3]", "Total params: 75",
        "Trainable params: 21", "Non-trainable params: 54", "Input shape: [2, 8]"}) {
    EXPECT_NE(t.find(piece), std::string::npos) << "missing \"" << piece << "\" in\n" << t;
  }
  // Thousands separators, as torchinfo.
  nn::Linear big(784, 128);
  EXPECT_NE(nn::summary(big, {1, 784}).str().find("100,480"), std::string::npos);
}

TEST(Summary, RestoresModesAndRemovesItsHooks) {
  Net net;
  net.head->at<nn::Dropout>(1)->eval();  // a mixed state to restore exactly
  int calls = 0;
  net.features->register_forward_hook(
      [&](nn::Module&, const Tensor<float>&, const Tensor<float>&) { ++calls; });
  manual_seed(0);
  nn::summary(net, {2, 8});
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(net.is_training());
  EXPECT_TRUE(net.features->is_training());
  EXPECT_FALSE((*net.head)[1]->is_training());
  EXPECT_TRUE((*net.head)[2]->is_training());
  // The summary's own hooks are gone: a later forward records nothing new, only ours runs.
  net(zeros<float>({2, 8}));
  EXPECT_EQ(calls, 2);
  // The forward ran without recording a graph.
  EXPECT_FALSE(net.features->weight.grad().defined());
}

TEST(Summary, AWrongInputShapeRaisesAndStillRestores) {
  Net net;
  SINEW_EXPECT_ERROR(nn::summary(net, {2, 7}), "Linear", "[2, 7]");
  EXPECT_TRUE(net.is_training());
  EXPECT_TRUE((*net.head)[1]->is_training());
  SINEW_EXPECT_ERROR(nn::summary(net, {2, -1}), "summary", "input_shape");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
