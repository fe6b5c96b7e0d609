// The CUDA optimizer-step kernels (kernels/optim.cuh) on the emulator against the CPU kernels
// (backend/cpu/optim.hpp): SGD, Adam/AdamW, RMSprop and Adagrad with every option that changes
// the arithmetic, float and double, three steps in a row with the state buffers carried, on
// parameters of 0, 1, 33 and 1003 elements (the last more than one grid-stride sweep of a grid
// capped at 3 blocks of 32 threads), aligned for 4, 2 and 1 elements per access, with NaN and
// infinite gradients and parameters among the values. Also the launch plan (optim_plan.hpp) and
// that every instantiation the plan requests is in the instantiation table.
//
// Equality: bitwise (NaN compared as NaN), after every step, for the parameter and each state
// buffer. The emulator compiles the kernel source as host C++ with the compiler and flags of the
// CPU kernels, and each element's arithmetic is the CPU's expressions in the CPU's order in the
// parameter's type, so the same bits are expected; a difference is a kernel that computes
// something else. (On a GPU, NVRTC contracts a * b + c into one fused multiply-add by default,
// --fmad=true, so device results may differ from these in the last bits; the op-level parity
// suite compares those within a tolerance.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"
#include "emulator_parity.hpp"
#include "sinew/backend/cpu/optim.hpp"
#include "sinew/backend/cuda/instantiations.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

namespace cuda = backend::cuda;
using parity::same_values;

constexpr int kSteps = 3;

// How a test tensor is laid out: n elements, contiguous, starting `offset` elements into its
// storage (1 and 2 take the packed accesses away: one element, or two floats, per access).
struct Case {
  int64_t n;
  int64_t offset = 0;       // of every operand
  int64_t grad_offset = 0;  // of the gradient alone (the others aligned)
};
const Case kCases[] = {{0}, {1}, {33}, {1003}, {35, 1}, {34, 2}, {33, 0, 1}};

// The initial contents of an operand.
enum class Init { Absent, Zero, Signed, NonNegative };

template <class T>
Tensor<T> make_tensor(int64_t n, int64_t offset, Init init, int salt) {
  if (init == Init::Absent) return Tensor<T>();
  std::vector<T> data(static_cast<size_t>(n + offset), T(-7));
  for (int64_t i = 0; i < n; ++i) {
    T v = parity::value<T>(i, salt);
    if (init == Init::Zero) v = T(0);
    if (init == Init::NonNegative) v = std::fabs(v);
    data[static_cast<size_t>(i + offset)] = v;
  }
  const Tensor<T> base = from_vector<T>(data, Shape{n + offset});
  return offset == 0 ? base : base.slice(0, offset, n + offset);
}

// A deep copy keeping the offset into the storage (clone() would realign it).
template <class T>
Tensor<T> copy_of(const Tensor<T>& t, int64_t offset) {
  if (!t.defined()) return t;
  std::vector<T> data(static_cast<size_t>(t.numel() + offset), T(-7));
  const std::vector<T> v = t.to_vector();
  std::copy(v.begin(), v.end(), data.begin() + offset);
  const Tensor<T> base = from_vector<T>(data, Shape{t.numel() + offset});
  return offset == 0 ? base : base.slice(0, offset, t.numel() + offset);
}

// Every name expression the plan asked for is an instantiation of the table.
bool in_table(const std::string& name) {
  static const std::vector<cuda::Instantiation> table = cuda::optim_instantiations();
  for (const cuda::Instantiation& i : table)
    if (i.name_expression == name) return true;
  return false;
}

// The launch configurations: a grid capped at 3 blocks of 32 threads (grid-stride loops take
// several sweeps, blocks end part-way) in both schedule orders; the default block and grid with
// 64-bit indices.
struct Config {
  const char* name;
  cuda::PlanOptions options;
  sim::Order order;
};
std::vector<Config> configs() {
  cuda::PlanOptions small;
  small.block = 32;
  small.max_blocks = 3;
  cuda::PlanOptions wide;
  wide.force_index64 = true;
  return {{"block 32, grid <= 3, forward", small, sim::Order::Forward},
          {"block 32, grid <= 3, reversed", small, sim::Order::Reverse},
          {"block 256, 64-bit index", wide, sim::Order::Forward}};
}

