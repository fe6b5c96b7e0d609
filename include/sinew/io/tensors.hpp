// Plain tensors in safetensors files, as torch::save / torch::load of tensors (no module):
//
//   io::save(std::map<std::string, Tensor<float>>{{"w", w}, {"b", b}}, "t.safetensors");
//   auto m = io::load<float>("t.safetensors");                        // std::map name -> Tensor
//   io::save(std::vector<Tensor<double>>{a, b, c}, "list.safetensors");  // keys "0", "1", "2"
//   auto v = io::load<std::vector<Tensor<double>>>("list.safetensors");   // back in order
//   Tensor<float> w2 = io::load<float>("t.safetensors", "w");          // one tensor by name
//   io::load(v, "list.safetensors");                                   // LibTorch's spelling
//
// Tensors are written as their own dtype (F32, F64, I64, U8, BOOL; no conversion, unlike
// save_file's num_batches_tracked rule) and read back exactly: a tensor of another dtype than the
// one asked for is an Error (io::load_file<T> converts instead). The files are the ones Python's
// safetensors.torch.save_file writes for the same dict; every error names the function, the file
// and the tensor.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/io/safetensors.hpp"
#include "sinew/nn/module.hpp"

namespace sinew::io {

namespace detail {

template <class T>
inline constexpr bool is_element_type_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int64_t> ||
    std::is_same_v<T, uint8_t> || std::is_same_v<T, bool>;

// The containers io::load fills: a std::map or an OrderedDict of names, or a std::vector (keys "0",
// "1", ...), of Tensor<T>.
enum class Container { Map, Dict, List };
template <class C>
struct TensorContainer : std::false_type {};
template <class T>
struct TensorContainer<std::map<std::string, Tensor<T>>> : std::true_type {
  using element = T;
  static constexpr Container kind = Container::Map;
};
template <class T>
struct TensorContainer<nn::OrderedDict<Tensor<T>>> : std::true_type {
  using element = T;
  static constexpr Container kind = Container::Dict;
};
template <class T>
struct TensorContainer<std::vector<Tensor<T>>> : std::true_type {
  using element = T;
  static constexpr Container kind = Container::List;
};
template <class C>
concept tensor_container = TensorContainer<C>::value;

// io::load<X>: an element type stands for a std::map of it.
template <class X>
struct LoadResult {
  using type = X;
};
template <class X>
requires is_element_type_v<X>
struct LoadResult<X> {
  using type = std::map<std::string, Tensor<X>>;
};

// Writes (name, tensor) pairs as they are, each as its own dtype.
template <class T, class Named>
void save_named(const Named& named, const std::string& path, const Metadata& metadata,
                const char* where) {
  static_assert(sizeof(bool) == 1, "safetensors BOOL is one byte");
  std::vector<Tensor<T>> keep;  // the contiguous CPU copies the items point into
  std::vector<Pending> items;
  for (const auto& entry : named) {
    const std::string& name = entry.first;
    check_tensor_name(name, where, path);
    SINEW_CHECK(entry.second.defined(), where, path, ": tensor '", name, "' is undefined");
    keep.push_back(entry.second.detach().cpu().contiguous());
    items.push_back(pending(name, keep.back()));
  }
  write_items(items, path, metadata, where);
}

// Checks that the file's tensor `name` is stored as T, exactly.
template <class T>
void check_file_dtype(const TensorInfo& info, const std::string& name, const char* where,
                      const std::string& path) {
  const char* want = written_dtype(dtype_of<T>()).first;
  SINEW_CHECK(info.dtype == want, where, path, ": tensor '", name, "' is ", info.dtype, ", not ",
              want, " (", dtype_of<T>(), ") as requested; io::load_file<T> converts dtypes");
}

// The position a vector's tensor is saved under: "0", "1", ... (no sign, no leading zero), or -1.
inline int64_t list_index(const std::string& key) {
  if (key.empty() || key.size() > 18 || (key.size() > 1 && key[0] == '0')) return -1;
  int64_t i = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return -1;
    i = i * 10 + (c - '0');
  }
  return i;
}

// The header's tensors in list order: key i at position i, every key of 0 .. n-1 present.
inline std::vector<std::string> list_keys(const Header& h, const char* where,
                                          const std::string& path) {
  const int64_t n = static_cast<int64_t>(h.tensors.size());
  std::vector<std::string> keys(static_cast<size_t>(n));
  for (const auto& entry : h.tensors) {
    const std::string& name = entry.first;
    int64_t i = list_index(name);
    SINEW_CHECK(
        i >= 0, where, path, ": tensor '", name,
        "' is not a list position (a std::vector is saved under the keys \"0\", \"1\", ...)");
    SINEW_CHECK(i < n, where, path, ": tensor '", name, "' is past the end of a list of ", n,
                " tensors (the keys of a std::vector must be \"0\" to \"", n - 1,
                "\", consecutive)");
    keys[static_cast<size_t>(i)] = name;
  }
  return keys;  // n distinct keys in [0, n): each position holds one
}

}  // namespace detail

