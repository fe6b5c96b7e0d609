// DataLoader: batches of a dataset, shuffled per epoch, optionally prepared by worker threads.
//
//   data::DataLoader loader(train_set, {.batch_size = 64, .shuffle = true, .num_workers = 2});
//   for (int epoch = 0; epoch < 5; ++epoch)
//     for (auto& [x, y] : loader) { ... }      // x [64, 1, 28, 28], y [64]; a new order each pass
//
// Batches: the dataset's indices (a permutation with shuffle, 0..N-1 without) cut into runs of
// batch_size, the last one shorter unless drop_last. size() is the number of batches per epoch.
//
// Collation: Example<T> examples become one Example<T> whose data and target are the examples'
// stacked along a new first dimension; tuples of tensors (TensorDataset's items) a tuple of stacked
// tensors; any other example type a std::vector of the examples, unless a `collate` callable
// taking std::vector<example> is given (its result type is the batch type):
//   data::DataLoader loader(my_set, {.batch_size = 8}, [](std::vector<MyItem> items) { ... });
//
// Determinism: epoch e of a loader with seed s uses the permutation drawn from a Generator seeded
// from (s, e), and the transform of the example at dataset index i draws from its own Generator
// seeded from (s, e, i). The batches are therefore the same, bit for bit, whatever num_workers.
// Each begin() (each range-for) starts the epoch epoch() and advances it; set_epoch(e) chooses the
// next one (a resumed run calls set_epoch to continue where it stopped).
//
// Workers: with num_workers > 0, that many std::threads build batches in the background, at most
// prefetch_factor batches per worker ahead of the loop, delivered in order. An exception thrown
// while building a batch (by the dataset's get, the transform or the collate) is rethrown by the
// loop at that batch. Leaving the loop early (break, an exception) destroys the iterator, which
// stops and joins the workers; the iterator keeps the dataset and options alive, so the loader
// itself may be destroyed first. The dataset's get, the transform and the collate are then called
// from several threads at once and must allow it (Sinew's datasets and transforms only read).
// Worker threads build batches under NoGradGuard (grad mode is per thread) and with Sinew's CPU
// kernels single-threaded on them (OpenMP's thread count is per thread: set_num_threads(1) in a
// worker leaves the loop's thread count alone), so W workers use W cores, not W x OpenMP's count.
//
// Pinned memory: with pin_memory, each batch's tensors are copied to page-locked host memory as it
// is built (by the worker, with workers), so that `x.to(Device::cuda())` in the loop is an
// asynchronous copy that overlaps the device's work (PyTorch's pin_memory=True).
//
// Fast path: a TensorDataset, MNIST or FashionMNIST without transform or collate gives each batch
// with one index_select per tensor instead of get + stack per example (the same values).
#pragma once

#include <algorithm>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/autograd/grad_mode.hpp"
#include "sinew/backend/cpu/parallel.hpp"
#include "sinew/core/error.hpp"
#include "sinew/core/random.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/data/dataset.hpp"
#include "sinew/data/mnist.hpp"
#include "sinew/ops/factory.hpp"
#include "sinew/ops/index.hpp"
#include "sinew/ops/shape.hpp"

