// The fiber emulator itself: barriers (and a missing one showing as a difference between the two
// schedule orders), warp shuffles and their misuse, atomics, dynamic shared memory, block shapes,
// and the prelude's block reduction over 2^20 elements (timed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <vector>

#include "emulator_kernels.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

// ---- kernels (CUDA C++ as the .cuh files are written) ----------------------------------------

// Tree sum of each block's slice in static shared memory; without the barrier inside the loop a
// thread reads a partial sum another thread has not finished.
template <bool kLoopBarrier>
__global__ void tree_sum(const float* x, float* out, int n) {
  __shared__ float buf[256];
  const int t = threadIdx.x, i = blockIdx.x * blockDim.x + threadIdx.x;
  buf[t] = i < n ? x[i] : 0.f;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) buf[t] += buf[t + s];
    if (kLoopBarrier) __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = buf[0];
}

// Grid-stride partial sums, dev::block_reduce, one atomicAdd per block.
__global__ void reduce_sum(const double* x, double* partial, double* total, long n) {
  __shared__ double scratch[32];
  double v = 0;
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n;
       i += long(blockDim.x) * gridDim.x)
    v += x[i];
  v = dev::block_reduce(v, dev::SumOp(), 0.0, scratch);
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = v;
    atomicAdd(total, v);
  }
}

__global__ void shuffles(int* out, int width) {
  const int lane = threadIdx.x & 31, t = threadIdx.x;
  const unsigned full = 0xffffffffu;
  out[t * 6 + 0] = __shfl_down_sync(full, lane * 10, 3, width);
  out[t * 6 + 1] = __shfl_up_sync(full, lane * 10, 2, width);
  out[t * 6 + 2] = __shfl_xor_sync(full, lane * 10, 5, width);
  out[t * 6 + 3] = __shfl_sync(full, lane * 10, 7, width);
  out[t * 6 + 4] = static_cast<int>(__ballot_sync(full, lane % 3 == 0));
  out[t * 6 + 5] = static_cast<int>(__shfl_down_sync(full, 1.5 * lane, 1) * 2);  // a double
}

__global__ void warp_sums(const float* x, float* out) {
  float v = x[threadIdx.x];
  v = dev::warp_reduce(v, dev::SumOp());
  if ((threadIdx.x & 31) == 0) out[threadIdx.x / 32] = v;
}

// Lanes below `active` shuffle with `mask` (the lanes of a second warp with mask1); the others
// skip it.
__global__ void partial_shuffle(int* out, unsigned mask, int active, unsigned mask1) {
  const int lane = threadIdx.x & 31;
  if (lane < active) out[threadIdx.x] = __shfl_xor_sync(threadIdx.x < 32 ? mask : mask1, lane, 1);
}

__global__ void exit_before_barrier(int* out) {
  if (threadIdx.x == 3) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void atomics(int* counter, int* olds, int* maximum, unsigned long long* cas_counter) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  olds[t] = atomicAdd(counter, 1);
  atomicMax(maximum, (t * 37) % 101);
  unsigned long long seen = *cas_counter, want;
  do {
    want = seen;
    seen = atomicCAS(cas_counter, want, want + 2);
  } while (seen != want);
}

// Reverses each block's slice through dynamic shared memory.
__global__ void reverse_block(const double* x, double* y) {
  SINEW_DYNAMIC_SHARED(double, buf);
  const int t = threadIdx.x, base = blockIdx.x * blockDim.x;
  buf[t] = x[base + t];
  __syncthreads();
  y[base + t] = buf[blockDim.x - 1 - t];
}

__global__ void coordinates(int* out) {
  const int t = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const int b = (blockIdx.y * gridDim.x + blockIdx.x);
  const int i = b * blockDim.x * blockDim.y * blockDim.z + t;
  out[i * 5 + 0] = threadIdx.x;
  out[i * 5 + 1] = threadIdx.y;
  out[i * 5 + 2] = threadIdx.z;
  out[i * 5 + 3] = blockIdx.x;
  out[i * 5 + 4] = blockIdx.y;
}

// Reads one element past the end of x.
[[maybe_unused]] __global__ void overrun(const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) y[0] += x[i];
}

// ---- tests -----------------------------------------------------------------------------------

struct OrderGuard {
  sim::Order saved = sim::order();
  ~OrderGuard() { sim::set_order(saved); }
};

std::vector<float> tree_sums(bool loop_barrier, sim::Order order, const std::vector<float>& x) {
  OrderGuard g;
  sim::set_order(order);
  const int blocks = static_cast<int>((x.size() + 255) / 256);
  std::vector<float> out(static_cast<size_t>(blocks), -1.f);
  const int n = static_cast<int>(x.size());
  if (loop_barrier)
    sim::launch(&tree_sum<true>, dim3(blocks), dim3(256), 0, x.data(), out.data(), n);
  else
    sim::launch(&tree_sum<false>, dim3(blocks), dim3(256), 0, x.data(), out.data(), n);
  return out;
}