// Runs kSteps steps of one optimizer on the emulator and on the CPU, from the same operands
// (ops[0] the parameter, then the state buffers in the kernel's order, `inits` saying how each
// starts), and compares all of them after every step. step(emulated, ops, grad, t) runs step t.
template <class T, class Step>
void expect_same_steps(const std::string& what, const std::vector<Init>& inits, Step step) {
  for (const Case& k : kCases) {
    for (const Config& config : configs()) {
      emu::plan_options() = config.options;
      sim::set_order(config.order);
      std::vector<Tensor<T>> emulated, cpu;
      for (size_t j = 0; j < inits.size(); ++j) {
        const int salt = j == 0 ? 3 : 3 + static_cast<int>(j);
        emulated.push_back(make_tensor<T>(k.n, k.offset, inits[j], salt));
        cpu.push_back(copy_of(emulated.back(), k.offset));
      }
      for (int t = 0; t < kSteps; ++t) {
        const Tensor<T> grad = make_tensor<T>(k.n, k.offset + k.grad_offset, Init::Signed, t);
        emu::last_kernel().clear();
        step(true, emulated, grad, t);
        step(false, cpu, grad, t);
        const std::string where = what + ", " + std::to_string(k.n) + " elements at offset " +
                                  std::to_string(k.offset) + " (gradient +" +
                                  std::to_string(k.grad_offset) + "), " + config.name + ", step " +
                                  std::to_string(t + 1) + ": " + emu::last_kernel();
        if (k.n > 0) {
          EXPECT_TRUE(in_table(emu::last_kernel())) << where << " is not in the table";
        } else {
          EXPECT_EQ(emu::last_kernel(), "") << where;  // nothing launched
        }
        for (size_t j = 0; j < inits.size(); ++j) {
          if (inits[j] != Init::Absent) {
            EXPECT_TRUE(same_values(emulated[j], cpu[j])) << where << ", operand " << j;
          }
        }
      }
    }
  }
  emu::plan_options() = {};
  sim::set_order(sim::Order::Forward);
}

// ---- SGD -------------------------------------------------------------------------------------

template <class T>
void check_sgd() {
  for (double momentum : {0.0, 0.9})
    for (bool nesterov : {false, true})
      for (double wd : {0.0, 0.01})
        for (bool maximize : {false, true}) {
          if (nesterov && momentum == 0) continue;
          backend::SgdStep s;
          s.lr = 0.1;
          s.momentum = momentum;
          s.dampening = nesterov ? 0 : 0.1;
          s.weight_decay = wd;
          s.nesterov = nesterov;
          s.maximize = maximize;
          const std::string what = "sgd momentum " + std::to_string(momentum) + " nesterov " +
                                   std::to_string(nesterov) + " wd " + std::to_string(wd) +
                                   " maximize " + std::to_string(maximize);
          // The momentum buffer starts with garbage values: the first step ignores them.
          const Init buf = momentum != 0 ? Init::Signed : Init::Absent;
          expect_same_steps<T>(
              what, {Init::Signed, buf},
              [&s](bool emulated, const std::vector<Tensor<T>>& o, const Tensor<T>& g, int t) {
                backend::SgdStep st = s;
                st.first_step = t == 0;
                if (emulated)
                  emu::sgd_step(o[0], g, o[1], st);
                else
                  backend::cpu::sgd_step(o[0], g, o[1], st);
              });
        }
}

TEST(CudaEmulatedOptimSgd, FloatMatchesCpuBitwise) { check_sgd<float>(); }
TEST(CudaEmulatedOptimSgd, DoubleMatchesCpuBitwise) { check_sgd<double>(); }

// ---- Adam / AdamW ----------------------------------------------------------------------------

template <class T>
void check_adam() {
  for (bool decoupled : {false, true})
    for (bool amsgrad : {false, true})
      for (double wd : {0.0, 0.05})
        for (bool maximize : {false, true}) {
          const backend::AdamStep base{.lr = 0.01,
                                       .beta1 = 0.9,
                                       .beta2 = 0.999,
                                       .eps = 1e-8,
                                       .weight_decay = wd,
                                       .decoupled = decoupled,
                                       .amsgrad = amsgrad,
                                       .maximize = maximize};
          const std::string what = "adam decoupled " + std::to_string(decoupled) + " amsgrad " +
                                   std::to_string(amsgrad) + " wd " + std::to_string(wd) +
                                   " maximize " + std::to_string(maximize);
          expect_same_steps<T>(
              what, {Init::Signed, Init::Zero, Init::Zero, amsgrad ? Init::Zero : Init::Absent},
              [&base](bool emulated, const std::vector<Tensor<T>>& o, const Tensor<T>& g, int t) {
                // The per-step scalars as the optimizer computes them (in double).
                backend::AdamStep s = base;
                const double step = t + 1;
                s.step_size = s.lr / (1 - std::pow(s.beta1, step));
                s.bias_correction2_sqrt = std::sqrt(1 - std::pow(s.beta2, step));
                if (emulated)
                  emu::adam_step(o[0], g, o[1], o[2], o[3], s);
                else
                  backend::cpu::adam_step(o[0], g, o[1], o[2], o[3], s);
              });
        }
}

