// Recurrent layers: the cells nn::RNNCell, nn::LSTMCell, nn::GRUCell; the sequence layers
// nn::RNN, nn::LSTM, nn::GRU (num_layers, bias, batch_first, dropout, bidirectional, LSTM's
// proj_size); and nn::utils::rnn's PackedSequence with pack_padded_sequence,
// pad_packed_sequence, pack_sequence and pad_sequence. Parameter names, shapes, gate order and
// init are PyTorch's, so a PyTorch state dict loads unchanged:
//
//   nn::LSTM lstm(28, 128, {.batch_first = true});
//   auto [out, state] = lstm(x);            // x [N, 28 steps, 28]: out [N, 28, 128]
//   auto [h_n, c_n] = state;                // [1, N, 128] each
//
// The layers take no forward hooks (their forward returns a tuple, not one tensor).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sinew/nn/dropout.hpp"
#include "sinew/nn/init.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/rnn.hpp"

namespace sinew::nn {

namespace utils::rnn {

// A batch of variable-length sequences in PyTorch's packed layout: data [total, *] holds the
// first step of every sequence, then the second step of those that have one, ... with the
// sequences sorted by decreasing length; batch_sizes[t] (int64, on the CPU) is how many sequences
// have a step t. sorted_indices[j] is the batch index of the j-th sequence in that order and
// unsorted_indices its inverse (both undefined when the batch came sorted).
template <class T = float>
struct PackedSequenceT {
  Tensor<T> data;
  Tensor<int64_t> batch_sizes;
  Tensor<int64_t> sorted_indices;
  Tensor<int64_t> unsorted_indices;
};
using PackedSequence = PackedSequenceT<float>;

namespace detail {

// A template (defaulted parameter) so that only a program that packs sequences instantiates
// Tensor<int64_t>::to_vector.
template <class D = void>
std::vector<int64_t> host_values(const Tensor<int64_t>& t, const char* name, const char* what) {
  SINEW_CHECK(t.defined() && t.dim() == 1, name, what, " must be a 1-d int64 tensor, got ",
              t.defined() ? sinew::detail::str(t.shape()) : std::string("an undefined tensor"));
  return t.to_vector();
}

// The batch sizes per step of sequences of the given lengths (sorted in decreasing order).
inline std::vector<int64_t> batch_sizes_of(const std::vector<int64_t>& sorted_lengths) {
  std::vector<int64_t> bs(static_cast<size_t>(sorted_lengths.empty() ? 0 : sorted_lengths[0]), 0);
  for (int64_t len : sorted_lengths) {
    for (int64_t t = 0; t < len; ++t) ++bs[static_cast<size_t>(t)];
  }
  return bs;
}

// Row t * n + order[j] of a padded [L, n, *] input for every packed row (step t, j < bs[t]).
inline std::vector<int64_t> padded_rows(const std::vector<int64_t>& batch_sizes,
                                        const std::vector<int64_t>& order, int64_t n) {
  std::vector<int64_t> rows;
  for (size_t t = 0; t < batch_sizes.size(); ++t) {
    for (int64_t j = 0; j < batch_sizes[t]; ++j) {
      rows.push_back(static_cast<int64_t>(t) * n + order[static_cast<size_t>(j)]);
    }
  }
  return rows;
}

inline Shape with_leading(std::initializer_list<int64_t> lead, const Shape& s, int64_t skip) {
  Shape out(lead);
  for (int64_t d = skip; d < s.size(); ++d) out.push_back(s[d]);
  return out;
}

}  // namespace detail

// Packs a padded batch: input [L, N, *] ([N, L, *] with batch_first) whose sequence i has
// lengths[i] valid steps (1 <= lengths[i] <= L). With enforce_sorted the lengths must be
// non-increasing; otherwise the batch is sorted by decreasing length (stably) and the permutation
// kept in sorted_indices / unsorted_indices. Differentiable in input (padded steps get zero
// gradient).
template <class T>
PackedSequenceT<T> pack_padded_sequence(const Tensor<T>& input, const std::vector<int64_t>& lengths,
                                        bool batch_first = false, bool enforce_sorted = true) {
  const char* name = "pack_padded_sequence";
  SINEW_CHECK(input.dim() >= 2, name, "expected input [L, N, *] (batch_first: [N, L, *]), got ",
              input.shape());
  Tensor<T> x = batch_first ? input.transpose(0, 1) : input;
  const int64_t L = x.size(0), n = x.size(1);
  SINEW_CHECK(static_cast<int64_t>(lengths.size()) == n, name, "got ", lengths.size(),
              " lengths for a batch of ", n, " sequences (input ", input.shape(),
              batch_first ? ", batch_first)" : ")");
  for (size_t i = 0; i < lengths.size(); ++i) {
    SINEW_CHECK(lengths[i] >= 1 && lengths[i] <= L, name, "lengths[", i, "] = ", lengths[i],
                " is outside [1, ", L, "] (the padded length of input ", input.shape(), ")");
  }
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  PackedSequenceT<T> out;
  if (enforce_sorted) {
    for (size_t i = 1; i < lengths.size(); ++i) {
      SINEW_CHECK(lengths[i] <= lengths[i - 1], name,
                  "lengths must be sorted in decreasing order with enforce_sorted = true, got ",
                  Shape(lengths), "; pass enforce_sorted = false to sort them");
    }
  } else {
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
    std::vector<int64_t> inverse(order.size());
    for (size_t j = 0; j < order.size(); ++j) inverse[static_cast<size_t>(order[j])] = int64_t(j);
    out.sorted_indices = from_vector<int64_t>(order);
    out.unsorted_indices = from_vector<int64_t>(inverse);
  }
  std::vector<int64_t> sorted(lengths.size());
  for (size_t j = 0; j < order.size(); ++j) sorted[j] = lengths[static_cast<size_t>(order[j])];
  std::vector<int64_t> bs = detail::batch_sizes_of(sorted);
  std::vector<int64_t> rows = detail::padded_rows(bs, order, n);
  Tensor<T> flat = x.reshape(detail::with_leading({L * n}, x.shape(), 2));
  out.data = index_select(
      flat, 0, from_vector<int64_t>(rows, {static_cast<int64_t>(rows.size())}, input.device()));
  out.batch_sizes = from_vector<int64_t>(bs);
  return out;
}
template <class T>
PackedSequenceT<T> pack_padded_sequence(const Tensor<T>& input, const Tensor<int64_t>& lengths,
                                        bool batch_first = false, bool enforce_sorted = true) {
  return pack_padded_sequence(input,
                              detail::host_values(lengths, "pack_padded_sequence", "lengths"),
                              batch_first, enforce_sorted);
}

// The padded batch of a PackedSequence and each sequence's length (in the original batch order):
// [L, N, *] ([N, L, *] with batch_first), steps past a sequence's end set to padding_value;
// total_length pads to that many steps (at least the longest sequence). Differentiable.
template <class T>
std::tuple<Tensor<T>, Tensor<int64_t>> pad_packed_sequence(
    const PackedSequenceT<T>& sequence, bool batch_first = false, double padding_value = 0.0,
    std::optional<int64_t> total_length = std::nullopt) {
  const char* name = "pad_packed_sequence";
  std::vector<int64_t> bs = detail::host_values(sequence.batch_sizes, name, "batch_sizes");
  SINEW_CHECK(!bs.empty() && sequence.data.defined() && sequence.data.dim() >= 1, name,
              "empty or undefined PackedSequence");
  const int64_t L = static_cast<int64_t>(bs.size()), n = bs[0];
  const int64_t steps = total_length.value_or(L);
  SINEW_CHECK(steps >= L, name, "total_length = ", steps,
              " is less than the longest sequence's length ", L);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (sequence.sorted_indices.defined()) {
    order = detail::host_values(sequence.sorted_indices, name, "sorted_indices");
    SINEW_CHECK(static_cast<int64_t>(order.size()) == n, name, "sorted_indices has ", order.size(),
                " entries for a batch of ", n);
  }
  std::vector<int64_t> rows = detail::padded_rows(bs, order, n);
  SINEW_CHECK(static_cast<int64_t>(rows.size()) == sequence.data.size(0), name, "data has ",
              sequence.data.size(0), " rows but batch_sizes ", Shape(bs), " add up to ",
              rows.size());
  const Shape rest = detail::with_leading({}, sequence.data.shape(), 1);
  Tensor<int64_t> index =
      from_vector<int64_t>(rows, {static_cast<int64_t>(rows.size())}, sequence.data.device());
  Tensor<T> out = index_add(
      zeros<T>(detail::with_leading({steps * n}, sequence.data.shape(), 1), sequence.data.device()),
      0, index, sequence.data);
  if (padding_value != 0.0) {  // a constant: padding_value where no packed row lands
    const int64_t row = rest.numel();
    std::vector<T> pad(static_cast<size_t>(steps * n * row), static_cast<T>(padding_value));
    for (int64_t r : rows) std::fill_n(pad.begin() + r * row, row, T(0));
    out = out + from_vector<T>(pad, out.shape(), out.device());
  }
  out = out.view(detail::with_leading({steps, n}, sequence.data.shape(), 1));
  std::vector<int64_t> lengths(static_cast<size_t>(n), 0);
  for (int64_t b : bs) {
    for (int64_t j = 0; j < b; ++j) ++lengths[static_cast<size_t>(order[static_cast<size_t>(j)])];
  }
  return {batch_first ? out.transpose(0, 1) : out, from_vector<int64_t>(lengths)};
}

// The sequences [l_i, *] (equal trailing shapes) padded with padding_value to the longest and
// stacked: [L_max, B, *], or [B, L_max, *] with batch_first. Differentiable.
template <class T>
Tensor<T> pad_sequence(const std::vector<Tensor<T>>& sequences, bool batch_first = false,
                       double padding_value = 0.0) {
  const char* name = "pad_sequence";
  SINEW_CHECK(!sequences.empty(), name, "got no sequences");
  int64_t longest = 0;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const Tensor<T>& s = sequences[i];
    SINEW_CHECK(s.defined() && s.dim() >= 1, name, "sequence ", i, " must have a step dimension");
    SINEW_CHECK(
        detail::with_leading({}, s.shape(), 1) == detail::with_leading({}, sequences[0].shape(), 1),
        name, "sequence ", i, " has shape ", s.shape(), " but sequence 0 has ",
        sequences[0].shape(), " (all but the first dimension must agree)");
    longest = std::max(longest, s.size(0));
  }
  std::vector<Tensor<T>> padded;
  for (const Tensor<T>& s : sequences) {
    if (s.size(0) == longest) {
      padded.push_back(s);
    } else {
      padded.push_back(cat(
          std::vector<Tensor<T>>{
              s, full<T>(detail::with_leading({longest - s.size(0)}, s.shape(), 1), padding_value,
                         s.device())},
          0));
    }
  }
  return stack(padded, batch_first ? 0 : 1);
}

// pack_padded_sequence of pad_sequence(sequences), the lengths being the sequences' lengths.
template <class T>
PackedSequenceT<T> pack_sequence(const std::vector<Tensor<T>>& sequences,
                                 bool enforce_sorted = true) {
  std::vector<int64_t> lengths;
  for (const Tensor<T>& s : sequences)
    lengths.push_back(s.defined() && s.dim() > 0 ? s.size(0) : 0);
  return pack_padded_sequence(pad_sequence(sequences), lengths, false, enforce_sorted);
}

}  // namespace utils::rnn

