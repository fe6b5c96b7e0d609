// Compiled kernels, kept in memory for the process and on disk across processes.
//
// A kernel instantiation is compiled by NVRTC at its first use (20-90 ms each); the disk cache
// turns that into a file read in later runs. An entry is identified by its key text:
//
//   sinew-kernel-cache 1              the format version of this file
//   nvrtc 13.0                        the NVRTC that compiled it
//   target sm_90                      sm_XY (CUBIN) or compute_XY (PTX)
//   option -std=c++17                 one line per option, in order
//   name sinew::unary<float, 11, true>
//   source <SHA-256 of the source>    prelude + fragment
//
// The file is named by the SHA-256 of the key text and stores the key text itself; a lookup is a
// hit only when the stored key equals the wanted one (so a changed source, option or NVRTC is a
// miss, whatever the file name). Files are written under a unique temporary name and renamed into
// place, so concurrent writers (threads or processes) need no lock: each rename installs a complete
// file with the same bytes. A short or corrupt file (checked by a SHA-256 of its contents) is
// deleted and the kernel recompiled.
//
// Location: $SINEW_KERNEL_CACHE ("off": memory only), else $XDG_CACHE_HOME/sinew/kernels, else
// ~/.cache/sinew/kernels; one subfolder per target and NVRTC version ("sm_90-nvrtc13.0"). A folder
// that cannot be used (not creatable, not writable) is reported once on stderr and the cache works
// from memory: the disk cache never makes a kernel fail.
//
// The compile step is a std::function, so the cache's policy is testable without NVRTC.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sinew/backend/cuda/nvrtc.hpp"
#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

// ---- SHA-256 (FIPS 180-4) ----------------------------------------------------------------------

namespace detail_cache {

class Sha256 {
 public:
  Sha256() { reset(); }

  void reset() {
    h_ = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
          0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    length_ = 0;
    buffered_ = 0;
  }

  void update(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    length_ += n;
    if (buffered_ > 0) {
      const size_t take = std::min(n, size_t{64} - buffered_);
      std::memcpy(buffer_.data() + buffered_, p, take);
      buffered_ += take;
      p += take;
      n -= take;
      if (buffered_ < 64) return;
      block(buffer_.data());
      buffered_ = 0;
    }
    for (; n >= 64; p += 64, n -= 64) block(p);
    std::memcpy(buffer_.data(), p, n);
    buffered_ = n;
  }
  void update(std::string_view s) { update(s.data(), s.size()); }

  std::array<unsigned char, 32> digest() {
    const uint64_t bits = length_ * 8;
    const unsigned char pad = 0x80;
    update(&pad, 1);
    const unsigned char zero = 0;
    while (buffered_ != 56) update(&zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
    update(len, 8);
    std::array<unsigned char, 32> out{};
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j)
        out[static_cast<size_t>(4 * i + j)] =
            static_cast<unsigned char>(h_[static_cast<size_t>(i)] >> (24 - 8 * j));
    reset();
    return out;
  }

 private:
  static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

  void block(const unsigned char* p) {
    static constexpr uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t{p[4 * i]} << 24 | uint32_t{p[4 * i + 1]} << 16 | uint32_t{p[4 * i + 2]} << 8 |
             uint32_t{p[4 * i + 3]};
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 =
          h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  std::array<uint32_t, 8> h_{};
  std::array<unsigned char, 64> buffer_{};
  uint64_t length_ = 0;
  size_t buffered_ = 0;
};

inline std::string to_hex(const unsigned char* p, size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 15];
  }
  return s;
}

}  // namespace detail_cache

// The SHA-256 of s as 64 lowercase hex digits.
inline std::string sha256_hex(std::string_view s) {
  detail_cache::Sha256 h;
  h.update(s);
  const auto d = h.digest();
  return detail_cache::to_hex(d.data(), d.size());
}

// ---- requests and results ----------------------------------------------------------------------

// One kernel instantiation to compile: NVRTC source (prelude + fragment), the name expression, the
// target and the options besides -arch (nvrtc::default_options()).
struct KernelRequest {
  std::string_view source;
  std::string_view name_expression;
  nvrtc::Target target;
  std::vector<std::string> options = nvrtc::default_options();
  const char* program_name = "sinew_kernel.cu";  // for diagnostics; not part of the key
};

struct CompiledKernel {
  std::string image;         // CUBIN or PTX
  std::string lowered_name;  // the name to look the kernel up by in the loaded image
};

// The format version in every key: changing the key text or the file layout bumps it.
inline constexpr int kKernelCacheFormat = 1;

