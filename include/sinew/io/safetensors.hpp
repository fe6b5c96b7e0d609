// safetensors files: read and write tensors and state dicts in the format of Python's safetensors
// (an 8-byte little-endian header length N, N bytes of JSON header, then one data buffer).
//
//   io::save(net, "model.safetensors");            // PyTorch names: "0.weight", "bn.running_mean"
//   io::load(net, "model.safetensors");            // strict by default, as load_state_dict
//   nn::StateDict sd = io::load_file("hf.safetensors");          // every dtype read as float
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

// The dtype held by an AnyTensor.
inline DType dtype(const AnyTensor& t) {
  return std::visit([](const auto& x) { return x.dtype(); }, t);
}

// The tensor converted to float (a new tensor unless it already is one).
inline Tensor<float> to_float(const AnyTensor& t) {
  return std::visit([](const auto& x) { return x.detach().template to<float>(); }, t);
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

// A JSON integer in [0, 2^63) or false.
inline bool json_to_int64(const nlohmann::json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    return (*out = static_cast<int64_t>(u), true);
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    return i >= 0 && (*out = i, true);
  }
  return false;
}

inline std::string short_json(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Validates one tensor entry of a header against the data buffer size.
inline TensorInfo parse_tensor_info(const std::string& name, const nlohmann::json& e,
                                    int64_t data_size, const char* where, const std::string& path) {
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
  info.dtype = dt.get<std::string>();
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
inline Header parse_header(const std::string& text, int64_t data_size, const char* where,
                           const std::string& path) {
  // nlohmann keeps the last of duplicate keys silently: a parse callback spots them.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto watch = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) open_objects.emplace_back();
    if (ev == E::object_end && !open_objects.empty()) open_objects.pop_back();
    if (ev == E::key && !open_objects.empty() && duplicate.empty() &&
        !open_objects.back().insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  // nlohmann reads a NUL byte as the end of input; JSON allows none outside strings or in them.
  SINEW_CHECK(text.find('\0') == std::string::npos, where, path,
              ": the header is not valid JSON (it holds a NUL byte)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, watch);
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
        h.metadata.emplace(mk, mv.get<std::string>());
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
inline Header open_file(const std::string& path, std::ifstream& in, const char* where) {
  std::error_code ec;
  SINEW_CHECK(!std::filesystem::is_directory(path, ec), where, path, ": is a directory");
  in.open(path, std::ios::binary);
  SINEW_CHECK(in.is_open(), where, path, ": cannot open (", std::strerror(errno), ")");
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
  Header h = parse_header(text, file_size - 8 - header_size, where, path);
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

// Reads one tensor of the file as its own dtype (F16/BF16 as float).
inline AnyTensor read_tensor(std::ifstream& in, const Header& h, const std::string& name,
                             const TensorInfo& info, const char* where, const std::string& path) {
  const FileDType fd = find_file_dtype(info.dtype)->id;  // validated by parse_header
  const int64_t numel = info.shape.numel(), size = find_file_dtype(info.dtype)->size,
                bytes = info.end - info.begin;
  auto native = [&]<class T>(Tensor<T> t) -> AnyTensor {
    auto* p = reinterpret_cast<unsigned char*>(t.data_ptr());
    read_bytes(in, h, info.begin, bytes, p, where, path, name);
    to_little_endian(p, numel, size);
    return t;
  };
  switch (fd) {
    case FileDType::F32:
      return native(empty<float>(info.shape));
    case FileDType::F64:
      return native(empty<double>(info.shape));
    case FileDType::I64:
      return native(empty<int64_t>(info.shape));
    case FileDType::U8:
      return native(empty<uint8_t>(info.shape));
    default:
      break;
  }
  std::vector<unsigned char> raw(static_cast<size_t>(bytes));
  read_bytes(in, h, info.begin, bytes, raw.data(), where, path, name);
  if (fd == FileDType::BOOL) {
    Tensor<bool> t = empty<bool>(info.shape);
    bool* p = t.data_ptr();
    for (int64_t i = 0; i < numel; ++i) {
      SINEW_CHECK(raw[i] <= 1, where, path, ": BOOL tensor '", name, "' holds the byte ",
                  int(raw[i]), " at element ", i, " (expected 0 or 1)");
      p[i] = raw[i] != 0;
    }
    return t;
  }
  Tensor<float> t = empty<float>(info.shape);
  float* p = t.data_ptr();
  for (int64_t i = 0; i < numel; ++i) {
    uint16_t v = static_cast<uint16_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
    p[i] = fd == FileDType::F16 ? half_to_float(v) : bf16_to_float(v);
  }
  return t;
}

// A tensor ready to write: contiguous on the CPU, with its safetensors dtype and byte size.
struct Pending {
  std::string name;
  AnyTensor tensor;
  const char* dtype;
  int rank;  // the order of safetensors' Dtype enum: I64 > F64 > F32 > U8 > BOOL
  int64_t elem_size;
  int64_t bytes;
};

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
              std::strerror(errno), ")");
  std::string problem;
  auto put = [&](const void* p, size_t n) {
    if (problem.empty() && n > 0 && std::fwrite(p, 1, n, f) != n)
      problem = std::string("write failed (") + std::strerror(errno) + ")";
  };
  unsigned char len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  put(len, 8);
  put(header.data(), header.size());
  for (const Pending& it : items) {
    std::visit(
        [&](const auto& t) {
          const auto* p = reinterpret_cast<const unsigned char*>(t.data_ptr());
          if constexpr (std::endian::native == std::endian::big) {
            std::vector<unsigned char> copy(p, p + it.bytes);
            to_little_endian(copy.data(), t.numel(), it.elem_size);
            put(copy.data(), copy.size());
          } else {
            put(p, static_cast<size_t>(it.bytes));
          }
        },
        it.tensor);
  }
  if (problem.empty() && std::fflush(f) != 0)
    problem = std::string("flush failed (") + std::strerror(errno) + ")";
#ifdef SINEW_IO_HAVE_FSYNC
  if (problem.empty() && ::fsync(fileno(f)) != 0)
    problem = std::string("fsync failed (") + std::strerror(errno) + ")";
#endif
  if (std::fclose(f) != 0 && problem.empty())
    problem = std::string("close failed (") + std::strerror(errno) + ")";
  std::error_code ec;
  if (problem.empty()) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) problem = "cannot rename " + tmp + " over it (" + ec.message() + ")";
  }
  if (!problem.empty()) {
    std::filesystem::remove(tmp, ec);
    sinew::detail::fail(where, path, ": ", problem);
  }
}

inline void save_tensors_impl(const TensorDict& tensors, const std::string& path,
                              const Metadata& metadata, const char* where) {
  static_assert(sizeof(bool) == 1, "safetensors BOOL is one byte");
  std::vector<Pending> items;
  for (const auto& entry : tensors) {
    const std::string& name = entry.first;  // a plain reference: clang < 16 cannot capture a binding
    const auto& any = entry.second;
    SINEW_CHECK(name != "__metadata__", where, path,
                ": '__metadata__' is reserved, not a tensor name");
    std::visit(
        [&](const auto& t) {
          SINEW_CHECK(t.defined(), where, path, ": tensor '", name, "' is undefined");
          auto c = t.detach().cpu().contiguous();
          const int64_t size = static_cast<int64_t>(sizeof(typename decltype(c)::value_type));
          auto [dtype_name, rank] = written_dtype(c.dtype());
          items.push_back({name, c, dtype_name, rank, size, c.numel() * size});
        },
        any);
  }
  std::sort(items.begin(), items.end(), [](const Pending& a, const Pending& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.name < b.name;
  });
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    j["__metadata__"] = std::move(m);
  }
  int64_t pos = 0;
  for (const Pending& it : items) {
    Shape shape = std::visit([](const auto& t) { return t.shape(); }, it.tensor);
    j[it.name] = {
        {"dtype", it.dtype}, {"shape", shape.vec()}, {"data_offsets", {pos, pos + it.bytes}}};
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

inline TensorDict load_tensors_impl(const std::string& path, Metadata* metadata,
                                    const char* where) {
  std::ifstream in;
  Header h = open_file(path, in, where);
  TensorDict out;
  for (const auto& [name, info] : h.tensors)
    out.insert(name, read_tensor(in, h, name, info, where, path));
  if (metadata != nullptr) *metadata = h.metadata;
  return out;
}

inline bool is_num_batches_tracked(const std::string& key) {
  const std::string s = "num_batches_tracked";
  return key == s || (key.size() > s.size() && key.ends_with("." + s));
}

}  // namespace detail

// The validated header of a safetensors file (no tensor data is read).
inline Header read_header(const std::string& path) {
  std::ifstream in;
  return detail::open_file(path, in, "io::read_header");
}

// Writes tensors of any dtype (F32, F64, I64, U8, BOOL) and string metadata to `path`, atomically.
// Non-contiguous tensors are written in row-major order; a tensor on another device is copied to
// the CPU first.
inline void save_tensors(const TensorDict& tensors, const std::string& path,
                         const Metadata& metadata = {}) {
  detail::save_tensors_impl(tensors, path, metadata, "io::save_tensors");
}

// Reads every tensor of `path` with its own dtype (F16 and BF16 as float), in data order; the
// metadata goes to *metadata when given.
inline TensorDict load_tensors(const std::string& path, Metadata* metadata = nullptr) {
  return detail::load_tensors_impl(path, metadata, "io::load_tensors");
}

// Writes a state dict: tensors as F32, except "num_batches_tracked" buffers as I64 (as PyTorch),
// so that Python's safetensors.torch.load_file gives a state dict torch's load_state_dict takes.
inline void save_file(const nn::StateDict& tensors, const std::string& path,
                      const std::map<std::string, std::string>& metadata = {}) {
  TensorDict d;
  for (const auto& [name, t] : tensors) {
    SINEW_CHECK(t.defined(), "io::save_file", path, ": tensor '", name, "' is undefined");
    if (detail::is_num_batches_tracked(name)) {
      d.insert(name, t.detach().cpu().template to<int64_t>());
    } else {
      d.insert(name, t);
    }
  }
  detail::save_tensors_impl(d, path, metadata, "io::save_file");
}

// Reads a file into a state dict, converting every dtype to float (I64 exact up to 2^24).
inline nn::StateDict load_file(const std::string& path,
                               std::map<std::string, std::string>* metadata = nullptr) {
  TensorDict d = detail::load_tensors_impl(path, metadata, "io::load_file");
  nn::StateDict out;
  for (const auto& [name, t] : d) out.insert(name, to_float(t));
  return out;
}

// module.state_dict() to `path`.
inline void save(const nn::Module& module, const std::string& path) {
  save_file(module.state_dict(), path);
}

// Loads `path` into module's parameters and buffers (module.load_state_dict rules: strict by
// default, shapes always checked, nothing written unless every check passes). Each tensor read is
// first moved to the device of the module's tensor of the same name.
inline nn::LoadStateDictResult load(nn::Module& module, const std::string& path,
                                    nn::LoadStateDictOptions options = {}) {
  nn::StateDict dict = load_file(path);
  const nn::StateDict own = module.state_dict();
  for (auto& [key, t] : dict) {
    if (const Tensor<float>* mine = own.find(key)) t = t.to(mine->device());
  }
  return module.load_state_dict(dict, options);
}

}  // namespace sinew::io
