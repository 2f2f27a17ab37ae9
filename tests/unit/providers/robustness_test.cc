// Hostile input must produce errors, never exceptions or crashes: every value of sample
// documents is replaced by every JSON type in turn, and recorded streams are fed with bytes
// flipped.

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "providers/anthropic_inbound.h"
#include "providers/chat_stream_decoder.h"
#include "providers/error_classifier.h"
#include "providers/openai_inbound.h"
#include "providers/provider_codec.h"

namespace llmpool::providers {
namespace {

void collectPointers(const Json& j, const Json::json_pointer& at,
                     std::vector<Json::json_pointer>& out) {
  out.push_back(at);
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) collectPointers(value, at / key, out);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) collectPointers(j[i], at / i, out);
  }
}

/** Calls `check` with every variant of `doc` where one value is swapped for another type. */
void forEachMutation(const Json& doc, const std::function<void(const Json&)>& check) {
  std::vector<Json::json_pointer> pointers;
  collectPointers(doc, Json::json_pointer(), pointers);
  const Json replacements[] = {
      nullptr,       1, -7.5, "s", Json::array(), Json::object(), true, Json::array({1, "x"}),
      Json{{"k", 1}}};
  for (const auto& p : pointers) {
    for (const auto& r : replacements) {
      Json mutated = doc;
      mutated[p] = r;
      check(mutated);
    }
  }
}

constexpr const char* kOpenAIRequest = R"({"model":"m","messages":[{"role":"system","content":"s"},
  {"role":"user","content":[{"type":"text","text":"t"},{"type":"image_url","image_url":{"url":"u"}}]},
  {"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":
  {"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}],
  "temperature":0.1,"max_tokens":5,"stop":["x"],"n":1,"seed":2,"tools":[{"type":"function",
  "function":{"name":"f","parameters":{}}}],"tool_choice":"auto","response_format":{"type":"text"},
  "stream":true,"stream_options":{"include_usage":true},"user":"u"})";

constexpr const char* kAnthropicRequest = R"({"model":"m","max_tokens":5,"system":"s",
  "messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"text",
  "text":"t"},{"type":"tool_use","id":"i","name":"f","input":{}}]},{"role":"user","content":
  [{"type":"tool_result","tool_use_id":"i","content":[{"type":"text","text":"r"}]},{"type":"image",
  "source":{"type":"base64","media_type":"image/png","data":"AA"}}]}],"tools":[{"name":"f",
  "input_schema":{}}],"tool_choice":{"type":"tool","name":"f"},"metadata":{"user_id":"u"},
  "stop_sequences":["x"],"stream":true})";

