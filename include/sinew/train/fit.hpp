// train::fit, a Keras-style training loop, and train::evaluate. Optional: a hand-written loop is
// just as much Sinew (examples/fashion_mnist.cpp has one); fit is for when the loop is not the
// point.
//
//   optim::Adam opt(net.parameters(), {.lr = 1e-3});
//   train::History h = train::fit(net, train_loader,
//                                 {.optimizer = &opt,
//                                  .epochs = 5,
//                                  .val_loader = test_loader,
//                                  .metrics = {train::Metric::accuracy()}});
//
// Each epoch: the model in train mode, for every batch zero_grad, forward, loss, backward, step,
// with a progress bar (running loss and metrics); then, with a val_loader, the same loss and
// metrics in eval mode without a graph ("val_" names); the scheduler steps; the epoch's values
// (loss, the metrics, val_*, lr, seconds) go into the History and to the callbacks. Batches are
// (input, target) pairs: data::Example (data, target) or a tuple of two tensors. The loss defaults
// to cross-entropy when the targets are class indices (Tensor<int64_t>).
//
// Schedulers step once per epoch, except OneCycleLR (once per batch, as it is meant to) and
// ReduceLROnPlateau (once per epoch with the value named by plateau_monitor). A DataLoader gets
// set_epoch(epoch - 1) before each epoch, so that a run resumed with resume_from (or initial_epoch)
// sees the same batches as an uninterrupted one.
//
// Devices: fit and evaluate move each batch's input and target (when it is a tensor) to the device
// of the model's parameters, as the loaders give host tensors; `net.to(Device::cuda())` before fit
// is all a program does to train on a GPU.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/data/dataset.hpp"
#include "sinew/nn/functional.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/optim/optimizer.hpp"
#include "sinew/optim/scheduler.hpp"
#include "sinew/train/callbacks.hpp"
#include "sinew/train/checkpoint.hpp"
#include "sinew/train/history.hpp"
#include "sinew/train/metrics.hpp"
#include "sinew/train/progress.hpp"

namespace sinew::train {

namespace detail {

// A batch's input and target: data::Example's data and target, or a pair/tuple's first two.
template <class B>
struct BatchParts {
  using target = std::remove_cvref_t<std::tuple_element_t<1, B>>;
  static const auto& input(const B& b) { return std::get<0>(b); }
  static const auto& label(const B& b) { return std::get<1>(b); }
};
template <class T>
struct BatchParts<data::Example<T>> {
  using target = Tensor<int64_t>;
  static const Tensor<T>& input(const data::Example<T>& b) { return b.data; }
  static const Tensor<int64_t>& label(const data::Example<T>& b) { return b.target; }
};

template <class L>
using loader_batch_t = std::remove_cvref_t<decltype(*std::declval<L&>().begin())>;

// A tensor on `device` (itself when it is there already); anything else as it is.
template <class X>
decltype(auto) on_device(const X& x, Device device) {
  if constexpr (requires { x.to(device); }) {
    return x.to(device);
  } else {
    return (x);
  }
}

}  // namespace detail

// The target type of the batches a loader gives: Tensor<int64_t> for data::Example batches.
template <class L>
using loader_target_t = typename detail::BatchParts<detail::loader_batch_t<L>>::target;

// A named quantity averaged over an epoch's batches (weighted by batch size): fit's metrics.
template <class T, class Target = Tensor<int64_t>>
struct MetricT {
  std::string name;
  std::function<double(const Tensor<T>& output, const Target& target)> fn;

  // The fraction of samples whose highest logit is the target class: "acc".
  static MetricT accuracy(std::string name = "acc") {
    return {std::move(name),
            [](const Tensor<T>& out, const Target& y) { return train::accuracy(out, y); }};
  }
  // The fraction whose target is among the k highest logits: "top<k>".
  static MetricT top_k(int64_t k, std::string name = "") {
    if (name.empty()) name = "top" + std::to_string(k);
    return {std::move(name), [k](const Tensor<T>& out, const Target& y) {
              return train::top_k_accuracy(out, y, k);
            }};
  }
};
using Metric = MetricT<float>;

// Any loader (anything with begin()/end() over (input, target) batches and a size()), held by
// reference: FitOptions's val_loader. The loader must outlive the fit call.
template <class T, class Target = Tensor<int64_t>>
class LoaderRef {
 public:
  using Visit = std::function<void(const Tensor<T>&, const Target&)>;
  LoaderRef() = default;
  template <class L>
  requires(!std::is_same_v<std::remove_cvref_t<L>, LoaderRef>) LoaderRef(L& loader)
      : for_each_([&loader](const Visit& visit) {
          using Parts = detail::BatchParts<detail::loader_batch_t<L>>;
          for (auto&& batch : loader) visit(Parts::input(batch), Parts::label(batch));
        }),
        size_([&loader] { return static_cast<int64_t>(loader.size()); }) {}