TEST(Emulator, BarrierGivesTheBlockSumInBothOrders) {
  std::vector<float> x(600);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 17);  // exact sums
  std::vector<float> expected(3, 0.f);
  for (size_t i = 0; i < x.size(); ++i) expected[i / 256] += x[i];
  EXPECT_EQ(tree_sums(true, sim::Order::Forward, x), expected);
  EXPECT_EQ(tree_sums(true, sim::Order::Reverse, x), expected);
}

TEST(Emulator, MissingBarrierShowsAsADifferenceBetweenOrders) {
  std::vector<float> x(512);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 5 + 1);
  const std::vector<float> forward = tree_sums(false, sim::Order::Forward, x);
  const std::vector<float> reverse = tree_sums(false, sim::Order::Reverse, x);
  EXPECT_NE(forward, reverse);
}

TEST(Emulator, BlockReduceOfTwoToTheTwentyElements) {
  const long n = long{1} << 20;
  std::vector<double> x(static_cast<size_t>(n));
  double expected = 0;
  for (long i = 0; i < n; ++i) {
    x[static_cast<size_t>(i)] = static_cast<double>((i * 7) % 1000);  // integers: exact sums
    expected += x[static_cast<size_t>(i)];
  }
  for (sim::Order order : {sim::Order::Forward, sim::Order::Reverse}) {
    OrderGuard g;
    sim::set_order(order);
    std::vector<double> partial(64, -1.0);
    double total = 0;
    const auto start = std::chrono::steady_clock::now();
    sim::launch(&reduce_sum, dim3(64), dim3(256), 0, x.data(), partial.data(), &total, n);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "[ emulator ] block reduction of 2^20 doubles, 64 blocks x 256 threads, %s order: %.1f "
        "ms\n",
        order == sim::Order::Forward ? "forward" : "reversed", ms);
    EXPECT_EQ(total, expected);
    // Block b's threads read elements b*256 + t + k*16384: check one block's partial sum by hand.
    double b5 = 0;
    for (long i = 5 * 256; i < n; i += 64 * 256)
      for (long t = 0; t < 256; ++t) b5 += x[static_cast<size_t>(i + t)];
    EXPECT_EQ(partial[5], b5);
  }
}

TEST(Emulator, ShufflesExchangeWithinWarpsAndSegments) {
  for (int width : {32, 8}) {
    for (sim::Order order : {sim::Order::Forward, sim::Order::Reverse}) {
      OrderGuard g;
      sim::set_order(order);
      std::vector<int> out(64 * 6, -1);
      sim::launch(&shuffles, dim3(1), dim3(64), 0, out.data(), width);
      for (int t = 0; t < 64; ++t) {
        const int lane = t % 32, seg = lane / width * width, in = lane % width;
        const int* o = &out[static_cast<size_t>(t) * 6];
        EXPECT_EQ(o[0], (in + 3 < width ? lane + 3 : lane) * 10) << t << " width " << width;
        EXPECT_EQ(o[1], (in >= 2 ? lane - 2 : lane) * 10) << t;
        EXPECT_EQ(o[2], ((lane ^ 5) < seg + width ? lane ^ 5 : lane) * 10) << t;
        EXPECT_EQ(o[3], (seg + 7 % width) * 10) << t;
        EXPECT_EQ(static_cast<unsigned>(o[4]), 0x49249249u) << t;  // lanes 0, 3, 6, ..., 30
        EXPECT_EQ(o[5], lane < 31 ? 3 * (lane + 1) : 3 * lane) << t;
      }
    }
  }
}

TEST(Emulator, WarpReduceSumsEachWarp) {
  std::vector<float> x(96), out(3, 0.f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  sim::launch(&warp_sums, dim3(1), dim3(96), 0, x.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{496.f, 1520.f, 2544.f}));  // sum of 32k..32k+31
}

TEST(Emulator, ShuffleWithAMaskOfTheActiveLanesIsFine) {
  std::vector<int> out(32, -1);
  sim::launch(&partial_shuffle, dim3(1), dim3(32), 0, out.data(), 0x0000ffffu, 16, 0xffffffffu);
  for (int l = 0; l < 16; ++l) EXPECT_EQ(out[static_cast<size_t>(l)], l ^ 1);
  EXPECT_EQ(out[16], -1);
  // A partial warp (a block of 40 threads: the second warp has 8 lanes) with a mask of its lanes.
  std::vector<int> out40(40, -1);
  sim::launch(&partial_shuffle, dim3(1), dim3(40), 0, out40.data(), 0xffffffffu, 32, 0xffu);
  EXPECT_EQ(out40[33], 0);
  EXPECT_EQ(out40[39], 6);
}

