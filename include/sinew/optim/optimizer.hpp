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
// Updates run under NoGradGuard, in place, in the parameters' own precision: one fused kernel per
// parameter (backend/optim_step.hpp, dispatched on the parameter's device), so nothing here reads
// or writes a tensor's memory; parameters must be contiguous (an Error names the shape). State
// buffers are allocated on a parameter's first step, on its device, and reused after. Parameters
// without a .grad are skipped.
//
// Everything here that touches tensors or JSON is a template, so a program that includes
// <sinew/sinew.hpp> and uses no optimizer instantiates none of it. No virtual function mentions
// JSON: state_dict() and load_state_dict() are non-virtual templates reaching the dynamic type
// through JSON-free hooks (FieldVisitor), so a program that constructs and steps optimizers but
// never takes a state dict compiles no JSON code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
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

// The field list of an options aggregate, in the order they are listed:
//   SINEW_OPTIM_OPTIONS(SGDOptions, lr, momentum, ...)
// defines `template <class V> void visit_fields(V& v, SGDOptions& o)` calling v("lr", o.lr), ...
// (what the state dicts and the FieldVisitor hooks go through) and to_json/from_json templates on
// the JSON type built on it (a field missing from the JSON takes the aggregate's default, as
// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT; templates, so only a program that converts
// options to or from JSON compiles any JSON code). A field is a double, bool, int64_t,
// std::pair<double, double> or an enum declared with SINEW_OPTIM_ENUM.
#define SINEW_OPTIM_VISIT_FIELD_(field) v(#field, o.field);
#define SINEW_OPTIM_OPTIONS(Type, ...)                                               \
  template <class V>                                                                 \
  void visit_fields(V& v, Type& o) {                                                 \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(SINEW_OPTIM_VISIT_FIELD_, __VA_ARGS__)) \
  }                                                                                  \
  template <class Json>                                                              \
  void to_json(Json& j, const Type& o) {                                             \
    ::sinew::optim::detail::options_to_json(j, o);                                   \
  }                                                                                  \
  template <class Json>                                                              \
  void from_json(const Json& j, Type& o) {                                           \
    ::sinew::optim::detail::options_from_json(j, o);                                 \
  }

// An enum option with the values 0, 1, ..., n - 1 and the names they serialize to, in value
// order (nullptr: JSON null); a name not listed reads as the first value, as
// NLOHMANN_JSON_SERIALIZE_ENUM does:
//   SINEW_OPTIM_ENUM(LineSearch, nullptr, "strong_wolfe")
// defines option_enum_names(LineSearch) and to_json/from_json templates.
#define SINEW_OPTIM_ENUM(Type, ...)                                                         \
  inline std::span<const char* const> option_enum_names(Type) {                             \
    static constexpr const char* names[] = {__VA_ARGS__};                                   \
    return names;                                                                           \
  }                                                                                         \
  template <class Json>                                                                     \
  void to_json(Json& j, const Type& e) {                                                    \
    ::sinew::optim::detail::enum_to_json(j, static_cast<int64_t>(e), option_enum_names(e)); \
  }                                                                                         \
  template <class Json>                                                                     \
  void from_json(const Json& j, Type& e) {                                                  \
    e = static_cast<Type>(::sinew::optim::detail::enum_from_json(j, option_enum_names(e))); \
  }

namespace sinew::optim {

// Named values of an optimizer, without JSON: the hyperparameters of a group (visit_options,
// load_options) and extra per-group state (LBFGS's scalars). A writer reads each value, a reader
// assigns it (a reader may leave a value it has no entry for unchanged).
class FieldVisitor {
 public:
  virtual ~FieldVisitor() = default;
  virtual void field(const char* name, double& v) = 0;
  virtual void field(const char* name, bool& v) = 0;
  virtual void field(const char* name, int64_t& v) = 0;
  virtual void field(const char* name, std::pair<double, double>& v) = 0;
  virtual void field(const char* name, std::vector<double>& v) = 0;
  // An enum (SINEW_OPTIM_ENUM) as its value and the names of its values.
  virtual void field(const char* name, int64_t& value, std::span<const char* const> names) = 0;
};

namespace detail {

template <class Json>
void enum_to_json(Json& j, int64_t value, std::span<const char* const> names) {
  const char* n = value >= 0 && static_cast<size_t>(value) < names.size() ? names[value] : names[0];
  if (n == nullptr) {
    j = nullptr;
  } else {
    j = n;
  }
}
template <class Json>
int64_t enum_from_json(const Json& j, std::span<const char* const> names) {
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k] == nullptr ? j.is_null()
                            : j.is_string() && j.template get_ref<const std::string&>() == names[k])
      return static_cast<int64_t>(k);
  }
  return 0;
}

