// The mock's function calling (docs/mock.md, "Tool calls"): which requests get a tool call, what
// it carries in each dialect, streamed and not, and that requests without tools are untouched.

#include <gtest/gtest.h>

#include "llmpool/chat.h"
#include "mock/mock_wire.h"
#include "mock/reply.h"

namespace llmpool::mock {
namespace {

constexpr std::string_view OpenAiTools =
    R"("tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object",)"
    R"("properties":{"name":{"type":"string"}}}}},{"type":"function","function":{"name":"clock"}}])";
constexpr std::string_view AnthropicTools =
    R"("tools":[{"name":"weather","input_schema":{"type":"object","properties":{"name":{}}}},)"
    R"({"name":"clock","input_schema":{"type":"object"}}])";

ChatPrompt openaiPrompt(std::string_view fields) {
  auto prompt =
      parseChatRequest(R"({"model":"gpt",)" + std::string(fields) + "}", Endpoint::ChatCompletions);
  EXPECT_TRUE(prompt.has_value()) << fields;
  return prompt.value_or(ChatPrompt{});
}

ChatPrompt anthropicPrompt(std::string_view fields) {
  auto prompt = parseChatRequest(
      R"({"model":"claude","max_tokens":50,)" + std::string(fields) + "}", Endpoint::Messages);
  EXPECT_TRUE(prompt.has_value()) << fields;
  return prompt.value_or(ChatPrompt{});
}

std::string userAsks(std::string_view text) {
  return R"("messages":[{"role":"user","content":")" + std::string(text) + R"("}])";
}

std::string with(std::string_view a, std::string_view b) {
  return std::string(a) + "," + std::string(b);
}

// One SSE event split into its name (empty for OpenAI's data-only events) and its JSON data.
struct Event {
  std::string name;
  Json data;
};

Event parseEvent(const std::string& event) {
  EXPECT_TRUE(event.ends_with("\n\n")) << event;
  if (event.starts_with("data: ")) return {"", Json::parse(event.substr(6))};
  const std::size_t data = event.find("\ndata: ");
  return {event.substr(7, data - 7), Json::parse(event.substr(data + 7))};
}

// ---- Reading the request ---------------------------------------------------------------------

TEST(ToolCallReaderTest, OffersOfToolsCallTheFirstOneInBothDialects) {
  const ChatPrompt openai = openaiPrompt(with(userAsks("hi"), OpenAiTools));
  EXPECT_EQ(openai.tool_name, "weather");
  EXPECT_FALSE(openai.tool_result.has_value());
  // The parameters schema has a property called "name": not a tool name.
  const ChatPrompt anthropic = anthropicPrompt(with(AnthropicTools, userAsks("hi")));
  EXPECT_EQ(anthropic.tool_name, "weather");
  // Each dialect reads its own shape only.
  EXPECT_EQ(openaiPrompt(with(userAsks("hi"), AnthropicTools)).tool_name, "");
  EXPECT_EQ(anthropicPrompt(with(userAsks("hi"), OpenAiTools)).tool_name, "");
}

TEST(ToolCallReaderTest, ANamedToolChoiceIsCalledInstead) {
  EXPECT_EQ(openaiPrompt(with(with(userAsks("hi"), OpenAiTools),
                              R"("tool_choice":{"type":"function","function":{"name":"clock"}})"))
                .tool_name,
            "clock");
  EXPECT_EQ(
      anthropicPrompt(with(with(R"("tool_choice":{"name":"clock","type":"tool"})", AnthropicTools),
                           userAsks("hi")))
          .tool_name,
      "clock");
  // auto, required, any: the first tool.
  EXPECT_EQ(openaiPrompt(with(with(userAsks("hi"), OpenAiTools), R"("tool_choice":"required")"))
                .tool_name,
            "weather");
  EXPECT_EQ(
      anthropicPrompt(with(with(userAsks("hi"), AnthropicTools), R"("tool_choice":{"type":"any"})"))
          .tool_name,
      "weather");
}

TEST(ToolCallReaderTest, ToolChoiceNoneAnswersWithText) {
  const ChatPrompt openai =
      openaiPrompt(with(with(userAsks("hi"), OpenAiTools), R"("tool_choice":"none")"));
  EXPECT_EQ(openai.tool_name, "");
  EXPECT_FALSE(openai.tool_result.has_value());
  const ChatPrompt anthropic = anthropicPrompt(
      with(with(R"("tool_choice":{"type":"none"})", AnthropicTools), userAsks("hi")));
  EXPECT_EQ(anthropic.tool_name, "");
  EXPECT_EQ(deriveReply(anthropic).text, "mock reply: hi");
}

TEST(ToolCallReaderTest, AToolResultLastIsEchoedInsteadOfCallingAgain) {
  const std::string openai_turns =
      R"("messages":[{"role":"user","content":"weather?"},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",)"
      R"("function":{"name":"weather","arguments":"{}"}}]},)"
      R"({"role":"tool","tool_call_id":"call_1","content":"sunny"}])";
  const ChatPrompt openai = openaiPrompt(with(OpenAiTools, openai_turns));
  EXPECT_EQ(openai.tool_name, "");
  EXPECT_EQ(openai.tool_result, "sunny");
  EXPECT_EQ(openai.last_user, "weather?");  // the request log still shows the question
  EXPECT_EQ(deriveReply(openai).text, "mock reply: sunny");
  // Text parts are joined, as for any message.
  const ChatPrompt parts = openaiPrompt(
      with(OpenAiTools,
           R"("messages":[{"role":"user","content":"q"},{"role":"tool","tool_call_id":"c",)"
           R"("content":[{"type":"text","text":"dry"},{"type":"text","text":" and warm"}]}])"));
  EXPECT_EQ(parts.tool_result, "dry and warm");

