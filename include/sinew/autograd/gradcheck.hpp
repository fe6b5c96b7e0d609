// gradcheck and gradgradcheck: compare autograd's gradients with central finite differences in
// double precision, like torch.autograd.gradcheck.
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "sinew/autograd/engine.hpp"

namespace sinew::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

// The outcome: converts to true when every Jacobian entry matched; message says where not.
struct GradcheckResult {
  bool ok = true;
  std::string message;
  explicit operator bool() const { return ok; }
};

using MultiFn = std::function<std::vector<Tensor<double>>(const std::vector<Tensor<double>>&)>;
using SingleFn = std::function<Tensor<double>(const std::vector<Tensor<double>>&)>;

// The functions below are templates with a defaulted parameter (rather than plain inline
// functions) so that only a program that runs a gradcheck instantiates what it uses.

namespace detail {

// Element `flat` (row-major) of t as a 0-d view, to read with item() and write with fill_, so
// that gradcheck runs on any device.
template <class D = void>
Tensor<double> element(const Tensor<double>& t, int64_t flat) {
  int64_t off = t.storage_offset();
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (flat % t.size(d)) * t.stride(d);
    flat /= t.size(d);
  }
  return sinew::detail::element_view(t, off);
}

template <class D = void>
std::vector<double> flat_values(const std::vector<Tensor<double>>& ts) {
  std::vector<double> out;
  for (const auto& t : ts) {
    if (!t.defined()) continue;
    auto v = t.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace detail

// Checks d(outputs)/d(inputs) for every input that requires grad.
template <class D = void>
GradcheckResult gradcheck(const MultiFn& fn, const std::vector<Tensor<double>>& inputs,
                          GradcheckOptions opt = {}) {
  GradcheckResult result;
  std::vector<Tensor<double>> diff;  // inputs that require grad
  for (const auto& x : inputs) {
    SINEW_CHECK(x.defined(), "gradcheck", "an input is undefined");
    if (x.requires_grad()) diff.push_back(x);
  }
  SINEW_CHECK(!diff.empty(), "gradcheck", "no input requires grad");

  std::vector<Tensor<double>> outputs = fn(inputs);
  std::vector<Tensor<double>> outs;  // defined outputs that depend on the inputs
  for (const auto& y : outputs)
    if (y.defined()) outs.push_back(y);
  int64_t n_out = 0;
  for (const auto& y : outs) n_out += y.numel();

  // Analytical Jacobian, one output element at a time: ana[o][input][k].
  std::vector<std::vector<std::vector<double>>> ana(static_cast<size_t>(n_out));
  int64_t o = 0;
  for (const auto& y : outs) {
    for (int64_t j = 0; j < y.numel(); ++j, ++o) {
      auto& row = ana[static_cast<size_t>(o)];
      for (const auto& x : diff) row.emplace_back(static_cast<size_t>(x.numel()), 0.0);
      if (!y.requires_grad()) continue;
      Tensor<double> g = zeros<double>(y.shape());
      detail::element(g, j).fill_(1.0);
      auto grads = grad<double>({y}, diff, {g}, {.retain_graph = true, .allow_unused = true});
      for (size_t i = 0; i < diff.size(); ++i) {
        if (!grads[i].defined()) continue;
        row[i] = grads[i].to_vector();
      }
    }
  }

  // Numerical Jacobian by central differences.
  NoGradGuard no_grad;
  std::ostringstream msg;
  int reported = 0;
  for (size_t i = 0; i < diff.size(); ++i) {
    for (int64_t k = 0; k < diff[i].numel(); ++k) {
      Tensor<double> v = detail::element(diff[i], k);
      const double saved = v.item();
      v.fill_(saved + opt.eps);
      auto plus = detail::flat_values(fn(inputs));
      v.fill_(saved - opt.eps);
      auto minus = detail::flat_values(fn(inputs));
      v.fill_(saved);
      SINEW_CHECK(static_cast<int64_t>(plus.size()) == n_out, "gradcheck",
                  "the function's output size changed between calls");
      for (int64_t q = 0; q < n_out; ++q) {
        double num = (plus[static_cast<size_t>(q)] - minus[static_cast<size_t>(q)]) / (2 * opt.eps);
        double a = ana[static_cast<size_t>(q)][i][static_cast<size_t>(k)];
        if (!(std::abs(a - num) <= opt.atol + opt.rtol * std::abs(num))) {
          result.ok = false;
          if (reported++ < 8) {
            msg << "input " << i << " (shape " << diff[i].shape() << ") element " << k
                << ", output element " << q << ": analytical " << a << " vs numerical " << num
                << "\n";
          }
        }
      }
    }
  }
  if (!result.ok) result.message = "gradcheck: Jacobian mismatch\n" + msg.str();
  return result;
}

template <class D = void>
GradcheckResult gradcheck(const SingleFn& fn, const std::vector<Tensor<double>>& inputs,
                          GradcheckOptions opt = {}) {
  return gradcheck(MultiFn([&](const std::vector<Tensor<double>>& xs) {
                     return std::vector<Tensor<double>>{fn(xs)};
                   }),
                   inputs, opt);
}

// Checks second derivatives: gradcheck of (inputs, v) -> d<fn(inputs), v>/d(inputs), built with
// create_graph, with v a fixed random vector per output.
template <class D = void>
GradcheckResult gradgradcheck(const SingleFn& fn, const std::vector<Tensor<double>>& inputs,
                              GradcheckOptions opt = {}) {
  Tensor<double> y0;
  {
    NoGradGuard no_grad;
    y0 = fn(inputs);
  }
  Generator gen(1234);
  Tensor<double> v = randn<double>(y0.shape(), gen).requires_grad_();
  std::vector<Tensor<double>> all = inputs;
  all.push_back(v);
  size_t n = inputs.size();
  MultiFn grad_fn = [fn, n](const std::vector<Tensor<double>>& xs) {
    EnableGradGuard enable;  // the numerical pass runs under NoGradGuard, these grads need a graph
    std::vector<Tensor<double>> ins(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<Tensor<double>> diff;
    for (const auto& x : ins)
      if (x.requires_grad()) diff.push_back(x);
    Tensor<double> y = fn(ins);
    return grad<double>({y}, diff, {xs[n]}, {.create_graph = true, .allow_unused = true});
  };
  return gradcheck(grad_fn, all, opt);
}

}  // namespace sinew::autograd
