// Elementwise ops: forward values against std:: on the same inputs or hand-computed numbers,
// gradcheck (double; broadcast and non-contiguous inputs), gradgradcheck, in-place rules, errors.
#include <cmath>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using sinew::testing::all_close;
using sinew::testing::rand_input;
using sinew::testing::values_are;
using TD = Tensor<double>;
using TF = Tensor<float>;

::testing::AssertionResult passes_gradcheck(const autograd::SingleFn& fn,
                                            const std::vector<TD>& in) {
  auto r = autograd::gradcheck(fn, in);
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.message;
}

::testing::AssertionResult passes_gradgradcheck(const autograd::SingleFn& fn,
                                                const std::vector<TD>& in) {
  auto r = autograd::gradgradcheck(fn, in);
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.message;
}

// The values of t broadcast to `out`, in row-major order (reference for broadcasting ops).
std::vector<double> broadcast_values(const TD& t, const Shape& out) {
  std::vector<double> v = t.to_vector(), r(static_cast<size_t>(out.numel()));
  int64_t nd = out.size(), lead = nd - t.dim();
  for (int64_t k = 0; k < out.numel(); ++k) {
    int64_t rem = k, src = 0, mult = 1;
    for (int64_t d = nd - 1; d >= 0; --d) {
      int64_t i = rem % out[d];
      rem /= out[d];
      if (d - lead < 0) continue;
      int64_t n = t.size(d - lead);
      src += (n == 1 ? 0 : i) * mult;
      mult *= n;
    }
    r[static_cast<size_t>(k)] = v[static_cast<size_t>(src)];
  }
  return r;
}

bool near(double got, double want, double atol, double rtol) {
  if (std::isnan(want)) return std::isnan(got);
  return std::abs(got - want) <= atol + rtol * std::abs(want);
}

// ---- unary ops (and ops with one tensor operand)
// -------------------------------------------------

struct UnaryCase {
  std::string name;
  std::function<TD(const TD&)> op;
  std::function<TF(const TF&)> op_f;
  std::function<double(double)> ref;
  double lo, hi;  // input range
};

#define UNARY(NAME, EXPR, REF, LO, HI)                                        \
  UnaryCase {                                                                 \
    NAME, [](const TD& x) { return EXPR; }, [](const TF& x) { return EXPR; }, \
        [](double v) { return REF; }, LO, HI                                  \
  }

double sigmoid_ref(double v) { return 1 / (1 + std::exp(-v)); }
double gelu_tanh_ref(double v) {
  return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
}

std::vector<UnaryCase> unary_cases() {
  return {
      UNARY("neg", neg(x), -v, -2, 2),
      UNARY("neg_operator", -x, -v, -2, 2),
      UNARY("exp", exp(x), std::exp(v), -2, 2),
      UNARY("log", log(x), std::log(v), 0.5, 3),
      UNARY("log1p", log1p(x), std::log1p(v), -0.5, 2),
      UNARY("sqrt", sqrt(x), std::sqrt(v), 0.5, 3),
      UNARY("rsqrt", rsqrt(x), 1 / std::sqrt(v), 0.5, 3),
      UNARY("abs", abs(x), std::abs(v), -2, 2),
      UNARY("sign", sign(x), double((v > 0) - (v < 0)), -2, 2),
      UNARY("sin", sin(x), std::sin(v), -3, 3),
      UNARY("cos", cos(x), std::cos(v), -3, 3),
      UNARY("tanh", tanh(x), std::tanh(v), -2, 2),
      UNARY("sigmoid", sigmoid(x), sigmoid_ref(v), -4, 4),
      UNARY("erf", erf(x), std::erf(v), -2, 2),
      UNARY("relu", relu(x), v > 0 ? v : 0, -2, 2),
      UNARY("leaky_relu", leaky_relu(x), v > 0 ? v : 0.01 * v, -2, 2),
      UNARY("leaky_relu_slope", leaky_relu(x, 0.2), v > 0 ? v : 0.2 * v, -2, 2),
      UNARY("elu", elu(x), v > 0 ? v : std::exp(v) - 1, -2, 2),
      UNARY("elu_alpha", elu(x, 1.5), v > 0 ? v : 1.5 * (std::exp(v) - 1), -2, 2),
      UNARY("gelu", gelu(x), 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), -3, 3),
      UNARY("gelu_tanh", gelu(x, "tanh"), gelu_tanh_ref(v), -3, 3),
      UNARY("softplus", softplus(x), std::log1p(std::exp(v)), -3, 3),
      UNARY("softplus_beta_threshold", softplus(x, 2.0, 3.0),
            2 * v > 3 ? v : std::log1p(std::exp(2 * v)) / 2, -2, 3),
      UNARY("silu", silu(x), v * sigmoid_ref(v), -3, 3),
      UNARY("clamp", clamp(x, -0.5, 0.5), std::min(std::max(v, -0.5), 0.5), -1, 1),
      UNARY("clamp_min", clamp_min(x, -0.3), std::max(v, -0.3), -1, 1),
      UNARY("clamp_max", clamp_max(x, 0.4), std::min(v, 0.4), -1, 1),
      UNARY("clamp_member_max_only", x.clamp(std::nullopt, 0.2), std::min(v, 0.2), -1, 1),
      UNARY("pow_scalar_exponent", pow(x, 2.5), std::pow(v, 2.5), 0.5, 2),
      UNARY("pow_integer_exponent", pow(x, 3.0), v * v * v, -2, 2),
      UNARY("pow_negative_exponent", pow(x, -1.5), std::pow(v, -1.5), 0.5, 2),
      UNARY("pow_zero_exponent", pow(x, 0.0), v * 0 + 1.0, -2, 2),
      UNARY("pow_scalar_base", pow(2.0, x), std::pow(2.0, v), -2, 2),
      UNARY("pow_fractional_base", pow(0.5, x), std::pow(0.5, v), -2, 2),
      UNARY("add_scalar", x + 2.5, v + 2.5, -2, 2),
      UNARY("add_int_scalar_left", 2 + x, 2 + v, -2, 2),
      UNARY("sub_scalar", x - 1.5, v - 1.5, -2, 2),
      UNARY("rsub_scalar", 1.5 - x, 1.5 - v, -2, 2),
      UNARY("mul_scalar", x * -3.0, -3 * v, -2, 2),
      UNARY("mul_scalar_left", 3 * x, 3 * v, -2, 2),
      UNARY("div_scalar", x / 4.0, v / 4, -2, 2),
      UNARY("rdiv_scalar", 3.0 / x, 3 / v, 0.5, 2),
      UNARY("where_scalar_other", where(x > 0.0, x, 0.5), v > 0 ? v : 0.5, -2, 2),
      UNARY("where_scalar_self", where(x > 0.0, -1.0, x), v > 0 ? -1.0 : v, -2, 2),
  };
}
#undef UNARY

