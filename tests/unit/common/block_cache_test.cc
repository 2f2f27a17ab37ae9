#include "common/block_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace llmpool {
namespace {

struct Tracked {
  explicit Tracked(int* live) : live(live) { ++*live; }
  ~Tracked() { --*live; }
  int* live;
  char payload[1200] = {};  // above malloc's per-thread cache, like the pool's Call
};

TEST(BlockCacheTest, AllocateSharedConstructsAndDestroysTheObject) {
  int live = 0;
  {
    auto p = std::allocate_shared<Tracked>(CachingAllocator<Tracked>(), &live);
    EXPECT_EQ(live, 1);
    std::weak_ptr<Tracked> weak = p;
    p.reset();
    EXPECT_EQ(live, 0);  // destroyed with the last owner, even while a weak_ptr remains
    EXPECT_TRUE(weak.expired());
  }
  EXPECT_EQ(live, 0);
}

TEST(BlockCacheTest, AFreedBlockIsReusedAndTheStackIsBounded) {
  auto& cache = BlockCache<2048>::instance();
  std::vector<void*> blocks;
  for (size_t i = 0; i < BlockCache<2048>::kLimit + 8; ++i) blocks.push_back(cache.take());
  const size_t spare_before = cache.spareCount();
  for (void* b : blocks) cache.give(b);
  // Never more than the limit kept; the rest went back to operator delete.
  EXPECT_EQ(cache.spareCount(), std::min(BlockCache<2048>::kLimit, spare_before + blocks.size()));
  if (BlockCache<2048>::kLimit > 0) {
    void* last = blocks[BlockCache<2048>::kLimit - 1];
    EXPECT_EQ(cache.take(), last);  // the most recently kept block comes back first
    cache.give(last);
  }
}

TEST(BlockCacheTest, ArraysBypassTheCache) {
  CachingAllocator<std::string> alloc;
  std::string* three = alloc.allocate(3);
  for (int i = 0; i < 3; ++i) std::construct_at(three + i, "x");
  EXPECT_EQ(three[2], "x");
  std::destroy_n(three, 3);
  alloc.deallocate(three, 3);
  EXPECT_EQ(BlockCache<sizeof(std::string)>::instance().spareCount(), 0u);
}

}  // namespace
}  // namespace llmpool
