// Trains a classifier of Zalando's Fashion-MNIST clothing images: one of the benchmark workloads of
// DESIGN.md, the CNN W2 by default (the MLP W1, the row-by-row LSTM W3 or the batch-norm CNN W4 on
// request). Prints the model summary, a progress bar per epoch and one line of results per epoch,
// then the test set's confusion matrix and a classification report, and writes to --out:
//   model.safetensors  the trained weights (io::save; PyTorch's state-dict names)
//   history.csv        train and test loss and accuracy per epoch, and the epoch's seconds
//   curves.svg         the loss and accuracy curves
//   report.html        settings, results, summary, curves, confusion matrix, misclassified images
//   checkpoint.safetensors  after every epoch, and on Ctrl-C: weights, optimizer state, epoch,
//   random state, history (and, on Ctrl-C, how far the epoch had come)
//
//   fashion_mnist [--model cnn|mlp|lstm|bncnn] [--epochs N] [--batch-size N] [--lr X]
//                 [--threads N] [--augment] [--workers N] [--seed N] [--limit N]
//                 [--data DIR] [--out DIR] [--resume] [--quiet] [--device cpu|cuda|cuda:N]
//
// The data: the four IDX files (gzip'd or not) in --data; Debian's package dataset-fashion-mnist
// installs them in /usr/share/datasets/fashion-mnist. Images are scaled to [0, 1] and normalized
// with the training set's mean 0.2860 and standard deviation 0.3530. --augment trains on random
// crops (28 x 28 of the image padded by 2) flipped left-right half of the time, made by DataLoader
// workers. --limit N trains on the first N training images only, for a quick look; the test set is
// always all 10,000 images. With the defaults the CNN reaches about 91-92 % test accuracy in 5
// epochs, the MLP about 87-88 %.
//
// --resume continues the run whose checkpoint is in --out up to --epochs, with the settings it was
// started with (the model, batch size, learning rate, augmentation, seed and --limit must match;
// threads and workers may differ): the weights it ends with are bit for bit those of a run that
// was never interrupted. Ctrl-C (SIGINT, or SIGTERM) stops training after the batch in progress,
// saves the checkpoint with the position in the epoch and exits with status 130; --resume then
// continues with the next batch. A second Ctrl-C ends the program at once.
//
// --device cuda trains on the GPU (a build with the CUDA backend, Sinew::cuda): the model is moved
// there once, and each batch as it comes from the DataLoader.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

#include "example_common.hpp"

using namespace sinew;

