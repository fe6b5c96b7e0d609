// Per-device state (device.hpp), device memory (memory.hpp) and the public sinew::cuda functions
// (public.hpp) on a machine without a usable driver: every entry point that needs the device raises
// sinew::Error naming the device and the reason, the statistics of devices never used are 0, and
// the pure host state (the poisoned flag, the device guard's bookkeeping) behaves. The expected
// error is worked out as in availability_test.cpp: SINEW_TEST_EXPECT_CUDA_ERROR when set, else 35
// (cudaErrorInsufficientDriver) where no libcuda.so.1 loads. CudaMallocSource itself (cudaMalloc,
// out of memory as nullptr, cudaMemGetInfo) only runs on a GPU: the test that uses it skips here.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>

#include "sinew/backend/cuda/device.hpp"
#include "sinew/backend/cuda/memory.hpp"
#include "sinew/backend/cuda/public.hpp"

namespace cu = sinew::backend::cuda;
namespace pub = sinew::backend::cuda::api_public;

namespace {
namespace SINEW_UNITY_ID {

std::optional<int> expected_error() {
  if (const char* e = std::getenv("SINEW_TEST_EXPECT_CUDA_ERROR")) return std::atoi(e);
  void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) return 35;
  dlclose(h);
  return std::nullopt;
}

// The runtime's name and text of the errors expected here (from the CUDA runtime's documentation).
std::string describe(int code) {
  if (code == 34) return "cudaErrorStubLibrary (CUDA driver is a stub library)";
  if (code == 35)
    return "cudaErrorInsufficientDriver (CUDA driver version is insufficient for CUDA runtime "
           "version)";
  ADD_FAILURE() << "no expectation for error " << code;
  return "?";
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sinew::Error& e) {
    return e.what();
  }
  return "(no sinew::Error)";
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// "<op>: cuda:N requested, but CUDA is not usable here: <name> (<text>)", as require_device says.
std::string unusable(const std::string& op, int device, int code) {
  return op + ": cuda:" + std::to_string(device) +
         " requested, but CUDA is not usable here: " + describe(code);
}

// ---- without a driver --------------------------------------------------------------------------

TEST(DeviceMemory, AllocateNamesTheDeviceAndTheReason) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  const std::string m0 = message_of([] { (void)cu::device_allocate(16, 0); });
  EXPECT_TRUE(starts_with(m0, unusable("cuda::device_allocate", 0, *code))) << m0;
  // 0 bytes still need a usable device.
  const std::string z = message_of([] { (void)cu::device_allocate(0, 0); });
  EXPECT_TRUE(starts_with(z, unusable("cuda::device_allocate", 0, *code))) << z;
  const std::string m2 = message_of([] { (void)cu::device_allocate(1 << 20, 2); });
  EXPECT_TRUE(starts_with(m2, unusable("cuda::device_allocate", 2, *code))) << m2;
  // A failed allocation creates no allocator.
  EXPECT_EQ(cu::detail_memory::find_allocator(0), nullptr);
  EXPECT_EQ(cu::detail_memory::find_allocator(2), nullptr);
}

TEST(DeviceMemory, SynchronizeAndTheStreamNameTheReason) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  const std::string s0 = message_of([] { cu::synchronize(0); });
  EXPECT_TRUE(starts_with(s0, unusable("cuda::synchronize", 0, *code))) << s0;
  const std::string s1 = message_of([] { cu::synchronize(1); });
  EXPECT_TRUE(starts_with(s1, unusable("cuda::synchronize", 1, *code))) << s1;
  // The public one: -1 is the current device (0 here).
  const std::string p = message_of([] { pub::synchronize(); });
  EXPECT_TRUE(starts_with(p, unusable("cuda::synchronize", 0, *code))) << p;
  const std::string st = message_of([] { (void)cu::compute_stream(0); });
  EXPECT_TRUE(starts_with(st, unusable("cuda::compute_stream", 0, *code))) << st;
  // require_device comes first: no device state is made for a device that cannot be used.
  EXPECT_EQ(cu::find_device_state(1), nullptr);
}