// The key text of a request (see the top of this file).
inline std::string kernel_cache_key(const KernelRequest& r, std::string_view nvrtc_version) {
  auto one_line = [](std::string_view what, std::string_view s) {
    SINEW_CHECK(s.find('\n') == std::string_view::npos, "kernel_cache_key", what,
                " contains a newline: '", std::string(s), "'");
  };
  one_line("the NVRTC version", nvrtc_version);
  one_line("the name expression", r.name_expression);
  std::string key = "sinew-kernel-cache " + std::to_string(kKernelCacheFormat) + "\n";
  key += "nvrtc ";
  key += nvrtc_version;
  key += "\ntarget " + r.target.str() + "\n";
  for (const std::string& o : r.options) {
    one_line("an option", o);
    key += "option " + o + "\n";
  }
  key += "name ";
  key += r.name_expression;
  key += "\nsource " + sha256_hex(r.source) + "\n";
  return key;
}

// Where the disk cache lives, from the environment as it is now: $SINEW_KERNEL_CACHE (nullopt for
// "off"), else $XDG_CACHE_HOME/sinew/kernels (an absolute path, as the XDG specification requires),
// else $HOME/.cache/sinew/kernels; nullopt where none of these is set.
inline std::optional<std::filesystem::path> default_kernel_cache_root() {
  auto env = [](const char* name) -> std::string_view {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  const std::string_view sinew = env("SINEW_KERNEL_CACHE");
  if (sinew == "off") return std::nullopt;
  if (!sinew.empty()) return std::filesystem::path(sinew);
  const std::string_view xdg = env("XDG_CACHE_HOME");
  if (!xdg.empty() && xdg.front() == '/') return std::filesystem::path(xdg) / "sinew" / "kernels";
  const std::string_view home = env("HOME");
  if (!home.empty()) return std::filesystem::path(home) / ".cache" / "sinew" / "kernels";
  return std::nullopt;
}

// ---- the on-disk entry -------------------------------------------------------------------------

namespace detail_cache {

// Layout: magic, then three (u64 length, bytes) fields — key text, lowered name, image — then the
// SHA-256 of everything before it. Lengths in host byte order (the cache is local to a machine).
inline constexpr std::string_view kKernelFileMagic = "SNWKRN01";
inline constexpr std::string_view kKernelFileSuffix = ".kernel";
inline constexpr std::string_view kTempFileSuffix = ".tmp";

inline std::string encode_kernel_file(std::string_view key, const CompiledKernel& k) {
  std::string out(kKernelFileMagic);
  auto field = [&out](std::string_view s) {
    const uint64_t n = s.size();
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(s);
  };
  field(key);
  field(k.lowered_name);
  field(k.image);
  Sha256 h;
  h.update(out);
  const auto d = h.digest();
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
  return out;
}

enum class Decoded { Ok, Corrupt, OtherKey };

// Reads an entry written by encode_kernel_file; Corrupt for anything short, malformed or failing
// its checksum, OtherKey for a sound entry of another key.
inline Decoded decode_kernel_file(std::string_view bytes, std::string_view key,
                                  CompiledKernel* out) {
  constexpr size_t digest = 32;
  if (bytes.size() < kKernelFileMagic.size() + 3 * sizeof(uint64_t) + digest)
    return Decoded::Corrupt;
  if (bytes.substr(0, kKernelFileMagic.size()) != kKernelFileMagic) return Decoded::Corrupt;
  const std::string_view body = bytes.substr(0, bytes.size() - digest);
  Sha256 h;
  h.update(body);
  const auto d = h.digest();
  if (std::memcmp(d.data(), bytes.data() + body.size(), digest) != 0) return Decoded::Corrupt;
  size_t pos = kKernelFileMagic.size();
  std::string_view fields[3];
  for (std::string_view& f : fields) {
    if (body.size() - pos < sizeof(uint64_t)) return Decoded::Corrupt;
    uint64_t n = 0;
    std::memcpy(&n, body.data() + pos, sizeof n);
    pos += sizeof n;
    if (n > body.size() - pos) return Decoded::Corrupt;
    f = body.substr(pos, static_cast<size_t>(n));
    pos += static_cast<size_t>(n);
  }
  if (pos != body.size() || fields[2].empty()) return Decoded::Corrupt;
  if (fields[0] != key) return Decoded::OtherKey;
  out->lowered_name = std::string(fields[1]);
  out->image = std::string(fields[2]);
  return Decoded::Ok;
}

// The whole file, or nullopt where it cannot be read (absent, say).
inline std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return s;
}

// Writes bytes to a new file with a name unique to this process and call, then renames it to
// `final_path`. Returns an empty string on success, else what failed.
inline std::string write_file_atomically(const std::filesystem::path& final_path,
                                         std::string_view bytes) {
  static std::atomic<uint64_t> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  std::filesystem::path tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    std::string suffix = ".";
    suffix += std::to_string(::getpid());
    suffix += '.';
    suffix += std::to_string(counter.fetch_add(1));
    suffix += '.';
    suffix += std::to_string(now);
    suffix += kTempFileSuffix;
    tmp = final_path;
    tmp += suffix;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return "cannot create " + tmp.string() + ": " + std::strerror(errno);
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return "cannot write " + tmp.string() + ": " + why;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return "cannot write " + tmp.string() + ": " + why;
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return "cannot rename " + tmp.string() + " to " + final_path.string() + ": " + why;
  }
  return {};
}

}  // namespace detail_cache

