#include "providers/chat_stream_decoder.h"

#include <gtest/gtest.h>

#include "providers/stream_assembler.h"

namespace llmpool::providers {
namespace {

// Recorded from the OpenAI documentation (reference/api-conventions.md, 1.3).
constexpr std::string_view kOpenAIStream =
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},"
    "\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
    "\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
    "\"completion_tokens\":2,\"total_tokens\":11}}\n\n"
    "data: [DONE]\n\n";

// Recorded from the Anthropic documentation (reference/api-conventions.md, 3.3), with a tool
// use block added the way the streaming docs show it.
constexpr std::string_view kAnthropicStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
    "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-3-5-sonnet-20240620\","
    "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,"
    "\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
    "\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
    "\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
    "\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: some_future_event\n"
    "data: {\"type\":\"some_future_event\"}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

struct Decoded {
  std::vector<ChatChunk> chunks;
  Result<void> fed;
  Result<void> finished;
};

Decoded decode(ProviderKind kind, std::string_view stream, size_t split = std::string::npos,
               bool keep_events = false) {
  Decoded out;
  auto decoder = makeStreamDecoder(kind);
  decoder->keepEvents(keep_events);
  auto emit = [&](ChatChunk&& c) { out.chunks.push_back(std::move(c)); };
  if (split == std::string::npos) {
    out.fed = decoder->feed(stream, emit);
  } else {
    out.fed = decoder->feed(stream.substr(0, split), emit);
    if (out.fed) out.fed = decoder->feed(stream.substr(split), emit);
  }
  out.finished = decoder->finish(emit);
  return out;
}

std::string render(const std::vector<ChatChunk>& chunks) {
  std::string s;
  for (const auto& c : chunks) {
    s += c.id + "|" + c.model + "|" + std::to_string(c.index) + "|" + c.role + "|" + c.content +
         "|" + (c.tool_calls.is_null() ? "" : c.tool_calls.dump()) + "|" +
         c.finish_reason.value_or("-") + "|" +
         (c.usage ? std::to_string(c.usage->prompt_tokens) + "/" +
                        std::to_string(c.usage->completion_tokens)
                  : "-") +
         "|" + c.provider_event + "|" + c.provider_data + (c.only_event ? "|only" : "") + "\n";
  }
  return s;
}

TEST(OpenAIStreamDecoderTest, RecordedStream) {
  Decoded d = decode(ProviderKind::OpenAI, kOpenAIStream);
  ASSERT_TRUE(d.fed);
  ASSERT_TRUE(d.finished);
  ASSERT_EQ(d.chunks.size(), 4u);
  EXPECT_EQ(d.chunks[0].role, "assistant");
  EXPECT_EQ(d.chunks[0].id, "chatcmpl-123");
  EXPECT_EQ(d.chunks[0].created, 1694268190);
  EXPECT_EQ(d.chunks[1].content, "Hello");
  EXPECT_EQ(d.chunks[2].finish_reason, "stop");
  ASSERT_TRUE(d.chunks[3].usage.has_value());
  EXPECT_EQ(d.chunks[3].usage->prompt_tokens, 9);
  EXPECT_EQ(d.chunks[3].usage->completion_tokens, 2);
  EXPECT_EQ(d.chunks[3].usage->total_tokens, 11);

  ChatResponse r = assembleChunks(d.chunks);
  EXPECT_EQ(r.id, "chatcmpl-123");
  EXPECT_EQ(r.model, "gpt-4o-mini");
  EXPECT_EQ(r.text(), "Hello");
  ASSERT_EQ(r.choices.size(), 1u);
  EXPECT_EQ(r.choices[0].finish_reason, "stop");
  EXPECT_EQ(r.usage.total_tokens, 11);
}

TEST(OpenAIStreamDecoderTest, AOneChoiceEventKeepsItsDataForForwarding) {
  // Not asked for: no copies of the events.
  for (const ChatChunk& chunk : decode(ProviderKind::OpenAI, kOpenAIStream).chunks) {
    EXPECT_TRUE(chunk.provider_data.empty());
    EXPECT_EQ(chunk.provider_dialect, WireDialect::None);
  }
  Decoded d = decode(ProviderKind::OpenAI, kOpenAIStream, std::string::npos, true);
  ASSERT_TRUE(d.finished);
  ASSERT_EQ(d.chunks.size(), 4u);
  // Each chunk carries its event's data exactly: the text between "data: " and the blank line.
  size_t from = 0;
  for (const ChatChunk& chunk : d.chunks) {
    from = kOpenAIStream.find("data: ", from) + 6;
    const size_t end = kOpenAIStream.find("\n\n", from);
    EXPECT_EQ(chunk.provider_data, kOpenAIStream.substr(from, end - from));
    EXPECT_EQ(chunk.provider_dialect, WireDialect::OpenAI);
    EXPECT_FALSE(chunk.only_event);
    from = end;
  }
  // Two choices in one event: neither chunk is the whole event.
  Decoded two = decode(ProviderKind::OpenAI,
                       "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                       "\"a\"}},{\"index\":1,\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n",
                       std::string::npos, true);
  ASSERT_TRUE(two.finished);
  ASSERT_EQ(two.chunks.size(), 2u);
  EXPECT_TRUE(two.chunks[0].provider_data.empty());
  EXPECT_TRUE(two.chunks[1].provider_data.empty());
  // Another dialect's events are never handed on as OpenAI's.
  for (const ChatChunk& chunk :
       decode(ProviderKind::Anthropic, kAnthropicStream, std::string::npos, true).chunks) {
    EXPECT_EQ(chunk.provider_dialect, WireDialect::Anthropic);
  }
}

TEST(OpenAIStreamDecoderTest, EverySplitGivesTheSameChunks) {
  std::string expected =
      render(decode(ProviderKind::OpenAI, kOpenAIStream, std::string::npos, true).chunks);
  std::string crlf;
  for (char c : kOpenAIStream) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  for (std::string_view stream : {kOpenAIStream, std::string_view(crlf)}) {
    for (size_t at = 0; at <= stream.size(); ++at) {
      Decoded d = decode(ProviderKind::OpenAI, stream, at, true);
      ASSERT_TRUE(d.fed) << at;
      ASSERT_TRUE(d.finished) << at;
      ASSERT_EQ(render(d.chunks), expected) << "split at " << at;
    }
  }
}

TEST(OpenAIStreamDecoderTest, TruncatedStreamFails) {
  std::string_view without_done = kOpenAIStream.substr(0, kOpenAIStream.find("data: [DONE]"));
  Decoded d = decode(ProviderKind::OpenAI, without_done);
  ASSERT_TRUE(d.fed);
  ASSERT_FALSE(d.finished);
  EXPECT_EQ(d.finished.error().code, ErrorCode::Protocol);
  EXPECT_EQ(d.finished.error().message, "openai: stream ended before [DONE]");
  // Cut in the middle of a JSON chunk: still reported as truncation.
  Decoded mid = decode(ProviderKind::OpenAI, kOpenAIStream.substr(0, 250));
  ASSERT_FALSE(mid.finished);
  EXPECT_EQ(mid.finished.error().message, "openai: stream ended before [DONE]");
}

TEST(OpenAIStreamDecoderTest, DoneWithoutFinalBlankLineIsAccepted) {
  Decoded d = decode(ProviderKind::OpenAI, "data: {\"choices\":[]}\n\ndata: [DONE]");
  EXPECT_TRUE(d.finished);
}

TEST(OpenAIStreamDecoderTest, InBandErrorsAreClassified) {
  Decoded d = decode(ProviderKind::OpenAI,
                     "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
                     "data: {\"error\":{\"message\":\"The server is overloaded\",\"type\":"
                     "\"server_error\",\"code\":\"server_is_overloaded\"}}\n\n"
                     "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lost\"}}]}\n\n");
  ASSERT_FALSE(d.fed);
  EXPECT_EQ(d.fed.error().code, ErrorCode::ProviderOverloaded);
  EXPECT_NE(d.fed.error().message.find("The server is overloaded"), std::string::npos);
  ASSERT_EQ(d.chunks.size(), 1u);  // nothing after the error is delivered
  ASSERT_FALSE(d.finished);        // and the error sticks
  EXPECT_EQ(d.finished.error().code, ErrorCode::ProviderOverloaded);

  Decoded named = decode(ProviderKind::OpenAI,
                         "event: error\ndata: {\"error\":{\"message\":\"x\",\"code\":429}}\n\n");
  ASSERT_FALSE(named.fed);
  EXPECT_EQ(named.fed.error().code, ErrorCode::RateLimited);
}

TEST(OpenAIStreamDecoderTest, MalformedChunkIsProtocolAndAfterDoneIsIgnored) {
  Decoded bad = decode(ProviderKind::OpenAI, "data: {not json\n\n");
  ASSERT_FALSE(bad.fed);
  EXPECT_EQ(bad.fed.error().code, ErrorCode::Protocol);
  Decoded after = decode(ProviderKind::OpenAI, "data: [DONE]\n\ndata: {garbage\n\n");
  EXPECT_TRUE(after.fed);
  EXPECT_TRUE(after.finished);
}

TEST(OpenAIStreamDecoderTest, ToolCallDeltasAssemble) {
  constexpr std::string_view stream =
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
      "\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":"
      "{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
      "\"function\":{\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
      "\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n"
      "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
      "\"tool_calls\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n"
      "data: [DONE]\n\n";
  Decoded d = decode(ProviderKind::OpenAI, stream);
  ASSERT_TRUE(d.finished);
  ASSERT_EQ(d.chunks.size(), 4u);
  ASSERT_TRUE(d.chunks[3].usage.has_value());  // usage riding on a choice chunk stays on it
  ChatResponse r = assembleChunks(d.chunks);
  ASSERT_EQ(r.choices.size(), 1u);
  ASSERT_EQ(r.choices[0].tool_calls.size(), 1u);
  EXPECT_EQ(r.choices[0].tool_calls[0].id, "call_1");
  EXPECT_EQ(r.choices[0].tool_calls[0].name, "f");
  EXPECT_EQ(r.choices[0].tool_calls[0].arguments, "{\"a\":1}");
  EXPECT_EQ(r.choices[0].finish_reason, "tool_calls");
  EXPECT_EQ(r.usage.total_tokens, 7);
}

TEST(AnthropicStreamDecoderTest, RecordedStream) {
  Decoded d = decode(ProviderKind::Anthropic, kAnthropicStream);
  ASSERT_TRUE(d.fed) << d.fed.error().message;
  ASSERT_TRUE(d.finished) << d.finished.error().message;
  ASSERT_EQ(d.chunks.size(), 7u) << render(d.chunks);
  EXPECT_EQ(d.chunks[0].role, "assistant");
  EXPECT_EQ(d.chunks[0].id, "msg_1");
  EXPECT_EQ(d.chunks[0].model, "claude-3-5-sonnet-20240620");
  EXPECT_EQ(d.chunks[1].content, "Hello");
  EXPECT_EQ(d.chunks[2].tool_calls[0]["id"], "toolu_1");
  EXPECT_EQ(d.chunks[2].tool_calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(d.chunks[3].tool_calls[0]["function"]["arguments"], "{\"city\": ");
  EXPECT_EQ(d.chunks[5].finish_reason, "stop");
  ASSERT_TRUE(d.chunks[6].usage.has_value());
  EXPECT_EQ(d.chunks[6].usage->prompt_tokens, 25);
  EXPECT_EQ(d.chunks[6].usage->completion_tokens, 15);
  for (const auto& c : d.chunks) EXPECT_EQ(c.id, "msg_1");

  ChatResponse r = assembleChunks(d.chunks);
  EXPECT_EQ(r.text(), "Hello");
  ASSERT_EQ(r.choices[0].tool_calls.size(), 1u);
  EXPECT_EQ(Json::parse(r.choices[0].tool_calls[0].arguments)["city"], "Paris");
  EXPECT_EQ(r.usage.total_tokens, 40);
}

TEST(AnthropicStreamDecoderTest, KeptEventsComeOneToAChunkInOrder) {
  Decoded kept = decode(ProviderKind::Anthropic, kAnthropicStream, std::string::npos, true);
  ASSERT_TRUE(kept.finished);
  // Written out again, the events are the stream as it came: none lost (ping, block stops, the
  // unknown event), none doubled, none reordered.
  std::string again;
  std::vector<ChatChunk> made;
  for (const ChatChunk& chunk : kept.chunks) {
    EXPECT_EQ(chunk.provider_dialect, WireDialect::Anthropic);
    again += "event: " + chunk.provider_event + "\ndata: " + chunk.provider_data + "\n\n";
    if (chunk.only_event) {
      EXPECT_TRUE(chunk.content.empty() && chunk.role.empty() && chunk.tool_calls.is_null() &&
                  !chunk.finish_reason && !chunk.usage);
      continue;
    }
    ChatChunk plain = chunk;
    plain.provider_data.clear();
    plain.provider_event.clear();
    plain.provider_dialect = WireDialect::None;
    made.push_back(std::move(plain));
  }
  EXPECT_EQ(again, kAnthropicStream);
  // The chunks besides the carriers are the ones made without keeping events.
  EXPECT_EQ(render(made), render(decode(ProviderKind::Anthropic, kAnthropicStream).chunks));
  EXPECT_EQ(kept.chunks.size(), 12u);  // one per event
}

TEST(AnthropicStreamDecoderTest, EverySplitGivesTheSameChunks) {
  std::string expected =
      render(decode(ProviderKind::Anthropic, kAnthropicStream, std::string::npos, true).chunks);
  std::string crlf;
  for (char c : kAnthropicStream) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  for (std::string_view stream : {kAnthropicStream, std::string_view(crlf)}) {
    for (size_t at = 0; at <= stream.size(); ++at) {
      Decoded d = decode(ProviderKind::Anthropic, stream, at, true);
      ASSERT_TRUE(d.finished) << at;
      ASSERT_EQ(render(d.chunks), expected) << "split at " << at;
    }
  }
}

TEST(AnthropicStreamDecoderTest, TruncationAndInBandError) {
  std::string_view cut = kAnthropicStream.substr(0, kAnthropicStream.find("event: message_stop"));
  Decoded t = decode(ProviderKind::Anthropic, cut);
  ASSERT_TRUE(t.fed);
  ASSERT_FALSE(t.finished);
  EXPECT_EQ(t.finished.error().code, ErrorCode::Protocol);
  EXPECT_EQ(t.finished.error().message, "anthropic: stream ended before message_stop");

  std::string with_error =
      std::string(kAnthropicStream.substr(0, kAnthropicStream.find("event: content_block_stop"))) +
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
      "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
  Decoded e = decode(ProviderKind::Anthropic, with_error);
  ASSERT_FALSE(e.fed);
  EXPECT_EQ(e.fed.error().code, ErrorCode::ProviderOverloaded);
  EXPECT_EQ(e.fed.error().message, "anthropic: Overloaded (overloaded_error)");
  EXPECT_NE(render(e.chunks).find("Hello"), std::string::npos);  // delivered before the error
}

TEST(StreamAssemblerTest, MultipleChoicesAndEmptiness) {
  StreamAssembler a;
  EXPECT_TRUE(a.empty());
  ChatChunk c1;
  c1.index = 1;
  c1.content = "B";
  ChatChunk c0;
  c0.index = 0;
  c0.content = "A";
  ChatChunk usage;
  usage.usage = Usage{1, 2, 0};
  a.add(usage);
  EXPECT_TRUE(a.empty());
  a.add(c1);
  a.add(c0);
  a.add(c0);
  EXPECT_FALSE(a.empty());
  ChatResponse r = a.response();
  ASSERT_EQ(r.choices.size(), 2u);
  EXPECT_EQ(r.choices[0].content, "AA");
  EXPECT_EQ(r.choices[1].content, "B");
  EXPECT_EQ(r.usage.total_tokens, 3);
}

}  // namespace
}  // namespace llmpool::providers
