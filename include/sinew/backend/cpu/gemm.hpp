// CPU GEMM: C = alpha A B + beta C over strided tensor memory, single and batched. float on an
// AVX-512 CPU runs Sinew's own blocked kernel (sgemm_avx512.hpp), which packs any strides itself;
// otherwise Eigen's blocked kernel does the arithmetic, reading each matrix in place (row-major,
// or column-major for a transposed view) whenever one of its two strides is 1, so a.t() costs
// nothing; only fully strided operands are packed. Threading and packing buffers are Sinew's.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <vector>

#include "sinew/backend/cpu/eigen.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/backend/cpu/sgemm_avx512.hpp"
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
template <class T>
OutMap<T> map_output(const Mat<T>& c) {
  return OutMap<T>(c.data, c.rows, c.cols, Eigen::OuterStride<>(c.rs));
}

template <class T>
Mat<T> row_block(const Mat<T>& m, int64_t r0, int64_t r1) {
  return {m.data + r0 * m.rs, r1 - r0, m.cols, m.rs, m.cs};
}
template <class T>
Mat<T> col_block(const Mat<T>& m, int64_t c0, int64_t c1) {
  return {m.data + c0 * m.cs, m.rows, c1 - c0, m.rs, m.cs};
}

// Eigen's packing buffers, kept per thread for the thread's lifetime. Eigen's own product
// allocates and frees them on every call; blocks above glibc's mmap threshold (128 KiB) then go
// back to the OS, and every mid-size GEMM paid page faults on fresh memory (256^3: 65 instead of
// 88 GFLOP/s on one Zen 4 core).
template <class T>
T* workspace(int slot, std::size_t count) {
  struct Buffer {
    T* data = nullptr;
    std::size_t capacity = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local std::array<Buffer, 2> buffers;
  Buffer& b = buffers[static_cast<std::size_t>(slot)];
  if (b.capacity < count) {
    std::free(b.data);
    b.data = nullptr;
    b.capacity = 0;
    std::size_t bytes = (std::max<std::size_t>(count, 1) * sizeof(T) + 63) / 64 * 64;
    b.data = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (b.data == nullptr) throw std::bad_alloc();
    b.capacity = count;
  }
  return b.data;
}

#if EIGEN_VERSION_AT_LEAST(3, 4, 0)
// Eigen's cache blocking (computeProductBlockingSizes, from the detected cache sizes) with the
// packing buffers taken from this thread's workspace. A row-major C [m, n] = A [m, k] B [k, n]
// runs in Eigen as the column-major C^T = B^T A^T: its row block mc is along n, nc along m.
template <class T>
class ThreadBlocking : public Eigen::internal::level3_blocking<T, T> {
 public:
  ThreadBlocking(Eigen::Index m, Eigen::Index n, Eigen::Index k) {
    this->m_mc = n;
    this->m_nc = m;
    this->m_kc = k;
    Eigen::internal::computeProductBlockingSizes<T, T, 1>(this->m_kc, this->m_mc, this->m_nc,
                                                          Eigen::Index(1));
    this->m_blockA = workspace<T>(0, static_cast<std::size_t>(this->m_mc * this->m_kc));
    this->m_blockB = workspace<T>(1, static_cast<std::size_t>(this->m_kc * this->m_nc));
  }
};
#endif

// c += alpha a b on the calling thread through Eigen's blocked GEMM kernel (Goto-style packing
// into the thread's workspace, AVX-512/AVX2 micro-kernel). a and b are mapped with orders LO, RO.
template <class T, int LO, int RO>
void gemm_serial(const Mat<T>& a, const Mat<T>& b, const Mat<T>& c, T alpha) {
#if EIGEN_VERSION_AT_LEAST(3, 4, 0)
  using Index = Eigen::Index;
  using Kernel = Eigen::internal::general_matrix_matrix_product<Index, T, LO, false, T, RO, false,
                                                                Eigen::RowMajor, 1>;
  ThreadBlocking<T> blocking(c.rows, c.cols, a.cols);
  Kernel::run(c.rows, c.cols, a.cols, a.data, LO == Eigen::RowMajor ? a.rs : a.cs, b.data,
              RO == Eigen::RowMajor ? b.rs : b.cs, c.data, 1, c.rs, alpha, blocking);
#else
  OutMap<T> cm = map_output(c);
  cm.noalias() += alpha * map_input<T, LO>(a) * map_input<T, RO>(b);  // serial in a parallel region
#endif
}

// Multiply-adds per thread below which a GEMM is not split, and the smallest slice of the split
// dimension a thread gets.
inline constexpr int64_t kGemmWorkPerThread = int64_t{1} << 18;
inline constexpr int64_t kGemmSliceUnit = 16;

inline int gemm_threads(int64_t m, int64_t n, int64_t k) {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
  int64_t by_work = m * n * k / kGemmWorkPerThread;
  int64_t by_size = std::max(m, n) / (2 * kGemmSliceUnit);
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({int64_t{get_num_threads()}, by_work, by_size})));
#else
  (void)m, (void)n, (void)k;
  return 1;