namespace {

// The training set's pixel mean and standard deviation (DESIGN.md, "Benchmark workloads").
constexpr float kMean = 0.2860f, kStd = 0.3530f;

// The common options' batch_size and lr are 0 unless given: the workload's.
struct Options : examples::CommonOptions {
  std::string model = "cnn";
  bool augment = false;
  std::optional<int64_t> workers = std::nullopt;  // unset: 1 with --augment, else 0
  bool resume = false;
  int64_t interrupt_after = 0;  // tests: raise SIGINT after this many training batches (0: never)
};

// ---- the models (DESIGN.md, "Benchmark workloads") ---------------------------------------------

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

nn::Sequential make_model(const std::string& name) {
  if (name == "mlp") {  // W1
    return nn::Sequential(nn::Flatten(), nn::Linear(784, 128), nn::ReLU(), nn::Dropout(0.2),
                          nn::Linear(128, 10));
  }
  if (name == "lstm") {  // W3
    return nn::Sequential(RowLstm(), nn::Linear(128, 10));
  }
  if (name == "bncnn") {  // W4: W2 with batch norm, conv bias off
    return nn::Sequential(nn::Conv2d(1, 32, 3, {.padding = 1, .bias = false}), nn::BatchNorm2d(32),
                          nn::ReLU(), nn::MaxPool2d(2),
                          nn::Conv2d(32, 64, 3, {.padding = 1, .bias = false}), nn::BatchNorm2d(64),
                          nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(3136, 128),
                          nn::BatchNorm1d(128), nn::ReLU(), nn::Dropout(0.25), nn::Linear(128, 10));
  }
  // W2
  return nn::Sequential(nn::Conv2d(1, 32, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(32, 64, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(3136, 128), nn::ReLU(), nn::Dropout(0.25),
                        nn::Linear(128, 10));
}

// The workloads' optimizers: SGD with momentum 0.9 for the CNN, Adam for the others.
bool uses_sgd(const std::string& model) { return model == "cnn"; }
double default_lr(const std::string& model) { return uses_sgd(model) ? 0.01 : 1e-3; }
int64_t default_batch_size(const std::string& model) { return model == "bncnn" ? 128 : 64; }

std::unique_ptr<optim::OptimizerT<float>> make_optimizer(nn::Sequential& net,
                                                         const std::string& model, double lr) {
  if (uses_sgd(model)) {
    return std::make_unique<optim::SGD>(net.parameters(),
                                        optim::SGDOptions{.lr = lr, .momentum = 0.9});
  }
  return std::make_unique<optim::Adam>(net.parameters(), optim::AdamOptions{.lr = lr});
}

// Images in [0, 1] -> what the models see. Done on whole batches, after any augmentation, so
// that RandomCrop's padding is black as in torchvision (crop, then Normalize).
Tensor<float> normalize(const Tensor<float>& images) { return (images - kMean) / kStd; }

// ---- training and evaluation -------------------------------------------------------------------

using EpochResult = examples::LossAccuracy;

// How far an epoch has come: the batches trained, the running loss and accuracy, and the seconds
// spent. Saved in the checkpoint ("epoch_progress") when Ctrl-C stops an epoch in the middle.
struct EpochProgress {
  int64_t batches = 0;
  train::RunningMean loss, accuracy;
  double seconds = 0;

  std::string str() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%lld %.17g %.17g %lld %.17g %.17g %.17g",
                  static_cast<long long>(batches), loss.sum(), loss.total_weight(),
                  static_cast<long long>(loss.count()), accuracy.sum(), accuracy.total_weight(),
                  seconds);
    return buf;
  }
  static EpochProgress parse(const std::string& text, const std::string& path) {
    long long batches = 0, count = 0;
    double loss_sum = 0, weight = 0, acc_sum = 0, acc_weight = 0, seconds = 0;
    char end = 0;
    const int got = std::sscanf(text.c_str(), "%lld %lf %lf %lld %lf %lf %lf %c", &batches,
                                &loss_sum, &weight, &count, &acc_sum, &acc_weight, &seconds, &end);
    SINEW_CHECK(got == 7 && batches >= 0, "fashion_mnist", path, ": epoch_progress '", text,
                "' is not the position fashion_mnist saves");
    return {batches, train::RunningMean(loss_sum, weight, count),
            train::RunningMean(acc_sum, acc_weight, count), seconds};
  }
};

// Trains one epoch from where `progress` says it stands. Returns false when Ctrl-C stopped it:
// then `progress` tells how far it came. `countdown` counts down the batches left before
// --interrupt-after raises SIGINT (0: off).
template <class Loader>
bool train_epoch(nn::Sequential& net, Loader& loader, optim::Optimizer& opt,
                 const std::string& label, int64_t batch_size, bool quiet, EpochProgress& progress,
                 int64_t& countdown) {
  net.train();
  train::RunningMean& loss = progress.loss;
  train::RunningMean& accuracy = progress.accuracy;
  train::ProgressBar bar(loader.size() - progress.batches,
                         {.silent = quiet, .label = label, .batch_size = batch_size});
  const Device device = nn::module_device(net);
  int64_t index = 0;
  for (auto& [host_images, host_labels] : loader) {
    if (index++ < progress.batches) continue;  // trained before the interruption
    const Tensor<float> images = host_images.to(device);
    const Tensor<int64_t> labels = host_labels.to(device);
    opt.zero_grad();
    Tensor<float> logits = net(normalize(images));
    Tensor<float> l = nn::F::cross_entropy(logits, labels);
    l.backward();
    opt.step();
    const auto n = static_cast<double>(labels.size(0));
    loss.add(l.item(), n);
    accuracy.add(train::accuracy(logits, labels), n);
    ++progress.batches;
    bar.step({{"loss", loss.mean()}, {"acc", accuracy.mean()}});
    if (countdown > 0 && --countdown == 0) std::raise(SIGINT);
    if (examples::interrupted()) return false;
  }
  bar.finish({{"loss", loss.mean()}, {"acc", accuracy.mean()}});
  return true;
}

struct Evaluation {
  EpochResult result;
  train::ConfusionMatrix confusion;
  std::vector<train::ReportImage> misclassified;  // the first ones, in test-set order
};

// Loss, accuracy, confusion matrix and the first `max_images` mistakes on the test set, in eval
// mode (dropout off, batch norm's running statistics) and without recording a graph.
template <class Loader>
Evaluation evaluate(nn::Sequential& net, Loader& loader, const std::vector<std::string>& classes,
                    size_t max_images) {
  net.eval();
  NoGradGuard no_grad;
  train::RunningMean loss;
  Evaluation e{{}, train::ConfusionMatrix(static_cast<int64_t>(classes.size()), classes), {}};
  const Device device = nn::module_device(net);
  for (auto& [images, host_labels] : loader) {  // images stay on the host for the report
    const Tensor<int64_t> labels = host_labels.to(device);
    Tensor<float> logits = net(normalize(images.to(device)));
    loss.add(nn::F::cross_entropy(logits, labels).item(), static_cast<double>(labels.size(0)));
    e.confusion.update(logits, labels);
    const std::vector<int64_t> predicted = logits.argmax(1).to_vector();
    const std::vector<int64_t> truth = labels.to_vector();
    for (size_t i = 0; i < truth.size() && e.misclassified.size() < max_images; ++i) {
      if (predicted[i] == truth[i]) continue;
      e.misclassified.push_back({images.select(0, static_cast<int64_t>(i)),
                                 classes[static_cast<size_t>(truth[i])],
                                 classes[static_cast<size_t>(predicted[i])]});
    }
  }
  const train::ConfusionMatrix& cm = e.confusion;
  int64_t correct = 0;
  for (int64_t c = 0; c < cm.num_classes(); ++c) correct += cm.count(c, c);
  e.result = {loss.mean(), static_cast<double>(correct) / static_cast<double>(cm.total())};
  return e;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string percent(double fraction) { return fixed(100.0 * fraction, 2) + " %"; }

int run(const Options& o) {
  const int64_t batch_size = o.batch_size > 0 ? o.batch_size : default_batch_size(o.model);
  const double lr = o.lr > 0 ? o.lr : default_lr(o.model);
  const int64_t workers = o.workers.value_or(o.augment ? 1 : 0);
  set_num_threads(o.threads);
  const Device device = examples::select_device(o.device);

  // ---- data
  const data::FashionMNIST train_full(o.data);
  const data::FashionMNIST test_set(o.data, {.train = false});
  const std::vector<std::string>& classes = train_full.classes();
  const int64_t n_train = examples::training_count(o.limit, train_full.size());
  data::TensorDataset train_set(train_full.images().narrow(0, 0, n_train),
                                train_full.labels().narrow(0, 0, n_train));

  namespace T = data::transforms;
  data::transforms::TransformFn augment = {};
  if (o.augment) augment = T::Compose{T::RandomCrop(28, 2), T::RandomHorizontalFlip()};
  // Batch norm cannot train on a batch of one image: drop such a last batch.
  const bool drop_last = o.model == "bncnn" && n_train % batch_size == 1;
  data::DataLoader train_loader(train_set, {.batch_size = batch_size,
                                            .shuffle = true,
                                            .drop_last = drop_last,
                                            .num_workers = workers,
                                            .seed = o.seed,
                                            .transform = augment});
  data::DataLoader test_loader(test_set, {.batch_size = 1000});

  // ---- model and optimizer
  manual_seed(o.seed);
  nn::Sequential net = make_model(o.model);
  net.to(device);
  std::unique_ptr<optim::OptimizerT<float>> opt = make_optimizer(net, o.model, lr);
  const std::string optimizer =
      uses_sgd(o.model) ? "SGD lr " + fixed(lr, 4) + ", momentum 0.9" : "Adam lr " + fixed(lr, 4);
  const nn::ModelSummary summary = nn::summary(net, {1, 1, 28, 28});
  // What a resumed run must share with the run it continues (the rest does not change results).
  const std::string settings = "model " + o.model + ", batch " + std::to_string(batch_size) +
                               ", lr " + fixed(lr, 6) + ", augment " + (o.augment ? "on" : "off") +
                               ", seed " + std::to_string(o.seed) + ", training images " +
                               std::to_string(n_train);

  std::printf("Fashion-MNIST: %lld training images, %lld test images, from %s\n",
              static_cast<long long>(n_train), static_cast<long long>(test_set.size()),
              o.data.c_str());
  std::printf("model %s, %s, batch %lld, epochs %d, threads %d, device %s%s\n", o.model.c_str(),
              optimizer.c_str(), static_cast<long long>(batch_size), o.epochs, o.threads,
              device.str().c_str(), o.augment ? ", augmented" : "");
  std::cout << summary << std::flush;

  // ---- training
  std::filesystem::create_directories(o.out);
  const std::filesystem::path out(o.out);
  const std::string checkpoint = (out / "checkpoint.safetensors").string();
  train::History history;
  std::optional<Evaluation> test;
  double total_seconds = 0;
  int64_t first_epoch = 1;
  EpochProgress resumed_progress;  // of the first epoch: where Ctrl-C stopped it, if it did
  if (o.resume) {
    const train::CheckpointInfo info = train::load_checkpoint(checkpoint, net, *opt);
    const auto saved_settings = info.extra.find("settings");
    const auto saved_history = info.extra.find("history");
    if (saved_settings == info.extra.end() || saved_history == info.extra.end()) {
      std::fprintf(stderr, "fashion_mnist: %s was not written by fashion_mnist\n",
                   checkpoint.c_str());
      return 1;
    }
    const std::string& saved = saved_settings->second;
    if (saved != settings) {
      std::fprintf(stderr,
                   "fashion_mnist: --resume needs the settings of the run it continues\n"
                   "  checkpoint: %s\n  this run:   %s\n",
                   saved.c_str(), settings.c_str());
      return 1;
    }
    history = train::History::from_csv(saved_history->second, checkpoint);
    if (history.size() > 0) {  // none when Ctrl-C stopped the first epoch
      for (double s : history.column("seconds")) total_seconds += s;
    }
    first_epoch = info.epoch + 1;
    if (const auto saved_progress = info.extra.find("epoch_progress");
        saved_progress != info.extra.end()) {
      resumed_progress = EpochProgress::parse(saved_progress->second, checkpoint);
      std::printf("resuming from %s in epoch %lld after batch %lld\n", checkpoint.c_str(),
                  static_cast<long long>(first_epoch),
                  static_cast<long long>(resumed_progress.batches));
    } else {
      std::printf("resuming from %s after epoch %lld\n", checkpoint.c_str(),
                  static_cast<long long>(info.epoch));
    }
  }
  examples::catch_interrupts();
  int64_t countdown = o.interrupt_after;
  auto stop = [&](const char* where) {
    std::printf("\ninterrupted %s: saved %s; --resume continues from there\n", where,
                checkpoint.c_str());
    return examples::kInterruptedStatus;
  };
  for (int64_t epoch = first_epoch; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    train_loader.set_epoch(epoch - 1);  // the order depends only on the seed and the epoch
    const std::string label = examples::epoch_label(epoch, o.epochs);
    EpochProgress progress = epoch == first_epoch ? resumed_progress : EpochProgress{};
    if (!train_epoch(net, train_loader, *opt, label, batch_size, o.quiet, progress, countdown)) {
      progress.seconds += examples::seconds_since(start);
      train::save_checkpoint(checkpoint, net, *opt,
                             {.epoch = epoch - 1,
                              .extra = {{"settings", settings},
                                        {"history", history.to_csv()},
                                        {"epoch_progress", progress.str()}}});
      const std::string where =
          "in epoch " + std::to_string(epoch) + " after batch " + std::to_string(progress.batches);
      return stop(where.c_str());
    }
    const EpochResult tr{progress.loss.mean(), progress.accuracy.mean()};
    test = evaluate(net, test_loader, classes, 36);
    const double seconds = progress.seconds + examples::seconds_since(start);
    total_seconds += seconds;
    const EpochResult& te = test->result;
    examples::print_epoch_line(label, tr, te, seconds);
    history.record(epoch, {{"train_loss", tr.loss},
                           {"train_acc", tr.accuracy},
                           {"test_loss", te.loss},
                           {"test_acc", te.accuracy},
                           {"seconds", seconds}});
    train::save_checkpoint(
        checkpoint, net, *opt,
        {.epoch = epoch, .extra = {{"settings", settings}, {"history", history.to_csv()}}});
    if (examples::interrupted()) {  // during the evaluation: the epoch's checkpoint is saved
      const std::string where = "after epoch " + std::to_string(epoch);
      return stop(where.c_str());
    }
  }
  if (!test) {  // a resumed run that had nothing left to do: the results of the saved weights
    std::printf("the checkpoint has %lld epochs already (--epochs %d)\n",
                static_cast<long long>(first_epoch - 1), o.epochs);
    test = evaluate(net, test_loader, classes, 36);
  }

  // ---- results
  const train::ConfusionMatrix& cm = test->confusion;
  std::printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%s\n",
              cm.to_string().c_str());
  std::printf("%s\n", train::classification_report(cm, 4).c_str());

  io::save(net, (out / "model.safetensors").string());
  history.save_csv((out / "history.csv").string());
  train::save_svg((out / "curves.svg").string(), train::curves_svg(history));

  train::ReportData report;
  report.title = "Fashion-MNIST, " + o.model;
  report.settings = {
      {"model", o.model},
      {"optimizer", optimizer},
      {"batch size", std::to_string(batch_size)},
      {"epochs", std::to_string(o.epochs)},
      {"augmentation", o.augment ? "RandomCrop(28, 2), RandomHorizontalFlip" : "none"},
      {"DataLoader workers", std::to_string(workers)},
      {"threads", std::to_string(o.threads)},
      {"device", device.str()},
      {"seed", std::to_string(o.seed)},
      {"training images", std::to_string(n_train)},
      {"test images", std::to_string(test_set.size())},
      {"data", o.data}};
  report.results = {
      {"test accuracy", percent(test->result.accuracy)},
      {"test loss", fixed(test->result.loss, 4)},
      {"train accuracy", percent(history.last("train_acc"))},
      {"train loss", fixed(history.last("train_loss"), 4)},
      {"seconds per epoch", fixed(total_seconds / static_cast<double>(history.size()), 1)},
      {"total seconds", fixed(total_seconds, 1)}};
  report.model_summary = summary.str();
  report.history = history;
  report.confusion = cm;
  report.misclassified = test->misclassified;
  const std::string report_path = (out / "report.html").string();
  train::write_report(report_path, report);

  std::printf("wrote %s, %s and %s\n", (out / "model.safetensors").c_str(),
              (out / "history.csv").c_str(), (out / "curves.svg").c_str());
  std::printf("%s\n", report_path.c_str());
  if (test->result.accuracy < 0.3) {  // chance is 10 %
    std::fprintf(stderr, "fashion_mnist: the model learned next to nothing (test accuracy %s)\n",
                 percent(test->result.accuracy).c_str());
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o{{.data = examples::kFashionMnistFolder,
             .out = "runs/fashion_mnist",
             .epochs = 5,
             .batch_size = 0,
             .lr = 0}};
  CLI::App app{"Trains a classifier of Fashion-MNIST (DESIGN.md's workloads W1-W4)."};
  app.add_option("--model", o.model, "cnn (W2), mlp (W1), lstm (W3) or bncnn (W4)")
      ->check(CLI::IsMember({"cnn", "mlp", "lstm", "bncnn"}))
      ->capture_default_str();
  examples::add_common_options(app, o,
                               {.lr = "learning rate",
                                .seed = "random seed (weights, dropout, order, augmentation)",
                                .limit = "train on the first N images only (0: all 60,000)",
                                .data = "folder of the Fashion-MNIST IDX files",
                                .out = "folder for the model, history, curves and report",
                                .batch_size_default = "64, 128 for bncnn",
                                .lr_default = "1e-3 (Adam), 0.01 for cnn (SGD, momentum 0.9)"});
  app.add_flag("--augment", o.augment, "random crops (padding 2) and horizontal flips in training");
  app.add_option("--workers", o.workers, "DataLoader worker threads")
      ->check(CLI::Range(int64_t{0}, int64_t{64}))
      ->default_str("0, 1 with --augment");
  app.add_flag("--resume", o.resume,
               "continue the run whose checkpoint.safetensors is in --out, up to --epochs");
  app.add_option("--interrupt-after", o.interrupt_after,
                 "raise SIGINT after N training batches, as Ctrl-C would (for tests)")
      ->check(CLI::NonNegativeNumber)
      ->group("");  // hidden from --help
  CLI11_PARSE(app, argc, argv);

  if (!examples::check_fashion_mnist_folder("fashion_mnist", o.data)) return 1;
  return examples::run_main("fashion_mnist", [&] { return run(o); });
}
