// The CPU thread pool helpers: every index covered once, and an exception thrown inside a parallel
// region reaches the caller instead of terminating the program.
#include <atomic>
#include <stdexcept>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

TEST(ParallelFor, CoversEveryIndexOnce) {
  set_num_threads(2);
  const int64_t n = 100000;
  std::vector<std::atomic<int>> hits(n);
  backend::cpu::parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[i]++;
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << i;
}

TEST(ParallelFor, ExceptionInAChunkIsRethrownOnTheCaller) {
  set_num_threads(2);
  auto run = [] {
    backend::cpu::parallel_for(1 << 20, 1, [](int64_t b, int64_t) {
      if (b == 0) throw Error("chunk: failed");
    });
  };
  SINEW_EXPECT_ERROR(run(), "chunk: failed");
  // The pool still works afterwards.
  std::atomic<int64_t> sum{0};
  backend::cpu::parallel_for(1 << 20, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), int64_t{1} << 20);
}

TEST(ParallelFor, ExceptionOnTheSerialPathPropagates) {
  EXPECT_THROW(backend::cpu::parallel_for(
                   10, 1, [](int64_t, int64_t) { throw std::runtime_error("small"); }),
               std::runtime_error);
}

TEST(ParallelSlices, ExceptionInASliceIsRethrownOnTheCaller) {
  auto run = [] {
    backend::cpu::parallel_slices(1000, 8, 2, [](int64_t b, int64_t) {
      if (b > 0) throw Error("slice: failed");
    });
  };
  SINEW_EXPECT_ERROR(run(), "slice: failed");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
