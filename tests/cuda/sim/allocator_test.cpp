// The caching allocator's policy over a fake memory source that hands out host memory, records
// every call and runs out on demand.
#include "sinew/backend/cuda/allocator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {
namespace SINEW_UNITY_ID {

using sinew::backend::cuda::CachingAllocator;
using sinew::backend::cuda::CachingAllocatorOptions;
using sinew::backend::cuda::PinnedHostPool;
using sinew::backend::cuda::RawSource;
using sinew::backend::cuda::SegmentSnapshot;

constexpr std::size_t KiB = 1024, MiB = 1024 * 1024;

class FakeSource : public RawSource {
 public:
  std::size_t capacity = std::size_t{1} << 40;  // allocate fails beyond this many bytes in use
  int fail_next = 0;                            // the next this many allocate calls fail
  bool report_mem_info = true;
  std::vector<std::size_t> alloc_calls;  // every allocate call's size, failed ones included
  std::vector<void*> free_calls;
  std::map<const void*, std::size_t> live;
  std::size_t used = 0;

  FakeSource() = default;
  FakeSource(const FakeSource&) = delete;
  FakeSource& operator=(const FakeSource&) = delete;
  ~FakeSource() override {
    for (auto& [p, size] : live) std::free(const_cast<void*>(p));
  }