  // Anthropic: the content is a string, or text blocks; `type` may come after `content`.
  const std::string anthropic_turns =
      R"("messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":[)"
      R"({"type":"tool_use","id":"toolu_1","name":"weather","input":{}}]},)"
      R"({"role":"user","content":[{"content":"sunny","tool_use_id":"toolu_1","type":"tool_result"}]}])";
  const ChatPrompt anthropic = anthropicPrompt(with(AnthropicTools, anthropic_turns));
  EXPECT_EQ(anthropic.tool_name, "");
  EXPECT_EQ(anthropic.tool_result, "sunny");
  const ChatPrompt blocks = anthropicPrompt(
      with(AnthropicTools,
           R"("messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t",)"
           R"("content":[{"type":"text","text":"dry"},{"type":"text","text":" and warm"}]},)"
           R"({"type":"text","text":"thanks"}]}])"));
  EXPECT_EQ(blocks.tool_result, "dry and warm");
  EXPECT_EQ(deriveReply(blocks).text, "mock reply: dry and warm");

  // A named tool_choice does not outrank the tool result either.
  EXPECT_EQ(anthropicPrompt(with(with(AnthropicTools, anthropic_turns),
                                 R"("tool_choice":{"type":"tool","name":"clock"})"))
                .tool_result,
            "sunny");
  // Once the user speaks again, the next tool call comes.
  const std::string next_turn = anthropic_turns.substr(0, anthropic_turns.size() - 1) +
                                R"(,{"role":"assistant","content":"ok"},)"
                                R"({"role":"user","content":"and tomorrow?"}])";
  const ChatPrompt again = anthropicPrompt(with(AnthropicTools, next_turn));
  EXPECT_EQ(again.tool_name, "weather");
  EXPECT_FALSE(again.tool_result.has_value());
}

TEST(ToolCallReaderTest, AToolResultIsEchoedUpTo200Characters) {
  const std::string long_result(250, 'r');
  const ChatPrompt prompt = openaiPrompt(with(
      OpenAiTools,
      R"("messages":[{"role":"tool","tool_call_id":"c","content":")" + long_result + R"("}])"));
  EXPECT_EQ(prompt.tool_result, std::string(PromptEchoChars, 'r'));
}

TEST(ToolCallReaderTest, WithoutToolsToolResultsAreNotLookedAt) {
  const std::string turns = R"("messages":[{"role":"user","content":"weather?"},)"
                            R"({"role":"tool","tool_call_id":"call_1","content":"sunny"}])";
  for (std::string_view no_tools : {"", R"(,"tools":[])"}) {
    const ChatPrompt prompt = openaiPrompt(turns + std::string(no_tools));
    EXPECT_EQ(prompt.tool_name, "");
    EXPECT_FALSE(prompt.tool_result.has_value());
    EXPECT_EQ(deriveReply(prompt).text, "mock reply: weather?");
  }
}

// ---- The reply -------------------------------------------------------------------------------

TEST(ToolCallReplyTest, ArgumentsAreAJsonObjectEchoingTheLastUserMessage) {
  const ChatPrompt prompt =
      openaiPrompt(with(R"("max_tokens":1,"logprobs":true,"messages":[{"role":"user",)"
                        R"("content":"say \"hi\"\nnow é"}])",
                        OpenAiTools));
  const MockReply reply = deriveReply(prompt);
  ASSERT_TRUE(reply.tool_call.has_value());
  EXPECT_EQ(reply.tool_call->name, "weather");
  EXPECT_EQ(reply.tool_call->arguments, R"({"input":"say \"hi\"\nnow é"})");
  EXPECT_EQ(Json::parse(reply.tool_call->arguments), Json({{"input", "say \"hi\"\nnow é"}}));
  EXPECT_TRUE(reply.text.empty());
  EXPECT_FALSE(reply.cut);  // max_tokens never cuts a tool call
  EXPECT_FALSE(reply.logprobs);
  // 29 characters of arguments (é is one) -> ceil(29 / 4) = 8 tokens.
  EXPECT_EQ(countChars(reply.tool_call->arguments), 29);
  EXPECT_EQ(reply.completion_tokens, 8);
  EXPECT_EQ(reply.streamed(), reply.tool_call->arguments);
}

