// Row-major strided GEMM, as Sinew's gemm kernel receives it, mapped onto one column-major cuBLAS
// call (cublasGemmEx or cublasGemmStridedBatchedEx): transposes, leading dimensions and batch
// strides, broadcast batches included, are folded into the call's arguments before any copy.
// Pure host code (no CUDA header); the argument values are what cublas.hpp passes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// A matrix as a row-major view: element (i, j) at i * rs + j * cs (in elements). A transposed view
// is the same memory with rs and cs swapped.
struct GemmStrides {
  int64_t rs = 0, cs = 1;
  GemmStrides transposed() const { return {cs, rs}; }
};

// One batch dimension: its size and each operand's stride along it (0 broadcasts the operand).
struct GemmBatchDim {
  int64_t size = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};

// C[m, n] = alpha op(A)[m, k] op(B)[k, n] + beta C for every index of the batch dimensions, as
// the CPU gemm (backend/cpu/gemm.hpp) takes it: a, b and c describe op(A), op(B) and C as the
// views the kernel reads and writes.
struct GemmRequest {
  int64_t m = 0, n = 0, k = 0;
  GemmStrides a{}, b{}, c{};
  std::vector<GemmBatchDim> batch{};  // outermost first
};

enum class BlasOp { N, T };  // CUBLAS_OP_N, CUBLAS_OP_T

// The arguments of one column-major cuBLAS call: C' = op(A') op(B') with A' [m, k] after op, B'
// [k, n] after op, C' [m, n], column j of a matrix at j * ld; batch i of X' at X' + i * stride_x.
// With swap_operands, A' is Sinew's B and B' Sinew's A.
struct BlasGemmCall {
  bool strided_batched = false;  // cublasGemmStridedBatchedEx, else cublasGemmEx
  bool swap_operands = false;
  BlasOp transa = BlasOp::N, transb = BlasOp::N;
  int m = 0, n = 0, k = 0;
  int lda = 1, ldb = 1, ldc = 1;
  long long stride_a = 0, stride_b = 0, stride_c = 0;
  int batch_count = 1;
};

struct GemmPlan {
  enum class Status {
    Ok,         // issue `call` once per index of `loop`
    Empty,      // m, n or a batch size is 0: nothing to do
    ScaleOnly,  // k == 0: C = beta C (beta == 0 writes zeros without reading C); see below
    NeedsCopy,  // the operands flagged below must be made contiguous, then plan again
    TooLarge,   // m, n, k or the batch exceed cuBLAS's int arguments: split the work
  };
  Status status = Status::Ok;
  // Operands that cuBLAS cannot read or write as they are (no unit stride, a leading stride that
  // does not cover the other dimension or overflows int, a negative stride, or for C batches that
  // overlap). Copying an operand to dense row-major matrices (a broadcast batch may keep its 0
  // stride) always makes it expressible; for C the product goes to a dense temporary that is then
  // copied back.
  bool copy_a = false, copy_b = false, copy_c = false;
  std::string reason;  // why, for messages and tests
  // Valid when status is Ok, and for ScaleOnly when !copy_c: a call with k == 0, which by the
  // reference BLAS definition computes C' = beta C'. The caller may instead scale C itself as
  // PyTorch does, which does not depend on how cuBLAS treats k == 0.
  BlasGemmCall call;
  // Batch dimensions not folded into the call, outermost first: one call per index.
  std::vector<GemmBatchDim> loop;

  int64_t call_count() const {
    int64_t count = 1;
    for (const GemmBatchDim& d : loop) count *= d.size;
    return count;
  }
  // Element offsets into Sinew's A, B and C of call i, 0 <= i < call_count().
  void offsets(int64_t i, int64_t* oa, int64_t* ob, int64_t* oc) const {
    *oa = *ob = *oc = 0;
    for (auto d = loop.rbegin(); d != loop.rend(); ++d) {
      int64_t idx = i % d->size;
      i /= d->size;
      *oa += idx * d->stride_a;
      *ob += idx * d->stride_b;
      *oc += idx * d->stride_c;
    }
  }
};

