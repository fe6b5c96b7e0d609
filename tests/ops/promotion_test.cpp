// Tests for core/promotion.hpp: the result type of every op kind on every element type, as
// static_asserts (the table), and against PyTorch's dtypes and values for each element type
// (fixtures/ops/promotion.json, written by fixtures/gen_promotion.py); the regressions that
// started it (a sum of bools, a uint8 sum); the errors of the integer rules.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "fixture.hpp"
#include "test_util.hpp"

using namespace sinew;
using sinew::testing::load_fixture;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {

// ---- the table, checked at compile time ---------------------------------------------------------

template <class E, class R>
inline constexpr bool is_tensor_of_v = std::is_same_v<std::remove_cvref_t<E>, Tensor<R>>;

// An operand for decltype (never evaluated).
#define X std::declval<const Tensor<T>&>()

// One row of core/promotion.hpp's table: T's result for integer (I) and floating (F) scalars, for
// true division and math (D), and for sum/prod/cumsum/cumprod (A).
template <class T, class I, class F, class D, class A>
constexpr bool row() {
  static_assert(is_tensor_of_v<decltype(X + X), T>);
  static_assert(is_tensor_of_v<decltype(X * X), T>);
  static_assert(is_tensor_of_v<decltype(X / X), D>);
  static_assert(is_tensor_of_v<decltype(X + 2), I>);
  static_assert(is_tensor_of_v<decltype(2 + X), I>);
  static_assert(is_tensor_of_v<decltype(X * int64_t{2}), I>);
  static_assert(is_tensor_of_v<decltype(X * uint8_t{2}), I>);
  static_assert(is_tensor_of_v<decltype(X + 2.5), F>);
  static_assert(is_tensor_of_v<decltype(X * 2.5f), F>);
  static_assert(is_tensor_of_v<decltype(X + true), T>);  // a bool scalar never promotes
  static_assert(is_tensor_of_v<decltype(X / 2), D>);
  static_assert(is_tensor_of_v<decltype(2.5 / X), D>);
  static_assert(is_tensor_of_v<decltype(pow(X, 2)), I>);
  static_assert(is_tensor_of_v<decltype(pow(2, X)), I>);
  static_assert(is_tensor_of_v<decltype(pow(X, 0.5)), F>);
  static_assert(is_tensor_of_v<decltype(X.pow(2)), I>);
  static_assert(is_tensor_of_v<decltype(where(X == X, X, 2)), I>);
  static_assert(is_tensor_of_v<decltype(where(X == X, 2.5, X)), F>);
  static_assert(is_tensor_of_v<decltype(exp(X)), D>);
  static_assert(is_tensor_of_v<decltype(X.sqrt()), D>);
  static_assert(is_tensor_of_v<decltype(sigmoid(X)), D>);
  static_assert(is_tensor_of_v<decltype(sign(X)), T>);
  static_assert(is_tensor_of_v<decltype(X.sum()), A>);
  static_assert(is_tensor_of_v<decltype(sum(X, {0}, true)), A>);
  static_assert(is_tensor_of_v<decltype(X.prod()), A>);
  static_assert(is_tensor_of_v<decltype(cumsum(X, 0)), A>);
  static_assert(is_tensor_of_v<decltype(X.cumprod(0)), A>);
  static_assert(is_tensor_of_v<decltype(X.max()), T>);
  static_assert(is_tensor_of_v<decltype(amin(X, {0})), T>);
  static_assert(is_tensor_of_v<decltype(max(X, 0).values), T>);
  static_assert(is_tensor_of_v<decltype(X.argmax()), int64_t>);
  static_assert(is_tensor_of_v<decltype(X < X), bool>);
  static_assert(is_tensor_of_v<decltype(X.eq(2.5)), bool>);
  static_assert(is_tensor_of_v<decltype(2 >= X), bool>);
  static_assert(is_tensor_of_v<decltype(isnan(X)), bool>);
  static_assert(is_tensor_of_v<decltype(X.all()), bool>);
  static_assert(is_tensor_of_v<decltype(any(X, 0)), bool>);
  static_assert(std::is_same_v<decltype(X.allclose(X)), bool>);
  if constexpr (!std::is_same_v<T, bool>) {  // bool: compile errors, as PyTorch raises
    static_assert(is_tensor_of_v<decltype(X - X), T>);
    static_assert(is_tensor_of_v<decltype(X - 2), I>);
    static_assert(is_tensor_of_v<decltype(2.5 - X), F>);
    static_assert(is_tensor_of_v<decltype(-X), T>);
    static_assert(is_tensor_of_v<decltype(abs(X)), T>);
    static_assert(is_tensor_of_v<decltype(X.relu()), T>);
    static_assert(is_tensor_of_v<decltype(X.round()), T>);
    static_assert(is_tensor_of_v<decltype(floor(X)), T>);
    static_assert(is_tensor_of_v<decltype(clamp(X, 0, 1)), T>);
    static_assert(is_tensor_of_v<decltype(pow(X, X)), T>);
  }
  if constexpr (is_floating_dtype_v<T>) {  // integer: compile errors, as PyTorch raises
    static_assert(is_tensor_of_v<decltype(X.mean()), T>);
    static_assert(is_tensor_of_v<decltype(X.var()), T>);
  }
  return true;
}

//                 T        int scalar  float scalar  x / y, exp  sum, cumsum
static_assert(row<float, float, float, float, float>());
static_assert(row<double, double, double, double, double>());
static_assert(row<int64_t, int64_t, float, float, int64_t>());
static_assert(row<uint8_t, uint8_t, float, float, int64_t>());
static_assert(row<bool, int64_t, float, float, int64_t>());
#undef X

// ---- against PyTorch ----------------------------------------------------------------------------

double decode(const nlohmann::json& v) {
  if (!v.is_string()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  return s == "inf" ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
}

// An input from the fixture, through double (bool ones through uint8: no std::vector<bool>).
template <class T>
Tensor<T> input(const nlohmann::json& values, const Shape& shape) {
  std::vector<double> v;
  for (const auto& e : values)
    v.push_back(e.is_boolean() ? double(e.get<bool>()) : e.get<double>());
  if constexpr (std::is_same_v<T, bool>) {
    return from_vector<double>(v, shape).to<uint8_t>().to<bool>();
  } else {
    return from_vector<double>(v, shape).to<T>();
  }
}

// Same dtype, shape and values as PyTorch's result (float32 to a few ulps, integers exactly).
template <class R>
::testing::AssertionResult matches(const nlohmann::json& want, const Tensor<R>& got) {
  if (want.contains("error")) {
    return ::testing::AssertionFailure() << "PyTorch raises: " << want.at("error");
  }
  if (want.at("dtype").get<std::string>() != dtype_name(got.dtype())) {
    return ::testing::AssertionFailure()
           << "dtype " << got.dtype() << ", PyTorch gives " << want.at("dtype");
  }
  Shape shape(want.at("shape").get<std::vector<int64_t>>());
  if (got.shape() != shape) {
    return ::testing::AssertionFailure() << "shape " << got.shape() << ", PyTorch gives " << shape;
  }
  // Bool results through uint8: see values_are above.
  auto v = got.template to<std::conditional_t<std::is_same_v<R, bool>, uint8_t, R>>().to_vector();
  const double rtol = std::is_same_v<R, float> ? 1e-6 : 1e-13;
  for (size_t i = 0; i < v.size(); ++i) {
    double x = double(v[i]), y = decode(want.at("data")[i]);
    bool same = std::isnan(y) ? std::isnan(x)
                : is_floating_dtype_v<R> && std::isfinite(y)
                    ? std::abs(x - y) <= rtol * std::max(1.0, std::abs(y))
                    : x == y;
    if (!same) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << x << ", PyTorch gives " << y;
    }
  }
  return ::testing::AssertionSuccess();
}

// A PyTorch result with its dtype replaced by bool.
nlohmann::json as_bool(nlohmann::json want) {
  want["dtype"] = "bool";
  return want;
}

bool torch_raises(const nlohmann::json& cases, const std::string& name) {
  return cases.at(name).contains("error");
}

template <class T>
class Promotion : public ::testing::Test {};

struct TypeNames {
  template <class T>
  static std::string GetName(int) {
    return dtype_name(dtype_of<T>());
  }
};
using ElementTypes = ::testing::Types<float, double, int64_t, uint8_t, bool>;
TYPED_TEST_SUITE(Promotion, ElementTypes, TypeNames);

#define CHECK_CASE(NAME, EXPR) EXPECT_TRUE(matches(cases.at(NAME), EXPR)) << NAME << ": " #EXPR

TYPED_TEST(Promotion, EveryOpMatchesPyTorch) {
  using T = TypeParam;
  constexpr bool is_bool = std::is_same_v<T, bool>;
  const nlohmann::json fx = load_fixture("ops/promotion.json").at(dtype_name(dtype_of<T>()));
  const nlohmann::json& cases = fx.at("cases");
  const Tensor<T> a = input<T>(fx.at("a"), {2, 3}), b = input<T>(fx.at("b"), {2, 3});
  const Tensor<T> c = b.select(0, 0).contiguous();
  const Tensor<bool> cond = input<bool>(fx.at("cond"), {2, 3});

  CHECK_CASE("add", a + b);
  CHECK_CASE("add_alpha", add(a, b, 2));
  CHECK_CASE("add_broadcast", a + c);
  CHECK_CASE("mul", a * b);
  CHECK_CASE("div", a / b);
  CHECK_CASE("maximum", maximum(a, b));
  CHECK_CASE("minimum", minimum(a, b));
  CHECK_CASE("sign", sign(a));
  CHECK_CASE("exp", exp(a));
  CHECK_CASE("log", log(a));
  CHECK_CASE("sqrt", a.sqrt());
  CHECK_CASE("sin", sin(a));
  CHECK_CASE("tanh", a.tanh());
  CHECK_CASE("sigmoid", sigmoid(a));
  CHECK_CASE("isnan", isnan(a / b));
  CHECK_CASE("isinf", (a / b).isinf());
  CHECK_CASE("isfinite", isfinite(a));
  CHECK_CASE("sum", a.sum());
  CHECK_CASE("sum_dim0", sum(a, {0}));
  CHECK_CASE("sum_dim1_keepdim", a.sum({1}, true));
  CHECK_CASE("prod", prod(a));
  CHECK_CASE("prod_dim1", a.prod({1}));
  CHECK_CASE("cumsum_dim0", cumsum(a, 0));
  CHECK_CASE("cumsum_dim1", a.cumsum(1));
  CHECK_CASE("cumprod_dim1", cumprod(a, -1));
  CHECK_CASE("max", a.max());
  CHECK_CASE("min", min(a));
  CHECK_CASE("amax_dim0", amax(a, {0}));
  CHECK_CASE("amin_dim1", a.amin({1}));
  CHECK_CASE("max_dim1_values", max(a, 1).values);
  CHECK_CASE("max_dim1_indices", max(a, 1).indices);
  if constexpr (!std::is_same_v<T, uint8_t>) {
    CHECK_CASE("all", a.all());
    CHECK_CASE("all_dim1", all(a, 1));
    CHECK_CASE("any_dim0", a.any(0));
  } else {  // PyTorch 1.13 answers in uint8 here, Sinew in bool (core/promotion.hpp): same values
    EXPECT_TRUE(matches(as_bool(cases.at("all")), a.all()));
    EXPECT_TRUE(matches(as_bool(cases.at("all_dim1")), all(a, 1)));
    EXPECT_TRUE(matches(as_bool(cases.at("any_dim0")), a.any(0)));
  }
  CHECK_CASE("eq", a == b);
  CHECK_CASE("lt", a.lt(b));
  CHECK_CASE("ge_broadcast", a >= c);
  CHECK_CASE("where", where(cond, a, b));
  if constexpr (!is_bool) {
    CHECK_CASE("sub", a - b);
    CHECK_CASE("pow", pow(a, b));
    CHECK_CASE("neg", -a);
    CHECK_CASE("abs", a.abs());
    CHECK_CASE("relu", relu(a));
    CHECK_CASE("floor", floor(a));
    CHECK_CASE("ceil", a.ceil());
    CHECK_CASE("round", round(a));
    CHECK_CASE("trunc", a.trunc());
    CHECK_CASE("clamp", clamp(a, 0, 5));
    CHECK_CASE("clamp_min", a.clamp(1, std::nullopt));
    CHECK_CASE("argmax", a.argmax());
    CHECK_CASE("argmin_dim1", argmin(a, 1));
  } else {
    // Compile errors in Sinew, as PyTorch raises. (argmax/argmin of bool work in Sinew, and clamp
    // of bool is a compile error where PyTorch gives int64: core/promotion.hpp's differences.)
    for (const char* name : {"sub", "pow", "neg", "abs", "relu", "floor", "ceil", "round", "trunc"})
      EXPECT_TRUE(torch_raises(cases, name)) << name;
  }
  if constexpr (is_floating_dtype_v<T>) {
    CHECK_CASE("mean", a.mean());
  } else {
    EXPECT_TRUE(torch_raises(cases, "mean"));  // a compile error in Sinew
  }

  auto scalar_cases = [&]<class S>(S s, const std::string& key) {
    CHECK_CASE("add_s" + key, a + s);
    CHECK_CASE("radd_s" + key, s + a);
    CHECK_CASE("mul_s" + key, a * s);
    CHECK_CASE("div_s" + key, a / s);
    CHECK_CASE("rdiv_s" + key, s / a);
    CHECK_CASE("eq_s" + key, a.eq(s));
    CHECK_CASE("where_s" + key, where(cond, a, s));
    CHECK_CASE("rwhere_s" + key, where(cond, s, a));
    if constexpr (!is_bool && !std::is_same_v<S, bool>) {
      CHECK_CASE("sub_s" + key, a - s);
      CHECK_CASE("rsub_s" + key, s - a);
    } else {
      EXPECT_TRUE(torch_raises(cases, "sub_s" + key));  // compile errors in Sinew
      EXPECT_TRUE(torch_raises(cases, "rsub_s" + key));
    }
    if constexpr (is_bool && std::is_same_v<S, bool>) {
      EXPECT_TRUE(torch_raises(cases, "pow_s" + key));  // compile errors in Sinew
      EXPECT_TRUE(torch_raises(cases, "rpow_s" + key));
    } else {
      if (torch_raises(cases, "pow_s" + key)) {  // an integer to a negative integer power
        SINEW_EXPECT_ERROR(pow(a, s), "pow", "negative integer powers");
      } else {
        CHECK_CASE("pow_s" + key, pow(a, s));
      }
      CHECK_CASE("rpow_s" + key, pow(s, a));
    }
    // PyTorch casts -3 to 253 before comparing with a uint8 tensor; Sinew compares exactly
    // (tested below), a documented difference.
    if (!(std::is_same_v<T, uint8_t> && key == "m3")) {
      CHECK_CASE("lt_s" + key, a < s);
      CHECK_CASE("rgt_s" + key, s > a);
    }
  };
  scalar_cases(2, "2");
  scalar_cases(-3, "m3");
  scalar_cases(2.5, "2.5");
  scalar_cases(true, "true");
}
#undef CHECK_CASE

// ---- regressions and the integer rules ----------------------------------------------------------

TEST(Promotion, SumOfAComparisonCountsTheTrues) {
  auto a = from_vector<float>({1, 2, 3, 4, 5}), b = from_vector<float>({1, 0, 3, 0, 5});
  Tensor<int64_t> n = (a == b).sum();
  EXPECT_EQ(n.item(), 3);
  EXPECT_EQ((a != b).sum().item(), 2);
  EXPECT_TRUE(values_are(sum(from_vector<bool>({true, true, false, true}, {2, 2}), {0}), {1, 2}));
}

TEST(Promotion, Uint8ReductionsDoNotWrap) {
  auto ones = full<uint8_t>({300}, 1);
  Tensor<int64_t> s = ones.sum();
  EXPECT_EQ(s.item(), 300);
  EXPECT_EQ(ones.cumsum(0).at({299}), 300);
  EXPECT_EQ(full<uint8_t>({3}, 200).prod().item(), 8000000);
  EXPECT_EQ(full<bool>({3}, 1).cumsum(0).at({2}), 3);
}

TEST(Promotion, IntegerDivisionIsTrueDivision) {
  auto a = from_vector<int64_t>({7, -7, 1, 0}), b = from_vector<int64_t>({2, 2, 0, 0});
  Tensor<float> q = a / b;
  EXPECT_EQ(q.at({0}), 3.5f);
  EXPECT_EQ(q.at({1}), -3.5f);
  EXPECT_EQ(q.at({2}), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(q.at({3})));
  EXPECT_TRUE(values_are(a / 2, {3.5, -3.5, 0.5, 0}));
  EXPECT_TRUE(values_are(1 / from_vector<uint8_t>({4, 8}), {0.25, 0.125}));
}

TEST(Promotion, Uint8ArithmeticWrapsAsPyTorch) {
  auto u = from_vector<uint8_t>({250, 3, 0});
  EXPECT_TRUE(values_are(u + 10, {4, 13, 10}));
  EXPECT_TRUE(values_are(u - 1, {249, 2, 255}));
  EXPECT_TRUE(values_are(2 - u, {8, 255, 2}));
  EXPECT_TRUE(values_are(-u, {6, 253, 0}));
  EXPECT_TRUE(values_are(u * u, {36, 9, 0}));
  EXPECT_TRUE(values_are(u + 300, {38, 47, 44}));  // 300 is 44 in uint8
}

// (The orders of the inputs below avoid expected lists such as {1, 1, 0, 0}: GCC 12.2 with AVX-512
// compiles some such constant vectors as a broadcast of their first element, {1, 1, 1, 1}.)
TEST(Promotion, BoolArithmeticIsLogic) {
  auto p = from_vector<bool>({false, true, true, false});
  auto q = from_vector<bool>({false, true, false, true});
  Tensor<bool> sum_pq = p + q, prod_pq = p * q;
  EXPECT_TRUE(values_are(sum_pq, {0, 1, 1, 1}));   // or
  EXPECT_TRUE(values_are(prod_pq, {0, 1, 0, 0}));  // and
  Tensor<int64_t> twice = p * 2;
  EXPECT_TRUE(values_are(twice, {0, 2, 2, 0}));
  EXPECT_TRUE(values_are(p + true, {1, 1, 1, 1}));
  EXPECT_TRUE(values_are(add(p, q, 2), {0, 1, 1, 1}));
}

TEST(Promotion, Int64ScalarArithmeticIsExactBeyondDoublePrecision) {
  const int64_t big = (int64_t{1} << 60) + 1;  // not representable in double
  auto x = from_vector<int64_t>({big});
  EXPECT_EQ((x + 1).item(), big + 1);
  EXPECT_EQ((x * int64_t{1}).item(), big);
  EXPECT_EQ((x - big).item(), 0);
  EXPECT_TRUE((x == big).item());
  EXPECT_FALSE((x == big - 1).item());
  EXPECT_EQ(where(from_vector<bool>({false}), x, big + 2).item(), big + 2);
  EXPECT_EQ(pow(from_vector<int64_t>({3}), 39).item(), 4052555153018976267);  // 3^39 exactly
}

TEST(Promotion, ComparisonsWithScalarsAreExact) {
  // PyTorch would compare with -1 cast to uint8 (255): all true. The values are all >= 0.
  EXPECT_TRUE(values_are(from_vector<uint8_t>({250, 3, 0}) < -1, {0, 0, 0}));
  EXPECT_TRUE(values_are(from_vector<int64_t>({2, 3}) < 2.5, {1, 0}));
  EXPECT_TRUE(values_are(2.5 > from_vector<int64_t>({2, 3}), {1, 0}));
  EXPECT_TRUE(values_are(from_vector<float>({0.1f}) == 0.1, {1}));  // 0.1 rounded to float first
}

TEST(Promotion, IntegerPowersAreExactAndWrap) {
  auto x = from_vector<int64_t>({2, -3, 1, -1, 5});
  EXPECT_TRUE(values_are(pow(x, 3), {8, -27, 1, -1, 125}));
  EXPECT_TRUE(values_are(pow(x, from_vector<int64_t>({-1, 2, -5, -3, 0})), {0, 9, 1, -1, 1}));
  EXPECT_TRUE(values_are(pow(2, from_vector<int64_t>({-1, 0, 10})), {0, 1, 1024}));
  EXPECT_TRUE(values_are(pow(from_vector<uint8_t>({3, 16}), 3), {27, 0}));  // 4096 wraps to 0
  EXPECT_TRUE(values_are(pow(x, 0.5).slice(0, 0, 1), {std::sqrt(2.0)}, 1e-6));
}

TEST(Promotion, IntegerRulesRaiseWhereTheResultCannotKeepTheType) {
  auto i = from_vector<int64_t>({1, 2});
  auto u = from_vector<uint8_t>({1, 2});
  auto p = from_vector<bool>({true, false});
  SINEW_EXPECT_ERROR(pow(i, -1), "pow", "negative integer powers", "-1");
  SINEW_EXPECT_ERROR(p.pow(-2), "pow", "negative integer powers");
  SINEW_EXPECT_ERROR(add(i, i, 2.5), "add", "alpha must be an integer", "2.5");
  SINEW_EXPECT_ERROR(sub(u, u, 0.5), "sub", "alpha must be an integer");
  SINEW_EXPECT_ERROR(clamp(i, 0.5, 2), "clamp", "must be an integer", "0.5");
  SINEW_EXPECT_ERROR(clamp(u, 0, 300), "clamp", "300", "uint8", "overflow");
  SINEW_EXPECT_ERROR(where(p, u, 300), "where", "300", "uint8", "overflow");
  SINEW_EXPECT_ERROR(i.clone().add_(2.5), "add_", "integer scalar", "2.5");
  SINEW_EXPECT_ERROR(u.clone().mul_(0.5), "mul_", "integer scalar");
  SINEW_EXPECT_ERROR(p.clone().add_(2), "add_", "bool scalar");
  SINEW_EXPECT_ERROR(i.clone().clamp_(0.5, 1), "clamp_", "must be an integer");
}

TEST(Promotion, IntegerInPlaceOpsKeepTheType) {
  auto i = from_vector<int64_t>({7, -2, 3});
  i.add_(3).mul_(2).sub_(1);
  EXPECT_TRUE(values_are(i, {19, 1, 11}));
  i.add_(from_vector<int64_t>({1, 1, 1}), 2).clamp_(0, 12);
  EXPECT_TRUE(values_are(i, {12, 3, 12}));
  auto u = from_vector<uint8_t>({250, 1});
  u.add_(10).clamp_(-255, std::nullopt);  // -255 wraps to 1, as PyTorch
  EXPECT_TRUE(values_are(u, {4, 11}));
  auto p = from_vector<bool>({true, false});
  p.mul_(1).add_(from_vector<bool>({false, true}));
  EXPECT_TRUE(values_are(p, {1, 1}));
  auto f = full<uint8_t>({2}, -1);  // fills through int64: 255, as torch.full
  EXPECT_TRUE(values_are(f, {255, 255}));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
