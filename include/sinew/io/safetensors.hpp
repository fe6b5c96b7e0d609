// safetensors files: read and write tensors and state dicts in the format of Python's safetensors
// (an 8-byte little-endian header length N, N bytes of JSON header, then one data buffer).
//
//   io::save(net, "model.safetensors");            // PyTorch names: "0.weight", "bn.running_mean"
//                                                  // (a ModuleT<double> is written as F64)
//   io::load(net, "model.safetensors");            // strict by default, as load_state_dict
//   nn::StateDict sd = io::load_file("hf.safetensors");          // every dtype read as float
//   nn::StateDictT<double> sd64 = io::load_file<double>("x.safetensors");   // ... or as double
//   io::TensorDict d = io::load_tensors("x.safetensors");        // dtypes kept (see AnyTensor)
//
// Dtypes: F32, F64, I64, U8 and BOOL are read and written exactly; F16 and BF16 are read and
// converted to float (subnormals, infinities and NaN kept). Every header is validated before any
// data is read, and each problem is a sinew::Error naming the function, the file and the problem.
//
// Layout written: as Python's safetensors, tensors sorted by dtype rank (I64, F64, F32, U8, BOOL),
// then by name, so each tensor's data is aligned to its element size (the data buffer starts at a
// multiple of 8); the header is compact JSON ("__metadata__" first, then the tensors in data order)
// padded with spaces to a multiple of 8. With at most one metadata entry the bytes are identical to
// those safetensors.torch.save_file writes for the same tensors.
// Files are written to "<path>.tmp-<random>" in the same directory, flushed (and fsync'ed on
// POSIX), then renamed over the target: a failure never leaves a partial file at `path`.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#if __has_include(<unistd.h>)
#include <unistd.h>
#define SINEW_IO_HAVE_FSYNC 1
#endif

#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew::io {

// A tensor of any element type Sinew stores, for files that mix dtypes.
using AnyTensor =
    std::variant<Tensor<float>, Tensor<double>, Tensor<int64_t>, Tensor<uint8_t>, Tensor<bool>>;
// name -> tensor, in insertion order (load_tensors: the order of the data in the file).
using TensorDict = nn::OrderedDict<AnyTensor>;
using Metadata = std::map<std::string, std::string>;

// The largest header accepted, as Python's safetensors (a guard against absurd lengths).
inline constexpr int64_t max_header_size = 100'000'000;

// One tensor of a header: its dtype as safetensors names it ("F32", "BF16", ...), its shape and its
// byte range [begin, end) within the data buffer.
struct TensorInfo {
  std::string dtype;
  Shape shape;
  int64_t begin = 0;
  int64_t end = 0;
};

// A validated header: the tensors in data order, the metadata, where the data buffer lies.
struct Header {
  nn::OrderedDict<TensorInfo> tensors;
  Metadata metadata;
  int64_t data_start = 0;  // file offset of the data buffer: 8 + header length
  int64_t data_size = 0;   // bytes of data after the header (covered exactly by the tensors)
};

// The dtype held by an AnyTensor (the alternatives are in DType's order).
template <std::same_as<AnyTensor> A>
DType dtype(const A& t) {
  static_assert(std::is_same_v<std::variant_alternative_t<2, A>, Tensor<int64_t>> &&
                static_cast<int>(DType::Int64) == 2 && static_cast<int>(DType::Bool) == 4);
  return static_cast<DType>(t.index());
}

// The tensor converted to T (a new tensor unless it already is a Tensor<T>).
template <class T, std::same_as<AnyTensor> A>
Tensor<T> to_type(const A& t) {
  return std::visit([](const auto& x) { return x.detach().template to<T>(); }, t);
}
template <std::same_as<AnyTensor> A>
Tensor<float> to_float(const A& t) {
  return to_type<float>(t);
}

// The tensor `name` of `dict` as Tensor<T>; a missing name or another dtype is an Error.
template <class T>
Tensor<T> get(const TensorDict& dict, const std::string& name) {
  const AnyTensor* t = dict.find(name);
  SINEW_CHECK(t != nullptr, "io::get", "no tensor '", name, "'");
  SINEW_CHECK(std::holds_alternative<Tensor<T>>(*t), "io::get", "tensor '", name, "' is ",
              dtype(*t), ", not ", dtype_of<T>());
  return std::get<Tensor<T>>(*t);
}

