// Tests of data/idx.hpp: round trips of every element type, plain and gzip, written here byte by
// byte; big-endian decoding; conversions; every malformed-file case.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <sinew/data/idx.hpp>
#include <sinew/sinew.hpp>

#include "test_util.hpp"

using namespace sinew;

namespace {
namespace SINEW_UNITY_ID {

using Bytes = std::vector<unsigned char>;

void put_be(Bytes& out, uint64_t v, int n) {
  for (int k = n - 1; k >= 0; --k) out.push_back(static_cast<unsigned char>(v >> (8 * k)));
}

// An IDX header: 0, 0, the type code, the number of dims, the dims as big-endian uint32.
Bytes idx_header(int code, const std::vector<uint32_t>& dims) {
  Bytes b = {0, 0, static_cast<unsigned char>(code), static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims) put_be(b, d, 4);
  return b;
}

// The elements' big-endian bytes (their bit patterns, so floats round-trip exactly).
template <class S>
Bytes be_bytes(const std::vector<S>& values) {
  Bytes b;
  for (S v : values) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(S));  // little-endian host: the low bytes hold the value
    put_be(b, bits, sizeof(S));
  }
  return b;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

class Idx : public sinew::testing::TempDirTest {
 protected:
  // Writes `bytes` plain or gzip'd to a new file and returns its path.
  std::string write(const Bytes& bytes, bool gz, const std::string& name = "x") {
    std::string p = path(name + (gz ? ".gz" : ""));
    if (gz) {
      write_gz(p, bytes);
    } else {
      write_plain(p, bytes);
    }
    return p;
  }
  // The gzip'd form of `bytes` (one member).
  Bytes gz_bytes(const Bytes& bytes) {
    std::string p = path("member.gz");
    write_gz(p, bytes);
    return read_file(p);
  }

