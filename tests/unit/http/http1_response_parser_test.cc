#include "http/http1_response_parser.h"

#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace llmpool::http {

// Readable gtest output for Status; static so that other test files may have their own.
[[maybe_unused]] static void PrintTo(Http1ResponseParser::Status status, std::ostream* os) {
  switch (status) {
    case Http1ResponseParser::Status::NeedMore:
      *os << "NeedMore";
      return;
    case Http1ResponseParser::Status::Done:
      *os << "Done";
      return;
    case Http1ResponseParser::Status::Aborted:
      *os << "Aborted";
      return;
    case Http1ResponseParser::Status::Invalid:
      *os << "Invalid";
      return;
  }
}

namespace {

using Status = Http1ResponseParser::Status;

/** Records everything the parser reports; can be told to stop in onHead or after some body. */
class Recorder : public Http1ResponseParser::Handler {
 public:
  bool onHead(int status, Headers& headers) override {
    ++heads;
    head_status = status;
    this->headers = std::move(headers);  // the parser must cope with the headers moving away
    return !abort_on_head;
  }
  bool onBody(std::string_view piece) override {
    EXPECT_FALSE(piece.empty()) << "onBody must never get an empty piece";
    EXPECT_EQ(1, heads) << "body before head";
    body.append(piece);
    pieces.push_back(piece);  // views: valid only until the fed buffer changes
    return body.size() < abort_after_body_bytes;
  }

  int heads = 0;
  int head_status = 0;
  Headers headers;
  std::string body;
  std::vector<std::string_view> pieces;
  bool abort_on_head = false;
  size_t abort_after_body_bytes = std::string::npos;
};

/** What one parse of a response produced, for comparing differently split feeds. */
struct Outcome {
  Status status = Status::NeedMore;
  size_t consumed = 0;  // bytes of the whole input used, over all feeds
  int heads = 0;
  int status_code = 0;
  Headers headers;
  std::string body;
  bool keep_alive = false;
  bool eof_completes = false;  // finishAtEof() after the last feed
  std::string error;
};

/**
 * Feeds `bytes` in pieces ending at `cuts` (ascending offsets) and then calls finishAtEof(). Each
 * piece lives in its own buffer that is overwritten right after feed(), so a parser keeping a view
 * into an earlier piece would produce garbage and fail the comparison.
 */
Outcome parsePieces(std::string_view bytes, std::vector<size_t> cuts, bool head_request = false) {
  cuts.push_back(bytes.size());
  Http1ResponseParser parser;
  parser.reset(head_request);
  Recorder recorder;
  Outcome out;
  size_t begin = 0;
  for (size_t cut : cuts) {
    std::string buffer(bytes.substr(begin, cut - begin));
    size_t consumed = 12345;
    out.status = parser.feed(buffer, recorder, consumed);
    std::memset(buffer.data(), '#', buffer.size());
    out.consumed += consumed;
    if (out.status != Status::NeedMore) break;
    EXPECT_EQ(cut - begin, consumed) << "NeedMore must consume the whole piece";
    begin = cut;
  }
  out.eof_completes = parser.finishAtEof();
  out.heads = recorder.heads;
  out.status_code = recorder.head_status;
  out.headers = recorder.headers;
  out.body = recorder.body;
  out.keep_alive = parser.keepAlive();
  out.error = parser.error();
  if (out.heads == 1) {
    EXPECT_EQ(out.status_code, parser.status());
  }
  return out;
}

Outcome parseWhole(std::string_view bytes, bool head_request = false) {
  return parsePieces(bytes, {}, head_request);
}

void expectSame(const Outcome& want, const Outcome& got) {
  EXPECT_EQ(want.status, got.status);
  EXPECT_EQ(want.consumed, got.consumed);
  EXPECT_EQ(want.heads, got.heads);
  EXPECT_EQ(want.status_code, got.status_code);
  EXPECT_EQ(want.headers, got.headers);
  EXPECT_EQ(want.body, got.body);
  EXPECT_EQ(want.keep_alive, got.keep_alive);
  EXPECT_EQ(want.eof_completes, got.eof_completes);
  EXPECT_EQ(want.error, got.error);
}

/** Parses `bytes` split at every single offset, then one byte at a time; all must agree. */
void expectSplitInvariant(std::string_view bytes, bool head_request = false) {
  const Outcome whole = parseWhole(bytes, head_request);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    SCOPED_TRACE("split at " + std::to_string(cut));
    expectSame(whole, parsePieces(bytes, {cut}, head_request));
    if (::testing::Test::HasFailure()) return;  // one failing offset says enough
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < bytes.size(); ++i) every_byte.push_back(i);
  SCOPED_TRACE("one byte at a time");
  expectSame(whole, parsePieces(bytes, every_byte, head_request));
}