namespace detail {

// The dtypes of a file that Sinew reads, with their safetensors names and element sizes.
enum class FileDType { F32, F64, I64, U8, BOOL, F16, BF16 };

// The file dtype that holds Sinew's T exactly.
template <class T>
constexpr FileDType file_dtype_of() {
  constexpr DType d = dtype_of<T>();
  if constexpr (d == DType::Float32) return FileDType::F32;
  if constexpr (d == DType::Float64) return FileDType::F64;
  if constexpr (d == DType::Int64) return FileDType::I64;
  if constexpr (d == DType::UInt8) return FileDType::U8;
  return FileDType::BOOL;
}
struct FileDTypeInfo {
  const char* name;
  FileDType id;
  int64_t size;
};

// The entry named `s`, or nullptr.
inline const FileDTypeInfo* find_file_dtype(const std::string& s) {
  static constexpr std::array<FileDTypeInfo, 7> table = {{{"F32", FileDType::F32, 4},
                                                          {"F64", FileDType::F64, 8},
                                                          {"I64", FileDType::I64, 8},
                                                          {"U8", FileDType::U8, 1},
                                                          {"BOOL", FileDType::BOOL, 1},
                                                          {"F16", FileDType::F16, 2},
                                                          {"BF16", FileDType::BF16, 2}}};
  for (const auto& e : table) {
    if (s == e.name) return &e;
  }
  return nullptr;
}

// The safetensors name of a Sinew dtype, and its rank: the order of safetensors' Dtype enum
// (BOOL < U8 < F32 < F64 < I64), which its writer sorts by, descending.
inline std::pair<const char*, int> written_dtype(DType d) {
  static constexpr std::array<std::pair<const char*, int>, 5> table = {
      // indexed by DType
      {{"F32", 2}, {"F64", 3}, {"I64", 4}, {"U8", 1}, {"BOOL", 0}}};
  return table[static_cast<size_t>(d)];
}

// IEEE binary16 -> float, exactly: subnormals (m * 2^-24), infinities and NaN (payload kept).
inline float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf or NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal: shift the mantissa up until its leading 1 is the implicit bit.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

// bfloat16 is the top half of a float32.
inline float bf16_to_float(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

// Files are little-endian; on a big-endian host each element's bytes are reversed.
inline void to_little_endian(unsigned char* p, int64_t count, int64_t size) {
  if constexpr (std::endian::native == std::endian::big) {
    for (int64_t i = 0; i < count; ++i) std::reverse(p + i * size, p + (i + 1) * size);
  } else {
    (void)p, (void)count, (void)size;
  }
}

// The little-endian value of type S at p.
template <class S>
S load_le(const unsigned char* p) {
  unsigned char b[sizeof(S)];
  std::memcpy(b, p, sizeof(S));
  to_little_endian(b, 1, sizeof(S));
  S v;
  std::memcpy(&v, b, sizeof(S));
  return v;
}

// A JSON integer in [0, 2^63) or false.
template <class Json>
bool json_to_int64(const Json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.template get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    return (*out = static_cast<int64_t>(u), true);
  }
  if (v.is_number_integer()) {
    int64_t i = v.template get<int64_t>();
    return i >= 0 && (*out = i, true);
  }
  return false;
}

template <class Json>
std::string short_json(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Validates one tensor entry of a header against the data buffer size.
template <class Json>
TensorInfo parse_tensor_info(const std::string& name, const Json& e, int64_t data_size,
                             const char* where, const std::string& path) {
  auto bad = [&](auto&&... pieces) {
    sinew::detail::fail(where, path, ": tensor '", name, "': ", pieces...);
  };
  if (!e.is_object()) bad("entry is not a JSON object: ", short_json(e));
  for (const auto& [k, v] : e.items()) {
    if (k != "dtype" && k != "shape" && k != "data_offsets") bad("unknown field '", k, "'");
  }
  if (!e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
    bad("entry needs \"dtype\", \"shape\" and \"data_offsets\", got ", short_json(e));
  TensorInfo info;
  const auto& dt = e.at("dtype");
  if (!dt.is_string()) bad("dtype is not a string: ", short_json(dt));
  info.dtype = dt.template get<std::string>();
  const FileDTypeInfo* fd = find_file_dtype(info.dtype);
  if (fd == nullptr)
    bad("unknown or unsupported dtype '", info.dtype,
        "' (Sinew reads F32, F64, I64, U8, BOOL, F16, BF16)");
  const auto& sh = e.at("shape");
  if (!sh.is_array()) bad("shape is not an array: ", short_json(sh));
  // Elements, and the product of the nonzero dims, bounded so that no size computation overflows.
  const int64_t limit = std::numeric_limits<int64_t>::max() / 8;
  int64_t numel = 1, nonzero = 1;
  std::vector<int64_t> dims;
  for (const auto& d : sh) {
    int64_t n;
    if (!json_to_int64(d, &n)) bad("shape ", short_json(sh), " has a negative or non-integer dim");
    if (n != 0 && nonzero > limit / n) bad("shape ", short_json(sh), " is too large");
    if (n != 0) nonzero *= n;
    numel = n == 0 ? 0 : numel * n;
    dims.push_back(n);
  }
  info.shape = Shape(std::move(dims));
  const auto& off = e.at("data_offsets");
  if (!off.is_array() || off.size() != 2 || !json_to_int64(off[0], &info.begin) ||
      !json_to_int64(off[1], &info.end))
    bad("data_offsets must be two non-negative integers, got ", short_json(off));
  if (info.begin > info.end) bad("data_offsets ", short_json(off), " end before they begin");
  if (info.end > data_size)
    bad("data_offsets ", short_json(off), " lie outside the data buffer of ", data_size, " bytes");
  int64_t bytes = numel * fd->size;
  if (bytes != info.end - info.begin)
    bad("shape ", info.shape, " of ", info.dtype, " needs ", bytes, " bytes but data_offsets ",
        short_json(off), " span ", info.end - info.begin);
  return info;
}

// Parses and validates a header: JSON object without duplicate keys, string metadata, valid entries
// whose byte ranges cover the data buffer exactly, without overlap or holes.
template <class Json = nlohmann::json>
Header parse_header(const std::string& text, int64_t data_size, const char* where,
                    const std::string& path) {
  // nlohmann keeps the last of duplicate keys silently: a parse callback spots them.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  using Event = typename Json::parse_event_t;
  auto watch = [&](int, Event ev, Json& parsed) {
    if (ev == Event::object_start) open_objects.emplace_back();
    if (ev == Event::object_end && !open_objects.empty()) open_objects.pop_back();
    if (ev == Event::key && !open_objects.empty() && duplicate.empty() &&
        !open_objects.back().insert(parsed.template get<std::string>()).second)
      duplicate = parsed.template get<std::string>();
    return true;
  };
  // nlohmann reads a NUL byte as the end of input; JSON allows none outside strings or in them.
  SINEW_CHECK(text.find('\0') == std::string::npos, where, path,
              ": the header is not valid JSON (it holds a NUL byte)");
  Json j;
  try {
    j = Json::parse(text, watch);
  } catch (const nlohmann::json::exception& e) {
    sinew::detail::fail(where, path, ": the header is not valid JSON (", e.what(), ")");
  }
  SINEW_CHECK(duplicate.empty(), where, path, ": the header has the key '", duplicate, "' twice");
  SINEW_CHECK(j.is_object(), where, path, ": the header is not a JSON object: ", short_json(j));
  Header h;
  std::vector<TensorInfo> infos;
  std::vector<std::string> names;
  for (const auto& [key, v] : j.items()) {
    if (key == "__metadata__") {
      if (v.is_null()) continue;
      SINEW_CHECK(v.is_object(), where, path,
                  ": __metadata__ is not a JSON object: ", short_json(v));
      for (const auto& [mk, mv] : v.items()) {
        SINEW_CHECK(mv.is_string(), where, path, ": __metadata__ value of '", mk,
                    "' is not a string: ", short_json(mv));
        h.metadata.emplace(mk, mv.template get<std::string>());
      }
    } else {
      infos.push_back(parse_tensor_info(key, v, data_size, where, path));
      names.push_back(key);
    }
  }
  std::vector<size_t> order(infos.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::pair(infos[a].begin, infos[a].end) < std::pair(infos[b].begin, infos[b].end);
  });
  int64_t pos = 0;
  std::string prev = "the start of the data buffer";
  for (size_t i : order) {
    SINEW_CHECK(infos[i].begin >= pos, where, path, ": tensor '", names[i], "' (bytes ",
                infos[i].begin, "..", infos[i].end, ") overlaps ", prev, " (ending at byte ", pos,
                ")");
    SINEW_CHECK(infos[i].begin == pos, where, path, ": bytes ", pos, "..", infos[i].begin,
                " of the data buffer belong to no tensor (a hole before '", names[i], "')");
    pos = infos[i].end;
    prev = "tensor '" + names[i] + "'";
    h.tensors.insert(names[i], infos[i]);
  }
  SINEW_CHECK(pos == data_size, where, path, ": the tensors cover ", pos, " of the ", data_size,
              " bytes of the data buffer (the file has trailing or truncated data)");
  h.data_size = data_size;
  return h;
}

// Opens `path` and reads and validates its header; `in` is left open for the data.
template <class Json = nlohmann::json>
Header open_file(const std::string& path, std::ifstream& in, const char* where) {
  std::error_code ec;
  SINEW_CHECK(!std::filesystem::is_directory(path, ec), where, path, ": is a directory");
  in.open(path, std::ios::binary);
  SINEW_CHECK(in.is_open(), where, path, ": cannot open (",
              static_cast<const char*>(std::strerror(errno)), ")");
  in.seekg(0, std::ios::end);
  const int64_t file_size = static_cast<int64_t>(in.tellg());
  SINEW_CHECK(file_size >= 0, where, path, ": cannot read its size");
  in.seekg(0);
  SINEW_CHECK(file_size >= 8, where, path, ": the file is ", file_size,
              " bytes, too short for the 8-byte header length of a safetensors file");
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  SINEW_CHECK(in.gcount() == 8, where, path, ": cannot read the header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  SINEW_CHECK(n <= static_cast<uint64_t>(max_header_size), where, path, ": header length ", n,
              " exceeds the limit of ", max_header_size, " bytes (not a safetensors file?)");
  const int64_t header_size = static_cast<int64_t>(n);
  SINEW_CHECK(header_size <= file_size - 8, where, path, ": header length ", header_size,
              " exceeds the ", file_size - 8, " bytes after the length (truncated file?)");
  std::string text(static_cast<size_t>(header_size), '\0');
  in.read(text.data(), header_size);
  SINEW_CHECK(in.gcount() == header_size, where, path, ": cannot read the header");
  Header h = parse_header<Json>(text, file_size - 8 - header_size, where, path);
  h.data_start = 8 + header_size;
  return h;
}

// Reads `bytes` bytes at data offset `begin` into dst.
inline void read_bytes(std::ifstream& in, const Header& h, int64_t begin, int64_t bytes, void* dst,
                       const char* where, const std::string& path, const std::string& name) {
  if (bytes == 0) return;
  in.seekg(h.data_start + begin);
  in.read(static_cast<char*>(dst), bytes);
  SINEW_CHECK(in.gcount() == bytes, where, path, ": cannot read the data of tensor '", name,
              "' (the file changed or is unreadable)");
}

// Reads one tensor of the file as Tensor<T>, converting from the file's dtype element by element
// (a BOOL byte other than 0 or 1 is an Error; F16 and BF16 go through float).
template <class T>
Tensor<T> read_as(std::ifstream& in, const Header& h, const std::string& name,
                  const TensorInfo& info, const char* where, const std::string& path) {
  const FileDTypeInfo* fd = find_file_dtype(info.dtype);  // validated by parse_header
  const int64_t numel = info.shape.numel(), bytes = info.end - info.begin;
  Tensor<T> t = empty<T>(info.shape);
  T* out = t.data_ptr();
  if (fd->id == file_dtype_of<T>() && fd->id != FileDType::BOOL) {
    auto* p = reinterpret_cast<unsigned char*>(out);
    read_bytes(in, h, info.begin, bytes, p, where, path, name);
    to_little_endian(p, numel, fd->size);
    return t;
  }
  std::vector<unsigned char> raw(static_cast<size_t>(bytes));
  read_bytes(in, h, info.begin, bytes, raw.data(), where, path, name);
  const unsigned char* r = raw.data();
  for (int64_t i = 0; i < numel; ++i) {
    switch (fd->id) {
      case FileDType::F32:
        out[i] = static_cast<T>(load_le<float>(r + 4 * i));
        break;
      case FileDType::F64:
        out[i] = static_cast<T>(load_le<double>(r + 8 * i));
        break;
      case FileDType::I64:
        out[i] = static_cast<T>(load_le<int64_t>(r + 8 * i));
        break;
      case FileDType::U8:
        out[i] = static_cast<T>(r[i]);
        break;
      case FileDType::BOOL:
        SINEW_CHECK(r[i] <= 1, where, path, ": BOOL tensor '", name, "' holds the byte ", int(r[i]),
                    " at element ", i, " (expected 0 or 1)");
        out[i] = static_cast<T>(r[i] != 0);
        break;
      case FileDType::F16:
        out[i] = static_cast<T>(half_to_float(load_le<uint16_t>(r + 2 * i)));
        break;
      case FileDType::BF16:
        out[i] = static_cast<T>(bf16_to_float(load_le<uint16_t>(r + 2 * i)));
        break;
    }
  }
  return t;
}

// Reads one tensor of the file as its own dtype (F16/BF16 as float).
template <class A = AnyTensor>
A read_tensor(std::ifstream& in, const Header& h, const std::string& name, const TensorInfo& info,
              const char* where, const std::string& path) {
  switch (find_file_dtype(info.dtype)->id) {  // validated by parse_header
    case FileDType::F64:
      return read_as<double>(in, h, name, info, where, path);
    case FileDType::I64:
      return read_as<int64_t>(in, h, name, info, where, path);
    case FileDType::U8:
      return read_as<uint8_t>(in, h, name, info, where, path);
    case FileDType::BOOL:
      return read_as<bool>(in, h, name, info, where, path);
    default:
      return read_as<float>(in, h, name, info, where, path);  // F32, F16, BF16
  }
}

// A tensor ready to write, type-erased: the contiguous CPU data (kept alive by the caller), its
// safetensors dtype and byte size.
struct Pending {
  std::string name;
  Shape shape;
  const unsigned char* data;
  const char* dtype;
  int rank;  // the order of safetensors' Dtype enum: I64 > F64 > F32 > U8 > BOOL
  int64_t elem_size;
  int64_t bytes;
};

// The Pending entry of a contiguous CPU tensor.
template <class T>
Pending pending(const std::string& name, const Tensor<T>& c) {
  auto [dtype_name, rank] = written_dtype(c.dtype());
  const int64_t size = static_cast<int64_t>(sizeof(T));
  return {
      name, c.shape(),       reinterpret_cast<const unsigned char*>(c.data_ptr()), dtype_name, rank,
      size, c.numel() * size};
}

inline void check_tensor_name(const std::string& name, const char* where, const std::string& path) {
  SINEW_CHECK(name != "__metadata__", where, path,
              ": '__metadata__' is reserved, not a tensor name");
}

inline std::string random_suffix() {
  static std::atomic<uint64_t> counter{0};
  uint64_t r = (counter.fetch_add(1) + 1) * 0x9e3779b97f4a7c15ull ^
               static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device rd;
    r ^= (uint64_t(rd()) << 32) ^ rd();
  } catch (const std::exception&) {
    // No entropy source: the counter and the clock still make the name unique in this process,
    // and the exclusive open retries on a clash with another process.
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r));
  return buf;
}

