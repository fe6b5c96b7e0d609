// What the training examples share: their common command-line options, where the data is, main's
// messages and exit codes, and the classification pieces of mnist_mlp and transfer_learning
// (train::fit's epochs shown as the examples show them, an evaluation with a confusion matrix).
// fashion_mnist keeps its own hand-written loop on purpose: a plain loop is as much Sinew as fit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

#include "example_main.hpp"

namespace sinew::examples {

// MNIST in Sinew's development tree: the repository's sibling folder, seen from the working
// directory.
inline constexpr const char* kMnistFolder = "../shared/datasets/mnist";
// Where Debian's package dataset-fashion-mnist installs Fashion-MNIST.
inline constexpr const char* kFashionMnistFolder = "/usr/share/datasets/fashion-mnist";

inline int default_threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// The options every training example takes; each program sets its own defaults.
struct CommonOptions {
  std::string data = "";  // empty (mnist_mlp, transfer_learning): see resolve_mnist_folder
  std::string out = "";
  int epochs = 1;
  int64_t batch_size = 64;
  double lr = 1e-3;
  int threads = default_threads();
  uint64_t seed = 42;
  int64_t limit = 0;  // 0: all training images
  bool quiet = false;
  std::string device = "cpu";  // --device: cpu, cuda or cuda:N
};

// What --help says of each common option, per program.
struct OptionHelp {
  std::string epochs = "passes over the training images";
  std::string batch_size = "images per step";
  int64_t min_batch_size = 1;
  std::string lr = "Adam's learning rate";
  std::string seed = "random seed (weights, order)";
  std::string limit = "train on the first N images only (0: all)";
  std::string data = "folder of the (Fashion-)MNIST IDX files";
  std::string out = "output folder";
  // The default --help shows where it is not the option's initial value; empty: that value.
  std::string batch_size_default = "";
  std::string lr_default = "";
  std::string data_default = "";
};

namespace detail {
inline void show_default(CLI::Option* option, const std::string& text) {
  if (text.empty()) {
    option->capture_default_str();
  } else {
    option->default_str(text);
  }
}
}  // namespace detail

// --epochs, --batch-size, --lr, --threads, --seed, --limit, --data, --out, --quiet and --device,
// into `o`.
inline void add_common_options(CLI::App& app, CommonOptions& o, const OptionHelp& help) {
  app.add_option("--epochs", o.epochs, help.epochs)
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  detail::show_default(app.add_option("--batch-size", o.batch_size, help.batch_size)
                           ->check(CLI::Range(help.min_batch_size, int64_t{60000})),
                       help.batch_size_default);
  detail::show_default(app.add_option("--lr", o.lr, help.lr)->check(CLI::PositiveNumber),
                       help.lr_default);
  app.add_option("--threads", o.threads, "CPU threads of the kernels")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--seed", o.seed, help.seed)->capture_default_str();
  app.add_option("--limit", o.limit, help.limit)
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  detail::show_default(app.add_option("--data", o.data, help.data), help.data_default);
  app.add_option("--out", o.out, help.out)->capture_default_str();
  app.add_flag("--quiet", o.quiet, "no progress bar");
  add_device_option(app, o.device);
}

// --data's default text where it is looked up with find_mnist_folder().
inline std::string mnist_folder_help() {
  return std::string(kMnistFolder) + " (from the working directory, .. or ../..)";
}

// The MNIST folder: kMnistFolder seen from the working directory, else from its parent or
// grandparent (a build directory inside the repository). The first candidate when none exists,
// for the error message.
inline std::string find_mnist_folder() {
  std::error_code ec;
  std::filesystem::path up;
  for (int level = 0; level < 3; ++level, up /= "..") {
    const std::filesystem::path p = up / kMnistFolder;
    if (std::filesystem::is_directory(p, ec)) return p.lexically_normal().string();
  }
  return kMnistFolder;
}

// An empty `folder` becomes find_mnist_folder(). Whether it is a directory; when not, `program`
// says on stderr where MNIST is expected.
inline bool resolve_mnist_folder(const char* program, std::string& folder) {
  if (folder.empty()) folder = find_mnist_folder();
  std::error_code ec;
  if (std::filesystem::is_directory(folder, ec)) return true;
  std::fprintf(stderr,
               "%s: no MNIST folder at %s\n"
               "Give the folder of the four MNIST IDX files (train-images-idx3-ubyte.gz, ...) "
               "with --data; the default is %s, relative to the working directory (or to its "
               "parent or grandparent).\n",
               program, folder.c_str(), kMnistFolder);
  return false;
}

// The same for Fashion-MNIST; `files` says which IDX files the program reads.
inline bool check_fashion_mnist_folder(const char* program, const std::string& folder,
                                       const char* files = "the four IDX files") {
  std::error_code ec;
  if (std::filesystem::is_directory(folder, ec)) return true;
  std::fprintf(stderr,
               "%s: no Fashion-MNIST folder at %s\n"
               "Install the Debian package dataset-fashion-mnist (apt-get install "
               "dataset-fashion-mnist), or give the folder of %s with --data.\n",
               program, folder.c_str(), files);
  return false;
}

// --limit applied to a training set of `size` images.
inline int64_t training_count(int64_t limit, int64_t size) {
  return limit > 0 ? std::min(limit, size) : size;
}

inline std::string epoch_label(int64_t epoch, int64_t epochs) {
  return "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs);
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- classification ----------------------------------------------------------------------------

struct LossAccuracy {
  double loss = 0;
  double accuracy = 0;
};

// The classifiers' line per epoch.
inline void print_epoch_line(const std::string& label, const LossAccuracy& train,
                             const LossAccuracy& test, double seconds) {
  std::printf("%s  train loss %.4f acc %.2f %%  test loss %.4f acc %.2f %%  %.1f s\n",
              label.c_str(), train.loss, 100 * train.accuracy, test.loss, 100 * test.accuracy,
              seconds);
  std::fflush(stdout);
}

// A train::fit callback (with .verbose = false) that shows an epoch as the hand-written loops do:
// a progress bar (while training, the running mean of the batch losses; at the end, fit's loss
// and acc; none when quiet), then print_epoch_line of fit's loss, acc, val_loss, val_acc and
// seconds (so fit needs Metric::accuracy() and a val_loader). The label is `prefix` followed by
// "epoch 1/5".
class EpochPrinter : public train::Callback {
 public:
  EpochPrinter(std::string prefix, int64_t batch_size, bool quiet)
      : prefix_(std::move(prefix)), batch_size_(batch_size), quiet_(quiet) {}

  void on_epoch_begin(train::FitState& s) override {
    loss_ = {};
    bar_.emplace(s.batches, train::ProgressBarOptions{
                                .silent = quiet_, .label = label(s), .batch_size = batch_size_});
  }
  void on_batch_end(train::FitState& s) override {
    loss_.add(s.batch_loss);
    bar_->step({{"loss", loss_.mean()}});
  }
  void on_epoch_end(train::FitState& s) override {
    bar_->finish({{"loss", s.value("loss")}, {"acc", s.value("acc")}});
    print_epoch_line(label(s), {s.value("loss"), s.value("acc")},
                     {s.value("val_loss"), s.value("val_acc")}, s.value("seconds"));
  }

 private:
  std::string label(const train::FitState& s) const {
    return prefix_ + epoch_label(s.epoch, s.epochs);
  }

  std::string prefix_;
  int64_t batch_size_;
  bool quiet_;
  train::RunningMean loss_;
  std::optional<train::ProgressBar> bar_;
};

struct Evaluation {
  LossAccuracy result;
  train::ConfusionMatrix confusion;
};

// Cross-entropy, accuracy (each averaged over the images) and the confusion matrix of `net` on
// the (image, label) batches of `loader`, in eval mode and without recording a graph; the batches
// go to the device of the model's parameters.
template <class Loader>
Evaluation evaluate_classifier(nn::Module& net, Loader& loader,
                               const std::vector<std::string>& classes) {
  net.eval();
  NoGradGuard no_grad;
  train::RunningMean loss, accuracy;
  Evaluation e{{}, train::ConfusionMatrix(static_cast<int64_t>(classes.size()), classes)};
  const Device device = nn::module_device(net);
  for (auto& [host_images, host_labels] : loader) {
    const Tensor<float> images = host_images.to(device);
    const Tensor<int64_t> labels = host_labels.to(device);
    Tensor<float> logits = net(images);
    const auto n = static_cast<double>(labels.size(0));
    loss.add(nn::F::cross_entropy(logits, labels).item(), n);
    accuracy.add(train::accuracy(logits, labels), n);
    e.confusion.update(logits, labels);
  }
  e.result = {loss.mean(), accuracy.mean()};
  return e;
}

}  // namespace sinew::examples
