// A CUDA emulator for Sinew's kernel sources compiled as host C++ (tests only). Blocks run one
// after another on the calling thread; the threads of a block are ucontext fibers, switched only
// where CUDA threads must meet: __syncthreads (every thread of the block arrives before any goes
// on) and warp operations (__shfl_*_sync, __syncwarp, __ballot_sync: every lane of the mask
// arrives, then all values are exchanged at once). Threads are resumed in forward or reversed
// order (set_order), so a kernel that misses a barrier computes different results in the two.
// Misuse that hangs or is undefined on a GPU fails the launch with sim::Fault naming it: a warp
// operation whose mask names a missing or diverged lane, a barrier some thread left by exiting,
// lanes of one mask at different operations. Atomics are plain read-modify-writes (one host
// thread, no switch inside them). Works under AddressSanitizer (fiber switches are announced).
#pragma once

#include <sys/mman.h>
#include <ucontext.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define SINEW_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SINEW_SIM_ASAN 1
#endif
#endif
#ifdef SINEW_SIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

// ---- the CUDA C++ vocabulary as host C++
// ----------------------------------------------------------
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

#define SINEW_CUDA_EMULATION 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) alignas(n)
#define SINEW_UNROLL
#define SINEW_DYNAMIC_SHARED(T, name) \
  T* name = reinterpret_cast<T*>(::sinew::sim::detail::dynamic_shared())
#define threadIdx (::sinew::sim::detail::g_block->current->tid)
#define blockIdx (::sinew::sim::detail::g_block->block_idx)
#define blockDim (::sinew::sim::detail::g_block->block_dim)
#define gridDim (::sinew::sim::detail::g_block->grid_dim)
constexpr int warpSize = 32;

