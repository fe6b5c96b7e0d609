// IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed: read_idx and
// read_idx_header.
//
//   Tensor<float> x = data::read_idx<float>("train-images-idx3-ubyte.gz");   // [N, 28, 28], 0..255
//   data::IdxInfo h = data::read_idx_header("train-labels-idx1-ubyte");      // type, shape only
//
// Format: two zero bytes, a type code (0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32,
// 0x0D float32, 0x0E float64), the number of dimensions, each dimension as a big-endian uint32,
// then the elements in row-major order, big-endian.
//
// Compression is detected from the content (the gzip magic bytes 1f 8b), never from the file name;
// concatenated gzip members are read as one stream. Sizes come from the header and are checked
// against the data actually present: a truncated file or gzip stream, a wrong magic number or type
// code, dimensions whose product overflows or that claim more data than the file holds, corrupt
// gzip data, and bytes after the data (decompressed or not) are each a sinew::Error naming the
// function, the file and the problem. Memory grows with the data actually decompressed, never
// from the header's claim alone.
#pragma once

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <zlib.h>

#include "sinew/core/error.hpp"
#include "sinew/core/shape.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::data {

// The element types of IDX files, by their type codes.
enum class IdxType : uint8_t {
  UInt8 = 0x08,
  Int8 = 0x09,
  Int16 = 0x0B,
  Int32 = 0x0C,
  Float32 = 0x0D,
  Float64 = 0x0E,
};

// A validated IDX header.
struct IdxInfo {
  IdxType type = IdxType::UInt8;
  Shape shape;               // the dimensions, as given by the header
  bool compressed = false;   // the file is gzip-compressed
  int64_t header_bytes = 0;  // 4 + 4 * number of dimensions (of the decompressed stream)
  int64_t data_bytes = 0;    // shape.numel() * element size
};

// The size of one element of the type in bytes.
inline int64_t idx_element_size(IdxType type) {
  switch (type) {
    case IdxType::UInt8:
    case IdxType::Int8:
      return 1;
    case IdxType::Int16:
      return 2;
    case IdxType::Int32:
    case IdxType::Float32:
      return 4;
    case IdxType::Float64:
      return 8;
  }
  return 0;
}

inline const char* idx_type_name(IdxType type) {
  switch (type) {
    case IdxType::UInt8:
      return "ubyte";
    case IdxType::Int8:
      return "sbyte";
    case IdxType::Int16:
      return "int16";
    case IdxType::Int32:
      return "int32";
    case IdxType::Float32:
      return "float32";
    case IdxType::Float64:
      return "float64";
  }
  return "unknown";
}

namespace detail {

// The bytes of an IDX file, plain or gzip-decompressed, read in order.
class IdxStream {
 public:
  IdxStream(const std::string& path, const char* where) : path_(path), where_(where) {
    std::error_code ec;
    SINEW_CHECK(std::filesystem::exists(path, ec), where, path, ": no such file");
    SINEW_CHECK(!std::filesystem::is_directory(path, ec), where, path, ": is a directory");
    in_.open(path, std::ios::binary);
    SINEW_CHECK(in_.is_open(), where, path, ": cannot open (",
                static_cast<const char*>(std::strerror(errno)), ")");
    in_.seekg(0, std::ios::end);
    file_size_ = static_cast<int64_t>(in_.tellg());
    SINEW_CHECK(file_size_ >= 0, where, path, ": cannot read its size");
    in_.seekg(0);
    unsigned char magic[2] = {0, 0};
    in_.read(reinterpret_cast<char*>(magic), 2);
    const std::streamsize got = in_.gcount();
    in_.clear();
    in_.seekg(0);
    compressed_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (compressed_) {
      // 16 + MAX_WBITS: a gzip wrapper, whose CRC-32 and length trailer inflate checks.
      SINEW_CHECK(inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK, where, path,
                  ": cannot initialise zlib");
      z_ready_ = true;
      in_buf_.resize(1 << 16);
    }
  }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;
  ~IdxStream() {
    if (z_ready_) inflateEnd(&z_);
  }

  bool compressed() const { return compressed_; }
  int64_t file_size() const { return file_size_; }

  // Reads up to n bytes into dst; fewer only at the end of the (decompressed) data.
  size_t read(unsigned char* dst, size_t n) {
    if (n == 0) return 0;
    if (!compressed_) {
      in_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
      SINEW_CHECK(!in_.bad(), where_, path_, ": read error");
      return static_cast<size_t>(in_.gcount());
    }
    size_t done = 0;
    while (done < n) {
      if (z_.avail_in == 0 && !refill()) {
        // The end of the file: fine between gzip members, a truncation inside one.
        SINEW_CHECK(member_done_, where_, path_,
                    ": the gzip stream is truncated (unexpected end of file)");
        break;
      }
      if (member_done_) {
        // Another gzip member may follow; anything else after the stream is not IDX data.
        SINEW_CHECK(z_.next_in[0] == 0x1f, where_, path_,
                    ": the file has bytes after the end of its gzip stream");
        SINEW_CHECK(inflateReset(&z_) == Z_OK, where_, path_, ": cannot reset zlib");
        member_done_ = false;
      }
      const size_t chunk = std::min<size_t>(n - done, std::numeric_limits<uInt>::max());
      z_.next_out = dst + done;
      z_.avail_out = static_cast<uInt>(chunk);
      const int r = inflate(&z_, Z_NO_FLUSH);
      done += chunk - z_.avail_out;
      if (r == Z_STREAM_END) {
        member_done_ = true;
      } else if (r != Z_OK && !(r == Z_BUF_ERROR && z_.avail_in == 0)) {
        sinew::detail::fail(where_, path_, ": corrupt gzip data (",
                            z_.msg ? static_cast<const char*>(z_.msg) : "zlib error", ")");
      }
    }
    return done;
  }

