// The reduction kernels of kernels/reduce.cuh (sum, prod, all/any, max/min, argmax/argmin, var,
// norm, logsumexp, softmax/log_softmax) on the emulator against the backend::cpu kernels, on the
// same tensors, for every element type that reaches each of them. Integer and bool results, and
// argmax indices, are exact; floating results agree within kRelTol (the order of summation
// differs: a tree on the device, a loop on the CPU; logsumexp and softmax exponentiate in the
// element type where the CPU's strided path uses double). Max and min values are exact (compared
// with ==, so that the sign of a zero, which the CPU's vectorized loops leave open, is not part
// of the contract).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"
#include "emulator_parity.hpp"
#include "sinew/backend/cuda/instantiations.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using backend::DimMask;
using backend::Quantifier;
using namespace parity;
namespace cuda = backend::cuda;

// Relative tolerance of floating results (absolute below 1).
template <class T>
constexpr double kRelTol = std::is_same_v<T, float> ? 2e-5 : 1e-12;

// The launch configurations: small blocks and a grid cap of 3 (loops over outputs and over a
// region take several steps, blocks end part-way) with 32-bit indices in both schedule orders,
// and blocks of 128 with 64-bit indices.
template <class Body>
void for_each_reduce_launch(Body body) {
  cuda::PlanOptions small;
  small.block = 64;
  small.max_blocks = 3;
  cuda::PlanOptions wide;
  wide.block = 128;
  wide.force_index64 = true;
  struct Launch {
    const char* name;
    cuda::PlanOptions options;
    sim::Order order;
  };
  const Launch launches[] = {{"block 64, grid <= 3, forward", small, sim::Order::Forward},
                             {"block 64, grid <= 3, reversed", small, sim::Order::Reverse},
                             {"block 128, 64-bit index", wide, sim::Order::Forward}};
  for (const Launch& l : launches) {
    emu::plan_options() = l.options;
    sim::set_order(l.order);
    body(std::string(l.name));
  }
  emu::plan_options() = {};
  sim::set_order(sim::Order::Forward);
}

template <class T>
bool close(T a, T b, double tol) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a || b != b) return a != a && b != b;
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::abs(double(a) - double(b)) <= tol * std::max(1.0, std::abs(double(b)));
  } else {
    return a == b;
  }
}

template <class T>
::testing::AssertionResult close_values(const Tensor<T>& emulated, const Tensor<T>& cpu,
                                        double tol) {
  return values_match(emulated, cpu, [tol](T a, T b) { return close(a, b, tol); });
}

// One reduction: the input's layout and the reduced dims (all when empty). The variants of a
// kernel that share its code paths (min next to max, other norms next to the 2-norm) run on the
// core cases only, to keep the emulated launches few.
struct ReduceCase {
  Spec x;
  std::vector<int64_t> dims;
  bool core = false;
  bool empty_region = false;  // some output reduces nothing (max, min, argmax reject it)
};

std::vector<ReduceCase> reduce_cases() {
  using L = Layout;
  return {
      {{L::Contiguous, {0}}, {}, true, true},         // nothing at all: one output
      {{L::Contiguous, {2, 0}}, {1}, true, true},     // empty regions
      {{L::Contiguous, {0, 3}}, {1}},                 // no outputs
      {{L::Contiguous, {1}}, {}},                     // one element
      {{L::Contiguous, {}}, {}},                      // a 0-d tensor
      {{L::Contiguous, {5, 37}}, {}, true},           // everything, one block
      {{L::Contiguous, {2, 150}}, {1}, true},         // innermost, several steps per thread
      {{L::Contiguous, {5, 40}}, {1}},                // more outputs than the grid cap (3)
      {{L::Contiguous, {200, 2}}, {1}, true},         // short regions: one thread per output
      {{L::Contiguous, {9, 70}}, {0}, true},          // outermost, adjacent outputs: columns
      {{L::Contiguous, {70, 3}}, {0}},                // outermost, few outputs: a strided block
      {{L::Contiguous, {2, 40, 3}}, {1}},             // a middle dim
      {{L::Contiguous, {6, 3, 7, 2}}, {0, 2}, true},  // two non-adjacent dims (rows layout)
      {{L::Contiguous, {4, 3, 5, 2}}, {0, 2}},        // the same, short (columns layout)
      {{L::Transposed, {33, 6}}, {0}},                // transposed: contiguous region
      {{L::Transposed, {33, 6}}, {1}, true},          // transposed: strided region
      {{L::Transposed, {33, 6}}, {}},                 // transposed: everything
      {{L::Permuted, {2, 3, 40}}, {2, 0}, true},      // permuted, two dims
      {{L::Step2, {45}}, {0}},                        // every other element
  };
}

