// Scratch memory for CPU kernels: blocks from the pooled allocator that live for one scope, and
// a parallel loop that gives each thread its own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "sinew/backend/cpu/allocator.hpp"
#include "sinew/backend/cpu/parallel.hpp"

namespace sinew::backend::cpu {

// Scratch memory from the pooled allocator, returned when the owner leaves scope.
template <class T>
class Scratch {
 public:
  explicit Scratch(int64_t count)
      : bytes_(static_cast<std::size_t>(std::max<int64_t>(count, 1)) * sizeof(T)),
        data_(static_cast<T*>(PooledAllocator::instance().allocate(bytes_))) {}
  ~Scratch() { PooledAllocator::instance().deallocate(data_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() const { return data_; }

 private:
  std::size_t bytes_;
  T* data_;
};

// Reserves a Scratch<T>(count) for each thread of a parallel region (PooledAllocator::reserve).
template <class T>
void reserve_scratch(int64_t count, int64_t threads) {
  PooledAllocator::instance().reserve(
      static_cast<std::size_t>(std::max<int64_t>(count, 1)) * sizeof(T),
      static_cast<std::size_t>(threads));
}

// Runs f(begin, end, work) over [0, n), work being `scratch` elements of T for this thread
// alone: split across threads when there are at least as many items as threads (a GEMM inside
// then runs serially), otherwise in order on this thread (so that a GEMM inside can use the
// threads itself). A block for every thread is reserved first (PooledAllocator::reserve), so
// how many blocks are live at once does not depend on the threads' timing. parallel_for carries
// exceptions (allocation) out of its region.
template <class T, class F>
void parallel_with_scratch(int64_t n, int64_t cost_per_item, int64_t scratch, F&& f) {
  auto run = [&](int64_t begin, int64_t end) {
    Scratch<T> work(scratch);
    f(begin, end, work.data());
  };
  if (n >= get_num_threads()) {
    reserve_scratch<T>(scratch, get_num_threads());
    parallel_for(n, cost_per_item, run);
  } else {
    run(int64_t{0}, n);
  }
}

}  // namespace sinew::backend::cpu
