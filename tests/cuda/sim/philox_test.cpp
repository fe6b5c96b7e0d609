// The prelude's Philox4x32-10 against core/philox.hpp and Random123's known answers, on the host
// and inside an emulated kernel, and a kernel's uniform stream against the CPU's rand().
#include <gtest/gtest.h>

#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

TEST(CudaPhilox, MatchesRandom123KnownAnswers) {
  // Random123's kat_vectors, the three philox4x32 10 lines: counter, key, result.
  const dev::PhiloxWords zero = dev::philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(zero.v[0], 0x6627e8d5u);
  EXPECT_EQ(zero.v[1], 0xe169c58du);
  EXPECT_EQ(zero.v[2], 0xbc57ac4cu);
  EXPECT_EQ(zero.v[3], 0x9b00dbd8u);
  const dev::PhiloxWords ones = dev::philox4x32_10(
      {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  EXPECT_EQ(ones.v[0], 0x408f276du);
  EXPECT_EQ(ones.v[1], 0x41c83b0eu);
  EXPECT_EQ(ones.v[2], 0xa20bc7c6u);
  EXPECT_EQ(ones.v[3], 0x6d5451fdu);
  const dev::PhiloxWords pi = dev::philox4x32_10(
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(pi.v[0], 0xd16cfe09u);
  EXPECT_EQ(pi.v[1], 0x94fdccebu);
  EXPECT_EQ(pi.v[2], 0x5001e420u);
  EXPECT_EQ(pi.v[3], 0x24126ea1u);
}

TEST(CudaPhilox, MatchesTheCpuGeneratorBitwise) {
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  for (int k = 0; k < 2000; ++k) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;  // counters and keys from an LCG
    const uint64_t seed = s ^ (s >> 29), index = s * 0x2545f4914f6cdd1dULL;
    const Philox4x32 a = philox_block(seed, index);
    const dev::PhiloxWords b = dev::philox_block(seed, index);
    for (int w = 0; w < 4; ++w) ASSERT_EQ(a.v[w], b.v[w]) << k;
    ASSERT_EQ(philox_uniform(a.v[0], a.v[1]), dev::philox_uniform(b.v[0], b.v[1]));
  }
}

// out[i] = uniform i of the stream (seed, block), one element per thread, grid-stride.
__global__ void uniform_fill(double* out, long n, unsigned long long seed,
                             unsigned long long block) {
  for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n;
       i += long(blockDim.x) * gridDim.x)
    out[i] = dev::philox_stream_uniform(seed, block, static_cast<uint64_t>(i));
}

TEST(CudaPhilox, KernelUniformsEqualTheCpuRandFill) {
  const uint64_t seed = 0x0123456789abcdefULL;
  Generator g(seed);
  (void)rand<double>({7}, g);  // moves the generator: the next fill starts at block 4
  const uint64_t block = g.offset() / 4;
  EXPECT_EQ(block, 4u);
  const std::vector<double> cpu = rand<double>({1001}, g).to_vector();
  for (sim::Order order : {sim::Order::Forward, sim::Order::Reverse}) {
    sim::set_order(order);
    std::vector<double> out(1001, -1.0);
    sim::launch(&uniform_fill, dim3(3), dim3(128), 0, out.data(), 1001L, seed, block);
    EXPECT_EQ(out, cpu);
  }
  sim::set_order(sim::Order::Forward);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
