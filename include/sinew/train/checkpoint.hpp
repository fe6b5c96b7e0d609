// Checkpoints: everything a training run needs to continue where it stopped, in one safetensors
// file written atomically (a crash while saving leaves the previous checkpoint intact).
//
//   train::save_checkpoint(path, model, optimizer, {.epoch = epoch}, &scheduler);
//   ...
//   train::CheckpointInfo info = train::load_checkpoint(path, model, optimizer, &scheduler);
//   loader.set_epoch(info.epoch);   // the DataLoader's order depends only on its seed and epoch
//   for (int64_t epoch = info.epoch + 1; epoch <= epochs; ++epoch) ...
//
// The file holds the model's state dict under "model.<name>" (PyTorch's names: parameters and
// buffers, batch norm's running statistics included), the optimizer's state tensors under
// "optimizer.<name>", and metadata: "sinew.checkpoint" (the format version), "epoch", "rng" (the
// default generator's state: dropout masks and any other draw continue the same stream),
// "optimizer.<key>" (the optimizer's hyperparameters and type), "scheduler" (JSON: its type and
// state) and "extra.<key>" (the program's own strings, e.g. its history as CSV). A run resumed from
// a checkpoint taken at the end of an epoch gives the same parameters, bit for bit on the CPU, as a
// run that was never interrupted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "sinew/core/error.hpp"
#include "sinew/core/random.hpp"
#include "sinew/io/safetensors.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/optim/optimizer.hpp"
#include "sinew/optim/scheduler.hpp"

namespace sinew::train {

// What a checkpoint records besides the model, optimizer and scheduler.
struct CheckpointInfo {
  int64_t epoch = 0;                              // epochs completed when it was taken
  std::map<std::string, std::string> extra = {};  // the program's own strings
};

namespace detail {

inline constexpr const char* kCheckpointFormat = "1";

inline bool take_prefix(const std::string& key, const std::string& prefix, std::string* rest) {
  if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0) return false;
  *rest = key.substr(prefix.size());
  return true;
}

template <class Json = nlohmann::json>
std::string scheduler_json(const optim::Scheduler& s) {
  Json state = Json::object();
  for (const auto& [key, values] : s.state_dict()) state[key] = values;
  return Json{{"name", s.name()}, {"state", std::move(state)}}.dump();
}

// The scheduler state stored in `text`, checked to be `s`'s type.
template <class Json = nlohmann::json>
optim::SchedulerState parse_scheduler(const std::string& text, const optim::Scheduler& s,
                                      const std::string& path) {
  const char* where = "train::load_checkpoint";
  optim::SchedulerState out;
  std::string name;
  try {
    const Json j = Json::parse(text);
    name = j.at("name").template get<std::string>();
    for (const auto& [key, values] : j.at("state").items())
      out[key] = values.template get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    sinew::detail::fail(where, path, ": the scheduler state is not valid (", e.what(), ")");
  }
  SINEW_CHECK(name == s.name(), where, path, ": the checkpoint holds the state of a ", name,
              " scheduler, not of a ", s.name());
  return out;
}

}  // namespace detail

// Writes model, optimizer, the scheduler when given, info.epoch, info.extra and the default
// generator's state to `path` (atomically: a temporary file renamed over it).
template <class T>
void save_checkpoint(const std::string& path, const nn::ModuleT<T>& model,
                     const optim::OptimizerT<T>& optimizer, const CheckpointInfo& info = {},
                     const optim::Scheduler* scheduler = nullptr) {
  const char* where = "train::save_checkpoint";
  SINEW_CHECK(info.epoch >= 0, where, path, ": epoch must be >= 0, got ", info.epoch);
  nn::StateDictT<T> tensors;
  for (const auto& [name, t] : model.state_dict()) tensors.insert("model." + name, t);
  optim::StateDictT<T> opt = optimizer.state_dict();
  for (const auto& [name, t] : opt.tensors) tensors.insert("optimizer." + name, t);
  std::map<std::string, std::string> metadata;
  metadata["sinew.checkpoint"] = detail::kCheckpointFormat;
  metadata["epoch"] = std::to_string(info.epoch);
  metadata["rng"] = get_rng_state();
  for (const auto& [key, value] : opt.metadata) metadata["optimizer." + key] = value;
  if (scheduler != nullptr) metadata["scheduler"] = detail::scheduler_json(*scheduler);
  for (const auto& [key, value] : info.extra) metadata["extra." + key] = value;
  io::save_file(tensors, path, metadata);
}

