// optim::OptimizerT<T>: the base of every optimizer over Tensor<T> parameters (parameter groups
// with their own options, zero_grad, per-parameter state, state dicts), on top of the non-template
// optim::Optimizer (optimizer_base.hpp) that the LR schedulers use.
//
// Construction, PyTorch style: a parameter list, or parameter groups whose options override the
// optimizer's defaults field by field (a field left out takes the default):
//
//   optim::SGD opt(net.parameters(), {.lr = 0.01, .momentum = 0.9});
//   optim::SGD opt({{fc1.parameters(), {.lr = 0.1}}, {fc2.parameters()}},
//                  {.lr = 0.01, .momentum = 0.9});   // fc1: lr 0.1, momentum 0.9; fc2: defaults
//   optim::AdamT<double> opt(double_net.parameters(), {.lr = 1e-3});   // double parameters
//
// Each optimizer is a class template on the element type with a float alias (SGD = SGDT<float>),
// an options aggregate (SGDOptions) and a group-override aggregate of optionals (SGDGroupOptions)
// with the same field names. The resolved options of group g are options(g).
//
// State dicts. state_dict() returns an optim::StateDictT<T>: the per-parameter state tensors as an
// nn::StateDictT<T> under "state.<i>.<name>" (i = the parameter's index counting through the groups
// in order, as PyTorch numbers them; the step count is the tensor "state.<i>.step") and string
// metadata: "optimizer" (the type name) and "param_groups" (JSON: each group's hyperparameters and
// its parameter indices). That is exactly what a safetensors file holds (see optim/serialize.hpp).
// load_state_dict() restores both, so a resumed run continues bit for bit.
//
// Updates run under NoGradGuard, in place, as loops over the data of contiguous CPU parameters in
// their own precision (another device is an Error naming the parameter); state buffers are
// allocated on a parameter's first step and reused after. Parameters without a .grad are skipped.
//
// Everything here that touches tensors or JSON is a template, so a program that includes
// <sinew/sinew.hpp> and uses no optimizer instantiates none of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/elementwise.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/optim/optimizer_base.hpp"

// to_json/from_json for an options aggregate, as NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT
// (a field missing from the JSON keeps its default) but as templates on the JSON type: that macro
// defines non-template inline functions, which every translation unit would compile.
#define SINEW_OPTIM_OPTIONS_JSON(Type, ...)                                                 \
  template <class Json>                                                                     \
  void to_json(Json& nlohmann_json_j, const Type& nlohmann_json_t) {                        \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))                \
  }                                                                                         \
  template <class Json>                                                                     \
  void from_json(const Json& nlohmann_json_j, Type& nlohmann_json_t) {                      \
    const Type nlohmann_json_default_obj{};                                                 \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, __VA_ARGS__)) \
  }

namespace sinew::optim {

// A serializable snapshot of an optimizer: state tensors plus string metadata (JSON).
template <class T = float>
struct StateDictT {
  nn::StateDictT<T> tensors;                    // "state.<param index>.<buffer>"
  std::map<std::string, std::string> metadata;  // "optimizer", "param_groups"
};
using StateDict = StateDictT<float>;

// The state an optimizer keeps for one parameter: a step count and named buffers.
template <class T = float>
struct ParamStateT {
  int64_t step = 0;
  nn::OrderedDict<Tensor<T>> buffers;
};
using ParamState = ParamStateT<float>;

template <class T>
class OptimizerT : public Optimizer {
 public:
  using value_type = T;
  using Optimizer::Optimizer;

  void zero_grad(bool set_to_none = true) override {
    for (auto& group : params_) {
      for (auto& p : group) {
        Tensor<T> g = p.grad();
        if (!g.defined()) continue;
        if (set_to_none) {
          p.set_grad(Tensor<T>());
        } else {
          NoGradGuard guard;
          g.detach().zero_();
        }
      }
    }
  }