TEST(DeviceMemory, PinnedAllocateNamesTheReason) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  const std::string m = message_of([] { (void)cu::pinned_allocate(4096); });
  EXPECT_TRUE(starts_with(m,
                          "cuda::pinned_allocate: pinned host memory requested, but CUDA is not "
                          "usable here: " +
                              describe(*code)))
      << m;
  EXPECT_EQ(cu::pinned_memory_reserved(), 0u);
  EXPECT_EQ(cu::pinned_memory_allocated(), 0u);
  cu::pinned_deallocate(nullptr);
  EXPECT_NO_THROW(cu::pinned_empty_cache());
}

TEST(DeviceMemory, StatisticsOfUntouchedDevicesAreZero) {
  static_assert(noexcept(cu::memory_allocated(0)));
  static_assert(noexcept(cu::memory_reserved(0)));
  static_assert(noexcept(cu::max_memory_allocated(0)));
  static_assert(noexcept(cu::reset_peak_memory_stats(0)));
  static_assert(noexcept(pub::memory_allocated()));
  if (cu::is_available()) GTEST_SKIP() << "devices may have been used by other tests here";
  for (int d : {-1, 0, 1, 3, 63, 64, 1000}) {
    EXPECT_EQ(cu::memory_allocated(d), 0u) << d;
    EXPECT_EQ(cu::memory_reserved(d), 0u) << d;
    EXPECT_EQ(cu::max_memory_allocated(d), 0u) << d;
    EXPECT_EQ(cu::max_memory_reserved(d), 0u) << d;
    cu::reset_peak_memory_stats(d);
    EXPECT_EQ(pub::memory_allocated(d), 0u) << d;
    EXPECT_EQ(pub::memory_reserved(d), 0u) << d;
    EXPECT_EQ(pub::max_memory_allocated(d), 0u) << d;
    pub::reset_peak_memory_stats(d);
  }
  EXPECT_EQ(pub::memory_allocated(), 0u);
  // Asking created nothing.
  for (int d = 0; d < cu::kMaxDevices; ++d)
    EXPECT_EQ(cu::detail_memory::find_allocator(d), nullptr);
}

TEST(DeviceMemory, EmptyCacheWithoutDevicesDoesNotThrow) {
  EXPECT_NO_THROW(cu::empty_cache());
  EXPECT_NO_THROW(pub::empty_cache());
}

TEST(DeviceMemory, DeallocateNullIsANoOp) {
  static_assert(noexcept(cu::device_deallocate(nullptr, 0, 0)));
  const bool had_allocator = cu::detail_memory::find_allocator(0) != nullptr;
  cu::device_deallocate(nullptr, 0, 0);
  cu::device_deallocate(nullptr, 128, 5);
  EXPECT_EQ(cu::detail_memory::find_allocator(0) != nullptr, had_allocator);
  EXPECT_EQ(cu::detail_memory::find_allocator(5), nullptr);
}

// ---- public functions --------------------------------------------------------------------------

TEST(CudaPublic, AvailabilityAnswers) {
  static_assert(noexcept(pub::is_available()));
  static_assert(noexcept(pub::device_count()));
  static_assert(std::is_same_v<decltype(pub::device_count()), std::size_t>);
  EXPECT_EQ(pub::is_available(), cu::is_available());
  EXPECT_EQ(pub::device_count(), static_cast<std::size_t>(cu::device_count()));
  if (!pub::is_available()) {
    EXPECT_EQ(pub::device_count(), 0u);
    EXPECT_FALSE(pub::cudnn_is_available());
  }
#ifndef SINEW_WITH_CUDNN
  EXPECT_FALSE(pub::cudnn_is_available());
#endif
}

// TF32 is off by default, and the switch is what the GEMM calls read.
TEST(CudaPublic, AllowTf32IsOffByDefaultAndSwitches) {
  static_assert(noexcept(pub::set_allow_tf32(true))&& noexcept(pub::allow_tf32()));
  EXPECT_FALSE(pub::allow_tf32());
  pub::set_allow_tf32(true);
  EXPECT_TRUE(pub::allow_tf32());
  EXPECT_TRUE(cu::allow_tf32_flag().load());
  pub::set_allow_tf32(false);
  EXPECT_FALSE(cu::allow_tf32_flag().load());
}