TEST(RobustnessTest, InboundParsersNeverThrow) {
  int accepted = 0, rejected = 0;
  auto tally = [&](const auto& r) {
    if (r) {
      ++accepted;
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
      ++rejected;
    }
  };
  forEachMutation(Json::parse(kOpenAIRequest),
                  [&](const Json& j) { EXPECT_NO_THROW(tally(parseOpenAIChatRequest(j))); });
  forEachMutation(Json::parse(kAnthropicRequest),
                  [&](const Json& j) { EXPECT_NO_THROW(tally(parseAnthropicRequest(j))); });
  forEachMutation(Json::parse(R"({"model":"e","input":["a","b"],"dimensions":3})"),
                  [&](const Json& j) { EXPECT_NO_THROW(tally(parseOpenAIEmbeddingRequest(j))); });
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

TEST(RobustnessTest, ParsedMutantsStillEncode) {
  // Whatever the parsers accept, the encoders and serialisers can handle.
  Endpoint endpoints[] = {{ProviderKind::OpenAI, "http://h/v1", "k", "", {}},
                          {ProviderKind::Azure, "http://h", "k", "", {}},
                          {ProviderKind::Anthropic, "http://h/v1", "k", "", {}}};
  auto encodeAll = [&](const Result<ChatRequest>& r) {
    if (!r) return;
    for (const auto& ep : endpoints) EXPECT_FALSE(encodeChat(ep, *r, "m").body.empty());
  };
  forEachMutation(Json::parse(kOpenAIRequest),
                  [&](const Json& j) { EXPECT_NO_THROW(encodeAll(parseOpenAIChatRequest(j))); });
  forEachMutation(Json::parse(kAnthropicRequest),
                  [&](const Json& j) { EXPECT_NO_THROW(encodeAll(parseAnthropicRequest(j))); });
}

TEST(RobustnessTest, ResponseDecodersNeverThrow) {
  auto decode = [](ProviderKind kind, const Json& j) {
    http::HttpResponse r;
    r.status = 200;
    r.body = j.dump();
    auto decoded = decodeChat(kind, r);
    if (decoded) {
      (void)toOpenAIChatResponse(*decoded).dump();
      (void)toAnthropicResponse(*decoded).dump();
    }
    auto emb = decodeEmbeddings(kind, r);
    (void)emb;
    (void)classifyHttpError(kind, 500, {}, r.body, SystemTime{});
  };
  forEachMutation(
      Json::parse(R"({"id":"c","created":1,"model":"m","choices":[{"index":0,"message":{"role":
        "assistant","content":"x","tool_calls":[{"id":"t","type":"function","function":{"name":
        "f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,
        "completion_tokens":2,"total_tokens":3},"data":[{"index":0,"embedding":[1.5]}],
        "error":{"message":"m","type":"t","code":"c"}})"),
      [&](const Json& j) { EXPECT_NO_THROW(decode(ProviderKind::OpenAI, j)); });
  forEachMutation(
      Json::parse(R"({"id":"m","type":"message","model":"m","content":[{"type":"text","text":"x"},
        {"type":"tool_use","id":"t","name":"f","input":{"a":1}}],"stop_reason":"end_turn",
        "usage":{"input_tokens":1,"output_tokens":2}})"),
      [&](const Json& j) { EXPECT_NO_THROW(decode(ProviderKind::Anthropic, j)); });
}

TEST(RobustnessTest, StreamDecodersSurviveMutatedEvents) {
  // Each event's JSON mutated type-wise, then wrapped back into SSE.
  const std::pair<ProviderKind, std::vector<std::pair<std::string, const char*>>> streams[] = {
      {ProviderKind::OpenAI,
       {{"", R"({"id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant",
          "content":"x","tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{"}}]},
          "finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}})"},
        {"error", R"({"error":{"message":"m","type":"t","code":429}})"}}},
      {ProviderKind::Anthropic,
       {{"message_start", R"({"type":"message_start","message":{"id":"i","model":"m","usage":
          {"input_tokens":3}}})"},
        {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":
          {"type":"tool_use","id":"t","name":"f","input":{}}})"},
        {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":
          "input_json_delta","partial_json":"{"}})"},
        {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":
          {"output_tokens":2}})"},
        {"error", R"({"type":"error","error":{"type":"overloaded_error","message":"o"}})"}}}};
  for (const auto& [kind, events] : streams) {
    for (const auto& [name, data] : events) {
      forEachMutation(Json::parse(data), [&](const Json& j) {
        auto decoder = makeStreamDecoder(kind);
        std::string sse =
            (name.empty() ? "" : "event: " + name + "\n") + "data: " + j.dump() + "\n\n";
        std::vector<ChatChunk> chunks;
        EXPECT_NO_THROW({
          (void)decoder->feed(sse, [&](ChatChunk&& c) { chunks.push_back(std::move(c)); });
          (void)decoder->finish();
          for (const auto& c : chunks) (void)toOpenAIChunk(c).dump();
        });
      });
    }
  }
}

TEST(RobustnessTest, FlippedBytesInStreams) {
  const std::string stream =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\ndata: [DONE]\n\n";
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string s = stream;
    for (int k = 0; k < 3; ++k) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    for (ProviderKind kind : {ProviderKind::OpenAI, ProviderKind::Anthropic}) {
      auto decoder = makeStreamDecoder(kind);
      EXPECT_NO_THROW({
        (void)decoder->feed(s, [](ChatChunk&& c) { (void)toOpenAIChunk(c); });
        (void)decoder->finish();
      });
    }
  }
}

}  // namespace
}  // namespace llmpool::providers
