// Tests of io/safetensors.hpp: exact round trips of every dtype, the byte layout, F16/BF16
// decoding, every malformed-file case, truncation, atomic writes, state dicts and modules.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <bit>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <sinew/io/safetensors.hpp>
#include <sinew/sinew.hpp>

#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace sinew;

namespace {
namespace SINEW_UNITY_ID {

// A fresh directory per test, removed afterwards.
class SafetensorsTest : public sinew::testing::TempDirTest {
 protected:
  // Writes an 8-byte little-endian length (header.size() unless given), the header, the data.
  std::string raw(const std::string& name, const std::string& header, const std::string& data = "",
                  int64_t length = -1) const {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    uint64_t n = length < 0 ? header.size() : static_cast<uint64_t>(length);
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << header << data;
    return p;
  }

  static std::string read_all(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Names in the test directory (to spot leftover temporary files).
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    return names;
  }
};

template <class T>
std::vector<T> values(const io::TensorDict& d, const std::string& name) {
  return io::get<T>(d, name).to_vector();
}

// Bit patterns, so that NaN payloads and signed zeros count.
std::vector<uint32_t> bits(const std::vector<float>& v) {
  std::vector<uint32_t> b;
  for (float x : v) b.push_back(std::bit_cast<uint32_t>(x));
  return b;
}
std::vector<uint64_t> bits(const std::vector<double>& v) {
  std::vector<uint64_t> b;
  for (double x : v) b.push_back(std::bit_cast<uint64_t>(x));
  return b;
}

const std::string kEntry = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
const std::string kEightBytes(8, '\0');

// ---- round trips
// ---------------------------------------------------------------------------------

TEST_F(SafetensorsTest, EveryDtypeRoundTripsExactly) {
  const float fmax = std::numeric_limits<float>::max(),
              fden = std::numeric_limits<float>::denorm_min();
  const double dmin = std::numeric_limits<double>::lowest(),
               dden = std::numeric_limits<double>::denorm_min();
  std::vector<float> f = {0.1f, -0.0f, fmax, fden, INFINITY, -INFINITY, NAN, -3.5f};
  std::vector<double> d = {0.1, -0.0, dmin, dden, INFINITY, NAN};
  std::vector<int64_t> i = {std::numeric_limits<int64_t>::min(),
                            -1,
                            0,
                            1,
                            std::numeric_limits<int64_t>::max(),
                            int64_t(1) << 53 | 1};
  std::vector<uint8_t> u = {0, 1, 127, 128, 255};
  std::vector<bool> b = {true, false, false, true};
  io::TensorDict dict;
  dict.insert("f32", from_vector(f, Shape{2, 4}));
  dict.insert("f64", from_vector(d, Shape{3, 2}));
  dict.insert("i64", from_vector(i, Shape{6}));
  dict.insert("u8", from_vector(u, Shape{5, 1}));
  Tensor<bool> bt = empty<bool>({2, 2});
  for (int k = 0; k < 4; ++k) bt.data_ptr()[k] = b[k];
  dict.insert("bool", bt);
  io::save_tensors(dict, path("all.safetensors"));

  io::TensorDict back = io::load_tensors(path("all.safetensors"));
  ASSERT_EQ(back.size(), 5u);
  EXPECT_EQ(io::get<float>(back, "f32").shape(), Shape({2, 4}));
  EXPECT_EQ(bits(values<float>(back, "f32")), bits(f));
  EXPECT_EQ(io::get<double>(back, "f64").shape(), Shape({3, 2}));
  EXPECT_EQ(bits(values<double>(back, "f64")), bits(d));
  EXPECT_EQ(values<int64_t>(back, "i64"), i);
  EXPECT_EQ(io::get<uint8_t>(back, "u8").shape(), Shape({5, 1}));
  EXPECT_EQ(values<uint8_t>(back, "u8"), u);
  std::vector<bool> bb;
  for (bool x : values<bool>(back, "bool")) bb.push_back(x);
  EXPECT_EQ(bb, b);
}

TEST_F(SafetensorsTest, ScalarAndEmptyTensorsRoundTrip) {
  io::TensorDict dict;
  dict.insert("scalar", full<double>({}, 2.5));
  dict.insert("empty", zeros<float>({0, 3}));
  dict.insert("empty_i", zeros<int64_t>({2, 0}));
  io::save_tensors(dict, path("s.safetensors"));
  io::TensorDict back = io::load_tensors(path("s.safetensors"));
  EXPECT_EQ(io::get<double>(back, "scalar").shape(), Shape{});
  EXPECT_EQ(values<double>(back, "scalar"), std::vector<double>{2.5});
  EXPECT_EQ(io::get<float>(back, "empty").shape(), Shape({0, 3}));
  EXPECT_EQ(io::get<int64_t>(back, "empty_i").shape(), Shape({2, 0}));
}

TEST_F(SafetensorsTest, EmptyDictWritesPaddedEmptyHeader) {
  io::save_tensors({}, path("e.safetensors"));
  EXPECT_EQ(read_all(path("e.safetensors")), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  EXPECT_TRUE(io::load_tensors(path("e.safetensors")).empty());
}

TEST_F(SafetensorsTest, MetadataRoundTrips) {
  io::Metadata meta = {
      {"format", "pt"}, {"epoch", "12"}, {"note", "ünïcode \"quoted\"\n"}, {"", ""}};
  io::TensorDict dict;
  dict.insert("x", ones<float>({2}));
  io::save_tensors(dict, path("m.safetensors"), meta);
  io::Metadata back;
  io::load_tensors(path("m.safetensors"), &back);
  EXPECT_EQ(back, meta);
  nn::StateDict sd;
  sd.insert("w", ones<float>({1}));
  io::save_file(sd, path("m2.safetensors"), {{"k", "v"}});
  io::Metadata back2 = {{"stale", "entry"}};
  io::load_file(path("m2.safetensors"), &back2);
  EXPECT_EQ(back2, (io::Metadata{{"k", "v"}}));
}

// The exact bytes: sorted by dtype rank then name, offsets, compact JSON padded with spaces to a
// multiple of 8, little-endian data (the same bytes Python's safetensors writes for these tensors).
TEST_F(SafetensorsTest, WritesTheLayoutOfPythonSafetensors) {
  io::TensorDict dict;
  dict.insert("b", from_vector(std::vector<float>{1, 2}));
  dict.insert("c", from_vector(std::vector<uint8_t>{1, 2, 3}));
  dict.insert("a", full<int64_t>({}, 7));
  io::save_tensors(dict, path("l.safetensors"));
  std::string header = R"({"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                       R"("c":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}})"
                       "       ";  // 161 bytes of JSON + 7 spaces = 168
  std::string expected = std::string("\xa8\0\0\0\0\0\0\0", 8) + header +
                         std::string("\x07\0\0\0\0\0\0\0", 8) +
                         std::string("\0\0\x80\x3f\0\0\0\x40", 8) + "\x01\x02\x03";
  EXPECT_EQ(read_all(path("l.safetensors")), expected);

  io::Header h = io::read_header(path("l.safetensors"));
  EXPECT_EQ(h.tensors.keys(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(h.tensors.at("b").dtype, "F32");
  EXPECT_EQ(h.tensors.at("b").begin, 8);
  EXPECT_EQ(h.tensors.at("b").end, 16);
  EXPECT_EQ(h.data_start, 8 + 168);
  EXPECT_EQ(h.data_size, 19);
}

TEST_F(SafetensorsTest, NonContiguousTensorsAreSavedInRowMajorOrder) {
  Tensor<float> m = from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, Shape{2, 3});
  io::TensorDict dict;
  dict.insert("t", m.t());                // [3, 2], strides [1, 3]
  dict.insert("s", m.slice(1, 0, 3, 2));  // [2, 2]: columns 0 and 2
  dict.insert("e", from_vector(std::vector<double>{7, 8}).expand({3, 2}));  // stride 0
  io::save_tensors(dict, path("nc.safetensors"));
  io::TensorDict back = io::load_tensors(path("nc.safetensors"));
  EXPECT_EQ(io::get<float>(back, "t").shape(), Shape({3, 2}));
  EXPECT_EQ(values<float>(back, "t"), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(values<float>(back, "s"), (std::vector<float>{0, 2, 3, 5}));
  EXPECT_EQ(values<double>(back, "e"), (std::vector<double>{7, 8, 7, 8, 7, 8}));
}

// ---- F16 / BF16
// -----------------------------------------------------------------------------------

TEST_F(SafetensorsTest, ReadsF16AndBF16BitPatternsAsFloat) {
  // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 1023 * 2^-24 (largest subnormal),
  // 2^-14 (smallest normal), -0, inf, -inf, NaN, 0x3555 = 1365/4096.
  std::vector<uint16_t> h = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400,
                             0x8000, 0x7C00, 0xFC00, 0x7E00, 0x3555};
  // BF16: 1, -3, 3.140625, 2^-133 (a float subnormal), inf, NaN.
  std::vector<uint16_t> bf = {0x3F80, 0xC040, 0x4049, 0x0001, 0x7F80, 0x7FC0};
  std::string data;
  for (uint16_t v : h) data += {char(v & 0xff), char(v >> 8)};
  for (uint16_t v : bf) data += {char(v & 0xff), char(v >> 8)};
  std::string header = R"({"h":{"dtype":"F16","shape":[11],"data_offsets":[0,22]},)"
                       R"("bf":{"dtype":"BF16","shape":[2,3],"data_offsets":[22,34]}})";
  std::string p = raw("half.safetensors", header, data);
  nn::StateDict sd = io::load_file(p);
  std::vector<float> hv = sd.at("h").to_vector();
  std::vector<float> expect_h = {1.0f,
                                 -2.0f,
                                 65504.0f,
                                 std::ldexp(1.0f, -24),
                                 std::ldexp(1023.0f, -24),
                                 std::ldexp(1.0f, -14),
                                 -0.0f,
                                 INFINITY,
                                 -INFINITY,
                                 NAN,
                                 1365.0f / 4096.0f};
  ASSERT_EQ(hv.size(), expect_h.size());
  for (size_t i = 0; i < hv.size(); ++i) {
    if (std::isnan(expect_h[i])) {
      EXPECT_TRUE(std::isnan(hv[i])) << i;
    } else {
      EXPECT_EQ(std::bit_cast<uint32_t>(hv[i]), std::bit_cast<uint32_t>(expect_h[i])) << i;
    }
  }
  EXPECT_EQ(sd.at("bf").shape(), Shape({2, 3}));
  std::vector<float> bv = sd.at("bf").to_vector();
  EXPECT_EQ(bv[0], 1.0f);
  EXPECT_EQ(bv[1], -3.0f);
  EXPECT_EQ(bv[2], 3.140625f);
  EXPECT_EQ(bv[3], std::ldexp(1.0f, -133));
  EXPECT_EQ(bv[4], INFINITY);
  EXPECT_TRUE(std::isnan(bv[5]));
  // load_tensors gives them as float too.
  EXPECT_EQ(io::dtype(io::load_tensors(p).at("h")), DType::Float32);
}

// ---- state dicts and modules
// ----------------------------------------------------------------------

TEST_F(SafetensorsTest, NumBatchesTrackedIsWrittenAsInt64) {
  nn::StateDict sd;
  sd.insert("bn.running_mean", from_vector(std::vector<float>{0.5f, -1}));
  sd.insert("bn.num_batches_tracked", full<float>({}, 12));
  sd.insert("num_batches_tracked_not", full<float>({}, 3));
  io::save_file(sd, path("bn.safetensors"));
  io::TensorDict raw_back = io::load_tensors(path("bn.safetensors"));
  EXPECT_EQ(values<int64_t>(raw_back, "bn.num_batches_tracked"), std::vector<int64_t>{12});
  EXPECT_EQ(io::dtype(raw_back.at("num_batches_tracked_not")), DType::Float32);
  EXPECT_EQ(io::dtype(raw_back.at("bn.running_mean")), DType::Float32);
  nn::StateDict back = io::load_file(path("bn.safetensors"));
  EXPECT_EQ(back.at("bn.num_batches_tracked").shape(), Shape{});
  EXPECT_EQ(back.at("bn.num_batches_tracked").item(), 12.0f);
  EXPECT_EQ(back.at("bn.running_mean").to_vector(), (std::vector<float>{0.5f, -1}));
}

TEST_F(SafetensorsTest, LoadFileConvertsEveryDtypeToFloat) {
  io::TensorDict dict;
  dict.insert("d", from_vector(std::vector<double>{0.25, -8}));
  dict.insert("i", from_vector(std::vector<int64_t>{-3, 16777216}));
  dict.insert("u", from_vector(std::vector<uint8_t>{255}));
  Tensor<bool> b = empty<bool>({2});
  b.data_ptr()[0] = true, b.data_ptr()[1] = false;
  dict.insert("b", b);
  io::save_tensors(dict, path("c.safetensors"));
  nn::StateDict sd = io::load_file(path("c.safetensors"));
  EXPECT_EQ(sd.at("d").to_vector(), (std::vector<float>{0.25f, -8}));
  EXPECT_EQ(sd.at("i").to_vector(), (std::vector<float>{-3, 16777216}));
  EXPECT_EQ(sd.at("u").to_vector(), (std::vector<float>{255}));
  EXPECT_EQ(sd.at("b").to_vector(), (std::vector<float>{1, 0}));
}

TEST_F(SafetensorsTest, ModuleSaveAndLoadRestoresParameters) {
  manual_seed(1);
  nn::Sequential a(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3));
  nn::Sequential b(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3));
  io::save(a, path("net.safetensors"));
  auto r = io::load(b, path("net.safetensors"));
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  for (const auto& [k, t] : a.state_dict()) {
    EXPECT_EQ(b.state_dict().at(k).to_vector(), t.to_vector()) << k;
  }
  Tensor<float> x = randn({5, 4});
  EXPECT_EQ(a(x).to_vector(), b(x).to_vector());
}

// A double module with a submodule and buffers, as a layer family in double would register them.
class Affine64 : public nn::ModuleT<double> {
 public:
  Affine64(int64_t in, int64_t out) : nn::ModuleT<double>("Affine64") {
    weight = register_parameter("weight", zeros<double>({out, in}));
    bias = register_parameter("bias", zeros<double>({out}));
  }
  Tensor<double> weight, bias;
};
class Net64 : public nn::ModuleT<double> {
 public:
  Net64() : nn::ModuleT<double>("Net64") {
    fc = register_module("fc", Affine64(3, 4));
    running_mean = register_buffer("running_mean", zeros<double>({4}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros<double>({}));
  }
  std::shared_ptr<Affine64> fc;
  Tensor<double> running_mean, num_batches_tracked;
};

// The bits of every value of a tensor.
std::vector<uint64_t> bits_of(const Tensor<double>& t) {
  std::vector<uint64_t> out;
  for (double v : t.to_vector()) out.push_back(std::bit_cast<uint64_t>(v));
  return out;
}

TEST_F(SafetensorsTest, DoubleModuleRoundTripIsBitExact) {
  Net64 a;
  std::mt19937_64 rng(7);
  {
    NoGradGuard guard;
    for (Tensor<double>* t : {&a.fc->weight, &a.fc->bias}) {
      double* p = t->data_ptr();
      for (int64_t i = 0; i < t->numel(); ++i) {
        double v;
        do {
          v = std::bit_cast<double>(rng());  // every mantissa bit random
        } while (!std::isfinite(v));
        p[i] = v;
      }
    }
    const double specials[4] = {5e-324, -0.0, 1.0 / 3.0, std::numeric_limits<double>::infinity()};
    std::copy(specials, specials + 4, a.running_mean.data_ptr());
    a.num_batches_tracked.data_ptr()[0] = 9007199254740992.0;  // 2^53: exact in I64 and F64
  }
  io::save(a, path("net64.safetensors"));
  io::Header h = io::read_header(path("net64.safetensors"));
  EXPECT_EQ(h.tensors.at("fc.weight").dtype, "F64");
  EXPECT_EQ(h.tensors.at("fc.bias").dtype, "F64");
  EXPECT_EQ(h.tensors.at("running_mean").dtype, "F64");
  EXPECT_EQ(h.tensors.at("num_batches_tracked").dtype, "I64");

  Net64 b;
  auto r = io::load(b, path("net64.safetensors"));
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  const nn::StateDictT<double> want = a.state_dict(), got = b.state_dict();
  ASSERT_EQ(got.size(), 4u);
  for (const auto& [k, t] : want) EXPECT_EQ(bits_of(got.at(k)), bits_of(t)) << k;
  EXPECT_EQ(b.num_batches_tracked.item(), 9007199254740992.0);

  // A float module and a float state dict still read it, converted.
  nn::StateDict f = io::load_file(path("net64.safetensors"));
  EXPECT_EQ(f.at("fc.bias").to_vector()[0], static_cast<float>(a.fc->bias.to_vector()[0]));
  SINEW_EXPECT_ERROR(io::load(b, path("net.safetensors")), "io::load_file", "net.safetensors");
}

TEST_F(SafetensorsTest, LoadFileAsDoubleKeepsF64AndConvertsTheRest) {
  io::TensorDict dict;
  dict.insert("d", from_vector(std::vector<double>{0.1, -1e300}));
  dict.insert("f", from_vector(std::vector<float>{0.1f}));
  dict.insert("i", from_vector(std::vector<int64_t>{-3, (int64_t{1} << 53)}));
  Tensor<bool> b = empty<bool>({2});
  b.data_ptr()[0] = true, b.data_ptr()[1] = false;
  dict.insert("b", b);
  io::save_tensors(dict, path("c.safetensors"));
  nn::StateDictT<double> sd = io::load_file<double>(path("c.safetensors"));
  EXPECT_EQ(sd.at("d").to_vector(), (std::vector<double>{0.1, -1e300}));
  EXPECT_EQ(sd.at("f").to_vector(), (std::vector<double>{static_cast<double>(0.1f)}));
  EXPECT_EQ(sd.at("i").to_vector(), (std::vector<double>{-3, 9007199254740992.0}));
  EXPECT_EQ(sd.at("b").to_vector(), (std::vector<double>{1, 0}));
}

TEST_F(SafetensorsTest, LoadIntoAnotherArchitectureFollowsLoadStateDictRules) {
  nn::Sequential a(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3));
  io::save(a, path("net.safetensors"));
  nn::Sequential smaller(nn::Linear(4, 8));
  SINEW_EXPECT_ERROR(io::load(smaller, path("net.safetensors")), "unexpected keys", "2.weight");
  auto r = io::load(smaller, path("net.safetensors"), {.strict = false});
  EXPECT_EQ(r.unexpected_keys, (std::vector<std::string>{"2.bias", "2.weight"}));  // file order
  EXPECT_EQ(smaller.state_dict().at("0.weight").to_vector(),
            a.state_dict().at("0.weight").to_vector());
  nn::Sequential wider(nn::Linear(4, 9), nn::ReLU(), nn::Linear(9, 3));
  SINEW_EXPECT_ERROR(io::load(wider, path("net.safetensors"), {.strict = false}), "0.weight");
}

TEST_F(SafetensorsTest, GetRejectsAnotherDtypeAndMissingNames) {
  io::TensorDict dict;
  dict.insert("x", ones<double>({1}));
  SINEW_EXPECT_ERROR(io::get<float>(dict, "x"), "io::get", "'x'", "float64", "float32");
  SINEW_EXPECT_ERROR(io::get<double>(dict, "y"), "io::get", "'y'");
}

// ---- errors on writing and atomic writes
// ----------------------------------------------------------

TEST_F(SafetensorsTest, WriteErrorsNameThePathAndLeaveNoFile) {
  io::TensorDict dict;
  dict.insert("__metadata__", ones<float>({1}));
  SINEW_EXPECT_ERROR(io::save_tensors(dict, path("r.safetensors")), "io::save_tensors",
                     path("r.safetensors"), "reserved");
  io::TensorDict bad_name;
  bad_name.insert("\xff\xfe", ones<float>({1}));
  SINEW_EXPECT_ERROR(io::save_tensors(bad_name, path("u.safetensors")), path("u.safetensors"),
                     "UTF-8");
  SINEW_EXPECT_ERROR(io::save_tensors({}, path("v.safetensors"), {{"k", "\xc3"}}), "UTF-8");
  nn::StateDict undefined;
  undefined.insert("w", Tensor<float>());
  SINEW_EXPECT_ERROR(io::save_file(undefined, path("w.safetensors")), "io::save_file", "'w'",
                     "undefined");
  EXPECT_TRUE(listing().empty());
}

TEST_F(SafetensorsTest, FailedWriteLeavesTheTargetUntouchedAndNoTemporaryFile) {
  nn::StateDict sd;
  sd.insert("w", from_vector(std::vector<float>{1, 2, 3}));
  // A missing directory: an Error naming the target, nothing created.
  std::string missing = path("no/such/dir/model.safetensors");
  SINEW_EXPECT_ERROR(io::save_file(sd, missing), "io::save_file", missing, "cannot create");
  EXPECT_FALSE(fs::exists(path("no")));
  // Renaming over a non-empty directory fails: the directory stays, the temporary file is removed.
  fs::create_directories(path("occupied/inner"));
  SINEW_EXPECT_ERROR(io::save_file(sd, path("occupied")), path("occupied"), "rename");
  EXPECT_TRUE(fs::exists(path("occupied/inner")));
  EXPECT_EQ(listing(), std::vector<std::string>{"occupied"});
}

// A full disk, as a file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so that the write fails
// with EFBIG instead of killing the process): an Error naming the path and the failure, the
// previous file byte for byte as it was, no temporary file left. The checkpoint writer too.
TEST_F(SafetensorsTest, AFullDiskLeavesThePreviousFileIntact) {
  const std::string p = path("model.safetensors");
  nn::StateDict small;
  small.insert("w", from_vector(std::vector<float>{1, 2, 3}));
  io::save_file(small, p);
  const std::string before = read_all(p);
  nn::StateDict large;
  large.insert("w", ones<float>({64, 1024}));  // 256 KiB, over the limit below

  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  void (*previous_handler)(int) = std::signal(SIGXFSZ, SIG_IGN);
  bool raised = false;
  std::string message;
  try {
    io::save_file(large, p);
  } catch (const Error& e) {
    raised = true;
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
  ASSERT_TRUE(raised) << "saving past the file-size limit did not raise";
  EXPECT_NE(message.find("io::save_file"), std::string::npos) << message;
  EXPECT_NE(message.find(p), std::string::npos) << message;
  EXPECT_NE(message.find("failed"), std::string::npos) << message;
  EXPECT_EQ(read_all(p), before);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});
  // With the limit gone the same save succeeds.
  io::save_file(large, p);
  EXPECT_EQ(io::load_file(p).at("w").numel(), 64 * 1024);
}

TEST_F(SafetensorsTest, SavingReplacesAnExistingFileWholly) {
  std::string p = path("model.safetensors");
  { std::ofstream(p) << std::string(1000, 'x'); }
  nn::StateDict sd;
  sd.insert("w", from_vector(std::vector<float>{1, 2}));
  io::save_file(sd, p);
  EXPECT_EQ(io::load_file(p).at("w").to_vector(), (std::vector<float>{1, 2}));
  EXPECT_LT(fs::file_size(p), 1000u);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});
}

