#include "mock/reply.h"

#include <gtest/gtest.h>

#include <cmath>

#include "llmpool/chat.h"
#include "mock/duration_text.h"
#include "mock/latency_model.h"
#include "mock/mock_wire.h"

namespace llmpool::mock {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> pieces(const MockReply& reply) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < reply.pieceCount(); ++i) out.emplace_back(reply.piece(i));
  return out;
}

TEST(ReplyTest, EchoesLastUserMessageWithPrefix) {
  auto prompt = parseChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"first"},)"
      R"({"role":"assistant","content":"ok"},{"role":"user","content":"second one"}]})",
      Endpoint::ChatCompletions);
  ASSERT_TRUE(prompt.has_value());
  EXPECT_EQ(prompt->model, "m");
  EXPECT_EQ(prompt->last_user, "second one");
  MockReply reply = deriveReply(*prompt);
  EXPECT_EQ(reply.text, "mock reply: second one");
  EXPECT_EQ(pieces(reply), (std::vector<std::string>{"mock", " reply:", " second", " one"}));
  EXPECT_FALSE(reply.cut);
  EXPECT_EQ(reply.completion_tokens, 4);
  // 5 + 2 + 10 = 17 characters -> ceil(17 / 4) = 5
  EXPECT_EQ(reply.prompt_tokens, 5);
}

TEST(ReplyTest, MaxTokensCutsWordsAndPrefersMaxCompletionTokens) {
  auto prompt = parseChatRequest(R"({"model":"m","max_tokens":100,"max_completion_tokens":3,)"
                                 R"("messages":[{"role":"user","content":"a b c d"}]})",
                                 Endpoint::ChatCompletions);
  MockReply reply = deriveReply(*prompt);
  EXPECT_EQ(reply.text, "mock reply: a");
  EXPECT_TRUE(reply.cut);
  EXPECT_EQ(reply.completion_tokens, 3);
  // max_tokens equal to the word count does not cut
  auto exact = parseChatRequest(
      R"({"model":"m","max_tokens":4,"messages":[{"role":"user","content":"a b"}]})",
      Endpoint::ChatCompletions);
  EXPECT_FALSE(deriveReply(*exact).cut);
}

TEST(ReplyTest, EchoIsCutAt200CharactersNotBytes) {
  std::string text;
  for (int i = 0; i < 250; ++i) text += "\xC3\xA9";  // é, 2 bytes each
  auto prompt =
      parseChatRequest(R"({"model":"m","messages":[{"role":"user","content":")" + text + R"("}]})",
                       Endpoint::ChatCompletions);
  ASSERT_TRUE(prompt.has_value());
  EXPECT_EQ(prompt->last_user.size(), 400u);
  EXPECT_EQ(prompt->prompt_chars, 250);
}

TEST(ReplyTest, ContentPartsAndAnthropicSystemCount) {
  auto prompt = parseChatRequest(
      R"({"model":"c","system":"12345678","max_tokens":10,"messages":[{"role":"user","content":)"
      R"([{"type":"text","text":"hi"},{"type":"image","source":{}},{"type":"text","text":" there"}]}]})",
      Endpoint::Messages);
  ASSERT_TRUE(prompt.has_value());
  EXPECT_EQ(prompt->last_user, "hi there");
  EXPECT_EQ(prompt->prompt_chars, 16);
  EXPECT_EQ(deriveReply(*prompt).prompt_tokens, 4);
}

TEST(ReplyTest, StreamFlagsAndInvalidBodies) {
  auto prompt = parseChatRequest(
      R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]})",
      Endpoint::ChatCompletions);
  ASSERT_TRUE(prompt.has_value());
  EXPECT_TRUE(prompt->stream);
  EXPECT_TRUE(prompt->include_usage);
  EXPECT_EQ(deriveReply(*prompt).prompt_tokens, 1);  // at least 1
  EXPECT_FALSE(parseChatRequest("not json", Endpoint::ChatCompletions).has_value());
  auto no_model = parseChatRequest(R"({"messages":[]})", Endpoint::ChatCompletions);
  ASSERT_FALSE(no_model.has_value());
  EXPECT_NE(no_model.error().message.find("model"), std::string::npos);
  EXPECT_FALSE(parseChatRequest(R"({"model":"m"})", Endpoint::ChatCompletions).has_value());
}