 private:
  bool refill() {
    in_.read(reinterpret_cast<char*>(in_buf_.data()), static_cast<std::streamsize>(in_buf_.size()));
    SINEW_CHECK(!in_.bad(), where_, path_, ": read error");
    const auto got = static_cast<uInt>(in_.gcount());
    z_.next_in = in_buf_.data();
    z_.avail_in = got;
    return got > 0;
  }

  std::string path_;
  const char* where_;
  std::ifstream in_;
  int64_t file_size_ = 0;
  bool compressed_ = false;
  z_stream z_{};
  bool z_ready_ = false;
  bool member_done_ = false;
  std::vector<unsigned char> in_buf_;
};

// Reads and validates the header from the start of the stream.
inline IdxInfo read_idx_header(IdxStream& s, const std::string& path, const char* where) {
  const char* kind = s.compressed() ? " (decompressed)" : "";
  unsigned char magic[4];
  const size_t got = s.read(magic, 4);
  SINEW_CHECK(got == 4, where, path, ": the file", kind, " is ", got,
              " bytes, too short for the 4-byte IDX magic number");
  SINEW_CHECK(magic[0] == 0 && magic[1] == 0, where, path,
              ": not an IDX file (the magic number must start with two zero bytes, got ",
              int(magic[0]), " ", int(magic[1]), ")");
  const uint8_t code = magic[2];
  SINEW_CHECK(
      code == 0x08 || code == 0x09 || code == 0x0B || code == 0x0C || code == 0x0D || code == 0x0E,
      where, path, ": unknown IDX type code ", int(code),
      " (expected 8 ubyte, 9 sbyte, 11 int16, 12 int32, 13 float32 or 14 float64)");
  IdxInfo info;
  info.type = static_cast<IdxType>(code);
  info.compressed = s.compressed();
  const int ndim = magic[3];
  info.header_bytes = 4 + 4 * int64_t(ndim);
  std::vector<unsigned char> raw(static_cast<size_t>(4 * ndim));
  const size_t got_dims = s.read(raw.data(), raw.size());
  SINEW_CHECK(got_dims == raw.size(), where, path, ": the header", kind, " is truncated (", ndim,
              " dimensions need ", raw.size(), " bytes after the magic number, the file has ",
              got_dims, ")");
  const int64_t esize = idx_element_size(info.type);
  const int64_t limit = std::numeric_limits<int64_t>::max() / esize;
  std::vector<int64_t> dims(static_cast<size_t>(ndim));
  int64_t nonzero = 1;  // the product of the nonzero dims stays below limit
  for (int i = 0; i < ndim; ++i) {
    const unsigned char* p = raw.data() + 4 * i;
    const int64_t d = (int64_t(p[0]) << 24) | (int64_t(p[1]) << 16) | (int64_t(p[2]) << 8) | p[3];
    dims[static_cast<size_t>(i)] = d;
    if (d == 0) continue;
    SINEW_CHECK(nonzero <= limit / d, where, path, ": the header's dimensions ",
                Shape(dims.begin(), dims.begin() + i + 1), (i + 1 < ndim ? "..." : ""), " of ",
                idx_type_name(info.type), " describe more than 2^63 bytes");
    nonzero *= d;
  }
  info.shape = Shape(std::move(dims));
  info.data_bytes = info.shape.numel() * esize;
  return info;
}

template <class S>
S load_be(const unsigned char* p) {
  unsigned char b[sizeof(S)];
  if constexpr (std::endian::native == std::endian::little) {
    for (size_t i = 0; i < sizeof(S); ++i) b[i] = p[sizeof(S) - 1 - i];
  } else {
    std::memcpy(b, p, sizeof(S));
  }
  S v;
  std::memcpy(&v, b, sizeof(S));
  return v;
}

// Converts n big-endian elements of S at src into T at dst. A value that T cannot hold (a negative
// or too large integer, NaN or an infinity for an integer T) raises an Error; floats convert to an
// integer T by truncation toward zero, double to float by rounding (beyond float's range: +-inf).
template <class T, class S>
void convert_be(const unsigned char* src, int64_t n, T* dst, const std::string& path,
                const char* where) {
  for (int64_t i = 0; i < n; ++i) {
    const S v = load_be<S>(src + i * int64_t(sizeof(S)));
    if constexpr (std::is_floating_point_v<T>) {
      if constexpr (std::is_same_v<T, float> && std::is_same_v<S, double>) {
        constexpr double fmax = std::numeric_limits<float>::max();
        dst[i] = v > fmax    ? std::numeric_limits<float>::infinity()
                 : v < -fmax ? -std::numeric_limits<float>::infinity()
                             : static_cast<float>(v);
      } else {
        dst[i] = static_cast<T>(v);
      }
    } else if constexpr (std::is_floating_point_v<S>) {
      // [min, max + 1) in double; both bounds are zero or powers of two, so exact.
      constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
      constexpr double hi = static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2.0;
      const double d = std::trunc(static_cast<double>(v));  // NaN fails both comparisons
      SINEW_CHECK(d >= lo && d < hi, where, path, ": element ", i, " (", static_cast<double>(v),
                  ") does not fit the requested integer type");
      dst[i] = static_cast<T>(d);
    } else {
      SINEW_CHECK(std::in_range<T>(v), where, path, ": element ", i, " (", int64_t(v),
                  ") does not fit the requested integer type");
      dst[i] = static_cast<T>(v);
    }
  }
}

// Reads the whole file: its header and its data bytes, exactly as many as the header describes.
inline IdxInfo read_idx_bytes(const std::string& path, std::vector<unsigned char>& bytes,
                              const char* where) {
  IdxStream s(path, where);
  IdxInfo info = read_idx_header(s, path, where);
  if (!s.compressed()) {
    // The file size is known: check it before allocating.
    const int64_t have = s.file_size() - info.header_bytes;
    SINEW_CHECK(have >= info.data_bytes, where, path, ": truncated: the header's dimensions ",
                info.shape, " of ", idx_type_name(info.type), " need ", info.data_bytes,
                " data bytes, the file holds ", have);
    SINEW_CHECK(have == info.data_bytes, where, path, ": the file has ", have - info.data_bytes,
                " bytes after the ", info.data_bytes, " data bytes its header describes");
  }
  // Grow with the data actually read (a gzip header can claim anything).
  bytes.clear();
  const auto want = static_cast<size_t>(info.data_bytes);
  while (bytes.size() < want) {
    const size_t have = bytes.size();
    const size_t chunk = std::min(want - have, std::max<size_t>(size_t(1) << 20, have));
    bytes.resize(have + chunk);
    const size_t got = s.read(bytes.data() + have, chunk);
    SINEW_CHECK(got == chunk, where, path, ": truncated: the header's dimensions ", info.shape,
                " of ", idx_type_name(info.type), " need ", info.data_bytes, " data bytes, the ",
                s.compressed() ? "decompressed stream" : "file", " holds ", have + got);
  }
  unsigned char extra;
  SINEW_CHECK(s.read(&extra, 1) == 0, where, path, ": the ",
              s.compressed() ? "decompressed stream" : "file", " has bytes after the ",
              info.data_bytes, " data bytes its header describes");
  return info;
}

}  // namespace detail

