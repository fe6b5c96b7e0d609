// Determinism on the CPU: with a seed, training runs of small versions of W1 (MLP with dropout,
// Adam) and W2 (CNN with dropout, SGD with momentum) end with bit-identical parameters, on any
// number of threads: every kernel splits its work by output, or (the convolution's weight
// gradient) into chunks fixed by the shapes alone, summed in a fixed order.
#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;

nn::Sequential small_w1() {
  return nn::Sequential(nn::Flatten(), nn::Linear(144, 32), nn::ReLU(), nn::Dropout(0.2),
                        nn::Linear(32, 10));
}

nn::Sequential small_w2() {
  return nn::Sequential(nn::Conv2d(1, 8, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(8, 16, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(144, 32), nn::ReLU(), nn::Dropout(0.25),
                        nn::Linear(32, 10));
}

// The parameters' bits after 7 shuffled steps (six of batch 20, one of 8) on 12 x 12 images,
// from seed 5.
std::vector<uint32_t> train_bits(const std::string& workload, int threads) {
  const int before = get_num_threads();
  set_num_threads(threads);
  Generator data_gen(1);
  data::TensorDataset set(rand<float>({128, 1, 12, 12}, data_gen),
                          randint<int64_t>(0, 10, {128}, data_gen));
  data::DataLoader loader(set, {.batch_size = 20, .shuffle = true, .seed = 3});
  manual_seed(5);
  nn::Sequential net = workload == "W1" ? small_w1() : small_w2();
  std::unique_ptr<optim::Optimizer> opt;
  if (workload == "W1") {
    opt = std::make_unique<optim::Adam>(net.parameters(), optim::AdamOptions{.lr = 1e-3});
  } else {
    opt = std::make_unique<optim::SGD>(net.parameters(),
                                       optim::SGDOptions{.lr = 0.05, .momentum = 0.9});
  }
  net.train();
  for (auto& [x, y] : loader) {
    opt->zero_grad();
    nn::F::cross_entropy(net(x), y).backward();
    opt->step();
  }
  set_num_threads(before);
  std::vector<uint32_t> bits;
  for (const auto& p : net.parameters()) {
    for (float v : p.to_vector()) bits.push_back(std::bit_cast<uint32_t>(v));
  }
  return bits;
}

TEST(Determinism, TrainingIsBitIdenticalAcrossRunsAndThreadCounts) {
  for (const std::string workload : {"W1", "W2"}) {
    const std::vector<uint32_t> one = train_bits(workload, 1);
    EXPECT_EQ(train_bits(workload, 1), one) << workload << ", one thread, second run";
    const std::vector<uint32_t> two = train_bits(workload, 2);
    EXPECT_EQ(train_bits(workload, 2), two) << workload << ", two threads, second run";
    EXPECT_EQ(two, one) << workload << ": two threads against one";
    EXPECT_EQ(train_bits(workload, 3), one) << workload << ": three threads against one";
    // Deterministic mode changes nothing on the CPU (every kernel is deterministic already), and
    // no op of the run raises.
    set_deterministic(true);
    EXPECT_EQ(train_bits(workload, 2), one) << workload << ": in deterministic mode";
    set_deterministic(false);
    // The runs trained: the parameters moved from their initial values.
    manual_seed(5);
    nn::Sequential init = workload == "W1" ? small_w1() : small_w2();
    std::vector<uint32_t> initial;
    for (const auto& p : init.parameters()) {
      for (float v : p.to_vector()) initial.push_back(std::bit_cast<uint32_t>(v));
    }
    EXPECT_NE(one, initial) << workload;
  }
}

}  // namespace SINEW_UNITY_ID
}  // namespace