// Writes `header` and the tensors' data to a temporary file beside `path`, then renames it over
// `path`. On any failure the temporary file is removed and `path` is untouched.
inline void write_atomically(const std::string& path, const std::string& header,
                             const std::vector<Pending>& items, const char* where) {
  std::string tmp;
  std::FILE* f = nullptr;
  for (int attempt = 0; attempt < 16 && f == nullptr; ++attempt) {
    tmp = path + ".tmp-" + random_suffix();
    f = std::fopen(tmp.c_str(), "wbx");  // exclusive: never clobbers another writer's file
    if (f == nullptr && errno != EEXIST) break;
  }
  SINEW_CHECK(f != nullptr, where, path, ": cannot create the temporary file ", tmp, " (",
              static_cast<const char*>(std::strerror(errno)), ")");
  std::string problem;
  auto put = [&](const void* p, size_t n) {
    if (problem.empty() && n > 0 && std::fwrite(p, 1, n, f) != n)
      problem =
          std::string("write failed (") + static_cast<const char*>(std::strerror(errno)) + ")";
  };
  unsigned char len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  put(len, 8);
  put(header.data(), header.size());
  for (const Pending& it : items) {
    if constexpr (std::endian::native == std::endian::big) {
      std::vector<unsigned char> copy(it.data, it.data + it.bytes);
      to_little_endian(copy.data(), it.bytes / it.elem_size, it.elem_size);
      put(copy.data(), copy.size());
    } else {
      put(it.data, static_cast<size_t>(it.bytes));
    }
  }
  if (problem.empty() && std::fflush(f) != 0)
    problem = std::string("flush failed (") + static_cast<const char*>(std::strerror(errno)) + ")";
#ifdef SINEW_IO_HAVE_FSYNC
  if (problem.empty() && ::fsync(fileno(f)) != 0)
    problem = std::string("fsync failed (") + static_cast<const char*>(std::strerror(errno)) + ")";
#endif
  if (std::fclose(f) != 0 && problem.empty())
    problem = std::string("close failed (") + static_cast<const char*>(std::strerror(errno)) + ")";
  std::error_code ec;
  if (problem.empty()) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) problem = "cannot rename " + tmp + " over it (" + ec.message() + ")";
  }
  if (!problem.empty()) std::filesystem::remove(tmp, ec);
  SINEW_CHECK(problem.empty(), where, path, ": ", problem);
}

