#include "gateway/error_mapping.h"

#include <gtest/gtest.h>

#include "llmpool/chat.h"

namespace llmpool::gateway {
namespace {

using std::chrono::milliseconds;

Error err(ErrorCode code, std::string message = "m") { return Error(code, std::move(message)); }

unsigned statusOf(const Error& e, ErrorOrigin o = ErrorOrigin::Upstream,
                  Dialect d = Dialect::OpenAI) {
  return mapError(e, o, d).status;
}

TEST(ErrorMappingTest, StatusTable) {
  EXPECT_EQ(400u, statusOf(err(ErrorCode::InvalidRequest)));
  EXPECT_EQ(401u, statusOf(err(ErrorCode::AuthFailed), ErrorOrigin::Gateway));
  EXPECT_EQ(404u, statusOf(err(ErrorCode::NotFound)));
  EXPECT_EQ(429u, statusOf(err(ErrorCode::RateLimited)));
  EXPECT_EQ(429u, statusOf(err(ErrorCode::Overloaded)));
  EXPECT_EQ(503u, statusOf(err(ErrorCode::CircuitOpen)));
  EXPECT_EQ(503u, statusOf(err(ErrorCode::NoDeployment)));
  EXPECT_EQ(502u, statusOf(err(ErrorCode::ServerError)));
  EXPECT_EQ(502u, statusOf(err(ErrorCode::ConnectFailed)));
  EXPECT_EQ(502u, statusOf(err(ErrorCode::Protocol)));
  EXPECT_EQ(504u, statusOf(err(ErrorCode::Timeout)));
  EXPECT_EQ(500u, statusOf(err(ErrorCode::Internal)));
}

TEST(ErrorMappingTest, UpstreamAuthFailureIsBadGatewayNotTheCallersFault) {
  const HttpError h = mapError(err(ErrorCode::AuthFailed), ErrorOrigin::Upstream, Dialect::OpenAI);
  EXPECT_EQ(502u, h.status);
  EXPECT_EQ(false, h.should_retry);
}

TEST(ErrorMappingTest, ForbiddenModelIs403) {
  Error e = err(ErrorCode::AuthFailed);
  e.http_status = 403;
  EXPECT_EQ(403u, statusOf(e, ErrorOrigin::Gateway));
  EXPECT_EQ("permission_error",
            mapError(e, ErrorOrigin::Gateway, Dialect::Anthropic).anthropic_type);
}

TEST(ErrorMappingTest, ProviderStatusesThatSdksDistinguishAreKept) {
  Error e = err(ErrorCode::InvalidRequest);
  e.http_status = 422;
  EXPECT_EQ(422u, statusOf(e));
  e.http_status = 413;
  EXPECT_EQ(413u, statusOf(e));
  Error s = err(ErrorCode::ServerError);
  s.http_status = 503;
  EXPECT_EQ(503u, statusOf(s));
}

TEST(ErrorMappingTest, DeadlineIs408WhenNothingWasSentElse504) {
  Error e = err(ErrorCode::DeadlineExceeded);
  EXPECT_EQ(408u, statusOf(e));
  Attempt skipped;
  skipped.skipped = true;
  e.attempts.push_back(skipped);
  EXPECT_EQ(408u, statusOf(e));
  Attempt sent;
  sent.deployment = "a/m";
  sent.error = ErrorCode::Timeout;
  e.attempts.push_back(sent);
  EXPECT_EQ(504u, statusOf(e));
}

TEST(ErrorMappingTest, AnthropicOverloadIs529OpenAIIs503) {
  const Error e = err(ErrorCode::ProviderOverloaded);
  EXPECT_EQ(529u, statusOf(e, ErrorOrigin::Upstream, Dialect::Anthropic));
  EXPECT_EQ(503u, statusOf(e, ErrorOrigin::Upstream, Dialect::OpenAI));
}

TEST(ErrorMappingTest, RateLimitCarriesRetryAfterHeadersAndQuotaIsNotRetried) {
  Error e = err(ErrorCode::RateLimited);
  e.retry_after = milliseconds(1500);
  server::Response r = errorResponse(Dialect::OpenAI, e, ErrorOrigin::Upstream);
  EXPECT_EQ(429u, r.result_int());
  EXPECT_EQ("2", r[boost::beast::http::field::retry_after]);  // rounded up
  EXPECT_EQ("1500", r["retry-after-ms"]);
  EXPECT_EQ("true", r["x-should-retry"]);
  e.should_retry = false;
  r = errorResponse(Dialect::OpenAI, e, ErrorOrigin::Upstream);
  EXPECT_EQ("false", r["x-should-retry"]);
  EXPECT_NE(std::string::npos, r.body().find("insufficient_quota"));
}

TEST(ErrorMappingTest, OverloadWithoutHintSuggestsOneSecond) {
  server::Response r =
      errorResponse(Dialect::OpenAI, err(ErrorCode::Overloaded), ErrorOrigin::Upstream);
  EXPECT_EQ("1", r[boost::beast::http::field::retry_after]);
  EXPECT_EQ("1000", r["retry-after-ms"]);
}

TEST(ErrorMappingTest, OpenAIBodyHasAllFourFieldsAndParamForRequestProblems) {
  const Error e = err(ErrorCode::InvalidRequest, "messages[0].role: expected one of system");
  server::Response r = errorResponse(Dialect::OpenAI, e, ErrorOrigin::Gateway);
  const Json body = Json::parse(r.body());
  EXPECT_EQ("invalid_request_error", body["error"]["type"]);
  EXPECT_EQ("messages[0].role", body["error"]["param"]);
  EXPECT_EQ("invalid_request", body["error"]["code"]);
  EXPECT_EQ(e.message, body["error"]["message"]);
  EXPECT_EQ("application/json", r[boost::beast::http::field::content_type]);
}

TEST(ErrorMappingTest, OpenAIParamIsNullForProseMessages) {
  const Error e = err(ErrorCode::InvalidRequest, "the request is bad: really");
  const Json body = Json::parse(errorResponse(Dialect::OpenAI, e, ErrorOrigin::Gateway).body());
  EXPECT_TRUE(body["error"]["param"].is_null());
}

TEST(ErrorMappingTest, AnthropicBodyShape) {
  const Json body = Json::parse(
      errorResponse(Dialect::Anthropic, err(ErrorCode::NotFound, "nope"), ErrorOrigin::Gateway)
          .body());
  EXPECT_EQ("error", body["type"]);
  EXPECT_EQ("not_found_error", body["error"]["type"]);
  EXPECT_EQ("nope", body["error"]["message"]);
}

TEST(ErrorMappingTest, FailureCarriesAttemptTrail) {
  Error e = err(ErrorCode::ServerError);
  Attempt a;
  a.deployment = "p/m";
  a.error = ErrorCode::ServerError;
  a.http_status = 500;
  e.attempts = {a, a};
  server::Response r = errorResponse(Dialect::OpenAI, e, ErrorOrigin::Upstream);
  EXPECT_EQ("2", r["x-llmpool-attempts"]);
  EXPECT_EQ("p/m=server_error:500,p/m=server_error:500", r["x-llmpool-trail"]);
}

TEST(ErrorMappingTest, StreamErrorEvents) {
  const std::string openai = streamErrorEvent(Dialect::OpenAI, err(ErrorCode::ServerError, "x"));
  EXPECT_EQ(0u, openai.rfind("data: {\"error\":", 0));
  EXPECT_TRUE(openai.ends_with("\n\n"));
  const std::string anth = streamErrorEvent(Dialect::Anthropic, err(ErrorCode::ServerError, "x"));
  EXPECT_EQ(0u, anth.rfind("event: error\ndata: {", 0));
}

}  // namespace
}  // namespace llmpool::gateway
