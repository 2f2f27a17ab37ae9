#include "providers/anthropic_inbound.h"

#include <gtest/gtest.h>

#include "providers/anthropic_stream_encoder.h"
#include "providers/chat_stream_decoder.h"
#include "providers/provider_codec.h"
#include "providers/sse_decoder.h"
#include "providers/stream_assembler.h"

namespace llmpool::providers {
namespace {

TEST(ParseAnthropicRequestTest, FullRequest) {
  Json body = Json::parse(R"({
    "model":"claude-x","max_tokens":256,
    "system":[{"type":"text","text":"Be terse."}],
    "messages":[
      {"role":"user","content":"Weather in Paris?"},
      {"role":"assistant","content":[{"type":"text","text":"Checking."},
        {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
        {"type":"text","text":"And tomorrow?"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}],
    "stop_sequences":["END"],"temperature":0.5,"top_p":0.9,"top_k":40,
    "tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object"}}],
    "tool_choice":{"type":"any","disable_parallel_tool_use":true},
    "metadata":{"user_id":"u-9"},"stream":true,"thinking":{"type":"enabled","budget_tokens":1024}})");
  auto r = parseAnthropicRequest(body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->model, "claude-x");
  EXPECT_EQ(r->max_tokens, 256);
  ASSERT_EQ(r->messages.size(), 5u);
  EXPECT_EQ(r->messages[0].role, "system");
  EXPECT_EQ(r->messages[0].content, "Be terse.");
  EXPECT_EQ(r->messages[1].content, "Weather in Paris?");
  EXPECT_EQ(r->messages[2].role, "assistant");
  EXPECT_EQ(r->messages[2].content, "Checking.");
  ASSERT_EQ(r->messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r->messages[2].tool_calls[0].id, "toolu_1");
  EXPECT_EQ(Json::parse(r->messages[2].tool_calls[0].arguments)["city"], "Paris");
  EXPECT_EQ(r->messages[3].role, "tool");
  EXPECT_EQ(r->messages[3].tool_call_id, "toolu_1");
  EXPECT_EQ(r->messages[3].content, "18C");
  EXPECT_EQ(r->messages[4].role, "user");
  EXPECT_EQ(r->messages[4].content, "And tomorrow?");
  EXPECT_EQ(r->messages[4].content_parts[1]["type"], "image_url");
  EXPECT_EQ(r->messages[4].content_parts[1]["image_url"]["url"], "data:image/png;base64,AAAA");
  EXPECT_EQ(r->stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r->temperature, 0.5);
  EXPECT_EQ(r->top_p, 0.9);
  EXPECT_EQ(r->tools[0]["type"], "function");
  EXPECT_EQ(r->tools[0]["function"]["name"], "get_weather");
  EXPECT_EQ(r->tools[0]["function"]["parameters"]["type"], "object");
  EXPECT_EQ(r->tool_choice, "required");
  EXPECT_EQ(r->extra["parallel_tool_calls"], false);
  EXPECT_EQ(r->extra["top_k"], 40);
  EXPECT_EQ(r->extra["thinking"]["budget_tokens"], 1024);
  EXPECT_EQ(r->user, "u-9");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
}

TEST(ParseAnthropicRequestTest, RoundTripThroughTheAnthropicEncoder) {
  Json client = Json::parse(R"({"model":"alias","max_tokens":100,"system":"S",
    "messages":[{"role":"user","content":"q"},
      {"role":"assistant","content":[{"type":"text","text":"t"},
        {"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"r"},
        {"type":"text","text":"more"}]}],
    "stop_sequences":["x"],"temperature":0.3,"top_k":5,
    "tools":[{"name":"f","description":"d","input_schema":{"type":"object"}}],
    "tool_choice":{"type":"tool","name":"f"},"metadata":{"user_id":"u"}})");
  auto parsed = parseAnthropicRequest(client);
  ASSERT_TRUE(parsed) << parsed.error().message;
  Endpoint ep{ProviderKind::Anthropic, "http://h/v1", "k", "", {}};
  Json sent = Json::parse(encodeChat(ep, *parsed, "upstream").body);
  Json expected = client;
  expected["model"] = "upstream";
  EXPECT_EQ(sent, expected) << sent.dump(1);
}

TEST(ParseAnthropicRequestTest, ErrorsNameTheField) {
  auto err = [](const char* body) {
    auto r = parseAnthropicRequest(Json::parse(body));
    if (r) return std::string("ok");
    EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
    return r.error().message;
  };
  EXPECT_EQ(err(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"),
            "max_tokens: required");
  EXPECT_EQ(err(R"({"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]})"),
            "messages[0].role: expected one of user, assistant");
  EXPECT_EQ(err(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":
                "text"}]}]})"),
            "messages[0].content[0].text: expected a string");
  EXPECT_EQ(err(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                "temperature":1.5})"),
            "temperature: must be between 0 and 1");
  EXPECT_EQ(err(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                "tools":[{"name":"f"}]})"),
            "tools[0].input_schema: expected an object");
  EXPECT_EQ(err(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                "tool_choice":{"type":"maybe"}})"),
            "tool_choice.type: expected one of auto, any, tool, none");
  EXPECT_EQ(err(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":
                "tool_result"}]}]})"),
            "messages[0].content[0].tool_use_id: required");
}

