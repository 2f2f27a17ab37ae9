#include "http/http1_endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace llmpool::http {
namespace {

TEST(Http1UrlTest, SplitsAuthorityAndTarget) {
  auto u = splitHttp1Url("http://127.0.0.1:8080/v1/chat/completions?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ("http://127.0.0.1:8080", u->authority);
  EXPECT_EQ("/v1/chat/completions?x=1", u->target);
  auto root = splitHttp1Url("HTTP://10.0.0.1");
  ASSERT_TRUE(root);
  EXPECT_EQ("HTTP://10.0.0.1", root->authority);
  EXPECT_EQ("/", root->target);
}

TEST(Http1UrlTest, LeavesOtherUrlsToLibcurl) {
  EXPECT_FALSE(splitHttp1Url("https://127.0.0.1/v1"));
  EXPECT_FALSE(splitHttp1Url("http://user:secret@127.0.0.1/v1"));  // credentials
  EXPECT_FALSE(splitHttp1Url("http:///v1"));                       // no host
  EXPECT_FALSE(splitHttp1Url("http://127.0.0.1?q=1"));             // query without a path
  EXPECT_FALSE(splitHttp1Url("ftp://127.0.0.1/"));
}

TEST(Http1EndpointTest, ResolvesIpLiteralsOnly) {
  auto v4 = resolveHttp1Endpoint("http://127.0.0.1:8080");
  ASSERT_TRUE(v4);
  const auto* a = reinterpret_cast<const sockaddr_in*>(&v4->address);
  EXPECT_EQ(AF_INET, a->sin_family);
  EXPECT_EQ(8080, ntohs(a->sin_port));
  EXPECT_EQ(htonl(INADDR_LOOPBACK), a->sin_addr.s_addr);
  EXPECT_EQ("127.0.0.1:8080", v4->host_header);

  auto v6 = resolveHttp1Endpoint("http://[::1]:9000");
  ASSERT_TRUE(v6);
  const auto* b = reinterpret_cast<const sockaddr_in6*>(&v6->address);
  EXPECT_EQ(AF_INET6, b->sin6_family);
  EXPECT_EQ(9000, ntohs(b->sin6_port));
  EXPECT_EQ("[::1]:9000", v6->host_header);

  auto default_port = resolveHttp1Endpoint("http://10.1.2.3");
  ASSERT_TRUE(default_port);
  EXPECT_EQ(80, ntohs(reinterpret_cast<const sockaddr_in*>(&default_port->address)->sin_port));

  // Host names need a resolver (blocking): libcurl's job.
  EXPECT_FALSE(resolveHttp1Endpoint("http://localhost:8080"));
  EXPECT_FALSE(resolveHttp1Endpoint("http://api.example.com"));
  EXPECT_FALSE(resolveHttp1Endpoint("http://127.0.0.1:0"));
  EXPECT_FALSE(resolveHttp1Endpoint("http://127.0.0.1:65536"));
  EXPECT_FALSE(resolveHttp1Endpoint("http://127.0.0.1:80x"));
  EXPECT_FALSE(resolveHttp1Endpoint("http://[::1"));
  EXPECT_FALSE(resolveHttp1Endpoint("http://256.0.0.1"));
}

}  // namespace
}  // namespace llmpool::http
