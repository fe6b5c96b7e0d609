// Tests of io/tensors.hpp: plain tensor maps and lists saved and loaded bit-exactly, files written
// by Python (safetensors.torch, and the hand-written list fixture of gen_io_tensors.py), and the
// error paths (missing file, another dtype, missing key, list keys that are not 0 .. n-1).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <sinew/io.hpp>
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

class TensorFiles : public sinew::testing::TempDirTest {};

std::string fixture_path(const std::string& name) {
  return std::string(SINEW_TEST_DATA_DIR) + "/fixtures/io/" + name;
}

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Bit patterns, so that NaN payloads and signed zeros count.
template <class T>
auto bits(const Tensor<T>& t) {
  using B = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  std::vector<B> b;
  for (T v : t.to_vector()) b.push_back(std::bit_cast<B>(v));
  return b;
}

template <class T>
::testing::AssertionResult same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shapes " << a.shape() << " vs " << b.shape();
  if (bits(a) != bits(b)) return ::testing::AssertionFailure() << a << "\nvs\n" << b;
  return ::testing::AssertionSuccess();
}

// Values whose bits a conversion would change: NaN with a payload, -0, subnormals, extremes.
Tensor<float> special_floats() {
  float nan_payload = std::bit_cast<float>(0x7fc12345u);
  return from_vector<float>(
      {nan_payload, -0.0f, std::numeric_limits<float>::denorm_min(),
       std::numeric_limits<float>::max(), -std::numeric_limits<float>::infinity(), 1.0f / 3.0f},
      {2, 3});
}
Tensor<double> special_doubles() {
  double nan_payload = std::bit_cast<double>(0x7ff8000000abcdefull);
  return from_vector<double>({nan_payload, -0.0, std::numeric_limits<double>::denorm_min(),
                              std::numeric_limits<double>::max(), 0.1},
                             {5});
}

TEST_F(TensorFiles, MapRoundTripIsBitExactForFloatDoubleAndInt64) {
  std::map<std::string, Tensor<float>> f = {{"special", special_floats()},
                                            {"scalar", scalar_tensor<float>(2.5)},
                                            {"empty", zeros<float>({0, 3})},
                                            {"block.weight", randn<float>({4, 3})}};
  io::save(f, path("f.safetensors"));
  auto f2 = io::load<float>(path("f.safetensors"));
  static_assert(std::is_same_v<decltype(f2), std::map<std::string, Tensor<float>>>);
  ASSERT_EQ(f2.size(), f.size());
  for (const auto& [k, t] : f) EXPECT_TRUE(same_bits(f2.at(k), t)) << k;

  std::map<std::string, Tensor<double>> d = {{"special", special_doubles()},
                                             {"m", randn<double>({2, 2, 2})}};
  io::save(d, path("d.safetensors"));
  auto d2 = io::load<std::map<std::string, Tensor<double>>>(path("d.safetensors"));
  ASSERT_EQ(d2.size(), d.size());
  for (const auto& [k, t] : d) EXPECT_TRUE(same_bits(d2.at(k), t)) << k;

  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  std::map<std::string, Tensor<int64_t>> i = {
      {"ids", from_vector<int64_t>({lo, -1, 0, 1, (int64_t(1) << 53) + 1, hi}, {3, 2})}};
  io::save(i, path("i.safetensors"));
  auto i2 = io::load<int64_t>(path("i.safetensors"));
  EXPECT_EQ(i2.at("ids").shape(), (Shape{3, 2}));
  EXPECT_EQ(i2.at("ids").to_vector(), i.at("ids").to_vector());
  EXPECT_EQ(io::read_header(path("i.safetensors")).tensors.at("ids").dtype, "I64");
}

TEST_F(TensorFiles, OrderedDictAndNonContiguousTensorsRoundTrip) {
  nn::StateDictT<double> sd;
  Tensor<double> base = randn<double>({3, 4});
  sd.insert("transposed", base.t());  // written in row-major order of the view
  sd.insert("num_batches_tracked", scalar_tensor<double>(7));  // kept F64: plain tensors
  io::save(sd, path("sd.safetensors"));
  EXPECT_EQ(io::read_header(path("sd.safetensors")).tensors.at("num_batches_tracked").dtype, "F64");
  auto back = io::load<nn::StateDictT<double>>(path("sd.safetensors"));
  EXPECT_TRUE(same_bits(back.at("transposed"), base.t().contiguous()));
  EXPECT_EQ(back.at("num_batches_tracked").item(), 7.0);
  nn::StateDictT<double> out;
  io::load(out, path("sd.safetensors"));  // LibTorch's spelling
  EXPECT_EQ(out.keys(), back.keys());
}