void PrintTo(const UnaryCase& c, std::ostream* os) { *os << c.name; }

class UnaryOp : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryOp, ForwardMatchesReferenceInDouble) {
  const auto& c = GetParam();
  TD x = rand_input({3, 4}, 1, c.lo, c.hi).detach();
  TD y = c.op(x);
  ASSERT_EQ(y.shape(), x.shape());
  auto xv = x.to_vector(), yv = y.to_vector();
  for (size_t i = 0; i < xv.size(); ++i) {
    EXPECT_TRUE(near(yv[i], c.ref(xv[i]), 1e-12, 1e-12)) << "x = " << xv[i] << ": " << yv[i];
  }
}

TEST_P(UnaryOp, ForwardMatchesReferenceInFloat) {
  const auto& c = GetParam();
  TF x = rand_input({3, 4}, 2, c.lo, c.hi).detach().to<float>();
  TF y = c.op_f(x);
  ASSERT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.dtype(), DType::Float32);
  auto xv = x.to_vector(), yv = y.to_vector();
  for (size_t i = 0; i < xv.size(); ++i) {
    EXPECT_TRUE(near(yv[i], c.ref(double(xv[i])), 1e-6, 1e-5)) << "x = " << xv[i] << ": " << yv[i];
  }
}

TEST_P(UnaryOp, NonContiguousInputsGiveTheSameValues) {
  const auto& c = GetParam();
  TD base = rand_input({4, 6}, 3, c.lo, c.hi).detach();
  TD transposed = base.t();
  TD strided = base.slice(1, 1, 6, 2);
  EXPECT_TRUE(all_close(c.op(transposed), c.op(transposed.contiguous()), 0, 0));
  EXPECT_TRUE(all_close(c.op(strided), c.op(strided.contiguous()), 0, 0));
  TD scalar = rand_input({}, 4, c.lo, c.hi).detach();
  EXPECT_TRUE(near(c.op(scalar).item(), c.ref(scalar.item()), 1e-12, 1e-12));
}

TEST_P(UnaryOp, GradcheckContiguousTransposedAndStrided) {
  const auto& c = GetParam();
  auto op = c.op;
  EXPECT_TRUE(passes_gradcheck([op](const std::vector<TD>& x) { return op(x[0]); },
                               {rand_input({2, 3}, 5, c.lo, c.hi)}));
  EXPECT_TRUE(passes_gradcheck([op](const std::vector<TD>& x) { return op(x[0].t()); },
                               {rand_input({3, 2}, 6, c.lo, c.hi)}));
  EXPECT_TRUE(
      passes_gradcheck([op](const std::vector<TD>& x) { return op(x[0].slice(1, 0, 6, 2)); },
                       {rand_input({2, 6}, 7, c.lo, c.hi)}));
  EXPECT_TRUE(passes_gradcheck([op](const std::vector<TD>& x) { return op(x[0]); },
                               {rand_input({}, 8, c.lo, c.hi)}));
}

TEST_P(UnaryOp, GradGradcheck) {
  const auto& c = GetParam();
  auto op = c.op;
  EXPECT_TRUE(passes_gradgradcheck([op](const std::vector<TD>& x) { return op(x[0]); },
                                   {rand_input({2, 3}, 9, c.lo, c.hi)}));
}

INSTANTIATE_TEST_SUITE_P(Elementwise, UnaryOp, ::testing::ValuesIn(unary_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- binary ops --------------------------------------------------------------------------------

struct BinaryCase {
  std::string name;
  std::function<TD(const TD&, const TD&)> op;
  std::function<TF(const TF&, const TF&)> op_f;
  std::function<double(double, double)> ref;
  double alo, ahi, blo, bhi;
};

#define BINARY(NAME, EXPR, REF, ALO, AHI, BLO, BHI)                                            \
  BinaryCase {                                                                                 \
    NAME, [](const TD& a, const TD& b) { return EXPR; },                                       \
        [](const TF& a, const TF& b) { return EXPR; }, [](double u, double v) { return REF; }, \
        ALO, AHI, BLO, BHI                                                                     \
  }

std::vector<BinaryCase> binary_cases() {
  return {
      BINARY("add", a + b, u + v, -2, 2, -2, 2),
      BINARY("add_alpha", add(a, b, 2.5), u + 2.5 * v, -2, 2, -2, 2),
      BINARY("sub", a - b, u - v, -2, 2, -2, 2),
      BINARY("sub_alpha", sub(a, b, 0.5), u - 0.5 * v, -2, 2, -2, 2),
      BINARY("mul", a * b, u * v, -2, 2, -2, 2),
      BINARY("div", a / b, u / v, -2, 2, 0.5, 2),
      BINARY("div_negative_divisor", div(a, b), u / v, -2, 2, -2, -0.5),
      BINARY("pow", pow(a, b), std::pow(u, v), 0.5, 2, -1.5, 1.5),
      BINARY("minimum", minimum(a, b), std::min(u, v), -2, 2, -2, 2),
      BINARY("maximum", maximum(a, b), std::max(u, v), -2, 2, -2, 2),
      BINARY("where", where(a > 0.0, a, b), u > 0 ? u : v, -2, 2, -2, 2),
  };
}
#undef BINARY

void PrintTo(const BinaryCase& c, std::ostream* os) { *os << c.name; }

class BinaryOp : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryOp, ForwardBroadcastsLikeNumPy) {
  const auto& c = GetParam();
  std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{4}, {2, 3, 1}}, {{2, 3}, {}}};
  uint64_t seed = 10;
  for (const auto& [sa, sb] : shapes) {
    TD a = rand_input(sa, seed++, c.alo, c.ahi).detach();
    TD b = rand_input(sb, seed++, c.blo, c.bhi).detach();
    TD y = c.op(a, b);
    Shape out = detail::broadcast_shapes(sa, sb, "test");
    ASSERT_EQ(y.shape(), out) << sa << " with " << sb;
    auto av = broadcast_values(a, out), bv = broadcast_values(b, out), yv = y.to_vector();
    for (size_t i = 0; i < yv.size(); ++i) {
      EXPECT_TRUE(near(yv[i], c.ref(av[i], bv[i]), 1e-12, 1e-12))
          << sa << " with " << sb << " element " << i << ": " << yv[i];
    }
  }
}

