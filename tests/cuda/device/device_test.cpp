// Tensors on a CUDA device: copies between the host and devices (strided, broadcast, converting,
// between two devices), item/to_vector/printing through the host, autograd through to(),
// memory statistics, and the errors: ops mixing devices, layers whose kernels are not on CUDA.
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "device_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace device_parity;

TEST(CudaDevice, CopiesBetweenHostAndDevice) {
  SINEW_NEEDS_CUDA();
  const TF x = input({4, 5}, 1).detach();
  const TF d = x.to(kCuda);
  EXPECT_EQ(d.device(), kCuda);
  EXPECT_EQ(x.cuda().device(), kCuda);
  EXPECT_TRUE(same_values<float>(x, d, kExact, "to(cuda)"));
  EXPECT_TRUE(d.cpu().is_cpu());
  EXPECT_EQ(d.cpu().to_vector(), x.to_vector());
  EXPECT_TRUE(d.to(kCuda).impl_ptr() == d.impl_ptr());  // already there: the same tensor
  // Strided sources and destinations, and a conversion across the copy.
  EXPECT_EQ(x.t().to(kCuda).cpu().to_vector(), x.t().contiguous().to_vector());
  EXPECT_EQ(d.t().cpu().to_vector(), x.t().contiguous().to_vector());
  EXPECT_EQ(d.to<double>().cpu().to_vector(), x.to<double>().to_vector());
  TF host = zeros<float>({5, 4});
  host.t().copy_(d);  // device -> a transposed host view
  EXPECT_EQ(host.to_vector(), x.t().contiguous().to_vector());
  TF dev = zeros<float>({3, 5}, kCuda);
  dev.copy_(x.select(0, 2));  // host row broadcast into a device tensor
  for (int64_t r = 0; r < 3; ++r)
    EXPECT_EQ(dev.cpu().select(0, r).to_vector(), x.select(0, 2).to_vector());
  // Between two devices.
  const TF d1 = d.to(Device::cuda(1));
  EXPECT_EQ(d1.device(), Device::cuda(1));
  EXPECT_EQ(d1.cpu().to_vector(), x.to_vector());
  EXPECT_EQ(d.t().to(Device::cuda(1)).cpu().to_vector(), x.t().contiguous().to_vector());
  // Empty tensors and scalars.
  EXPECT_EQ(zeros<float>({0, 3}).to(kCuda).cpu().shape(), Shape({0, 3}));
  EXPECT_EQ(scalar_tensor<float>(2.5f).to(kCuda).item(), 2.5f);
}