/** The next response on a keep-alive connection, to check `consumed` stops before it. */
constexpr std::string_view kNextResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

std::string contentLengthSample() {
  return "HTTP/1.1 200 OK\r\n"
         "Content-Type: application/json\r\n"
         "X-Request-Id:  \t abc-123 \t\r\n"
         "Content-Length: 16\r\n"
         "\r\n"
         "{\"choices\":[1]}\n";
}

std::string chunkedSample() {
  return "HTTP/1.1 200 OK\r\n"
         "Content-Type: text/event-stream\r\n"
         "Transfer-Encoding: chunked\r\n"
         "\r\n"
         "19;name=value\r\n"
         "data: {\"delta\":\"Hello\"}\n\n\r\n"
         "1A ; ext=\"q;uoted\"\r\n"
         "data: {\"delta\":\" world\"}\n\n\r\n"
         "00E\r\n"
         "data: [DONE]\n\n\r\n"
         "0;final\r\n"
         "X-Trailer: one\r\n"
         "Server-Timing: total;dur=12\r\n"
         "\r\n";
}
constexpr std::string_view kChunkedSampleBody =
    "data: {\"delta\":\"Hello\"}\n\n"
    "data: {\"delta\":\" world\"}\n\n"
    "data: [DONE]\n\n";

std::string interimSample() {
  return "HTTP/1.1 100 Continue\r\n"
         "\r\n"
         "HTTP/1.1 103 Early Hints\r\n"
         "Link: </style.css>; rel=preload\r\n"
         "\r\n"
         "HTTP/1.1 201 Created\r\n"
         "Location: /v1/jobs/7\r\n"
         "Content-Length: 5\r\n"
         "\r\n"
         "hello";
}

// ---------------------------------------------------------------------------------------------
// Typical responses

TEST(Http1ResponseParserTest, ContentLengthResponse) {
  const std::string input = contentLengthSample() + std::string(kNextResponse);
  Http1ResponseParser parser;
  parser.reset(false);
  EXPECT_FALSE(parser.started());
  EXPECT_FALSE(parser.headDone());
  EXPECT_EQ(0, parser.status());
  Recorder recorder;
  size_t consumed = 0;
  ASSERT_EQ(Status::Done, parser.feed(input, recorder, consumed));
  EXPECT_EQ(contentLengthSample().size(), consumed);
  EXPECT_TRUE(parser.started());
  EXPECT_TRUE(parser.headDone());
  EXPECT_EQ(200, parser.status());
  EXPECT_TRUE(parser.keepAlive());
  EXPECT_TRUE(parser.error().empty());
  EXPECT_EQ(1, recorder.heads);
  EXPECT_EQ(200, recorder.head_status);
  const Headers want = {
      {"content-type", "application/json"}, {"x-request-id", "abc-123"}, {"content-length", "16"}};
  EXPECT_EQ(want, recorder.headers);
  EXPECT_EQ("{\"choices\":[1]}\n", recorder.body);
  // The body is handed on without copying: the piece points into the input.
  ASSERT_EQ(1u, recorder.pieces.size());
  EXPECT_EQ(input.data() + input.find("{\"choices"), recorder.pieces[0].data());
}

/** One chunk of the chunked coding around `data`. */
std::string chunk(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string size;
  for (size_t n = data.size(); n > 0; n /= 16) size.insert(size.begin(), kHex[n % 16]);
  return size + "\r\n" + std::string(data) + "\r\n";
}

