// Sinew's fuzz targets. Each takes one input, the bytes of a file, writes it to a scratch file and
// runs Sinew's readers on it. A malformed file must be answered by a sinew::Error. Anything else is
// a bug: another exception, a crash, a sanitizer report, a hang, or an allocation past the fuzzer's
// limit.
//
// The same functions run the committed corpora and regressions in the normal suite
// (tests/io/fuzz_corpus_test.cpp). The libFuzzer entry points are in tests/fuzz/*_fuzz.cpp, and the
// seed corpora are written by tests/fuzz/make_seeds.cpp. Each target returns how many of its
// readers accepted the input, so a test can tell a valid seed from a rejected one.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

namespace sinew::fuzz {

// ---- the models and optimizers the readers load into
// ---------------------------------------------

// W2 of DESIGN.md: the CNN.
inline nn::Sequential w2_model() {
  return nn::Sequential(nn::Conv2d(1, 32, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(32, 64, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(3136, 128), nn::ReLU(), nn::Dropout(0.25),
                        nn::Linear(128, 10));
}

// W3's recurrent part: image rows [N, 1, 28, 28] as 28 steps of 28 features, the last step's
// output.
struct RowLstm : nn::Module {
  nn::LSTM lstm{28, 128, {.batch_first = true}};
  RowLstm() : nn::Module("RowLstm") { register_module("lstm", lstm); }
  Tensor<float> forward(const Tensor<float>& x) override {
    auto [out, state] = lstm(x.reshape({x.size(0), 28, 28}));
    return out.select(1, -1);
  }
};

// W3 of DESIGN.md: the LSTM model.
inline nn::Sequential w3_model() { return nn::Sequential(RowLstm(), nn::Linear(128, 10)); }

// A small MLP with batch norm (parameters and buffers) for the optimizer and checkpoint targets,
// whose parsers do not depend on the model's size.
inline nn::Sequential small_model() {
  return nn::Sequential(nn::Linear(4, 3), nn::BatchNorm1d(3), nn::ReLU(), nn::Linear(3, 2));
}

// The optimizer types whose state files are fuzzed, by index (make_seeds writes one seed each).
inline constexpr int kOptimizers = 5;
inline const char* optimizer_name(int i) {
  static const char* const names[kOptimizers] = {"sgd", "adam", "rmsprop", "adagrad", "lbfgs"};
  return names[i];
}
inline std::unique_ptr<optim::OptimizerT<float>> make_optimizer(
    int i, const std::vector<Tensor<float>>& params) {
  switch (i) {
    case 0:
      return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
    case 1:
      return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = 1e-3});
    case 2:
      return std::make_unique<optim::RMSprop>(params, optim::RMSpropOptions{.momentum = 0.5});
    case 3:
      return std::make_unique<optim::Adagrad>(params);
    default:
      return std::make_unique<optim::LBFGS>(params,
                                            optim::LBFGSOptions{.max_iter = 2, .history_size = 3});
  }
}

// One training step of `opt` on `net` (a fixed batch of 8 inputs of 4 features, two classes).
inline void train_step(nn::Sequential& net, optim::Optimizer& opt) {
  Generator gen(7);
  const Tensor<float> x = randn<float>({8, 4}, gen);
  const Tensor<int64_t> y = randint<int64_t>(0, 2, {8}, gen);
  auto closure = [&] {
    opt.zero_grad();
    Tensor<float> loss = nn::F::cross_entropy(net(x), y);
    loss.backward();
    return loss;
  };
  if (auto* lbfgs = dynamic_cast<optim::LBFGS*>(&opt)) {
    lbfgs->step(closure);
  } else {
    closure();
    opt.step();
  }
}

// ---- scratch files -----------------------------------------------------------------------------

// A file name of this process in the temporary directory.
inline std::string scratch_path(const std::string& suffix) {
  return (std::filesystem::temp_directory_path() /
          ("sinew-fuzz-" + std::to_string(::getpid()) + suffix))
      .string();
}

inline std::string write_scratch(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string path = scratch_path(suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  SINEW_CHECK(f != nullptr, "fuzz::write_scratch", "cannot write ", path);
  const size_t wrote = size == 0 ? 0 : std::fwrite(data, 1, size, f);
  const bool closed = std::fclose(f) == 0;
  SINEW_CHECK(wrote == size && closed, "fuzz::write_scratch", "cannot write ", path);
  return path;
}

// The input gzip-compressed into its own scratch file, so that the gzip reader sees valid
// compression around arbitrary content.
inline std::string write_gzip_scratch(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string path = scratch_path(suffix);
  gzFile f = gzopen(path.c_str(), "wb");
  SINEW_CHECK(f != nullptr, "fuzz::write_gzip_scratch", "cannot write ", path);
  const int wrote = size == 0 ? 0 : gzwrite(f, data, static_cast<unsigned>(size));
  const bool closed = gzclose(f) == Z_OK;
  SINEW_CHECK(wrote == static_cast<int>(size) && closed, "fuzz::write_gzip_scratch",
              "cannot write ", path);
  return path;
}

// 1 when f() returns, 0 when it raises a sinew::Error; any other exception goes through.
template <class F>
int accepted(F&& f) {
  try {
    f();
    return 1;
  } catch (const Error&) {
    return 0;
  }
}

// ---- the targets
// ---------------------------------------------------------------------------------

// The safetensors parser: the header alone, every tensor with its own dtype, and every tensor
// converted to double.
inline int safetensors(const uint8_t* data, size_t size) {
  const std::string path = write_scratch(data, size, ".safetensors");
  int ok = accepted([&] { (void)io::read_header(path); });
  ok += accepted([&] {
    io::Metadata metadata;
    (void)io::load_tensors(path, &metadata);
  });
  ok += accepted([&] { (void)io::load_file<double>(path); });
  return ok;
}

// A state dict loaded into W2 and into the LSTM model, strictly and not.
inline int state_dict(const uint8_t* data, size_t size) {
  static nn::Sequential w2 = w2_model();
  static nn::Sequential w3 = w3_model();
  const std::string path = write_scratch(data, size, ".safetensors");
  int ok = 0;
  for (nn::Sequential* net : {&w2, &w3}) {
    ok += accepted([&] { (void)io::load(*net, path); });
    ok += accepted([&] { (void)io::load(*net, path, {.strict = false}); });
  }
  return ok;
}

// An optimizer state file loaded into each optimizer type over the small model's parameters.
inline int optimizer_state(const uint8_t* data, size_t size) {
  static nn::Sequential net = small_model();
  const std::string path = write_scratch(data, size, ".safetensors");
  int ok = 0;
  for (int i = 0; i < kOptimizers; ++i) {
    std::unique_ptr<optim::OptimizerT<float>> opt = make_optimizer(i, net.parameters());
    ok += accepted([&] { optim::load(*opt, path); });
  }
  return ok;
}

// A checkpoint loaded into the small model with Adam, with a StepLR scheduler and without.
inline int checkpoint(const uint8_t* data, size_t size) {
  static nn::Sequential net = small_model();
  const std::string path = write_scratch(data, size, ".safetensors");
  const std::string rng = get_rng_state();
  optim::Adam adam(net.parameters(), {.lr = 1e-3});
  optim::StepLR scheduler(adam, 2);
  int ok = accepted([&] { (void)train::load_checkpoint(path, net, adam, &scheduler); });
  optim::Adam plain(net.parameters(), {.lr = 1e-3});
  ok += accepted([&] { (void)train::load_checkpoint(path, net, plain); });
  set_rng_state(rng);  // a loaded checkpoint sets the default generator
  return ok;
}

// The IDX reader: the input as a plain file, and gzip-compressed, read as each element type.
inline int idx(const uint8_t* data, size_t size) {
  int ok = 0;
  for (const std::string& path :
       {write_scratch(data, size, ".idx"), write_gzip_scratch(data, size, ".idx.gz")}) {
    ok += accepted([&] { (void)data::read_idx_header(path); });
    ok += accepted([&] { (void)data::read_idx<float>(path); });
    ok += accepted([&] { (void)data::read_idx<double>(path); });
    ok += accepted([&] { (void)data::read_idx<int64_t>(path); });
    ok += accepted([&] { (void)data::read_idx<uint8_t>(path); });
  }
  return ok;
}

// The targets by name (the corpus folders of tests/fuzz/corpus are named so).
using Target = int (*)(const uint8_t*, size_t);
struct NamedTarget {
  const char* name;
  Target run;
};
inline constexpr NamedTarget kTargets[] = {{"safetensors", safetensors},
                                           {"state_dict", state_dict},
                                           {"optimizer_state", optimizer_state},
                                           {"checkpoint", checkpoint},
                                           {"idx", idx}};

}  // namespace sinew::fuzz
