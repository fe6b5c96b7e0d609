// CPU GEMM through Eigen: C = alpha A B + beta C over strided tensor memory, single and batched.
// Each matrix is mapped in place (row-major, or column-major for a transposed view) whenever one
// of its two strides is 1, so a.t() costs nothing; only fully strided operands are packed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "sinew/backend/cpu/eigen.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cpu {

namespace detail_gemm {

// Element (i, j) at data[i * rs + j * cs].
template <class T>
struct Mat {
  T* data;
  int64_t rows, cols, rs, cs;
  Mat transposed() const { return {data, cols, rows, cs, rs}; }
};

enum class Layout { RowMajor, ColMajor, Strided };

// Classifies a matrix by which stride is 1 and normalizes the stride of a size-1 dimension (any
// value is legal there) so that Eigen gets a consistent leading dimension. The leading stride must
// cover the other dimension: overlapping or broadcast (stride 0) rows are packed instead.
template <class T>
Layout classify(Mat<T>& m) {
  auto fits = [](int64_t unit_stride, int64_t unit_len, int64_t lead_stride, int64_t lead_len) {
    return (unit_len <= 1 || unit_stride == 1) &&
           (lead_len <= 1 || lead_stride >= std::max<int64_t>(unit_len, 1));
  };
  if (fits(m.cs, m.cols, m.rs, m.rows)) {
    if (m.rows <= 1) m.rs = std::max<int64_t>(m.cols, 1);
    m.cs = 1;
    return Layout::RowMajor;
  }
  if (fits(m.rs, m.rows, m.cs, m.cols)) {
    if (m.cols <= 1) m.cs = std::max<int64_t>(m.rows, 1);
    m.rs = 1;
    return Layout::ColMajor;
  }
  return Layout::Strided;
}

// Copies a strided matrix into `buf` as a dense row-major one.
template <class T>
Mat<T> pack(const Mat<T>& m, std::vector<T>& buf) {
  buf.resize(static_cast<size_t>(m.rows * m.cols));
  for (int64_t i = 0; i < m.rows; ++i) {
    for (int64_t j = 0; j < m.cols; ++j)
      buf[static_cast<size_t>(i * m.cols + j)] = m.data[i * m.rs + j * m.cs];
  }
  return {buf.data(), m.rows, m.cols, std::max<int64_t>(m.cols, 1), 1};
}

template <class T, int Order>
using ConstMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>,
                            Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using OutMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                          Eigen::Unaligned, Eigen::OuterStride<>>;

template <class T, int Order>
ConstMap<T, Order> map_input(const Mat<T>& m) {
  return ConstMap<T, Order>(m.data, m.rows, m.cols,
                            Eigen::OuterStride<>(Order == Eigen::RowMajor ? m.rs : m.cs));
}

// c = alpha a b + beta c with noalias: Eigen writes straight into c, no temporary product.
template <class T, class A, class B>
void product(const A& a, const B& b, OutMap<T>& c, T alpha, T beta) {
  if (beta == T(0)) {
    if (alpha == T(1))
      c.noalias() = a * b;
    else
      c.noalias() = alpha * a * b;
    return;
  }
  if (beta != T(1)) c *= beta;
  if (alpha == T(1))
    c.noalias() += a * b;
  else
    c.noalias() += alpha * a * b;
}

template <class T>
void gemm_rowmajor_out(Mat<T> a, Mat<T> b, const Mat<T>& c, T alpha, T beta) {
  OutMap<T> cm(c.data, c.rows, c.cols, Eigen::OuterStride<>(c.rs));
  if (a.cols == 0) {
    if (beta == T(0))
      cm.setZero();
    else if (beta != T(1))
      cm *= beta;
    return;
  }
  std::vector<T> abuf, bbuf;
  Layout la = classify(a), lb = classify(b);
  if (la == Layout::Strided) {
    a = pack(a, abuf);
    la = Layout::RowMajor;
  }
  if (lb == Layout::Strided) {
    b = pack(b, bbuf);
    lb = Layout::RowMajor;
  }
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
  if (la == Layout::RowMajor && lb == Layout::RowMajor) {
    product(map_input<T, R>(a), map_input<T, R>(b), cm, alpha, beta);
  } else if (la == Layout::RowMajor) {
    product(map_input<T, R>(a), map_input<T, C>(b), cm, alpha, beta);
  } else if (lb == Layout::RowMajor) {
    product(map_input<T, C>(a), map_input<T, R>(b), cm, alpha, beta);
  } else {
    product(map_input<T, C>(a), map_input<T, C>(b), cm, alpha, beta);
  }
}

// One matrix product. C is written as row-major; a column-major C is handled as C^T = B^T A^T,
// and a C without a unit stride goes through a dense temporary.
template <class T>
void gemm_one(const Mat<T>& a, const Mat<T>& b, Mat<T> c, T alpha, T beta) {
  if (c.rows == 0 || c.cols == 0) return;
  Layout lc = classify(c);
  if (lc == Layout::RowMajor) return gemm_rowmajor_out(a, b, c, alpha, beta);
  if (lc == Layout::ColMajor)
    return gemm_rowmajor_out(b.transposed(), a.transposed(), c.transposed(), alpha, beta);
  std::vector<T> buf;
  Mat<T> dense = pack(c, buf);
  gemm_rowmajor_out(a, b, dense, alpha, beta);
  for (int64_t i = 0; i < c.rows; ++i) {
    for (int64_t j = 0; j < c.cols; ++j)
      c.data[i * c.rs + j * c.cs] = buf[static_cast<size_t>(i * c.cols + j)];
  }
}

template <class T>
Mat<T> matrix_at(const Tensor<T>& t, int64_t offset) {
  int64_t n = t.dim();
  return {t.data_ptr() + offset, t.shape()[n - 2], t.shape()[n - 1], t.strides()[n - 2],
          t.strides()[n - 1]};
}

// Per-matrix multiply-adds below which a batch is split across threads by matrix; above it each
// GEMM uses Eigen's own OpenMP parallelism (never both: Eigen runs serially inside a parallel
// region).
inline constexpr int64_t kBatchParallelWork = int64_t{128} * 128 * 128;

}  // namespace detail_gemm

