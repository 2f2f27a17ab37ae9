#include "providers/openai_inbound.h"

#include <gtest/gtest.h>

#include "providers/provider_codec.h"

namespace llmpool::providers {
namespace {

std::string errorOf(const char* body) {
  auto r = parseOpenAIChatRequest(Json::parse(body));
  if (r) return "ok";
  EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
  return r.error().message;
}

TEST(ParseOpenAIChatRequestTest, FullRequest) {
  Json body = Json::parse(R"({
    "model":"gpt-4o-mini",
    "messages":[
      {"role":"system","content":"Be terse."},
      {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]},
      {"role":"user","name":"bob","content":[{"type":"text","text":"see"},
        {"type":"image_url","image_url":{"url":"https://x/y.png"}}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
        "function":{"name":"f","arguments":"{\"a\":1}"}}]},
      {"role":"tool","tool_call_id":"call_1","content":"42"}],
    "temperature":0.3,"top_p":1,"max_tokens":10,"max_completion_tokens":20,"stop":["x","y"],
    "n":2,"seed":99,"presence_penalty":0.1,"frequency_penalty":0.2,
    "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
    "tool_choice":{"type":"function","function":{"name":"f"}},
    "response_format":{"type":"json_object"},"user":"u","stream":true,
    "stream_options":{"include_usage":true},"logprobs":true,"service_tier":"auto","top_k":null})");
  auto r = parseOpenAIChatRequest(body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->model, "gpt-4o-mini");
  ASSERT_EQ(r->messages.size(), 5u);
  EXPECT_EQ(r->messages[1].content, "Hi\nthere");
  EXPECT_TRUE(r->messages[1].content_parts.is_null());  // text-only parts collapse to text
  EXPECT_EQ(r->messages[2].content, "see");
  EXPECT_EQ(r->messages[2].content_parts.size(), 2u);
  EXPECT_EQ(r->messages[2].name, "bob");
  ASSERT_EQ(r->messages[3].tool_calls.size(), 1u);
  EXPECT_EQ(r->messages[3].tool_calls[0].arguments, R"({"a":1})");
  EXPECT_EQ(r->messages[4].tool_call_id, "call_1");
  EXPECT_EQ(r->temperature, 0.3);
  EXPECT_EQ(r->top_p, 1.0);
  EXPECT_EQ(r->max_tokens, 20);  // max_completion_tokens wins
  EXPECT_EQ(r->stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r->n, 2);
  EXPECT_EQ(r->seed, 99);
  EXPECT_EQ(r->presence_penalty, 0.1);
  EXPECT_EQ(r->frequency_penalty, 0.2);
  EXPECT_EQ(r->tools[0]["function"]["name"], "f");
  EXPECT_EQ(r->tool_choice["function"]["name"], "f");
  EXPECT_EQ(r->response_format["type"], "json_object");
  EXPECT_EQ(r->user, "u");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->extra["logprobs"], true);
  EXPECT_EQ(r->extra["service_tier"], "auto");
  EXPECT_TRUE(r->extra.contains("top_k"));
  EXPECT_FALSE(r->extra.contains("model"));
  EXPECT_FALSE(r->extra.contains("max_completion_tokens"));
}

