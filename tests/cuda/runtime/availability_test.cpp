// CUDA availability on a machine without a usable driver, and the mapping of cudaError_t values to
// sinew::Error. The expected error is worked out without the CUDA runtime: the test run with the
// toolkit's stub libcuda sets SINEW_TEST_EXPECT_CUDA_ERROR=34; otherwise, where no libcuda.so.1 can
// be loaded at all, the runtime must report cudaErrorInsufficientDriver (35). Where a driver is
// present (a GPU machine) only the consistency checks run.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "sinew/backend/cuda/api.hpp"
#ifdef SINEW_WITH_CUDA
#include <sinew/sinew.hpp>
#endif

namespace cu = sinew::backend::cuda;

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
struct Expected {
  const char* name;
  const char* text;
  const char* hint;
};
Expected describe(int code) {
  if (code == 34) return {"cudaErrorStubLibrary", "CUDA driver is a stub library", "stub"};
  if (code == 35)
    return {"cudaErrorInsufficientDriver",
            "CUDA driver version is insufficient for CUDA runtime version",
            "is the NVIDIA driver installed?"};
  ADD_FAILURE() << "no expectation for error " << code;
  return {"?", "?", "?"};
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sinew::Error& e) {
    return e.what();
  }
  return "(no sinew::Error)";
}

TEST(Availability, QueriesAreNoexcept) {
  static_assert(noexcept(cu::is_available()));
  static_assert(noexcept(cu::device_count()));
  static_assert(noexcept(cu::availability_error()));
  EXPECT_EQ(cu::is_available(), cu::device_count() > 0);
  EXPECT_GE(cu::device_count(), 0);
}

TEST(Availability, NotAvailableWithoutDriver) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  const Expected want = describe(*code);
  EXPECT_FALSE(cu::is_available());
  EXPECT_EQ(cu::device_count(), 0);
  EXPECT_EQ(static_cast<int>(cu::availability_error()), *code);
  const std::string reason = cu::unavailable_reason();
  EXPECT_EQ(reason.rfind(
                std::string("CUDA is not usable here: ") + want.name + " (" + want.text + "): ", 0),
            0u)
      << reason;
  EXPECT_NE(reason.find(want.hint), std::string::npos) << reason;
}

TEST(Availability, SameAnswerFromManyThreads) {
  std::vector<int> counts(8, -1);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < counts.size(); ++i)
    threads.emplace_back([&counts, i] { counts[i] = cu::device_count(); });
  for (std::thread& t : threads) t.join();
  for (int c : counts) EXPECT_EQ(c, cu::device_count());
  EXPECT_EQ(cu::is_available(), cu::is_available());
}

TEST(Availability, RequireDeviceNamesTheReason) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  const Expected want = describe(*code);
  const std::string m0 =
      message_of([] { cu::require_device(sinew::Device::cuda(0), "Tensor::to"); });
  EXPECT_EQ(m0.rfind(std::string("Tensor::to: cuda:0 requested, but CUDA is not usable here: ") +
                         want.name + " (" + want.text + ")",
                     0),
            0u)
      << m0;
  const std::string m3 = message_of([] { cu::require_device(sinew::Device::cuda(3), "zeros"); });
  EXPECT_EQ(m3.rfind("zeros: cuda:3 requested, but CUDA is not usable here: ", 0), 0u) << m3;
  EXPECT_NE(m3.find(want.name), std::string::npos) << m3;
}

#ifdef SINEW_WITH_CUDA
// The user's view in a build with the CUDA backend: sinew::cuda answers without throwing, and a
// tensor on a CUDA device is an Error naming the reason.
TEST(Availability, TensorsOnCudaNameTheReason) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  const Expected want = describe(*code);
  EXPECT_FALSE(sinew::cuda::is_available());
  EXPECT_EQ(sinew::cuda::device_count(), 0u);
  EXPECT_FALSE(sinew::cuda::cudnn_is_available());
  const sinew::Tensor<float> x = sinew::ones<float>({2, 3});
  for (const std::string& m :
       {message_of([&] { (void)x.to(sinew::Device::cuda()); }), message_of([&] { (void)x.cuda(); }),
        message_of([] { (void)sinew::zeros<float>({4}, sinew::Device::cuda(0)); }),
        message_of([] { sinew::cuda::synchronize(); })}) {
    EXPECT_NE(m.find("cuda:0 requested, but CUDA is not usable here: "), std::string::npos) << m;
    EXPECT_NE(m.find(want.name), std::string::npos) << m;
    EXPECT_NE(m.find(want.hint), std::string::npos) << m;
  }
  // The CPU is unaffected.
  EXPECT_EQ((x * 2).sum().item(), 12.0f);
}
#endif