TEST(Http1ResponseParserTest, ChunkedEventStreamArrivingPieceByPiece) {
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 0;

  std::string piece =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(Status::NeedMore, parser.feed(piece, recorder, consumed));
  EXPECT_EQ(piece.size(), consumed);
  EXPECT_TRUE(parser.headDone());
  EXPECT_EQ(200, parser.status());
  EXPECT_EQ(200, recorder.head_status);
  EXPECT_TRUE(recorder.pieces.empty());

  const std::string event1 = "data: {\"delta\":\"Hel\"}\n\n";
  piece = chunk(event1);
  EXPECT_EQ(Status::NeedMore, parser.feed(piece, recorder, consumed));
  EXPECT_EQ(piece.size(), consumed);
  EXPECT_EQ(event1, recorder.body);
  ASSERT_EQ(1u, recorder.pieces.size());
  EXPECT_EQ(piece.data() + piece.find("data"), recorder.pieces[0].data());  // a view, no copy

  // A chunk whose data arrives in two reads is delivered as two pieces, right away.
  const std::string event2 = "data: {\"delta\":\"lo, world\"}\n\n";
  const std::string chunk2 = chunk(event2);
  const size_t cut = chunk2.find("lo,");
  EXPECT_EQ(Status::NeedMore, parser.feed(chunk2.substr(0, cut), recorder, consumed));
  EXPECT_EQ(event1 + event2.substr(0, event2.find("lo,")), recorder.body);
  EXPECT_EQ(Status::NeedMore, parser.feed(chunk2.substr(cut), recorder, consumed));
  EXPECT_EQ(event1 + event2, recorder.body);
  EXPECT_EQ(3u, recorder.pieces.size());
  EXPECT_FALSE(parser.finishAtEof()) << "a chunked body cut short is truncated";

  piece = chunk("data: [DONE]\n\n") + "0\r\n\r\n";
  EXPECT_EQ(Status::Done, parser.feed(piece, recorder, consumed));
  EXPECT_EQ(piece.size(), consumed);
  EXPECT_EQ(event1 + event2 + "data: [DONE]\n\n", recorder.body);
  EXPECT_EQ(1, recorder.heads);
  EXPECT_TRUE(parser.keepAlive());
  EXPECT_TRUE(parser.finishAtEof());
}

TEST(Http1ResponseParserTest, ChunkedWithExtensionsAndTrailers) {
  const std::string input = chunkedSample() + std::string(kNextResponse);
  const Outcome out = parseWhole(input);
  EXPECT_EQ(Status::Done, out.status);
  EXPECT_EQ(chunkedSample().size(), out.consumed);
  EXPECT_EQ(kChunkedSampleBody, out.body);
  EXPECT_EQ(200, out.status_code);
  const Headers want = {{"content-type", "text/event-stream"}, {"transfer-encoding", "chunked"}};
  EXPECT_EQ(want, out.headers) << "trailer fields are not reported";
  EXPECT_TRUE(out.keep_alive);
}

TEST(Http1ResponseParserTest, TransferCodingsEndingInChunkedAreChunked) {
  const Outcome out = parseWhole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(Status::Done, out.status);
  EXPECT_EQ("abc", out.body);
  EXPECT_TRUE(out.keep_alive);

  // A later field continues the list of an earlier one.
  const Outcome two_fields = parseWhole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nok\r\n0\r\n\r\n");
  EXPECT_EQ(Status::Done, two_fields.status);
  EXPECT_EQ("ok", two_fields.body);
}

TEST(Http1ResponseParserTest, InterimResponsesAreSkipped) {
  const std::string input = interimSample() + std::string(kNextResponse);
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 0;
  ASSERT_EQ(Status::Done, parser.feed(input, recorder, consumed));
  EXPECT_EQ(interimSample().size(), consumed);
  EXPECT_EQ(1, recorder.heads);
  EXPECT_EQ(201, recorder.head_status);
  EXPECT_EQ(201, parser.status());
  const Headers want = {{"location", "/v1/jobs/7"}, {"content-length", "5"}};
  EXPECT_EQ(want, recorder.headers) << "headers of interim responses are dropped";
  EXPECT_EQ("hello", recorder.body);
  EXPECT_TRUE(parser.keepAlive());
}

