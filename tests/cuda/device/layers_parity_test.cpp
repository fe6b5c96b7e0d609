// CPU-vs-CUDA parity of the layers (device_parity.hpp): convolutions (strides, padding, dilation,
// groups, 1x1, transposed, 1-d), max, average and adaptive pooling, batch norm (training and
// eval, running statistics), layer norm and group norm, the LSTM, GRU and RNN layers, each
// forward and backward; then five training steps of small versions of DESIGN.md's workloads
// W1-W4, whose parameters must agree after the steps.
#include <sinew/train/checkpoint.hpp>
#include <sinew/train/fit.hpp>

#include "device_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace device_parity;
using namespace nn::functional;
using nn::IntPair;
namespace F = nn::functional;

// GEMMs and the normalization sums add in another order on the device.
const Tolerance kLayerTol{2e-5, 1e-4};

TEST(CudaLayers, Conv2dMatchesTheCpu) {
  SINEW_NEEDS_CUDA();
  const Fs xwb{input({2, 4, 7, 6}, 1), input({6, 2, 3, 3}, 2), input({6}, 3)};
  // Stride, padding, dilation and two groups; with and without the bias.
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) {
        return conv2d(v[0], v[1], v[2],
                      {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}, .groups = 2});
      },
      xwb, kLayerTol));
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) { return conv2d(v[0], v[1], TF(), {.padding = 1, .groups = 2}); }, xwb,
      kLayerTol));
  // A 1x1 convolution uses the image as its columns.
  const Fs pointwise{input({2, 3, 4, 5}, 4), input({5, 3, 1, 1}, 5), input({5}, 6)};
  EXPECT_TRUE(
      same_on_cuda([](const Fs& v) { return conv2d(v[0], v[1], v[2]); }, pointwise, kLayerTol));
  // Padding modes pad first, then convolve.
  const Fs one{input({1, 2, 5, 5}, 7), input({3, 2, 3, 3}, 8), input({3}, 9)};
  for (const char* mode : {"reflect", "replicate", "circular"}) {
    EXPECT_TRUE(same_on_cuda(
        [mode](const Fs& v) {
          return F::conv2d(pad(v[0], {1, 1, 1, 1}, mode), v[1], v[2]);
        },
        one, kLayerTol))
        << mode;
  }
}

TEST(CudaLayers, ConvTranspose2dAndConv1dMatchTheCpu) {
  SINEW_NEEDS_CUDA();
  const Fs xwb{input({2, 4, 3, 4}, 11), input({4, 3, 4, 4}, 12), input({3}, 13)};
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) {
        return conv_transpose2d(v[0], v[1], v[2], {.stride = 2, .padding = 1, .output_padding = 1});
      },
      xwb, kLayerTol));
  const Fs grouped{input({1, 4, 3, 3}, 14), input({4, 1, 3, 3}, 15)};
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) {
        return conv_transpose2d(v[0], v[1], TF(), {.stride = 2, .groups = 2, .dilation = 2});
      },
      grouped, kLayerTol));
  const Fs line{input({3, 2, 9}, 16), input({4, 2, 3}, 17), input({4}, 18)};
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) { return conv1d(v[0], v[1], v[2], {.stride = 2, .padding = 1}); }, line,
      kLayerTol));
}

