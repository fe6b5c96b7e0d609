R"SINEW_CUDA(
// Sinew's CUDA prelude: what every kernel fragment uses, in CUDA C++ that includes nothing (toolkit
// headers cost NVRTC most of a second per compile): fixed-width types, the strided-offset helper,
// Philox4x32-10 (bitwise the generator of core/philox.hpp), warp and block reductions, small
// traits and math wrappers. The op-kind enums (Unary, Binary, ...) come before this text: the host
// generates them from backend/kinds.hpp (backend/cuda/source.hpp). The emulator build compiles the
// same text as host C++ (SINEW_CUDA_EMULATION), where the types come from <cstdint>.
namespace sinew {

#ifndef SINEW_CUDA_EMULATION
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
#endif

// An unrolled loop (the emulator, a host compiler, defines it empty).
#ifndef SINEW_UNROLL
#define SINEW_UNROLL _Pragma("unroll")
#endif

// Dynamic shared memory as a T*, declared once inside a kernel: SINEW_DYNAMIC_SHARED(float, buf);
// through one byte array (an `extern __shared__ T name[]` per T would conflict between the
// instantiations of a template), aligned for any element type. The emulator defines its own form:
// `extern __shared__` has no host C++ equivalent.
#ifndef SINEW_DYNAMIC_SHARED
#define SINEW_DYNAMIC_SHARED(T, name)                                          \
  extern __shared__ __align__(16) unsigned char sinew_dynamic_shared_bytes[]; \
  T* name = reinterpret_cast<T*>(sinew_dynamic_shared_bytes)
#endif

namespace dev {

// Most dimensions a strided launch takes; backend/cuda/launch_plan.hpp has the same number.
constexpr int kMaxDims = 8;

// The iteration space of a strided launch and each operand's element strides (0 where broadcast),
// outermost dimension first, passed by value. I is the index type: int32_t when every index and
// offset fits, else int64_t. Operand 0 is the output.
template <class I, int N>
struct Strided {
  I ndim;
  I size[kMaxDims];
  I stride[N][kMaxDims];
};

// Element offsets of the linear position i (row-major over size) for every operand.
template <class I, int N>
__host__ __device__ __forceinline__ void strided_offsets(const Strided<I, N>& s, I i, I (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  // Unrolled over every possible dimension, skipping those past ndim: with the run-time bound the
  // descriptor's arrays are indexed dynamically and the compiler copies the whole descriptor to
  // local memory (a 72-144 byte stack frame read for every element).
  SINEW_UNROLL
  for (int d = kMaxDims - 1; d >= 0; --d) {
    if (d >= s.ndim) continue;
    const I q = i / s.size[d];
    const I r = i - q * s.size[d];
    for (int k = 0; k < N; ++k) off[k] += r * s.stride[k][d];
    i = q;
  }
}

// The first index and the step of a 1-D grid-stride loop.
template <class I>
__device__ __forceinline__ I grid_start() {
  return static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
}
template <class I>
__device__ __forceinline__ I grid_step() {
  return static_cast<I>(blockDim.x) * static_cast<I>(gridDim.x);
}

// V consecutive elements moved as one aligned access (a 16-, 8- or 4-byte load or store); the
// host picks V so that every operand's pointer is aligned to it.
template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// ---- traits ----------------------------------------------------------------------------------
template <class A, class B>
struct same_type {
  static constexpr bool value = false;
};
template <class A>
struct same_type<A, A> {
  static constexpr bool value = true;
};
template <class T>
struct is_floating {
  static constexpr bool value = same_type<T, float>::value || same_type<T, double>::value;
};
template <class T>
struct is_signed_int {
  static constexpr bool value = T(-1) < T(0) && !is_floating<T>::value;
};
template <bool B, class A, class C>
struct pick {
  typedef A type;
};
template <class A, class C>
struct pick<false, A, C> {
  typedef C type;
};
// Integer arithmetic in unsigned form, so that overflow wraps (two's complement) as on the CPU.
template <class T>
struct wrap_of {
  typedef typename pick<sizeof(T) == 8, uint64_t, uint32_t>::type type;
};

// ---- math: one name for float and double, the C functions the CPU's std:: overloads call
// (qualified: namespace sinew has tensor ops of the same names) -----------------------------------
__host__ __device__ __forceinline__ float m_exp(float x) { return ::expf(x); }
__host__ __device__ __forceinline__ double m_exp(double x) { return ::exp(x); }
__host__ __device__ __forceinline__ float m_log(float x) { return ::logf(x); }
__host__ __device__ __forceinline__ double m_log(double x) { return ::log(x); }
__host__ __device__ __forceinline__ float m_log1p(float x) { return ::log1pf(x); }
__host__ __device__ __forceinline__ double m_log1p(double x) { return ::log1p(x); }
__host__ __device__ __forceinline__ float m_sqrt(float x) { return ::sqrtf(x); }
__host__ __device__ __forceinline__ double m_sqrt(double x) { return ::sqrt(x); }
__host__ __device__ __forceinline__ float m_abs(float x) { return ::fabsf(x); }
__host__ __device__ __forceinline__ double m_abs(double x) { return ::fabs(x); }
__host__ __device__ __forceinline__ float m_sin(float x) { return ::sinf(x); }
__host__ __device__ __forceinline__ double m_sin(double x) { return ::sin(x); }
__host__ __device__ __forceinline__ float m_cos(float x) { return ::cosf(x); }
__host__ __device__ __forceinline__ double m_cos(double x) { return ::cos(x); }
__host__ __device__ __forceinline__ float m_tanh(float x) { return ::tanhf(x); }
__host__ __device__ __forceinline__ double m_tanh(double x) { return ::tanh(x); }
__host__ __device__ __forceinline__ float m_erf(float x) { return ::erff(x); }
__host__ __device__ __forceinline__ double m_erf(double x) { return ::erf(x); }
__host__ __device__ __forceinline__ float m_pow(float x, float y) { return ::powf(x, y); }
__host__ __device__ __forceinline__ double m_pow(double x, double y) { return ::pow(x, y); }
__host__ __device__ __forceinline__ float m_floor(float x) { return ::floorf(x); }
__host__ __device__ __forceinline__ double m_floor(double x) { return ::floor(x); }
__host__ __device__ __forceinline__ float m_ceil(float x) { return ::ceilf(x); }
__host__ __device__ __forceinline__ double m_ceil(double x) { return ::ceil(x); }
__host__ __device__ __forceinline__ float m_trunc(float x) { return ::truncf(x); }
__host__ __device__ __forceinline__ double m_trunc(double x) { return ::trunc(x); }
// Half to even (the default rounding mode), as torch.round.
__host__ __device__ __forceinline__ float m_round_even(float x) { return ::nearbyintf(x); }
__host__ __device__ __forceinline__ double m_round_even(double x) { return ::nearbyint(x); }
// The largest finite value: |x| above it is an infinity (NaN compares false either way).
__host__ __device__ __forceinline__ float max_finite(float) { return 3.40282346638528859812e+38f; }
__host__ __device__ __forceinline__ double max_finite(double) { return 1.79769313486231570815e+308; }

// ---- Philox4x32-10 (Salmon et al., SC 2011), as core/philox.hpp ------------------------------
struct PhiloxWords {
  uint32_t v[4];
};

// One block: counter (c0 lowest word), key (k0, k1).
__host__ __device__ __forceinline__ PhiloxWords philox4x32_10(PhiloxWords c, uint32_t k0,
                                                               uint32_t k1) {
  const uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  const uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
  uint32_t c0 = c.v[0], c1 = c.v[1], c2 = c.v[2], c3 = c.v[3];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(m0) * c0, p1 = static_cast<uint64_t>(m1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += w0;
    k1 += w1;
  }
  PhiloxWords r = {{c0, c1, c2, c3}};
  return r;
}

// Block `index` of the stream of `seed`: counter (index low, index high, 0, 0), key = seed.
__host__ __device__ __forceinline__ PhiloxWords philox_block(uint64_t seed, uint64_t index) {
  PhiloxWords c = {{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0u, 0u}};
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform in [0, 1) with 53 random bits from two words (hi supplies the top 32).
__host__ __device__ __forceinline__ double philox_uniform(uint32_t hi, uint32_t lo) {
  return static_cast<double>(((static_cast<uint64_t>(hi) << 32) | lo) >> 11) * 0x1.0p-53;
}

// Element i of a fill whose stream starts at `block` (core/random.hpp's RandomStream): Philox
// block (block + i / 2), words 0-1 for even i and 2-3 for odd i.
__host__ __device__ __forceinline__ double philox_stream_uniform(uint64_t seed, uint64_t block,
                                                                 uint64_t i) {
  const PhiloxWords b = philox_block(seed, block + i / 2);
  const int h = static_cast<int>(i & 1) * 2;
  return philox_uniform(b.v[h], b.v[h + 1]);
}

// ---- reductions ------------------------------------------------------------------------------
struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};
struct MaxOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a < b ? b : a;
  }
};
struct MinOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return b < a ? b : a;
  }
};

