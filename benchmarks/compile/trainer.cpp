// Compile-time benchmark: a W1-W4-style training program (a small CNN for 28x28 images with
// Conv2d, BatchNorm2d, MaxPool2d, Linear, BatchNorm1d, Dropout, ReLU, Flatten; CrossEntropyLoss;
// SGD with momentum, then Adam) on random data. What a typical user program instantiates; it runs
// in well under a second and prints the loss of each step. libtorch_trainer.cpp is the same
// program written with LibTorch.
#include <cstdio>
#include <memory>

#include <sinew/sinew.hpp>

namespace nn = sinew::nn;
namespace optim = sinew::optim;
using sinew::Tensor;

namespace {

// [N, 1, 28, 28] -> conv 3x3 (32) -> BN -> ReLU -> pool 2 -> conv 3x3 (64) -> BN -> ReLU -> pool 2
// -> flatten -> Linear 3136 -> 128 -> BN -> ReLU -> Dropout -> Linear 128 -> 10 (logits).
struct Net : nn::Module {
  std::shared_ptr<nn::Conv2d> c1, c2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::MaxPool2d> pool;
  std::shared_ptr<nn::ReLU> relu;
  std::shared_ptr<nn::Flatten> flatten;
  std::shared_ptr<nn::Linear> fc1, fc2;
  std::shared_ptr<nn::BatchNorm1d> bn3;
  std::shared_ptr<nn::Dropout> drop;

  Net() : nn::Module("Net") {
    c1 = register_module("c1", nn::Conv2d(1, 32, 3, {.padding = 1}));
    bn1 = register_module("bn1", nn::BatchNorm2d(32));
    c2 = register_module("c2", nn::Conv2d(32, 64, 3, {.padding = 1}));
    bn2 = register_module("bn2", nn::BatchNorm2d(64));
    pool = register_module("pool", nn::MaxPool2d(2));
    relu = register_module("relu", nn::ReLU());
    flatten = register_module("flatten", nn::Flatten());
    fc1 = register_module("fc1", nn::Linear(64 * 7 * 7, 128));
    bn3 = register_module("bn3", nn::BatchNorm1d(128));
    drop = register_module("drop", nn::Dropout(0.5));
    fc2 = register_module("fc2", nn::Linear(128, 10));
  }

  Tensor<float> forward(const Tensor<float>& x) override {
    Tensor<float> h = (*pool)((*relu)((*bn1)((*c1)(x))));
    h = (*pool)((*relu)((*bn2)((*c2)(h))));
    h = (*drop)((*relu)((*bn3)((*fc1)((*flatten)(h)))));
    return (*fc2)(h);
  }
};

template <class Optimizer>
void train(Net& net, Optimizer& opt, nn::CrossEntropyLoss& loss_fn, const char* name, int steps) {
  net.train();
  for (int step = 0; step < steps; ++step) {
    Tensor<float> x = sinew::randn<float>({16, 1, 28, 28});
    Tensor<int64_t> y = sinew::randint<int64_t>(0, 10, {16});
    opt.zero_grad();
    Tensor<float> loss = loss_fn(net(x), y);
    loss.backward();
    opt.step();
    std::printf("%s step %d: loss %.4f\n", name, step, static_cast<double>(loss.item()));
  }
}

}  // namespace

int main() {
  sinew::manual_seed(0);
  Net net;
  nn::CrossEntropyLoss loss_fn;
  optim::SGD sgd(net.parameters(), {.lr = 0.01, .momentum = 0.9});
  train(net, sgd, loss_fn, "sgd", 3);
  optim::Adam adam(net.parameters(), {.lr = 1e-3});
  train(net, adam, loss_fn, "adam", 3);

  net.eval();
  sinew::NoGradGuard no_grad;
  Tensor<float> logits = net(sinew::randn<float>({4, 1, 28, 28}));
  std::printf("eval logits: [%lld, %lld]\n", static_cast<long long>(logits.size(0)),
              static_cast<long long>(logits.size(1)));
  return 0;
}