DimMask mask_of(const ReduceCase& c) {
  const int64_t nd = c.x.shape.size();
  DimMask m(nd, c.dims.empty());
  for (int64_t d : c.dims) m.set(d);
  return m;
}

Shape out_shape(const ReduceCase& c) {
  const DimMask m = mask_of(c);
  Shape s;
  for (int64_t d = 0; d < c.x.shape.size(); ++d)
    if (!m[d]) s.push_back(c.x.shape[d]);
  return s;
}

std::string describe(const ReduceCase& c) {
  std::ostringstream os;
  os << parity::describe(c.x) << " over {";
  for (size_t k = 0; k < c.dims.size(); ++k) os << (k ? ", " : "") << c.dims[k];
  os << (c.dims.empty() ? "all}" : "}");
  return os.str();
}

// The input of a case: the type's edge values (NaN, infinities, limits) from the middle element
// on, so that some outputs meet them and others do not; a floating reduction of everything gets
// values without them (NaN would hide its arithmetic; NanAndInfinities covers those).
template <class T>
Tensor<T> input(const Spec& s, bool reduces_all = false) {
  if (std::is_floating_point_v<T> && reduces_all) return make_input<T>(s, 1000);
  const int64_t middle = s.shape.numel() / 2;
  return make_input<T>(s, static_cast<int>(std::is_floating_point_v<T> ? middle / 5 : middle / 3));
}

// Runs cpu(x, mask, out) and emu(x, mask, out) on every case and input; R is the output type.
template <class T, class R, class Cpu, class Emu>
void check_reduction(const char* what, bool needs_region, bool core_only, Cpu cpu, Emu emu) {
  SCOPED_TRACE(::testing::Message() << what << ", dtype " << dtype_of<T>());
  for (const ReduceCase& c : reduce_cases()) {
    // 1-byte types take the int path of the max/min accumulator and convert as the others do:
    // the core cases cover them.
    if ((needs_region && c.empty_region) || ((core_only || sizeof(T) == 1) && !c.core)) continue;
    SCOPED_TRACE(describe(c));
    const DimMask mask = mask_of(c);
    const Tensor<T> x = input<T>(c.x, out_shape(c).numel() == 1);
    const Tensor<R> expected = full<R>(out_shape(c), static_cast<R>(-1));
    cpu(x, mask, expected);
    for_each_reduce_launch([&](const std::string& label) {
      const Tensor<R> out = full<R>(out_shape(c), static_cast<R>(-1));
      emu(x, mask, out);
      EXPECT_TRUE(close_values(out, expected, kRelTol<R>)) << label << ", " << emu::last_kernel();
    });
  }
}

template <class T>
void check_sum_prod() {
  using R = accumulate_t<T>;
  check_reduction<T, R>(
      "sum", false, false, [](auto& x, DimMask m, auto& o) { backend::cpu::sum(x, m, o); },
      [](auto& x, DimMask m, auto& o) { emu::sum(x, m, o); });
  check_reduction<T, R>(
      "prod", false, false, [](auto& x, DimMask m, auto& o) { backend::cpu::prod(x, m, o); },
      [](auto& x, DimMask m, auto& o) { emu::prod(x, m, o); });
}

TEST(CudaEmulatedReduce, SumAndProd) {
  check_sum_prod<float>();
  check_sum_prod<double>();
  check_sum_prod<int64_t>();
  check_sum_prod<uint8_t>();
  check_sum_prod<bool>();
}

