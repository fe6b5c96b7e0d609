// NVRTC without a GPU: templated kernels that include nothing, compiled to CUBIN and PTX for two
// architectures; lowered names; failures as sinew::Error; ptxas' resource report.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "sinew/backend/cuda/nvrtc.hpp"

namespace nvrtc = sinew::backend::cuda::nvrtc;

namespace {
namespace SINEW_UNITY_ID {

constexpr const char* kFoo = R"(
namespace sinew {
template <class T, int N>
__global__ void foo(T* p, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = p[i] * T(N);
}
}  // namespace sinew
)";

// 256 floats of static shared memory and one barrier.
constexpr const char* kReverse = R"(
namespace sinew {
template <class T>
__global__ void reverse(T* p) {
  __shared__ T s[256];
  s[threadIdx.x] = p[threadIdx.x];
  __syncthreads();
  p[threadIdx.x] = s[255 - threadIdx.x];
}
}  // namespace sinew
)";

// Needs far more than 32 registers: spills under -maxrregcount=32.
constexpr const char* kHeavy = R"(
namespace sinew {
template <int N>
__global__ void heavy(float* p) {
  float acc[N];
  for (int i = 0; i < N; ++i) acc[i] = p[threadIdx.x * N + i];
  for (int r = 0; r < 8; ++r)
    for (int i = 0; i < N; ++i) acc[i] = acc[i] * acc[(i + r + 1) % N] + 1.0f;
  float s = 0;
  for (int i = 0; i < N; ++i) s += acc[i] * float(i);
  p[threadIdx.x] = s;
}
}  // namespace sinew
)";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sinew::Error& e) {
    return e.what();
  }
  return "(no sinew::Error)";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A CUBIN is an ELF file for the CUDA machine (e_machine 190, EM_CUDA).
bool is_cuda_elf(const std::string& image) {
  return image.size() > 20 &&
         image.compare(0, 4,
                       "\x7f"
                       "ELF") == 0 &&
         static_cast<unsigned char>(image[18]) == 190 && image[19] == 0;
}

TEST(Nvrtc, VersionMatchesTheToolkit) {
  EXPECT_EQ(nvrtc::version().major, 13);
  EXPECT_GE(nvrtc::version().minor, 0);
  EXPECT_EQ(nvrtc::version().str(),
            std::to_string(nvrtc::version().major) + "." + std::to_string(nvrtc::version().minor));
}

TEST(Nvrtc, SupportedArchitectures) {
  const std::vector<int>& a = nvrtc::supported_archs();
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_NE(std::find(a.begin(), a.end(), 80), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), 90), a.end());
  EXPECT_EQ(nvrtc::target_for(90), nvrtc::Target::sm(90));
  EXPECT_EQ(nvrtc::target_for(80).str(), "sm_80");
  // A device newer than every architecture NVRTC knows gets PTX for the newest one.
  EXPECT_EQ(nvrtc::target_for(990), nvrtc::Target::compute(a.back()));
  EXPECT_EQ(nvrtc::Target::compute(90).str(), "compute_90");
  EXPECT_TRUE(contains(error_of([] { (void)nvrtc::target_for(30); }), "compute capability 30"));
}

TEST(Nvrtc, DefaultOptions) {
  const char* saved = std::getenv("SINEW_CUDA_DEBUG");
  const std::string saved_value = saved != nullptr ? saved : "";
  unsetenv("SINEW_CUDA_DEBUG");
  EXPECT_EQ(nvrtc::default_options(),
            (std::vector<std::string>{"-std=c++17", "--minimal", "-default-device", "-DNDEBUG"}));
  setenv("SINEW_CUDA_DEBUG", "1", 1);
  EXPECT_EQ(nvrtc::default_options().back(), "-lineinfo");
  setenv("SINEW_CUDA_DEBUG", "0", 1);
  EXPECT_EQ(nvrtc::default_options().size(), 4u);
  if (saved != nullptr)
    setenv("SINEW_CUDA_DEBUG", saved_value.c_str(), 1);
  else
    unsetenv("SINEW_CUDA_DEBUG");
}