namespace detail_rnn {

// What the sequence layers share: the options, and where each layer and direction's weights are.
struct Config {
  Cell cell;
  int64_t input_size, hidden_size, num_layers;
  bool bias, batch_first;
  double dropout;
  bool bidirectional;
  int64_t proj_size;
};

inline Cell parse_nonlinearity(const std::string& s, const char* name) {
  SINEW_CHECK(s == "tanh" || s == "relu", name, "nonlinearity must be \"tanh\" or \"relu\", got \"",
              s, "\"");
  return s == "tanh" ? Cell::RnnTanh : Cell::RnnRelu;
}

inline void check_config(const Config& c, const char* name) {
  SINEW_CHECK(c.input_size >= 1 && c.hidden_size >= 1, name,
              "input_size and hidden_size must be >= 1, got ", c.input_size, " and ",
              c.hidden_size);
  SINEW_CHECK(c.num_layers >= 1, name, "num_layers must be >= 1, got ", c.num_layers);
  SINEW_CHECK(c.dropout >= 0 && c.dropout <= 1, name, "dropout must be in [0, 1], got ", c.dropout);
  SINEW_CHECK(c.proj_size >= 0 && c.proj_size < c.hidden_size, name,
              "proj_size must be >= 0 and less than hidden_size = ", c.hidden_size, ", got ",
              c.proj_size);
}

// U(-1/sqrt(hidden), 1/sqrt(hidden)) for every parameter, as PyTorch's RNNBase and cells.
template <class T>
void init_uniform(const std::vector<Tensor<T>>& params, int64_t hidden_size) {
  const double k = 1.0 / std::sqrt(double(hidden_size));
  for (const Tensor<T>& p : params) {
    if (p.defined()) init::uniform_(p, -k, k);
  }
}

}  // namespace detail_rnn

