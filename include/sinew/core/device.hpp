// Device: where a tensor's memory lives (the CPU, or CUDA device N), chosen at run time; and
// cuda::is_available() / cuda::device_count().
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "sinew/core/error.hpp"

namespace sinew {

enum class DeviceType : uint8_t { CPU, CUDA };

class Device {
 public:
  constexpr Device() = default;
  constexpr Device(DeviceType type, int index) : type_(type), index_(index) {}

  static constexpr Device cpu() { return {}; }
  static constexpr Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }

  // Parses "cpu", "cuda" or "cuda:N".
  static Device parse(const std::string& s) {
    if (s == "cpu") return cpu();
    if (s == "cuda") return cuda(0);
    if (s.rfind("cuda:", 0) == 0 && s.size() > 5) {
      int index = 0;
      for (char c : s.substr(5)) {
        SINEW_CHECK(c >= '0' && c <= '9' && index < 100000, "Device::parse", "bad device string '",
                    s, "'");
        index = index * 10 + (c - '0');
      }
      return cuda(index);
    }
    detail::fail("Device::parse", "bad device string '", s, "' (expected cpu, cuda or cuda:N)");
  }

  constexpr DeviceType type() const { return type_; }
  constexpr int index() const { return index_; }
  constexpr bool is_cpu() const { return type_ == DeviceType::CPU; }
  constexpr bool is_cuda() const { return type_ == DeviceType::CUDA; }
  constexpr bool operator==(const Device&) const = default;

  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index_); }

 private:
  DeviceType type_ = DeviceType::CPU;
  int index_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

// Raises the error a build without the CUDA backend gives for any CUDA device.
[[noreturn]] inline void no_cuda(const char* where, const Device& d) {
  detail::fail(where, "device ", d,
               " requested, but this build of Sinew has no CUDA backend (link Sinew::cuda, "
               "which defines SINEW_WITH_CUDA)");
}

}  // namespace sinew

// As torch::cuda: whether CUDA devices can be used, and how many there are. A build without the
// CUDA backend has none (no link dependency); the CUDA backend (SINEW_WITH_CUDA) defines these.
#ifndef SINEW_WITH_CUDA
namespace sinew::cuda {
inline bool is_available() { return false; }
inline size_t device_count() { return 0; }
inline bool cudnn_is_available() { return false; }
}  // namespace sinew::cuda
#endif
