// A convolutional autoencoder of Fashion-MNIST (or MNIST): two stride-2 convolutions and a third
// one squeeze each 28 x 28 image into a code of 4 x 7 x 7 numbers, three transposed convolutions
// and a sigmoid rebuild the image from it; trained with Adam on the mean squared error between
// image and reconstruction. Prints the model summary and one line per epoch with the train and
// test reconstruction MSE (after a progress bar, without --quiet), then the final test MSE beside
// that of always predicting the training images' mean image, and writes to --out:
//   reconstructions.png  32 test images, each row of 8 above a row of their reconstructions
//   model.safetensors    the trained weights (io::save; PyTorch's state-dict names)
//   history.csv          train and test MSE per epoch, and the epoch's seconds
//
//   autoencoder [--epochs N] [--batch-size N] [--lr X] [--threads N] [--seed N] [--limit N]
//               [--data DIR] [--out DIR] [--quiet] [--device cpu|cuda|cuda:N]
//
// The data: the four IDX files (gzip'd or not) in --data, images scaled to [0, 1] and not
// normalized (the sigmoid's range). Debian's package dataset-fashion-mnist installs Fashion-MNIST
// in /usr/share/datasets/fashion-mnist, the default; MNIST's digits, in the same format, work as
// well. --limit N trains on the first N training images only; the test set is always all 10,000.
// With the defaults (5 epochs, batch 32, Adam lr 1e-3, seed 42) the test MSE on Fashion-MNIST is
// 0.0043 after the first epoch and 0.0032 after the fifth (predicting the mean image: 0.0866); an
// epoch takes about 16 s on one core here, 10 s on two (--threads).
//
// Exits with status 2 when the model learned nothing: a final test MSE that is not finite or not
// below 3/4 of the mean image's (a model that passes no information through its code can do no
// better than the mean image). The quick ctest run, 1 epoch of 1000 MNIST images, ends at about
// 0.025 against the mean image's 0.068.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

#include "example_common.hpp"

using namespace sinew;

