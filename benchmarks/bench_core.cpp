// Sinew core micro benchmarks: SGEMM (against OpenBLAS's cblas_sgemm in the same binary when
// built with it), elementwise add/relu bandwidth, softmax, and one training step of the
// 784-128-10 MLP. Threads: OMP_NUM_THREADS for Sinew (its GEMM runs on the same OpenMP pool as
// every other kernel), OPENBLAS_NUM_THREADS for OpenBLAS. Rates use wall time (UseRealTime).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#ifdef SINEW_BENCH_OPENBLAS
#include <cblas.h>
extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
extern "C" int openblas_get_num_threads(void);
#endif

using namespace sinew;

namespace {

// ---- SGEMM: C[M, N] = A[M, K] B[K, N] ----------------------------------------------------------
// TransB: B is stored as [N, K] and used transposed (the Linear weight layout, y = x W^T).

void set_gemm_counters(benchmark::State& state, int64_t m, int64_t k, int64_t n) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(m) * double(n) * double(k) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

Tensor<float> gemm_rhs(Generator& g, int64_t k, int64_t n, bool trans_b) {
  return trans_b ? randn<float>({n, k}, g).t() : randn<float>({k, n}, g);
}

// The backend kernel into a preallocated C: the same work as cblas_sgemm.
template <bool TransB>
void BM_Sgemm_Sinew(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Generator g(1);
  Tensor<float> a = randn<float>({m, k}, g), b = gemm_rhs(g, k, n, TransB),
                c = zeros<float>({m, n});
  for (auto _ : state) {
    backend::cpu::gemm(a, b, c, 1.0, 0.0);
    benchmark::DoNotOptimize(c.data_ptr());
    benchmark::ClobberMemory();
  }
  set_gemm_counters(state, m, k, n);
}

// The same product through the public op (output allocation and op overhead included).
template <bool TransB>
void BM_Mm_SinewOp(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Generator g(1);
  Tensor<float> a = randn<float>({m, k}, g), b = gemm_rhs(g, k, n, TransB);
  for (auto _ : state) {
    Tensor<float> c = mm(a, b);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  set_gemm_counters(state, m, k, n);
}

// Reference point: Eigen's public product (c.noalias() = a * b), with Eigen's own OpenMP parallel
// GEMM and per-call packing buffers, over the same memory (what Sinew's float GEMM replaced).
void BM_Sgemm_EigenProduct(benchmark::State& state) {
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Generator g(1);
  Tensor<float> a = randn<float>({m, k}, g), b = randn<float>({k, n}, g), c = zeros<float>({m, n});
  Eigen::Map<const RowMatrix> am(a.data_ptr(), m, k), bm(b.data_ptr(), k, n);
  Eigen::Map<RowMatrix> cm(c.data_ptr(), m, n);
  for (auto _ : state) {
    cm.noalias() = am * bm;
    benchmark::DoNotOptimize(c.data_ptr());
    benchmark::ClobberMemory();
  }
  set_gemm_counters(state, m, k, n);
}

#ifdef SINEW_BENCH_OPENBLAS
template <bool TransB>
void BM_Sgemm_OpenBLAS(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Generator g(1);
  Tensor<float> a = randn<float>({m, k}, g), c = zeros<float>({m, n});
  Tensor<float> b = TransB ? randn<float>({n, k}, g) : randn<float>({k, n}, g);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, TransB ? CblasTrans : CblasNoTrans, int(m), int(n),
                int(k), 1.0f, a.data_ptr(), int(k), b.data_ptr(), int(TransB ? k : n), 0.0f,
                c.data_ptr(), int(n));
    benchmark::DoNotOptimize(c.data_ptr());
    benchmark::ClobberMemory();
  }
  set_gemm_counters(state, m, k, n);
}
#endif

void gemm_sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "K", "N"})
      ->Args({64, 784, 128})
      ->Args({256, 256, 256})
      ->Args({1024, 1024, 1024});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}
