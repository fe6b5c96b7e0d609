// The one CPU thread pool (OpenMP): thread count control and a chunked parallel_for.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <type_traits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "sinew/core/error.hpp"

namespace sinew {

// Threads used by Sinew's CPU kernels (OpenMP; Eigen's GEMM uses the same pool).
inline void set_num_threads(int n) {
  SINEW_CHECK(n >= 1, "set_num_threads", "thread count must be >= 1, got ", n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

inline int get_num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

namespace backend::cpu {

// Work below this many elements runs on the calling thread: a parallel region costs a few µs.
inline constexpr int64_t kParallelGrain = 32768;

namespace detail_parallel {

using ChunkFn = void (*)(void* ctx, int64_t begin, int64_t end);

// The one OpenMP region behind every parallel_for: a plain function that runs `fn` through a
// pointer, so no call site instantiates (and outlines) a parallel region of its own. An exception
// thrown by a chunk must not leave the region (that terminates the program): the first one is
// kept and rethrown on the calling thread after the region ends.
inline void run_chunks(int64_t n, int64_t cost_per_item, ChunkFn fn, void* ctx) {
  if (n <= 0) return;
#ifdef _OPENMP
  if (n * cost_per_item >= kParallelGrain && omp_get_max_threads() > 1 && !omp_in_parallel()) {
    std::exception_ptr error;
#pragma omp parallel
    {
      int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      int64_t chunk = (n + nt - 1) / nt;
      int64_t b = t * chunk, e = b + chunk < n ? b + chunk : n;
      try {
        if (b < e) fn(ctx, b, e);
      } catch (...) {
#pragma omp critical(sinew_parallel_for_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#else
  (void)cost_per_item;
#endif
  fn(ctx, 0, n);
}

}  // namespace detail_parallel

// Calls f(begin, end) on disjoint chunks covering [0, n); in parallel when n * cost >= grain. The
// first exception thrown by any chunk is rethrown on the calling thread.
template <class F>
void parallel_for(int64_t n, int64_t cost_per_item, F&& f) {
  using Fn = std::remove_reference_t<F>;
  detail_parallel::run_chunks(
      n, cost_per_item, [](void* ctx, int64_t b, int64_t e) { (*static_cast<Fn*>(ctx))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// Splits [0, len) into one slice per thread, cut at multiples of `unit`, and calls f(begin, end)
// for each non-empty slice on `threads` OpenMP threads (1: on the calling thread). The first
// exception thrown by any slice is rethrown on the calling thread after the region ends.
namespace detail_parallel {
inline void run_slices(int64_t len, int64_t unit, int threads, ChunkFn fn, void* ctx) {
  const int64_t units = (len + unit - 1) / unit;
  std::exception_ptr error;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
  {
#ifdef _OPENMP
    const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
#else
    const int64_t nt = 1, id = 0;
    (void)threads;
#endif
    const int64_t s0 = std::min(len, units * id / nt * unit);
    const int64_t s1 = std::min(len, units * (id + 1) / nt * unit);
    try {
      if (s0 < s1) fn(ctx, s0, s1);
    } catch (...) {
#ifdef _OPENMP
#pragma omp critical(sinew_parallel_slices_error)
#endif
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}
}  // namespace detail_parallel

template <class F>
void parallel_slices(int64_t len, int64_t unit, int threads, F&& f) {
  using Fn = std::remove_reference_t<F>;
  detail_parallel::run_slices(
      len, unit, threads, [](void* ctx, int64_t b, int64_t e) { (*static_cast<Fn*>(ctx))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace backend::cpu
}  // namespace sinew