// ---- malformed files
// ------------------------------------------------------------------------------

TEST_F(SafetensorsTest, RejectsMissingAndUnreadablePaths) {
  SINEW_EXPECT_ERROR(io::load_file(path("absent.safetensors")), "io::load_file",
                     path("absent.safetensors"), "cannot open");
  SINEW_EXPECT_ERROR(io::load_tensors(dir_.string()), "io::load_tensors", dir_.string(),
                     "directory");
}

TEST_F(SafetensorsTest, RejectsFilesTooShortForTheLength) {
  std::string p = path("short.safetensors");
  { std::ofstream(p, std::ios::binary) << std::string("\x02\0\0", 3); }
  SINEW_EXPECT_ERROR(io::load_file(p), "io::load_file", p, "3 bytes", "too short");
  { std::ofstream(p, std::ios::binary); }
  SINEW_EXPECT_ERROR(io::read_header(p), "io::read_header", p, "0 bytes");
}

TEST_F(SafetensorsTest, RejectsHeaderLengthsOverTheCapOrTheFile) {
  std::string p = raw("cap.safetensors", "{}", "", 100'000'001);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "100000001", "exceeds the limit");
  p = raw("huge.safetensors", "{}", "", int64_t(1) << 62);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "exceeds the limit");
  p = raw("long.safetensors", "{}  ", "", 100);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "header length 100", "exceeds the 4 bytes");
}