// ---- the cache ---------------------------------------------------------------------------------

class KernelCache {
 public:
  using Compiler = std::function<CompiledKernel(const KernelRequest&)>;

  // NVRTC itself.
  static CompiledKernel nvrtc_compile(const KernelRequest& r) {
    nvrtc::CompileResult c =
        nvrtc::compile(r.source, r.name_expression, r.target, r.options, r.program_name);
    return {std::move(c.image), std::move(c.lowered_name)};
  }

  struct Options {
    std::optional<std::filesystem::path> root;  // the disk cache's folder; nullopt: memory only
    Compiler compile;                           // nvrtc_compile unless set
    std::string nvrtc_version;                  // nvrtc::version() unless set
  };

  struct Stats {
    uint64_t compiles = 0;
    uint64_t memory_hits = 0;
    uint64_t disk_hits = 0;
    uint64_t disk_writes = 0;
    uint64_t corrupt_files = 0;  // deleted and recompiled
    uint64_t other_keys = 0;     // a sound file of another key under the wanted name
  };

  // The cache of this process: the folder from the environment (default_kernel_cache_root()) at
  // first use, NVRTC as the compiler.
  KernelCache() : KernelCache(Options{default_kernel_cache_root(), {}, {}}) {}

  explicit KernelCache(Options o)
      : root_(std::move(o.root)),
        compile_(o.compile ? std::move(o.compile) : Compiler(&nvrtc_compile)),
        nvrtc_version_(o.nvrtc_version.empty() ? nvrtc::version().str()
                                               : std::move(o.nvrtc_version)),
        disk_(root_.has_value()) {}

  KernelCache(const KernelCache&) = delete;
  KernelCache& operator=(const KernelCache&) = delete;

  // The compiled kernel for r: from memory, else from disk, else compiled (and then stored in
  // both). Compile errors propagate as sinew::Error; disk problems never do.
  std::shared_ptr<const CompiledKernel> get(const KernelRequest& r) {
    const std::string key = kernel_cache_key(r, nvrtc_version_);
    std::shared_ptr<Entry> entry;
    {
      std::lock_guard<std::mutex> lock(map_mutex_);
      std::shared_ptr<Entry>& slot = entries_[key];
      if (!slot) slot = std::make_shared<Entry>();
      entry = slot;
    }
    // One thread fills an entry; others asking for the same key wait for it (compiles of different
    // keys run in parallel).
    std::lock_guard<std::mutex> lock(entry->mutex);
    if (entry->value) {
      memory_hits_.fetch_add(1, std::memory_order_relaxed);
      return entry->value;
    }
    std::filesystem::path file;
    if (disk_.load(std::memory_order_relaxed)) {
      file = folder(r.target) /
             (sha256_hex(key).substr(0, 40) + std::string(detail_cache::kKernelFileSuffix));
      if (!prepare_folder(file.parent_path())) file.clear();
    }
    if (!file.empty()) {
      if (std::optional<std::string> bytes = detail_cache::read_file(file)) {
        CompiledKernel k;
        switch (detail_cache::decode_kernel_file(*bytes, key, &k)) {
          case detail_cache::Decoded::Ok:
            disk_hits_.fetch_add(1, std::memory_order_relaxed);
            entry->value = std::make_shared<const CompiledKernel>(std::move(k));
            return entry->value;
          case detail_cache::Decoded::Corrupt: {
            corrupt_files_.fetch_add(1, std::memory_order_relaxed);
            std::error_code ec;
            std::filesystem::remove(file, ec);
            break;
          }
          case detail_cache::Decoded::OtherKey:
            other_keys_.fetch_add(1, std::memory_order_relaxed);
            break;
        }
      }
    }
    CompiledKernel k = compile_(r);
    compiles_.fetch_add(1, std::memory_order_relaxed);
    SINEW_CHECK(!k.image.empty() && !k.lowered_name.empty(), "KernelCache::get",
                "the compiler returned an empty image or name for `",
                std::string(r.name_expression), "`");
    if (!file.empty() && disk_.load(std::memory_order_relaxed)) {
      const std::string why =
          detail_cache::write_file_atomically(file, detail_cache::encode_kernel_file(key, k));
      if (why.empty())
        disk_writes_.fetch_add(1, std::memory_order_relaxed);
      else
        disable_disk(file.parent_path(), why);
    }
    entry->value = std::make_shared<const CompiledKernel>(std::move(k));
    return entry->value;
  }

