// Tests of sinew/train/fit.hpp and callbacks.hpp: fit equals the hand-written loop bit for bit,
// learns, logs what it says, steps schedulers at the right times, takes tuple batches with a loss
// of its own; EarlyStopping's patience, min_delta and restored weights; the errors.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;

// Two Gaussian blobs in 4-d, classes 0 and 1, centred at -1 and +1.
data::TensorDataset<float, int64_t> blobs(int64_t n, uint64_t seed) {
  Generator g(seed);
  Tensor<int64_t> y = randint<int64_t>(0, 2, {n}, g);
  Tensor<float> x = randn<float>({n, 4}, g) * 0.7f + (y.to<float>() * 2.f - 1.f).unsqueeze(1);
  return data::TensorDataset<float, int64_t>(x, y);
}

nn::Sequential small_mlp() {
  return nn::Sequential(nn::Linear(4, 8), nn::ReLU(), nn::Dropout(0.1), nn::Linear(8, 2));
}

using Loader = data::DataLoader<data::TensorDataset<float, int64_t>>;

TEST(Fit, EqualsTheHandWrittenLoopBitForBit) {
  Loader loader(blobs(96, 1), {.batch_size = 16, .shuffle = true, .seed = 3});
  manual_seed(7);
  nn::Sequential a = small_mlp();
  optim::SGD opt_a(a.parameters(), {.lr = 0.1, .momentum = 0.9});
  train::fit(a, loader, {.optimizer = &opt_a, .epochs = 3, .verbose = false});

  manual_seed(7);
  nn::Sequential b = small_mlp();
  optim::SGD opt_b(b.parameters(), {.lr = 0.1, .momentum = 0.9});
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    b.train();
    loader.set_epoch(epoch);
    for (auto& batch : loader) {
      opt_b.zero_grad();
      nn::F::cross_entropy(b(batch.data), batch.target).backward();
      opt_b.step();
    }
  }
  const nn::StateDict sa = a.state_dict(), sb = b.state_dict();
  for (const auto& [name, t] : sa) EXPECT_EQ(t.to_vector(), sb.find(name)->to_vector()) << name;
}

