// An LSTM learns a task that needs memory: each sequence starts with one of a few one-hot symbols,
// the steps after it are noise, and after the last step the network must name the first symbol.
// Without memory the best guess is 1 / symbols. Prints the accuracy on fresh sequences as it
// trains; exits 0 when the final accuracy reaches 95 %.
//
//   sequence_memory [--cell lstm|gru|rnn] [--steps N] [--symbols N] [--hidden N]
//                   [--iterations N] [--batch N] [--lr X] [--seed N] [--device cpu|cuda|cuda:N]
//
// --cell gru or rnn trains the other recurrent layers on the same task. Longer delays need more
// iterations (with these defaults, --steps 20 is beyond what 600 Adam steps teach an LSTM, here as
// in PyTorch).
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>

#include "example_main.hpp"

using namespace sinew;

namespace {

struct Options {
  std::string cell = "lstm";
  int64_t steps = 10, symbols = 4, hidden = 32, batch = 32;
  int iterations = 300;
  double lr = 1e-2, noise = 0.2;
  uint64_t seed = 11;
  std::string device = "cpu";
};

// A batch of sequences [n, steps, symbols] and their first symbols [n], drawn on the host (the
// same on every device) and moved to `device`.
std::pair<Tensor<float>, Tensor<int64_t>> make_batch(const Options& o, int64_t n, Generator& gen,
                                                     Device device) {
  Tensor<int64_t> labels = randint<int64_t>(0, o.symbols, {n}, gen);
  Tensor<float> noise = randn<float>({n, o.steps - 1, o.symbols}, gen) * o.noise;
  Tensor<float> first = index_select(eye<float>(o.symbols), 0, labels) * 2.0;
  return {cat(std::vector<Tensor<float>>{first.unsqueeze(1), noise}, 1).to(device),
          labels.to(device)};
}

// The recurrent layer's final hidden state, then a linear read-out. One of the three layers is
// built, the one --cell names.
struct Recall : nn::Module {
  std::optional<nn::LSTM> lstm;
  std::optional<nn::GRU> gru;
  std::optional<nn::RNN> rnn;
  nn::Linear head;

  explicit Recall(const Options& o) : nn::Module("Recall"), head(o.hidden, o.symbols) {
    if (o.cell == "lstm") {
      lstm.emplace(o.symbols, o.hidden, nn::LSTMOptions{.batch_first = true});
      register_module("lstm", *lstm);
      // The usual forget-gate bias of 1 (gates i, f, g, o): the cell starts out remembering.
      NoGradGuard no_grad;
      lstm->named_parameters()["bias_hh_l0"].narrow(0, o.hidden, o.hidden).fill_(1.0);
    } else if (o.cell == "gru") {
      gru.emplace(o.symbols, o.hidden, nn::GRUOptions{.batch_first = true});
      register_module("gru", *gru);
    } else {
      rnn.emplace(o.symbols, o.hidden, nn::RNNOptions{.batch_first = true});
      register_module("rnn", *rnn);
    }
    register_module("head", head);
  }

  Tensor<float> forward(const Tensor<float>& x) override {
    Tensor<float> h;  // h_n [1, N, hidden] of the one layer
    if (lstm) {
      h = std::get<0>(std::get<1>((*lstm)(x)));
    } else if (gru) {
      h = std::get<1>((*gru)(x));
    } else {
      h = std::get<1>((*rnn)(x));
    }
    return head(h.select(0, 0));
  }
};

double accuracy(Recall& net, const Options& o, Generator& gen, Device device) {
  NoGradGuard no_grad;
  auto [x, y] = make_batch(o, 2000, gen, device);
  return (net(x).argmax(1) == y).to<float>().mean().item<double>();
}

int run(const Options& o) {
  const Device device = examples::select_device(o.device);
  manual_seed(o.seed);
  Generator data(o.seed + 1), held_out(o.seed + 2);
  Recall net(o);
  net.to(device);
  optim::Adam opt(net.parameters(), {.lr = o.lr});
  std::printf(
      "%s, hidden %lld: recall 1 of %lld symbols after %lld steps (chance %.0f %%), "
      "device %s\n",
      o.cell.c_str(), static_cast<long long>(o.hidden), static_cast<long long>(o.symbols),
      static_cast<long long>(o.steps - 1), 100.0 / double(o.symbols), device.str().c_str());
  nn::CrossEntropyLoss criterion;
  for (int it = 1; it <= o.iterations; ++it) {
    auto [x, y] = make_batch(o, o.batch, data, device);
    opt.zero_grad();
    Tensor<float> loss = criterion(net(x), y);
    loss.backward();
    opt.step();
    if (it % 100 == 0 || it == o.iterations) {
      std::printf("step %5d  loss %.4f  accuracy %.1f %%\n", it, loss.item(),
                  100.0 * accuracy(net, o, held_out, device));
    }
  }
  const double acc = accuracy(net, o, held_out, device);
  const bool ok = acc >= 0.95;
  std::printf("%s: %.1f %% of fresh sequences recalled\n", ok ? "PASS" : "FAIL", 100.0 * acc);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"An LSTM learns to recall the first symbol of a sequence after a delay."};
  app.add_option("--cell", o.cell, "recurrent cell")
      ->check(CLI::IsMember({"lstm", "gru", "rnn"}))
      ->capture_default_str();
  app.add_option("--steps", o.steps, "sequence length (the delay is steps - 1)")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  app.add_option("--symbols", o.symbols, "number of symbols to tell apart")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  app.add_option("--hidden", o.hidden, "hidden size")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--iterations", o.iterations, "Adam steps")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--batch", o.batch, "sequences per step")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--lr", o.lr, "Adam learning rate")->capture_default_str();
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  examples::add_device_option(app, o.device);
  CLI11_PARSE(app, argc, argv);
  return examples::run_main("sequence_memory", [&] { return run(o); });
}