  void* allocate(std::size_t bytes) override {
    alloc_calls.push_back(bytes);
    if (fail_next > 0) {
      --fail_next;
      return nullptr;
    }
    if (bytes > capacity - used) return nullptr;
    void* p = std::aligned_alloc(512, (bytes + 511) / 512 * 512);
    if (p == nullptr) ADD_FAILURE() << "host aligned_alloc of " << bytes << " bytes failed";
    live[p] = bytes;
    used += bytes;
    return p;
  }
  void free(void* p) override {
    free_calls.push_back(p);
    auto it = live.find(p);
    if (it == live.end()) {
      ADD_FAILURE() << "free of " << p << ", which the source did not hand out";
      return;
    }
    used -= it->second;
    live.erase(it);
    std::free(p);
  }
  bool mem_info(std::size_t* free_bytes, std::size_t* total_bytes) override {
    if (!report_mem_info) return false;
    *free_bytes = capacity - used;
    *total_bytes = capacity;
    return true;
  }
};

char* at(void* p, std::size_t offset) { return static_cast<char*>(p) + offset; }

// What the test knows about a live block: its request and stream.
struct Live {
  std::size_t requested;
  std::uintptr_t stream;
  unsigned char tag;
};

std::size_t round512(std::size_t n) { return n < 512 ? 512 : (n + 511) / 512 * 512; }

// Checks the allocator's segments and statistics against the source's records and the test's
// own list of live blocks.
void check_invariants(const CachingAllocator& a, const FakeSource& src,
                      const std::map<void*, Live>& live) {
  const std::vector<SegmentSnapshot> segs = a.snapshot();
  const auto stats = a.stats();
  const std::size_t max_split = a.options().max_split_size;
  ASSERT_EQ(segs.size(), src.live.size()) << "every segment is a live source allocation";
  std::size_t reserved = 0, allocated = 0, active = 0;
  std::map<const void*, const SegmentSnapshot::Block*> blocks;
  std::map<const void*, const SegmentSnapshot*> segment_of;
  for (const SegmentSnapshot& s : segs) {
    auto it = src.live.find(s.ptr);
    ASSERT_NE(it, src.live.end()) << "segment " << s.ptr << " not from the source";
    ASSERT_EQ(it->second, s.size) << "segment size differs from the source allocation";
    if (s.small_pool) {
      EXPECT_EQ(s.size, 2 * MiB);
    }
    reserved += s.size;
    ASSERT_FALSE(s.blocks.empty());
    const char* expect = static_cast<const char*>(s.ptr);
    bool prev_free = false;
    for (std::size_t i = 0; i < s.blocks.size(); ++i) {
      const auto& b = s.blocks[i];
      ASSERT_EQ(b.ptr, expect) << "blocks tile their segment without gaps or overlaps";
      ASSERT_GT(b.size, 0u);
      ASSERT_EQ(b.size % 512, 0u);
      if (s.small_pool) {
        EXPECT_LE(b.size, 2 * MiB);
      }
      expect += b.size;
      EXPECT_FALSE(prev_free && !b.allocated) << "two neighbouring free blocks were not merged";
      prev_free = !b.allocated;
      if (b.allocated) {
        allocated += b.size;
        ++active;
        blocks[b.ptr] = &b;
        segment_of[b.ptr] = &s;
      }
    }
    ASSERT_EQ(expect, static_cast<const char*>(s.ptr) + s.size);
  }
  EXPECT_EQ(reserved, stats.reserved);
  EXPECT_EQ(reserved, src.used);
  EXPECT_EQ(allocated, stats.allocated);
  EXPECT_EQ(active, stats.active_blocks);
  ASSERT_EQ(blocks.size(), live.size()) << "allocated blocks are exactly the live ones";
  std::size_t live_sum = 0;
  for (const auto& [p, info] : live) {
    auto it = blocks.find(p);
    ASSERT_NE(it, blocks.end()) << "live block " << p << " not allocated in any segment";
    const std::size_t size = it->second->size, rounded = round512(info.requested);
    const SegmentSnapshot& seg = *segment_of[p];
    EXPECT_EQ(seg.stream, info.stream) << "block served from another stream's segment";
    EXPECT_EQ(seg.small_pool, rounded <= MiB);
    EXPECT_GE(size, rounded);
    if (seg.small_pool) {
      EXPECT_LT(size - rounded, 512u);
    } else if (rounded < max_split) {
      EXPECT_LE(size - rounded, MiB);
    } else {
      EXPECT_LT(size - rounded, 20 * MiB);
    }
    EXPECT_EQ(a.block_size(p), size);
    live_sum += size;
  }
  EXPECT_EQ(live_sum, stats.allocated);
}

TEST(CachingAllocator, RoundsSmallRequestsTo512BytesFromTwoMiBSegments) {
  FakeSource src;
  CachingAllocator a(src);
  void* p1 = a.allocate(1);
  void* p2 = a.allocate(1000);
  void* p3 = a.allocate(1025);
  void* p4 = a.allocate(MiB);  // still the small pool, and still fits the first segment
  EXPECT_EQ(a.block_size(p1), 512u);
  EXPECT_EQ(a.block_size(p2), 1024u);
  EXPECT_EQ(a.block_size(p3), 1536u);
  EXPECT_EQ(a.block_size(p4), MiB);
  EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{2 * MiB}));
  EXPECT_EQ(at(p2, 0), at(p1, 512));
  EXPECT_EQ(at(p3, 0), at(p2, 1024));
  EXPECT_EQ(at(p4, 0), at(p3, 1536));
  EXPECT_EQ(a.memory_allocated(), 512 + 1024 + 1536 + MiB);
  EXPECT_EQ(a.memory_reserved(), 2 * MiB);
  auto segs = a.snapshot();
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_TRUE(segs[0].small_pool);
  // Another MiB does not fit the rest (1 MiB - 3 KiB): a second small segment.
  void* p5 = a.allocate(MiB);
  EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{2 * MiB, 2 * MiB}));
  EXPECT_EQ(a.allocate(0), nullptr);
  for (void* p : {p1, p2, p3, p4, p5}) a.free(p);
  a.free(nullptr);
  EXPECT_EQ(a.memory_allocated(), 0u);
}

TEST(CachingAllocator, LargeRequestsGetTwentyMiBOrTwoMiBRoundedSegments) {
  {
    FakeSource src;
    CachingAllocator a(src);
    void* p = a.allocate(MiB + 1);  // above 1 MiB: large pool, 20 MiB segment, split
    EXPECT_EQ(a.block_size(p), MiB + 512);
    EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{20 * MiB}));
    auto segs = a.snapshot();
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_FALSE(segs[0].small_pool);
    ASSERT_EQ(segs[0].blocks.size(), 2u);
    EXPECT_EQ(segs[0].blocks[1].size, 19 * MiB - 512);
    void* q = a.allocate(9 * MiB);  // carved from the same segment's rest
    EXPECT_EQ(q, at(p, MiB + 512));
    EXPECT_EQ(src.alloc_calls.size(), 1u);
    a.free(p);
    a.free(q);
  }
  {
    FakeSource src;
    CachingAllocator a(src);
    void* p = a.allocate(12 * MiB + 1);  // 10 MiB or more: the segment is rounded to 2 MiB
    EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{14 * MiB}));
    EXPECT_EQ(a.block_size(p), 12 * MiB + 512);  // rest 2 MiB - 512 > 1 MiB: split off
    EXPECT_EQ(a.snapshot()[0].blocks.size(), 2u);
    a.free(p);
  }
  {
    FakeSource src;
    CachingAllocator a(src);
    void* p = a.allocate(11 * MiB);  // 12 MiB segment; a rest of exactly 1 MiB is not split
    EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{12 * MiB}));
    EXPECT_EQ(a.block_size(p), 12 * MiB);
    EXPECT_EQ(a.memory_allocated(), 12 * MiB);
    EXPECT_EQ(a.snapshot()[0].blocks.size(), 1u);
    a.free(p);
  }
}

