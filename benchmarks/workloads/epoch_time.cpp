// Epoch time of the benchmark workloads W1 (MLP), W2 (CNN), W3 (LSTM) and W4 (BN-CNN) of DESIGN.md
// on Fashion-MNIST: the training loop only is timed (wall clock, std::chrono::steady_clock), with
// the data decoded and normalized in memory beforehand; then test accuracy on the 10,000 test
// images. W5 (--model dcgan) is a DCGAN training step instead, timed per step (see run_dcgan).
//
//   epoch_time --model mlp|cnn|lstm|bncnn|dcgan [--epochs N] [--limit N] [--threads N]
//              [--seed N] [--data DIR] [--phases] [--steps N]
//
// --limit N trains on the first N training images only (short runs); --phases also reports the
// time spent in forward + loss, backward and the optimizer step. Each epoch shuffles the training
// indices with std::shuffle and a std::mt19937_64 seeded from --seed and the epoch number, so runs
// with the same arguments see the same batches. Apart from the LSTM (define SINEW_EPOCH_NO_LSTM to
// leave it out), it uses only API that predates the layer templates (float names nn::Linear,
// nn::Conv2d, ...), so the same file builds against older trees.
//
// Build (from the repository root; or the CMake target sinew_epoch_time):
//   g++ -std=c++20 -O3 -DNDEBUG -march=native -fno-tree-slp-vectorize -fopenmp -Iinclude
//   -I/usr/include/eigen3
//       benchmarks/workloads/epoch_time.cpp -o epoch_time -lz
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

using namespace sinew;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The process's peak resident memory in MB (Linux reports ru_maxrss in KB).
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// ---- Fashion-MNIST: gzip-compressed IDX files --------------------------------------------------

std::vector<uint8_t> read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    int n = gzread(f, buf.data(), unsigned(buf.size()));
    if (n < 0) {
      gzclose(f);
      throw std::runtime_error("gzread failed on " + path);
    }
    if (n == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  gzclose(f);
  return out;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct Split {
  Tensor<float> images;    // [n, 1, 28, 28], normalized
  Tensor<int64_t> labels;  // [n]
  int64_t n = 0;
};

Split load_split(const std::string& dir, const std::string& prefix, int64_t limit) {
  const std::vector<uint8_t> img = read_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz");
  const std::vector<uint8_t> lab = read_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz");
  if (img.size() < 16 || be32(img.data()) != 2051) throw std::runtime_error("bad image file");
  if (lab.size() < 8 || be32(lab.data()) != 2049) throw std::runtime_error("bad label file");
  int64_t n = be32(img.data() + 4);
  const int64_t rows = be32(img.data() + 8), cols = be32(img.data() + 12);
  if (rows != 28 || cols != 28 || int64_t(be32(lab.data() + 4)) != n ||
      img.size() < size_t(16 + n * 784) || lab.size() < size_t(8 + n))
    throw std::runtime_error("unexpected IDX sizes in " + prefix);
  if (limit > 0 && limit < n) n = limit;
  constexpr float mean = 0.2860f, stddev = 0.3530f;
  std::vector<float> x(size_t(n) * 784);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (float(img[16 + i]) / 255.0f - mean) / stddev;
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) y[size_t(i)] = lab[size_t(8 + i)];
  Split s;
  s.images = from_vector<float>(x, {n, 1, 28, 28});
  s.labels = from_vector<int64_t>(y, {n});
  s.n = n;
  return s;
}

// ---- the workloads (DESIGN.md, "Benchmark workloads") ------------------------------------------

#ifndef SINEW_EPOCH_NO_LSTM
// W3's recurrent part: the image rows [N, 1, 28, 28] as 28 steps of 28 features through
// LSTM(28, 128, batch_first), giving the output of the last step [N, 128].
struct RowLstm : nn::Module {
  nn::LSTM lstm{28, 128, {.batch_first = true}};
  RowLstm() : nn::Module("RowLstm") { register_module("lstm", lstm); }
  Tensor<float> forward(const Tensor<float>& x) override {
    auto [out, state] = lstm(x.reshape({x.size(0), 28, 28}));
    return out.select(1, -1);
  }
};
#endif

