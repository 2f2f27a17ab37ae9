#include "resilience/retry_budget.h"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_clock.h"

namespace {

using namespace std::chrono_literals;
using llmpool::RetryConfig;
using llmpool::resilience::RetryBudget;
using llmpool::testing::FakeClock;

RetryConfig budget(double percent, double floor_per_second) {
  RetryConfig c;
  c.budget_percent = percent;
  c.budget_min_per_second = floor_per_second;
  c.budget_window = 10s;
  return c;
}

TEST(RetryBudgetTest, FloorAllowsRetriesWithoutTraffic) {
  FakeClock clock;
  RetryBudget b(budget(0, 3));  // 3/s over 10 s = 30
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(b.tryWithdraw(clock.now())) << i;
  EXPECT_FALSE(b.tryWithdraw(clock.now()));
  EXPECT_EQ(1u, b.snapshot(clock.now()).exhausted_total);
}

TEST(RetryBudgetTest, PercentOfRequests) {
  FakeClock clock;
  RetryBudget b(budget(20, 0));
  for (int i = 0; i < 10; ++i) b.onRequest(clock.now());
  EXPECT_TRUE(b.tryWithdraw(clock.now()));
  EXPECT_TRUE(b.tryWithdraw(clock.now()));
  EXPECT_FALSE(b.tryWithdraw(clock.now()));  // 2 of 10 used
  for (int i = 0; i < 5; ++i) b.onRequest(clock.now());
  EXPECT_TRUE(b.tryWithdraw(clock.now()));  // 20 % of 15 = 3
  EXPECT_FALSE(b.tryWithdraw(clock.now()));
  const auto s = b.snapshot(clock.now());
  EXPECT_EQ(15u, s.requests);
  EXPECT_EQ(3u, s.retries);
  EXPECT_DOUBLE_EQ(3.0, s.allowance);
  EXPECT_EQ(2u, s.exhausted_total);
}

TEST(RetryBudgetTest, PercentAndFloorAdd) {
  FakeClock clock;
  RetryBudget b(budget(20, 0.1));  // floor 1 per 10 s
  for (int i = 0; i < 10; ++i) b.onRequest(clock.now());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.tryWithdraw(clock.now()));
  EXPECT_FALSE(b.tryWithdraw(clock.now()));
}

TEST(RetryBudgetTest, DepositsAndWithdrawalsExpire) {
  FakeClock clock;
  const auto t0 = clock.now();
  RetryBudget b(budget(20, 0));
  for (int i = 0; i < 10; ++i) b.onRequest(t0);
  EXPECT_TRUE(b.tryWithdraw(t0));
  EXPECT_TRUE(b.tryWithdraw(t0));
  EXPECT_FALSE(b.tryWithdraw(t0));

  for (int i = 0; i < 5; ++i) b.onRequest(t0 + 5s);
  EXPECT_TRUE(b.tryWithdraw(t0 + 5s));  // 20 % of 15 = 3, 2 used
  EXPECT_FALSE(b.tryWithdraw(t0 + 5s));
  EXPECT_EQ(15u, b.snapshot(t0 + 9999ms).requests);  // nothing expired yet

  // One window later the t0 deposits and withdrawals are gone: 5 requests, 1 retry remain.
  const auto s = b.snapshot(t0 + 10s);
  EXPECT_EQ(5u, s.requests);
  EXPECT_EQ(1u, s.retries);
  EXPECT_FALSE(b.tryWithdraw(t0 + 10s));

  // Everything expired: no allowance until new traffic deposits.
  EXPECT_FALSE(b.tryWithdraw(t0 + 15s));
  for (int i = 0; i < 5; ++i) b.onRequest(t0 + 15s);
  EXPECT_TRUE(b.tryWithdraw(t0 + 15s));
  EXPECT_FALSE(b.tryWithdraw(t0 + 15s));
}

}  // namespace
