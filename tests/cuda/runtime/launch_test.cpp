// The CUDA backend's launch path (backend/cuda/launch.hpp) and its elementwise kernel functions as
// a GPU build compiles them. Without a usable driver a launch names the reason; with one (a GPU
// machine) a fill kernel runs and its result is read back.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sinew/backend/cuda/elementwise.hpp"
#include "sinew/backend/cuda/gemm.hpp"
#include "sinew/backend/cuda/index.hpp"
#include "sinew/backend/cuda/launch.hpp"
#include "sinew/backend/cuda/optim.hpp"
#include "sinew/backend/cuda/random.hpp"
#include "sinew/backend/cuda/reduce.hpp"
#include "sinew/backend/cuda/scan.hpp"

namespace cu = sinew::backend::cuda;

namespace {
namespace SINEW_UNITY_ID {

using sinew::backend::Binary;
using sinew::backend::Compare;
using sinew::backend::Unary;

// The kernel functions of every family compile for a GPU build (instantiated here; they run on
// the emulator in the sim tests, whose build also checks each launch's argument types against the
// kernel's parameters, and on a GPU in the device tests).
[[maybe_unused]] const void* const kInstantiated[] = {
    reinterpret_cast<const void*>(&cu::fill<float>),
    reinterpret_cast<const void*>(&cu::copy<double, int64_t>),
    reinterpret_cast<const void*>(&cu::unary_op<Unary::Exp, float, double>),
    reinterpret_cast<const void*>(&cu::binary_op<Binary::Add, double, double>),
    reinterpret_cast<const void*>(&cu::compare_op<Compare::Lt, int64_t>),
    reinterpret_cast<const void*>(&cu::compare_scalar_op<Compare::Eq, uint8_t, int64_t>),
    reinterpret_cast<const void*>(&cu::logical_op<sinew::backend::Logical::And>),
    reinterpret_cast<const void*>(&cu::classify_op<sinew::backend::Classify::Nan, float>),
    reinterpret_cast<const void*>(&cu::isclose<double>),
    reinterpret_cast<const void*>(&cu::where<float>),
    reinterpret_cast<const void*>(&cu::sum<float, double>),
    reinterpret_cast<const void*>(&cu::prod<int64_t, int64_t>),
    reinterpret_cast<const void*>(&cu::all_any<sinew::backend::Quantifier::Any, bool>),
    reinterpret_cast<const void*>(&cu::extremum<double>),
    reinterpret_cast<const void*>(&cu::arg_extremum<float>),
    reinterpret_cast<const void*>(&cu::var<double>),
    reinterpret_cast<const void*>(&cu::norm<float>),
    reinterpret_cast<const void*>(&cu::logsumexp<float>),
    reinterpret_cast<const void*>(&cu::softmax<double>),
    reinterpret_cast<const void*>(&cu::sgd_step<float>),
    reinterpret_cast<const void*>(&cu::adam_step<double>),
    reinterpret_cast<const void*>(&cu::rmsprop_step<float>),
    reinterpret_cast<const void*>(&cu::adagrad_step<double>),
    reinterpret_cast<const void*>(&cu::uniform_fill<float>),
    reinterpret_cast<const void*>(&cu::normal_fill<double>),
    reinterpret_cast<const void*>(&cu::bernoulli_fill<float>),
    reinterpret_cast<const void*>(&cu::gather<float>),
    reinterpret_cast<const void*>(&cu::scatter_add<double>),
    reinterpret_cast<const void*>(&cu::masked_fill<int64_t>),
    reinterpret_cast<const void*>(&cu::flip<float>),
    reinterpret_cast<const void*>(&cu::count_true),
    reinterpret_cast<const void*>(&cu::scan<sinew::backend::Scan::Sum, float, float>),
    reinterpret_cast<const void*>(&cu::count_nonzero<double>),
    reinterpret_cast<const void*>(&cu::nonzero<uint8_t>),
    reinterpret_cast<const void*>(&cu::masked_select<float>),
    reinterpret_cast<const void*>(&cu::masked_scatter<bool>),
    reinterpret_cast<const void*>(&cu::sort<float>),
    reinterpret_cast<const void*>(&cu::gemm<float>),
    reinterpret_cast<const void*>(&cu::gemm<double>)};

cu::KernelLaunch fill_launch(int32_t n) {
  cu::KernelLaunch k;
  k.device = 0;
  k.fragment = &cu::kElementwise;
  k.name = "sinew::fill_flat<float, sinew::int32_t, 1>";
  k.grid = 1;
  k.block = static_cast<uint32_t>(n < 32 ? 32 : n);
  return k;
}

TEST(Launch, WithoutUsableCudaNamesTheReason) {
  if (cu::is_available()) GTEST_SKIP() << "CUDA is usable here";
  float* out = nullptr;
  try {
    cu::launch(fill_launch(4), nullptr, out, int32_t{4}, 1.0f);
    FAIL() << "the launch did not raise";
  } catch (const sinew::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cuda::launch"), std::string::npos) << what;
    EXPECT_NE(what.find("cuda:0 requested, but CUDA is not usable here"), std::string::npos)
        << what;
  }
  // The name of the launch attempted is recorded before anything can fail.
  EXPECT_EQ(cu::last_launched_kernel(), "sinew::fill_flat<float, sinew::int32_t, 1>");
  // Planning a launch asks for the device's size, and fails the same way.
  EXPECT_THROW((void)cu::plan_options(0), sinew::Error);
}

TEST(Launch, PlanOptionsOverride) {
  cu::PlanOptions o;
  o.block = 64;
  o.max_blocks = 3;
  cu::plan_options_override() = o;
  const cu::PlanOptions got = cu::plan_options(0);  // no device asked
  cu::plan_options_override().reset();
  EXPECT_EQ(got.block, 64);
  EXPECT_EQ(got.max_blocks, 3);
}

TEST(Launch, FillOnTheDevice) {
  if (!cu::is_available()) GTEST_SKIP() << "needs a CUDA device";
  constexpr int32_t n = 100;
  auto* out = static_cast<float*>(cu::device_malloc(n * sizeof(float)));
  cu::launch(fill_launch(n), nullptr, out, n, 2.5f);
  std::vector<float> host(n, 0.0f);
  cudaStream_t s = cu::compute_stream(0);
  cu::memcpy_async(host.data(), out, n * sizeof(float), cudaMemcpyDeviceToHost, s);
  cu::synchronize(0);
  cu::device_free(out);
  for (int32_t i = 0; i < n; ++i) ASSERT_EQ(host[static_cast<size_t>(i)], 2.5f) << i;
  // The second launch of the name finds the loaded kernel.
  EXPECT_EQ(cu::kernel_function(0, cu::kElementwise, fill_launch(n).name),
            cu::kernel_function(0, cu::kElementwise, fill_launch(n).name));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
