// Helpers shared by Sinew's tests: element-wise comparison with a tolerance, and error matching.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include <sinew/sinew.hpp>

namespace sinew::testing {

// Expects equal shapes and |a - b| <= atol + rtol |b| everywhere.
template <class T>
::testing::AssertionResult all_close(const Tensor<T>& a, const Tensor<T>& b, double atol = 1e-6,
                                     double rtol = 1e-5) {
  if (a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << "shapes differ: " << a.shape() << " vs " << b.shape();
  }
  auto va = a.to_vector();
  auto vb = b.to_vector();
  for (size_t i = 0; i < va.size(); ++i) {
    double x = double(va[i]), y = double(vb[i]);
    if (std::isnan(x) && std::isnan(y)) continue;
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) {
      return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y << "\n"
                                           << a << "\nvs\n"
                                           << b;
    }
  }
  return ::testing::AssertionSuccess();
}

template <class T>
::testing::AssertionResult values_are(const Tensor<T>& a, const std::vector<double>& expected,
                                      double atol = 1e-6) {
  auto v = a.to_vector();
  if (v.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "got " << v.size() << " values, expected " << expected.size();
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!(std::abs(double(v[i]) - expected[i]) <= atol)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << double(v[i]) << " vs " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Loads src's parameters and buffers into dst, a module of another element type (values
// converted), so that a double layer and a float layer compute from the same state.
template <class To, class From>
void load_converted(nn::ModuleT<To>& dst, const nn::ModuleT<From>& src) {
  nn::StateDictT<To> sd;
  for (const auto& [k, v] : src.state_dict()) sd.insert(k, v.template to<To>());
  dst.load_state_dict(sd);
}

// Runs fn, expecting a sinew::Error whose message contains every fragment.
template <class F>
::testing::AssertionResult throws_error(F&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
  } catch (const sinew::Error& e) {
    std::string msg = e.what();
    for (const auto& f : fragments) {
      if (msg.find(f) == std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << f << "\"";
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-sinew exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// gradcheck / gradgradcheck as gtest assertions that print where the Jacobians differ.
inline ::testing::AssertionResult grad_ok(const autograd::SingleFn& f,
                                          const std::vector<Tensor<double>>& in) {
  auto r = autograd::gradcheck(f, in);
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.message;
}

inline ::testing::AssertionResult gradgrad_ok(const autograd::SingleFn& f,
                                              const std::vector<Tensor<double>>& in) {
  auto r = autograd::gradgradcheck(f, in);
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.message;
}

// A double tensor that requires grad, with values drawn from a fixed seed.
inline Tensor<double> rand_input(const Shape& shape, uint64_t seed = 0, double lo = -1,
                                 double hi = 1) {
  Generator g(seed + 17);
  Tensor<double> t = rand<double>(shape, g) * (hi - lo) + lo;
  return t.detach().requires_grad_();
}

// A fixture with a fresh temporary directory per test (removed afterwards): path("x") is a file
// name inside it.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("sinew_test_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

}  // namespace sinew::testing

#define SINEW_EXPECT_ERROR(stmt, ...) \
  EXPECT_TRUE(::sinew::testing::throws_error([&] { stmt; }, {__VA_ARGS__}))