void mlp_size(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "K", "N"})->Args({64, 784, 128})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_TEMPLATE(BM_Sgemm_Sinew, false)->Apply(gemm_sizes);
BENCHMARK_TEMPLATE(BM_Sgemm_Sinew, true)->Apply(mlp_size);
BENCHMARK_TEMPLATE(BM_Mm_SinewOp, false)->Apply(gemm_sizes);
BENCHMARK_TEMPLATE(BM_Mm_SinewOp, true)->Apply(mlp_size);
BENCHMARK(BM_Sgemm_EigenProduct)->Apply(gemm_sizes);
#ifdef SINEW_BENCH_OPENBLAS
BENCHMARK_TEMPLATE(BM_Sgemm_OpenBLAS, false)->Apply(gemm_sizes);
BENCHMARK_TEMPLATE(BM_Sgemm_OpenBLAS, true)->Apply(mlp_size);
#endif

// ---- elementwise and softmax (bandwidth: bytes read + written per call) ------------------------

void BM_Add(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor<float> a = randn<float>({n}), b = randn<float>({n});
  for (auto _ : state) {
    Tensor<float> c = a + b;
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * int64_t(3 * sizeof(float)));
}
BENCHMARK(BM_Add)->Arg(1 << 20)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Relu(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor<float> a = randn<float>({n});
  for (auto _ : state) {
    Tensor<float> c = relu(a);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * int64_t(2 * sizeof(float)));
}
BENCHMARK(BM_Relu)->Arg(1 << 20)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Softmax(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  Tensor<float> x = randn<float>({rows, cols});
  for (auto _ : state) {
    Tensor<float> y = softmax(x, 1);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * int64_t(2 * sizeof(float)));
}
BENCHMARK(BM_Softmax)->Args({64, 1000})->UseRealTime()->Unit(benchmark::kMicrosecond);

// ---- one MLP training step
// ------------------------------------------------------------------------- 784-128-10, batch 64:
// linear, relu, linear, cross-entropy (log_softmax and a one-hot mask), backward, plain SGD update
// under NoGradGuard. items/s = training samples per second.

void BM_MlpStep(benchmark::State& state) {
  const int64_t batch = state.range(0);
  Generator g(7);
  Tensor<float> w1 = (randn<float>({128, 784}, g) * 0.05).detach().requires_grad_();
  Tensor<float> b1 = zeros<float>({128}).requires_grad_();
  Tensor<float> w2 = (randn<float>({10, 128}, g) * 0.1).detach().requires_grad_();
  Tensor<float> b2 = zeros<float>({10}).requires_grad_();
  Tensor<float> x = rand<float>({batch, 784}, g);
  Tensor<int64_t> labels = randint(0, 10, {batch}, g);
  Tensor<float> one_hot = zeros<float>({batch, 10});
  for (int64_t i = 0; i < batch; ++i) one_hot.set({i, labels.at({i})}, 1.0f);
  std::vector<Tensor<float>> params{w1, b1, w2, b2};
  const double lr = 0.01;
  float loss_value = 0;
  for (auto _ : state) {
    for (auto& p : params) p.set_grad(Tensor<float>());
    Tensor<float> h = relu(linear(x, w1, b1));
    Tensor<float> logits = linear(h, w2, b2);
    Tensor<float> loss = -(log_softmax(logits, 1) * one_hot).sum() * (1.0 / double(batch));
    loss.backward();
    {
      NoGradGuard no_grad;
      for (auto& p : params) p.sub_(p.grad(), lr);
    }
    loss_value = loss.item();
  }
  benchmark::DoNotOptimize(loss_value);
  state.counters["loss"] = loss_value;
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_MlpStep)->Arg(64)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("sinew_threads", std::to_string(get_num_threads()));
  benchmark::AddCustomContext("eigen_simd", Eigen::SimdInstructionSetsInUse());
#ifdef SINEW_BENCH_OPENBLAS
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