// The sequence layers' common part: parameters (PyTorch's names and order: per layer, per
// direction, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr), checks, and the run over layers
// and directions. Derived is RNNT, LSTMT or GRUT.
template <class T, class Derived>
class RNNBaseT : public Cloneable<Derived, T> {
 public:
  void reset() override {
    const auto& c = config_;
    const int64_t G = detail_rnn::gate_count(c.cell), D = directions();
    const int64_t hout = output_size();
    weights_.clear();
    for (int64_t l = 0; l < c.num_layers; ++l) {
      for (int64_t d = 0; d < D; ++d) {
        const std::string s = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
        const int64_t in = l == 0 ? c.input_size : hout * D;
        std::array<Tensor<T>, 5> w;
        w[0] = this->register_parameter("weight_ih" + s, empty<T>({G * c.hidden_size, in}));
        w[1] = this->register_parameter("weight_hh" + s, empty<T>({G * c.hidden_size, hout}));
        if (c.bias) {
          w[2] = this->register_parameter("bias_ih" + s, empty<T>({G * c.hidden_size}));
          w[3] = this->register_parameter("bias_hh" + s, empty<T>({G * c.hidden_size}));
        }
        if (c.proj_size > 0) {
          w[4] = this->register_parameter("weight_hr" + s, empty<T>({c.proj_size, c.hidden_size}));
        }
        weights_.push_back(w);
      }
    }
    reset_parameters();
  }

