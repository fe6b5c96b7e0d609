// Tests for autograd::Function: custom forward/backward, saved tensors, saved_data,
// needs_input_grad, both conventions for backward's gradients (per tensor argument, and LibTorch's
// per argument), and the error paths.
#include <functional>
#include <memory>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using autograd::FunctionContext;
using testing::all_close;
using testing::rand_input;
using testing::values_are;

// y = e^x;  dL/dx = g y. Saves its own output.
struct MyExp : autograd::Function<MyExp> {
  template <class T>
  static Tensor<T> forward(FunctionContext& ctx, const Tensor<T>& x) {
    Tensor<T> y = exp(x);
    ctx.save_for_backward({y});
    return y;
  }
  template <class T>
  static std::vector<Tensor<T>> backward(FunctionContext& ctx, const Tensor<T>& g) {
    return {g * ctx.saved<T>(0)};
  }
};

// z = a * b + s (s a number);  da = g b, db = g a. Records what it was asked for.
struct MulAdd : autograd::Function<MulAdd> {
  static constexpr const char* name = "MulAddBackward";
  static inline std::vector<bool> seen_in_forward;
  static inline std::vector<bool> seen_in_backward;
  static Tensor<double> forward(FunctionContext& ctx, const Tensor<double>& a,
                                const Tensor<double>& b, double s) {
    seen_in_forward = {ctx.needs_input_grad(0), ctx.needs_input_grad(1)};
    ctx.save_for_backward({a, b});
    ctx.saved_data["s"] = s;
    return a * b + s;
  }
  static std::vector<Tensor<double>> backward(FunctionContext& ctx, const Tensor<double>& g) {
    seen_in_backward = {ctx.needs_input_grad(0), ctx.needs_input_grad(1)};
    EXPECT_EQ(ctx.get<double>("s"), 0.5);
    Tensor<double> a = ctx.saved<double>(0), b = ctx.saved<double>(1);
    return {ctx.needs_input_grad(0) ? g * b : Tensor<double>(),
            ctx.needs_input_grad(1) ? g * a : Tensor<double>()};
  }
};

// Straight-through clip: forward clamps into [lo, hi], backward passes the gradient unchanged
// where |x| <= limit and zero elsewhere (a float-only function with a Tensor<bool> argument).
struct StraightThroughClip : autograd::Function<StraightThroughClip> {
  static Tensor<float> forward(FunctionContext& ctx, const Tensor<float>& x, double limit) {
    ctx.saved_data["limit"] = limit;
    ctx.save_for_backward({x});
    return clamp(x, -limit, limit);
  }
  static Tensor<float> backward(FunctionContext& ctx, const Tensor<float>& g) {
    Tensor<float> x = ctx.saved<float>(0);
    double limit = ctx.get<double>("limit");
    return where(abs(x) <= limit * 2, g, zeros_like(g));
  }
};

// Returns its input unchanged (the output aliases the input).
struct Identity : autograd::Function<Identity> {
  template <class T>
  static Tensor<T> forward(FunctionContext&, const Tensor<T>& x) {
    return x;
  }
  template <class T>
  static Tensor<T> backward(FunctionContext&, const Tensor<T>& g) {
    return g;
  }
};

TEST(Function, CustomExpForwardAndBackward) {
  Tensor<double> x = from_vector<double>({0.0, 1.0, -2.0}).requires_grad_();
  Tensor<double> y = MyExp::apply(x);
  EXPECT_TRUE(values_are(y, {1.0, std::exp(1.0), std::exp(-2.0)}, 1e-12));
  ASSERT_TRUE(y.grad_fn() != nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "MyExp");
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1.0, std::exp(1.0), std::exp(-2.0)}, 1e-12));
}

TEST(Function, CustomExpPassesGradcheckAndGradgradcheck) {
  Tensor<double> x = rand_input({2, 3}, 1);
  auto fn = [](const std::vector<Tensor<double>>& in) { return MyExp::apply(in[0]); };
  auto first = autograd::gradcheck(fn, {x});
  EXPECT_TRUE(first) << first.message;
  // The saved output comes back with its history, so the backward is differentiable again.
  auto second = autograd::gradgradcheck(fn, {x});
  EXPECT_TRUE(second) << second.message;
}

TEST(Function, SecondDerivativeThroughSavedOutput) {
  Tensor<double> x = from_vector<double>({0.5, -1.0}).requires_grad_();
  Tensor<double> y = MyExp::apply(x).sum();
  auto g = autograd::grad<double>({y}, {x}, {}, {.create_graph = true});
  auto gg = autograd::grad<double>({g[0].sum()}, {x});
  EXPECT_TRUE(values_are(gg[0], {std::exp(0.5), std::exp(-1.0)}, 1e-12));
}

