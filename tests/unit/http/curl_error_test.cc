#include "http/curl_error.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace llmpool::http {
namespace {

TEST(CurlErrorTest, ClassifiesTransportFailures) {
  EXPECT_EQ(ErrorCode::Timeout, curlError(CURLE_OPERATION_TIMEDOUT, "").code);
  EXPECT_EQ(ErrorCode::ConnectFailed, curlError(CURLE_COULDNT_CONNECT, "").code);
  EXPECT_EQ(ErrorCode::ConnectFailed, curlError(CURLE_COULDNT_RESOLVE_HOST, "").code);
  EXPECT_EQ(ErrorCode::ConnectFailed, curlError(CURLE_RECV_ERROR, "").code);
  EXPECT_EQ(ErrorCode::ConnectFailed, curlError(CURLE_PARTIAL_FILE, "").code);
  EXPECT_EQ(ErrorCode::ConnectFailed, curlError(CURLE_GOT_NOTHING, "").code);
  EXPECT_EQ(ErrorCode::TlsError, curlError(CURLE_PEER_FAILED_VERIFICATION, "").code);
  EXPECT_EQ(ErrorCode::TlsError, curlError(CURLE_SSL_CONNECT_ERROR, "").code);
  EXPECT_EQ(ErrorCode::TlsError, curlError(CURLE_SSL_CACERT_BADFILE, "").code);
  EXPECT_EQ(ErrorCode::Protocol, curlError(CURLE_WEIRD_SERVER_REPLY, "").code);
  EXPECT_EQ(ErrorCode::Cancelled, curlError(CURLE_ABORTED_BY_CALLBACK, "").code);
  EXPECT_EQ(ErrorCode::InvalidConfig, curlError(CURLE_URL_MALFORMAT, "").code);
  EXPECT_EQ(ErrorCode::Internal, curlError(CURLE_OUT_OF_MEMORY, "").code);
}

TEST(CurlErrorTest, AReplyWithoutAStatusLineIsTheProvidersProtocolError) {
  EXPECT_EQ(ErrorCode::Protocol,
            curlError(CURLE_UNSUPPORTED_PROTOCOL, "Received HTTP/0.9 when not allowed").code);
  EXPECT_EQ(ErrorCode::InvalidConfig,
            curlError(CURLE_UNSUPPORTED_PROTOCOL, "Protocol \"gopher\" not supported").code);
}

TEST(CurlErrorTest, MessageUsesTheErrorBufferOnOneLineAndNamesTheCode) {
  Error e = curlError(CURLE_COULDNT_CONNECT, "Failed to connect to 127.0.0.1 port 1\n");
  EXPECT_EQ("Failed to connect to 127.0.0.1 port 1 (curl code 7)", e.message);
  Error fallback = curlError(CURLE_OPERATION_TIMEDOUT, "");
  EXPECT_NE(std::string::npos, fallback.message.find("(curl code 28)"));
  EXPECT_GT(fallback.message.size(), std::string(" (curl code 28)").size());
}

TEST(CurlErrorTest, MultiErrorsAreInternalAndNameTheCall) {
  Error e = curlMultiError(CURLM_OUT_OF_MEMORY, "curl_multi_add_handle");
  EXPECT_EQ(ErrorCode::Internal, e.code);
  EXPECT_EQ(0u, e.message.find("curl_multi_add_handle failed"));
}

TEST(CurlErrorTest, LocalDescriptorShortageIsOverloadedNamingTheLimit) {
  auto emfile = localResourceError(EMFILE);
  ASSERT_TRUE(emfile.has_value());
  EXPECT_EQ(ErrorCode::Overloaded, emfile->code);
  EXPECT_NE(std::string::npos, emfile->message.find("open-file limit")) << emfile->message;
  EXPECT_NE(std::string::npos, emfile->message.find("not a provider failure")) << emfile->message;
  EXPECT_TRUE(emfile->retry_after.has_value());
  EXPECT_TRUE(emfile->provider.empty());
  for (int e : {ENFILE, ENOBUFS, ENOMEM}) {
    auto local = localResourceError(e);
    ASSERT_TRUE(local.has_value()) << e;
    EXPECT_EQ(ErrorCode::Overloaded, local->code);
  }
}

TEST(CurlErrorTest, ProviderSideErrnosAreNotLocalShortages) {
  for (int e : {0, ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EACCES}) {
    EXPECT_FALSE(localResourceError(e).has_value()) << e;
  }
}

}  // namespace
}  // namespace llmpool::http