TEST(ToolCallReplyTest, ArgumentPiecesStartWithTheKeyAndSplitAtSpaces) {
  const std::string arguments = toolArguments("a \"b\" é\tc");
  EXPECT_EQ(arguments, R"({"input":"a \"b\" é\tc"})");
  const std::vector<std::size_t> ends = splitToolArguments(arguments);
  std::vector<std::string> pieces;
  std::size_t begin = 0;
  for (std::size_t end : ends) {
    pieces.push_back(arguments.substr(begin, end - begin));
    begin = end;
  }
  EXPECT_EQ(pieces, (std::vector<std::string>{R"({"input":)", R"("a)", R"( \"b\")", R"( é\tc"})"}));
  // Even an empty echo streams in two pieces.
  EXPECT_EQ(splitToolArguments(toolArguments("")), (std::vector<std::size_t>{9, 12}));
}

// ---- OpenAI wire -----------------------------------------------------------------------------

TEST(ToolCallWireTest, OpenAiBodyCarriesOneToolCall) {
  const MockReply reply = deriveReply(openaiPrompt(with(userAsks("hello there"), OpenAiTools)));
  const Json body = Json::parse(openaiCompletion({"chatcmpl-1f", "gpt", 1700000000}, reply));
  const Json& choice = body["choices"][0];
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_EQ(choice["message"]["role"], "assistant");
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u);
  const Json& call = choice["message"]["tool_calls"][0];
  EXPECT_EQ(call["id"], "call_1f");
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "weather");
  EXPECT_EQ(call["function"]["arguments"], R"({"input":"hello there"})");
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["logprobs"].is_null());
  EXPECT_EQ(body["usage"]["completion_tokens"], 6);  // 23 characters
  EXPECT_EQ(body["usage"]["total_tokens"], reply.prompt_tokens + 6);
}

