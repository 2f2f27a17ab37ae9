#include "providers/responses_stream_encoder.h"

#include <gtest/gtest.h>

#include "providers/responses_inbound.h"
#include "providers/sse_decoder.h"

namespace llmpool::providers {
namespace {

struct Event {
  std::string type;
  Json data;
};

// Decodes the encoder's output, checking what every event must have: the SSE event name equal
// to the data's type, and sequence numbers counting up from `first_sequence` without a gap.
std::vector<Event> decode(const std::string& sse, int64_t first_sequence = 0) {
  std::vector<Event> out;
  SseDecoder decoder;
  EXPECT_TRUE(decoder.feed(sse, [&](SseEvent&& e) {
    Json data = Json::parse(e.data);
    EXPECT_EQ(data.value("type", ""), e.event);
    EXPECT_EQ(data.value("sequence_number", -1), first_sequence + static_cast<int64_t>(out.size()));
    out.push_back({e.event, std::move(data)});
  }));
  return out;
}

std::vector<std::string> types(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

Json echo() { return responsesEcho(Json::parse(R"({"model":"chat","input":"x"})")); }

ChatChunk textChunk(std::string text) {
  ChatChunk c;
  c.content = std::move(text);
  return c;
}

TEST(ResponsesStreamEncoderTest, TextStreamsAsOneMessageItemAndEndsCompletedWithUsage) {
  ResponsesStreamEncoder enc(echo());
  ChatChunk first;
  first.id = "chatcmpl-7";
  first.model = "gpt-x";
  first.created = 1700000000;
  first.role = "assistant";
  std::string sse = enc.encode(first);
  sse += enc.encode(textChunk("Hel"));
  sse += enc.encode(textChunk("lo"));
  ChatChunk last;
  last.finish_reason = "stop";
  last.usage = Usage{5, 2, 7};
  sse += enc.encode(last);
  sse += enc.finish();
  EXPECT_TRUE(enc.finished());
  EXPECT_EQ(enc.finish(), "");
  EXPECT_EQ(enc.encode(textChunk("late")), "");

  auto ev = decode(sse);
  EXPECT_EQ(types(ev),
            (std::vector<std::string>{"response.created", "response.in_progress",
                                      "response.output_item.added", "response.content_part.added",
                                      "response.output_text.delta", "response.output_text.delta",
                                      "response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"}));
  const Json& created = ev[0].data["response"];
  EXPECT_EQ(created["id"], "resp_chatcmpl-7");
  EXPECT_EQ(created["status"], "in_progress");
  EXPECT_EQ(created["model"], "gpt-x");
  EXPECT_EQ(created["created_at"], 1700000000);
  EXPECT_TRUE(created["output"].empty());
  EXPECT_TRUE(created["usage"].is_null());
  EXPECT_EQ(ev[2].data["item"]["id"], "msg_chatcmpl-7");
  EXPECT_EQ(ev[2].data["item"]["status"], "in_progress");
  EXPECT_EQ(ev[4].data["delta"], "Hel");
  EXPECT_EQ(ev[4].data["item_id"], "msg_chatcmpl-7");
  EXPECT_EQ(ev[4].data["output_index"], 0);
  EXPECT_EQ(ev[4].data["content_index"], 0);
  EXPECT_EQ(ev[6].data["text"], "Hello");
  EXPECT_EQ(ev[7].data["part"]["text"], "Hello");
  EXPECT_EQ(ev[8].data["item"]["status"], "completed");
  EXPECT_EQ(ev[8].data["item"]["content"][0]["text"], "Hello");
  const Json& done = ev[9].data["response"];
  EXPECT_EQ(done["status"], "completed");
  ASSERT_EQ(done["output"].size(), 1u);
  EXPECT_EQ(done["output"][0], ev[8].data["item"]);
  EXPECT_EQ(done["usage"]["input_tokens"], 5);
  EXPECT_EQ(done["usage"]["output_tokens"], 2);
  EXPECT_EQ(done["usage"]["total_tokens"], 7);
}

TEST(ResponsesStreamEncoderTest, ToolCallsAreFunctionCallItemsAfterTheText) {
  ResponsesStreamEncoder enc(echo());
  std::string sse = enc.encode(textChunk("Checking."));
  ChatChunk call0;
  call0.tool_calls = Json::parse(
      R"([{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}])");
  sse += enc.encode(call0);
  ChatChunk args0;
  args0.tool_calls = Json::parse(R"([{"index":0,"function":{"arguments":"{\"x\":"}}])");
  sse += enc.encode(args0);
  args0.tool_calls = Json::parse(R"([{"index":0,"function":{"arguments":"1}"}}])");
  sse += enc.encode(args0);
  ChatChunk call1;
  call1.tool_calls = Json::parse(
      R"([{"index":1,"id":"call_b","type":"function","function":{"name":"g","arguments":"{}"}}])");
  sse += enc.encode(call1);
  ChatChunk finish;
  finish.finish_reason = "tool_calls";
  sse += enc.encode(finish);
  sse += enc.finish();