TEST(Nvrtc, CompilesCubinForTwoArchitectures) {
  const nvrtc::CompileResult a =
      nvrtc::compile(kFoo, "sinew::foo<float, 3>", nvrtc::Target::sm(80));
  const nvrtc::CompileResult b =
      nvrtc::compile(kFoo, "sinew::foo<float, 3>", nvrtc::Target::sm(90));
  // Itanium mangling of void sinew::foo<float, 3>(float*, int).
  EXPECT_EQ(a.lowered_name, "_ZN5sinew3fooIfLi3EEEvPT_i");
  EXPECT_EQ(b.lowered_name, "_ZN5sinew3fooIfLi3EEEvPT_i");
  EXPECT_TRUE(is_cuda_elf(a.image));
  EXPECT_TRUE(is_cuda_elf(b.image));
  EXPECT_NE(a.image, b.image);
  // The kernel's name is in the CUBIN's symbol table.
  EXPECT_TRUE(contains(b.image, "_ZN5sinew3fooIfLi3EEEvPT_i"));
  const nvrtc::CompileResult d =
      nvrtc::compile(kFoo, "sinew::foo<double, 7>", nvrtc::Target::sm(90));
  EXPECT_EQ(d.lowered_name, "_ZN5sinew3fooIdLi7EEEvPT_i");
}

TEST(Nvrtc, CompilesPtx) {
  for (int arch : {80, 90}) {
    const nvrtc::CompileResult r =
        nvrtc::compile(kFoo, "sinew::foo<float, 3>", nvrtc::Target::compute(arch));
    EXPECT_EQ(r.lowered_name, "_ZN5sinew3fooIfLi3EEEvPT_i");
    EXPECT_FALSE(is_cuda_elf(r.image));
    EXPECT_TRUE(contains(r.image, ".target sm_" + std::to_string(arch))) << r.image.substr(0, 400);
    EXPECT_TRUE(contains(r.image, ".entry _ZN5sinew3fooIfLi3EEEvPT_i"));
    // Only the instantiation asked for is compiled.
    EXPECT_FALSE(contains(r.image, "_ZN5sinew3fooIdLi7EEEvPT_i"));
  }
}

TEST(Nvrtc, SyntaxErrorReportsExpressionOptionsAndLog) {
  const std::string broken =
      "namespace sinew { template <class T> __global__ void bad(T* p) { p[0] = 1 } }";
  const std::string m = error_of([&] {
    (void)nvrtc::compile(broken, "sinew::bad<float>", nvrtc::Target::sm(90),
                         nvrtc::default_options(), "broken.cu");
  });
  EXPECT_EQ(m.rfind("nvrtc::compile: compiling broken.cu for `sinew::bad<float>` (sm_90) failed: "
                    "NVRTC_ERROR_COMPILATION",
                    0),
            0u)
      << m;
  EXPECT_TRUE(contains(m, "options: -arch=sm_90 -std=c++17 --minimal -default-device -DNDEBUG"))
      << m;
  EXPECT_TRUE(contains(m, "broken.cu(1): error: expected a \";\"")) << m;
}

TEST(Nvrtc, UnknownNameExpressionIsAnError) {
  const std::string m =
      error_of([] { (void)nvrtc::compile(kFoo, "sinew::nothere<float>", nvrtc::Target::sm(90)); });
  EXPECT_TRUE(contains(m, "nvrtc::compile")) << m;
  EXPECT_TRUE(contains(m, "sinew::nothere<float>")) << m;
}

TEST(Nvrtc, BadOptionIsAnError) {
  std::vector<std::string> o = nvrtc::default_options();
  o.push_back("--no-such-option");
  const std::string m = error_of(
      [&] { (void)nvrtc::compile(kFoo, "sinew::foo<float, 3>", nvrtc::Target::sm(90), o); });
  EXPECT_TRUE(contains(m, "--no-such-option")) << m;
  EXPECT_TRUE(contains(m, "sinew::foo<float, 3>")) << m;
}

TEST(Nvrtc, PtxasReportOfARealCompile) {
  std::vector<std::string> o = nvrtc::default_options();
  o.push_back(nvrtc::kPtxasVerbose);
  for (int arch : {80, 90}) {
    const nvrtc::CompileResult r =
        nvrtc::compile(kReverse, "sinew::reverse<float>", nvrtc::Target::sm(arch), o);
    const auto report = nvrtc::parse_ptxas_report(r.log);
    const nvrtc::KernelResources* k = nvrtc::find_kernel(report, r.lowered_name);
    ASSERT_NE(k, nullptr) << r.log;
    EXPECT_EQ(k->arch, "sm_" + std::to_string(arch));
    EXPECT_GT(k->registers, 0);
    EXPECT_LE(k->registers, 32);
    EXPECT_EQ(k->barriers, 1);
    EXPECT_EQ(k->shared_static, 256 * 4);
    EXPECT_EQ(k->spill_stores, 0);
    EXPECT_EQ(k->spill_loads, 0);
    EXPECT_EQ(k->stack_frame, 0);
  }
}