TEST(CudaEmulatedOptimAdam, FloatMatchesCpuBitwise) { check_adam<float>(); }
TEST(CudaEmulatedOptimAdam, DoubleMatchesCpuBitwise) { check_adam<double>(); }

// State that does not start at zero (a resumed run): every buffer, vmax included, has values.
TEST(CudaEmulatedOptimAdam, AmsgradFromNonZeroStateMatchesCpuBitwise) {
  backend::AdamStep s{.lr = 0.01, .step_size = 0.1, .bias_correction2_sqrt = 0.05};
  s.amsgrad = true;
  s.weight_decay = 0.01;
  expect_same_steps<float>(
      "adam amsgrad, non-zero state",
      {Init::Signed, Init::Signed, Init::NonNegative, Init::NonNegative},
      [&s](bool emulated, const std::vector<Tensor<float>>& o, const Tensor<float>& g, int) {
        if (emulated)
          emu::adam_step(o[0], g, o[1], o[2], o[3], s);
        else
          backend::cpu::adam_step(o[0], g, o[1], o[2], o[3], s);
      });
}

// ---- RMSprop ---------------------------------------------------------------------------------

template <class T>
void check_rmsprop() {
  for (bool centered : {false, true})
    for (double momentum : {0.0, 0.9})
      for (double wd : {0.0, 0.01})
        for (bool maximize : {false, true}) {
          const backend::RmspropStep s{.lr = 0.01,
                                       .alpha = 0.99,
                                       .eps = 1e-8,
                                       .weight_decay = wd,
                                       .momentum = momentum,
                                       .centered = centered,
                                       .maximize = maximize};
          const std::string what = "rmsprop centered " + std::to_string(centered) + " momentum " +
                                   std::to_string(momentum) + " wd " + std::to_string(wd) +
                                   " maximize " + std::to_string(maximize);
          // Non-zero starting state, so that a centered variance can go negative (a NaN root).
          expect_same_steps<T>(
              what,
              {Init::Signed, Init::NonNegative, momentum > 0 ? Init::Signed : Init::Absent,
               centered ? Init::Signed : Init::Absent},
              [&s](bool emulated, const std::vector<Tensor<T>>& o, const Tensor<T>& g, int) {
                if (emulated)
                  emu::rmsprop_step(o[0], g, o[1], o[2], o[3], s);
                else
                  backend::cpu::rmsprop_step(o[0], g, o[1], o[2], o[3], s);
              });
        }
}

TEST(CudaEmulatedOptimRmsprop, FloatMatchesCpuBitwise) { check_rmsprop<float>(); }
TEST(CudaEmulatedOptimRmsprop, DoubleMatchesCpuBitwise) { check_rmsprop<double>(); }

// ---- Adagrad ---------------------------------------------------------------------------------

template <class T>
void check_adagrad() {
  for (double wd : {0.0, 0.01})
    for (bool maximize : {false, true}) {
      const std::string what =
          "adagrad wd " + std::to_string(wd) + " maximize " + std::to_string(maximize);
      expect_same_steps<T>(what, {Init::Signed, Init::NonNegative},
                           [wd, maximize](bool emulated, const std::vector<Tensor<T>>& o,
                                          const Tensor<T>& g, int t) {
                             // The decayed rate of step t + 1 (lr 0.1, lr_decay 0.01).
                             const backend::AdagradStep s{.clr = 0.1 / (1 + t * 0.01),
                                                          .eps = 1e-10,
                                                          .weight_decay = wd,
                                                          .maximize = maximize};
                             if (emulated)
                               emu::adagrad_step(o[0], g, o[1], s);
                             else
                               backend::cpu::adagrad_step(o[0], g, o[1], s);
                           });
    }
}

TEST(CudaEmulatedOptimAdagrad, FloatMatchesCpuBitwise) { check_adagrad<float>(); }
TEST(CudaEmulatedOptimAdagrad, DoubleMatchesCpuBitwise) { check_adagrad<double>(); }

// ---- the plan --------------------------------------------------------------------------------

