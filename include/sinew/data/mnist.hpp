// The MNIST and Fashion-MNIST datasets, read from their IDX files in a folder.
//
//   data::FashionMNIST train("/usr/share/datasets/fashion-mnist");            // 60,000 images
//   data::FashionMNIST test("/usr/share/datasets/fashion-mnist", {.train = false});
//   data::Example<> e = train.get(0);    // e.data [1, 28, 28] in [0, 1], e.target 0-d int64
//
// The folder holds the four files under their standard names, each plain or gzip'd:
// train-images-idx3-ubyte, train-labels-idx1-ubyte (train = true) or t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte, with or without ".gz" (the plain file is taken when both exist).
// torchvision's layout, <root>/MNIST/raw or <root>/FashionMNIST/raw, is found too.
// The number of images comes from the files' headers (a subset of MNIST is as valid as the full
// set), and must be the same in both files. Images become floats v / 255 (as torchvision's
// ToTensor), of shape [N, 1, 28, 28]; labels int64 [N], each in 0..9.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/data/dataset.hpp"
#include "sinew/data/idx.hpp"
#include "sinew/ops/view.hpp"

namespace sinew::data {

struct MNISTOptions {
  bool train = true;  // the training files (train-*), else the test files (t10k-*)
};
using FashionMNISTOptions = MNISTOptions;

namespace detail {

// The first of <folder>/<name> and <folder>/<name>.gz that exists, over the folders; an Error
// naming the folders and the names tried when none does.
inline std::string find_idx_file(const std::vector<std::string>& folders, const std::string& name,
                                 const char* where) {
  std::error_code ec;
  for (const std::string& folder : folders) {
    for (const char* suffix : {"", ".gz"}) {
      const std::filesystem::path p = std::filesystem::path(folder) / (name + suffix);
      if (std::filesystem::is_regular_file(p, ec)) return p.string();
    }
  }
  std::string tried;
  for (size_t k = 0; k < folders.size(); ++k) tried += (k ? " or '" : "'") + folders[k] + "'";
  sinew::detail::fail(where, "no ", name, " or ", name, ".gz in ", tried);
}

}  // namespace detail

// MNIST: handwritten digits, 28 x 28 grey images in ten classes "0".."9".
class MNIST {
 public:
  explicit MNIST(const std::string& root, MNISTOptions options = {})
      : MNIST(root, options, "data::MNIST", "data::MNIST::get", "MNIST", digit_classes()) {}

  int64_t size() const { return labels_.size(0); }

  // The i-th image [1, 28, 28] and its label (0-d), views into images() and labels(). (A template
  // with a defaulted parameter so that only a program that reads examples instantiates select.)
  template <class D = void>
  Example<float> get(int64_t i) const {
    detail::check_index(i, size(), get_where_);
    return Example<float>{images_.select(0, i), labels_.select(0, i)};
  }

  const Tensor<float>& images() const { return images_; }    // [N, 1, 28, 28], in [0, 1]
  const Tensor<int64_t>& labels() const { return labels_; }  // [N], in 0..9
  // The class names, indexed by label.
  const std::vector<std::string>& classes() const { return *classes_; }
  const std::string& root() const { return root_; }
  bool train() const { return options_.train; }
  const std::string& images_file() const { return images_file_; }
  const std::string& labels_file() const { return labels_file_; }

 protected:
  MNIST(const std::string& root, MNISTOptions options, const char* where, const char* get_where,
        const char* name, const std::vector<std::string>& classes)
      : root_(root), options_(options), where_(where), get_where_(get_where), classes_(&classes) {
    std::error_code ec;
    SINEW_CHECK(std::filesystem::is_directory(root, ec), where, "'", root,
                "' is not a folder (expected one holding the IDX files)");
    const std::vector<std::string> folders = {
        root, (std::filesystem::path(root) / name / "raw").string()};
    const std::string prefix = options.train ? "train" : "t10k";
    images_file_ = detail::find_idx_file(folders, prefix + "-images-idx3-ubyte", where);
    labels_file_ = detail::find_idx_file(folders, prefix + "-labels-idx1-ubyte", where);
    load();
  }

  static const std::vector<std::string>& digit_classes() {
    static const std::vector<std::string> names = {"0", "1", "2", "3", "4",
                                                   "5", "6", "7", "8", "9"};
    return names;
  }

 private:
  void load() {
    // Both headers first: a mismatch is reported before any data is decompressed.
    const IdxInfo hi = header(images_file_);
    const IdxInfo hl = header(labels_file_);
    SINEW_CHECK(
        hi.type == IdxType::UInt8 && hi.shape.size() == 3 && hi.shape[1] == 28 && hi.shape[2] == 28,
        where_, images_file_, ": expected ubyte images [N, 28, 28], got ", idx_type_name(hi.type),
        " ", hi.shape);
    SINEW_CHECK(hl.type == IdxType::UInt8 && hl.shape.size() == 1, where_, labels_file_,
                ": expected ubyte labels [N], got ", idx_type_name(hl.type), " ", hl.shape);
    const int64_t n = hi.shape[0];
    SINEW_CHECK(hl.shape[0] == n, where_, images_file_, " holds ", n, " images but ", labels_file_,
                " holds ", hl.shape[0], " labels");

    std::vector<unsigned char> bytes;
    detail::read_idx_bytes(labels_file_, bytes, where_);
    labels_ = empty<int64_t>({n});
    int64_t* lab = labels_.data_ptr();
    for (int64_t k = 0; k < n; ++k) {
      const unsigned char v = bytes[static_cast<size_t>(k)];
      SINEW_CHECK(size_t{v} < classes_->size(), where_, labels_file_, ": label ", k, " is ", int(v),
                  ", not in 0..", classes_->size() - 1);
      lab[k] = v;
    }

    detail::read_idx_bytes(images_file_, bytes, where_);
    images_ = empty<float>({n, 1, 28, 28});
    float* img = images_.data_ptr();
    const int64_t count = images_.numel();
    for (int64_t k = 0; k < count; ++k) img[k] = float(bytes[static_cast<size_t>(k)]) / 255.0f;
  }

  IdxInfo header(const std::string& file) const {
    detail::IdxStream s(file, where_);
    return detail::read_idx_header(s, file, where_);
  }

  std::string root_;
  MNISTOptions options_;
  const char* where_;
  const char* get_where_;
  const std::vector<std::string>* classes_;
  std::string images_file_;
  std::string labels_file_;
  Tensor<float> images_;
  Tensor<int64_t> labels_;
};

// Fashion-MNIST: Zalando's article images, the same format, sizes and split as MNIST, ten classes
// of clothing (classes() gives their names).
class FashionMNIST : public MNIST {
 public:
  explicit FashionMNIST(const std::string& root, FashionMNISTOptions options = {})
      : MNIST(root, options, "data::FashionMNIST", "data::FashionMNIST::get", "FashionMNIST",
              fashion_classes()) {}

 private:
  static const std::vector<std::string>& fashion_classes() {
    static const std::vector<std::string> names = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
  }
};

}  // namespace sinew::data
