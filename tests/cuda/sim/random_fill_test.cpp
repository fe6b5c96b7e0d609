// The CUDA random fills (kernels/random.cuh) on the emulator against the CPU's uniform_, normal_
// and bernoulli_ (ops/factory.hpp) from the same generator state: bitwise equal values, for every
// element type a fill takes, sizes 0, 1, 2, odd and more pairs than one grid-stride sweep of a grid
// capped at 3 blocks of 32 threads, a stream that starts past the generator's first blocks, and
// range edges (from == to, values that round up to `to`, std = 0, p = 0 and 1).
//
// The emulator compiles the kernels as host C++: the same double arithmetic and the same C library
// functions (log, sqrt, sin, cos) as the CPU fill, so the same bits are expected. (On a GPU the
// uniform's from + span * u may be contracted into a fused multiply-add, NVRTC's --fmad=true, and
// libdevice's log, sin and cos are not the host's, so device normals may differ in the last bits.)
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"
#include "emulator_parity.hpp"
#include "sinew/backend/cuda/instantiations.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

namespace cuda = backend::cuda;

constexpr uint64_t kSeed = 0x5eed0123456789abULL;
const int64_t kSizes[] = {0, 1, 2, 33, 1001};

bool in_table(const std::string& name) {
  static const std::vector<cuda::Instantiation> table = cuda::random_instantiations();
  for (const cuda::Instantiation& i : table)
    if (i.name_expression == name) return true;
  return false;
}

// The CPU fill and the emulated one of n elements from the same generator state (the default
// generator seeded, then `skip` elements drawn, so that the fill's stream starts past block 0),
// compared bitwise under each launch configuration.
template <class T, class Cpu, class Emulated>
void expect_same_fill(const std::string& what, Cpu cpu_fill, Emulated emu_fill) {
  cuda::PlanOptions small;
  small.block = 32;
  small.max_blocks = 3;
  cuda::PlanOptions wide;
  wide.force_index64 = true;
  for (const cuda::PlanOptions& options : {small, wide}) {
    for (int64_t n : kSizes) {
      for (int64_t skip : {0, 7}) {
        manual_seed(kSeed);
        if (skip > 0) (void)rand<float>({skip});
        Tensor<T> cpu = zeros<T>({n});
        cpu_fill(cpu);
        const uint64_t cpu_offset = default_generator().offset();

        manual_seed(kSeed);
        if (skip > 0) (void)rand<float>({skip});
        const RandomStream s = default_generator().fill_stream(n);
        const Tensor<T> emulated = zeros<T>({n});
        emu::plan_options() = options;
        emu::last_kernel().clear();
        emu_fill(emulated, s);
        const std::string where = what + ", " + std::to_string(n) + " elements after " +
                                  std::to_string(skip) + ", block " +
                                  std::to_string(options.block) + ": " + emu::last_kernel();
        EXPECT_EQ(default_generator().offset(), cpu_offset) << where;
        EXPECT_TRUE(parity::same_values(emulated, cpu)) << where;
        if (n > 0) {
          EXPECT_TRUE(in_table(emu::last_kernel())) << where << " is not in the table";
        }
      }
    }
  }
  emu::plan_options() = {};
}

template <class T>
void check_uniform() {
  // 1e8 + 8u rounds to 1e8 + 8 in float for about half the values: stepped back below `to`.
  const double ranges[][2] = {{0, 1}, {-2, 3}, {5, 5}, {1e8, 1e8 + 8}, {-1e-3, 0}};
  for (const auto& r : ranges) {
    const double from = r[0], to = r[1];
    expect_same_fill<T>(
        "uniform_(" + std::to_string(from) + ", " + std::to_string(to) + ")",
        [from, to](Tensor<T>& t) { t.uniform_(from, to); },
        [from, to](const Tensor<T>& t, const RandomStream& s) {
          emu::uniform_fill(t, from, to, s);
        });
  }
}

template <class T>
void check_normal() {
  const double params[][2] = {{0, 1}, {3, 0.5}, {-1, 0}};
  for (const auto& q : params) {
    const double mean = q[0], std = q[1];
    expect_same_fill<T>(
        "normal_(" + std::to_string(mean) + ", " + std::to_string(std) + ")",
        [mean, std](Tensor<T>& t) { t.normal_(mean, std); },
        [mean, std](const Tensor<T>& t, const RandomStream& s) {
          emu::normal_fill(t, mean, std, s);
        });
  }
}

template <class T>
void check_bernoulli() {
  for (double p : {0.0, 0.3, 1.0}) {
    expect_same_fill<T>(
        "bernoulli_(" + std::to_string(p) + ")", [p](Tensor<T>& t) { t.bernoulli_(p); },
        [p](const Tensor<T>& t, const RandomStream& s) { emu::bernoulli_fill(t, p, s); });
  }
}

TEST(CudaEmulatedRandomUniform, FloatMatchesCpuBitwise) { check_uniform<float>(); }
TEST(CudaEmulatedRandomUniform, DoubleMatchesCpuBitwise) { check_uniform<double>(); }
TEST(CudaEmulatedRandomNormal, FloatMatchesCpuBitwise) { check_normal<float>(); }
TEST(CudaEmulatedRandomNormal, DoubleMatchesCpuBitwise) { check_normal<double>(); }
TEST(CudaEmulatedRandomBernoulli, EveryTypeMatchesCpu) {
  check_bernoulli<float>();
  check_bernoulli<double>();
  check_bernoulli<int64_t>();
  check_bernoulli<uint8_t>();
  check_bernoulli<bool>();
}

TEST(CudaEmulatedRandomPlan, OneBlockAPairAndTheIndexWidth) {
  const RandomStream s{kSeed, 5};
  auto l = cuda::plan_random_fill<float>("normal_fill", 1001, s);
  EXPECT_EQ(l.grid, 2u);  // 501 pairs, 256 threads a block
  EXPECT_TRUE(l.index32);
  EXPECT_EQ(l.first_block, 5u);
  EXPECT_EQ(l.name_expression(), "sinew::normal_fill<float, sinew::int32_t>");
  cuda::PlanOptions o;
  o.max_blocks = 4;
  l = cuda::plan_random_fill<uint8_t>("bernoulli_fill", int64_t{1} << 31, s, o);
  EXPECT_EQ(l.grid, 4u);
  EXPECT_FALSE(l.index32);  // element 2^31 - 1 is the last, but the loop's index passes 2^31
  EXPECT_EQ(l.name_expression(), "sinew::bernoulli_fill<sinew::uint8_t, sinew::int64_t>");
  EXPECT_EQ(cuda::plan_random_fill<double>("uniform_fill", 0, s).numel, 0);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
