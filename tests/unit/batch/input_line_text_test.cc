// The DOM-free batch line reader must agree with the DOM reader on every line it accepts, and
// leave every other line to it.

#include "batch/input_line_text.h"

#include <gtest/gtest.h>

#include <string>

namespace llmpool::batch {
namespace {

void expectSameTask(const Task& a, const Task& b, const std::string& text) {
  EXPECT_EQ(a.id, b.id) << text;
  EXPECT_EQ(a.priority, b.priority) << text;
  EXPECT_EQ(a.metadata, b.metadata) << text;
  EXPECT_EQ(a.options.metadata, b.options.metadata) << text;
  EXPECT_EQ(a.options.model, b.options.model) << text;
  EXPECT_EQ(a.max_attempts, b.max_attempts) << text;
  EXPECT_EQ(a.expires_at, b.expires_at) << text;
  const ChatRequest& x = a.request;
  const ChatRequest& y = b.request;
  EXPECT_EQ(x.model, y.model) << text;
  ASSERT_EQ(x.messages.size(), y.messages.size()) << text;
  for (size_t i = 0; i < x.messages.size(); ++i) {
    EXPECT_EQ(x.messages[i].role, y.messages[i].role) << text;
    EXPECT_EQ(x.messages[i].content, y.messages[i].content) << text;
    EXPECT_EQ(x.messages[i].name, y.messages[i].name) << text;
    EXPECT_EQ(x.messages[i].tool_call_id, y.messages[i].tool_call_id) << text;
  }
  EXPECT_EQ(x.temperature, y.temperature) << text;
  EXPECT_EQ(x.top_p, y.top_p) << text;
  EXPECT_EQ(x.max_tokens, y.max_tokens) << text;
  EXPECT_EQ(x.n, y.n) << text;
  EXPECT_EQ(x.seed, y.seed) << text;
  EXPECT_EQ(x.user, y.user) << text;
  EXPECT_EQ(x.stream, y.stream) << text;
  EXPECT_EQ(x.include_usage, y.include_usage) << text;
  EXPECT_EQ(x.stop, y.stop) << text;
  EXPECT_EQ(x.extra, y.extra) << text;
}

// Whenever the fast reader answers, the DOM reader must accept the line with the same Task.
void checkAgreement(const std::string& text, const InputRules& rules) {
  auto fast = parseInputLineText(text, 7, rules);
  if (!fast) return;
  auto dom = parseInputLineJson(text, 7, rules);
  ASSERT_TRUE(dom.has_value()) << "fast reader accepted what the DOM refuses (" << text
                               << "): " << dom.error().message;
  expectSameTask(*fast, *dom, text);
}

const std::string kLine =
    R"({"custom_id":"req-1","method":"POST","url":"/v1/chat/completions","priority":"high",)"
    R"("body":{"model":"m","max_tokens":16,"temperature":0.5,"messages":[)"
    R"({"role":"system","content":"Be brief."},{"role":"user","content":"Say \"hi\" \u00e9"}]}})";

InputRules routed() { return InputRules{.aliases = {"m", "other"}, .default_model = ""}; }

TEST(InputLineTextTest, ReadsTheCommonLineLikeTheDom) {
  auto fast = parseInputLineText(kLine, 7, routed());
  ASSERT_TRUE(fast.has_value());  // the common shape really takes the fast path
  EXPECT_EQ(fast->id, "req-1");
  EXPECT_EQ(fast->priority, Priority::High);
  EXPECT_EQ(fast->request.messages.at(1).content, "Say \"hi\" \xc3\xa9");
  EXPECT_EQ(fast->metadata.at(kUrlKey), kUrlChat);
  EXPECT_EQ(fast->metadata.at("batch.line"), "7");
  checkAgreement(kLine, routed());
}

TEST(InputLineTextTest, AcceptsTheUsualVariations) {
  const std::string lines[] = {
      // no priority, no method, members in another order, spaces everywhere
      R"({"body":{"model":"m","messages":[{"role":"user","content":"x"}]},"custom_id":"a",)"
      R"("url":"/v1/chat/completions"})",
      R"( { "custom_id" : "b" , "url" : "/v1/chat/completions" , "body" : )"
      R"({ "model" : "other" , "messages" : [ { "role" : "user" , "content" : "" } ] } } )",
      R"({"custom_id":"c","url":"/v1/chat/completions","priority":"low","body":{"model":"m",)"
      R"("stream":false,"messages":[{"role":"user","content":"x"}]}})",
  };
  for (const auto& line : lines) {
    EXPECT_TRUE(parseInputLineText(line, 1, routed()).has_value()) << line;
    checkAgreement(line, routed());
  }
}

TEST(InputLineTextTest, LeavesEverythingElseToTheDomPath) {
  const std::string lines[] = {
      // other endpoints and the enhancement form
      R"({"custom_id":"a","url":"/v1/embeddings","body":{"model":"m","input":"x"}})",
      R"({"custom_id":"a","url":"/v1/messages","body":{"model":"m","max_tokens":5,)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","content":"text","instruction":"fix it"})",
      // problems the DOM path must name
      R"({"custom_id":"","url":"/v1/chat/completions","body":{"model":"m","messages":[]}})",
      R"({"custom_id":"a","url":"/v1/chat/completions","priority":"urgent","body":{"model":"m",)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","method":"GET","url":"/v1/chat/completions","body":{"model":"m",)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"nope",)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"m","stream":true,)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","url":"/v1/chat/completions"})",
      R"({"custom_id":"a","url":"/v1/chat/completions","body":[]})",
      // what the DOM reads differently: repeats (last wins), nulls (absent), unknown members
      R"({"custom_id":"a","custom_id":"b","url":"/v1/chat/completions","body":{"model":"m",)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","priority":null,"url":"/v1/chat/completions","body":{"model":"m",)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","extra":1,"url":"/v1/chat/completions","body":{"model":"m",)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      // body members the fast codec does not read
      R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"m","tools":[],)"
      R"("messages":[{"role":"user","content":"x"}]}})",
      R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"m","messages":[]}} x)",
  };
  for (const auto& line : lines) {
    EXPECT_FALSE(parseInputLineText(line, 1, routed()).has_value()) << line;
  }
}

TEST(InputLineTextTest, AgreesWithTheDomOnEveryTruncationAndByteFlip) {
  const InputRules rules[] = {routed(), InputRules{}};
  for (const auto& r : rules) {
    for (size_t n = 0; n <= kLine.size(); ++n) checkAgreement(kLine.substr(0, n), r);
    for (size_t i = 0; i < kLine.size(); ++i) {
      for (char c : {'"', '\\', '{', '}', ',', ':', ' ', 'x', '\x01', '\xff', '0'}) {
        std::string flipped = kLine;
        flipped[i] = c;
        checkAgreement(flipped, r);
      }
    }
  }
}

}  // namespace
}  // namespace llmpool::batch
