#include "resilience/retry_policy.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "fake_clock.h"
#include "fake_random.h"

namespace {

using namespace std::chrono_literals;
using llmpool::Duration;
using llmpool::Error;
using llmpool::ErrorCode;
using llmpool::RetryConfig;
using llmpool::resilience::RetryBudget;
using llmpool::resilience::RetryDecision;
using llmpool::resilience::RetryPolicy;
using llmpool::resilience::RetryQuery;
using llmpool::testing::FakeClock;
using llmpool::testing::FakeRandom;

Error error(ErrorCode code, std::optional<int> status = std::nullopt,
            std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
  Error e(code, "x");
  e.http_status = status;
  e.retry_after = retry_after;
  return e;
}

TEST(RetryPolicyTest, RetryableClassification) {
  for (auto code : {ErrorCode::ConnectFailed, ErrorCode::Timeout, ErrorCode::RateLimited,
                    ErrorCode::ProviderOverloaded, ErrorCode::ServerError, ErrorCode::Protocol}) {
    EXPECT_TRUE(RetryPolicy::isRetryable(error(code))) << llmpool::errorCodeName(code);
  }
  for (auto code :
       {ErrorCode::InvalidRequest, ErrorCode::AuthFailed, ErrorCode::NotFound, ErrorCode::TlsError,
        ErrorCode::CircuitOpen, ErrorCode::Overloaded, ErrorCode::DeadlineExceeded,
        ErrorCode::Cancelled, ErrorCode::QueueFull, ErrorCode::Dropped, ErrorCode::InvalidConfig,
        ErrorCode::NoDeployment, ErrorCode::Internal}) {
    EXPECT_FALSE(RetryPolicy::isRetryable(error(code))) << llmpool::errorCodeName(code);
  }
}

TEST(RetryPolicyTest, ProviderVerdictOverridesTheCodeForHttpAnswers) {
  auto quota = error(ErrorCode::RateLimited, 429);
  quota.should_retry = false;  // insufficient_quota
  EXPECT_FALSE(RetryPolicy::isRetryable(quota));
  auto conflict = error(ErrorCode::InvalidRequest, 400);
  conflict.should_retry = true;  // x-should-retry: true
  EXPECT_TRUE(RetryPolicy::isRetryable(conflict));
  auto cancelled = error(ErrorCode::Cancelled);
  cancelled.should_retry = true;  // local decisions are not the provider's to override
  EXPECT_FALSE(RetryPolicy::isRetryable(cancelled));
  auto reset = error(ErrorCode::ConnectFailed);
  reset.should_retry = false;
  EXPECT_TRUE(RetryPolicy::isRetryable(reset));

  FakeClock clock;
  FakeRandom random;
  RetryPolicy policy(RetryConfig{}, random);
  EXPECT_EQ(RetryDecision::NoNonRetryable,
            policy.decide(clock.now(), quota, RetryQuery{1, 10s, true}).decision);
}

TEST(RetryPolicyTest, BreakerFailureClassification) {
  EXPECT_TRUE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::Timeout)));
  EXPECT_TRUE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::ConnectFailed)));
  EXPECT_TRUE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::ServerError, 503)));
  EXPECT_TRUE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::ServerError)));
  EXPECT_TRUE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::ProviderOverloaded, 529)));
  EXPECT_TRUE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::RateLimited, 429)));
  EXPECT_FALSE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::ServerError, 408)));
  EXPECT_FALSE(RetryPolicy::countsAsBreakerFailure(error(ErrorCode::ServerError, 409)));
  for (auto code : {ErrorCode::InvalidRequest, ErrorCode::AuthFailed, ErrorCode::NotFound,
                    ErrorCode::Cancelled, ErrorCode::DeadlineExceeded, ErrorCode::CircuitOpen,
                    ErrorCode::Overloaded, ErrorCode::Internal}) {
    EXPECT_FALSE(RetryPolicy::countsAsBreakerFailure(error(code))) << llmpool::errorCodeName(code);
  }
}

struct Row {
  const char* name;
  Error err;
  RetryQuery query;
  RetryDecision decision;
  Duration delay;
};

