// Datasets: the Dataset concept, Example, TensorDataset, Subset, random_split and ConcatDataset.
//
//   data::TensorDataset ds(x, y);                       // x [N, ...] float, y [N] int64
//   data::Example<> e = ds.get(0);                      // e.data = x[0], e.target = y[0]
//   auto parts = data::random_split(ds, {0.8, 0.2}, gen);   // two Subsets, 80 % and 20 %
//   data::ConcatDataset both(train_set, test_set);      // train_set's elements, then test_set's
//
// A dataset is any type with size() (convertible to int64_t) and get(int64_t i) returning one
// example, so a user's own struct plugs into everything here (and into the DataLoader) without
// deriving from anything. Indices run over [0, size()); any other index is an Error naming the
// index and the size (negative indices are not wrapped around).
//
// Subset and ConcatDataset hold their datasets through std::shared_ptr: copies share them, and
// random_split copies the dataset once for all its parts (Sinew's own datasets are handles whose
// tensors are shared anyway).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <numeric>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/core/error.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::data {

// A type with size() and get(i): what Subset, random_split, ConcatDataset and the DataLoader take.
template <class D>
concept Dataset = requires(D& d, int64_t i) {
  { d.size() } -> std::convertible_to<int64_t>;
  d.get(i);
  requires !std::is_void_v<decltype(d.get(i))>;
};

// What get(i) of the dataset returns, without references and const.
template <Dataset D>
using example_t = std::remove_cvref_t<decltype(std::declval<D&>().get(int64_t{}))>;

// One input and its class label(s): what MNIST, FashionMNIST and a TensorDataset of (data,
// int64 target) give. An aggregate, so `auto [x, y] = ds.get(i);` works.
template <class T = float>
struct Example {
  Tensor<T> data;
  Tensor<int64_t> target;
};

namespace detail {

inline void check_index(int64_t i, int64_t size, const char* where) {
  SINEW_CHECK(i >= 0 && i < size, where, "index ", i, " is out of range for a dataset of size ",
              size);
}

template <Dataset D>
int64_t dataset_size(D& d, const char* where) {
  const auto n = static_cast<int64_t>(d.size());
  SINEW_CHECK(n >= 0, where, "a dataset reports a negative size (", n, ")");
  return n;
}

// TensorDataset's example: Example<T> for (Tensor<T>, Tensor<int64_t>), a tuple of rows otherwise.
template <class... Ts>
struct TensorItem {
  using type = std::tuple<Tensor<Ts>...>;
};
template <class T>
struct TensorItem<T, int64_t> {
  using type = Example<T>;
};

}  // namespace detail

// Tensors sharing their first dimension N; get(i) gives the i-th row of each (views, no copies).
// With two tensors of which the second is int64 (data and targets) get returns an Example<T>,
// otherwise a std::tuple of the rows. The tensors may be of any element types and devices.
template <class... Ts>
class TensorDataset {
  static_assert(sizeof...(Ts) >= 1, "TensorDataset needs at least one tensor");

 public:
  using Item = typename detail::TensorItem<Ts...>::type;

  explicit TensorDataset(Tensor<Ts>... tensors) : tensors_(std::move(tensors)...) {
    size_ = -1;
    int64_t k = 0;
    std::apply([&](const auto&... t) { (check_tensor(t, k++), ...); }, tensors_);
  }

  int64_t size() const { return size_; }

  Item get(int64_t i) const {
    detail::check_index(i, size_, "data::TensorDataset::get");
    return std::apply([&](const auto&... t) { return Item{t.select(0, i)...}; }, tensors_);
  }

  const std::tuple<Tensor<Ts>...>& tensors() const { return tensors_; }

 private:
  template <class T>
  void check_tensor(const Tensor<T>& t, int64_t k) {
    SINEW_CHECK(t.defined(), "data::TensorDataset", "tensor ", k, " is undefined");
    SINEW_CHECK(t.dim() >= 1, "data::TensorDataset", "tensor ", k,
                " is 0-dimensional (each tensor needs a first dimension to index)");
    if (size_ < 0) size_ = t.size(0);
    SINEW_CHECK(t.size(0) == size_, "data::TensorDataset", "tensor ", k, " has shape ", t.shape(),
                " but tensor 0 has ", size_, " rows (the first dimensions must agree)");
  }

