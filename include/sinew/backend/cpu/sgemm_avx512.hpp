// Single-precision GEMM for AVX-512 CPUs: Sinew's own packing, cache blocking and a 12x32
// register-blocked micro-kernel (gemm.hpp uses it for float when __AVX512F__ is defined).
#pragma once

#if defined(__AVX512F__)

// GCC 12's AVX-512 intrinsics trip -Wmaybe-uninitialized on their deliberately undefined
// registers (GCC bug 105593); the pragma must cover the first inclusion of the intrinsics header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

#include "sinew/backend/cpu/parallel.hpp"

namespace sinew::backend::cpu::sgemm_avx512 {

// Register tile: kMR rows of C (broadcasts from packed A) by kNR columns (two zmm vectors of packed
// B), 24 of the 32 zmm registers as accumulators. Cache blocking (Goto/BLIS, sized for a 32 KiB
// L1, ~1 MiB L2 and a shared L3): a kc-deep slice of A (up to kMC rows) is packed once and reused
// against every kKC x kNC block of B, which stays in L2 while all of the A slice streams past it.
inline constexpr int kMR = 12;
inline constexpr int kNR = 32;
inline constexpr int64_t kKC = 384;
inline constexpr int64_t kNC = 512;
inline constexpr int64_t kMC = 1920;

// A read-only operand: element (i, j) at data[i * rs + j * cs], any strides.
struct Operand {
  const float* data;
  int64_t rs, cs;
  const float* at(int64_t i, int64_t j) const { return data + i * rs + j * cs; }
};

// Packing buffers (64-byte aligned), kept per thread for the thread's lifetime so that repeated
// GEMMs never page-fault on freshly mapped memory.
inline float* workspace(int slot, std::size_t count) {
  struct Buffer {
    float* data = nullptr;
    std::size_t capacity = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local std::array<Buffer, 2> buffers;
  Buffer& b = buffers[static_cast<std::size_t>(slot)];
  if (b.capacity < count) {
    std::free(b.data);
    b.data = nullptr;
    b.capacity = 0;
    std::size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    b.data = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (b.data == nullptr) throw std::bad_alloc();
    b.capacity = count;
  }
  return b.data;
}

// Mask of the first `count` of 16 lanes (none for count <= 0, all for count >= 16).
inline __mmask16 lanes(int64_t count) {
  if (count <= 0) return 0;
  return static_cast<__mmask16>(count >= 16 ? 0xFFFF : (1u << count) - 1u);
}

// In-register transpose of a 16x16 block: r[i] holds row i on entry, column i on exit.
inline void transpose16(__m512 (&r)[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    __m512d t0 = _mm512_castps_pd(t[4 * i]), t1 = _mm512_castps_pd(t[4 * i + 1]);
    __m512d t2 = _mm512_castps_pd(t[4 * i + 2]), t3 = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  // r[4i + j], 128-bit lane L, now holds rows 4i..4i+3 of column 4L + j.
  for (int j = 0; j < 4; ++j) {
    __m512 u0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44);
    __m512 u1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
    __m512 u2 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
    __m512 u3 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
    t[j] = _mm512_shuffle_f32x4(u0, u2, 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
    t[8 + j] = _mm512_shuffle_f32x4(u1, u3, 0x88);
    t[12 + j] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// Packs rows [0, rows) x columns [0, kc) of `a` (rows <= kMR) k-major: dst[k * rows + i].
inline void pack_a_panel(const Operand& a, int64_t rows, int64_t kc, float* dst) {
  int64_t k = 0;
  if (a.cs == 1) {  // row-major: transpose 16 columns at a time
    const __mmask16 keep = lanes(rows);
    for (; k + 16 <= kc; k += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = i < rows ? _mm512_loadu_ps(a.at(i, k)) : _mm512_setzero_ps();
      transpose16(r);
      for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(dst + (k + j) * rows, keep, r[j]);
    }
  } else if (a.rs == 1) {  // column-major: each k is a contiguous run of `rows` values
    const __mmask16 keep = lanes(rows);
    for (; k < kc; ++k)
      _mm512_mask_storeu_ps(dst + k * rows, keep, _mm512_maskz_loadu_ps(keep, a.at(0, k)));
  }
  for (; k < kc; ++k) {
    for (int64_t i = 0; i < rows; ++i) dst[k * rows + i] = *a.at(i, k);
  }
}

// Packs rows [0, kc) x columns [0, cols) of `b` (cols <= kNR) k-major with `width` (16 or 32)
// values per k, zero-padded past cols: dst[k * width + j]. dst is 64-byte aligned.
inline void pack_b_panel(const Operand& b, int64_t kc, int64_t cols, int64_t width, float* dst) {
  int64_t k = 0;
  if (b.cs == 1) {  // row-major: copy
    const __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16);
    for (; k < kc; ++k) {
      _mm512_store_ps(dst + k * width, _mm512_maskz_loadu_ps(m0, b.at(k, 0)));
      if (width == 32)
        _mm512_store_ps(dst + k * width + 16, _mm512_maskz_loadu_ps(m1, b.at(k, 16)));
    }
    return;
  }
  if (b.rs == 1) {  // column-major (a transposed weight): transpose 16 x 16 blocks
    for (; k + 16 <= kc; k += 16) {
      for (int64_t v = 0; v < width; v += 16) {
        __m512 r[16];
        for (int j = 0; j < 16; ++j)
          r[j] = v + j < cols ? _mm512_loadu_ps(b.at(k, v + j)) : _mm512_setzero_ps();
        transpose16(r);
        for (int i = 0; i < 16; ++i) _mm512_store_ps(dst + (k + i) * width + v, r[i]);
      }
    }
  }
  for (; k < kc; ++k) {
    for (int64_t j = 0; j < width; ++j) dst[k * width + j] = j < cols ? *b.at(k, j) : 0.0f;
  }
}

// Packs an mc x kc block of A into micro-panels of kMR rows (the last one may be shorter); the
// panel starting at row i begins at dst + i * kc.
inline void pack_a(const Operand& a, int64_t mc, int64_t kc, float* dst) {
  for (int64_t i = 0; i < mc; i += kMR)
    pack_a_panel({a.at(i, 0), a.rs, a.cs}, std::min<int64_t>(kMR, mc - i), kc, dst + i * kc);
}

// Packs a kc x nc block of B into micro-panels of kNR columns; the panel starting at column j
// begins at dst + j * kc (the last one is 16 wide when it has at most 16 columns).
inline void pack_b(const Operand& b, int64_t kc, int64_t nc, float* dst) {
  for (int64_t j = 0; j < nc; j += kNR) {
    int64_t cols = std::min<int64_t>(kNR, nc - j);
    pack_b_panel({b.at(0, j), b.rs, b.cs}, kc, cols, cols > 16 ? 32 : 16, dst + j * kc);
  }
}

// C tile [R, 16 V] (row stride ldc; the last vector's columns limited by `mask`) =
// alpha * (packed A panel [kc, R]) x (packed B panel [kc, 16 V]) + beta * C; beta == 0 never
// reads C.
template <int R, int V>
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                  float beta, __mmask16 mask) {
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
  }
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    _mm_prefetch(reinterpret_cast<const char*>(b + 16 * V * 8), _MM_HINT_T0);
    __m512 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      __m512 av = _mm512_set1_ps(a[i]);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
    a += R;
    b += 16 * V;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      float* cp = c + i * ldc + 16 * v;
      const __mmask16 m = v == V - 1 ? mask : __mmask16(0xFFFF);
      __m512 x = _mm512_mul_ps(va, acc[i][v]);
      if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, cp), x);
      _mm512_mask_storeu_ps(cp, m, x);
    }
  }
}