TEST(ToAnthropicResponseTest, Shape) {
  ChatResponse r;
  r.id = "msg_1";
  r.model = "m";
  ChatChoice c;
  c.content = "Checking.";
  c.tool_calls.push_back({"toolu_1", "function", "f", R"({"a":1})"});
  c.finish_reason = "tool_calls";
  r.choices = {c};
  r.usage = {10, 5, 15};
  Json j = toAnthropicResponse(r);
  EXPECT_EQ(j["type"], "message");
  EXPECT_EQ(j["role"], "assistant");
  EXPECT_EQ(j["content"][0], (Json{{"type", "text"}, {"text", "Checking."}}));
  EXPECT_EQ(j["content"][1]["input"]["a"], 1);
  EXPECT_EQ(j["stop_reason"], "tool_use");
  EXPECT_EQ(j["usage"]["input_tokens"], 10);
  EXPECT_EQ(j["usage"]["output_tokens"], 5);
  // Decoding it as a provider answer gives the response back.
  http::HttpResponse http;
  http.status = 200;
  http.body = j.dump();
  auto back = decodeChat(ProviderKind::Anthropic, http);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->choices[0].content, "Checking.");
  EXPECT_EQ(back->choices[0].finish_reason, "tool_calls");
  EXPECT_EQ(back->usage.total_tokens, 15);
}

TEST(AnthropicErrorBodyTest, Types) {
  auto type = [](ErrorCode code, std::optional<int> status = std::nullopt) {
    Error e(code, "m");
    e.http_status = status;
    Json j = anthropicErrorBody(e);
    EXPECT_EQ(j["type"], "error");
    EXPECT_EQ(j["error"]["message"], "m");
    return j["error"]["type"].get<std::string>();
  };
  EXPECT_EQ(type(ErrorCode::InvalidRequest), "invalid_request_error");
  EXPECT_EQ(type(ErrorCode::AuthFailed), "authentication_error");
  EXPECT_EQ(type(ErrorCode::AuthFailed, 403), "permission_error");
  EXPECT_EQ(type(ErrorCode::NotFound), "not_found_error");
  EXPECT_EQ(type(ErrorCode::RateLimited), "rate_limit_error");
  EXPECT_EQ(type(ErrorCode::ProviderOverloaded), "overloaded_error");
  EXPECT_EQ(type(ErrorCode::Timeout), "timeout_error");
  EXPECT_EQ(type(ErrorCode::ServerError), "api_error");
}

/** Parses encoder output back into (event name, data) pairs. */
std::vector<SseEvent> events(const std::string& sse) {
  std::vector<SseEvent> out;
  SseDecoder decoder;
  EXPECT_TRUE(decoder.feed(sse, [&](SseEvent&& e) { out.push_back(std::move(e)); }));
  return out;
}

