// Tests for nn/module_holder.hpp: SINEW_MODULE(Name) gives LibTorch's handle spelling.
#include <memory>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;

namespace {
namespace SINEW_UNITY_ID {

// Written as a LibTorch program would be.
struct NetImpl : nn::Module {
  nn::Linear fc1, fc2;
  NetImpl(int64_t in, int64_t out) : Module("Net"), fc1(in, 8), fc2(8, out) {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  Tensor<float> forward(const Tensor<float>& x) override { return fc2(relu(fc1(x))); }
};
SINEW_MODULE(Net);

struct OuterImpl : nn::Module {
  Net net{nullptr};
  OuterImpl() : Module("Outer") { net = register_module("net", Net(3, 2)); }
  Tensor<float> forward(const Tensor<float>& x) override { return net(x); }
};
SINEW_MODULE(Outer);

TEST(ModuleHolder, ConstructsTheImplAndForwardsCalls) {
  Net net(3, 2);
  Tensor<float> x = rand<float>({4, 3});
  EXPECT_EQ(net->fc1.weight.shape(), (Shape{8, 3}));
  EXPECT_TRUE(all_close(net(x), net->forward(x), 0, 0));
  EXPECT_TRUE(all_close((*net)(x), net->fc2(relu(net->fc1(x))), 0, 0));
  Net same = net;  // a handle: copies refer to one module
  EXPECT_EQ(same.get().fc1.weight.data_ptr(), net->fc1.weight.data_ptr());
  EXPECT_EQ(same.ptr(), net.ptr());
}

TEST(ModuleHolder, RegistersLikeLibTorch) {
  Outer outer;
  auto keys = outer->named_parameters().keys();
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0], "net.fc1.weight");
  outer->eval();
  EXPECT_FALSE(outer->net->is_training());
  EXPECT_FALSE(outer->net->fc1.is_training());
  int calls = 0;
  outer->net->register_forward_hook(
      [&](nn::Module&, const Tensor<float>&, const Tensor<float>&) { ++calls; });
  outer(ones<float>({1, 3}));
  EXPECT_EQ(calls, 1);
  nn::Sequential seq;
  seq.push_back(outer->net);
  EXPECT_EQ(seq.size(), 1u);
  EXPECT_EQ(seq[0].get(), outer->net.ptr().get());
}

TEST(ModuleHolder, EmptyHolderRaises) {
  Net empty(nullptr);
  EXPECT_TRUE(empty.is_empty());
  EXPECT_FALSE(static_cast<bool>(empty));
  SINEW_EXPECT_ERROR((void)empty->fc1, "ModuleHolder", "empty");
  nn::Sequential seq;
  SINEW_EXPECT_ERROR(seq.push_back(empty), "register_module", "null");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
