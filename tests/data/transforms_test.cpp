// Tests of data/transforms.hpp on small images with hand-computed results: flips, crops with
// padding, rotations by multiples of 90 degrees, Normalize, the identity affine map, shifts,
// Compose's order, Lambda, determinism for a generator, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <sinew/data/transforms.hpp>
#include <sinew/sinew.hpp>

#include "test_util.hpp"

using namespace sinew;
using sinew::testing::values_are;
namespace T = sinew::data::transforms;

namespace {
namespace SINEW_UNITY_ID {

// [[1, 2, 3], [4, 5, 6], [7, 8, 9]] as a [1, 3, 3] image.
Tensor<float> nine() { return arange<float>(1, 10).reshape({1, 3, 3}); }

TEST(Transforms, HorizontalFlipMirrorsRows) {
  Generator g(0);
  EXPECT_TRUE(values_are(T::RandomHorizontalFlip(1.0)(nine(), g), {3, 2, 1, 6, 5, 4, 9, 8, 7}));
  EXPECT_TRUE(values_are(T::RandomHorizontalFlip(0.0)(nine(), g), {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // With p = 0.5 about half of the draws flip.
  T::RandomHorizontalFlip half;
  int flipped = 0;
  for (int k = 0; k < 200; ++k) flipped += half(nine(), g).at({0, 0, 0}) == 3.0f;
  EXPECT_GT(flipped, 70);
  EXPECT_LT(flipped, 130);
  // A non-contiguous input, and the input is left as it was.
  Tensor<float> x = arange<float>(1, 10).reshape({1, 3, 3}).transpose(1, 2);
  EXPECT_TRUE(values_are(T::RandomHorizontalFlip(1.0)(x, g), {7, 4, 1, 8, 5, 2, 9, 6, 3}));
  EXPECT_TRUE(values_are(x.contiguous(), {1, 4, 7, 2, 5, 8, 3, 6, 9}));
}

TEST(Transforms, CropWithPaddingAtAKnownOffset) {
  Generator g(1);
  // A 5 x 5 crop of the image padded by 1 fits at one place only: the padded image.
  EXPECT_TRUE(values_are(T::RandomCrop(5, 1)(nine(), g), {0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5,
                                                          6, 0, 0, 7, 8, 9, 0, 0, 0, 0, 0, 0}));
  // A 2 x 3 crop: the offset is (top, left) as drawn from the same generator state.
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Generator a(seed), b(seed);
    Tensor<float> out = T::RandomCrop({2, 3}, 1)(nine(), a);
    const int64_t top = b.randint(0, 4), left = b.randint(0, 3);
    ASSERT_EQ(out.shape(), Shape({1, 2, 3}));
    for (int64_t i = 0; i < 2; ++i) {
      for (int64_t j = 0; j < 3; ++j) {
        const int64_t y = top + i - 1, x = left + j - 1;
        const float expected = (y >= 0 && y < 3 && x >= 0 && x < 3) ? float(3 * y + x + 1) : 0.0f;
        EXPECT_EQ(out.at({0, i, j}), expected) << "seed " << seed;
      }
    }
  }
  // Without padding a full-size crop is the image.
  EXPECT_TRUE(T::RandomCrop(3)(nine(), g).equal(nine()));
  SINEW_EXPECT_ERROR(T::RandomCrop(4)(nine(), g), "data::transforms::RandomCrop",
                     "larger than the padded image (3, 3)");
  SINEW_EXPECT_ERROR(T::RandomCrop(3, -1), "padding must be >= 0, got -1");
}

TEST(Transforms, RotationByNinetyDegreesIsTransposeAndFlip) {
  Generator g(2);
  // Counter-clockwise: the right column becomes the top row.
  EXPECT_TRUE(values_are(T::RandomRotation(90, 90)(nine(), g), {3, 6, 9, 2, 5, 8, 1, 4, 7}));
  Tensor<float> x = rand<float>({2, 4, 4}, g);
  EXPECT_TRUE(T::RandomRotation(90, 90)(x, g).equal(x.transpose(1, 2).flip({1})));
  EXPECT_TRUE(T::RandomRotation(-90, -90)(x, g).equal(x.transpose(1, 2).flip({2})));
  EXPECT_TRUE(T::RandomRotation(180, 180)(x, g).equal(x.flip({1, 2})));
  EXPECT_TRUE(T::RandomRotation(0)(x, g).equal(x));
  // Any angle keeps the centre pixel of an odd-sized image; corners far outside become 0.
  Tensor<float> flat = ones<float>({1, 5, 5});
  Tensor<float> r = T::RandomRotation(45, 45)(flat, g);
  EXPECT_FLOAT_EQ(r.at({0, 2, 2}), 1.0f);
  EXPECT_LT(r.at({0, 0, 0}), 0.5f);
  // Angles are drawn from [-degrees, degrees].
  Tensor<float> line = zeros<float>({1, 5, 5});
  line.index_put_({0, 2, Slice()}, 1.0f);  // a horizontal line through the centre
  for (int k = 0; k < 10; ++k) {
    Tensor<float> out = T::RandomRotation(10)(line, g);
    EXPECT_NEAR(out.sum().item(), 5.0f, 1.0f);
  }
  SINEW_EXPECT_ERROR(T::RandomRotation(-1), "degrees must be >= 0");
}

TEST(Transforms, NormalizePerChannel) {
  Tensor<float> x = from_vector<float>({0.5f, 1.0f, 0.0f, 0.25f}, {2, 1, 2});
  T::Normalize n({0.5, 0.25}, {0.5, 0.25});
  EXPECT_TRUE(values_are(n(x), {0, 1, -1, 0}));
  Generator g(0);
  EXPECT_TRUE(values_are(T::Normalize({0.5}, {2})(x, g), {0, 0.25, -0.25, -0.125}));
  SINEW_EXPECT_ERROR(n(zeros<float>({3, 1, 1})), "data::transforms::Normalize",
                     "the image has 3 channels but mean has 2 values");
  SINEW_EXPECT_ERROR(T::Normalize({0}, {0}), "std[0] is 0");
  SINEW_EXPECT_ERROR(n(zeros<float>({2, 2})), "expected an image [C, H, W], got shape [2, 2]");
}

TEST(Transforms, AffineWithoutChangeIsTheIdentity) {
  Generator g(4);
  Tensor<float> x = rand<float>({3, 5, 7}, g);
  EXPECT_TRUE(T::RandomAffine(0, {0, 0}, {1, 1})(x, g).equal(x));
  EXPECT_TRUE(T::RandomAffine(0)(x, g).equal(x));
}

TEST(Transforms, AffineShiftMovesWholePixels) {
  Tensor<float> x = arange<float>(1, 7).reshape({1, 1, 6});
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Generator a(seed), b(seed);
    Tensor<float> out = T::RandomAffine(0, {0.5, 0})(x, a);
    b.uniform();  // the angle
    const auto tx = static_cast<int64_t>(std::round(-3 + 6 * b.uniform()));
    for (int64_t j = 0; j < 6; ++j) {
      const int64_t src = j - tx;
      EXPECT_EQ(out.at({0, 0, j}), src >= 0 && src < 6 ? float(src + 1) : 0.0f) << seed;
    }
  }
  // A scale of 2 about the centre of a 1 x 3 row: the centre stays, the sides sample halfway.
  Generator g(0);
  Tensor<float> row = from_vector<float>({2, 4, 8}, {1, 1, 3});
  EXPECT_TRUE(values_are(T::RandomAffine(0, {0, 0}, {2, 2})(row, g), {3, 4, 6}));
}

TEST(Transforms, ComposeAppliesInOrder) {
  T::Compose c{T::Lambda([](Tensor<float> x) { return x * 2.0f; }),
               T::Lambda([](Tensor<float> x, Generator&) { return x + 1.0f; })};
  EXPECT_EQ(c.size(), 2u);
  Generator g(0);
  EXPECT_TRUE(values_are(c(ones<float>({1, 1, 2}), g), {3, 3}));
  T::Compose empty_list{};
  EXPECT_TRUE(empty_list(nine(), g).equal(nine()));
  SINEW_EXPECT_ERROR(T::Compose(std::vector<T::TransformFn>{nullptr}), "transform 0 is empty");
}

TEST(Transforms, DeterministicForAGenerator) {
  T::Compose augment{T::RandomCrop(28, 2), T::RandomHorizontalFlip(),
                     T::RandomAffine(15, {0.1, 0.1}, {0.9, 1.1}), T::RandomRotation(10),
                     T::Normalize({0.286}, {0.353})};
  Generator data_gen(9);
  Tensor<float> image = rand<float>({1, 28, 28}, data_gen);
  Tensor<float> copy = image.clone();
  Generator a(5), b(5), c(6);
  Tensor<float> first = augment(image, a);
  EXPECT_TRUE(first.equal(augment(image, b)));
  EXPECT_FALSE(first.equal(augment(image, c)));
  EXPECT_EQ(first.shape(), Shape({1, 28, 28}));
  EXPECT_TRUE(image.equal(copy));  // the input is left as it was
}

}  // namespace SINEW_UNITY_ID
}  // namespace
