// Tests of data/mnist.hpp: the shared MNIST subset (24,345 training images) and the Debian
// Fashion-MNIST package when present, checked against bytes read here with zlib's own gz reader;
// small synthetic folders for the file lookup and every error.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <sinew/data/mnist.hpp>
#include <sinew/sinew.hpp>

#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace sinew;

namespace {
namespace SINEW_UNITY_ID {

const std::string mnist_dir = std::string(SINEW_SHARED_DATASETS_DIR) + "/mnist";
const std::string fashion_dir = "/usr/share/datasets/fashion-mnist";

// The first n decompressed bytes of a .gz file, through zlib's gz API (not Sinew's reader).
std::vector<unsigned char> gz_prefix(const std::string& path, unsigned n) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::vector<unsigned char> out(n);
  int got = f ? gzread(f, out.data(), n) : -1;
  if (f) gzclose(f);
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return out;
}

int64_t be32(const unsigned char* p) {
  return (int64_t(p[0]) << 24) | (int64_t(p[1]) << 16) | (int64_t(p[2]) << 8) | p[3];
}

// The whole-dataset checks, shared by MNIST and Fashion-MNIST.
template <class D>
void check_dataset(const D& ds, const std::string& dir, const std::string& prefix,
                   int64_t expected_count) {
  ASSERT_EQ(ds.size(), expected_count);
  EXPECT_EQ(ds.images().shape(), Shape({expected_count, 1, 28, 28}));
  EXPECT_EQ(ds.labels().shape(), Shape({expected_count}));
  const int64_t* lab = ds.labels().data_ptr();
  EXPECT_EQ(*std::min_element(lab, lab + expected_count), 0);
  EXPECT_EQ(*std::max_element(lab, lab + expected_count), 9);
  const float* img = ds.images().data_ptr();
  const auto [lo, hi] = std::minmax_element(img, img + ds.images().numel());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);

  // The first label and the first image, from the raw files: label byte 8, pixels from byte 16.
  auto labels = gz_prefix(dir + "/" + prefix + "-labels-idx1-ubyte.gz", 9);
  auto images = gz_prefix(dir + "/" + prefix + "-images-idx3-ubyte.gz", 16 + 784);
  ASSERT_EQ(labels.size(), 9u);
  ASSERT_EQ(images.size(), 16u + 784u);
  EXPECT_EQ(be32(labels.data() + 4), expected_count);
  EXPECT_EQ(be32(images.data() + 4), expected_count);
  data::Example<> first = ds.get(0);
  EXPECT_EQ(first.data.shape(), Shape({1, 28, 28}));
  EXPECT_EQ(first.target.dim(), 0);
  EXPECT_EQ(first.target.item(), int64_t(labels[8]));
  std::vector<float> pixels = first.data.to_vector();
  for (size_t k = 0; k < 784; ++k) {
    ASSERT_EQ(pixels[k], float(images[16 + k]) / 255.0f) << "pixel " << k;
  }
  // get(i) is row i of the whole tensors.
  const int64_t last = expected_count - 1;
  EXPECT_EQ(ds.get(last).target.item(), lab[last]);
  EXPECT_TRUE(ds.get(last).data.equal(ds.images().select(0, last)));
  SINEW_EXPECT_ERROR(ds.get(expected_count), "get", std::to_string(expected_count));
}

// Loaded once per suite: decompressing is the slow part.
class SharedMnist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(mnist_dir + "/train-images-idx3-ubyte.gz")) return;
    train_ = std::make_unique<data::MNIST>(mnist_dir);
    test_ = std::make_unique<data::MNIST>(mnist_dir, data::MNISTOptions{.train = false});
  }
  static void TearDownTestSuite() {
    train_.reset();
    test_.reset();
  }
  void SetUp() override {
    if (!train_) GTEST_SKIP() << "no MNIST in " << mnist_dir;
  }
  static inline std::unique_ptr<data::MNIST> train_;
  static inline std::unique_ptr<data::MNIST> test_;
};

TEST_F(SharedMnist, TrainingSubsetTakesItsCountFromTheHeader) {
  check_dataset(*train_, mnist_dir, "train", 24345);
  EXPECT_TRUE(train_->train());
  EXPECT_EQ(train_->classes(),
            (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
}

TEST_F(SharedMnist, TestSetHasTenThousandImages) {
  check_dataset(*test_, mnist_dir, "t10k", 10000);
  EXPECT_FALSE(test_->train());
  EXPECT_EQ(test_->images_file(), mnist_dir + "/t10k-images-idx3-ubyte.gz");
}

class SharedFashionMnist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(fashion_dir + "/train-images-idx3-ubyte.gz")) return;
    train_ = std::make_unique<data::FashionMNIST>(fashion_dir);
    test_ = std::make_unique<data::FashionMNIST>(fashion_dir,
                                                 data::FashionMNISTOptions{.train = false});
  }
  static void TearDownTestSuite() {
    train_.reset();
    test_.reset();
  }
  void SetUp() override {
    if (!train_) GTEST_SKIP() << "no Fashion-MNIST in " << fashion_dir;
  }
  static inline std::unique_ptr<data::FashionMNIST> train_;
  static inline std::unique_ptr<data::FashionMNIST> test_;
};

