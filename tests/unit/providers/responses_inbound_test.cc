#include "providers/responses_inbound.h"

#include <gtest/gtest.h>

namespace llmpool::providers {
namespace {

Result<ChatRequest> parse(std::string_view text) {
  return parseResponsesRequest(Json::parse(text));
}

void expectRefused(std::string_view body, std::string_view message_start) {
  auto r = parse(body);
  ASSERT_FALSE(r) << body;
  EXPECT_EQ(r.error().code, ErrorCode::InvalidRequest);
  EXPECT_TRUE(r.error().message.starts_with(message_start)) << r.error().message;
}

TEST(ParseResponsesRequestTest, AStringInputWithInstructionsIsASystemAndAUserMessage) {
  auto r = parse(R"({"model":"chat","instructions":"Be brief.","input":"Hi",
                     "max_output_tokens":64,"temperature":0.5,"top_p":0.9,"user":"u1"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->model, "chat");
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[0].role, "system");
  EXPECT_EQ(r->messages[0].content, "Be brief.");
  EXPECT_EQ(r->messages[1].role, "user");
  EXPECT_EQ(r->messages[1].content, "Hi");
  EXPECT_EQ(r->max_tokens, 64);
  EXPECT_EQ(r->temperature, 0.5);
  EXPECT_EQ(r->top_p, 0.9);
  EXPECT_EQ(r->user, "u1");
  EXPECT_FALSE(r->stream);
  EXPECT_TRUE(r->extra.is_null());
}

TEST(ParseResponsesRequestTest, ToolCallsJoinTheirAssistantTurnAndOutputsBecomeToolMessages) {
  auto r = parse(R"({"model":"chat","stream":true,"input":[
      {"role":"developer","content":"Use tools."},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"Weather?"},
        {"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"low"}]},
      {"type":"reasoning","id":"rs_1","summary":[]},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
      {"type":"function_call","call_id":"call_1","name":"weather","arguments":"{\"city\":\"Oslo\"}"},
      {"type":"function_call","call_id":"call_2","name":"time","arguments":"{}"},
      {"type":"function_call_output","call_id":"call_1","output":"4C"},
      {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"noon"}]},
      {"type":"function_call","call_id":"call_3","name":"time","arguments":"{}"}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->stream);
  ASSERT_EQ(r->messages.size(), 6u);
  EXPECT_EQ(r->messages[0].role, "developer");
  EXPECT_EQ(r->messages[1].role, "user");
  EXPECT_EQ(r->messages[1].content, "Weather?");
  ASSERT_TRUE(r->messages[1].content_parts.is_array());
  EXPECT_EQ(r->messages[1].content_parts[1]["type"], "image_url");
  EXPECT_EQ(r->messages[1].content_parts[1]["image_url"]["url"], "data:image/png;base64,AAAA");
  EXPECT_EQ(r->messages[1].content_parts[1]["image_url"]["detail"], "low");
  // The reasoning item is dropped; the text reply and both calls are one assistant message.
  EXPECT_EQ(r->messages[2].role, "assistant");
  EXPECT_EQ(r->messages[2].content, "Checking.");
  ASSERT_EQ(r->messages[2].tool_calls.size(), 2u);
  EXPECT_EQ(r->messages[2].tool_calls[0].id, "call_1");
  EXPECT_EQ(r->messages[2].tool_calls[0].name, "weather");
  EXPECT_EQ(r->messages[2].tool_calls[0].arguments, R"({"city":"Oslo"})");
  EXPECT_EQ(r->messages[2].tool_calls[1].id, "call_2");
  EXPECT_EQ(r->messages[3].role, "tool");
  EXPECT_EQ(r->messages[3].tool_call_id, "call_1");
  EXPECT_EQ(r->messages[3].content, "4C");
  EXPECT_EQ(r->messages[4].tool_call_id, "call_2");
  EXPECT_EQ(r->messages[4].content, "noon");
  // A call after a tool result starts an assistant turn of its own.
  EXPECT_EQ(r->messages[5].role, "assistant");
  EXPECT_EQ(r->messages[5].content, "");
  ASSERT_EQ(r->messages[5].tool_calls.size(), 1u);
  EXPECT_EQ(r->messages[5].tool_calls[0].id, "call_3");
}