TEST(CudaLayers, PoolingMatchesTheCpu) {
  SINEW_NEEDS_CUDA();
  const Fs x{input({2, 3, 7, 6}, 21)};
  // Max pooling: the indices must be the same too (the gradient goes where they point).
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return max_pool2d(v[0], 2); }, x));
  EXPECT_TRUE(
      same_on_cuda([](const Fs& v) { return max_pool2d(v[0], 3, IntPair(2), 1, 1, true); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return max_pool2d(v[0], 2, IntPair(1), 0, 2); }, x));
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) { return max_pool2d_with_indices(v[0], 3, IntPair(2), 1).indices; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return max_pool1d(v[0].flatten(2), 3); }, x));
  // Average pooling with and without the padding in the divisor, ceil mode, a divisor override.
  const Tolerance sums = reordered<float>();
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return avg_pool2d(v[0], 3, IntPair(2), 1); }, x));
  EXPECT_TRUE(
      same_on_cuda([](const Fs& v) { return avg_pool2d(v[0], 3, IntPair(2), 1, true, false); }, x));
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) { return avg_pool2d(v[0], 2, std::nullopt, 0, false, true, 3); }, x));
  EXPECT_TRUE(
      same_on_cuda([](const Fs& v) { return avg_pool1d(v[0].flatten(2), 4, 3, 2); }, x, sums));
  // Adaptive pooling down and up (overlapping bins).
  for (IntPair out : {IntPair(1), IntPair(3, 4), IntPair(5, 9)}) {
    EXPECT_TRUE(
        same_on_cuda([out](const Fs& v) { return adaptive_avg_pool2d(v[0], out); }, x, sums))
        << out.h << "x" << out.w;
    EXPECT_TRUE(same_on_cuda([out](const Fs& v) { return adaptive_max_pool2d(v[0], out); }, x))
        << out.h << "x" << out.w;
  }
}

TEST(CudaLayers, NormalizationMatchesTheCpu) {
  SINEW_NEEDS_CUDA();
  const Fs x{input({4, 3, 5, 2}, 31, -2, 3), input({3}, 32), input({3}, 33)};
  // Training: the batch statistics, and the running statistics updated the same way.
  TF mean_cpu = zeros<float>({3}), var_cpu = ones<float>({3});
  TF mean_cuda = mean_cpu.to(kCuda), var_cuda = var_cpu.to(kCuda);
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) {
        const bool on_cpu = v[0].is_cpu();
        return batch_norm(v[0], on_cpu ? mean_cpu : mean_cuda, on_cpu ? var_cpu : var_cuda, v[1],
                          v[2], true, 0.1, 1e-5);
      },
      x, kLayerTol));
  EXPECT_TRUE(same_values<float>(mean_cpu, mean_cuda, kLayerTol, "running mean"));
  EXPECT_TRUE(same_values<float>(var_cpu, var_cuda, kLayerTol, "running var"));
  // Eval: the running statistics normalize; without an affine weight.
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) {
        const bool on_cpu = v[0].is_cpu();
        return batch_norm(v[0], on_cpu ? mean_cpu : mean_cuda, on_cpu ? var_cpu : var_cuda, TF(),
                          TF(), false);
      },
      x, kLayerTol));
  // BatchNorm1d's [N, C] input.
  const Fs flat{input({6, 3}, 34), input({3}, 35), input({3}, 36)};
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) { return batch_norm(v[0], TF(), TF(), v[1], v[2], true); }, flat, kLayerTol));
  // Layer norm over the last two dims and group norm.
  const Fs ln{input({3, 4, 5}, 37), input({4, 5}, 38), input({4, 5}, 39)};
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) {
        return layer_norm(v[0], {4, 5}, v[1], v[2]);
      },
      ln, kLayerTol));
  const Fs gn{input({2, 6, 3, 3}, 40), input({6}, 41), input({6}, 42)};
  EXPECT_TRUE(
      same_on_cuda([](const Fs& v) { return group_norm(v[0], 3, v[1], v[2]); }, gn, kLayerTol));
}