TEST(Availability, RequireDeviceRejectsTheCpu) {
  const std::string m = message_of([] { cu::require_device(sinew::Device::cpu(), "launch"); });
  EXPECT_EQ(m, "launch: expected a CUDA device, got cpu");
}

TEST(Availability, DeviceCallsFailWithTheMappedError) {
  const std::optional<int> code = expected_error();
  if (!code) GTEST_SKIP() << "a libcuda.so.1 is loadable here (driver present)";
  const Expected want = describe(*code);
  const std::string tail = std::string(want.name) + ": " + want.text;
  EXPECT_EQ(message_of([] { (void)cu::device_malloc(16); }),
            "cuda::device_malloc (cuda:0): " + tail);
  EXPECT_EQ(message_of([] { (void)cu::stream_create(); }), "cuda::stream_create (cuda:0): " + tail);
  EXPECT_EQ(message_of([] { (void)cu::event_create(); }), "cuda::event_create (cuda:0): " + tail);
  EXPECT_EQ(message_of([] { cu::set_device(1); }), "cuda::set_device (cuda:1): " + tail);
  EXPECT_EQ(cu::current_device(), 0);  // a failed set_device changes nothing
  void* p = nullptr;
  EXPECT_EQ(static_cast<int>(cu::device_malloc_nothrow(&p, 16)), *code);
  EXPECT_EQ(p, nullptr);
  // The runtime's version needs no driver.
  EXPECT_EQ(cu::runtime_version(), CUDART_VERSION);
}

TEST(CudaError, SuccessDoesNotThrow) {
  EXPECT_NO_THROW(cu::check(cudaSuccess, "op", 0));
  EXPECT_NO_THROW(SINEW_CUDA_CHECK(cudaSuccess, "op"));
}

TEST(CudaError, TextIsOpDeviceNameAndString) {
  EXPECT_EQ(message_of([] { cu::check(cudaErrorMemoryAllocation, "cuda::device_malloc", 1); }),
            "cuda::device_malloc (cuda:1): cudaErrorMemoryAllocation: out of memory");
  EXPECT_EQ(message_of([] { cu::check(cudaErrorInvalidValue, "cuda::memcpy_async", 0); }),
            "cuda::memcpy_async (cuda:0): cudaErrorInvalidValue: invalid argument");
  EXPECT_EQ(message_of([] { SINEW_CUDA_CHECK_ON(cudaErrorIllegalAddress, "sinew::add", 7); }),
            "sinew::add (cuda:7): cudaErrorIllegalAddress: an illegal memory access was "
            "encountered");
  EXPECT_EQ(message_of([] { cu::check(cudaErrorNoDevice, "x", 0); }),
            "x (cuda:0): cudaErrorNoDevice: no CUDA-capable device is detected");
}

TEST(CudaError, CheckNamesThisThreadsCurrentDevice) {
  int& slot = cu::detail_api::current_device_slot();
  const int saved = slot;
  slot = 2;
  EXPECT_EQ(message_of([] { SINEW_CUDA_CHECK(cudaErrorInvalidValue, "op"); }),
            "op (cuda:2): cudaErrorInvalidValue: invalid argument");
  // Another thread has its own current device.
  std::string other;
  std::thread([&other] {
    other = message_of([] { SINEW_CUDA_CHECK(cudaErrorInvalidValue, "op"); });
  }).join();
  EXPECT_EQ(other, "op (cuda:0): cudaErrorInvalidValue: invalid argument");
  slot = saved;
}

TEST(CudaError, UnknownCodeIsNamedByNumber) {
  EXPECT_EQ(cu::error_name(static_cast<cudaError_t>(12345)), "cudaError 12345");
  EXPECT_EQ(cu::error_name(cudaErrorStubLibrary), "cudaErrorStubLibrary");
  EXPECT_EQ(cu::error_name(cudaErrorInsufficientDriver), "cudaErrorInsufficientDriver");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
