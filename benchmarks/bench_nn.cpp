// Sinew layer micro benchmarks on the shapes of the benchmark workloads (DESIGN.md: W2 CNN, W3
// LSTM, W4 BN-CNN on 28x28 Fashion-MNIST, batch 64), one section per layer family. Each layer is
// timed forward only (inference, under NoGradGuard) and forward + backward (a fixed output
// gradient, as a training step sees it). Threads: OMP_NUM_THREADS. Rates use wall time
// (UseRealTime).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include <sinew/sinew.hpp>

using namespace sinew;

namespace {

// ---- shared helpers -----------------------------------------------------------------------------

// A [batch, channels, hw, hw] input like the activations W2 feeds a layer.
Tensor<float> image_batch(int64_t batch, int64_t channels, int64_t hw, bool requires_grad) {
  Generator g(11);
  Tensor<float> x = randn<float>({batch, channels, hw, hw}, g);
  return requires_grad ? x.requires_grad_() : x;
}

// Forward (NoGradGuard) timing of a module on x.
template <class M>
void time_forward(benchmark::State& state, M& m, const Tensor<float>& x) {
  NoGradGuard no_grad;
  for (auto _ : state) {
    Tensor<float> y = m(x);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * x.size(0));
}

// Forward + backward timing of a module on x with a fixed output gradient; parameter gradients
// are reset each step, as zero_grad does in training.
template <class M>
void time_forward_backward(benchmark::State& state, M& m, Tensor<float> x) {
  Tensor<float> gy;
  {
    NoGradGuard no_grad;
    Generator g(12);
    gy = randn<float>(m(x).shape(), g);
  }
  for (auto _ : state) {
    m.zero_grad();
    if (x.requires_grad()) x.set_grad(Tensor<float>());
    Tensor<float> y = m(x);
    y.backward(gy);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * x.size(0));
}

// ---- Conv2d ---------------------------------------------------------------------------------
// Args: batch, in_channels, out_channels, height = width; 3x3 kernel, padding 1 (W2's two convs:
// 1 -> 32 on 28x28, 32 -> 64 on 14x14). The first layer's input needs no gradient (an image
// batch), the second's does (an activation). GFLOP/s counts 2 N O C 9 H W per pass: forward is
// one pass, backward one (weight) or two (weight and input).

void conv2d_counters(benchmark::State& state, double passes) {
  const double n = double(state.range(0)), c = double(state.range(1)), o = double(state.range(2)),
               hw = double(state.range(3));
  state.counters["GFLOP/s"] = benchmark::Counter(passes * 2 * n * o * c * 9 * hw * hw * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Conv2dForward(benchmark::State& state) {
  const int64_t batch = state.range(0), in = state.range(1), out = state.range(2),
                hw = state.range(3);
  manual_seed(5);
  nn::Conv2d conv(in, out, 3, {.padding = 1});
  Tensor<float> x = image_batch(batch, in, hw, false);
  time_forward(state, conv, x);
  conv2d_counters(state, 1);
}

void BM_Conv2dForwardBackward(benchmark::State& state) {
  const int64_t batch = state.range(0), in = state.range(1), out = state.range(2),
                hw = state.range(3);
  const bool input_grad = in > 1;  // W2: the first conv sees the images, the second activations
  manual_seed(5);
  nn::Conv2d conv(in, out, 3, {.padding = 1});
  Tensor<float> x = image_batch(batch, in, hw, input_grad);
  time_forward_backward(state, conv, x);
  conv2d_counters(state, input_grad ? 3 : 2);
}

void w2_conv_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "in", "out", "hw"});
  b->Args({64, 1, 32, 28});
  b->Args({64, 32, 64, 14});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_Conv2dForward)->Apply(w2_conv_shapes);
BENCHMARK(BM_Conv2dForwardBackward)->Apply(w2_conv_shapes);

// ---- MaxPool2d, BatchNorm2d ---------------------------------------------------------------
// W2 / W4's pooling and W4's batch norm after the first conv: [64, 32, 28, 28] activations.
// BatchNorm2d runs in training mode (batch statistics, running statistics update).

void BM_MaxPool2dForward(benchmark::State& state) {
  nn::MaxPool2d pool(2);
  time_forward(state, pool, image_batch(64, 32, 28, false));
}
void BM_MaxPool2dForwardBackward(benchmark::State& state) {
  nn::MaxPool2d pool(2);
  time_forward_backward(state, pool, image_batch(64, 32, 28, true));
}
void BM_BatchNorm2dTrainForward(benchmark::State& state) {
  nn::BatchNorm2d bn(32);
  time_forward(state, bn, image_batch(64, 32, 28, false));
}
void BM_BatchNorm2dTrainForwardBackward(benchmark::State& state) {
  nn::BatchNorm2d bn(32);
  time_forward_backward(state, bn, image_batch(64, 32, 28, true));
}
BENCHMARK(BM_MaxPool2dForward)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxPool2dForwardBackward)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BatchNorm2dTrainForward)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BatchNorm2dTrainForwardBackward)->UseRealTime()->Unit(benchmark::kMicrosecond);

// ---- LSTM ---------------------------------------------------------------------------------------
// W3's layer: LSTM(28, 128, batch_first) on [64, 28 steps, 28] (the input needs no gradient, as
// for an image batch). Arg: Sinew's thread count (set_num_threads), so one run covers 1 and 2.
// GFLOP/s counts the GEMMs: forward 2 N L 4H (in + H); backward dW_ih, dh and dW_hh, 2 N L 4H
// (in + 2H).

void lstm_counters(benchmark::State& state, bool backward) {
  const double n = 64, l = 28, in = 28, h = 128;
  double flop = 2 * n * l * 4 * h * (in + h);
  if (backward) flop += 2 * n * l * 4 * h * (in + 2 * h);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

struct ThreadScope {
  int saved = get_num_threads();
  explicit ThreadScope(int64_t n) { set_num_threads(int(n)); }
  ~ThreadScope() { set_num_threads(saved); }
};

Tensor<float> w3_sequences() {
  Generator g(13);
  return randn<float>({64, 28, 28}, g);
}

void BM_LstmForward(benchmark::State& state) {
  ThreadScope threads(state.range(0));
  manual_seed(5);
  nn::LSTM lstm(28, 128, {.batch_first = true});
  Tensor<float> x = w3_sequences();
  NoGradGuard no_grad;
  for (auto _ : state) {
    auto [y, hc] = lstm(x);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * 64);
  lstm_counters(state, false);
}

void BM_LstmForwardBackward(benchmark::State& state) {
  ThreadScope threads(state.range(0));
  manual_seed(5);
  nn::LSTM lstm(28, 128, {.batch_first = true});
  Tensor<float> x = w3_sequences();
  Generator g(14);
  Tensor<float> gy = randn<float>({64, 28, 128}, g);
  for (auto _ : state) {
    lstm.zero_grad();
    auto [y, hc] = lstm(x);
    y.backward(gy);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * 64);
  lstm_counters(state, true);
}
BENCHMARK(BM_LstmForward)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LstmForwardBackward)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("sinew_threads", std::to_string(get_num_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