TEST(ReplyTest, WordPiecesKeepLeadingWhitespaceAndConcatenateBack) {
  const std::string text = "a  b\nc ";
  auto ends = splitWordPieces(text);
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_EQ(text.substr(0, ends[0]), "a");
  EXPECT_EQ(text.substr(ends[0], ends[1] - ends[0]), "  b");
  EXPECT_EQ(text.substr(ends[1]), "\nc ");
  EXPECT_EQ(ends.back(), text.size());
}

TEST(ReplyTest, EmbeddingsAreDeterministicUnitVectors) {
  auto prompt = parseEmbeddingsRequest(R"({"model":"e","input":["abc","abcd"]})");
  ASSERT_TRUE(prompt.has_value());
  ASSERT_EQ(prompt->inputs.size(), 2u);
  EXPECT_EQ(prompt->prompt_tokens, 2);
  auto v1 = embeddingVector("abc", 16);
  EXPECT_EQ(v1, embeddingVector("abc", 16));
  EXPECT_NE(v1, embeddingVector("abcd", 16));
  double norm = 0;
  for (float x : v1) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  auto single = parseEmbeddingsRequest(R"({"model":"e","input":"one","encoding_format":"base64"})");
  EXPECT_EQ(single->inputs.size(), 1u);
  EXPECT_TRUE(single->base64);
  EXPECT_EQ(parseEmbeddingsRequest(R"({"model":"e","input":[1,2,3]})")->inputs.size(), 1u);
  EXPECT_FALSE(parseEmbeddingsRequest(R"({"model":"e"})").has_value());
}

