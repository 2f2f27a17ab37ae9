// The nesting guard in front of nlohmann (whose copy and dump recurse once per level).

#include "common/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace llmpool {
namespace {

std::string nestedArrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonDepthTest, AcceptsUpToTheLimitAndRefusesOneLevelMore) {
  EXPECT_TRUE(jsonDepthWithin(nestedArrays(kMaxJsonDepth)));
  EXPECT_FALSE(jsonDepthWithin(nestedArrays(kMaxJsonDepth + 1)));
  EXPECT_TRUE(jsonDepthWithin(R"({"a":[{"b":[1]}]})", 4));
  EXPECT_FALSE(jsonDepthWithin(R"({"a":[{"b":[1]}]})", 3));
  EXPECT_TRUE(jsonDepthWithin(""));
}

TEST(JsonDepthTest, BracketsInsideStringsDoNotCount) {
  EXPECT_TRUE(jsonDepthWithin(R"({"a":"[[[[{{{{"})", 1));
  // An escaped quote does not end the string; the brackets after it are still inside.
  EXPECT_TRUE(jsonDepthWithin(R"({"a":"\"[[[[","b":1})", 1));
  EXPECT_TRUE(jsonDepthWithin(R"({"a":"\\","b":[1]})", 2));
  EXPECT_FALSE(jsonDepthWithin(R"({"a":"\\","b":[1]})", 1));  // "\\" ends, then [ counts
}

TEST(JsonDepthTest, BoundedParseDiscardsTooDeepAndParsesTheRest) {
  EXPECT_TRUE(parseJsonBounded(nestedArrays(kMaxJsonDepth + 1)).is_discarded());
  EXPECT_TRUE(parseJsonBounded(R"({"a":)").is_discarded());
  const nlohmann::json ok = parseJsonBounded(nestedArrays(kMaxJsonDepth));
  ASSERT_FALSE(ok.is_discarded());
  const nlohmann::json copy = ok;  // a tree at the limit copies and dumps fine
  EXPECT_EQ(nestedArrays(kMaxJsonDepth), copy.dump());
}

}  // namespace
}  // namespace llmpool
