#include "common/node_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace llmpool {
namespace {

using Map = std::unordered_map<int, std::shared_ptr<std::string>>;

TEST(NodeCacheTest, ReusesErasedNodesAndReleasesTheirValuesAtOnce) {
  Map map;
  NodeCache<Map> cache(2);
  auto value = std::make_shared<std::string>("payload");
  std::weak_ptr<std::string> watch = value;
  cache.insert(map, 1, std::move(value));
  cache.insert(map, 2, std::make_shared<std::string>("two"));
  const auto* node_of_1 = &*map.find(1);

  auto taken = cache.take(map, 1);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(**taken, "payload");
  taken.reset();
  EXPECT_TRUE(watch.expired());  // the kept node does not hold the value
  EXPECT_FALSE(cache.take(map, 1).has_value());
  EXPECT_EQ(map.size(), 1u);

  cache.insert(map, 3, std::make_shared<std::string>("three"));  // on the kept node
  EXPECT_EQ(&*map.find(3), node_of_1);
  EXPECT_EQ(*map.at(3), "three");
  EXPECT_TRUE(cache.erase(map, 2));
  EXPECT_FALSE(cache.erase(map, 2));
  EXPECT_EQ(map.count(2), 0u);
}

TEST(NodeCacheTest, InsertsWithAndWithoutSpareNodes) {
  Map map;
  NodeCache<Map> cache(1);
  for (int i = 0; i < 3; ++i) cache.insert(map, i, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(cache.erase(map, i));
  EXPECT_TRUE(map.empty());
  for (int i = 0; i < 3; ++i) cache.insert(map, i, std::make_shared<std::string>("x"));
  EXPECT_EQ(map.size(), 3u);
}

}  // namespace
}  // namespace llmpool
