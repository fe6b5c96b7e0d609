// The pooled CPU allocator: size classes, block reuse, alignment and empty_cache.
#include <cstdint>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

using backend::cpu::PooledAllocator;

bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

TEST(Allocator, SizeClassesAreMonotonicAndWasteUnderAQuarter) {
  std::size_t prev_class = 0, prev_rounded = 64;  // class 0 holds blocks up to 64 bytes
  for (std::size_t n = 1; n <= (std::size_t(1) << 22); n += n < 4096 ? 1 : n / 97) {
    std::size_t rounded = 0;
    std::size_t c = PooledAllocator::size_class(n, &rounded);
    ASSERT_GE(rounded, n) << "n = " << n;
    ASSERT_GE(c, prev_class) << "n = " << n;
    ASSERT_GE(rounded, prev_rounded) << "n = " << n;
    if (n > 64) {
      ASSERT_LE(rounded * 4, n * 5) << "n = " << n;  // rounded <= 1.25 n
    }
    // Blocks of one class all have the same rounded size.
    if (c == prev_class) {
      ASSERT_EQ(rounded, prev_rounded) << "n = " << n;
    }
    prev_class = c;
    prev_rounded = rounded;
  }
  std::size_t r = 0;
  EXPECT_EQ(PooledAllocator::size_class(1, &r), 0u);
  EXPECT_EQ(r, 64u);
  EXPECT_EQ(PooledAllocator::size_class(64, &r), 0u);
  EXPECT_NE(PooledAllocator::size_class(65, &r), 0u);
  EXPECT_EQ(r, 80u);
  // The largest pooled size still fits the class table.
  EXPECT_LT(PooledAllocator::size_class(PooledAllocator::kMaxPooledBytes, &r), 4u * 64u);
  EXPECT_EQ(r, PooledAllocator::kMaxPooledBytes);
}

TEST(Allocator, ReusesAFreedBlockOfTheSameSizeClass) {
  auto& a = PooledAllocator::instance();
  std::size_t r1 = 0, r2 = 0;
  ASSERT_EQ(PooledAllocator::size_class(1000, &r1), PooledAllocator::size_class(1010, &r2));
  void* p = a.allocate(1000);
  a.deallocate(p, 1000);
  void* q = a.allocate(1010);  // same class: gets the cached block back
  EXPECT_EQ(q, p);
  a.deallocate(q, 1010);
  void* big = a.allocate(5000);  // another class: not that block
  EXPECT_NE(big, p);
  a.deallocate(big, 5000);
}

TEST(Allocator, TensorStorageIsRecycled) {
  const void* first = nullptr;
  {
    Tensor<float> t = zeros({37, 11});
    first = t.data_ptr();
  }
  Tensor<float> u = ones({37, 11});
  EXPECT_EQ(static_cast<const void*>(u.data_ptr()), first);
  EXPECT_TRUE(sinew::testing::values_are(u.sum(), {37.0 * 11.0}));
}

TEST(Allocator, BlocksAre64ByteAligned) {
  auto& a = PooledAllocator::instance();
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t n : {0, 1, 3, 63, 64, 65, 100, 1000, 4097, 100000, 1 << 20}) {
    void* p = a.allocate(n);
    EXPECT_TRUE(aligned64(p)) << "size " << n;
    blocks.emplace_back(p, n);
  }
  for (auto [p, n] : blocks) a.deallocate(p, n);
  EXPECT_TRUE(aligned64(zeros({3}).data_ptr()));
  EXPECT_TRUE(aligned64(zeros<double>({513}).data_ptr()));
  a.deallocate(nullptr, 10);  // a no-op
}

TEST(Allocator, EmptyCacheReleasesEveryCachedBlock) {
  auto& a = PooledAllocator::instance();
  void* p = a.allocate(2048);
  a.deallocate(p, 2048);
  EXPECT_GE(a.cached_bytes(), 2048u);
  backend::cpu::empty_cache();
  EXPECT_EQ(a.cached_bytes(), 0u);
  // Allocation works after emptying.
  void* q = a.allocate(2048);
  EXPECT_TRUE(aligned64(q));
  a.deallocate(q, 2048);
  EXPECT_GE(a.cached_bytes(), 2048u);
  backend::cpu::empty_cache();
}

TEST(Allocator, ManyAllocFreeCyclesKeepTheCacheBounded) {
  auto& a = PooledAllocator::instance();
  backend::cpu::empty_cache();
  std::size_t peak = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<std::pair<void*, std::size_t>> live;
    for (std::size_t k = 0; k < 20; ++k) {
      std::size_t n = 64 + (k * 997 + static_cast<std::size_t>(round) * 31) % 20000;
      void* p = a.allocate(n);
      ASSERT_TRUE(aligned64(p));
      static_cast<unsigned char*>(p)[n - 1] = 1;  // the block is usable to its last byte
      live.emplace_back(p, n);
    }
    for (auto [p, n] : live) a.deallocate(p, n);
    peak = std::max(peak, a.cached_bytes());
  }
  // Reuse keeps the cache near one round's worth of blocks (20 blocks of at most ~25 KB).
  EXPECT_LT(peak, 20u * 25000u * 2u);
  // The same through tensors: temporaries in a loop.
  Tensor<double> acc = zeros<double>({64});
  for (int i = 0; i < 500; ++i) acc = acc + ones<double>({64}) * 2.0;
  EXPECT_EQ(acc.at({0}), 1000.0);
  backend::cpu::empty_cache();
  EXPECT_EQ(a.cached_bytes(), 0u);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
