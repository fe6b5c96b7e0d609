// The row-major -> column-major cuBLAS mapping: each plan is run through a naive reference of the
// cuBLAS calls it names (column-major, op N/T, lda/ldb/ldc, strided batches, argument checks) and
// compared with a naive row-major product over the original strided views.
#include "sinew/backend/cuda/gemm_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {
namespace SINEW_UNITY_ID {

using sinew::backend::cuda::BlasGemmCall;
using sinew::backend::cuda::BlasOp;
using sinew::backend::cuda::GemmBatchDim;
using sinew::backend::cuda::GemmPlan;
using sinew::backend::cuda::GemmRequest;
using sinew::backend::cuda::GemmStrides;
using sinew::backend::cuda::plan_gemm;
using Status = GemmPlan::Status;

// Memory of one operand: a buffer and the element offset of its first element.
struct Memory {
  std::vector<double> buf;
  int64_t off = 0;
};

// Bounds-checked element access: an index outside the buffer is a test failure.
double& elem(std::vector<double>& buf, int64_t i, const char* what) {
  static double dummy;
  if (i < 0 || i >= static_cast<int64_t>(buf.size())) {
    ADD_FAILURE() << what << " index " << i << " outside its buffer of " << buf.size();
    return dummy;
  }
  return buf[static_cast<std::size_t>(i)];
}

// cublasGemmEx (batch_count 1) / cublasGemmStridedBatchedEx as documented, in column-major terms:
// C[i + j ldc] = alpha sum_p op(A)(i, p) op(B)(p, j) + beta C[i + j ldc], op(A)(i, p) =
// A[i + p lda] for N and A[p + i lda] for T; beta == 0 does not read C. Arguments cuBLAS rejects
// (CUBLAS_STATUS_INVALID_VALUE) fail the test.
void reference_cublas(const BlasGemmCall& c, double alpha, std::vector<double>& a, int64_t a0,
                      std::vector<double>& b, int64_t b0, double beta, std::vector<double>& cbuf,
                      int64_t c0) {
  const bool an = c.transa == BlasOp::N, bn = c.transb == BlasOp::N;
  ASSERT_GE(c.m, 0);
  ASSERT_GE(c.n, 0);
  ASSERT_GE(c.k, 0);
  ASSERT_GE(c.lda, std::max(1, an ? c.m : c.k)) << "lda";
  ASSERT_GE(c.ldb, std::max(1, bn ? c.k : c.n)) << "ldb";
  ASSERT_GE(c.ldc, std::max(1, c.m)) << "ldc";
  ASSERT_GE(c.batch_count, 0);
  if (!c.strided_batched) {
    ASSERT_EQ(c.batch_count, 1);
  }
  for (int batch = 0; batch < c.batch_count; ++batch) {
    const int64_t ao = a0 + batch * c.stride_a, bo = b0 + batch * c.stride_b,
                  co = c0 + batch * c.stride_c;
    for (int j = 0; j < c.n; ++j) {
      for (int i = 0; i < c.m; ++i) {
        double sum = 0;
        for (int p = 0; p < c.k; ++p) {
          double x = elem(a, ao + (an ? i + int64_t{p} * c.lda : p + int64_t{i} * c.lda), "A'");
          double y = elem(b, bo + (bn ? p + int64_t{j} * c.ldb : j + int64_t{p} * c.ldb), "B'");
          sum += x * y;
        }
        double& out = elem(cbuf, co + i + int64_t{j} * c.ldc, "C'");
        out = alpha * sum + (beta == 0 ? 0.0 : beta * out);
      }
    }
  }
}

// Calls f(oa, ob, oc) for every batch index of r: the offsets of its matrices.
template <class F>
void for_each_batch(const GemmRequest& r, F f) {
  int64_t count = 1;
  for (const auto& d : r.batch) count *= d.size;
  for (int64_t i = 0; i < count; ++i) {
    int64_t rest = i, oa = 0, ob = 0, oc = 0;
    for (auto d = r.batch.rbegin(); d != r.batch.rend(); ++d) {
      int64_t idx = rest % d->size;
      rest /= d->size;
      oa += idx * d->stride_a;
      ob += idx * d->stride_b;
      oc += idx * d->stride_c;
    }
    f(oa, ob, oc);
  }
}

// The naive row-major product over the original strided views.
void reference_rowmajor(const GemmRequest& r, double alpha, Memory& a, Memory& b, double beta,
                        Memory& c) {
  for_each_batch(r, [&](int64_t oa, int64_t ob, int64_t oc) {
    for (int64_t i = 0; i < r.m; ++i) {
      for (int64_t j = 0; j < r.n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < r.k; ++p) {
          sum += elem(a.buf, a.off + oa + i * r.a.rs + p * r.a.cs, "A") *
                 elem(b.buf, b.off + ob + p * r.b.rs + j * r.b.cs, "B");
        }
        double& out = elem(c.buf, c.off + oc + i * r.c.rs + j * r.c.cs, "C");
        out = alpha * sum + (beta == 0 ? 0.0 : beta * out);
      }
    }
  });
}

