#include "server/wire_format.h"

#include <gtest/gtest.h>

namespace llmpool::server {
namespace {

namespace http = boost::beast::http;

TEST(WireFormatTest, CompleteResponseHeadHasContentLengthAndDropsServerOwnedFields) {
  ResponseHead head;
  head.result(http::status::ok);
  head.set(http::field::content_type, "application/json");
  head.set(http::field::content_length, "999");  // replaced by the real length
  head.set(http::field::connection, "keep-alive");
  head.set("x-request-id", "req_1");
  std::string out;
  appendHead(out, head, Framing::ContentLength, 12, true);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: req_1\r\n"
            "Content-Length: 12\r\n\r\n");
}

TEST(WireFormatTest, ChunkedHeadAndCloseAndUnknownStatus) {
  ResponseHead head;
  head.result(529);
  std::string out;
  appendHead(out, head, Framing::Chunked, 0, false);
  EXPECT_EQ(out,
            "HTTP/1.1 529 Overloaded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  out.clear();
  head.result(555);
  appendHead(out, head, Framing::UntilClose, 0, false);
  EXPECT_EQ(out, "HTTP/1.1 555 Status\r\nConnection: close\r\n\r\n");
}

TEST(WireFormatTest, ChunksAreHexSizedAndEmptyDataWritesNothing) {
  std::string out;
  appendChunk(out, std::string(26, 'a'));
  EXPECT_EQ(out, "1a\r\n" + std::string(26, 'a') + "\r\n");
  out.clear();
  appendChunk(out, "");
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(LastChunk, "0\r\n\r\n");
}

}  // namespace
}  // namespace llmpool::server
