// LibTorch twin of epoch_time.cpp: the benchmark workloads W1 (MLP), W2 (CNN), W3 (LSTM) and W4
// (BN-CNN) of DESIGN.md on Fashion-MNIST, written with the LibTorch C++ API, so that Sinew's epoch
// times can be compared side by side with LibTorch's on the same machine. Same command line, same
// data handling, same batches and the same output lines as epoch_time.cpp: the training loop only
// is timed (wall clock, std::chrono::steady_clock), with the data decoded and normalized in memory
// beforehand; then test accuracy on the 10,000 test images (eval mode, torch::NoGradGuard).
//
//   libtorch_epoch_time --model mlp|cnn|lstm|bncnn|dcgan [--epochs N] [--limit N] [--threads N]
//                       [--seed N] [--data DIR] [--phases] [--steps N]
//
// --model dcgan is W5, a DCGAN training step timed per step, as epoch_time.cpp's run_dcgan.
//
// --threads N calls torch::set_num_threads (intra-op threads). The RESULT line ends with the
// process's peak resident memory (getrusage ru_maxrss) as peak_rss_mb=.
//
// Build (from the repository root; or the CMake target libtorch_epoch_time with
// -DSINEW_BENCH_LIBTORCH=ON; or benchmarks/workloads/run_libtorch.sh):
//   g++ -std=c++17 -O3 -DNDEBUG -I/usr/include/torch/csrc/api/include
//       benchmarks/workloads/libtorch_epoch_time.cpp -o libtorch_epoch_time
//       -ltorch -ltorch_cpu -lc10 -lz
// Run with OPENBLAS_NUM_THREADS=1: LibTorch's GEMMs go to OpenBLAS, whose own thread pool would
// otherwise compete with LibTorch's.
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

#include <torch/torch.h>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // Linux reports kilobytes
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
  torch::Tensor images;  // [n, 1, 28, 28] float32, normalized
  torch::Tensor labels;  // [n] int64
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
  s.images = torch::from_blob(x.data(), {n, 1, 28, 28}, torch::kFloat32).clone();
  s.labels = torch::from_blob(y.data(), {n}, torch::kInt64).clone();
  s.n = n;
  return s;
}

torch::Tensor index_tensor(const int64_t* first, int64_t len) {
  return torch::from_blob(const_cast<int64_t*>(first), {len}, torch::kInt64).clone();
}

// ---- the workloads (DESIGN.md, "Benchmark workloads") ------------------------------------------

namespace nn = torch::nn;

// One module for all four workloads: a Sequential for W1, W2 and W4, LSTM + Linear for W3.
struct NetImpl : nn::Module {
  explicit NetImpl(const std::string& name) {
    if (name == "mlp") {  // W1
      seq = register_module("seq", nn::Sequential(nn::Flatten(), nn::Linear(784, 128), nn::ReLU(),
                                                  nn::Dropout(0.2), nn::Linear(128, 10)));
    } else if (name == "cnn") {  // W2
      seq =
          register_module("seq", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)),
                                                nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                                                nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)),
                                                nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                                                nn::Flatten(), nn::Linear(3136, 128), nn::ReLU(),
                                                nn::Dropout(0.25), nn::Linear(128, 10)));
    } else if (name == "bncnn") {  // W4: W2 with batch norm, conv bias off
      seq = register_module(
          "seq",
          nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1).bias(false)),
                         nn::BatchNorm2d(32), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                         nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1).bias(false)),
                         nn::BatchNorm2d(64), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                         nn::Flatten(), nn::Linear(3136, 128), nn::BatchNorm1d(128), nn::ReLU(),
                         nn::Dropout(0.25), nn::Linear(128, 10)));
    } else if (name == "lstm") {  // W3: 28 steps of 28 features, last step's output
      lstm = register_module("lstm", nn::LSTM(nn::LSTMOptions(28, 128).batch_first(true)));
      head = register_module("head", nn::Linear(128, 10));
    } else {
      throw std::runtime_error("--model must be mlp, cnn, lstm or bncnn, got " + name);
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    if (!lstm) return seq->forward(x);
    torch::Tensor out = std::get<0>(lstm->forward(x.reshape({x.size(0), 28, 28})));
    return head->forward(out.select(1, -1));  // out[:, -1, :]
  }

  nn::Sequential seq{nullptr};
  nn::LSTM lstm{nullptr};
  nn::Linear head{nullptr};
};
TORCH_MODULE(Net);

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
      std::cout << "libtorch_epoch_time --model mlp|cnn|lstm|bncnn|dcgan [--epochs N] "
                   "[--limit N] [--threads N] [--seed N] [--data DIR] [--phases] [--steps N]\n";
      std::exit(0);
    } else {
      throw std::runtime_error("unknown argument " + k);
    }
  }
  if (a.epochs < 1) throw std::runtime_error("--epochs must be >= 1");
  return a;
}

