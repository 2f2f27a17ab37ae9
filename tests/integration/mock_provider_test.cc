// `llmpool mock` as a process on 127.0.0.1: the contract of docs/mock.md that other pieces'
// tests and benchmarks rely on.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "subprocess.h"

namespace llmpool::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// A raw HTTP/1.1 exchange: sends `request` and reads until the server closes or `timeout`
// passes. Returns everything read (status line, headers, raw body) and whether it closed.
struct RawResult {
  std::string text;
  bool closed = false;  // EOF or reset seen
  bool reset = false;
};

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

RawResult rawExchange(int port, const std::string& request, std::chrono::milliseconds timeout) {
  RawResult result;
  int fd = connectTo(port);
  if (fd < 0) return result;
  timeval tv{0, static_cast<suseconds_t>(std::chrono::microseconds(timeout).count())};
  if (timeout >= 1s) tv = {static_cast<time_t>(timeout.count() / 1000), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  char buf[16384];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      result.text.append(buf, static_cast<size_t>(n));
      continue;
    }
    result.closed = n == 0 || errno == ECONNRESET;
    result.reset = n < 0 && errno == ECONNRESET;
    break;
  }
  close(fd);
  return result;
}

std::string post(const std::string& path, const std::string& body,
                 const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         "Content-Type: application/json\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string chatBody(const std::string& prompt, bool stream = false) {
  Json body = {
      {"model", "gpt-test"},
      {"messages",
       {{{"role", "system"}, {"content", "Be terse."}}, {{"role", "user"}, {"content", prompt}}}}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body.dump();
}

std::string anthropicBody(const std::string& prompt, bool stream = false) {
  Json body = {{"model", "claude-test"},
               {"max_tokens", 100},
               {"messages", {{{"role", "user"}, {"content", prompt}}}}};
  if (stream) body["stream"] = true;
  return body.dump();
}

// Splits an SSE body into events (blank-line separated).
std::vector<std::string> sseEvents(const std::string& body) {
  std::vector<std::string> events;
  size_t pos = 0;
  while (true) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) break;
    events.push_back(body.substr(pos, end - pos));
    pos = end + 2;
  }
  return events;
}

Json stats(const MockProvider& mock) { return Json::parse(mock.statsJson()); }

TEST(MockProviderTest, ChatCompletionIsDeterministicWithUsageAndRequestId) {
  MockProvider mock;
  auto raw = rawExchange(mock.port(), post("/v1/chat/completions", chatBody("hello there")), 5s);
  ASSERT_TRUE(raw.text.starts_with("HTTP/1.1 200")) << raw.text;
  EXPECT_NE(raw.text.find("x-request-id: req_"), std::string::npos);
  Json reply = Json::parse(raw.text.substr(raw.text.find("\r\n\r\n") + 4));
  EXPECT_EQ(reply["object"], "chat.completion");
  EXPECT_EQ(reply["model"], "gpt-test");
  EXPECT_EQ(reply["choices"][0]["message"]["content"], "mock reply: hello there");
  EXPECT_EQ(reply["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(reply["usage"]["prompt_tokens"], 5);  // ceil((9 + 11) / 4)
  EXPECT_EQ(reply["usage"]["completion_tokens"], 4);
  EXPECT_EQ(reply["usage"]["total_tokens"], 9);
  // The base URL may omit /v1.
  auto [status, body] = httpRequest(mock.port(), "POST", "/chat/completions", chatBody("x"));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Json::parse(body)["choices"][0]["message"]["content"], "mock reply: x");
}

TEST(MockProviderTest, ChatStreamIsSseOneChunkPerWordEndingWithDone) {
  MockProvider mock;
  auto [status, body] =
      httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody("one two", true));
  ASSERT_EQ(status, 200);
  auto events = sseEvents(body);
  ASSERT_GE(events.size(), 4u) << body;
  EXPECT_EQ(events.back(), "data: [DONE]");
  std::string text;
  bool saw_usage = false;
  bool saw_finish = false;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    ASSERT_TRUE(events[i].starts_with("data: ")) << events[i];
    Json chunk = Json::parse(events[i].substr(6));
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    if (chunk["choices"].empty()) {
      saw_usage = true;
      EXPECT_EQ(chunk["usage"]["completion_tokens"], 4);
      continue;
    }
    auto& choice = chunk["choices"][0];
    if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) {
      saw_finish = true;
      EXPECT_EQ(choice["finish_reason"], "stop");
    }
  }
  EXPECT_EQ(text, "mock reply: one two");
  EXPECT_TRUE(saw_usage);
  EXPECT_TRUE(saw_finish);
  EXPECT_EQ(events.size(), 1 + 4 + 1 + 1 + 1u);  // role, 4 words, finish, usage, [DONE]
}

