// Deterministic mode: process-wide (a thread sees what another set), off by default, and while on
// an op without a deterministic implementation raises an Error naming itself.
#include <gtest/gtest.h>

#include <thread>

#include <sinew/tensor.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;

TEST(Deterministic, IsProcessWideAndMakesANondeterministicPathRaise) {
  EXPECT_FALSE(is_deterministic());
  EXPECT_NO_THROW(detail::check_deterministic("some_op", "atomic adds"));
  set_deterministic(true);
  bool seen = false;
  std::thread([&] { seen = is_deterministic(); }).join();
  EXPECT_TRUE(seen);
  SINEW_EXPECT_ERROR(detail::check_deterministic("some_op", "atomic adds"),
                     "some_op: no deterministic implementation (atomic adds); "
                     "set_deterministic(false) allows it");
  // Every op of this version is deterministic: a graph through them runs as always.
  Tensor<float> x = randn<float>({2, 1, 5, 5}).requires_grad_();
  Tensor<float> w = randn<float>({3, 1, 3, 3}).requires_grad_();
  EXPECT_NO_THROW(nn::functional::conv2d(x, w).relu().sum().backward());
  set_deterministic(false);
  EXPECT_FALSE(is_deterministic());
  EXPECT_NO_THROW(detail::check_deterministic("some_op", "atomic adds"));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
