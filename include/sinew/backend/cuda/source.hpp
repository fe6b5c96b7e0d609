// The CUDA kernel sources as strings for NVRTC (the kernels/*.cuh files, embedded), the op-kind
// enums as CUDA C++ text generated from backend/kinds.hpp, and the builder of the name
// expressions that pick one instantiation (e.g. "sinew::unary_flat<float, 1, sinew::int32_t, 4>").
// Plain C++: no CUDA header.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sinew/backend/kinds.hpp"
#include "sinew/core/dtype.hpp"

namespace sinew::backend::cuda {

// enum class Unary : unsigned char { Neg, Exp, ... }; for every family of backend/kinds.hpp, in
// namespace sinew: the enumerators and their order are the host's, so a kind's number in a name
// expression is the value the kernel's switch sees.
#define SINEW_CUDA_ENUMERATOR_TEXT(name) " " #name ","
#define SINEW_CUDA_ENUM_TEXT(Name, LIST) \
  "enum class " #Name " : unsigned char {" LIST(SINEW_CUDA_ENUMERATOR_TEXT) " };\n"
inline constexpr char kind_enums_source[] =
    "namespace sinew {\n" SINEW_KIND_FAMILIES(SINEW_CUDA_ENUM_TEXT) "}  // namespace sinew\n";
#undef SINEW_CUDA_ENUM_TEXT
#undef SINEW_CUDA_ENUMERATOR_TEXT

inline constexpr char prelude_source[] =
#include "sinew/backend/cuda/kernels/prelude.cuh"
    ;

inline constexpr char elementwise_source[] =
#include "sinew/backend/cuda/kernels/elementwise.cuh"
    ;

inline constexpr char reduce_source[] =
#include "sinew/backend/cuda/kernels/reduce.cuh"
    ;

inline constexpr char optim_source[] =
#include "sinew/backend/cuda/kernels/optim.cuh"
    ;

inline constexpr char random_source[] =
#include "sinew/backend/cuda/kernels/random.cuh"
    ;

inline constexpr char index_source[] =
#include "sinew/backend/cuda/kernels/index.cuh"
    ;

inline constexpr char scan_source[] =
#include "sinew/backend/cuda/kernels/scan.cuh"
    ;

inline constexpr char layers_source[] =
#include "sinew/backend/cuda/kernels/layers.cuh"
    ;

// A kernel family's fragment and its program name in NVRTC's diagnostics.
struct Fragment {
  std::string_view source;
  const char* program_name;
};
inline constexpr Fragment kElementwise{elementwise_source, "elementwise.cu"};
inline constexpr Fragment kReduce{reduce_source, "reduce.cu"};
inline constexpr Fragment kOptim{optim_source, "optim.cu"};
inline constexpr Fragment kRandom{random_source, "random.cu"};
inline constexpr Fragment kIndex{index_source, "index.cu"};
inline constexpr Fragment kScan{scan_source, "scan.cu"};
inline constexpr Fragment kLayers{layers_source, "layers.cu"};

// What NVRTC compiles for one kernel family: the enums, the prelude, the family's fragment.
inline std::string program_source(std::string_view fragment) {
  std::string s;
  s.reserve(sizeof(kind_enums_source) + sizeof(prelude_source) + fragment.size());
  s += kind_enums_source;
  s += prelude_source;
  s += fragment;
  return s;
}

// The C++ spelling of an element or index type in kernel source (the prelude's fixed-width
// names for the integers).
template <class T>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<T, float>)
    return "float";
  else if constexpr (std::is_same_v<T, double>)
    return "double";
  else if constexpr (std::is_same_v<T, bool>)
    return "bool";
  else if constexpr (std::is_same_v<T, int64_t>)
    return "sinew::int64_t";
  else if constexpr (std::is_same_v<T, int32_t>)
    return "sinew::int32_t";
  else if constexpr (std::is_same_v<T, uint8_t>)
    return "sinew::uint8_t";
  else
    static_assert(!sizeof(T), "no CUDA kernel type for this C++ type");
}

inline const char* type_name(DType d) {
  switch (d) {
    case DType::Float32:
      return type_name<float>();
    case DType::Float64:
      return type_name<double>();
    case DType::Int64:
      return type_name<int64_t>();
    case DType::UInt8:
      return type_name<uint8_t>();
    case DType::Bool:
      return type_name<bool>();
  }
  return "?";
}

inline const char* index_type_name(bool index32) {
  return index32 ? type_name<int32_t>() : type_name<int64_t>();
}

// A kind as a template argument: its number.
template <class E, class = std::enable_if_t<std::is_enum_v<E>>>
std::string kind_arg(E kind) {
  return std::to_string(static_cast<int>(kind));
}

// "sinew::<kernel><arg, arg, ...>".
template <class Args>
std::string name_expression(std::string_view kernel, const Args& args) {
  std::string s = "sinew::";
  s += kernel;
  s += '<';
  bool first = true;
  for (const auto& a : args) {
    if (!first) s += ", ";
    s += a;
    first = false;
  }
  s += '>';
  return s;
}
inline std::string name_expression(std::string_view kernel,
                                   std::initializer_list<std::string> args) {
  return name_expression<std::initializer_list<std::string>>(kernel, args);
}

}  // namespace sinew::backend::cuda
