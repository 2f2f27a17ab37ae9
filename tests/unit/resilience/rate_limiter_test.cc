#include "resilience/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_clock.h"

namespace {

using namespace std::chrono_literals;
using llmpool::Duration;
using llmpool::resilience::ProviderRateLimits;
using llmpool::resilience::RateLimiter;
using llmpool::testing::FakeClock;

TEST(RateLimiterTest, UnlimitedWithoutConfigOrHeaders) {
  FakeClock clock;
  RateLimiter limiter(std::nullopt, std::nullopt);
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(limiter.reserve(clock.now(), 1'000'000).granted());
}

TEST(RateLimiterTest, RequestBucketEmptiesThenRefills) {
  FakeClock clock;
  RateLimiter limiter(60.0, std::nullopt);  // 1 per second, burst 60
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.reserve(clock.now(), 0).granted()) << i;
  const auto refused = limiter.reserve(clock.now(), 0);
  ASSERT_FALSE(refused.granted());
  EXPECT_GE(refused.retry_at, clock.now() + 1s);
  EXPECT_LE(refused.retry_at, clock.now() + 1s + 1us);
  clock.advance(999ms);
  EXPECT_FALSE(limiter.reserve(clock.now(), 0).granted());
  clock.set(refused.retry_at);
  EXPECT_TRUE(limiter.reserve(clock.now(), 0).granted());
  EXPECT_FALSE(limiter.reserve(clock.now(), 0).granted());
  const auto s = limiter.stats(clock.now());
  EXPECT_EQ(61u, s.granted_total);
  EXPECT_EQ(3u, s.throttled_total);
}

TEST(RateLimiterTest, TokenBucketWaitTimeMatchesTheDeficit) {
  FakeClock clock;
  RateLimiter limiter(std::nullopt, 6000.0);  // 100 tokens per second
  ASSERT_TRUE(limiter.reserve(clock.now(), 5000).granted());
  const auto refused = limiter.reserve(clock.now(), 1500);  // 500 short: 5 s
  ASSERT_FALSE(refused.granted());
  EXPECT_GE(refused.retry_at, clock.now() + 5s);
  EXPECT_LE(refused.retry_at, clock.now() + 5s + 1us);
  clock.set(refused.retry_at);
  EXPECT_TRUE(limiter.reserve(clock.now(), 1500).granted());
}

TEST(RateLimiterTest, SettleRefundsAndCharges) {
  FakeClock clock;
  RateLimiter limiter(std::nullopt, 1000.0);
  auto first = limiter.reserve(clock.now(), 1000);
  ASSERT_TRUE(first.granted());
  EXPECT_FALSE(limiter.reserve(clock.now(), 600).granted());
  limiter.settle(clock.now(), *first.reservation, 400);  // 600 back
  EXPECT_DOUBLE_EQ(600.0, *limiter.stats(clock.now()).tokens_available);
  limiter.settle(clock.now(), *first.reservation, 0);  // settled already: no second refund
  EXPECT_DOUBLE_EQ(600.0, *limiter.stats(clock.now()).tokens_available);

  auto second = limiter.reserve(clock.now(), 100);
  ASSERT_TRUE(second.granted());
  limiter.settle(clock.now(), *second.reservation, 600);  // used 500 more than reserved
  EXPECT_DOUBLE_EQ(0.0, *limiter.stats(clock.now()).tokens_available);
}

TEST(RateLimiterTest, RefundNeverOverfillsTheBucket) {
  FakeClock clock;
  RateLimiter limiter(std::nullopt, 1000.0);
  auto r = limiter.reserve(clock.now(), 500);
  clock.advance(1min);
  limiter.settle(clock.now(), *r.reservation, 0);
  EXPECT_DOUBLE_EQ(1000.0, *limiter.stats(clock.now()).tokens_available);
}