TEST(CudaDevice, ReadingValuesGoesThroughTheHost) {
  SINEW_NEEDS_CUDA();
  const TF x = from_vector<float>({1.5f, -2, 3.25f, 4}, {2, 2});
  const TF d = x.to(kCuda);
  EXPECT_EQ(d.sum().item(), 6.75f);
  EXPECT_EQ(d.at({1, 0}), 3.25f);
  EXPECT_EQ(d[1][1].item(), 4.0f);
  std::ostringstream os;
  os << d;
  EXPECT_NE(os.str().find("device='cuda:0'"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("3.2500"), std::string::npos) << os.str();
  EXPECT_TRUE(d.equal(x.to(kCuda)));
  EXPECT_FALSE(d.equal((x + 1).to(kCuda)));
}

TEST(CudaDevice, GradientsFlowBackThroughTo) {
  SINEW_NEEDS_CUDA();
  const TF x = input({3, 4}, 1);
  const TF y = (x.to(kCuda) * 3).sum();
  EXPECT_EQ(y.device(), kCuda);
  y.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(x.grad().is_cpu());
  EXPECT_EQ(x.grad().to_vector(), std::vector<float>(12, 3.0f));
  // A leaf on the device gets its gradient on the device.
  const TF leaf = input({5}, 2).detach().to(kCuda).requires_grad_();
  (leaf * leaf).sum().backward();
  EXPECT_EQ(leaf.grad().device(), kCuda);
  EXPECT_TRUE(same_values<float>(leaf.detach().cpu() * 2, leaf.grad(), kExact, "d(x^2)"));
}

TEST(CudaDevice, MixingDevicesIsAnError) {
  SINEW_NEEDS_CUDA();
  const TF a = input({3}, 1).detach(), b = a.to(kCuda);
  SINEW_EXPECT_ERROR((void)(a + b), "different devices", "cpu", "cuda:0");
  SINEW_EXPECT_ERROR((void)matmul(a.reshape({1, 3}), b.reshape({3, 1})), "cpu", "cuda:0");
  SINEW_EXPECT_ERROR((void)b.to(Device::cuda(7)), "cuda:7");
}

// A layer whose operands are on two devices fails naming the op, before any kernel runs.
TEST(CudaDevice, LayersWithOperandsOnTwoDevicesRaise) {
  SINEW_NEEDS_CUDA();
  const TF img = input({1, 2, 5, 5}, 1).detach().to(kCuda);
  const TF w = input({3, 2, 3, 3}, 2).detach();
  SINEW_EXPECT_ERROR((void)nn::functional::conv2d(img, w), "conv2d", "cuda:0", "cpu");
  SINEW_EXPECT_ERROR(
      (void)nn::functional::batch_norm(img, TF(), TF(), ones<float>({2}), zeros<float>({2}), true),
      "batch_norm", "cuda:0", "cpu");
}

TEST(CudaDevice, MemoryStatisticsFollowTheDevicesTensors) {
  SINEW_NEEDS_CUDA();
  cuda::synchronize();
  const size_t before = cuda::memory_allocated(0);
  {
    const TF t = empty<float>({1000}, kCuda);
    EXPECT_GE(cuda::memory_allocated(0), before + 4000);
    EXPECT_GE(cuda::max_memory_allocated(0), before + 4000);
  }
  EXPECT_EQ(cuda::memory_allocated(0), before);
  EXPECT_GE(cuda::device_count(), 1u);
  EXPECT_TRUE(cuda::is_available());
}

// The comparison can fail: a result off by one ulp, a gradient that differs, a result left on the
// host.
TEST(CudaDevice, TheParityCheckDetectsDifferences) {
  SINEW_NEEDS_CUDA();
  const Fs x{input({6}, 1)};
  EXPECT_FALSE(device_parity::same_on_cuda(
      [](const Fs& v) {
        return v[0].is_cpu() ? v[0] * 1 : v[0] * (1 + std::numeric_limits<float>::epsilon());
      },
      x));
  EXPECT_FALSE(device_parity::same_on_cuda(
      [](const Fs& v) { return v[0].is_cpu() ? v[0] * 2 : v[0] + v[0].detach(); }, x));
  EXPECT_FALSE(device_parity::same_on_cuda([](const Fs& v) { return v[0].cpu() * 2; }, x));
  EXPECT_TRUE(device_parity::same_on_cuda([](const Fs& v) { return v[0] * 2; }, x));
}

// Pinned host memory: a CPU tensor in page-locked memory with the same values, copied to the
// device like any other; the DataLoader pins each batch (with workers too), values unchanged.
TEST(CudaDevice, PinnedMemoryAndPinnedBatches) {
  SINEW_NEEDS_CUDA();
  const TF x = input({5, 3}, 2).detach();
  EXPECT_FALSE(x.is_pinned());
  const TF p = x.t().pin_memory();  // a strided source
  EXPECT_TRUE(p.is_pinned());
  EXPECT_TRUE(p.is_cpu());
  EXPECT_EQ(p.to_vector(), x.t().contiguous().to_vector());
  EXPECT_TRUE(p.pin_memory().impl_ptr() == p.impl_ptr());  // pinned already: itself
  EXPECT_EQ(p.to(kCuda).cpu().to_vector(), p.to_vector());
  SINEW_EXPECT_ERROR(x.to(kCuda).pin_memory(), "Tensor::pin_memory", "only CPU tensors", "cuda:0");

  Generator g(6);
  data::TensorDataset set(input({10, 4}, 7).detach(), randint(0, 3, {10}, g));
  for (int64_t workers : {0, 2}) {
    data::DataLoader plain(set, {.batch_size = 4, .shuffle = true, .seed = 1});
    data::DataLoader pinned(
        set,
        {.batch_size = 4, .shuffle = true, .num_workers = workers, .seed = 1, .pin_memory = true});
    std::vector<std::vector<float>> expected;
    for (auto& [xb, yb] : plain) expected.push_back(xb.to_vector());
    size_t k = 0;
    for (auto& [xb, yb] : pinned) {
      EXPECT_TRUE(xb.is_pinned()) << "workers " << workers;
      EXPECT_TRUE(yb.is_pinned()) << "workers " << workers;
      ASSERT_LT(k, expected.size());
      EXPECT_EQ(xb.to(kCuda).cpu().to_vector(), expected[k]) << "batch " << k;
      ++k;
    }
    EXPECT_EQ(k, expected.size());
  }
}

#ifdef SINEW_CUDA_EMULATED_DEVICE
// The emulated device runs the CUDA backend's kernels, not the CPU's: each op launches the
// instantiation its plan chose.
TEST(CudaDevice, EmulatedOpsLaunchTheBackendsKernels) {
  const TF a = input({8}, 1).detach().to(kCuda);
  backend::cuda::last_launched_kernel().clear();
  (void)(a + a);
  EXPECT_NE(backend::cuda::last_launched_kernel().find("sinew::binary_flat<float"),
            std::string::npos)
      << backend::cuda::last_launched_kernel();
  (void)a.sum();
  EXPECT_NE(backend::cuda::last_launched_kernel().find("reduce"), std::string::npos)
      << backend::cuda::last_launched_kernel();
  // Random fills draw on the device, not on the host and copy.
  (void)rand<float>({4}, kCuda);
  EXPECT_NE(backend::cuda::last_launched_kernel().find("sinew::uniform_fill<float"),
            std::string::npos)
      << backend::cuda::last_launched_kernel();
  (void)randn<double>({4}, kCuda);
  EXPECT_NE(backend::cuda::last_launched_kernel().find("sinew::normal_fill<double"),
            std::string::npos)
      << backend::cuda::last_launched_kernel();
}
#endif

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