  // Re-draws every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
  void reset_parameters() {
    std::vector<Tensor<T>> all;
    for (const auto& w : weights_) all.insert(all.end(), w.begin(), w.end());
    detail_rnn::init_uniform(all, config_.hidden_size);
  }

  // The parameters of each layer and direction (l * num_directions + d), in PyTorch's order:
  // weight_ih, weight_hh[, bias_ih, bias_hh][, weight_hr].
  std::vector<std::vector<Tensor<T>>> all_weights() const {
    std::vector<std::vector<Tensor<T>>> out;
    for (const auto& w : weights_) {
      std::vector<Tensor<T>> v;
      for (const Tensor<T>& p : w) {
        if (p.defined()) v.push_back(p);
      }
      out.push_back(v);
    }
    return out;
  }

  int64_t input_size() const { return config_.input_size; }
  int64_t hidden_size() const { return config_.hidden_size; }
  int64_t num_layers() const { return config_.num_layers; }
  int64_t proj_size() const { return config_.proj_size; }
  bool bias() const { return config_.bias; }
  bool batch_first() const { return config_.batch_first; }
  bool bidirectional() const { return config_.bidirectional; }
  double dropout() const { return config_.dropout; }

  std::string extra_repr() const override {
    const auto& c = config_;
    std::string s = sinew::detail::str(c.input_size, ", ", c.hidden_size);
    if (c.proj_size > 0) s += sinew::detail::str(", proj_size=", c.proj_size);
    if (c.num_layers != 1) s += sinew::detail::str(", num_layers=", c.num_layers);
    if (c.cell == detail_rnn::Cell::RnnRelu) s += ", nonlinearity=relu";
    if (!c.bias) s += ", bias=false";
    if (c.batch_first) s += ", batch_first=true";
    if (c.dropout != 0) s += sinew::detail::str(", dropout=", c.dropout);
    if (c.bidirectional) s += ", bidirectional=true";
    return s;
  }

 protected:
  using Packed = utils::rnn::PackedSequenceT<T>;

  RNNBaseT(const char* name, detail_rnn::Config config)
      : Cloneable<Derived, T>(name), config_(config) {
    detail_rnn::check_config(config_, name);
  }

  int64_t directions() const { return config_.bidirectional ? 2 : 1; }
  int64_t output_size() const {
    return config_.proj_size > 0 ? config_.proj_size : config_.hidden_size;
  }
  const char* layer_name() const { return detail_rnn::cell_name(config_.cell); }
  bool is_lstm() const { return config_.cell == detail_rnn::Cell::Lstm; }

