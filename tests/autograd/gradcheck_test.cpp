// Tests for gradcheck and gradgradcheck, including that they report a wrong gradient.
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using autograd::FunctionContext;
using testing::rand_input;

// y = x²; backward claims 3x (wrong).
struct WrongSquare : autograd::Function<WrongSquare> {
  static Tensor<double> forward(FunctionContext& ctx, const Tensor<double>& x) {
    ctx.save_for_backward({x});
    return x * x;
  }
  static Tensor<double> backward(FunctionContext& ctx, const Tensor<double>& g) {
    return g * ctx.saved<double>(0) * 3.0;
  }
};

// y = x³ with a correct first derivative whose backward is not differentiable through x (it
// reads a detached copy), so second derivatives are wrong.
struct DetachedCube : autograd::Function<DetachedCube> {
  static Tensor<double> forward(FunctionContext& ctx, const Tensor<double>& x) {
    ctx.save_for_backward({x});
    return x * x * x;
  }
  static Tensor<double> backward(FunctionContext& ctx, const Tensor<double>& g) {
    Tensor<double> x = ctx.saved<double>(0).detach();
    return g * x * x * 3.0;
  }
};

Tensor<double> composite(const std::vector<Tensor<double>>& in) {
  // tanh(x w + b) * sigmoid(x) + exp(-x²) summed over the rows, with broadcasting.
  Tensor<double> h = tanh(matmul(in[0], in[1]) + in[2]);
  return (h * sigmoid(in[0].sum({1}, true)) + exp(-(in[0] * in[0])).sum({1}, true)).sum({0});
}

TEST(Gradcheck, PassesOnACompositeFunction) {
  Tensor<double> x = rand_input({3, 2}, 1), w = rand_input({2, 4}, 2), b = rand_input({4}, 3);
  auto result = autograd::gradcheck(composite, {x, w, b});
  EXPECT_TRUE(result) << result.message;
}

TEST(Gradcheck, GradgradcheckPassesOnACompositeFunction) {
  Tensor<double> x = rand_input({2, 2}, 4), w = rand_input({2, 3}, 5), b = rand_input({3}, 6);
  auto result = autograd::gradgradcheck(composite, {x, w, b});
  EXPECT_TRUE(result) << result.message;
}

TEST(Gradcheck, OnlyChecksInputsThatRequireGrad) {
  Tensor<double> x = rand_input({3, 2}, 7), b = rand_input({4}, 8);
  Tensor<double> w = rand_input({2, 4}, 9).detach();
  auto result = autograd::gradcheck(composite, {x, w, b});
  EXPECT_TRUE(result) << result.message;
}

TEST(Gradcheck, DetectsAWrongGradient) {
  Tensor<double> x = rand_input({3}, 10);
  auto result = autograd::gradcheck(
      [](const std::vector<Tensor<double>>& in) { return WrongSquare::apply(in[0]); }, {x});
  EXPECT_FALSE(result);
  EXPECT_NE(result.message.find("Jacobian mismatch"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("analytical"), std::string::npos) << result.message;
}

TEST(Gradcheck, GradgradcheckDetectsAWrongSecondDerivative) {
  Tensor<double> x = rand_input({3}, 11);
  auto fn = [](const std::vector<Tensor<double>>& in) { return DetachedCube::apply(in[0]); };
  auto first = autograd::gradcheck(fn, {x});
  EXPECT_TRUE(first) << first.message;
  EXPECT_FALSE(autograd::gradgradcheck(fn, {x}));
}

TEST(Gradcheck, NeedsAnInputThatRequiresGrad) {
  Tensor<double> c = ones<double>({2});
  SINEW_EXPECT_ERROR(
      autograd::gradcheck([](const std::vector<Tensor<double>>& in) { return in[0] * 2.0; }, {c}),
      "gradcheck", "no input requires grad");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