TEST(MockProviderTest, AnthropicMessageAndStreamEvents) {
  MockProvider mock;
  auto [status, body] = httpRequest(mock.port(), "POST", "/v1/messages", anthropicBody("hey"));
  ASSERT_EQ(status, 200);
  Json message = Json::parse(body);
  EXPECT_EQ(message["type"], "message");
  EXPECT_EQ(message["model"], "claude-test");
  EXPECT_EQ(message["content"][0]["text"], "mock reply: hey");
  EXPECT_EQ(message["stop_reason"], "end_turn");
  EXPECT_EQ(message["usage"]["output_tokens"], 3);

  auto streamed = httpRequest(mock.port(), "POST", "/v1/messages", anthropicBody("hey", true));
  ASSERT_EQ(streamed.first, 200);
  std::vector<std::string> names;
  std::string text;
  for (const auto& event : sseEvents(streamed.second)) {
    ASSERT_TRUE(event.starts_with("event: ")) << event;
    auto newline = event.find('\n');
    std::string name = event.substr(7, newline - 7);
    Json data = Json::parse(event.substr(newline + 7));  // "\ndata: "
    EXPECT_EQ(data["type"], name);
    if (name == "content_block_delta") text += data["delta"]["text"].get<std::string>();
    if (name != "ping") names.push_back(name);
  }
  EXPECT_EQ(text, "mock reply: hey");
  std::vector<std::string> expected{
      "message_start",       "content_block_start", "content_block_delta", "content_block_delta",
      "content_block_delta", "content_block_stop",  "message_delta",       "message_stop"};
  EXPECT_EQ(names, expected);
}

// ---- Tool calls (docs/mock.md, "Tool calls") -------------------------------------------------

Json openaiToolAsk(bool stream) {
  Json body = Json::parse(R"({"model":"gpt-test","messages":[{"role":"user","content":"Paris?"}],
      "tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}},
               {"type":"function","function":{"name":"clock"}}]})");
  if (stream) body["stream"] = true;
  return body;
}

Json anthropicToolAsk(bool stream) {
  Json body = Json::parse(R"({"model":"claude-test","max_tokens":100,
      "messages":[{"role":"user","content":"Paris?"}],
      "tools":[{"name":"weather","input_schema":{"type":"object"}},
               {"name":"clock","input_schema":{"type":"object"}}]})");
  if (stream) body["stream"] = true;
  return body;
}

// What a streamed OpenAI tool call added up to.
struct StreamedOpenAiCall {
  std::string id, name, arguments, finish_reason;
  int argument_chunks = 0;
  bool done = false;
};

StreamedOpenAiCall readOpenAiToolStream(const std::string& body) {
  StreamedOpenAiCall out;
  for (const std::string& event : sseEvents(body)) {
    if (event == "data: [DONE]") {
      out.done = true;
      continue;
    }
    const Json chunk = Json::parse(event.substr(6));
    if (chunk["choices"].empty()) continue;  // usage
    const Json& choice = chunk["choices"][0];
    if (!choice["finish_reason"].is_null()) out.finish_reason = choice["finish_reason"];
    if (!choice["delta"].contains("tool_calls")) continue;
    const Json& call = choice["delta"]["tool_calls"][0];
    if (call.contains("id")) out.id = call["id"];
    if (call["function"].contains("name")) out.name = call["function"]["name"];
    const std::string piece = call["function"].value("arguments", "");
    if (!piece.empty()) ++out.argument_chunks;
    out.arguments += piece;
  }
  return out;
}