// Sorts the items into safetensors' order, builds the header and writes the file.
template <class Json = nlohmann::ordered_json>
void write_items(std::vector<Pending>& items, const std::string& path, const Metadata& metadata,
                 const char* where) {
  std::sort(items.begin(), items.end(), [](const Pending& a, const Pending& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.name < b.name;
  });
  Json j = Json::object();
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    j["__metadata__"] = std::move(m);
  }
  int64_t pos = 0;
  for (const Pending& it : items) {
    j[it.name] = {
        {"dtype", it.dtype}, {"shape", it.shape.vec()}, {"data_offsets", {pos, pos + it.bytes}}};
    pos += it.bytes;
  }
  std::string header;
  try {
    header = j.dump();
  } catch (const nlohmann::json::exception& e) {
    sinew::detail::fail(where, path, ": a tensor name or metadata string is not valid UTF-8 (",
                        e.what(), ")");
  }
  header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-aligned, as Python pads
  SINEW_CHECK(static_cast<int64_t>(header.size()) <= max_header_size, where, path,
              ": the header would be ", header.size(), " bytes, over the limit of ",
              max_header_size);
  write_atomically(path, header, items, where);
}

template <class A = AnyTensor>
void save_tensors_impl(const nn::OrderedDict<A>& tensors, const std::string& path,
                       const Metadata& metadata, const char* where) {
  static_assert(sizeof(bool) == 1, "safetensors BOOL is one byte");
  std::vector<A> keep;  // the contiguous CPU copies the items point into
  std::vector<Pending> items;
  for (const auto& entry : tensors) {
    const std::string& name =
        entry.first;  // a plain reference: clang < 16 cannot capture a binding
    check_tensor_name(name, where, path);
    std::visit(
        [&](const auto& t) {
          SINEW_CHECK(t.defined(), where, path, ": tensor '", name, "' is undefined");
          auto c = t.detach().cpu().contiguous();
          items.push_back(pending(name, c));
          keep.push_back(std::move(c));
        },
        entry.second);
  }
  write_items(items, path, metadata, where);
}