  // h0 / c0 against [num_layers * num_directions, N, size] (unbatched: without N).
  void check_state(const Tensor<T>& s, const char* what, int64_t n, bool batched,
                   int64_t size) const {
    if (!s.defined()) return;
    const int64_t ld = config_.num_layers * directions();
    const Shape want = batched ? Shape({ld, n, size}) : Shape({ld, size});
    SINEW_CHECK(s.shape() == want, layer_name(), "expected ", what, " of shape ", want,
                " (num_layers * num_directions, ", batched ? "batch, " : "",
                size == config_.hidden_size ? "hidden_size" : "proj_size", "), got ", s.shape());
  }

  void check_input_size(const Tensor<T>& x) const {
    SINEW_CHECK(x.size(-1) == config_.input_size, layer_name(), "input ", x.shape(), " has ",
                x.size(-1), " features, expected input_size = ", config_.input_size);
  }

  // Every layer and direction over the packed rows data [total, input_size]; h0 [L D, N, H_out],
  // c0 [L D, N, H] (sorted order; undefined: zeros). Returns (y [total, D H_out], h_n, c_n).
  std::tuple<Tensor<T>, Tensor<T>, Tensor<T>> run(const Tensor<T>& data,
                                                  const std::vector<int64_t>& batch_sizes,
                                                  const Tensor<T>& h0, const Tensor<T>& c0) {
    const auto& c = config_;
    const int64_t D = directions();
    Tensor<T> in = data;
    std::vector<Tensor<T>> hn, cn;
    for (int64_t l = 0; l < c.num_layers; ++l) {
      std::vector<Tensor<T>> outs;
      for (int64_t d = 0; d < D; ++d) {
        const int64_t k = l * D + d;
        const auto& w = weights_[static_cast<size_t>(k)];
        Tensor<T> xp = linear(in, w[0], w[2]);
        auto r = detail_rnn::recurrent_layer(
            c.cell, xp, h0.defined() ? h0.select(0, k) : Tensor<T>(),
            c0.defined() ? c0.select(0, k) : Tensor<T>(), w[1], w[3], w[4], batch_sizes, d == 1);
        outs.push_back(r.y);
        hn.push_back(r.h);
        if (is_lstm()) cn.push_back(r.c);
      }
      in = D == 1 ? outs[0] : cat(outs, 1);
      if (c.dropout > 0 && this->is_training() && l + 1 < c.num_layers) {
        in = functional::dropout(in, c.dropout, true);
      }
    }
    return {in, stack(hn, 0), is_lstm() ? stack(cn, 0) : Tensor<T>()};
  }

  // A padded input: x [L, N, in] ([N, L, in] with batch_first) or unbatched [L, in].
  std::tuple<Tensor<T>, Tensor<T>, Tensor<T>> forward_padded(const Tensor<T>& x,
                                                             const Tensor<T>& h0,
                                                             const Tensor<T>& c0) {
    SINEW_CHECK(x.dim() == 2 || x.dim() == 3, layer_name(), "expected input [L, N, ",
                config_.input_size, "] (batch_first: [N, L, ", config_.input_size,
                "]) or unbatched [L, ", config_.input_size, "], got ", x.shape());
    check_input_size(x);
    const bool batched = x.dim() == 3;
    Tensor<T> xs = !batched ? x.unsqueeze(1) : config_.batch_first ? x.transpose(0, 1) : x;
    const int64_t L = xs.size(0), n = xs.size(1);
    SINEW_CHECK(L >= 1, layer_name(), "expected a sequence of at least one step, got input ",
                x.shape());
    check_state(h0, "h0", n, batched, output_size());
    check_state(c0, "c0", n, batched, config_.hidden_size);
    Tensor<T> h = h0.defined() && !batched ? h0.unsqueeze(1) : h0;
    Tensor<T> cc = c0.defined() && !batched ? c0.unsqueeze(1) : c0;
    auto [y, hn, cn] = run(xs.reshape({L * n, config_.input_size}),
                           std::vector<int64_t>(static_cast<size_t>(L), n), h, cc);
    Tensor<T> out = y.view({L, n, y.size(1)});
    if (!batched) return {out.squeeze(1), hn.squeeze(1), cn.defined() ? cn.squeeze(1) : cn};
    return {config_.batch_first ? out.transpose(0, 1) : out, hn, cn};
  }