TEST_P(BinaryOp, ForwardInFloat) {
  const auto& c = GetParam();
  TF a = rand_input({2, 3}, 20, c.alo, c.ahi).detach().to<float>();
  TF b = rand_input({3}, 21, c.blo, c.bhi).detach().to<float>();
  TF y = c.op_f(a, b);
  auto yv = y.to_vector(), av = a.to_vector(), bv = b.to_vector();
  for (size_t i = 0; i < yv.size(); ++i) {
    EXPECT_TRUE(near(yv[i], c.ref(av[i], bv[i % 3]), 1e-6, 1e-5)) << "element " << i;
  }
}

TEST_P(BinaryOp, NonContiguousOperandsGiveTheSameValues) {
  const auto& c = GetParam();
  TD a = rand_input({4, 3}, 22, c.alo, c.ahi).detach().t();                // [3, 4], transposed
  TD b = rand_input({3, 8}, 23, c.blo, c.bhi).detach().slice(1, 0, 8, 2);  // [3, 4], step 2
  EXPECT_TRUE(all_close(c.op(a, b), c.op(a.contiguous(), b.contiguous()), 0, 0));
  EXPECT_TRUE(
      all_close(c.op(b.t().contiguous().t(), a), c.op(b.contiguous(), a.contiguous()), 0, 0));
}

TEST_P(BinaryOp, GradcheckWithBroadcastAndNonContiguousInputs) {
  const auto& c = GetParam();
  auto op = c.op;
  auto both = [op](const std::vector<TD>& x) { return op(x[0], x[1]); };
  std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3}, {2, 3}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{4}, {2, 3, 4}}, {{2, 3}, {}}};
  uint64_t seed = 30;
  for (const auto& [sa, sb] : shapes) {
    EXPECT_TRUE(passes_gradcheck(
        both, {rand_input(sa, seed, c.alo, c.ahi), rand_input(sb, seed + 1, c.blo, c.bhi)}))
        << sa << " with " << sb;
    seed += 2;
  }
  EXPECT_TRUE(passes_gradcheck(
      [op](const std::vector<TD>& x) { return op(x[0].t(), x[1].slice(1, 0, 8, 2)); },
      {rand_input({4, 3}, 40, c.alo, c.ahi), rand_input({3, 8}, 41, c.blo, c.bhi)}));
  // Only one operand requiring grad.
  TD fixed = rand_input({3}, 42, c.blo, c.bhi).detach();
  EXPECT_TRUE(passes_gradcheck([op, fixed](const std::vector<TD>& x) { return op(x[0], fixed); },
                               {rand_input({2, 3}, 43, c.alo, c.ahi)}));
}

TEST_P(BinaryOp, GradGradcheck) {
  const auto& c = GetParam();
  auto op = c.op;
  EXPECT_TRUE(passes_gradgradcheck(
      [op](const std::vector<TD>& x) { return op(x[0], x[1]); },
      {rand_input({3, 1}, 50, c.alo, c.ahi), rand_input({1, 4}, 51, c.blo, c.bhi)}));
}

INSTANTIATE_TEST_SUITE_P(Elementwise, BinaryOp, ::testing::ValuesIn(binary_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- hand-computed values ----------------------------------------------------------------------

TEST(Elementwise, ArithmeticOnHandValues) {
  TF a = from_vector<float>({1, 2, 3});
  TF b = from_vector<float>({4, 5, 6});
  EXPECT_TRUE(values_are(a + b, {5, 7, 9}));
  EXPECT_TRUE(values_are(a - b, {-3, -3, -3}));
  EXPECT_TRUE(values_are(a * b, {4, 10, 18}));
  EXPECT_TRUE(values_are(b / a, {4, 2.5, 2}));
  EXPECT_TRUE(values_are(add(a, b, -2), {-7, -8, -9}));
  EXPECT_TRUE(values_are(10.f - a, {9, 8, 7}));
  EXPECT_TRUE(values_are(6 / a, {6, 3, 2}));
  EXPECT_TRUE(values_are(a / 2, {0.5, 1, 1.5}));
  EXPECT_TRUE(values_are(a * 2 + 1, {3, 5, 7}));
  EXPECT_TRUE(values_are(1.5 + a, {2.5, 3.5, 4.5}));
  EXPECT_TRUE(values_are(-a, {-1, -2, -3}));
  TF col = from_vector<float>({1, 2}, {2, 1});
  TF row = from_vector<float>({10, 20, 30});
  EXPECT_TRUE(values_are(col + row, {11, 21, 31, 12, 22, 32}));
  EXPECT_TRUE(values_are(row - col, {9, 19, 29, 8, 18, 28}));
}

TEST(Elementwise, PowOnHandValues) {
  TD a = from_vector<double>({2, 3, 4});
  EXPECT_TRUE(values_are(pow(a, from_vector<double>({3, 2, 0.5})), {8, 9, 2}));
  EXPECT_TRUE(values_are(pow(a, 2), {4, 9, 16}));
  EXPECT_TRUE(values_are(a.pow(-1), {0.5, 1.0 / 3, 0.25}, 1e-15));
  EXPECT_TRUE(values_are(pow(2, from_vector<double>({0, 1, 3, -1})), {1, 2, 8, 0.5}));
}

TEST(Elementwise, PowGradientOnHandValues) {
  TD a = from_vector<double>({2, 3}).requires_grad_();
  TD b = from_vector<double>({3, 2}).requires_grad_();
  pow(a, b).sum().backward();
  EXPECT_TRUE(values_are(a.grad(), {12, 6}));                                        // b a^(b-1)
  EXPECT_TRUE(values_are(b.grad(), {8 * std::log(2.0), 9 * std::log(3.0)}, 1e-12));  // a^b ln a
  TD x = from_vector<double>({1.5}).requires_grad_();
  pow(x, 0.0).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {0}));
}