// Writes `tensors` to `path` (atomically), each under its name and as its own dtype.
template <class T>
void save(const std::map<std::string, Tensor<T>>& tensors, const std::string& path,
          const Metadata& metadata = {}) {
  detail::save_named<T>(tensors, path, metadata, "io::save");
}
template <class T>
void save(const nn::OrderedDict<Tensor<T>>& tensors, const std::string& path,
          const Metadata& metadata = {}) {
  detail::save_named<T>(tensors, path, metadata, "io::save");
}

// Writes a list of tensors under the keys "0", "1", ... (load<std::vector<Tensor<T>>> restores
// the order, which the file itself sorts as text: "0", "1", "10", "2").
template <class T>
void save(const std::vector<Tensor<T>>& tensors, const std::string& path,
          const Metadata& metadata = {}) {
  std::vector<std::pair<std::string, Tensor<T>>> named;
  named.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) named.emplace_back(std::to_string(i), tensors[i]);
  detail::save_named<T>(named, path, metadata, "io::save");
}

// Reads every tensor of `path` into X: std::map<std::string, Tensor<T>> (also for X = T, an element
// type), nn::OrderedDict<Tensor<T>> (file order) or std::vector<Tensor<T>> (the keys "0" .. "n-1",
// each once). Every tensor must be stored as T.
template <class X>
requires detail::tensor_container<typename detail::LoadResult<X>::type>
typename detail::LoadResult<X>::type load(const std::string& path) {
  using C = typename detail::LoadResult<X>::type;
  using T = typename detail::TensorContainer<C>::element;
  constexpr const char* where = "io::load";
  std::ifstream in;
  Header h = detail::open_file(path, in, where);
  for (const auto& [name, info] : h.tensors) detail::check_file_dtype<T>(info, name, where, path);
  C out;
  if constexpr (detail::TensorContainer<C>::kind == detail::Container::List) {
    for (const std::string& key : detail::list_keys(h, where, path))
      out.push_back(detail::read_as<T>(in, h, key, *h.tensors.find(key), where, path));
  } else {
    for (const auto& [name, info] : h.tensors) {
      if constexpr (detail::TensorContainer<C>::kind == detail::Container::Map)
        out.emplace(name, detail::read_as<T>(in, h, name, info, where, path));
      else
        out.insert(name, detail::read_as<T>(in, h, name, info, where, path));
    }
  }
  return out;
}

// The tensor `key` of `path`, stored as T.
template <class T>
requires detail::is_element_type_v<T> Tensor<T> load(const std::string& path,
                                                     const std::string& key) {
  constexpr const char* where = "io::load";
  std::ifstream in;
  Header h = detail::open_file(path, in, where);
  const TensorInfo* info = h.tensors.find(key);
  if (info == nullptr) {
    std::string names;
    size_t shown = 0;
    for (const auto& entry : h.tensors) {
      if (shown++ == 8) {
        names += ", ...";
        break;
      }
      names += (names.empty() ? "'" : ", '") + entry.first + "'";
    }
    sinew::detail::fail(where, path, ": no tensor '", key, "' (the file has ", h.tensors.size(),
                        h.tensors.size() == 1 ? " tensor" : " tensors", names.empty() ? "" : ": ",
                        names, ")");
  }
  detail::check_file_dtype<T>(*info, key, where, path);
  return detail::read_as<T>(in, h, key, *info, where, path);
}

// LibTorch's spelling, torch::load(tensors, path): replaces out with the file's tensors.
template <detail::tensor_container C>
void load(C& out, const std::string& path) {
  out = load<C>(path);
}

}  // namespace sinew::io