TEST(CachingAllocator, SmallPoolSplitsRestsOfAtLeast512Bytes) {
  FakeSource src;
  CachingAllocator a(src);
  // Fill a 2 MiB segment but for its last 512 bytes, which stay a free block of their own.
  void* big = a.allocate(MiB);
  void* mid = a.allocate(MiB - 1024);
  void* last = a.allocate(512);  // rest 512 after it
  EXPECT_EQ(a.block_size(last), 512u);
  EXPECT_EQ(a.snapshot()[0].blocks.size(), 4u);
  void* tail = a.allocate(1);  // takes the final 512 exactly
  EXPECT_EQ(tail, at(last, 512));
  EXPECT_EQ(a.snapshot()[0].blocks.size(), 4u);
  EXPECT_EQ(src.alloc_calls.size(), 1u);
  for (void* p : {big, mid, last, tail}) a.free(p);
  // A small request into a free 1536-byte gap leaves a 512-byte free rest.
  void* x = a.allocate(512);
  void* y = a.allocate(1536);
  void* z = a.allocate(512);
  a.free(y);
  void* w = a.allocate(1024);
  EXPECT_EQ(w, y);
  EXPECT_EQ(a.block_size(w), 1024u);
  // 1536 - 1024 = 512 remains free between w and z; a request of 512 lands there.
  void* v = a.allocate(100);
  EXPECT_EQ(v, at(w, 1024));
  for (void* p : {x, z, w, v}) a.free(p);
}

TEST(CachingAllocator, ReusesAFreedBlockWithoutARawAllocation) {
  FakeSource src;
  CachingAllocator a(src);
  void* p = a.allocate(3000);
  void* big = a.allocate(5 * MiB);
  EXPECT_EQ(src.alloc_calls.size(), 2u);
  a.free(p);
  a.free(big);
  void* p2 = a.allocate(2800);  // same rounded size (3072)
  void* big2 = a.allocate(5 * MiB - 1000);
  EXPECT_EQ(p2, p);
  EXPECT_EQ(big2, big);
  EXPECT_EQ(src.alloc_calls.size(), 2u);
  EXPECT_EQ(a.raw_alloc_count(), 2u);
  EXPECT_TRUE(src.free_calls.empty());
  a.free(p2);
  a.free(big2);
}

TEST(CachingAllocator, SplitsAndMergesNeighboursIntoOneFreeSegment) {
  FakeSource src;
  CachingAllocator a(src);
  void* x = a.allocate(1000);
  void* y = a.allocate(1000);
  void* z = a.allocate(1000);
  ASSERT_EQ(y, at(x, 1024));
  ASSERT_EQ(z, at(y, 1024));
  auto blocks = [&] { return a.snapshot().at(0).blocks; };
  ASSERT_EQ(blocks().size(), 4u);  // x, y, z and the free rest
  EXPECT_FALSE(blocks()[3].allocated);
  EXPECT_EQ(blocks()[3].size, 2 * MiB - 3072);

  a.free(y);  // between two live blocks: nothing to merge
  auto b = blocks();
  ASSERT_EQ(b.size(), 4u);
  EXPECT_TRUE(b[0].allocated);
  EXPECT_FALSE(b[1].allocated);
  EXPECT_TRUE(b[2].allocated);
  a.free(x);  // merges with y
  b = blocks();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_FALSE(b[0].allocated);
  EXPECT_EQ(b[0].size, 2048u);
  EXPECT_EQ(b[0].ptr, x);
  a.free(z);  // merges with both sides: the segment is one free block
  b = blocks();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_FALSE(b[0].allocated);
  EXPECT_EQ(b[0].size, 2 * MiB);

  EXPECT_EQ(a.memory_reserved(), 2 * MiB);
  a.empty_cache();
  EXPECT_EQ(src.free_calls, (std::vector<void*>{x}));
  EXPECT_EQ(a.memory_reserved(), 0u);
  EXPECT_TRUE(src.live.empty());
}

