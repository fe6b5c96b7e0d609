// nn::summary: a torchinfo-like table of a module's layers (tree, output shapes, parameter counts)
// and its total, trainable and non-trainable parameter counts, from one forward on zeros.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/core/shape.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew::nn {

// One module of the tree, in depth-first order (the root first, at depth 0).
struct SummaryRow {
  std::string name;                   // dotted name in the root ("" for the root itself)
  std::string type;                   // Module::name(): "Linear", "Sequential", ...
  int64_t depth = 0;                  // 0 for the root, 1 for its children, ...
  int64_t index = 0;                  // 1-based among its siblings (the idx of depth-idx)
  bool leaf = false;                  // no submodules
  std::optional<Shape> output_shape;  // unset when the forward did not call it via operator()
  int64_t params = 0;  // parameters registered on this module itself (not its submodules)
};

// What nn::summary returns; print it (operator<<) or read the numbers.
struct ModelSummary {
  Shape input_shape;
  std::vector<SummaryRow> rows;
  int64_t total_params = 0;      // each parameter once, even when shared
  int64_t trainable_params = 0;  // those with requires_grad
  int64_t non_trainable_params = 0;

  // The table, one row per module: "Type (dotted name): depth-idx" in a tree, Output Shape, Param #
  // (its own parameters, "--" for none), then the totals.
  std::string str() const;
};

namespace detail {
// 1234567 -> "1,234,567".
inline std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}
inline std::string shape_text(const Shape& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}
// Printed width of a UTF-8 string (the tree characters take one column each).
inline size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace detail

inline std::string ModelSummary::str() const {
  std::vector<std::string> layer, shape, count;
  for (size_t r = 0; r < rows.size(); ++r) {
    const SummaryRow& row = rows[r];
    std::string text;
    if (row.depth == 0) {
      text = row.type;
    } else {
      // "│    " for each open ancestor level, then "├─" or "└─" (last sibling).
      for (int64_t d = 1; d < row.depth; ++d) text += "│    ";
      bool last = true;
      for (size_t k = r + 1; k < rows.size() && rows[k].depth >= row.depth; ++k) {
        if (rows[k].depth == row.depth) {
          last = false;
          break;
        }
      }
      text += last ? "└─" : "├─";
      text += row.type + " (" + row.name + "): " + std::to_string(row.depth) + "-" +
              std::to_string(row.index);
    }
    layer.push_back(text);
    shape.push_back(row.output_shape ? detail::shape_text(*row.output_shape) : "--");
    count.push_back(row.params > 0 ? detail::thousands(row.params) : "--");
  }
  size_t w0 = detail::columns("Layer (type (name): depth-idx)"), w1 = 20, w2 = 12;
  for (size_t i = 0; i < layer.size(); ++i) {
    w0 = std::max(w0, detail::columns(layer[i]));
    w1 = std::max(w1, shape[i].size());
    w2 = std::max(w2, count[i].size());
  }
  w0 += 4;
  w1 += 4;
  auto cell = [](const std::string& s, size_t w) {
    size_t c = detail::columns(s);
    return s + std::string(c < w ? w - c : 0, ' ');
  };
  const std::string heavy(w0 + w1 + w2, '='), light(w0 + w1 + w2, '-');
  std::ostringstream os;
  os << heavy << "\n"
     << cell("Layer (type (name): depth-idx)", w0) << cell("Output Shape", w1) << "Param #\n"
     << heavy << "\n";
  for (size_t i = 0; i < layer.size(); ++i) {
    os << cell(layer[i], w0) << cell(shape[i], w1) << count[i] << "\n";
  }
  os << heavy << "\n"
     << "Total params: " << detail::thousands(total_params) << "\n"
     << "Trainable params: " << detail::thousands(trainable_params) << "\n"
     << "Non-trainable params: " << detail::thousands(non_trainable_params) << "\n"
     << light << "\n"
     << "Input shape: " << detail::shape_text(input_shape) << "\n"
     << heavy << "\n";
  return os.str();
}

inline std::ostream& operator<<(std::ostream& os, const ModelSummary& s) { return os << s.str(); }

// Runs module(zeros(input_shape)) once (on the module's device), in eval mode and under NoGradGuard
// (each module's training flag is restored afterwards, also when the forward throws), recording
// every module's output shape with a forward hook (removed afterwards), and counts the parameters.
// A module reached only through forward() rather than operator() shows "--" as its output shape.
//   std::cout << nn::summary(net, {1, 1, 28, 28});
template <class T>
ModelSummary summary(ModuleT<T>& module, const Shape& input_shape) {
  for (int64_t d : input_shape) {
    SINEW_CHECK(d >= 0, "summary", "input_shape must have sizes >= 0, got ", input_shape);
  }
  ModelSummary s;
  s.input_shape = input_shape;

  std::vector<std::pair<std::string, ModuleT<T>*>> modules = module.named_modules();
  std::map<const ModuleT<T>*, Shape> shapes;
  std::vector<std::pair<ModuleT<T>*, bool>> modes;
  std::vector<RemovableHandle> handles;
  std::unordered_set<const ModuleT<T>*> hooked;
  for (auto& [name, m] : modules) {
    modes.emplace_back(m, m->is_training());
    if (!hooked.insert(m).second) continue;
    handles.push_back(m->register_forward_hook(
        [&shapes](ModuleT<T>& self, const Tensor<T>&, const Tensor<T>& out) {
          if (out.defined()) shapes[&self] = out.shape();
        }));
  }
  // Undoes the hooks and the modes whichever way the forward ends.
  struct Restore {
    std::vector<RemovableHandle>& handles;
    std::vector<std::pair<ModuleT<T>*, bool>>& modes;
    ~Restore() {
      for (auto& h : handles) h.remove();
      // Parents come before their children, so each module ends with its own flag.
      for (auto& [m, on] : modes) m->train(on);
    }
  } restore{handles, modes};

  module.eval();
  {
    NoGradGuard guard;
    module(zeros<T>(input_shape, module_device(module)));
  }

  // Sibling positions: children of each module numbered from 1, in registration order.
  std::map<std::string, int64_t> next_index;  // parent name -> children seen
  for (auto& [name, m] : modules) {
    SummaryRow row;
    row.name = name;
    row.type = m->name();
    row.depth = name.empty() ? 0 : 1 + int64_t(std::count(name.begin(), name.end(), '.'));
    if (!name.empty()) {
      size_t dot = name.rfind('.');
      row.index = ++next_index[dot == std::string::npos ? "" : name.substr(0, dot)];
    }
    row.leaf = m->named_children().empty();
    for (const auto& p : m->parameters(/*recurse=*/false)) row.params += p.numel();
    if (auto it = shapes.find(m); it != shapes.end()) row.output_shape = it->second;
    s.rows.push_back(std::move(row));
  }
  for (const auto& p : module.parameters()) {
    s.total_params += p.numel();
    (p.requires_grad() ? s.trainable_params : s.non_trainable_params) += p.numel();
  }
  return s;
}

}  // namespace sinew::nn