nn::Sequential make_model(const std::string& name) {
  if (name == "mlp")  // W1
    return nn::Sequential(nn::Flatten(), nn::Linear(784, 128), nn::ReLU(), nn::Dropout(0.2),
                          nn::Linear(128, 10));
  if (name == "cnn")  // W2
    return nn::Sequential(nn::Conv2d(1, 32, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(32, 64, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), nn::Linear(3136, 128), nn::ReLU(), nn::Dropout(0.25),
                          nn::Linear(128, 10));
#ifndef SINEW_EPOCH_NO_LSTM
  if (name == "lstm")  // W3
    return nn::Sequential(RowLstm(), nn::Linear(128, 10));
#endif
  if (name == "bncnn")  // W4: W2 with batch norm, conv bias off
    return nn::Sequential(nn::Conv2d(1, 32, 3, {.padding = 1, .bias = false}), nn::BatchNorm2d(32),
                          nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(32, 64, 3, {.padding = 1, .bias = false}), nn::BatchNorm2d(64),
                          nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(3136, 128),
                          nn::BatchNorm1d(128), nn::ReLU(), nn::Dropout(0.25), nn::Linear(128, 10));
  throw std::runtime_error("--model must be mlp, cnn, lstm or bncnn, got " + name);
}

struct Args {
  std::string model = "mlp";
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 1;
  int64_t limit = 0;
  int threads = 0;
  uint64_t seed = 42;
  bool phases = false;
  int steps = 40;  // dcgan: timed steps (after 5 untimed ones)
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(k + " needs a value");
      return argv[++i];
    };
    if (k == "--model")
      a.model = value();
    else if (k == "--epochs")
      a.epochs = std::stoi(value());
    else if (k == "--limit")
      a.limit = std::stoll(value());
    else if (k == "--threads")
      a.threads = std::stoi(value());
    else if (k == "--seed")
      a.seed = std::stoull(value());
    else if (k == "--data")
      a.data = value();
    else if (k == "--phases")
      a.phases = true;
    else if (k == "--steps")
      a.steps = std::stoi(value());
    else if (k == "--help" || k == "-h") {
      std::cout << "epoch_time --model mlp|cnn|lstm|bncnn|dcgan [--epochs N] [--limit N] "
                   "[--threads N] [--seed N] [--data DIR] [--phases] [--steps N]\n";
      std::exit(0);
    } else {
      throw std::runtime_error("unknown argument " + k);
    }
  }
  if (a.epochs < 1) throw std::runtime_error("--epochs must be >= 1");
  return a;
}

double test_accuracy(nn::Sequential& net, const Split& test) {
  net.eval();
  NoGradGuard no_grad;
  int64_t correct = 0;
  constexpr int64_t chunk = 1000;
  for (int64_t start = 0; start < test.n; start += chunk) {
    const int64_t len = std::min(chunk, test.n - start);
    std::vector<int64_t> idx(static_cast<size_t>(len));
    std::iota(idx.begin(), idx.end(), start);
    Tensor<int64_t> index = from_vector<int64_t>(idx, {len});
    Tensor<int64_t> pred = argmax(net(index_select(test.images, 0, index)), 1).contiguous();
    Tensor<int64_t> truth = index_select(test.labels, 0, index).contiguous();
    const int64_t* p = pred.data_ptr();
    const int64_t* t = truth.data_ptr();
    for (int64_t i = 0; i < len; ++i) correct += p[i] == t[i];
  }
  net.train();
  return double(correct) / double(test.n);
}

// Blocks Sinew's CPU allocator has taken from the system (its cache serves the rest).
uint64_t system_blocks() { return backend::cpu::PooledAllocator::instance().system_allocations(); }

// ---- W5: a DCGAN training step on 28 x 28 images
// -------------------------------------------------