TEST(ParseOpenAIChatRequestTest, ErrorsNameTheField) {
  EXPECT_EQ(errorOf(R"([])"), "body: expected a JSON object");
  EXPECT_EQ(errorOf(R"({"messages":[{"role":"user","content":"x"}]})"), "model: required");
  EXPECT_EQ(errorOf(R"({"model":"m"})"), "messages: required");
  EXPECT_EQ(errorOf(R"({"model":"m","messages":[]})"), "messages: expected a non-empty array");
  EXPECT_EQ(errorOf(R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user",
                    "content":"b"},{"role":"robot","content":"c"}]})"),
            "messages[2].role: expected one of system, developer, user, assistant, tool, "
            "function");
  EXPECT_EQ(errorOf(R"({"model":"m","messages":[{"role":"user"}]})"),
            "messages[0].content: required");
  EXPECT_EQ(errorOf(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})"),
            "messages[0].content[0].text: expected a string");
  EXPECT_EQ(errorOf(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})"),
            "messages[0].tool_call_id: required for role tool");
  EXPECT_EQ(errorOf(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"1",
                    "function":{}}]}]})"),
            "messages[0].tool_calls[0].function.name: expected a string");
  const char* base = R"({"model":"m","messages":[{"role":"user","content":"x"}],)";
  auto with = [&](const char* field) { return errorOf((std::string(base) + field + "}").c_str()); };
  EXPECT_EQ(with(R"("temperature":3)"), "temperature: must be between 0 and 2");
  EXPECT_EQ(with(R"("temperature":"hot")"), "temperature: expected a number");
  EXPECT_EQ(with(R"("top_p":1.5)"), "top_p: must be between 0 and 1");
  EXPECT_EQ(with(R"("max_tokens":0)"), "max_tokens: must be between 1 and 9223372036854775807");
  EXPECT_EQ(with(R"("max_tokens":1.5)"), "max_tokens: expected an integer");
  EXPECT_EQ(with(R"("n":500)"), "n: must be between 1 and 128");
  EXPECT_EQ(with(R"("stop":[1])"), "stop[0]: expected a string");
  EXPECT_EQ(with(R"("stop":5)"), "stop: expected a string or an array of strings");
  EXPECT_EQ(with(R"("presence_penalty":-3)"), "presence_penalty: must be between -2 and 2");
  EXPECT_EQ(with(R"("tools":[{"type":"function","function":{}}])"),
            "tools[0].function.name: expected a non-empty string");
  EXPECT_EQ(with(R"("tool_choice":"sometimes")"),
            "tool_choice: expected none, auto, required or an object");
  EXPECT_EQ(with(R"("response_format":{"type":"yaml"})"),
            "response_format.type: expected one of text, json_object, json_schema");
  EXPECT_EQ(with(R"("stream":"yes")"), "stream: expected true or false");
  EXPECT_EQ(with(R"("stream_options":{"include_usage":1})"),
            "stream_options.include_usage: expected true or false");
  EXPECT_EQ(with(R"("user":5)"), "user: expected a string");
  EXPECT_EQ(with(R"("max_tokens":5.0,"temperature":null)"), "ok");
}

TEST(ParseOpenAIChatRequestTest, RoundTripThroughTheEncoder) {
  // What a client sends reaches an OpenAI-compatible provider with the same meaning.
  Json client = Json::parse(R"({"model":"alias","messages":[{"role":"developer","content":"d"},
    {"role":"user","content":"q"}],"temperature":0.5,"max_tokens":7,"stop":"s","seed":1,
    "response_format":{"type":"json_schema","json_schema":{"name":"x"}},"logit_bias":{"1":2}})");
  auto parsed = parseOpenAIChatRequest(client);
  ASSERT_TRUE(parsed);
  Endpoint ep{ProviderKind::OpenAI, "http://h/v1", "", "", {}};
  Json sent = Json::parse(encodeChat(ep, *parsed, "upstream").body);
  Json expected = client;
  expected["model"] = "upstream";
  EXPECT_EQ(sent, expected);
}

