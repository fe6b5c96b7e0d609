// Tests for nn/container.hpp: ModuleList and ModuleDict names, indexing, errors and clones;
// Functional as a layer in a Sequential.
#include <memory>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {
// A user module with a ModuleList of blocks and a ModuleDict of heads.
struct Tower : nn::Cloneable<Tower> {
  std::shared_ptr<nn::ModuleList> blocks;
  std::shared_ptr<nn::ModuleDict> heads;
  Tower() : Cloneable("Tower") { reset(); }
  void reset() override {
    blocks = register_module("blocks", nn::ModuleList());
    for (int i = 0; i < 2; ++i) blocks->push_back(nn::Linear(3, 3));
    heads = register_module("heads", nn::ModuleDict());
    heads->insert("cls", nn::Linear(3, 2));
    heads->insert("reg", nn::Linear(3, 1, {.bias = false}));
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    Tensor<float> h = x;
    for (const auto& [name, b] : *blocks) h = relu(b->forward(h));
    return heads->at<nn::Linear>("cls")->forward(h);
  }
};

TEST(ModuleList, NamesByIndexInsideAUserModule) {
  Tower t;
  EXPECT_EQ(t.named_parameters().keys(),
            (std::vector<std::string>{"blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                      "blocks.1.bias", "heads.cls.weight", "heads.cls.bias",
                                      "heads.reg.weight"}));
  EXPECT_EQ(t(rand<float>({4, 3})).shape(), (Shape{4, 2}));
}

TEST(ModuleList, IndexingAndErrors) {
  nn::ModuleList list(nn::ReLU(), nn::Linear(2, 2));
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]->name(), "ReLU");
  EXPECT_EQ(list.at<nn::Linear>(1)->in_features(), 2);
  SINEW_EXPECT_ERROR(list[2], "ModuleList", "index 2");
  SINEW_EXPECT_ERROR(list.at<nn::Linear>(0), "ModuleList::at", "ReLU");
  SINEW_EXPECT_ERROR(list(zeros<float>({1})), "ModuleList", "no forward");
}

TEST(ModuleDict, LookupKeysAndErrors) {
  nn::ModuleDict d;
  d.insert("enc", nn::Linear(2, 2));
  d.insert("act", std::make_shared<nn::Tanh>());
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"enc", "act"}));
  EXPECT_TRUE(d.contains("act"));
  EXPECT_EQ(d["act"]->name(), "Tanh");
  SINEW_EXPECT_ERROR(d["dec"], "ModuleDict", "'dec'", "[enc, act]");
  SINEW_EXPECT_ERROR(d.insert("enc", nn::ReLU()), "register_module", "'enc'");
  SINEW_EXPECT_ERROR(d.at<nn::Linear>("act"), "ModuleDict::at", "Tanh");
}

TEST(ModuleList, CloneOfAUserModuleWithContainersIsDeep) {
  Tower t;
  t.eval();
  auto c = nn::clone(t);
  Tensor<float> x = rand<float>({2, 3});
  EXPECT_TRUE(all_close((*c)(x), t(x), 0, 0));
  EXPECT_FALSE(
      c->blocks->at<nn::Linear>(0)->weight.shares_storage(t.blocks->at<nn::Linear>(0)->weight));
  EXPECT_FALSE(c->heads->is_training());
  auto lc = nn::clone(*t.blocks);
  auto dc = nn::clone(*t.heads);
  EXPECT_EQ(lc->size(), 2u);
  EXPECT_EQ(dc->keys(), (std::vector<std::string>{"cls", "reg"}));
  EXPECT_FALSE(
      dc->at<nn::Linear>("cls")->weight.shares_storage(t.heads->at<nn::Linear>("cls")->weight));
}

TEST(Functional, WrapsAFunctionAsALayer) {
  nn::Sequential s(nn::Functional([](const Tensor<float>& x) { return x * 2.0; }, "Double"),
                   nn::Functional(relu<float>));
  EXPECT_TRUE(values_are(s(from_vector<float>({-1, 3}, {2})), {0, 6}));
  EXPECT_EQ(s[0]->name(), "Double");
  EXPECT_TRUE(s.parameters().empty());
  SINEW_EXPECT_ERROR(nn::Functional(nullptr), "Functional", "empty");
  auto c = nn::clone(s);
  EXPECT_TRUE(values_are((*c)(from_vector<float>({2}, {1})), {4}));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
