#include "http/http1_request_head.h"

#include <gtest/gtest.h>

namespace llmpool::http {
namespace {

TEST(Http1RequestHeadTest, PostCarriesHostHeadersAndLength) {
  HttpRequest r;
  r.method = "POST";
  r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer k"}};
  r.body = R"({"a":1})";
  std::string head;
  ASSERT_TRUE(writeHttp1RequestHead(head, r, "/v1/chat/completions", "127.0.0.1:8080"));
  EXPECT_EQ(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
      "Content-Type: application/json\r\nAuthorization: Bearer k\r\nContent-Length: 7\r\n\r\n",
      head);
}

TEST(Http1RequestHeadTest, GetWithoutBodyHasNoLength) {
  HttpRequest r;
  r.method = "GET";
  std::string head = "left over";
  ASSERT_TRUE(writeHttp1RequestHead(head, r, "/models", "10.0.0.1"));
  EXPECT_EQ("GET /models HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n", head);
}

TEST(Http1RequestHeadTest, EmptyPostSaysLengthZero) {
  HttpRequest r;
  std::string head;
  ASSERT_TRUE(writeHttp1RequestHead(head, r, "/", "h"));
  EXPECT_NE(std::string::npos, head.find("Content-Length: 0\r\n"));
}

TEST(Http1RequestHeadTest, FramingIsOursAndAnOwnHostWins) {
  HttpRequest r;
  r.headers = {{"Host", "api.internal"},
               {"content-length", "999"},
               {"Transfer-Encoding", "chunked"},
               {"Connection", "close"},
               {"Expect", "100-continue"}};
  r.body = "xy";
  std::string head;
  ASSERT_TRUE(writeHttp1RequestHead(head, r, "/", "127.0.0.1:1"));
  EXPECT_EQ("POST / HTTP/1.1\r\nHost: api.internal\r\nContent-Length: 2\r\n\r\n", head);
}

TEST(Http1RequestHeadTest, RefusesHeadersThatWouldSplitTheMessage) {
  std::string head;
  HttpRequest value;
  value.headers = {{"Authorization", "Bearer secret\r\nX-Injected: 1"}};
  auto r = writeHttp1RequestHead(head, value, "/", "h");
  ASSERT_FALSE(r);
  EXPECT_EQ(ErrorCode::InvalidConfig, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("Authorization"));
  EXPECT_EQ(std::string::npos, r.error().message.find("secret"));  // values may be credentials

  HttpRequest name;
  name.headers = {{"Bad Name", "v"}};
  EXPECT_FALSE(writeHttp1RequestHead(head, name, "/", "h"));
  HttpRequest method;
  method.method = "GET /x";
  EXPECT_FALSE(writeHttp1RequestHead(head, method, "/", "h"));
}

}  // namespace
}  // namespace llmpool::http
