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
//                     [--data DIR] [--out DIR] [--quiet] [--device cpu|cuda|cuda:N]
//
// --epochs and --lr apply to each of the two trainings (both run by train::fit). --limit N keeps
// the first N training images before they are split into 0-4 and 5-9; the test sets are always
// every test image of their digits. The data: the four MNIST IDX files in --data, by default the
// repository's sibling folder ../shared/datasets/mnist, looked for from the working directory, then
// from its parent and its grandparent (so the default works from the repository root, from build/
// and from build/<dir>). Images are scaled to [0, 1] and normalized with MNIST's usual mean 0.1307
// and standard deviation 0.3081. With the defaults (3 epochs, all 24,345 training images) the CNN
// reaches about 99 % on the digits 0-4 and the new head about 98.5 % on the digits 5-9.
//
// Exits with status 2 when the loaded model computes otherwise than the saved one, a frozen weight
// changed or either final accuracy is below 80 %: the ctest entry example.transfer_learning
// (--epochs 1 --limit 3000: about 94 % on 0-4 and 86 % on 5-9) relies on it.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

#include "example_common.hpp"

using namespace sinew;

namespace {

// MNIST's training-set pixel mean and standard deviation (torchvision's Normalize values).
constexpr float kMean = 0.1307f, kStd = 0.3081f;
// Below this final test accuracy (of either task) the program reports failure.
constexpr double kMinAccuracy = 0.80;

using Options = examples::CommonOptions;

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

Tensor<float> normalize(const Tensor<float>& images) { return (images - kMean) / kStd; }

// The images of the digits first..first+4 among the first n of `ds`, normalized, with the labels
// first..first+4 shifted to 0..4.
data::TensorDataset<float, int64_t> digits(const data::MNIST& ds, int64_t n, int64_t first) {
  std::vector<int64_t> indices;
  const int64_t* label = ds.labels().data_ptr();
  for (int64_t i = 0; i < n; ++i) {
    if (label[i] >= first && label[i] < first + 5) indices.push_back(i);
  }
  const Tensor<int64_t> index =
      from_vector<int64_t>(indices, {static_cast<int64_t>(indices.size())});
  return data::TensorDataset<float, int64_t>(normalize(ds.images().index_select(0, index)),
                                             ds.labels().index_select(0, index) - first);
}

struct Task {
  std::string name;  // "digits 0-4"
  std::vector<std::string> classes;
  data::TensorDataset<float, int64_t> train_set;
  data::TensorDataset<float, int64_t> test_set;
};

Task make_task(const data::MNIST& train_full, const data::MNIST& test_full, int64_t n_train,
               int64_t first) {
  std::vector<std::string> classes;
  for (int64_t d = first; d < first + 5; ++d) classes.push_back(std::to_string(d));
  return Task{"digits " + std::to_string(first) + "-" + std::to_string(first + 4), classes,
              digits(train_full, n_train, first), digits(test_full, test_full.size(), first)};
}

// ---- training and evaluation -------------------------------------------------------------------

// Loss, accuracy and confusion matrix on the task's test images.
examples::Evaluation evaluate(nn::Module& net, const Task& task) {
  data::DataLoader loader(task.test_set, {.batch_size = 1000});
  return examples::evaluate_classifier(net, loader, task.classes);
}

// Trains `net` for o.epochs epochs on the task with train::fit, printing a line per epoch; the
// final evaluation.
examples::Evaluation train_task(nn::Module& net, optim::OptimizerT<float>& opt, const Task& task,
                                const Options& o) {
  data::DataLoader loader(task.train_set,
                          {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed});
  data::DataLoader test_loader(task.test_set, {.batch_size = 1000});
  examples::EpochPrinter printer(task.name + ", ", o.batch_size, o.quiet);
  train::fit(net, loader,
             {.optimizer = &opt,
              .epochs = o.epochs,
              .val_loader = test_loader,
              .metrics = {train::Metric::accuracy()},
              .callbacks = {&printer},
              .verbose = false});
  return evaluate(net, task);
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
    const Tensor<float> a = old.contiguous(), b = cur->detach().cpu().contiguous();
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
  const Device device = examples::select_device(o.device);

  // ---- data: the first --limit training images, split into the digits 0-4 and 5-9
  const data::MNIST train_full(o.data);
  const data::MNIST test_full(o.data, {.train = false});
  const int64_t n_train = examples::training_count(o.limit, train_full.size());
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
      "batch %lld, epochs %d per task, threads %d, device %s\n",
      o.lr, static_cast<long long>(o.batch_size), o.epochs, o.threads, device.str().c_str());
  std::fflush(stdout);