// Runs a plan: every call of its loop through the reference, on the operands it names.
void run_plan(const GemmPlan& plan, double alpha, Memory& a, Memory& b, double beta, Memory& c) {
  ASSERT_TRUE(plan.status == Status::Ok || plan.status == Status::ScaleOnly);
  for (int64_t i = 0; i < plan.call_count(); ++i) {
    int64_t oa, ob, oc;
    plan.offsets(i, &oa, &ob, &oc);
    Memory& first = plan.call.swap_operands ? b : a;
    Memory& second = plan.call.swap_operands ? a : b;
    int64_t o1 = plan.call.swap_operands ? ob : oa, o2 = plan.call.swap_operands ? oa : ob;
    reference_cublas(plan.call, alpha, first.buf, first.off + o1, second.buf, second.off + o2, beta,
                     c.buf, c.off + oc);
  }
}

// The smallest and largest element offsets of a [rows, cols] view over the batch.
void extent(int64_t rows, int64_t cols, GemmStrides s, const std::vector<GemmBatchDim>& batch,
            int which, int64_t* lo, int64_t* hi) {
  *lo = *hi = 0;
  auto add = [&](int64_t size, int64_t stride) {
    if (size <= 0) return;
    int64_t span = (size - 1) * stride;
    (span < 0 ? *lo : *hi) += span;
  };
  add(rows, s.rs);
  add(cols, s.cs);
  for (const auto& d : batch)
    add(d.size, which == 0 ? d.stride_a : which == 1 ? d.stride_b : d.stride_c);
}

// Memory for an operand with small integer values (every product and sum is exact in double),
// padded at both ends; `fill_nan` fills it with NaN instead.
Memory make_memory(int64_t rows, int64_t cols, GemmStrides s, const std::vector<GemmBatchDim>& b,
                   int which, std::mt19937& rng, bool fill_nan = false) {
  int64_t lo, hi;
  extent(rows, cols, s, b, which, &lo, &hi);
  Memory m;
  m.off = 3 - lo;
  m.buf.resize(static_cast<std::size_t>(m.off + hi + 4));
  std::uniform_int_distribution<int> v(-4, 4);
  for (double& x : m.buf) x = fill_nan ? std::numeric_limits<double>::quiet_NaN() : v(rng);
  return m;
}

// Element-wise equal, NaN equal to NaN (padding and elements outside C's view stay as they were).
::testing::AssertionResult same(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))))
      return ::testing::AssertionFailure() << "element " << i << ": " << x[i] << " vs " << y[i];
  }
  return ::testing::AssertionSuccess();
}

// Plans r, runs the plan through the reference cuBLAS and compares the whole of C's memory with
// the naive row-major product. Returns the plan.
GemmPlan check(const GemmRequest& r, double alpha = 1, double beta = 0, unsigned seed = 1,
               bool c_nan = false) {
  std::mt19937 rng(seed);
  Memory a = make_memory(r.m, r.k, r.a, r.batch, 0, rng);
  Memory b = make_memory(r.k, r.n, r.b, r.batch, 1, rng);
  Memory c = make_memory(r.m, r.n, r.c, r.batch, 2, rng, c_nan);
  Memory expect = c;
  reference_rowmajor(r, alpha, a, b, beta, expect);
  GemmPlan plan = plan_gemm(r);
  EXPECT_TRUE(plan.status == Status::Ok || plan.status == Status::ScaleOnly)
      << "status " << static_cast<int>(plan.status) << ": " << plan.reason;
  if (plan.status != Status::Ok && plan.status != Status::ScaleOnly) return plan;
  EXPECT_EQ(plan.status == Status::ScaleOnly, r.k == 0);
  run_plan(plan, alpha, a, b, beta, c);
  EXPECT_TRUE(same(c.buf, expect.buf)) << "m=" << r.m << " n=" << r.n << " k=" << r.k;
  return plan;
}