double test_accuracy(Net& net, const Split& test) {
  net->eval();
  torch::NoGradGuard no_grad;
  int64_t correct = 0;
  constexpr int64_t chunk = 1000;
  for (int64_t start = 0; start < test.n; start += chunk) {
    const int64_t len = std::min(chunk, test.n - start);
    torch::Tensor index = torch::arange(start, start + len, torch::kInt64);
    torch::Tensor pred = net->forward(test.images.index_select(0, index)).argmax(1);
    torch::Tensor truth = test.labels.index_select(0, index);
    correct += pred.eq(truth).sum().item<int64_t>();
  }
  net->train();
  return double(correct) / double(test.n);
}

}  // namespace

// ---- W5: a DCGAN training step on 28 x 28 images (epoch_time.cpp's run_dcgan)
// --------------------

nn::Sequential dcgan_generator() {
  using O = nn::ConvTranspose2dOptions;
  return nn::Sequential(
      nn::ConvTranspose2d(O(100, 256, 4).bias(false)), nn::BatchNorm2d(256), nn::ReLU(),
      nn::ConvTranspose2d(O(256, 128, 3).stride(2).padding(1).bias(false)), nn::BatchNorm2d(128),
      nn::ReLU(), nn::ConvTranspose2d(O(128, 64, 4).stride(2).padding(1).bias(false)),
      nn::BatchNorm2d(64), nn::ReLU(),
      nn::ConvTranspose2d(O(64, 1, 4).stride(2).padding(1).bias(false)), nn::Tanh());
}

nn::Sequential dcgan_discriminator() {
  using O = nn::Conv2dOptions;
  const auto leaky = nn::LeakyReLUOptions().negative_slope(0.2);
  return nn::Sequential(
      nn::Conv2d(O(1, 64, 4).stride(2).padding(1).bias(false)), nn::LeakyReLU(leaky),
      nn::Conv2d(O(64, 128, 4).stride(2).padding(1).bias(false)), nn::BatchNorm2d(128),
      nn::LeakyReLU(leaky), nn::Conv2d(O(128, 256, 4).stride(2).padding(1).bias(false)),
      nn::BatchNorm2d(256), nn::LeakyReLU(leaky), nn::Conv2d(O(256, 1, 3).bias(false)),
      nn::Flatten(), nn::Sigmoid());
}