TEST_F(SafetensorsTest, RejectsInvalidJsonHeaders) {
  for (std::string h :
       {std::string("{\"t\":"), std::string("not json"), std::string(""), std::string("{}x"),
        std::string("{\"a\":1,}"), std::string("{}\0", 3), std::string("{\"\xff\":1}")}) {
    std::string p = raw("j.safetensors", h);
    SINEW_EXPECT_ERROR(io::load_file(p), "io::load_file", p, "not valid JSON");
  }
  std::string p = raw("arr.safetensors", "[1, 2]");
  SINEW_EXPECT_ERROR(io::load_file(p), p, "not a JSON object");
}

TEST_F(SafetensorsTest, RejectsUnknownAndUnsupportedDtypes) {
  for (std::string dt : {"F17", "I32", "f32", "U64"}) {
    std::string p =
        raw("d.safetensors", R"({"t":{"dtype":")" + dt + R"(","shape":[2],"data_offsets":[0,8]}})",
            kEightBytes);
    SINEW_EXPECT_ERROR(io::load_file(p), p, "'t'", "dtype '" + dt + "'");
  }
  std::string p =
      raw("d2.safetensors", R"({"t":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "dtype is not a string");
}

TEST_F(SafetensorsTest, RejectsBadShapes) {
  for (std::string shape : {"[-2, -1]", "[2.5]", "[\"2\"]", "{}", "[18446744073709551615]",
                            "[4294967296, 4294967296]"}) {
    std::string p =
        raw("s.safetensors",
            R"({"t":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[0,8]}})", kEightBytes);
    SINEW_EXPECT_ERROR(io::load_file(p), p, "'t'", "shape");
  }
  // The product of the nonzero dims must fit even when another dim is 0.
  std::string p =
      raw("z.safetensors",
          R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})");
  SINEW_EXPECT_ERROR(io::load_file(p), p, "too large");
}

