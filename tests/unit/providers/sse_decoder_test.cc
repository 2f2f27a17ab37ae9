#include "providers/sse_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmpool::providers {
namespace {

std::vector<SseEvent> decodeWhole(std::string_view stream) {
  std::vector<SseEvent> events;
  SseDecoder decoder;
  EXPECT_TRUE(decoder.feed(stream, [&](SseEvent&& e) { events.push_back(std::move(e)); }));
  decoder.finish([&](SseEvent&& e) { events.push_back(std::move(e)); });
  return events;
}

/** Feeds the stream in two pieces split at `at`. */
std::vector<SseEvent> decodeSplit(std::string_view stream, size_t at) {
  std::vector<SseEvent> events;
  SseDecoder decoder;
  auto emit = [&](SseEvent&& e) { events.push_back(std::move(e)); };
  EXPECT_TRUE(decoder.feed(stream.substr(0, at), emit));
  EXPECT_TRUE(decoder.feed(stream.substr(at), emit));
  decoder.finish(emit);
  return events;
}

/** Feeds one byte at a time. */
std::vector<SseEvent> decodeBytewise(std::string_view stream) {
  std::vector<SseEvent> events;
  SseDecoder decoder;
  auto emit = [&](SseEvent&& e) { events.push_back(std::move(e)); };
  for (char c : stream) EXPECT_TRUE(decoder.feed(std::string_view(&c, 1), emit));
  decoder.finish(emit);
  return events;
}

void expectSplitInvariant(std::string_view stream, const std::vector<SseEvent>& expected) {
  ASSERT_EQ(decodeWhole(stream), expected);
  for (size_t at = 0; at <= stream.size(); ++at) {
    ASSERT_EQ(decodeSplit(stream, at), expected) << "split at byte " << at;
  }
  ASSERT_EQ(decodeBytewise(stream), expected);
}

std::string withLineEnding(std::string_view lf_stream, std::string_view eol) {
  std::string out;
  for (char c : lf_stream) {
    if (c == '\n') {
      out += eol;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

constexpr std::string_view kStream =
    ": keep-alive comment\n"
    "event: message_start\n"
    "data: {\"a\":1}\n"
    "\n"
    "data: first line\n"
    "data: second line\n"
    "id: 42\n"
    "\n"
    "event:ping\n"
    "data:{\"type\":\"ping\"}\n"
    "\n"
    ":another comment\n"
    "data: after\n"
    "\n";

std::vector<SseEvent> expectedEvents() {
  return {
      {"message_start", "{\"a\":1}", ""},
      {"", "first line\nsecond line", "42"},
      {"ping", "{\"type\":\"ping\"}", "42"},  // the last event id persists
      {"", "after", "42"},
  };
}

TEST(SseDecoderTest, EveryByteSplitWithLf) { expectSplitInvariant(kStream, expectedEvents()); }

TEST(SseDecoderTest, EveryByteSplitWithCrLf) {
  expectSplitInvariant(withLineEnding(kStream, "\r\n"), expectedEvents());
}

TEST(SseDecoderTest, EveryByteSplitWithBareCr) {
  expectSplitInvariant(withLineEnding(kStream, "\r"), expectedEvents());
}

TEST(SseDecoderTest, CrLfSplitBetweenCrAndLfIsOneLineBreak) {
  // "data: x\r" | "\n\r\n": had the split CRLF counted twice, the event would end early and the
  // second data line would start a new event.
  std::vector<SseEvent> events;
  SseDecoder decoder;
  auto emit = [&](SseEvent&& e) { events.push_back(std::move(e)); };
  ASSERT_TRUE(decoder.feed("data: x\r", emit));
  ASSERT_TRUE(decoder.feed("\ndata: y\r", emit));
  ASSERT_TRUE(decoder.feed("\n\r\n", emit));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x\ny");
}

TEST(SseDecoderTest, FieldWithoutColonAndEmptyData) {
  auto events = decodeWhole("data\n\ndata:\ndata:\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[1].data, "\n");
}

TEST(SseDecoderTest, OnlyOneLeadingSpaceIsStripped) {
  auto events = decodeWhole("data:   two spaces kept\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "  two spaces kept");
}

TEST(SseDecoderTest, EventWithoutDataIsNotDispatchedAndTypeResets) {
  auto events = decodeWhole("event: lonely\n\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "");
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseDecoderTest, UnknownFieldsIgnoredAndRetryRecorded) {
  SseDecoder decoder;
  std::vector<SseEvent> events;
  ASSERT_TRUE(decoder.feed("foo: bar\nretry: 1500\nretry: x1\ndata: y\n\n",
                           [&](SseEvent&& e) { events.push_back(std::move(e)); }));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "y");
  ASSERT_TRUE(decoder.retry().has_value());
  EXPECT_EQ(*decoder.retry(), std::chrono::milliseconds(1500));
}

TEST(SseDecoderTest, LeadingBomIsSkippedEvenWhenSplit) {
  std::string stream =
      "\xEF\xBB\xBF"
      "data: bom\n\n";
  std::vector<SseEvent> expected = {{"", "bom", ""}};
  expectSplitInvariant(stream, expected);
}

TEST(SseDecoderTest, FinishDispatchesUnterminatedLastEvent) {
  auto events = decodeWhole("data: a\n\ndata: [DONE]");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].data, "[DONE]");
}

TEST(SseDecoderTest, OversizedEventFailsAndStaysFailed) {
  SseDecoder decoder(64);
  int emitted = 0;
  auto emit = [&](SseEvent&&) { ++emitted; };
  std::string big = "data: " + std::string(100, 'x');
  auto first = decoder.feed(big, emit);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::Protocol);
  EXPECT_FALSE(decoder.feed("\n\n", emit));
  EXPECT_EQ(emitted, 0);
}

TEST(SseEventTextTest, ReadsBackAsTheEventItWrites) {
  EXPECT_EQ(sseEventText("ping", R"({"type":"ping"})"),
            "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  EXPECT_EQ(sseEventText("", "x"), "data: x\n\n");
  // Data of several lines takes a data: line each, or the event would end at the first.
  const std::string text = sseEventText("e", "one\ntwo\n") + sseEventText("", "");
  auto events = decodeWhole(text);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "e");
  EXPECT_EQ(events[0].data, "one\ntwo\n");
  EXPECT_EQ(events[1].event, "");
  EXPECT_EQ(events[1].data, "");
}

}  // namespace
}  // namespace llmpool::providers
