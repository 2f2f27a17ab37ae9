// Reasoning across dialects: OpenAI-compatible `reasoning_content` / `reasoning` and Anthropic
// thinking blocks are read into ChatChoice::reasoning (ChatChunk::reasoning when streamed) and
// written out in the client's dialect.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "providers/anthropic_codec.h"
#include "providers/anthropic_inbound.h"
#include "providers/anthropic_stream_encoder.h"
#include "providers/chat_stream_decoder.h"
#include "providers/openai_codec.h"
#include "providers/openai_inbound.h"
#include "providers/stream_assembler.h"

namespace llmpool::providers {
namespace {

std::string openAIReply(const std::string& message_fields) {
  return R"({"id":"c1","object":"chat.completion","created":1,"model":"r1","choices":[)"
         R"({"index":0,"message":{"role":"assistant","content":"42")" +
         message_fields +
         R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":5,)"
         R"("total_tokens":8}})";
}

// Both readers of an OpenAI-dialect reply: the direct one and the DOM one.
std::vector<std::string> bothReadings(const std::string& body) {
  std::vector<std::string> out;
  auto fast = openai::parseResponseText(body);
  out.push_back(fast ? fast->choices.at(0).reasoning : "<fast path declined>");
  auto dom = openai::parseResponse(Json::parse(body));
  out.push_back(dom ? dom->choices.at(0).reasoning : "<error>");
  return out;
}

TEST(ReasoningTest, OpenAIDialectRepliesCarryItAsReasoningContentOrReasoning) {
  const std::vector<std::string> think = {"think", "think"};
  EXPECT_EQ(think, bothReadings(openAIReply(R"(,"reasoning_content":"think")")));
  EXPECT_EQ(think, bothReadings(openAIReply(R"(,"reasoning":"think")")));
  // Both: reasoning_content wins, in either order.
  EXPECT_EQ(think, bothReadings(openAIReply(R"(,"reasoning_content":"think","reasoning":"x")")));
  EXPECT_EQ(think, bothReadings(openAIReply(R"(,"reasoning":"x","reasoning_content":"think")")));
  const std::vector<std::string> none = {"", ""};
  EXPECT_EQ(none, bothReadings(openAIReply(R"(,"reasoning_content":null)")));
  EXPECT_EQ(none, bothReadings(openAIReply("")));
}

std::vector<ChatChunk> decode(ProviderKind kind, const std::string& sse) {
  auto decoder = makeStreamDecoder(kind);
  std::vector<ChatChunk> chunks;
  const auto emit = [&](ChatChunk&& c) { chunks.push_back(std::move(c)); };
  EXPECT_TRUE(decoder->feed(sse, emit).has_value());
  EXPECT_TRUE(decoder->finish(emit).has_value());
  return chunks;
}

std::string reasoningOfChunks(const std::vector<ChatChunk>& chunks) {
  std::string out;
  for (const auto& c : chunks) out += c.reasoning;
  return out;
}

TEST(ReasoningTest, StreamsOfBothDialectsCarryItInChunks) {
  const std::string openai_sse =
      R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"
      "\n\n"
      R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"reasoning_content":"a b "},"finish_reason":null}]})"
      "\n\n"
      R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"reasoning":"c"},"finish_reason":null}]})"
      "\n\n"
      R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"r1","choices":[{"index":0,"delta":{"content":"42"},"finish_reason":"stop"}]})"
      "\n\ndata: [DONE]\n\n";
  const auto openai_chunks = decode(ProviderKind::OpenAI, openai_sse);
  EXPECT_EQ("a b c", reasoningOfChunks(openai_chunks));

  const std::string anthropic_sse =
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude","content":[],"usage":{"input_tokens":3,"output_tokens":0}}})"
      "\n\nevent: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"
      "\n\nevent: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm "}})"
      "\n\nevent: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}})"
      "\n\nevent: content_block_start\n"
      R"(data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"
      "\n\nevent: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"42"}})"
      "\n\nevent: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}})"
      "\n\nevent: message_stop\n"
      R"(data: {"type":"message_stop"})"
      "\n\n";
  const auto anthropic_chunks = decode(ProviderKind::Anthropic, anthropic_sse);
  EXPECT_EQ("hmm ", reasoningOfChunks(anthropic_chunks));

  StreamAssembler assembler;
  for (const auto& c : anthropic_chunks) assembler.add(c);
  EXPECT_EQ("hmm ", assembler.response().choices.at(0).reasoning);
  EXPECT_EQ("42", assembler.response().choices.at(0).content);
}

TEST(ReasoningTest, AnthropicThinkingBlocksAreRead) {
  auto r = anthropic::parseResponse(
      Json::parse(R"({"id":"m","type":"message","role":"assistant","model":"claude","content":[)"
                  R"({"type":"thinking","thinking":"step one","signature":"s"},)"
                  R"({"type":"redacted_thinking","data":"xyz"},{"type":"text","text":"42"}],)"
                  R"("stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":5}})"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ("step one", r->choices.at(0).reasoning);
  EXPECT_EQ("42", r->choices.at(0).content);
}

ChatResponse reasoned() {
  ChatResponse r;
  r.id = "x";
  r.model = "r1";
  ChatChoice c;
  c.content = "42";
  c.reasoning = "because";
  c.finish_reason = "stop";
  r.choices.push_back(c);
  return r;
}

TEST(ReasoningTest, OpenAIClientsGetReasoningContent) {
  EXPECT_EQ("because", toOpenAIChatResponse(reasoned())["choices"][0]["message"].value(
                           "reasoning_content", ""));
  const Json text = Json::parse(openAIChatResponseText(reasoned()));
  EXPECT_EQ("because", text["choices"][0]["message"].value("reasoning_content", ""));
  ChatResponse plain = reasoned();
  plain.choices[0].reasoning.clear();
  EXPECT_FALSE(Json::parse(openAIChatResponseText(plain))["choices"][0]["message"].contains(
      "reasoning_content"));
  ChatChunk chunk;
  chunk.reasoning = "hm";
  EXPECT_EQ("hm", toOpenAIChunk(chunk)["choices"][0]["delta"].value("reasoning_content", ""));
}

TEST(ReasoningTest, AnthropicClientsGetAThinkingBlockFirst) {
  const Json message = toAnthropicResponse(reasoned());
  ASSERT_EQ(2u, message["content"].size());
  EXPECT_EQ("thinking", message["content"][0]["type"]);
  EXPECT_EQ("because", message["content"][0]["thinking"]);
  EXPECT_EQ("text", message["content"][1]["type"]);

  AnthropicStreamEncoder encoder;
  ChatChunk first;
  first.role = "assistant";
  first.reasoning = "be";
  ChatChunk second;
  second.reasoning = "cause";
  ChatChunk text;
  text.content = "42";
  std::string events = encoder.encode(first);
  events += encoder.encode(second);
  events += encoder.encode(text);
  events += encoder.finish();
  const auto at = [&](const std::string& s) { return events.find(s); };
  // One thinking block (index 0) with both deltas, closed before the text block (index 1).
  ASSERT_NE(std::string::npos,
            at(R"("content_block":{"signature":"","thinking":"","type":"thinking"})"))
      << events;
  EXPECT_LT(at(R"("thinking":"be")"), at(R"("thinking":"cause")"));
  EXPECT_LT(at(R"({"index":0,"type":"content_block_stop"})"), at(R"("type":"text_delta")"))
      << events;
  EXPECT_NE(std::string::npos, at(R"("content_block":{"text":"","type":"text"},"index":1)"))
      << events;
}

}  // namespace
}  // namespace llmpool::providers