TEST_F(SafetensorsTest, RejectsShapesThatDisagreeWithTheByteRange) {
  std::string p = raw("m.safetensors", R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                      kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "'t'", "needs 12 bytes", "span 8");
  p = raw("m2.safetensors", R"({"t":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
          kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "needs 16 bytes");
}

TEST_F(SafetensorsTest, RejectsBadDataOffsets) {
  for (std::string off : {"[0]", "[0, 8, 9]", "[-8, 0]", "[0, \"8\"]", "{}", "[0.0, 8.0]"}) {
    std::string p =
        raw("o.safetensors", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":)" + off + "}}",
            kEightBytes);
    SINEW_EXPECT_ERROR(io::load_file(p), p, "'t'",
                       "data_offsets must be two non-negative integers");
  }
  std::string p = raw("b.safetensors", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
                      kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "end before they begin");
  p = raw("out.safetensors", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
          kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "outside the data buffer of 8 bytes");
}

TEST_F(SafetensorsTest, RejectsOverlappingHolesAndUncoveredData) {
  std::string p = raw("ov.safetensors",
                      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "'b'", "overlaps tensor 'a'");
  p = raw("same.safetensors",
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
          R"("b":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})",
          kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "overlaps");
  p = raw("hole.safetensors",
          R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
          R"("b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})",
          kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "bytes 4..6", "belong to no tensor", "'b'");
  p = raw("start.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
          kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "bytes 0..4");
  p = raw("tail.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
          kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "cover 4 of the 8 bytes");
}