namespace sinew::data {

namespace detail {

template <class E>
struct IsExample : std::false_type {};
template <class T>
struct IsExample<Example<T>> : std::true_type {};

// The batch the default collate makes of examples of type E.
template <class E>
struct DefaultBatch {
  using type = std::vector<E>;
};
template <class T>
struct DefaultBatch<Example<T>> {
  using type = Example<T>;
};
template <class... Ts>
struct DefaultBatch<std::tuple<Tensor<Ts>...>> {
  using type = std::tuple<Tensor<Ts>...>;
};

// What a transform maps: the data tensor of an Example<T>, the whole example otherwise.
template <class E>
struct TransformOf {
  using type = std::function<E(E, Generator&)>;
};
template <class T>
struct TransformOf<Example<T>> {
  using type = std::function<Tensor<T>(Tensor<T>, Generator&)>;
};

}  // namespace detail

template <class E>
using default_batch_t = typename detail::DefaultBatch<E>::type;

// The per-example transform a DataLoader over examples of type E takes.
template <class E>
using transform_t = typename detail::TransformOf<E>::type;

// Stacks Examples (data and target) or tuples of tensors along a new first dimension; any other
// examples are returned as they are.
template <class E>
default_batch_t<E> default_collate(std::vector<E> examples) {
  if constexpr (std::is_same_v<default_batch_t<E>, std::vector<E>>) {
    return examples;
  } else {
    SINEW_CHECK(!examples.empty(), "data::default_collate", "no examples to collate");
    if constexpr (detail::IsExample<E>::value) {
      using D = std::remove_cvref_t<decltype(examples[0].data)>;
      std::vector<D> data;
      std::vector<Tensor<int64_t>> target;
      data.reserve(examples.size());
      target.reserve(examples.size());
      for (E& e : examples) {
        data.push_back(std::move(e.data));
        target.push_back(std::move(e.target));
      }
      return E{stack(data), stack(target)};
    } else {
      return [&]<size_t... K>(std::index_sequence<K...>) {
        auto column = [&]<size_t J>(std::integral_constant<size_t, J>) {
          std::vector<std::tuple_element_t<J, E>> parts;
          parts.reserve(examples.size());
          for (E& e : examples) parts.push_back(std::move(std::get<J>(e)));
          return stack(parts);
        };
        return E{column(std::integral_constant<size_t, K>{})...};
      }
      (std::make_index_sequence<std::tuple_size_v<E>>{});
    }
  }
}

// E: the dataset's example type; B: the batch type (what collate returns).
template <class E, class B = default_batch_t<E>>
struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;           // a new permutation each epoch
  bool drop_last = false;         // drop the last batch when shorter than batch_size
  int64_t num_workers = 0;        // 0: batches are built on the loop's thread when needed
  uint64_t seed = 0;              // with the epoch, fixes the permutation and the transforms' draws
  transform_t<E> transform = {};  // applied to each example's data (E's whole value if no Example)
  std::function<B(std::vector<E>)> collate = {};  // default_collate when empty
  int64_t prefetch_factor = 2;                    // batches in flight per worker
  // Each batch's tensors copied to page-locked host memory (by the worker that built it), so that
  // their copies to a GPU run asynchronously; needs the CUDA backend.
  bool pin_memory = false;
};

namespace detail {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return splitmix64(splitmix64(a) ^ b); }

// The seed of an epoch's permutation (its key's 0) and of the example at index i (key's i + 1).
inline uint64_t epoch_key(uint64_t seed, int64_t epoch) {
  return mix_seed(seed, static_cast<uint64_t>(epoch));
}
inline uint64_t sample_seed(uint64_t key, int64_t index) {
  return mix_seed(key, static_cast<uint64_t>(index) + 1);
}

// A batch with its tensors in pinned memory: a tensor, an Example's data and target, each element
// of a tuple or vector, or whatever a type's own pin_memory() gives.
template <class B>
constexpr bool kPinnable = requires(const B& b) {
  b.pin_memory();
};
template <class T>
constexpr bool kPinnable<Example<T>> = true;
template <class... Ts>
constexpr bool kPinnable<std::tuple<Ts...>> = (kPinnable<Ts> && ...);
template <class A, class C>
constexpr bool kPinnable<std::pair<A, C>> = kPinnable<A>&& kPinnable<C>;
template <class E>
constexpr bool kPinnable<std::vector<E>> = kPinnable<E>;

template <class B>
B pinned(B b) {
  if constexpr (requires { b.pin_memory(); }) {
    return b.pin_memory();
  } else if constexpr (IsExample<B>::value) {
    return B{b.data.pin_memory(), b.target.pin_memory()};
  } else if constexpr (requires { b.begin(); }) {
    for (auto& e : b) e = pinned(std::move(e));
    return b;
  } else {
    std::apply([](auto&... t) { ((t = pinned(std::move(t))), ...); }, b);
    return b;
  }
}

template <class D>
struct IsTensorDataset : std::false_type {};
template <class... Ts>
struct IsTensorDataset<TensorDataset<Ts...>> : std::true_type {};

// What the loader and its running epochs share: the dataset and the options.
template <class D, class B>
struct LoaderState {
  using E = example_t<D>;
  std::shared_ptr<D> dataset;
  DataLoaderOptions<E, B> options;

  // Tensors in memory that one index_select per tensor batches (when B is the example type).
  static constexpr bool kInMemory = IsTensorDataset<D>::value || std::derived_from<D, MNIST>;
  static constexpr bool kFast = kInMemory && std::is_same_v<B, E>;

  // Batch k of an epoch whose order is `order`, pinned when the options say so.
  B make_batch(const std::vector<int64_t>& order, int64_t k, uint64_t key) const {
    if constexpr (kPinnable<B>) {
      if (options.pin_memory) return pinned(build_batch(order, k, key));
    }
    return build_batch(order, k, key);
  }