// The header of an IDX file (plain or gzip): its element type and dimensions, validated, without
// reading the data (so a truncated data section is not noticed here).
inline IdxInfo read_idx_header(const std::string& path) {
  detail::IdxStream s(path, "data::read_idx_header");
  return detail::read_idx_header(s, path, "data::read_idx_header");
}

// The whole IDX file (plain or gzip) as a Tensor<T> of the header's shape, the values converted to
// T: T = float, double, int64_t or uint8_t (ubyte into float keeps 0..255). A value that T cannot
// hold (e.g. a negative sbyte into uint8_t, a NaN into int64_t) is an Error; float values into an
// integer T are truncated toward zero. Any malformed file is an Error (see the top of this file).
template <class T = float>
Tensor<T> read_idx(const std::string& path) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> ||
                    std::is_same_v<T, int64_t> || std::is_same_v<T, uint8_t>,
                "read_idx reads into float, double, int64_t or uint8_t tensors");
  constexpr const char* where = "data::read_idx";
  std::vector<unsigned char> bytes;
  const IdxInfo info = detail::read_idx_bytes(path, bytes, where);
  Tensor<T> t = empty<T>(info.shape);
  const int64_t n = info.shape.numel();
  T* out = t.data_ptr();
  const unsigned char* src = bytes.data();
  switch (info.type) {
    case IdxType::UInt8:
      detail::convert_be<T, uint8_t>(src, n, out, path, where);
      break;
    case IdxType::Int8:
      detail::convert_be<T, int8_t>(src, n, out, path, where);
      break;
    case IdxType::Int16:
      detail::convert_be<T, int16_t>(src, n, out, path, where);
      break;
    case IdxType::Int32:
      detail::convert_be<T, int32_t>(src, n, out, path, where);
      break;
    case IdxType::Float32:
      detail::convert_be<T, float>(src, n, out, path, where);
      break;
    case IdxType::Float64:
      detail::convert_be<T, double>(src, n, out, path, where);
      break;
  }
  return t;
}

}  // namespace sinew::data