// A recurrent layer's output and the gradients of its parameters and input, on both devices: make()
// builds the layer, twice from the same seed (the same initial parameters).
template <class Make>
void expect_same_recurrent(Make make, const char* what) {
  manual_seed(3);
  auto cpu_layer = make();
  manual_seed(3);
  auto cuda_layer = make();
  cuda_layer.to(kCuda);
  const TF x = input({3, 4, 5}, 51);
  TF x_cpu = x.detach().clone().requires_grad_(), x_cuda = x.detach().to(kCuda).requires_grad_();
  const TF y_cpu = std::get<0>(cpu_layer.forward(x_cpu));
  const TF y_cuda = std::get<0>(cuda_layer.forward(x_cuda));
  EXPECT_TRUE(same_values<float>(y_cpu.detach(), y_cuda.detach(), kLayerTol, what));
  Generator g(5);
  const TF w = rand<float>(y_cpu.shape(), g);
  (y_cpu * w).sum().backward();
  (y_cuda * w.to(kCuda)).sum().backward();
  EXPECT_TRUE(same_values<float>(x_cpu.grad(), x_cuda.grad(), kLayerTol, "input gradient")) << what;
  const auto pc = cpu_layer.parameters(), pd = cuda_layer.parameters();
  ASSERT_EQ(pc.size(), pd.size());
  for (size_t i = 0; i < pc.size(); ++i)
    EXPECT_TRUE(same_values<float>(pc[i].grad(), pd[i].grad(), kLayerTol,
                                   "gradient of parameter " + std::to_string(i)))
        << what;
}

TEST(CudaLayers, RecurrentLayersMatchTheCpu) {
  SINEW_NEEDS_CUDA();
  expect_same_recurrent([] { return nn::LSTM(5, 6, {.num_layers = 2, .batch_first = true}); },
                        "LSTM");
  expect_same_recurrent([] { return nn::GRU(5, 4, {.bidirectional = true}); }, "GRU");
  expect_same_recurrent([] { return nn::RNN(5, 3, {.nonlinearity = "relu"}); }, "RNN relu");
  expect_same_recurrent([] { return nn::RNN(5, 3, {.bias = false}); }, "RNN tanh");
}

// ---- five training steps of W1-W4 (small) ----------------------------------------------------

// W3's recurrent part on 8x8 images: 8 steps of 8 features, the last step's output.
struct RowLstm : nn::Module {
  nn::LSTM lstm{8, 6, {.batch_first = true}};
  RowLstm() : nn::Module("RowLstm") { register_module("lstm", lstm); }
  TF forward(const TF& x) override {
    auto [out, state] = lstm(x.reshape({x.size(0), 8, 8}));
    return out.select(1, -1);
  }
};

nn::Sequential small_workload(const std::string& name) {
  if (name == "mlp")  // W1
    return nn::Sequential(nn::Flatten(), nn::Linear(64, 16), nn::ReLU(), nn::Dropout(0.2),
                          nn::Linear(16, 10));
  if (name == "cnn")  // W2
    return nn::Sequential(nn::Conv2d(1, 4, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(4, 6, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), nn::Linear(24, 12), nn::ReLU(), nn::Dropout(0.25),
                          nn::Linear(12, 10));
  if (name == "lstm")  // W3
    return nn::Sequential(RowLstm(), nn::Linear(6, 10));
  // W4: W2 with batch norm, conv bias off.
  return nn::Sequential(nn::Conv2d(1, 4, 3, {.padding = 1, .bias = false}), nn::BatchNorm2d(4),
                        nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(4, 6, 3, {.padding = 1, .bias = false}), nn::BatchNorm2d(6),
                        nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(24, 12),
                        nn::BatchNorm1d(12), nn::ReLU(), nn::Dropout(0.25), nn::Linear(12, 10));
}

// Five steps of the workload on each device from the same initial parameters, with the same
// batches and the same seed before each step (so the same dropout masks); the parameters and
// buffers after them must agree.
template <class Opt>
void expect_same_training(const std::string& name, Opt make_opt, const char* what) {
  manual_seed(9);
  nn::Sequential cpu_net = small_workload(name);
  manual_seed(9);
  nn::Sequential cuda_net = small_workload(name);
  cuda_net.to(kCuda);
  auto opt_cpu = make_opt(cpu_net.parameters());
  auto opt_cuda = make_opt(cuda_net.parameters());
  for (int step = 0; step < 5; ++step) {
    const TF x = input({6, 1, 8, 8}, 60 + step).detach();
    Generator labels(70 + step);
    const TI y = randint(0, 10, {6}, labels);
    auto run = [&](nn::Sequential& net, auto& opt, const TF& in, const TI& target) {
      opt.zero_grad();
      F::cross_entropy(net.forward(in), target).backward();
      opt.step();
    };
    manual_seed(100 + step);
    run(cpu_net, opt_cpu, x, y);
    manual_seed(100 + step);
    run(cuda_net, opt_cuda, x.to(kCuda), y.to(kCuda));
  }
  const Tolerance tol{1e-4, 1e-3};
  for (const auto& [a, b] : {std::pair{cpu_net.named_parameters(), cuda_net.named_parameters()},
                             std::pair{cpu_net.named_buffers(), cuda_net.named_buffers()}}) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (size_t i = 0; i < a.size(); ++i) {
      const auto& [key, value] = a.item(i);
      EXPECT_TRUE(same_values<float>(value.detach(), b.item(i).second.detach(), tol, key)) << what;
    }
  }
}