TEST(Nvrtc, PtxasReportShowsSpills) {
  std::vector<std::string> o = nvrtc::default_options();
  o.push_back(nvrtc::kPtxasVerbose);
  o.push_back("-maxrregcount=32");
  const nvrtc::CompileResult r =
      nvrtc::compile(kHeavy, "sinew::heavy<64>", nvrtc::Target::sm(90), o);
  const std::vector<nvrtc::KernelResources> report = nvrtc::parse_ptxas_report(r.log);
  const nvrtc::KernelResources* k = nvrtc::find_kernel(report, r.lowered_name);
  ASSERT_NE(k, nullptr) << r.log;
  EXPECT_EQ(r.lowered_name, "_ZN5sinew5heavyILi64EEEvPf");
  EXPECT_LE(k->registers, 32);
  EXPECT_GT(k->spill_stores, 0) << r.log;
  EXPECT_GT(k->spill_loads, 0) << r.log;
  EXPECT_EQ(k->shared_static, -1);  // not reported: none
}

TEST(Nvrtc, PtxasReportParser) {
  const std::string log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Function properties for _Z6helperv\n"
      "ptxas         .     16 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads\n"
      "ptxas info    : Compiling entry function '_Z1kPf' for 'sm_80'\n"
      "ptxas info    : Function properties for _Z1kPf\n"
      "ptxas         .     800 bytes stack frame, 12 bytes spill stores, 20 bytes spill loads\n"
      "ptxas info    : Used 40 registers, used 2 barriers, 816 bytes cumulative stack size, "
      "4096 bytes smem, 368 bytes cmem[0]\n"
      "ptxas info    : Compile time = 3.5 ms\n"
      "ptxas info    : Compiling entry function '_Z2k2v' for 'sm_80'\n"
      "ptxas info    : Function properties for _Z2k2v\n"
      "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 6 registers, 352 bytes cmem[0]\n";
  const auto report = nvrtc::parse_ptxas_report(log);
  ASSERT_EQ(report.size(), 3u);
  const nvrtc::KernelResources& helper = report[0];
  EXPECT_EQ(helper.function, "_Z6helperv");
  EXPECT_FALSE(helper.entry);
  EXPECT_EQ(helper.stack_frame, 16);
  EXPECT_EQ(helper.spill_stores, 8);
  EXPECT_EQ(helper.spill_loads, 4);
  EXPECT_EQ(helper.registers, -1);
  EXPECT_EQ(nvrtc::find_kernel(report, "_Z6helperv"), nullptr);

  const nvrtc::KernelResources* k = nvrtc::find_kernel(report, "_Z1kPf");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->arch, "sm_80");
  EXPECT_EQ(k->registers, 40);
  EXPECT_EQ(k->barriers, 2);
  EXPECT_EQ(k->stack_frame, 800);
  EXPECT_EQ(k->spill_stores, 12);
  EXPECT_EQ(k->spill_loads, 20);
  EXPECT_EQ(k->cumulative_stack, 816);
  EXPECT_EQ(k->shared_static, 4096);
  EXPECT_EQ(k->constant0, 368);

  const nvrtc::KernelResources* k2 = nvrtc::find_kernel(report, "_Z2k2v");
  ASSERT_NE(k2, nullptr);
  EXPECT_EQ(k2->registers, 6);
  EXPECT_EQ(k2->barriers, -1);
  EXPECT_EQ(k2->shared_static, -1);
  EXPECT_EQ(k2->constant0, 352);
  EXPECT_EQ(k2->spill_stores, 0);
}

// Prints how long compiles take (the first one in a process loads NVRTC's builtins).
TEST(Nvrtc, CompileTimes) {
  using clock = std::chrono::steady_clock;
  std::string times;
  for (int i = 0; i < 4; ++i) {
    const auto t0 = clock::now();
    std::string expr = "sinew::foo<float, ";
    expr += std::to_string(100 + i);
    expr += '>';
    (void)nvrtc::compile(kFoo, expr, nvrtc::Target::sm(90));
    const double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, " %.1f ms", ms);
    times += buf;
  }
  std::printf("[ nvrtc    ] sinew::foo<float, N> for sm_90:%s\n", times.c_str());
}

}  // namespace SINEW_UNITY_ID
}  // namespace
