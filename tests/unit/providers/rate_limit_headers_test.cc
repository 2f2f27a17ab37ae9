#include "providers/rate_limit_headers.h"

#include <gtest/gtest.h>

#include "providers/time_parse.h"

namespace llmpool::providers {
namespace {

using std::chrono::milliseconds;

const SystemTime kNow = SystemTime(
    std::chrono::sys_days(std::chrono::year(2026) / std::chrono::November / 27).time_since_epoch() +
    std::chrono::hours(12));

TEST(GoDurationTest, Forms) {
  EXPECT_EQ(parseGoDuration("6m0s"), milliseconds(360'000));
  EXPECT_EQ(parseGoDuration("1s"), milliseconds(1000));
  EXPECT_EQ(parseGoDuration("20ms"), milliseconds(20));
  EXPECT_EQ(parseGoDuration("1h2m3.5s"), milliseconds(3'723'500));
  EXPECT_EQ(parseGoDuration("0"), milliseconds(0));
  EXPECT_EQ(parseGoDuration("1500us"), milliseconds(2));  // 1.5 ms rounds to nearest
  EXPECT_EQ(parseGoDuration("2"), milliseconds(2000));    // bare seconds, tolerated
  EXPECT_FALSE(parseGoDuration(""));
  EXPECT_FALSE(parseGoDuration("-1s"));
  EXPECT_FALSE(parseGoDuration("5 minutes"));
  EXPECT_FALSE(parseGoDuration("1x"));
  EXPECT_FALSE(parseGoDuration("s"));
}

TEST(Rfc3339Test, Forms) {
  SystemTime base = kNow;
  EXPECT_EQ(parseRfc3339("2026-11-27T12:00:00Z"), base);
  EXPECT_EQ(parseRfc3339("2026-11-27T12:00:01.250Z"), base + milliseconds(1250));
  EXPECT_EQ(parseRfc3339("2026-11-27T13:00:00+01:00"), base);
  EXPECT_EQ(parseRfc3339("2026-11-27T11:30:00-00:30"), base);
  EXPECT_FALSE(parseRfc3339("2026-11-27 12:00"));
  EXPECT_FALSE(parseRfc3339("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-11-27T12:00:00"));
}

TEST(RateLimitHeadersTest, OpenAI) {
  http::Headers h = {
      {"x-ratelimit-limit-requests", "60"},     {"x-ratelimit-limit-tokens", "150000"},
      {"x-ratelimit-remaining-requests", "59"}, {"x-ratelimit-remaining-tokens", "149984"},
      {"x-ratelimit-reset-requests", "1s"},     {"x-ratelimit-reset-tokens", "6m0s"}};
  RateLimitInfo info = parseRateLimitHeaders(h, kNow);
  EXPECT_EQ(info.limit_requests, 60);
  EXPECT_EQ(info.limit_tokens, 150000);
  EXPECT_EQ(info.remaining_requests, 59);
  EXPECT_EQ(info.remaining_tokens, 149984);
  EXPECT_EQ(info.reset_requests, milliseconds(1000));
  EXPECT_EQ(info.reset_tokens, milliseconds(360'000));
  EXPECT_FALSE(info.empty());
}

TEST(RateLimitHeadersTest, Anthropic) {
  http::Headers h = {{"anthropic-ratelimit-requests-limit", "50"},
                     {"anthropic-ratelimit-requests-remaining", "49"},
                     {"anthropic-ratelimit-requests-reset", "2026-11-27T12:00:30Z"},
                     {"anthropic-ratelimit-tokens-limit", "90000"},
                     {"anthropic-ratelimit-tokens-remaining", "89000"},
                     {"anthropic-ratelimit-tokens-reset", "2026-11-27T12:00:02.5Z"},
                     {"anthropic-ratelimit-input-tokens-limit", "80000"},
                     {"anthropic-ratelimit-input-tokens-remaining", "79000"},
                     {"anthropic-ratelimit-input-tokens-reset", "2026-11-27T12:00:01Z"},
                     {"anthropic-ratelimit-output-tokens-limit", "16000"},
                     {"anthropic-ratelimit-output-tokens-remaining", "15000"},
                     {"anthropic-ratelimit-output-tokens-reset", "2026-11-27T11:59:00Z"}};
  RateLimitInfo info = parseRateLimitHeaders(h, kNow);
  EXPECT_EQ(info.limit_requests, 50);
  EXPECT_EQ(info.remaining_requests, 49);
  EXPECT_EQ(info.reset_requests, milliseconds(30'000));
  EXPECT_EQ(info.limit_tokens, 90000);
  EXPECT_EQ(info.remaining_tokens, 89000);
  EXPECT_EQ(info.reset_tokens, milliseconds(2500));
  EXPECT_EQ(info.limit_input_tokens, 80000);
  EXPECT_EQ(info.remaining_input_tokens, 79000);
  EXPECT_EQ(info.reset_input_tokens, milliseconds(1000));
  EXPECT_EQ(info.limit_output_tokens, 16000);
  EXPECT_EQ(info.remaining_output_tokens, 15000);
  EXPECT_EQ(info.reset_output_tokens, milliseconds(0));  // already past
}

TEST(RateLimitHeadersTest, AnthropicInputBucketStandsInForTokens) {
  http::Headers h = {{"anthropic-ratelimit-input-tokens-limit", "80000"},
                     {"anthropic-ratelimit-input-tokens-remaining", "100"},
                     {"anthropic-ratelimit-input-tokens-reset", "2026-11-27T12:00:05Z"}};
  RateLimitInfo info = parseRateLimitHeaders(h, kNow);
  EXPECT_EQ(info.limit_tokens, 80000);
  EXPECT_EQ(info.remaining_tokens, 100);
  EXPECT_EQ(info.reset_tokens, milliseconds(5000));
}

TEST(RateLimitHeadersTest, MalformedAndAbsent) {
  http::Headers h = {{"x-ratelimit-remaining-requests", "many"},
                     {"x-ratelimit-limit-requests", "-1"},
                     {"x-ratelimit-reset-tokens", "soon"},
                     {"anthropic-ratelimit-requests-reset", "tomorrow"}};
  RateLimitInfo info = parseRateLimitHeaders(h, kNow);
  EXPECT_TRUE(info.empty());
  EXPECT_TRUE(parseRateLimitHeaders({}, kNow).empty());
}

}  // namespace
}  // namespace llmpool::providers