TEST(Function, WorksOnFloat) {
  Tensor<float> x = from_vector<float>({0.0f, 1.0f}).requires_grad_();
  Tensor<float> y = MyExp::apply(x);
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1.0, std::exp(1.0)}, 1e-6));
}

TEST(Function, SavingTheOutputMakesNoReferenceCycle) {
  std::weak_ptr<autograd::Node> node;
  std::weak_ptr<detail::TensorImpl> out;
  Tensor<double> x = rand_input({3}, 2);
  {
    Tensor<double> y = MyExp::apply(x);
    node = y.grad_fn();
    out = y.impl_ptr();
  }
  EXPECT_TRUE(node.expired());
  EXPECT_TRUE(out.expired());
}

TEST(Function, NonTensorArgumentsAndNeedsInputGrad) {
  Tensor<double> a = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> b = from_vector<double>({3.0, 4.0});  // needs no gradient
  Tensor<double> z = MulAdd::apply(a, b, 0.5);
  EXPECT_TRUE(values_are(z, {3.5, 8.5}));
  EXPECT_EQ(z.grad_fn()->name(), "MulAddBackward");
  EXPECT_EQ(MulAdd::seen_in_forward, (std::vector<bool>{true, false}));
  z.sum().backward();
  EXPECT_EQ(MulAdd::seen_in_backward, (std::vector<bool>{true, false}));
  EXPECT_TRUE(values_are(a.grad(), {3.0, 4.0}));
  EXPECT_FALSE(b.grad().defined());
}

// A function with a snake_case name of its own.
struct Lower : autograd::Function<Lower> {
  static constexpr const char* name = "clip_grad";
  static Tensor<double> forward(FunctionContext&, const Tensor<double>& x) { return x * 1.0; }
  static Tensor<double> backward(FunctionContext&, const Tensor<double>& g) { return g; }
};

TEST(Function, NodeIsNamedAsTheFunctionNotByPyTorchsRuleForOps) {
  Tensor<double> y = Lower::apply(rand_input({2}, 23));
  EXPECT_EQ(y.grad_fn()->name(), "clip_grad");  // an op recorded as clip_grad: ClipGradBackward0
  EXPECT_EQ(MyExp::apply(rand_input({2}, 24)).grad_fn()->name(), "MyExp");
}

TEST(Function, TwoInputsPassGradcheck) {
  Tensor<double> a = rand_input({2, 2}, 3), b = rand_input({2, 2}, 4);
  auto result = autograd::gradcheck(
      [](const std::vector<Tensor<double>>& in) { return MulAdd::apply(in[0], in[1], 0.5); },
      {a, b});
  EXPECT_TRUE(result) << result.message;
}

TEST(Function, StraightThroughGradient) {
  Tensor<float> x = from_vector<float>({-3.0f, -1.5f, 0.5f, 1.5f}).requires_grad_();
  Tensor<float> y = StraightThroughClip::apply(x, 1.0);
  EXPECT_TRUE(values_are(y, {-1.0, -1.0, 0.5, 1.0}));
  y.sum().backward();
  // clamp's true gradient would be {0, 0, 1, 0}; the straight-through one passes |x| <= 2.
  EXPECT_TRUE(values_are(x.grad(), {0.0, 1.0, 1.0, 1.0}));
}

// Reports the grad mode forward ran under.
struct Probe : autograd::Function<Probe> {
  static inline bool grad_mode_inside = true;
  static inline bool inner_recorded = true;
  static Tensor<double> forward(FunctionContext&, const Tensor<double>& x) {
    grad_mode_inside = autograd::is_grad_enabled();
    Tensor<double> y = x * 2.0;
    inner_recorded = y.grad_fn() != nullptr;
    return y;
  }
  static Tensor<double> backward(FunctionContext&, const Tensor<double>& g) { return g * 2.0; }
};

TEST(Function, ForwardRunsWithoutRecording) {
  Tensor<double> x = rand_input({2}, 5);
  Tensor<double> y = Probe::apply(x);
  EXPECT_FALSE(Probe::grad_mode_inside);
  EXPECT_FALSE(Probe::inner_recorded);
  EXPECT_TRUE(autograd::is_grad_enabled());
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn()->name(), "Probe");
}