namespace {

using Options = examples::CommonOptions;

// [N, 1, 28, 28] -> the code [N, 4, 7, 7] (196 numbers an image, a quarter of its pixels) ->
// [N, 1, 28, 28] in (0, 1). The encoder's stride-2 convolutions with padding 1 map 28 -> 14 -> 7;
// output_padding 1 makes each stride-2 transposed convolution double the size exactly, 7 -> 14
// -> 28. The code is linear (no ReLU), so it can take any sign.
//
// Two initialisation choices make the first steps count (they decide whether 1000 images teach
// it anything): He initialisation of every convolution (PyTorch's default, meant for any
// activation, shrinks the signal of a ReLU network by about sqrt(6) a layer), and the output's
// bias set to the log-odds of the mean pixel, so that the untrained model already predicts the
// average brightness instead of 0.5 everywhere (most pixels are black) and the gradient goes into
// shapes from the first step.
nn::Sequential make_autoencoder(double mean_pixel) {
  nn::Conv2d enc1(1, 32, 3, {.stride = 2, .padding = 1});
  nn::Conv2d enc2(32, 64, 3, {.stride = 2, .padding = 1});
  nn::Conv2d code(64, 4, 3, {.padding = 1});
  nn::ConvTranspose2d dec1(4, 64, 3, {.padding = 1});
  nn::ConvTranspose2d dec2(64, 32, 3, {.stride = 2, .padding = 1, .output_padding = 1});
  nn::ConvTranspose2d dec3(32, 1, 3, {.stride = 2, .padding = 1, .output_padding = 1});
  for (Tensor<float>* w :
       {&enc1.weight, &enc2.weight, &code.weight, &dec1.weight, &dec2.weight, &dec3.weight}) {
    nn::init::kaiming_normal_(*w, {.nonlinearity = "relu"});
  }
  nn::init::constant_(dec3.bias, std::log(mean_pixel / (1 - mean_pixel)));
  return nn::Sequential(enc1, nn::ReLU(), enc2, nn::ReLU(), code,                  // encoder
                        dec1, nn::ReLU(), dec2, nn::ReLU(), dec3, nn::Sigmoid());  // decoder
}

template <class Loader>
double train_epoch(nn::Sequential& net, Loader& loader, optim::Adam& opt, const std::string& label,
                   int64_t batch_size, bool quiet) {
  net.train();
  train::RunningMean mse;
  train::ProgressBar bar(loader.size(),
                         {.silent = quiet, .label = label, .batch_size = batch_size});
  const Device device = nn::module_device(net);
  for (auto& [host_images, labels] : loader) {
    const Tensor<float> images = host_images.to(device);
    opt.zero_grad();
    Tensor<float> loss = nn::F::mse_loss(net(images), images);
    loss.backward();
    opt.step();
    mse.add(loss.item(), static_cast<double>(images.size(0)));
    bar.step({{"mse", mse.mean()}});
  }
  bar.finish({{"mse", mse.mean()}});
  return mse.mean();
}

// The mean squared error per pixel over `images`, in batches of 1000 without recording a graph.
double test_mse(nn::Sequential& net, const Tensor<float>& images) {
  net.eval();
  NoGradGuard no_grad;
  train::RunningMean mse;
  const Device device = nn::module_device(net);
  for (int64_t at = 0; at < images.size(0); at += 1000) {
    const Tensor<float> x =
        images.narrow(0, at, std::min<int64_t>(1000, images.size(0) - at)).to(device);
    mse.add(nn::F::mse_loss(net(x), x).item(), static_cast<double>(x.size(0)));
  }
  return mse.mean();
}

// The first rows x columns test images, each row of them followed by a row of their
// reconstructions.
std::string reconstructions_png(nn::Sequential& net, const Tensor<float>& images, int64_t rows,
                                int64_t columns) {
  net.eval();
  NoGradGuard no_grad;
  std::vector<Tensor<float>> grid;
  for (int64_t r = 0; r < rows; ++r) {
    const Tensor<float> x = images.narrow(0, r * columns, columns);
    grid.push_back(x);
    grid.push_back(net(x.to(nn::module_device(net))).cpu());
  }
  return train::image_grid_png(cat(grid, 0), columns, 2, 2);
}

int run(const Options& o) {
  set_num_threads(o.threads);
  const Device device = examples::select_device(o.device);

  // ---- data
  const data::MNIST train_full(o.data);
  const data::MNIST test_set(o.data, {.train = false});
  const int64_t n_train = examples::training_count(o.limit, train_full.size());
  const Tensor<float> train_images = train_full.images().narrow(0, 0, n_train);
  data::TensorDataset train_set(train_images, train_full.labels().narrow(0, 0, n_train));
  data::DataLoader train_loader(train_set,
                                {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed});
  const Tensor<float>& test_images = test_set.images();

  // The baseline a model that learned nothing reaches: every image predicted as the mean
  // training image.
  const Tensor<float> mean_image = train_images.mean({0}, true);
  const double baseline =
      nn::F::mse_loss(mean_image.expand(test_images.shape()), test_images).item();

  // ---- model and optimizer
  manual_seed(o.seed);
  nn::Sequential net = make_autoencoder(train_images.mean().item());
  net.to(device);  // the helpers above move each batch to the model's device
  optim::Adam opt(net.parameters(), optim::AdamOptions{.lr = o.lr});
  const nn::ModelSummary summary = nn::summary(net, {1, 1, 28, 28});

  std::printf("%lld training images, %lld test images, from %s\n", static_cast<long long>(n_train),
              static_cast<long long>(test_set.size()), o.data.c_str());
  std::printf("Adam lr %g, batch %lld, epochs %d, threads %d, device %s\n", o.lr,
              static_cast<long long>(o.batch_size), o.epochs, o.threads, device.str().c_str());
  std::cout << summary << std::flush;

  // ---- training
  train::History history;
  double test = 0, total_seconds = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const std::string label = examples::epoch_label(epoch, o.epochs);
    const double train = train_epoch(net, train_loader, opt, label, o.batch_size, o.quiet);
    test = test_mse(net, test_images);
    const double seconds = examples::seconds_since(start);
    total_seconds += seconds;
    std::printf("%s  train mse %.5f  test mse %.5f  %.1f s\n", label.c_str(), train, test, seconds);
    std::fflush(stdout);
    history.record(epoch, {{"train_mse", train}, {"test_mse", test}, {"seconds", seconds}});
  }

  // ---- results
  std::filesystem::create_directories(o.out);
  const std::filesystem::path out(o.out);
  io::save(net, (out / "model.safetensors").string());
  history.save_csv((out / "history.csv").string());
  train::save_png((out / "reconstructions.png").string(),
                  reconstructions_png(net, test_images, 4, 8));
  std::printf("\ntest reconstruction mse %.5f (the mean image: %.5f), %.1f s per epoch\n", test,
              baseline, total_seconds / o.epochs);
  std::printf("wrote %s, %s and %s\n", (out / "reconstructions.png").c_str(),
              (out / "model.safetensors").c_str(), (out / "history.csv").c_str());
  if (!std::isfinite(test) || test >= 0.75 * baseline) {
    std::fprintf(stderr,
                 "autoencoder: learned nothing: test mse %.5f is not below 3/4 of the mean "
                 "image's, %.5f\n",
                 test, 0.75 * baseline);
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o{.data = examples::kFashionMnistFolder,
            .out = "runs/autoencoder",
            .epochs = 5,
            .batch_size = 32};
  CLI::App app{"Trains a convolutional autoencoder of Fashion-MNIST (or MNIST) images."};
  examples::add_common_options(app, o,
                               {.out = "folder for the reconstructions, model and history"});
  CLI11_PARSE(app, argc, argv);

  if (!examples::check_fashion_mnist_folder("autoencoder", o.data)) return 1;
  return examples::run_main("autoencoder", [&] { return run(o); });
}