  std::filesystem::create_directories(o.out);
  const std::filesystem::path out(o.out);
  const std::string old_path = (out / "digits_0_4.safetensors").string();
  const std::string new_path = (out / "digits_5_9.safetensors").string();

  // ---- 1. the digits 0-4, every layer trained
  std::printf("\n1. %s: features and head trained\n", old_task.name.c_str());
  manual_seed(o.seed);
  DigitNet base(make_features());
  base.to(device);  // fit and the evaluations move each batch to the model's device
  optim::Adam base_opt(base.parameters(), {.lr = o.lr});
  const examples::Evaluation trained = train_task(base, base_opt, old_task, o);
  io::save(base, old_path);
  std::printf("wrote %s\n", old_path.c_str());

  // ---- 2. a new model, loaded from the file
  DigitNet loaded(make_features());
  loaded.to(device);
  io::load(loaded, old_path);  // each tensor read goes to the module's device
  const examples::Evaluation reloaded = evaluate(loaded, old_task);
  std::printf("\n2. loaded %s into a new model: %s test acc %.2f %% (trained model: %.2f %%)\n",
              old_path.c_str(), old_task.name.c_str(), 100 * reloaded.result.accuracy,
              100 * trained.result.accuracy);

  // ---- 3. the digits 5-9: the loaded features frozen, a new head trained alone
  loaded.features.requires_grad_(false);
  DigitNet transfer(loaded.features);  // the same (frozen) feature tensors, a new random head
  transfer.to(device);                 // moves the new head
  optim::Adam head_opt(transfer.head.parameters(), {.lr = o.lr});
  int64_t frozen = 0, trainable = 0;
  for (const Tensor<float>& p : transfer.parameters()) {
    (p.requires_grad() ? trainable : frozen) += p.numel();
  }
  std::printf(
      "\n3. %s (labels 5..9 -> 0..4): features frozen (%lld weights), new head trained "
      "(%lld weights)\n",
      new_task.name.c_str(), static_cast<long long>(frozen), static_cast<long long>(trainable));
  const examples::Evaluation transferred = train_task(transfer, head_opt, new_task, o);
  io::save(transfer, new_path);
  std::printf("wrote %s\n", new_path.c_str());

  // ---- 4. checks: the frozen weights as in the file, the old task as before
  int64_t compared = 0;
  const std::vector<std::string> changed =
      changed_tensors(io::load_file(old_path), transfer.state_dict(), "features.", compared);
  bool gradients = false;  // a frozen parameter that got a gradient
  for (const Tensor<float>& p : transfer.features.parameters()) gradients |= p.grad().defined();
  const examples::Evaluation old_after = evaluate(loaded, old_task);

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
  Options o{.out = "runs/transfer_learning", .epochs = 3};
  CLI::App app{
      "Transfer learning on MNIST: a CNN trained on the digits 0-4, saved, loaded, "
      "frozen, and given a new head for the digits 5-9."};
  examples::add_common_options(
      app, o,
      {.epochs = "passes over the training images, for each task",
       .lr = "Adam's learning rate (both trainings)",
       .limit = "keep the first N training images before the 0-4 / 5-9 split (0: all)",
       .data = "folder of the MNIST IDX files",
       .out = "folder for digits_0_4.safetensors and digits_5_9.safetensors",
       .data_default = examples::mnist_folder_help()});
  CLI11_PARSE(app, argc, argv);

  if (!examples::resolve_mnist_folder("transfer_learning", o.data)) return 1;
  return examples::run_main("transfer_learning", [&] { return run(o); });
}
