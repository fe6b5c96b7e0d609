// The kernel cache: SHA-256, the key text, memory and disk hits, files of another key, corrupt and
// short files, unusable folders, "off", the folder from the environment, concurrent writers
// (threads and processes), clearing; with a counting fake compiler, and with NVRTC.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sinew/backend/cuda/kernel_cache.hpp"

namespace cu = sinew::backend::cuda;
namespace fs = std::filesystem;

namespace {
namespace SINEW_UNITY_ID {

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sinew_kernel_cache_XXXXXX").string();
    char* p = mkdtemp(pattern.data());
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A compiler that counts its calls and whose output depends on every part of the request.
struct FakeCompiler {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  size_t image_bytes = 64;

  cu::KernelCache::Compiler fn() const {
    auto counter = calls;
    const size_t bytes = image_bytes;
    return [counter, bytes](const cu::KernelRequest& r) {
      counter->fetch_add(1);
      cu::CompiledKernel k;
      k.lowered_name = "_lowered_" + std::string(r.name_expression);
      std::string seed = std::string(r.source) + "|" + r.target.str();
      for (const std::string& o : r.options) seed += "|" + o;
      while (k.image.size() < bytes) k.image += seed;
      k.image.resize(bytes);
      return k;
    };
  }
  static std::string expected_image(const cu::KernelRequest& r, size_t bytes = 64) {
    FakeCompiler f;
    f.image_bytes = bytes;
    return f.fn()(r).image;
  }
};

cu::KernelRequest request(std::string_view source = "source A",
                          std::string_view name = "sinew::k<1>", int arch = 90) {
  cu::KernelRequest r;
  r.source = source;
  r.name_expression = name;
  r.target = cu::nvrtc::Target::sm(arch);
  r.options = {"-std=c++17", "--minimal"};
  return r;
}

cu::KernelCache::Options options(std::optional<fs::path> root, const FakeCompiler& f) {
  return cu::KernelCache::Options{std::move(root), f.fn(), "13.0"};
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path());
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The one entry file of a folder.
fs::path only_file(const fs::path& dir) {
  const std::vector<fs::path> f = files_in(dir);
  EXPECT_EQ(f.size(), 1u) << dir;
  return f.empty() ? fs::path() : f[0];
}

size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

// ---- SHA-256: the FIPS 180-2 examples ----------------------------------------------------------

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(cu::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(cu::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(cu::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(cu::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecewiseEqualsWhole) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 37 + 11);
  for (size_t chunk : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 200u}) {
    cu::detail_cache::Sha256 h;
    for (size_t at = 0; at < text.size(); at += chunk)
      h.update(std::string_view(text).substr(at, chunk));
    const auto d = h.digest();
    EXPECT_EQ(cu::detail_cache::to_hex(d.data(), d.size()), cu::sha256_hex(text)) << chunk;
  }
}

// ---- keys and locations ------------------------------------------------------------------------

TEST(KernelCacheKey, Text) {
  const cu::KernelRequest r = request("abc", "sinew::unary<float, 11, true>", 90);
  EXPECT_EQ(cu::kernel_cache_key(r, "13.0"),
            "sinew-kernel-cache 1\n"
            "nvrtc 13.0\n"
            "target sm_90\n"
            "option -std=c++17\n"
            "option --minimal\n"
            "name sinew::unary<float, 11, true>\n"
            "source ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
  cu::KernelRequest p = r;
  p.target = cu::nvrtc::Target::compute(90);
  EXPECT_NE(cu::kernel_cache_key(p, "13.0").find("target compute_90\n"), std::string::npos);
  EXPECT_THROW((void)cu::kernel_cache_key(request("abc", "bad\nname"), "13.0"), sinew::Error);
}

TEST(KernelCacheLocation, FromTheEnvironment) {
  {
    ScopedEnv a("SINEW_KERNEL_CACHE", "/some/where");
    EXPECT_EQ(cu::default_kernel_cache_root(), fs::path("/some/where"));
  }
  {
    ScopedEnv a("SINEW_KERNEL_CACHE", "off");
    ScopedEnv b("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(cu::default_kernel_cache_root(), std::nullopt);
  }
  {
    ScopedEnv a("SINEW_KERNEL_CACHE", nullptr);
    ScopedEnv b("XDG_CACHE_HOME", "/xdg");
    ScopedEnv c("HOME", "/home/u");
    EXPECT_EQ(cu::default_kernel_cache_root(), fs::path("/xdg/sinew/kernels"));
  }
  {
    ScopedEnv a("SINEW_KERNEL_CACHE", "");
    ScopedEnv b("XDG_CACHE_HOME", "relative/is/ignored");
    ScopedEnv c("HOME", "/home/u");
    EXPECT_EQ(cu::default_kernel_cache_root(), fs::path("/home/u/.cache/sinew/kernels"));
  }
  {
    ScopedEnv a("SINEW_KERNEL_CACHE", nullptr);
    ScopedEnv b("XDG_CACHE_HOME", nullptr);
    ScopedEnv c("HOME", "/home/u");
    EXPECT_EQ(cu::default_kernel_cache_root(), fs::path("/home/u/.cache/sinew/kernels"));
  }
  {
    ScopedEnv a("SINEW_KERNEL_CACHE", nullptr);
    ScopedEnv b("XDG_CACHE_HOME", nullptr);
    ScopedEnv c("HOME", nullptr);
    EXPECT_EQ(cu::default_kernel_cache_root(), std::nullopt);
  }
}

TEST(KernelCacheLocation, DefaultConstructedCacheUsesIt) {
  TempDir dir;
  ScopedEnv a("SINEW_KERNEL_CACHE", nullptr);
  ScopedEnv b("XDG_CACHE_HOME", dir.path().c_str());
  cu::KernelCache cache;
  EXPECT_EQ(cache.root(), dir.path() / "sinew" / "kernels");
  EXPECT_EQ(cache.folder(cu::nvrtc::Target::sm(90)),
            dir.path() / "sinew" / "kernels" / ("sm_90-nvrtc" + cu::nvrtc::version().str()));
}

// ---- memory and disk ---------------------------------------------------------------------------

TEST(KernelCache, MissThenMemoryHit) {
  FakeCompiler f;
  cu::KernelCache cache(options(std::nullopt, f));
  auto a = cache.get(request());
  auto b = cache.get(request());
  EXPECT_EQ(f.calls->load(), 1);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(a->lowered_name, "_lowered_sinew::k<1>");
  EXPECT_EQ(a->image, FakeCompiler::expected_image(request()));
  EXPECT_EQ(cache.stats().compiles, 1u);
  EXPECT_EQ(cache.stats().memory_hits, 1u);
  EXPECT_FALSE(cache.disk_enabled());
}

TEST(KernelCache, EveryPartOfTheKeyMatters) {
  FakeCompiler f;
  cu::KernelCache cache(options(std::nullopt, f));
  (void)cache.get(request());
  (void)cache.get(request("source B"));
  (void)cache.get(request("source A", "sinew::k<2>"));
  (void)cache.get(request("source A", "sinew::k<1>", 80));
  cu::KernelRequest o = request();
  o.options.push_back("-lineinfo");
  (void)cache.get(o);
  cu::KernelRequest p = request();
  p.target = cu::nvrtc::Target::compute(90);
  (void)cache.get(p);
  EXPECT_EQ(f.calls->load(), 6);
  // The program name is for diagnostics only.
  cu::KernelRequest n = request();
  n.program_name = "other.cu";
  (void)cache.get(n);
  EXPECT_EQ(f.calls->load(), 6);
  // Another NVRTC is another key.
  cu::KernelCache other(cu::KernelCache::Options{std::nullopt, f.fn(), "13.1"});
  (void)other.get(request());
  EXPECT_EQ(f.calls->load(), 7);
}

TEST(KernelCache, DiskHitInAnotherInstance) {
  TempDir dir;
  FakeCompiler f;
  {
    cu::KernelCache first(options(dir.path(), f));
    (void)first.get(request());
    EXPECT_EQ(first.stats().disk_writes, 1u);
  }
  const fs::path folder = dir.path() / "sm_90-nvrtc13.0";
  const fs::path file = only_file(folder);
  const std::string key = cu::kernel_cache_key(request(), "13.0");
  EXPECT_EQ(file.filename().string(), cu::sha256_hex(key).substr(0, 40) + ".kernel");
  EXPECT_NE(read_all(file).find(key), std::string::npos);  // the file holds its key text

  cu::KernelCache second(options(dir.path(), f));
  auto k = second.get(request());
  EXPECT_EQ(f.calls->load(), 1);
  EXPECT_EQ(second.stats().disk_hits, 1u);
  EXPECT_EQ(second.stats().compiles, 0u);
  EXPECT_EQ(k->image, FakeCompiler::expected_image(request()));
  EXPECT_EQ(k->lowered_name, "_lowered_sinew::k<1>");
  (void)second.get(request());
  EXPECT_EQ(second.stats().memory_hits, 1u);
}

TEST(KernelCache, FileOfAnotherKeyUnderTheSameNameIsAMiss) {
  TempDir dir;
  FakeCompiler f;
  const fs::path folder = dir.path() / "sm_90-nvrtc13.0";
  fs::create_directories(folder);
  const std::string wanted = cu::kernel_cache_key(request(), "13.0");
  const std::string other = cu::kernel_cache_key(request("source Z"), "13.0");
  const fs::path file = folder / (cu::sha256_hex(wanted).substr(0, 40) + ".kernel");
  write_all(file, cu::detail_cache::encode_kernel_file(other, {"other image", "_other"}));

  cu::KernelCache cache(options(dir.path(), f));
  auto k = cache.get(request());
  EXPECT_EQ(f.calls->load(), 1);
  EXPECT_EQ(cache.stats().other_keys, 1u);
  EXPECT_EQ(k->image, FakeCompiler::expected_image(request()));
  // The file now holds the wanted entry.
  cu::CompiledKernel back;
  EXPECT_EQ(cu::detail_cache::decode_kernel_file(read_all(file), wanted, &back),
            cu::detail_cache::Decoded::Ok);
  EXPECT_EQ(back.image, k->image);
}

TEST(KernelCache, CorruptOrShortFileIsDeletedAndRecompiled) {
  TempDir dir;
  FakeCompiler f;
  {
    cu::KernelCache first(options(dir.path(), f));
    (void)first.get(request());
  }
  const fs::path file = only_file(dir.path() / "sm_90-nvrtc13.0");
  const std::string good = read_all(file);
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x20;
  std::string bad_length = good;
  bad_length[8] ^= 0x01;  // the key's length field
  const std::vector<std::string> damaged = {
      flipped, bad_length, good.substr(0, good.size() - 1), good.substr(0, 10), "", good + "x"};
  int expected_calls = 1;
  for (const std::string& d : damaged) {
    write_all(file, d);
    cu::KernelCache cache(options(dir.path(), f));
    auto k = cache.get(request());
    ++expected_calls;
    EXPECT_EQ(f.calls->load(), expected_calls) << d.size();
    EXPECT_EQ(cache.stats().corrupt_files, 1u) << d.size();
    EXPECT_EQ(k->image, FakeCompiler::expected_image(request()));
    EXPECT_EQ(read_all(file), good) << "rewritten after " << d.size() << " bytes";
  }
}

TEST(KernelCache, UnusableFolderWarnsOnceAndWorksFromMemory) {
  TempDir dir;
  write_all(dir.path() / "a_file", "not a folder");
  FakeCompiler f;
  cu::KernelCache cache(options(dir.path() / "a_file" / "cache", f));
  testing::internal::CaptureStderr();
  auto a = cache.get(request());
  auto b = cache.get(request("source B"));
  auto c = cache.get(request("source C", "sinew::k<1>", 80));
  auto a2 = cache.get(request());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(f.calls->load(), 3);
  EXPECT_EQ(a.get(), a2.get());
  EXPECT_EQ(b->image, FakeCompiler::expected_image(request("source B")));
  EXPECT_EQ(count(err, "sinew: the kernel cache folder"), 1u) << err;
  EXPECT_NE(err.find((dir.path() / "a_file").string()), std::string::npos) << err;
  EXPECT_NE(err.find("memory only"), std::string::npos) << err;
  EXPECT_FALSE(cache.disk_enabled());
}

TEST(KernelCache, ReadOnlyFolderWarnsAndWorksFromMemory) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write to a read-only folder";
  TempDir dir;
  fs::create_directories(dir.path() / "ro");
  fs::permissions(dir.path() / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  FakeCompiler f;
  cu::KernelCache cache(options(dir.path() / "ro", f));
  testing::internal::CaptureStderr();
  (void)cache.get(request());
  (void)cache.get(request("source B"));
  const std::string err = testing::internal::GetCapturedStderr();
  fs::permissions(dir.path() / "ro", fs::perms::owner_all);
  EXPECT_EQ(f.calls->load(), 2);
  EXPECT_EQ(count(err, "sinew: the kernel cache folder"), 1u) << err;
}

TEST(KernelCache, OffMeansMemoryOnly) {
  TempDir dir;
  ScopedEnv a("SINEW_KERNEL_CACHE", "off");
  ScopedEnv b("XDG_CACHE_HOME", dir.path().c_str());
  ScopedEnv c("HOME", dir.path().c_str());
  FakeCompiler f;
  cu::KernelCache cache(options(cu::default_kernel_cache_root(), f));
  EXPECT_FALSE(cache.root().has_value());
  (void)cache.get(request());
  (void)cache.get(request());
  EXPECT_EQ(f.calls->load(), 1);
  EXPECT_TRUE(files_in(dir.path()).empty());
}

TEST(KernelCache, CompileErrorsPropagateAndAreNotCached) {
  std::atomic<int> calls{0};
  auto compiler = [&calls](const cu::KernelRequest&) {
    if (calls.fetch_add(1) == 0) sinew::detail::fail("nvrtc::compile", "broken");
    return cu::CompiledKernel{"image", "name"};
  };
  cu::KernelCache cache(cu::KernelCache::Options{std::nullopt, compiler, "13.0"});
  EXPECT_THROW((void)cache.get(request()), sinew::Error);
  EXPECT_EQ(cache.get(request())->image, "image");
  EXPECT_EQ(calls.load(), 2);
  // An empty result is an error too.
  cu::KernelCache empty(cu::KernelCache::Options{
      std::nullopt, [](const cu::KernelRequest&) { return cu::CompiledKernel{}; }, "13.0"});
  EXPECT_THROW((void)empty.get(request()), sinew::Error);
}

TEST(KernelCache, ThreadsAskingForOneKeyCompileOnce) {
  TempDir dir;
  FakeCompiler f;
  f.image_bytes = 1 << 16;
  cu::KernelCache cache(options(dir.path(), f));
  std::vector<std::shared_ptr<const cu::CompiledKernel>> got(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&cache, &got, i] { got[i] = cache.get(request()); });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(f.calls->load(), 1);
  for (const auto& g : got) EXPECT_EQ(g.get(), got[0].get());
  EXPECT_EQ(files_in(dir.path() / "sm_90-nvrtc13.0").size(), 1u);
}

// Two processes that miss on one key at the same moment both compile and write it; what is left is
// one complete file and no temporary ones.
TEST(KernelCache, TwoProcessesWritingOneKeyLeaveOneValidFile) {
  TempDir dir;
  constexpr size_t kBytes = 8 << 20;  // large, so that the writes overlap
  for (int round = 0; round < 3; ++round) {
    int gate[2];
    ASSERT_EQ(pipe(gate), 0);
    std::vector<pid_t> children;
    for (int c = 0; c < 2; ++c) {
      const pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        close(gate[1]);
        char byte;
        (void)!read(gate[0], &byte, 1);  // returns once the parent closes its end
        FakeCompiler f;
        f.image_bytes = kBytes;
        cu::KernelCache cache(options(dir.path(), f));
        auto k = cache.get(request());
        const bool ok = k->image.size() == kBytes && cache.stats().disk_writes == 1;
        _exit(ok ? 0 : 1);
      }
      children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
    }
    const std::vector<fs::path> files = files_in(dir.path() / "sm_90-nvrtc13.0");
    ASSERT_EQ(files.size(), 1u) << "round " << round;
    EXPECT_EQ(files[0].extension(), ".kernel");
    FakeCompiler f;
    f.image_bytes = kBytes;
    cu::KernelCache reader(options(dir.path(), f));
    auto k = reader.get(request());
    EXPECT_EQ(f.calls->load(), 0);
    EXPECT_EQ(reader.stats().disk_hits, 1u);
    EXPECT_EQ(k->image, FakeCompiler::expected_image(request(), kBytes));
    reader.clear();
    EXPECT_TRUE(files_in(dir.path()).empty());
  }
}

TEST(KernelCache, ClearForgetsMemoryAndDeletesOnlyItsFiles) {
  TempDir dir;
  write_all(dir.path() / "keep.txt", "a user's file");
  fs::create_directories(dir.path() / "unrelated");
  write_all(dir.path() / "unrelated" / "x.kernel", "not ours");
  FakeCompiler f;
  cu::KernelCache cache(options(dir.path(), f));
  auto held = cache.get(request());
  (void)cache.get(request("source A", "sinew::k<1>", 80));
  EXPECT_EQ(f.calls->load(), 2);
  cache.clear();
  EXPECT_FALSE(fs::exists(dir.path() / "sm_90-nvrtc13.0"));
  EXPECT_FALSE(fs::exists(dir.path() / "sm_80-nvrtc13.0"));
  EXPECT_TRUE(fs::exists(dir.path() / "keep.txt"));
  EXPECT_TRUE(fs::exists(dir.path() / "unrelated" / "x.kernel"));
  EXPECT_EQ(held->image, FakeCompiler::expected_image(request()));  // still valid
  (void)cache.get(request());
  EXPECT_EQ(f.calls->load(), 3);
  EXPECT_EQ(files_in(dir.path() / "sm_90-nvrtc13.0").size(), 1u);  // written again
}

// ---- with NVRTC --------------------------------------------------------------------------------

TEST(KernelCacheNvrtc, CompilesOnceThenLoadsFromDisk) {
  constexpr const char* source = R"(
namespace sinew {
template <class T, int N>
__global__ void scale(T* p, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] *= T(N);
}
}  // namespace sinew
)";
  TempDir dir;
  cu::KernelRequest r;
  r.source = source;
  r.name_expression = "sinew::scale<float, 3>";
  r.target = cu::nvrtc::Target::sm(90);
  using clock = std::chrono::steady_clock;

