// A small DCGAN (Radford et al., 2015) that learns to draw 28 x 28 images of Fashion-MNIST or
// MNIST: a generator turns a normal latent vector into an image through transposed convolutions
// with batch norm and ReLU and a tanh output; a discriminator with stride-2 convolutions, batch
// norm and LeakyReLU(0.2) tells the training images from the generator's. Both train in turns
// with Adam (lr 2e-4, betas (0.5, 0.999)) on the binary cross-entropy, the discriminator on
// "real" for training images and "fake" for generated ones, the generator on "real" for its own
// (the non-saturating loss). Prints one line per epoch with the mean losses of D and G and the
// discriminator's mean probabilities D(x) of real images and D(G(z)) of generated ones (after a
// progress bar, without --quiet), and writes to --out:
//   samples_epoch_001.png, ...  after every epoch, 64 images from one fixed batch of latent
//                               vectors, so the files show the same "seeds" getting better
//   generator.safetensors       the generator's weights (io::save; PyTorch's state-dict names)
//   history.csv                 the losses, probabilities and seconds per epoch
//
//   dcgan [--epochs N] [--batch-size N] [--lr X] [--latent N] [--width N] [--threads N]
//         [--seed N] [--limit N] [--data DIR] [--out DIR] [--quiet] [--device cpu|cuda|cuda:N]
//
// The data: the training IDX files (gzip'd or not) in --data, images scaled to [-1, 1] (tanh's
// range). The default folder is Fashion-MNIST's from Debian's package dataset-fashion-mnist,
// /usr/share/datasets/fashion-mnist, because it is where a system installs it; MNIST's digits
// (e.g. --data ../shared/datasets/mnist in Sinew's development tree) work the same way. --limit N
// trains on the first N training images only (at least one batch; a short last batch is dropped,
// as batch norm needs more than one image).
//
// The model, with --width w (default 32) and --latent nz (default 100), PyTorch's layout:
//   G: z [N, nz] -> [N, nz, 1, 1] -> ConvTranspose2d(nz, 4w, 7) -> [4w, 7, 7] -> BN, ReLU
//      -> ConvTranspose2d(4w, 2w, 4, stride 2, pad 1) -> [2w, 14, 14] -> BN, ReLU
//      -> ConvTranspose2d(2w, 1, 4, stride 2, pad 1) -> [1, 28, 28] -> Tanh
//   D: x [N, 1, 28, 28] -> Conv2d(1, w, 4, stride 2, pad 1) -> [w, 14, 14] -> LeakyReLU(0.2)
//      -> Conv2d(w, 2w, 4, stride 2, pad 1) -> [2w, 7, 7] -> BN, LeakyReLU(0.2)
//      -> Conv2d(2w, 1, 7) -> [1, 1, 1] -> a logit (the sigmoid is inside the loss,
//         binary_cross_entropy_with_logits, stable where log(sigmoid(x)) would round to -inf)
// Convolutions without bias, as PyTorch's DCGAN example (batch norm's bias takes its place);
// weights drawn from N(0, 0.02) and batch norm's scales from N(1, 0.02), as the paper.
//
// With the defaults an epoch of Fashion-MNIST (937 steps of 64) takes about 75 s on one core here,
// 40 s on two (--threads); the samples show shirts, trousers, shoes and bags after the first
// epoch and cleaner ones after the fifth (D loss 0.62 -> 1.13, G loss 1.65 -> 1.11 over the five
// epochs). On the 24,345 MNIST digits of ../shared/datasets/mnist (17 s an epoch on two cores) the
// samples read as digits after five epochs.
//
// Exits with status 2 when it learned nothing (deterministic for a seed): a loss that is not
// finite, a discriminator that in no epoch told the training images from generated ones
// (D(x) - D(G(z)) < 0.1 in every epoch; both tend to 1/2 when the generator is good, so the best
// epoch counts), samples of the fixed latent batch that barely changed from the untrained
// generator's (mean absolute change < 0.01, on [0, 1]), or that are all alike (mean per-pixel
// standard deviation over the batch < 0.05: a collapse onto one image).
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

struct Options : examples::CommonOptions {
  int64_t latent = 100;
  int64_t width = 32;
};

nn::Sequential make_generator(int64_t nz, int64_t w) {
  return nn::Sequential(
      nn::Unflatten(1, {nz, 1, 1}), nn::ConvTranspose2d(nz, 4 * w, 7, {.bias = false}),
      nn::BatchNorm2d(4 * w), nn::ReLU(),
      nn::ConvTranspose2d(4 * w, 2 * w, 4, {.stride = 2, .padding = 1, .bias = false}),
      nn::BatchNorm2d(2 * w), nn::ReLU(),
      nn::ConvTranspose2d(2 * w, 1, 4, {.stride = 2, .padding = 1, .bias = false}), nn::Tanh());
}

