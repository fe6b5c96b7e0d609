// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): valid files, named
// valid-*, which the corpus test requires some reader to accept, malformed ones named bad-*, which
// every reader must reject, and others (values a reader may refuse). Weights are filled with
// constants so that the committed files compress to little in git. Deterministic: running it again
// gives the same bytes.
//
//   sinew_fuzz_seeds <corpus folder>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "targets.hpp"

namespace fs = std::filesystem;
using namespace sinew;

namespace {

void fill_constant(nn::Module& net) {
  NoGradGuard no_grad;
  float v = 0.125f;
  for (Tensor<float>& p : net.parameters()) {
    p.fill_(v);
    v = -v * 0.5f;
  }
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A copy of a valid file cut after its header (the data missing), and one cut inside the header.
void truncations(const fs::path& valid, const fs::path& dir, const std::string& stem) {
  const std::string bytes = read_bytes(valid);
  uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = header << 8 | static_cast<unsigned char>(bytes[i]);
  write_bytes(dir / ("bad-" + stem + "-no-data.safetensors"), bytes.substr(0, 8 + header));
  write_bytes(dir / ("bad-" + stem + "-cut-header.safetensors"), bytes.substr(0, 8 + header / 2));
}

void safetensors_seeds(const fs::path& dir) {
  nn::OrderedDict<io::AnyTensor> d;
  d.insert("f32", arange<float>(0, 6).reshape({2, 3}));
  d.insert("f64", full<double>({3}, 0.5));
  d.insert("i64", arange<int64_t>(-2, 2));
  d.insert("u8", arange<uint8_t>(0, 4).reshape({2, 2}));
  d.insert("empty", empty<float>({0, 3}));
  io::save_tensors(d, (dir / "valid-dtypes.safetensors").string(), {{"format", "pt"}});
  nn::OrderedDict<io::AnyTensor> scalar;
  scalar.insert("s", full<float>({}, 2.0f));
  io::save_tensors(scalar, (dir / "valid-scalar.safetensors").string());
  // F16 and BF16 (read as float), written by hand: 1.0 and -2.0 in each.
  const std::string header = R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  bytes += std::string("\x00\x3c\x00\xc0\x80\x3f\x00\xc0", 8);
  write_bytes(dir / "valid-half.safetensors", bytes);
  truncations(dir / "valid-dtypes.safetensors", dir, "dtypes");
  write_bytes(dir / "bad-empty.safetensors", "");
}

void state_dict_seeds(const fs::path& dir) {
  nn::Sequential w2 = fuzz::w2_model();
  fill_constant(w2);
  io::save(w2, (dir / "valid-w2.safetensors").string());
  nn::Sequential w3 = fuzz::w3_model();
  fill_constant(w3);
  io::save(w3, (dir / "valid-w3.safetensors").string());
  // Small cuts of the big files: their headers, which the fuzzer mutates fastest.
  truncations(dir / "valid-w2.safetensors", dir, "w2");
  truncations(dir / "valid-w3.safetensors", dir, "w3");
}

void optimizer_seeds(const fs::path& dir) {
  for (int i = 0; i < fuzz::kOptimizers; ++i) {
    manual_seed(1);
    nn::Sequential net = fuzz::small_model();
    std::unique_ptr<optim::OptimizerT<float>> opt = fuzz::make_optimizer(i, net.parameters());
    fuzz::train_step(net, *opt);
    fuzz::train_step(net, *opt);
    const std::string name = fuzz::optimizer_name(i);
    optim::save(*opt, (dir / ("valid-" + name + ".safetensors")).string());
  }
  truncations(dir / "valid-adam.safetensors", dir, "adam");
}

void checkpoint_seeds(const fs::path& dir) {
  manual_seed(1);
  nn::Sequential net = fuzz::small_model();
  optim::Adam adam(net.parameters(), {.lr = 1e-3});
  optim::StepLR scheduler(adam, 2);
  fuzz::train_step(net, adam);
  scheduler.step();
  train::save_checkpoint((dir / "valid-scheduler.safetensors").string(), net, adam,
                         {.epoch = 1, .extra = {{"history", "epoch,loss\n1,0.5\n"}}}, &scheduler);
  train::save_checkpoint((dir / "valid-plain.safetensors").string(), net, adam, {.epoch = 3});
  truncations(dir / "valid-scheduler.safetensors", dir, "scheduler");
}

std::string idx_file(uint8_t code, const std::vector<uint32_t>& dims, const std::string& data) {
  std::string s = {'\0', '\0', static_cast<char>(code), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int b = 3; b >= 0; --b) s += static_cast<char>((d >> (8 * b)) & 0xff);
  return s + data;
}

void idx_seeds(const fs::path& dir) {
  write_bytes(dir / "valid-ubyte.idx",
              idx_file(0x08, {2, 3}, std::string("\x00\x01\x02\xfd\xfe\xff", 6)));
  write_bytes(dir / "valid-labels.idx", idx_file(0x08, {4}, std::string("\x00\x09\x03\x07", 4)));
  write_bytes(dir / "valid-int32.idx",
              idx_file(0x0C, {2}, std::string("\x00\x00\x00\x05\x00\x01\x00\x00", 8)));
  // 1.5f and -0.25 (double), big-endian.
  write_bytes(dir / "valid-float32.idx", idx_file(0x0D, {1}, std::string("\x3f\xc0\x00\x00", 4)));
  write_bytes(dir / "valid-float64.idx",
              idx_file(0x0E, {1, 1}, std::string("\xbf\xd0\x00\x00\x00\x00\x00\x00", 8)));
  write_bytes(dir / "valid-empty.idx", idx_file(0x08, {0, 28, 28}, ""));
  write_bytes(dir / "int16-negative.idx", idx_file(0x0B, {2}, std::string("\xff\xfe\x00\x07", 4)));
  write_bytes(dir / "sbyte-negative.idx", idx_file(0x09, {3}, std::string("\x80\x00\x7f", 3)));
  write_bytes(dir / "truncated.idx", idx_file(0x08, {2, 3}, std::string("\x00\x01", 2)));
  write_bytes(dir / "bad-huge-claim.idx", idx_file(0x0E, {0x40000000, 0x40000000, 0x40000000}, ""));
  // A gzip file as the fuzzer would meet one: a real MNIST-style file compressed.
  const std::string plain = idx_file(0x08, {3, 2, 2}, std::string(12, '\x11'));
  const std::string path = (dir / "valid-gzip.idx.gz").string();
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, plain.data(), static_cast<unsigned>(plain.size()));
  gzclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sinew_fuzz_seeds <corpus folder>\n";
    return 2;
  }
  const fs::path root = argv[1];
  struct Writer {
    const char* target;
    void (*write)(const fs::path&);
  };
  const Writer writers[] = {{"safetensors", safetensors_seeds},
                            {"state_dict", state_dict_seeds},
                            {"optimizer_state", optimizer_seeds},
                            {"checkpoint", checkpoint_seeds},
                            {"idx", idx_seeds}};
  try {
    for (const Writer& w : writers) {
      const fs::path dir = root / w.target;
      fs::create_directories(dir);
      w.write(dir);
      std::cout << "wrote " << dir.string() << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "sinew_fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