TEST(CudaPublic, ManualSeedSeedsTheDefaultGenerator) {
  const std::string saved = sinew::get_rng_state();
  sinew::manual_seed(1234);
  const std::string want = sinew::get_rng_state();
  sinew::manual_seed(99);
  ASSERT_NE(sinew::get_rng_state(), want);
  pub::manual_seed(1234);
  EXPECT_EQ(sinew::get_rng_state(), want);
  sinew::manual_seed(99);
  pub::manual_seed_all(1234);
  EXPECT_EQ(sinew::get_rng_state(), want);
  sinew::set_rng_state(saved);
}

// ---- the poisoned flag (host state only) -------------------------------------------------------

TEST(DevicePoison, CheckRaisesAfterMarkAndPointsAtSyncMode) {
  // Devices 7 and 8 are used by no other test here.
  EXPECT_FALSE(cu::is_poisoned(7));
  EXPECT_NO_THROW(cu::check_not_poisoned(7, "sinew::mul"));
  const std::string empty;
  static_assert(noexcept(cu::mark_poisoned(7, empty)));
  cu::mark_poisoned(7, "sinew::add: cudaErrorIllegalAddress: an illegal memory access");
  EXPECT_TRUE(cu::is_poisoned(7));
  EXPECT_FALSE(cu::is_poisoned(8));
  EXPECT_NO_THROW(cu::check_not_poisoned(8, "sinew::mul"));
  const std::string m = message_of([] { cu::check_not_poisoned(7, "sinew::mul"); });
  EXPECT_TRUE(starts_with(m,
                          "sinew::mul (cuda:7): the device is unusable after an earlier "
                          "asynchronous error (sinew::add: cudaErrorIllegalAddress: an illegal "
                          "memory access)"))
      << m;
  EXPECT_NE(m.find("SINEW_CUDA_SYNC=1"), std::string::npos) << m;
  // The first reason is kept.
  cu::mark_poisoned(7, "a later one");
  const std::string m2 = message_of([] { cu::check_not_poisoned(7, "x"); });
  EXPECT_NE(m2.find("(sinew::add: cudaErrorIllegalAddress"), std::string::npos) << m2;
  EXPECT_EQ(m2.find("a later one"), std::string::npos) << m2;
  // Out-of-range indices are ignored, not raised.
  cu::mark_poisoned(-1, "x");
  cu::mark_poisoned(cu::kMaxDevices, "x");
  EXPECT_FALSE(cu::is_poisoned(-1));
  EXPECT_FALSE(cu::is_poisoned(cu::kMaxDevices));
}

TEST(DevicePoison, DeviceCheckComesBeforeThePoisonCheck) {
  // The device check comes first, so without a driver the error is still the reason; with one
  // (devices 0..n-1 exist) a poisoned device fails at once.
  if (cu::is_available()) GTEST_SKIP() << "would poison a real device of this process";
  cu::mark_poisoned(9, "earlier fault");
  const std::string m = message_of([] { (void)cu::device_allocate(16, 9); });
  EXPECT_TRUE(starts_with(m, "cuda::device_allocate: cuda:9 requested, but CUDA is not usable"))
      << m;
}

TEST(DevicePoison, StickyErrorsMarkTheDevice) {
  EXPECT_TRUE(cu::is_sticky_error(cudaErrorIllegalAddress));
  EXPECT_TRUE(cu::is_sticky_error(cudaErrorLaunchFailure));
  EXPECT_TRUE(cu::is_sticky_error(cudaErrorAssert));
  EXPECT_FALSE(cu::is_sticky_error(cudaSuccess));
  EXPECT_FALSE(cu::is_sticky_error(cudaErrorMemoryAllocation));
  EXPECT_FALSE(cu::is_sticky_error(cudaErrorInvalidValue));
  EXPECT_FALSE(cu::is_sticky_error(cudaErrorInsufficientDriver));
  EXPECT_FALSE(cu::is_sticky_error(cudaErrorLaunchOutOfResources));

  EXPECT_NO_THROW(cu::check_on_device(cudaSuccess, "op", 10));
  EXPECT_EQ(message_of([] { cu::check_on_device(cudaErrorInvalidValue, "sinew::copy", 10); }),
            "sinew::copy (cuda:10): cudaErrorInvalidValue: invalid argument");
  EXPECT_FALSE(cu::is_poisoned(10));  // not sticky
  EXPECT_EQ(message_of([] { cu::check_on_device(cudaErrorIllegalAddress, "sinew::add", 11); }),
            "sinew::add (cuda:11): cudaErrorIllegalAddress: an illegal memory access was "
            "encountered");
  EXPECT_TRUE(cu::is_poisoned(11));
  const std::string m = message_of([] { cu::check_not_poisoned(11, "sinew::sum"); });
  EXPECT_TRUE(starts_with(m,
                          "sinew::sum (cuda:11): the device is unusable after an earlier "
                          "asynchronous error (sinew::add: cudaErrorIllegalAddress: an illegal "
                          "memory access was encountered)"))
      << m;
}