TEST(AnthropicStreamEncoderTest, OpenAIChunksBecomeAnthropicEvents) {
  AnthropicStreamEncoder enc;
  std::string sse;
  ChatChunk role;
  role.id = "chatcmpl-1";
  role.model = "gpt-4o";
  role.role = "assistant";
  sse += enc.encode(role);
  ChatChunk text;
  text.content = "Hel";
  sse += enc.encode(text);
  text.content = "lo";
  sse += enc.encode(text);
  ChatChunk tool_start;
  tool_start.tool_calls = Json::parse(
      R"([{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}])");
  sse += enc.encode(tool_start);
  ChatChunk tool_args;
  tool_args.tool_calls = Json::parse(R"([{"index":0,"function":{"arguments":"{\"a\":1}"}}])");
  sse += enc.encode(tool_args);
  ChatChunk finish;
  finish.finish_reason = "tool_calls";
  sse += enc.encode(finish);
  ChatChunk usage;
  usage.usage = Usage{9, 4, 13};
  sse += enc.encode(usage);
  sse += enc.finish();
  EXPECT_TRUE(enc.finished());
  EXPECT_EQ(enc.finish(), "");
  EXPECT_EQ(enc.encode(text), "");

  auto ev = events(sse);
  std::vector<std::string> names;
  for (const auto& e : ev) names.push_back(e.event);
  EXPECT_EQ(names,
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop",
                                      "content_block_start", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop"}));
  for (const auto& e : ev) EXPECT_EQ(Json::parse(e.data)["type"], e.event);
  EXPECT_EQ(Json::parse(ev[0].data)["message"]["id"], "chatcmpl-1");
  EXPECT_EQ(Json::parse(ev[5].data)["index"], 1);
  EXPECT_EQ(Json::parse(ev[5].data)["content_block"]["id"], "call_1");
  EXPECT_EQ(Json::parse(ev[6].data)["delta"]["partial_json"], "{\"a\":1}");
  Json delta = Json::parse(ev[8].data);
  EXPECT_EQ(delta["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(delta["usage"]["output_tokens"], 4);
  EXPECT_EQ(delta["usage"]["input_tokens"], 9);

  // The Anthropic stream decoder reads the encoder's output back to the same response.
  auto decoder = makeStreamDecoder(ProviderKind::Anthropic);
  StreamAssembler assembler;
  ASSERT_TRUE(decoder->feed(sse, [&](ChatChunk&& c) { assembler.add(c); }));
  ASSERT_TRUE(decoder->finish());
  ChatResponse r = assembler.response();
  EXPECT_EQ(r.text(), "Hello");
  ASSERT_EQ(r.choices[0].tool_calls.size(), 1u);
  EXPECT_EQ(r.choices[0].tool_calls[0].arguments, "{\"a\":1}");
  EXPECT_EQ(r.choices[0].finish_reason, "tool_calls");
  EXPECT_EQ(r.usage.prompt_tokens, 9);
  EXPECT_EQ(r.usage.completion_tokens, 4);
}

TEST(AnthropicStreamEncoderTest, MessageStartReportsTheInputEstimateUntilUsageIsKnown) {
  // An OpenAI stream's first chunk has no usage: message_start carries the estimate, and
  // message_delta the provider's count at the end.
  AnthropicStreamEncoder enc;
  enc.setInputTokensEstimate(42);
  ChatChunk role;
  role.role = "assistant";
  std::string sse = enc.encode(role);
  ChatChunk usage;
  usage.usage = Usage{9, 4, 13};
  sse += enc.encode(usage);
  sse += enc.finish();
  auto ev = events(sse);
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev.front().event, "message_start");
  EXPECT_EQ(Json::parse(ev.front().data)["message"]["usage"]["input_tokens"], 42);
  const Json delta = Json::parse(ev[ev.size() - 2].data);
  EXPECT_EQ(delta["type"], "message_delta");
  EXPECT_EQ(delta["usage"]["input_tokens"], 9);
  // A first chunk that does carry usage wins over the estimate.
  AnthropicStreamEncoder known;
  known.setInputTokensEstimate(42);
  ChatChunk first;
  first.usage = Usage{7, 0, 7};
  auto start = events(known.encode(first));
  ASSERT_FALSE(start.empty());
  EXPECT_EQ(Json::parse(start.front().data)["message"]["usage"]["input_tokens"], 7);
}

TEST(AnthropicStreamEncoderTest, EmptyStreamAndErrorEvent) {
  AnthropicStreamEncoder enc;
  auto ev = events(enc.finish());
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].event, "message_start");
  EXPECT_EQ(ev[1].event, "message_delta");
  EXPECT_TRUE(Json::parse(ev[1].data)["delta"]["stop_reason"].is_null());
  EXPECT_EQ(ev[2].event, "message_stop");
  auto err =
      events(AnthropicStreamEncoder::errorEvent(Error(ErrorCode::ProviderOverloaded, "busy")));
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(err[0].event, "error");
  EXPECT_EQ(Json::parse(err[0].data)["error"]["type"], "overloaded_error");
  EXPECT_EQ(AnthropicStreamEncoder::pingEvent(), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

}  // namespace
}  // namespace llmpool::providers
