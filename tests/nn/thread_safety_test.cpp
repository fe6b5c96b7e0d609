// Inference from several threads at once: one model in eval mode, shared by four threads that each
// run forward under NoGradGuard, gives every thread the same bits as a run on one thread. Covered
// are convolution, batch norm (running statistics read, never written in eval mode), dropout (off
// in eval mode) and an LSTM. Grad mode is per thread: each thread's guard leaves the others
// recording. The tsan preset runs this suite under ThreadSanitizer.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <thread>
#include <vector>

#include <sinew/sinew.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;

struct LastStep : nn::Module {
  nn::LSTM lstm{6, 8, {.batch_first = true}};
  LastStep() : nn::Module("LastStep") { register_module("lstm", lstm); }
  Tensor<float> forward(const Tensor<float>& x) override {
    auto [out, state] = lstm(x.reshape({x.size(0), 6, 6}));
    return out.select(1, -1);
  }
};

std::vector<uint32_t> bits(const Tensor<float>& t) {
  std::vector<uint32_t> out;
  for (float v : t.to_vector()) out.push_back(std::bit_cast<uint32_t>(v));
  return out;
}

TEST(ThreadSafety, EvalForwardFromSeveralThreadsGivesTheSingleThreadBits) {
  manual_seed(3);
  nn::Sequential cnn(nn::Conv2d(1, 4, 3, {.padding = 1}), nn::BatchNorm2d(4), nn::ReLU(),
                     nn::MaxPool2d(2), nn::Flatten(), nn::Dropout(0.5), nn::Linear(36, 5));
  nn::Sequential rnn(LastStep(), nn::Linear(8, 3));
  // Running statistics that are not the initial ones: a few training-mode passes first.
  for (int i = 0; i < 3; ++i) (void)cnn(randn<float>({8, 1, 6, 6}));
  cnn.eval();
  rnn.eval();

  constexpr int kThreads = 4, kRounds = 6;
  std::vector<Tensor<float>> inputs;
  for (int i = 0; i < kThreads * kRounds; ++i) inputs.push_back(randn<float>({3, 1, 6, 6}));
  std::vector<std::vector<uint32_t>> expected;
  {
    NoGradGuard no_grad;
    for (const Tensor<float>& x : inputs) {
      std::vector<uint32_t> b = bits(cnn(x));
      std::vector<uint32_t> r = bits(rnn(x));
      b.insert(b.end(), r.begin(), r.end());
      expected.push_back(std::move(b));
    }
  }

  std::vector<std::vector<uint32_t>> got(inputs.size());
  std::vector<char> recording(kThreads, 1);  // not vector<bool>: one byte per thread
  auto work = [&](int id) {
    NoGradGuard no_grad;
    for (int round = 0; round < kRounds; ++round) {
      const size_t i = static_cast<size_t>(round * kThreads + id);
      std::vector<uint32_t> b = bits(cnn(inputs[i]));
      std::vector<uint32_t> r = bits(rnn(inputs[i]));
      b.insert(b.end(), r.begin(), r.end());
      got[i] = std::move(b);
    }
    recording[static_cast<size_t>(id)] = autograd::is_grad_enabled();
  };
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) threads.emplace_back(work, id);
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < inputs.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "input " << i;
  for (int id = 0; id < kThreads; ++id) EXPECT_FALSE(recording[static_cast<size_t>(id)]);
  // This thread never entered the workers' guards: it still records.
  EXPECT_TRUE(autograd::is_grad_enabled());
  EXPECT_TRUE(cnn(inputs[0]).requires_grad());
}

}  // namespace SINEW_UNITY_ID
}  // namespace