  explicit operator bool() const { return static_cast<bool>(for_each_); }
  void for_each(const Visit& visit) const { for_each_(visit); }
  int64_t size() const { return size_(); }

 private:
  std::function<void(const Visit&)> for_each_;
  std::function<int64_t()> size_;
};

template <class T, class Target = Tensor<int64_t>>
struct FitOptionsT {
  optim::OptimizerT<T>* optimizer = nullptr;  // required
  // Empty: cross-entropy (class-index targets only).
  std::function<Tensor<T>(const Tensor<T>& output, const Target& target)> loss = {};
  int64_t epochs = 1;  // the last epoch to run (counted from 1)
  LoaderRef<T, Target> val_loader = {};
  std::vector<MetricT<T, Target>> metrics = {};
  optim::Scheduler* scheduler = nullptr;
  std::vector<CallbackT<T>*> callbacks = {};
  // ReduceLROnPlateau's value; empty: "val_loss" with a val_loader, else "loss".
  std::string plateau_monitor = "";
  // Epochs already done (a resumed run): fit runs initial_epoch + 1 .. epochs.
  int64_t initial_epoch = 0;
  // The rows of those epochs, continued by the returned History.
  History history = {};
  // A checkpoint (ModelCheckpoint's) to resume from: restores model, optimizer, scheduler and
  // generator, and sets initial_epoch and history from it. Empty: start afresh.
  std::string resume_from = "";
  bool verbose = true;  // progress bar and one line per epoch
  std::ostream* out = &std::cout;
};
template <class Target = Tensor<int64_t>>
using FitOptions = FitOptionsT<float, Target>;

namespace detail {

template <class T, class Target>
Tensor<T> fit_loss(const FitOptionsT<T, Target>& o, const Tensor<T>& out, const Target& y) {
  if (o.loss) return o.loss(out, y);
  if constexpr (std::is_same_v<Target, Tensor<int64_t>>) {
    return nn::F::cross_entropy(out, y);
  } else {
    sinew::detail::fail("train::fit", "targets that are not class indices need a loss function");
  }
}

inline std::string fit_line(const History::Values& logs) {
  std::string s;
  for (const auto& [name, v] : logs) {
    char buf[96];
    std::snprintf(buf, sizeof buf, name == "lr" ? "  %s %.3g" : "  %s %.4f", name.c_str(), v);
    s += buf;
  }
  return s;
}

}  // namespace detail

namespace detail {

template <class T, class Target>
History::Values evaluate(nn::ModuleT<T>& model, const LoaderRef<T, Target>& loader,
                         const FitOptionsT<T, Target>& options, const std::string& prefix) {
  model.eval();
  NoGradGuard no_grad;
  RunningMean loss;
  std::vector<RunningMean> metrics(options.metrics.size());
  const Device device = nn::module_device(model);
  loader.for_each([&](const Tensor<T>& host_x, const Target& host_y) {
    const Tensor<T> x = host_x.to(device);
    const Target y = on_device(host_y, device);
    Tensor<T> out = model(x);
    const auto n = static_cast<double>(x.size(0));
    loss.add(detail::fit_loss(options, out, y).item(), n);
    for (size_t m = 0; m < metrics.size(); ++m) metrics[m].add(options.metrics[m].fn(out, y), n);
  });
  SINEW_CHECK(loss.count() > 0, "train::evaluate", "the loader gave no batches");
  History::Values values{{prefix + "loss", loss.mean()}};
  for (size_t m = 0; m < metrics.size(); ++m)
    values.emplace_back(prefix + options.metrics[m].name, metrics[m].mean());
  return values;
}

}  // namespace detail

// The loss and the metrics of options (its loss function, cross-entropy by default) of `model`
// over `loader` in eval mode without recording a graph, each averaged over the samples, names
// prefixed with `prefix`: Keras's model.evaluate. The model is left in eval mode.
template <class T, class Loader>
History::Values evaluate(nn::ModuleT<T>& model, Loader& loader,
                         const FitOptionsT<T, loader_target_t<Loader>>& options = {},
                         const std::string& prefix = "") {
  return detail::evaluate(model, LoaderRef<T, loader_target_t<Loader>>(loader), options, prefix);
}

// Trains `model` on `loader` as the header comment describes; returns the History of every epoch
// (those of options.history first).
template <class T, class Loader>
History fit(nn::ModuleT<T>& model, Loader& loader,
            FitOptionsT<T, loader_target_t<Loader>> options) {
  using Target = loader_target_t<Loader>;
  using Parts = detail::BatchParts<detail::loader_batch_t<Loader>>;
  const char* fn = "train::fit";
  SINEW_CHECK(options.optimizer != nullptr, fn, "no optimizer (set .optimizer)");
  SINEW_CHECK(options.epochs >= 0, fn, "epochs must be >= 0, got ", options.epochs);
  if (!options.resume_from.empty()) {
    CheckpointInfo info =
        load_checkpoint(options.resume_from, model, *options.optimizer, options.scheduler);
    options.initial_epoch = info.epoch;
    auto h = info.extra.find("history");
    options.history =
        h == info.extra.end() ? History{} : History::from_csv(h->second, options.resume_from);
  }
  SINEW_CHECK(options.initial_epoch >= 0, fn, "initial_epoch must be >= 0, got ",
              options.initial_epoch);
  for (const CallbackT<T>* cb : options.callbacks)
    SINEW_CHECK(cb != nullptr, fn, "a callback is a null pointer");
  auto* one_cycle = dynamic_cast<optim::OneCycleLR*>(options.scheduler);
  auto* plateau = dynamic_cast<optim::ReduceLROnPlateau*>(options.scheduler);
  auto* per_epoch = dynamic_cast<optim::LRScheduler*>(options.scheduler);
  const std::string plateau_monitor = !options.plateau_monitor.empty() ? options.plateau_monitor
                                      : options.val_loader             ? "val_loss"
                                                                       : "loss";

  History history = std::move(options.history);
  FitStateT<T> state;
  state.model = &model;
  state.optimizer = options.optimizer;
  state.scheduler = options.scheduler;
  state.history = &history;
  state.epochs = options.epochs;
  state.batches = static_cast<int64_t>(loader.size());
  for (CallbackT<T>* cb : options.callbacks) cb->on_train_begin(state);

  optim::OptimizerT<T>& opt = *options.optimizer;
  const Device device = nn::module_device(model);
  for (int64_t epoch = options.initial_epoch + 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    state.epoch = epoch;
    state.batch = 0;
    state.logs.clear();
    for (CallbackT<T>* cb : options.callbacks) cb->on_epoch_begin(state);
    if constexpr (requires { loader.set_epoch(epoch - 1); }) loader.set_epoch(epoch - 1);

    model.train();
    RunningMean loss;
    std::vector<RunningMean> metrics(options.metrics.size());
    const std::string label =
        "epoch " + std::to_string(epoch) + "/" + std::to_string(options.epochs);
    ProgressBar bar(state.batches,
                    {.out = options.out, .silent = !options.verbose, .label = label});
    auto shown = [&] {
      Metrics m{{"loss", loss.mean()}};
      for (size_t i = 0; i < metrics.size(); ++i)
        m.emplace_back(options.metrics[i].name, metrics[i].mean());
      return m;
    };
    for (auto&& batch : loader) {
      const Tensor<T> x = Parts::input(batch).to(device);
      const Target y = detail::on_device(Parts::label(batch), device);
      opt.zero_grad();
      Tensor<T> out = model(x);
      Tensor<T> l = detail::fit_loss(options, out, y);
      l.backward();
      opt.step();
      if (one_cycle != nullptr) one_cycle->step();
      const auto n = static_cast<double>(x.size(0));
      state.batch_loss = l.item();
      loss.add(state.batch_loss, n);
      {
        NoGradGuard no_grad;
        for (size_t m = 0; m < metrics.size(); ++m)
          metrics[m].add(options.metrics[m].fn(out.detach(), y), n);
      }
      ++state.batch;
      for (CallbackT<T>* cb : options.callbacks) cb->on_batch_end(state);
      bar.step(shown());
    }
    SINEW_CHECK(loss.count() > 0, fn, "the training loader gave no batches in epoch ", epoch);
    bar.finish(shown());

    state.logs = {{"loss", loss.mean()}};
    for (size_t m = 0; m < metrics.size(); ++m)
      state.logs.emplace_back(options.metrics[m].name, metrics[m].mean());
    if (options.val_loader) {
      for (auto& v : detail::evaluate(model, options.val_loader, options, "val_"))
        state.logs.push_back(std::move(v));
    }
    state.logs.emplace_back("lr", opt.lr(0));
    state.logs.emplace_back(
        "seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    history.record(epoch, state.logs);
    if (plateau != nullptr) {
      plateau->step(state.value(plateau_monitor));
    } else if (per_epoch != nullptr && one_cycle == nullptr) {
      per_epoch->step();
    }
    if (options.verbose) {
      *options.out << label << detail::fit_line(state.logs) << '\n';
      options.out->flush();
    }
    for (CallbackT<T>* cb : options.callbacks) cb->on_epoch_end(state);
    if (state.stop_training) break;
  }
  for (CallbackT<T>* cb : options.callbacks) cb->on_train_end(state);
  return history;
}

}  // namespace sinew::train