TEST(Function, NoHistoryWhenNothingRequiresGradOrUnderNoGrad) {
  Tensor<double> plain = from_vector<double>({1.0});
  EXPECT_FALSE(MyExp::apply(plain).requires_grad());
  Tensor<double> x = rand_input({2}, 6);
  NoGradGuard no_grad;
  Tensor<double> y = MyExp::apply(x);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
}

TEST(Function, ReturningAnInputKeepsTheInputsHistory) {
  Tensor<double> x = from_vector<double>({1.0, 2.0}).requires_grad_();
  Tensor<double> y = Identity::apply(x);
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.shares_storage(x));
  EXPECT_EQ(y.grad_fn()->name(), "Identity");
  (y * 3.0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {3.0, 3.0}));
}

TEST(Function, InPlaceChangeOfSavedInputIsAnError) {
  Tensor<double> leaf = rand_input({3}, 7);
  Tensor<double> a = leaf * 1.0;
  Tensor<double> z = MulAdd::apply(a, rand_input({3}, 8), 0.5);
  a.add_(1.0);
  SINEW_EXPECT_ERROR(z.sum().backward(), "MulAddBackward", "modified by an in-place operation");
}

TEST(Function, InPlaceChangeOfSavedOutputIsAnError) {
  Tensor<double> x = rand_input({3}, 9);
  Tensor<double> y = MyExp::apply(x);
  y.mul_(2.0);
  SINEW_EXPECT_ERROR(y.sum().backward(), "MyExp", "modified by an in-place operation");
}

// z = scale * x * w, with a number between the tensors:  dx = g scale w,  dw = g scale x.
// backward follows LibTorch: one gradient per argument of forward, undefined for the number.
struct ScaledMul : autograd::Function<ScaledMul> {
  static Tensor<double> forward(FunctionContext& ctx, const Tensor<double>& x, double scale,
                                const Tensor<double>& w) {
    ctx.save_for_backward({x, w});
    ctx.saved_data["scale"] = scale;
    return x * w * scale;
  }
  static std::vector<Tensor<double>> backward(FunctionContext& ctx, const Tensor<double>& g) {
    double scale = ctx.get<double>("scale");
    Tensor<double> x = ctx.saved<double>(0), w = ctx.saved<double>(1);
    return {g * w * scale, Tensor<double>(), g * x * scale};
  }
};

TEST(Function, OneGradientPerArgumentAsLibTorch) {
  Tensor<double> x = from_vector<double>({1.0, -2.0}).requires_grad_();
  Tensor<double> w = from_vector<double>({3.0, 0.5}).requires_grad_();
  Tensor<double> z = ScaledMul::apply(x, 2.0, w);
  EXPECT_TRUE(values_are(z, {6.0, -2.0}));
  z.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {6.0, 1.0}));   // 2 w
  EXPECT_TRUE(values_are(w.grad(), {2.0, -4.0}));  // 2 x
  auto result = autograd::gradcheck(
      [](const std::vector<Tensor<double>>& in) { return ScaledMul::apply(in[0], 0.7, in[1]); },
      {rand_input({2, 3}, 14), rand_input({2, 3}, 15)});
  EXPECT_TRUE(result) << result.message;
}

// backward returns whatever `give` holds (a function of the incoming gradient), for the error
// paths of the per-argument convention; forward(ctx, x, scale, w) as ScaledMul.
struct Returns : autograd::Function<Returns> {
  static inline std::function<std::vector<Tensor<double>>(const Tensor<double>&)> give;
  static Tensor<double> forward(FunctionContext&, const Tensor<double>& x, double scale,
                                const Tensor<double>& w) {
    return x * w * scale;
  }
  static std::vector<Tensor<double>> backward(FunctionContext&, const Tensor<double>& g) {
    return give(g);
  }
};

TEST(Function, ExtraUndefinedGradientsAreAllowed) {
  Tensor<double> x = rand_input({2}, 16), w = rand_input({2}, 17);
  // One per argument and one more, undefined (LibTorch's allowance for defaulted arguments).
  Returns::give = [](const Tensor<double>& g) {
    return std::vector<Tensor<double>>{g * 2.0, Tensor<double>(), g * 3.0, Tensor<double>()};
  };
  Returns::apply(x, 1.0, w).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {2.0, 2.0}));
  EXPECT_TRUE(values_are(w.grad(), {3.0, 3.0}));
  // Sinew's convention, one per tensor argument, works for the same forward.
  Returns::give = [](const Tensor<double>& g) {
    return std::vector<Tensor<double>>{g * 4.0, g * 5.0};
  };
  x.set_grad(Tensor<double>());
  w.set_grad(Tensor<double>());
  Returns::apply(x, 1.0, w).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {4.0, 4.0}));
  EXPECT_TRUE(values_are(w.grad(), {5.0, 5.0}));
}