TEST(Http1ResponseParserTest, StatusIsZeroWhileOnlyAnInterimResponseArrived) {
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 0;
  EXPECT_EQ(Status::NeedMore,
            parser.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200", recorder, consumed));
  EXPECT_TRUE(parser.started());
  EXPECT_FALSE(parser.headDone());
  EXPECT_EQ(0, parser.status());
  EXPECT_EQ(0, recorder.heads);
  EXPECT_FALSE(parser.finishAtEof());
}

TEST(Http1ResponseParserTest, InterimFramingHeadersDoNotLeakIntoTheFinalResponse) {
  // The Content-Length and Connection of the 1xx must not frame or close the final response.
  const Outcome out = parseWhole(
      "HTTP/1.1 103 Early Hints\r\nContent-Length: 99\r\nConnection: close\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(Status::Done, out.status);
  EXPECT_EQ("ok", out.body);
  EXPECT_TRUE(out.keep_alive);
}

TEST(Http1ResponseParserTest, StatusLineVariants) {
  EXPECT_EQ(200, parseWhole("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").status_code);
  EXPECT_EQ(200, parseWhole("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").status_code);
  EXPECT_EQ(429,
            parseWhole("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n").status_code);
  EXPECT_EQ(999, parseWhole("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n").status_code);
  EXPECT_EQ(Status::Done, parseWhole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").status);
}

TEST(Http1ResponseParserTest, BareLineFeedsAreAccepted) {
  const Outcome out = parseWhole(
      "HTTP/1.1 200 OK\nContent-Type: text/plain\nTransfer-Encoding: chunked\n\n"
      "5\nhello\n0\nTrailer: x\n\n");
  EXPECT_EQ(Status::Done, out.status);
  EXPECT_EQ("hello", out.body);
  const Headers want = {{"content-type", "text/plain"}, {"transfer-encoding", "chunked"}};
  EXPECT_EQ(want, out.headers);
}

TEST(Http1ResponseParserTest, HeaderNamesLowerCasedAndValuesTrimmed) {
  const Outcome out = parseWhole(
      "HTTP/1.1 200 OK\r\nX-MiXed-CASE:\tvalue with  inner  spaces \t\r\nEmpty:\r\n"
      "Retry-After:12\r\nContent-Length: 0\r\n\r\n");
  const Headers want = {{"x-mixed-case", "value with  inner  spaces"},
                        {"empty", ""},
                        {"retry-after", "12"},
                        {"content-length", "0"}};
  EXPECT_EQ(want, out.headers);
}

// ---------------------------------------------------------------------------------------------
// Responses without a body

TEST(Http1ResponseParserTest, NoBodyFor204And304AndHeadEvenWithContentLength) {
  struct Case {
    std::string head;
    bool head_request;
    int status;
  };
  const Case cases[] = {
      {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false, 204},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, 304},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, 200},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, 200},
      {"HTTP/1.1 200 OK\r\n\r\n", true, 200},  // not until EOF either
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.head);
    // What follows the head is the next response, not a body.
    const std::string input = c.head + std::string(kNextResponse);
    Http1ResponseParser parser;
    parser.reset(c.head_request);
    Recorder recorder;
    size_t consumed = 0;
    ASSERT_EQ(Status::Done, parser.feed(input, recorder, consumed));
    EXPECT_EQ(c.head.size(), consumed);
    EXPECT_EQ(c.status, recorder.head_status);
    EXPECT_TRUE(recorder.pieces.empty());
    EXPECT_TRUE(parser.keepAlive());
    EXPECT_TRUE(parser.finishAtEof());
  }
}

TEST(Http1ResponseParserTest, ZeroContentLengthIsDoneAtTheEndOfTheHead) {
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 0;
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(Status::Done, parser.feed(input, recorder, consumed));
  EXPECT_EQ(input.size(), consumed);
  EXPECT_TRUE(recorder.pieces.empty());
  EXPECT_TRUE(parser.keepAlive());
}

// ---------------------------------------------------------------------------------------------
// Bodies delimited by the end of the connection, and truncation

TEST(Http1ResponseParserTest, BodyUntilEof) {
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 0;
  std::string piece = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst ";
  EXPECT_EQ(Status::NeedMore, parser.feed(piece, recorder, consumed));
  EXPECT_EQ(piece.size(), consumed);
  piece = "second";
  EXPECT_EQ(Status::NeedMore, parser.feed(piece, recorder, consumed));
  EXPECT_EQ(piece.size(), consumed);
  EXPECT_EQ(Status::NeedMore, parser.feed("", recorder, consumed));
  EXPECT_EQ(0u, consumed);
  EXPECT_EQ("first second", recorder.body);
  EXPECT_FALSE(parser.keepAlive());
  EXPECT_TRUE(parser.finishAtEof());
  EXPECT_TRUE(parser.finishAtEof()) << "asking again changes nothing";
  EXPECT_FALSE(parser.keepAlive());
  EXPECT_EQ(Status::Done, parser.feed("more", recorder, consumed));
  EXPECT_EQ(0u, consumed);
  EXPECT_EQ("first second", recorder.body);
}

TEST(Http1ResponseParserTest, TransferEncodingNotEndingInChunkedReadsUntilEof) {
  const Outcome out = parseWhole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nabcde\r\n0\r\n\r\n");
  EXPECT_EQ(Status::NeedMore, out.status);
  EXPECT_EQ("5\r\nabcde\r\n0\r\n\r\n", out.body);
  EXPECT_TRUE(out.eof_completes);
  EXPECT_FALSE(out.keep_alive);
}

TEST(Http1ResponseParserTest, TruncatedResponsesDoNotCompleteAtEof) {
  const char* truncated[] = {
      "HTTP/1.1 200 OK\r\nContent-Le",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123456789",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\nX: y\r\n",
      "HTTP/1.1 100 Continue\r\n\r\n",
  };
  for (const char* input : truncated) {
    SCOPED_TRACE(input);
    const Outcome out = parseWhole(input);
    EXPECT_EQ(Status::NeedMore, out.status);
    EXPECT_FALSE(out.eof_completes);
  }
}