  // A PackedSequence (its sorted_indices permute h0 / c0 in and h_n / c_n back out).
  std::tuple<Packed, Tensor<T>, Tensor<T>> forward_packed(const Packed& x, const Tensor<T>& h0,
                                                          const Tensor<T>& c0) {
    std::vector<int64_t> bs =
        utils::rnn::detail::host_values(x.batch_sizes, layer_name(), "batch_sizes");
    SINEW_CHECK(!bs.empty() && x.data.defined() && x.data.dim() == 2, layer_name(),
                "expected packed data [total, ", config_.input_size, "] and batch sizes, got ",
                x.data.defined() ? sinew::detail::str(x.data.shape()) : std::string("none"));
    check_input_size(x.data);
    int64_t total = 0;
    for (size_t t = 0; t < bs.size(); ++t) {
      SINEW_CHECK(bs[t] >= 1 && (t == 0 || bs[t] <= bs[t - 1]), layer_name(),
                  "batch_sizes must be positive and non-increasing, got ", Shape(bs));
      total += bs[t];
    }
    SINEW_CHECK(total == x.data.size(0), layer_name(), "packed data has ", x.data.size(0),
                " rows but batch_sizes ", Shape(bs), " add up to ", total);
    const int64_t n = bs[0];
    check_state(h0, "h0", n, true, output_size());
    check_state(c0, "c0", n, true, config_.hidden_size);
    auto permute = [&](const Tensor<T>& s, const Tensor<int64_t>& idx) {
      return s.defined() && idx.defined() ? index_select(s, 1, idx) : s;
    };
    auto [y, hn, cn] =
        run(x.data, bs, permute(h0, x.sorted_indices), permute(c0, x.sorted_indices));
    Packed out{y, x.batch_sizes, x.sorted_indices, x.unsorted_indices};
    return {out, permute(hn, x.unsorted_indices), permute(cn, x.unsorted_indices)};
  }

  detail_rnn::Config config_;
  std::vector<std::array<Tensor<T>, 5>> weights_;  // w_ih, w_hh, b_ih, b_hh, w_hr per layer/dir
};

// forward has other signatures than Module's forward(const Tensor<T>&), which it hides on
// purpose (through Module, the layers raise "no forward(const Tensor<T>&)").
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#endif

// RNN and GRU: forward(x, h0 = {}) returns (output, h_n), for a padded input or a PackedSequence.
template <class T, class Derived>
class SingleStateRNNT : public RNNBaseT<T, Derived> {
  using Base = RNNBaseT<T, Derived>;

 public:
  std::tuple<Tensor<T>, Tensor<T>> forward(const Tensor<T>& x, const Tensor<T>& h0 = Tensor<T>()) {
    auto [y, hn, cn] = this->forward_padded(x, h0, Tensor<T>());
    return {y, hn};
  }
  std::tuple<typename Base::Packed, Tensor<T>> forward(const typename Base::Packed& x,
                                                       const Tensor<T>& h0 = Tensor<T>()) {
    auto [y, hn, cn] = this->forward_packed(x, h0, Tensor<T>());
    return {y, hn};
  }
  template <class X>
  auto operator()(const X& x, const Tensor<T>& h0 = Tensor<T>()) {
    return forward(x, h0);
  }

 protected:
  using Base::Base;
};

struct RNNOptions {
  int64_t num_layers = 1;
  std::string nonlinearity = "tanh";  // or "relu"
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;  // between layers, in training
  bool bidirectional = false;
};

// Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (relu with
// {.nonlinearity = "relu"}), per layer and direction. forward returns (output, h_n): output
// [L, N, D H] ([N, L, D H] with batch_first; unbatched [L, D H]), h_n [num_layers D, N, H].
template <class T = float>
class RNNT : public SingleStateRNNT<T, RNNT<T>> {
  using Base = SingleStateRNNT<T, RNNT<T>>;

 public:
  RNNT(int64_t input_size, int64_t hidden_size, RNNOptions options = {})
      : Base("RNN", {detail_rnn::parse_nonlinearity(options.nonlinearity, "RNN"), input_size,
                     hidden_size, options.num_layers, options.bias, options.batch_first,
                     options.dropout, options.bidirectional, 0}) {
    this->reset();
  }
};

struct GRUOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;
  bool bidirectional = false;
};

// GRU (gates r, z, n): r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise,
// n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h. forward as nn::RNN.
template <class T = float>
class GRUT : public SingleStateRNNT<T, GRUT<T>> {
  using Base = SingleStateRNNT<T, GRUT<T>>;

