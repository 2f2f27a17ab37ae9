// withoutUsage(): the provider's stream event handed on without the usage the client did not ask
// for, and otherwise as the provider wrote it.

#include "gateway/stream_usage.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace llmpool::gateway {
namespace {

using Json = nlohmann::json;

TEST(StreamUsageTest, AnEventWithoutUsageIsUnchanged) {
  const std::string event = R"({"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]})";
  EXPECT_EQ(event, withoutUsage(event));
}

TEST(StreamUsageTest, OpenAIsTrailingNullIsCutAndTheRestKeptByteForByte) {
  const std::string kept =
      R"({"id":"c",  "choices":[{"index":0,"delta":{"content":"hi"},"logprobs":{"content":[]}}])";
  EXPECT_EQ(kept + "}", withoutUsage(kept + R"(,"usage":null})"));
}

TEST(StreamUsageTest, UsageElsewhereOrMentionedInContentIsRemovedByParsing) {
  // Totals in the middle of the event.
  Json first = Json::parse(
      withoutUsage(R"({"id":"c","usage":{"prompt_tokens":1},"choices":[{"index":0,"delta":{}}]})"));
  EXPECT_FALSE(first.contains("usage"));
  EXPECT_EQ("c", first["id"]);
  // The word as content, and usage not last: the content stays, the member goes.
  Json second = Json::parse(
      withoutUsage(R"({"usage":null,"choices":[{"index":0,"delta":{"content":"usage"}}]})"));
  EXPECT_FALSE(second.contains("usage"));
  EXPECT_EQ("usage", second["choices"][0]["delta"]["content"]);
  // A nested member of that name is the provider's own and stays.
  Json nested = Json::parse(withoutUsage(R"({"choices":[{"usage":1}]})"));
  EXPECT_EQ(1, nested["choices"][0]["usage"]);
}

TEST(StreamUsageTest, AnEventThatIsNotAnObjectGivesNothing) {
  EXPECT_EQ("", withoutUsage(R"({"usage":null)"));
  EXPECT_EQ("", withoutUsage(R"(["usage"])"));
}

}  // namespace
}  // namespace llmpool::gateway
