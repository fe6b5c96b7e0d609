// Files written by Python's safetensors.torch (tests/fixtures/gen_io.py) read by Sinew, and files
// Sinew writes from them compared byte for byte with Python's.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <sinew/io/safetensors.hpp>
#include <sinew/sinew.hpp>

#include "fixture.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace sinew;
using sinew::testing::all_close;
using sinew::testing::fixture_tensor;
using sinew::testing::load_fixture;

namespace {
namespace SINEW_UNITY_ID {

std::string fixture_path(const std::string& name) {
  return std::string(SINEW_TEST_DATA_DIR) + "/fixtures/io/" + name;
}

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class PytorchCompat : public sinew::testing::TempDirTest {};

nn::Sequential make_mlp() { return nn::Sequential(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3)); }

TEST_F(PytorchCompat, MlpWeightsFromPythonGiveTorchsOutput) {
  auto fx = load_fixture("io/mlp.json");
  nn::Sequential mlp = make_mlp();
  EXPECT_EQ(mlp.state_dict().keys(), fx.at("keys").get<std::vector<std::string>>());
  auto r = io::load(mlp, fixture_path("mlp.safetensors"));
  EXPECT_TRUE(r.missing_keys.empty() && r.unexpected_keys.empty());
  Tensor<float> x = fixture_tensor<float>(fx.at("x"));
  Tensor<float> y = fixture_tensor<float>(fx.at("y"));
  EXPECT_TRUE(all_close(mlp(x), y, 1e-5, 1e-5));
}

TEST_F(PytorchCompat, EveryDtypeFromPythonReadsExactly) {
  auto fx = load_fixture("io/dtypes.json");
  io::Metadata meta;
  io::TensorDict d = io::load_tensors(fixture_path("dtypes.safetensors"), &meta);
  EXPECT_EQ(meta, fx.at("metadata").get<io::Metadata>());
  EXPECT_EQ(d.size(), 7u);
  auto shape = [&](const char* name) {
    return Shape(fx.at(name).at("shape").get<std::vector<int64_t>>());
  };
  // F16 and BF16 become float with the bit patterns torch's .float() gives, NaN and inf included.
  for (const char* name : {"f16", "bf16"}) {
    Tensor<float> t = io::get<float>(d, name);
    EXPECT_EQ(t.shape(), shape(name)) << name;
    std::vector<int32_t> got;
    for (float v : t.to_vector()) got.push_back(std::bit_cast<int32_t>(v));
    EXPECT_EQ(got, fx.at(name).at("bits").get<std::vector<int32_t>>()) << name;
  }
  Tensor<double> f64 = io::get<double>(d, "f64");
  EXPECT_EQ(f64.shape(), shape("f64"));
  std::vector<int64_t> f64_bits;
  for (double v : f64.to_vector()) f64_bits.push_back(std::bit_cast<int64_t>(v));
  EXPECT_EQ(f64_bits, fx.at("f64").at("bits").get<std::vector<int64_t>>());
  EXPECT_EQ(io::get<int64_t>(d, "i64").shape(), shape("i64"));
  EXPECT_EQ(io::get<int64_t>(d, "i64").to_vector(),
            fx.at("i64").at("data").get<std::vector<int64_t>>());
  EXPECT_EQ(io::get<int64_t>(d, "scalar_i64").shape(), Shape{});
  EXPECT_EQ(io::get<int64_t>(d, "scalar_i64").item(), 42);
  EXPECT_EQ(io::get<uint8_t>(d, "u8").to_vector(),
            fx.at("u8").at("data").get<std::vector<uint8_t>>());
  EXPECT_EQ(io::get<bool>(d, "bool").shape(), shape("bool"));
  std::vector<int> b;
  for (bool v : io::get<bool>(d, "bool").to_vector()) b.push_back(v);
  EXPECT_EQ(b, fx.at("bool").at("data").get<std::vector<int>>());
}

TEST_F(PytorchCompat, LoadFileReadsEveryPythonDtypeAsFloat) {
  nn::StateDict sd = io::load_file(fixture_path("dtypes.safetensors"));
  EXPECT_EQ(sd.at("u8").to_vector(), (std::vector<float>{0, 1, 128, 255}));
  EXPECT_EQ(sd.at("bool").to_vector(), (std::vector<float>{1, 0, 0, 1, 1, 1}));
  EXPECT_EQ(sd.at("scalar_i64").item(), 42.0f);
  EXPECT_EQ(sd.at("f64").at({0}), 0.1f);
}

// Sinew writes the same bytes as safetensors.torch.save_file for the same state dict, so Python
// reads Sinew's files (tests/fixtures/check_sinew_written.py checks that side with torch).
TEST_F(PytorchCompat, RewritingPythonStateDictsGivesIdenticalFiles) {
  for (const char* name : {"mlp.safetensors", "cnn.safetensors"}) {
    nn::StateDict sd = io::load_file(fixture_path(name));
    io::save_file(sd, path(name));
    EXPECT_EQ(read_all(path(name)), read_all(fixture_path(name))) << name;
    nn::StateDict back = io::load_file(path(name));
    ASSERT_EQ(back.keys(), sd.keys()) << name;
    for (const auto& [k, t] : sd)
      EXPECT_EQ(back.at(k).to_vector(), t.to_vector()) << name << " " << k;
  }
}

TEST_F(PytorchCompat, ModuleSavedBySinewLoadsBackIdentically) {
  nn::Sequential mlp = make_mlp();
  io::load(mlp, fixture_path("mlp.safetensors"));
  io::save(mlp, path("mlp.safetensors"));
  nn::Sequential other = make_mlp();
  io::load(other, path("mlp.safetensors"));
  auto fx = load_fixture("io/mlp.json");
  Tensor<float> x = fixture_tensor<float>(fx.at("x"));
  EXPECT_EQ(other(x).to_vector(), mlp(x).to_vector());
  EXPECT_EQ(read_all(path("mlp.safetensors")), read_all(fixture_path("mlp.safetensors")));
}

TEST_F(PytorchCompat, TypedRewriteOfMixedDtypesLoadsBackIdentically) {
  io::Metadata meta;
  io::TensorDict d = io::load_tensors(fixture_path("dtypes.safetensors"), &meta);
  io::save_tensors(d, path("dtypes.safetensors"), meta);
  io::Metadata meta2;
  io::TensorDict back = io::load_tensors(path("dtypes.safetensors"), &meta2);
  EXPECT_EQ(meta2, meta);
  ASSERT_EQ(back.size(), d.size());
  for (const auto& entry : d) {
    const std::string& k = entry.first;  // a plain reference: clang < 16 cannot capture a binding
    const auto& t = entry.second;
    ASSERT_EQ(io::dtype(back.at(k)), io::dtype(t)) << k;
    std::visit(
        [&](const auto& a) {
          using T = typename std::decay_t<decltype(a)>::value_type;
          Tensor<T> b = io::get<T>(back, k);
          EXPECT_EQ(b.shape(), a.shape()) << k;
          auto va = a.to_vector(), vb = b.to_vector();
          if constexpr (std::is_same_v<T, bool>) {
            EXPECT_EQ(va, vb) << k;
          } else {  // bitwise, so that NaN compares equal to itself
            EXPECT_EQ(0, std::memcmp(va.data(), vb.data(), va.size() * sizeof(T))) << k;
          }
        },
        t);
  }
}

// Conv2d + BatchNorm2d (running stats and num_batches_tracked after three training steps in torch)
// evaluated in eval mode; Sinew writes the state dict back with the same bytes (count as I64).
TEST_F(PytorchCompat, CnnWithBatchNormFromPythonGivesTorchsEvalOutput) {
  auto fx = load_fixture("io/cnn.json");
  nn::Sequential cnn(nn::Conv2d(1, 2, 3, {.padding = 1}), nn::BatchNorm2d(2), nn::ReLU(),
                     nn::Flatten(), nn::Linear(32, 3));
  EXPECT_EQ(cnn.state_dict().keys(), fx.at("keys").get<std::vector<std::string>>());
  io::load(cnn, fixture_path("cnn.safetensors"));
  EXPECT_EQ(cnn.state_dict().at("1.num_batches_tracked").item(), 3.0f);
  cnn.eval();
  Tensor<float> x = fixture_tensor<float>(fx.at("x"));
  EXPECT_TRUE(all_close(cnn(x), fixture_tensor<float>(fx.at("y")), 1e-5, 1e-5));
  io::save(cnn, path("cnn.safetensors"));
  EXPECT_EQ(read_all(path("cnn.safetensors")), read_all(fixture_path("cnn.safetensors")));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