  auto ev = decode(sse);
  std::vector<std::string> want = {"response.created",
                                   "response.in_progress",
                                   "response.output_item.added",  // message, 0
                                   "response.content_part.added",
                                   "response.output_text.delta",
                                   "response.output_text.done",
                                   "response.content_part.done",
                                   "response.output_item.done",
                                   "response.output_item.added",  // call_a, 1
                                   "response.function_call_arguments.delta",
                                   "response.function_call_arguments.delta",
                                   "response.function_call_arguments.done",
                                   "response.output_item.done",
                                   "response.output_item.added",  // call_b, 2
                                   "response.function_call_arguments.delta",
                                   "response.function_call_arguments.done",
                                   "response.output_item.done",
                                   "response.completed"};
  EXPECT_EQ(types(ev), want);
  EXPECT_EQ(ev[8].data["output_index"], 1);
  EXPECT_EQ(ev[8].data["item"], Json::parse(R"({"type":"function_call","id":"fc_call_a",
      "call_id":"call_a","name":"f","arguments":"","status":"in_progress"})"));
  EXPECT_EQ(ev[9].data["item_id"], "fc_call_a");
  EXPECT_EQ(ev[9].data["delta"], "{\"x\":");
  EXPECT_EQ(ev[11].data["arguments"], "{\"x\":1}");
  EXPECT_EQ(ev[13].data["output_index"], 2);
  const Json& output = ev.back().data["response"]["output"];
  ASSERT_EQ(output.size(), 3u);
  EXPECT_EQ(output[0]["type"], "message");
  EXPECT_EQ(output[1]["arguments"], "{\"x\":1}");
  EXPECT_EQ(output[1]["status"], "completed");
  EXPECT_EQ(output[2]["call_id"], "call_b");
  EXPECT_EQ(ev.back().data["response"]["status"], "completed");
}

TEST(ResponsesStreamEncoderTest, ReasoningStreamsAsAReasoningItemBeforeTheMessage) {
  ResponsesStreamEncoder enc(echo());
  ChatChunk first;
  first.id = "chatcmpl-9";
  first.role = "assistant";
  first.reasoning = "think ";
  std::string sse = enc.encode(first);
  ChatChunk more;
  more.reasoning = "hard";
  sse += enc.encode(more);
  sse += enc.encode(textChunk("42"));
  sse += enc.finish();
  const auto events = decode(sse);
  EXPECT_EQ(
      types(events),
      (std::vector<std::string>{
          "response.created", "response.in_progress", "response.output_item.added",
          "response.content_part.added", "response.reasoning_text.delta",
          "response.reasoning_text.delta", "response.reasoning_text.done",
          "response.content_part.done", "response.output_item.done", "response.output_item.added",
          "response.content_part.added", "response.output_text.delta", "response.output_text.done",
          "response.content_part.done", "response.output_item.done", "response.completed"}));
  EXPECT_EQ("rs_chatcmpl-9", events[2].data["item"]["id"]);
  EXPECT_EQ("reasoning", events[2].data["item"]["type"]);
  EXPECT_EQ("reasoning_text", events[3].data["part"]["type"]);
  EXPECT_EQ("think hard", events[6].data["text"]);
  EXPECT_EQ(1, events[9].data["output_index"]);
  EXPECT_EQ("msg_chatcmpl-9", events[9].data["item"]["id"]);
  const Json& output = events.back().data["response"]["output"];
  ASSERT_EQ(2u, output.size());
  EXPECT_EQ(reasoningItem("rs_chatcmpl-9", "think hard"), output[0]);
  EXPECT_EQ("42", output[1]["content"][0]["text"]);
}

TEST(ResponsesStreamEncoderTest, AReplyCutShortEndsIncomplete) {
  ResponsesStreamEncoder enc(echo());
  std::string sse = enc.encode(textChunk("Once upon"));
  ChatChunk finish;
  finish.finish_reason = "length";
  sse += enc.encode(finish);
  sse += enc.finish();
  auto ev = decode(sse);
  EXPECT_EQ(ev.back().type, "response.incomplete");
  EXPECT_EQ(ev.back().data["response"]["status"], "incomplete");
  EXPECT_EQ(ev.back().data["response"]["incomplete_details"]["reason"], "max_output_tokens");
}

TEST(ResponsesStreamEncoderTest, AFailureAfterTheStartEndsItFailedWithTheItemsSoFar) {
  ResponsesStreamEncoder enc(echo());
  std::string sse = enc.encode(textChunk("partial"));
  const std::size_t before = decode(sse).size();
  std::string failed = enc.fail(Error(ErrorCode::ConnectFailed, "upstream reset"));
  EXPECT_TRUE(enc.finished());
  EXPECT_EQ(enc.finish(), "");
  EXPECT_EQ(enc.fail(Error(ErrorCode::Timeout, "again")), "");
  auto ev = decode(failed, static_cast<int64_t>(before));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "response.failed");
  const Json& r = ev[0].data["response"];
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["error"]["code"], "server_error");
  EXPECT_EQ(r["error"]["message"], "upstream reset");
}

TEST(ResponsesStreamEncoderTest, AStreamWithoutChunksStillStartsAndCompletes) {
  ResponsesStreamEncoder enc(echo());
  auto ev = decode(enc.finish());
  EXPECT_EQ(types(ev), (std::vector<std::string>{"response.created", "response.in_progress",
                                                 "response.completed"}));
  EXPECT_TRUE(ev.back().data["response"]["output"].empty());
}

}  // namespace
}  // namespace llmpool::providers