  // ---- groups ---------------------------------------------------------------------------------
  size_t num_param_groups() const override { return params_.size(); }
  // A new group with the optimizer's default options.
  virtual void add_param_group(std::vector<Tensor<T>> params) = 0;
  // The parameters of group g.
  const std::vector<Tensor<T>>& params(size_t group) const {
    check_group(group, "params");
    return params_[group];
  }
  // Every parameter, through the groups in order (the indices used by state dicts).
  std::vector<Tensor<T>> all_params() const {
    std::vector<Tensor<T>> out;
    for (const auto& g : params_) out.insert(out.end(), g.begin(), g.end());
    return out;
  }

  // ---- state ----------------------------------------------------------------------------------
  // The state of parameter p (created empty on first use).
  ParamStateT<T>& state(const Tensor<T>& p) { return state_[p.impl_ptr().get()]; }
  const ParamStateT<T>* find_state(const Tensor<T>& p) const {
    auto it = state_.find(p.impl_ptr().get());
    return it == state_.end() ? nullptr : &it->second;
  }

  // A snapshot (the tensors are copies) of the state and the hyperparameters.
  virtual StateDictT<T> state_dict() const {
    StateDictT<T> out;
    std::vector<Tensor<T>> all = all_params();
    NoGradGuard guard;
    for (size_t i = 0; i < all.size(); ++i) {
      const ParamStateT<T>* s = find_state(all[i]);
      if (s == nullptr) continue;
      std::string prefix = "state." + std::to_string(i) + ".";
      out.tensors.insert(prefix + "step", full<T>({}, static_cast<double>(s->step)));
      for (const auto& [n, t] : s->buffers) out.tensors.insert(prefix + n, t.detach().clone());
    }
    Json groups = Json::array();
    size_t index = 0;
    for (size_t g = 0; g < num_param_groups(); ++g) {
      Json j = group_to_json(g);
      std::vector<size_t> ids;
      for (size_t k = 0; k < params_[g].size(); ++k) ids.push_back(index++);
      j["params"] = ids;
      groups.push_back(j);
    }
    out.metadata["optimizer"] = name();
    out.metadata["param_groups"] = groups.dump();
    return out;
  }