TEST(ToolCallWireTest, OpenAiStreamSendsIdAndNameThenTheArgumentsInPieces) {
  const MockReply reply = deriveReply(openaiPrompt(with(userAsks("hello there"), OpenAiTools)));
  const StreamScript script = openaiStream({"chatcmpl-2a", "gpt", 1}, reply, true);
  ASSERT_GE(script.events.size(), 6u);
  EXPECT_EQ(parseEvent(script.events[0]).data["choices"][0]["delta"],
            Json::parse(R"({"role":"assistant","content":""})"));
  const Json head = parseEvent(script.events[1]).data["choices"][0]["delta"]["tool_calls"];
  EXPECT_EQ(head, Json::parse(R"([{"index":0,"id":"call_2a","type":"function",)"
                              R"("function":{"name":"weather","arguments":""}}])"));

  // The content range is exactly the argument pieces: faults and pacing count them.
  EXPECT_EQ(script.first_content, 2u);
  EXPECT_GE(script.content_count, 2u);
  std::string arguments;
  for (std::size_t i = 0; i < script.content_count; ++i) {
    const Json chunk = parseEvent(script.events[script.first_content + i]).data;
    const Json& calls = chunk["choices"][0]["delta"]["tool_calls"];
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0]["index"], 0);
    EXPECT_FALSE(calls[0].contains("id"));
    arguments += calls[0]["function"]["arguments"].get<std::string>();
    EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
    EXPECT_TRUE(chunk.contains("usage") && chunk["usage"].is_null());
  }
  EXPECT_EQ(arguments, R"({"input":"hello there"})");

  // Then the epilogue of a text stream: finish, usage, [DONE].
  const std::size_t finish = script.first_content + script.content_count;
  ASSERT_EQ(script.events.size(), finish + 3);
  const Json last = parseEvent(script.events[finish]).data;
  EXPECT_EQ(last["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(last["choices"][0]["delta"], Json::object());
  EXPECT_EQ(parseEvent(script.events[finish + 1]).data["usage"]["completion_tokens"], 6);
  EXPECT_EQ(script.events.back(), "data: [DONE]\n\n");
}

// ---- Anthropic wire --------------------------------------------------------------------------

TEST(ToolCallWireTest, AnthropicBodyCarriesOneToolUseBlock) {
  const MockReply reply = deriveReply(anthropicPrompt(with(AnthropicTools, userAsks("a b"))));
  const Json body = Json::parse(anthropicMessage({"msg_1f", "claude", 1700000000}, reply));
  ASSERT_EQ(body["content"].size(), 1u);
  EXPECT_EQ(body["content"][0], Json::parse(R"({"type":"tool_use","id":"toolu_1f",)"
                                            R"("name":"weather","input":{"input":"a b"}})"));
  EXPECT_EQ(body["stop_reason"], "tool_use");
  EXPECT_EQ(body["usage"]["output_tokens"], 4);  // {"input":"a b"}: 15 characters
}

// The event names of an Anthropic stream (pings left out), the JSON its input_json_deltas
// concatenate to, and how many there were.
struct AnthropicToolStream {
  std::vector<std::string> names;
  std::string partial_json;
  std::size_t json_deltas = 0;
  Json block_start;
  Json message_delta;
};

AnthropicToolStream readAnthropicStream(const StreamScript& script) {
  AnthropicToolStream out;
  for (const std::string& text : script.events) {
    const Event event = parseEvent(text);
    EXPECT_EQ(event.data["type"], event.name);
    if (event.name == "ping") continue;
    out.names.push_back(event.name);
    if (event.name == "content_block_start" && event.data["content_block"]["type"] == "tool_use")
      out.block_start = event.data;
    if (event.name == "message_delta") out.message_delta = event.data;
    if (event.name == "content_block_delta" && event.data["delta"]["type"] == "input_json_delta") {
      out.partial_json += event.data["delta"]["partial_json"].get<std::string>();
      ++out.json_deltas;
    }
  }
  return out;
}

TEST(ToolCallWireTest, AnthropicStreamSendsTheInputAsJsonDeltas) {
  const MockReply reply = deriveReply(anthropicPrompt(with(AnthropicTools, userAsks("a b"))));
  const StreamScript script = anthropicStream({"msg_2a", "claude", 1}, reply);
  const AnthropicToolStream stream = readAnthropicStream(script);
  EXPECT_EQ(stream.names,
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(stream.block_start["index"], 0);
  EXPECT_EQ(stream.block_start["content_block"],
            Json::parse(R"({"type":"tool_use","id":"toolu_2a","name":"weather","input":{}})"));
  EXPECT_EQ(stream.partial_json, R"({"input":"a b"})");
  EXPECT_GE(stream.json_deltas, 2u);
  EXPECT_EQ(script.content_count, stream.json_deltas);
  EXPECT_NE(script.events[script.first_content].find("input_json_delta"), std::string::npos);
  EXPECT_EQ(stream.message_delta["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(stream.message_delta["usage"]["output_tokens"], 4);
}

TEST(ToolCallWireTest, AnthropicThinkingStaysBeforeTheToolUseBlock) {
  const MockReply reply = deriveReply(anthropicPrompt(
      with(with(R"("thinking":{"type":"enabled","budget_tokens":1024})", AnthropicTools),
           userAsks("a b"))));
  const WireContext ctx{"msg_3", "claude", 1};
  const Json body = Json::parse(anthropicMessage(ctx, reply));
  ASSERT_EQ(body["content"].size(), 2u);
  EXPECT_EQ(body["content"][0]["type"], "thinking");
  EXPECT_EQ(body["content"][1]["type"], "tool_use");
  // Thinking words count as output, as for a text reply: 4 tokens of arguments + 6 words.
  EXPECT_EQ(body["usage"]["output_tokens"], 4 + 6);

  const AnthropicToolStream stream = readAnthropicStream(anthropicStream(ctx, reply));
  EXPECT_EQ(stream.block_start["index"], 1);
  EXPECT_EQ(stream.partial_json, R"({"input":"a b"})");
  EXPECT_EQ(stream.names.front(), "message_start");
  EXPECT_EQ(stream.names[1], "content_block_start");  // the thinking block, index 0
}

TEST(ToolCallWireTest, AToolResultGetsAnOrdinaryTextReply) {
  const MockReply reply = deriveReply(openaiPrompt(
      with(OpenAiTools, R"("messages":[{"role":"tool","tool_call_id":"c","content":"sunny"}])")));
  EXPECT_FALSE(reply.tool_call.has_value());
  const Json body = Json::parse(openaiCompletion({"chatcmpl-1", "gpt", 1}, reply));
  EXPECT_EQ(body["choices"][0]["message"]["content"], "mock reply: sunny");
  EXPECT_FALSE(body["choices"][0]["message"].contains("tool_calls"));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
}

// ---- Requests without tools ------------------------------------------------------------------

uint64_t fingerprint(std::string_view bytes) {  // FNV-1a
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// Everything the mock sends for a request: the body, then the stream's events and its content
// range.
struct WireBytes {
  std::string body;
  std::string stream;
};

WireBytes wireBytes(std::string_view request, Endpoint endpoint, bool include_usage) {
  const MockReply reply = deriveReply(*parseChatRequest(request, endpoint));
  const bool anthropic = endpoint == Endpoint::Messages;
  const WireContext ctx{anthropic ? "msg_1f" : "chatcmpl-1f", anthropic ? "claude" : "gpt",
                        1700000000};
  const StreamScript script =
      anthropic ? anthropicStream(ctx, reply) : openaiStream(ctx, reply, include_usage);
  WireBytes out{anthropic ? anthropicMessage(ctx, reply) : openaiCompletion(ctx, reply), ""};
  for (const std::string& event : script.events) out.stream += event;
  out.stream +=
      "|" + std::to_string(script.first_content) + "," + std::to_string(script.content_count);
  return out;
}

struct Golden {
  std::string_view request;
  Endpoint endpoint;
  bool include_usage;
  std::size_t body_size;
  uint64_t body_hash;
  std::size_t stream_size;
  uint64_t stream_hash;
};

TEST(TextReplyGoldenTest, RequestsWithoutToolsGetTheBytesTheyGotBeforeToolCalls) {
  // Sizes and fingerprints of what the mock sent for these requests before it could call tools:
  // logprobs and usage, a max_tokens cut, Anthropic thinking, and tool results without tools in
  // both dialects.
  const Golden goldens[] = {
      {R"({"model":"gpt","logprobs":true,"stream_options":{"include_usage":true},"messages":[)"
       R"({"role":"system","content":"Be \"terse\"."},{"role":"user","content":"hi there\tnow"}]})",
       Endpoint::ChatCompletions, true, 715, 0x3c9e420f106eeeafull, 2094, 0xbeb81533576d3e72ull},
      {R"({"model":"gpt","max_tokens":2,"messages":[{"role":"user","content":"one two three"}]})",
       Endpoint::ChatCompletions, false, 284, 0x6f6ce60c47376db7ull, 760, 0x31ffd207c854b820ull},
      {R"({"model":"claude","max_tokens":9,"thinking":{"type":"enabled","budget_tokens":1024},)"
       R"("messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":)"
       R"("thinking","thinking":"t","signature":"s"},{"type":"text","text":"b"}]},)"
       R"({"role":"user","content":"c d"}]})",
       Endpoint::Messages, false, 336, 0x28d917c46d62e9f8ull, 1658, 0x88ceec6322aed530ull},
      {R"({"model":"claude","max_tokens":9,"messages":[{"role":"user","content":"weather?"},)"
       R"({"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"weather",)"
       R"("input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",)"
       R"("content":"sunny"}]}]})",
       Endpoint::Messages, false, 209, 0x36446137f06b7b9full, 889, 0xa37b82b007878396ull},
      {R"({"model":"gpt","messages":[{"role":"user","content":"weather?"},{"role":"assistant",)"
       R"("content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":)"
       R"("weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1",)"
       R"("content":"sunny"}]})",
       Endpoint::ChatCompletions, true, 291, 0xf9680de9cd5eafbaull, 1188, 0xacfe1db2693d49ffull},
  };
  for (const Golden& golden : goldens) {
    const WireBytes bytes = wireBytes(golden.request, golden.endpoint, golden.include_usage);
    EXPECT_EQ(bytes.body.size(), golden.body_size) << golden.request << "\n" << bytes.body;
    EXPECT_EQ(fingerprint(bytes.body), golden.body_hash) << golden.request << "\n" << bytes.body;
    EXPECT_EQ(bytes.stream.size(), golden.stream_size) << golden.request << "\n" << bytes.stream;
    EXPECT_EQ(fingerprint(bytes.stream), golden.stream_hash) << golden.request << "\n"
                                                             << bytes.stream;
  }
}

TEST(TextReplyGoldenTest, ToolChoiceNoneAnswersExactlyAsWithoutTools) {
  const std::string plain = R"({"model":"gpt","messages":[{"role":"user","content":"a b"}]})";
  const std::string none =
      R"({"model":"gpt","messages":[{"role":"user","content":"a b"}],"tool_choice":"none",)" +
      std::string(OpenAiTools) + "}";
  const WireBytes expected = wireBytes(plain, Endpoint::ChatCompletions, true);
  const WireBytes got = wireBytes(none, Endpoint::ChatCompletions, true);
  EXPECT_EQ(got.body, expected.body);
  EXPECT_EQ(got.stream, expected.stream);
}

}  // namespace
}  // namespace llmpool::mock