TEST_F(SharedFashionMnist, FullTrainingAndTestSets) {
  check_dataset(*train_, fashion_dir, "train", 60000);
  check_dataset(*test_, fashion_dir, "t10k", 10000);
  EXPECT_EQ(train_->classes(),
            (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}));
  const data::MNIST& as_base = *train_;  // the names belong to the object, not the static type
  EXPECT_EQ(as_base.classes()[9], "Ankle boot");
}

// ---- synthetic folders
// ---------------------------------------------------------------------------

class MnistFiles : public sinew::testing::TempDirTest {
 protected:
  static std::vector<unsigned char> header(int code, const std::vector<uint32_t>& dims) {
    std::vector<unsigned char> b = {0, 0, static_cast<unsigned char>(code),
                                    static_cast<unsigned char>(dims.size())};
    for (uint32_t d : dims) {
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
    }
    return b;
  }
  static void write(const fs::path& p, std::vector<unsigned char> bytes, bool gz) {
    fs::create_directories(p.parent_path());
    if (gz) {
      gzFile f = gzopen((p.string() + ".gz").c_str(), "wb");
      ASSERT_NE(f, nullptr);
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(p, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
  }
  // n images of 28 x 28 (image k's pixels all k * 50 + pixel % 3) and their labels.
  void write_set(const fs::path& folder, const std::string& prefix, int64_t n_images,
                 const std::vector<unsigned char>& labels, bool gz,
                 std::vector<uint32_t> image_dims = {}) {
    if (image_dims.empty()) image_dims = {uint32_t(n_images), 28, 28};
    auto img = header(0x08, image_dims);
    for (int64_t k = 0; k < n_images; ++k) {
      for (int p = 0; p < 784; ++p) img.push_back(static_cast<unsigned char>(k * 50 + p % 3));
    }
    write(folder / (prefix + "-images-idx3-ubyte"), img, gz);
    auto lab = header(0x08, {uint32_t(labels.size())});
    lab.insert(lab.end(), labels.begin(), labels.end());
    write(folder / (prefix + "-labels-idx1-ubyte"), lab, gz);
  }
};

TEST_F(MnistFiles, ReadsPlainFilesScaledToUnitRange) {
  write_set(dir_, "t10k", 3, {7, 0, 9}, false);
  data::MNIST ds(dir_.string(), {.train = false});
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.images().shape(), Shape({3, 1, 28, 28}));
  EXPECT_TRUE(sinew::testing::values_are(ds.labels(), {7, 0, 9}));
  EXPECT_EQ(ds.get(2).data.at({0, 0, 0}), 100.0f / 255.0f);
  EXPECT_EQ(ds.get(2).data.at({0, 0, 2}), 102.0f / 255.0f);
  SINEW_EXPECT_ERROR(ds.get(3), "data::MNIST", "index 3", "size 3");
}

TEST_F(MnistFiles, FindsTorchvisionsRawFolder) {
  write_set(dir_ / "FashionMNIST" / "raw", "train", 2, {1, 2}, true);
  data::FashionMNIST ds(dir_.string());
  EXPECT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.classes()[1], "Trouser");
}

TEST_F(MnistFiles, MissingFilesNameTheFolderAndTheNamesTried) {
  const std::string root = dir_.string();
  SINEW_EXPECT_ERROR(data::MNIST m(root), "data::MNIST", root, "train-images-idx3-ubyte",
                     "train-images-idx3-ubyte.gz");
  write_set(dir_, "train", 2, {1, 2}, true);
  fs::remove(dir_ / "train-labels-idx1-ubyte.gz");
  SINEW_EXPECT_ERROR(data::FashionMNIST m(root), "data::FashionMNIST", root,
                     "train-labels-idx1-ubyte.gz");
  SINEW_EXPECT_ERROR(data::MNIST m(root + "/nowhere"), "nowhere", "not a folder");
}

TEST_F(MnistFiles, RejectsCountsThatDisagree) {
  write_set(dir_, "train", 2, {1, 2, 3}, false);
  SINEW_EXPECT_ERROR(data::MNIST m(dir_.string()), "data::MNIST", "holds 2 images", "3 labels");
}

TEST_F(MnistFiles, RejectsLabelsOutsideTheClasses) {
  write_set(dir_, "train", 2, {3, 10}, true);
  SINEW_EXPECT_ERROR(data::MNIST m(dir_.string()), "train-labels-idx1-ubyte.gz", "label 1 is 10");
}

TEST_F(MnistFiles, RejectsImagesOfAnotherShape) {
  write_set(dir_, "train", 0, {}, false, {0, 27, 28});
  SINEW_EXPECT_ERROR(data::MNIST m(dir_.string()), "expected ubyte images [N, 28, 28]",
                     "[0, 27, 28]");
}

TEST_F(MnistFiles, RejectsATruncatedImageFile) {
  write_set(dir_, "train", 2, {1, 2}, true);
  fs::path images = dir_ / "train-images-idx3-ubyte.gz";
  fs::resize_file(images, fs::file_size(images) - 20);
  SINEW_EXPECT_ERROR(data::MNIST m(dir_.string()), "data::MNIST", images.string(), "truncated");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
