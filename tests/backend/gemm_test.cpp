// Tests for backend/cpu/gemm.hpp and its AVX-512 SGEMM (sgemm_avx512.hpp): C = alpha A B + beta C
// against a naive double-accumulated reference, over awkward shapes (edge tiles, more than one
// k / n / m cache block), every operand layout the kernel reads (row-major, column-major, leading
// dimension > columns, no unit stride, broadcast rows, batches), the beta paths, 1 and 2 threads.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace sinew;

namespace {
namespace SINEW_UNITY_ID {

// Restores the thread count when a test ends.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// The same logical matrix stored in one of the layouts the GEMM reads.
enum class Layout { RowMajor, ColMajor, LeadingDim, Strided };
const std::array<Layout, 4> kLayouts = {Layout::RowMajor, Layout::ColMajor, Layout::LeadingDim,
                                        Layout::Strided};

std::string name(Layout l) {
  switch (l) {
    case Layout::RowMajor:
      return "row-major";
    case Layout::ColMajor:
      return "column-major";
    case Layout::LeadingDim:
      return "leading dim > cols";
    case Layout::Strided:
      return "no unit stride";
  }
  return "";
}

// A fresh copy of x's values in layout l; padding elements around it hold `pad`.
template <class T>
Tensor<T> stored_as(const Tensor<T>& x, Layout l, double pad = 1e30) {
  const int64_t r = x.size(0), c = x.size(1);
  switch (l) {
    case Layout::RowMajor:
      return x.clone();
    case Layout::ColMajor:
      return x.t().contiguous().t();
    case Layout::LeadingDim: {
      Tensor<T> big = full<T>({r, c + 3}, pad);
      Tensor<T> v = big.slice(1, 2, c + 2);
      v.copy_(x);
      return v;
    }
    case Layout::Strided: {
      Tensor<T> big = full<T>({2 * r, 2 * c}, pad);
      Tensor<T> v = big.slice(0, 0, 2 * r, 2).slice(1, 1, 2 * c, 2);
      v.copy_(x);
      return v;
    }
  }
  return x;
}

// The exact product a b (double sums of float products) and sum_p |a_ip b_pj| per element.
struct Product {
  int64_t k;
  std::vector<double> sum, abs_sum;
};

Product product(const Tensor<float>& a, const Tensor<float>& b) {
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  auto av = a.contiguous().to_vector(), bv = b.contiguous().to_vector();
  Product r{k, std::vector<double>(size_t(m * n)), std::vector<double>(size_t(m * n))};
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t p = 0; p < k; ++p) {
      const double x = av[size_t(i * k + p)];
      for (int64_t j = 0; j < n; ++j) {
        const double t = x * double(bv[size_t(p * n + j)]);
        r.sum[size_t(i * n + j)] += t;
        r.abs_sum[size_t(i * n + j)] += std::abs(t);
      }
    }
  }
  return r;
}

// alpha a b + beta c0, and per element a bound on float's rounding error:
// (k + 3) u (|alpha| sum_p |a_ip b_pj| + |beta c0_ij|), u = 2^-24 (Higham's gamma_k for any
// summation order, plus the scaling and the final add).
struct Reference {
  std::vector<double> value, bound;
};

Reference reference(const Product& ab, const Tensor<float>& c0, double alpha, double beta) {
  auto cv = c0.contiguous().to_vector();
  Reference r{std::vector<double>(ab.sum.size()), std::vector<double>(ab.sum.size())};
  const double u = std::ldexp(1.0, -24);
  for (size_t e = 0; e < ab.sum.size(); ++e) {
    const double cterm = beta == 0 ? 0.0 : beta * double(cv[e]);
    r.value[e] = alpha * ab.sum[e] + cterm;
    r.bound[e] = double(ab.k + 3) * u * (std::abs(alpha) * ab.abs_sum[e] + std::abs(cterm)) + 1e-30;
  }
  return r;
}

Reference reference(const Tensor<float>& a, const Tensor<float>& b, const Tensor<float>& c0,
                    double alpha, double beta) {
  return reference(product(a, b), c0, alpha, beta);
}