TEST(CachingAllocator, EmptyCacheKeepsSegmentsInUse) {
  FakeSource src;
  CachingAllocator a(src);
  void* small = a.allocate(100);
  void* large = a.allocate(3 * MiB);
  void* gone = a.allocate(30 * MiB);
  a.free(gone);
  a.free(small);
  a.empty_cache();  // small's and gone's segments are free; large's is in use
  EXPECT_EQ(src.free_calls.size(), 2u);
  EXPECT_EQ(a.memory_reserved(), 20 * MiB);
  ASSERT_EQ(src.live.size(), 1u);
  EXPECT_EQ(src.live.begin()->first, large);
  a.free(large);
  a.empty_cache();
  EXPECT_TRUE(src.live.empty());
}

TEST(CachingAllocator, BestFitTakesTheSmallestFreeBlockThenTheLowestAddress) {
  FakeSource src;
  CachingAllocator a(src);
  // Free blocks of 4 KiB, 2 KiB, 3 KiB and 2 KiB kept apart by live 512-byte separators.
  std::vector<void*> gaps, seps;
  for (std::size_t size : {4 * KiB, 2 * KiB, 3 * KiB, 2 * KiB}) {
    gaps.push_back(a.allocate(size));
    seps.push_back(a.allocate(512));
  }
  for (void* g : gaps) a.free(g);
  EXPECT_EQ(a.allocate(1500), gaps[1]);         // 2 KiB blocks fit best, the lower address first
  EXPECT_EQ(a.allocate(2 * KiB), gaps[3]);      // then the other 2 KiB one
  EXPECT_EQ(a.allocate(2 * KiB + 1), gaps[2]);  // 3 KiB next
  EXPECT_EQ(a.allocate(3 * KiB), gaps[0]);      // 4 KiB (split: 1 KiB stays free)
  EXPECT_EQ(a.allocate(KiB), at(gaps[0], 3 * KiB));
  EXPECT_EQ(src.alloc_calls.size(), 1u);
}

TEST(CachingAllocator, BlocksServeOnlyTheirOwnStream) {
  FakeSource src;
  CachingAllocator a(src);
  const std::uintptr_t s1 = 0x1000, s2 = 0x2000;
  void* p = a.allocate(4096, s1);
  a.free(p);
  void* q = a.allocate(4096, s2);  // s1's cached block is not used: a new segment for s2
  EXPECT_NE(q, p);
  EXPECT_EQ(src.alloc_calls.size(), 2u);
  void* r = a.allocate(4096, s1);
  EXPECT_EQ(r, p);
  EXPECT_EQ(src.alloc_calls.size(), 2u);
  auto segs = a.snapshot();
  ASSERT_EQ(segs.size(), 2u);
  for (const auto& s : segs) EXPECT_EQ(s.stream, s.ptr == p ? s1 : s2);
  // And the other way round: s2's cached block does not serve a lower stream id.
  a.free(q);
  void* q0 = a.allocate(4096, 0);
  EXPECT_NE(q0, q);
  EXPECT_EQ(src.alloc_calls.size(), 3u);
  EXPECT_EQ(a.allocate(4096, s2), q);
  a.free(q0);
  // The same holds in the large pool.
  void* l1 = a.allocate(4 * MiB, s1);
  a.free(l1);
  void* l2 = a.allocate(4 * MiB, s2);
  EXPECT_NE(l2, l1);
  EXPECT_EQ(src.alloc_calls.size(), 5u);
  for (void* x : {q, r, l2}) a.free(x);
}