TEST(MockProviderTest, OpenAiToolCallThenToolResultFollowUp) {
  MockProvider mock;
  auto [status, body] =
      httpRequest(mock.port(), "POST", "/v1/chat/completions", openaiToolAsk(false).dump());
  ASSERT_EQ(status, 200) << body;
  const Json reply = Json::parse(body);
  const Json& message = reply["choices"][0]["message"];
  EXPECT_TRUE(message["content"].is_null());
  ASSERT_EQ(message["tool_calls"].size(), 1u) << body;
  const Json& call = message["tool_calls"][0];
  EXPECT_TRUE(call["id"].get<std::string>().starts_with("call_"));
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "weather");
  EXPECT_EQ(call["function"]["arguments"], R"({"input":"Paris?"})");
  EXPECT_EQ(reply["choices"][0]["finish_reason"], "tool_calls");

  auto streamed =
      httpRequest(mock.port(), "POST", "/v1/chat/completions", openaiToolAsk(true).dump());
  ASSERT_EQ(streamed.first, 200);
  const StreamedOpenAiCall stream_call = readOpenAiToolStream(streamed.second);
  EXPECT_TRUE(stream_call.id.starts_with("call_"));
  EXPECT_NE(stream_call.id, call["id"]);  // one id per response
  EXPECT_EQ(stream_call.name, "weather");
  EXPECT_EQ(stream_call.arguments, R"({"input":"Paris?"})");
  EXPECT_GE(stream_call.argument_chunks, 2);
  EXPECT_EQ(stream_call.finish_reason, "tool_calls");
  EXPECT_TRUE(stream_call.done);

  // The tool's result comes back: the reply echoes it as text, streamed or not.
  Json follow_up = openaiToolAsk(false);
  follow_up["messages"].push_back(message);
  follow_up["messages"].push_back(
      {{"role", "tool"}, {"tool_call_id", call["id"]}, {"content", "sunny, 21 C"}});
  auto answered = httpRequest(mock.port(), "POST", "/v1/chat/completions", follow_up.dump());
  ASSERT_EQ(answered.first, 200) << answered.second;
  const Json text = Json::parse(answered.second)["choices"][0];
  EXPECT_EQ(text["message"]["content"], "mock reply: sunny, 21 C");
  EXPECT_EQ(text["finish_reason"], "stop");
  follow_up["stream"] = true;
  auto answered_stream = httpRequest(mock.port(), "POST", "/v1/chat/completions", follow_up.dump());
  std::string content;
  for (const std::string& event : sseEvents(answered_stream.second)) {
    if (event == "data: [DONE]") continue;
    const Json chunk = Json::parse(event.substr(6));
    EXPECT_FALSE(chunk["choices"][0]["delta"].contains("tool_calls"));
    content += chunk["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(content, "mock reply: sunny, 21 C");
}

TEST(MockProviderTest, AnthropicToolUseThenToolResultFollowUp) {
  MockProvider mock;
  Json ask = anthropicToolAsk(false);
  ask["tool_choice"] = {{"type", "tool"}, {"name", "clock"}};
  auto [status, body] = httpRequest(mock.port(), "POST", "/v1/messages", ask.dump());
  ASSERT_EQ(status, 200) << body;
  const Json message = Json::parse(body);
  ASSERT_EQ(message["content"].size(), 1u) << body;
  const Json& block = message["content"][0];
  EXPECT_EQ(block["type"], "tool_use");
  EXPECT_TRUE(block["id"].get<std::string>().starts_with("toolu_"));
  EXPECT_EQ(block["name"], "clock");
  EXPECT_EQ(block["input"], Json({{"input", "Paris?"}}));
  EXPECT_EQ(message["stop_reason"], "tool_use");

  auto streamed = httpRequest(mock.port(), "POST", "/v1/messages", anthropicToolAsk(true).dump());
  ASSERT_EQ(streamed.first, 200);
  std::string partial_json, stop_reason;
  Json started;
  int json_deltas = 0;
  bool stopped = false;
  for (const std::string& event : sseEvents(streamed.second)) {
    const auto newline = event.find('\n');
    const std::string name = event.substr(7, newline - 7);
    const Json data = Json::parse(event.substr(newline + 7));
    if (name == "content_block_start") started = data["content_block"];
    if (name == "content_block_delta") {
      EXPECT_EQ(data["delta"]["type"], "input_json_delta");
      partial_json += data["delta"]["partial_json"].get<std::string>();
      ++json_deltas;
    }
    if (name == "message_delta") stop_reason = data["delta"]["stop_reason"];
    stopped = stopped || name == "message_stop";
  }
  EXPECT_EQ(started["type"], "tool_use");
  EXPECT_EQ(started["name"], "weather");
  EXPECT_NE(started["id"], block["id"]);
  EXPECT_EQ(started["input"], Json::object());
  EXPECT_EQ(Json::parse(partial_json), Json({{"input", "Paris?"}}));
  EXPECT_GE(json_deltas, 2);
  EXPECT_EQ(stop_reason, "tool_use");
  EXPECT_TRUE(stopped);

  Json follow_up = anthropicToolAsk(false);
  follow_up["messages"].push_back({{"role", "assistant"}, {"content", message["content"]}});
  follow_up["messages"].push_back(
      {{"role", "user"},
       {"content",
        {{{"type", "tool_result"}, {"tool_use_id", block["id"]}, {"content", "12:00"}}}}});
  auto answered = httpRequest(mock.port(), "POST", "/v1/messages", follow_up.dump());
  ASSERT_EQ(answered.first, 200) << answered.second;
  const Json text = Json::parse(answered.second);
  EXPECT_EQ(text["content"][0]["text"], "mock reply: 12:00");
  EXPECT_EQ(text["stop_reason"], "end_turn");
}

TEST(MockProviderTest, FaultsCutAToolCallStreamAtItsArgumentChunks) {
  MockProvider mock;
  auto reset =
      rawExchange(mock.port(),
                  post("/v1/chat/completions", openaiToolAsk(true).dump(),
                       "x-mock-fault: {\"kind\":\"reset_mid_stream\",\"after_chunks\":1}\r\n"),
                  2s);
  EXPECT_TRUE(reset.text.starts_with("HTTP/1.1 200"));
  EXPECT_NE(reset.text.find(R"("name":"weather")"), std::string::npos);  // id and name came
  EXPECT_NE(reset.text.find(R"("arguments":"{\"input\":")"), std::string::npos);  // 1 piece
  EXPECT_EQ(reset.text.find(R"(\"Paris?\")"), std::string::npos);                 // not the rest
  EXPECT_EQ(reset.text.find(R"("finish_reason":"tool_calls")"), std::string::npos);
  EXPECT_EQ(reset.text.find("[DONE]"), std::string::npos);
  EXPECT_TRUE(reset.closed);

  auto truncated = rawExchange(mock.port(),
                               post("/v1/messages", anthropicToolAsk(true).dump(),
                                    "x-mock-fault: {\"kind\":\"truncate\",\"after_chunks\":1}\r\n"),
                               2s);
  EXPECT_NE(truncated.text.find("\r\n0\r\n\r\n"), std::string::npos);  // clean chunked end
  EXPECT_NE(truncated.text.find(R"("partial_json":"{\"input\":")"), std::string::npos);
  EXPECT_EQ(truncated.text.find("Paris?"), std::string::npos);
  EXPECT_EQ(truncated.text.find("content_block_stop"), std::string::npos);
  EXPECT_EQ(truncated.text.find("message_stop"), std::string::npos);
}

TEST(MockProviderTest, EmbeddingsModelsAndHealth) {
  MockProvider mock({"--embedding-dim", "4"});
  auto [status, body] = httpRequest(mock.port(), "POST", "/v1/embeddings",
                                    R"({"model":"emb","input":["a","b","a"]})");
  ASSERT_EQ(status, 200);
  Json reply = Json::parse(body);
  ASSERT_EQ(reply["data"].size(), 3u);
  EXPECT_EQ(reply["data"][0]["embedding"].size(), 4u);
  EXPECT_EQ(reply["data"][0]["embedding"], reply["data"][2]["embedding"]);  // same input
  EXPECT_NE(reply["data"][0]["embedding"], reply["data"][1]["embedding"]);
  EXPECT_EQ(reply["model"], "emb");
  auto models = httpRequest(mock.port(), "GET", "/v1/models");
  EXPECT_EQ(Json::parse(models.second)["data"][0]["id"], "mock-model");
  auto health = httpRequest(mock.port(), "GET", "/health");
  EXPECT_EQ(health.first, 200);
  EXPECT_EQ(Json::parse(health.second)["status"], "ok");
}

TEST(MockProviderTest, AdminFaultsTakeProviderDownAndBack) {
  MockProvider mock;
  EXPECT_EQ(mock.setFaults(R"({"faults":[{"kind":"status","status":503,"retry_after":1}]})"), 200);
  auto raw = rawExchange(mock.port(), post("/v1/chat/completions", chatBody("x")), 5s);
  ASSERT_TRUE(raw.text.starts_with("HTTP/1.1 503")) << raw.text;
  EXPECT_NE(raw.text.find("Retry-After: 1\r\n"), std::string::npos);
  Json error = Json::parse(raw.text.substr(raw.text.find("\r\n\r\n") + 4));
  EXPECT_TRUE(error["error"].contains("message"));
  EXPECT_TRUE(error["error"]["param"].is_null());
  auto anthropic = httpRequest(mock.port(), "POST", "/v1/messages", anthropicBody("x"));
  EXPECT_EQ(anthropic.first, 503);
  EXPECT_EQ(Json::parse(anthropic.second)["type"], "error");
  // Admin and health are never faulted.
  EXPECT_EQ(httpRequest(mock.port(), "GET", "/health").first, 200);

  EXPECT_EQ(mock.setFaults(R"({"faults":[]})"), 200);
  EXPECT_EQ(httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody("x")).first, 200);

  auto bad = httpRequest(mock.port(), "POST", "/admin/faults",
                         R"({"faults":[{"kind":"status","status":"x"}]})");
  EXPECT_EQ(bad.first, 400);
  EXPECT_NE(bad.second.find("faults[0].status"), std::string::npos);
  Json counted = stats(mock);
  EXPECT_EQ(counted["requests"]["/v1/chat/completions"]["503"], 1);
  EXPECT_EQ(counted["requests"]["/v1/chat/completions"]["200"], 1);
  EXPECT_EQ(counted["requests"]["/v1/messages"]["503"], 1);
}

TEST(MockProviderTest, FaultFlagWithFirstN) {
  MockProvider mock({"--fault", R"({"kind":"status","status":429,"first_n":2})"});
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    statuses.push_back(
        httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody("x")).first);
  }
  EXPECT_EQ(statuses, (std::vector<int>{429, 429, 200}));
}

TEST(MockProviderTest, PerRequestFaultHeaderAppliesToThatRequestOnly) {
  MockProvider mock;
  auto faulted = httpRequest(mock.port(), "POST", "/v1/messages", anthropicBody("x"),
                             {R"(x-mock-fault: {"kind":"status","status":529})"});
  EXPECT_EQ(faulted.first, 529);
  EXPECT_EQ(Json::parse(faulted.second)["error"]["type"], "overloaded_error");
  EXPECT_EQ(httpRequest(mock.port(), "POST", "/v1/messages", anthropicBody("x")).first, 200);
  auto malformed = httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody("x"),
                               {R"(x-mock-fault: {"kind":"malformed"})"});
  EXPECT_EQ(malformed.first, 200);
  EXPECT_TRUE(Json::parse(malformed.second, nullptr, false).is_discarded());
  auto invalid = httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody("x"),
                             {R"(x-mock-fault: {"kind":"nope"})"});
  EXPECT_EQ(invalid.first, 400);
}

