// Sinew consumer check: a small computation with broadcasting and a reduction, its backward, and
// the gradients compared with central differences of the same function written in plain C++.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

namespace {

// loss(x, w) = sum_ij exp(w_i * x_j) + mean_j x_j^2, written without Sinew.
double reference_loss(const std::vector<double>& x, const std::vector<double>& w) {
  double total = 0, squares = 0;
  for (double wi : w)
    for (double xj : x) total += std::exp(wi * xj);
  for (double xj : x) squares += xj * xj;
  return total + squares / static_cast<double>(x.size());
}

bool close(const char* what, double got, double expected) {
  bool ok = std::abs(got - expected) <= 1e-6 + 1e-6 * std::abs(expected);
  std::printf("%-10s sinew %.9f  reference %.9f  %s\n", what, got, expected,
              ok ? "ok" : "MISMATCH");
  return ok;
}

}  // namespace

int main() {
  const std::vector<double> xv{0.5, -1.0, 2.0};
  const std::vector<double> wv{1.5, -0.5};
  sinew::Tensor<double> x = sinew::from_vector(xv);          // [3]
  sinew::Tensor<double> w = sinew::from_vector(wv, {2, 1});  // [2, 1], broadcasts against x
  x.requires_grad_();
  w.requires_grad_();

  sinew::Tensor<double> loss = (w * x).exp().sum() + (x * x).mean();
  loss.backward();

  bool ok = close("loss", loss.item(), reference_loss(xv, wv));
  const double h = 1e-6;
  std::vector<double> gx = x.grad().to_vector(), gw = w.grad().to_vector();
  for (size_t j = 0; j < xv.size(); ++j) {
    std::vector<double> plus = xv, minus = xv;
    plus[j] += h;
    minus[j] -= h;
    double numeric = (reference_loss(plus, wv) - reference_loss(minus, wv)) / (2 * h);
    ok &= close(("dL/dx" + std::to_string(j)).c_str(), gx[j], numeric);
  }
  for (size_t i = 0; i < wv.size(); ++i) {
    std::vector<double> plus = wv, minus = wv;
    plus[i] += h;
    minus[i] -= h;
    double numeric = (reference_loss(xv, plus) - reference_loss(xv, minus)) / (2 * h);
    ok &= close(("dL/dw" + std::to_string(i)).c_str(), gw[i], numeric);
  }
  std::printf("%s\n", ok ? "consumer: gradients match" : "consumer: gradient MISMATCH");
  return ok ? 0 : 1;
}
