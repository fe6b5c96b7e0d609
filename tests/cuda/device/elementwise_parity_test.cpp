// Elementwise ops on cuda:0 against the CPU, forward and backward: unary and binary ops (also
// broadcast, transposed and sliced operands), scalars, comparisons, logical ops, where, clamp,
// casts, in-place ops and activations. The same math library computes both sides on the emulator,
// so results are the same bits; on a GPU the device's math is within a few ulps.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "device_parity.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using namespace device_parity;

#ifdef SINEW_CUDA_EMULATED_DEVICE
constexpr device_parity::Tolerance kMath = device_parity::kExact;
#else
constexpr device_parity::Tolerance kMath{1e-6, 4e-7};
#endif

TEST(CudaElementwise, UnaryOpsForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const std::vector<std::pair<std::string, std::function<TF(const TF&)>>> ops = {
      {"neg", [](const TF& x) { return -x; }},
      {"abs", [](const TF& x) { return x.abs(); }},
      {"exp", [](const TF& x) { return x.exp(); }},
      {"log", [](const TF& x) { return (x.abs() + 0.1f).log(); }},
      {"sqrt", [](const TF& x) { return (x.abs() + 0.1f).sqrt(); }},
      {"sigmoid", [](const TF& x) { return x.sigmoid(); }},
      {"tanh", [](const TF& x) { return x.tanh(); }},
      {"relu", [](const TF& x) { return x.relu(); }},
      {"sin", [](const TF& x) { return sin(x); }},
      {"cos", [](const TF& x) { return cos(x); }},
      {"pow 3", [](const TF& x) { return x.pow(3); }},
      {"pow 0.5", [](const TF& x) { return (x.abs() + 0.1f).pow(0.5); }},
      {"clamp", [](const TF& x) { return x.clamp(-0.3, 0.4); }},
      {"gelu", [](const TF& x) { return gelu(x); }},
      {"elu", [](const TF& x) { return elu(x); }},
      {"leaky_relu", [](const TF& x) { return leaky_relu(x, 0.2); }},
      {"softplus", [](const TF& x) { return softplus(x); }},
      {"selu", [](const TF& x) { return nn::functional::selu(x); }},
      {"hardtanh", [](const TF& x) { return nn::functional::hardtanh(x, -0.5, 0.5); }},
      {"floor", [](const TF& x) { return (x * 3).floor(); }},
      {"round", [](const TF& x) { return (x * 3).round(); }},
      {"scalar ops", [](const TF& x) { return (2.0f - x) * 3 / 1.5f + 1; }},
  };
  for (const auto& entry : ops) {  // no structured binding: clang 14 cannot capture one
    SCOPED_TRACE(entry.first);
    const auto& op = entry.second;
    // Contiguous, 33 elements (not a multiple of the vector width), transposed, one column.
    EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return op(v[0]); }, Fs{input({33}, 1)}, kMath));
    EXPECT_TRUE(
        same_on_cuda([&](const Fs& v) { return op(v[0].t()); }, Fs{input({5, 7}, 2)}, kMath));
    EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return op(v[0].select(1, 2)); },
                             Fs{input({6, 4}, 3)}, kMath));
  }
}

TEST(CudaElementwise, BinaryOpsWithBroadcastingForwardAndBackward) {
  SINEW_NEEDS_CUDA();
  const std::vector<std::pair<std::string, std::function<TF(const TF&, const TF&)>>> ops = {
      {"add", [](const TF& a, const TF& b) { return a + b; }},
      {"sub", [](const TF& a, const TF& b) { return a - b; }},
      {"mul", [](const TF& a, const TF& b) { return a * b; }},
      {"div", [](const TF& a, const TF& b) { return a / (b.abs() + 0.5f); }},
      {"pow", [](const TF& a, const TF& b) { return pow(a.abs() + 0.5f, b); }},
      {"maximum", [](const TF& a, const TF& b) { return maximum(a, b); }},
      {"minimum", [](const TF& a, const TF& b) { return minimum(a, b); }},
      {"add alpha", [](const TF& a, const TF& b) { return add(a, b, 2.5); }},
  };
  for (const auto& entry : ops) {  // no structured binding: clang 14 cannot capture one
    SCOPED_TRACE(entry.first);
    const auto& op = entry.second;
    auto f = [&](const Fs& v) { return op(v[0], v[1]); };
    EXPECT_TRUE(same_on_cuda(f, Fs{input({4, 5}, 1), input({4, 5}, 2)}, kMath));
    EXPECT_TRUE(same_on_cuda(f, Fs{input({4, 5}, 3), input({5}, 4)}, kMath));
    EXPECT_TRUE(same_on_cuda(f, Fs{input({3, 1, 5}, 5), input({4, 1}, 6)}, kMath));
    EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return op(v[0].t(), v[1]); },
                             Fs{input({5, 4}, 7), input({4, 5}, 8)}, kMath));
  }
}