// Restores what save_checkpoint wrote into model, optimizer, the scheduler when given (it must
// be given exactly when the checkpoint has one) and the default generator; returns the epoch and
// the extra strings. An Error names the file and what is wrong. The format, the epoch, the
// generator state and the optimizer's and scheduler's types are checked before anything changes,
// the model's names and shapes (strictly) before any of its tensors do; an Error from a later
// part (the optimizer's groups or state shapes) leaves a mix that should not be trained on.
template <class T>
CheckpointInfo load_checkpoint(const std::string& path, nn::ModuleT<T>& model,
                               optim::OptimizerT<T>& optimizer,
                               optim::Scheduler* scheduler = nullptr) {
  const char* where = "train::load_checkpoint";
  std::map<std::string, std::string> metadata;
  nn::StateDictT<T> tensors = io::load_file<T>(path, &metadata);
  auto meta = [&](const char* key) -> const std::string& {
    auto it = metadata.find(key);
    SINEW_CHECK(it != metadata.end(), where, path, ": no '", key,
                "' metadata: not a checkpoint written by train::save_checkpoint");
    return it->second;
  };
  const std::string& format = meta("sinew.checkpoint");
  SINEW_CHECK(format == detail::kCheckpointFormat, where, path, ": checkpoint format '", format,
              "', this version of Sinew reads format ", detail::kCheckpointFormat);

  CheckpointInfo info;
  const std::string& epoch = meta("epoch");
  size_t used = 0;
  try {
    info.epoch = std::stoll(epoch, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  SINEW_CHECK(used == epoch.size() && used > 0 && info.epoch >= 0, where, path, ": epoch '", epoch,
              "' is not a whole number >= 0");

  nn::StateDictT<T> model_dict;
  optim::StateDictT<T> opt_dict;
  std::string rest;
  for (auto& [name, t] : tensors) {
    if (detail::take_prefix(name, "model.", &rest)) {
      model_dict.insert(rest, std::move(t));
    } else if (detail::take_prefix(name, "optimizer.", &rest)) {
      opt_dict.tensors.insert(rest, std::move(t));
    } else {
      sinew::detail::fail(where, path, ": unexpected tensor '", name,
                          "' (a checkpoint holds model.* and optimizer.* tensors)");
    }
  }
  for (const auto& [key, value] : metadata) {
    if (detail::take_prefix(key, "optimizer.", &rest)) opt_dict.metadata[rest] = value;
    if (detail::take_prefix(key, "extra.", &rest)) info.extra[rest] = value;
  }
  const std::string& saved_optimizer = meta("optimizer.optimizer");
  SINEW_CHECK(saved_optimizer == optimizer.name(), where, path,
              ": the checkpoint holds the state "
              "of a ",
              saved_optimizer, " optimizer, not of a ", optimizer.name());
  auto has_scheduler = metadata.find("scheduler");
  SINEW_CHECK((has_scheduler != metadata.end()) == (scheduler != nullptr), where, path,
              scheduler != nullptr ? ": the checkpoint holds no scheduler state"
                                   : ": the checkpoint holds a scheduler's state; pass the "
                                     "scheduler to restore it");
  optim::SchedulerState scheduler_state;
  if (scheduler != nullptr)
    scheduler_state = detail::parse_scheduler(has_scheduler->second, *scheduler, path);
  const std::string& rng = meta("rng");
  Generator probe;
  probe.set_state(rng);  // validates before anything changes

  if (scheduler != nullptr) scheduler->load_state_dict(scheduler_state);
  // The model (load_state_dict checks every name and shape before it writes any), then the
  // optimizer, whose groups then hold the saved lrs again over the scheduler's initial ones.
  const nn::StateDictT<T> own = model.state_dict();
  for (auto& [key, t] : model_dict) {
    if (const Tensor<T>* mine = own.find(key)) t = t.to(mine->device());
  }
  try {
    model.load_state_dict(model_dict);
  } catch (const Error& e) {
    sinew::detail::fail(where, path, ": the model does not match: ", e.what());
  }
  try {
    optimizer.load_state_dict(opt_dict);
  } catch (const Error& e) {
    sinew::detail::fail(where, path, ": the optimizer does not match: ", e.what());
  }
  set_rng_state(rng);
  return info;
}

}  // namespace sinew::train