TEST(Http1ResponseParserTest, NothingReceivedDoesNotCompleteAtEof) {
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 1;
  EXPECT_EQ(Status::NeedMore, parser.feed("", recorder, consumed));
  EXPECT_EQ(0u, consumed);
  EXPECT_FALSE(parser.started());
  EXPECT_FALSE(parser.finishAtEof());
}

// ---------------------------------------------------------------------------------------------
// Keep-alive

TEST(Http1ResponseParserTest, KeepAliveRules) {
  struct Case {
    const char* input;
    bool keep_alive;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.0 200 OK\r\nConnection: foo , Keep-Alive\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
       false},
      {"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    const Outcome out = parseWhole(c.input);
    EXPECT_EQ(Status::Done, out.status);
    EXPECT_EQ(c.keep_alive, out.keep_alive);
  }
}

TEST(Http1ResponseParserTest, TransferEncodingOverridesContentLength) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n";
  const Outcome out = parseWhole(input);
  EXPECT_EQ(Status::Done, out.status);
  EXPECT_EQ(input.size(), out.consumed);
  EXPECT_EQ("hello", out.body);
  EXPECT_FALSE(out.keep_alive);
}

TEST(Http1ResponseParserTest, UntilEofBodyIsNeverKeptAlive) {
  const Outcome out = parseWhole("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nbody");
  EXPECT_EQ(Status::NeedMore, out.status);
  EXPECT_EQ("body", out.body);
  EXPECT_TRUE(out.eof_completes);
  EXPECT_FALSE(out.keep_alive);
}

// ---------------------------------------------------------------------------------------------
// Invalid input

TEST(Http1ResponseParserTest, InvalidResponses) {
  struct Case {
    std::string input;
    std::string error;  // expected error(), exactly
  };
  const Case cases[] = {
      {"\r\n", "malformed status line"},
      {"hello world\r\n", "malformed status line"},
      {"HTTP/1.1  200 OK\r\n", "malformed status line"},
      {"HTTP/1.1 20 OK\r\n", "malformed status line"},
      {"HTTP/1.1 2000 OK\r\n", "malformed status line"},
      {"HTTP/1.1 200OK\r\n", "malformed status line"},
      {"HTTP/1.1 2x0 OK\r\n", "malformed status line"},
      {"HTTP/1.1\r\n", "malformed status line"},
      {"http/1.1 200 OK\r\n", "malformed status line"},
      {"HTTP/2.0 200 OK\r\n", "unsupported HTTP version"},
      {"HTTP/1.2 200 OK\r\n", "unsupported HTTP version"},
      {"HTTP/0.9 200 OK\r\n", "unsupported HTTP version"},
      {"HTTP/1.1 099 Low\r\n", "invalid status code"},
      {"HTTP/1.1 000 Zero\r\n", "invalid status code"},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
       "unexpected 101 Switching Protocols"},
      {"HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n", "obsolete line folding in header"},
      {"HTTP/1.1 200 OK\r\nX-A: 1\r\n\tcontinued\r\n\r\n", "obsolete line folding in header"},
      {"HTTP/1.1 200 OK\r\n X-A: 1\r\n\r\n", "obsolete line folding in header"},
      {"HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", "invalid header name"},
      {"HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n", "invalid header name"},
      {"HTTP/1.1 200 OK\r\n: 1\r\n\r\n", "empty header name"},
      {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "header line without colon"},
      {"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", "invalid character in header value"},
      {std::string("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", 29),
       "invalid character in header value"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       "conflicting Content-Length values"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "conflicting Content-Length values"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n  \r\n", "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n", "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000000000000001\r\n",
       "chunk size too large"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n",
       "chunk size too large"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n",
       "missing CRLF after chunk data"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\r\n",
       "missing CRLF after chunk data"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n",
       "missing CRLF after chunk data"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    const Outcome out = parseWhole(c.input);
    EXPECT_EQ(Status::Invalid, out.status);
    EXPECT_EQ(c.error, out.error);
    EXPECT_FALSE(out.eof_completes);
    EXPECT_FALSE(out.keep_alive);
    // Split anywhere, the verdict is the same.
    expectSplitInvariant(c.input);
  }
}

TEST(Http1ResponseParserTest, LargestChunkSizeIsAccepted) {
  const Outcome out =
      parseWhole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000000000000000\r\nab");
  EXPECT_EQ(Status::NeedMore, out.status);
  EXPECT_EQ("ab", out.body);
  const Outcome leading_zeros = parseWhole(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000002\r\nab\r\n"
      "0000\r\n\r\n");
  EXPECT_EQ(Status::Done, leading_zeros.status);
  EXPECT_EQ("ab", leading_zeros.body);
}

