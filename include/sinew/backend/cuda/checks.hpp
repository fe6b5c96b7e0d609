// Data checks done by kernels and reported at the next synchronization: the host half of the
// prelude's dev::CheckRecord (kernels/prelude.cuh). A kernel that reads indices checks each one
// itself, so an op on a device needs no host round trip to validate its index tensor first (as
// PyTorch's device-side asserts, but the device stays usable). The first failing thread of any
// launch since the last synchronization writes the record; the backend raises it as a
// sinew::Error where it next waits for the device.
//
//   CheckRecord                      the record, byte for byte the prelude's dev::CheckRecord
//   CheckLog::expect(op, dim)        the tag of a launch of `op` that checks indices of `dim`
//   CheckLog::raise_recorded(r, device, where)
//                                    after a synchronization: throws the failure in r (and clears
//                                    r), naming the op that launched the failing kernel
//
// Plain C++ with no CUDA header, so that it is tested without a GPU; backend/cuda/device.hpp holds
// a record (pinned host memory) and a log per device.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <type_traits>

#include "sinew/core/error.hpp"

namespace sinew::backend::cuda {

struct CheckRecord {
  uint64_t tag = 0;  // 0: nothing failed; else the failing launch's tag
  int64_t value = 0;
  int64_t bound = 0;
  int64_t position = 0;
};
static_assert(sizeof(CheckRecord) == 32 && std::is_standard_layout_v<CheckRecord>,
              "CheckRecord must match dev::CheckRecord of kernels/prelude.cuh");

class CheckLog {
 public:
  // Checked launches remembered between two synchronizations; an older failing launch is still
  // reported, without the op's name.
  static constexpr uint64_t kCapacity = 4096;

  // The tag to pass to a launch of `op` (a string literal) that checks indices into dimension
  // `dim` of its input. Tags are never 0 and never repeat.
  uint64_t expect(const char* op, int64_t dim) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t tag = next_++;
    ring_[tag % kCapacity] = Entry{tag, op, dim};
    return tag;
  }

  // Raises the failure in `record` (after a synchronization: no kernel writes it meanwhile) and
  // clears it; returns where nothing failed. `where` names the synchronization point.
  void raise_recorded(CheckRecord& record, int device, const char* where) {
    if (record.tag == 0) [[likely]]
      return;
    const CheckRecord r = record;
    record = CheckRecord{};
    Entry e;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      e = ring_[r.tag % kCapacity];
    }
    const std::string dev = " (cuda:" + std::to_string(device) + ")";
    const std::string found = std::string("; a kernel found it, reported at the next ") +
                              "synchronization (" + where + ")";
    if (e.tag == r.tag) {
      ::sinew::detail::fail(std::string(e.op) + dev, "index ", r.value,
                            " is out of range for dimension ", e.dim, " of size ", r.bound,
                            " (element ", r.position, " of the index)", found);
    }
    ::sinew::detail::fail(std::string("CUDA") + dev, "an index ", r.value,
                          " out of range for a dimension of size ", r.bound, " (element ",
                          r.position, " of the index) in a kernel launched more than ", kCapacity,
                          " checked launches before this synchronization", found);
  }

 private:
  struct Entry {
    uint64_t tag = 0;
    const char* op = nullptr;
    int64_t dim = 0;
  };
  std::mutex mutex_;
  uint64_t next_ = 1;
  std::array<Entry, kCapacity> ring_{};
};

}  // namespace sinew::backend::cuda
