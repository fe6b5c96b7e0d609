// NVRTC: CUDA C++ source to a CUBIN (or PTX) at run time, one program per kernel instantiation.
//
//   compile(source, "sinew::unary<float, 11, true>", Target::sm(90))
//       -> CompileResult{image, lowered_name, log}
//
// Every kernel is a template and the host asks for one instantiation by its name expression; NVRTC
// compiles only what is asked for and reports the instantiation's mangled ("lowered") name, under
// which the loaded image is looked up. NVRTC needs no GPU and no driver. Every nvrtcResult that is
// not NVRTC_SUCCESS becomes a sinew::Error; a failed compile names the program, the name
// expression, the target, the options and NVRTC's log.
//
// With kPtxasVerbose among the options (CUBIN targets only) the log holds ptxas' resource report,
// which parse_ptxas_report() reads: registers, spills, stack, shared and constant memory per
// kernel.
#pragma once

#include <nvrtc.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sinew/core/error.hpp"

namespace sinew::backend::cuda::nvrtc {

// ---- errors and version ------------------------------------------------------------------------

[[noreturn, gnu::cold, gnu::noinline]] inline void fail_nvrtc(nvrtcResult r, const char* call) {
  ::sinew::detail::fail("nvrtc", call, ": ", nvrtcGetErrorString(r), " (", static_cast<int>(r),
                        ")");
}

inline void check(nvrtcResult r, const char* call) {
  if (r != NVRTC_SUCCESS) [[unlikely]]
    fail_nvrtc(r, call);
}

struct Version {
  int major = 0;
  int minor = 0;
  // "13.0"
  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// The version of the NVRTC library loaded (asked once).
inline Version version() {
  static const Version v = [] {
    Version r;
    check(nvrtcVersion(&r.major, &r.minor), "nvrtcVersion");
    return r;
  }();
  return v;
}

// The compute capabilities this NVRTC compiles for (e.g. 75 80 86 ... 120), ascending.
inline const std::vector<int>& supported_archs() {
  static const std::vector<int> archs = [] {
    int n = 0;
    check(nvrtcGetNumSupportedArchs(&n), "nvrtcGetNumSupportedArchs");
    std::vector<int> a(static_cast<size_t>(n));
    if (n > 0) check(nvrtcGetSupportedArchs(a.data()), "nvrtcGetSupportedArchs");
    return a;
  }();
  return archs;
}

// ---- targets and options -----------------------------------------------------------------------

// What to compile for: a CUBIN for one compute capability (sm_XY), or PTX for a virtual
// architecture (compute_XY), which the driver compiles for a device newer than any NVRTC knows.
struct Target {
  int arch = 0;  // major * 10 + minor
  bool ptx = false;

  static Target sm(int arch) { return {arch, false}; }
  static Target compute(int arch) { return {arch, true}; }