// Generator: z [N, 100, 1, 1] -> 256 x 4 x 4 -> 128 x 7 x 7 -> 64 x 14 x 14 -> 1 x 28 x 28.
nn::Sequential dcgan_generator() {
  return nn::Sequential(
      nn::ConvTranspose2d(100, 256, 4, {.bias = false}), nn::BatchNorm2d(256), nn::ReLU(),
      nn::ConvTranspose2d(256, 128, 3, {.stride = 2, .padding = 1, .bias = false}),
      nn::BatchNorm2d(128), nn::ReLU(),
      nn::ConvTranspose2d(128, 64, 4, {.stride = 2, .padding = 1, .bias = false}),
      nn::BatchNorm2d(64), nn::ReLU(),
      nn::ConvTranspose2d(64, 1, 4, {.stride = 2, .padding = 1, .bias = false}), nn::Tanh());
}

// Discriminator: 1 x 28 x 28 -> 64 x 14 x 14 -> 128 x 7 x 7 -> 256 x 3 x 3 -> 1 (a probability).
nn::Sequential dcgan_discriminator() {
  return nn::Sequential(
      nn::Conv2d(1, 64, 4, {.stride = 2, .padding = 1, .bias = false}), nn::LeakyReLU(0.2),
      nn::Conv2d(64, 128, 4, {.stride = 2, .padding = 1, .bias = false}), nn::BatchNorm2d(128),
      nn::LeakyReLU(0.2), nn::Conv2d(128, 256, 4, {.stride = 2, .padding = 1, .bias = false}),
      nn::BatchNorm2d(256), nn::LeakyReLU(0.2), nn::Conv2d(256, 1, 3, {.bias = false}),
      nn::Flatten(), nn::Sigmoid());
}