  template <class S>
  void expect_round_trip(int code, const std::vector<S>& values) {
    for (bool gz : {false, true}) {
      SCOPED_TRACE(gz ? "gzip" : "plain");
      const auto n = static_cast<uint32_t>(values.size());
      std::string p = write(concat(idx_header(code, {n}), be_bytes(values)), gz);
      data::IdxInfo info = data::read_idx_header(p);
      EXPECT_EQ(static_cast<int>(info.type), code);
      EXPECT_EQ(info.shape, Shape({int64_t(n)}));
      EXPECT_EQ(info.compressed, gz);
      EXPECT_EQ(info.data_bytes, int64_t(n * sizeof(S)));
      Tensor<double> t = data::read_idx<double>(p);
      ASSERT_EQ(t.shape(), Shape({int64_t(n)}));
      std::vector<double> got = t.to_vector();
      for (size_t k = 0; k < values.size(); ++k) {
        EXPECT_EQ(got[k], static_cast<double>(values[k])) << "element " << k;
      }
    }
  }
};

TEST_F(Idx, RoundTripsEveryElementTypePlainAndGzip) {
  expect_round_trip<uint8_t>(0x08, {0, 1, 127, 128, 255});
  expect_round_trip<int8_t>(0x09, {-128, -1, 0, 1, 127});
  expect_round_trip<int16_t>(0x0B, {-32768, -2, 0, 258, 32767});
  expect_round_trip<int32_t>(0x0C, {std::numeric_limits<int32_t>::min(), -70000, 0, 16909060,
                                    std::numeric_limits<int32_t>::max()});
  expect_round_trip<float>(0x0D, {-1.5f, 0.0f, 3.25e-3f, std::numeric_limits<float>::max(), 1e-40f,
                                  -std::numeric_limits<float>::infinity()});
  expect_round_trip<double>(0x0E, {-1.5, 0.0, 0.1, 1e300, 5e-324, std::acos(-1.0)});
}

TEST_F(Idx, DecodesBigEndianBytes) {
  // Hand-written bytes: int16 01 02 = 258, int32 01 02 03 04 = 16909060, FF FE = -2,
  // float32 3F 80 00 00 = 1, C0 20 00 00 = -2.5, float64 40 00 .. = 2.
  EXPECT_TRUE(sinew::testing::values_are(
      data::read_idx<double>(write(concat(idx_header(0x0B, {2}), {0x01, 0x02, 0xFF, 0xFE}), false)),
      {258, -2}));
  EXPECT_TRUE(sinew::testing::values_are(
      data::read_idx<int64_t>(write(concat(idx_header(0x0C, {1}), {1, 2, 3, 4}), true)),
      {16909060}));
  EXPECT_TRUE(sinew::testing::values_are(
      data::read_idx<float>(
          write(concat(idx_header(0x0D, {2}), {0x3F, 0x80, 0, 0, 0xC0, 0x20, 0, 0}), false)),
      {1.0, -2.5}));
  EXPECT_TRUE(sinew::testing::values_are(
      data::read_idx<double>(
          write(concat(idx_header(0x0E, {1}), {0x40, 0, 0, 0, 0, 0, 0, 0}), true)),
      {2.0}));
}

TEST_F(Idx, KeepsTheHeadersShapeInRowMajorOrder) {
  Bytes values;
  for (int k = 0; k < 24; ++k) values.push_back(static_cast<unsigned char>(k * 10));
  for (bool gz : {false, true}) {
    Tensor<float> t = data::read_idx<float>(write(concat(idx_header(0x08, {2, 3, 4}), values), gz));
    ASSERT_EQ(t.shape(), Shape({2, 3, 4}));
    EXPECT_EQ(t.at({0, 0, 1}), 10.0f);
    EXPECT_EQ(t.at({1, 2, 3}), 230.0f);  // ubyte into float keeps 0..255
    Tensor<uint8_t> u =
        data::read_idx<uint8_t>(write(concat(idx_header(0x08, {2, 3, 4}), values), gz));
    EXPECT_EQ(u.at({1, 0, 0}), 120);
  }
}

TEST_F(Idx, ZeroSizedAndZeroDimensionalFiles) {
  for (bool gz : {false, true}) {
    Tensor<float> empty_t = data::read_idx<float>(write(idx_header(0x08, {0, 28, 28}), gz));
    EXPECT_EQ(empty_t.shape(), Shape({0, 28, 28}));
    Tensor<int64_t> scalar =
        data::read_idx<int64_t>(write(concat(idx_header(0x09, {}), {0xFF}), gz));
    EXPECT_EQ(scalar.dim(), 0);
    EXPECT_EQ(scalar.item(), -1);
  }
}

TEST_F(Idx, ConvertsToTheRequestedTypeOrRefusesWhatDoesNotFit) {
  std::string sbyte = write(concat(idx_header(0x09, {2}), {0x05, 0xFF}), false, "sbyte");
  EXPECT_TRUE(sinew::testing::values_are(data::read_idx<int64_t>(sbyte), {5, -1}));
  SINEW_EXPECT_ERROR(data::read_idx<uint8_t>(sbyte), "data::read_idx", sbyte, "element 1", "-1");
  std::string big = write(concat(idx_header(0x0B, {1}), {0x01, 0x00}), false, "int16");
  SINEW_EXPECT_ERROR(data::read_idx<uint8_t>(big), "element 0", "256");
  // Floats into integers truncate toward zero; NaN and out-of-range values are refused.
  std::string f64 = write(concat(idx_header(0x0E, {2}), be_bytes<double>({2.7, -3.9})), false, "f");
  EXPECT_TRUE(sinew::testing::values_are(data::read_idx<int64_t>(f64), {2, -3}));
  std::string nan =
      write(concat(idx_header(0x0D, {1}), be_bytes<float>({std::nanf("")})), false, "nan");
  SINEW_EXPECT_ERROR(data::read_idx<int64_t>(nan), "element 0", "does not fit");
  std::string huge =
      write(concat(idx_header(0x0E, {2}), be_bytes<double>({1e300, -1e300})), false, "huge");
  SINEW_EXPECT_ERROR(data::read_idx<int64_t>(huge), "element 0");
  Tensor<float> inf = data::read_idx<float>(huge);
  EXPECT_EQ(inf.at({0}), std::numeric_limits<float>::infinity());
  EXPECT_EQ(inf.at({1}), -std::numeric_limits<float>::infinity());
}

TEST_F(Idx, DetectsCompressionFromTheContentNotTheName) {
  Bytes file = concat(idx_header(0x08, {3}), {7, 8, 9});
  std::string gz_named_plain = path("plain.gz");
  write_plain(gz_named_plain, file);
  std::string plain_named_gz = path("gzipped.idx");
  write_gz(plain_named_gz, file);
  EXPECT_FALSE(data::read_idx_header(gz_named_plain).compressed);
  EXPECT_TRUE(data::read_idx_header(plain_named_gz).compressed);
  EXPECT_TRUE(sinew::testing::values_are(data::read_idx<float>(gz_named_plain), {7, 8, 9}));
  EXPECT_TRUE(sinew::testing::values_are(data::read_idx<float>(plain_named_gz), {7, 8, 9}));
}

TEST_F(Idx, ReadsConcatenatedGzipMembersAsOneStream) {
  Bytes first = gz_bytes(concat(idx_header(0x08, {4}), {1, 2}));
  Bytes second = gz_bytes({3, 4});
  std::string p = path("two_members.gz");
  write_plain(p, concat(first, second));
  EXPECT_TRUE(sinew::testing::values_are(data::read_idx<float>(p), {1, 2, 3, 4}));
}

TEST_F(Idx, MissingFileOrDirectoryNamesThePath) {
  std::string missing = path("does-not-exist-idx1-ubyte");
  SINEW_EXPECT_ERROR(data::read_idx<float>(missing), "data::read_idx", missing, "no such file");
  SINEW_EXPECT_ERROR(data::read_idx_header(missing), "data::read_idx_header", missing);
  SINEW_EXPECT_ERROR(data::read_idx<float>(dir_.string()), dir_.string(), "is a directory");
}

TEST_F(Idx, RejectsAWrongMagicNumberOrTypeCode) {
  for (bool gz : {false, true}) {
    Bytes bad_magic = concat(idx_header(0x08, {1}), {0});
    bad_magic[0] = 0x01;
    std::string p = write(bad_magic, gz, "magic");
    SINEW_EXPECT_ERROR(data::read_idx<float>(p), "data::read_idx", p, "not an IDX file");
    std::string q = write(concat(idx_header(0x0A, {1}), {0}), gz, "code");
    SINEW_EXPECT_ERROR(data::read_idx<float>(q), q, "unknown IDX type code 10");
    std::string tiny = write({0, 0}, gz, "tiny");
    SINEW_EXPECT_ERROR(data::read_idx<float>(tiny), tiny, "too short");
    std::string empty = write({}, gz, "empty");
    SINEW_EXPECT_ERROR(data::read_idx<float>(empty), empty, "0 bytes");
  }
}

TEST_F(Idx, RejectsTruncatedFiles) {
  for (bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "plain");
    // The data stops short of what the dims [2, 3] of int16 need (12 bytes).
    std::string p = write(concat(idx_header(0x0B, {2, 3}), Bytes(11, 1)), gz, "short_data");
    SINEW_EXPECT_ERROR(data::read_idx<float>(p), "data::read_idx", p, "truncated", "12", "11");
    // Three dims announced, two given.
    Bytes h = idx_header(0x08, {2, 3, 4});
    h.resize(h.size() - 4);
    std::string q = write(h, gz, "short_header");
    SINEW_EXPECT_ERROR(data::read_idx_header(q), q, "header", "truncated");
  }
  // A gzip stream cut in the middle (the data and its CRC trailer are missing).
  Bytes gz = gz_bytes(concat(idx_header(0x08, {1000}), Bytes(1000, 42)));
  gz.resize(gz.size() - 12);
  std::string cut = path("cut.gz");
  write_plain(cut, gz);
  SINEW_EXPECT_ERROR(data::read_idx<float>(cut), cut, "truncated");
}

