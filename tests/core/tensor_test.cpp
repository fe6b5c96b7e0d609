// Tensor<T> basics: factories, metadata, element access, conversions, clone/detach, devices and
// zero-element tensors.
#include <cmath>
#include <cstdint>
#include <set>
#include <sstream>
#include <type_traits>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using sinew::testing::all_close;
using sinew::testing::values_are;

// ---- factories ---------------------------------------------------------------------------------

TEST(Factory, ZerosOnesFullFillEveryElement) {
  Tensor<float> z = zeros({2, 3});
  EXPECT_EQ(z.shape(), Shape({2, 3}));
  EXPECT_TRUE(values_are(z, {0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(values_are(ones<double>({3}), {1, 1, 1}));
  EXPECT_TRUE(values_are(full<int64_t>({2, 2}, 7), {7, 7, 7, 7}));
  EXPECT_TRUE(values_are(full<float>({2}, -2.5), {-2.5, -2.5}));
  EXPECT_TRUE(values_are(full<bool>({2}, 1), {1, 1}));
  Tensor<double> s = scalar_tensor<double>(4.25);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 4.25);
}

TEST(Factory, EmptyHasShapeAndContiguousStrides) {
  Tensor<float> e = empty({4, 5, 6});
  EXPECT_EQ(e.shape(), Shape({4, 5, 6}));
  EXPECT_EQ(e.strides(), Shape({30, 6, 1}));
  EXPECT_EQ(e.numel(), 120);
  EXPECT_TRUE(e.is_contiguous());
  EXPECT_FALSE(e.requires_grad());
}

TEST(Factory, RejectsNegativeSizes) {
  SINEW_EXPECT_ERROR(zeros({2, -1}), "negative size", "[2, -1]");
  SINEW_EXPECT_ERROR(from_vector<float>({}, Shape{-1}), "from_vector", "negative size");
  SINEW_EXPECT_ERROR(rand({-3}), "rand", "negative size");
}

TEST(Factory, ArangeCountsUpByStep) {
  EXPECT_TRUE(values_are(arange(5), {0, 1, 2, 3, 4}));
  EXPECT_TRUE(values_are(arange<double>(1, 2, 0.25), {1, 1.25, 1.5, 1.75}));
  EXPECT_TRUE(values_are(arange<int64_t>(-3, 3, 2), {-3, -1, 1}));
  // A step that does not divide the range: the last value stays below end.
  EXPECT_TRUE(values_are(arange<double>(0, 1, 0.3), {0, 0.3, 0.6, 0.9}, 1e-12));
  EXPECT_EQ(arange(3, 3).numel(), 0);
}

TEST(Factory, ArangeCountsDownWithNegativeStep) {
  EXPECT_TRUE(values_are(arange<double>(5, 0, -2), {5, 3, 1}));
  EXPECT_TRUE(values_are(arange<double>(1, -1, -0.5), {1, 0.5, 0, -0.5}));
}

TEST(Factory, ArangeRejectsZeroStepAndWrongSign) {
  SINEW_EXPECT_ERROR(arange<float>(0, 5, 0), "arange", "step must be non-zero");
  SINEW_EXPECT_ERROR(arange<float>(0, 5, -1), "arange", "wrong sign");
  SINEW_EXPECT_ERROR(arange<float>(5, 0, 1), "arange", "wrong sign");
  SINEW_EXPECT_ERROR(arange<float>(0, INFINITY, 1), "arange", "finite");
}

TEST(Factory, LinspaceHitsBothEndpointsExactly) {
  Tensor<float> t = linspace(0.1, 0.7, 7);
  auto v = t.to_vector();
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v.front(), 0.1f);
  EXPECT_EQ(v.back(), 0.7f);
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(v[static_cast<size_t>(i)], 0.1 + 0.1 * i, 1e-6);
  Tensor<double> d = linspace<double>(-1, 1, 5);
  EXPECT_TRUE(values_are(d, {-1, -0.5, 0, 0.5, 1}, 0));
  EXPECT_TRUE(values_are(linspace<double>(3, -3, 4), {3, 1, -1, -3}, 1e-15));
}

TEST(Factory, LinspaceWithOneStepGivesStartAndZeroStepsIsEmpty) {
  EXPECT_TRUE(values_are(linspace(2, 10, 1), {2}));  // as torch.linspace(2, 10, 1)
  EXPECT_EQ(linspace(0, 1, 0).numel(), 0);
  SINEW_EXPECT_ERROR(linspace(0, 1, -2), "linspace", "-2");
}

TEST(Factory, EyeSquareAndRectangular) {
  EXPECT_TRUE(values_are(eye(3), {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  Tensor<double> r = eye<double>(2, 4);
  EXPECT_EQ(r.shape(), Shape({2, 4}));
  EXPECT_TRUE(values_are(r, {1, 0, 0, 0, 0, 1, 0, 0}));
  Tensor<double> tall = eye<double>(3, 2);
  EXPECT_TRUE(values_are(tall, {1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(eye(3, 0).shape(), Shape({3, 0}));
  SINEW_EXPECT_ERROR(eye(-1), "eye", "-1");
}

TEST(Factory, RandIsInUnitIntervalAndRandnIsUnbounded) {
  manual_seed(3);
  auto u = rand({1000}).to_vector();
  float lo = 1, hi = 0;
  for (float x : u) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  EXPECT_GE(lo, 0.f);
  EXPECT_LT(hi, 1.f);
  EXPECT_LT(lo, 0.01f);  // 1000 draws cover the interval
  EXPECT_GT(hi, 0.99f);
  auto n = randn<double>({1000}).to_vector();
  double nlo = *std::min_element(n.begin(), n.end()), nhi = *std::max_element(n.begin(), n.end());
  EXPECT_LT(nlo, -2);
  EXPECT_GT(nhi, 2);
}

TEST(Factory, ManualSeedReproducesRandAndRandn) {
  manual_seed(42);
  auto a = rand({5, 4});
  auto b = randn<double>({7});
  manual_seed(42);
  auto c = rand({5, 4});
  auto d = randn<double>({7});
  EXPECT_EQ(a.to_vector(), c.to_vector());
  EXPECT_EQ(b.to_vector(), d.to_vector());
  manual_seed(43);
  EXPECT_NE(rand({5, 4}).to_vector(), a.to_vector());
}

TEST(Factory, ExplicitGeneratorIsReproducibleAndIndependentOfTheGlobalOne) {
  Generator g1(7), g2(7);
  auto a = randn({3, 3}, g1);
  manual_seed(1);
  (void)rand({10});  // drawing from the global generator does not disturb g2
  auto b = randn({3, 3}, g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  // A generator seeded like the global one draws the same values.
  manual_seed(99);
  auto global = rand<double>({6});
  Generator g(99);
  EXPECT_EQ(rand<double>({6}, g).to_vector(), global.to_vector());
  g.manual_seed(99);
  EXPECT_EQ(rand<double>({6}, g).to_vector(), global.to_vector());
}

TEST(Factory, RandintStaysInHalfOpenRangeAndCoversIt) {
  Generator g(5);
  Tensor<int64_t> t = randint(-2, 3, {2000}, g);
  std::set<int64_t> seen;
  for (int64_t v : t.to_vector()) {
    EXPECT_GE(v, -2);
    EXPECT_LT(v, 3);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 5u);
  manual_seed(11);
  auto a = randint(0, 100, {8});
  manual_seed(11);
  EXPECT_EQ(randint(0, 100, {8}).to_vector(), a.to_vector());
  SINEW_EXPECT_ERROR(randint(3, 3, {2}), "randint", "empty range");
}

TEST(Factory, FromVectorKeepsRowMajorOrderAndChecksTheCount) {
  Tensor<float> t = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.at({0, 2}), 3.f);
  EXPECT_EQ(t.at({1, 0}), 4.f);
  SINEW_EXPECT_ERROR(from_vector<float>({1, 2, 3}, {2, 2}), "from_vector", "3 values", "[2, 2]");
  Tensor d = from_vector(std::vector{1.0, 2.0});
  static_assert(std::is_same_v<decltype(d), Tensor<double>>);
  EXPECT_EQ(d.shape(), Shape({2}));
}

TEST(Factory, LikeFactoriesCopyShape) {
  Tensor<double> x = ones<double>({2, 5});
  EXPECT_EQ(empty_like(x).shape(), x.shape());
  EXPECT_TRUE(values_are(zeros_like(x), std::vector<double>(10, 0)));
  EXPECT_TRUE(values_are(ones_like(x), std::vector<double>(10, 1)));
  EXPECT_TRUE(values_are(full_like(x, 3), std::vector<double>(10, 3)));
  auto r = rand_like(x);
  EXPECT_EQ(r.shape(), x.shape());
  auto n = randn_like(x);
  EXPECT_EQ(n.shape(), x.shape());
  // *_like of a tensor that requires grad gives a fresh leaf.
  Tensor<double> w = ones<double>({2}).requires_grad_();
  EXPECT_FALSE(zeros_like(w).requires_grad());
}

TEST(Tensor, ClassTemplateArgumentDeductionGivesFloat) {
  Tensor x = randn({2, 3});
  static_assert(std::is_same_v<decltype(x), Tensor<float>>);
  Tensor y = zeros({1});
  static_assert(std::is_same_v<decltype(y), Tensor<float>>);
  Tensor z = zeros<double>({1});
  static_assert(std::is_same_v<decltype(z), Tensor<double>>);
  EXPECT_EQ(x.dtype(), DType::Float32);
  EXPECT_EQ(z.dtype(), DType::Float64);
  EXPECT_EQ(Tensor<int64_t>::dtype(), DType::Int64);
}

// ---- metadata and element access ---------------------------------------------------------------

TEST(Tensor, MetadataOfContiguousAndTransposedTensors) {
  Tensor<float> x = zeros({2, 3, 4});
  EXPECT_EQ(x.dim(), 3);
  EXPECT_EQ(x.numel(), 24);
  EXPECT_EQ(x.size(0), 2);
  EXPECT_EQ(x.size(-1), 4);
  EXPECT_EQ(x.size(-3), 2);
  EXPECT_EQ(x.strides(), Shape({12, 4, 1}));
  EXPECT_EQ(x.stride(-2), 4);
  EXPECT_TRUE(x.is_contiguous());
  Tensor<float> t = x.transpose(0, 2);
  EXPECT_EQ(t.shape(), Shape({4, 3, 2}));
  EXPECT_EQ(t.strides(), Shape({1, 4, 12}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_TRUE(t.contiguous().is_contiguous());
  // Size-1 dimensions do not break contiguity whatever their stride.
  EXPECT_TRUE(zeros({3, 1}).t().is_contiguous());
  SINEW_EXPECT_ERROR(x.size(3), "Tensor::size", "out of range");
  SINEW_EXPECT_ERROR(x.stride(-4), "Tensor::stride", "out of range");
}

TEST(Tensor, ZeroDimTensorHasNoSizes) {
  Tensor<float> s = scalar_tensor(2.0);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_TRUE(s.shape().empty());
  SINEW_EXPECT_ERROR(s.size(0), "Tensor::size", "0-d");
  SINEW_EXPECT_ERROR(s.size(-1), "Tensor::size", "0-d");
  SINEW_EXPECT_ERROR(s.stride(0), "Tensor::stride", "0-d");
  EXPECT_EQ(s.at({}), 2.f);
}

TEST(Tensor, ItemNeedsExactlyOneElement) {
  EXPECT_EQ(full<double>({1, 1}, 3.5).item(), 3.5);
  EXPECT_EQ(scalar_tensor<int64_t>(-4).item(), -4);
  SINEW_EXPECT_ERROR(zeros({2, 2}).item(), "item", "4 elements", "[2, 2]");
  SINEW_EXPECT_ERROR(zeros({0}).item(), "item", "0 elements");
}

TEST(Tensor, AtAndSetUseFullIndicesWithNegativesFromTheEnd) {
  Tensor<double> x = arange<double>(6).reshape({2, 3});
  EXPECT_EQ(x.at({1, 2}), 5);
  EXPECT_EQ(x.at({-1, -3}), 3);
  uint64_t v0 = x.version();
  x.set({0, -1}, 42);
  EXPECT_EQ(x.at({0, 2}), 42);
  EXPECT_GT(x.version(), v0);
  // Through a non-contiguous view: index in the view's coordinates, write into shared memory.
  Tensor<double> t = x.t();
  EXPECT_EQ(t.at({2, 1}), 5);
  t.set({1, 0}, -7);
  EXPECT_EQ(x.at({0, 1}), -7);
  SINEW_EXPECT_ERROR(x.at({2, 0}), "at", "index 2 out of range", "dimension 0");
  SINEW_EXPECT_ERROR(x.at({0, -4}), "at", "index -4 out of range");
  SINEW_EXPECT_ERROR(x.at({0}), "at", "1 indices", "[2, 3]");
  SINEW_EXPECT_ERROR(x.set({0, 3}, 1), "set", "index 3 out of range");
}

TEST(Tensor, ToVectorReadsInLogicalOrder) {
  Tensor<float> x = arange(6).reshape({2, 3});
  EXPECT_EQ(x.t().to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(x.slice(1, 0, 3, 2).to_vector(), (std::vector<float>{0, 2, 3, 5}));
  EXPECT_TRUE(zeros({0, 4}).to_vector().empty());
}

// ---- conversions, clone, detach ----------------------------------------------------------------

TEST(Tensor, ToDoubleAndBackIsDifferentiable) {
  Tensor<float> x = from_vector<float>({1.5f, -2.f}).requires_grad_();
  Tensor<double> d = x.to<double>();
  EXPECT_TRUE(values_are(d, {1.5, -2}));
  EXPECT_TRUE(d.requires_grad());
  (d * d).sum().backward();
  EXPECT_TRUE(values_are(x.grad(), {3, -4}));
  EXPECT_EQ(x.grad().dtype(), DType::Float32);

  Tensor<double> y = from_vector<double>({0.25, 4}).requires_grad_();
  Tensor<float> f = y.to<float>();
  (f * 3.f).sum().backward();
  EXPECT_TRUE(values_are(y.grad(), {3, 3}));
  // Same type: the same tensor.
  EXPECT_TRUE(x.to<float>().is_same(x));
}

TEST(Tensor, ToIntegerTruncatesAndToBoolTestsNonZero) {
  Tensor<float> x = from_vector<float>({-1.7f, -0.2f, 0.f, 0.9f, 2.5f});
  EXPECT_EQ(x.to<int64_t>().to_vector(), (std::vector<int64_t>{-1, 0, 0, 0, 2}));
  auto b = x.to<bool>().to_vector();
  EXPECT_EQ(b, (std::vector<bool>{true, true, false, true, true}));
  Tensor<int64_t> i = from_vector<int64_t>({3, -5});
  EXPECT_TRUE(values_are(i.to<double>(), {3, -5}));
  EXPECT_FALSE(x.requires_grad());
  Tensor<float> g = ones({2}).requires_grad_();
  EXPECT_FALSE(g.to<int64_t>().requires_grad());
  // A non-contiguous source converts in logical order.
  Tensor<double> m = arange<double>(6).reshape({2, 3});
  EXPECT_EQ(m.t().to<int64_t>().to_vector(), (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, CloneOwnsItsMemoryAndPassesGradient) {
  Tensor<float> x = from_vector<float>({1, 2, 3});
  Tensor<float> c = x.clone();
  EXPECT_FALSE(c.shares_storage(x));
  c.set({0}, 100);
  EXPECT_EQ(x.at({0}), 1.f);
  Tensor<double> t = arange<double>(6).reshape({2, 3}).t();
  Tensor<double> tc = t.clone();
  EXPECT_TRUE(tc.is_contiguous());
  EXPECT_TRUE(all_close(tc, t));

  Tensor<double> w = from_vector<double>({1, 2}).requires_grad_();
  (w.clone() * 5.0).sum().backward();
  EXPECT_TRUE(values_are(w.grad(), {5, 5}));
}

TEST(Tensor, DetachSharesStorageWithoutHistory) {
  Tensor<double> x = from_vector<double>({1, 2}).requires_grad_();
  Tensor<double> y = x * 2.0;
  Tensor<double> d = y.detach();
  EXPECT_TRUE(d.shares_storage(y));
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  d.set({0}, 9);
  EXPECT_EQ(y.at({0}), 9);
  EXPECT_TRUE(y.requires_grad());
}

// ---- devices -----------------------------------------------------------------------------------

TEST(Device, ParsesAndPrints) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3"), Device::cuda(3));
  EXPECT_TRUE(Device::parse("cuda:1").is_cuda());
  EXPECT_EQ(Device::parse("cuda:12").index(), 12);
  EXPECT_EQ(Device::cpu().str(), "cpu");
  EXPECT_EQ(Device::cuda(2).str(), "cuda:2");
  std::ostringstream os;
  os << Device::cuda() << ' ' << Device::cpu();
  EXPECT_EQ(os.str(), "cuda:0 cpu");
  EXPECT_NE(Device::cuda(0), Device::cuda(1));
  SINEW_EXPECT_ERROR(Device::parse("gpu"), "Device::parse", "'gpu'");
  SINEW_EXPECT_ERROR(Device::parse("cuda:"), "Device::parse", "'cuda:'");
  SINEW_EXPECT_ERROR(Device::parse("cuda:x"), "Device::parse", "'cuda:x'");
  SINEW_EXPECT_ERROR(Device::parse("cuda:-1"), "Device::parse");
  SINEW_EXPECT_ERROR(Device::parse("cuda:99999999999999"), "Device::parse");
}

#ifndef SINEW_WITH_CUDA
TEST(Device, CudaRaisesAClearErrorInACpuOnlyBuild) {
  Tensor<float> x = ones({2});
  EXPECT_TRUE(x.to(Device::cpu()).is_same(x));
  EXPECT_TRUE(x.cpu().is_same(x));
  SINEW_EXPECT_ERROR(x.to(Device::cuda()), "Tensor::to", "cuda:0", "no CUDA backend");
  SINEW_EXPECT_ERROR(zeros({2}, Device::cuda(1)), "cuda:1", "no CUDA backend");
  SINEW_EXPECT_ERROR(randn({2}, Device::cuda()), "no CUDA backend");
}
#endif

// ---- zero-element tensors ----------------------------------------------------------------------

TEST(Tensor, ZeroElementTensorsFlowThroughOps) {
  Tensor<double> a = zeros<double>({0, 3});
  Tensor<double> b = ones<double>({3});
  EXPECT_EQ(a.numel(), 0);
  EXPECT_TRUE(a.is_contiguous());
  Tensor<double> c = a + b;
  EXPECT_EQ(c.shape(), Shape({0, 3}));
  EXPECT_EQ(exp(a).shape(), Shape({0, 3}));
  EXPECT_EQ((a > 0.0).shape(), Shape({0, 3}));
  EXPECT_EQ(a.t().shape(), Shape({3, 0}));
  EXPECT_EQ(a.clone().shape(), Shape({0, 3}));
  EXPECT_EQ(a.to<float>().shape(), Shape({0, 3}));
  EXPECT_EQ(a.sum().item(), 0);
  EXPECT_TRUE(values_are(a.sum({0}), {0, 0, 0}));
  a.add_(1.0);  // writes nothing
  a.fill_(2.0);
  Tensor<double> w = zeros<double>({0, 3}).requires_grad_();
  (w * 2.0 + b).sum().backward();
  EXPECT_EQ(w.grad().shape(), Shape({0, 3}));
}

// Shapes too large to exist raise before anything is allocated: an element count past int64, a
// byte count past the address space, a request past the machine's memory. A zero size anywhere
// makes an empty tensor, however large the others.
TEST(TensorLimits, ShapesTooLargeRaiseBeforeAllocating) {
  const int64_t big = int64_t(1) << 32;
  SINEW_EXPECT_ERROR(empty<float>({big, big}), "empty", "more elements than an int64");
  SINEW_EXPECT_ERROR(ones<double>({big, big, 2}), "more elements than an int64");
  SINEW_EXPECT_ERROR(zeros<float>({int64_t(1) << 62}), "empty", "[4611686018427387904]",
                     "address space");
  SINEW_EXPECT_ERROR(empty<float>({int64_t(1) << 50}), "cpu allocator", "4503599627370496 bytes",
                     "more than this machine's");
  EXPECT_EQ(empty<float>({big, big, 0}).numel(), 0);
  EXPECT_EQ(empty<float>({0, int64_t(1) << 62}).numel(), 0);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