template <class T>
void check_all_any() {
  check_reduction<T, bool>(
      "all", false, false,
      [](auto& x, DimMask m, auto& o) { backend::cpu::all_any<Quantifier::All>(x, m, o); },
      [](auto& x, DimMask m, auto& o) { emu::all_any<Quantifier::All>(x, m, o); });
  check_reduction<T, bool>(
      "any", false, false,
      [](auto& x, DimMask m, auto& o) { backend::cpu::all_any<Quantifier::Any>(x, m, o); },
      [](auto& x, DimMask m, auto& o) { emu::all_any<Quantifier::Any>(x, m, o); });
}

TEST(CudaEmulatedReduce, AllAny) {
  check_all_any<float>();
  check_all_any<double>();
  check_all_any<int64_t>();
  check_all_any<uint8_t>();
  check_all_any<bool>();
}

template <class T>
void check_extremum() {
  for (bool is_max : {true, false}) {
    check_reduction<T, T>(
        is_max ? "max" : "min", true, !is_max,
        [is_max](auto& x, DimMask m, auto& o) { backend::cpu::extremum(x, m, is_max, o); },
        [is_max](auto& x, DimMask m, auto& o) { emu::extremum(x, m, is_max, o); });
  }
}

TEST(CudaEmulatedReduce, MaxMin) {
  check_extremum<float>();
  check_extremum<double>();
  check_extremum<int64_t>();
  check_extremum<uint8_t>();
  check_extremum<bool>();
}

// Values and indices together: the values as extremum's, the indices exact.
template <class T>
void check_arg_extremum() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (bool is_max : {true, false}) {
    SCOPED_TRACE(is_max ? "argmax" : "argmin");
    for (const ReduceCase& c : reduce_cases()) {
      if (c.empty_region || ((!is_max || sizeof(T) == 1) && !c.core)) continue;
      SCOPED_TRACE(describe(c));
      const DimMask mask = mask_of(c);
      const Tensor<T> x = input<T>(c.x);  // with NaN also over everything: the first one's index
      const Tensor<T> ev = full<T>(out_shape(c), static_cast<T>(-1));
      const Tensor<int64_t> ei = full<int64_t>(out_shape(c), -1);
      backend::cpu::arg_extremum(x, mask, is_max, ev, ei);
      for_each_reduce_launch([&](const std::string& label) {
        const Tensor<T> v = full<T>(out_shape(c), static_cast<T>(-1));
        const Tensor<int64_t> i = full<int64_t>(out_shape(c), -1);
        emu::arg_extremum(x, mask, is_max, v, i);
        EXPECT_TRUE(close_values(v, ev, 0.0)) << label << ", " << emu::last_kernel();
        EXPECT_TRUE(close_values(i, ei, 0.0)) << label << ", " << emu::last_kernel();
      });
    }
  }
}

TEST(CudaEmulatedReduce, ArgMaxArgMin) {
  check_arg_extremum<float>();
  check_arg_extremum<double>();
  check_arg_extremum<int64_t>();
  check_arg_extremum<uint8_t>();
  check_arg_extremum<bool>();
}

template <class T>
void check_var_norm_logsumexp() {
  for (double correction : {0.0, 1.0}) {
    check_reduction<T, T>(
        correction == 0 ? "var, correction 0" : "var, correction 1", false, correction == 0,
        [correction](auto& x, DimMask m, auto& o) { backend::cpu::var(x, m, correction, o); },
        [correction](auto& x, DimMask m, auto& o) { emu::var(x, m, correction, o); });
  }
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {2.0, 1.0, inf, -inf, 0.0, 3.0}) {
    SCOPED_TRACE(::testing::Message() << "norm p = " << p);
    check_reduction<T, T>(
        "norm", p < 0 || std::isinf(p), p != 2,
        [p](auto& x, DimMask m, auto& o) { backend::cpu::norm(x, m, p, o); },
        [p](auto& x, DimMask m, auto& o) { emu::norm(x, m, p, o); });
  }
  check_reduction<T, T>(
      "logsumexp", false, false,
      [](auto& x, DimMask m, auto& o) { backend::cpu::logsumexp(x, m, o); },
      [](auto& x, DimMask m, auto& o) { emu::logsumexp(x, m, o); });
}