TEST_F(Idx, RejectsDimensionsThatClaimMoreThanTheFileHolds) {
  for (bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "plain");
    std::string p = write(concat(idx_header(0x08, {1000}), Bytes(10, 1)), gz, "claims");
    SINEW_EXPECT_ERROR(data::read_idx<float>(p), p, "need 1000", "holds 10");
    // Petabytes claimed by a tiny file: refused from the data present, never allocated.
    std::string q =
        write(concat(idx_header(0x08, {4294967295u, 1000000}), Bytes(16, 1)), gz, "petabytes");
    SINEW_EXPECT_ERROR(data::read_idx<float>(q), q, "truncated", "holds 16");
  }
}

TEST_F(Idx, RejectsHeadersWhoseSizeOverflows) {
  for (bool gz : {false, true}) {
    // (2^32 - 1)^3 float64 elements: more than 2^63 bytes.
    std::string p = write(idx_header(0x0E, {4294967295u, 4294967295u, 4294967295u, 7}), gz);
    SINEW_EXPECT_ERROR(data::read_idx_header(p), "data::read_idx_header", p, "2^63");
    SINEW_EXPECT_ERROR(data::read_idx<double>(p), "data::read_idx", p, "2^63");
    // A zero dim does not excuse an overflowing product of the others.
    std::string q = write(idx_header(0x08, {4294967295u, 4294967295u, 4294967295u, 0}), gz, "zero");
    SINEW_EXPECT_ERROR(data::read_idx<float>(q), q, "2^63");
  }
}

TEST_F(Idx, RejectsBytesAfterTheData) {
  for (bool gz : {false, true}) {
    std::string p = write(concat(idx_header(0x08, {2}), {1, 2, 3}), gz, "extra");
    SINEW_EXPECT_ERROR(data::read_idx<float>(p), "data::read_idx", p,
                       "bytes after the 2 data bytes");
  }
  // Garbage after a complete gzip stream.
  std::string q = path("garbage.gz");
  write_plain(q, concat(gz_bytes(concat(idx_header(0x08, {2}), {1, 2})), {'x', 'y'}));
  SINEW_EXPECT_ERROR(data::read_idx<float>(q), q, "after the end of its gzip stream");
}

TEST_F(Idx, RejectsCorruptGzipData) {
  Bytes gz = gz_bytes(concat(idx_header(0x08, {100}), Bytes(100, 5)));
  gz[gz.size() - 8] ^= 0xFF;  // the CRC-32 of the trailer
  std::string p = path("crc.gz");
  write_plain(p, gz);
  SINEW_EXPECT_ERROR(data::read_idx<float>(p), "data::read_idx", p, "corrupt gzip data");
}

TEST_F(Idx, HeaderReadsWithoutTheData) {
  // A file whose data is missing still has a readable header; read_idx refuses it.
  std::string p = write(idx_header(0x0C, {60000, 28, 28}), true);
  data::IdxInfo info = data::read_idx_header(p);
  EXPECT_EQ(info.type, data::IdxType::Int32);
  EXPECT_EQ(info.shape, Shape({60000, 28, 28}));
  EXPECT_EQ(info.header_bytes, 16);
  EXPECT_EQ(info.data_bytes, int64_t(60000) * 28 * 28 * 4);
  SINEW_EXPECT_ERROR(data::read_idx<float>(p), p, "truncated");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