TEST_F(SafetensorsTest, RejectsDuplicateKeys) {
  std::string p = raw("dup.safetensors",
                      R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                      R"("a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})",
                      kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "key 'a' twice");
  p = raw("dupfield.safetensors",
          R"({"a":{"dtype":"U8","dtype":"F32","shape":[8],"data_offsets":[0,8]}})", kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "key 'dtype' twice");
  p = raw("dupmeta.safetensors", R"({"__metadata__":{"k":"1","k":"2"}})");
  SINEW_EXPECT_ERROR(io::load_file(p), p, "key 'k' twice");
}

TEST_F(SafetensorsTest, RejectsNonStringMetadata) {
  std::string p = raw("meta.safetensors", R"({"__metadata__":{"epoch":3}})");
  SINEW_EXPECT_ERROR(io::load_file(p), p, "__metadata__ value of 'epoch' is not a string");
  p = raw("meta2.safetensors", R"({"__metadata__":["a"]})");
  SINEW_EXPECT_ERROR(io::load_file(p), p, "__metadata__ is not a JSON object");
  p = raw("meta3.safetensors", R"({"__metadata__":null})");  // as Python's Option: no metadata
  io::Metadata m = {{"x", "y"}};
  EXPECT_TRUE(io::load_file(p, &m).empty());
  EXPECT_TRUE(m.empty());
}