TEST(RetryPolicyTest, DecisionTable) {
  FakeClock clock;
  FakeRandom random;
  random.setFallbackUniform(0.5);  // backoff = half of its ceiling
  RetryConfig config;              // 3 attempts, 100 ms x2, max_retry_after 60 s
  RetryPolicy policy(config, random);

  const std::vector<Row> rows = {
      {"400 is final",
       error(ErrorCode::InvalidRequest, 400),
       {1, 10s, true},
       RetryDecision::NoNonRetryable,
       {}},
      {"401 is final",
       error(ErrorCode::AuthFailed, 401),
       {1, 10s, true},
       RetryDecision::NoNonRetryable,
       {}},
      {"attempts used up",
       error(ErrorCode::ServerError, 503),
       {3, 10s, true},
       RetryDecision::NoAttemptsLeft,
       {}},
      {"deadline passed",
       error(ErrorCode::ServerError, 503),
       {1, 0s, true},
       RetryDecision::NoDeadline,
       {}},
      {"other deployment: now",
       error(ErrorCode::ServerError, 503),
       {1, 10s, true},
       RetryDecision::RetryOtherNow,
       {}},
      {"other deployment beats Retry-After",
       error(ErrorCode::RateLimited, 429, 5s),
       {1, 10s, true},
       RetryDecision::RetryOtherNow,
       {}},
      {"other deployment beats a too long Retry-After",
       error(ErrorCode::RateLimited, 429, 90s),
       {1, 10s, true},
       RetryDecision::RetryOtherNow,
       {}},
      {"Retry-After honoured exactly",
       error(ErrorCode::RateLimited, 429, 2s),
       {1, 10s, false},
       RetryDecision::RetrySameAfter,
       2s},
      {"Retry-After equal to time left",
       error(ErrorCode::RateLimited, 429, 2s),
       {1, 2s, false},
       RetryDecision::NoDeadline,
       {}},
      {"Retry-After beyond deadline",
       error(ErrorCode::RateLimited, 429, 5s),
       {1, 2s, false},
       RetryDecision::NoDeadline,
       {}},
      {"Retry-After over max_retry_after",
       error(ErrorCode::RateLimited, 429, 61s),
       {1, 120s, false},
       RetryDecision::NoRetryAfterTooLong,
       {}},
      {"Retry-After at max_retry_after",
       error(ErrorCode::ServerError, 503, 60s),
       {1, 120s, false},
       RetryDecision::RetrySameAfter,
       60s},
      {"backoff first retry",
       error(ErrorCode::Timeout),
       {1, 10s, false},
       RetryDecision::RetrySameAfter,
       50ms},
      {"backoff second retry",
       error(ErrorCode::ConnectFailed),
       {2, 10s, false},
       RetryDecision::RetrySameAfter,
       100ms},
      {"backoff does not fit",
       error(ErrorCode::ConnectFailed),
       {2, 100ms, false},
       RetryDecision::NoDeadline,
       {}},
  };
  for (const Row& row : rows) {
    const auto plan = policy.decide(clock.now(), row.err, row.query);
    EXPECT_EQ(row.decision, plan.decision) << row.name;
    EXPECT_EQ(row.delay, plan.delay) << row.name;
  }
  EXPECT_EQ(2u, policy.count(RetryDecision::NoNonRetryable));
  EXPECT_EQ(1u, policy.count(RetryDecision::NoAttemptsLeft));
  EXPECT_EQ(4u, policy.count(RetryDecision::NoDeadline));
  EXPECT_EQ(3u, policy.count(RetryDecision::RetryOtherNow));
  EXPECT_EQ(4u, policy.count(RetryDecision::RetrySameAfter));
  EXPECT_EQ(1u, policy.count(RetryDecision::NoRetryAfterTooLong));
  EXPECT_EQ(0u, policy.count(RetryDecision::NoBudget));
}

TEST(RetryPolicyTest, BudgetIsOnlySpentOnRealRetries) {
  FakeClock clock;
  FakeRandom random;
  RetryConfig config;
  config.max_attempts = 10;
  config.budget_percent = 0;
  config.budget_min_per_second = 0.2;  // x 10 s = 2 retries in the window
  RetryBudget budget(config);
  RetryPolicy policy(config, random, &budget);
  const RetryQuery query{1, 10s, true};

  // Refusals for other reasons do not withdraw.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(RetryDecision::NoNonRetryable,
              policy.decide(clock.now(), error(ErrorCode::InvalidRequest), query).decision);
  }
  EXPECT_TRUE(policy.decide(clock.now(), error(ErrorCode::Timeout), query).retry());
  EXPECT_TRUE(policy.decide(clock.now(), error(ErrorCode::Timeout), query).retry());
  const auto refused = policy.decide(clock.now(), error(ErrorCode::Timeout), query);
  EXPECT_EQ(RetryDecision::NoBudget, refused.decision);
  EXPECT_FALSE(refused.retry());
  EXPECT_EQ(1u, policy.count(RetryDecision::NoBudget));
  EXPECT_EQ(1u, budget.snapshot(clock.now()).exhausted_total);
}

TEST(RetryPolicyTest, DecisionNamesAreDistinct) {
  EXPECT_EQ("retry_same_after",
            llmpool::resilience::retryDecisionName(RetryDecision::RetrySameAfter));
  EXPECT_EQ("no_budget", llmpool::resilience::retryDecisionName(RetryDecision::NoBudget));
}

}  // namespace