TEST(Elementwise, SigmoidIsStableAtLargeMagnitudes) {
  TD x = from_vector<double>({-100, -30, 0, 30, 100}).requires_grad_();
  TD y = sigmoid(x);
  auto v = y.to_vector();
  EXPECT_NEAR(v[0], std::exp(-100.0), 1e-50);
  EXPECT_GT(v[0], 0);
  EXPECT_EQ(v[2], 0.5);
  EXPECT_EQ(v[4], 1.0);
  y.sum().backward();
  for (double g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(x.grad().at({0}), std::exp(-100.0), 1e-50);
  EXPECT_EQ(x.grad().at({2}), 0.25);

  TF xf = from_vector<float>({-100, 100, -1000, 1000});
  for (float s : sigmoid(xf).to_vector()) EXPECT_FALSE(std::isnan(s));
  EXPECT_TRUE(values_are(sigmoid(xf), {0, 1, 0, 1}, 1e-30));
  EXPECT_TRUE(values_are(silu(xf), {0, 100, 0, 1000}, 1e-30));
}

TEST(Elementwise, SoftplusIsLinearAboveThreshold) {
  TD x = from_vector<double>({25, 0, -30}).requires_grad_();
  TD y = softplus(x);
  EXPECT_EQ(y.at({0}), 25);
  EXPECT_NEAR(y.at({1}), std::log(2.0), 1e-15);
  EXPECT_NEAR(y.at({2}), std::exp(-30.0), 1e-20);
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1, 0.5, sigmoid_ref(-30)}, 1e-15));
  // beta 2, threshold 4: beta * x = 6 > 4 is linear, beta * x = 2 is not.
  TD z = softplus(from_vector<double>({3, 1}), 2, 4);
  EXPECT_TRUE(values_are(z, {3, std::log1p(std::exp(2.0)) / 2}, 1e-15));
  SINEW_EXPECT_ERROR(softplus(x, 0.0), "softplus", "beta");
}

TEST(Elementwise, GeluApproximationsAreCloseButDistinct) {
  TD x = from_vector<double>({-1, 0.5, 2});
  TD exact = gelu(x), approx = gelu(x, "tanh");
  EXPECT_TRUE(
      values_are(exact, {-0.15865525393145707, 0.34573123063700656, 1.9544997361036416}, 1e-12));
  EXPECT_TRUE(all_close(exact, approx, 1e-3, 0));
  EXPECT_FALSE(all_close(exact, approx, 1e-6, 0));
  SINEW_EXPECT_ERROR(gelu(x, "fast"), "gelu", "'none' or 'tanh'", "'fast'");
}

TEST(Elementwise, ActivationsOnHandValues) {
  TD x = from_vector<double>({-2, -0.5, 0, 1.5});
  EXPECT_TRUE(values_are(relu(x), {0, 0, 0, 1.5}));
  EXPECT_TRUE(values_are(leaky_relu(x, 0.1), {-0.2, -0.05, 0, 1.5}, 1e-15));
  EXPECT_TRUE(values_are(elu(x), {std::exp(-2.0) - 1, std::exp(-0.5) - 1, 0, 1.5}, 1e-15));
  EXPECT_TRUE(values_are(clamp(x, -1, 1), {-1, -0.5, 0, 1}));
  EXPECT_TRUE(values_are(abs(x), {2, 0.5, 0, 1.5}));
  EXPECT_TRUE(values_are(sign(x), {-1, -1, 0, 1}));
}

TEST(Elementwise, NaNPropagatesThroughActivations) {
  TD x = from_vector<double>({NAN});
  for (const auto& y : {relu(x), sign(x), abs(x), clamp(x, -1, 1), clamp_min(x, 0), leaky_relu(x),
                        elu(x), sigmoid(x), tanh(x), gelu(x), silu(x), softplus(x)}) {
    EXPECT_TRUE(std::isnan(y.item()));
  }
  TD r = from_vector<double>({-1, NAN, 2});
  r.relu_();
  EXPECT_TRUE(std::isnan(r.at({1})));
  EXPECT_EQ(r.at({0}), 0);
}

TEST(Elementwise, GradientsAtKinksFollowPyTorch) {
  // relu'(0) = 0, leaky_relu'(0) = slope, |x|'(0) = 0, clamp passes gradient at its bounds.
  TD x = from_vector<double>({0, 0, 0, -1, 1}).requires_grad_();
  TD parts = relu(x.slice(0, 0, 1)).sum() + leaky_relu(x.slice(0, 1, 2), 0.3).sum() +
             abs(x.slice(0, 2, 3)).sum() + clamp(x.slice(0, 3, 5), -1, 1).sum();
  parts.backward();
  EXPECT_TRUE(values_are(x.grad(), {0, 0.3, 0, 1, 1}, 1e-15));
}

TEST(Elementwise, ReluGradientSelectsRatherThanMultiplies) {
  // As PyTorch's threshold_backward: 0 where x <= 0 whatever the incoming gradient (even inf or
  // NaN); leaky_relu scales it by the slope there.
  TD x = from_vector<double>({-1, 0, 2, -3}).requires_grad_();
  TD g = from_vector<double>({INFINITY, NAN, 5, 7});
  EXPECT_EQ(autograd::grad<double>({relu(x)}, {x}, {g})[0].to_vector(),
            (std::vector<double>{0, 0, 5, 0}));
  const std::vector<double> leaky =
      autograd::grad<double>({leaky_relu(x, 0.5)}, {x}, {g})[0].to_vector();
  EXPECT_EQ(leaky[0], INFINITY);
  EXPECT_TRUE(std::isnan(leaky[1]));
  EXPECT_EQ(leaky[2], 5);
  EXPECT_EQ(leaky[3], 3.5);
  // With create_graph the gradient is itself differentiable in g: d/dg sum(relu'(x) g) = relu'(x).
  TD gg = from_vector<double>({1, 1, 1, 1}).requires_grad_();
  TD dx = autograd::grad<double>({leaky_relu(x, 0.5)}, {x}, {gg}, {.create_graph = true})[0];
  EXPECT_EQ(autograd::grad<double>({dx.sum()}, {gg})[0].to_vector(),
            (std::vector<double>{0.5, 0.5, 1, 0.5}));
  // ... and gives the same values as the one-pass gradient, inf and NaN included.
  TD gi = g.detach().requires_grad_();
  EXPECT_EQ(autograd::grad<double>({relu(x)}, {x}, {gi}, {.create_graph = true})[0].to_vector(),
            (std::vector<double>{0, 0, 5, 0}));
  const std::vector<double> leaky_graph =
      autograd::grad<double>({leaky_relu(x, 0.5)}, {x}, {gi}, {.create_graph = true})[0]
          .to_vector();
  EXPECT_EQ(leaky_graph[0], INFINITY);
  EXPECT_TRUE(std::isnan(leaky_graph[1]));
  EXPECT_EQ(leaky_graph[3], 3.5);
}

