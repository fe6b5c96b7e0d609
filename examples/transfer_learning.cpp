// Transfer learning on MNIST: a small CNN learns the digits 0-4, is saved and loaded into a new
// model, and its convolutional feature layers, frozen, serve a new head that learns the digits 5-9.
//
//   1. DigitNet = features (two blocks of 3 x 3 convolution, ReLU and 2 x 2 max pooling: 16 and
//      32 channels, then Flatten) and a head (Linear(1568, 128), ReLU, Linear(128, 5)), trained
//      on the training images of the digits 0-4 (labels 0..4 as they are); saved with io::save to
//      --out/digits_0_4.safetensors.
//   2. A new DigitNet loaded from that file (io::load, strict): its accuracy on the 0-4 test
//      digits must be exactly the trained model's.
//   3. Its features frozen (Module::requires_grad_(false)) and shared with a third DigitNet whose
//      head is new, trained alone (the optimizer holds the head's parameters only) on the digits
//      5-9 with the labels 5..9 remapped to 0..4; saved to --out/digits_5_9.safetensors.
//   4. The frozen tensors are compared, bit for bit, with the ones in digits_0_4.safetensors (and
//      must have received no gradient), and the loaded model, its old head on the shared
//      features, is evaluated again on the digits 0-4.
//
//   transfer_learning [--epochs N] [--batch-size N] [--lr X] [--threads N] [--seed N] [--limit N]
//                     [--data DIR] [--out DIR] [--quiet]
//
// --epochs and --lr apply to each of the two trainings. --limit N keeps the first N training
// images before they are split into 0-4 and 5-9; the test sets are always every test image of
// their digits. The data: the four MNIST IDX files in --data, by default the repository's sibling
// folder ../shared/datasets/mnist, looked for from the working directory, then from its parent and
// its grandparent (so the default works from the repository root, from build/ and from
// build/<dir>). Images are scaled to [0, 1] and normalized with MNIST's usual mean 0.1307 and
// standard deviation 0.3081. With the defaults (3 epochs, all 24,345 training images) the CNN
// reaches about 99 % on the digits 0-4 and the new head about 98.5 % on the digits 5-9.
//
// Exits with status 2 when the loaded model computes otherwise than the saved one, a frozen weight
// changed or either final accuracy is below 80 %: the ctest entry example.transfer_learning
// (--epochs 1 --limit 3000: about 94 % on 0-4 and 86 % on 5-9) relies on it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

using namespace sinew;