TEST(ParseResponsesRequestTest, FunctionToolsTextFormatAndReasoningTakeChatShapes) {
  auto r = parse(R"({"model":"chat","input":"x",
      "tools":[{"type":"function","name":"weather","description":"d",
                "parameters":{"type":"object"},"strict":true}],
      "tool_choice":{"type":"function","name":"weather"},
      "text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true},
              "verbosity":"low"},
      "reasoning":{"effort":"high","summary":"auto"},
      "parallel_tool_calls":false,"store":true,"include":["reasoning.encrypted_content"],
      "metadata":{"k":"v"},"truncation":"auto"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->tools, Json::parse(R"([{"type":"function","function":{"name":"weather",
      "description":"d","parameters":{"type":"object"},"strict":true}}])"));
  EXPECT_EQ(r->tool_choice, Json::parse(R"({"type":"function","function":{"name":"weather"}})"));
  EXPECT_EQ(r->response_format, Json::parse(R"({"type":"json_schema","json_schema":
      {"name":"w","schema":{"type":"object"},"strict":true}})"));
  // Chat parameters of the same meaning go on; Responses-only members (store, include,
  // metadata, truncation) do not reach a chat endpoint, which would refuse them.
  EXPECT_EQ(r->extra, Json::parse(R"({"verbosity":"low","reasoning_effort":"high",
      "parallel_tool_calls":false})"));

  auto json_mode = parse(R"({"model":"m","input":"x","text":{"format":{"type":"json_object"}},
                             "tool_choice":"required"})");
  ASSERT_TRUE(json_mode) << json_mode.error().message;
  EXPECT_EQ(json_mode->response_format, Json::parse(R"({"type":"json_object"})"));
  EXPECT_EQ(json_mode->tool_choice, "required");
}

TEST(ParseResponsesRequestTest, WhatNeedsStoredResponsesIsRefusedByName) {
  expectRefused(R"({"model":"m","input":"x","previous_response_id":"resp_1"})",
                "previous_response_id: not supported: this gateway keeps no responses");
  expectRefused(R"({"model":"m","input":"x","conversation":"conv_1"})", "conversation: ");
  expectRefused(R"({"model":"m","input":"x","background":true})", "background: ");
  expectRefused(R"({"model":"m","input":[{"type":"item_reference","id":"msg_1"}]})",
                "input[0]: not supported");
  // background: false asks for nothing stored.
  EXPECT_TRUE(parse(R"({"model":"m","input":"x","background":false})"));
}

TEST(ParseResponsesRequestTest, MalformedRequestsNameTheField) {
  expectRefused(R"({"input":"x"})", "model: required");
  expectRefused(R"({"model":"m"})", "input: required");
  expectRefused(R"({"model":"m","input":7})", "input: expected a string or an array");
  expectRefused(R"({"model":"m","input":[]})", "input: has no message");
  expectRefused(R"({"model":"m","input":[{"role":"robot","content":"x"}]})", "input[0].role: ");
  expectRefused(R"({"model":"m","input":[{"role":"user"}]})", "input[0].content: required");
  expectRefused(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_audio"}]}]})",
                "input[0].content[0].type: expected input_text, input_image or input_file");
  expectRefused(R"({"model":"m","input":[{"role":"assistant","content":[{"type":"input_image",
                   "image_url":"u"}]}]})",
                "input[0].content[0].type: expected output_text or refusal");
  expectRefused(R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image",
                   "file_id":"file_1"}]}]})",
                "input[0].content[0].image_url: required");
  expectRefused(R"({"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]})",
                "input[0].call_id: required");
  expectRefused(R"({"model":"m","input":[{"type":"web_search_call","id":"ws_1"}]})",
                "input[0].type: 'web_search_call' items are not supported here");
  expectRefused(R"({"model":"m","input":"x","tools":[{"type":"web_search"}]})",
                "tools[0].type: only function tools are served here");
  expectRefused(R"({"model":"m","input":"x","tools":[{"type":"function"}]})",
                "tools[0].name: required");
  expectRefused(R"({"model":"m","input":"x","tool_choice":"sometimes"})", "tool_choice: ");
  expectRefused(R"({"model":"m","input":"x","text":{"format":{"type":"yaml"}}})",
                "text.format.type: expected one of text, json_object, json_schema");
  expectRefused(R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n"}}})",
                "text.format.schema: expected an object");
  expectRefused(R"({"model":"m","input":"x","max_output_tokens":0})", "max_output_tokens: ");
  expectRefused(R"({"model":"m","input":"x","temperature":3})", "temperature: ");
  expectRefused(R"({"model":"m","input":"x","stream":"yes"})", "stream: expected true or false");
  expectRefused(R"([1])", "body: expected a JSON object");
}

