// Matrix products (cuBLAS on a GPU, the reference of its calls on the emulated device), a Linear
// layer moved with Module::to, losses, the fused optimizer steps, dropout and seeded random
// numbers on cuda:0 against the CPU.
#include <functional>
#include <string>
#include <vector>

#include "device_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace device_parity;

TEST(CudaLinalg, MatrixProductsForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const auto tol = reordered<float>();
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return matmul(v[0], v[1]); },
                           Fs{input({5, 7}, 1), input({7, 3}, 2)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return matmul(v[0].t(), v[1].t()); },
                           Fs{input({7, 5}, 1), input({3, 7}, 2)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return bmm(v[0], v[1]); },
                           Fs{input({4, 3, 6}, 3), input({4, 6, 2}, 4)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return matmul(v[0], v[1]); },  // broadcast batch
                           Fs{input({2, 1, 3, 6}, 5), input({4, 6, 2}, 6)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return matmul(v[0], v[1]); },  // matrix-vector
                           Fs{input({5, 6}, 7), input({6}, 8)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return dot(v[0], v[1]); },
                           Fs{input({9}, 9), input({9}, 10)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return outer(v[0], v[1]); },
                           Fs{input({4}, 11), input({3}, 12)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return addmm(v[0], v[1], v[2], 0.5, 2.0); },
                           Fs{input({4, 3}, 13), input({4, 5}, 14), input({5, 3}, 15)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return linear(v[0], v[1], v[2]); },
                           Fs{input({6, 5}, 16), input({4, 5}, 17), input({4}, 18)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Ds& v) { return matmul(v[0], v[1]); },
                           Ds{testing::rand_input({33, 17}, 19), testing::rand_input({17, 9}, 20)},
                           reordered<double>()));
  // An inner dimension of zero gives zeros (C scaled by beta = 0).
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return matmul(v[0], v[1]); },
                           Fs{input({3, 0}, 21), input({0, 2}, 22)}));
}

TEST(CudaLinalg, LinearModuleMovedToTheDevice) {
  SINEW_NEEDS_CUDA();
  manual_seed(5);
  nn::Linear cpu_layer(6, 4);
  nn::Linear cuda_layer(6, 4);
  cuda_layer.load_state_dict(cpu_layer.state_dict());
  cuda_layer.to(kCuda);
  for (const auto& [name, p] : cuda_layer.named_parameters()) EXPECT_EQ(p.device(), kCuda) << name;
  const TF x = input({3, 6}, 1).detach();
  const TF y_cpu = cpu_layer(x), y_cuda = cuda_layer(x.to(kCuda));
  EXPECT_TRUE(same_values<float>(y_cpu, y_cuda, reordered<float>(), "Linear forward"));
  y_cpu.sum().backward();
  y_cuda.sum().backward();
  EXPECT_TRUE(same_values<float>(cpu_layer.weight.grad(), cuda_layer.weight.grad(),
                                 reordered<float>(), "weight gradient"));
  EXPECT_TRUE(same_values<float>(cpu_layer.bias.grad(), cuda_layer.bias.grad(), reordered<float>(),
                                 "bias gradient"));
  cuda_layer.to(Device::cpu());
  EXPECT_TRUE(cuda_layer.weight.is_cpu());
  EXPECT_TRUE(cuda_layer.weight.grad().is_cpu());
}

TEST(CudaLinalg, LossesForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  namespace F = nn::functional;
  const auto tol = reordered<float>();
  const Fs two{input({6, 5}, 1), input({6, 5}, 2, 0, 1)};
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return F::mse_loss(v[0], v[1]); }, two, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return F::huber_loss(v[0], v[1]); }, two, tol));
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) { return F::binary_cross_entropy_with_logits(v[0], v[1]); }, two, tol));
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) { return F::binary_cross_entropy(v[0].sigmoid(), v[1]); }, two, tol));
  const Tensor<int64_t> target = from_vector<int64_t>({0, 4, 2, 2, 1, 3}, {6});
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return F::cross_entropy(v[0], target.to(v[0].device())); }, two, tol));
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return F::nll_loss(v[0].log_softmax(1), target.to(v[0].device())); }, two,
      tol));
  // A target out of range is an error on the device too.
  const Tensor<int64_t> bad = from_vector<int64_t>({0, 5, 2, 2, 1, 3}, {6}).to(kCuda);
  SINEW_EXPECT_ERROR((void)F::cross_entropy(two[0].detach().to(kCuda), bad).item(), "5");
}