TEST(Http1ResponseParserTest, IdenticalDuplicateContentLengthsAreAccepted) {
  const Outcome list = parseWhole("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello");
  EXPECT_EQ(Status::Done, list.status);
  EXPECT_EQ("hello", list.body);
  const Outcome fields =
      parseWhole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello");
  EXPECT_EQ(Status::Done, fields.status);
  EXPECT_EQ("hello", fields.body);
  EXPECT_TRUE(fields.keep_alive);
}

TEST(Http1ResponseParserTest, ErrorsNeverQuoteHeaderValues) {
  const Outcome out = parseWhole("HTTP/1.1 200 OK\r\nContent-Length: secret-token-123\r\n\r\n");
  EXPECT_EQ(Status::Invalid, out.status);
  EXPECT_EQ(std::string::npos, out.error.find("secret"));
}

/** A head of exactly `size` bytes (the blank line included) with an empty body. */
std::string headOfSize(size_t size) {
  const std::string start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Filler: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'f') + end;
}

TEST(Http1ResponseParserTest, HeadUpToTheLimitIsAcceptedAndBeyondRejected) {
  constexpr size_t kMax = Http1ResponseParser::kMaxHeadBytes;
  EXPECT_EQ(Status::Done, parseWhole(headOfSize(kMax)).status);
  const Outcome over = parseWhole(headOfSize(kMax + 1));
  EXPECT_EQ(Status::Invalid, over.status);
  EXPECT_EQ("response head exceeds 64 KiB", over.error);

  // Also when the long line dribbles in (it is then buffered): rejected, not buffered forever.
  const std::string big = headOfSize(kMax + 1);
  std::vector<size_t> cuts;
  for (size_t i = 1000; i < big.size(); i += 1000) cuts.push_back(i);
  const Outcome over_in_pieces = parsePieces(big, cuts);
  EXPECT_EQ(Status::Invalid, over_in_pieces.status);
  EXPECT_EQ("response head exceeds 64 KiB", over_in_pieces.error);

  // A single line without an end is caught as soon as it passes the limit.
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 0;
  const std::string endless(kMax + 10, 'x');
  EXPECT_EQ(Status::Invalid, parser.feed(endless, recorder, consumed));
}

