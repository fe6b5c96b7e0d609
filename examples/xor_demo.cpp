// XOR with a 2-2-1 network on raw tensors: sigmoid layers, mean squared error, hand-written SGD.
// Exits non-zero when the network fails to learn the truth table.
//
//   xor_demo [--epochs N] [--lr X] [--seed N] [--device cpu|cuda|cuda:N]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sinew/tensor.hpp>  // tensors and autograd only: no layers, optimizers or files

#include "example_main.hpp"

using sinew::Tensor;

namespace {

// A 2-2-1 sigmoid network has local minima that some initializations fall into; the default seed
// is one from which plain SGD reaches the XOR solution.
struct Options {
  int epochs = 4000;
  double lr = 2.0;
  uint64_t seed = 7;
  std::string device = "cpu";
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--epochs") && has_value) {
      o.epochs = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--lr") && has_value) {
      o.lr = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && has_value) {
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--device") && has_value) {
      o.device = argv[++i];
    } else {
      std::printf("usage: %s [--epochs N] [--lr X] [--seed N] [--device cpu|cuda|cuda:N]\n",
                  argv[0]);
      std::exit(std::strcmp(argv[i], "--help") ? 2 : 0);
    }
  }
  return o;
}

// y = x W + b for x [n, in], W [in, out], b [out] (b broadcasts over the rows).
Tensor<float> dense(const Tensor<float>& x, const Tensor<float>& w, const Tensor<float>& b) {
  return sinew::matmul(x, w) + b;
}

int run(const Options& opt) {
  // A bad --device string, or a CUDA device that cannot be used, raises sinew::Error here.
  const sinew::Device device = sinew::Device::parse(opt.device);
  const Tensor<float> x = sinew::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}).to(device);
  const Tensor<float> y = sinew::from_vector<float>({0, 1, 1, 0}, {4, 1}).to(device);

  sinew::Generator gen(opt.seed);
  Tensor<float> w1 = sinew::randn<float>({2, 2}, gen, device);
  Tensor<float> b1 = sinew::zeros<float>({2}, device);
  Tensor<float> w2 = sinew::randn<float>({2, 1}, gen, device);
  Tensor<float> b2 = sinew::zeros<float>({1}, device);
  std::vector<Tensor<float>> params{w1, b1, w2, b2};
  for (auto& p : params) p.requires_grad_();

  auto forward = [&](const Tensor<float>& input) {
    Tensor<float> hidden = sinew::sigmoid(dense(input, w1, b1));
    return sinew::sigmoid(dense(hidden, w2, b2));
  };

  double loss_value = 0;
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    Tensor<float> err = forward(x) - y;
    Tensor<float> loss = (err * err).mean();
    loss.backward();
    {
      sinew::NoGradGuard no_grad;
      for (auto& p : params) {
        p.sub_(p.grad() * opt.lr);
        p.grad().zero_();
      }
    }
    loss_value = loss.item();
    if (epoch == 1 || epoch % 500 == 0) std::printf("epoch %5d  loss %.6f\n", epoch, loss_value);
  }

  sinew::NoGradGuard no_grad;
  std::vector<float> out = forward(x).to_vector();
  std::vector<float> in = x.to_vector(), target = y.to_vector();
  int correct = 0;
  std::printf("\n a b | xor | output\n-----+-----+-------\n");
  for (int i = 0; i < 4; ++i) {
    bool right = (out[i] > 0.5f) == (target[i] > 0.5f);
    correct += right;
    std::printf(" %.0f %.0f |  %.0f  | %.4f %s\n", in[2 * i], in[2 * i + 1], target[i], out[i],
                right ? "" : "(wrong)");
  }
  bool learned = correct == 4 && loss_value < 0.05;
  std::printf("\n%d/4 correct, final loss %.6f: %s\n", correct, loss_value,
              learned ? "learned XOR" : "did NOT learn XOR");
  return learned ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  return sinew::examples::run_main("xor_demo", [&] { return run(opt); });
}
