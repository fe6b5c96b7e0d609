// Indexing and shape ops on cuda:0 against the CPU, forward and backward: index_select, gather,
// scatter_add, index_add, masked fill/select/scatter, flip, embedding, cat/stack, pad (constant and
// the index-based modes), repeat, slicing and index_put_. A bad index on the device is reported
// at the next synchronization as a sinew::Error naming the op.
#include <string>
#include <vector>

#include "device_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace device_parity;

TI on(const TI& index, const Device& d) { return index.to(d); }

TEST(CudaIndex, IndexSelectGatherScatterAddForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const TI rows = from_vector<int64_t>({2, 0, 2, 4, 1}, {5});
  const Fs x{input({5, 6}, 1)};
  EXPECT_TRUE(
      same_on_cuda([&](const Fs& v) { return v[0].index_select(0, on(rows, v[0].device())); }, x));
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return v[0].t().index_select(1, on(rows, v[0].device())); }, x));
  const TI g = from_vector<int64_t>({0, 5, 1, 1, 2, 3, 4, 0, 0, 5, 5, 5}, {3, 4});
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return v[0].gather(1, on(g, v[0].device())); }, x));
  EXPECT_TRUE(
      same_on_cuda([&](const Fs& v) { return scatter_add(v[0], 1, on(g, v[0].device()), v[1]); },
                   Fs{input({3, 6}, 2), input({3, 4}, 3)}));
  // Repeated destinations add in the CPU's order on the device too: exact.
  EXPECT_TRUE(
      same_on_cuda([&](const Fs& v) { return index_add(v[0], 0, on(rows, v[0].device()), v[1]); },
                   Fs{input({5, 6}, 4), input({5, 6}, 5)}));
}

TEST(CudaIndex, MasksFlipAndEmbeddingForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const Fs x{input({4, 7}, 1), input({4, 7}, 2)};
  auto mask = [](const TF& t) { return t.gt(0.2); };
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return v[0].masked_fill(mask(v[1]), -3.0); }, x));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return masked_select(v[0], mask(v[1])); }, x));
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return masked_select(v[0], mask(v[1].select(0, 1))); }, x));  // broadcast
  EXPECT_TRUE(
      same_on_cuda([&](const Fs& v) { return masked_scatter(v[0], mask(v[1]), v[1] * 10); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].flip({0}); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].t().flip({0, 1}); }, x));
  const TI ids = from_vector<int64_t>({3, 0, 3, 6, 1, 3}, {2, 3});
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return nn::functional::embedding(on(ids, v[0].device()), v[0]); },
      Fs{input({7, 5}, 3)}));
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return nn::functional::embedding(on(ids, v[0].device()), v[0], 3); },
      Fs{input({7, 5}, 4)}));
}

TEST(CudaIndex, CatStackPadRepeatAndSlicingForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const Fs x{input({3, 4}, 1), input({3, 4}, 2), input({2, 4}, 3)};
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return cat(Fs{v[0], v[2], v[1]}, 0); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return cat(Fs{v[0].t(), v[1].t()}, 1); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return stack(Fs{v[0], v[1]}, 1); }, x));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return pad(v[0], {1, 2, 0, 1}, 0.5); }, x));
  for (const char* mode : {"reflect", "replicate", "circular"}) {
    SCOPED_TRACE(mode);
    EXPECT_TRUE(same_on_cuda(
        [&](const Fs& v) {
          return nn::functional::pad(v[0].reshape({1, 1, 3, 4}), {2, 1, 1, 2}, std::string(mode));
        },
        x));
  }
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].repeat({2, 3}); }, x));
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) {
        return v[0].index({Slice{1, 3}, Slice{0, 4, 2}}) * 2;
      },
      x));
  EXPECT_TRUE(same_on_cuda(
      [](const Fs& v) {
        TF y = v[0].detach().clone();
        y.index_put_({Slice{0, 2}, 1}, 9.0);
        y.index_put_({2}, v[1].detach().select(0, 0));
        return y;
      },
      x));
}

TEST(CudaIndex, BadIndexOnTheDeviceIsAnErrorAtTheNextSynchronization) {
  SINEW_NEEDS_CUDA();
  const TF x = input({4, 3}, 1).detach().to(kCuda);
  const TI bad = from_vector<int64_t>({0, 4}, {2}).to(kCuda);
  SINEW_EXPECT_ERROR(
      {
        TF y = x.index_select(0, bad);
        cuda::synchronize();
      },
      "index", "4");
  // The error was raised once: the device works on.
  EXPECT_TRUE(
      testing::all_close(x.index_select(0, from_vector<int64_t>({3, 1}, {2}).to(kCuda)).cpu(),
                         x.cpu().index_select(0, from_vector<int64_t>({3, 1}, {2}))));
  const TI bad_gather = from_vector<int64_t>({0, -1, 2}, {1, 3}).to(kCuda);
  SINEW_EXPECT_ERROR((void)x.gather(1, bad_gather).cpu(), "gather", "-1");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