TEST(CudaTraining, FiveStepsOfTheWorkloadsMatchTheCpu) {
  SINEW_NEEDS_CUDA();
  using P = std::vector<TF>;
  expect_same_training(
      "mlp", [](P p) { return optim::Adam(p, {.lr = 1e-3}); }, "W1");
  expect_same_training(
      "cnn", [](P p) { return optim::SGD(p, {.lr = 0.01, .momentum = 0.9}); }, "W2");
  expect_same_training(
      "lstm", [](P p) { return optim::Adam(p, {.lr = 1e-3}); }, "W3");
  // W4 with SGD: the bias of the Linear before BatchNorm1d has a gradient that is zero in exact
  // arithmetic, and Adam would turn its rounding noise (different on each device) into steps of
  // +-lr.
  expect_same_training(
      "bncnn", [](P p) { return optim::SGD(p, {.lr = 0.01, .momentum = 0.9}); }, "W4");
}

// train::fit and train::evaluate on a model on the device, fed host batches by a DataLoader (each
// batch moves to the model's device), against the same run on the CPU: the History and the
// parameters agree.
TEST(CudaTraining, FitMovesHostBatchesToTheModelsDevice) {
  SINEW_NEEDS_CUDA();
  Generator labels(4);
  data::TensorDataset set(input({24, 6}, 3).detach(), randint(0, 3, {24}, labels));
  auto train_run = [&](Device device) {
    manual_seed(5);
    nn::Sequential net(nn::Linear(6, 8), nn::ReLU(), nn::Linear(8, 3));
    net.to(device);
    EXPECT_EQ(nn::module_device(net), device);
    optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9});
    data::DataLoader loader(set, {.batch_size = 8, .shuffle = true, .seed = 3});
    data::DataLoader val(set, {.batch_size = 12});
    train::History h = train::fit(net, loader,
                                  {.optimizer = &opt,
                                   .epochs = 2,
                                   .val_loader = val,
                                   .metrics = {train::Metric::accuracy()},
                                   .verbose = false});
    const double eval_loss = train::evaluate(net, val)[0].second;
    return std::tuple{std::move(net), std::move(h), eval_loss};
  };
  auto [cpu_net, cpu_h, cpu_eval] = train_run(Device::cpu());
  auto [cuda_net, cuda_h, cuda_eval] = train_run(kCuda);
  for (const char* column : {"loss", "acc", "val_loss", "val_acc"}) {
    const std::vector<double> a = cpu_h.column(column), b = cuda_h.column(column);
    ASSERT_EQ(a.size(), 2u) << column;
    ASSERT_EQ(b.size(), 2u) << column;
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << column << " " << i;
  }
  EXPECT_NEAR(cpu_eval, cuda_eval, 1e-5);
  const auto a = cpu_net.named_parameters(), b = cuda_net.named_parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b.item(i).second.device(), kCuda);
    EXPECT_TRUE(same_values<float>(a.item(i).second.detach(), b.item(i).second.detach(),
                                   {1e-5, 1e-4}, a.item(i).first));
  }
  // nn::summary runs its forward on the model's device.
  EXPECT_NE(nn::summary(cuda_net, {1, 6}).str().find("[1, 3]"), std::string::npos);
}