  // The folder of target's entries: <root>/sm_90-nvrtc13.0 (empty for a memory-only cache).
  std::filesystem::path folder(const nvrtc::Target& target) const {
    if (!root_) return {};
    return *root_ / (target.str() + "-nvrtc" + nvrtc_version_);
  }

  const std::optional<std::filesystem::path>& root() const { return root_; }
  // Whether entries are read from and written to disk (false when off, or after a disk problem).
  bool disk_enabled() const { return disk_.load(); }

  // Forgets every entry in memory and deletes this cache's files (only *.kernel and temporary files
  // in the <target>-nvrtc<version> subfolders: nothing else under the root is touched). Kernels
  // already handed out stay valid.
  void clear() {
    {
      std::lock_guard<std::mutex> lock(map_mutex_);
      entries_.clear();
    }
    if (!root_) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    for (fs::directory_iterator sub(*root_, ec), end; !ec && sub != end; sub.increment(ec)) {
      const std::string name = sub->path().filename().string();
      if (name.find("-nvrtc") == std::string::npos || !sub->is_directory(ec)) continue;
      std::vector<fs::path> doomed;
      std::error_code ec2;
      for (fs::directory_iterator f(sub->path(), ec2), fend; !ec2 && f != fend; f.increment(ec2)) {
        const std::string file = f->path().filename().string();
        auto ends_with = [&file](std::string_view s) {
          return file.size() >= s.size() && file.compare(file.size() - s.size(), s.size(), s) == 0;
        };
        if (ends_with(detail_cache::kKernelFileSuffix) || ends_with(detail_cache::kTempFileSuffix))
          doomed.push_back(f->path());
      }
      for (const fs::path& p : doomed) fs::remove(p, ec2);
      fs::remove(sub->path(), ec2);  // only if now empty
    }
    std::lock_guard<std::mutex> lock(folder_mutex_);
    ready_folders_.clear();
  }

  Stats stats() const {
    Stats s;
    s.compiles = compiles_.load();
    s.memory_hits = memory_hits_.load();
    s.disk_hits = disk_hits_.load();
    s.disk_writes = disk_writes_.load();
    s.corrupt_files = corrupt_files_.load();
    s.other_keys = other_keys_.load();
    return s;
  }

 private:
  struct Entry {
    std::mutex mutex;
    std::shared_ptr<const CompiledKernel> value;
  };

  // Creates dir once; false (after the one warning) where it cannot be used.
  bool prepare_folder(const std::filesystem::path& dir) {
    {
      std::lock_guard<std::mutex> lock(folder_mutex_);
      if (ready_folders_.count(dir.string()) != 0) return true;
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!ec && !std::filesystem::is_directory(dir, ec))
      ec = std::make_error_code(std::errc::not_a_directory);
    if (!ec && ::access(dir.c_str(), W_OK | X_OK) != 0)
      ec = std::error_code(errno, std::generic_category());
    if (ec) {
      disable_disk(dir, ec.message());
      return false;
    }
    std::lock_guard<std::mutex> lock(folder_mutex_);
    ready_folders_.insert(dir.string());
    return true;
  }

  void disable_disk(const std::filesystem::path& dir, const std::string& why) {
    disk_.store(false);
    if (!warned_.exchange(true))
      std::fprintf(
          stderr,
          "sinew: the kernel cache folder %s cannot be used (%s); compiled CUDA kernels are "
          "kept in memory only (set SINEW_KERNEL_CACHE to another folder, or to off)\n",
          dir.string().c_str(), why.c_str());
  }

  const std::optional<std::filesystem::path> root_;
  const Compiler compile_;
  const std::string nvrtc_version_;
  std::atomic<bool> disk_;
  std::atomic<bool> warned_{false};

  std::mutex map_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
  std::mutex folder_mutex_;
  std::set<std::string> ready_folders_;

  std::atomic<uint64_t> compiles_{0}, memory_hits_{0}, disk_hits_{0}, disk_writes_{0},
      corrupt_files_{0}, other_keys_{0};
};

// The process's kernel cache (created at first use, never destroyed).
inline KernelCache& kernel_cache() {
  static KernelCache* cache = new KernelCache();
  return *cache;
}

// Forgets compiled kernels in memory and deletes the disk cache's entries.
inline void clear_kernel_cache() { kernel_cache().clear(); }

}  // namespace sinew::backend::cuda