namespace sinew::sim {

// A launch that a GPU would hang on or compute undefined results for.
struct Fault : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Order { Forward, Reverse };

namespace detail {

enum class State { Ready, Barrier, Warp, Done };
enum class WarpOp { Down, Up, Xor, Idx, Sync, Ballot };

inline const char* warp_op_name(WarpOp op) {
  static const char* names[] = {"__shfl_down_sync", "__shfl_up_sync", "__shfl_xor_sync",
                                "__shfl_sync",      "__syncwarp",     "__ballot_sync"};
  return names[static_cast<int>(op)];
}

struct Fiber {
  ucontext_t ctx;
  char* stack = nullptr;
  size_t stack_size = 0;
  uint3 tid;
  State state = State::Ready;
  // The pending warp operation.
  WarpOp op = WarpOp::Sync;
  unsigned mask = 0;
  int param = 0, width = 32;
  uint64_t value = 0, result = 0;
  void* fake_stack = nullptr;
};

struct Block {
  std::vector<Fiber>* fibers = nullptr;
  Fiber* current = nullptr;
  ucontext_t scheduler;
  uint3 block_idx;
  dim3 block_dim, grid_dim;
  unsigned char* shared = nullptr;
  void (*body)(void*) = nullptr;
  void* body_ctx = nullptr;
  std::string fault;  // set by a fiber that found misuse; the scheduler throws it
  const void* scheduler_stack = nullptr;
  size_t scheduler_stack_size = 0;
};

inline thread_local Block* g_block = nullptr;
inline thread_local Order g_order = Order::Forward;

inline unsigned char* dynamic_shared() { return g_block->shared; }

// Stacks are kept between launches (mmap with a guard page below each, so an overflow faults).
#ifdef SINEW_SIM_ASAN
constexpr size_t kStackSize = size_t{256} << 10;
#else
constexpr size_t kStackSize = size_t{64} << 10;
#endif
constexpr size_t kGuard = 4096;

struct StackPool {
  std::vector<char*> stacks;
  char* get(size_t i) {
    while (stacks.size() <= i) {
      void* p = mmap(nullptr, kStackSize + kGuard, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) throw Fault("sim: cannot map a fiber stack");
      mprotect(p, kGuard, PROT_NONE);
      stacks.push_back(static_cast<char*>(p) + kGuard);
    }
    return stacks[i];
  }
  ~StackPool() {
    for (char* s : stacks) munmap(s - kGuard, kStackSize + kGuard);
  }
};
inline thread_local StackPool g_stacks;

// Switches from the running fiber back to the scheduler; `exiting` when it never resumes.
inline void to_scheduler(Fiber& f, bool exiting) {
  Block& b = *g_block;
#ifdef SINEW_SIM_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &f.fake_stack, b.scheduler_stack,
                                 b.scheduler_stack_size);
#endif
  swapcontext(&f.ctx, &b.scheduler);
#ifdef SINEW_SIM_ASAN
  __sanitizer_finish_switch_fiber(f.fake_stack, nullptr, nullptr);
#endif
  (void)exiting;
}

inline void fiber_main() {
  Block& b = *g_block;
  Fiber& f = *b.current;
#ifdef SINEW_SIM_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &b.scheduler_stack, &b.scheduler_stack_size);
#endif
  b.body(b.body_ctx);
  f.state = State::Done;
  to_scheduler(f, true);
}

// Misuse found inside a fiber: the fiber stops here and the launch fails with `what`.
[[noreturn]] inline void fail_in_fiber(const std::string& what) {
  Fiber& f = *g_block->current;
  if (g_block->fault.empty()) g_block->fault = what;
  f.state = State::Done;
  to_scheduler(f, true);
  __builtin_unreachable();
}

inline void resume(Block& b, Fiber& f) {
  b.current = &f;
#ifdef SINEW_SIM_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, f.stack, f.stack_size);
#endif
  swapcontext(&b.scheduler, &f.ctx);
#ifdef SINEW_SIM_ASAN
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
  b.current = nullptr;
}

inline std::string lane_text(const Block& b, size_t t) {
  std::ostringstream os;
  os << "thread " << t << " (warp " << t / 32 << ", lane " << t % 32 << ") of block ("
     << b.block_idx.x << ", " << b.block_idx.y << ", " << b.block_idx.z << ")";
  return os.str();
}

inline const char* state_text(State s) {
  switch (s) {
    case State::Ready:
      return "running";
    case State::Barrier:
      return "waiting at __syncthreads";
    case State::Warp:
      return "waiting at a warp operation";
    case State::Done:
      return "exited";
  }
  return "?";
}

// Completes the warp operations whose lanes have all arrived; false when none could. Throws on
// a mask that names a missing lane or one elsewhere, or lanes of one mask that disagree.
inline bool complete_warp_ops(Block& b) {
  std::vector<Fiber>& fs = *b.fibers;
  const size_t n = fs.size();
  bool progress = false;
  for (size_t w0 = 0; w0 < n; w0 += 32) {
    const size_t lanes = std::min<size_t>(32, n - w0);
    for (size_t l = 0; l < lanes; ++l) {
      Fiber& lead = fs[w0 + l];
      if (lead.state != State::Warp) continue;
      const unsigned m = lead.mask;
      std::ostringstream why;
      const std::string where = lane_text(b, w0 + l);
      if (!((m >> l) & 1u))
        why << where << " calls " << warp_op_name(lead.op) << " with mask 0x" << std::hex << m
            << ", which leaves out its own lane";
      if (lanes < 32 && (m >> lanes) != 0u)
        why << where << " calls " << warp_op_name(lead.op) << " with mask 0x" << std::hex << m
            << ", but its warp has only " << std::dec << lanes << " threads";
      bool all_here = true;
      for (size_t k = 0; k < lanes && why.str().empty(); ++k) {
        if (!((m >> k) & 1u)) continue;
        const Fiber& o = fs[w0 + k];
        if (o.state == State::Warp) {
          if (o.mask != m || o.op != lead.op || o.width != lead.width)
            why << where << " is at " << warp_op_name(lead.op) << " (mask 0x" << std::hex << m
                << std::dec << ") while " << lane_text(b, w0 + k) << " is at " << warp_op_name(o.op)
                << " (mask 0x" << std::hex << o.mask << ")";
        } else if (o.state == State::Ready) {
          all_here = false;
        } else {
          why << where << " waits in " << warp_op_name(lead.op) << " (mask 0x" << std::hex << m
              << std::dec << ") for " << lane_text(b, w0 + k) << ", which has "
              << (o.state == State::Done ? "exited" : "gone to __syncthreads")
              << " (divergent warp operation)";
        }
      }
      if (!why.str().empty()) throw Fault(why.str());
      if (!all_here) continue;
      const int width = lead.width;
      if (width <= 0 || width > 32 || (width & (width - 1)) != 0)
        throw Fault(where + ": " + warp_op_name(lead.op) + " width " + std::to_string(width) +
                    " is not a power of two up to 32");
      uint64_t ballot = 0;
      for (size_t k = 0; k < lanes; ++k)
        if (((m >> k) & 1u) && fs[w0 + k].value != 0) ballot |= uint64_t{1} << k;
      for (size_t k = 0; k < lanes; ++k) {
        if (!((m >> k) & 1u)) continue;
        Fiber& f = fs[w0 + k];
        const int lane = static_cast<int>(k), seg = lane / width * width, p = f.param;
        int src = lane;
        switch (f.op) {
          case WarpOp::Down:
            src = lane % width + p < width ? lane + p : lane;
            break;
          case WarpOp::Up:
            src = lane % width >= p ? lane - p : lane;
            break;
          case WarpOp::Xor:
            src = (lane ^ p) < seg + width ? lane ^ p : lane;
            break;
          case WarpOp::Idx:
            src = seg + ((p % width) + width) % width;
            break;
          case WarpOp::Sync:
          case WarpOp::Ballot:
            break;
        }
        if (src < 0 || src >= 32 || !((m >> src) & 1u))
          throw Fault(lane_text(b, w0 + k) + " reads lane " + std::to_string(src) + " in " +
                      warp_op_name(f.op) + ", which is not in its mask");
        f.result = f.op == WarpOp::Ballot ? ballot : fs[w0 + static_cast<size_t>(src)].value;
      }
      for (size_t k = 0; k < lanes; ++k)
        if ((m >> k) & 1u) fs[w0 + k].state = State::Ready;
      progress = true;
    }
  }
  return progress;
}

// Sets the fiber to run the kernel from its start. Out of line: getcontext returns twice, and
// the caller's locals would count as clobbered (-Wclobbered).
[[gnu::noinline]] inline void start_fiber(Fiber& f) {
  f.state = State::Ready;
  getcontext(&f.ctx);
  f.ctx.uc_stack.ss_sp = f.stack;
  f.ctx.uc_stack.ss_size = f.stack_size;
  f.ctx.uc_link = nullptr;
  makecontext(&f.ctx, fiber_main, 0);
}

// Runs one block to completion in the current order.
inline void run_block(Block& b) {
  std::vector<Fiber>& fs = *b.fibers;
  const size_t n = fs.size();
  for (Fiber& f : fs) start_fiber(f);
  for (;;) {
    bool ran = false;
    for (size_t i = 0; i < n; ++i) {
      Fiber& f = fs[g_order == Order::Forward ? i : n - 1 - i];
      if (f.state != State::Ready) continue;
      resume(b, f);
      ran = true;
      if (!b.fault.empty()) throw Fault(b.fault);
    }
    if (ran) continue;
    if (complete_warp_ops(b)) continue;
    size_t done = 0, barrier = 0, warp = 0;
    for (const Fiber& f : fs) {
      done += f.state == State::Done;
      barrier += f.state == State::Barrier;
      warp += f.state == State::Warp;
    }
    if (done == n) return;
    if (warp == 0 && done == 0) {  // every thread at the barrier: release it
      for (Fiber& f : fs) f.state = State::Ready;
      continue;
    }
    std::ostringstream os;
    os << "block (" << b.block_idx.x << ", " << b.block_idx.y << ", " << b.block_idx.z
       << ") cannot go on: " << done << " threads exited, " << barrier << " wait at __syncthreads, "
       << warp << " at warp operations";
    for (size_t t = 0; t < n; ++t)
      if (fs[t].state == State::Done && barrier > 0) {
        os << "; " << lane_text(b, t) << " exited before a __syncthreads the others reached";
        break;
      }
    throw Fault(os.str());
  }
}

inline void run_grid(dim3 grid, dim3 block, size_t shared_bytes, void (*body)(void*), void* ctx) {
  if (g_block != nullptr) throw Fault("sim::launch: a kernel cannot launch another");
  const size_t threads = size_t{block.x} * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64)
    throw Fault("sim::launch: block (" + std::to_string(block.x) + ", " + std::to_string(block.y) +
                ", " + std::to_string(block.z) + ") is not a valid CUDA block shape");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535)
    throw Fault("sim::launch: grid (" + std::to_string(grid.x) + ", " + std::to_string(grid.y) +
                ", " + std::to_string(grid.z) + ") is not a valid CUDA grid shape");
  std::vector<Fiber> fibers(threads);
  for (size_t t = 0; t < threads; ++t) {
    fibers[t].stack = g_stacks.get(t);
    fibers[t].stack_size = kStackSize;
    fibers[t].tid = {static_cast<unsigned>(t % block.x),
                     static_cast<unsigned>(t / block.x % block.y),
                     static_cast<unsigned>(t / (size_t{block.x} * block.y))};
  }
  // Dynamic shared memory: exactly shared_bytes (so that AddressSanitizer sees an overrun),
  // filled with 0xff each block (NaN as float or double), as a GPU leaves it undefined.
  std::unique_ptr<unsigned char[]> shared(shared_bytes ? new unsigned char[shared_bytes] : nullptr);
  Block b;
  b.fibers = &fibers;
  b.block_dim = block;
  b.grid_dim = grid;
  b.shared = shared.get();
  b.body = body;
  b.body_ctx = ctx;
  g_block = &b;
  try {
    for (unsigned z = 0; z < grid.z; ++z)
      for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x) {
          b.block_idx = {x, y, z};
          if (shared_bytes) std::memset(shared.get(), 0xff, shared_bytes);
          run_block(b);
        }
  } catch (...) {
    g_block = nullptr;
#ifdef SINEW_SIM_ASAN
    // The abandoned fibers' frames leave their stack poisoned; the next launch reuses it.
    for (const Fiber& f : fibers) ASAN_UNPOISON_MEMORY_REGION(f.stack, f.stack_size);
#endif
    throw;
  }
  g_block = nullptr;
}