TEST_F(SafetensorsTest, RejectsMalformedTensorEntries) {
  std::string p = raw("e1.safetensors", R"({"t":[1,2]})");
  SINEW_EXPECT_ERROR(io::load_file(p), p, "'t'", "not a JSON object");
  p = raw("e2.safetensors", R"({"t":{"dtype":"F32","shape":[2]}})", kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "'t'", "needs \"dtype\", \"shape\" and \"data_offsets\"");
  p = raw("e3.safetensors", R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})",
          kEightBytes);
  SINEW_EXPECT_ERROR(io::load_file(p), p, "unknown field 'extra'");
}

TEST_F(SafetensorsTest, RejectsBoolBytesOtherThanZeroAndOne) {
  std::string p =
      raw("bool.safetensors", R"({"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
          std::string("\x01\x00\x02", 3));
  SINEW_EXPECT_ERROR(io::load_tensors(p), p, "'b'", "byte 2 at element 2");
}

TEST_F(SafetensorsTest, EveryTruncationOfAValidFileIsAnError) {
  io::TensorDict dict;
  dict.insert("w", from_vector(std::vector<float>{1, 2, 3}, Shape{3}));
  dict.insert("n", full<int64_t>({}, 5));
  std::string good = path("good.safetensors");
  io::save_tensors(dict, good, {{"k", "v"}});
  std::string bytes = read_all(good);
  std::string p = path("cut.safetensors");
  for (size_t n = 0; n < bytes.size(); ++n) {
    { std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes.substr(0, n); }
    SINEW_EXPECT_ERROR(io::load_tensors(p), "io::load_tensors", p) << "truncated to " << n;
  }
  { std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes << 'x'; }
  SINEW_EXPECT_ERROR(io::load_tensors(p), p, "cover");
}