using MicroKernel = void (*)(int64_t, const float*, const float*, float*, int64_t, float, float,
                             __mmask16);

template <int... Rs>
constexpr std::array<std::array<MicroKernel, 2>, sizeof...(Rs)> kernel_table(
    std::integer_sequence<int, Rs...>) {
  return {{{&micro_kernel<Rs + 1, 1>, &micro_kernel<Rs + 1, 2>}...}};
}

// C block [mc, nc] = alpha * (packed A block) x (packed B block) + beta * C.
inline void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const float* pa, const float* pb,
                         float* c, int64_t ldc, float alpha, float beta) {
  static constexpr auto kernels = kernel_table(std::make_integer_sequence<int, kMR>());
  for (int64_t i = 0; i < mc; i += kMR) {
    const int64_t rows = std::min<int64_t>(kMR, mc - i);
    const auto& row_kernels = kernels[static_cast<std::size_t>(rows - 1)];
    for (int64_t j = 0; j < nc; j += kNR) {
      const int64_t cols = std::min<int64_t>(kNR, nc - j);
      const int v = cols > 16 ? 2 : 1;
      row_kernels[static_cast<std::size_t>(v - 1)](kc, pa + i * kc, pb + j * kc, c + i * ldc + j,
                                                   ldc, alpha, beta, lanes(cols - 16 * (v - 1)));
    }
  }
}

// C [m, n] (row-major, row stride ldc) = alpha A [m, k] B [k, n] + beta C on the calling thread;
// beta == 0 never reads C. k >= 1.
inline void sgemm_serial(int64_t m, int64_t n, int64_t k, float alpha, const Operand& a,
                         const Operand& b, float beta, float* c, int64_t ldc) {
  const int64_t kc_max = std::min(k, kKC);
  float* pa = workspace(0, static_cast<std::size_t>(std::min(m + kMR, kMC) * kc_max));
  float* pb = workspace(1, static_cast<std::size_t>(std::min(n + kNR, kNC) * kc_max));
  for (int64_t ic = 0; ic < m; ic += kMC) {
    const int64_t mc = std::min(kMC, m - ic);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = std::min(kKC, k - pc);
      const float be = pc == 0 ? beta : 1.0f;
      pack_a({a.at(ic, pc), a.rs, a.cs}, mc, kc, pa);
      for (int64_t jc = 0; jc < n; jc += kNC) {
        const int64_t nc = std::min(kNC, n - jc);
        pack_b({b.at(pc, jc), b.rs, b.cs}, kc, nc, pb);
        macro_kernel(mc, nc, kc, pa, pb, c + ic * ldc + jc, ldc, alpha, be);
      }
    }
  }
}

// The same on `threads` OpenMP threads (1: the calling thread). The larger of m and n is split
// into one slice per thread (in whole micro-tiles); each thread packs its own panels.
inline void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const Operand& a, const Operand& b,
                  float beta, float* c, int64_t ldc, int threads) {
  if (threads <= 1) return sgemm_serial(m, n, k, alpha, a, b, beta, c, ldc);
  const bool split_n = n >= m;
  parallel_slices(split_n ? n : m, split_n ? kNR : kMR, threads, [&](int64_t s0, int64_t s1) {
    if (split_n) {
      sgemm_serial(m, s1 - s0, k, alpha, a, {b.at(0, s0), b.rs, b.cs}, beta, c + s0, ldc);
    } else {
      sgemm_serial(s1 - s0, n, k, alpha, {a.at(s0, 0), a.rs, a.cs}, b, beta, c + s0 * ldc, ldc);
    }
  });
}

}  // namespace sinew::backend::cpu::sgemm_avx512

#endif  // __AVX512F__