TEST(CudaEmulatedOptimPlan, PicksWidthIndexAndGrid) {
  const Tensor<float> p = zeros<float>({1003}), g = zeros<float>({1003});
  const Tensor<float> none;
  auto l = cuda::plan_sgd_step(p, g, none, backend::SgdStep{});
  EXPECT_EQ(l.vec, 4);
  EXPECT_TRUE(l.index32);
  EXPECT_EQ(l.block, 256u);
  EXPECT_EQ(l.grid, 1u);  // 1003 elements in packs of 4: one block of 256 threads
  EXPECT_EQ(l.name_expression(), "sinew::sgd_step_flat<float, false, sinew::int32_t, 4>");

  // A gradient two floats into its storage: 8-byte aligned, two per access; one: one.
  const Tensor<float> base = zeros<float>({1005});
  l = cuda::plan_sgd_step(p, base.slice(0, 2, 1005), none, backend::SgdStep{});
  EXPECT_EQ(l.vec, 2);
  l = cuda::plan_sgd_step(p, base.slice(0, 1, 1004), none, backend::SgdStep{});
  EXPECT_EQ(l.vec, 1);

  // Doubles: at most two per access (16 bytes); the grid capped; 64-bit indices on request.
  const Tensor<double> pd = zeros<double>({100000}), gd = zeros<double>({100000});
  cuda::PlanOptions o;
  o.block = 128;
  o.max_blocks = 10;
  o.force_index64 = true;
  const auto a = cuda::plan_adam_step(pd, gd, zeros_like(pd), zeros_like(pd), zeros_like(pd),
                                      backend::AdamStep{}, o);
  EXPECT_EQ(a.vec, 2);
  EXPECT_EQ(a.grid, 10u);
  EXPECT_EQ(a.block, 128u);
  EXPECT_FALSE(a.index32);
  EXPECT_EQ(a.name_expression(), "sinew::adam_step_flat<double, true, sinew::int64_t, 2>");

  const auto r =
      cuda::plan_rmsprop_step(p, g, zeros_like(p), none, zeros_like(p), backend::RmspropStep{});
  EXPECT_EQ(r.name_expression(), "sinew::rmsprop_step_flat<float, false, true, sinew::int32_t, 4>");
  const auto e = cuda::plan_adagrad_step(zeros<float>({0}), zeros<float>({0}), zeros<float>({0}),
                                         backend::AdagradStep{});
  EXPECT_EQ(e.numel, 0);
}

TEST(CudaEmulatedOptimPlan, ScalarsAreTheCpuKernelsValues) {
  backend::AdamStep s;
  s.lr = 0.1;
  s.weight_decay = 0.3;
  s.decoupled = true;
  s.step_size = 0.7;
  const auto c = backend::adam_scalars<float>(s);
  EXPECT_EQ(c.decay, static_cast<float>(1 - 0.1 * 0.3));  // computed in double, then cast
  EXPECT_EQ(c.one_b2, static_cast<float>(1 - 0.999));
  EXPECT_TRUE(c.decay_param);
  EXPECT_FALSE(c.decay_grad);
  static_assert(sizeof(cuda::AdamScalars<double>) == sizeof(dev::AdamScalars<double>));
  static_assert(sizeof(cuda::SgdScalars<float>) == sizeof(dev::SgdScalars<float>));
}

TEST(CudaEmulatedOptimPlan, RejectsAStridedOrMisSizedOperand) {
  const Tensor<float> p = zeros<float>({4, 3}), g = zeros<float>({4, 3});
  EXPECT_THROW(cuda::plan_sgd_step(p, g.t(), Tensor<float>(), backend::SgdStep{}), Error);
  EXPECT_THROW(cuda::plan_adagrad_step(p, g, zeros<float>({11}), backend::AdagradStep{}), Error);
}

TEST(CudaEmulatedOptimTable, HoldsEveryCombinationOnce) {
  // sgd and adam: 2 flag combinations, rmsprop 4, adagrad 1; each for float (3 widths) and
  // double (2), in two index widths.
  size_t sgd = 0, adam = 0, rmsprop = 0, adagrad = 0;
  for (const cuda::Instantiation& i : cuda::optim_instantiations()) {
    sgd += i.family == "sgd_step";
    adam += i.family == "adam_step";
    rmsprop += i.family == "rmsprop_step";
    adagrad += i.family == "adagrad_step";
  }
  EXPECT_EQ(sgd, 2u * 2 * (3 + 2));
  EXPECT_EQ(adam, 2u * 2 * (3 + 2));
  EXPECT_EQ(rmsprop, 4u * 2 * (3 + 2));
  EXPECT_EQ(adagrad, 1u * 2 * (3 + 2));
  EXPECT_TRUE(in_table("sinew::rmsprop_step_flat<double, true, true, sinew::int64_t, 1>"));
  EXPECT_FALSE(in_table("sinew::adagrad_step_flat<double, sinew::int32_t, 4>"));  // 32 bytes
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