TEST(MockWireTest, BodiesAreValidJsonInTheirDialect) {
  auto prompt = *parseChatRequest(
      R"({"model":"m\"q","max_tokens":2,"messages":[{"role":"user","content":"x y z"}]})",
      Endpoint::ChatCompletions);
  MockReply reply = deriveReply(prompt);
  const WireContext ctx{"chatcmpl-1", prompt.model, 1700000000};
  Json openai = Json::parse(openaiCompletion(ctx, reply));
  EXPECT_EQ(openai["model"], "m\"q");
  EXPECT_EQ(openai["choices"][0]["message"]["content"], "mock reply:");
  EXPECT_EQ(openai["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(openai["usage"]["total_tokens"], reply.prompt_tokens + 2);
  Json anthropic = Json::parse(anthropicMessage(ctx, reply));
  EXPECT_EQ(anthropic["content"][0]["text"], "mock reply:");
  EXPECT_EQ(anthropic["stop_reason"], "max_tokens");
  Json error = Json::parse(errorBody(Endpoint::Messages, 529, "busy", "req_1"));
  EXPECT_EQ(error["type"], "error");
  EXPECT_EQ(error["error"]["type"], "overloaded_error");
  Json oerror = Json::parse(errorBody(Endpoint::ChatCompletions, 429, "slow down", "req_1"));
  EXPECT_EQ(oerror["error"]["type"], "rate_limit_error");
  EXPECT_TRUE(oerror["error"]["param"].is_null());
  EXPECT_EQ(oerror["error"]["code"], "rate_limit_exceeded");
}

TEST(MockWireTest, LogprobsAreGivenPerWordOnlyWhenAskedFor) {
  const std::string_view asked =
      R"({"model":"m","logprobs":true,"messages":[{"role":"user","content":"é b"}]})";
  auto prompt = *parseChatRequest(asked, Endpoint::ChatCompletions);
  MockReply reply = deriveReply(prompt);
  const WireContext ctx{"chatcmpl-1", prompt.model, 1700000000};
  Json body = Json::parse(openaiCompletion(ctx, reply));
  const Json& content = body["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), reply.pieceCount());  // "mock", " reply:", " é", " b"
  std::string joined;
  for (const Json& entry : content) {
    joined += entry["token"].get<std::string>();
    EXPECT_LT(entry["logprob"].get<double>(), 0.0);
    EXPECT_EQ(entry["bytes"].size(), entry["token"].get<std::string>().size());
    EXPECT_TRUE(entry["top_logprobs"].is_array());
  }
  EXPECT_EQ(joined, reply.text);
  EXPECT_EQ(content[2]["bytes"], Json::parse("[32,195,169]"));  // " é" as UTF-8 bytes

  // Streamed, each content event carries the log probability of its own piece.
  StreamScript script = openaiStream(ctx, reply, false);
  for (std::size_t i = 0; i < reply.pieceCount(); ++i) {
    const std::string& event = script.events[script.first_content + i];
    const Json chunk = Json::parse(event.substr(6));  // after "data: "
    const Json& entries = chunk["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(entries.size(), 1u) << event;
    EXPECT_EQ(entries[0]["token"], chunk["choices"][0]["delta"]["content"]);
  }

  auto plain = *parseChatRequest(R"({"model":"m","messages":[{"role":"user","content":"b"}]})",
                                 Endpoint::ChatCompletions);
  EXPECT_TRUE(
      Json::parse(openaiCompletion(ctx, deriveReply(plain)))["choices"][0]["logprobs"].is_null());
}

TEST(MockWireTest, OpenAiStreamScriptHasOneEventPerWordAndEndsWithDone) {
  auto prompt = *parseChatRequest(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
                                  Endpoint::ChatCompletions);
  MockReply reply = deriveReply(prompt);
  StreamScript script = openaiStream({"id", "m", 1}, reply, /*include_usage=*/true);
  EXPECT_EQ(script.first_content, 1u);
  EXPECT_EQ(script.content_count, 3u);
  ASSERT_EQ(script.events.size(), 1 + 3 + 1 + 1 + 1u);  // role, words, finish, usage, [DONE]
  std::string text;
  for (std::size_t i = 0; i + 1 < script.events.size(); ++i) {
    const std::string& event = script.events[i];
    ASSERT_TRUE(event.starts_with("data: ") && event.ends_with("\n\n")) << event;
    Json chunk = Json::parse(event.substr(6));
    if (i >= 1 && i <= 3) text += chunk["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, "mock reply: hi");
  EXPECT_EQ(Json::parse(script.events[5].substr(6))["usage"]["completion_tokens"], 3);
  EXPECT_EQ(script.events.back(), "data: [DONE]\n\n");
}

TEST(MockWireTest, AnthropicThinkingComesFirstWhenAskedAndCountsTheBlocksHandedBack) {
  // A second turn: the first answer's thinking block (and a redacted one) handed back.
  const std::string_view asked = R"({"model":"m","max_tokens":50,
      "thinking":{"type":"enabled","budget_tokens":1024},
      "messages":[{"role":"user","content":"a"},
                  {"role":"assistant","content":[
                      {"type":"thinking","thinking":"t","signature":"s"},
                      {"type":"redacted_thinking","data":"d"},
                      {"type":"text","text":"b"}]},
                  {"role":"user","content":"c d"}]})";
  auto prompt = *parseChatRequest(asked, Endpoint::Messages);
  EXPECT_TRUE(prompt.thinking);
  EXPECT_EQ(prompt.thinking_blocks, 2);
  MockReply reply = deriveReply(prompt);
  EXPECT_EQ(reply.thinking, thinkingText(2));
  EXPECT_EQ(reply.completion_tokens,
            static_cast<int64_t>(reply.pieceCount() + splitWordPieces(reply.thinking).size()));
  const WireContext ctx{"msg_1", prompt.model, 1700000000};
  Json message = Json::parse(anthropicMessage(ctx, reply));
  ASSERT_EQ(message["content"].size(), 2u);
  EXPECT_EQ(message["content"][0]["type"], "thinking");
  EXPECT_EQ(message["content"][0]["thinking"], thinkingText(2));
  EXPECT_EQ(message["content"][0]["signature"], ThinkingSignature);
  EXPECT_EQ(message["content"][1]["text"], "mock reply: c d");
  EXPECT_EQ(message["usage"]["output_tokens"], reply.completion_tokens);

  // Streamed: the thinking block (index 0) with its thinking and signature deltas, then the text
  // block (index 1) a word per event.
  StreamScript script = anthropicStream(ctx, reply);
  std::vector<std::string> kinds;
  std::string thinking, signature, text;
  for (const std::string& event : script.events) {
    ASSERT_TRUE(event.starts_with("event: ") && event.ends_with("\n\n")) << event;
    const size_t data = event.find("\ndata: ");
    const std::string name = event.substr(7, data - 7);
    const Json json = Json::parse(event.substr(data + 7));
    EXPECT_EQ(json["type"], name);
    std::string kind = name;
    if (json.contains("delta") && json["delta"].contains("type")) {
      kind = json["delta"]["type"];
      if (kind == "thinking_delta") thinking += json["delta"]["thinking"].get<std::string>();
      if (kind == "signature_delta") signature += json["delta"]["signature"].get<std::string>();
      if (kind == "text_delta") {
        EXPECT_EQ(json["index"], 1);
        text += json["delta"]["text"].get<std::string>();
      }
    }
    if (kinds.empty() || kinds.back() != kind) kinds.push_back(kind);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{
                       "message_start", "content_block_start", "ping", "thinking_delta",
                       "signature_delta", "content_block_stop", "content_block_start", "text_delta",
                       "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(thinking, thinkingText(2));
  EXPECT_EQ(signature, ThinkingSignature);
  EXPECT_EQ(text, "mock reply: c d");
  EXPECT_EQ(script.content_count, reply.pieceCount());
  EXPECT_NE(script.events[script.first_content].find("text_delta"), std::string::npos);

  // Not asked: no thinking.
  auto plain = *parseChatRequest(
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"c"}]})",
      Endpoint::Messages);
  EXPECT_TRUE(deriveReply(plain).thinking.empty());
  auto disabled = *parseChatRequest(R"({"model":"m","max_tokens":5,"thinking":{"type":)"
                                    R"("disabled"},"messages":[{"role":"user","content":"c"}]})",
                                    Endpoint::Messages);
  EXPECT_TRUE(deriveReply(disabled).thinking.empty());
  // The OpenAI endpoint reasons when asked either way, as OpenAI-compatible reasoning servers do.
  auto openai = *parseChatRequest(R"({"model":"m","thinking":{"type":"enabled"},)"
                                  R"("messages":[{"role":"user","content":"c"}]})",
                                  Endpoint::ChatCompletions);
  EXPECT_EQ(thinkingText(0), deriveReply(openai).thinking);
  for (const auto& [effort, reasons] : {std::pair{"high", true}, std::pair{"low", true},
                                        std::pair{"minimal", false}, std::pair{"none", false}}) {
    auto r = *parseChatRequest(std::string(R"({"model":"m","reasoning_effort":")") + effort +
                                   R"(","messages":[{"role":"user","content":"c"}]})",
                               Endpoint::ChatCompletions);
    EXPECT_EQ(reasons, !deriveReply(r).thinking.empty()) << effort;
  }
  const std::string body = openaiCompletion(WireContext{}, deriveReply(openai));
  EXPECT_NE(std::string::npos, body.find(R"("reasoning_content":"mock thinking)")) << body;
}