// Random byte flips anywhere in a valid file: each load either succeeds or raises sinew::Error
// (under ASan this also checks that nothing is read out of bounds).
TEST_F(SafetensorsTest, CorruptedBytesGiveErrorsOrValidTensors) {
  io::TensorDict dict;
  dict.insert("w", from_vector(std::vector<float>{1, 2, 3, 4}, Shape{2, 2}));
  dict.insert("i", from_vector(std::vector<int64_t>{7}));
  dict.insert("f", from_vector(std::vector<uint8_t>{0, 1}));
  std::string good = path("good.safetensors");
  io::save_tensors(dict, good, {{"k", "v"}});
  const std::string bytes = read_all(good);
  std::mt19937 rng(7);
  std::string p = path("flip.safetensors");
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 150; ++trial) {
    std::string b = bytes;
    for (int k = 0; k < 1 + trial % 3; ++k) b[rng() % b.size()] = static_cast<char>(rng() % 256);
    { std::ofstream(p, std::ios::binary | std::ios::trunc) << b; }
    try {
      io::TensorDict d = io::load_tensors(p);
      for (const auto& [name, t] : d)
        EXPECT_GE(std::visit([](const auto& x) { return x.numel(); }, t), 0);
      ++loaded;
    } catch (const sinew::Error& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(loaded, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
