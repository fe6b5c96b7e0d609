// The instantiation table of the CUDA kernels: every kernel template instantiation the backend
// can request, as the name expression it asks NVRTC for (source.hpp's builder), with the source
// fragment that defines it. One table drives the NVRTC compile-all test, the emulator's registry
// and warmup(), so that what is verified is what runs.
//
// Each family of kernels/elementwise.cuh has a *_flat kernel <..., I, V> (contiguous operands, V
// elements per access) and a *_strided kernel <..., I> (strided and broadcast operands), I the
// index type (sinew::int32_t or sinew::int64_t). The table holds, for each family, the element
// types and op kinds the ops can produce (core/promotion.hpp, ops/arithmetic.hpp,
// ops/elementwise.hpp, ops/compare.hpp, ops/cast.hpp), each in both layouts, both index widths and
// every vector width launch_plan.hpp can pick for those operand types.
//
// Plain C++: no CUDA header.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sinew/backend/cuda/source.hpp"
#include "sinew/backend/kinds.hpp"
#include "sinew/core/dtype.hpp"

namespace sinew::backend::cuda {

// One instantiation of a kernel template.
struct Instantiation {
  std::string family;           // "unary": the launch function's family (emulator and backend)
  std::string kernel;           // "unary_flat": the __global__ template
  std::string name_expression;  // "sinew::unary_flat<float, 1, sinew::int32_t, 4>"
  std::string_view fragment;    // the source defining it; NVRTC compiles program_source(fragment)
  const char* program_name;     // the fragment's name in NVRTC's diagnostics ("elementwise.cu")
  DType dtype;                  // the first type argument: the element type (copy: the output's)
  bool flat = false;            // a *_flat kernel (else *_strided)
  bool index32 = false;         // sinew::int32_t indices (else sinew::int64_t)
  int vec = 0;                  // elements per access of a *_flat kernel (0 for *_strided)
};

// ---- which element types reach which kernel
// ------------------------------------------------------

// Every element type a tensor can have.
inline constexpr DType kAllDTypes[] = {DType::Float32, DType::Float64, DType::Int64, DType::UInt8,
                                       DType::Bool};

inline constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

// The Unary kinds an op runs on tensors of t. Float math (exp, sigmoid, gelu, ...), the
// activations' derivatives (Step, InRange, LeakyStep) and division by a scalar run on float and
// double only: integer and bool tensors are converted to float first (floating_t), or the op does
// not compile for them. Integer tensors keep their type for the rest (has_integer_unary of
// backend/cpu/elementwise.hpp). Bool tensors: sign, and x + s, x * s with a bool scalar (also
// add_ and mul_ in place); an integer scalar promotes them to int64 first; neg, abs, relu, clamp,
// rounding, rsub and pow are compile errors.
constexpr bool unary_reaches(Unary op, DType t) {
  if (is_floating(t)) return true;
  if (t == DType::Bool)
    return op == Unary::Sign || op == Unary::AddScalar || op == Unary::MulScalar;
  switch (op) {
    case Unary::Neg:
    case Unary::Abs:
    case Unary::Sign:
    case Unary::Relu:
    case Unary::ClampMin:
    case Unary::ClampMax:
    case Unary::Clamp:
    case Unary::AddScalar:
    case Unary::MulScalar:
    case Unary::RSubScalar:
    case Unary::PowScalar:
    case Unary::RPowScalar:
    case Unary::Floor:
    case Unary::Ceil:
    case Unary::Round:
    case Unary::Trunc:
      return true;
    default:
      return false;
  }
}

// The Binary kinds an op runs on tensors of t: integer tensors divide in float (so no integer
// Div); bool tensors add (or), multiply (and), take minimum and maximum, but neither subtract nor
// raise to a power, nor take ReluGrad (a gradient, floating only in the ops).
constexpr bool binary_reaches(Binary op, DType t) {
  if (is_floating(t)) return true;
  if (op == Binary::Div) return false;
  if (t == DType::Bool) return op != Binary::Sub && op != Binary::Pow && op != Binary::ReluGrad;
  return true;
}

// The comparison types of a tensor-scalar comparison on tensors of t (compare_scalar_t of
// launch_plan.hpp): t itself for float and double (the scalar rounded to t); for integer and bool
// tensors int64 with an integer scalar and double with a floating one (ops/common.hpp's
// kernel_scalar passes every scalar as int64 or double).
inline std::vector<DType> compare_scalar_types(DType t) {
  if (is_floating(t)) return {t};
  return {DType::Int64, DType::Float64};
}

// The vector widths launch_plan.hpp can pick for a flat launch whose widest operand has
// `max_bytes`-byte elements: 1, 2 and 4 elements, never more than 16 bytes an access.
inline std::vector<int> flat_vector_widths(size_t max_bytes) {
  std::vector<int> v;
  for (int w : {1, 2, 4})
    if (static_cast<size_t>(w) * max_bytes <= 16) v.push_back(w);
  return v;
}

namespace detail_inst {

template <class E>
std::vector<E> all_kinds();
#define SINEW_INST_KIND(name) E::name,
#define SINEW_INST_ALL_KINDS(Name, LIST) \
  template <>                            \
  inline std::vector<Name> all_kinds() { \
    using E = Name;                      \
    return {LIST(SINEW_INST_KIND)};      \
  }
SINEW_KIND_FAMILIES(SINEW_INST_ALL_KINDS)
#undef SINEW_INST_ALL_KINDS
#undef SINEW_INST_KIND

inline Instantiation make(const char* family, DType dtype, std::vector<std::string> args,
                          bool index32, int vec, const Fragment& fragment = kElementwise) {
  Instantiation i;
  i.family = family;
  i.kernel = std::string(family) + (vec > 0 ? "_flat" : "_strided");
  args.emplace_back(index_type_name(index32));
  if (vec > 0) args.push_back(std::to_string(vec));
  i.name_expression = name_expression(i.kernel, args);
  i.fragment = fragment.source;
  i.program_name = fragment.program_name;
  i.dtype = dtype;
  i.flat = vec > 0;
  i.index32 = index32;
  i.vec = vec;
  return i;
}

// Appends the flat and strided instantiations of `family` with the leading template arguments
// `args` (then I, then V for flat), for operands of at most `max_bytes` bytes an element.
inline void add_layouts(std::vector<Instantiation>& out, const char* family, DType dtype,
                        const std::vector<std::string>& args, size_t max_bytes) {
  for (bool index32 : {true, false}) {
    for (int v : flat_vector_widths(max_bytes))
      out.push_back(make(family, dtype, args, index32, v));
    out.push_back(make(family, dtype, args, index32, 0));
  }
}

// Appends kernel<args..., I> of `fragment` for both index widths I (the families with one kernel
// and no vector width: reductions, random fills, indexing).
inline void add_index_widths(std::vector<Instantiation>& out, const char* family,
                             const char* kernel, const Fragment& fragment, DType dtype,
                             const std::vector<std::string>& args) {
  for (bool index32 : {true, false}) {
    Instantiation i;
    i.family = family;
    i.kernel = kernel;
    std::vector<std::string> a = args;
    a.emplace_back(index_type_name(index32));
    i.name_expression = name_expression(i.kernel, a);
    i.fragment = fragment.source;
    i.program_name = fragment.program_name;
    i.dtype = dtype;
    i.index32 = index32;
    out.push_back(std::move(i));
  }
}

}  // namespace detail_inst

// The elementwise families of kernels/elementwise.cuh, in the order of that file.
inline std::vector<Instantiation> elementwise_instantiations() {
  using detail_inst::add_layouts;
  using detail_inst::all_kinds;
  std::vector<Instantiation> out;
  // fill<T>: every type (factories, fill_, zero_).
  for (DType t : kAllDTypes) add_layouts(out, "fill", t, {type_name(t)}, dtype_size(t));
  // copy<To, From>: every pair (to<U>() between any two types; clone, contiguous, copy_ and the
  // views' copies within one type).
  for (DType to : kAllDTypes)
    for (DType from : kAllDTypes)
      add_layouts(out, "copy", to, {type_name(to), type_name(from)},
                  std::max(dtype_size(to), dtype_size(from)));
  // unary<T, OP>.
  for (DType t : kAllDTypes)
    for (Unary op : all_kinds<Unary>())
      if (unary_reaches(op, t))
        add_layouts(out, "unary", t, {type_name(t), kind_arg(op)}, dtype_size(t));
  // binary<T, OP>.
  for (DType t : kAllDTypes)
    for (Binary op : all_kinds<Binary>())
      if (binary_reaches(op, t))
        add_layouts(out, "binary", t, {type_name(t), kind_arg(op)}, dtype_size(t));
  // compare<T, OP>: every type and kind (bool output).
  for (DType t : kAllDTypes)
    for (Compare op : all_kinds<Compare>())
      add_layouts(out, "compare", t, {type_name(t), kind_arg(op)}, dtype_size(t));
  // compare_scalar<T, C, OP>.
  for (DType t : kAllDTypes)
    for (DType c : compare_scalar_types(t))
      for (Compare op : all_kinds<Compare>())
        add_layouts(out, "compare_scalar", t, {type_name(t), type_name(c), kind_arg(op)},
                    dtype_size(t));
  // logical<OP>: bool only.
  for (Logical op : all_kinds<Logical>())
    add_layouts(out, "logical", DType::Bool, {kind_arg(op)}, dtype_size(DType::Bool));
  // classify<T, OP>: every type (integer and bool tensors are all finite).
  for (DType t : kAllDTypes)
    for (Classify op : all_kinds<Classify>())
      add_layouts(out, "classify", t, {type_name(t), kind_arg(op)}, dtype_size(t));
  // isclose<T>, where<T>: every type.
  for (DType t : kAllDTypes) add_layouts(out, "isclose", t, {type_name(t)}, dtype_size(t));
  for (DType t : kAllDTypes) add_layouts(out, "where", t, {type_name(t)}, dtype_size(t));
  // masked_fill<T>: every type (masked_fill_ and masked_fill of ops/index.hpp).
  for (DType t : kAllDTypes) add_layouts(out, "masked_fill", t, {type_name(t)}, dtype_size(t));
  return out;
}

// The reduction families of kernels/reduce.cuh (planned by reduce_plan.hpp): one kernel per
// family, <type arguments..., I> with I both index widths; the layout (a block or a thread per
// output), max/min, the norm's p and log_softmax are run-time arguments. Types as ops/reduce.hpp
// and ops/scan.hpp produce them: sum and prod of every type (float and double keep it, integer
// and bool inputs give int64), all/any, max/min and argmax/argmin of every type, var, norm,
// logsumexp and softmax of float and double.
inline std::vector<Instantiation> reduction_instantiations() {
  std::vector<Instantiation> out;
  auto add = [&out](const char* family, const char* kernel, DType t,
                    const std::vector<std::string>& args) {
    detail_inst::add_index_widths(out, family, kernel, kReduce, t, args);
  };
  for (DType t : kAllDTypes) {
    const char* r = type_name(is_floating(t) ? t : DType::Int64);
    add("sum", "reduce_sum", t, {type_name(t), r});
    add("prod", "reduce_prod", t, {type_name(t), r});
  }
  for (Quantifier q : detail_inst::all_kinds<Quantifier>())
    for (DType t : kAllDTypes) add("all_any", "reduce_all_any", t, {kind_arg(q), type_name(t)});
  for (DType t : kAllDTypes) add("extremum", "reduce_extremum", t, {type_name(t)});
  for (DType t : kAllDTypes) add("arg_extremum", "reduce_arg_extremum", t, {type_name(t)});
  for (DType t : {DType::Float32, DType::Float64}) {
    add("var", "reduce_var", t, {type_name(t)});
    add("norm", "reduce_norm", t, {type_name(t)});
    add("logsumexp", "reduce_logsumexp", t, {type_name(t)});
    add("softmax", "softmax_dim", t, {type_name(t)});
  }
  return out;
}

// The optimizer steps of kernels/optim.cuh (planned by optim_plan.hpp): <family>_flat<T, flags...,
// I, V> for float and double, every combination of the state buffers a step can be given (the
// bool flags), both index widths and every vector width of T.
inline std::vector<Instantiation> optim_instantiations() {
  std::vector<Instantiation> out;
  struct Family {
    const char* name;
    int flags;  // bool template arguments after T: which optional state buffers exist
  };
  // sgd_step<T, momentum>, adam_step<T, amsgrad>, rmsprop_step<T, momentum, centered>,
  // adagrad_step<T>.
  for (const Family f : {Family{"sgd_step", 1}, Family{"adam_step", 1}, Family{"rmsprop_step", 2},
                         Family{"adagrad_step", 0}})
    for (DType t : {DType::Float32, DType::Float64})
      for (int bits = 0; bits < (1 << f.flags); ++bits) {
        std::vector<std::string> args = {type_name(t)};
        for (int k = 0; k < f.flags; ++k) args.emplace_back((bits >> k) & 1 ? "true" : "false");
        for (bool index32 : {true, false})
          for (int v : flat_vector_widths(dtype_size(t)))
            out.push_back(detail_inst::make(f.name, t, args, index32, v, kOptim));
      }
  return out;
}

// The random fills of kernels/random.cuh (planned by random_plan.hpp): <kernel><T, I> for both
// index widths; uniform_ and normal_ fill float and double, bernoulli_ every type.
inline std::vector<Instantiation> random_instantiations() {
  std::vector<Instantiation> out;
  auto add = [&out](const char* family, const char* kernel, DType t) {
    detail_inst::add_index_widths(out, family, kernel, kRandom, t, {type_name(t)});
  };
  for (DType t : {DType::Float32, DType::Float64}) {
    add("uniform", "uniform_fill", t);
    add("normal", "normal_fill", t);
  }
  for (DType t : kAllDTypes) add("bernoulli", "bernoulli_fill", t);
  return out;
}

// The indexing kernels of kernels/index.cuh (strided only): gather<T, I> and scatter_add<T, I> of
// every type (index_select, gather, embedding, index_add and scatter_add take any element type).
inline std::vector<Instantiation> index_instantiations() {
  std::vector<Instantiation> out;
  for (DType t : kAllDTypes) {
    detail_inst::add_index_widths(out, "gather", "gather_strided", kIndex, t, {type_name(t)});
    detail_inst::add_index_widths(out, "scatter_add", "scatter_add_strided", kIndex, t,
                                  {type_name(t)});
  }
  return out;
}

// The scans and compactions of kernels/scan.cuh: scan_inplace<K, R, I> for cumsum and cumprod
// of the result types (float, double; int64 for integer and bool inputs, converted first), and
// the chunked count, masked_select, masked_scatter and nonzero of every type (the masked kernels'
// counts are of the bool mask), and sort_rank<T, I> of every type.
inline std::vector<Instantiation> scan_instantiations() {
  std::vector<Instantiation> out;
  for (Scan k : detail_inst::all_kinds<Scan>())
    for (DType r : {DType::Float32, DType::Float64, DType::Int64})
      detail_inst::add_index_widths(out, "scan", "scan_inplace", kScan, r,
                                    {kind_arg(k), type_name(r)});
  for (DType t : kAllDTypes) {
    for (const char* kernel : {"chunk_count", "masked_select_chunks", "masked_scatter_chunks",
                               "nonzero_chunks", "sort_rank"})
      detail_inst::add_index_widths(out, kernel, kernel, kScan, t, {type_name(t)});
  }
  return out;
}

// The layer kernels of kernels/layers.cuh (backend/cuda/layers.hpp): <kernel><T> for float and
// double (convolution, pooling and normalization are floating only, as the recurrent cells),
// 64-bit indices throughout.
inline constexpr const char* kLayerKernels[] = {
    "im2col_cells",
    "col2im_pixels",
    "channel_fill",
    "max_pool2d_cells",
    "max_pool2d_backward_planes",
    "avg_pool2d_cells",
    "avg_pool2d_backward_pixels",
    "adaptive_avg_pool2d_cells",
    "adaptive_avg_pool2d_backward_pixels",
    "adaptive_max_pool2d_cells",
    "batch_norm_stats_channels",
    "channel_affine_cells",
    "batch_norm_backward_channels",
    "row_normalize_rows",
    "row_normalize_backward_rows",
    "lstm_cell_forward_units",
    "lstm_cell_backward_units",
    "gru_cell_forward_units",
    "gru_cell_backward_units",
    "rnn_cell_forward_units",
    "rnn_cell_backward_units",
};

inline std::vector<Instantiation> layer_instantiations() {
  std::vector<Instantiation> out;
  for (const char* kernel : kLayerKernels) {
    for (DType t : {DType::Float32, DType::Float64}) {
      Instantiation i;
      i.family = kernel;
      i.kernel = kernel;
      i.name_expression = name_expression(kernel, {std::string(type_name(t))});
      i.fragment = kLayers.source;
      i.program_name = kLayers.program_name;
      i.dtype = t;
      out.push_back(std::move(i));
    }
  }
  return out;
}

// Every instantiation of every kernel family.
inline const std::vector<Instantiation>& instantiations() {
  static const std::vector<Instantiation> table = [] {
    std::vector<Instantiation> t = elementwise_instantiations();
    for (auto part : {reduction_instantiations(), optim_instantiations(), random_instantiations(),
                      index_instantiations(), scan_instantiations(), layer_instantiations()})
      t.insert(t.end(), part.begin(), part.end());
    return t;
  }();
  return table;
}

}  // namespace sinew::backend::cuda