TEST(CachingAllocator, OversizeBlocksAreNotSplitNorGivenToSmallerRequests) {
  FakeSource src;
  CachingAllocator a(src, {.name = "cuda:0", .max_split_size = 8 * MiB});
  void* p = a.allocate(8 * MiB);  // >= max_split_size: the 20 MiB segment is not split
  EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{20 * MiB}));
  EXPECT_EQ(a.block_size(p), 20 * MiB);
  a.free(p);
  void* r = a.allocate(9 * MiB);  // >= max_split_size and the block < 9 + 20 MiB: used whole
  EXPECT_EQ(r, p);
  EXPECT_EQ(a.block_size(r), 20 * MiB);
  a.free(r);
  void* q = a.allocate(2 * MiB);  // below max_split_size: the cached oversize block is not used
  EXPECT_NE(q, p);
  EXPECT_EQ(src.alloc_calls.size(), 2u);
  EXPECT_EQ(a.block_size(q), 2 * MiB);  // an ordinary segment, split as usual
  a.free(q);
  a.empty_cache();
  void* big = a.allocate(40 * MiB);
  a.free(big);
  void* s = a.allocate(16 * MiB);  // 40 >= 16 + 20 MiB: too much bigger, a new segment
  EXPECT_NE(s, big);
  EXPECT_EQ(src.alloc_calls.back(), 16 * MiB);
  a.free(s);
}

TEST(CachingAllocator, DefaultMaxSplitSizeIs200MiB) {
  FakeSource src;  // segments are never touched, so the host only reserves address space
  CachingAllocator a(src);
  EXPECT_EQ(a.options().max_split_size, 200 * MiB);
  void* below = a.allocate(197 * MiB);  // 198 MiB segment, a rest of 1 MiB: not split
  EXPECT_EQ(a.block_size(below), 198 * MiB);
  void* at_limit = a.allocate(200 * MiB + 1);
  EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{198 * MiB, 202 * MiB}));
  EXPECT_EQ(a.block_size(at_limit), 202 * MiB);  // rest 2 MiB - 512, but oversize: not split
  a.free(below);
  a.free(at_limit);
  void* small = a.allocate(150 * MiB);  // the cached 198 MiB block is below max_split: split
  EXPECT_EQ(small, below);
  EXPECT_EQ(a.block_size(small), 150 * MiB);
  void* other = a.allocate(100 * MiB);  // the 202 MiB block is oversize: not for this request
  EXPECT_EQ(src.alloc_calls.size(), 3u);
  a.free(small);
  a.free(other);
}

TEST(CachingAllocator, OutOfMemoryReleasesCachedSegmentsAndRetriesOnce) {
  FakeSource src;
  src.capacity = 21 * MiB;
  CachingAllocator a(src);
  void* s = a.allocate(100);  // a 2 MiB small segment, then cached
  a.free(s);
  void* l = a.allocate(3 * MiB);  // needs 20 MiB: 22 > 21 until the small segment is released
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{2 * MiB, 20 * MiB, 20 * MiB}));
  EXPECT_EQ(src.free_calls, (std::vector<void*>{s}));
  EXPECT_EQ(a.stats().oom_retries, 1u);
  EXPECT_EQ(a.memory_reserved(), 20 * MiB);
  a.free(l);

  // Another stream's request: l's cached segment cannot serve it but is released to make room.
  void* t = a.allocate(MiB + 1, 7);
  EXPECT_NE(t, nullptr);
  EXPECT_EQ(src.free_calls.size(), 2u);  // l's segment was released to make room
  a.free(t);
}

