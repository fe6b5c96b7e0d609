// Reductions, softmax, scans and sorting on cuda:0 against the CPU, forward and backward: over all
// elements, one dimension and several, kept dimensions, transposed inputs, empty and one-element
// tensors, and rows longer than a block. Sums may add in another order on the device (per-op
// tolerance); extrema, indices, counts and sorting are exact.
#include <string>
#include <vector>

#include "device_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace device_parity;

TEST(CudaReduce, SumMeanProdOverDimsForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const auto tol = reordered<float>();
  const Fs x{input({5, 6, 7}, 1)};
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].sum(); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].sum({1}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].sum({0, 2}, true); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].mean({-1}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].transpose(0, 2).mean({0}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return (v[0] * 0.5f + 1).prod({1}); }, x, tol));
  // A row longer than a block (2,000 elements) and an empty reduction.
  EXPECT_TRUE(
      same_on_cuda([](const Fs& v) { return v[0].sum({1}); }, Fs{input({3, 2000}, 2)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].sum({1}); }, Fs{input({3, 0}, 3)}, tol));
  EXPECT_TRUE(same_on_cuda([](const Ds& v) { return v[0].sum({0}); },
                           Ds{testing::rand_input({300, 3}, 4)}, reordered<double>()));
  // Integer sums are exact and wrap as on the CPU.
  const Tensor<int64_t> ints = from_vector<int64_t>({INT64_MAX, 1, -5, 7, 9, 11}, {2, 3});
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor<int64_t>>& v) { return v[0].sum({0}); },
                           std::vector<Tensor<int64_t>>{ints}));
}

TEST(CudaReduce, ExtremaArgExtremaAndQuantifiers) {
  SINEW_NEEDS_CUDA();
  // Ties (rounded values) pick the first index on both devices.
  const Fs x{(input({6, 9}, 1) * 4).round().detach().requires_grad_()};
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].max(); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].amin({1}); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].max(1).values; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].min(0, true).indices; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].argmax(); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].t().argmin(1); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return all(v[0].gt(-3.0), 1).to<float>(); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return any(v[0].gt(3.0), 0).to<float>(); }, x));
  const TF nan = from_vector<float>({1, NAN, 3, -2}, {2, 2});
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].amax({1}); }, Fs{nan}));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].argmax(1); }, Fs{nan}));
}

TEST(CudaReduce, VarStdNormLogsumexpForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const auto tol = reordered<float>();
  const Fs x{input({4, 33}, 1)};
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].var({1}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].var({0}, false, true); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].std({1}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].norm(); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].norm(1, {1}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].norm(3, {0}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].logsumexp({1}); }, x, tol));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return (v[0] * 50).logsumexp({0}, true); }, x, tol));
}

TEST(CudaReduce, SoftmaxAndLogSoftmaxForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const auto tol = reordered<float>();
  const Fs x{input({3, 4, 10}, 1, -5, 5)};
  for (int64_t d : {0, 1, 2}) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(same_on_cuda([d](const Fs& v) { return v[0].softmax(d); }, x, tol));
    EXPECT_TRUE(same_on_cuda([d](const Fs& v) { return v[0].log_softmax(d); }, x, tol));
  }
  EXPECT_TRUE(
      same_on_cuda([](const Fs& v) { return v[0].softmax(1); }, Fs{input({2, 1500}, 2)}, tol));
}

TEST(CudaReduce, CumulativeSumAndProductForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const Fs x{input({4, 37}, 1)};
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return cumsum(v[0], 1); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return cumsum(v[0], 0); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return cumprod(v[0] * 0.5f + 1, 1); }, x, kExact,
                           reordered<float>()));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return cumsum(v[0].t(), 1); }, x));
}

TEST(CudaReduce, SortTopkArgsortAndNonzero) {
  SINEW_NEEDS_CUDA();
  const Fs x{(input({5, 12}, 1) * 3).round().detach().requires_grad_()};  // with ties
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].sort(1).values; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return sort(v[0], 1, true, true).indices; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return sort(v[0], 0).values; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return argsort(v[0].t(), 1, false, true); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return topk(v[0], 3, 1).values; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return topk(v[0], 2, 0, false).values; }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return nonzero(v[0]); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return nonzero(v[0].gt(10.0).to<float>()); }, x));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
