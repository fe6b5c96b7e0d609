// The two problems of tests/fixtures/gen_optim.py (Rosenbrock, a small linear regression) and an
// optimizer factory from the fixture's option objects, shared by the optimizer test files.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sinew/sinew.hpp>

namespace sinew::optim_test {

// Each step of `traj` (PyTorch, float64) against the parameters after the same step here:
// |sinew - torch| <= rtol * max(|torch|, 0.1) at every step and value.
inline void expect_trajectory(const std::vector<std::vector<double>>& got,
                              const nlohmann::json& traj, double rtol) {
  ASSERT_EQ(got.size(), traj.size());
  for (size_t s = 0; s < got.size(); ++s) {
    std::vector<double> want = traj[s].get<std::vector<double>>();
    ASSERT_EQ(got[s].size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_LE(std::fabs(got[s][i] - want[i]), rtol * std::max(std::fabs(want[i]), 0.1))
          << "step " << s + 1 << ", value " << i << ": sinew " << got[s][i] << ", torch "
          << want[i];
    }
  }
}

// The parameters start where the generator's start, and loss() is the generator's f.
struct Problem {
  std::string name;
  std::vector<Tensor<float>> params;
  Tensor<float> x, y;

  explicit Problem(std::string n) : name(std::move(n)) {
    if (name == "rosenbrock") {
      params = {from_vector<float>({-1.5f, 2.0f}, {2}).requires_grad_()};
      return;
    }
    const std::vector<std::vector<double>> X = {
        {0.5, -1.0, 2.0},   {1.5, 0.25, -0.5}, {-0.75, 1.0, 0.0},  {2.0, -0.5, 1.0},
        {0.0, 0.75, -1.25}, {-1.0, -1.5, 0.5}, {1.25, 2.0, -0.25}, {-0.5, 0.5, 1.5}};
    const double w_true[3] = {0.8, -1.2, 0.5};
    std::vector<float> xs, ys;
    for (size_t i = 0; i < X.size(); ++i) {
      double t = 0.3 + 0.1 * std::sin(static_cast<double>(i));
      for (int k = 0; k < 3; ++k) {
        xs.push_back(static_cast<float>(X[i][k]));
        t += X[i][k] * w_true[k];
      }
      ys.push_back(static_cast<float>(t));
    }
    x = from_vector<float>(xs, {8, 3});
    y = from_vector<float>(ys, {8, 1});
    params = {from_vector<float>({0.1f, 0.2f, -0.3f}, {1, 3}).requires_grad_(),
              from_vector<float>({0.05f}, {1}).requires_grad_()};
  }

  Tensor<float> loss(double sign = 1) const {
    if (name == "rosenbrock") {
      Tensor<float> a = params[0].select(0, 0), b = params[0].select(0, 1);
      return ((1 - a).pow(2) + 100 * (b - a * a).pow(2)) * sign;
    }
    return (x.matmul(params[0].t()) + params[1] - y).pow(2).mean() * sign;
  }

  // Every parameter's values, concatenated (as torch.cat of the flattened parameters).
  std::vector<double> values() const {
    std::vector<double> out;
    for (const auto& p : params)
      for (float v : p.to_vector()) out.push_back(v);
    return out;
  }
};

// An optimizer of type `name` with the options of a fixture case (PyTorch's keyword names).
inline std::unique_ptr<optim::Optimizer> make(const std::string& name, const nlohmann::json& o,
                                              const std::vector<Tensor<float>>& params) {
  if (name == "SGD") return std::make_unique<optim::SGD>(params, o.get<optim::SGDOptions>());
  if (name == "Adam") return std::make_unique<optim::Adam>(params, o.get<optim::AdamOptions>());
  if (name == "AdamW") return std::make_unique<optim::AdamW>(params, o.get<optim::AdamWOptions>());
  if (name == "RMSprop")
    return std::make_unique<optim::RMSprop>(params, o.get<optim::RMSpropOptions>());
  if (name == "Adagrad")
    return std::make_unique<optim::Adagrad>(params, o.get<optim::AdagradOptions>());
  throw Error("optim_test::make: unknown optimizer " + name);
}

}  // namespace sinew::optim_test
