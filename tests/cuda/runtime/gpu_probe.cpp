// Timings that only a GPU shows, printed as "key value" lines for scripts/gpu-check.sh:
//   gpu_probe first-op      the first CUDA op of the process (NVRTC compile or kernel-cache load,
//                           library load, launch, copy back) and the same op again, in ms
//   gpu_probe gemm N        N x N x N float GEMM in true FP32 and with TF32, and double, in GFLOP/s
//                           (median of 10 after 3 warm-ups)
#include <sinew/sinew.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
double gemm_gflops(int64_t n) {
  using namespace sinew;
  const Device d = Device::cuda(0);
  NoGradGuard guard;
  Tensor<T> a = randn<T>({n, n}, d), b = randn<T>({n, n}, d);
  for (int i = 0; i < 3; ++i) (void)matmul(a, b);
  cuda::synchronize();
  std::vector<double> ms;
  for (int i = 0; i < 10; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)matmul(a, b);
    cuda::synchronize();
    ms.push_back(ms_since(t0));
  }
  std::sort(ms.begin(), ms.end());
  return 2.0 * double(n) * double(n) * double(n) / (ms[ms.size() / 2] * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sinew;
  if (!cuda::is_available()) {
    std::printf("error no usable CUDA device\n");
    return 1;
  }
  const std::string mode = argc > 1 ? argv[1] : "first-op";
  if (mode == "first-op") {
    const Tensor<float> x = ones<float>({1024});
    auto t0 = std::chrono::steady_clock::now();
    const float first = (x.to(Device::cuda(0)) + 1).sum().item();
    std::printf("first_op_ms %.2f\n", ms_since(t0));
    t0 = std::chrono::steady_clock::now();
    const float again = (x.to(Device::cuda(0)) + 1).sum().item();
    std::printf("same_op_again_ms %.3f\n", ms_since(t0));
    return first == 2048 && again == 2048 ? 0 : 1;
  }
  if (mode == "gemm") {
    const int64_t n = argc > 2 ? std::atoll(argv[2]) : 4096;
    std::printf("gemm_n %lld\n", static_cast<long long>(n));
    cuda::set_allow_tf32(false);
    std::printf("gemm_fp32_gflops %.0f\n", gemm_gflops<float>(n));
    cuda::set_allow_tf32(true);
    std::printf("gemm_tf32_gflops %.0f\n", gemm_gflops<float>(n));
    cuda::set_allow_tf32(false);
    std::printf("gemm_fp64_gflops %.0f\n", gemm_gflops<double>(n));
    return 0;
  }
  std::printf("error unknown mode %s (first-op | gemm N)\n", mode.c_str());
  return 2;
}