TEST(RateLimiterTest, EstimateAboveCapacityIsGrantedWhenFullAndLeavesDebt) {
  FakeClock clock;
  RateLimiter limiter(std::nullopt, 1000.0);
  ASSERT_TRUE(limiter.reserve(clock.now(), 5000).granted());
  EXPECT_DOUBLE_EQ(-4000.0, *limiter.stats(clock.now()).tokens_available);
  const auto refused = limiter.reserve(clock.now(), 10);
  ASSERT_FALSE(refused.granted());
  // 4010 tokens at 1000 per minute: 240.6 s.
  EXPECT_GE(refused.retry_at, clock.now() + 240600ms);
  EXPECT_LE(refused.retry_at, clock.now() + 240600ms + 1us);
}

TEST(RateLimiterTest, BothDimensionsMustFitAndNothingIsTakenOnRefusal) {
  FakeClock clock;
  RateLimiter limiter(10.0, 1000.0);
  EXPECT_TRUE(limiter.reserve(clock.now(), 0).granted());
  ASSERT_TRUE(limiter.reserve(clock.now(), 900).granted());
  EXPECT_FALSE(limiter.reserve(clock.now(), 200).granted());
  const auto s = limiter.stats(clock.now());
  EXPECT_DOUBLE_EQ(8.0, *s.requests_available);  // the refused call took no request
  EXPECT_DOUBLE_EQ(100.0, *s.tokens_available);
}

TEST(RateLimiterTest, HeaderSyncBlocksUntilTheProviderReset) {
  FakeClock clock;
  RateLimiter limiter(std::nullopt, std::nullopt);
  ProviderRateLimits limits;
  limits.limit_requests = 100;
  limits.remaining_requests = 2;
  limits.reset_requests = 20s;
  limiter.syncFromHeaders(clock.now(), limits);
  EXPECT_TRUE(limiter.reserve(clock.now(), 0).granted());
  EXPECT_TRUE(limiter.reserve(clock.now(), 0).granted());
  const auto refused = limiter.reserve(clock.now(), 0);
  ASSERT_FALSE(refused.granted());
  EXPECT_EQ(clock.now() + 20s, refused.retry_at);
  clock.advance(20s);  // the provider's window has reset: only local limits apply again
  EXPECT_TRUE(limiter.reserve(clock.now(), 0).granted());
  EXPECT_TRUE(limiter.reserve(clock.now(), 0).granted());
}

TEST(RateLimiterTest, HeaderSyncOnTokens) {
  FakeClock clock;
  RateLimiter limiter(std::nullopt, std::nullopt);
  ProviderRateLimits limits;
  limits.remaining_tokens = 500;
  limits.reset_tokens = 10s;
  limiter.syncFromHeaders(clock.now(), limits);
  const auto refused = limiter.reserve(clock.now(), 600);
  ASSERT_FALSE(refused.granted());
  EXPECT_EQ(clock.now() + 10s, refused.retry_at);
  auto ok = limiter.reserve(clock.now(), 400);
  ASSERT_TRUE(ok.granted());
  limiter.settle(clock.now(), *ok.reservation, 100);  // 300 back to the provider window too
  EXPECT_TRUE(limiter.reserve(clock.now(), 400).granted());
}

TEST(RateLimiterTest, HeaderSyncOnlyLowersTheLocalBucket) {
  FakeClock clock;
  RateLimiter limiter(100.0, std::nullopt);
  ProviderRateLimits limits;
  limits.remaining_requests = 3;  // no reset time: lowers the local bucket only
  limiter.syncFromHeaders(clock.now(), limits);
  EXPECT_DOUBLE_EQ(3.0, *limiter.stats(clock.now()).requests_available);

  limits.remaining_requests = 50;  // higher than ours: we keep our lower view
  limiter.syncFromHeaders(clock.now(), limits);
  EXPECT_DOUBLE_EQ(3.0, *limiter.stats(clock.now()).requests_available);
}

}  // namespace
