// XOR, AND and OR learned by a 2-2-1 sigmoid network (nn::Linear + nn::Sigmoid), mean squared
// error and optim::SGD with momentum; prints each learned truth table. Exits 0 only when all three
// tables are right.
//
//   logic_gates [--epochs N] [--lr X] [--momentum X] [--seed N] [--device cpu|cuda|cuda:N]
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>

#include "example_main.hpp"

using namespace sinew;

namespace {

struct Gate {
  std::string name;
  std::vector<float> outputs;  // for inputs 00, 01, 10, 11
};

// Trains a fresh network on one gate and prints its table; true when every row is right.
bool learn(const Gate& gate, int epochs, double lr, double momentum, Device device) {
  const Tensor<float> x = from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}).to(device);
  const Tensor<float> y = from_vector<float>(gate.outputs, {4, 1}).to(device);
  nn::Sequential net(nn::Linear(2, 2), nn::Sigmoid(), nn::Linear(2, 1), nn::Sigmoid());
  net.to(device);
  nn::MSELoss mse;
  optim::SGD opt(net.parameters(), {.lr = lr, .momentum = momentum});

  double loss = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    opt.zero_grad();
    Tensor<float> l = mse(net(x), y);
    l.backward();
    opt.step();
    loss = l.item();
  }

  NoGradGuard no_grad;
  std::vector<float> out = net(x).to_vector();
  int correct = 0;
  std::printf("%s (final loss %.6f)\n  a b | %-3s | output\n", gate.name.c_str(), loss,
              gate.name.c_str());
  for (int i = 0; i < 4; ++i) {
    bool right = (out[i] > 0.5f) == (gate.outputs[i] > 0.5f);
    correct += right;
    std::printf("  %d %d |  %.0f  | %.4f%s\n", i / 2, i % 2, gate.outputs[i], out[i],
                right ? "" : "  (wrong)");
  }
  std::printf("\n");
  return correct == 4;
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 1000;
  double lr = 1.0, momentum = 0.9;
  uint64_t seed = 3;
  std::string device = "cpu";
  CLI::App app{"Learns XOR, AND and OR with a 2-2-1 sigmoid network and SGD."};
  app.add_option("--epochs", epochs, "full-batch SGD steps per gate")->capture_default_str();
  app.add_option("--lr", lr, "learning rate")->capture_default_str();
  app.add_option("--momentum", momentum, "SGD momentum")->capture_default_str();
  app.add_option("--seed", seed, "random seed for the initial weights")->capture_default_str();
  examples::add_device_option(app, device);
  CLI11_PARSE(app, argc, argv);

  return examples::run_main("logic_gates", [&] {
    const Device on = examples::select_device(device);
    manual_seed(seed);
    const std::vector<Gate> gates = {
        {"XOR", {0, 1, 1, 0}}, {"AND", {0, 0, 0, 1}}, {"OR", {0, 1, 1, 1}}};
    int learned = 0;
    for (const Gate& g : gates) learned += learn(g, epochs, lr, momentum, on);
    bool ok = learned == static_cast<int>(gates.size());
    std::printf("%s: %d/%zu truth tables learned\n", ok ? "PASS" : "FAIL", learned, gates.size());
    return ok ? 0 : 1;
  });
}
