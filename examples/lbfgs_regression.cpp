// Nonlinear least squares with optim::LBFGS and the strong-Wolfe line search: fits
// y = a sin(b x) + c to 64 noisy samples, printing the loss at each iteration. Exits 0 when the
// fitted parameters are close to the true ones.
//
//   lbfgs_regression [--iterations N] [--seed N] [--device cpu|cuda|cuda:N]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>

#include "example_main.hpp"

using namespace sinew;

namespace {

int run(int iterations, uint64_t seed, Device device) {
  const double a_true = 2.0, b_true = 1.5, c_true = 0.5;
  Generator gen(seed);
  // The samples are drawn on the host (the same on every device), then moved.
  const Tensor<float> x_host = linspace<float>(-3, 3, 64);
  const Tensor<float> x = x_host.to(device);
  const Tensor<float> y =
      (a_true * sin(b_true * x_host) + c_true + 0.05 * randn<float>({64}, gen)).detach().to(device);

  Tensor<float> a = full<float>({1}, 1.0, device).requires_grad_();
  Tensor<float> b = full<float>({1}, 1.0, device).requires_grad_();
  Tensor<float> c = full<float>({1}, 0.0, device).requires_grad_();
  // max_iter = 1: each step() call is one L-BFGS iteration; the history carries over between calls.
  optim::LBFGS opt({a, b, c}, {.lr = 1,
                               .max_iter = 1,
                               .history_size = 10,
                               .line_search_fn = optim::LineSearch::StrongWolfe});
  auto closure = [&] {
    opt.zero_grad();
    Tensor<float> loss = (a * sin(b * x) + c - y).pow(2).mean();
    loss.backward();
    return loss;
  };

  double previous = 0, loss = 0;
  for (int it = 1; it <= iterations; ++it) {
    loss = opt.step(closure);
    std::printf("iteration %2d  loss %.8f\n", it, loss);
    if (it > 1 && std::fabs(previous - loss) < 1e-9) break;
    previous = loss;
  }
  std::printf("fitted a = %.4f, b = %.4f, c = %.4f  (true %.2f, %.2f, %.2f)\n", a.item(), b.item(),
              c.item(), a_true, b_true, c_true);
  bool ok = std::fabs(a.item() - a_true) < 0.05 && std::fabs(b.item() - b_true) < 0.05 &&
            std::fabs(c.item() - c_true) < 0.05;
  std::printf("%s\n", ok ? "PASS: parameters recovered" : "FAIL: parameters not recovered");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 50;
  uint64_t seed = 0;
  std::string device = "cpu";
  CLI::App app{"Fits y = a sin(b x) + c with L-BFGS (strong-Wolfe line search)."};
  app.add_option("--iterations", iterations, "L-BFGS iterations at most")->capture_default_str();
  app.add_option("--seed", seed, "seed of the noise added to the samples")->capture_default_str();
  examples::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);
  return examples::run_main("lbfgs_regression",
                            [&] { return run(iterations, seed, examples::select_device(device)); });
}
