#include "providers/provider_codec.h"

#include <gtest/gtest.h>

namespace llmpool::providers {
namespace {

ChatRequest sampleRequest() {
  ChatRequest r;
  r.model = "alias";
  ChatMessage sys{.role = "system", .content = "Be terse."};
  ChatMessage dev{.role = "developer", .content = "Answer in English."};
  ChatMessage user{.role = "user", .content = "What is the weather in Paris?"};
  ChatMessage assistant{.role = "assistant"};
  assistant.tool_calls.push_back({"call_1", "function", "get_weather", R"({"city":"Paris"})"});
  ChatMessage tool{.role = "tool", .content = "18C, sunny"};
  tool.tool_call_id = "call_1";
  r.messages = {sys, dev, user, assistant, tool};
  r.temperature = 0.2;
  r.top_p = 0.9;
  r.max_tokens = 100;
  r.stop = {"END"};
  r.n = 1;
  r.seed = 7;
  r.presence_penalty = 0.5;
  r.frequency_penalty = -0.5;
  r.tools =
      Json::parse(R"([{"type":"function","function":{"name":"get_weather","description":"Weather",)"
                  R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])");
  r.tool_choice = "auto";
  r.response_format = {{"type", "text"}};
  r.user = "u-1";
  r.extra = {{"logit_bias", {{"50256", -100}}}, {"parallel_tool_calls", false}};
  return r;
}

Json bodyOf(const http::HttpRequest& request) { return Json::parse(request.body); }

TEST(OpenAIEncodeTest, UrlHeadersAndFields) {
  Endpoint ep{ProviderKind::OpenAI, "https://api.openai.com/v1/", "sk-secret", "", {}};
  ChatRequest req = sampleRequest();
  http::HttpRequest http = encodeChat(ep, req, "gpt-4o-mini");
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.url, "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(http::findHeader(http.headers, "authorization"), "Bearer sk-secret");
  EXPECT_EQ(http::findHeader(http.headers, "content-type"), "application/json");
  EXPECT_EQ(http.body.find("sk-secret"), std::string::npos);
  Json b = bodyOf(http);
  EXPECT_EQ(b["model"], "gpt-4o-mini");
  ASSERT_EQ(b["messages"].size(), 5u);
  EXPECT_EQ(b["messages"][1]["role"], "developer");
  EXPECT_TRUE(b["messages"][3]["content"].is_null());
  EXPECT_EQ(b["messages"][3]["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(b["messages"][4]["tool_call_id"], "call_1");
  EXPECT_EQ(b["temperature"], 0.2);
  EXPECT_EQ(b["top_p"], 0.9);
  EXPECT_EQ(b["max_completion_tokens"], 100);  // api.openai.com: the current name
  EXPECT_FALSE(b.contains("max_tokens"));
  EXPECT_EQ(b["stop"], "END");
  EXPECT_EQ(b["n"], 1);
  EXPECT_EQ(b["seed"], 7);
  EXPECT_EQ(b["presence_penalty"], 0.5);
  EXPECT_EQ(b["frequency_penalty"], -0.5);
  EXPECT_EQ(b["tools"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(b["tool_choice"], "auto");
  EXPECT_EQ(b["response_format"]["type"], "text");
  EXPECT_EQ(b["user"], "u-1");
  EXPECT_EQ(b["logit_bias"]["50256"], -100);
  EXPECT_EQ(b["parallel_tool_calls"], false);
  EXPECT_FALSE(b.contains("stream"));
}

TEST(OpenAIEncodeTest, CompatibleServerGetsMaxTokensAndNoAuthWithoutKey) {
  Endpoint ep{ProviderKind::OpenAI, "http://127.0.0.1:8000/v1", "", "", {{"X-Team", "a"}}};
  ChatRequest req = sampleRequest();
  req.stream = true;
  req.stop = {"a", "b"};
  http::HttpRequest http = encodeChat(ep, req, "llama");
  EXPECT_EQ(http::findHeader(http.headers, "authorization"), "");
  EXPECT_EQ(http::findHeader(http.headers, "x-team"), "a");
  EXPECT_EQ(http::findHeader(http.headers, "accept"), "text/event-stream");
  Json b = bodyOf(http);
  EXPECT_EQ(b["max_tokens"], 100);
  EXPECT_EQ(b["stop"], Json::array({"a", "b"}));
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["stream_options"]["include_usage"], true);  // the pool always wants usage
}

// Claude Code and other Anthropic clients send Anthropic-only parameters; OpenAI's API and Azure
// refuse a request with a parameter they do not know, self-hosted servers may use them.
TEST(OpenAIEncodeTest, AnAnthropicClientsOwnParametersGoOnlyWhereTheyAreTaken) {
  ChatRequest req = sampleRequest();
  req.source_dialect = WireDialect::Anthropic;
  req.extra = Json::parse(R"({"thinking":{"type":"enabled","budget_tokens":1024},"top_k":5})");
  for (const Endpoint& strict :
       {Endpoint{ProviderKind::OpenAI, "https://api.openai.com/v1", "k", "", {}},
        Endpoint{ProviderKind::Azure, "https://x.openai.azure.com", "k", "", {}}}) {
    Json b = bodyOf(encodeChat(strict, req, "gpt-4.1"));
    EXPECT_FALSE(b.contains("thinking")) << strict.base_url;
    EXPECT_FALSE(b.contains("top_k")) << strict.base_url;
    EXPECT_EQ(b["messages"], bodyOf(encodeChat(strict, sampleRequest(), "gpt-4.1"))["messages"]);
  }
  Json local = bodyOf(encodeChat(
      Endpoint{ProviderKind::OpenAI, "http://127.0.0.1:8000/v1", "", "", {}}, req, "qwen3"));
  EXPECT_EQ(5, local["top_k"]);
  EXPECT_EQ("enabled", local["thinking"]["type"]);
  // An OpenAI client's own extra parameters go to OpenAI as they came.
  req.source_dialect = WireDialect::None;
  req.extra = Json::parse(R"({"prediction":{"type":"content","content":"x"}})");
  EXPECT_TRUE(
      bodyOf(encodeChat(Endpoint{ProviderKind::OpenAI, "https://api.openai.com/v1", "k", "", {}},
                        req, "gpt-4.1"))
          .contains("prediction"));
}

TEST(OpenAIEncodeTest, ContentPartsPassThrough) {
  ChatRequest req;
  ChatMessage m{.role = "user", .content = "look"};
  m.content_parts = Json::parse(
      R"([{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}])");
  m.name = "alice";
  req.messages = {m};
  Endpoint ep{ProviderKind::OpenAI, "http://h/v1", "", "", {}};
  Json b = bodyOf(encodeChat(ep, req, "m"));
  EXPECT_EQ(b["messages"][0]["content"], m.content_parts);
  EXPECT_EQ(b["messages"][0]["name"], "alice");
}

TEST(AzureEncodeTest, DeploymentUrlAndApiKeyHeader) {
  Endpoint ep{ProviderKind::Azure, "https://res.openai.azure.com", "azkey", "2024-06-01", {}};
  http::HttpRequest http = encodeChat(ep, sampleRequest(), "gpt 4o");
  EXPECT_EQ(http.url,
            "https://res.openai.azure.com/openai/deployments/gpt%204o/chat/completions"
            "?api-version=2024-06-01");
  EXPECT_EQ(http::findHeader(http.headers, "api-key"), "azkey");
  EXPECT_EQ(http::findHeader(http.headers, "authorization"), "");
  EXPECT_EQ(bodyOf(http)["max_tokens"], 100);
  Endpoint newer{
      ProviderKind::Azure, "https://res.openai.azure.com", "k", "2025-01-01-preview", {}};
  EXPECT_EQ(bodyOf(encodeChat(newer, sampleRequest(), "d"))["max_completion_tokens"], 100);
  Endpoint dflt{ProviderKind::Azure, "https://res.openai.azure.com", "k", "", {}};
  EXPECT_NE(encodeChat(dflt, sampleRequest(), "d").url.find("api-version=2024-10-21"),
            std::string::npos);
}

TEST(AnthropicEncodeTest, MapsEveryField) {
  Endpoint ep{ProviderKind::Anthropic, "https://api.anthropic.com/v1", "ant-secret", "", {}};
  ChatRequest req = sampleRequest();
  req.temperature = 1.7;  // OpenAI range: clamped into Anthropic's 0..1
  req.extra["top_k"] = 5;
  http::HttpRequest http = encodeChat(ep, req, "claude-x");
  EXPECT_EQ(http.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(http::findHeader(http.headers, "x-api-key"), "ant-secret");
  EXPECT_EQ(http::findHeader(http.headers, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(http::findHeader(http.headers, "authorization"), "");
  EXPECT_EQ(http.body.find("ant-secret"), std::string::npos);
  Json b = bodyOf(http);
  EXPECT_EQ(b["model"], "claude-x");
  EXPECT_EQ(b["system"], "Be terse.\n\nAnswer in English.");
  EXPECT_EQ(b["max_tokens"], 100);
  EXPECT_EQ(b["temperature"], 1.0);
  EXPECT_EQ(b["top_p"], 0.9);
  EXPECT_EQ(b["top_k"], 5);
  EXPECT_EQ(b["stop_sequences"], Json::array({"END"}));
  EXPECT_EQ(b["metadata"]["user_id"], "u-1");
  EXPECT_FALSE(b.contains("logit_bias"));  // OpenAI-only extras are not sent
  EXPECT_FALSE(b.contains("seed"));
  EXPECT_FALSE(b.contains("n"));
  const Json& msgs = b["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["role"], "user");
  EXPECT_EQ(msgs[0]["content"], "What is the weather in Paris?");
  EXPECT_EQ(msgs[1]["role"], "assistant");
  EXPECT_EQ(msgs[1]["content"][0]["type"], "tool_use");
  EXPECT_EQ(msgs[1]["content"][0]["id"], "call_1");
  EXPECT_EQ(msgs[1]["content"][0]["input"]["city"], "Paris");
  EXPECT_EQ(msgs[2]["role"], "user");
  EXPECT_EQ(msgs[2]["content"][0]["type"], "tool_result");
  EXPECT_EQ(msgs[2]["content"][0]["tool_use_id"], "call_1");
  EXPECT_EQ(msgs[2]["content"][0]["content"], "18C, sunny");
  EXPECT_EQ(b["tools"][0]["name"], "get_weather");
  EXPECT_EQ(b["tools"][0]["description"], "Weather");
  EXPECT_EQ(b["tools"][0]["input_schema"]["properties"]["city"]["type"], "string");
  EXPECT_EQ(b["tool_choice"]["type"], "auto");
  EXPECT_EQ(b["tool_choice"]["disable_parallel_tool_use"], true);
}

TEST(AnthropicEncodeTest, DefaultsMergingAndImages) {
  Endpoint ep{ProviderKind::Anthropic, "http://127.0.0.1:9/v1", "k", "2024-01-01", {}};
  ChatRequest req;
  ChatMessage u1{.role = "user", .content = "one"};
  ChatMessage u2{.role = "user", .content = "two"};
  u2.content_parts = Json::parse(
      R"([{"type":"text","text":"two"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}])");
  ChatMessage a1{.role = "assistant", .content = "three"};
  ChatMessage a2{.role = "assistant", .content = "four"};
  req.messages = {u1, u2, a1, a2};
  req.tool_choice = "required";
  req.stream = true;
  http::HttpRequest http = encodeChat(ep, req, "m");
  EXPECT_EQ(http::findHeader(http.headers, "anthropic-version"), "2024-01-01");
  Json b = bodyOf(http);
  EXPECT_EQ(b["max_tokens"], DefaultAnthropicMaxTokens);
  EXPECT_FALSE(b.contains("system"));
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["tool_choice"]["type"], "any");
  ASSERT_EQ(b["messages"].size(), 2u);  // consecutive same-role turns merged
  const Json& user = b["messages"][0]["content"];
  ASSERT_EQ(user.size(), 3u);
  EXPECT_EQ(user[0]["text"], "one");
  EXPECT_EQ(user[1]["text"], "two");
  EXPECT_EQ(user[2]["type"], "image");
  EXPECT_EQ(user[2]["source"]["type"], "base64");
  EXPECT_EQ(user[2]["source"]["media_type"], "image/png");
  EXPECT_EQ(user[2]["source"]["data"], "AAAA");
  EXPECT_EQ(b["messages"][1]["content"].size(), 2u);
}

http::HttpResponse ok(std::string body) {
  http::HttpResponse r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

TEST(OpenAIDecodeTest, ResponseWithToolCallsAndUsage) {
  auto r = decodeChat(ProviderKind::OpenAI, ok(R"({"id":"chatcmpl-1","object":"chat.completion",
    "created":1741570283,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant",
    "content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"f",
    "arguments":"{\"x\":1}"}}]},"finish_reason":"tool_calls"},{"index":1,"message":{"role":
    "assistant","content":"4"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,
    "completion_tokens":1,"total_tokens":20}})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, "chatcmpl-1");
  EXPECT_EQ(r->model, "gpt-4o");
  EXPECT_EQ(r->created, 1741570283);
  ASSERT_EQ(r->choices.size(), 2u);
  EXPECT_EQ(r->choices[0].finish_reason, "tool_calls");
  ASSERT_EQ(r->choices[0].tool_calls.size(), 1u);
  EXPECT_EQ(r->choices[0].tool_calls[0].name, "f");
  EXPECT_EQ(r->choices[0].tool_calls[0].arguments, R"({"x":1})");
  EXPECT_EQ(r->choices[1].content, "4");
  EXPECT_EQ(r->usage.prompt_tokens, 19);
  EXPECT_EQ(r->usage.completion_tokens, 1);
  EXPECT_EQ(r->usage.total_tokens, 20);
}

TEST(OpenAIDecodeTest, MalformedBodiesAreProtocolErrors) {
  for (const char* body : {"not json", "[]", R"({"id":"x"})", R"({"choices":[{"index":0}]})",
                           R"({"choices":[{"message":{"content":5}}]})"}) {
    auto r = decodeChat(ProviderKind::OpenAI, ok(body));
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, ErrorCode::Protocol) << body;
  }
}

TEST(OpenAIDecodeTest, ErrorObjectInsideA200IsThatError) {
  auto r = decodeChat(
      ProviderKind::OpenAI,
      ok(R"({"error":{"message":"slow down","type":"x","code":"rate_limit_exceeded"}})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::RateLimited);
}

TEST(AnthropicDecodeTest, ResponseMapping) {
  auto r = decodeChat(ProviderKind::Anthropic, ok(R"({"id":"msg_01X","type":"message",
    "role":"assistant","model":"claude-3-5-sonnet-20240620","content":[{"type":"thinking",
    "thinking":"hmm"},{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1",
    "name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,
    "usage":{"input_tokens":12,"output_tokens":7,"cache_creation_input_tokens":3,
    "cache_read_input_tokens":5}})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, "msg_01X");
  ASSERT_EQ(r->choices.size(), 1u);
  EXPECT_EQ(r->choices[0].content, "Let me check.");
  EXPECT_EQ(r->choices[0].finish_reason, "tool_calls");
  ASSERT_EQ(r->choices[0].tool_calls.size(), 1u);
  EXPECT_EQ(r->choices[0].tool_calls[0].id, "toolu_1");
  EXPECT_EQ(Json::parse(r->choices[0].tool_calls[0].arguments)["city"], "Paris");
  EXPECT_EQ(r->usage.prompt_tokens, 20);
  EXPECT_EQ(r->usage.completion_tokens, 7);
  EXPECT_EQ(r->usage.total_tokens, 27);
}

TEST(AnthropicDecodeTest, StopReasonTable) {
  const std::pair<const char*, const char*> table[] = {{"end_turn", "stop"},
                                                       {"stop_sequence", "stop"},
                                                       {"max_tokens", "length"},
                                                       {"tool_use", "tool_calls"},
                                                       {"refusal", "content_filter"},
                                                       {"pause_turn", "stop"},
                                                       {"model_context_window_exceeded", "length"}};
  for (const auto& [anthropic_reason, openai_reason] : table) {
    Json body = {{"id", "m"}, {"content", Json::array()}, {"stop_reason", anthropic_reason}};
    auto r = decodeChat(ProviderKind::Anthropic, ok(body.dump()));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->choices[0].finish_reason, openai_reason) << anthropic_reason;
  }
  auto err =
      decodeChat(ProviderKind::Anthropic,
                 ok(R"({"type":"error","error":{"type":"overloaded_error","message":"o"}})"));
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code, ErrorCode::ProviderOverloaded);
  auto bad = decodeChat(ProviderKind::Anthropic, ok(R"({"type":"message"})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Protocol);
}

TEST(ProviderRequestIdTest, OpenAIsHeaderThenAnthropics) {
  EXPECT_EQ(providerRequestId({{"x-request-id", "req_1"}, {"request-id", "req_2"}}), "req_1");
  EXPECT_EQ(providerRequestId({{"content-type", "x"}, {"Request-Id", "req_2"}}), "req_2");
  EXPECT_EQ(providerRequestId({{"content-type", "x"}}), "");
}

TEST(HealthProbeTest, PerKindUrlsAndHeaders) {
  Endpoint openai{ProviderKind::OpenAI, "https://api.openai.com/v1", "sk-x", "", {}};
  http::HttpRequest p = encodeHealthProbe(openai, "");
  EXPECT_EQ(p.method, "GET");
  EXPECT_EQ(p.url, "https://api.openai.com/v1/models");
  EXPECT_EQ(http::findHeader(p.headers, "authorization"), "Bearer sk-x");
  EXPECT_TRUE(p.body.empty());
  Endpoint azure{ProviderKind::Azure, "https://r.openai.azure.com", "k", "2024-06-01", {}};
  EXPECT_EQ(encodeHealthProbe(azure, "").url,
            "https://r.openai.azure.com/openai/models?api-version=2024-06-01");
  Endpoint ant{ProviderKind::Anthropic, "https://api.anthropic.com/v1", "k", "", {}};
  http::HttpRequest a = encodeHealthProbe(ant, "");
  EXPECT_EQ(a.url, "https://api.anthropic.com/v1/models");
  EXPECT_EQ(http::findHeader(a.headers, "x-api-key"), "k");
  EXPECT_EQ(http::findHeader(a.headers, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(encodeHealthProbe(openai, "/health").url, "https://api.openai.com/v1/health");
  EXPECT_EQ(encodeHealthProbe(openai, "http://127.0.0.1:8000/health").url,
            "http://127.0.0.1:8000/health");
}

TEST(EmbeddingsCodecTest, EncodeAndDecodeFloatAndBase64) {
  EmbeddingRequest req{.model = "alias",
                       .input = {"a", "b"},
                       .dimensions = 3,
                       .encoding_format = "base64",
                       .user = "u"};
  Endpoint ep{ProviderKind::OpenAI, "http://h/v1", "k", "", {}};
  auto http = encodeEmbeddings(ep, req, "text-embedding-3-small");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->url, "http://h/v1/embeddings");
  Json b = Json::parse(http->body);
  EXPECT_EQ(b["model"], "text-embedding-3-small");
  EXPECT_EQ(b["input"], Json::array({"a", "b"}));
  EXPECT_EQ(b["dimensions"], 3);
  EXPECT_EQ(b["encoding_format"], "base64");
  Endpoint az{ProviderKind::Azure, "https://r.openai.azure.com/", "k", "2024-06-01", {}};
  EXPECT_EQ(encodeEmbeddings(az, req, "emb")->url,
            "https://r.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-06-01");
  Endpoint ant{ProviderKind::Anthropic, "http://h", "k", "", {}};
  EXPECT_FALSE(encodeEmbeddings(ant, req, "m"));

  // [1.0, -2.5] as little-endian float32 = 00 00 80 3F 00 00 20 C0 -> "AACAPwAAIMA="
  auto r = decodeEmbeddings(ProviderKind::OpenAI, ok(R"({"object":"list","model":"e",
    "data":[{"object":"embedding","index":1,"embedding":"AACAPwAAIMA="},
            {"object":"embedding","index":0,"embedding":[0.5,0.25]}],
    "usage":{"prompt_tokens":4,"total_tokens":4}})"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->data.size(), 2u);
  EXPECT_EQ(r->data[0], (std::vector<float>{0.5f, 0.25f}));  // ordered by index
  EXPECT_EQ(r->data[1], (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(r->usage.prompt_tokens, 4);
  EXPECT_EQ(r->model, "e");
  auto bad =
      decodeEmbeddings(ProviderKind::OpenAI, ok(R"({"data":[{"index":0,"embedding":"AAA"}]})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Protocol);
}

}  // namespace
}  // namespace llmpool::providers