  // Restores hyperparameters and state from a state dict made by the same optimizer type over the
  // same number of groups and parameters (checked; shapes are checked before anything changes).
  virtual void load_state_dict(const StateDictT<T>& dict) {
    const char* fn = "load_state_dict";
    auto opt_it = dict.metadata.find("optimizer");
    SINEW_CHECK(opt_it != dict.metadata.end(), fn, "the state dict has no 'optimizer' metadata");
    SINEW_CHECK(opt_it->second == name(), fn, "the state dict is of a ", opt_it->second,
                " optimizer, this one is ", name());
    auto groups_it = dict.metadata.find("param_groups");
    SINEW_CHECK(groups_it != dict.metadata.end(), fn, "the state dict has no 'param_groups'");
    Json groups;
    try {
      groups = Json::parse(groups_it->second);
    } catch (const nlohmann::json::exception& e) {
      sinew::detail::fail(fn, "'param_groups' is not valid JSON: ", e.what());
    }
    SINEW_CHECK(groups.is_array() && groups.size() == num_param_groups(), fn, "the state dict has ",
                groups.is_array() ? groups.size() : 0, " parameter groups, the optimizer has ",
                num_param_groups());
    for (size_t g = 0; g < num_param_groups(); ++g) {
      size_t n = groups[g].contains("params") ? groups[g]["params"].size() : 0;
      SINEW_CHECK(n == params_[g].size(), fn, "group ", g, " has ", n,
                  " parameters in the state dict, ", params_[g].size(), " in the optimizer");
    }
    std::vector<Tensor<T>> all = all_params();
    // Parse every key before changing anything.
    std::vector<std::unordered_map<std::string, Tensor<T>>> incoming(all.size());
    for (const auto& [key, t] : dict.tensors) {
      size_t dot1 = key.find('.');
      size_t dot2 = dot1 == std::string::npos ? dot1 : key.find('.', dot1 + 1);
      SINEW_CHECK(key.compare(0, 6, "state.") == 0 && dot2 != std::string::npos, fn,
                  "unexpected key '", key, "'");
      size_t i = 0;
      try {
        i = std::stoul(key.substr(dot1 + 1, dot2 - dot1 - 1));
      } catch (const std::exception&) {
        sinew::detail::fail(fn, "unexpected key '", key, "'");
      }
      SINEW_CHECK(i < all.size(), fn, "key '", key, "' names parameter ", i, " of ", all.size());
      incoming[i][key.substr(dot2 + 1)] = t;
    }
    for (size_t i = 0; i < all.size(); ++i) {
      for (const auto& [n, t] : incoming[i]) {
        if (n == "step") {
          SINEW_CHECK(t.numel() == 1, fn, "state.", i, ".step must hold one value, got ",
                      t.shape());
        } else {
          check_state_shape(i, all[i], n, t);
        }
      }
    }
    for (size_t g = 0; g < num_param_groups(); ++g) group_from_json(g, groups[g], false);
    for (size_t g = 0; g < num_param_groups(); ++g) group_from_json(g, groups[g], true);
    state_.clear();
    NoGradGuard guard;
    for (size_t i = 0; i < all.size(); ++i) {
      if (incoming[i].empty()) continue;
      ParamStateT<T>& s = state(all[i]);
      for (const auto& [n, t] : incoming[i]) {
        if (n == "step") {
          s.step = static_cast<int64_t>(t.detach().contiguous().data_ptr()[0]);
        }
      }
      // Buffers in the order the dict lists them (the dict keeps insertion order).
      for (const auto& [key, t] : dict.tensors) {
        std::string prefix = "state." + std::to_string(i) + ".";
        if (key.compare(0, prefix.size(), prefix) != 0) continue;
        std::string n = key.substr(prefix.size());
        if (n == "step") continue;
        s.buffers.insert_or_assign(n, t.detach().to(all[i].device()).clone());
      }
    }
  }

 protected:
  // The JSON type of the hyperparameters; dependent on T so that nothing of it is compiled before
  // an optimizer is.
  using Json = std::conditional_t<sizeof(T) != 0, nlohmann::json, void>;

  // Checks a parameter list for a new group (non-empty, leaf tensors, none already held).
  void check_new_group(const std::vector<Tensor<T>>& params) const {
    SINEW_CHECK(!params.empty(), name().c_str(), "got an empty parameter list");
    std::unordered_set<const void*> seen;
    for (const auto& g : params_)
      for (const auto& p : g) seen.insert(p.impl_ptr().get());
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor<T>& p = params[i];
      SINEW_CHECK(p.defined(), name().c_str(), "parameter ", i, " is an undefined tensor");
      SINEW_CHECK(p.is_leaf(), name().c_str(), "cannot optimize a non-leaf tensor (parameter ", i,
                  ", shape ", p.shape(), ")");
      SINEW_CHECK(seen.insert(p.impl_ptr().get()).second, name().c_str(), "parameter ", i,
                  " (shape ", p.shape(),
                  ") appears in more than one place in the parameter groups");
    }
  }
  void push_group(std::vector<Tensor<T>> params) { params_.push_back(std::move(params)); }
  // A state buffer of parameter i may have the parameter's shape; LBFGS overrides this.
  virtual void check_state_shape(size_t i, const Tensor<T>& p, const std::string& n,
                                 const Tensor<T>& t) const {
    SINEW_CHECK(t.shape() == p.shape(), "load_state_dict", "state.", i, ".", n, " has shape ",
                t.shape(), ", the parameter has ", p.shape());
  }
  virtual Json group_to_json(size_t group) const = 0;
  // Reads group g's hyperparameters (validated); stores them only when `apply` is true.
  virtual void group_from_json(size_t group, const Json& j, bool apply) = 0;
  void clear_state() { state_.clear(); }