TEST(Fit, LearnsAndLogsTrainAndValidationValues) {
  Loader train_loader(blobs(256, 1), {.batch_size = 32, .shuffle = true, .seed = 1});
  Loader val_loader(blobs(128, 2), {.batch_size = 64});
  manual_seed(1);
  nn::Sequential net = small_mlp();
  optim::Adam opt(net.parameters(), {.lr = 0.02});
  std::ostringstream out;
  train::History h = train::fit(net, train_loader,
                                {.optimizer = &opt,
                                 .epochs = 6,
                                 .val_loader = val_loader,
                                 .metrics = {train::Metric::accuracy(), train::Metric::top_k(2)},
                                 .out = &out});
  EXPECT_EQ(h.epochs(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(h.names(), (std::vector<std::string>{"loss", "acc", "top2", "val_loss", "val_acc",
                                                 "val_top2", "lr", "seconds"}));
  EXPECT_GE(h.last("val_acc"), 0.95);
  EXPECT_EQ(h.last("val_top2"), 1.0);  // two classes: always among the top two
  EXPECT_LT(h.column("loss").back(), h.column("loss").front());
  // The validation values are evaluate's on the trained model.
  train::History::Values v =
      train::evaluate(net, val_loader, {.metrics = {train::Metric::accuracy()}});
  EXPECT_EQ(v[0].second, h.last("val_loss"));
  EXPECT_EQ(v[1].second, h.last("val_acc"));
  EXPECT_NE(out.str().find("epoch 6/6  loss"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("val_acc"), std::string::npos);
}

TEST(Fit, StepsEpochSchedulersPerEpochAndOneCyclePerBatch) {
  Loader loader(blobs(64, 1), {.batch_size = 16});
  manual_seed(1);
  nn::Sequential net = small_mlp();
  optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::StepLR step(opt, 1, {.gamma = 0.5});
  train::History h = train::fit(
      net, loader, {.optimizer = &opt, .epochs = 3, .scheduler = &step, .verbose = false});
  EXPECT_EQ(h.column("lr"), (std::vector<double>{0.1, 0.05, 0.025}));
  EXPECT_EQ(step.last_epoch(), 3);

  optim::OneCycleLR cycle(opt, 0.5, {.epochs = 2, .steps_per_epoch = 4});
  train::fit(net, loader, {.optimizer = &opt, .epochs = 2, .scheduler = &cycle, .verbose = false});
  EXPECT_EQ(cycle.last_epoch(), 8);  // one step per batch; a ninth would raise

  optim::ReduceLROnPlateau plateau(opt, {.patience = 0});
  opt.set_lr(0.1);
  // A loss that cannot fall: the lr drops after each epoch that does not improve on the first.
  train::fit(net, loader,
             {.optimizer = &opt,
              .loss = [](const Tensor<float>& out,
                         const Tensor<int64_t>&) { return out.sum() * 0.f + 1.f; },
              .epochs = 3,
              .scheduler = &plateau,
              .verbose = false});
  EXPECT_NEAR(opt.lr(), 0.001, 1e-12);
  EXPECT_EQ(plateau.last_epoch(), 3);
}

TEST(Fit, TupleBatchesWithFloatTargetsAndTheirOwnLoss) {
  Generator g(4);
  Tensor<float> x = randn<float>({128, 3}, g);
  Tensor<float> y = x.matmul(from_vector<float>({1.f, -2.f, 0.5f}, {3, 1})) + 0.25f;
  data::DataLoader loader(data::TensorDataset<float, float>(x, y),
                          {.batch_size = 32, .shuffle = true, .seed = 2});
  manual_seed(2);
  nn::Linear lin(3, 1);
  optim::Adam opt(lin.parameters(), {.lr = 0.05});
  train::History h =
      train::fit(lin, loader,
                 {.optimizer = &opt,
                  .loss = [](const Tensor<float>& out,
                             const Tensor<float>& t) { return nn::F::mse_loss(out, t); },
                  .epochs = 60,
                  .verbose = false});
  EXPECT_LT(h.last("loss"), 1e-3);
  EXPECT_NEAR(lin.bias.item(), 0.25, 0.02);
}

// Puts a scripted value "score" into the logs, one per epoch, and snapshots the weights.
struct Script : train::Callback {
  std::vector<double> scores;
  std::vector<std::vector<float>> weights;  // the first layer's weight after each epoch
  void on_epoch_end(train::FitState& s) override {
    s.logs.emplace_back("score", scores.at(static_cast<size_t>(s.epoch - 1)));
    weights.push_back(s.model->state_dict().find("0.weight")->to_vector());
  }
};

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovementAndRestoresTheBest) {
  Loader loader(blobs(64, 1), {.batch_size = 16, .shuffle = true, .seed = 1});
  manual_seed(3);
  nn::Sequential net = small_mlp();
  optim::SGD opt(net.parameters(), {.lr = 0.1});
  Script script;
  script.scores = {1.0, 0.5, 0.45, 0.6, 0.55, 0.3, 0.2};
  // min_delta 0.1: 0.45 is no improvement on 0.5; epochs 3, 4 and 5 are bad, patience 3.
  train::EarlyStopping stop(
      {.monitor = "score", .min_delta = 0.1, .patience = 3, .restore_best_weights = true});
  train::History h =
      train::fit(net, loader,
                 {.optimizer = &opt, .epochs = 7, .callbacks = {&script, &stop}, .verbose = false});
  EXPECT_EQ(h.size(), 5u);
  EXPECT_EQ(stop.stopped_epoch(), 5);
  EXPECT_EQ(stop.best_epoch(), 2);
  EXPECT_EQ(stop.best(), 0.5);
  EXPECT_TRUE(stop.restored());
  EXPECT_EQ(net.state_dict().find("0.weight")->to_vector(), script.weights[1]);
  EXPECT_NE(script.weights[4], script.weights[1]);

  // Max mode (auto for names with "acc"), patience 0: stops at the first epoch that is not better.
  Script up;
  up.scores = {0.1, 0.2, 0.2, 0.9};
  train::EarlyStopping stop_up({.monitor = "score_acc"});
  struct Rename : train::Callback {
    void on_epoch_end(train::FitState& s) override {
      s.logs.emplace_back("score_acc", s.value("score"));
    }
  } rename;
  train::fit(
      net, loader,
      {.optimizer = &opt, .epochs = 4, .callbacks = {&up, &rename, &stop_up}, .verbose = false});
  EXPECT_EQ(stop_up.stopped_epoch(), 3);
  EXPECT_EQ(stop_up.best_epoch(), 2);
  EXPECT_FALSE(stop_up.restored());
}

TEST(Fit, Errors) {
  Loader loader(blobs(32, 1), {.batch_size = 16});
  nn::Sequential net = small_mlp();
  optim::SGD opt(net.parameters(), {.lr = 0.1});
  SINEW_EXPECT_ERROR(train::fit(net, loader, {.epochs = 1, .verbose = false}), "train::fit",
                     "no optimizer");
  SINEW_EXPECT_ERROR(train::fit(net, loader, {.optimizer = &opt, .epochs = -1, .verbose = false}),
                     "train::fit", "epochs");
  train::EarlyStopping missing({.monitor = "val_loss"});
  SINEW_EXPECT_ERROR(
      train::fit(net, loader,
                 {.optimizer = &opt, .epochs = 1, .callbacks = {&missing}, .verbose = false}),
      "val_loss", "have: loss");
  SINEW_EXPECT_ERROR(train::EarlyStopping({.patience = -1}), "train::EarlyStopping", "patience");
  SINEW_EXPECT_ERROR(train::EarlyStopping({.min_delta = -0.5}), "min_delta");

  data::DataLoader floats(
      data::TensorDataset<float, float>(randn<float>({8, 4}), randn<float>({8, 2})),
      {.batch_size = 4});
  SINEW_EXPECT_ERROR(train::fit(net, floats, {.optimizer = &opt, .epochs = 1, .verbose = false}),
                     "train::fit", "need a loss function");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