TEST(CudaEmulatedReduce, VarNormLogsumexp) {
  check_var_norm_logsumexp<float>();
  check_var_norm_logsumexp<double>();
}

// Rows of NaN and infinities: all -inf, one +inf, NaN last, two NaNs, ties of the max, +inf and
// NaN, -inf and a number, all equal; laid along the last dim (n = 40: a block per row; n = 20:
// a thread per row) and, transposed, along the first.
template <class T>
Tensor<T> special_rows(int64_t n) {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> v;
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t k = 0; k < n; ++k) {
      T e = static_cast<T>((k * 7 + r) % 11) - T(5);
      if (r == 0) e = -inf;
      if (r == 1 && k == n / 2) e = inf;
      if (r == 2 && k == n - 1) e = nan;
      if (r == 3 && (k == 3 || k == n - 3)) e = nan;
      if (r == 4) e = static_cast<T>(k % 5);  // the max 4 at k = 4, 9, ...
      if (r == 5 && (k == 1 || k == n - 2)) e = k == 1 ? inf : nan;
      if (r == 6) e = k == n - 1 ? T(2) : -inf;
      if (r == 7) e = T(3);
      v.push_back(e);
    }
  return from_vector<T>(v, Shape{8, n});
}

template <class T>
void check_specials() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  for (int64_t n : {40, 20}) {
    const Tensor<T> rows = special_rows<T>(n);
    for (const Tensor<T>& x : {rows, rows.t()}) {
      const int64_t dim = x.shape()[0] == 8 ? 1 : 0;
      SCOPED_TRACE(::testing::Message() << "shape " << x.shape() << " along " << dim);
      DimMask mask(2, false);
      mask.set(dim);
      const Shape os{8};
      for (bool is_max : {true, false}) {
        const Tensor<T> ev = full<T>(os, T(-1)), v = full<T>(os, T(-1));
        const Tensor<int64_t> ei = full<int64_t>(os, -1), i = full<int64_t>(os, -1);
        const Tensor<T> em = full<T>(os, T(-1)), m = full<T>(os, T(-1));
        backend::cpu::arg_extremum(x, mask, is_max, ev, ei);
        backend::cpu::extremum(x, mask, is_max, em);
        for_each_reduce_launch([&](const std::string& label) {
          emu::arg_extremum(x, mask, is_max, v, i);
          EXPECT_TRUE(close_values(v, ev, 0.0)) << label << ", " << emu::last_kernel();
          EXPECT_TRUE(close_values(i, ei, 0.0)) << label << ", " << emu::last_kernel();
          emu::extremum(x, mask, is_max, m);
          EXPECT_TRUE(close_values(m, em, 0.0)) << label << ", " << emu::last_kernel();
        });
      }
      const Tensor<T> el = full<T>(os, T(-1)), l = full<T>(os, T(-1));
      backend::cpu::logsumexp(x, mask, el);
      const Tensor<T> es = full<T>(x.shape(), T(-1)), s = full<T>(x.shape(), T(-1));
      for_each_reduce_launch([&](const std::string& label) {
        emu::logsumexp(x, mask, l);
        EXPECT_TRUE(close_values(l, el, kRelTol<T>)) << label << ", " << emu::last_kernel();
        for (bool log : {false, true}) {
          backend::cpu::softmax(x, dim, log, es);
          emu::softmax(x, dim, log, s);
          EXPECT_TRUE(close_values(s, es, kRelTol<T>))
              << label << (log ? ", log_softmax, " : ", softmax, ") << emu::last_kernel();
        }
      });
    }
  }
}

TEST(CudaEmulatedReduce, NanAndInfinities) {
  check_specials<float>();
  check_specials<double>();
}

