// Compile-time reference: trainer.cpp written with LibTorch (the same network, loss, optimizers,
// random data and steps).
#include <cstdio>

#include <torch/torch.h>

namespace nn = torch::nn;

namespace {

// [N, 1, 28, 28] -> conv 3x3 (32) -> BN -> ReLU -> pool 2 -> conv 3x3 (64) -> BN -> ReLU -> pool 2
// -> flatten -> Linear 3136 -> 128 -> BN -> ReLU -> Dropout -> Linear 128 -> 10 (logits).
struct NetImpl : nn::Module {
  nn::Conv2d c1{nullptr}, c2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  nn::MaxPool2d pool{nullptr};
  nn::ReLU relu{nullptr};
  nn::Flatten flatten{nullptr};
  nn::Linear fc1{nullptr}, fc2{nullptr};
  nn::BatchNorm1d bn3{nullptr};
  nn::Dropout drop{nullptr};

  NetImpl() {
    c1 = register_module("c1", nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)));
    bn1 = register_module("bn1", nn::BatchNorm2d(32));
    c2 = register_module("c2", nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)));
    bn2 = register_module("bn2", nn::BatchNorm2d(64));
    pool = register_module("pool", nn::MaxPool2d(2));
    relu = register_module("relu", nn::ReLU());
    flatten = register_module("flatten", nn::Flatten());
    fc1 = register_module("fc1", nn::Linear(64 * 7 * 7, 128));
    bn3 = register_module("bn3", nn::BatchNorm1d(128));
    drop = register_module("drop", nn::Dropout(0.5));
    fc2 = register_module("fc2", nn::Linear(128, 10));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = pool(relu(bn1(c1(x))));
    h = pool(relu(bn2(c2(h))));
    h = drop(relu(bn3(fc1(flatten(h)))));
    return fc2(h);
  }
};
TORCH_MODULE(Net);

template <class Optimizer>
void train(Net& net, Optimizer& opt, nn::CrossEntropyLoss& loss_fn, const char* name, int steps) {
  net->train();
  for (int step = 0; step < steps; ++step) {
    torch::Tensor x = torch::randn({16, 1, 28, 28});
    torch::Tensor y = torch::randint(0, 10, {16}, torch::kLong);
    opt.zero_grad();
    torch::Tensor loss = loss_fn(net(x), y);
    loss.backward();
    opt.step();
    std::printf("%s step %d: loss %.4f\n", name, step, loss.item<double>());
  }
}

}  // namespace

int main() {
  torch::manual_seed(0);
  Net net;
  nn::CrossEntropyLoss loss_fn;
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  train(net, sgd, loss_fn, "sgd", 3);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  train(net, adam, loss_fn, "adam", 3);

  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor logits = net(torch::randn({4, 1, 28, 28}));
  std::printf("eval logits: [%lld, %lld]\n", static_cast<long long>(logits.size(0)),
              static_cast<long long>(logits.size(1)));
  return 0;
}