// to_json/from_json of an options aggregate through its visit_fields (SINEW_OPTIM_OPTIONS).
template <class Json>
struct OptionsToJson {
  Json& j;
  template <class F>
  void operator()(const char* name, const F& f) {
    j[name] = f;
  }
};
template <class Json>
struct OptionsFromJson {
  const Json& j;
  template <class F>
  void operator()(const char* name, F& f) {
    f = j.value(name, f);
  }
};
template <class Json, class Options>
void options_to_json(Json& j, const Options& o) {
  Options copy = o;
  OptionsToJson<Json> w{j};
  visit_fields(w, copy);
}
template <class Json, class Options>
void options_from_json(const Json& j, Options& o) {
  o = Options{};
  OptionsFromJson<Json> r{j};
  visit_fields(r, o);
}

// FieldVisitors over a JSON object, for state_dict() and load_state_dict() (and so compiled only
// by a program that calls them).
template <class Json>
class JsonFieldWriter final : public FieldVisitor {
 public:
  Json j = Json::object();
  void field(const char* name, double& v) override { j[name] = v; }
  void field(const char* name, bool& v) override { j[name] = v; }
  void field(const char* name, int64_t& v) override { j[name] = v; }
  void field(const char* name, std::pair<double, double>& v) override { j[name] = v; }
  void field(const char* name, std::vector<double>& v) override { j[name] = v; }
  void field(const char* name, int64_t& v, std::span<const char* const> names) override {
    enum_to_json(j[name], v, names);
  }
};

// Reads the entries of `j`: a missing one leaves the value as it is unless `required`; a missing
// required entry or one of the wrong type is a sinew::Error of load_state_dict saying `context`.
template <class Json>
class JsonFieldReader final : public FieldVisitor {
 public:
  JsonFieldReader(const Json& j, bool required, std::string context)
      : j_(j), required_(required), context_(std::move(context)) {}
  void field(const char* name, double& v) override {
    read(name, [&](const Json& x) { x.get_to(v); });
  }
  void field(const char* name, bool& v) override {
    read(name, [&](const Json& x) { x.get_to(v); });
  }
  void field(const char* name, int64_t& v) override {
    read(name, [&](const Json& x) { x.get_to(v); });
  }
  void field(const char* name, std::pair<double, double>& v) override {
    read(name, [&](const Json& x) { x.get_to(v); });
  }
  void field(const char* name, std::vector<double>& v) override {
    read(name, [&](const Json& x) { x.get_to(v); });
  }
  void field(const char* name, int64_t& v, std::span<const char* const> names) override {
    read(name, [&](const Json& x) { v = enum_from_json(x, names); });
  }

