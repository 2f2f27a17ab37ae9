#include "gateway/token_estimate.h"

#include <gtest/gtest.h>

#include "gateway/count_tokens.h"

namespace llmpool::gateway {
namespace {

TEST(TokenEstimateTest, FourAsciiBytesOrOneOtherCharacterAToken) {
  EXPECT_EQ(0, estimateTokensOfText(""));
  EXPECT_EQ(1, estimateTokensOfText("abcd"));
  EXPECT_EQ(2, estimateTokensOfText("abcde"));
  EXPECT_EQ(2, estimateTokensOfText("\u4f60\u597d"));  // JSON escapes are ASCII: 12 bytes
  EXPECT_EQ(2, estimateTokensOfText("\xe4\xbd\xa0\xe5\xa5\xbd"));  // two CJK characters
  EXPECT_EQ(2, estimateTokensOfText("ab\xc3\xa9"));                // "ab" and an e-acute
}

TEST(TokenEstimateTest, CountsTheSystemMessagesAndToolsOnly) {
  const std::string system = R"("You are terse.")";
  const std::string messages = R"([{"role":"user","content":"Summarize pooling."}])";
  const std::string tools = R"([{"name":"f","input_schema":{"type":"object"}}])";
  const std::string body = R"({"model":"chat","max_tokens":64,"system":)" + system +
                           R"(,"messages":)" + messages + R"(,"tools":)" + tools +
                           R"(,"metadata":{"user_id":"a-long-opaque-identifier-of-no-weight"}})";
  EXPECT_EQ(
      estimateTokensOfText(system) + estimateTokensOfText(messages) + estimateTokensOfText(tools),
      estimateInputTokens(body));
  EXPECT_FALSE(estimateInputTokens(R"({"messages":[)").has_value());
  EXPECT_FALSE(estimateInputTokens("[1]").has_value());
}

KeyEntry keyFor(std::vector<std::string> models) {
  GatewayKey k;
  k.key = "sk-test";
  k.name = "k";
  k.models = std::move(models);
  return KeyEntry(k);
}

TEST(CountTokensTest, ARequestForAKnownAliasIsCounted) {
  const std::vector<std::string> aliases = {"chat", "other"};
  const std::string body =
      R"({"model":"chat","system":"be brief","messages":[{"role":"user","content":"hello"}]})";
  std::string alias;
  auto n = countInputTokens(body, aliases, nullptr, alias);
  ASSERT_TRUE(n.has_value()) << n.error().describe();
  EXPECT_EQ(estimateInputTokens(body), *n);
  EXPECT_GT(*n, 0);
  EXPECT_EQ("chat", alias);
}

TEST(CountTokensTest, ABadRequestUnknownModelOrForbiddenModelIsRefused) {
  const std::vector<std::string> aliases = {"chat", "other"};
  std::string alias;
  const auto code = [&](std::string_view body, const KeyEntry* key = nullptr) {
    auto r = countInputTokens(body, aliases, key, alias);
    return r ? ErrorCode::Internal : r.error().code;
  };
  EXPECT_EQ(ErrorCode::InvalidRequest, code(R"({"messages":[]})"));
  EXPECT_EQ(ErrorCode::InvalidRequest, code(R"({"model":7,"messages":[]})"));
  EXPECT_EQ(ErrorCode::InvalidRequest, code(R"({"model":"chat"})"));
  EXPECT_EQ(ErrorCode::InvalidRequest, code(R"({"model":"chat","messages":"hi"})"));
  EXPECT_EQ(ErrorCode::InvalidRequest, code(R"({"model":"chat","messages":[)"));
  EXPECT_EQ(ErrorCode::InvalidRequest, code("not json"));
  EXPECT_EQ(ErrorCode::NotFound, code(R"({"model":"nope","messages":[]})"));
  const KeyEntry only_other = keyFor({"other"});
  auto forbidden =
      countInputTokens(R"({"model":"chat","messages":[]})", aliases, &only_other, alias);
  ASSERT_FALSE(forbidden.has_value());
  EXPECT_EQ(ErrorCode::AuthFailed, forbidden.error().code);
  EXPECT_EQ(403, forbidden.error().http_status);
  EXPECT_TRUE(countInputTokens(R"({"model":"other","messages":[]})", aliases, &only_other, alias)
                  .has_value());
}

}  // namespace
}  // namespace llmpool::gateway