TEST(CachingAllocator, OutOfMemoryWithNothingCachedRaisesErrorWithTheFigures) {
  FakeSource src;
  src.capacity = 4 * MiB;
  CachingAllocator a(src, {.name = "cuda:0"});
  void* held = a.allocate(1000);  // keeps the only (small) segment in use
  try {
    a.allocate(5 * MiB);
    FAIL() << "expected sinew::Error";
  } catch (const sinew::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cuda allocator (cuda:0)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find("allocate 5242880 bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("5.00 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("4194304 bytes (4.00 MiB) total, 2097152 bytes (2.00 MiB) free"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("1024 bytes (0.00 MiB) allocated"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2097152 bytes (2.00 MiB) reserved"), std::string::npos) << msg;
    EXPECT_NE(msg.find("of which 2096128 bytes (2.00 MiB) are cached"), std::string::npos) << msg;
  }
  // Nothing was cached, so there was no retry; the state is unchanged.
  EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{2 * MiB, 20 * MiB}));
  EXPECT_EQ(a.stats().ooms, 1u);
  EXPECT_EQ(a.stats().oom_retries, 0u);
  EXPECT_EQ(a.memory_allocated(), 1024u);
  EXPECT_EQ(a.memory_reserved(), 2 * MiB);

  // Without mem_info the message says the free memory is unknown.
  src.report_mem_info = false;
  src.fail_next = 1;
  try {
    a.allocate(2 * MiB);
    FAIL() << "expected sinew::Error";
  } catch (const sinew::Error& e) {
    EXPECT_NE(std::string(e.what()).find("free memory of cuda:0 unknown"), std::string::npos)
        << e.what();
  }
  a.free(held);
}

TEST(CachingAllocator, StatisticsFollowASequence) {
  FakeSource src;
  CachingAllocator a(src);
  void* p = a.allocate(100);      // 512, segment 2 MiB
  void* q = a.allocate(5 * MiB);  // 5 MiB, segment 20 MiB
  EXPECT_EQ(a.memory_allocated(), 512 + 5 * MiB);
  EXPECT_EQ(a.memory_reserved(), 22 * MiB);
  a.free(q);
  EXPECT_EQ(a.memory_allocated(), 512u);
  EXPECT_EQ(a.max_memory_allocated(), 512 + 5 * MiB);
  void* r = a.allocate(600);  // 1024
  EXPECT_EQ(a.memory_allocated(), 1536u);
  a.reset_peak_memory_stats();
  EXPECT_EQ(a.max_memory_allocated(), 1536u);
  EXPECT_EQ(a.max_memory_reserved(), 22 * MiB);
  a.free(p);
  a.empty_cache();  // r keeps the small segment; the large one goes
  EXPECT_EQ(a.memory_reserved(), 2 * MiB);
  EXPECT_EQ(a.max_memory_reserved(), 22 * MiB);
  auto s = a.stats();
  EXPECT_EQ(s.raw_allocs, 2u);
  EXPECT_EQ(s.raw_frees, 1u);
  EXPECT_EQ(s.active_blocks, 1u);
  EXPECT_EQ(s.segments, 1u);
  a.free(r);
  EXPECT_EQ(a.memory_allocated(), 0u);
  EXPECT_EQ(a.max_memory_allocated(), 1536u);
}

TEST(CachingAllocator, RejectsFreeOfAPointerItDidNotHandOut) {
  FakeSource src;
  CachingAllocator a(src);
  void* p = a.allocate(2048);
  EXPECT_THROW(a.free(at(p, 512)), sinew::Error);
  a.free(p);
  EXPECT_THROW(a.free(p), sinew::Error);  // double free
}

TEST(CachingAllocator, DestructorReturnsEverySegment) {
  FakeSource src;
  {
    CachingAllocator a(src);
    a.allocate(100);
    void* q = a.allocate(3 * MiB);
    a.allocate(40 * MiB);
    a.free(q);
    EXPECT_EQ(src.live.size(), 3u);
  }
  EXPECT_TRUE(src.live.empty());
}

// Thousands of random allocations and frees with sizes across both pools, three streams and a
// capacity that runs out now and then, checked against the invariants throughout.
TEST(CachingAllocator, RandomizedStressKeepsItsInvariants) {
  FakeSource src;
  src.capacity = 300 * MiB;
  CachingAllocator a(src, {.name = "cuda:0", .max_split_size = 40 * MiB});
  std::mt19937_64 rng(20261123);
  std::map<void*, Live> live;
  std::vector<void*> order;  // live pointers, for picking one at random
  auto pick_size = [&rng]() -> std::size_t {
    std::uniform_real_distribution<double> u(0, 1);
    double r = u(rng);
    if (r < 0.6) return 1 + static_cast<std::size_t>(std::exp2(u(rng) * 20));  // up to 1 MiB
    if (r < 0.95) return MiB + static_cast<std::size_t>(u(rng) * 15 * MiB);
    return 30 * MiB + static_cast<std::size_t>(u(rng) * 30 * MiB);  // oversize
  };
  auto fill = [](void* p, std::size_t n, unsigned char tag) {
    std::size_t k = std::min<std::size_t>(n, 64);
    std::memset(p, tag, k);
    std::memset(at(p, n - k), tag, k);
  };
  auto check_fill = [](void* p, std::size_t n, unsigned char tag) {
    std::size_t k = std::min<std::size_t>(n, 64);
    for (std::size_t i = 0; i < k; ++i) {
      if (static_cast<unsigned char*>(p)[i] != tag ||
          static_cast<unsigned char*>(p)[n - k + i] != tag)
        return false;
    }
    return true;
  };
  std::size_t ooms = 0, allocs = 0;
  unsigned char next_tag = 1;
  for (int step = 0; step < 6000; ++step) {
    std::uniform_int_distribution<int> op(0, 99);
    int o = op(rng);
    if (o < 55 || order.empty()) {
      std::size_t size = pick_size();
      std::uintptr_t stream = std::uniform_int_distribution<int>(0, 2)(rng);
      try {
        void* p = a.allocate(size, stream);
        ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % 512, 0u);
        ASSERT_EQ(live.count(p), 0u) << "a live pointer handed out twice";
        unsigned char tag = next_tag++;
        if (next_tag == 0) next_tag = 1;
        live[p] = {size, stream, tag};
        order.push_back(p);
        fill(p, size, tag);
        ++allocs;
      } catch (const sinew::Error& e) {
        ++ooms;
        ASSERT_NE(std::string(e.what()).find("out of memory"), std::string::npos);
      }
    } else if (o < 99) {
      std::size_t i = std::uniform_int_distribution<std::size_t>(0, order.size() - 1)(rng);
      void* p = order[i];
      order[i] = order.back();
      order.pop_back();
      const Live info = live.at(p);
      ASSERT_TRUE(check_fill(p, info.requested, info.tag)) << "block overwritten by another";
      live.erase(p);
      a.free(p);
    } else {
      a.empty_cache();
    }
    if (step % 50 == 0) {
      check_invariants(a, src, live);
      if (HasFatalFailure() || HasFailure()) return;
    }
  }
  check_invariants(a, src, live);
  EXPECT_GT(ooms, 0u) << "the capacity was meant to run out now and then";
  EXPECT_GT(allocs, 2000u);
  EXPECT_LT(a.raw_alloc_count(), allocs / 4) << "the cache serves most requests";
  for (void* p : order) a.free(p);
  live.clear();
  check_invariants(a, src, live);
  EXPECT_EQ(a.memory_allocated(), 0u);
  a.empty_cache();
  EXPECT_EQ(a.memory_reserved(), 0u);
  EXPECT_TRUE(src.live.empty());
}