template <class A = AnyTensor>
nn::OrderedDict<A> load_tensors_impl(const std::string& path, Metadata* metadata,
                                     const char* where) {
  std::ifstream in;
  Header h = open_file(path, in, where);
  nn::OrderedDict<A> out;
  for (const auto& [name, info] : h.tensors)
    out.insert(name, read_tensor<A>(in, h, name, info, where, path));
  if (metadata != nullptr) *metadata = h.metadata;
  return out;
}

inline bool is_num_batches_tracked(const std::string& key) {
  const std::string s = "num_batches_tracked";
  return key == s || (key.size() > s.size() && key.ends_with("." + s));
}

}  // namespace detail

// Every function below is a template (those that could be plain functions take a defaulted
// template parameter), so that a program compiles the JSON and tensor code only when it calls it.

// The validated header of a safetensors file (no tensor data is read).
template <class Json = nlohmann::json>
Header read_header(const std::string& path) {
  std::ifstream in;
  return detail::open_file<Json>(path, in, "io::read_header");
}

// Writes tensors of any dtype (F32, F64, I64, U8, BOOL) and string metadata to `path`, atomically.
// Non-contiguous tensors are written in row-major order; a tensor on another device is copied to
// the CPU first.
template <class A = AnyTensor>
void save_tensors(const nn::OrderedDict<AnyTensor>& tensors, const std::string& path,
                  const Metadata& metadata = {}) {
  detail::save_tensors_impl<A>(tensors, path, metadata, "io::save_tensors");
}