int run_dcgan(const Args& a, const Split& train) {
  constexpr int64_t batch = 64, nz = 100, warmup = 5;
  torch::manual_seed(a.seed);
  nn::Sequential g = dcgan_generator(), d = dcgan_discriminator();
  const auto adam = torch::optim::AdamOptions(2e-4).betas({0.5, 0.5});
  torch::optim::Adam opt_g(g->parameters(), adam), opt_d(d->parameters(), adam);
  const torch::Tensor ones = torch::ones({batch, 1}), zeros = torch::zeros({batch, 1});
  std::cout << "model dcgan  threads " << torch::get_num_threads() << "  batch " << batch
            << "  steps " << a.steps << "\n";
  std::vector<double> step_s;
  double loss_d = 0, loss_g = 0;
  for (int64_t step = 0; step < warmup + a.steps; ++step) {
    const int64_t start = (step * batch) % std::max<int64_t>(train.n - batch + 1, 1);
    const torch::Tensor real = train.images.narrow(0, start, batch);
    const auto t0 = Clock::now();
    const torch::Tensor z = torch::randn({batch, nz, 1, 1});
    const torch::Tensor fake = g->forward(z);
    opt_d.zero_grad();
    torch::Tensor ld = torch::binary_cross_entropy(d->forward(real), ones) +
                       torch::binary_cross_entropy(d->forward(fake.detach()), zeros);
    ld.backward();
    opt_d.step();
    opt_g.zero_grad();
    torch::Tensor lg = torch::binary_cross_entropy(d->forward(fake), ones);
    lg.backward();
    opt_g.step();
    loss_d = ld.item<double>();
    loss_g = lg.item<double>();
    if (step >= warmup) step_s.push_back(seconds_since(t0));
  }
  std::sort(step_s.begin(), step_s.end());
  const double median = step_s[step_s.size() / 2];
  std::printf(
      "RESULT model=dcgan threads=%d steps=%d s_per_step=%.5f loss_d=%.4f loss_g=%.4f "
      "peak_rss_mb=%.1f\n",
      torch::get_num_threads(), a.steps, median, loss_d, loss_g, peak_rss_mb());
  return 0;
}

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  if (a.threads > 0) torch::set_num_threads(a.threads);
  if (a.model == "dcgan") return run_dcgan(a, load_split(a.data, "train", a.limit));

  const Split train = load_split(a.data, "train", a.limit);
  const Split test = load_split(a.data, "t10k", 0);

  torch::manual_seed(a.seed);
  Net net(a.model);
  net->train();
  nn::CrossEntropyLoss criterion;
  const bool bn = a.model == "bncnn";
  const int64_t batch = bn ? 128 : 64;
  // W1, W3 and W4: Adam lr 1e-3; W2: SGD lr 0.01 momentum 0.9.
  const bool use_sgd = a.model == "cnn";
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (use_sgd)
    opt = std::make_unique<torch::optim::SGD>(net->parameters(),
                                              torch::optim::SGDOptions(0.01).momentum(0.9));
  else
    opt = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-3));

  std::cout << "model " << a.model << "  threads " << torch::get_num_threads() << "  train images "
            << train.n << "  batch " << batch << "  optimizer " << (use_sgd ? "SGD" : "Adam")
            << "\n";

  std::vector<int64_t> order(static_cast<size_t>(train.n));
  std::vector<double> epoch_s;
  double t_fwd = 0, t_bwd = 0, t_step = 0;
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
      torch::Tensor index = index_tensor(order.data() + start, len);
      torch::Tensor x = train.images.index_select(0, index);
      torch::Tensor y = train.labels.index_select(0, index);

      auto p0 = Clock::now();
      opt->zero_grad();
      torch::Tensor loss = criterion(net->forward(x), y);
      auto p1 = Clock::now();
      loss.backward();
      auto p2 = Clock::now();
      opt->step();
      auto p3 = Clock::now();
      if (a.phases) {
        t_fwd += std::chrono::duration<double>(p1 - p0).count();
        t_bwd += std::chrono::duration<double>(p2 - p1).count();
        t_step += std::chrono::duration<double>(p3 - p2).count();
      }
      loss_sum += loss.item<double>();
      ++steps;
    }
    const double s = seconds_since(t0);
    epoch_s.push_back(s);
    std::printf("epoch %d  %.3f s  %.0f images/s  mean loss %.4f\n", epoch + 1, s,
                double(train.n) / s, steps ? loss_sum / double(steps) : 0.0);
  }

  const double acc = test_accuracy(net, test);
  std::vector<double> sorted = epoch_s;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::printf(
      "RESULT model=%s threads=%d images=%lld epochs=%d s_per_epoch=%.4f images_per_s=%.1f "
      "test_acc=%.4f peak_rss_mb=%.1f\n",
      a.model.c_str(), torch::get_num_threads(), static_cast<long long>(train.n), a.epochs, median,
      double(train.n) / median, acc, peak_rss_mb());
  if (a.phases) {
    const double e = double(a.epochs);
    std::printf("PHASES per epoch: forward+loss %.4f s  backward %.4f s  step %.4f s\n", t_fwd / e,
                t_bwd / e, t_step / e);
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "libtorch_epoch_time: " << e.what() << "\n";
  return 1;
}