GemmStrides row_major(int64_t cols) { return {cols, 1}; }
GemmStrides col_major(int64_t rows) { return {1, rows}; }

TEST(GemmPlan, ContiguousIsTransposedProductWithNoTransposes) {
  // Row-major C = A B is column-major C^T = B^T A^T: cuBLAS(N, N, n, m, k, B, n, A, k, C, n).
  GemmRequest r{.m = 3, .n = 4, .k = 5, .a = row_major(5), .b = row_major(4), .c = row_major(4)};
  GemmPlan p = check(r);
  EXPECT_TRUE(p.call.swap_operands);
  EXPECT_FALSE(p.call.strided_batched);
  EXPECT_EQ(p.call.transa, BlasOp::N);
  EXPECT_EQ(p.call.transb, BlasOp::N);
  EXPECT_EQ(p.call.m, 4);
  EXPECT_EQ(p.call.n, 3);
  EXPECT_EQ(p.call.k, 5);
  EXPECT_EQ(p.call.lda, 4);
  EXPECT_EQ(p.call.ldb, 5);
  EXPECT_EQ(p.call.ldc, 4);
  EXPECT_EQ(p.call_count(), 1);
  check(r, 1.0, 0.0, 2, true);  // beta == 0: C is not read, NaN there included
}

TEST(GemmPlan, TransposedViewsBecomeOpT) {
  // op(A) = A^T with A stored [k, m]: strides {1, m}; op(B) = B^T with B stored [n, k]: {1, k}.
  GemmRequest ta{.m = 3, .n = 4, .k = 5, .a = col_major(3), .b = row_major(4), .c = row_major(4)};
  GemmPlan p = check(ta);
  EXPECT_EQ(p.call.transa, BlasOp::N);
  EXPECT_EQ(p.call.transb, BlasOp::T);
  EXPECT_EQ(p.call.ldb, 3);

  GemmRequest tb{.m = 3, .n = 4, .k = 5, .a = row_major(5), .b = col_major(5), .c = row_major(4)};
  p = check(tb);
  EXPECT_EQ(p.call.transa, BlasOp::T);
  EXPECT_EQ(p.call.transb, BlasOp::N);
  EXPECT_EQ(p.call.lda, 5);

  GemmRequest both{.m = 3, .n = 4, .k = 5, .a = col_major(3), .b = col_major(5), .c = row_major(4)};
  p = check(both, 2.0, 0.0, 3);
  EXPECT_EQ(p.call.transa, BlasOp::T);
  EXPECT_EQ(p.call.transb, BlasOp::T);
  EXPECT_EQ(p.call.lda, 5);
  EXPECT_EQ(p.call.ldb, 3);
}

TEST(GemmPlan, ColumnMajorOutputIsComputedDirectly) {
  GemmRequest r{.m = 3, .n = 4, .k = 5, .a = row_major(5), .b = row_major(4), .c = col_major(3)};
  GemmPlan p = check(r, 1.5, -0.5);
  EXPECT_FALSE(p.call.swap_operands);
  EXPECT_EQ(p.call.m, 3);
  EXPECT_EQ(p.call.n, 4);
  EXPECT_EQ(p.call.transa, BlasOp::T);  // row-major A read as the transpose of a column-major one
  EXPECT_EQ(p.call.lda, 5);
  EXPECT_EQ(p.call.ldc, 3);
  // A column-major C with a leading stride larger than m (rows of a taller matrix).
  r.c = {1, 8};
  p = check(r, 1.0, 1.0, 2);
  EXPECT_EQ(p.call.ldc, 8);
}