// Reads every tensor of `path` with its own dtype (F16 and BF16 as float), in data order; the
// metadata goes to *metadata when given.
template <class A = AnyTensor>
nn::OrderedDict<A> load_tensors(const std::string& path, Metadata* metadata = nullptr) {
  return detail::load_tensors_impl<A>(path, metadata, "io::load_tensors");
}

// Writes a state dict: tensors as their own dtype (F32 for float, F64 for double), except
// "num_batches_tracked" buffers as I64 (as PyTorch), so that Python's safetensors.torch.load_file
// gives a state dict torch's load_state_dict takes.
template <class T>
void save_file(const nn::StateDictT<T>& tensors, const std::string& path,
               const std::map<std::string, std::string>& metadata = {}) {
  const char* where = "io::save_file";
  for (const auto& [name, t] : tensors)
    SINEW_CHECK(t.defined(), where, path, ": tensor '", name, "' is undefined");
  std::vector<Tensor<T>> keep;  // the contiguous CPU copies the items point into
  std::vector<Tensor<int64_t>> keep_counts;
  std::vector<detail::Pending> items;
  for (const auto& [name, t] : tensors) {
    detail::check_tensor_name(name, where, path);
    if (detail::is_num_batches_tracked(name)) {
      keep_counts.push_back(t.detach().cpu().template to<int64_t>().contiguous());
      items.push_back(detail::pending(name, keep_counts.back()));
    } else {
      keep.push_back(t.detach().cpu().contiguous());
      items.push_back(detail::pending(name, keep.back()));
    }
  }
  detail::write_items(items, path, metadata, where);
}