TEST(Elementwise, MinimumAndMaximumSplitTheGradientOnTies) {
  TD a = from_vector<double>({1, 2, 3}).requires_grad_();
  TD b = from_vector<double>({2, 2, 2}).requires_grad_();
  TD hi = maximum(a, b);
  EXPECT_TRUE(values_are(hi, {2, 2, 3}));
  hi.sum().backward();
  EXPECT_TRUE(values_are(a.grad(), {0, 0.5, 1}));
  EXPECT_TRUE(values_are(b.grad(), {1, 0.5, 0}));

  TD c = from_vector<double>({1, 2, 3}).requires_grad_();
  TD d = from_vector<double>({2, 2, 2}).requires_grad_();
  TD lo = minimum(c, d);
  EXPECT_TRUE(values_are(lo, {1, 2, 2}));
  lo.sum().backward();
  EXPECT_TRUE(values_are(c.grad(), {1, 0.5, 0}));
  EXPECT_TRUE(values_are(d.grad(), {0, 0.5, 1}));
}

TEST(Elementwise, MinimumAndMaximumPropagateNaN) {
  TF a = from_vector<float>({NAN, 1, 2});
  TF b = from_vector<float>({0, NAN, 1});
  auto hi = maximum(a, b).to_vector(), lo = minimum(a, b).to_vector();
  EXPECT_TRUE(std::isnan(hi[0]) && std::isnan(hi[1]));
  EXPECT_TRUE(std::isnan(lo[0]) && std::isnan(lo[1]));
  EXPECT_EQ(hi[2], 2);
  EXPECT_EQ(lo[2], 1);
}

TEST(Elementwise, WhereSelectsAndRoutesGradients) {
  Tensor<bool> cond = from_vector<bool>({true, false, true});
  TD a = from_vector<double>({1, 2, 3}).requires_grad_();
  TD b = from_vector<double>({10, 20, 30}).requires_grad_();
  TD y = where(cond, a, b);
  EXPECT_TRUE(values_are(y, {1, 20, 3}));
  (y * from_vector<double>({1, 2, 3})).sum().backward();
  EXPECT_TRUE(values_are(a.grad(), {1, 0, 3}));
  EXPECT_TRUE(values_are(b.grad(), {0, 2, 0}));
  // Broadcast condition [2, 1] against [3], and the scalar forms.
  Tensor<bool> rows = from_vector<bool>({true, false}, {2, 1});
  TD r = where(rows, from_vector<double>({1, 2, 3}), 0.0);
  EXPECT_EQ(r.shape(), Shape({2, 3}));
  EXPECT_TRUE(values_are(r, {1, 2, 3, 0, 0, 0}));
  EXPECT_TRUE(values_are(where(rows, -1.0, from_vector<double>({1, 2, 3})), {-1, -1, -1, 1, 2, 3}));
  EXPECT_TRUE(passes_gradcheck([rows](const std::vector<TD>& x) { return where(rows, x[0], x[1]); },
                               {rand_input({3}, 60), rand_input({2, 1}, 61)}));
}

TEST(Elementwise, MemberFunctionsMatchFreeFunctions) {
  TD x = rand_input({2, 3}, 70, 0.5, 2).detach();
  EXPECT_TRUE(all_close(x.neg(), neg(x), 0, 0));
  EXPECT_TRUE(all_close(x.exp(), exp(x), 0, 0));
  EXPECT_TRUE(all_close(x.log(), log(x), 0, 0));
  EXPECT_TRUE(all_close(x.sqrt(), sqrt(x), 0, 0));
  EXPECT_TRUE(all_close(x.abs(), abs(x), 0, 0));
  EXPECT_TRUE(all_close(x.sigmoid(), sigmoid(x), 0, 0));
  EXPECT_TRUE(all_close(x.tanh(), tanh(x), 0, 0));
  EXPECT_TRUE(all_close(x.relu(), relu(x), 0, 0));
  EXPECT_TRUE(all_close(x.pow(1.5), pow(x, 1.5), 0, 0));
  EXPECT_TRUE(all_close(x.clamp(0.7, 1.2), clamp(x, 0.7, 1.2), 0, 0));
}

// ---- comparisons and logical ops ---------------------------------------------------------------

std::vector<bool> bools(const Tensor<bool>& t) { return t.to_vector(); }

