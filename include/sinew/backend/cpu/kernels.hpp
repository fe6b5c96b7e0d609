// Every CPU kernel, and the compile-time proof that the CPU backend provides the whole kernel list
// (backend/kernels.hpp). Ops include only the kernel headers they use; this header is for code
// that wants them all (the backend tests).
#pragma once

#include "sinew/backend/cpu/conv.hpp"
#include "sinew/backend/cpu/elementwise.hpp"
#include "sinew/backend/cpu/gemm.hpp"
#include "sinew/backend/cpu/index.hpp"
#include "sinew/backend/cpu/normalization.hpp"
#include "sinew/backend/cpu/optim.hpp"
#include "sinew/backend/cpu/pool.hpp"
#include "sinew/backend/cpu/random.hpp"
#include "sinew/backend/cpu/reduce.hpp"
#include "sinew/backend/cpu/rnn.hpp"
#include "sinew/backend/cpu/scan.hpp"
#include "sinew/backend/cpu/sort.hpp"
#include "sinew/backend/kernels.hpp"

#define SINEW_CPU_KERNEL_(name) using ::sinew::backend::cpu::name;
namespace sinew::backend::cpu::detail_kernel_list {
SINEW_BACKEND_KERNELS(SINEW_CPU_KERNEL_)
}  // namespace sinew::backend::cpu::detail_kernel_list
#undef SINEW_CPU_KERNEL_