TEST_F(TensorFiles, VectorRoundTripKeepsTheOrder) {
  // Twelve tensors: the file sorts the keys as text ("0", "1", "10", "11", "2", ...).
  std::vector<Tensor<double>> v;
  for (int i = 0; i < 12; ++i) v.push_back(full<double>({i % 3 + 1, 2}, i + 0.25));
  v[5] = special_doubles();
  v[7] = scalar_tensor<double>(-1.5);
  v[9] = zeros<double>({0});
  io::save(v, path("v.safetensors"));
  io::Header h = io::read_header(path("v.safetensors"));
  std::vector<std::string> keys = h.tensors.keys();
  EXPECT_EQ(keys.front(), "0");
  EXPECT_EQ(keys[2], "10");  // data order is text order
  auto back = io::load<std::vector<Tensor<double>>>(path("v.safetensors"));
  ASSERT_EQ(back.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_TRUE(same_bits(back[i], v[i])) << i;

  std::vector<Tensor<int64_t>> ints = {arange<int64_t>(5), from_vector<int64_t>({-7})};
  io::save(ints, path("ints.safetensors"));
  std::vector<Tensor<int64_t>> ints2;
  io::load(ints2, path("ints.safetensors"));
  ASSERT_EQ(ints2.size(), 2u);
  EXPECT_EQ(ints2[0].to_vector(), ints[0].to_vector());
  EXPECT_EQ(ints2[1].to_vector(), ints[1].to_vector());

  io::save(std::vector<Tensor<float>>{}, path("none.safetensors"));
  EXPECT_TRUE(io::load<std::vector<Tensor<float>>>(path("none.safetensors")).empty());
}

TEST_F(TensorFiles, OneTensorByName) {
  std::map<std::string, Tensor<float>> m = {{"a", special_floats()}, {"b", ones<float>({2})}};
  io::save(m, path("m.safetensors"));
  EXPECT_TRUE(same_bits(io::load<float>(path("m.safetensors"), "a"), m.at("a")));
}

// tests/fixtures/io/tensor_list.safetensors: twelve float32 tensors under "0" .. "11", laid out as
// Python's safetensors does (gen_io_tensors.py writes the bytes itself: the package is not
// installed); tensor_list.json holds each tensor's bit patterns.
TEST_F(TensorFiles, ListFixtureWrittenByPythonLoadsInOrder) {
  auto fx = load_fixture("io/tensor_list.json").at("tensors");
  auto v = io::load<std::vector<Tensor<float>>>(fixture_path("tensor_list.safetensors"));
  ASSERT_EQ(v.size(), fx.size());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i].shape(), Shape(fx[i].at("shape").get<std::vector<int64_t>>())) << i;
    std::vector<int32_t> got;
    for (float x : v[i].to_vector()) got.push_back(std::bit_cast<int32_t>(x));
    EXPECT_EQ(got, fx[i].at("bits").get<std::vector<int32_t>>()) << i;
  }
  // Sinew writes the same list back byte for byte.
  io::save(v, path("again.safetensors"));
  EXPECT_EQ(read_all(path("again.safetensors")), read_all(fixture_path("tensor_list.safetensors")));
}

// tests/fixtures/io/mlp.safetensors is safetensors.torch.save_file(model.state_dict()) of
// Linear(4, 8), ReLU, Linear(8, 3); mlp.json holds an input and torch's output for it.
TEST_F(TensorFiles, StateDictWrittenByPythonLoadsAsPlainTensors) {
  auto fx = load_fixture("io/mlp.json");
  auto m = io::load<float>(fixture_path("mlp.safetensors"));
  std::vector<std::string> keys;
  for (const auto& [k, t] : m) keys.push_back(k);
  auto expected_keys = fx.at("keys").get<std::vector<std::string>>();
  std::sort(expected_keys.begin(), expected_keys.end());
  EXPECT_EQ(keys, expected_keys);
  Tensor<float> x = fixture_tensor<float>(fx.at("x"));
  Tensor<float> h = relu(linear(x, m.at("0.weight"), m.at("0.bias")));
  EXPECT_TRUE(all_close(linear(h, m.at("2.weight"), m.at("2.bias")),
                        fixture_tensor<float>(fx.at("y")), 1e-5, 1e-5));
  // dtypes.safetensors (Python too): an F64 and an I64 tensor, each asked for as its own type.
  auto d = load_fixture("io/dtypes.json");
  std::vector<int64_t> f64_bits;
  for (double v : io::load<double>(fixture_path("dtypes.safetensors"), "f64").to_vector())
    f64_bits.push_back(std::bit_cast<int64_t>(v));
  EXPECT_EQ(f64_bits, d.at("f64").at("bits").get<std::vector<int64_t>>());
  EXPECT_EQ(io::load<int64_t>(fixture_path("dtypes.safetensors"), "i64").to_vector(),
            d.at("i64").at("data").get<std::vector<int64_t>>());
}