// forward has a defaulted trailing number that apply leaves out; backward still returns one
// gradient per parameter of forward, as LibTorch code does.
struct DefaultedScale : autograd::Function<DefaultedScale> {
  static Tensor<double> forward(FunctionContext& ctx, const Tensor<double>& x, double scale = 3.0) {
    ctx.saved_data["scale"] = scale;
    return x * scale;
  }
  static std::vector<Tensor<double>> backward(FunctionContext& ctx, const Tensor<double>& g) {
    return {g * ctx.get<double>("scale"), Tensor<double>()};
  }
};

TEST(Function, DefaultedTrailingArgumentsMayGetUndefinedGradients) {
  Tensor<double> x = rand_input({3}, 18);
  DefaultedScale::apply(x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {3.0, 3.0, 3.0}));
}

TEST(Function, WrongNumberOfGradientsIsAnError) {
  Tensor<double> x = rand_input({2}, 19), w = rand_input({2}, 20);
  Returns::give = [](const Tensor<double>& g) { return std::vector<Tensor<double>>{g}; };
  SINEW_EXPECT_ERROR(Returns::apply(x, 1.0, w).sum().backward(), "Returns",
                     "backward returned 1 gradients, expected 2", "one per tensor argument", "or 3",
                     "one per argument of forward");
  // More than one per argument, and a defined one among the extra ones.
  Returns::give = [](const Tensor<double>& g) {
    return std::vector<Tensor<double>>{g, Tensor<double>(), g, Tensor<double>(), g};
  };
  SINEW_EXPECT_ERROR(Returns::apply(x, 1.0, w).sum().backward(), "Returns", "returned 5 gradients",
                     "index 4 is defined", "given 3 arguments");
}

TEST(Function, DefinedGradientForANonTensorArgumentIsAnError) {
  Tensor<double> x = rand_input({2}, 21), w = rand_input({2}, 22);
  Returns::give = [](const Tensor<double>& g) { return std::vector<Tensor<double>>{g, g, g}; };
  SINEW_EXPECT_ERROR(Returns::apply(x, 1.0, w).sum().backward(), "Returns",
                     "defined gradient at index 1",
                     "argument 1 of forward (after ctx) is not a tensor");
}

TEST(Function, WrongGradientShapeIsAnError) {
  struct BadShape : autograd::Function<BadShape> {
    static Tensor<double> forward(FunctionContext&, const Tensor<double>& x) { return x.sum(); }
    static Tensor<double> backward(FunctionContext&, const Tensor<double>& g) { return g; }
  };
  Tensor<double> y = BadShape::apply(rand_input({2, 3}, 11));
  SINEW_EXPECT_ERROR(y.backward(), "BadShape", "gradient of shape []", "input of shape [2, 3]");
}

TEST(Function, ContextErrors) {
  struct Misuse : autograd::Function<Misuse> {
    static Tensor<double> forward(FunctionContext& ctx, const Tensor<double>& x) {
      ctx.save_for_backward({x});
      ctx.saved_data["n"] = 3;
      return x * 1.0;
    }
    static Tensor<double> backward(FunctionContext& ctx, const Tensor<double>& g) {
      SINEW_EXPECT_ERROR(ctx.saved<float>(0), "FunctionContext::saved", "is float64",
                         "asked for as float32");
      SINEW_EXPECT_ERROR(ctx.saved<double>(1), "index 1 out of range", "1 tensors were saved");
      SINEW_EXPECT_ERROR(ctx.get<double>("n"), "'n'", "another type");
      SINEW_EXPECT_ERROR(ctx.get<int>("m"), "no saved_data entry 'm'");
      SINEW_EXPECT_ERROR(ctx.needs_input_grad(1), "index 1 out of range", "1 tensor arguments");
      SINEW_EXPECT_ERROR(ctx.save_for_backward({g}), "only be called from forward");
      EXPECT_EQ(ctx.get<int>("n"), 3);
      return g;
    }
  };
  Tensor<double> x = rand_input({2}, 12);
  Misuse::apply(x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1.0, 1.0}));
}

TEST(Function, BackwardTwiceNeedsRetainGraph) {
  Tensor<double> x = rand_input({2}, 13);
  Tensor<double> y = MyExp::apply(x).sum();
  y.backward(Tensor<double>(), /*retain_graph=*/true);
  Tensor<double> first = x.grad().clone();
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), first * 2.0));
  SINEW_EXPECT_ERROR(y.backward(), "retain_graph");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