TEST(MockProviderTest, ResetAndHangWithBoundedClientTimeout) {
  MockProvider mock;
  auto reset = rawExchange(
      mock.port(),
      post("/v1/chat/completions", chatBody("x"), "x-mock-fault: {\"kind\":\"reset\"}\r\n"), 2s);
  EXPECT_TRUE(reset.text.empty());
  EXPECT_TRUE(reset.closed);

  const auto start = std::chrono::steady_clock::now();
  auto hung = std::async(std::launch::async, [&] {
    return rawExchange(
        mock.port(),
        post("/v1/chat/completions", chatBody("x"), "x-mock-fault: {\"kind\":\"hang\"}\r\n"),
        400ms);
  });
  // While it hangs the request is in flight.
  int64_t in_flight = 0;
  for (int i = 0; i < 100 && in_flight == 0; ++i) {
    in_flight = stats(mock)["in_flight"].get<int64_t>();
    if (in_flight == 0) std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(in_flight, 1);
  auto result = hung.get();
  EXPECT_TRUE(result.text.empty());  // nothing was answered
  EXPECT_FALSE(result.closed);       // our timeout ended it, not the server
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  // Once the client went away the mock no longer counts it.
  for (int i = 0; i < 200 && in_flight != 0; ++i) {
    in_flight = stats(mock)["in_flight"].get<int64_t>();
    if (in_flight != 0) std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(in_flight, 0);
  Json counted = stats(mock);
  EXPECT_EQ(counted["requests"]["/v1/chat/completions"]["reset"], 1);
  EXPECT_EQ(counted["requests"]["/v1/chat/completions"]["hang"], 1);
}

TEST(MockProviderTest, ResetMidStreamAndTruncate) {
  MockProvider mock;
  auto reset =
      rawExchange(mock.port(),
                  post("/v1/chat/completions", chatBody("a b c d", true),
                       "x-mock-fault: {\"kind\":\"reset_mid_stream\",\"after_chunks\":2}\r\n"),
                  2s);
  EXPECT_TRUE(reset.text.starts_with("HTTP/1.1 200"));
  EXPECT_NE(reset.text.find(R"("content":" reply:")"), std::string::npos);  // 2 chunks arrived
  EXPECT_EQ(reset.text.find(R"("content":" a")"), std::string::npos);
  EXPECT_EQ(reset.text.find("[DONE]"), std::string::npos);
  EXPECT_EQ(reset.text.find("\r\n0\r\n\r\n"), std::string::npos);  // no clean end
  EXPECT_TRUE(reset.closed);

  auto truncated = rawExchange(mock.port(),
                               post("/v1/messages", anthropicBody("a b", true),
                                    "x-mock-fault: {\"kind\":\"truncate\",\"after_chunks\":1}\r\n"),
                               2s);
  EXPECT_NE(truncated.text.find("\r\n0\r\n\r\n"), std::string::npos);  // clean chunked end
  EXPECT_NE(truncated.text.find(R"("text":"mock")"), std::string::npos);
  EXPECT_EQ(truncated.text.find("message_stop"), std::string::npos);
  EXPECT_FALSE(truncated.reset);
}

TEST(MockProviderTest, StreamingPaceSpreadsChunksOverTime) {
  MockProvider mock({"--tokens-per-second", "50"});
  const auto start = std::chrono::steady_clock::now();
  auto [status, body] =
      httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody("a b c d e f", true));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("[DONE]"), std::string::npos);
  // 8 content chunks at 50/s: 7 gaps of 20 ms.
  EXPECT_GE(elapsed, 140ms);
  EXPECT_LT(elapsed, 2s);
}