  // "sm_90" or "compute_90"
  std::string str() const { return (ptx ? "compute_" : "sm_") + std::to_string(arch); }
  bool operator==(const Target&) const = default;
};

// What a device of compute capability cc gets: its own CUBIN where NVRTC knows it, else PTX for the
// newest architecture NVRTC knows.
inline Target target_for(int cc) {
  const std::vector<int>& archs = supported_archs();
  for (int a : archs)
    if (a == cc) return Target::sm(cc);
  SINEW_CHECK(!archs.empty() && cc > archs.back(), "nvrtc::target_for", "compute capability ", cc,
              " is older than every architecture this NVRTC (", version().str(), ") compiles for");
  return Target::compute(archs.back());
}

// Asks ptxas for its resource report (in the log; CUBIN targets only).
inline constexpr const char* kPtxasVerbose = "-Xptxas=-v";

// Sinew's options (besides -arch, which compile() adds from the target): C++17; --minimal leaves
// out the runtime's device-side declarations (textures, device-side launches), which Sinew's
// kernels do not use and which cost compile time; every function is a device function unless
// declared otherwise; assertions off. No fast math: results should match the CPU backend's.
// SINEW_CUDA_DEBUG=1 adds -lineinfo (source lines for compute-sanitizer and profilers).
inline std::vector<std::string> default_options() {
  std::vector<std::string> o = {"-std=c++17", "--minimal", "-default-device", "-DNDEBUG"};
  const char* debug = std::getenv("SINEW_CUDA_DEBUG");
  if (debug != nullptr && std::string_view(debug) == "1") o.emplace_back("-lineinfo");
  return o;
}

inline std::string join_options(const std::vector<std::string>& options) {
  std::string s;
  for (const std::string& o : options) {
    if (!s.empty()) s += ' ';
    s += o;
  }
  return s;
}

// ---- compile -----------------------------------------------------------------------------------

struct CompileResult {
  Target target;
  std::string image;         // CUBIN bytes, or PTX text (with its terminating NUL)
  std::string lowered_name;  // the mangled name of the instantiation
  std::string log;           // NVRTC's log (warnings; ptxas' report with kPtxasVerbose)
};

namespace detail_nvrtc {

// Owns an nvrtcProgram; destroys it on every path out of compile().
class Program {
 public:
  Program(const std::string& source, const char* name) {
    check(nvrtcCreateProgram(&prog_, source.c_str(), name, 0, nullptr, nullptr),
          "nvrtcCreateProgram");
  }
  ~Program() {
    if (prog_ != nullptr) (void)nvrtcDestroyProgram(&prog_);
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  nvrtcProgram get() const { return prog_; }

  std::string log() const {
    size_t n = 0;
    if (nvrtcGetProgramLogSize(prog_, &n) != NVRTC_SUCCESS || n == 0) return {};
    std::string s(n, '\0');
    if (nvrtcGetProgramLog(prog_, s.data()) != NVRTC_SUCCESS) return {};
    while (!s.empty() && (s.back() == '\0' || s.back() == '\n')) s.pop_back();
    return s;
  }

 private:
  nvrtcProgram prog_ = nullptr;
};

}  // namespace detail_nvrtc

// Compiles the instantiation `name_expression` (e.g. "sinew::unary<float, 11, true>") of a
// template kernel in `source` for `target`, with `options` (default_options() unless given) after
// -arch. `program_name` names the program in NVRTC's diagnostics and in errors (the kernel family's
// file, e.g. "elementwise.cu").
inline CompileResult compile(std::string_view source, std::string_view name_expression,
                             const Target& target,
                             const std::vector<std::string>& options = default_options(),
                             const char* program_name = "sinew_kernel.cu") {
  const std::string src(source);
  const std::string expr(name_expression);
  detail_nvrtc::Program prog(src, program_name);
  check(nvrtcAddNameExpression(prog.get(), expr.c_str()), "nvrtcAddNameExpression");

  std::vector<std::string> all;
  all.reserve(options.size() + 1);
  all.push_back("-arch=" + target.str());
  all.insert(all.end(), options.begin(), options.end());
  std::vector<const char*> argv;
  argv.reserve(all.size());
  for (const std::string& o : all) argv.push_back(o.c_str());

  const nvrtcResult r = nvrtcCompileProgram(prog.get(), static_cast<int>(argv.size()), argv.data());
  CompileResult out;
  out.target = target;
  out.log = prog.log();
  if (r != NVRTC_SUCCESS)
    ::sinew::detail::fail("nvrtc::compile", "compiling ", program_name, " for `", expr, "` (",
                          target.str(), ") failed: ", nvrtcGetErrorString(r),
                          "\noptions: ", join_options(all), "\nlog:\n", out.log);

  const char* lowered = nullptr;
  const nvrtcResult lr = nvrtcGetLoweredName(prog.get(), expr.c_str(), &lowered);
  if (lr != NVRTC_SUCCESS || lowered == nullptr)
    ::sinew::detail::fail(
        "nvrtc::compile", "no lowered name for `", expr, "` in ", program_name,
        " (is it an instantiation of a __global__ template?): ", nvrtcGetErrorString(lr));
  out.lowered_name = lowered;

  size_t n = 0;
  if (target.ptx) {
    check(nvrtcGetPTXSize(prog.get(), &n), "nvrtcGetPTXSize");
    out.image.resize(n);
    check(nvrtcGetPTX(prog.get(), out.image.data()), "nvrtcGetPTX");
  } else {
    check(nvrtcGetCUBINSize(prog.get(), &n), "nvrtcGetCUBINSize");
    out.image.resize(n);
    check(nvrtcGetCUBIN(prog.get(), out.image.data()), "nvrtcGetCUBIN");
  }
  SINEW_CHECK(!out.image.empty(), "nvrtc::compile", "NVRTC produced an empty ",
              target.ptx ? "PTX" : "CUBIN", " for `", expr, "` (", target.str(), ")");
  return out;
}

// ---- ptxas' resource report --------------------------------------------------------------------

// One function's line of ptxas' report. -1: the report did not say.
struct KernelResources {
  std::string function;  // mangled name
  std::string arch;      // "sm_90" (entry functions)
  bool entry = false;    // a __global__ function (device functions appear with their stack only)
  int registers = -1;
  int barriers = -1;
  long stack_frame = -1;  // bytes per thread
  long spill_stores = -1;
  long spill_loads = -1;
  long cumulative_stack = -1;
  long shared_static = -1;  // bytes of static shared memory ("smem")
  long constant0 = -1;      // bytes of cmem[0] (kernel parameters and the like)
};

namespace detail_nvrtc {

// The number just before `suffix` in line ("800 bytes stack frame" with " bytes stack frame"), or
// -1.
inline long number_before(std::string_view line, std::string_view suffix) {
  const size_t at = line.find(suffix);
  if (at == std::string_view::npos) return -1;
  size_t begin = at;
  while (begin > 0 && line[begin - 1] >= '0' && line[begin - 1] <= '9') --begin;
  if (begin == at) return -1;
  return std::stol(std::string(line.substr(begin, at - begin)));
}

// The number just after `prefix` in line ("Used 32 registers" with "Used "), or -1.
inline long number_after(std::string_view line, std::string_view prefix) {
  const size_t at = line.find(prefix);
  if (at == std::string_view::npos) return -1;
  size_t end = at + prefix.size();
  const size_t begin = end;
  while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
  if (end == begin) return -1;
  return std::stol(std::string(line.substr(begin, end - begin)));
}

// The text between the first pair of single quotes after `prefix`, or empty.
inline std::string_view quoted_after(std::string_view line, std::string_view prefix,
                                     size_t* end_out = nullptr) {
  const size_t at = line.find(prefix);
  if (at == std::string_view::npos) return {};
  const size_t open = line.find('\'', at + prefix.size());
  if (open == std::string_view::npos) return {};
  const size_t close = line.find('\'', open + 1);
  if (close == std::string_view::npos) return {};
  if (end_out != nullptr) *end_out = close + 1;
  return line.substr(open + 1, close - open - 1);
}

}  // namespace detail_nvrtc

// Reads ptxas' -v report from an NVRTC log:
//   ptxas info    : Compiling entry function '_ZN5sinew3fooIfLi3EEEvPT_i' for 'sm_90'
//   ptxas info    : Function properties for _ZN5sinew3fooIfLi3EEEvPT_i
//   ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//   ptxas info    : Used 8 registers, used 1 barriers, 1024 bytes smem, 368 bytes cmem[0]
inline std::vector<KernelResources> parse_ptxas_report(std::string_view log) {
  std::vector<KernelResources> out;
  auto find = [&out](std::string_view name) -> KernelResources& {
    for (KernelResources& k : out)
      if (k.function == name) return k;
    out.emplace_back();
    out.back().function = std::string(name);
    return out.back();
  };
  // Indices into out (find() may grow it): the entry function being compiled (its "Used" line), and
  // the function whose properties follow (its stack and spill line).
  long entry = -1;
  long properties = -1;
  size_t pos = 0;
  while (pos <= log.size()) {
    size_t eol = log.find('\n', pos);
    if (eol == std::string_view::npos) eol = log.size();
    const std::string_view line = log.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.find("ptxas") == std::string_view::npos) continue;

    size_t end = 0;
    const std::string_view entry_name =
        detail_nvrtc::quoted_after(line, "Compiling entry function", &end);
    if (!entry_name.empty()) {
      KernelResources& k = find(entry_name);
      k.entry = true;
      k.arch = std::string(detail_nvrtc::quoted_after(line.substr(end), "for"));
      entry = &k - out.data();
      continue;
    }
    const size_t props = line.find("Function properties for ");
    if (props != std::string_view::npos) {
      std::string_view name =
          line.substr(props + std::string_view("Function properties for ").size());
      while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.remove_suffix(1);
      properties = &find(name) - out.data();
      continue;
    }
    if (line.find("bytes stack frame") != std::string_view::npos && properties >= 0) {
      KernelResources& k = out[static_cast<size_t>(properties)];
      k.stack_frame = detail_nvrtc::number_before(line, " bytes stack frame");
      k.spill_stores = detail_nvrtc::number_before(line, " bytes spill stores");
      k.spill_loads = detail_nvrtc::number_before(line, " bytes spill loads");
      continue;
    }
    const long regs = detail_nvrtc::number_after(line, "Used ");
    if (regs >= 0 && line.find(" registers") != std::string_view::npos && entry >= 0) {
      KernelResources& k = out[static_cast<size_t>(entry)];
      k.registers = static_cast<int>(regs);
      k.barriers = static_cast<int>(detail_nvrtc::number_after(line, "used "));
      k.cumulative_stack = detail_nvrtc::number_before(line, " bytes cumulative stack size");
      k.shared_static = detail_nvrtc::number_before(line, " bytes smem");
      k.constant0 = detail_nvrtc::number_before(line, " bytes cmem[0]");
    }
  }
  return out;
}

// The entry function called lowered_name in the report, or nullptr.
inline const KernelResources* find_kernel(const std::vector<KernelResources>& report,
                                          std::string_view lowered_name) {
  for (const KernelResources& k : report)
    if (k.entry && k.function == lowered_name) return &k;
  return nullptr;
}
// The result points into the report, so a temporary report would leave it dangling.
const KernelResources* find_kernel(std::vector<KernelResources>&&, std::string_view) = delete;

}  // namespace sinew::backend::cuda::nvrtc