// The calling fiber waits at a warp operation and returns the value the exchange gave it.
inline uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int param, int width) {
  if (g_block == nullptr) throw Fault(std::string(warp_op_name(op)) + " outside a kernel");
  Fiber& f = *g_block->current;
  f.op = op;
  f.mask = mask;
  f.value = value;
  f.param = param;
  f.width = width;
  f.state = State::Warp;
  to_scheduler(f, false);
  return f.result;
}

template <class T>
T shuffle(WarpOp op, unsigned mask, T v, int param, int width) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move up to 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_exchange(op, mask, bits, param, width);
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

}  // namespace detail

// The order in which a block's threads are resumed after every barrier and warp operation.
inline void set_order(Order order) { detail::g_order = order; }
inline Order order() { return detail::g_order; }

// kernel<<<grid, block, shared_bytes>>>(args...): the arguments are converted to the kernel's
// parameter types once and every thread receives its own copies, as on a GPU.
template <class... P, class... A>
void launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t shared_bytes, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "sim::launch: wrong number of kernel arguments");
  std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
  struct Ctx {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...>* params;
  } ctx{kernel, &params};
  detail::run_grid(
      grid, block, shared_bytes,
      [](void* c) {
        auto* x = static_cast<Ctx*>(c);
        std::apply(x->kernel, *x->params);
      },
      &ctx);
}

}  // namespace sinew::sim