// c = alpha a @ b + beta c for a [..., m, k], b [..., k, n], c [..., m, n] sharing their leading
// (batch) dimensions; a and b may be expanded (stride 0) over the batch. beta == 0 never reads c.
// float and double only.
template <class T>
void gemm(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& c, double alpha = 1,
          double beta = 0) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "gemm: float or double only");
  using detail_gemm::matrix_at;
  const int64_t nd = c.dim();
  int64_t batch = 1;
  for (int64_t d = 0; d < nd - 2; ++d) batch *= c.shape()[d];
  if (batch == 0) return;
  const T al = static_cast<T>(alpha), be = static_cast<T>(beta);
  if (nd == 2)
    return detail_gemm::gemm_one(matrix_at(a, 0), matrix_at(b, 0), matrix_at(c, 0), al, be);

  auto offsets = [&](int64_t i, int64_t& oa, int64_t& ob, int64_t& oc) {
    oa = ob = oc = 0;
    for (int64_t d = nd - 3; d >= 0; --d) {
      int64_t size = c.shape()[d], idx = i % size;
      i /= size;
      oa += idx * a.strides()[d];
      ob += idx * b.strides()[d];
      oc += idx * c.strides()[d];
    }
  };
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t oa, ob, oc;
      offsets(i, oa, ob, oc);
      detail_gemm::gemm_one(matrix_at(a, oa), matrix_at(b, ob), matrix_at(c, oc), al, be);
    }
  };
  const int64_t work =
      std::max<int64_t>(c.shape()[nd - 2] * c.shape()[nd - 1] * a.shape()[nd - 1], 1);
  if (work < detail_gemm::kBatchParallelWork || batch >= 4 * get_num_threads()) {
    parallel_for(batch, work, run);
  } else {
    run(0, batch);
  }
}

}  // namespace sinew::backend::cpu