  std::tuple<Tensor<Ts>...> tensors_;
  int64_t size_ = 0;
};

// The elements of `dataset` at `indices`, in that order (repeats allowed): get(i) is
// dataset.get(indices[i]). Each index is checked against the dataset's size when constructed.
template <Dataset D>
class Subset {
 public:
  Subset(D dataset, std::vector<int64_t> indices)
      : Subset(std::make_shared<D>(std::move(dataset)), std::move(indices)) {}
  Subset(std::shared_ptr<D> dataset, std::vector<int64_t> indices)
      : dataset_(std::move(dataset)), indices_(std::move(indices)) {
    SINEW_CHECK(dataset_ != nullptr, "data::Subset", "the dataset is null");
    const int64_t n = detail::dataset_size(*dataset_, "data::Subset");
    for (size_t k = 0; k < indices_.size(); ++k) {
      SINEW_CHECK(indices_[k] >= 0 && indices_[k] < n, "data::Subset", "indices[", k,
                  "] = ", indices_[k], " is out of range for a dataset of size ", n);
    }
  }

  int64_t size() const { return static_cast<int64_t>(indices_.size()); }

  decltype(auto) get(int64_t i) const {
    detail::check_index(i, size(), "data::Subset::get");
    return dataset_->get(indices_[static_cast<size_t>(i)]);
  }

  const std::vector<int64_t>& indices() const { return indices_; }
  D& dataset() const { return *dataset_; }

 private:
  std::shared_ptr<D> dataset_;
  std::vector<int64_t> indices_;
};

namespace detail {

// A uniformly random permutation of 0..n-1 (Fisher-Yates with unbiased draws). Not PyTorch's
// randperm: the generators differ, so the same seed gives other permutations than torch.
inline std::vector<int64_t> randperm(int64_t n, Generator& gen) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  std::lock_guard<std::mutex> lock(gen.mutex());
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(gen.randint(0, i + 1))]);
  }
  return p;
}

// PyTorch's (1.13+) lengths for fractions summing to 1: floor(n * f) each, then the remainder
// handed out one by one, round-robin from the first part.
inline std::vector<int64_t> lengths_from_fractions(const std::vector<double>& fractions,
                                                   int64_t n) {
  constexpr const char* where = "data::random_split";
  SINEW_CHECK(!fractions.empty(), where, "no fractions given");
  double sum = 0;
  for (size_t k = 0; k < fractions.size(); ++k) {
    const double f = fractions[k];
    SINEW_CHECK(f >= 0 && f <= 1, where, "fraction ", k, " (", f, ") is not in [0, 1]");
    sum += f;
  }
  // As Python's math.isclose(sum, 1) (relative tolerance 1e-9) and sum <= 1.
  SINEW_CHECK(std::abs(sum - 1) <= 1e-9 * std::max(std::abs(sum), 1.0) && sum <= 1, where,
              "the fractions sum to ", sum, ", not 1");
  std::vector<int64_t> lengths;
  int64_t total = 0;
  for (double f : fractions) {
    lengths.push_back(static_cast<int64_t>(std::floor(static_cast<double>(n) * f)));
    total += lengths.back();
  }
  for (int64_t k = 0; k < n - total; ++k) ++lengths[static_cast<size_t>(k) % lengths.size()];
  return lengths;
}

template <Dataset D>
std::vector<Subset<D>> split(std::shared_ptr<D> dataset, const std::vector<int64_t>& lengths,
                             Generator& gen) {
  constexpr const char* where = "data::random_split";
  const int64_t n = dataset_size(*dataset, where);
  int64_t sum = 0;
  for (size_t k = 0; k < lengths.size(); ++k) {
    SINEW_CHECK(lengths[k] >= 0, where, "length ", k, " is negative (", lengths[k], ")");
    SINEW_CHECK(lengths[k] <= n - sum, where, "the lengths sum to more than the dataset's size ",
                n);
    sum += lengths[k];
  }
  SINEW_CHECK(sum == n, where, "the lengths sum to ", sum, " but the dataset has ", n, " elements");
  const std::vector<int64_t> perm = randperm(n, gen);
  std::vector<Subset<D>> parts;
  auto begin = perm.begin();
  for (int64_t len : lengths) {
    parts.emplace_back(dataset, std::vector<int64_t>(begin, begin + len));
    begin += len;
  }
  return parts;
}

}  // namespace detail