TEST(Elementwise, ComparisonsWithTensorsAndScalars) {
  TF a = from_vector<float>({1, 2, 3});
  TF b = from_vector<float>({3, 2, 1});
  EXPECT_EQ(bools(a == b), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(bools(eq(a, b)), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(bools(a != b), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(bools(a < b), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(bools(a <= b), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(bools(a > b), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(bools(a >= b), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(bools(a == 2), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(bools(a != 2.0), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(bools(a < 2.5), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(bools(a <= 2), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(bools(a > 1.5f), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(bools(a >= 3), (std::vector<bool>{false, false, true}));
  // As in PyTorch, a float tensor is compared with the scalar rounded to float...
  EXPECT_EQ(bools(from_vector<float>({0.1f}) == 0.1), (std::vector<bool>{true}));
  EXPECT_EQ(bools(from_vector<float>({0.1f}) > 0.1), (std::vector<bool>{false}));
  // ...and an integer tensor with the exact scalar.
  EXPECT_EQ(bools(from_vector<int64_t>({2, 3}) < 2.5), (std::vector<bool>{true, false}));
  EXPECT_EQ(bools(from_vector<int64_t>({2}) == 2.5), (std::vector<bool>{false}));
}

TEST(Elementwise, ComparisonsBroadcastAndWorkOnIntegers) {
  TD col = from_vector<double>({1, 2}, {2, 1});
  TD row = from_vector<double>({0, 1, 2});
  Tensor<bool> lt = col < row;
  EXPECT_EQ(lt.shape(), Shape({2, 3}));
  EXPECT_EQ(bools(lt), (std::vector<bool>{false, false, true, false, false, false}));
  // Against a strided operand: [[1], [2]] >= [0, 2].
  EXPECT_EQ(bools(col >= row.slice(0, 0, 3, 2)), (std::vector<bool>{true, false, true, true}));
  Tensor<int64_t> i = from_vector<int64_t>({-1, 5, 7});
  EXPECT_EQ(bools(i > from_vector<int64_t>({0, 5, 6})), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(bools(i == 5), (std::vector<bool>{false, true, false}));
  // Comparison results carry no autograd history.
  TD x = rand_input({3});
  EXPECT_FALSE((x > 0.0).requires_grad());
}

TEST(Elementwise, LogicalOps) {
  Tensor<bool> p = from_vector<bool>({true, true, false, false});
  Tensor<bool> q = from_vector<bool>({true, false, true, false});
  EXPECT_EQ(bools(logical_and(p, q)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(logical_or(p, q)), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(bools(logical_xor(p, q)), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(logical_not(p)), (std::vector<bool>{false, false, true, true}));
  Tensor<bool> col = from_vector<bool>({true, false}, {2, 1});
  Tensor<bool> row = from_vector<bool>({true, false});
  EXPECT_EQ(bools(logical_and(col, row)), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(p == q), (std::vector<bool>{true, false, false, true}));
  SINEW_EXPECT_ERROR(logical_or(p, from_vector<bool>({true, false, true})), "logical_or", "[4]",
                     "[3]");
}

// ---- in-place ops ------------------------------------------------------------------------------

TEST(InPlace, ArithmeticWithTensorsAndScalarsBumpsTheVersion) {
  TD x = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  TD row = from_vector<double>({1, 10, 100});
  uint64_t v = x.version();
  EXPECT_EQ(&x.add_(row), &x);
  EXPECT_TRUE(values_are(x, {2, 12, 103, 5, 15, 106}));
  EXPECT_EQ(x.version(), ++v);
  x.sub_(row, 2);
  EXPECT_TRUE(values_are(x, {0, -8, -97, 3, -5, -94}));
  EXPECT_EQ(x.version(), ++v);
  x.add_(row, 0.5);
  EXPECT_TRUE(values_are(x, {0.5, -3, -47, 3.5, 0, -44}));
  EXPECT_EQ(x.version(), ++v);
  x.add_(1.5);
  x.sub_(0.5);
  EXPECT_TRUE(values_are(x, {1.5, -2, -46, 4.5, 1, -43}));
  v += 2;
  EXPECT_EQ(x.version(), v);
  x.mul_(from_vector<double>({2, 0.5}, {2, 1}));
  EXPECT_TRUE(values_are(x, {3, -4, -92, 2.25, 0.5, -21.5}));
  x.mul_(-2);
  EXPECT_TRUE(values_are(x, {-6, 8, 184, -4.5, -1, 43}));
  x.div_(from_vector<double>({-2, 4, 8}));
  EXPECT_TRUE(values_are(x, {3, 2, 23, 2.25, -0.25, 5.375}));
  x.div_(0.25);
  EXPECT_TRUE(values_are(x, {12, 8, 92, 9, -1, 21.5}));
  v += 4;
  EXPECT_EQ(x.version(), v);
}

TEST(InPlace, ClampReluFillZeroCopy) {
  TD x = from_vector<double>({-2, -0.5, 0.5, 2});
  uint64_t v = x.version();
  x.clamp_(-1, 1);
  EXPECT_TRUE(values_are(x, {-1, -0.5, 0.5, 1}));
  x.clamp_(std::nullopt, 0.25);
  EXPECT_TRUE(values_are(x, {-1, -0.5, 0.25, 0.25}));
  x.clamp_(-0.75, std::nullopt);
  EXPECT_TRUE(values_are(x, {-0.75, -0.5, 0.25, 0.25}));
  x.relu_();
  EXPECT_TRUE(values_are(x, {0, 0, 0.25, 0.25}));
  x.fill_(7);
  EXPECT_TRUE(values_are(x, {7, 7, 7, 7}));
  x.zero_();
  EXPECT_TRUE(values_are(x, {0, 0, 0, 0}));
  EXPECT_EQ(x.version(), v + 6);
  SINEW_EXPECT_ERROR(x.clamp_(std::nullopt, std::nullopt), "clamp_", "at least one");

  TD m = zeros<double>({2, 3});
  m.copy_(from_vector<double>({1, 2, 3}));  // broadcast [3] into [2, 3]
  EXPECT_TRUE(values_are(m, {1, 2, 3, 1, 2, 3}));
  m.copy_(from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}).t());  // from a transposed source
  EXPECT_TRUE(values_are(m, {1, 3, 5, 2, 4, 6}));
  EXPECT_EQ(m.version(), 2u);
  SINEW_EXPECT_ERROR(m.copy_(zeros<double>({4})), "copy_", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(m.copy_(zeros<double>({3, 3})), "copy_", "[3, 3]", "[2, 3]");
}

TEST(InPlace, WritesThroughViewsIntoTheBase) {
  TD base = zeros<double>({2, 3});
  TD col = base.slice(1, 1, 2);
  col.add_(5.0);
  base.t().select(0, 2).fill_(-1);
  EXPECT_TRUE(values_are(base, {0, 5, -1, 0, 5, -1}));
  EXPECT_EQ(base.version(), col.version());  // one counter per storage
}

TEST(InPlace, RejectsLeafThatRequiresGradUnlessGradIsOff) {
  TD w = from_vector<double>({1, 2}).requires_grad_();
  SINEW_EXPECT_ERROR(w.add_(1.0), "add_", "leaf tensor that requires grad", "NoGradGuard");
  SINEW_EXPECT_ERROR(w.mul_(from_vector<double>({1, 1})), "mul_", "leaf");
  SINEW_EXPECT_ERROR(w.relu_(), "relu_", "leaf");
  SINEW_EXPECT_ERROR(w.zero_(), "zero_", "leaf");
  SINEW_EXPECT_ERROR(w.sub_(1.0), "sub_", "leaf");
  SINEW_EXPECT_ERROR(w.div_(2.0), "div_", "leaf");
  SINEW_EXPECT_ERROR(w.copy_(zeros<double>({2})), "copy_", "leaf");
  EXPECT_TRUE(values_are(w, {1, 2}));  // nothing was written
  {
    NoGradGuard no_grad;
    uint64_t v = w.version();
    w.sub_(from_vector<double>({0.5, 0.5}), 2);
    EXPECT_EQ(w.version(), v + 1);
  }
  EXPECT_TRUE(values_are(w, {0, 1}));
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
}

TEST(InPlace, RejectsWritesToExpandedTensors) {
  TD e = ones<double>({3}).expand({2, 3});
  SINEW_EXPECT_ERROR(e.add_(1.0), "add_", "expanded", "[2, 3]");
  SINEW_EXPECT_ERROR(e.fill_(0), "fill_", "expanded");
  SINEW_EXPECT_ERROR(e.copy_(zeros<double>({2, 3})), "copy_", "expanded");
  EXPECT_TRUE(values_are(e, {1, 1, 1, 1, 1, 1}));
  // Expanding a size-1 dimension to size 1 is not an overlap.
  TD ok = ones<double>({1, 3}).expand({1, 3});
  ok.add_(1.0);
  EXPECT_TRUE(values_are(ok, {2, 2, 2}));
}

TEST(InPlace, RejectsShapesThatDoNotBroadcastIntoTheTarget) {
  TD x = zeros<double>({3});
  SINEW_EXPECT_ERROR(x.add_(zeros<double>({2, 3})), "add_", "[2, 3]", "[3]");
  SINEW_EXPECT_ERROR(x.sub_(zeros<double>({2, 3})), "sub_", "[2, 3]", "[3]");
  SINEW_EXPECT_ERROR(x.mul_(zeros<double>({2})), "mul_", "[3]", "[2]");
  SINEW_EXPECT_ERROR(x.div_(zeros<double>({2, 1})), "div_", "[2, 1]", "[3]");
}

TEST(InPlace, AutogradThroughInPlaceOnNonLeaves) {
  TD x = from_vector<double>({1, -2, 3}).requires_grad_();
  TD y = x * 2.0;
  y.add_(1.0);
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(values_are(y, {3, -3, 7}));
  y.sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {2, 2, 2}));

  // mul_ by a tensor that requires grad: d/dx = 2 w, d/dw = 2 x (the value before the write).
  TD a = from_vector<double>({1, 2, 3}).requires_grad_();
  TD w = from_vector<double>({4, 5, 6}).requires_grad_();
  TD z = a * 2.0;
  z.mul_(w);
  z.sum().backward();
  EXPECT_TRUE(values_are(a.grad(), {8, 10, 12}));
  EXPECT_TRUE(values_are(w.grad(), {2, 4, 6}));

  // relu_ and clamp_ read the input before the write.
  TD r = from_vector<double>({-1, 2}).requires_grad_();
  TD s = r * 3.0;
  s.relu_();
  s.clamp_(0, 5);
  s.sum().backward();
  EXPECT_TRUE(values_are(r.grad(), {0, 0}));  // 6 is clamped to 5: no gradient
  TD r2 = from_vector<double>({-1, 1}).requires_grad_();
  TD s2 = r2 * 3.0;
  s2.relu_();
  s2.sum().backward();
  EXPECT_TRUE(values_are(r2.grad(), {0, 3}));

  // A tensor multiplied by itself in place: y = (2x)^2, dy/dx = 8x.
  TD q = from_vector<double>({1, -2}).requires_grad_();
  TD sq = q * 2.0;
  sq.mul_(sq);
  EXPECT_TRUE(values_are(sq, {4, 16}));
  sq.sum().backward();
  EXPECT_TRUE(values_are(q.grad(), {8, -16}));

  // A leaf that does not require grad becomes part of the graph when the operand does.
  TD acc = zeros<double>({2});
  TD g = from_vector<double>({1, 2}).requires_grad_();
  acc.add_(g, 3);
  EXPECT_TRUE(acc.requires_grad());
  acc.sum().backward();
  EXPECT_TRUE(values_are(g.grad(), {3, 3}));
}

TEST(InPlace, GradcheckThroughInPlaceOps) {
  auto in = [](uint64_t seed, Shape s, double lo = -1, double hi = 1) {
    return rand_input(std::move(s), seed, lo, hi);
  };
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] * 1.0;
        y.add_(x[1], 2.0);
        return y;
      },
      {in(80, {2, 3}), in(81, {3})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] * 1.0;
        y.sub_(x[1], 0.5);
        y.sub_(2.0);
        return y;
      },
      {in(82, {2, 3}), in(83, {2, 1})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] * 1.0;
        y.mul_(x[1]);
        y.mul_(-1.5);
        return y;
      },
      {in(84, {2, 3}), in(85, {3})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] + 0.0;
        y.div_(x[1]);
        y.div_(4.0);
        return y;
      },
      {in(86, {2, 3}), in(87, {2, 3}, 0.5, 2)}));
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] * 2.0;
        y.clamp_(-1, 1);
        y.relu_();
        return y;
      },
      {in(88, {2, 3})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] * 2.0;
        y.copy_(x[1]);  // y's old value no longer matters: its gradient is zero
        return y * x[0];
      },
      {in(89, {2, 3}), in(90, {3})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] * 2.0;
        y.fill_(3);
        return y + x[0];
      },
      {in(91, {2, 3})}));
  EXPECT_TRUE(passes_gradcheck(
      [](const std::vector<TD>& x) {
        TD y = x[0] * 1.0;
        y.mul_(y);
        return y;
      },
      {in(92, {2, 3})}));
}