  const auto t0 = clock::now();
  std::shared_ptr<const cu::CompiledKernel> compiled;
  {
    cu::KernelCache first(cu::KernelCache::Options{dir.path(), {}, {}});
    compiled = first.get(r);
    EXPECT_EQ(first.stats().compiles, 1u);
    EXPECT_EQ(first.stats().disk_writes, 1u);
  }
  const auto t1 = clock::now();
  cu::KernelCache second(cu::KernelCache::Options{dir.path(), {}, {}});
  auto loaded = second.get(r);
  const auto t2 = clock::now();
  EXPECT_EQ(second.stats().compiles, 0u);
  EXPECT_EQ(second.stats().disk_hits, 1u);
  EXPECT_EQ(loaded->lowered_name, "_ZN5sinew5scaleIfLi3EEEvPT_i");
  EXPECT_EQ(loaded->image, compiled->image);
  EXPECT_EQ(loaded->image.compare(0, 4,
                                  "\x7f"
                                  "ELF"),
            0);
  EXPECT_TRUE(fs::exists(dir.path() / ("sm_90-nvrtc" + cu::nvrtc::version().str())));
  // The same source compiled directly gives the same CUBIN.
  EXPECT_EQ(cu::nvrtc::compile(source, "sinew::scale<float, 3>", r.target).image, loaded->image);
  std::printf("[ cache    ] compile and write %.1f ms, load from disk %.2f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count());
}

TEST(KernelCacheNvrtc, ProcessCacheFollowsTheEnvironment) {
  // The test environment points SINEW_KERNEL_CACHE into the build tree (tests/cuda/host.cmake).
  cu::KernelCache& c = cu::kernel_cache();
  EXPECT_EQ(&c, &cu::kernel_cache());
  const char* env = std::getenv("SINEW_KERNEL_CACHE");
  if (env != nullptr && std::string(env) != "off") {
    EXPECT_EQ(c.root(), fs::path(env));
  }
  EXPECT_NO_THROW(cu::clear_kernel_cache());
}

}  // namespace SINEW_UNITY_ID
}  // namespace
