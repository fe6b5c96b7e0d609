// Custom differentiable functions with autograd::Function: an exponential that saves its output
// (checked with gradcheck and gradgradcheck), and a straight-through binarizer whose backward is
// a deliberate surrogate (gradcheck says so), used to fit a sign pattern by gradient descent.
// Exits non-zero when a check that should pass fails.
//
//   custom_function [--steps N] [--lr X] [--device cpu|cuda|cuda:N]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "example_main.hpp"

using sinew::Tensor;
using sinew::autograd::FunctionContext;

namespace {

// y = e^x;  dL/dx = dL/dy * y. Saving the output makes no reference cycle, and backward gets it
// back with its history, so the function has a correct second derivative too.
struct Exp : sinew::autograd::Function<Exp> {
  template <class T>
  static Tensor<T> forward(FunctionContext& ctx, const Tensor<T>& x) {
    Tensor<T> y = sinew::exp(x);
    ctx.save_for_backward({y});
    return y;
  }
  template <class T>
  static std::vector<Tensor<T>> backward(FunctionContext& ctx, const Tensor<T>& g) {
    return {g * ctx.saved<T>(0)};
  }
};

// y = sign(x);  the true derivative is 0 almost everywhere, useless for learning. The
// straight-through estimator passes the gradient unchanged where |x| <= limit and stops it
// elsewhere (BinaryConnect). limit is a non-tensor argument kept in ctx.saved_data. backward
// follows LibTorch's convention, one gradient per argument of forward (an undefined one for
// limit); returning only the tensor arguments' gradients ({gx}) works as well.
struct BinarizeSTE : sinew::autograd::Function<BinarizeSTE> {
  template <class T>
  static Tensor<T> forward(FunctionContext& ctx, const Tensor<T>& x, double limit) {
    ctx.save_for_backward({x});
    ctx.saved_data["limit"] = limit;
    return sinew::sign(x);
  }
  template <class T>
  static std::vector<Tensor<T>> backward(FunctionContext& ctx, const Tensor<T>& g) {
    if (!ctx.needs_input_grad(0)) return {Tensor<T>(), Tensor<T>()};
    Tensor<T> x = ctx.saved<T>(0);
    Tensor<T> gx = sinew::where(sinew::abs(x) <= ctx.get<double>("limit"), g, sinew::zeros_like(g));
    return {gx, Tensor<T>()};
  }
};

struct Options {
  int steps = 50;
  double lr = 0.1;
  std::string device = "cpu";
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--steps") && has_value) {
      o.steps = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--lr") && has_value) {
      o.lr = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--device") && has_value) {
      o.device = argv[++i];
    } else {
      std::printf(
          "usage: custom_function [--steps N (50)] [--lr X (0.1)] [--device cpu|cuda|cuda:N]\n");
      std::exit(std::strcmp(argv[i], "--help") == 0 ? 0 : 2);
    }
  }
  return o;
}

int run(const Options& opt) {
  // A bad --device string, or a CUDA device that cannot be used, raises sinew::Error here.
  const sinew::Device device = sinew::Device::parse(opt.device);
  bool ok = true;

  // 1. Exp: values, gradient, and both checks in double precision.
  Tensor<double> x = sinew::from_vector<double>({-1.0, 0.0, 0.5, 2.0}).to(device).requires_grad_();
  Tensor<double> y = Exp::apply(x);
  y.sum().backward();
  std::printf("Exp: y = ");
  for (double v : y.to_vector()) std::printf("%.6f ", v);
  std::printf("\n     dy/dx = ");
  for (double v : x.grad().to_vector()) std::printf("%.6f ", v);
  std::printf("(node %s)\n", y.grad_fn()->name().c_str());

  auto exp_fn = [](const std::vector<Tensor<double>>& in) { return Exp::apply(in[0]); };
  auto first = sinew::autograd::gradcheck(exp_fn, {x});
  auto second = sinew::autograd::gradgradcheck(exp_fn, {x});
  std::printf("     gradcheck: %s, gradgradcheck: %s\n", first ? "passed" : "FAILED",
              second ? "passed" : "FAILED");
  if (!first) std::printf("%s", first.message.c_str());
  if (!second) std::printf("%s", second.message.c_str());
  ok = ok && first && second;

  // 2. BinarizeSTE: gradcheck must report the surrogate gradient as a mismatch.
  Tensor<double> z = sinew::from_vector<double>({-0.7, 0.3, 1.6}).to(device).requires_grad_();
  auto ste = sinew::autograd::gradcheck(
      [](const std::vector<Tensor<double>>& in) { return BinarizeSTE::apply(in[0], 1.0); }, {z});
  std::printf("BinarizeSTE: gradcheck %s (expected: the surrogate is not sign's derivative)\n",
              ste ? "passed" : "reports a mismatch");
  ok = ok && !ste;

  // 3. Fit real-valued weights w so that sign(w) matches a target pattern, in float.
  std::vector<float> target = {1, -1, -1, 1, 1, -1};
  sinew::manual_seed(0);
  Tensor<float> w = (sinew::randn<float>({6}, device) * 0.1f).detach().requires_grad_();
  Tensor<float> t = sinew::from_vector<float>(target).to(device);
  float loss_value = 0;
  for (int step = 0; step <= opt.steps; ++step) {
    Tensor<float> loss = ((BinarizeSTE::apply(w, 1.0) - t).pow(2.0)).mean();
    loss_value = loss.item();
    if (step % 10 == 0) std::printf("step %3d  loss %.4f\n", step, loss_value);
    if (step == opt.steps) break;
    w.set_grad(Tensor<float>());
    loss.backward();
    sinew::NoGradGuard no_grad;
    w.sub_(w.grad(), opt.lr);
  }
  std::printf("sign(w) = ");
  for (float v : sinew::sign(w).to_vector()) std::printf("%+.0f ", v);
  std::printf("\ntarget  = ");
  for (float v : target) std::printf("%+.0f ", v);
  std::printf("\n");
  ok = ok && loss_value == 0.0f;

  std::printf("%s\n", ok ? "all checks passed" : "some check FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  return sinew::examples::run_main("custom_function", [&] { return run(opt); });
}