nn::Sequential make_discriminator(int64_t w) {
  return nn::Sequential(
      nn::Conv2d(1, w, 4, {.stride = 2, .padding = 1, .bias = false}), nn::LeakyReLU(0.2),
      nn::Conv2d(w, 2 * w, 4, {.stride = 2, .padding = 1, .bias = false}), nn::BatchNorm2d(2 * w),
      nn::LeakyReLU(0.2), nn::Conv2d(2 * w, 1, 7, {.bias = false}), nn::Flatten());
}

// The paper's initialisation: convolution weights from N(0, 0.02), batch norm's weights from
// N(1, 0.02) and its biases 0.
void dcgan_init(nn::Sequential& net) {
  for (auto& [name, p] : net.named_parameters()) {
    if (p.dim() == 4) {
      nn::init::normal_(p, 0.0, 0.02);
    } else if (name.ends_with(".weight")) {
      nn::init::normal_(p, 1.0, 0.02);
    } else {
      nn::init::zeros_(p);
    }
  }
}

struct EpochResult {
  double d_loss = 0, g_loss = 0;
  double d_real = 0, d_fake = 0;  // the discriminator's mean probability of "real"
  bool finite = true;
};

template <class Loader>
EpochResult train_epoch(nn::Sequential& g, nn::Sequential& d, optim::Adam& opt_g,
                        optim::Adam& opt_d, Loader& loader, int64_t latent,
                        const std::string& label, int64_t batch_size, bool quiet) {
  g.train();
  d.train();
  train::RunningMean d_loss, g_loss, d_real, d_fake;
  train::ProgressBar bar(loader.size(),
                         {.silent = quiet, .label = label, .batch_size = batch_size});
  bool finite = true;
  const Device device = nn::module_device(g);
  for (auto& [images, labels] : loader) {
    const int64_t n = images.size(0);
    const Tensor<float> real = images.to(device) * 2.0f - 1.0f;
    const Tensor<float> ones = full<float>({n, 1}, 1.0, device);
    const Tensor<float> zeros = full<float>({n, 1}, 0.0, device);
    const Tensor<float> fake = g(randn<float>({n, latent}, device));

    // The discriminator: real images as 1, generated ones as 0 (detached: G is not trained here).
    opt_d.zero_grad();
    const Tensor<float> logit_real = d(real), logit_fake = d(fake.detach());
    Tensor<float> ld = nn::F::binary_cross_entropy_with_logits(logit_real, ones) +
                       nn::F::binary_cross_entropy_with_logits(logit_fake, zeros);
    ld.backward();
    opt_d.step();

    // The generator: its images as 1 through the updated discriminator (the gradients that
    // reach D's parameters here are cleared by opt_d.zero_grad() before they are used).
    opt_g.zero_grad();
    Tensor<float> lg = nn::F::binary_cross_entropy_with_logits(d(fake), ones);
    lg.backward();
    opt_g.step();

    const double dl = ld.item(), gl = lg.item();
    finite = finite && std::isfinite(dl) && std::isfinite(gl);
    d_loss.add(dl);
    g_loss.add(gl);
    d_real.add(sigmoid(logit_real.detach()).mean().item());
    d_fake.add(sigmoid(logit_fake.detach()).mean().item());
    bar.step({{"D", d_loss.mean()}, {"G", g_loss.mean()}});
  }
  bar.finish({{"D", d_loss.mean()}, {"G", g_loss.mean()}});
  return {d_loss.mean(), g_loss.mean(), d_real.mean(), d_fake.mean(), finite};
}

// The generator's images of `z` in [0, 1], without recording a graph. In training mode, as
// PyTorch's DCGAN example: batch norm normalizes with the statistics of the batch `z`, as in
// training; its running statistics lag far behind the fast-changing generator early on (after a
// few steps they still hold mostly their initial values) and give washed-out images. (The
// running statistics take this batch in too; it is drawn like the training batches.)
Tensor<float> samples(nn::Sequential& g, const Tensor<float>& z) {
  g.train();
  NoGradGuard no_grad;
  return (g(z) + 1.0f) * 0.5f;
}