TEST(InPlace, ModifyingASavedTensorFailsAtBackward) {
  TD x = from_vector<double>({1, 2}).requires_grad_();
  TD y = x * 2.0;
  TD z = y * y;  // saves y
  y.add_(1.0);
  SINEW_EXPECT_ERROR(z.sum().backward(), "backward", "modified by an in-place operation", "mul");

  // exp saves its output; changing that output in place invalidates the graph.
  TD e = exp(x);
  e.mul_(2.0);
  SINEW_EXPECT_ERROR(e.sum().backward(), "backward", "in-place", "exp");

  // Changing a saved leaf under NoGradGuard (an optimizer step before backward) is caught too.
  TD w = from_vector<double>({1, 2}).requires_grad_();
  TD loss = (w * w).sum();
  {
    NoGradGuard no_grad;
    w.sub_(0.1);
  }
  SINEW_EXPECT_ERROR(loss.backward(), "modified by an in-place operation");

  // Ops that save nothing are unaffected.
  TD u = from_vector<double>({1, 2}).requires_grad_();
  TD v = u + 1.0;
  TD sum = v * 3.0;
  v.add_(5.0);
  sum.sum().backward();
  EXPECT_TRUE(values_are(u.grad(), {3, 3}));
}

TEST(InPlace, TrackedInPlaceOnAViewIsRejected) {
  TD x = from_vector<double>({1, 2, 3, 4}).requires_grad_();
  TD v = (x * 2.0).view({2, 2});
  SINEW_EXPECT_ERROR(v.add_(1.0), "add_", "view");
}