TEST(ToOpenAIChatResponseTest, Shape) {
  ChatResponse r;
  r.id = "chatcmpl-1";
  r.model = "m";
  r.created = 5;
  ChatChoice c;
  c.content = "";
  c.tool_calls.push_back({"call_1", "function", "f", "{}"});
  c.finish_reason = "tool_calls";
  ChatChoice c2;
  c2.index = 1;
  c2.content = "hi";
  r.choices = {c, c2};
  r.usage = {3, 4, 7};
  Json j = toOpenAIChatResponse(r);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"], "chatcmpl-1");
  EXPECT_EQ(j["created"], 5);
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(j["choices"][0]["message"]["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(j["choices"][1]["message"]["content"], "hi");
  EXPECT_TRUE(j["choices"][1]["finish_reason"].is_null());
  EXPECT_EQ(j["usage"]["total_tokens"], 7);

  // And it decodes back to the same response (what the batch runner relies on).
  http::HttpResponse http;
  http.status = 200;
  http.body = j.dump();
  auto back = decodeChat(ProviderKind::OpenAI, http);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->choices[0].tool_calls[0].name, "f");
  EXPECT_EQ(back->choices[1].content, "hi");
  EXPECT_EQ(back->usage.total_tokens, 7);
}

TEST(ToOpenAIChunkTest, ContentAndUsageChunks) {
  ChatChunk first;
  first.id = "c";
  first.model = "m";
  first.created = 9;
  first.role = "assistant";
  Json j = toOpenAIChunk(first);
  EXPECT_EQ(j["object"], "chat.completion.chunk");
  EXPECT_EQ(j["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["delta"]["content"], "");
  EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null());
  EXPECT_FALSE(j.contains("usage"));

  ChatChunk done;
  done.finish_reason = "stop";
  Json d = toOpenAIChunk(done);
  EXPECT_EQ(d["choices"][0]["delta"], Json::object());
  EXPECT_EQ(d["choices"][0]["finish_reason"], "stop");

  ChatChunk usage;
  usage.usage = Usage{9, 2, 11};
  Json u = toOpenAIChunk(usage);
  EXPECT_EQ(u["choices"], Json::array());
  EXPECT_EQ(u["usage"]["prompt_tokens"], 9);
  EXPECT_EQ(u["usage"]["total_tokens"], 11);
}

TEST(OpenAIErrorBodyTest, Shape) {
  Error e(ErrorCode::RateLimited, "slow down");
  Json j = openAIErrorBody(e);
  EXPECT_EQ(j["error"]["message"], "slow down");
  EXPECT_EQ(j["error"]["type"], "rate_limit_error");
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_EQ(j["error"]["code"], "rate_limited");
  EXPECT_EQ(openAIErrorBody(Error(ErrorCode::InvalidRequest, "x"))["error"]["type"],
            "invalid_request_error");
  EXPECT_EQ(openAIErrorBody(Error(ErrorCode::AuthFailed, "x"))["error"]["type"],
            "authentication_error");
  EXPECT_EQ(openAIErrorBody(Error(ErrorCode::Internal, "x"))["error"]["type"], "api_error");
}

TEST(EmbeddingInboundTest, ParseAndSerialise) {
  auto one = parseOpenAIEmbeddingRequest(Json::parse(R"({"model":"e","input":"hello"})"));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->input, std::vector<std::string>{"hello"});
  EXPECT_EQ(one->encoding_format, "");
  auto many = parseOpenAIEmbeddingRequest(Json::parse(
      R"({"model":"e","input":["a","b"],"dimensions":8,"encoding_format":"base64","user":"u"})"));
  ASSERT_TRUE(many);
  EXPECT_EQ(many->input.size(), 2u);
  EXPECT_EQ(many->dimensions, 8);
  EXPECT_EQ(many->encoding_format, "base64");
  EXPECT_EQ(many->user, "u");
  auto err = [](const char* body) {
    auto r = parseOpenAIEmbeddingRequest(Json::parse(body));
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(err(R"({"input":"x"})"), "model: required");
  EXPECT_EQ(err(R"({"model":"e"})"), "input: required");
  EXPECT_EQ(err(R"({"model":"e","input":[]})"),
            "input: expected a string or a non-empty array of strings");
  EXPECT_EQ(err(R"({"model":"e","input":[1,2,3]})"),
            "input: token arrays are not supported; send text");
  EXPECT_EQ(err(R"({"model":"e","input":["a",{}]})"), "input[1]: expected a string");
  EXPECT_EQ(err(R"({"model":"e","input":"a","encoding_format":"hex"})"),
            "encoding_format: expected float or base64");
  EXPECT_EQ(err(R"({"model":"e","input":"a","dimensions":0})"),
            "dimensions: must be between 1 and 1000000");

  EmbeddingResponse resp;
  resp.model = "e";
  resp.data = {{1.0f, -2.5f}, {0.5f}};
  resp.usage = {4, 0, 0};
  Json f = toOpenAIEmbeddingResponse(resp, false);
  EXPECT_EQ(f["object"], "list");
  EXPECT_EQ(f["data"][0]["object"], "embedding");
  EXPECT_EQ(f["data"][1]["index"], 1);
  EXPECT_EQ(f["data"][0]["embedding"][1], -2.5);
  EXPECT_EQ(f["usage"]["prompt_tokens"], 4);
  EXPECT_EQ(f["usage"]["total_tokens"], 4);
  Json b = toOpenAIEmbeddingResponse(resp, true);
  EXPECT_EQ(b["data"][0]["embedding"], "AACAPwAAIMA=");

  // Both forms decode back to the same vectors.
  for (const Json& body : {f, b}) {
    http::HttpResponse http;
    http.status = 200;
    http.body = body.dump();
    auto back = decodeEmbeddings(ProviderKind::OpenAI, http);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->data, resp.data);
  }
}

}  // namespace
}  // namespace llmpool::providers
