// The gateway's DOM-free request reader and response writer must agree with the DOM forms.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "providers/openai_inbound.h"

namespace llmpool::providers {
namespace {

void expectSameRequest(const ChatRequest& a, const ChatRequest& b, const std::string& text) {
  EXPECT_EQ(a.model, b.model) << text;
  ASSERT_EQ(a.messages.size(), b.messages.size()) << text;
  for (size_t i = 0; i < a.messages.size(); ++i) {
    EXPECT_EQ(a.messages[i].role, b.messages[i].role) << text;
    EXPECT_EQ(a.messages[i].content, b.messages[i].content) << text;
    EXPECT_EQ(a.messages[i].name, b.messages[i].name) << text;
    EXPECT_EQ(a.messages[i].tool_call_id, b.messages[i].tool_call_id) << text;
    EXPECT_EQ(a.messages[i].content_parts, b.messages[i].content_parts) << text;
  }
  EXPECT_EQ(a.temperature, b.temperature) << text;
  EXPECT_EQ(a.top_p, b.top_p) << text;
  EXPECT_EQ(a.max_tokens, b.max_tokens) << text;
  EXPECT_EQ(a.n, b.n) << text;
  EXPECT_EQ(a.seed, b.seed) << text;
  EXPECT_EQ(a.presence_penalty, b.presence_penalty) << text;
  EXPECT_EQ(a.frequency_penalty, b.frequency_penalty) << text;
  EXPECT_EQ(a.user, b.user) << text;
  EXPECT_EQ(a.stream, b.stream) << text;
  EXPECT_EQ(a.include_usage, b.include_usage) << text;
  EXPECT_EQ(a.stop, b.stop) << text;
  EXPECT_EQ(a.extra, b.extra) << text;
  EXPECT_TRUE(a.tools.is_null() && b.tools.is_null()) << text;
}

// When the fast reader answers, the DOM reader must accept the same text with the same result.
void checkAgreement(const std::string& text) {
  auto fast = parseOpenAIChatRequestText(text);
  if (!fast) return;
  Json dom_json = Json::parse(text, nullptr, false);
  ASSERT_FALSE(dom_json.is_discarded()) << "fast reader accepted invalid JSON: " << text;
  auto dom = parseOpenAIChatRequest(dom_json);
  ASSERT_TRUE(dom.has_value()) << "fast reader accepted what the DOM refuses (" << text
                               << "): " << dom.error().message;
  expectSameRequest(*fast, *dom, text);
}

const std::string kTypical =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},)"
    R"({"role":"user","content":"Say \"hi\" \u00e9","name":"bob"}],"temperature":0.7,)"
    R"("top_p":1,"max_tokens":16,"stream":true,"stream_options":{"include_usage":true},)"
    R"("n":1,"seed":-42,"presence_penalty":-0.5,"frequency_penalty":2,"user":"u-1"})";

TEST(OpenAIInboundTextTest, ReadsTheCommonShapeLikeTheDom) {
  auto fast = parseOpenAIChatRequestText(kTypical);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->model, "gpt-4o-mini");
  ASSERT_EQ(fast->messages.size(), 2u);
  EXPECT_EQ(fast->messages[1].content, "Say \"hi\" \xC3\xA9");
  EXPECT_EQ(fast->max_tokens, 16);
  EXPECT_TRUE(fast->stream);
  EXPECT_TRUE(fast->include_usage);
  checkAgreement(kTypical);
  const std::vector<std::string> variants = {
      R"({"model":"m","messages":[{"role":"user","content":""}]})",
      R"({"messages":[{"content":"x","role":"tool","tool_call_id":"t1"}],"model":"m"})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,)"
      R"("max_completion_tokens":7})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"x":[1]}})",
      R"( {"model" : "m" , "messages" : [ {"role":"developer","content":"x"} ] } )",
  };
  for (const auto& v : variants) {
    EXPECT_TRUE(parseOpenAIChatRequestText(v).has_value()) << v;
    checkAgreement(v);
  }
}

TEST(OpenAIInboundTextTest, DefersEverythingElseToTheDom) {
  const std::vector<std::string> deferred = {
      R"({"model":"m","messages":[]})",
      R"({"model":"","messages":[{"role":"user","content":"x"}]})",
      R"({"model":"m","messages":[{"role":"robot","content":"x"}]})",
      R"({"model":"m","messages":[{"role":"tool","content":"x"}]})",
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]})",
      R"({"model":"m","messages":[{"role":"assistant","content":null}]})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5.0})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":129})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":"\n"})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[]})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{}})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"user":null})",
      R"({"model":"m","model":"n","messages":[{"role":"user","content":"x"}]})",
      R"({"model":"m","messages":[{"role":"user","content":"x"}]} x)",
  };
  for (const auto& d : deferred) EXPECT_FALSE(parseOpenAIChatRequestText(d).has_value()) << d;
}

TEST(OpenAIInboundTextTest, EveryTruncationAndByteFlipAgrees) {
  for (size_t cut = 0; cut < kTypical.size(); ++cut) {
    EXPECT_FALSE(parseOpenAIChatRequestText(kTypical.substr(0, cut)).has_value()) << cut;
  }
  const char replacements[] = {'"', '\\', '{', '}', '[', ']', ',',    ':',
                               '0', '9',  '-', 'e', ' ', 'x', '\x01', '\x80'};
  for (size_t i = 0; i < kTypical.size(); ++i) {
    for (char c : replacements) {
      std::string mutated = kTypical;
      mutated[i] = c;
      checkAgreement(mutated);
    }
  }
}

TEST(OpenAIInboundTextTest, ResponseTextEqualsTheDomForm) {
  ChatResponse plain;
  plain.id = "chatcmpl-1";
  plain.model = "m";
  plain.created = 1700000000;
  plain.choices.push_back({.index = 0, .content = "caf\xC3\xA9 \"q\"\n", .finish_reason = "stop"});
  plain.usage = {3, 4, 0};
  ChatResponse tools = plain;
  tools.choices[0].content.clear();
  tools.choices[0].role.clear();
  tools.choices[0].finish_reason.clear();
  tools.choices[0].tool_calls.push_back({"call_1", "", "lookup", R"({"q":"x"})"});
  tools.choices.push_back({.index = 1, .role = "assistant", .content = "second"});
  ChatResponse empty;
  for (const ChatResponse* r : {&plain, &tools, &empty}) {
    const std::string text = openAIChatResponseText(*r);
    EXPECT_EQ(Json::parse(text), toOpenAIChatResponse(*r)) << text;
  }
}

}  // namespace
}  // namespace llmpool::providers