  // The contiguous CPU data of a parameter and of its gradient, for the update loops.
  T* param_data(const Tensor<T>& p) const {
    SINEW_CHECK(p.is_cpu() && p.is_contiguous(), name().c_str(),
                "parameters must be contiguous CPU tensors, got one of shape ", p.shape(), " on ",
                p.device());
    return p.data_ptr();
  }
  Tensor<T> grad_of(const Tensor<T>& p) const {
    Tensor<T> g = p.grad();
    if (!g.defined()) return g;
    SINEW_CHECK(g.shape() == p.shape(), name().c_str(), "gradient of shape ", g.shape(),
                " for a parameter of shape ", p.shape());
    SINEW_CHECK(g.is_cpu(), name().c_str(), "gradients must be on the CPU, got ", g.device());
    return g.is_contiguous() ? g : g.contiguous();
  }
  // A zero-filled (or value-filled) state buffer created on first use.
  Tensor<T>& buffer(ParamStateT<T>& s, const std::string& n, const Tensor<T>& like,
                    double value = 0) {
    if (Tensor<T>* b = s.buffers.find(n)) return *b;
    return s.buffers.insert(n, full<T>(like.shape(), value, like.device()));
  }

  std::vector<std::vector<Tensor<T>>> params_;

 private:
  std::unordered_map<const void*, ParamStateT<T>> state_;
};

// The part every concrete optimizer shares: typed options per group. Options is the aggregate of
// hyperparameters; GroupOptions holds the same fields as std::optional overrides and provides
// `Options resolve(const Options& defaults) const`. Derived supplies validate(const Options&);
// Options has to_json/from_json (SINEW_OPTIM_OPTIONS_JSON).
template <class T, class Options, class GroupOptions>
class OptimizerWith : public OptimizerT<T> {
  using Base = OptimizerT<T>;

 public:
  // A group: its parameters and the options it overrides.
  struct ParamGroup {
    std::vector<Tensor<T>> params = {};
    GroupOptions options = {};
  };

  OptimizerWith(std::string name, Options defaults) : Base(std::move(name)), defaults_(defaults) {}

  const Options& defaults() const { return defaults_; }
  // The resolved options of group g (writable: schedulers and users may change them).
  Options& options(size_t group = 0) {
    this->check_group(group, "options");
    return options_[group];
  }
  const Options& options(size_t group = 0) const {
    this->check_group(group, "options");
    return options_[group];
  }

  void add_param_group(std::vector<Tensor<T>> params) override {
    add_param_group(ParamGroup{std::move(params), {}});
  }
  void add_param_group(ParamGroup group) {
    this->check_new_group(group.params);
    Options o = group.options.resolve(defaults_);
    validate(o);
    this->push_group(std::move(group.params));
    options_.push_back(o);
  }

  double lr(size_t group = 0) const override { return options(group).lr; }
  using Optimizer::set_lr;
  void set_lr(double lr, size_t group) override {
    SINEW_CHECK(lr >= 0, "set_lr", "invalid learning rate: ", lr);
    options(group).lr = lr;
  }

 protected:
  using typename Base::Json;
  // Validates the defaults (an empty-group optimizer still checks them) and adds the groups.
  void init(std::vector<ParamGroup> groups) {
    validate(defaults_);
    SINEW_CHECK(!groups.empty(), this->name().c_str(), "got an empty list of parameter groups");
    for (auto& g : groups) add_param_group(std::move(g));
  }
  virtual void validate(const Options& o) const = 0;
  Json group_to_json(size_t group) const override {
    Json j = options(group);
    return j;
  }
  void group_from_json(size_t group, const Json& j, bool apply) override {
    Options o = defaults_;
    try {
      from_json(j, o);
    } catch (const nlohmann::json::exception& e) {
      sinew::detail::fail("load_state_dict", "bad hyperparameters for group ", group, ": ",
                          e.what());
    }
    validate(o);
    if (apply) options_[group] = o;
  }

  Options defaults_;
  std::vector<Options> options_;
};

}  // namespace sinew::optim