TEST(GemmPlan, EveryLayoutAndSmallShape) {
  int cases = 0;
  for (int64_t m : {1, 2, 3, 7}) {
    for (int64_t n : {1, 2, 5}) {
      for (int64_t k : {1, 2, 4, 9}) {
        for (int layout = 0; layout < 16; ++layout) {
          // Each operand row-major or column-major, C too; every fourth with padded leading
          // strides.
          const int64_t pad = layout % 4 == 3 ? 3 : 0;
          GemmRequest r{.m = m, .n = n, .k = k};
          r.a = layout & 1 ? GemmStrides{1, m + pad} : GemmStrides{k + pad, 1};
          r.b = layout & 2 ? GemmStrides{1, k + pad} : GemmStrides{n + pad, 1};
          r.c = layout & 4 ? GemmStrides{1, m + pad} : GemmStrides{n + pad, 1};
          const double alpha = layout & 8 ? -1.5 : 1.0, beta = layout & 8 ? 0.5 : 0.0;
          GemmPlan p = check(r, alpha, beta, static_cast<unsigned>(cases));
          EXPECT_EQ(p.status, Status::Ok);
          ++cases;
          if (HasFailure()) {
            ADD_FAILURE() << "m=" << m << " n=" << n << " k=" << k << " layout=" << layout;
            return;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 4 * 3 * 4 * 16);
}

TEST(GemmPlan, SizeOneDimensionsIgnoreTheirStrides) {
  // m = n = k = 1 with arbitrary strides on the size-1 dimensions.
  GemmRequest r{.m = 1, .n = 1, .k = 1, .a = {7, 5}, .b = {0, 3}, .c = {11, 13}};
  GemmPlan p = check(r, 2.0, 1.0);
  EXPECT_EQ(p.call.lda, 1);
  EXPECT_EQ(p.call.ldb, 1);
  EXPECT_EQ(p.call.ldc, 1);
  // A row vector times a matrix, the vector strided (a column of a row-major matrix).
  GemmRequest v{.m = 1, .n = 4, .k = 6, .a = {99, 3}, .b = row_major(4), .c = {0, 1}};
  check(v, 1.0, 0.0, 4);
  // A matrix times a strided column vector into a strided column (C [m, 1], stride 2).
  GemmRequest w{.m = 5, .n = 1, .k = 3, .a = row_major(3), .b = {4, 0}, .c = {2, 9}};
  check(w, 1.0, 1.0, 5);
}

TEST(GemmPlan, DotProductViewsAsSinewPassesThem) {
  // dot(a, b) for vectors of length n and stride s: a as [1, n] {n s, s}, b as [n, 1] {s, 1},
  // y as [1, 1] {1, 1} (ops/linalg.hpp).
  for (int64_t s : {1, 2, 3}) {
    const int64_t n = 7;
    GemmRequest r{.m = 1, .n = 1, .k = n, .a = {n * s, s}, .b = {s, 1}, .c = {1, 1}};
    GemmPlan p = check(r, 1.0, 0.0, static_cast<unsigned>(s));
    EXPECT_EQ(p.status, Status::Ok);
  }
}

TEST(GemmPlan, LinearLayerWithBiasAccumulates) {
  // linear: y2 [rows, out] = x [rows, in] w^T + y2 (bias copied in, beta = 1); w [out, in] as the
  // view {1, in}; x a row slice of a wider matrix (leading stride 10 > in).
  const int64_t rows = 6, in = 4, out = 3;
  GemmRequest r{.m = rows, .n = out, .k = in, .a = {10, 1}, .b = {1, in}, .c = row_major(out)};
  GemmPlan p = check(r, 1.0, 1.0);
  EXPECT_TRUE(p.call.swap_operands);
  EXPECT_EQ(p.call.transa, BlasOp::T);  // w^T^T = w, stored [out, in] row-major
  EXPECT_EQ(p.call.lda, in);
  EXPECT_EQ(p.call.transb, BlasOp::N);
  EXPECT_EQ(p.call.ldb, 10);  // lda larger than the minimum: x is a column slice
}

TEST(GemmPlan, LeadingStridesLargerThanTheMinimum) {
  // Every operand a sub-block of a bigger matrix, transposed or not.
  GemmRequest r{.m = 4, .n = 5, .k = 3, .a = {8, 1}, .b = {1, 7}, .c = {9, 1}};
  GemmPlan p = check(r, 0.5, 2.0);
  EXPECT_EQ(p.call.lda, 7);
  EXPECT_EQ(p.call.ldb, 8);
  EXPECT_EQ(p.call.ldc, 9);
}

TEST(GemmPlan, EmptyInnerDimensionScalesC) {
  for (double beta : {0.0, 1.0, 2.5}) {
    GemmRequest r{.m = 3, .n = 4, .k = 0, .a = {0, 1}, .b = {4, 1}, .c = row_major(4)};
    GemmPlan p = check(r, 1.0, beta, 1, beta == 0);  // beta == 0: NaN in C becomes 0
    EXPECT_EQ(p.status, Status::ScaleOnly);
    EXPECT_FALSE(p.copy_a || p.copy_b || p.copy_c);
    // Batched, with operand strides that would be meaningless: nothing of A or B is read.
    GemmRequest rb{.m = 2, .n = 3, .k = 0, .a = {5, 7}, .b = {1, 1}, .c = {1, 2}};
    rb.batch = {{4, 0, 0, 6}};
    p = check(rb, 1.0, beta, 2, beta == 0);
    EXPECT_EQ(p.status, Status::ScaleOnly);
    EXPECT_EQ(p.call.batch_count, 4);
    EXPECT_EQ(p.call.stride_c, 6);
  }
}

TEST(GemmPlan, EmptyOutputsNeedNoCall) {
  EXPECT_EQ(plan_gemm({.m = 0, .n = 3, .k = 2}).status, Status::Empty);
  EXPECT_EQ(plan_gemm({.m = 3, .n = 0, .k = 2}).status, Status::Empty);
  GemmRequest r{.m = 2, .n = 2, .k = 2, .a = row_major(2), .b = row_major(2), .c = row_major(2)};
  r.batch = {{3, 4, 4, 4}, {0, 4, 4, 4}};
  EXPECT_EQ(plan_gemm(r).status, Status::Empty);
}

TEST(GemmPlan, BatchedContiguousIsOneStridedBatchedCall) {
  const int64_t m = 3, n = 2, k = 4;
  GemmRequest r{.m = m, .n = n, .k = k, .a = row_major(k), .b = row_major(n), .c = row_major(n)};
  r.batch = {{5, m * k, k * n, m * n}};
  GemmPlan p = check(r, 1.0, 0.0);
  EXPECT_TRUE(p.call.strided_batched);
  EXPECT_EQ(p.call.batch_count, 5);
  EXPECT_EQ(p.call.stride_a, k * n);  // cuBLAS's A is Sinew's B
  EXPECT_EQ(p.call.stride_b, m * k);
  EXPECT_EQ(p.call.stride_c, m * n);
  EXPECT_TRUE(p.loop.empty());
  // Two nested batch dimensions and a size-1 one merge into one batch of 6.
  r.batch = {{2, 3 * m * k, 3 * k * n, 3 * m * n}, {1, 999, 999, 999}, {3, m * k, k * n, m * n}};
  p = check(r, 1.0, 1.0, 2);
  EXPECT_EQ(p.call.batch_count, 6);
  EXPECT_TRUE(p.loop.empty());
}

TEST(GemmPlan, BroadcastBatchUsesStrideZero) {
  const int64_t m = 4, n = 3, k = 2;
  // B shared by every batch (a weight), A by every batch (expanded input).
  GemmRequest r{.m = m, .n = n, .k = k, .a = row_major(k), .b = row_major(n), .c = row_major(n)};
  r.batch = {{3, m * k, 0, m * n}};
  GemmPlan p = check(r, 1.0, 0.0);
  EXPECT_EQ(p.call.stride_a, 0);
  EXPECT_EQ(p.call.batch_count, 3);
  r.batch = {{3, 0, k * n, m * n}};
  p = check(r, 2.0, 0.5, 2);
  EXPECT_EQ(p.call.stride_b, 0);
  // matmul's broadcast [2, 1] @ [1, 3] expanded to [2, 3]: the strides do not nest, so the
  // larger dimension is the call's batch and the other the caller's loop.
  r.batch = {{2, m * k, 0, 3 * m * n}, {3, 0, k * n, m * n}};
  p = check(r, 1.0, 0.0, 3);
  EXPECT_EQ(p.call.batch_count, 3);
  ASSERT_EQ(p.loop.size(), 1u);
  EXPECT_EQ(p.loop[0].size, 2);
  EXPECT_EQ(p.call_count(), 2);
  // A and B nest but C's batch dimensions are permuted: no merge, one call per outer index.
  r.batch = {{2, 3 * m * k, 3 * k * n, m * n}, {3, m * k, k * n, 2 * m * n}};
  p = check(r, 1.0, 0.0, 5);
  EXPECT_EQ(p.call.batch_count, 3);
  EXPECT_EQ(p.call.stride_c, 2 * m * n);
  EXPECT_EQ(p.call_count(), 2);
  // Broadcast over both of two nested dimensions merges (0 = 0 * size).
  r.batch = {{2, 0, k * n * 3, m * n * 3}, {3, 0, k * n, m * n}};
  p = check(r, 1.0, 0.0, 4);
  EXPECT_EQ(p.call.batch_count, 6);
  EXPECT_TRUE(p.loop.empty());
}

TEST(GemmPlan, BatchedTransposedAndPaddedOperands) {
  // bmm(a, b.transpose(-1, -2)) style: B's matrices are [n, k] row-major read as op T; C
  // batches interleaved (C [m, batch, n] permuted to [batch, m, n]).
  const int64_t m = 3, n = 4, k = 5, batch = 3;
  GemmRequest r{.m = m, .n = n, .k = k, .a = {k + 2, 1}, .b = col_major(k), .c = {batch * n, 1}};
  r.batch = {{batch, m * (k + 2), n * k, n}};
  GemmPlan p = check(r, 1.0, -1.0);
  EXPECT_EQ(p.status, Status::Ok);
  EXPECT_EQ(p.call.ldc, batch * n);
  EXPECT_EQ(p.call.stride_c, n);
}

// The operand a copy flag names, copied to dense row-major matrices over the full batch, with the
// request changed to match.
void make_dense(GemmRequest& r, int which, Memory& mem, Memory* original = nullptr) {
  const int64_t rows = which == 1 ? r.k : r.m, cols = which == 0 ? r.k : r.n;
  GemmStrides& s = which == 0 ? r.a : which == 1 ? r.b : r.c;
  Memory dense;
  int64_t count = 1;
  for (const auto& d : r.batch) count *= d.size;
  dense.buf.resize(static_cast<std::size_t>(std::max<int64_t>(count * rows * cols, 1)));
  int64_t bi = 0;
  for_each_batch(r, [&](int64_t oa, int64_t ob, int64_t oc) {
    const int64_t o = which == 0 ? oa : which == 1 ? ob : oc;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        dense.buf[static_cast<std::size_t>((bi * rows + i) * cols + j)] =
            elem(mem.buf, mem.off + o + i * s.rs + j * s.cs, "copy");
    ++bi;
  });
  if (original) *original = mem;
  mem = dense;
  s = {cols, 1};
  int64_t stride = rows * cols;
  for (auto d = r.batch.rbegin(); d != r.batch.rend(); ++d) {
    (which == 0 ? d->stride_a : which == 1 ? d->stride_b : d->stride_c) = stride;
    stride *= d->size;
  }
}

// A request the plan refuses: check the flags, copy what they name (as cublas.hpp will), plan
// again and compare with the naive product on the original views.
void check_needs_copy(GemmRequest r, bool ca, bool cb, bool cc, double alpha = 1,
                      double beta = 0.5) {
  GemmPlan p = plan_gemm(r);
  ASSERT_EQ(p.status, Status::NeedsCopy) << p.reason;
  EXPECT_EQ(p.copy_a, ca) << p.reason;
  EXPECT_EQ(p.copy_b, cb) << p.reason;
  EXPECT_EQ(p.copy_c, cc) << p.reason;
  EXPECT_FALSE(p.reason.empty());
  std::mt19937 rng(7);
  Memory a = make_memory(r.m, r.k, r.a, r.batch, 0, rng);
  Memory b = make_memory(r.k, r.n, r.b, r.batch, 1, rng);
  Memory c = make_memory(r.m, r.n, r.c, r.batch, 2, rng);
  Memory expect = c;
  reference_rowmajor(r, alpha, a, b, beta, expect);
  GemmRequest orig = r;
  if (p.copy_a) make_dense(r, 0, a);
  if (p.copy_b) make_dense(r, 1, b);
  Memory c_orig;
  if (p.copy_c) make_dense(r, 2, c, &c_orig);
  GemmPlan q = plan_gemm(r);
  ASSERT_EQ(q.status, Status::Ok) << q.reason;
  run_plan(q, alpha, a, b, beta, c);
  if (p.copy_c) {  // copy the dense result back into the original view
    int64_t bi = 0;
    for_each_batch(orig, [&](int64_t, int64_t, int64_t oc) {
      for (int64_t i = 0; i < orig.m; ++i)
        for (int64_t j = 0; j < orig.n; ++j)
          elem(c_orig.buf, c_orig.off + oc + i * orig.c.rs + j * orig.c.cs, "copy back") =
              c.buf[static_cast<std::size_t>((bi * orig.m + i) * orig.n + j)];
      ++bi;
    });
    c = c_orig;
  }
  EXPECT_TRUE(same(c.buf, expect.buf));
}

TEST(GemmPlan, OperandsWithoutUnitStrideNeedACopy) {
  // A with strides {3, 2}: neither is 1.
  check_needs_copy({.m = 3, .n = 4, .k = 2, .a = {3, 2}, .b = row_major(4), .c = row_major(4)},
                   true, false, false);
  // B broadcast along its rows (stride 0 with k > 1: a leading stride that covers nothing).
  check_needs_copy({.m = 3, .n = 4, .k = 5, .a = row_major(5), .b = {0, 1}, .c = row_major(4)},
                   false, true, false);
  // B's leading stride smaller than its rows (overlapping columns of a transposed view).
  check_needs_copy({.m = 3, .n = 4, .k = 5, .a = row_major(5), .b = {1, 3}, .c = row_major(4)},
                   false, true, false);
  // Both.
  check_needs_copy({.m = 3, .n = 4, .k = 5, .a = {10, 2}, .b = {8, 2}, .c = row_major(4)}, true,
                   true, false);
  // A negative batch stride.
  GemmRequest neg{.m = 2, .n = 3, .k = 4, .a = row_major(4), .b = row_major(3), .c = row_major(3)};
  neg.batch = {{3, -8, 12, 6}};
  check_needs_copy(neg, true, false, false);
}

TEST(GemmPlan, OutputsCuBlasCannotWriteNeedACopy) {
  // C with strides {2, 8}: no unit stride.
  check_needs_copy({.m = 3, .n = 4, .k = 2, .a = row_major(2), .b = row_major(4), .c = {8, 2}},
                   false, false, true);
  // C row-major with a leading stride smaller than n (rows overlap).
  GemmPlan p =
      plan_gemm({.m = 3, .n = 4, .k = 2, .a = row_major(2), .b = row_major(4), .c = {2, 1}});
  EXPECT_EQ(p.status, Status::NeedsCopy);
  EXPECT_TRUE(p.copy_c);
  // C batches that overlap (stride 0 over a batch of 2) or interleave onto each other.
  GemmRequest r{.m = 2, .n = 3, .k = 4, .a = row_major(4), .b = row_major(3), .c = row_major(3)};
  r.batch = {{2, 8, 12, 0}};
  p = plan_gemm(r);
  EXPECT_EQ(p.status, Status::NeedsCopy);
  EXPECT_TRUE(p.copy_c);
  EXPECT_FALSE(p.copy_a || p.copy_b);
  r.batch = {{2, 8, 12, 4}};  // batch 1 starts at element 4, inside batch 0's rows [0, 6)
  p = plan_gemm(r);
  EXPECT_TRUE(p.copy_c);
  r.batch = {{2, 8, 12, 6}};  // dense batches
  EXPECT_EQ(plan_gemm(r).status, Status::Ok);
  // Interleaved but disjoint: C [m, batch, n] viewed as [batch, m, n].
  r.c = {2 * 3, 1};
  r.batch = {{2, 8, 12, 3}};
  EXPECT_EQ(plan_gemm(r).status, Status::Ok);
  // A C that is no matrix for cuBLAS, copied and copied back, batched.
  GemmRequest rb{.m = 2, .n = 3, .k = 4, .a = row_major(4), .b = col_major(4), .c = {7, 2}};
  rb.batch = {{3, 8, 12, 20}};
  check_needs_copy(rb, false, false, true);
}

TEST(GemmPlan, SizesBeyondIntAreTooLarge) {
  const int64_t big = int64_t{1} << 31;
  GemmPlan p = plan_gemm(
      {.m = big, .n = 2, .k = 2, .a = row_major(2), .b = row_major(2), .c = row_major(2)});
  EXPECT_EQ(p.status, Status::TooLarge);
  // A leading stride beyond int is an operand to copy, not a size problem.
  p = plan_gemm({.m = 2, .n = 2, .k = 2, .a = {big, 1}, .b = row_major(2), .c = row_major(2)});
  EXPECT_EQ(p.status, Status::NeedsCopy);
  EXPECT_TRUE(p.copy_a);
}

TEST(GemmPlan, RejectsNegativeSizes) {
  EXPECT_THROW(plan_gemm({.m = -1, .n = 2, .k = 2}), sinew::Error);
}

// Random shapes, layouts, offsets and batch structures (nested, broadcast, interleaved C), every
// one expressible without copies.
TEST(GemmPlan, RandomizedAgainstTheNaiveProduct) {
  std::mt19937 rng(424242);
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int t = 0; t < 400; ++t) {
    GemmRequest r{.m = pick(1, 6), .n = pick(1, 6), .k = pick(0, 6)};
    auto layout = [&](int64_t rows, int64_t cols) -> GemmStrides {
      int64_t pad = pick(0, 2);
      return pick(0, 1) ? GemmStrides{cols + pad, 1} : GemmStrides{1, rows + pad};
    };
    r.a = layout(r.m, r.k);
    r.b = layout(r.k, r.n);
    r.c = layout(r.m, r.n);
    // Up to three batch dimensions, each operand dense over them in its own random order (a
    // permuted view), A and B broadcast over a dimension at random; C's batches stay disjoint.
    const int dims = pick(0, 3);
    r.batch.resize(static_cast<std::size_t>(dims));
    for (auto& bd : r.batch) bd.size = pick(1, 3);
    auto span = [](int64_t rows, int64_t cols, GemmStrides s) {
      return std::max<int64_t>((rows - 1) * s.rs + (cols - 1) * s.cs + 1, 1);
    };
    auto lay_out = [&](int64_t matrix_span, int which) {
      std::vector<std::size_t> order(static_cast<std::size_t>(dims));
      for (std::size_t d = 0; d < order.size(); ++d) order[d] = d;
      std::shuffle(order.begin(), order.end(), rng);
      int64_t stride = matrix_span;
      for (std::size_t d : order) {
        auto& bd = r.batch[d];
        int64_t& st = which == 0 ? bd.stride_a : which == 1 ? bd.stride_b : bd.stride_c;
        st = which < 2 && pick(0, 3) == 0 ? 0 : stride;
        stride *= bd.size;
      }
    };
    lay_out(span(r.m, r.k, r.a), 0);
    lay_out(span(r.k, r.n, r.b), 1);
    lay_out(span(r.m, r.n, r.c), 2);
    const double alphas[] = {1.0, -2.0, 0.5}, betas[] = {0.0, 1.0, -1.5};
    GemmPlan p = check(r, alphas[pick(0, 2)], betas[pick(0, 2)], static_cast<unsigned>(t));
    if (HasFailure()) {
      ADD_FAILURE() << "case " << t << ": m=" << r.m << " n=" << r.n << " k=" << r.k
                    << " batch dims " << dims << " calls " << p.call_count();
      return;
    }
  }
}

}  // namespace SINEW_UNITY_ID
}  // namespace