namespace detail_gemm_plan {

constexpr int64_t kIntMax = std::numeric_limits<int>::max();

// How a matrix with `rows` x `cols` elements, element (r, c) at r * sr + c * sc, is read by
// cuBLAS as a column-major operand: as stored (op N, columns `ld` apart, sr == 1) or as the
// transpose of a stored cols x rows matrix (op T, sc == 1). The stride of a dimension of size 1
// is ignored, and an empty matrix reads nothing: there ld takes its least legal value. Without
// allow_t (C), only op N is accepted.
struct Operand {
  bool ok = false;
  BlasOp op = BlasOp::N;
  int64_t ld = 1;
};

inline Operand column_major(int64_t rows, int64_t cols, int64_t sr, int64_t sc, bool allow_t) {
  if (rows == 0 || cols == 0) return {true, BlasOp::N, std::max<int64_t>(rows, 1)};
  // op N: the stored matrix is rows x cols, ld >= max(1, rows).
  if (rows == 1 || sr == 1) {
    if (cols == 1) return {true, BlasOp::N, rows};
    if (sc >= rows && sc <= kIntMax) return {true, BlasOp::N, sc};
  }
  if (!allow_t) return {};
  // op T: the stored matrix is cols x rows, ld >= max(1, cols).
  if (cols == 1 || sc == 1) {
    if (rows == 1) return {true, BlasOp::T, cols};
    if (sr >= cols && sr <= kIntMax) return {true, BlasOp::T, sr};
  }
  return {};
}

// Whether the elements of C (every batch index and matrix element) are all at distinct offsets:
// the dimensions sorted by stride, each stride exceeds the span of the smaller ones.
inline bool distinct_elements(std::vector<std::pair<int64_t, int64_t>> dims) {  // (stride, size)
  std::sort(dims.begin(), dims.end());
  int64_t span = 0;  // largest offset reached by the dimensions so far
  for (auto [stride, size] : dims) {
    if (size <= 1) continue;
    if (stride <= span) return false;
    span += (size - 1) * stride;
  }
  return true;
}

}  // namespace detail_gemm_plan