#endif
}

// c += alpha a b for matrix-vector and tiny shapes, as dot products with eight partial sums
// (independent chains that the compiler keeps in registers). Written out rather than through
// Eigen's expression templates, whose matrix-vector instantiations cost a float program seconds of
// compile time for work that is memory-bound either way.
template <class T>
void small_product(const Mat<T>& a, const Mat<T>& b, const Mat<T>& c, T alpha) {
  const int64_t m = c.rows, n = c.cols, k = a.cols;
  for (int64_t i = 0; i < m; ++i) {
    const T* ai = a.data + i * a.rs;
    for (int64_t j = 0; j < n; ++j) {
      const T* bj = b.data + j * b.cs;
      T part[8] = {};
      int64_t p = 0;
      for (; p + 8 <= k; p += 8) {
        for (int q = 0; q < 8; ++q) part[q] += ai[(p + q) * a.cs] * bj[(p + q) * b.rs];
      }
      T sum =
          ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
      for (; p < k; ++p) sum += ai[p * a.cs] * bj[p * b.rs];
      c.data[i * c.rs + j] += alpha * sum;
    }
  }
}

// c += alpha a b for a row-major c. Matrix-vector shapes go to Eigen's GEMV and tiny ones to its
// coefficient-wise product; the rest runs blocked, split over threads along the larger of m and n
// (Sinew splits rather than Eigen's parallel GEMM, which balances badly on few threads and
// cannot reuse buffers). Each thread packs its own panels; the split is in units of 16.
template <class T, int LO, int RO>
void gemm_accumulate(const Mat<T>& a, const Mat<T>& b, const Mat<T>& c, T alpha) {
  const int64_t m = c.rows, n = c.cols, k = a.cols;
  if (m == 1 || n == 1 || m + n + k < 20) return small_product(a, b, c, alpha);
  const int threads = gemm_threads(m, n, k);
  if (threads == 1) return gemm_serial<T, LO, RO>(a, b, c, alpha);
  const bool split_n = n >= m;
  parallel_slices(split_n ? n : m, kGemmSliceUnit, threads, [&](int64_t s0, int64_t s1) {
    if (split_n) {
      gemm_serial<T, LO, RO>(a, col_block(b, s0, s1), col_block(c, s0, s1), alpha);
    } else {
      gemm_serial<T, LO, RO>(row_block(a, s0, s1), b, row_block(c, s0, s1), alpha);
    }
  });
}

// c = alpha a b + beta c for a row-major c (beta == 0: c is not read).
template <class T>
void gemm_rowmajor_out(Mat<T> a, Mat<T> b, const Mat<T>& c, T alpha, T beta) {
#if defined(__AVX512F__)
  // float: every product runs Sinew's AVX-512 kernel (beta applied at store), matrix-vector and
  // tiny ones too, so a float program never compiles Eigen's product templates (about a quarter
  // of a training program's compile time); only k == 0 is left, where C = beta C.
  if constexpr (std::is_same_v<T, float>) {
    const int64_t m = c.rows, n = c.cols, k = a.cols;
    if (k > 0) {
      using sgemm_avx512::Operand;
      return sgemm_avx512::sgemm(m, n, k, alpha, Operand{a.data, a.rs, a.cs},
                                 Operand{b.data, b.rs, b.cs}, beta, c.data, c.rs,
                                 gemm_threads(m, n, k));
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        float& v = c.data[i * c.rs + j];
        v = beta == 0.0f ? 0.0f : beta * v;
      }
    }
    return;
  } else {
#endif
    OutMap<T> cm = map_output(c);
    if (beta == T(0))
      cm.setZero();
    else if (beta != T(1))
      cm *= beta;
    if (a.cols == 0) return;
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
    if (la == Layout::RowMajor && lb == Layout::RowMajor)
      gemm_accumulate<T, R, R>(a, b, c, alpha);
    else if (la == Layout::RowMajor)
      gemm_accumulate<T, R, C>(a, b, c, alpha);
    else if (lb == Layout::RowMajor)
      gemm_accumulate<T, C, R>(a, b, c, alpha);
    else
      gemm_accumulate<T, C, C>(a, b, c, alpha);
#if defined(__AVX512F__)
  }
#endif
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
// GEMM is split across threads itself (never both: inside a parallel region GEMMs run serially).
inline constexpr int64_t kBatchParallelWork = int64_t{128} * 128 * 128;

}  // namespace detail_gemm

// c = alpha a @ b + beta c for a [..., m, k], b [..., k, n], c [..., m, n] sharing their leading
// (batch) dimensions; a and b may be expanded (stride 0) over the batch, c must not overlap them.
// beta == 0 never reads c. float and double only.
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
  auto run = [&](int64_t begin, int64_t end) {  // parallel_for carries exceptions out
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
