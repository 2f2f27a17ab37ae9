#include "providers/forwarded_body.h"

#include <gtest/gtest.h>

#include "providers/provider_codec.h"

namespace llmpool::providers {
namespace {

// What a client wrote: spacing, number spellings, an escaped name, fields no ChatRequest member
// models (a message's reasoning_content, a parameter newer than this code).
constexpr std::string_view kOpenAIBody = R"( {
  "messages": [{"role": "user", "content": "hi", "reasoning_content": "r"}],
  "model": "alias", "temperature": 0.50, "max_tokens": 9,
  "stream": false, "stream_options": {"include_usage": false},
  "new_param": {"a": [1, 2]}, "we\u0069rd": 1
} )";

TEST(ForwardedBodyTest, OpenAIMembersGoThroughAsWrittenAndThePoolDecidesTheRest) {
  ChatRequest request;
  request.max_tokens = 9;
  request.stream = true;
  auto body = forwardedOpenAIBody(kOpenAIBody, request, "gpt-x", "max_completion_tokens");
  ASSERT_TRUE(body);
  EXPECT_EQ(*body,
            R"({"model":"gpt-x",)"
            R"("messages":[{"role": "user", "content": "hi", "reasoning_content": "r"}],)"
            R"("temperature":0.50,"new_param":{"a": [1, 2]},"weird":1,)"
            R"("max_completion_tokens":9,"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_TRUE(Json::accept(*body));

  // Not streamed and no limit: neither is written.
  ChatRequest plain;
  auto quiet = forwardedOpenAIBody(R"({"model":"a","stream":true,"max_completion_tokens":5,)"
                                   R"("messages":[]})",
                                   plain, "m", "max_tokens");
  ASSERT_TRUE(quiet);
  EXPECT_EQ(*quiet, R"({"model":"m","messages":[]})");
}

TEST(ForwardedBodyTest, AnthropicKeepsThinkingBlocksHandedBack) {
  constexpr std::string_view body =
      R"({"model":"alias","max_tokens":64,"stream":false,"thinking":{"type":"enabled",)"
      R"("budget_tokens":1024},"messages":[{"role":"user","content":"a"},{"role":"assistant",)"
      R"("content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text",)"
      R"("text":"b","cache_control":{"type":"ephemeral"}}]}]})";
  ChatRequest request;
  request.stream = true;
  auto forwarded = forwardedAnthropicBody(body, request, "claude-x");
  ASSERT_TRUE(forwarded);
  EXPECT_EQ(
      *forwarded,
      R"({"model":"claude-x","max_tokens":64,"thinking":{"type":"enabled",)"
      R"("budget_tokens":1024},"messages":[{"role":"user","content":"a"},{"role":"assistant",)"
      R"("content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text",)"
      R"("text":"b","cache_control":{"type":"ephemeral"}}]}],"stream":true})");
}

TEST(ForwardedBodyTest, AnythingButOneWellFormedObjectIsRefused) {
  const ChatRequest request;
  for (std::string_view bad : {R"({"model":"a",})", "[1]", R"({"a":1} x)", R"({"a":01})", "",
                               R"({"a":"\x"})", R"({"a":1)"}) {
    EXPECT_FALSE(forwardedOpenAIBody(bad, request, "m", "max_tokens")) << bad;
    EXPECT_FALSE(forwardedAnthropicBody(bad, request, "m")) << bad;
  }
}

TEST(ForwardedBodyTest, OnlyAProviderOfTheClientsDialectGetsTheClientsBody) {
  ChatRequest request;
  request.model = "alias";
  request.messages = {ChatMessage{.role = "user", .content = "hi"}};
  request.max_tokens = 9;
  request.source_body =
      R"({"model":"alias","max_tokens":9,"messages":[{"role":"user","content":"hi","x":1}]})";
  request.source_dialect = WireDialect::OpenAI;
  const Endpoint openai{ProviderKind::OpenAI, "https://api.openai.com/v1", "sk-x", "", {}};
  const Endpoint anthropic{ProviderKind::Anthropic, "https://api.anthropic.com/v1", "k", "", {}};
  EXPECT_EQ(encodeChat(openai, request, "gpt-x").body,
            R"({"model":"gpt-x","messages":[{"role":"user","content":"hi","x":1}],)"
            R"("max_completion_tokens":9})");
  // Another dialect is translated from the parsed request: the message field it does not model
  // stays behind.
  const Json translated = Json::parse(encodeChat(anthropic, request, "claude-x").body);
  EXPECT_EQ(translated["model"], "claude-x");
  EXPECT_FALSE(translated["messages"][0].contains("x"));
  // A body that cannot be forwarded is encoded from the parsed request instead.
  request.source_body = "{";
  EXPECT_EQ(Json::parse(encodeChat(openai, request, "gpt-x").body)["messages"][0],
            Json::parse(R"({"role":"user","content":"hi"})"));
}

TEST(ForwardedBodyTest, TheClientsHeadersGoOnlyToAProviderOfItsDialect) {
  ChatRequest request;
  request.model = "alias";
  request.max_tokens = 8;
  request.messages = {ChatMessage{.role = "user", .content = "hi"}};
  request.source_dialect = WireDialect::Anthropic;
  request.source_headers = {{"anthropic-beta", "interleaved-thinking-2025-05-14"},
                            {"x-api-key", "the-clients-own"}};
  const auto header = [](const http::HttpRequest& r, std::string_view name) {
    std::string found;
    int count = 0;
    for (const auto& [key, value] : r.headers) {
      if (key == name) found = value, ++count;
    }
    return count > 1 ? "(twice)" : found;
  };
  const Endpoint anthropic{ProviderKind::Anthropic, "https://api.anthropic.com/v1", "k", "", {}};
  const http::HttpRequest sent = encodeChat(anthropic, request, "claude-x");
  EXPECT_EQ(header(sent, "anthropic-beta"), "interleaved-thinking-2025-05-14");
  EXPECT_EQ(header(sent, "x-api-key"), "k");  // what the codec sets stays
  // The provider's config wins over the client.
  const Endpoint configured{ProviderKind::Anthropic,
                            "https://api.anthropic.com/v1",
                            "k",
                            "",
                            {{"Anthropic-Beta", "from-config"}}};
  const http::HttpRequest overridden = encodeChat(configured, request, "claude-x");
  int betas = 0;
  for (const auto& [key, value] : overridden.headers) {
    if (key == "Anthropic-Beta" || key == "anthropic-beta") {
      ++betas;
      EXPECT_EQ(value, "from-config");
    }
  }
  EXPECT_EQ(betas, 1);
  // Another dialect's provider gets none of them.
  const Endpoint openai{ProviderKind::OpenAI, "https://api.openai.com/v1", "sk-x", "", {}};
  EXPECT_EQ(header(encodeChat(openai, request, "gpt-x"), "anthropic-beta"), "");
}

}  // namespace
}  // namespace llmpool::providers
