#include "gateway/reply_cache.h"

#include <gtest/gtest.h>

namespace llmpool::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Times are made up: the cache takes `now` from its caller, so no clock is needed.
const MonotonicTime t0 = MonotonicTime(seconds(1000));

GatewayCacheConfig settings(milliseconds ttl, size_t entries, size_t bytes) {
  GatewayCacheConfig c;
  c.ttl = ttl;
  c.max_entries = entries;
  c.max_bytes = bytes;
  return c;
}

CachedReply reply(std::string body) { return CachedReply{std::move(body), "m/x", "req_1", {}}; }

TEST(ReplyCacheTest, KeysOfDifferentRequestsNeverCollide) {
  // Length prefixes: moving bytes from one part to the next makes another key.
  EXPECT_NE(ReplyCache::keyOf("ab", "c", "", "{}"), ReplyCache::keyOf("a", "bc", "", "{}"));
  EXPECT_NE(ReplyCache::keyOf("", "/v1/messages", "beta-1", "{}"),
            ReplyCache::keyOf("", "/v1/messages", "", "{}"));
  EXPECT_NE(ReplyCache::keyOf("team-a", "/r", "", "{}"),
            ReplyCache::keyOf("team-b", "/r", "", "{}"));
  EXPECT_EQ(ReplyCache::keyOf("k", "/r", "h", "{}"), ReplyCache::keyOf("k", "/r", "h", "{}"));
}

TEST(ReplyCacheTest, AStoredReplyIsFoundUntilItsTtlEnds) {
  ReplyCache cache(settings(milliseconds(500), 10, 1 << 20));
  EXPECT_EQ(nullptr, cache.find("k", t0));
  EXPECT_EQ(0u, cache.store("k", reply("body-1"), t0));
  auto hit = cache.find("k", t0 + milliseconds(499));
  ASSERT_NE(nullptr, hit);
  EXPECT_EQ("body-1", hit->body);
  EXPECT_EQ("m/x", hit->deployment);
  EXPECT_EQ(nullptr, cache.find("k", t0 + milliseconds(500)));
  EXPECT_EQ(0u, cache.entries());  // an expired entry found is dropped
  EXPECT_EQ(0u, cache.bytes());
}

TEST(ReplyCacheTest, StoringAgainReplacesTheReplyAndRestartsItsTtl) {
  ReplyCache cache(settings(milliseconds(500), 10, 1 << 20));
  cache.store("k", reply("old"), t0);
  cache.store("k", reply("new"), t0 + milliseconds(400));
  EXPECT_EQ(1u, cache.entries());
  auto hit = cache.find("k", t0 + milliseconds(800));
  ASSERT_NE(nullptr, hit);
  EXPECT_EQ("new", hit->body);
}

TEST(ReplyCacheTest, TheLeastRecentlyUsedGoesFirstWhenEntriesRunOut) {
  ReplyCache cache(settings(seconds(60), 2, 1 << 20));
  cache.store("a", reply("A"), t0);
  cache.store("b", reply("B"), t0);
  ASSERT_NE(nullptr, cache.find("a", t0));  // a is now the most recently used
  EXPECT_EQ(1u, cache.store("c", reply("C"), t0));
  EXPECT_NE(nullptr, cache.find("a", t0));
  EXPECT_EQ(nullptr, cache.find("b", t0));
  EXPECT_NE(nullptr, cache.find("c", t0));
  EXPECT_EQ(2u, cache.entries());
}

TEST(ReplyCacheTest, TheByteBoundEvictsAndAnOversizedReplyIsNotKept) {
  const size_t max_bytes = 64 * 1024;
  ReplyCache cache(settings(seconds(60), 1000, max_bytes));
  const std::string body(10 * 1024, 'x');
  size_t evicted = 0;
  for (int i = 0; i < 10; ++i) evicted += cache.store("k" + std::to_string(i), reply(body), t0);
  EXPECT_LE(cache.bytes(), max_bytes);
  EXPECT_GT(evicted, 0u);
  EXPECT_EQ(10u, cache.entries() + evicted);
  EXPECT_NE(nullptr, cache.find("k9", t0));  // the newest stays
  EXPECT_EQ(nullptr, cache.find("k0", t0));
  // More than a quarter of the bound: not stored, nothing evicted for it.
  const size_t before = cache.entries();
  EXPECT_EQ(0u, cache.store("big", reply(std::string(max_bytes / 4, 'y')), t0));
  EXPECT_EQ(nullptr, cache.find("big", t0));
  EXPECT_EQ(before, cache.entries());
}

}  // namespace
}  // namespace llmpool::gateway