// ---- errors ------------------------------------------------------------------------------------

TEST(Elementwise, BroadcastMismatchNamesTheOpAndBothShapes) {
  TD a = zeros<double>({2, 3}), b = zeros<double>({4});
  SINEW_EXPECT_ERROR(a + b, "add", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(a - b, "sub", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(a * b, "mul", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(a / b, "div", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(pow(a, b), "pow", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(maximum(a, b), "maximum", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(minimum(a, b), "minimum", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(where(a > 0.0, a, b), "where", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(where(b > 0.0, a, a), "where", "[4]", "[2, 3]");
  SINEW_EXPECT_ERROR((void)(a < b), "operator<", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR((void)(a == b), "operator==", "[2, 3]", "[4]");
  SINEW_EXPECT_ERROR(zeros<double>({2, 3, 4}) + zeros<double>({3, 1, 5}), "add", "[2, 3, 4]",
                     "[3, 1, 5]");
}

TEST(Elementwise, ClampNeedsABound) {
  TD x = zeros<double>({2});
  SINEW_EXPECT_ERROR(clamp(x, std::nullopt, std::nullopt), "clamp", "at least one of min and max");
  SINEW_EXPECT_ERROR(x.clamp(std::nullopt, std::nullopt), "clamp");
}

TEST(Elementwise, ClampWithMinAboveMaxGivesMax) {
  // As torch.clamp: min(max(x, min), max), so min > max gives max everywhere.
  TD c = clamp(from_vector<double>({1, 5, NAN}), 3, 2);
  EXPECT_TRUE(values_are(c.slice(0, 0, 2), {2, 2}));
  EXPECT_TRUE(std::isnan(c.at({2})));
  EXPECT_TRUE(values_are(clamp(from_vector<int64_t>({1, 5}), 3, 2), {2, 2}));
}

// ---- rounding ----------------------------------------------------------------------------------

TEST(Rounding, FloorCeilRoundTruncOnHandValues) {
  TD x = from_vector<double>({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, -1.7, 1.7});
  EXPECT_TRUE(values_are(floor(x), {-3, -2, -1, 0, 1, 2, 2, -2, 1}));
  EXPECT_TRUE(values_are(ceil(x), {-2, -1, -0.0, 1, 2, 3, 3, -1, 2}));
  // Half to even, as torch.round: -2.5 -> -2, 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
  EXPECT_TRUE(values_are(round(x), {-2, -2, -0.0, 0, 2, 2, 2, -2, 2}));
  EXPECT_TRUE(values_are(trunc(x), {-2, -1, -0.0, 0, 1, 2, 2, -1, 1}));
  EXPECT_TRUE(std::signbit(round(from_vector<double>({-0.5})).item()));  // -0, as PyTorch
  TF f = from_vector<float>({0.5f, 1.5f, -3.5f, 1e20f, INFINITY, NAN});
  TF r = f.round();
  EXPECT_TRUE(values_are(r.slice(0, 0, 4), {0, 2, -4, double(1e20f)}));
  EXPECT_EQ(r.at({4}), INFINITY);
  EXPECT_TRUE(std::isnan(r.at({5})));
  EXPECT_TRUE(values_are(f.floor().slice(0, 0, 3), {0, 1, -4}));
  EXPECT_TRUE(values_are(f.ceil().slice(0, 0, 3), {1, 2, -3}));
  EXPECT_TRUE(values_are(f.trunc().slice(0, 0, 3), {0, 1, -3}));
  // Strided input.
  EXPECT_TRUE(values_are(round(x.slice(0, 0, 9, 4)), {-2, 2, 2}));
}

TEST(Rounding, IntegerTensorsComeBackUnchanged) {
  Tensor<int64_t> i = from_vector<int64_t>({7, -2, 3});
  Tensor<int64_t> r = round(i);
  EXPECT_TRUE(values_are(r, {7, -2, 3}));
  EXPECT_TRUE(values_are(i.floor(), {7, -2, 3}));
  Tensor<uint8_t> u = ceil(from_vector<uint8_t>({250, 0}));
  EXPECT_TRUE(values_are(u, {250, 0}));
  EXPECT_TRUE(values_are(trunc(from_vector<uint8_t>({9})), {9}));
}

TEST(Rounding, GradientIsZero) {
  TD x = from_vector<double>({-1.5, 0.3, 2.7}).requires_grad_();
  (floor(x) + ceil(x) * 2 + round(x) * 3 + trunc(x) * 4 + x).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {1, 1, 1}));  // only the last term
  EXPECT_TRUE(round(x).requires_grad());
  EXPECT_TRUE(passes_gradcheck([](const std::vector<TD>& in) { return floor(in[0]) + in[0]; },
                               {from_vector<double>({-1.3, 0.4, 2.2}).requires_grad_()}));
}

// Device mismatch needs a second device: covered by the CUDA parity tests when CUDA is built.

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew

namespace sinew {
namespace {

// where's backward reads cond: changing cond in place after the forward must be caught, not give a
// silently wrong gradient.
TEST(Where, InPlaceChangeOfConditionAfterForwardIsAVersionError) {
  Tensor<double> a = from_vector<double>({1, 2, 3}, {3});
  a.requires_grad_();
  Tensor<double> b = zeros<double>({3});
  Tensor<bool> cond = from_vector<bool>({true, false, true}, {3});
  Tensor<double> y = where(cond, a, b).sum();
  cond.fill_(0);
  SINEW_EXPECT_ERROR(y.backward(), "backward", "modified by an in-place operation", "where");
}

TEST(Where, GradientFollowsTheCondition) {
  Tensor<double> a = from_vector<double>({1, 2, 3}, {3});
  a.requires_grad_();
  Tensor<bool> cond = from_vector<bool>({true, false, true}, {3});
  where(cond, a, 0.0).sum().backward();
  EXPECT_TRUE(sinew::testing::values_are(a.grad(), {1, 0, 1}));
}

}  // namespace
}  // namespace sinew