  B build_batch(const std::vector<int64_t>& order, int64_t k, uint64_t key) const {
    const auto bs = static_cast<size_t>(options.batch_size);
    const size_t begin = static_cast<size_t>(k) * bs;
    const size_t end = std::min(order.size(), begin + bs);
    if constexpr (kFast) {
      if (!options.transform && !options.collate) {
        const Tensor<int64_t> index = from_vector<int64_t>(
            std::vector<int64_t>(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                 order.begin() + static_cast<std::ptrdiff_t>(end)),
            {static_cast<int64_t>(end - begin)});
        auto pick = [&index](const auto& t) {
          return t.index_select(0, t.is_cpu() ? index : index.to(t.device()));
        };
        if constexpr (IsTensorDataset<D>::value) {
          return std::apply([&](const auto&... t) { return B{pick(t)...}; }, dataset->tensors());
        } else {
          return B{pick(dataset->images()), pick(dataset->labels())};
        }
      }
    }
    std::vector<E> examples;
    examples.reserve(end - begin);
    for (size_t j = begin; j < end; ++j) {
      E e = dataset->get(order[j]);
      if (options.transform) {
        Generator gen(sample_seed(key, order[j]));
        if constexpr (IsExample<E>::value) {
          e.data = options.transform(std::move(e.data), gen);
        } else {
          e = options.transform(std::move(e), gen);
        }
      }
      examples.push_back(std::move(e));
    }
    if (options.collate) return options.collate(std::move(examples));
    if constexpr (std::is_same_v<B, default_batch_t<E>>) {
      return default_collate(std::move(examples));
    } else {
      sinew::detail::fail("data::DataLoader", "this batch type needs a collate function");
    }
  }
};

// One pass over the data: the order, the current batch, and (with workers) the threads building
// the next ones into a ring of slots, batch k in slot k % slots.
template <class D, class B>
class EpochRun {
 public:
  EpochRun(std::shared_ptr<const LoaderState<D, B>> state, std::vector<int64_t> order,
           int64_t batches, uint64_t key)
      : state_(std::move(state)), order_(std::move(order)), batches_(batches), key_(key) {
    const int64_t workers = std::min(state_->options.num_workers, batches_);
    if (workers > 0) {
      slots_.resize(static_cast<size_t>(workers * state_->options.prefetch_factor));
      try {
        for (int64_t w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
      } catch (...) {
        stop();
        throw;
      }
    }
    try {
      load(0);
    } catch (...) {
      stop();
      throw;
    }
  }
  ~EpochRun() { stop(); }
  EpochRun(const EpochRun&) = delete;
  EpochRun& operator=(const EpochRun&) = delete;

  bool done() const { return position_ >= batches_; }
  B& current() {
    SINEW_CHECK(current_.has_value(), "data::DataLoader", "the iterator is past the last batch");
    return *current_;
  }
  void advance() {
    SINEW_CHECK(!done(), "data::DataLoader", "incrementing an iterator past the last batch");
    current_.reset();
    load(++position_);
  }

 private:
  struct Slot {
    std::optional<B> batch;
    std::exception_ptr error;
    bool ready = false;
  };

  void load(int64_t k) {
    if (k >= batches_) return;
    if (threads_.empty()) {
      NoGradGuard no_grad;
      current_.emplace(state_->make_batch(order_, k, key_));
      return;
    }
    Slot got;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      Slot& slot = slots_[static_cast<size_t>(k) % slots_.size()];
      ready_.wait(lock, [&] { return slot.ready; });
      got = std::move(slot);
      slot = Slot{};
      consumed_ = k + 1;
    }
    wanted_.notify_all();
    if (got.error) std::rethrow_exception(got.error);
    current_ = std::move(got.batch);
  }

  void work() {
    set_num_threads(1);  // this thread's OpenMP count only: the kernels run on this worker
    NoGradGuard no_grad;
    const auto window = static_cast<int64_t>(slots_.size());
    for (;;) {
      int64_t k = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wanted_.wait(lock,
                     [&] { return stop_ || next_ >= batches_ || next_ < consumed_ + window; });
        if (stop_ || next_ >= batches_) return;
        k = next_++;
      }
      Slot made;
      try {
        made.batch.emplace(state_->make_batch(order_, k, key_));
      } catch (...) {
        made.error = std::current_exception();
      }
      made.ready = true;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        slots_[static_cast<size_t>(k % window)] = std::move(made);
      }
      ready_.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wanted_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  std::shared_ptr<const LoaderState<D, B>> state_;
  std::vector<int64_t> order_;
  int64_t batches_;
  uint64_t key_;
  int64_t position_ = 0;
  std::optional<B> current_;

  std::mutex mutex_;
  std::condition_variable wanted_;  // workers wait for room in the window
  std::condition_variable ready_;   // the loop waits for its batch
  std::vector<Slot> slots_;
  int64_t next_ = 0;      // the next batch a worker takes
  int64_t consumed_ = 0;  // batches the loop has taken
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace detail

template <Dataset D, class B = default_batch_t<example_t<D>>>
class DataLoader {
 public:
  using example_type = example_t<D>;
  using batch_type = B;
  using Options = DataLoaderOptions<example_type, B>;

