#include "providers/error_classifier.h"

#include <gtest/gtest.h>

#include <chrono>

namespace llmpool::providers {
namespace {

using std::chrono::milliseconds;

// 2026-11-27T12:00:00Z
const SystemTime kNow = SystemTime(
    std::chrono::sys_days(std::chrono::year(2026) / std::chrono::November / 27).time_since_epoch() +
    std::chrono::hours(12));

Error classify(int status, std::string_view body = "", http::Headers headers = {},
               ProviderKind kind = ProviderKind::OpenAI) {
  return classifyHttpError(kind, status, headers, body, kNow);
}

TEST(ErrorClassifierTest, StatusTable) {
  struct Row {
    int status;
    ErrorCode code;
  };
  const Row rows[] = {
      {400, ErrorCode::InvalidRequest},     {401, ErrorCode::AuthFailed},
      {402, ErrorCode::InvalidRequest},     {403, ErrorCode::AuthFailed},
      {404, ErrorCode::NotFound},           {405, ErrorCode::InvalidRequest},
      {408, ErrorCode::ServerError},        {409, ErrorCode::ServerError},
      {413, ErrorCode::InvalidRequest},     {418, ErrorCode::InvalidRequest},
      {422, ErrorCode::InvalidRequest},     {429, ErrorCode::RateLimited},
      {500, ErrorCode::ServerError},        {502, ErrorCode::ServerError},
      {503, ErrorCode::ServerError},        {504, ErrorCode::ServerError},
      {529, ErrorCode::ProviderOverloaded}, {599, ErrorCode::ServerError},
      {302, ErrorCode::Protocol},           {200, ErrorCode::Protocol},
  };
  for (const auto& row : rows) {
    for (ProviderKind kind : {ProviderKind::OpenAI, ProviderKind::Azure, ProviderKind::Anthropic}) {
      Error e = classify(row.status, "", {}, kind);
      EXPECT_EQ(e.code, row.code) << "status " << row.status;
      ASSERT_TRUE(e.http_status.has_value());
      EXPECT_EQ(*e.http_status, row.status);
      EXPECT_FALSE(e.should_retry.has_value()) << "status " << row.status;
    }
  }
}

TEST(ErrorClassifierTest, OpenAIErrorBodyMessage) {
  Error e =
      classify(429, R"({"error":{"message":"Rate limit reached for gpt-4o on tokens per min",)"
                    R"("type":"tokens","param":null,"code":"rate_limit_exceeded"}})");
  EXPECT_EQ(e.code, ErrorCode::RateLimited);
  EXPECT_EQ(e.message,
            "openai: Rate limit reached for gpt-4o on tokens per min "
            "(rate_limit_exceeded)");
  EXPECT_FALSE(e.should_retry.has_value());
}

TEST(ErrorClassifierTest, InsufficientQuotaIsRateLimitedButNotRetryable) {
  Error e =
      classify(429, R"({"error":{"message":"You exceeded your current quota",)"
                    R"("type":"insufficient_quota","param":null,"code":"insufficient_quota"}})");
  EXPECT_EQ(e.code, ErrorCode::RateLimited);
  ASSERT_TRUE(e.should_retry.has_value());
  EXPECT_FALSE(*e.should_retry);
}

TEST(ErrorClassifierTest, ShouldRetryHeaderWins) {
  Error yes = classify(400, "", {{"x-should-retry", "true"}});
  ASSERT_TRUE(yes.should_retry.has_value());
  EXPECT_TRUE(*yes.should_retry);
  Error no = classify(503, "", {{"X-Should-Retry", "false"}});
  ASSERT_TRUE(no.should_retry.has_value());
  EXPECT_FALSE(*no.should_retry);
  Error quota_but_header =
      classify(429, R"({"error":{"message":"q","type":"x","code":"insufficient_quota"}})",
               {{"x-should-retry", "true"}});
  EXPECT_TRUE(*quota_but_header.should_retry);
  EXPECT_FALSE(classify(500, "", {{"x-should-retry", "maybe"}}).should_retry.has_value());
}

TEST(ErrorClassifierTest, LlamaCppIntegerCode) {
  Error e = classify(
      503, R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})");
  EXPECT_EQ(e.code, ErrorCode::ServerError);
  EXPECT_EQ(e.message, "openai: Loading model (unavailable_error)");
}

TEST(ErrorClassifierTest, VllmStringErrorAndFlatError) {
  Error s = classify(401, R"({"error":"Unauthorized"})");
  EXPECT_EQ(s.code, ErrorCode::AuthFailed);
  EXPECT_EQ(s.message, "openai: Unauthorized");
  Error flat = classify(400, R"({"object":"error","message":"maximum context length is 4096",)"
                             R"("type":"BadRequestError","param":null,"code":400})");
  EXPECT_EQ(flat.code, ErrorCode::InvalidRequest);
  EXPECT_EQ(flat.message, "openai: maximum context length is 4096 (BadRequestError)");
}

TEST(ErrorClassifierTest, AnthropicBodies) {
  Error overloaded = classify(
      529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", {},
      ProviderKind::Anthropic);
  EXPECT_EQ(overloaded.code, ErrorCode::ProviderOverloaded);
  EXPECT_EQ(overloaded.message, "anthropic: Overloaded (overloaded_error)");
  // The same condition behind a plain 500/503 is still "overloaded".
  Error via503 = classify(
      503, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", {},
      ProviderKind::Anthropic);
  EXPECT_EQ(via503.code, ErrorCode::ProviderOverloaded);
  Error too_large =
      classify(413, R"({"type":"error","error":{"type":"request_too_large","message":"Too big"}})",
               {}, ProviderKind::Anthropic);
  EXPECT_EQ(too_large.code, ErrorCode::InvalidRequest);
}

TEST(ErrorClassifierTest, NonJsonBodiesAndEmptyBodies) {
  Error html = classify(502, "<html>\n<body>Bad Gateway</body>\n</html>");
  EXPECT_EQ(html.code, ErrorCode::ServerError);
  EXPECT_EQ(html.message, "openai: <html> <body>Bad Gateway</body> </html>");
  Error empty = classify(500, "");
  EXPECT_EQ(empty.message, "openai: HTTP 500");
  std::string huge(5000, 'x');
  EXPECT_LT(classify(500, huge).message.size(), 260u);
}

TEST(ErrorClassifierTest, SecretsAreMasked) {
  Error e = classify(
      401, R"({"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnop. )"
           R"(Header was Bearer abcdefghijklmnopqrstuvwxyz","type":"invalid_request_error",)"
           R"("param":null,"code":"invalid_api_key"}})");
  EXPECT_EQ(e.code, ErrorCode::AuthFailed);
  EXPECT_EQ(e.message.find("abcdefghijklmnop"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("sk-***"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("Bearer ***"), std::string::npos) << e.message;
  EXPECT_EQ(redactSecrets("task-123 risk-free"), "task-123 risk-free");
}

TEST(ErrorClassifierTest, RetryAfterIsAttached) {
  Error e = classify(429, "", {{"retry-after", "7"}});
  ASSERT_TRUE(e.retry_after.has_value());
  EXPECT_EQ(*e.retry_after, milliseconds(7000));
}

TEST(RetryAfterTest, Seconds) {
  EXPECT_EQ(parseRetryAfter({{"retry-after", "30"}}, kNow), milliseconds(30'000));
  EXPECT_EQ(parseRetryAfter({{"Retry-After", " 0 "}}, kNow), milliseconds(0));
}

TEST(RetryAfterTest, FloatSeconds) {
  EXPECT_EQ(parseRetryAfter({{"retry-after", "1.5"}}, kNow), milliseconds(1500));
  EXPECT_EQ(parseRetryAfter({{"retry-after", "0.0204"}}, kNow), milliseconds(20));
}

TEST(RetryAfterTest, RetryAfterMsTakesPrecedence) {
  http::Headers h = {{"retry-after", "30"}, {"retry-after-ms", "250.4"}};
  EXPECT_EQ(parseRetryAfter(h, kNow), milliseconds(250));
  // An unusable retry-after-ms falls back to retry-after.
  http::Headers bad = {{"retry-after-ms", "soon"}, {"retry-after", "2"}};
  EXPECT_EQ(parseRetryAfter(bad, kNow), milliseconds(2000));
  http::Headers negative_ms = {{"retry-after-ms", "-5"}, {"retry-after", "3"}};
  EXPECT_EQ(parseRetryAfter(negative_ms, kNow), milliseconds(3000));
}

TEST(RetryAfterTest, HttpDates) {
  EXPECT_EQ(parseRetryAfter({{"retry-after", "Fri, 27 Nov 2026 12:00:45 GMT"}}, kNow),
            milliseconds(45'000));
  EXPECT_EQ(parseRetryAfter({{"retry-after", "Friday, 27-Nov-26 12:01:00 GMT"}}, kNow),
            milliseconds(60'000));
  EXPECT_EQ(parseRetryAfter({{"retry-after", "Fri Nov 27 12:00:10 2026"}}, kNow),
            milliseconds(10'000));
}

TEST(RetryAfterTest, NegativePastAndGarbageAreIgnored) {
  EXPECT_FALSE(parseRetryAfter({{"retry-after", "-3"}}, kNow));
  EXPECT_FALSE(parseRetryAfter({{"retry-after", "Fri, 27 Nov 2026 11:59:00 GMT"}}, kNow));
  EXPECT_FALSE(parseRetryAfter({{"retry-after", "soon"}}, kNow));
  EXPECT_FALSE(parseRetryAfter({{"retry-after", "12abc"}}, kNow));
  EXPECT_FALSE(parseRetryAfter({{"retry-after", "Fri, 32 Nov 2026 12:00:00 GMT"}}, kNow));
  EXPECT_FALSE(parseRetryAfter({{"retry-after", "inf"}}, kNow));
  EXPECT_FALSE(parseRetryAfter({{"retry-after", "nan"}}, kNow));
  EXPECT_FALSE(parseRetryAfter({}, kNow));
}

TEST(ClassifyErrorBodyTest, InBandTypes) {
  auto code = [](const char* body, ProviderKind kind = ProviderKind::OpenAI) {
    return classifyErrorBody(kind, Json::parse(body)).code;
  };
  EXPECT_EQ(code(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                 ProviderKind::Anthropic),
            ErrorCode::ProviderOverloaded);
  EXPECT_EQ(code(R"({"type":"error","error":{"type":"rate_limit_error","message":"x"}})",
                 ProviderKind::Anthropic),
            ErrorCode::RateLimited);
  EXPECT_EQ(code(R"({"type":"error","error":{"type":"api_error","message":"x"}})",
                 ProviderKind::Anthropic),
            ErrorCode::ServerError);
  EXPECT_EQ(code(R"({"error":{"message":"bad","type":"invalid_request_error","code":null}})"),
            ErrorCode::InvalidRequest);
  EXPECT_EQ(code(R"({"error":{"message":"x","type":"server_error","code":"rate_limit_exceeded"}})"),
            ErrorCode::RateLimited);
  EXPECT_EQ(code(R"({"error":{"message":"x","code":429}})"), ErrorCode::RateLimited);
  EXPECT_EQ(code(R"({"error":{"message":"x","type":"weird"}})"), ErrorCode::ServerError);
  EXPECT_EQ(code(R"({"error":42})"), ErrorCode::Protocol);
}

}  // namespace
}  // namespace llmpool::providers