int run(const Options& o) {
  set_num_threads(o.threads);
  const Device device = examples::select_device(o.device);

  // ---- data
  const data::MNIST train_full(o.data);
  const int64_t n_train = examples::training_count(o.limit, train_full.size());
  if (n_train < o.batch_size) {
    std::fprintf(stderr, "dcgan: needs at least one batch of %lld images, got %lld\n",
                 static_cast<long long>(o.batch_size), static_cast<long long>(n_train));
    return 1;
  }
  const Tensor<float> train_images = train_full.images().narrow(0, 0, n_train);
  data::TensorDataset train_set(train_images, train_full.labels().narrow(0, 0, n_train));
  data::DataLoader loader(
      train_set, {.batch_size = o.batch_size, .shuffle = true, .drop_last = true, .seed = o.seed});

  // ---- models and optimizers
  manual_seed(o.seed);
  nn::Sequential g = make_generator(o.latent, o.width);
  nn::Sequential d = make_discriminator(o.width);
  dcgan_init(g);
  dcgan_init(d);
  g.to(device);
  d.to(device);
  const optim::AdamOptions adam{.lr = o.lr, .betas = {0.5, 0.999}};
  optim::Adam opt_g(g.parameters(), adam), opt_d(d.parameters(), adam);
  // The latent vectors of the sample grids, from a generator of their own, so that they do not
  // depend on the training's draws.
  Generator sample_gen(o.seed + 1);
  const Tensor<float> fixed_z = randn<float>({64, o.latent}, sample_gen, device);
  const Tensor<float> untrained = samples(g, fixed_z);

  std::printf("%lld training images from %s\n", static_cast<long long>(n_train), o.data.c_str());
  std::printf(
      "Adam lr %g betas (0.5, 0.999), batch %lld, latent %lld, width %lld, epochs %d, "
      "threads %d, device %s\n",
      o.lr, static_cast<long long>(o.batch_size), static_cast<long long>(o.latent),
      static_cast<long long>(o.width), o.epochs, o.threads, device.str().c_str());
  std::cout << "generator\n"
            << nn::summary(g, {1, o.latent}) << "discriminator\n"
            << nn::summary(d, {1, 1, 28, 28}) << std::flush;

  // ---- training
  std::filesystem::create_directories(o.out);
  const std::filesystem::path out(o.out);
  train::History history;
  bool finite = true;
  double total_seconds = 0;
  Tensor<float> last;
  std::vector<EpochResult> results;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const std::string label = examples::epoch_label(epoch, o.epochs);
    const EpochResult r =
        train_epoch(g, d, opt_g, opt_d, loader, o.latent, label, o.batch_size, o.quiet);
    finite = finite && r.finite;
    results.push_back(r);
    const double seconds = examples::seconds_since(start);
    total_seconds += seconds;
    last = samples(g, fixed_z);
    char name[64];
    std::snprintf(name, sizeof name, "samples_epoch_%03d.png", epoch);
    train::save_png((out / name).string(), train::image_grid_png(last, 8, 2, 2));
    std::printf("%s  D loss %.4f  G loss %.4f  D(x) %.3f  D(G(z)) %.3f  %.1f s\n", label.c_str(),
                r.d_loss, r.g_loss, r.d_real, r.d_fake, seconds);
    std::fflush(stdout);
    history.record(epoch, {{"d_loss", r.d_loss},
                           {"g_loss", r.g_loss},
                           {"d_real", r.d_real},
                           {"d_fake", r.d_fake},
                           {"seconds", seconds}});
  }

  // ---- results
  io::save(g, (out / "generator.safetensors").string());
  history.save_csv((out / "history.csv").string());
  // Over the 64 samples, per pixel, then averaged over the pixels.
  const double spread = last.std({0}).mean().item();
  const double moved = (last - untrained).abs().mean().item();
  // The discriminator must have told the training images from generated ones in some epoch
  // (at the equilibrium, late in a long run, both go to 1/2).
  double separation = -1;
  for (const EpochResult& e : results) separation = std::max(separation, e.d_real - e.d_fake);
  std::printf("\n%.1f s per epoch\n", total_seconds / o.epochs);
  std::printf(
      "checks: losses %s, the best epoch's D(x) - D(G(z)) %.3f (needs >= 0.1), samples "
      "changed from the untrained generator's by %.3f (>= 0.01), per-pixel std over "
      "the samples %.3f (>= 0.05)\n",
      finite ? "finite" : "NOT FINITE", separation, moved, spread);
  std::printf("wrote %s/samples_epoch_*.png, %s and %s\n", out.c_str(),
              (out / "generator.safetensors").c_str(), (out / "history.csv").c_str());
  // Written so that a NaN fails.
  if (!(finite && separation >= 0.1 && moved >= 0.01 && spread >= 0.05)) {
    std::fprintf(stderr, "dcgan: learned nothing (see the checks above)\n");
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o{{.data = examples::kFashionMnistFolder,
             .out = "runs/dcgan",
             .epochs = 5,
             .batch_size = 64,
             .lr = 2e-4}};
  CLI::App app{"Trains a small DCGAN to draw Fashion-MNIST (or MNIST) images."};
  examples::add_common_options(app, o,
                               {.batch_size = "images per step (real and generated each)",
                                .min_batch_size = 2,
                                .lr = "Adam's learning rate, both networks",
                                .seed = "random seed (weights, latent draws, order)",
                                .out = "folder for the sample grids, generator and history"});
  app.add_option("--latent", o.latent, "size of the generator's latent vector")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  app.add_option("--width", o.width, "channels of D's first layer (G's and D's others: 2x, 4x)")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!examples::check_fashion_mnist_folder("dcgan", o.data, "the (Fashion-)MNIST IDX files")) {
    return 1;
  }
  return examples::run_main("dcgan", [&] { return run(o); });
}