  // A move-only input iterator; its destruction ends the pass (stopping the workers).
  class iterator {
   public:
    using value_type = B;
    using reference = B&;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    B& operator*() const { return run_->current(); }
    B* operator->() const { return &run_->current(); }
    iterator& operator++() {
      run_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !run_ || run_->done(); }

   private:
    friend class DataLoader;
    explicit iterator(std::unique_ptr<detail::EpochRun<D, B>> run) : run_(std::move(run)) {}
    std::unique_ptr<detail::EpochRun<D, B>> run_;
  };

  explicit DataLoader(D dataset, Options options = {})
      : DataLoader(std::make_shared<D>(std::move(dataset)), std::move(options)) {}
  explicit DataLoader(std::shared_ptr<D> dataset, Options options = {}) {
    constexpr const char* where = "data::DataLoader";
    SINEW_CHECK(dataset != nullptr, where, "the dataset is null");
    SINEW_CHECK(options.batch_size >= 1, where, "batch_size must be >= 1, got ",
                options.batch_size);
    SINEW_CHECK(options.num_workers >= 0, where, "num_workers must be >= 0, got ",
                options.num_workers);
    SINEW_CHECK(options.prefetch_factor >= 1, where, "prefetch_factor must be >= 1, got ",
                options.prefetch_factor);
    if constexpr (!std::is_same_v<B, default_batch_t<example_type>>) {
      SINEW_CHECK(static_cast<bool>(options.collate), where,
                  "a batch type other than the default needs a collate function");
    }
    if constexpr (!detail::kPinnable<B>) {
      SINEW_CHECK(!options.pin_memory, where,
                  "pin_memory needs batches of tensors (a tensor, an Example, a tuple or vector of "
                  "them) or a batch type with its own pin_memory()");
    }
#ifndef SINEW_WITH_CUDA
    SINEW_CHECK(!options.pin_memory, where,
                "pin_memory needs the CUDA backend (link Sinew::cuda, which defines "
                "SINEW_WITH_CUDA)");
#endif
    size_ = sinew::data::detail::dataset_size(*dataset, where);
    state_ = std::make_shared<detail::LoaderState<D, B>>(
        detail::LoaderState<D, B>{std::move(dataset), std::move(options)});
  }
  // With a collate function, whose result type is the batch type.
  template <class F>
  requires std::is_invocable_r_v<B, F&, std::vector<example_type>> DataLoader(
      D dataset, DataLoaderOptions<example_type, default_batch_t<example_type>> options, F collate)
      : DataLoader(std::move(dataset), with_collate(std::move(options), std::move(collate))) {}

  // Batches per epoch.
  int64_t size() const {
    const int64_t bs = state_->options.batch_size;
    return state_->options.drop_last ? size_ / bs : (size_ + bs - 1) / bs;
  }
  // The epoch the next pass uses.
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t epoch) { epoch_ = epoch; }

  D& dataset() const { return *state_->dataset; }
  const Options& options() const { return state_->options; }

  // Starts a pass over epoch(), then advances epoch().
  iterator begin() {
    const int64_t epoch = epoch_++;
    const uint64_t key = detail::epoch_key(state_->options.seed, epoch);
    std::vector<int64_t> order;
    if (state_->options.shuffle) {
      Generator gen(key);
      order = sinew::data::detail::randperm(size_, gen);
    } else {
      order.resize(static_cast<size_t>(size_));
      std::iota(order.begin(), order.end(), int64_t{0});
    }
    return iterator(
        std::make_unique<detail::EpochRun<D, B>>(state_, std::move(order), size(), key));
  }
  std::default_sentinel_t end() const { return std::default_sentinel; }

 private:
  template <class F>
  static Options with_collate(DataLoaderOptions<example_type, default_batch_t<example_type>> o,
                              F collate) {
    return Options{o.batch_size,       o.shuffle,        o.drop_last,
                   o.num_workers,      o.seed,           std::move(o.transform),
                   std::move(collate), o.prefetch_factor};
  }

  std::shared_ptr<const detail::LoaderState<D, B>> state_;
  int64_t size_ = 0;
  int64_t epoch_ = 0;
};

template <Dataset D>
DataLoader(D, DataLoaderOptions<example_t<D>>) -> DataLoader<D>;
template <Dataset D>
DataLoader(D) -> DataLoader<D>;
template <Dataset D>
DataLoader(std::shared_ptr<D>, DataLoaderOptions<example_t<D>>) -> DataLoader<D>;
template <Dataset D, class F>
DataLoader(D, DataLoaderOptions<example_t<D>>, F)
    -> DataLoader<D, std::invoke_result_t<F&, std::vector<example_t<D>>>>;

}  // namespace sinew::data