// Softmax along each dim of contiguous, transposed and permuted inputs.
template <class T>
void check_softmax() {
  SCOPED_TRACE(::testing::Message() << "dtype " << dtype_of<T>());
  using L = Layout;
  const Spec specs[] = {
      {L::Contiguous, {0}},       {L::Contiguous, {1}},     {L::Contiguous, {}},
      {L::Contiguous, {3, 0}},    {L::Contiguous, {4, 37}}, {L::Contiguous, {70}},
      {L::Contiguous, {3, 5, 4}}, {L::Transposed, {33, 6}}, {L::Permuted, {2, 3, 40}},
      {L::Contiguous, {40, 3}},   {L::Step2, {45}}};
  for (const Spec& sp : specs) {
    SCOPED_TRACE(parity::describe(sp));
    for (int64_t dim = 0; dim < std::max<int64_t>(sp.shape.size(), 1); ++dim) {
      const Tensor<T> x = input<T>(sp);
      for (bool log : {false, true}) {
        SCOPED_TRACE(::testing::Message() << (log ? "log_softmax" : "softmax") << " along " << dim);
        const Tensor<T> expected = full<T>(sp.shape, T(-1));
        backend::cpu::softmax(x, dim, log, expected);
        for_each_reduce_launch([&](const std::string& label) {
          const Tensor<T> out = full<T>(sp.shape, T(-1));
          emu::softmax(x, dim, log, out);
          EXPECT_TRUE(close_values(out, expected, kRelTol<T>))
              << label << ", " << emu::last_kernel();
        });
      }
    }
  }
}

TEST(CudaEmulatedSoftmax, AlongEveryDim) {
  check_softmax<float>();
  check_softmax<double>();
}

// The plan picks the layouts the cases above mean to cover, and names what it launches.
TEST(CudaEmulatedReducePlan, LayoutsAndIndexWidth) {
  auto plan = [](const Spec& s, std::vector<int64_t> dims, const cuda::PlanOptions& o = {}) {
    const ReduceCase c{s, std::move(dims)};
    return cuda::plan_reduce(make_input<float>(s, 0).impl(), mask_of(c), o);
  };
  using L = Layout;
  EXPECT_FALSE(plan({L::Contiguous, {2, 150}}, {1}).columns);
  EXPECT_TRUE(plan({L::Contiguous, {200, 2}}, {1}).columns);
  EXPECT_TRUE(plan({L::Contiguous, {9, 70}}, {0}).columns);
  EXPECT_FALSE(plan({L::Contiguous, {70, 3}}, {0}).columns);
  const cuda::ReducePlan two = plan({L::Contiguous, {6, 3, 7, 2}}, {0, 2});
  EXPECT_FALSE(two.columns);
  EXPECT_EQ(two.rows_ndim, 1);
  EXPECT_EQ(two.inner, 7);
  EXPECT_EQ(two.inner_stride, 2);
  cuda::PlanOptions small;
  small.block = 64;
  small.max_blocks = 3;
  const cuda::ReducePlan capped = plan({L::Contiguous, {5, 300}}, {1}, small);
  EXPECT_EQ(capped.grid, 3u);
  EXPECT_EQ(capped.block, 64u);
  EXPECT_TRUE(capped.index32);
  EXPECT_EQ(plan({L::Contiguous, {0, 3}}, {1}).outputs, 0);
  // What the emulator records is an instantiation of the table.
  emu::plan_options().force_index64 = true;
  const Tensor<float> x = make_input<float>({L::Contiguous, {5, 37}}, 0);
  const Tensor<float> out = full<float>(Shape{5}, 0.f);
  DimMask m(2, false);
  m.set(1);
  emu::sum(x, m, out);
  emu::plan_options() = {};
  EXPECT_EQ(emu::last_kernel(), "sinew::reduce_sum<float, float, sinew::int64_t>");
  bool found = false;
  for (const cuda::Instantiation& i : cuda::instantiations())
    found = found || i.name_expression == emu::last_kernel();
  EXPECT_TRUE(found);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