TEST(MockProviderTest, StatsCountConnectionsAndInFlightMax) {
  MockProvider mock({"--latency", "150ms"});
  EXPECT_EQ(httpRequest(mock.port(), "POST", "/admin/stats/reset").first, 200);
  std::vector<std::future<int>> calls;
  for (int i = 0; i < 5; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      return httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody("x")).first;
    }));
  }
  for (auto& call : calls) EXPECT_EQ(call.get(), 200);
  Json counted = stats(mock);
  EXPECT_EQ(counted["connections_accepted"], 5);  // admin connections are not counted
  EXPECT_EQ(counted["in_flight_max"], 5);
  EXPECT_EQ(counted["in_flight"], 0);
  EXPECT_EQ(counted["requests_total"], 5);
  EXPECT_EQ(counted["requests"]["/v1/chat/completions"]["200"], 5);

  EXPECT_EQ(httpRequest(mock.port(), "POST", "/admin/stats/reset").first, 200);
  counted = stats(mock);
  EXPECT_EQ(counted["requests_total"], 0);
  EXPECT_EQ(counted["in_flight_max"], 0);
  EXPECT_EQ(counted["connections_accepted"], 0);
  EXPECT_TRUE(counted["requests"].empty());
}

TEST(MockProviderTest, KeepAliveConnectionIsCountedOnce) {
  MockProvider mock;
  int fd = connectTo(mock.port());
  ASSERT_GE(fd, 0);
  std::string keep_alive = post("/v1/chat/completions", chatBody("x"));
  keep_alive.replace(keep_alive.find("Connection: close"), 17, "Connection: keep-alive");
  for (int i = 0; i < 3; ++i) {
    send(fd, keep_alive.data(), keep_alive.size(), MSG_NOSIGNAL);
    std::string got;
    char buf[4096];
    while (got.find("\"total_tokens\"") == std::string::npos) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      ASSERT_GT(n, 0);
      got.append(buf, static_cast<size_t>(n));
    }
  }
  Json counted = stats(mock);
  EXPECT_EQ(counted["connections_accepted"], 1);
  EXPECT_EQ(counted["connections_open"], 1);
  EXPECT_EQ(counted["requests_total"], 3);
  close(fd);
  int64_t open = 1;
  for (int i = 0; i < 200 && open != 0; ++i) {
    open = stats(mock)["connections_open"].get<int64_t>();
    if (open != 0) std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(open, 0);
}