// ---- DeviceGuard -------------------------------------------------------------------------------

TEST(DeviceGuard, SameDeviceMakesNoCallAndRestores) {
  int& slot = cu::detail_api::current_device_slot();
  const int saved = slot;
  slot = 2;  // as if set_device(2) had succeeded earlier
  {
    cu::DeviceGuard g(2);  // already current: no cudaSetDevice, so it works without a driver
    EXPECT_EQ(g.original_device(), 2);
    EXPECT_EQ(cu::current_device(), 2);
  }
  EXPECT_EQ(cu::current_device(), 2);
  slot = saved;
}

TEST(DeviceGuard, FailedSwitchChangesNothing) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  ASSERT_EQ(cu::current_device(), 0);
  const std::string m = message_of([] { cu::DeviceGuard g(1); });
  EXPECT_TRUE(starts_with(m, "cuda::set_device (cuda:1): ")) << m;
  EXPECT_NE(m.find(*code == 34 ? "cudaErrorStubLibrary" : "cudaErrorInsufficientDriver"),
            std::string::npos)
      << m;
  EXPECT_EQ(cu::current_device(), 0);
}

TEST(DeviceGuard, SwitchesAndRestoresOnTwoDevices) {
  if (cu::device_count() < 2) GTEST_SKIP() << "needs two CUDA devices";
  ASSERT_EQ(cu::current_device(), 0);
  {
    cu::DeviceGuard g(1);
    EXPECT_EQ(cu::current_device(), 1);
    int actual = -1;
    ASSERT_EQ(cudaGetDevice(&actual), cudaSuccess);
    EXPECT_EQ(actual, 1);
  }
  EXPECT_EQ(cu::current_device(), 0);
  int actual = -1;
  ASSERT_EQ(cudaGetDevice(&actual), cudaSuccess);
  EXPECT_EQ(actual, 0);
}

// ---- with a GPU: the caching allocator over cudaMalloc
// -------------------------------------------

TEST(DeviceMemory, AllocatesThroughTheCacheOnAGpu) {
  if (!cu::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const std::size_t before = cu::memory_allocated(0);
  void* p = cu::device_allocate(1000, 0);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(cu::memory_allocated(0), before + 1024);        // rounded up to a multiple of 512
  EXPECT_GE(cu::memory_reserved(0), std::size_t{2} << 20);  // at least one small segment
  EXPECT_EQ(cudaMemsetAsync(p, 0, 1000, cu::compute_stream(0)), cudaSuccess);
  cu::synchronize(0);
  cu::device_deallocate(p, 1000, 0);
  EXPECT_EQ(cu::memory_allocated(0), before);
  EXPECT_GE(cu::max_memory_allocated(0), before + 1024);
  EXPECT_EQ(cu::device_allocate(0, 0), nullptr);
  cu::device_deallocate(nullptr, 0, 0);
  // The same block comes back from the cache.
  void* q = cu::device_allocate(1000, 0);
  EXPECT_EQ(q, p);
  cu::device_deallocate(q, 1000, 0);
  cu::empty_cache();
  if (before == 0) {
    EXPECT_EQ(cu::memory_reserved(0), 0u);
  }
  cu::reset_peak_memory_stats(0);
  EXPECT_EQ(cu::max_memory_allocated(0), cu::memory_allocated(0));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
