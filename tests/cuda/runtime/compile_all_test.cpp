// Every instantiation of the CUDA kernel table (backend/cuda/instantiations.hpp) compiled by NVRTC
// to CUBIN for sm_80 and sm_90, with ptxas' resource report checked for each kernel: no spills,
// registers, static shared memory and stack frame within bounds. Also the table itself: unique
// name expressions, each naming a __global__ template its fragment defines (NVRTC finds its
// lowered name), and the expected number of instantiations per family.
#include <gtest/gtest.h>

#include <nvrtc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sinew/backend/cuda/instantiations.hpp"
#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/nvrtc.hpp"

namespace cuda = sinew::backend::cuda;
namespace nvrtc = sinew::backend::cuda::nvrtc;

namespace {
namespace SINEW_UNITY_ID {

// ---- bounds -------------------------------------------------------------------------------------

// The elementwise kernels launch 256 threads a block (launch_plan.hpp). At most 64 registers a
// thread keeps 4 such blocks (1024 threads, half of sm_80's and sm_90's 2048) resident on an SM:
// 65536 registers / (256 threads x 4 blocks) = 64. More would cut occupancy below the level these
// memory-bound loops need to hide latency.
constexpr int kBlock = 256;
constexpr int kBlocksPerSm = 4;
constexpr int kMaxRegisters = 65536 / (kBlock * kBlocksPerSm);
static_assert(kMaxRegisters == 64);
// Static shared memory: what a block may declare without opting in to more (48 KiB).
constexpr long kMaxStaticShared = 48 * 1024;
// Local memory: an elementwise kernel keeps its state in registers. The one frame allowed is
// libdevice's slow path of the trigonometric argument reduction (sin and cos of large arguments:
// 32 bytes for float, 40 for double); anything beyond means per-thread arrays went to local memory.
constexpr long kMaxStackFrame = 64;

// The architectures every instantiation is compiled for: Ampere and Hopper.
constexpr int kArchs[] = {80, 90};

// Instantiations per NVRTC program. Measured on the 2-core build machines: one kernel a program
// takes ~75 ms, 16 to 64 a program ~40-45 ms a kernel (a fixed ~35 ms a program, then NVVM ~10 ms
// and ptxas ~23 ms a kernel), 288 a program (a whole family and type) ~130 ms a kernel.
// SINEW_TEST_COMPILE_BATCH overrides it.
constexpr size_t kDefaultBatch = 16;

size_t batch_size() {
  const char* s = std::getenv("SINEW_TEST_COMPILE_BATCH");
  if (s != nullptr && std::atoi(s) > 0) return static_cast<size_t>(std::atoi(s));
  return kDefaultBatch;
}

// ---- one NVRTC program with several name expressions --------------------------------------------

// nvrtc.hpp's owner of an nvrtcProgram (compile() takes one name expression; these programs hold
// many).
using nvrtc::detail_nvrtc::Program;

struct BatchResult {
  bool compiled = false;
  std::string error;                           // NVRTC's result and log when not compiled
  std::vector<std::string> lowered;            // per name expression; empty when NVRTC had none
  std::vector<nvrtc::KernelResources> report;  // ptxas' report (CUBIN targets with -Xptxas=-v)
  size_t image_bytes = 0;
  double seconds = 0;
};

// Compiles one program of `source` holding the name expressions `names`, with Sinew's options
// (nvrtc::default_options()) for `target`; syntax_only stops after the front end (lowered names,
// no code), otherwise the CUBIN's size and ptxas' report are kept.
BatchResult compile_batch(const std::string& source, const char* program_name,
                          const std::vector<std::string>& names, const nvrtc::Target& target,
                          bool syntax_only) {
  const auto t0 = std::chrono::steady_clock::now();
  BatchResult r;
  Program prog(source, program_name);
  for (const std::string& n : names)
    nvrtc::check(nvrtcAddNameExpression(prog.get(), n.c_str()), "nvrtcAddNameExpression");
  std::vector<std::string> opts = {"-arch=" + target.str()};
  for (const std::string& o : nvrtc::default_options()) opts.push_back(o);
  if (syntax_only)
    opts.emplace_back("-fdevice-syntax-only");
  else
    opts.emplace_back(nvrtc::kPtxasVerbose);
  std::vector<const char*> argv;
  for (const std::string& o : opts) argv.push_back(o.c_str());
  const nvrtcResult res =
      nvrtcCompileProgram(prog.get(), static_cast<int>(argv.size()), argv.data());
  const std::string log = prog.log();
  if (res != NVRTC_SUCCESS) {
    r.error = std::string(nvrtcGetErrorString(res)) + "\noptions: " + nvrtc::join_options(opts) +
              "\nlog:\n" + log;
  } else {
    r.compiled = true;
    for (const std::string& n : names) {
      const char* lowered = nullptr;
      if (nvrtcGetLoweredName(prog.get(), n.c_str(), &lowered) == NVRTC_SUCCESS && lowered)
        r.lowered.emplace_back(lowered);
      else
        r.lowered.emplace_back();
    }
    if (!syntax_only) {
      r.report = nvrtc::parse_ptxas_report(log);
      nvrtc::check(nvrtcGetCUBINSize(prog.get(), &r.image_bytes), "nvrtcGetCUBINSize");
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// The table split into programs: by family and element type, at most `batch` a program.
struct Batch {
  std::vector<size_t> items;  // indices into the table
};

std::vector<Batch> make_batches(const std::vector<cuda::Instantiation>& table, size_t batch) {
  std::vector<Batch> out;
  std::map<std::pair<std::string, int>, size_t> open;  // (family, dtype) -> its batch being filled
  for (size_t i = 0; i < table.size(); ++i) {
    const auto key = std::make_pair(table[i].family, static_cast<int>(table[i].dtype));
    auto it = open.find(key);
    if (it == open.end() || out[it->second].items.size() >= batch) {
      out.emplace_back();
      it = open.insert_or_assign(key, out.size() - 1).first;
    }
    out[it->second].items.push_back(i);
  }
  return out;
}

// Runs job(k) for k < n on hardware_concurrency() threads (each NVRTC program is independent).
template <class Job>
void parallel_for(size_t n, Job job) {
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w)
    threads.emplace_back([&next, n, &job] {
      for (size_t k = next++; k < n; k = next++) job(k);
    });
  for (std::thread& t : threads) t.join();
}

std::string figures(const nvrtc::KernelResources& k) {
  std::ostringstream os;
  os << k.registers << " registers, " << k.spill_stores << " bytes spill stores, " << k.spill_loads
     << " bytes spill loads, " << k.stack_frame << " bytes stack frame";
  if (k.cumulative_stack >= 0) os << ", " << k.cumulative_stack << " bytes cumulative stack";
  os << ", " << std::max(0L, k.shared_static) << " bytes smem";
  return os.str();
}

// What is wrong with one kernel's resources, or empty.
std::string offence(const nvrtc::KernelResources& k, long max_stack = kMaxStackFrame) {
  std::string why;
  auto add = [&why](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  if (k.registers < 0) add("no register count in the report");
  if (k.registers > kMaxRegisters) add("more than " + std::to_string(kMaxRegisters) + " registers");
  if (k.spill_stores != 0 || k.spill_loads != 0) add("spills");
  if (k.stack_frame < 0) add("no stack frame line in the report");
  if (k.stack_frame > max_stack || k.cumulative_stack > max_stack)
    add("stack frame above " + std::to_string(max_stack) + " bytes");
  if (k.shared_static > kMaxStaticShared) add("static shared memory above 48 KiB");
  return why;
}

// ---- the table
// -----------------------------------------------------------------------------------

std::map<std::string, size_t> count_by_family(const std::vector<cuda::Instantiation>& table) {
  std::map<std::string, size_t> n;
  for (const cuda::Instantiation& i : table) ++n[i.family];
  return n;
}

bool contains(const std::vector<cuda::Instantiation>& table, const std::string& name) {
  for (const cuda::Instantiation& i : table)
    if (i.name_expression == name) return true;
  return false;
}

TEST(CudaInstantiations, CountsPerFamily) {
  // Worked by hand from the ops' type rules. Flat widths: 1, 2, 4 for 1- and 4-byte operands,
  // 1, 2 for 8-byte ones; each (types, kind) has its flat widths and one strided kernel, each in
  // two index widths: 8 kernels for float/uint8/bool, 6 for double/int64.
  const auto n = count_by_family(cuda::instantiations());
  EXPECT_EQ(n.at("fill"), 8u * 3 + 6 * 2);  // float uint8 bool; double int64
  // 25 (to, from) pairs: 9 among float/uint8/bool (8 kernels), 16 with an 8-byte side (6).
  EXPECT_EQ(n.at("copy"), 9u * 8 + 16 * 6);
  // 36 kinds on float (8) and double (6); 16 on int64 (6) and uint8 (8); 3 on bool (8).
  EXPECT_EQ(n.at("unary"), 36u * 8 + 36 * 6 + 16 * 6 + 16 * 8 + 3 * 8);
  // 8 kinds on float and double, 7 (no Div) on int64 and uint8, 4 on bool.
  EXPECT_EQ(n.at("binary"), 8u * 8 + 8 * 6 + 7 * 6 + 7 * 8 + 4 * 8);
  EXPECT_EQ(n.at("compare"), 6u * (8 + 6 + 6 + 8 + 8));
  // One comparison type on float and double, two (int64, double) on int64, uint8 and bool.
  EXPECT_EQ(n.at("compare_scalar"), 6u * (8 + 6 + 2 * 6 + 2 * 8 + 2 * 8));
  EXPECT_EQ(n.at("logical"), 3u * 8);
  EXPECT_EQ(n.at("classify"), 3u * (8 + 6 + 6 + 8 + 8));
  EXPECT_EQ(n.at("isclose"), 8u + 6 + 6 + 8 + 8);
  EXPECT_EQ(n.at("where"), 8u + 6 + 6 + 8 + 8);
  EXPECT_EQ(n.at("masked_fill"), 8u + 6 + 6 + 8 + 8);
  // Reductions: one kernel per (types), in two index widths. sum and prod of the 5 types (the
  // result type follows from the input's), all/any of 2 quantifiers x 5 types, max/min and
  // argmax/argmin of 5 types, var, norm, logsumexp and softmax of float and double.
  EXPECT_EQ(n.at("sum"), 5u * 2);
  EXPECT_EQ(n.at("prod"), 5u * 2);
  EXPECT_EQ(n.at("all_any"), 2u * 5 * 2);
  EXPECT_EQ(n.at("extremum"), 5u * 2);
  EXPECT_EQ(n.at("arg_extremum"), 5u * 2);
  for (const char* f : {"var", "norm", "logsumexp", "softmax"}) EXPECT_EQ(n.at(f), 2u * 2) << f;
  // Optimizer steps: float (3 vector widths) and double (2) in two index widths, for each
  // combination of the optional state buffers (sgd: momentum; adam: amsgrad; rmsprop: momentum,
  // centered; adagrad: none).
  EXPECT_EQ(n.at("sgd_step"), 2u * 2 * (3 + 2));
  EXPECT_EQ(n.at("adam_step"), 2u * 2 * (3 + 2));
  EXPECT_EQ(n.at("rmsprop_step"), 4u * 2 * (3 + 2));
  EXPECT_EQ(n.at("adagrad_step"), 1u * 2 * (3 + 2));
  // Random fills: uniform and normal of float and double, bernoulli of the 5 types, in two index
  // widths.
  EXPECT_EQ(n.at("uniform"), 2u * 2);
  EXPECT_EQ(n.at("normal"), 2u * 2);
  EXPECT_EQ(n.at("bernoulli"), 5u * 2);
  // Indexing: gather and scatter_add of the 5 types (strided only), in two index widths.
  EXPECT_EQ(n.at("gather"), 5u * 2);
  EXPECT_EQ(n.at("scatter_add"), 5u * 2);
  // Scans: cumsum and cumprod of float, double and int64; the compaction and sort kernels of the
  // 5 types;
  // in two index widths.
  EXPECT_EQ(n.at("scan"), 2u * 3 * 2);
  for (const char* f : {"chunk_count", "masked_select_chunks", "masked_scatter_chunks",
                        "nonzero_chunks", "sort_rank"})
    EXPECT_EQ(n.at(f), 5u * 2) << f;
  // Layers: one kernel per element type (float, double), 64-bit indices only.
  for (const char* f : cuda::kLayerKernels) EXPECT_EQ(n.at(f), 2u) << f;
  EXPECT_EQ(std::size(cuda::kLayerKernels), 21u);
  EXPECT_EQ(n.size(), 11u + 9 + 4 + 3 + 2 + 6 + 21);
}

TEST(CudaInstantiations, HoldsWhatTheOpsRequestAndNothingElse) {
  const auto& t = cuda::instantiations();
  // What the emulator tests record for contiguous float exp and transposed double neg.
  EXPECT_TRUE(contains(t, "sinew::unary_flat<float, 1, sinew::int32_t, 4>"));
  EXPECT_TRUE(contains(t, "sinew::unary_strided<double, 0, sinew::int32_t>"));
  EXPECT_TRUE(contains(t, "sinew::copy_strided<sinew::uint8_t, double, sinew::int64_t>"));
  EXPECT_TRUE(
      contains(t, "sinew::compare_scalar_flat<sinew::uint8_t, double, 2, sinew::int64_t, 4>"));
  EXPECT_TRUE(contains(t, "sinew::unary_flat<bool, 23, sinew::int32_t, 4>"));  // x * true
  EXPECT_TRUE(contains(t, "sinew::logical_strided<2, sinew::int64_t>"));
  // 32-byte accesses are never planned.
  EXPECT_FALSE(contains(t, "sinew::unary_flat<double, 0, sinew::int32_t, 4>"));
  EXPECT_FALSE(contains(t, "sinew::copy_flat<float, sinew::int64_t, sinew::int32_t, 4>"));
  // Integer division is in float; integer exp is float exp of a converted tensor; no bool neg.
  EXPECT_FALSE(contains(t, "sinew::binary_strided<sinew::int64_t, 3, sinew::int32_t>"));
  EXPECT_FALSE(contains(t, "sinew::unary_strided<sinew::uint8_t, 1, sinew::int32_t>"));
  EXPECT_FALSE(contains(t, "sinew::unary_strided<bool, 0, sinew::int32_t>"));
  // A float tensor is compared with a float scalar only.
  EXPECT_FALSE(contains(t, "sinew::compare_scalar_strided<float, double, 0, sinew::int32_t>"));
}

// Unique name expressions, each an instantiation of a __global__ template that its fragment
// defines: NVRTC's front end finds every lowered name (one syntax-only program per fragment), and
// distinct expressions lower to distinct kernels.
TEST(CudaInstantiations, NameExpressionsAreUniqueAndNameKernelsOfTheirFragment) {
  const auto& table = cuda::instantiations();
  std::set<std::string> names;
  for (const cuda::Instantiation& i : table) {
    EXPECT_TRUE(names.insert(i.name_expression).second) << "twice: " << i.name_expression;
    EXPECT_EQ(i.name_expression.rfind("sinew::" + i.kernel + "<", 0), 0u) << i.name_expression;
    EXPECT_NE(std::string(i.fragment).find("__global__ void " + i.kernel + "("), std::string::npos)
        << i.kernel << " is not a kernel of " << i.program_name;
  }
  std::map<std::string_view, std::vector<size_t>> by_fragment;
  for (size_t k = 0; k < table.size(); ++k) by_fragment[table[k].fragment].push_back(k);
  std::set<std::string> lowered_names;
  for (const auto& entry : by_fragment) {
    const std::vector<size_t>& items = entry.second;
    std::vector<std::string> exprs;
    for (size_t k : items) exprs.push_back(table[k].name_expression);
    const BatchResult r = compile_batch(cuda::program_source(entry.first),
                                        table[items[0]].program_name, exprs, nvrtc::Target::sm(90),
                                        /*syntax_only=*/true);
    ASSERT_TRUE(r.compiled) << r.error;
    for (size_t j = 0; j < exprs.size(); ++j) {
      EXPECT_FALSE(r.lowered[j].empty()) << "no lowered name for " << exprs[j];
      EXPECT_TRUE(lowered_names.insert(r.lowered[j]).second)
          << exprs[j] << " lowers to a kernel already in the table: " << r.lowered[j];
    }
  }
  EXPECT_EQ(lowered_names.size(), table.size());
}

// The same check on expressions that are not kernels of the fragment fails.
TEST(CudaInstantiations, TheNameCheckRejectsWhatIsNotAKernelOfTheFragment) {
  const std::string src = cuda::program_source(cuda::elementwise_source);
  // A kernel of the fragment passes; the same without V, or a name it does not define, fail.
  EXPECT_TRUE(compile_batch(src, "elementwise.cu",
                            {"sinew::unary_flat<float, 1, sinew::int32_t, 4>"},
                            nvrtc::Target::sm(90), true)
                  .compiled);
  EXPECT_FALSE(compile_batch(src, "elementwise.cu", {"sinew::unary_flat<float, 1, sinew::int32_t>"},
                             nvrtc::Target::sm(90), true)
                   .compiled);
  EXPECT_FALSE(compile_batch(src, "elementwise.cu",
                             {"sinew::no_such_kernel<float, sinew::int32_t>"},
                             nvrtc::Target::sm(90), true)
                   .compiled);
}

// ---- compile-all --------------------------------------------------------------------------------

TEST(CudaCompileAll, EveryInstantiationForSm80AndSm90WithinResourceBounds) {
  const auto& table = cuda::instantiations();
  const size_t batch = batch_size();
  const std::vector<Batch> batches = make_batches(table, batch);
  struct Job {
    size_t batch;
    int arch;
  };
  std::vector<Job> jobs;
  for (int arch : kArchs)
    for (size_t b = 0; b < batches.size(); ++b) jobs.push_back({b, arch});
  // Largest programs first, so that the last ones to finish are small.
  std::stable_sort(jobs.begin(), jobs.end(), [&batches](const Job& a, const Job& b) {
    return batches[a.batch].items.size() > batches[b.batch].items.size();
  });

  std::map<std::string_view, std::string> sources;
  for (const cuda::Instantiation& i : table)
    if (!sources.count(i.fragment)) sources[i.fragment] = cuda::program_source(i.fragment);

  std::vector<BatchResult> results(jobs.size());
  const auto t0 = std::chrono::steady_clock::now();
  parallel_for(jobs.size(), [&](size_t k) {
    const Batch& b = batches[jobs[k].batch];
    std::vector<std::string> exprs;
    for (size_t i : b.items) exprs.push_back(table[i].name_expression);
    const cuda::Instantiation& first = table[b.items[0]];
    try {
      results[k] = compile_batch(sources.at(first.fragment), first.program_name, exprs,
                                 nvrtc::Target::sm(jobs[k].arch), /*syntax_only=*/false);
    } catch (const std::exception& e) {
      results[k].error = e.what();
    }
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Every kernel's figures; the offenders listed together.
  std::vector<std::string> problems;
  size_t kernels = 0;
  int max_registers = -1;
  std::string max_registers_at;
  long max_stack = 0;
  double busy = 0;
  std::map<std::string, int> max_registers_by_family;
  std::map<std::string, double> seconds_by_family;
  // SINEW_TEST_COMPILE_ALL_REPORT=<file>: every kernel's figures, one line each.
  const char* report_path = std::getenv("SINEW_TEST_COMPILE_ALL_REPORT");
  FILE* report = report_path != nullptr ? std::fopen(report_path, "w") : nullptr;
  for (size_t k = 0; k < jobs.size(); ++k) {
    const BatchResult& r = results[k];
    const Batch& b = batches[jobs[k].batch];
    const std::string arch = nvrtc::Target::sm(jobs[k].arch).str();
    busy += r.seconds;
    seconds_by_family[table[b.items[0]].family] += r.seconds;
    if (!r.compiled) {
      std::string exprs;
      for (size_t i : b.items) exprs += "\n    " + table[i].name_expression;
      problems.push_back(arch + ": the program of" + exprs + "\n  failed: " + r.error);
      continue;
    }
    if (r.image_bytes == 0) problems.push_back(arch + ": an empty CUBIN");
    for (size_t j = 0; j < b.items.size(); ++j) {
      const cuda::Instantiation& inst = table[b.items[j]];
      if (r.lowered[j].empty()) {
        problems.push_back(inst.name_expression + " (" + arch + "): no lowered name");
        continue;
      }
      const nvrtc::KernelResources* res = nvrtc::find_kernel(r.report, r.lowered[j]);
      if (res == nullptr) {
        problems.push_back(inst.name_expression + " (" + arch + "): not in ptxas' report");
        continue;
      }
      ++kernels;
      if (report != nullptr)
        std::fprintf(report, "%s %s: %s\n", arch.c_str(), inst.name_expression.c_str(),
                     figures(*res).c_str());
      if (res->arch != arch)
        problems.push_back(inst.name_expression + ": compiled for '" + res->arch + "', not " +
                           arch);
      std::string why = offence(*res);
      if (!why.empty())
        problems.push_back(inst.name_expression + " (" + arch + "): " + why + " [" + figures(*res) +
                           "]");
      if (res->registers > max_registers) {
        max_registers = res->registers;
        max_registers_at = inst.name_expression + " (" + arch + ")";
      }
      max_stack = std::max({max_stack, res->stack_frame, res->cumulative_stack});
      int& fam = max_registers_by_family[inst.family];
      fam = std::max(fam, res->registers);
    }
    // Device functions a kernel calls (not inlined) have their own frames and spills.
    for (const nvrtc::KernelResources& f : r.report)
      if (!f.entry && (f.spill_stores > 0 || f.spill_loads > 0 || f.stack_frame > kMaxStackFrame))
        problems.push_back("device function " + f.function + " (" + arch + ", called from " +
                           table[b.items[0]].family + " kernels): " + figures(f));
  }

  std::printf(
      "[compile-all] %zu instantiations x %zu architectures = %zu kernels in %zu NVRTC "
      "programs (at most %zu each) on %u threads: %.1f s (%.1f s of compiling, %.1f ms "
      "a kernel)\n",
      table.size(), std::size(kArchs), kernels, jobs.size(), batch,
      std::max(1u, std::thread::hardware_concurrency()), seconds, busy,
      kernels > 0 ? 1e3 * busy / static_cast<double>(kernels) : 0.0);
  std::printf(
      "[compile-all] max registers %d (bound %d) at %s; max stack frame %ld bytes (bound "
      "%ld)\n",
      max_registers, kMaxRegisters, max_registers_at.c_str(), max_stack, kMaxStackFrame);
  for (const auto& f : count_by_family(table))
    std::printf("[compile-all]   %-15s %4zu instantiations, max %2d registers, %5.1f s compiling\n",
                f.first.c_str(), f.second, max_registers_by_family[f.first],
                seconds_by_family[f.first]);
  std::fflush(stdout);

  EXPECT_EQ(kernels, table.size() * std::size(kArchs));
  std::string all;
  for (const std::string& p : problems) all += "\n  " + p;
  EXPECT_TRUE(problems.empty()) << problems.size()
                                << " kernels outside the bounds (registers <= " << kMaxRegisters
                                << ", no spills, stack frame <= " << kMaxStackFrame
                                << " bytes, static shared memory <= " << kMaxStaticShared
                                << " bytes):" << all;
}

}  // namespace SINEW_UNITY_ID
}  // namespace
