// Embedding: nn::functional::embedding (a lookup of weight rows by int64 index) and the
// nn::Embedding (nn::EmbeddingT<T>) module (PyTorch's layout, N(0, 1) init, padding_idx).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/autograd/node.hpp"
#include "sinew/backend/dispatch.hpp"
#include "sinew/nn/init.hpp"
#include "sinew/nn/module.hpp"
#include "sinew/ops/common.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::nn {

namespace detail {
// padding_idx in [-num_embeddings, num_embeddings), wrapped to a row index (as PyTorch).
inline std::optional<int64_t> wrap_padding_idx(std::optional<int64_t> padding_idx,
                                               int64_t num_embeddings, const char* where) {
  if (!padding_idx) return std::nullopt;
  int64_t p = *padding_idx;
  SINEW_CHECK(p >= -num_embeddings && p < num_embeddings, where, "padding_idx ", p,
              " must be within num_embeddings = ", num_embeddings);
  return p < 0 ? p + num_embeddings : p;
}
}  // namespace detail

namespace functional {

// y[i..., :] = weight[indices[i...], :]: indices of any shape (int64, each in [0, num_embeddings)),
// weight [num_embeddings, embedding_dim], y [indices..., embedding_dim].
// dL/dweight = index_add(zeros, 0, indices, dL/dy) (repeated indices accumulate), with the rows
// looked up through padding_idx contributing nothing, so that row is never trained.
template <class T>
Tensor<T> embedding(const Tensor<int64_t>& indices, const Tensor<T>& weight,
                    std::optional<int64_t> padding_idx = std::nullopt) {
  SINEW_CHECK(weight.dim() == 2, "embedding",
              "weight must be [num_embeddings, embedding_dim], got ", weight.shape());
  sinew::detail::check_same_device("embedding", weight, indices);
  const int64_t n = weight.size(0), d = weight.size(1);
  std::optional<int64_t> pad = detail::wrap_padding_idx(padding_idx, n, "embedding");
  Tensor<int64_t> flat = indices.reshape({indices.numel()});
  // On a device, index_select's kernel checks the indices (ops/index.hpp).
  if (flat.numel() > 0 && flat.is_cpu()) {
    auto [lo, hi] = backend::cpu::index_min_max(flat);
    SINEW_CHECK(lo >= 0 && hi < n, "embedding", "index ", lo < 0 ? lo : hi,
                " is out of range for num_embeddings = ", n);
  }
  Shape s = indices.shape();
  s.push_back(d);
  Tensor<T> y;
  {
    NoGradGuard guard;
    y = index_select(weight, 0, flat).reshape(s).detach();
  }
  return autograd::record(y, "embedding", {weight},
                          [wshape = weight.shape(), flat, pad, d](const Tensor<T>& g) {
                            Tensor<T> rows = g.reshape({flat.numel(), d});
                            if (pad) rows = masked_fill(rows, (flat == *pad).unsqueeze(1), 0.0);
                            return index_add(zeros<T>(wshape, g.device()), 0, flat, rows);
                          },
                          // an in-place change of the indices after the forward is a version error
                          {.saved = {flat}});
}

}  // namespace functional

struct EmbeddingOptions {
  // Lookups of this row give its values (zeros at init) but no gradient, so it stays fixed.
  std::optional<int64_t> padding_idx = std::nullopt;
};

// A lookup table: Embedding(10, 3) maps int64 indices of any shape [...] to [..., 3]. weight
// [num_embeddings, embedding_dim] ~ N(0, 1), with the padding_idx row zeroed (PyTorch's init).
// Its forward takes indices (Tensor<int64_t>), so it has no forward(const Tensor<T>&) and cannot
// sit inside a Sequential.
template <class T = float>
class EmbeddingT : public Cloneable<EmbeddingT<T>, T> {
 public:
  Tensor<T> weight;

  EmbeddingT(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions options = {})
      : Cloneable<EmbeddingT<T>, T>("Embedding"),
        num_embeddings_(num_embeddings),
        embedding_dim_(embedding_dim) {
    SINEW_CHECK(num_embeddings >= 0 && embedding_dim >= 0, "Embedding",
                "num_embeddings and embedding_dim must be >= 0, got ", num_embeddings, " and ",
                embedding_dim);
    padding_idx_ = detail::wrap_padding_idx(options.padding_idx, num_embeddings, "Embedding");
    reset();
  }

  // An Embedding holding a copy of `embeddings` [num_embeddings, embedding_dim], frozen unless
  // freeze = false (the padding row keeps the given values, as PyTorch).
  static EmbeddingT from_pretrained(const Tensor<T>& embeddings, bool freeze = true,
                                    EmbeddingOptions options = {}) {
    SINEW_CHECK(embeddings.dim() == 2, "Embedding::from_pretrained",
                "embeddings must be 2-d [num_embeddings, embedding_dim], got ", embeddings.shape());
    EmbeddingT e(embeddings.size(0), embeddings.size(1), options);
    init::detail::assign(e.weight, embeddings.to(e.weight.device()));
    e.weight.requires_grad_(!freeze);
    return e;
  }

  void reset() override {
    weight = this->register_parameter("weight", empty<T>({num_embeddings_, embedding_dim_}));
    reset_parameters();
  }

  // Re-draws weight from N(0, 1) and zeroes the padding row.
  void reset_parameters() {
    init::normal_(weight);
    if (padding_idx_) {
      NoGradGuard guard;
      weight.detach().select(0, *padding_idx_).zero_();
    }
  }

  using ModuleT<T>::forward;
  using ModuleT<T>::operator();
  Tensor<T> forward(const Tensor<int64_t>& indices) {
    return functional::embedding(indices, weight, padding_idx_);
  }
  // Module hooks take Tensor<T> inputs, so they do not run for this call.
  Tensor<T> operator()(const Tensor<int64_t>& indices) { return forward(indices); }

  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  std::optional<int64_t> padding_idx() const { return padding_idx_; }

  std::string extra_repr() const override {
    std::string s = sinew::detail::str(num_embeddings_, ", ", embedding_dim_);
    if (padding_idx_) s += sinew::detail::str(", padding_idx=", *padding_idx_);
    return s;
  }

 private:
  int64_t num_embeddings_;
  int64_t embedding_dim_;
  std::optional<int64_t> padding_idx_;
};

using Embedding = EmbeddingT<float>;

}  // namespace sinew::nn