// ---- device functions -----------------------------------------------------------------------
inline void __syncthreads() {
  using namespace sinew::sim::detail;
  if (g_block == nullptr) throw sinew::sim::Fault("__syncthreads outside a kernel");
  Fiber& f = *g_block->current;
  f.state = State::Barrier;
  to_scheduler(f, false);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  sinew::sim::detail::warp_exchange(sinew::sim::detail::WarpOp::Sync, mask, 0, 0, 32);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return static_cast<unsigned>(sinew::sim::detail::warp_exchange(sinew::sim::detail::WarpOp::Ballot,
                                                                 mask, predicate != 0, 0, 32));
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return sinew::sim::detail::shuffle(sinew::sim::detail::WarpOp::Down, mask, v,
                                     static_cast<int>(delta), width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return sinew::sim::detail::shuffle(sinew::sim::detail::WarpOp::Up, mask, v,
                                     static_cast<int>(delta), width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
  return sinew::sim::detail::shuffle(sinew::sim::detail::WarpOp::Xor, mask, v, lane_mask, width);
}
template <class T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = warpSize) {
  return sinew::sim::detail::shuffle(sinew::sim::detail::WarpOp::Idx, mask, v, src_lane, width);
}

// Atomics: one host thread runs every fiber and none switches inside these, so a plain
// read-modify-write is atomic.
template <class T>
T atomicAdd(T* p, T v) {
  T old = *p;
  *p = old + v;
  return old;
}
template <class T>
T atomicSub(T* p, T v) {
  T old = *p;
  *p = old - v;
  return old;
}
template <class T>
T atomicMax(T* p, T v) {
  T old = *p;
  *p = old < v ? v : old;
  return old;
}
template <class T>
T atomicMin(T* p, T v) {
  T old = *p;
  *p = v < old ? v : old;
  return old;
}
template <class T>
T atomicExch(T* p, T v) {
  T old = *p;
  *p = v;
  return old;
}
template <class T>
T atomicCAS(T* p, T compare, T v) {
  T old = *p;
  if (old == compare) *p = v;
  return old;
}
template <class T>
T __ldg(const T* p) {
  return *p;
}
inline void __threadfence() {}
inline void __threadfence_block() {}
