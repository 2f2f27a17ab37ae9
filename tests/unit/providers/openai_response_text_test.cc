// The DOM-free decoder of chat completions must agree with the DOM decoder whenever it answers,
// and must answer for the shape real servers send.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "providers/openai_codec.h"

namespace llmpool::providers::openai {
namespace {

void expectSame(const ChatResponse& fast, const ChatResponse& dom, const std::string& text) {
  EXPECT_EQ(fast.id, dom.id) << text;
  EXPECT_EQ(fast.model, dom.model) << text;
  EXPECT_EQ(fast.created, dom.created) << text;
  EXPECT_EQ(fast.usage.prompt_tokens, dom.usage.prompt_tokens) << text;
  EXPECT_EQ(fast.usage.completion_tokens, dom.usage.completion_tokens) << text;
  EXPECT_EQ(fast.usage.total_tokens, dom.usage.total_tokens) << text;
  ASSERT_EQ(fast.choices.size(), dom.choices.size()) << text;
  for (size_t i = 0; i < fast.choices.size(); ++i) {
    EXPECT_EQ(fast.choices[i].index, dom.choices[i].index) << text;
    EXPECT_EQ(fast.choices[i].role, dom.choices[i].role) << text;
    EXPECT_EQ(fast.choices[i].content, dom.choices[i].content) << text;
    EXPECT_EQ(fast.choices[i].finish_reason, dom.choices[i].finish_reason) << text;
    EXPECT_EQ(fast.choices[i].tool_calls.size(), dom.choices[i].tool_calls.size()) << text;
  }
}

// When the fast path answers, the DOM path must succeed with the same response.
void checkAgreement(const std::string& text) {
  auto fast = parseResponseText(text);
  if (!fast) return;
  Json dom_json = Json::parse(text, nullptr, false);
  ASSERT_FALSE(dom_json.is_discarded()) << "fast path accepted invalid JSON: " << text;
  ASSERT_FALSE(dom_json.contains("error")) << text;
  auto dom = parseResponse(dom_json);
  ASSERT_TRUE(dom.has_value()) << "fast path accepted what the DOM path refuses: " << text;
  expectSame(*fast, *dom, text);
}

const std::string kTypical =
    R"({"id":"chatcmpl-94bb5","object":"chat.completion","created":1795816040,"model":"m",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"mock reply: hi",)"
    R"("refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4,)"
    R"("prompt_tokens_details":{"cached_tokens":0}},"system_fingerprint":"fp_1"})";

TEST(OpenAIResponseTextTest, DecodesTheCommonShape) {
  auto fast = parseResponseText(kTypical);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->id, "chatcmpl-94bb5");
  EXPECT_EQ(fast->created, 1795816040);
  ASSERT_EQ(fast->choices.size(), 1u);
  EXPECT_EQ(fast->choices[0].content, "mock reply: hi");
  EXPECT_EQ(fast->choices[0].finish_reason, "stop");
  EXPECT_EQ(fast->usage.total_tokens, 4);
  checkAgreement(kTypical);
}

TEST(OpenAIResponseTextTest, AgreesWithTheDomOnVariants) {
  const std::vector<std::string> variants = {
      R"({"choices":[]})",
      R"({"choices":[{"message":{"content":null},"finish_reason":null}],"usage":null})",
      R"({"choices":[{"message":{"role":"","content":"\u00e9\n\"q\""}},{"message":{}}]})",
      R"({"choices":[{"index":3,"message":{"content":"a","tool_calls":null}}],
          "usage":{"prompt_tokens":5,"completion_tokens":7}})",
      R"({"choices":[{"message":{"content":"a","tool_calls":[]}}],"usage":{}})",
      R"( { "id" : "x" , "choices" : [ { "message" : { "content" : "y" } } ] } )",
      R"({"choices":[{"message":{"content":"a"},"extra":{"deep":[[{"x":[1,2.5e3]}]]}}]})",
  };
  for (const auto& v : variants) {
    EXPECT_TRUE(parseResponseText(v).has_value()) << v;
    checkAgreement(v);
  }
}

TEST(OpenAIResponseTextTest, DefersWhatItDoesNotHandleToTheDomPath) {
  const std::vector<std::string> deferred = {
      R"({"choices":[{"message":{"content":"a","tool_calls":[{"id":"t","type":"function",
          "function":{"name":"f","arguments":"{}"}}]}}]})",
      R"({"choices":[{"message":{"content":[{"type":"text","text":"a"}]}}]})",
      R"({"choices":[{"index":1.0,"message":{"content":"a"}}]})",
      R"({"choices":[{"message":{"content":"a"}}],"choices":[]})",
      R"({"choices":[{"message":{"content":"a"},"message":{"content":"b"}}]})",
      R"({"choices":[{"finish_reason":"stop"}]})",
      R"({"error":{"message":"boom"},"choices":[]})",
      R"({"id":null,"choices":[]})",
      R"({"id":"x"})",
      R"([])",
      R"({"choices":[]} trailing)",
  };
  for (const auto& d : deferred) EXPECT_FALSE(parseResponseText(d).has_value()) << d;
}

TEST(OpenAIResponseTextTest, EveryTruncationAndByteFlipAgrees) {
  for (size_t cut = 0; cut < kTypical.size(); ++cut) {
    EXPECT_FALSE(parseResponseText(kTypical.substr(0, cut)).has_value()) << cut;
  }
  const char replacements[] = {'"', '\\', '{', '}', '[',    ']',   ',',
                               ':', '0',  'x', ' ', '\x01', '\x80'};
  for (size_t i = 0; i < kTypical.size(); ++i) {
    for (char c : replacements) {
      std::string mutated = kTypical;
      mutated[i] = c;
      checkAgreement(mutated);
    }
  }
}

}  // namespace
}  // namespace llmpool::providers::openai