TEST_F(TensorFiles, MissingFileIsAnErrorNamingThePath) {
  std::string p = path("nowhere.safetensors");
  SINEW_EXPECT_ERROR(io::load<float>(p), "io::load", p, "cannot open");
  SINEW_EXPECT_ERROR(io::load<std::vector<Tensor<float>>>(p), "io::load", p, "cannot open");
  SINEW_EXPECT_ERROR(io::load<float>(p, "w"), "io::load", p, "cannot open");
}

TEST_F(TensorFiles, AnotherDtypeThanRequestedIsAnErrorNamingTheKey) {
  io::save(std::map<std::string, Tensor<double>>{{"w", ones<double>({2})}}, path("d.safetensors"));
  SINEW_EXPECT_ERROR(io::load<float>(path("d.safetensors")), "io::load", path("d.safetensors"),
                     "tensor 'w' is F64, not F32", "load_file");
  SINEW_EXPECT_ERROR(io::load<int64_t>(path("d.safetensors"), "w"), "tensor 'w' is F64, not I64");
  // A file from Python: num_batches_tracked is I64 among F32 tensors; F16 is not F32 either.
  std::string cnn = fixture_path("cnn.safetensors");
  SINEW_EXPECT_ERROR(io::load<float>(cnn), cnn, "tensor '1.num_batches_tracked' is I64, not F32");
  SINEW_EXPECT_ERROR(io::load<float>(fixture_path("dtypes.safetensors"), "f16"),
                     "tensor 'f16' is F16, not F32");
}

TEST_F(TensorFiles, MissingKeyIsAnErrorListingTheFilesKeys) {
  std::string p = path("m.safetensors");
  io::save(std::map<std::string, Tensor<float>>{{"a", ones<float>({1})}, {"b", ones<float>({1})}},
           p);
  SINEW_EXPECT_ERROR(io::load<float>(p, "c"), "io::load", p, "no tensor 'c'", "2 tensors",
                     "'a', 'b'");
}

TEST_F(TensorFiles, ListKeysMustBeZeroToNMinusOne) {
  auto save_keys = [&](const std::vector<std::string>& keys) {
    std::map<std::string, Tensor<float>> m;
    for (const auto& k : keys) m.emplace(k, ones<float>({1}));
    std::string p = path("list.safetensors");
    io::save(m, p);
    return p;
  };
  using List = std::vector<Tensor<float>>;
  std::string p = save_keys({"0", "2"});
  SINEW_EXPECT_ERROR(io::load<List>(p), "io::load", p, "tensor '2' is past the end of a list of 2",
                     "consecutive");
  p = save_keys({"1", "2"});
  SINEW_EXPECT_ERROR(io::load<List>(p), p, "tensor '2' is past the end");
  for (const char* bad : {"weight", "01", "-1", "+1", "1.0", ""}) {
    p = save_keys({"0", bad});
    SINEW_EXPECT_ERROR(io::load<List>(p), p, std::string("tensor '") + bad + "'",
                       "not a list position");
  }
}

TEST_F(TensorFiles, SaveErrorsNameThePathAndTheTensor) {
  std::string p = path("bad.safetensors");
  SINEW_EXPECT_ERROR(io::save(std::vector<Tensor<float>>{ones<float>({1}), Tensor<float>()}, p),
                     "io::save", p, "tensor '1' is undefined");
  SINEW_EXPECT_ERROR(
      io::save(std::map<std::string, Tensor<float>>{{"__metadata__", ones<float>({1})}}, p),
      "io::save", p, "'__metadata__' is reserved");
  EXPECT_FALSE(fs::exists(p));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
