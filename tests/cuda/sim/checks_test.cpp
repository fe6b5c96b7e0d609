// Kernel data checks: the prelude's checked_index in an emulated gather, and the host's CheckLog
// turning the record into a sinew::Error that names the op, the index, the dimension and where it
// was found (backend/cuda/checks.hpp).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sinew/backend/cuda/checks.hpp>
#include <sinew/sinew.hpp>

#include "emulator_kernels.hpp"
#include "test_util.hpp"

namespace sinew {

// A gather as an indexing kernel does it: out[i] = src[index[i]], an index out of range reported
// and its element left alone.
__global__ void checked_gather_kernel(float* out, const float* src, const int64_t* index, int64_t n,
                                      int64_t bound, dev::CheckRecord* record,
                                      unsigned long long tag) {
  for (int64_t i = dev::grid_start<int64_t>(); i < n; i += dev::grid_step<int64_t>()) {
    const long long k = dev::checked_index(index[i], bound, i, record, tag);
    if (k >= 0) out[i] = src[k];
  }
}

namespace {
namespace SINEW_UNITY_ID {

namespace cuda = backend::cuda;

static_assert(sizeof(dev::CheckRecord) == sizeof(cuda::CheckRecord) &&
              offsetof(dev::CheckRecord, tag) == offsetof(cuda::CheckRecord, tag) &&
              offsetof(dev::CheckRecord, value) == offsetof(cuda::CheckRecord, value) &&
              offsetof(dev::CheckRecord, bound) == offsetof(cuda::CheckRecord, bound) &&
              offsetof(dev::CheckRecord, position) == offsetof(cuda::CheckRecord, position));

constexpr float kUntouched = -7.0f;
const std::vector<float> kSource = {10, 11, 12, 13, 14};

// Runs the gather over `index` (2 blocks of 32 threads: a grid-stride loop of several steps) and
// returns its output; the host passes its record's address, as the backend does.
std::vector<float> gather(const std::vector<int64_t>& index, cuda::CheckRecord& record,
                          uint64_t tag) {
  std::vector<float> out(index.size(), kUntouched);
  sim::launch(&checked_gather_kernel, dim3(2), dim3(32), 0, out.data(), kSource.data(),
              index.data(), static_cast<int64_t>(index.size()),
              static_cast<int64_t>(kSource.size()), reinterpret_cast<dev::CheckRecord*>(&record),
              static_cast<unsigned long long>(tag));
  return out;
}

std::vector<int64_t> good_index(size_t n) {
  std::vector<int64_t> index(n);
  for (size_t i = 0; i < n; ++i) index[i] = static_cast<int64_t>((i * 3) % kSource.size());
  return index;
}

TEST(CudaKernelChecks, IndicesInRangeLeaveTheRecordClear) {
  cuda::CheckLog log;
  cuda::CheckRecord record;
  const std::vector<int64_t> index = good_index(150);
  const std::vector<float> out = gather(index, record, log.expect("index_select", 0));
  for (size_t i = 0; i < index.size(); ++i) EXPECT_EQ(out[i], kSource[index[i]]) << i;
  EXPECT_EQ(record.tag, 0u);
  EXPECT_NO_THROW(log.raise_recorded(record, 0, "cuda::synchronize"));
}

TEST(CudaKernelChecks, TheFirstBadIndexIsRaisedOnceNamingTheOp) {
  for (sim::Order order : {sim::Order::Forward, sim::Order::Reverse}) {
    sim::set_order(order);
    cuda::CheckLog log;
    cuda::CheckRecord record;
    std::vector<int64_t> index = good_index(150);
    index[7] = 9;    // block 0's first step: claimed first in either thread order
    index[40] = -1;  // block 1
    index[100] = 5;  // the loop's second step
    const uint64_t tag = log.expect("index_select", 1);
    const std::vector<float> out = gather(index, record, tag);
    for (size_t i = 0; i < index.size(); ++i) {
      if (i == 7 || i == 40 || i == 100)
        EXPECT_EQ(out[i], kUntouched) << i;
      else
        EXPECT_EQ(out[i], kSource[index[i]]) << i;
    }
    EXPECT_EQ(record.tag, tag);
    EXPECT_EQ(record.value, 9);
    EXPECT_EQ(record.bound, 5);
    EXPECT_EQ(record.position, 7);
    SINEW_EXPECT_ERROR(log.raise_recorded(record, 2, "Tensor::to"), "index_select (cuda:2)",
                       "index 9 is out of range for dimension 1 of size 5",
                       "element 7 of the index", "at the next synchronization (Tensor::to)");
    EXPECT_EQ(record.tag, 0u);  // cleared: raised once
    EXPECT_NO_THROW(log.raise_recorded(record, 2, "cuda::synchronize"));
  }
  sim::set_order(sim::Order::Forward);
}

TEST(CudaKernelChecks, TheEarliestFailingLaunchIsReported) {
  cuda::CheckLog log;
  cuda::CheckRecord record;
  std::vector<int64_t> first = good_index(40), second = good_index(40);
  first[30] = 6;
  second[0] = -2;
  gather(first, record, log.expect("gather", 0));
  gather(good_index(40), record, log.expect("index_select", 0));
  gather(second, record, log.expect("embedding", 0));
  SINEW_EXPECT_ERROR(log.raise_recorded(record, 0, "cuda::synchronize"), "gather (cuda:0)",
                     "index 6 is out of range", "element 30");
}

TEST(CudaKernelChecks, TagsAreDistinctAndNeverZero) {
  cuda::CheckLog log;
  uint64_t previous = 0;
  for (int i = 0; i < 10; ++i) {
    const uint64_t t = log.expect("gather", 0);
    EXPECT_NE(t, 0u);
    EXPECT_GT(t, previous);
    previous = t;
  }
}

TEST(CudaKernelChecks, AFailureOlderThanTheLogIsStillRaised) {
  cuda::CheckLog log;
  cuda::CheckRecord record;
  std::vector<int64_t> index = good_index(8);
  index[3] = 99;
  gather(index, record, log.expect("gather", 0));
  for (uint64_t i = 0; i < cuda::CheckLog::kCapacity; ++i) log.expect("index_select", 0);
  SINEW_EXPECT_ERROR(log.raise_recorded(record, 0, "cuda::synchronize"), "CUDA (cuda:0)",
                     "an index 99 out of range for a dimension of size 5", "element 3",
                     "more than 4096 checked launches before this synchronization");
  EXPECT_EQ(record.tag, 0u);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
