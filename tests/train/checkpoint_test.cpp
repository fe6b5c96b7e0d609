// Tests of sinew/train/checkpoint.hpp: a run resumed from a checkpoint ends with bit-for-bit the
// parameters (and batch-norm statistics) of an uninterrupted run, with SGD and Adam, a scheduler,
// dropout and a shuffling DataLoader; the file's checks and their errors.
#include <cstdint>
#include <string>
#include <vector>

#include <sinew/sinew.hpp>
#include <sinew/train.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;
using sinew::testing::TempDirTest;

data::TensorDataset<float, int64_t> toy_data() {
  Generator g(5);
  Tensor<float> x = randn<float>({120, 6}, g);
  Tensor<int64_t> y = randint<int64_t>(0, 3, {120}, g);
  return data::TensorDataset<float, int64_t>(x, y);
}

// Dropout and batch norm make the RNG stream and the running statistics part of the state.
nn::Sequential toy_model() {
  return nn::Sequential(nn::Linear(6, 16), nn::BatchNorm1d(16), nn::ReLU(), nn::Dropout(0.3),
                        nn::Linear(16, 3));
}

// One run's objects: model, optimizer, scheduler and loader, made after manual_seed(seed).
struct TrainingRun {
  explicit TrainingRun(bool adam, uint64_t seed) {
    manual_seed(seed);
    net = toy_model();
    if (adam) {
      opt = std::make_unique<optim::Adam>(net.parameters(), optim::AdamOptions{.lr = 0.01});
    } else {
      opt = std::make_unique<optim::SGD>(
          net.parameters(), optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
    }
    sched = std::make_unique<optim::StepLR>(*opt, 2, optim::StepLROptions{.gamma = 0.5});
  }
  // A hand-written loop over epochs first..last (counted from 1).
  void train(int64_t first, int64_t last) {
    for (int64_t epoch = first; epoch <= last; ++epoch) {
      net.train();
      loader.set_epoch(epoch - 1);
      for (auto& batch : loader) {
        opt->zero_grad();
        nn::F::cross_entropy(net(batch.data), batch.target).backward();
        opt->step();
      }
      sched->step();
    }
  }
  nn::Sequential net;
  std::unique_ptr<optim::OptimizerT<float>> opt;
  std::unique_ptr<optim::StepLR> sched;
  data::DataLoader<data::TensorDataset<float, int64_t>> loader{
      toy_data(), {.batch_size = 16, .shuffle = true, .seed = 11}};
};

void expect_same_state(const nn::Module& a, const nn::Module& b) {
  const nn::StateDict sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) {
    const Tensor<float>* u = sb.find(name);
    ASSERT_NE(u, nullptr) << name;
    EXPECT_EQ(t.to_vector(), u->to_vector()) << name;
  }
}

class Checkpoint : public TempDirTest, public ::testing::WithParamInterface<bool> {};

