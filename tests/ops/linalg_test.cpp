// Tests for ops/linalg.hpp and backend/cpu/gemm.hpp: values against hand-computed products and a
// naive triple loop, strided and transposed operands, PyTorch's matmul rules, gradients, errors.
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::rand_input;
using sinew::testing::values_are;

namespace {
namespace SINEW_UNITY_ID {

template <class T = double>
Tensor<T> mat(std::vector<T> v, const Shape& s) {
  return from_vector<T>(v, s);
}

// Naive reference: c[i][j] = sum_p a[i][p] b[p][j], read element by element through at().
template <class T>
std::vector<double> naive_mm(const Tensor<T>& a, const Tensor<T>& b) {
  std::vector<double> out;
  for (int64_t i = 0; i < a.size(0); ++i) {
    for (int64_t j = 0; j < b.size(1); ++j) {
      double s = 0;
      for (int64_t p = 0; p < a.size(1); ++p) s += double(a.at({i, p})) * double(b.at({p, j}));
      out.push_back(s);
    }
  }
  return out;
}

autograd::GradcheckResult check(const autograd::SingleFn& f,
                                const std::vector<Tensor<double>>& in) {
  return autograd::gradcheck(f, in);
}

// ---- mm and the GEMM kernel ---------------------------------------------------------------------

TEST(Mm, MatchesHandComputedProduct) {
  auto a = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  auto b = mat({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_TRUE(values_are(mm(a, b), {58, 64, 139, 154}));
  EXPECT_TRUE(values_are(a.mm(b), {58, 64, 139, 154}));
  auto af = mat<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  auto bf = mat<float>({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_TRUE(values_are(mm(af, bf), {58, 64, 139, 154}));
}

TEST(Mm, TransposedOperandsAreReadThroughTheirStrides) {
  auto at = mat({1, 4, 2, 5, 3, 6}, {3, 2});     // a^T stored
  auto bt = mat({7, 9, 11, 8, 10, 12}, {2, 3});  // b^T stored
  EXPECT_TRUE(values_are(mm(at.t(), bt.t()), {58, 64, 139, 154}));
  EXPECT_TRUE(values_are(mm(at.t(), mat({7, 8, 9, 10, 11, 12}, {3, 2})), {58, 64, 139, 154}));
  EXPECT_TRUE(values_are(mm(mat({1, 2, 3, 4, 5, 6}, {2, 3}), bt.t()), {58, 64, 139, 154}));
}

TEST(Mm, SlicedAndFullyStridedOperands) {
  // Column slice: unit inner stride, leading stride 4 > 3 columns (mapped in place).
  auto big = mat({1, 2, 3, 0, 4, 5, 6, 0}, {2, 4});
  auto b = mat({7, 8, 9, 10, 11, 12}, {3, 2});
  EXPECT_TRUE(values_are(mm(big.slice(1, 0, 3), b), {58, 64, 139, 154}));
  // Step-2 slices in both dimensions: no unit stride, the kernel packs a copy.
  auto wide = mat({1, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 5, 0, 6, 0}, {3, 6});
  auto a = wide.slice(0, 0, 3, 2).slice(1, 0, 6, 2);
  ASSERT_EQ(a.shape(), Shape({2, 3}));
  EXPECT_TRUE(values_are(mm(a, b), {58, 64, 139, 154}));
  // Broadcast (stride 0) rows are packed, not mapped.
  auto row = mat({1, 2, 3}, {1, 3}).expand({2, 3});
  EXPECT_TRUE(values_are(mm(row, b), {58, 64, 58, 64}));
}

TEST(Mm, LargeProductsMatchNaiveLoopForEveryLayout) {
  // Big enough for Eigen's blocked kernel and, with two or more threads, for splitting one GEMM
  // across threads (along m for the first shape, along n for the second).
  for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{{96, 80, 72}, {48, 96, 128}}) {
    Generator g(3);
    auto a = randn<float>({m, k}, g), b = randn<float>({k, n}, g);
    auto ref = naive_mm(a, b);
    auto expected = from_vector<float>(std::vector<float>(ref.begin(), ref.end()), {m, n});
    auto a_cm = a.t().contiguous().t(), b_cm = b.t().contiguous().t();  // column-major copies
    EXPECT_TRUE(all_close(mm(a, b), expected, 1e-4, 1e-4));
    EXPECT_TRUE(all_close(mm(a_cm, b), expected, 1e-4, 1e-4));
    EXPECT_TRUE(all_close(mm(a, b_cm), expected, 1e-4, 1e-4));
    EXPECT_TRUE(all_close(mm(a_cm, b_cm), expected, 1e-4, 1e-4));
    // Accumulating into an existing C (beta = 1) through the threaded path.
    auto c = ones<float>({m, n});
    backend::cpu::gemm(a, b, c, 1.0, 1.0);
    EXPECT_TRUE(all_close(c, expected + 1.0, 1e-4, 1e-4));
    // The double kernel, on the same values.
    auto ad = a.to<double>(), bd = b.to<double>();
    EXPECT_TRUE(values_are(mm(ad, bd.t().contiguous().t()), ref, 1e-9));
  }
}

TEST(Mm, EmptyDimensions) {
  auto z = mm(zeros<double>({2, 0}), zeros<double>({0, 3}));
  EXPECT_EQ(z.shape(), Shape({2, 3}));
  EXPECT_TRUE(values_are(z, {0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(mm(zeros<double>({0, 4}), zeros<double>({4, 3})).shape(), Shape({0, 3}));
}

TEST(Gemm, AlphaBetaAndColumnMajorOutput) {
  auto a = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  auto b = mat({7, 8, 9, 10, 11, 12}, {3, 2});
  auto c = mat({1, 1, 1, 1}, {2, 2});
  backend::cpu::gemm(a, b, c, 2.0, 0.5);
  EXPECT_TRUE(values_are(c, {116.5, 128.5, 278.5, 308.5}));
  // Writing into a transposed view computes C^T = B^T A^T in place.
  auto ct = zeros<double>({2, 2});
  backend::cpu::gemm(a, b, ct.t(), 1.0, 0.0);
  EXPECT_TRUE(values_are(ct, {58, 139, 64, 154}));
  // beta == 0 never reads C (NaN does not leak).
  auto nan = full<double>({2, 2}, std::numeric_limits<double>::quiet_NaN());
  backend::cpu::gemm(a, b, nan, 1.0, 0.0);
  EXPECT_TRUE(values_are(nan, {58, 64, 139, 154}));
}

// ---- bmm and matmul -----------------------------------------------------------------------------

TEST(Bmm, MultipliesEachBatchEntry) {
  auto a = mat({1, 2, 3, 4, 1, 0, 0, 1}, {2, 2, 2});
  auto b = mat({5, 6, 7, 8, 2, 3, 4, 5}, {2, 2, 2});
  EXPECT_TRUE(values_are(bmm(a, b), {19, 22, 43, 50, 2, 3, 4, 5}));
}

TEST(Bmm, ManySmallMatricesSplitAcrossThreads) {
  // 40 products of 16x12 @ 12x16: enough total work for the batch-parallel path.
  Generator g(5);
  auto a = randn<double>({40, 16, 12}, g);
  auto b = randn<double>({40, 16, 12}, g).transpose(1, 2);  // column-major matrices
  auto c = bmm(a, b);
  for (int64_t i : {0, 17, 39}) {
    auto ref = naive_mm(a.select(0, i), b.select(0, i));
    EXPECT_TRUE(values_are(c.select(0, i), ref, 1e-12));
  }
}

TEST(Matmul, OneDimensionalOperands) {
  auto v = mat({1, 2, 3}, {3});
  auto w = mat({4, 5, 6}, {3});
  auto m = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  auto dot_vw = matmul(v, w);
  EXPECT_EQ(dot_vw.dim(), 0);
  EXPECT_DOUBLE_EQ(dot_vw.item(), 32);
  auto mv = matmul(m, v);
  EXPECT_EQ(mv.shape(), Shape({2}));
  EXPECT_TRUE(values_are(mv, {14, 32}));
  auto vm = matmul(mat({1, 2}, {2}), m);
  EXPECT_EQ(vm.shape(), Shape({3}));
  EXPECT_TRUE(values_are(vm, {9, 12, 15}));
}

TEST(Matmul, BroadcastsBatchDims) {
  // a [2, 1, 2, 2] (scalings 1 and 2 of I) @ b [3, 2, 2] -> [2, 3, 2, 2].
  auto a = mat({1, 0, 0, 1, 2, 0, 0, 2}, {2, 1, 2, 2});
  auto b = mat({1, 2, 3, 4, 0, 1, 1, 0, 5, 5, 5, 5}, {3, 2, 2});
  auto c = matmul(a, b);
  EXPECT_EQ(c.shape(), Shape({2, 3, 2, 2}));
  EXPECT_TRUE(
      values_are(c, {1, 2, 3, 4, 0, 1, 1, 0, 5, 5, 5, 5, 2, 4, 6, 8, 0, 2, 2, 0, 10, 10, 10, 10}));
  // Matrix on the left broadcast over a batch on the right.
  auto left = matmul(mat({0, 1, 1, 0}, {2, 2}), b);  // swaps rows
  EXPECT_TRUE(values_are(left, {3, 4, 1, 2, 1, 0, 0, 1, 5, 5, 5, 5}));
}

TEST(Matmul, FoldsBatchIntoRowsAndHandles1dWithBatches) {
  auto a = mat({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  auto m = mat({1, 1, 0, 1}, {2, 2});
  EXPECT_TRUE(values_are(matmul(a, m), {1, 3, 3, 7, 5, 11, 7, 15}));
  // Same through a non-contiguous batch (a transposed copy).
  auto at = a.transpose(0, 1).contiguous().transpose(0, 1);
  EXPECT_FALSE(at.is_contiguous());
  EXPECT_TRUE(values_are(matmul(at, m), {1, 3, 3, 7, 5, 11, 7, 15}));
  auto v = mat({1, -1}, {2});
  auto av = matmul(a, v);
  EXPECT_EQ(av.shape(), Shape({2, 2}));
  EXPECT_TRUE(values_are(av, {-1, -1, -1, -1}));
  auto va = matmul(v, a);
  EXPECT_EQ(va.shape(), Shape({2, 2}));
  EXPECT_TRUE(values_are(va, {-2, -2, -2, -2}));
  EXPECT_TRUE(values_are(a.matmul(m), {1, 3, 3, 7, 5, 11, 7, 15}));
}

// ---- addmm, dot, outer, linear ------------------------------------------------------------------

TEST(Addmm, ScalesAndBroadcastsInput) {
  auto a = mat({1, 2, 3, 4}, {2, 2});
  auto b = mat({1, 0, 0, 1}, {2, 2});
  auto bias = mat({10, 20}, {2});
  EXPECT_TRUE(values_are(addmm(bias, a, b), {11, 22, 13, 24}));
  EXPECT_TRUE(values_are(addmm(bias, a, b, 0.5, 2.0), {7, 14, 11, 18}));
  auto nan = full<double>({2, 2}, std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(values_are(addmm(nan, a, b, 0.0), {1, 2, 3, 4}));
}

TEST(DotOuter, Values) {
  auto a = mat({1, 2, 3}, {3});
  auto b = mat({4, 5, 6}, {3});
  EXPECT_DOUBLE_EQ(dot(a, b).item(), 32);
  auto strided = mat({1, 9, 2, 9, 3, 9}, {6}).slice(0, 0, 6, 2);
  EXPECT_DOUBLE_EQ(dot(strided, b).item(), 32);
  EXPECT_DOUBLE_EQ(dot(zeros<double>({0}), zeros<double>({0})).item(), 0);
  auto o = outer(mat({1, 2}, {2}), a);
  EXPECT_EQ(o.shape(), Shape({2, 3}));
  EXPECT_TRUE(values_are(o, {1, 2, 3, 2, 4, 6}));
}

TEST(Linear, MatchesXWTransposePlusBias) {
  auto x = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  auto w = mat({1, 0, 0, 0, 1, 1}, {2, 3});  // [out=2, in=3]
  auto b = mat({10, 20}, {2});
  EXPECT_TRUE(values_are(linear(x, w, b), {11, 25, 14, 31}));
  EXPECT_TRUE(values_are(linear(x, w), {1, 5, 4, 11}));
  auto y1 = linear(mat({1, 2, 3}, {3}), w, b);
  EXPECT_EQ(y1.shape(), Shape({2}));
  EXPECT_TRUE(values_are(y1, {11, 25}));
  // 3-d input, contiguous and not.
  auto x3 = mat({1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 0, 0}, {2, 2, 3});
  auto y3 = linear(x3, w, b);
  EXPECT_EQ(y3.shape(), Shape({2, 2, 2}));
  EXPECT_TRUE(values_are(y3, {11, 25, 14, 31, 10, 21, 11, 20}));
  auto x3t = x3.transpose(0, 1).contiguous().transpose(0, 1);
  EXPECT_TRUE(values_are(linear(x3t, w, b), {11, 25, 14, 31, 10, 21, 11, 20}));
}

// ---- gradients ----------------------------------------------------------------------------------

TEST(LinalgGrad, MmAndBmm) {
  auto a = rand_input({3, 4}, 1), b = rand_input({4, 2}, 2);
  EXPECT_TRUE(check([](auto& in) { return mm(in[0], in[1]); }, {a, b}).ok);
  // Transposed operands (gradients flow back through the transpose views).
  auto at = rand_input({4, 3}, 3), bt = rand_input({2, 4}, 4);
  auto r = check([](auto& in) { return mm(in[0].t(), in[1].t()); }, {at, bt});
  EXPECT_TRUE(r.ok) << r.message;
  auto x = rand_input({2, 3, 4}, 5), y = rand_input({2, 4, 2}, 6);
  r = check([](auto& in) { return bmm(in[0], in[1]); }, {x, y});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LinalgGrad, MatmulAllRules) {
  auto v = rand_input({3}, 1), w = rand_input({3}, 2), m = rand_input({2, 3}, 3),
       n = rand_input({3, 2}, 4);
  auto b3 = rand_input({2, 2, 3}, 5), bb = rand_input({3, 1, 3, 2}, 6);
  auto f = [](auto& in) { return matmul(in[0], in[1]); };
  for (auto [p, q] : std::vector<std::pair<Tensor<double>, Tensor<double>>>{
           {v, w}, {m, v}, {v, n}, {m, n}, {b3, n}, {b3, v}, {v, bb}, {b3, bb}, {m, bb}}) {
    auto r = check(f, {p, q});
    EXPECT_TRUE(r.ok) << p.shape() << " @ " << q.shape() << "\n" << r.message;
  }
}

TEST(LinalgGrad, AddmmDotOuterLinear) {
  auto bias = rand_input({3}, 1), a = rand_input({2, 4}, 2), b = rand_input({4, 3}, 3);
  auto r = check([](auto& in) { return addmm(in[0], in[1], in[2], 0.5, 1.5); }, {bias, a, b});
  EXPECT_TRUE(r.ok) << r.message;
  auto u = rand_input({4}, 4), v = rand_input({4}, 5);
  EXPECT_TRUE(check([](auto& in) { return dot(in[0], in[1]); }, {u, v}).ok);
  EXPECT_TRUE(check([](auto& in) { return outer(in[0], in[1]); }, {u, v}).ok);
  auto x = rand_input({2, 2, 4}, 6), w = rand_input({3, 4}, 7), lb = rand_input({3}, 8);
  r = check([](auto& in) { return linear(in[0], in[1], in[2]); }, {x, w, lb});
  EXPECT_TRUE(r.ok) << r.message;
  r = check([](auto& in) { return linear(in[0].transpose(0, 1), in[1]); }, {x, w});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LinalgGrad, SecondOrder) {
  auto a = rand_input({2, 1, 3}, 1), b = rand_input({2, 3, 2}, 2);
  auto r = autograd::gradgradcheck([](auto& in) { return matmul(in[0], in[1]); }, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
  auto x = rand_input({2, 3}, 3), w = rand_input({2, 3}, 4), bias = rand_input({2}, 5);
  r = autograd::gradgradcheck([](auto& in) { return linear(in[0], in[1], in[2]); }, {x, w, bias});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(LinalgGrad, OnlyRequestedInputsGetGradients) {
  auto a = rand_input({2, 3}, 1);
  auto b = rand_input({3, 2}, 2).detach();
  mm(a, b).sum().backward();
  EXPECT_TRUE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  // dA = ones @ B^T: each row is B's row sums.
  auto expected = mm(ones<double>({2, 2}), b.t());
  EXPECT_TRUE(all_close(a.grad(), expected));
}

// ---- errors -------------------------------------------------------------------------------------

TEST(LinalgErrors, ShapeMismatchesNameOpAndShapes) {
  SINEW_EXPECT_ERROR(matmul(zeros({64, 780}), zeros({784, 128})),
                     "matmul: [64, 780] @ [784, 128]: inner dimensions 780 and 784 differ");
  SINEW_EXPECT_ERROR(matmul(zeros({3}), zeros({4})), "matmul", "inner dimensions 3 and 4 differ");
  SINEW_EXPECT_ERROR(matmul(zeros({}), zeros({4})), "matmul", "at least 1 dimension");
  SINEW_EXPECT_ERROR(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), "matmul",
                     "batch dimensions [2] and [3]", "do not broadcast");
  SINEW_EXPECT_ERROR(mm(zeros({2, 3}), zeros({3})), "mm", "2-d", "[3]");
  SINEW_EXPECT_ERROR(mm(zeros({2, 3}), zeros({2, 3})),
                     "mm: [2, 3] @ [2, 3]: inner dimensions 3 and 2 differ");
  SINEW_EXPECT_ERROR(bmm(zeros({2, 2, 3}), zeros({3, 3, 2})), "bmm", "batch sizes 2 and 3 differ");
  SINEW_EXPECT_ERROR(bmm(zeros({2, 3}), zeros({3, 2})), "bmm", "3-d");
  SINEW_EXPECT_ERROR(dot(zeros({3}), zeros({4})), "dot", "sizes 3 and 4 differ");
  SINEW_EXPECT_ERROR(dot(zeros({3, 1}), zeros({3})), "dot", "1-d");
  SINEW_EXPECT_ERROR(outer(zeros({3, 1}), zeros({3})), "outer", "1-d");
  SINEW_EXPECT_ERROR(addmm(zeros({3}), zeros({2, 2}), zeros({2, 2})), "addmm", "[3]");
  SINEW_EXPECT_ERROR(addmm(zeros({2}), zeros({2, 3}), zeros({2, 2})), "addmm",
                     "inner dimensions 3 and 2");
  SINEW_EXPECT_ERROR(linear(zeros({4, 5}), zeros({3, 6})), "linear", "[4, 5]", "5 features",
                     "[3, 6]", "expects 6");
  SINEW_EXPECT_ERROR(linear(zeros({4, 6}), zeros({3, 6}), zeros({4})), "linear", "bias", "[3]",
                     "[4]");
  SINEW_EXPECT_ERROR(linear(zeros({4, 6}), zeros({6})), "linear", "weight must be 2-d");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
