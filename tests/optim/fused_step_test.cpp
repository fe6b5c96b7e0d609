// The fused optimizer-step kernels (backend/cpu/optim.hpp), reached through SGD, Adam/AdamW,
// RMSprop and Adagrad: a few steps against the same update composed from ordinary tensor ops
// (written from PyTorch 1.13's documented single-tensor algorithms), for float and double, every
// option that changes the kernel's code path, on a tensor large enough to be split across threads
// and on tiny ones; and bitwise the same result on one thread and on two.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

// Splits across two threads in every kernel (n * cost >= the parallel grain), odd so that the
// chunks and the vector loops have remainders.
constexpr int64_t kLarge = 100003;
const int64_t kSizes[] = {kLarge, 1, 0};
constexpr int kSteps = 3;

// Uniform values in [lo, hi) from a 64-bit LCG: the same inputs on every run and machine.
template <class T>
std::vector<T> uniform(int64_t n, uint64_t seed, double lo, double hi) {
  std::vector<T> v(static_cast<size_t>(n));
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<T>(lo + (hi - lo) * (static_cast<double>(s >> 11) / 9007199254740992.0));
  }
  return v;
}

// The parameter and its named state after the steps.
template <class T>
struct Result {
  Tensor<T> param;
  std::map<std::string, Tensor<T>> state;
};

template <class T>
Tensor<T> initial_param(int64_t n) {
  return from_vector<T>(uniform<T>(n, 1, -1, 1), {n});
}
// Step s's gradient; step 1 is small, so the state buffers mix magnitudes.
template <class T>
Tensor<T> gradient(int64_t n, int s) {
  const double scale = s == 1 ? 1e-2 : 1;
  return from_vector<T>(uniform<T>(n, 100 + s, -scale, scale), {n});
}

// kSteps steps of optimizer Opt on one parameter of n elements.
template <class T, class Opt, class Options>
Result<T> run_optimizer(const Options& options, int64_t n) {
  Tensor<T> p = initial_param<T>(n).requires_grad_();
  Opt opt(std::vector<Tensor<T>>{p}, options);
  for (int s = 0; s < kSteps; ++s) {
    p.set_grad(gradient<T>(n, s));
    opt.step();
  }
  Result<T> r{p.detach(), {}};
  for (const auto& [name, t] : opt.find_state(p)->buffers) r.state[name] = t;
  return r;
}

// |got - want| <= rtol * (|want| + max |want|) elementwise: a few roundings apart, whatever the
// magnitude of the tensor.
template <class T>
::testing::AssertionResult close(const Tensor<T>& got, const Tensor<T>& want, double rtol) {
  if (got.shape() != want.shape()) {
    return ::testing::AssertionFailure() << "shapes " << got.shape() << " and " << want.shape();
  }
  std::vector<T> a = got.to_vector(), b = want.to_vector();
  double scale = 0;
  for (T v : b) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    if (!(std::fabs(x - y) <= rtol * (std::fabs(y) + scale))) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << x << " vs " << y << " (max |want| " << scale << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

template <class T>
double rtol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-13;
}

template <class T>
void expect_matches(const Result<T>& got, const Result<T>& want) {
  EXPECT_TRUE(close(got.param, want.param, rtol<T>())) << "parameter";
  std::vector<std::string> got_names, want_names;
  for (const auto& [name, t] : got.state) got_names.push_back(name);
  for (const auto& [name, t] : want.state) want_names.push_back(name);
  ASSERT_EQ(got_names, want_names);
  for (const auto& [name, t] : want.state) {
    EXPECT_TRUE(close(got.state.at(name), t, rtol<T>())) << name;
  }
}