// W5: one step trains the discriminator on a batch of 64 real images and 64 generated ones, then
// the generator through it (binary cross-entropy; Adam lr 2e-4, betas (0.5, 0.5)). The images are
// the training set's, in order; the clock covers the steps only. Prints the median step time.
int run_dcgan(const Args& a, const Split& train) {
  constexpr int64_t batch = 64, nz = 100, warmup = 5;
  manual_seed(a.seed);
  nn::Sequential g = dcgan_generator(), d = dcgan_discriminator();
  optim::Adam opt_g(g.parameters(), {.lr = 2e-4, .betas = {0.5, 0.5}});
  optim::Adam opt_d(d.parameters(), {.lr = 2e-4, .betas = {0.5, 0.5}});
  const Tensor<float> ones = full<float>({batch, 1}, 1.0f), zeros = full<float>({batch, 1}, 0.0f);
  std::cout << "model dcgan  threads " << get_num_threads() << "  batch " << batch << "  steps "
            << a.steps << "\n";
  std::vector<double> step_s;
  double loss_d = 0, loss_g = 0;
  uint64_t blocks_at_warmup = 0;
  for (int64_t step = 0; step < warmup + a.steps; ++step) {
    const int64_t start = (step * batch) % std::max<int64_t>(train.n - batch + 1, 1);
    const Tensor<float> real = train.images.narrow(0, start, batch);
    const auto t0 = Clock::now();
    const Tensor<float> z = randn<float>({batch, nz, 1, 1});
    const Tensor<float> fake = g(z);
    opt_d.zero_grad();
    Tensor<float> ld = nn::F::binary_cross_entropy(d(real), ones) +
                       nn::F::binary_cross_entropy(d(fake.detach()), zeros);
    ld.backward();
    opt_d.step();
    opt_g.zero_grad();
    Tensor<float> lg = nn::F::binary_cross_entropy(d(fake), ones);
    lg.backward();
    opt_g.step();
    loss_d = ld.item();
    loss_g = lg.item();
    if (step >= warmup) step_s.push_back(seconds_since(t0));
    if (step + 1 == warmup) blocks_at_warmup = system_blocks();
  }
  std::sort(step_s.begin(), step_s.end());
  const double median = step_s[step_s.size() / 2];
  std::printf(
      "RESULT model=dcgan threads=%d steps=%d s_per_step=%.5f loss_d=%.4f loss_g=%.4f "
      "peak_rss_mb=%.1f system_blocks_after_warmup=%llu\n",
      get_num_threads(), a.steps, median, loss_d, loss_g, peak_rss_mb(),
      static_cast<unsigned long long>(system_blocks() - blocks_at_warmup));
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  if (a.threads > 0) set_num_threads(a.threads);

  if (a.model == "dcgan") return run_dcgan(a, load_split(a.data, "train", a.limit));
  const Split train = load_split(a.data, "train", a.limit);
  const Split test = load_split(a.data, "t10k", 0);

  manual_seed(a.seed);
  nn::Sequential net = make_model(a.model);
  net.train();
  nn::CrossEntropyLoss criterion;
  const bool bn = a.model == "bncnn";
  const int64_t batch = bn ? 128 : 64;
  // W1, W3 and W4: Adam lr 1e-3; W2: SGD lr 0.01 momentum 0.9.
  optim::Adam adam(net.parameters(), {.lr = 1e-3});
  optim::SGD sgd(net.parameters(), {.lr = 0.01, .momentum = 0.9});
  const bool use_sgd = a.model == "cnn";

  std::cout << "model " << a.model << "  threads " << get_num_threads() << "  train images "
            << train.n << "  batch " << batch << "  optimizer " << (use_sgd ? "SGD" : "Adam")
            << "\n";

  std::vector<int64_t> order(static_cast<size_t>(train.n));
  std::vector<double> epoch_s;
  double t_fwd = 0, t_bwd = 0, t_step = 0;
  uint64_t blocks_at_warmup = 0;  // after the first 20 steps
  int64_t steps_after_warmup = 0;
  for (int epoch = 0; epoch < a.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), int64_t(0));
    std::mt19937_64 rng(a.seed * 1000003ull + uint64_t(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    int64_t steps = 0;

    const auto t0 = Clock::now();
    for (int64_t start = 0; start < train.n; start += batch) {
      const int64_t len = std::min(batch, train.n - start);
      if (bn && len < 2) break;  // batch norm needs more than one sample
      Tensor<int64_t> index = from_vector<int64_t>(
          std::vector<int64_t>(order.begin() + start, order.begin() + start + len), {len});
      Tensor<float> x = index_select(train.images, 0, index);
      Tensor<int64_t> y = index_select(train.labels, 0, index);

      auto p0 = Clock::now();
      if (use_sgd)
        sgd.zero_grad();
      else
        adam.zero_grad();
      Tensor<float> loss = criterion(net(x), y);
      auto p1 = Clock::now();
      loss.backward();
      auto p2 = Clock::now();
      if (use_sgd)
        sgd.step();
      else
        adam.step();
      auto p3 = Clock::now();
      if (a.phases) {
        t_fwd += std::chrono::duration<double>(p1 - p0).count();
        t_bwd += std::chrono::duration<double>(p2 - p1).count();
        t_step += std::chrono::duration<double>(p3 - p2).count();
      }
      loss_sum += loss.item();
      ++steps;
      if (epoch == 0 && steps == 20) blocks_at_warmup = system_blocks();
      if (epoch > 0 || steps > 20) ++steps_after_warmup;
    }
    const double s = seconds_since(t0);
    epoch_s.push_back(s);
    std::printf("epoch %d  %.3f s  %.0f images/s  mean loss %.4f\n", epoch + 1, s,
                double(train.n) / s, steps ? loss_sum / double(steps) : 0.0);
  }

  const uint64_t blocks_end = system_blocks();  // before the evaluation's larger batches
  const double acc = test_accuracy(net, test);
  std::vector<double> sorted = epoch_s;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::printf(
      "RESULT model=%s threads=%d images=%lld epochs=%d s_per_epoch=%.4f images_per_s=%.1f "
      "test_acc=%.4f peak_rss_mb=%.1f system_blocks_per_step=%.3f\n",
      a.model.c_str(), get_num_threads(), static_cast<long long>(train.n), a.epochs, median,
      double(train.n) / median, acc, peak_rss_mb(),
      double(blocks_end - blocks_at_warmup) / double(std::max<int64_t>(steps_after_warmup, 1)));
  if (a.phases) {
    const double e = double(a.epochs);
    std::printf("PHASES per epoch: forward+loss %.4f s  backward %.4f s  step %.4f s\n", t_fwd / e,
                t_bwd / e, t_step / e);
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "epoch_time: " << e.what() << "\n";
  return 1;
}