TEST(MockWireTest, Base64MatchesRfc4648) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
}

TEST(DurationTest, ParsesUnits) {
  EXPECT_EQ(*parseDuration("250ms"), 250ms);
  EXPECT_EQ(*parseDuration("2s"), 2000ms);
  EXPECT_EQ(*parseDuration("1.5s"), 1500ms);
  EXPECT_EQ(*parseDuration("1m"), 60000ms);
  EXPECT_EQ(*parseDuration("0"), 0ms);
  EXPECT_FALSE(parseDuration("5").has_value());
  EXPECT_FALSE(parseDuration("-1s").has_value());
  EXPECT_FALSE(parseDuration("fast").has_value());
}

TEST(LatencyModelTest, FixedOrLognormalWithGivenMedianAndP99) {
  MockRandom random(3);
  LatencyModel fixed(50ms, std::nullopt);
  EXPECT_EQ(fixed.sample(random), 50ms);
  LatencyModel tail(100ms, 400ms);
  std::vector<int64_t> samples;
  for (int i = 0; i < 20000; ++i) samples.push_back(tail.sample(random).count());
  std::sort(samples.begin(), samples.end());
  EXPECT_NEAR(static_cast<double>(samples[10000]), 100e3, 5e3);   // median 100 ms
  EXPECT_NEAR(static_cast<double>(samples[19800]), 400e3, 40e3);  // p99 400 ms
}

}  // namespace
}  // namespace llmpool::mock