// The cuBLAS call for a row-major request. A C with unit column stride is computed as the
// column-major C^T [n, m] = op(B)^T op(A)^T (swap_operands), one with unit row stride directly
// as C = op(A) op(B); each operand then goes in as op N or op T, whichever its unit stride allows.
// Batch dimensions of size 1 are dropped and neighbours whose strides nest (outer stride = inner
// stride * inner size, for all three operands, broadcast ones included) merged; the largest
// remaining dimension becomes the strided batch of the call, the others the caller's loop.
inline GemmPlan plan_gemm(const GemmRequest& r) {
  using detail_gemm_plan::column_major;
  using detail_gemm_plan::kIntMax;
  using Status = GemmPlan::Status;
  GemmPlan plan;
  SINEW_CHECK(r.m >= 0 && r.n >= 0 && r.k >= 0, "plan_gemm", "negative size m=", r.m, " n=", r.n,
              " k=", r.k);
  for (const GemmBatchDim& d : r.batch) {
    SINEW_CHECK(d.size >= 0, "plan_gemm", "negative batch size ", d.size);
    if (d.size == 0) plan.status = Status::Empty;
  }
  if (r.m == 0 || r.n == 0) plan.status = Status::Empty;
  if (plan.status == Status::Empty) return plan;
  std::vector<GemmBatchDim> dims;
  for (const GemmBatchDim& d : r.batch) {
    if (d.size == 1) continue;
    if (!dims.empty()) {
      GemmBatchDim& o = dims.back();
      if (o.stride_a == d.stride_a * d.size && o.stride_b == d.stride_b * d.size &&
          o.stride_c == d.stride_c * d.size) {
        o = {o.size * d.size, d.stride_a, d.stride_b, d.stride_c};
        continue;
      }
    }
    dims.push_back(d);
  }
  std::size_t inner = dims.size();  // the dimension the call batches over; none when dims is empty
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (inner == dims.size() || dims[i].size >= dims[inner].size) inner = i;
  }
  if (r.m > kIntMax || r.n > kIntMax || r.k > kIntMax ||
      (inner < dims.size() && dims[inner].size > kIntMax)) {
    plan.status = Status::TooLarge;
    plan.reason = detail::str("m=", r.m, " n=", r.n, " k=", r.k,
                              " or the batch exceed cuBLAS's int arguments");
    return plan;
  }

  auto note = [&plan](const char* what) {
    if (!plan.reason.empty()) plan.reason += "; ";
    plan.reason += what;
  };
  // C: unit column stride -> C^T column-major (swap), unit row stride -> C column-major.
  BlasGemmCall& call = plan.call;
  auto c_t = column_major(r.n, r.m, r.c.cs, r.c.rs, false);
  auto c_n = column_major(r.m, r.n, r.c.rs, r.c.cs, false);
  call.swap_operands = c_t.ok || !c_n.ok;
  const auto& cm = call.swap_operands ? c_t : c_n;
  std::vector<std::pair<int64_t, int64_t>> c_dims{{r.c.rs, r.m}, {r.c.cs, r.n}};
  for (const GemmBatchDim& d : dims) c_dims.emplace_back(d.stride_c, d.size);
  for (const GemmBatchDim& d : dims) {
    if (d.stride_c < 0) plan.copy_c = true;
  }
  if (!cm.ok || plan.copy_c || !detail_gemm_plan::distinct_elements(c_dims)) {
    plan.copy_c = true;
    note(
        "C has neither a unit column stride nor a unit row stride with a covering leading "
        "stride, or has overlapping or negatively strided elements");
  }
  // Operands: swapped, A' = op(B)^T [n, k] and B' = op(A)^T [k, m]; else A' = op(A), B' = op(B).
  const bool sw = call.swap_operands;
  auto first = sw ? column_major(r.n, r.k, r.b.cs, r.b.rs, true)
                  : column_major(r.m, r.k, r.a.rs, r.a.cs, true);
  auto second = sw ? column_major(r.k, r.m, r.a.cs, r.a.rs, true)
                   : column_major(r.k, r.n, r.b.rs, r.b.cs, true);
  auto& fa = sw ? plan.copy_b : plan.copy_a;
  auto& fb = sw ? plan.copy_a : plan.copy_b;
  bool neg_a = false, neg_b = false;
  for (const GemmBatchDim& d : dims) {
    neg_a = neg_a || d.stride_a < 0;
    neg_b = neg_b || d.stride_b < 0;
  }
  if (!first.ok) fa = true;
  if (!second.ok) fb = true;
  if (neg_a) plan.copy_a = true;
  if (neg_b) plan.copy_b = true;
  if (r.k == 0) plan.copy_a = plan.copy_b = false;  // nothing of A or B is read
  if (plan.copy_a) note("A has no unit stride with a covering leading stride, or a negative one");
  if (plan.copy_b) note("B has no unit stride with a covering leading stride, or a negative one");

  call.m = static_cast<int>(sw ? r.n : r.m);
  call.n = static_cast<int>(sw ? r.m : r.n);
  call.k = static_cast<int>(r.k);
  call.transa = first.op;
  call.transb = second.op;
  call.lda = static_cast<int>(first.ld);
  call.ldb = static_cast<int>(second.ld);
  call.ldc = static_cast<int>(cm.ld);
  if (inner < dims.size()) {
    const GemmBatchDim& d = dims[inner];
    call.strided_batched = true;
    call.batch_count = static_cast<int>(d.size);
    call.stride_a = r.k == 0 ? 0 : sw ? d.stride_b : d.stride_a;
    call.stride_b = r.k == 0 ? 0 : sw ? d.stride_a : d.stride_b;
    call.stride_c = d.stride_c;
  }
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i != inner) plan.loop.push_back(dims[i]);
  }
  if (r.k == 0) {
    plan.status = Status::ScaleOnly;
  } else if (plan.copy_a || plan.copy_b || plan.copy_c) {
    plan.status = Status::NeedsCopy;
  }
  return plan;
}

// What one planned cuBLAS call computes, as cuBLAS documents it, in column-major terms:
// C'[i + j ldc] = alpha sum_p op(A')(i, p) op(B')(p, j) + beta C'[i + j ldc] for every batch, with
// op(X')(i, p) = X'[i + p ld] for N and X'[p + i ld] for T; beta == 0 does not read C'. The
// products are summed in double. The emulated device's stand-in for cuBLAS.
template <class T>
void reference_blas_gemm(const BlasGemmCall& c, const T* a, const T* b, T* cm, T alpha, T beta) {
  const bool an = c.transa == BlasOp::N, bn = c.transb == BlasOp::N;
  for (int batch = 0; batch < c.batch_count; ++batch) {
    const T* ab = a + batch * c.stride_a;
    const T* bb = b + batch * c.stride_b;
    T* cb = cm + batch * c.stride_c;
    for (int j = 0; j < c.n; ++j) {
      for (int i = 0; i < c.m; ++i) {
        double sum = 0;
        for (int p = 0; p < c.k; ++p) {
          const double x = ab[an ? i + int64_t{p} * c.lda : p + int64_t{i} * c.lda];
          const double y = bb[bn ? p + int64_t{j} * c.ldb : j + int64_t{p} * c.ldb];
          sum += x * y;
        }
        T& out = cb[i + int64_t{j} * c.ldc];
        out = static_cast<T>(alpha * sum + (beta == T(0) ? 0.0 : double(beta) * double(out)));
      }
    }
  }
}

}  // namespace sinew::backend::cuda