::testing::AssertionResult matches(const Tensor<float>& c, const Reference& r) {
  auto v = c.contiguous().to_vector();
  if (v.size() != r.value.size()) {
    return ::testing::AssertionFailure() << v.size() << " values, expected " << r.value.size();
  }
  for (size_t e = 0; e < v.size(); ++e) {
    if (!(std::abs(double(v[e]) - r.value[e]) <= r.bound[e])) {
      return ::testing::AssertionFailure()
             << "element " << e << " (row " << e / size_t(c.size(1)) << ", col "
             << e % size_t(c.size(1)) << "): " << v[e] << " vs " << r.value[e] << " (bound "
             << r.bound[e] << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

Tensor<float> random_matrix(int64_t r, int64_t c, uint64_t seed) {
  Generator g(seed);
  return randn<float>({r, c}, g);
}

using Dims = std::array<int64_t, 3>;  // m, k, n

// Shapes: single elements, edge tiles in both directions (12-row x 32-column register tile),
// the MLP layer, k past one 384-deep block, n past one 512-wide block, m past one 1920-row block.
const std::vector<Dims> kShapes = {{1, 1, 1},     {2, 3, 2},      {13, 17, 5}, {12, 16, 32},
                                   {25, 40, 33},  {64, 784, 128}, {7, 1, 19},  {300, 257, 129},
                                   {5, 800, 530}, {1930, 3, 17},  {1, 50, 40}, {40, 50, 1}};

TEST(Gemm, MatchesNaiveReferenceForEveryShapeAndLayout) {
  for (const auto& [m, k, n] : kShapes) {
    const Tensor<float> a = random_matrix(m, k, 1), b = random_matrix(k, n, 2);
    const Reference ref = reference(a, b, zeros<float>({m, n}), 1.0, 0.0);
    for (int threads : {1, 2}) {
      ThreadCount tc(threads);
      for (Layout la : kLayouts) {
        for (Layout lb : kLayouts) {
          // Large shapes: each layout against itself and against row-major (10 of the 16 pairs).
          const bool big = m * k * n > 200000;
          if (big && la != lb && la != Layout::RowMajor && lb != Layout::RowMajor) continue;
          SCOPED_TRACE(::testing::Message()
                       << m << "x" << k << "x" << n << ", A " << name(la) << ", B " << name(lb)
                       << ", " << threads << " thread(s)");
          Tensor<float> c = full<float>({m, n}, std::numeric_limits<float>::quiet_NaN());
          backend::cpu::gemm(stored_as(a, la), stored_as(b, lb), c, 1.0, 0.0);
          EXPECT_TRUE(matches(c, ref));
        }
      }
    }
  }
}

TEST(Gemm, AlphaBetaAndAccumulatePaths) {
  for (const auto& [m, k, n] : std::vector<Dims>{{13, 17, 5}, {64, 784, 128}, {300, 257, 129}}) {
    const Tensor<float> a = random_matrix(m, k, 3), b = random_matrix(k, n, 4);
    const Tensor<float> c0 = random_matrix(m, n, 5);
    const Product ab = product(a, b);
    for (int threads : {1, 2}) {
      ThreadCount tc(threads);
      for (auto [alpha, beta] : std::vector<std::array<double, 2>>{
               {1, 1}, {2, 0.5}, {-0.5, 1}, {0.25, -3}, {1, 0}, {0, 2}}) {
        SCOPED_TRACE(::testing::Message() << m << "x" << k << "x" << n << ", alpha " << alpha
                                          << ", beta " << beta << ", " << threads << " thread(s)");
        const Reference ref = reference(ab, c0, alpha, beta);
        Tensor<float> c = c0.clone();
        backend::cpu::gemm(a, b.t().contiguous().t(), c, alpha, beta);
        EXPECT_TRUE(matches(c, ref));
      }
    }
  }
}

TEST(Gemm, WritesIntoStridedAndTransposedOutputs) {
  for (const auto& [m, k, n] : std::vector<Dims>{{13, 17, 5}, {300, 257, 129}}) {
    const Tensor<float> a = random_matrix(m, k, 6), b = random_matrix(k, n, 7);
    const Tensor<float> c0 = random_matrix(m, n, 8);
    const Reference ref = reference(a, b, c0, 1.5, 0.5);
    for (int threads : {1, 2}) {
      ThreadCount tc(threads);
      for (Layout lc : kLayouts) {
        SCOPED_TRACE(::testing::Message() << m << "x" << k << "x" << n << ", C " << name(lc) << ", "
                                          << threads << " thread(s)");
        Tensor<float> c = stored_as(c0, lc);
        backend::cpu::gemm(a, b, c, 1.5, 0.5);
        EXPECT_TRUE(matches(c, ref));
      }
    }
  }
}

TEST(Gemm, LeavesMemoryBesideTheOutputUntouched) {
  // C is a [m, n] window into a larger buffer: rows, columns and padding around it keep their
  // values, including past the last partial 16-column vector and 12-row tile.
  const int64_t m = 25, k = 40, n = 35;
  const Tensor<float> a = random_matrix(m, k, 9), b = random_matrix(k, n, 10);
  const Reference ref = reference(a, b, zeros<float>({m, n}), 1.0, 0.0);
  for (int threads : {1, 2}) {
    ThreadCount tc(threads);
    Tensor<float> big = full<float>({m + 2, n + 5}, 7.0);
    Tensor<float> c = big.slice(0, 1, m + 1).slice(1, 2, n + 2);
    backend::cpu::gemm(a, b, c, 1.0, 0.0);
    EXPECT_TRUE(matches(c, ref));
    auto all = big.to_vector();
    for (int64_t i = 0; i < m + 2; ++i) {
      for (int64_t j = 0; j < n + 5; ++j) {
        const bool inside = i >= 1 && i <= m && j >= 2 && j < n + 2;
        if (!inside) {
          EXPECT_EQ(all[size_t(i * (n + 5) + j)], 7.0f) << "row " << i << " col " << j;
        }
      }
    }
  }
}

TEST(Gemm, BroadcastRowsAndBatches) {
  for (int threads : {1, 2}) {
    ThreadCount tc(threads);
    // Stride-0 rows (an expanded row vector) as A.
    const Tensor<float> row = random_matrix(1, 70, 11), b = random_matrix(70, 45, 12);
    const Tensor<float> a = row.expand({30, 70});
    Tensor<float> c = zeros<float>({30, 45});
    backend::cpu::gemm(a, b, c, 1.0, 0.0);
    EXPECT_TRUE(matches(c, reference(a.contiguous(), b, zeros<float>({30, 45}), 1.0, 0.0)));
    // A batch of 3 with B shared (stride 0 over the batch), a transposed B per product.
    const int64_t m = 37, k = 65, n = 50;
    Generator g(13);
    const Tensor<float> a3 = randn<float>({3, m, k}, g), bt = randn<float>({n, k}, g);
    const Tensor<float> b3 = bt.t().unsqueeze(0).expand({3, k, n});
    Tensor<float> c3 = full<float>({3, m, n}, 2.0);
    backend::cpu::gemm(a3, b3, c3, 1.0, 1.0);
    for (int64_t i = 0; i < 3; ++i) {
      SCOPED_TRACE(::testing::Message() << "batch entry " << i << ", " << threads << " thread(s)");
      EXPECT_TRUE(matches(c3.select(0, i),
                          reference(a3.select(0, i), bt.t(), full<float>({m, n}, 2.0), 1.0, 1.0)));
    }
  }
}

TEST(Gemm, ZeroDepthScalesC) {
  Tensor<float> c = full<float>({20, 30}, 3.0);
  backend::cpu::gemm(zeros<float>({20, 0}), zeros<float>({0, 30}), c, 1.0, 0.5);
  EXPECT_TRUE(sinew::testing::all_close(c, full<float>({20, 30}, 1.5)));
}

#if defined(__AVX512F__)
// The AVX-512 kernel called directly with two threads on shapes too small for gemm() to split,
// so that the split along m and along n is exercised on edge tiles.
TEST(Sgemm, ThreadSplitCoversEdgeTiles) {
  using backend::cpu::sgemm_avx512::Operand;
  for (const auto& [m, k, n] : std::vector<Dims>{
           {13, 17, 5}, {5, 17, 13}, {40, 20, 70}, {70, 20, 40}, {2, 2, 2}, {100, 400, 33}}) {
    const Tensor<float> a = random_matrix(m, k, 14), b = random_matrix(k, n, 15);
    const Tensor<float> c0 = random_matrix(m, n, 16);
    const Reference ref = reference(a, b, c0, 1.0, 1.0);
    Tensor<float> c = c0.clone();
    backend::cpu::sgemm_avx512::sgemm(m, n, k, 1.0f, Operand{a.data_ptr(), k, 1},
                                      Operand{b.data_ptr(), n, 1}, 1.0f, c.data_ptr(), n, 2);
    EXPECT_TRUE(matches(c, ref)) << m << "x" << k << "x" << n;
  }
}
#endif

}  // namespace SINEW_UNITY_ID
}  // namespace
