// Element types: the DType tag, its name and size, and the C++ type <-> DType mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <type_traits>

namespace sinew {

enum class DType : uint8_t { Float32, Float64, Int64, UInt8, Bool };

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
    case DType::Int64:
      return "int64";
    case DType::UInt8:
      return "uint8";
    case DType::Bool:
      return "bool";
  }
  return "unknown";
}

inline std::size_t dtype_size(DType d) {
  switch (d) {
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
    case DType::Int64:
      return 8;
    case DType::UInt8:
      return 1;
    case DType::Bool:
      return 1;
  }
  return 0;
}

inline std::ostream& operator<<(std::ostream& os, DType d) { return os << dtype_name(d); }

template <class T>
inline constexpr bool is_supported_dtype_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int64_t> ||
    std::is_same_v<T, uint8_t> || std::is_same_v<T, bool>;

template <class T>
inline constexpr bool is_floating_dtype_v = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
constexpr DType dtype_of() {
  static_assert(is_supported_dtype_v<T>,
                "Sinew tensors hold float, double, int64_t, uint8_t or bool");
  if constexpr (std::is_same_v<T, float>)
    return DType::Float32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::Float64;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::Int64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DType::UInt8;
  else
    return DType::Bool;
}

}  // namespace sinew