// Splits `dataset` at random into non-overlapping Subsets, as torch.utils.data.random_split: given
// lengths (which must sum to the dataset's size), or fractions summing to 1, whose rounded-down
// lengths get the remainder round-robin (PyTorch >= 1.13):
//   random_split(ds, {800, 200}, gen);   random_split(ds, {0.7, 0.2, 0.1}, gen);
// The permutation is drawn from `gen` (the global generator when none is given).
template <Dataset D, std::integral N>
std::vector<Subset<D>> random_split(D dataset, const std::vector<N>& lengths, Generator& gen) {
  return detail::split(std::make_shared<D>(std::move(dataset)),
                       std::vector<int64_t>(lengths.begin(), lengths.end()), gen);
}
template <Dataset D, std::floating_point F>
std::vector<Subset<D>> random_split(D dataset, const std::vector<F>& fractions, Generator& gen) {
  auto shared = std::make_shared<D>(std::move(dataset));
  const int64_t n = detail::dataset_size(*shared, "data::random_split");
  return detail::split(
      shared,
      detail::lengths_from_fractions(std::vector<double>(fractions.begin(), fractions.end()), n),
      gen);
}
// Braced lists: {800, 200} are lengths, {0.8, 0.2} fractions.
template <Dataset D, std::integral N>
std::vector<Subset<D>> random_split(D dataset, std::initializer_list<N> lengths, Generator& gen) {
  return random_split(std::move(dataset), std::vector<N>(lengths), gen);
}
template <Dataset D, std::floating_point F>
std::vector<Subset<D>> random_split(D dataset, std::initializer_list<F> fractions, Generator& gen) {
  return random_split(std::move(dataset), std::vector<F>(fractions), gen);
}
template <Dataset D, class N>
requires std::integral<N> || std::floating_point<N> std::vector<Subset<D>> random_split(
    D dataset, const std::vector<N>& sizes) {
  return random_split(std::move(dataset), sizes, default_generator());
}
template <Dataset D, class N>
requires std::integral<N> || std::floating_point<N> std::vector<Subset<D>> random_split(
    D dataset, std::initializer_list<N> sizes) {
  return random_split(std::move(dataset), std::vector<N>(sizes), default_generator());
}

// Datasets of one type one after another: indices [0, size(0)) go to the first, the next size(1)
// to the second, and so on (a binary search over the cumulative sizes, as PyTorch).
template <Dataset D>
class ConcatDataset {
 public:
  explicit ConcatDataset(std::vector<std::shared_ptr<D>> datasets)
      : datasets_(std::move(datasets)) {
    SINEW_CHECK(!datasets_.empty(), "data::ConcatDataset", "no datasets given");
    int64_t total = 0;
    for (size_t k = 0; k < datasets_.size(); ++k) {
      SINEW_CHECK(datasets_[k] != nullptr, "data::ConcatDataset", "dataset ", k, " is null");
      total += detail::dataset_size(*datasets_[k], "data::ConcatDataset");
      cumulative_.push_back(total);
    }
  }
  explicit ConcatDataset(std::vector<D> datasets) : ConcatDataset(to_shared(std::move(datasets))) {}
  template <class... Rest>
  requires(std::same_as<Rest, D>&&...) explicit ConcatDataset(D first, Rest... rest)
      : ConcatDataset(to_shared(std::vector<D>{std::move(first), std::move(rest)...})) {}

  int64_t size() const { return cumulative_.back(); }

  decltype(auto) get(int64_t i) const {
    detail::check_index(i, size(), "data::ConcatDataset::get");
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), i);
    const auto k = static_cast<size_t>(it - cumulative_.begin());
    return datasets_[k]->get(k == 0 ? i : i - cumulative_[k - 1]);
  }

  // The end of each dataset's range of indices.
  const std::vector<int64_t>& cumulative_sizes() const { return cumulative_; }
  const std::vector<std::shared_ptr<D>>& datasets() const { return datasets_; }

 private:
  static std::vector<std::shared_ptr<D>> to_shared(std::vector<D> datasets) {
    std::vector<std::shared_ptr<D>> out;
    for (D& d : datasets) out.push_back(std::make_shared<D>(std::move(d)));
    return out;
  }

  std::vector<std::shared_ptr<D>> datasets_;
  std::vector<int64_t> cumulative_;
};

}  // namespace sinew::data