TEST(CudaElementwise, ComparisonsLogicalOpsAndWhere) {
  SINEW_NEEDS_CUDA();
  const Fs in{input({6, 7}, 1), input({7}, 2)};
  auto as_float = [](const Tensor<bool>& b) { return b.to<float>(); };
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].lt(v[1])); }, in));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].ge(v[1])); }, in));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].eq(v[0])); }, in));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].gt(0.25)); }, in));
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return as_float(logical_and(v[0].gt(0.0), v[1].lt(0.5))); }, in));
  EXPECT_TRUE(same_on_cuda(
      [&](const Fs& v) { return as_float(logical_or(v[0].gt(0.0), logical_not(v[1].lt(0.5)))); },
      in));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return where(v[0].gt(v[1]), v[0], v[1] * 2); }, in));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return where(v[0].gt(0.0), v[0], 0.5f); }, in));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].isclose(v[0] + 1e-7f)); }, in));
  const TF special = from_vector<float>({1, NAN, INFINITY, -INFINITY, 0, -0.0f}, {6});
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].isnan()); }, Fs{special}));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].isinf()); }, Fs{special}));
  EXPECT_TRUE(same_on_cuda([&](const Fs& v) { return as_float(v[0].isfinite()); }, Fs{special}));
}

TEST(CudaElementwise, CastsBetweenDtypes) {
  SINEW_NEEDS_CUDA();
  const Fs in{input({3, 5}, 1, -4, 4)};
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].to<double>(); }, in));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].abs().to<uint8_t>(); }, in));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].to<int64_t>().to<float>(); }, in));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].to<bool>(); }, in));
  EXPECT_TRUE(same_on_cuda([](const Fs& v) { return v[0].t().to<double>(); }, in));
  // Integer arithmetic wraps the same way on both devices.
  const Tensor<int64_t> big = from_vector<int64_t>({INT64_MAX, INT64_MIN, 3, -7}, {4});
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor<int64_t>>& v) { return v[0] + v[0]; },
                           std::vector<Tensor<int64_t>>{big}));
  EXPECT_TRUE(same_on_cuda([](const std::vector<Tensor<int64_t>>& v) { return v[0] * 3 - 1; },
                           std::vector<Tensor<int64_t>>{big}));
}

TEST(CudaElementwise, InPlaceOpsAndFills) {
  SINEW_NEEDS_CUDA();
  const Fs in{input({4, 6}, 1), input({6}, 2)};
  auto inplace = [](const Fs& v) {
    TF y = v[0] * 1;  // a non-leaf copy to change in place (keeps the graph)
    y.add_(v[1], 0.5).mul_(2.0).clamp_(-0.5, 1.0);
    y.sub_(v[1]).div_(3.0).relu_();
    return y;
  };
  EXPECT_TRUE(same_on_cuda(inplace, in, kMath));
  auto fills = [](const Fs& v) {
    TF y = v[0].detach().clone();
    y.index({Slice{1, 3}}).fill_(7.0);
    y.select(1, 4).zero_();
    y.masked_fill_(y.gt(0.5), -1.0);
    return y;
  };
  EXPECT_TRUE(same_on_cuda(fills, in));
  auto copies = [](const Fs& v) {
    TF y = zeros<float>({6, 4}, v[0].device());
    y.t().copy_(v[0].detach());                                        // a transposed destination
    y.index({Slice{0, 2}}).copy_(v[1].detach().index({Slice{0, 4}}));  // a broadcast source
    return y;
  };
  EXPECT_TRUE(same_on_cuda(copies, in));
}

TEST(CudaElementwise, FactoriesOnTheDevice) {
  SINEW_NEEDS_CUDA();
  auto f = [](const Fs& v) {
    const Device d = v[0].device();
    return cat(Fs{zeros<float>({2, 3}, d), ones<float>({1, 3}, d), full<float>({1, 3}, 2.5, d),
                  arange<float>(0, 3, 1, d).unsqueeze(0), eye<float>(3, 3, d)},
               0) +
           v[0].sum() * 0;
  };
  EXPECT_TRUE(same_on_cuda(f, Fs{input({1}, 1)}));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
