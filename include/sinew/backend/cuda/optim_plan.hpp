// Host-side launch planning for the CUDA optimizer steps (kernels/optim.cuh): from the arguments
// of backend::cpu::sgd_step, adam_step, rmsprop_step and adagrad_step to the instantiation (which
// state buffers exist, the elements per access, the index width), the kernel's scalars struct and
// the grid. Pure host logic with no CUDA headers, shared by the backend and the emulator tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/optim_step.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"

namespace sinew::backend::cuda {

// The kernels' scalars structs are backend/optim_step.hpp's SgdScalars<T>, ...: kernels/optim.cuh
// has them member for member (dev::SgdScalars<T>, ...), a kernel parameter passed by value, so the
// layouts must match (the emulator converts with std::bit_cast, which checks the size).
using backend::AdagradScalars;
using backend::AdamScalars;
using backend::RmspropScalars;
using backend::SgdScalars;

// One launch of an optimizer-step kernel: the family ("sgd_step"; the kernel is <family>_flat),
// its bool template arguments after the element type (which state buffers exist), and the 1-D
// grid-stride launch over the parameter's elements.
template <class Scalars>
struct OptimLaunch {
  const char* family = "";
  DType dtype = DType::Float32;
  std::vector<bool> flags;
  int64_t numel = 0;     // 0: nothing to launch
  bool index32 = false;  // int32_t indices suffice (else int64_t)
  int vec = 1;           // elements per access: 1, 2 or 4, at most 16 bytes
  uint32_t grid = 0, block = 0;
  Scalars scalars{};

  // The template arguments after T: "true" / "false" for each flag.
  std::vector<std::string> leading_args() const {
    std::vector<std::string> a = {type_name(dtype)};
    for (bool f : flags) a.emplace_back(f ? "true" : "false");
    return a;
  }
  // What NVRTC is asked for: "sinew::adam_step_flat<float, false, sinew::int32_t, 4>".
  std::string name_expression() const {
    std::vector<std::string> a = leading_args();
    a.emplace_back(index_type_name(index32));
    a.push_back(std::to_string(vec));
    return cuda::name_expression(std::string(family) + "_flat", a);
  }
};

namespace detail_optim_plan {

// Fills the launch of a step over `param` and the other present operands (undefined tensors are
// absent buffers). Every operand must be contiguous with the parameter's element count: the
// kernels index all of them by the parameter's linear position.
template <class T, class Scalars>
OptimLaunch<Scalars> plan(const char* family, std::vector<bool> flags, Scalars scalars,
                          std::initializer_list<const Tensor<T>*> operands,
                          const PlanOptions& options) {
  OptimLaunch<Scalars> l;
  l.family = family;
  l.dtype = dtype_of<T>();
  l.flags = std::move(flags);
  l.scalars = scalars;
  const Tensor<T>& param = **operands.begin();
  l.numel = param.numel();
  for (const Tensor<T>* t : operands) {
    if (!t->defined()) continue;
    SINEW_CHECK(t->is_contiguous() && t->numel() == l.numel, family,
                "every operand must be contiguous with the parameter's ", l.numel,
                " elements; got one of shape ", t->shape());
  }
  if (l.numel == 0) return l;
  // The widest access (at most 16 bytes) to which every present operand's start is aligned.
  l.vec = widest_access([&operands](int v) {
    for (const Tensor<T>* t : operands)
      if (t->defined() && !takes_access(reinterpret_cast<uintptr_t>(t->data_ptr()), sizeof(T), v))
        return false;
    return true;
  });
  l.block = static_cast<uint32_t>(options.block);
  l.grid = grid_blocks(l.numel, int64_t{options.block} * l.vec, options);
  // 32 bits when every index, including the last grid-stride step past the end, fits int32_t.
  constexpr int64_t lim = std::numeric_limits<int32_t>::max();
  l.index32 = !options.force_index64 && l.numel + int64_t{l.grid} * l.block * l.vec <= lim;
  return l;
}

}  // namespace detail_optim_plan

// backend::cpu::sgd_step's arguments: momentum_buffer undefined when momentum is 0.
template <class T>
OptimLaunch<SgdScalars<T>> plan_sgd_step(const Tensor<T>& param, const Tensor<T>& grad,
                                         const Tensor<T>& momentum_buffer, const SgdStep& s,
                                         const PlanOptions& options = {}) {
  return detail_optim_plan::plan<T>("sgd_step", {momentum_buffer.defined()}, sgd_scalars<T>(s),
                                    {&param, &grad, &momentum_buffer}, options);
}

// backend::cpu::adam_step's arguments: max_exp_avg_sq undefined without amsgrad.
template <class T>
OptimLaunch<AdamScalars<T>> plan_adam_step(const Tensor<T>& param, const Tensor<T>& grad,
                                           const Tensor<T>& exp_avg, const Tensor<T>& exp_avg_sq,
                                           const Tensor<T>& max_exp_avg_sq, const AdamStep& s,
                                           const PlanOptions& options = {}) {
  return detail_optim_plan::plan<T>("adam_step", {max_exp_avg_sq.defined()}, adam_scalars<T>(s),
                                    {&param, &grad, &exp_avg, &exp_avg_sq, &max_exp_avg_sq},
                                    options);
}

// backend::cpu::rmsprop_step's arguments: momentum_buffer undefined when momentum is 0, grad_avg
// when the update is not centered.
template <class T>
OptimLaunch<RmspropScalars<T>> plan_rmsprop_step(const Tensor<T>& param, const Tensor<T>& grad,
                                                 const Tensor<T>& square_avg,
                                                 const Tensor<T>& momentum_buffer,
                                                 const Tensor<T>& grad_avg, const RmspropStep& s,
                                                 const PlanOptions& options = {}) {
  return detail_optim_plan::plan<T>(
      "rmsprop_step", {momentum_buffer.defined(), grad_avg.defined()}, rmsprop_scalars<T>(s),
      {&param, &grad, &square_avg, &momentum_buffer, &grad_avg}, options);
}

// backend::cpu::adagrad_step's arguments.
template <class T>
OptimLaunch<AdagradScalars<T>> plan_adagrad_step(const Tensor<T>& param, const Tensor<T>& grad,
                                                 const Tensor<T>& sum, const AdagradStep& s,
                                                 const PlanOptions& options = {}) {
  return detail_optim_plan::plan<T>("adagrad_step", {}, adagrad_scalars<T>(s),
                                    {&param, &grad, &sum}, options);
}

}  // namespace sinew::backend::cuda
