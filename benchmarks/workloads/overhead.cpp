// Framework overhead: a chain of 1,000 small ops (add, mul and tanh in turn, on 16-element float
// tensors that record autograd history) run forward, and forward plus backward. Prints the median
// time per op in ns over the repetitions. libtorch_overhead.cpp is the same chain in LibTorch, and
// benchmarks/compare.sh runs both.
//
//   overhead [--reps N] [--threads N]
//
// Build (from the repository root):
//   g++ -std=c++20 -O3 -DNDEBUG -march=native -fno-tree-slp-vectorize -fopenmp -Iinclude
//   -I/usr/include/eigen3
//       benchmarks/workloads/overhead.cpp -o overhead
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <sinew/tensor.hpp>

using namespace sinew;

namespace {

constexpr int kOps = 1000;

Tensor<float> chain(const Tensor<float>& x, const Tensor<float>& c) {
  Tensor<float> y = x;
  for (int i = 0; i < kOps; ++i) {
    if (i % 3 == 0) {
      y = y + c;
    } else if (i % 3 == 1) {
      y = y * c;
    } else {
      y = y.tanh();
    }
  }
  return y;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 200, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--reps") reps = std::stoi(argv[i + 1]);
    if (k == "--threads") threads = std::stoi(argv[i + 1]);
  }
  set_num_threads(threads);
  const Tensor<float> x = randn<float>({16}).requires_grad_();
  const Tensor<float> c = full<float>({16}, 0.5f);
  using Clock = std::chrono::steady_clock;
  std::vector<double> fwd, both;
  double check = 0;
  for (int r = 0; r < reps + 10; ++r) {
    auto t0 = Clock::now();
    Tensor<float> y = chain(x, c);
    auto t1 = Clock::now();
    Tensor<float> z = chain(x, c);
    z.sum().backward();
    auto t2 = Clock::now();
    check += y.sum().item() + x.grad().sum().item();
    x.grad().zero_();
    if (r >= 10) {
      fwd.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kOps);
      both.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / kOps);
    }
  }
  std::printf(
      "RESULT overhead threads=%d ops=%d forward_ns_per_op=%.1f "
      "forward_backward_ns_per_op=%.1f check=%.4g\n",
      threads, kOps, median(fwd), median(both), check);
  return 0;
}