TEST(CachingAllocator, ConcurrentThreadsKeepTheInvariants) {
  FakeSource src;  // guarded by the allocator's own mutex: the source is only called under it
  CachingAllocator a(src);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&a, t] {
      std::mt19937 rng(static_cast<unsigned>(t) + 1);
      std::vector<void*> mine;
      for (int i = 0; i < 2000; ++i) {
        if (mine.size() < 20 && rng() % 3 != 0) {
          std::size_t size = 1 + rng() % (rng() % 4 == 0 ? 4 * MiB : 64 * KiB);
          void* p = a.allocate(size, static_cast<std::uintptr_t>(t % 2));
          std::memset(p, t, std::min<std::size_t>(size, 32));
          mine.push_back(p);
        } else if (!mine.empty()) {
          a.free(mine.back());
          mine.pop_back();
        }
      }
      for (void* p : mine) a.free(p);
    });
  }
  for (auto& th : threads) th.join();
  check_invariants(a, src, {});
  EXPECT_EQ(a.memory_allocated(), 0u);
  a.empty_cache();
  EXPECT_TRUE(src.live.empty());
}

TEST(PinnedHostPool, CachesAndReusesStagingBuffers) {
  FakeSource src;
  PinnedHostPool pool(src);
  void* a = pool.allocate(3000);
  void* b = pool.allocate(6 * MiB);
  EXPECT_EQ(src.alloc_calls, (std::vector<std::size_t>{2 * MiB, 20 * MiB}));
  EXPECT_EQ(pool.memory_allocated(), 3072 + 6 * MiB);
  pool.free(a);
  pool.free(b);
  EXPECT_EQ(pool.allocate(2900), a);
  EXPECT_EQ(pool.allocate(6 * MiB), b);
  EXPECT_EQ(pool.raw_alloc_count(), 2u);
  pool.free(a);
  pool.free(b);
  pool.empty_cache();
  EXPECT_TRUE(src.live.empty());
  EXPECT_EQ(pool.memory_reserved(), 0u);
}

TEST(PinnedHostPool, OutOfMemoryNamesPinnedHostMemory) {
  FakeSource src;
  src.capacity = MiB;
  PinnedHostPool pool(src);
  try {
    pool.allocate(100);
    FAIL() << "expected sinew::Error";
  } catch (const sinew::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cuda allocator (pinned host): out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find("allocate 100 bytes"), std::string::npos) << msg;
  }
}

}  // namespace SINEW_UNITY_ID
}  // namespace
