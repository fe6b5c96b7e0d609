// Tests of core/device.hpp's cuda::is_available() / cuda::device_count() in a build without the
// CUDA backend (Device itself: tests/core/tensor_test.cpp).
#include <cstddef>
#include <type_traits>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

// As torch::cuda::is_available() and torch::cuda::device_count() (a size_t, as LibTorch's).
static_assert(std::is_same_v<decltype(cuda::is_available()), bool>);
static_assert(std::is_same_v<decltype(cuda::device_count()), size_t>);

#ifndef SINEW_WITH_CUDA
TEST(Cuda, NoDevicesWithoutTheCudaBackend) {
  EXPECT_FALSE(cuda::is_available());
  EXPECT_EQ(cuda::device_count(), 0u);
  EXPECT_FALSE(cuda::cudnn_is_available());
  // What the answer means: a CUDA tensor cannot be made.
  SINEW_EXPECT_ERROR(ones<float>({2}).to(Device::cuda()), "cuda:0", "no CUDA backend");
  SINEW_EXPECT_ERROR(ones<float>({2}).cuda(1), "Tensor::to", "cuda:1", "no CUDA backend");
  SINEW_EXPECT_ERROR(zeros<float>({2}, Device::cuda()), "Storage", "cuda:0", "no CUDA backend");
  SINEW_EXPECT_ERROR(ones<int64_t>({3}).to(Device::cuda(2)), "cuda:2", "no CUDA backend");
  // Pinned host memory is the CUDA runtime's too.
  EXPECT_FALSE(ones<float>({2}).is_pinned());
  SINEW_EXPECT_ERROR(ones<float>({2}).pin_memory(), "Tensor::pin_memory", "CUDA backend");
}
#endif

// Moving to the device a tensor is on already is the tensor itself (no copy), as PyTorch.
TEST(Device, ToTheSameDeviceIsTheSameTensor) {
  Tensor<float> t = ones<float>({2, 3});
  Tensor<float> c = t.to(Device::cpu());
  EXPECT_EQ(c.data_ptr(), t.data_ptr());
  EXPECT_EQ(t.cpu().data_ptr(), t.data_ptr());
}

// The usual guard in a program: take the GPU when there is one, else stay on the CPU.
TEST(Cuda, AvailabilityChoosesTheDevice) {
  Device d = cuda::is_available() ? Device::cuda() : Device::cpu();
  Tensor<float> t = ones<float>({2}).to(d);
  EXPECT_EQ(t.device(), d);
  EXPECT_EQ(d.is_cuda(), cuda::device_count() > 0);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