// Five steps of opt on the same parameters and gradients on both devices.
template <class Make>
::testing::AssertionResult same_steps(Make make, device_parity::Tolerance tol) {
  const TF w0 = input({7, 5}, 1).detach(), b0 = input({5}, 2).detach();
  std::vector<TF> params_cpu{w0.clone().requires_grad_(), b0.clone().requires_grad_()};
  std::vector<TF> params_cuda{w0.to(kCuda).requires_grad_(), b0.to(kCuda).requires_grad_()};
  auto opt_cpu = make(params_cpu);
  auto opt_cuda = make(params_cuda);
  for (int step = 0; step < 5; ++step) {
    const TF x = input({4, 7}, 10 + step).detach();
    auto run = [&](auto& opt, std::vector<TF>& p, const TF& in) {
      opt.zero_grad();
      ((matmul(in, p[0]) + p[1]).tanh().pow(2)).sum().backward();
      opt.step();
    };
    run(opt_cpu, params_cpu, x);
    run(opt_cuda, params_cuda, x.to(kCuda));
  }
  for (size_t i = 0; i < params_cpu.size(); ++i)
    if (auto r = same_values<float>(params_cpu[i].detach(), params_cuda[i].detach(), tol,
                                    "parameter " + std::to_string(i));
        !r)
      return r;
  return ::testing::AssertionSuccess();
}

TEST(CudaOptim, FusedStepsMatchTheCpu) {
  SINEW_NEEDS_CUDA();
  // Gradients come from GEMMs (another summation order on a GPU); the steps themselves are the
  // same arithmetic on both devices.
  const device_parity::Tolerance tol{1e-5, 1e-4};
  using P = std::vector<TF>;
  EXPECT_TRUE(same_steps([](P& p) { return optim::SGD(p, {.lr = 0.1}); }, tol));
  EXPECT_TRUE(same_steps(
      [](P& p) { return optim::SGD(p, {.lr = 0.1, .momentum = 0.9, .nesterov = true}); }, tol));
  EXPECT_TRUE(same_steps(
      [](P& p) { return optim::SGD(p, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01}); }, tol));
  EXPECT_TRUE(same_steps([](P& p) { return optim::Adam(p, {.lr = 0.01}); }, tol));
  EXPECT_TRUE(same_steps([](P& p) { return optim::Adam(p, {.lr = 0.01, .amsgrad = true}); }, tol));
  EXPECT_TRUE(same_steps([](P& p) { return optim::AdamW(p, {.lr = 0.01}); }, tol));
  EXPECT_TRUE(same_steps([](P& p) { return optim::RMSprop(p, {.lr = 0.01}); }, tol));
  EXPECT_TRUE(same_steps([](P& p) { return optim::Adagrad(p, {.lr = 0.1}); }, tol));
}

TEST(CudaRandom, SeededNumbersAndDropoutMasksAreTheSameBits) {
  SINEW_NEEDS_CUDA();
  Generator a(77), b(77);
  EXPECT_TRUE(
      same_values<float>(rand<float>({5, 9}, a), rand<float>({5, 9}, b, kCuda), kExact, "rand"));
  EXPECT_TRUE(
      same_values<float>(randn<float>({33}, a), randn<float>({33}, b, kCuda), kExact, "randn"));
  EXPECT_TRUE(same_values<int64_t>(randint<int64_t>(0, 10, {17}, a),
                                   randint<int64_t>(0, 10, {17}, b, kCuda), kExact, "randint"));
  Generator ga(3), gb(3);
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) {
        return nn::functional::dropout(v[0], 0.4, true, v[0].is_cpu() ? ga : gb);
      },
      Fs{input({6, 11}, 1)}));
  manual_seed(9);
  TF u_cpu = empty<float>({40});
  u_cpu.uniform_(-2, 3);
  manual_seed(9);
  TF u_cuda = empty<float>({40}, kCuda);
  u_cuda.uniform_(-2, 3);
  EXPECT_TRUE(same_values<float>(u_cpu, u_cuda, kExact, "uniform_"));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