TEST(Http1ResponseParserTest, HeaderFieldCountIsLimited) {
  std::string head = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 255; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  const std::string ok = head + "Content-Length: 0\r\n\r\n";  // 256 fields
  const Outcome accepted = parseWhole(ok);
  EXPECT_EQ(Status::Done, accepted.status);
  EXPECT_EQ(256u, accepted.headers.size());
  const Outcome rejected = parseWhole(head + "X-Last: v\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(Status::Invalid, rejected.status);
  EXPECT_EQ("too many header fields", rejected.error);
}

TEST(Http1ResponseParserTest, TrailerSectionIsLimited) {
  std::string input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (int i = 0; i < 100; ++i) input += "X-Trailer: " + std::string(1000, 't') + "\r\n";
  const Outcome out = parseWhole(input);
  EXPECT_EQ(Status::Invalid, out.status);
  EXPECT_EQ("trailer section exceeds 64 KiB", out.error);
}

TEST(Http1ResponseParserTest, ChunkSizeLineIsLimited) {
  const std::string input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" +
                            std::string(Http1ResponseParser::kMaxHeadBytes, 'e');
  const Outcome out = parseWhole(input);
  EXPECT_EQ(Status::Invalid, out.status);
  EXPECT_EQ("chunk size line too long", out.error);
}

// ---------------------------------------------------------------------------------------------
// Consumed bytes, repeated feeds, handler aborts, reuse

TEST(Http1ResponseParserTest, PipelinedResponsesShareOneBuffer) {
  const std::string input = contentLengthSample() + chunkedSample() + interimSample();
  Http1ResponseParser parser;
  std::string_view rest = input;
  std::vector<std::string> bodies;
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    parser.reset(false);
    Recorder recorder;
    size_t consumed = 0;
    ASSERT_EQ(Status::Done, parser.feed(rest, recorder, consumed)) << i;
    rest.remove_prefix(consumed);
    bodies.push_back(recorder.body);
    statuses.push_back(recorder.head_status);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ((std::vector<int>{200, 200, 201}), statuses);
  EXPECT_EQ("{\"choices\":[1]}\n", bodies[0]);
  EXPECT_EQ(kChunkedSampleBody, bodies[1]);
  EXPECT_EQ("hello", bodies[2]);
}

TEST(Http1ResponseParserTest, FeedAfterTheEndRepeatsTheOutcomeAndConsumesNothing) {
  Http1ResponseParser parser;
  Recorder recorder;
  size_t consumed = 7;

  parser.reset(false);
  ASSERT_EQ(Status::Done,
            parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", recorder, consumed));
  EXPECT_EQ(Status::Done, parser.feed("HTTP/1.1 200 OK\r\n", recorder, consumed));
  EXPECT_EQ(0u, consumed);
  EXPECT_EQ(1, recorder.heads);

  parser.reset(false);
  ASSERT_EQ(Status::Invalid, parser.feed("garbage\r\n", recorder, consumed));
  const std::string error = parser.error();
  EXPECT_EQ(Status::Invalid, parser.feed("HTTP/1.1 200 OK\r\n\r\n", recorder, consumed));
  EXPECT_EQ(0u, consumed);
  EXPECT_EQ(error, parser.error());
  EXPECT_FALSE(parser.finishAtEof());

  parser.reset(false);
  Recorder aborting;
  aborting.abort_on_head = true;
  ASSERT_EQ(Status::Aborted,
            parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", aborting, consumed));
  EXPECT_EQ(Status::Aborted, parser.feed("x", aborting, consumed));
  EXPECT_EQ(0u, consumed);
  EXPECT_FALSE(parser.finishAtEof());
}

TEST(Http1ResponseParserTest, AbortInOnHead) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const std::string input = head + "hello";
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  recorder.abort_on_head = true;
  size_t consumed = 0;
  EXPECT_EQ(Status::Aborted, parser.feed(input, recorder, consumed));
  EXPECT_EQ(head.size(), consumed);
  EXPECT_EQ(1, recorder.heads);
  EXPECT_TRUE(recorder.pieces.empty());
  EXPECT_TRUE(parser.headDone());
  EXPECT_FALSE(parser.keepAlive());
}

TEST(Http1ResponseParserTest, AbortInOnHeadOfBodilessResponse) {
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  recorder.abort_on_head = true;
  size_t consumed = 0;
  const std::string input = "HTTP/1.1 204 No Content\r\n\r\n";
  EXPECT_EQ(Status::Aborted, parser.feed(input, recorder, consumed));
  EXPECT_EQ(input.size(), consumed);
}

TEST(Http1ResponseParserTest, AbortInOnBody) {
  struct Case {
    std::string input;
    size_t consumed;  // up to and including the piece the handler refused
  };
  const std::string length_head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string eof_head = "HTTP/1.1 200 OK\r\n\r\n";
  const Case cases[] = {
      {length_head + "0123456789", length_head.size() + 10},
      {chunked_head + "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", chunked_head.size() + 6},
      {eof_head + "abcdef", eof_head.size() + 6},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    Http1ResponseParser parser;
    parser.reset(false);
    Recorder recorder;
    recorder.abort_after_body_bytes = 1;  // refuse the first piece
    size_t consumed = 0;
    EXPECT_EQ(Status::Aborted, parser.feed(c.input, recorder, consumed));
    EXPECT_EQ(c.consumed, consumed);
    EXPECT_EQ(1u, recorder.pieces.size());
    EXPECT_FALSE(parser.keepAlive());
    EXPECT_FALSE(parser.finishAtEof());
  }
}

TEST(Http1ResponseParserTest, ResetPreparesForTheNextResponse) {
  Http1ResponseParser parser;
  Recorder first;
  size_t consumed = 0;
  parser.reset(false);
  ASSERT_EQ(Status::Done, parser.feed("HTTP/1.0 404 Not Found\r\nX-A: 1\r\nContent-Length: 1"
                                      "\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
                                      first, consumed));
  EXPECT_FALSE(parser.keepAlive());

  // Nothing of the first response (HTTP/1.0, TE + CL, its headers) may carry over.
  parser.reset(false);
  EXPECT_FALSE(parser.started());
  EXPECT_FALSE(parser.headDone());
  EXPECT_EQ(0, parser.status());
  Recorder second;
  ASSERT_EQ(Status::Done,
            parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", second, consumed));
  EXPECT_EQ(200, parser.status());
  EXPECT_EQ((Headers{{"content-length", "2"}}), second.headers);
  EXPECT_EQ("ok", second.body);
  EXPECT_TRUE(parser.keepAlive());

  // After an error, reset() clears it too.
  parser.reset(false);
  Recorder third;
  ASSERT_EQ(Status::Invalid, parser.feed("nope\r\n", third, consumed));
  parser.reset(true);
  EXPECT_TRUE(parser.error().empty());
  ASSERT_EQ(Status::Done,
            parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", third, consumed));
}

TEST(Http1ResponseParserTest, ChunkDataPiecesAreViewsIntoTheInput) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  Http1ResponseParser parser;
  parser.reset(false);
  Recorder recorder;
  size_t consumed = 0;
  ASSERT_EQ(Status::Done, parser.feed(input, recorder, consumed));
  ASSERT_EQ(2u, recorder.pieces.size());
  EXPECT_EQ(input.data() + input.find("abc"), recorder.pieces[0].data());
  EXPECT_EQ(input.data() + input.find("de\r"), recorder.pieces[1].data());
  EXPECT_EQ("abcde", recorder.body);
}

// ---------------------------------------------------------------------------------------------
// Split invariance: however the bytes are cut into feeds, the outcome is the same.

TEST(Http1ResponseParserTest, SplitsOfContentLengthResponse) {
  const std::string input = contentLengthSample() + std::string(kNextResponse);
  const Outcome whole = parseWhole(input);
  ASSERT_EQ(Status::Done, whole.status);
  ASSERT_EQ(contentLengthSample().size(), whole.consumed);
  ASSERT_EQ("{\"choices\":[1]}\n", whole.body);
  ASSERT_EQ(3u, whole.headers.size());
  ASSERT_TRUE(whole.keep_alive);
  expectSplitInvariant(input);
}

TEST(Http1ResponseParserTest, SplitsOfChunkedResponseWithExtensionsAndTrailers) {
  const std::string input = chunkedSample() + std::string(kNextResponse);
  const Outcome whole = parseWhole(input);
  ASSERT_EQ(Status::Done, whole.status);
  ASSERT_EQ(chunkedSample().size(), whole.consumed);
  ASSERT_EQ(kChunkedSampleBody, whole.body);
  ASSERT_TRUE(whole.keep_alive);
  expectSplitInvariant(input);
}

TEST(Http1ResponseParserTest, SplitsOfChunkedResponseAtEveryPairOfOffsets) {
  // Two cuts catch states a single cut cannot reach (e.g. CR and LF of one line in three feeds).
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n" +
      std::string(kNextResponse);
  const Outcome whole = parseWhole(input);
  ASSERT_EQ(Status::Done, whole.status);
  ASSERT_EQ("abc0123456789", whole.body);
  for (size_t a = 1; a < input.size(); ++a) {
    for (size_t b = a; b < input.size(); ++b) {
      SCOPED_TRACE("cuts at " + std::to_string(a) + " and " + std::to_string(b));
      expectSame(whole, parsePieces(input, {a, b}));
      if (HasFailure()) return;
    }
  }
}

TEST(Http1ResponseParserTest, SplitsOfInterimThenFinalResponse) {
  const std::string input = interimSample() + std::string(kNextResponse);
  const Outcome whole = parseWhole(input);
  ASSERT_EQ(Status::Done, whole.status);
  ASSERT_EQ(interimSample().size(), whole.consumed);
  ASSERT_EQ(1, whole.heads);
  ASSERT_EQ(201, whole.status_code);
  ASSERT_EQ("hello", whole.body);
  expectSplitInvariant(input);
}

TEST(Http1ResponseParserTest, SplitsOfBareLineFeedChunkedResponse) {
  const std::string input =
      "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n6;e\n world\n0\n\n" +
      std::string(kNextResponse);
  const Outcome whole = parseWhole(input);
  ASSERT_EQ(Status::Done, whole.status);
  ASSERT_EQ("hello world", whole.body);
  expectSplitInvariant(input);
}

TEST(Http1ResponseParserTest, SplitsOfUntilEofResponse) {
  const std::string input = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of the rest";
  const Outcome whole = parseWhole(input);
  ASSERT_EQ(Status::NeedMore, whole.status);
  ASSERT_EQ("all of the rest", whole.body);
  ASSERT_TRUE(whole.eof_completes);
  ASSERT_FALSE(whole.keep_alive);
  expectSplitInvariant(input);
}

TEST(Http1ResponseParserTest, SplitsOfHeadResponse) {
  const std::string input =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" +
      std::string(kNextResponse);
  const Outcome whole = parseWhole(input, /*head_request=*/true);
  ASSERT_EQ(Status::Done, whole.status);
  ASSERT_EQ(input.size() - kNextResponse.size(), whole.consumed);
  ASSERT_EQ("", whole.body);
  expectSplitInvariant(input, /*head_request=*/true);
}

}  // namespace
}  // namespace llmpool::http