template <class T>
bool bitwise_equal(const Tensor<T>& a, const Tensor<T>& b) {
  std::vector<T> x = a.to_vector(), y = b.to_vector();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

// Runs f() on one thread and on two; the parameter and every state buffer must be the same bits.
template <class T, class F>
void expect_thread_count_independent(F f) {
  const int saved = get_num_threads();
  set_num_threads(1);
  Result<T> one = f();
  set_num_threads(2);
  Result<T> two = f();
  set_num_threads(saved);
  EXPECT_TRUE(bitwise_equal(one.param, two.param)) << "parameter";
  ASSERT_EQ(one.state.size(), two.state.size());
  for (const auto& [name, t] : one.state) EXPECT_TRUE(bitwise_equal(t, two.state.at(name))) << name;
}

// ---- references: PyTorch 1.13's single-tensor loops, as tensor ops -----------------------------

// d = -g if maximize; d += weight_decay * p; momentum: b = d (first step) or
// b = momentum * b + (1 - dampening) * d, d = d + momentum * b (nesterov) or b; p -= lr * d.
template <class T>
Result<T> reference_sgd(const optim::SGDOptions& o, int64_t n) {
  Tensor<T> p = initial_param<T>(n), buf;
  for (int s = 0; s < kSteps; ++s) {
    Tensor<T> d = gradient<T>(n, s);
    if (o.maximize) d = d.neg();
    if (o.weight_decay != 0) d = d + p * o.weight_decay;
    if (o.momentum != 0) {
      buf = s == 0 ? d.clone() : buf * o.momentum + d * (1 - o.dampening);
      d = o.nesterov ? d + buf * o.momentum : buf;
    }
    p = p - d * o.lr;
  }
  Result<T> r{p, {}};
  if (o.momentum != 0) r.state["momentum_buffer"] = buf;
  return r;
}

// g = -g if maximize; AdamW: p *= 1 - lr * weight_decay, Adam: g += weight_decay * p;
// m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  amsgrad: vmax = max(vmax, v);
// p -= lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps).
template <class T, class Options>
Result<T> reference_adam(const Options& o, bool decoupled, int64_t n) {
  const double b1 = o.betas.first, b2 = o.betas.second;
  Tensor<T> p = initial_param<T>(n);
  Tensor<T> m = zeros<T>({n}), v = zeros<T>({n}), vmax = zeros<T>({n});
  for (int s = 0; s < kSteps; ++s) {
    const double t = s + 1;
    Tensor<T> g = gradient<T>(n, s);
    if (o.maximize) g = g.neg();
    if (o.weight_decay != 0) {
      if (decoupled) {
        p = p * (1 - o.lr * o.weight_decay);
      } else {
        g = g + p * o.weight_decay;
      }
    }
    m = m * b1 + g * (1 - b1);
    v = v * b2 + g * g * (1 - b2);
    Tensor<T> second = v;
    if (o.amsgrad) {
      vmax = maximum(vmax, v);
      second = vmax;
    }
    const double step_size = o.lr / (1 - std::pow(b1, t));
    const double c2_sqrt = std::sqrt(1 - std::pow(b2, t));
    Tensor<T> denom = second.sqrt() / c2_sqrt + o.eps;
    p = p - m / denom * step_size;
  }
  Result<T> r{p, {{"exp_avg", m}, {"exp_avg_sq", v}}};
  if (o.amsgrad) r.state["max_exp_avg_sq"] = vmax;
  return r;
}

// g = -g if maximize; g += weight_decay * p;  v = alpha v + (1 - alpha) g^2;
// centered: a = alpha a + (1 - alpha) g, avg = sqrt(v - a^2) + eps, else avg = sqrt(v) + eps;
// momentum: b = momentum b + g / avg, p -= lr b;  else p -= lr g / avg.
template <class T>
Result<T> reference_rmsprop(const optim::RMSpropOptions& o, int64_t n) {
  Tensor<T> p = initial_param<T>(n);
  Tensor<T> sq = zeros<T>({n}), ga = zeros<T>({n}), buf = zeros<T>({n});
  for (int s = 0; s < kSteps; ++s) {
    Tensor<T> g = gradient<T>(n, s);
    if (o.maximize) g = g.neg();
    if (o.weight_decay != 0) g = g + p * o.weight_decay;
    sq = sq * o.alpha + g * g * (1 - o.alpha);
    Tensor<T> avg;
    if (o.centered) {
      ga = ga * o.alpha + g * (1 - o.alpha);
      avg = (sq - ga * ga).sqrt() + o.eps;
    } else {
      avg = sq.sqrt() + o.eps;
    }
    if (o.momentum > 0) {
      buf = buf * o.momentum + g / avg;
      p = p - buf * o.lr;
    } else {
      p = p - g / avg * o.lr;
    }
  }
  Result<T> r{p, {{"square_avg", sq}}};
  if (o.momentum > 0) r.state["momentum_buffer"] = buf;
  if (o.centered) r.state["grad_avg"] = ga;
  return r;
}

// g = -g if maximize; g += weight_decay * p;  clr = lr / (1 + (t - 1) lr_decay);
// sum += g^2 (from initial_accumulator_value);  p -= clr g / (sqrt(sum) + eps).
template <class T>
Result<T> reference_adagrad(const optim::AdagradOptions& o, int64_t n) {
  Tensor<T> p = initial_param<T>(n);
  Tensor<T> sum = full<T>({n}, o.initial_accumulator_value);
  for (int s = 0; s < kSteps; ++s) {
    Tensor<T> g = gradient<T>(n, s);
    if (o.maximize) g = g.neg();
    if (o.weight_decay != 0) g = g + p * o.weight_decay;
    const double clr = o.lr / (1 + s * o.lr_decay);
    sum = sum + g * g;
    p = p - g / (sum.sqrt() + o.eps) * clr;
  }
  return Result<T>{p, {{"sum", sum}}};
}

// ---- option sets: every combination that takes a different path through a kernel -------------

std::vector<optim::SGDOptions> sgd_cases() {
  return {
      {.lr = 0.1},
      {.lr = 0.1, .weight_decay = 0.05},
      {.lr = 0.1, .maximize = true},
      {.lr = 0.1, .momentum = 0.9},
      {.lr = 0.1, .momentum = 0.9, .dampening = 0.3},
      {.lr = 0.1, .momentum = 0.9, .nesterov = true},
      {.lr = 0.1, .momentum = 0.8, .dampening = 0.25, .weight_decay = 0.05, .maximize = true},
      {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.05, .nesterov = true, .maximize = true},
  };
}

std::vector<optim::AdamOptions> adam_cases() {
  return {
      {.lr = 0.01},
      {.lr = 0.01, .weight_decay = 0.1},
      {.lr = 0.01, .amsgrad = true},
      {.lr = 0.01, .maximize = true},
      {.lr = 0.02,
       .betas = {0.8, 0.95},
       .eps = 1e-3,
       .weight_decay = 0.1,
       .amsgrad = true,
       .maximize = true},
  };
}

std::vector<optim::AdamWOptions> adamw_cases() {
  return {
      {.lr = 0.01},  // weight_decay 0.01
      {.lr = 0.01, .weight_decay = 0},
      {.lr = 0.01, .weight_decay = 0.1, .amsgrad = true},
      {.lr = 0.02, .betas = {0.5, 0.9}, .weight_decay = 0.2, .amsgrad = true, .maximize = true},
  };
}

std::vector<optim::RMSpropOptions> rmsprop_cases() {
  return {
      {.lr = 0.01},
      {.lr = 0.01, .centered = true},
      {.lr = 0.01, .momentum = 0.9},
      {.lr = 0.01, .momentum = 0.9, .centered = true},
      {.lr = 0.01, .weight_decay = 0.1, .maximize = true},
      {.lr = 0.01,
       .alpha = 0.9,
       .eps = 1e-4,
       .weight_decay = 0.1,
       .momentum = 0.5,
       .centered = true,
       .maximize = true},
  };
}

std::vector<optim::AdagradOptions> adagrad_cases() {
  return {
      {.lr = 0.1},
      {.lr = 0.1, .lr_decay = 0.5},
      {.lr = 0.1, .weight_decay = 0.1},
      {.lr = 0.1, .initial_accumulator_value = 0.5},
      {.lr = 0.1, .maximize = true},
      {.lr = 0.1,
       .lr_decay = 0.2,
       .weight_decay = 0.1,
       .initial_accumulator_value = 0.1,
       .eps = 1e-3,
       .maximize = true},
  };
}

template <class T>
void check_sgd() {
  for (const auto& o : sgd_cases()) {
    SCOPED_TRACE(::testing::Message()
                 << "momentum " << o.momentum << " dampening " << o.dampening << " weight_decay "
                 << o.weight_decay << " nesterov " << o.nesterov << " maximize " << o.maximize);
    for (int64_t n : kSizes) {
      SCOPED_TRACE(::testing::Message() << "n = " << n);
      expect_matches(run_optimizer<T, optim::SGDT<T>>(o, n), reference_sgd<T>(o, n));
    }
  }
}

template <class T>
void check_adam() {
  for (const auto& o : adam_cases()) {
    SCOPED_TRACE(::testing::Message() << "Adam weight_decay " << o.weight_decay << " amsgrad "
                                      << o.amsgrad << " maximize " << o.maximize);
    for (int64_t n : kSizes) {
      SCOPED_TRACE(::testing::Message() << "n = " << n);
      expect_matches(run_optimizer<T, optim::AdamT<T>>(o, n), reference_adam<T>(o, false, n));
    }
  }
  for (const auto& o : adamw_cases()) {
    SCOPED_TRACE(::testing::Message() << "AdamW weight_decay " << o.weight_decay << " amsgrad "
                                      << o.amsgrad << " maximize " << o.maximize);
    for (int64_t n : kSizes) {
      SCOPED_TRACE(::testing::Message() << "n = " << n);
      expect_matches(run_optimizer<T, optim::AdamWT<T>>(o, n), reference_adam<T>(o, true, n));
    }
  }
}

template <class T>
void check_rmsprop() {
  for (const auto& o : rmsprop_cases()) {
    SCOPED_TRACE(::testing::Message()
                 << "weight_decay " << o.weight_decay << " momentum " << o.momentum << " centered "
                 << o.centered << " maximize " << o.maximize);
    for (int64_t n : kSizes) {
      SCOPED_TRACE(::testing::Message() << "n = " << n);
      expect_matches(run_optimizer<T, optim::RMSpropT<T>>(o, n), reference_rmsprop<T>(o, n));
    }
  }
}

template <class T>
void check_adagrad() {
  for (const auto& o : adagrad_cases()) {
    SCOPED_TRACE(::testing::Message()
                 << "lr_decay " << o.lr_decay << " weight_decay " << o.weight_decay << " initial "
                 << o.initial_accumulator_value << " maximize " << o.maximize);
    for (int64_t n : kSizes) {
      SCOPED_TRACE(::testing::Message() << "n = " << n);
      expect_matches(run_optimizer<T, optim::AdagradT<T>>(o, n), reference_adagrad<T>(o, n));
    }
  }
}

TEST(FusedStep, SgdMatchesComposedOpsFloat) { check_sgd<float>(); }
TEST(FusedStep, SgdMatchesComposedOpsDouble) { check_sgd<double>(); }
TEST(FusedStep, AdamMatchesComposedOpsFloat) { check_adam<float>(); }
TEST(FusedStep, AdamMatchesComposedOpsDouble) { check_adam<double>(); }
TEST(FusedStep, RmspropMatchesComposedOpsFloat) { check_rmsprop<float>(); }
TEST(FusedStep, RmspropMatchesComposedOpsDouble) { check_rmsprop<double>(); }
TEST(FusedStep, AdagradMatchesComposedOpsFloat) { check_adagrad<float>(); }
TEST(FusedStep, AdagradMatchesComposedOpsDouble) { check_adagrad<double>(); }

template <class T>
void check_thread_counts() {
  for (const auto& o : sgd_cases()) {
    expect_thread_count_independent<T>([&] { return run_optimizer<T, optim::SGDT<T>>(o, kLarge); });
  }
  for (const auto& o : adam_cases()) {
    expect_thread_count_independent<T>(
        [&] { return run_optimizer<T, optim::AdamT<T>>(o, kLarge); });
  }
  for (const auto& o : adamw_cases()) {
    expect_thread_count_independent<T>(
        [&] { return run_optimizer<T, optim::AdamWT<T>>(o, kLarge); });
  }
  for (const auto& o : rmsprop_cases()) {
    expect_thread_count_independent<T>(
        [&] { return run_optimizer<T, optim::RMSpropT<T>>(o, kLarge); });
  }
  for (const auto& o : adagrad_cases()) {
    expect_thread_count_independent<T>(
        [&] { return run_optimizer<T, optim::AdagradT<T>>(o, kLarge); });
  }
}

TEST(FusedStep, OneAndTwoThreadsGiveTheSameBitsFloat) { check_thread_counts<float>(); }
TEST(FusedStep, OneAndTwoThreadsGiveTheSameBitsDouble) { check_thread_counts<double>(); }

// The kernels take the state buffers as tensors and an undefined tensor for an absent one; called
// directly they update exactly the tensors they are given.
TEST(FusedStep, KernelsUpdateOnlyTheBuffersTheyAreGiven) {
  const int64_t n = 37;
  Tensor<float> p = initial_param<float>(n), g = gradient<float>(n, 0);
  Tensor<float> p0 = p.clone();
  backend::cpu::sgd_step(p, g, Tensor<float>(), backend::SgdStep{.lr = 0.5});
  EXPECT_TRUE(close(p, p0 - g * 0.5, 1e-6));

  Tensor<float> q = p0.clone(), sq = zeros<float>({n}), buf = zeros<float>({n});
  backend::cpu::rmsprop_step(q, g, sq, buf, Tensor<float>(),
                             backend::RmspropStep{.lr = 0.1, .alpha = 0.5, .momentum = 0.9});
  Tensor<float> sq_want = g * g * 0.5;
  Tensor<float> buf_want = g / (sq_want.sqrt() + 1e-8);
  EXPECT_TRUE(close(sq, sq_want, 1e-6));
  EXPECT_TRUE(close(buf, buf_want, 1e-6));
  EXPECT_TRUE(close(q, p0 - buf_want * 0.1, 1e-6));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