// clip_grad_norm_ with the gradients on the device: one total over all of them, the same as the
// CPU's, for the 2-, 1- and inf-norms, and the gradients scaled alike.
TEST(CudaTraining, ClipGradNormOnTheDevice) {
  SINEW_NEEDS_CUDA();
  for (double p : {2.0, 1.0, double(INFINITY)}) {
    std::vector<TF> cpu_params, cuda_params;
    for (int i = 0; i < 3; ++i) {
      TF w = input({4 + i, 3}, 20 + i);
      TF g = input({4 + i, 3}, 30 + i).detach() * 3.0f;
      w.set_grad(g);
      TF wc = w.detach().to(kCuda).requires_grad_();
      wc.set_grad(g.to(kCuda));
      cpu_params.push_back(w);
      cuda_params.push_back(wc);
    }
    const double cpu_total = nn::utils::clip_grad_norm_(cpu_params, 0.5, p);
    const double cuda_total = nn::utils::clip_grad_norm_(cuda_params, 0.5, p);
    EXPECT_NEAR(cpu_total, cuda_total, 1e-5 * cpu_total) << "p = " << p;
    for (size_t i = 0; i < cpu_params.size(); ++i) {
      EXPECT_TRUE(same_values<float>(cpu_params[i].grad(), cuda_params[i].grad(), {1e-6, 1e-5},
                                     "clipped gradient"))
          << "p = " << p;
    }
  }
}

// A checkpoint of a model and optimizer on the device, loaded into a fresh pair on the device:
// parameters and the optimizer's state come back on the device, equal.
class CudaCheckpoint : public testing::TempDirTest {};

TEST_F(CudaCheckpoint, SavesAndLoadsAModelAndOptimizerOnTheDevice) {
  SINEW_NEEDS_CUDA();
  auto make = [] {
    nn::Sequential net(nn::Linear(5, 4), nn::BatchNorm1d(4), nn::Linear(4, 2));
    net.to(kCuda);
    return net;
  };
  manual_seed(1);
  nn::Sequential net = make();
  optim::Adam opt(net.parameters(), {.lr = 1e-2});
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    net.forward(input({6, 5}, 40 + step).detach().to(kCuda)).pow(2).mean().backward();
    opt.step();
  }
  train::save_checkpoint(path("ckpt.safetensors"), net, opt, {.epoch = 2});
  manual_seed(2);
  nn::Sequential other = make();
  optim::Adam other_opt(other.parameters(), {.lr = 1e-2});
  const train::CheckpointInfo info =
      train::load_checkpoint(path("ckpt.safetensors"), other, other_opt);
  EXPECT_EQ(info.epoch, 2);
  const auto a = net.state_dict(), b = other.state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b.item(i).second.device(), kCuda) << a.item(i).first;
    EXPECT_TRUE(a.item(i).second.detach().cpu().equal(b.item(i).second.detach().cpu()))
        << a.item(i).first;
  }
  // One more step from each: the restored Adam moments give the same update.
  const TF x = input({6, 5}, 50).detach().to(kCuda);
  for (auto [n, o] : {std::pair{&net, &opt}, std::pair{&other, &other_opt}}) {
    o->zero_grad();
    n->forward(x).pow(2).mean().backward();
    o->step();
  }
  const auto a2 = net.state_dict(), b2 = other.state_dict();
  for (size_t i = 0; i < a2.size(); ++i)
    EXPECT_TRUE(a2.item(i).second.detach().cpu().equal(b2.item(i).second.detach().cpu()))
        << a2.item(i).first;
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
