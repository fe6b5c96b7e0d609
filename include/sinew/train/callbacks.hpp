// Callbacks of train::fit: the loop's state as they see it, and EarlyStopping and ModelCheckpoint.
//
//   train::EarlyStopping stop({.monitor = "val_loss", .patience = 3, .restore_best_weights =
//   true}); train::ModelCheckpoint save("runs/checkpoint.safetensors"); train::fit(model, loader,
//   {.optimizer = &opt, .epochs = 50, .val_loader = test_loader,
//                              .callbacks = {&stop, &save}});
//
// A callback overrides the hooks it needs; fit calls them in the order the callbacks are listed.
// At on_epoch_end the epoch's values are in state.logs and already in state.history, and the
// scheduler has already stepped; setting state.stop_training ends fit after that epoch.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "sinew/core/error.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/optim/optimizer.hpp"
#include "sinew/optim/scheduler.hpp"
#include "sinew/train/checkpoint.hpp"
#include "sinew/train/history.hpp"

namespace sinew::train {

// What train::fit shows its callbacks. Pointers stay valid for the whole fit call.
template <class T>
struct FitStateT {
  nn::ModuleT<T>* model = nullptr;
  optim::OptimizerT<T>* optimizer = nullptr;
  optim::Scheduler* scheduler = nullptr;  // null when fit has none
  History* history = nullptr;             // every finished epoch's values
  int64_t epoch = 0;                      // the epoch running or just finished, counted from 1
  int64_t epochs = 0;                     // the last epoch fit will run
  int64_t batch = 0;                      // batches finished in this epoch
  int64_t batches = 0;                    // batches per epoch
  double batch_loss = 0;                  // the loss of the last batch
  History::Values logs;                   // this epoch's values (complete at on_epoch_end)
  bool stop_training = false;             // set by a callback: fit stops after this epoch

  // The value of `name` in logs; an Error listing what there is when it is missing.
  double value(const std::string& name) const {
    std::string have;
    for (const auto& [key, v] : logs) {
      if (key == name) return v;
      have += (have.empty() ? "" : ", ") + key;
    }
    sinew::detail::fail("train::FitState::value", "no value named '", name,
                        "' this epoch (have: ", have.empty() ? "none" : have, ")");
  }
};
using FitState = FitStateT<float>;

template <class T>
class CallbackT {
 public:
  virtual ~CallbackT() = default;
  virtual void on_train_begin(FitStateT<T>&) {}
  virtual void on_epoch_begin(FitStateT<T>&) {}
  virtual void on_batch_end(FitStateT<T>&) {}
  virtual void on_epoch_end(FitStateT<T>&) {}
  virtual void on_train_end(FitStateT<T>&) {}
};
using Callback = CallbackT<float>;

// Whether a monitored value should fall (a loss) or rise (an accuracy). Auto: rise when the name
// contains "acc" or "auc", as Keras decides.
enum class MonitorMode { Auto, Min, Max };

namespace detail {

// Tracks the best value of a monitored quantity, improvements being by more than min_delta.
class Monitor {
 public:
  Monitor(std::string name, MonitorMode mode, double min_delta, const char* where)
      : name_(std::move(name)), min_delta_(min_delta) {
    SINEW_CHECK(!name_.empty(), where, "the monitored value needs a name");
    SINEW_CHECK(std::isfinite(min_delta) && min_delta >= 0, where,
                "min_delta must be finite and >= 0, got ", min_delta);
    if (mode == MonitorMode::Auto) {
      mode = name_.find("acc") != std::string::npos || name_.find("auc") != std::string::npos
                 ? MonitorMode::Max
                 : MonitorMode::Min;
    }
    maximize_ = mode == MonitorMode::Max;
    best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
  }
  // Records `v`; true when it improves on the best by more than min_delta (a NaN never does).
  bool improves(double v) const {
    return maximize_ ? v - min_delta_ > best_ : v + min_delta_ < best_;
  }
  void set_best(double v) { best_ = v; }
  double best() const { return best_; }
  const std::string& name() const { return name_; }
  bool maximize() const { return maximize_; }

 private:
  std::string name_;
  double min_delta_;
  bool maximize_ = false;
  double best_;
};

}  // namespace detail

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  MonitorMode mode = MonitorMode::Auto;
  double min_delta = 0;  // a change of at most this much is no improvement
  int64_t patience = 0;  // epochs in a row without improvement that stop training
  // At the end of fit, put back the weights of the best epoch (when a later epoch was worse).
  bool restore_best_weights = false;
};