TEST(MockProviderTest, RequestLogKeepsArrivalOrder) {
  MockProvider mock;
  for (const char* prompt : {"first", "second", "third"}) {
    ASSERT_EQ(httpRequest(mock.port(), "POST", "/v1/chat/completions", chatBody(prompt)).first,
              200);
  }
  Json log = Json::parse(httpRequest(mock.port(), "GET", "/admin/requests").second);
  ASSERT_EQ(log["requests"].size(), 3u);
  EXPECT_EQ(log["requests"][0]["prompt"], "first");
  EXPECT_EQ(log["requests"][1]["prompt"], "second");
  EXPECT_EQ(log["requests"][2]["prompt"], "third");
  EXPECT_EQ(log["requests"][0]["seq"], 1);
  EXPECT_EQ(log["requests"][2]["seq"], 3);
  EXPECT_EQ(log["requests"][1]["path"], "/v1/chat/completions");
  EXPECT_EQ(log["requests"][1]["model"], "gpt-test");
  EXPECT_EQ(log["requests"][1]["status"], 200);
}

TEST(MockProviderTest, SigtermExitsZeroPromptly) {
  MockProvider mock;
  mock.process().signal(SIGTERM);
  auto status = mock.process().wait(2s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
}

TEST(MockProviderTest, BadOptionsExitTwo) {
  Subprocess bad({llmpoolBinary(), "mock", "--listen", "127.0.0.1:0", "--fault", "{\"kind\":1}"},
                 "/dev/null");
  auto status = bad.wait(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 2);
}

}  // namespace
}  // namespace llmpool::testing