// Reduces v over the 32 lanes of a full warp; lane 0 holds the result (tree order: lane l adds
// lane l + 16, then l + 8, ...).
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, offset));
  return v;
}

// Reduces v over the block (blockDim.x a multiple of 32, at most 1024); thread 0 returns the
// result, other threads an unspecified value. `scratch` is shared memory of 32 elements; the
// block may call it again right after (it ends with a barrier).
template <class T, class Op>
__device__ __forceinline__ T block_reduce(T v, Op op, T identity, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  v = warp_reduce(v, op);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? scratch[lane] : identity;
    v = warp_reduce(v, op);
  }
  __syncthreads();
  return v;
}

// ---- data checks: what a kernel reports instead of failing at once ------------------------------
// A kernel that reads an index (gather, index_select, embedding, ...) checks it itself: with no
// host round trip before the launch, a bad index is found on the device. The first failing thread
// of any launch since the last synchronization claims the device's check record (pinned host
// memory, seen by kernels at the same address) with its launch's tag and writes what it found;
// the host raises it as a sinew::Error at the next synchronization (backend/cuda/checks.hpp, whose
// CheckRecord has this layout). The offending element is skipped, never read out of bounds.
struct CheckRecord {
  unsigned long long tag;  // 0: nothing failed; else the failing launch's tag
  long long value;         // the offending value (an index)
  long long bound;         // its bound (the size of the indexed dimension)
  long long position;      // its position (the element of the index operand)
};

__device__ __forceinline__ void report_out_of_range(CheckRecord* record, unsigned long long tag,
                                                    long long value, long long bound,
                                                    long long position) {
  if (atomicCAS(&record->tag, 0ull, tag) == 0ull) {
    record->value = value;
    record->bound = bound;
    record->position = position;
  }
}

// The index v if it lies in [0, bound) (the CPU's rule: no negative indices); -1 after reporting
// it otherwise.
__device__ __forceinline__ long long checked_index(long long v, long long bound,
                                                   long long position, CheckRecord* record,
                                                   unsigned long long tag) {
  if (v >= 0 && v < bound) return v;
  report_out_of_range(record, tag, v, bound, position);
  return -1;
}

}  // namespace dev
}  // namespace sinew
)SINEW_CUDA"
