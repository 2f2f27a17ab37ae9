#include "resilience/backoff.h"

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cstdint>

#include "fake_random.h"

namespace {

using namespace std::chrono_literals;
using llmpool::Duration;
using llmpool::RetryConfig;
using llmpool::resilience::Backoff;
using llmpool::testing::FakeRandom;

RetryConfig defaults() { return RetryConfig{}; }  // 100 ms x 2.0, cap 30 s

TEST(BackoffTest, CeilingGrowsExponentiallyAndIsCapped) {
  FakeRandom random;
  Backoff backoff(defaults(), random);
  EXPECT_EQ(Duration(100ms), backoff.ceiling(0));
  EXPECT_EQ(Duration(200ms), backoff.ceiling(1));
  EXPECT_EQ(Duration(400ms), backoff.ceiling(2));
  EXPECT_EQ(Duration(25600ms), backoff.ceiling(8));
  EXPECT_EQ(Duration(30s), backoff.ceiling(9));  // 51.2 s capped
  EXPECT_EQ(Duration(30s), backoff.ceiling(1000));
  EXPECT_EQ(Duration(30s), backoff.ceiling(INT_MAX));  // no overflow
  EXPECT_EQ(Duration(100ms), backoff.ceiling(-3));     // negative retry = the first
}

TEST(BackoffTest, FullJitterExactValuesFromScriptedRandom) {
  FakeRandom random;
  Backoff backoff(defaults(), random);
  random.pushUniform(0.5);
  EXPECT_EQ(Duration(50ms), backoff.delay(0));
  random.pushUniform(0.25);
  EXPECT_EQ(Duration(200ms), backoff.delay(3));  // ceiling 800 ms
  random.push(0);
  EXPECT_EQ(Duration::zero(), backoff.delay(5));
  random.pushUniform(0.75);
  EXPECT_EQ(Duration(22500ms), backoff.delay(20));  // capped at 30 s, then jittered
  EXPECT_EQ(4u, random.calls());
}

TEST(BackoffTest, JitterStaysBelowTheCeiling) {
  FakeRandom random;
  Backoff backoff(defaults(), random);
  random.push(UINT64_MAX);  // the largest possible draw
  const Duration d = backoff.delay(0);
  EXPECT_LT(d, Duration(100ms));
  EXPECT_GE(d, Duration(100ms) - Duration(1us));
}

TEST(BackoffTest, NonIntegerMultiplier) {
  FakeRandom random;
  RetryConfig c;
  c.initial_backoff = 100ms;
  c.multiplier = 1.5;
  c.max_backoff = 1s;
  Backoff backoff(c, random);
  EXPECT_EQ(Duration(150ms), backoff.ceiling(1));
  EXPECT_EQ(Duration(225ms), backoff.ceiling(2));
  EXPECT_EQ(Duration(1s), backoff.ceiling(6));  // 1.139 s capped
}

TEST(BackoffTest, HugeValuesDoNotOverflow) {
  FakeRandom random;
  RetryConfig c;
  c.initial_backoff = std::chrono::milliseconds(1'000'000'000);  // ~11.6 days
  c.multiplier = 1e300;
  c.max_backoff = std::chrono::milliseconds(INT64_MAX / 2'000'000);  // near Duration::max()
  Backoff backoff(c, random);
  const Duration cap = c.max_backoff;
  EXPECT_EQ(cap, backoff.ceiling(3));
  random.pushUniform(0.5);
  const Duration d = backoff.delay(50);
  EXPECT_GT(d, Duration::zero());
  EXPECT_LT(d, cap);
}

TEST(BackoffTest, MultiplierBelowOneMeansConstant) {
  FakeRandom random;
  RetryConfig c;
  c.multiplier = 0.5;
  Backoff backoff(c, random);
  EXPECT_EQ(Duration(100ms), backoff.ceiling(4));
}

}  // namespace
