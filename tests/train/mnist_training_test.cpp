// End-to-end training on the shared MNIST subset: the pieces a training program uses (MNIST,
// TensorDataset, DataLoader, Sequential, Dropout, cross_entropy, Adam, train::accuracy) must
// together learn the digits. Skipped when the shared datasets folder is missing.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

using namespace sinew;

namespace {
namespace SINEW_UNITY_ID {

const std::string mnist_dir = std::string(SINEW_SHARED_DATASETS_DIR) + "/mnist";

// The Keras MLP of examples/mnist_mlp.cpp (DESIGN.md's workload W1), on the first 5,000 training
// digits for one epoch: about 87 % on the first 1,000 test digits (86-88 % over seeds 1-12), so
// 85 % leaves room for other thread counts and compilers yet catches a model that learns slowly.
TEST(MnistTraining, MlpReachesEightyFivePercentInOneEpochOnFiveThousandDigits) {
  if (!std::filesystem::exists(mnist_dir + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "no MNIST in " << mnist_dir;
  }
  const data::MNIST train_full(mnist_dir);
  const data::MNIST test_full(mnist_dir, {.train = false});
  ASSERT_GE(train_full.size(), 5000);
  ASSERT_GE(test_full.size(), 1000);
  data::TensorDataset train_set(train_full.images().narrow(0, 0, 5000),
                                train_full.labels().narrow(0, 0, 5000));
  data::DataLoader loader(train_set, {.batch_size = 64, .shuffle = true, .seed = 7});
  auto normalize = [](const Tensor<float>& x) { return (x - 0.1307f) / 0.3081f; };

  manual_seed(7);
  nn::Sequential net(nn::Flatten(), nn::Linear(784, 128), nn::ReLU(), nn::Dropout(0.2),
                     nn::Linear(128, 10));
  optim::Adam opt(net.parameters(), {.lr = 1e-3});
  net.train();
  double first_loss = -1, last_loss = -1;
  for (auto& [images, labels] : loader) {
    opt.zero_grad();
    Tensor<float> loss = nn::F::cross_entropy(net(normalize(images)), labels);
    loss.backward();
    opt.step();
    if (first_loss < 0) first_loss = loss.item();
    last_loss = loss.item();
  }
  EXPECT_GT(first_loss, 1.5);  // about ln(10) = 2.30 before any step
  EXPECT_LT(last_loss, first_loss / 2);

  net.eval();
  NoGradGuard no_grad;
  const Tensor<float> logits = net(normalize(test_full.images().narrow(0, 0, 1000)));
  const double accuracy = train::accuracy(logits, test_full.labels().narrow(0, 0, 1000));
  EXPECT_GE(accuracy, 0.85);
  // Still a distribution over ten digits, not a collapse onto a few.
  std::vector<int64_t> count(10, 0);
  for (int64_t p : logits.argmax(1).to_vector()) ++count[static_cast<size_t>(p)];
  for (size_t d = 0; d < 10; ++d) EXPECT_GT(count[d], 50) << "predictions of digit " << d;
}

}  // namespace SINEW_UNITY_ID
}  // namespace