namespace {

// MNIST's training-set pixel mean and standard deviation (torchvision's Normalize values).
constexpr float kMean = 0.1307f, kStd = 0.3081f;
// Below this final test accuracy (of either task) the program reports failure.
constexpr double kMinAccuracy = 0.80;
constexpr const char* kDefaultData = "../shared/datasets/mnist";

struct Options {
  std::string data;  // empty: the first of kDefaultData, ../kDefaultData, ../../kDefaultData
  std::string out = "runs/transfer_learning";
  int epochs = 3;
  int64_t batch_size = 64;
  double lr = 1e-3;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  uint64_t seed = 42;
  int64_t limit = 0;  // 0: all training images
  bool quiet = false;
};

// The default data folder: ../shared/datasets/mnist seen from the working directory, else from
// its parent or grandparent (a build directory inside the repository). The first candidate when
// none exists, for the error message.
std::string default_data_folder() {
  std::error_code ec;
  std::filesystem::path up;
  for (int level = 0; level < 3; ++level, up /= "..") {
    const std::filesystem::path p = up / kDefaultData;
    if (std::filesystem::is_directory(p, ec)) return p.lexically_normal().string();
  }
  return kDefaultData;
}

// ---- the model ---------------------------------------------------------------------------------

// [N, 1, 28, 28] -> [N, 1568]: what both tasks share.
nn::Sequential make_features() {
  return nn::Sequential(nn::Conv2d(1, 16, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(16, 32, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten());
}

// [N, 1568] -> logits [N, 5]: what each task has of its own.
nn::Sequential make_head() {
  return nn::Sequential(nn::Linear(32 * 7 * 7, 128), nn::ReLU(), nn::Linear(128, 5));
}

// Features, then a head of five classes. State-dict names as torchvision's models:
// "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias", "head.0.weight",
// ..., "head.2.bias". The features are a shared handle: two DigitNets built on the same features
// see and train the same tensors.
struct DigitNet : nn::Module {
  nn::Sequential features;
  nn::Sequential head;
  explicit DigitNet(nn::Sequential f)
      : Module("DigitNet"), features(std::move(f)), head(make_head()) {
    register_module("features", features);
    register_module("head", head);
  }
  Tensor<float> forward(const Tensor<float>& x) override { return head(features(x)); }
};

// ---- the two tasks -----------------------------------------------------------------------------

// The digits first..first+4 of a dataset: the indices of their images among the first n.
std::vector<int64_t> indices_of_digits(const data::MNIST& ds, int64_t n, int64_t first) {
  std::vector<int64_t> out;
  const int64_t* label = ds.labels().data_ptr();
  for (int64_t i = 0; i < n; ++i) {
    if (label[i] >= first && label[i] < first + 5) out.push_back(i);
  }
  return out;
}

struct Task {
  std::string name;  // "digits 0-4"
  int64_t first;     // the digit that becomes label 0
  std::vector<std::string> classes;
  data::Subset<data::MNIST> train_set;
  data::Subset<data::MNIST> test_set;
};

Task make_task(const std::shared_ptr<data::MNIST>& train_full,
               const std::shared_ptr<data::MNIST>& test_full, int64_t n_train, int64_t first) {
  std::vector<std::string> classes;
  for (int64_t d = first; d < first + 5; ++d) classes.push_back(std::to_string(d));
  return Task{"digits " + std::to_string(first) + "-" + std::to_string(first + 4), first, classes,
              data::Subset<data::MNIST>(train_full, indices_of_digits(*train_full, n_train, first)),
              data::Subset<data::MNIST>(test_full,
                                        indices_of_digits(*test_full, test_full->size(), first))};
}

// ---- training and evaluation -------------------------------------------------------------------

Tensor<float> normalize(const Tensor<float>& images) { return (images - kMean) / kStd; }

struct EpochResult {
  double loss = 0;
  double accuracy = 0;
};

// One epoch of `net` on the task's training images, labels shifted by task.first (5..9 -> 0..4).
template <class Loader>
EpochResult train_epoch(nn::Module& net, Loader& loader, optim::Optimizer& opt, const Task& task,
                        const std::string& label, int64_t batch_size, bool quiet) {
  net.train();
  train::RunningMean loss, accuracy;
  train::ProgressBar bar(loader.size(),
                         {.silent = quiet, .label = label, .batch_size = batch_size});
  for (auto& [images, digits] : loader) {
    const Tensor<int64_t> labels = digits - task.first;
    opt.zero_grad();
    Tensor<float> logits = net(normalize(images));
    Tensor<float> l = nn::F::cross_entropy(logits, labels);
    l.backward();
    opt.step();
    const auto n = static_cast<double>(labels.size(0));
    loss.add(l.item(), n);
    accuracy.add(train::accuracy(logits, labels), n);
    bar.step({{"loss", loss.mean()}, {"acc", accuracy.mean()}});
  }
  bar.finish({{"loss", loss.mean()}, {"acc", accuracy.mean()}});
  return {loss.mean(), accuracy.mean()};
}

struct Evaluation {
  EpochResult result;
  train::ConfusionMatrix confusion;
};

// Loss, accuracy and confusion matrix on the task's test images, in eval mode, without a graph.
Evaluation evaluate(nn::Module& net, const Task& task) {
  net.eval();
  NoGradGuard no_grad;
  data::DataLoader loader(task.test_set, {.batch_size = 1000});
  train::RunningMean loss, accuracy;
  Evaluation e{{}, train::ConfusionMatrix(5, task.classes)};
  for (auto& [images, digits] : loader) {
    const Tensor<int64_t> labels = digits - task.first;
    Tensor<float> logits = net(normalize(images));
    const auto n = static_cast<double>(labels.size(0));
    loss.add(nn::F::cross_entropy(logits, labels).item(), n);
    accuracy.add(train::accuracy(logits, labels), n);
    e.confusion.update(logits, labels);
  }
  e.result = {loss.mean(), accuracy.mean()};
  return e;
}

// Trains `net` for o.epochs epochs on the task, printing a line per epoch; the last evaluation.
Evaluation train_task(nn::Module& net, optim::Optimizer& opt, const Task& task, const Options& o) {
  data::DataLoader loader(task.train_set,
                          {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed});
  std::optional<Evaluation> test;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const std::string label =
        task.name + ", epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    const EpochResult tr = train_epoch(net, loader, opt, task, label, o.batch_size, o.quiet);
    test = evaluate(net, task);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s  train loss %.4f acc %.2f %%  test loss %.4f acc %.2f %%  %.1f s\n",
                label.c_str(), tr.loss, 100 * tr.accuracy, test->result.loss,
                100 * test->result.accuracy, seconds);
    std::fflush(stdout);
  }
  return std::move(*test);
}

// The names of the tensors of `now` whose bytes differ from those of the same name in `before`
// (or that have another shape, or are missing from `now`), over the names in `before` that start
// with `prefix`.
std::vector<std::string> changed_tensors(const nn::StateDict& before, const nn::StateDict& now,
                                         const std::string& prefix, int64_t& compared) {
  std::vector<std::string> changed;
  compared = 0;
  for (const auto& [name, old] : before) {
    if (name.rfind(prefix, 0) != 0) continue;
    ++compared;
    const Tensor<float>* cur = now.find(name);
    if (cur == nullptr || cur->shape() != old.shape()) {
      changed.push_back(name);
      continue;
    }
    const Tensor<float> a = old.contiguous(), b = cur->detach().contiguous();
    if (std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<size_t>(a.numel()) * sizeof(float))) {
      changed.push_back(name);
    }
  }
  return changed;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

int run(const Options& o) {
  set_num_threads(o.threads);

  // ---- data: the first --limit training images, split into the digits 0-4 and 5-9
  const auto train_full = std::make_shared<data::MNIST>(o.data);
  const auto test_full = std::make_shared<data::MNIST>(o.data, data::MNISTOptions{.train = false});
  const int64_t n_train = o.limit > 0 ? std::min(o.limit, train_full->size()) : train_full->size();
  const Task old_task = make_task(train_full, test_full, n_train, 0);
  const Task new_task = make_task(train_full, test_full, n_train, 5);
  std::printf(
      "MNIST from %s: %lld training images, %s: %lld training / %lld test, %s: %lld / %lld\n",
      o.data.c_str(), static_cast<long long>(n_train), old_task.name.c_str(),
      static_cast<long long>(old_task.train_set.size()),
      static_cast<long long>(old_task.test_set.size()), new_task.name.c_str(),
      static_cast<long long>(new_task.train_set.size()),
      static_cast<long long>(new_task.test_set.size()));
  std::printf(
      "CNN: features conv 16, conv 32 (frozen in step 3), head dense 128, 5; Adam lr %g, "
      "batch %lld, epochs %d per task, threads %d\n",
      o.lr, static_cast<long long>(o.batch_size), o.epochs, o.threads);
  std::fflush(stdout);

  std::filesystem::create_directories(o.out);
  const std::filesystem::path out(o.out);
  const std::string old_path = (out / "digits_0_4.safetensors").string();
  const std::string new_path = (out / "digits_5_9.safetensors").string();

  // ---- 1. the digits 0-4, every layer trained
  std::printf("\n1. %s: features and head trained\n", old_task.name.c_str());
  manual_seed(o.seed);
  DigitNet base(make_features());
  optim::Adam base_opt(base.parameters(), {.lr = o.lr});
  const Evaluation trained = train_task(base, base_opt, old_task, o);
  io::save(base, old_path);
  std::printf("wrote %s\n", old_path.c_str());

  // ---- 2. a new model, loaded from the file
  DigitNet loaded(make_features());
  io::load(loaded, old_path);
  const Evaluation reloaded = evaluate(loaded, old_task);
  std::printf("\n2. loaded %s into a new model: %s test acc %.2f %% (trained model: %.2f %%)\n",
              old_path.c_str(), old_task.name.c_str(), 100 * reloaded.result.accuracy,
              100 * trained.result.accuracy);

  // ---- 3. the digits 5-9: the loaded features frozen, a new head trained alone
  loaded.features.requires_grad_(false);
  DigitNet transfer(loaded.features);  // the same (frozen) feature tensors, a new random head
  optim::Adam head_opt(transfer.head.parameters(), {.lr = o.lr});
  int64_t frozen = 0, trainable = 0;
  for (const Tensor<float>& p : transfer.parameters()) {
    (p.requires_grad() ? trainable : frozen) += p.numel();
  }
  std::printf(
      "\n3. %s (labels 5..9 -> 0..4): features frozen (%lld weights), new head trained "
      "(%lld weights)\n",
      new_task.name.c_str(), static_cast<long long>(frozen), static_cast<long long>(trainable));
  const Evaluation transferred = train_task(transfer, head_opt, new_task, o);
  io::save(transfer, new_path);
  std::printf("wrote %s\n", new_path.c_str());

  // ---- 4. checks: the frozen weights as in the file, the old task as before
  int64_t compared = 0;
  const std::vector<std::string> changed =
      changed_tensors(io::load_file(old_path), transfer.state_dict(), "features.", compared);
  bool gradients = false;  // a frozen parameter that got a gradient
  for (const Tensor<float>& p : transfer.features.parameters()) gradients |= p.grad().defined();
  const Evaluation old_after = evaluate(loaded, old_task);

  std::printf("\n%s test confusion matrix (rows: true digit, columns: predicted digit)\n%s",
              new_task.name.c_str(), transferred.confusion.to_string().c_str());
  std::printf("\nresults\n");
  std::printf(
      "  %s (old task, features + old head): test acc %.2f %% after step 1, %.2f %% after "
      "step 3\n",
      old_task.name.c_str(), 100 * trained.result.accuracy, 100 * old_after.result.accuracy);
  std::printf("  %s (new task, frozen features + new head): test acc %.2f %%\n",
              new_task.name.c_str(), 100 * transferred.result.accuracy);
  if (changed.empty()) {
    std::printf("  frozen features: %lld tensors bit-for-bit equal to %s\n",
                static_cast<long long>(compared), old_path.c_str());
  } else {
    std::printf("  frozen features: %zu of %lld tensors CHANGED: %s\n", changed.size(),
                static_cast<long long>(compared), join(changed).c_str());
  }

  int status = 0;
  if (reloaded.result.accuracy != trained.result.accuracy) {
    std::fprintf(stderr,
                 "transfer_learning: the model loaded from %s does not reproduce the "
                 "trained model's accuracy\n",
                 old_path.c_str());
    status = 2;
  }
  if (compared == 0 || !changed.empty() || gradients) {
    std::fprintf(stderr, "transfer_learning: the frozen feature weights %s\n",
                 compared == 0 ? "were not found in the saved file"
                 : gradients   ? "received gradients"
                               : "changed while the new head was trained");
    status = 2;
  }
  for (const auto* e : {&old_after, &transferred}) {
    if (e->result.accuracy < kMinAccuracy) {
      std::fprintf(stderr,
                   "transfer_learning: %s test accuracy %.2f %% is below the sanity "
                   "floor of %.0f %%\n",
                   e == &old_after ? old_task.name.c_str() : new_task.name.c_str(),
                   100 * e->result.accuracy, 100 * kMinAccuracy);
      status = 2;
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Transfer learning on MNIST: a CNN trained on the digits 0-4, saved, loaded, "
      "frozen, and given a new head for the digits 5-9."};
  app.add_option("--epochs", o.epochs, "passes over the training images, for each task")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "images per step")
      ->check(CLI::Range(int64_t{1}, int64_t{60000}))
      ->capture_default_str();
  app.add_option("--lr", o.lr, "Adam's learning rate (both trainings)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", o.threads, "CPU threads of the kernels")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "random seed (weights, order)")->capture_default_str();
  app.add_option("--limit", o.limit,
                 "keep the first N training images before the 0-4 / 5-9 split (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--data", o.data, "folder of the MNIST IDX files")
      ->default_str(std::string(kDefaultData) + " (from the working directory, .. or ../..)");
  app.add_option("--out", o.out, "folder for digits_0_4.safetensors and digits_5_9.safetensors")
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  if (o.data.empty()) o.data = default_data_folder();
  std::error_code ec;
  if (!std::filesystem::is_directory(o.data, ec)) {
    std::fprintf(stderr,
                 "transfer_learning: no MNIST folder at %s\n"
                 "Give the folder of the four MNIST IDX files (train-images-idx3-ubyte.gz, ...) "
                 "with --data; the default is %s, relative to the working directory (or to its "
                 "parent or grandparent).\n",
                 o.data.c_str(), kDefaultData);
    return 1;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "transfer_learning: %s\n", e.what());
    return 1;
  }
}