 public:
  GRUT(int64_t input_size, int64_t hidden_size, GRUOptions options = {})
      : Base("GRU",
             {detail_rnn::Cell::Gru, input_size, hidden_size, options.num_layers, options.bias,
              options.batch_first, options.dropout, options.bidirectional, 0}) {
    this->reset();
  }
};

struct LSTMOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;
  bool bidirectional = false;
  int64_t proj_size = 0;  // > 0: h = (o tanh(c)) W_hr^T of this size
};

// LSTM (gates i, f, g, o): c' = f c + i g, h' = o tanh(c') (times W_hr^T with proj_size).
// forward returns (output, (h_n, c_n)); the initial state is optional:
//   auto [out, state] = lstm(x);  auto [out2, state2] = lstm(x2, state);
// h_n [num_layers D, N, H_out] (H_out = proj_size or hidden_size), c_n [num_layers D, N, hidden].
template <class T = float>
class LSTMT : public RNNBaseT<T, LSTMT<T>> {
  using Base = RNNBaseT<T, LSTMT<T>>;

 public:
  using State = std::tuple<Tensor<T>, Tensor<T>>;

  LSTMT(int64_t input_size, int64_t hidden_size, LSTMOptions options = {})
      : Base("LSTM",
             {detail_rnn::Cell::Lstm, input_size, hidden_size, options.num_layers, options.bias,
              options.batch_first, options.dropout, options.bidirectional, options.proj_size}) {
    this->reset();
  }

  std::tuple<Tensor<T>, State> forward(const Tensor<T>& x, const State& hx = State()) {
    check_pair(hx);
    auto [y, hn, cn] = this->forward_padded(x, std::get<0>(hx), std::get<1>(hx));
    return {y, {hn, cn}};
  }
  std::tuple<typename Base::Packed, State> forward(const typename Base::Packed& x,
                                                   const State& hx = State()) {
    check_pair(hx);
    auto [y, hn, cn] = this->forward_packed(x, std::get<0>(hx), std::get<1>(hx));
    return {y, {hn, cn}};
  }
  template <class X>
  auto operator()(const X& x, const State& hx = State()) {
    return forward(x, hx);
  }

 private:
  void check_pair(const State& hx) const {
    SINEW_CHECK(std::get<0>(hx).defined() == std::get<1>(hx).defined(), "LSTM",
                "give both h0 and c0 or neither");
  }
};

// ---- cells
// ----------------------------------------------------------------------------------------

// The cells' common part: weight_ih [G hidden, input], weight_hh [G hidden, hidden], bias_ih and
// bias_hh [G hidden] (with bias), all U(-1/sqrt(hidden), 1/sqrt(hidden)).
template <class T, class Derived>
class RNNCellBaseT : public Cloneable<Derived, T> {
 public:
  Tensor<T> weight_ih, weight_hh, bias_ih, bias_hh;

  void reset() override {
    weight_ih = this->register_parameter("weight_ih", empty<T>({gates_ * hidden_, input_}));
    weight_hh = this->register_parameter("weight_hh", empty<T>({gates_ * hidden_, hidden_}));
    bias_ih =
        bias_ ? this->register_parameter("bias_ih", empty<T>({gates_ * hidden_})) : Tensor<T>();
    bias_hh =
        bias_ ? this->register_parameter("bias_hh", empty<T>({gates_ * hidden_})) : Tensor<T>();
    reset_parameters();
  }
  void reset_parameters() {
    detail_rnn::init_uniform<T>({weight_ih, weight_hh, bias_ih, bias_hh}, hidden_);
  }

  int64_t input_size() const { return input_; }
  int64_t hidden_size() const { return hidden_; }
  bool bias() const { return bias_; }

  std::string extra_repr() const override {
    std::string s = sinew::detail::str(input_, ", ", hidden_);
    if (!bias_) s += ", bias=false";
    return s;
  }

 protected:
  RNNCellBaseT(const char* name, int64_t input_size, int64_t hidden_size, bool bias, int64_t gates)
      : Cloneable<Derived, T>(name),
        input_(input_size),
        hidden_(hidden_size),
        bias_(bias),
        gates_(gates) {
    SINEW_CHECK(input_size >= 1 && hidden_size >= 1, name,
                "input_size and hidden_size must be >= 1, got ", input_size, " and ", hidden_size);
  }
  // Zeros of the hidden state's shape for input x ([N, hidden] or [hidden]).
  Tensor<T> zero_state(const Tensor<T>& x) const {
    return x.dim() == 2 ? zeros<T>({x.size(0), hidden_}, x.device())
                        : zeros<T>({hidden_}, x.device());
  }

