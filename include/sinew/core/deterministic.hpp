// Deterministic mode: sinew::set_deterministic(true), as PyTorch's
// torch.use_deterministic_algorithms(True). While it is on, an op whose implementation can give
// different bits from one run to the next raises an Error naming itself (check_deterministic)
// instead of running; the others run as always.
//
// What is deterministic without it (docs/RELIABILITY.md, "Determinism"): on the CPU, every kernel,
// on any thread count; on CUDA, every kernel of Sinew's own (no floating-point atomics) and
// cuBLAS's GEMMs (atomics disallowed on every handle), run after run on the same GPU. No op of
// this version has a nondeterministic path, so the mode raises for none today. It is the contract
// for the paths that have one: cuDNN's benchmark-chosen algorithms, for one, must keep to
// deterministic ones or raise.
#pragma once

#include <atomic>

#include "sinew/core/error.hpp"

namespace sinew {

namespace detail {
inline std::atomic<bool>& deterministic_flag() noexcept {
  static std::atomic<bool> on{false};
  return on;
}
}  // namespace detail

// Process-wide, as PyTorch's (not per thread like grad mode).
inline void set_deterministic(bool on) noexcept {
  detail::deterministic_flag().store(on, std::memory_order_relaxed);
}
inline bool is_deterministic() noexcept {
  return detail::deterministic_flag().load(std::memory_order_relaxed);
}

namespace detail {
// Called by an op before it takes a path whose bits may vary from run to run: an Error while
// deterministic mode is on, naming the op and why its result would vary.
inline void check_deterministic(const char* op, const char* why) {
  SINEW_CHECK(!is_deterministic(), op, "no deterministic implementation (", why,
              "); set_deterministic(false) allows it");
}
}  // namespace detail

}  // namespace sinew