 private:
  template <class F>
  void read(const char* name, const F& f) {
    try {
      if (required_ || !j_.is_object()) {
        f(j_.at(name));  // throws for a missing entry or a non-object
      } else if (auto it = j_.find(name); it != j_.end()) {
        f(*it);
      }
    } catch (const typename Json::exception& e) {
      sinew::detail::fail("load_state_dict", context_, ": ", e.what());
    }
  }
  const Json& j_;
  bool required_;
  std::string context_;
};

}  // namespace detail

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

  // A snapshot (the tensors are copies) of the state and the hyperparameters. A template (on the
  // JSON type of the metadata) and not virtual, so that only a program that takes state dicts
  // compiles JSON code; the dynamic type is reached through visit_options and save_group_state.
  template <class Json = nlohmann::json>
  StateDictT<T> state_dict() const {
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
      detail::JsonFieldWriter<Json> w;
      visit_options(g, w);
      std::vector<size_t> ids;
      for (size_t k = 0; k < params_[g].size(); ++k) ids.push_back(index++);
      w.j["params"] = ids;
      groups.push_back(std::move(w.j));
    }
    out.metadata["optimizer"] = name();
    out.metadata["param_groups"] = groups.dump();
    if (const char* extra = group_state_name()) {
      Json scalars = Json::object();
      index = 0;
      for (size_t g = 0; g < num_param_groups(); ++g) {
        const std::string id = std::to_string(index);
        index += params_[g].size();
        detail::JsonFieldWriter<Json> w;
        if (save_group_state(g, "state." + id + ".", out.tensors, w)) scalars[id] = std::move(w.j);
      }
      out.metadata[extra] = scalars.dump();
    }
    return out;
  }

  // Restores hyperparameters and state from a state dict made by the same optimizer type over the
  // same number of groups and parameters (checked; shapes are checked before anything changes).
  // A template as state_dict(); the dynamic type is reached through load_options and
  // load_group_states.
  template <class Json = nlohmann::json>
  void load_state_dict(const StateDictT<T>& dict) {
    const char* fn = "load_state_dict";
    const char* extra = group_state_name();
    Json extra_json;
    if (extra != nullptr) {
      auto it = dict.metadata.find(extra);
      SINEW_CHECK(it != dict.metadata.end(), fn, "the state dict has no '", extra, "' metadata");
      try {
        extra_json = Json::parse(it->second);
      } catch (const typename Json::exception& e) {
        sinew::detail::fail(fn, "'", extra, "' is not valid JSON: ", e.what());
      }
    }
    auto opt_it = dict.metadata.find("optimizer");
    SINEW_CHECK(opt_it != dict.metadata.end(), fn, "the state dict has no 'optimizer' metadata");
    SINEW_CHECK(opt_it->second == name(), fn, "the state dict is of a ", opt_it->second,
                " optimizer, this one is ", name());
    auto groups_it = dict.metadata.find("param_groups");
    SINEW_CHECK(groups_it != dict.metadata.end(), fn, "the state dict has no 'param_groups'");
    Json groups;
    try {
      groups = Json::parse(groups_it->second);
    } catch (const typename Json::exception& e) {
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
    std::vector<int64_t> steps(all.size(), 0);
    for (size_t i = 0; i < all.size(); ++i) {
      for (const auto& [n, t] : incoming[i]) {
        if (n == "step") {
          SINEW_CHECK(t.numel() == 1, fn, "state.", i, ".step must hold one value, got ",
                      t.shape());
          steps[i] = t.detach().template item<int64_t>();  // item(): a copy on any device
        } else {
          check_state_shape(i, all[i], n, t);
        }
      }
    }
    for (bool apply : {false, true}) {
      for (size_t g = 0; g < num_param_groups(); ++g) {
        detail::JsonFieldReader<Json> r(groups[g], false,
                                        "bad hyperparameters for group " + std::to_string(g));
        load_options(g, r, apply);
      }
    }
    state_.clear();
    NoGradGuard guard;
    for (size_t i = 0; i < all.size(); ++i) {
      if (incoming[i].empty()) continue;
      ParamStateT<T>& s = state(all[i]);
      if (incoming[i].count("step") != 0) s.step = steps[i];
      // Buffers in the order the dict lists them (the dict keeps insertion order).
      for (const auto& [key, t] : dict.tensors) {
        std::string prefix = "state." + std::to_string(i) + ".";
        if (key.compare(0, prefix.size(), prefix) != 0) continue;
        std::string n = key.substr(prefix.size());
        if (n == "step") continue;
        s.buffers.insert_or_assign(n, t.detach().to(all[i].device()).clone());
      }
    }
    if (extra != nullptr) {
      const Json& scalars = extra_json;
      std::vector<std::unique_ptr<detail::JsonFieldReader<Json>>> readers(num_param_groups());
      std::vector<FieldVisitor*> visitors(num_param_groups(), nullptr);
      size_t index = 0;
      for (size_t g = 0; g < num_param_groups(); ++g) {
        const std::string id = std::to_string(index);
        index += params_[g].size();
        if (!scalars.contains(id)) continue;
        readers[g] = std::make_unique<detail::JsonFieldReader<Json>>(
            scalars.at(id), true, "bad " + name() + " state for group " + std::to_string(g));
        visitors[g] = readers[g].get();
      }
      load_group_states(visitors);
    }
  }

 protected:
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
  // Visits (a copy of) the hyperparameters of group g.
  virtual void visit_options(size_t group, FieldVisitor& v) const = 0;
  // Reads group g's hyperparameters over the options' defaults (validated); stores them only when
  // `apply` is true.
  virtual void load_options(size_t group, FieldVisitor& v, bool apply) = 0;
  // Extra per-group state beyond the per-parameter buffers (LBFGS): the metadata key of its
  // scalars (nullptr: none); save_group_state adds group g's tensors under `prefix` (the
  // "state.<i>." of the group's first parameter) and visits its scalars, false when the group has
  // no state; load_group_states runs after the rest of load_state_dict with each group's saved
  // scalars (nullptr: none saved); the group's tensors are then in the state of its first
  // parameter.
  virtual const char* group_state_name() const { return nullptr; }
  virtual bool save_group_state(size_t, const std::string&, nn::StateDictT<T>&,
                                FieldVisitor&) const {
    return false;
  }
  virtual void load_group_states(const std::vector<FieldVisitor*>&) {}
  void clear_state() { state_.clear(); }

  // The fused step kernels (backend/cpu/optim.hpp and its CUDA counterpart) update a parameter's
  // memory in place as one flat array.
  void check_param(const Tensor<T>& p) const {
    SINEW_CHECK(p.is_contiguous(), name().c_str(),
                "parameters must be contiguous tensors, got one of shape ", p.shape(),
                " and strides ", p.strides(), " on ", p.device());
  }
  // The gradient of p, contiguous, on p's device (undefined when p has none).
  Tensor<T> grad_of(const Tensor<T>& p) const {
    Tensor<T> g = p.grad();
    if (!g.defined()) return g;
    SINEW_CHECK(g.shape() == p.shape(), name().c_str(), "gradient of shape ", g.shape(),
                " for a parameter of shape ", p.shape());
    SINEW_CHECK(g.device() == p.device(), name().c_str(), "gradient on ", g.device(),
                " for a parameter on ", p.device());
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
// Options has a field list (SINEW_OPTIM_OPTIONS).
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
  // Validates the defaults (an empty-group optimizer still checks them) and adds the groups.
  void init(std::vector<ParamGroup> groups) {
    validate(defaults_);
    SINEW_CHECK(!groups.empty(), this->name().c_str(), "got an empty list of parameter groups");
    for (auto& g : groups) add_param_group(std::move(g));
  }
  virtual void validate(const Options& o) const = 0;
  void visit_options(size_t group, FieldVisitor& v) const override {
    Options o = options(group);
    ToVisitor f{v};
    visit_fields(f, o);
  }
  void load_options(size_t group, FieldVisitor& v, bool apply) override {
    Options o{};
    ToVisitor f{v};
    visit_fields(f, o);
    validate(o);
    if (apply) options_[group] = o;
  }

  Options defaults_;
  std::vector<Options> options_;

 private:
  // Passes the typed fields of visit_fields on to a FieldVisitor (an enum as its value).
  struct ToVisitor {
    FieldVisitor& v;
    template <class F>
    void operator()(const char* name, F& f) {
      if constexpr (std::is_enum_v<F>) {
        int64_t i = static_cast<int64_t>(f);
        v.field(name, i, option_enum_names(f));
        f = static_cast<F>(i);
      } else {
        v.field(name, f);
      }
    }
  };
};

}  // namespace sinew::optim