TEST(Emulator, DivergentShuffleFailsInsteadOfHanging) {
  std::vector<int> out(40, -1);
  // Lanes 16-31 skip a full-mask shuffle.
  EXPECT_THROW(
      sim::launch(&partial_shuffle, dim3(1), dim3(32), 0, out.data(), 0xffffffffu, 16, 0xffffffffu),
      sim::Fault);
  // The mask leaves out the calling lane.
  EXPECT_THROW(
      sim::launch(&partial_shuffle, dim3(1), dim3(32), 0, out.data(), 0xfffffffeu, 32, 0xffffffffu),
      sim::Fault);
  // A full mask in a warp of 8 threads.
  EXPECT_THROW(
      sim::launch(&partial_shuffle, dim3(1), dim3(40), 0, out.data(), 0xffffffffu, 32, 0xffffffffu),
      sim::Fault);
  try {
    sim::launch(&partial_shuffle, dim3(1), dim3(32), 0, out.data(), 0xffffffffu, 16, 0xffffffffu);
  } catch (const sim::Fault& e) {
    EXPECT_NE(std::string(e.what()).find("exited"), std::string::npos) << e.what();
  }
  // The emulator is usable after a fault.
  std::vector<int> ok(32, -1);
  sim::launch(&partial_shuffle, dim3(1), dim3(32), 0, ok.data(), 0xffffffffu, 32, 0xffffffffu);
  EXPECT_EQ(ok[6], 7);
}

TEST(Emulator, BarrierAfterAThreadExitedFails) {
  std::vector<int> out(64, 0);
  try {
    sim::launch(&exit_before_barrier, dim3(1), dim3(64), 0, out.data());
    ADD_FAILURE() << "no fault";
  } catch (const sim::Fault& e) {
    EXPECT_NE(std::string(e.what()).find("thread 3"), std::string::npos) << e.what();
  }
}

TEST(Emulator, AtomicsAreAtomic) {
  const int blocks = 3, threads = 96, n = blocks * threads;
  int counter = 0, maximum = -1;
  unsigned long long cas_counter = 0;
  std::vector<int> olds(static_cast<size_t>(n), -1);
  sim::launch(&atomics, dim3(blocks), dim3(threads), 0, &counter, olds.data(), &maximum,
              &cas_counter);
  EXPECT_EQ(counter, n);
  EXPECT_EQ(cas_counter, 2ull * n);
  EXPECT_EQ(maximum, 100);  // t * 37 mod 101 takes every value below 101 for t < 288
  std::vector<int> sorted = olds;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> iota(static_cast<size_t>(n));
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);  // every old value once
}

TEST(Emulator, DynamicSharedMemory) {
  for (sim::Order order : {sim::Order::Forward, sim::Order::Reverse}) {
    OrderGuard g;
    sim::set_order(order);
    std::vector<double> x(3 * 48), y(3 * 48, 0);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
    sim::launch(&reverse_block, dim3(3), dim3(48), 48 * sizeof(double), x.data(), y.data());
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], double(i / 48 * 48 + 47 - i % 48)) << i;
  }
}

TEST(Emulator, ThreeDimensionalBlocksAndTwoDimensionalGrids) {
  const dim3 grid(2, 3), block(4, 3, 2);
  std::vector<int> out(6 * 24 * 5, -1);
  sim::launch(&coordinates, grid, block, 0, out.data());
  for (int by = 0; by < 3; ++by)
    for (int bx = 0; bx < 2; ++bx)
      for (int z = 0; z < 2; ++z)
        for (int y = 0; y < 3; ++y)
          for (int x = 0; x < 4; ++x) {
            const size_t i = static_cast<size_t>(((by * 2 + bx) * 24 + (z * 3 + y) * 4 + x) * 5);
            EXPECT_EQ(out[i], x);
            EXPECT_EQ(out[i + 1], y);
            EXPECT_EQ(out[i + 2], z);
            EXPECT_EQ(out[i + 3], bx);
            EXPECT_EQ(out[i + 4], by);
          }
}

TEST(Emulator, RejectsInvalidLaunchShapes) {
  std::vector<int> out(8);
  EXPECT_THROW(sim::launch(&coordinates, dim3(1), dim3(2048), 0, out.data()), sim::Fault);
  EXPECT_THROW(sim::launch(&coordinates, dim3(0), dim3(32), 0, out.data()), sim::Fault);
}

#ifdef SINEW_SIM_ASAN
TEST(EmulatorDeathTest, AddressSanitizerReportsAKernelOverrun) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::vector<float> x(40, 1.f);
        float y = 0;
        sim::launch(&overrun, dim3(1), dim3(64), 0, x.data(), &y, 40);
      },
      "heap-buffer-overflow");
}
#endif

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