// Stops training once the monitored value has gone `patience` epochs in a row without improving
// (Keras's rule; patience 0 and 1 both stop at the first epoch that does not improve).
template <class T>
class EarlyStoppingT : public CallbackT<T> {
 public:
  explicit EarlyStoppingT(EarlyStoppingOptions options = {})
      : options_(std::move(options)),
        monitor_(options_.monitor, options_.mode, options_.min_delta, "train::EarlyStopping") {
    SINEW_CHECK(options_.patience >= 0, "train::EarlyStopping", "patience must be >= 0, got ",
                options_.patience);
  }

  void on_train_begin(FitStateT<T>&) override {
    monitor_ = detail::Monitor(options_.monitor, options_.mode, options_.min_delta,
                               "train::EarlyStopping");
    wait_ = 0;
    best_epoch_ = 0;
    stopped_epoch_ = 0;
    best_weights_ = {};
  }
  void on_epoch_end(FitStateT<T>& state) override {
    const double v = state.value(options_.monitor);
    if (monitor_.improves(v)) {
      monitor_.set_best(v);
      best_epoch_ = state.epoch;
      wait_ = 0;
      if (options_.restore_best_weights) {
        best_weights_ = {};
        for (const auto& [name, t] : state.model->state_dict())
          best_weights_.insert(name, t.detach().clone());
      }
      return;
    }
    if (++wait_ >= options_.patience) {
      state.stop_training = true;
      stopped_epoch_ = state.epoch;
    }
  }
  void on_train_end(FitStateT<T>& state) override {
    if (!options_.restore_best_weights || best_epoch_ == 0 || best_epoch_ == state.epoch) return;
    state.model->load_state_dict(best_weights_);
    restored_ = true;
  }

  // The epoch fit stopped after (0: it ran all its epochs).
  int64_t stopped_epoch() const { return stopped_epoch_; }
  // The epoch with the best value (0: none yet), and that value.
  int64_t best_epoch() const { return best_epoch_; }
  double best() const { return monitor_.best(); }
  // Whether on_train_end put the best epoch's weights back.
  bool restored() const { return restored_; }

 private:
  EarlyStoppingOptions options_;
  detail::Monitor monitor_;
  int64_t wait_ = 0;
  int64_t best_epoch_ = 0;
  int64_t stopped_epoch_ = 0;
  bool restored_ = false;
  nn::StateDictT<T> best_weights_;
};
using EarlyStopping = EarlyStoppingT<float>;

struct ModelCheckpointOptions {
  // Unset: a checkpoint every epoch. Set: only when this value improved (e.g. "val_acc").
  std::optional<std::string> monitor = std::nullopt;
  MonitorMode mode = MonitorMode::Auto;
};

// Writes a checkpoint (train::save_checkpoint: model, optimizer, scheduler, epoch, generator, and
// the history as CSV under the extra key "history") to `path` at the end of epochs, atomically.
// fit's resume_from reads it back.
template <class T>
class ModelCheckpointT : public CallbackT<T> {
 public:
  explicit ModelCheckpointT(std::string path, ModelCheckpointOptions options = {})
      : path_(std::move(path)), options_(std::move(options)) {
    SINEW_CHECK(!path_.empty(), "train::ModelCheckpoint", "the checkpoint path is empty");
    if (options_.monitor)
      monitor_.emplace(*options_.monitor, options_.mode, 0.0, "train::ModelCheckpoint");
  }

  void on_epoch_end(FitStateT<T>& state) override {
    if (monitor_) {
      const double v = state.value(monitor_->name());
      if (!monitor_->improves(v)) return;
      monitor_->set_best(v);
    }
    save_checkpoint(path_, *state.model, *state.optimizer,
                    {.epoch = state.epoch, .extra = {{"history", state.history->to_csv()}}},
                    state.scheduler);
    last_saved_epoch_ = state.epoch;
  }

  const std::string& path() const { return path_; }
  // The epoch of the last checkpoint written (0: none).
  int64_t last_saved_epoch() const { return last_saved_epoch_; }

 private:
  std::string path_;
  ModelCheckpointOptions options_;
  std::optional<detail::Monitor> monitor_;
  int64_t last_saved_epoch_ = 0;
};
using ModelCheckpoint = ModelCheckpointT<float>;

}  // namespace sinew::train