TEST_P(Checkpoint, ResumedRunEqualsUninterruptedRunBitForBit) {
  const bool adam = GetParam();
  TrainingRun whole(adam, 1);
  whole.train(1, 5);

  TrainingRun first(adam, 1);
  first.train(1, 3);
  train::save_checkpoint(path("ckpt.safetensors"), first.net, *first.opt,
                         {.epoch = 3, .extra = {{"note", "three epochs"}}}, first.sched.get());

  TrainingRun resumed(adam, 999);           // other initial weights and another generator state
  Tensor<float> noise = randn<float>({7});  // draws that the checkpoint's RNG state undoes
  train::CheckpointInfo info = train::load_checkpoint(path("ckpt.safetensors"), resumed.net,
                                                      *resumed.opt, resumed.sched.get());
  EXPECT_EQ(info.epoch, 3);
  EXPECT_EQ(info.extra.at("note"), "three epochs");
  EXPECT_EQ(resumed.sched->last_epoch(), 3);
  EXPECT_EQ(resumed.opt->lr(), first.opt->lr());
  resumed.train(info.epoch + 1, 5);
  expect_same_state(whole.net, resumed.net);
  // The optimizer's state (momentum buffers, Adam's moments and step counts) and lr too.
  EXPECT_EQ(resumed.opt->lr(), whole.opt->lr());
  const optim::StateDict so = whole.opt->state_dict(), sr = resumed.opt->state_dict();
  ASSERT_EQ(so.tensors.size(), sr.tensors.size());
  for (const auto& [name, t] : so.tensors) {
    ASSERT_NE(sr.tensors.find(name), nullptr) << name;
    EXPECT_EQ(t.to_vector(), sr.tensors.find(name)->to_vector()) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Optimizers, Checkpoint, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Adam" : "SgdNesterov"; });

class CheckpointFile : public TempDirTest {};

TEST_F(CheckpointFile, HoldsModelOptimizerSchedulerEpochAndGenerator) {
  TrainingRun r(true, 3);
  r.train(1, 1);
  train::save_checkpoint(path("c.safetensors"), r.net, *r.opt, {.epoch = 1}, r.sched.get());
  io::Header h = io::read_header(path("c.safetensors"));
  EXPECT_EQ(h.metadata.at("sinew.checkpoint"), "1");
  EXPECT_EQ(h.metadata.at("epoch"), "1");
  EXPECT_EQ(h.metadata.at("optimizer.optimizer"), "Adam");
  EXPECT_EQ(h.metadata.at("rng"), get_rng_state());
  EXPECT_NE(h.metadata.at("scheduler").find("\"StepLR\""), std::string::npos);
  EXPECT_EQ(h.tensors.contains("model.0.weight"), true);
  EXPECT_EQ(h.tensors.contains("model.1.running_mean"), true);
  EXPECT_EQ(h.tensors.contains("optimizer.state.0.exp_avg"), true);
  EXPECT_EQ(h.tensors.at("model.1.num_batches_tracked").dtype, "I64");
}

TEST_F(CheckpointFile, MismatchesAreErrorsThatChangeNothing) {
  TrainingRun r(true, 3);
  r.train(1, 1);
  const std::string p = path("c.safetensors");
  train::save_checkpoint(p, r.net, *r.opt, {.epoch = 1}, r.sched.get());

  TrainingRun other(true, 4);
  const nn::StateDict before = other.net.state_dict();
  std::vector<float> w0 = before.find("0.weight")->to_vector();
  auto unchanged = [&] { EXPECT_EQ(other.net.state_dict().find("0.weight")->to_vector(), w0); };

  SINEW_EXPECT_ERROR(
      train::load_checkpoint(path("missing.safetensors"), other.net, *other.opt, other.sched.get()),
      "missing.safetensors");
  SINEW_EXPECT_ERROR(train::load_checkpoint(p, other.net, *other.opt), "train::load_checkpoint",
                     "scheduler");
  optim::SGD sgd(other.net.parameters(), {.lr = 0.1});
  SINEW_EXPECT_ERROR(train::load_checkpoint(p, other.net, sgd), "train::load_checkpoint", "Adam",
                     "SGD");
  optim::ExponentialLR exp_lr(*other.opt, 0.9);
  SINEW_EXPECT_ERROR(train::load_checkpoint(p, other.net, *other.opt, &exp_lr), "StepLR",
                     "ExponentialLR");
  unchanged();

  nn::Sequential wider(nn::Linear(6, 17), nn::BatchNorm1d(17), nn::ReLU(), nn::Dropout(0.3),
                       nn::Linear(17, 3));
  optim::Adam wider_opt(wider.parameters(), {.lr = 0.01});
  optim::StepLR wider_sched(wider_opt, 2);
  SINEW_EXPECT_ERROR(train::load_checkpoint(p, wider, wider_opt, &wider_sched),
                     "train::load_checkpoint", "the model does not match");

  // A model file is not a checkpoint; a checkpoint with a damaged generator state is refused.
  io::save(r.net, path("model.safetensors"));
  SINEW_EXPECT_ERROR(
      train::load_checkpoint(path("model.safetensors"), other.net, *other.opt, other.sched.get()),
      "model.safetensors", "not a checkpoint");
  std::map<std::string, std::string> meta;
  nn::StateDict tensors = io::load_file(p, &meta);
  meta["rng"] = "mt19937_64 1 2 3";
  io::save_file(tensors, path("bad_rng.safetensors"), meta);
  SINEW_EXPECT_ERROR(
      train::load_checkpoint(path("bad_rng.safetensors"), other.net, *other.opt, other.sched.get()),
      "Generator::set_state");
  meta["rng"] = get_rng_state();
  meta["epoch"] = "-2";
  io::save_file(tensors, path("bad_epoch.safetensors"), meta);
  SINEW_EXPECT_ERROR(train::load_checkpoint(path("bad_epoch.safetensors"), other.net, *other.opt,
                                            other.sched.get()),
                     "epoch '-2'");
  unchanged();

  SINEW_EXPECT_ERROR(train::save_checkpoint(path("no/such/dir/c.safetensors"), r.net, *r.opt),
                     "no/such/dir");
  SINEW_EXPECT_ERROR(train::save_checkpoint(p, r.net, *r.opt, {.epoch = -1}), "epoch");
}

TEST_F(CheckpointFile, ResumedFitEqualsUninterruptedFit) {
  auto fit_run = [&](uint64_t seed, int64_t epochs, const std::string& resume,
                     train::ModelCheckpoint* save) {
    TrainingRun r(true, seed);
    std::vector<train::Callback*> callbacks;
    if (save != nullptr) callbacks.push_back(save);
    train::History h = train::fit(r.net, r.loader,
                                  {.optimizer = r.opt.get(),
                                   .epochs = epochs,
                                   .metrics = {train::Metric::accuracy()},
                                   .scheduler = r.sched.get(),
                                   .callbacks = callbacks,
                                   .resume_from = resume,
                                   .verbose = false});
    return std::make_pair(r.net.state_dict(), h);
  };
  auto [whole, whole_history] = fit_run(1, 4, "", nullptr);
  train::ModelCheckpoint save(path("fit.safetensors"));
  fit_run(1, 2, "", &save);
  EXPECT_EQ(save.last_saved_epoch(), 2);
  auto [resumed, resumed_history] = fit_run(77, 4, path("fit.safetensors"), nullptr);
  for (const auto& [name, t] : whole) EXPECT_EQ(t.to_vector(), resumed.find(name)->to_vector());
  EXPECT_EQ(resumed_history.epochs(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(resumed_history.column("loss"), whole_history.column("loss"));
  EXPECT_EQ(resumed_history.column("acc"), whole_history.column("acc"));
  EXPECT_EQ(resumed_history.column("lr"), whole_history.column("lr"));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