TEST(ResponsesEchoTest, RepeatsTheSettingsWithTheApiDefaults) {
  Json echo = responsesEcho(Json::parse(R"({"model":"m","input":"x","instructions":"I",
      "temperature":0.2,"metadata":{"k":"v"},"reasoning":{"effort":"low"}})"));
  EXPECT_EQ(echo["instructions"], "I");
  EXPECT_EQ(echo["temperature"], 0.2);
  EXPECT_EQ(echo["top_p"], 1.0);
  EXPECT_EQ(echo["metadata"], Json::parse(R"({"k":"v"})"));
  EXPECT_EQ(echo["reasoning"], Json::parse(R"({"effort":"low","summary":null})"));
  EXPECT_EQ(echo["tool_choice"], "auto");
  EXPECT_EQ(echo["tools"], Json::array());
  EXPECT_EQ(echo["text"], Json::parse(R"({"format":{"type":"text"}})"));
  EXPECT_EQ(echo["store"], false);
  EXPECT_TRUE(echo["previous_response_id"].is_null());
}

ChatResponse reply(std::string content, std::string finish_reason) {
  ChatResponse r;
  r.id = "chatcmpl-42";
  r.model = "gpt-x";
  r.created = 1700000000;
  ChatChoice choice;
  choice.content = std::move(content);
  choice.finish_reason = std::move(finish_reason);
  r.choices.push_back(std::move(choice));
  r.usage = Usage{11, 7, 18};
  return r;
}

TEST(ToResponsesResponseTest, ReasoningIsAReasoningItemFirst) {
  ChatResponse r = reply("42", "stop");
  r.choices[0].reasoning = "six times seven";
  Json out = toResponsesResponse(r, responsesEcho(Json::parse(R"({"model":"chat","input":"x"})")));
  ASSERT_EQ(out["output"].size(), 2u);
  EXPECT_EQ(out["output"][0], Json::parse(R"({"type":"reasoning","id":"rs_chatcmpl-42",
      "summary":[],"content":[{"type":"reasoning_text","text":"six times seven"}],
      "status":"completed"})"));
  EXPECT_EQ(out["output"][1]["type"], "message");
}

TEST(ToResponsesResponseTest, TextThenFunctionCallItemsWithUsage) {
  ChatResponse r = reply("Let me check.", "tool_calls");
  r.choices[0].tool_calls.push_back(ToolCall{"call_9", "function", "weather", R"({"c":1})"});
  Json out = toResponsesResponse(r, responsesEcho(Json::parse(R"({"model":"chat","input":"x"})")));
  EXPECT_EQ(out["object"], "response");
  EXPECT_EQ(out["id"], "resp_chatcmpl-42");
  EXPECT_EQ(out["created_at"], 1700000000);
  EXPECT_EQ(out["model"], "gpt-x");
  EXPECT_EQ(out["status"], "completed");
  EXPECT_TRUE(out["error"].is_null());
  EXPECT_TRUE(out["incomplete_details"].is_null());
  ASSERT_EQ(out["output"].size(), 2u);
  EXPECT_EQ(out["output"][0], Json::parse(R"({"type":"message","id":"msg_chatcmpl-42",
      "status":"completed","role":"assistant",
      "content":[{"type":"output_text","text":"Let me check.","annotations":[]}]})"));
  EXPECT_EQ(out["output"][1], Json::parse(R"({"type":"function_call","id":"fc_call_9",
      "call_id":"call_9","name":"weather","arguments":"{\"c\":1}","status":"completed"})"));
  EXPECT_EQ(out["usage"], Json::parse(R"({"input_tokens":11,"input_tokens_details":
      {"cached_tokens":0},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},
      "total_tokens":18})"));
}

TEST(ToResponsesResponseTest, ACutShortReplyIsIncompleteWithItsReason) {
  Json echo = responsesEcho(Json::parse(R"({"model":"chat","input":"x"})"));
  Json length = toResponsesResponse(reply("Once upon", "length"), echo);
  EXPECT_EQ(length["status"], "incomplete");
  EXPECT_EQ(length["incomplete_details"], Json::parse(R"({"reason":"max_output_tokens"})"));
  Json filtered = toResponsesResponse(reply("", "content_filter"), echo);
  EXPECT_EQ(filtered["incomplete_details"], Json::parse(R"({"reason":"content_filter"})"));
  EXPECT_TRUE(filtered["output"].empty());  // no text, no item
}

TEST(ResponseIdsTest, DerivedFromTheProviderIdOrRandom) {
  EXPECT_EQ(responseIdFor("msg_01AbC"), "resp_msg_01AbC");
  EXPECT_EQ(messageItemIdFor("chatcmpl/x y"), "msg_chatcmplxy");
  EXPECT_EQ(functionCallItemIdFor("toolu_1"), "fc_toolu_1");
  const std::string a = responseIdFor("");
  const std::string b = responseIdFor("");
  EXPECT_EQ(a.size(), 5u + 16u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace llmpool::providers