// Reads a file into a state dict of Tensor<T>, converting every dtype to T (float by default; I64
// exact up to 2^24 in float, 2^53 in double).
template <class T = float>
nn::StateDictT<T> load_file(const std::string& path,
                            std::map<std::string, std::string>* metadata = nullptr) {
  const char* where = "io::load_file";
  std::ifstream in;
  Header h = detail::open_file(path, in, where);
  nn::StateDictT<T> out;
  for (const auto& [name, info] : h.tensors)
    out.insert(name, detail::read_as<T>(in, h, name, info, where, path));
  if (metadata != nullptr) *metadata = h.metadata;
  return out;
}

// module.state_dict() to `path` (a ModuleT<double>'s tensors as F64).
template <class T>
void save(const nn::ModuleT<T>& module, const std::string& path) {
  save_file(module.state_dict(), path);
}

// Loads `path` into module's parameters and buffers (module.load_state_dict rules: strict by
// default, shapes always checked, nothing written unless every check passes), every dtype converted
// to the module's element type. Each tensor read is first moved to the device of the module's
// tensor of the same name.
template <class T>
nn::LoadStateDictResult load(nn::ModuleT<T>& module, const std::string& path,
                             nn::LoadStateDictOptions options = {}) {
  nn::StateDictT<T> dict = load_file<T>(path);
  const nn::StateDictT<T> own = module.state_dict();
  for (auto& [key, t] : dict) {
    if (const Tensor<T>* mine = own.find(key)) t = t.to(mine->device());
  }
  return module.load_state_dict(dict, options);
}

}  // namespace sinew::io
