#include "http/header_line.h"

#include <gtest/gtest.h>

namespace llmpool::http {
namespace {

TEST(HeaderLineTest, ParsesStatusLinesOfHttp1AndHttp2) {
  EXPECT_EQ(200, parseStatusLine("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(429, parseStatusLine("HTTP/2 429 \r\n"));
  EXPECT_EQ(100, parseStatusLine("HTTP/1.1 100 Continue\r\n"));
  EXPECT_FALSE(parseStatusLine("content-type: x\r\n").has_value());
  EXPECT_FALSE(parseStatusLine("HTTP/1.1 2x0 OK\r\n").has_value());
  EXPECT_FALSE(parseStatusLine("HTTP/1.1\r\n").has_value());
}

TEST(HeaderLineTest, LowerCasesNamesAndTrimsValues) {
  auto h = parseHeaderLine("Retry-After:  12 \r\n");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ("retry-after", h->first);
  EXPECT_EQ("12", h->second);
  auto colon_in_value = parseHeaderLine("Location: http://x:1/y\r\n");
  ASSERT_TRUE(colon_in_value.has_value());
  EXPECT_EQ("http://x:1/y", colon_in_value->second);
  auto empty_value = parseHeaderLine("X-Empty:\r\n");
  ASSERT_TRUE(empty_value.has_value());
  EXPECT_EQ("", empty_value->second);
  EXPECT_FALSE(parseHeaderLine("no colon here\r\n").has_value());
  EXPECT_FALSE(parseHeaderLine(": value\r\n").has_value());
}

TEST(HeaderLineTest, RecognisesTheBlankLineThatEndsHeaders) {
  EXPECT_TRUE(isEndOfHeaders("\r\n"));
  EXPECT_TRUE(isEndOfHeaders("\n"));
  EXPECT_FALSE(isEndOfHeaders("a: b\r\n"));
}

}  // namespace
}  // namespace llmpool::http
