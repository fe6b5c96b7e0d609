// The kernel list (backend/kernels.hpp): the CPU backend provides every name (a compile-time
// check in backend/cpu/kernels.hpp, which this file includes) and no name is listed twice.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sinew/backend/cpu/kernels.hpp"

namespace {
namespace SINEW_UNITY_ID {

TEST(KernelList, NamesAreUnique) {
#define SINEW_KERNEL_NAME_(name) #name,
  const std::vector<std::string> names = {SINEW_BACKEND_KERNELS(SINEW_KERNEL_NAME_)};
#undef SINEW_KERNEL_NAME_
  const std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size());
  EXPECT_TRUE(unique.count("gemm"));
  EXPECT_TRUE(unique.count("lstm_cell_backward"));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