  int64_t input_, hidden_;
  bool bias_;
  int64_t gates_;
};

struct RNNCellOptions {
  bool bias = true;
  std::string nonlinearity = "tanh";  // or "relu"
};

// h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (relu with {.nonlinearity = "relu"}); x [N, input]
// or [input], h the same with hidden (zeros when not given).
template <class T = float>
class RNNCellT : public RNNCellBaseT<T, RNNCellT<T>> {
 public:
  RNNCellT(int64_t input_size, int64_t hidden_size, RNNCellOptions options = {})
      : RNNCellBaseT<T, RNNCellT<T>>("RNNCell", input_size, hidden_size, options.bias, 1),
        relu_(detail_rnn::parse_nonlinearity(options.nonlinearity, "RNNCell") ==
              detail_rnn::Cell::RnnRelu) {
    this->reset();
  }
  Tensor<T> forward(const Tensor<T>& x) override { return forward(x, Tensor<T>()); }
  Tensor<T> forward(const Tensor<T>& x, const Tensor<T>& h) {
    Tensor<T> h0 = h.defined() ? h : this->zero_state(x);
    return relu_ ? functional::rnn_relu_cell(x, h0, this->weight_ih, this->weight_hh, this->bias_ih,
                                             this->bias_hh)
                 : functional::rnn_tanh_cell(x, h0, this->weight_ih, this->weight_hh, this->bias_ih,
                                             this->bias_hh);
  }
  using ModuleT<T>::operator();
  Tensor<T> operator()(const Tensor<T>& x, const Tensor<T>& h) { return forward(x, h); }

  std::string extra_repr() const override {
    return RNNCellBaseT<T, RNNCellT<T>>::extra_repr() + (relu_ ? ", nonlinearity=relu" : "");
  }

 private:
  bool relu_;
};

struct GRUCellOptions {
  bool bias = true;
};

// One GRU step; forward(x, h) with h zeros when not given.
template <class T = float>
class GRUCellT : public RNNCellBaseT<T, GRUCellT<T>> {
 public:
  GRUCellT(int64_t input_size, int64_t hidden_size, GRUCellOptions options = {})
      : RNNCellBaseT<T, GRUCellT<T>>("GRUCell", input_size, hidden_size, options.bias, 3) {
    this->reset();
  }
  Tensor<T> forward(const Tensor<T>& x) override { return forward(x, Tensor<T>()); }
  Tensor<T> forward(const Tensor<T>& x, const Tensor<T>& h) {
    return functional::gru_cell(x, h.defined() ? h : this->zero_state(x), this->weight_ih,
                                this->weight_hh, this->bias_ih, this->bias_hh);
  }
  using ModuleT<T>::operator();
  Tensor<T> operator()(const Tensor<T>& x, const Tensor<T>& h) { return forward(x, h); }
};

struct LSTMCellOptions {
  bool bias = true;
};

// One LSTM step; forward(x, (h, c)) returns (h', c'), the state zeros when not given.
template <class T = float>
class LSTMCellT : public RNNCellBaseT<T, LSTMCellT<T>> {
 public:
  using State = std::tuple<Tensor<T>, Tensor<T>>;

  LSTMCellT(int64_t input_size, int64_t hidden_size, LSTMCellOptions options = {})
      : RNNCellBaseT<T, LSTMCellT<T>>("LSTMCell", input_size, hidden_size, options.bias, 4) {
    this->reset();
  }
  State forward(const Tensor<T>& x, const State& hx = State()) {
    const auto& [h, c] = hx;
    SINEW_CHECK(h.defined() == c.defined(), "LSTMCell", "give both h and c or neither");
    State state = h.defined() ? hx : State{this->zero_state(x), this->zero_state(x)};
    return functional::lstm_cell(x, state, this->weight_ih, this->weight_hh, this->bias_ih,
                                 this->bias_hh);
  }
  State operator()(const Tensor<T>& x, const State& hx = State()) { return forward(x, hx); }
};

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

using RNN = RNNT<float>;
using LSTM = LSTMT<float>;
using GRU = GRUT<float>;
using RNNCell = RNNCellT<float>;
using LSTMCell = LSTMCellT<float>;
using GRUCell = GRUCellT<float>;

}  // namespace sinew::nn
