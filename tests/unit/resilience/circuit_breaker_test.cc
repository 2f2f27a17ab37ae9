#include "resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "fake_clock.h"

namespace {

using namespace std::chrono_literals;
using llmpool::CircuitBreakerConfig;
using llmpool::resilience::CircuitBreaker;
using llmpool::resilience::CircuitState;
using llmpool::testing::FakeClock;

CircuitBreakerConfig config(int threshold = 5, int repairs = 1) {
  CircuitBreakerConfig c;
  c.failure_threshold = threshold;
  c.failure_window = 60s;
  c.recovery_timeout = 30s;
  c.max_recovery_timeout = 30s;
  c.max_repair_attempts = repairs;
  return c;
}

// Records one admitted call that failed.
void fail(CircuitBreaker& breaker, FakeClock& clock) {
  auto admission = breaker.tryAdmit(clock.now());
  ASSERT_TRUE(admission.admitted);
  breaker.onFailure(clock.now(), admission.ticket);
}

void succeed(CircuitBreaker& breaker, FakeClock& clock) {
  auto admission = breaker.tryAdmit(clock.now());
  ASSERT_TRUE(admission.admitted);
  breaker.onSuccess(clock.now(), admission.ticket);
}

TEST(CircuitBreakerTest, OpensWhenThresholdFailuresFallInsideWindow) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 4; ++i) {
    fail(breaker, clock);
    clock.advance(1s);
  }
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  fail(breaker, clock);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));

  auto rejected = breaker.tryAdmit(clock.now());
  EXPECT_FALSE(rejected.admitted);
  ASSERT_TRUE(rejected.retry_at.has_value());
  EXPECT_EQ(clock.now() + 30s, *rejected.retry_at);
  EXPECT_EQ(clock.now() + 30s, breaker.nextProbeAt());
  EXPECT_EQ(1u, breaker.counters().trips_total);
  EXPECT_EQ(1u, breaker.counters().rejections_total);
}

TEST(CircuitBreakerTest, SuccessesDoNotResetTheWindowedFailureCount) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 4; ++i) fail(breaker, clock);
  succeed(breaker, clock);
  succeed(breaker, clock);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  fail(breaker, clock);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, AFewFailuresAmongManySuccessesKeepItClosed) {
  // At volume, failure_threshold failures are noise unless they are a large enough share of the
  // window's calls (default 50 %): 100 successes need 100 failures beside them.
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 100; ++i) succeed(breaker, clock);
  for (int i = 0; i < 99; ++i) fail(breaker, clock);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));  // 99 of 199
  fail(breaker, clock);                                         // 100 of 200
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, SuccessesOutsideTheWindowDoNotDiluteItsFailures) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 100; ++i) succeed(breaker, clock);
  clock.advance(61s);
  for (int i = 0; i < 5; ++i) fail(breaker, clock);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, AZeroMinimumRateCountsFailuresWhateverTheirShare) {
  FakeClock clock;
  auto c = config();
  c.failure_threshold_min_rate = 0;
  CircuitBreaker breaker(c);
  for (int i = 0; i < 100; ++i) succeed(breaker, clock);
  for (int i = 0; i < 4; ++i) fail(breaker, clock);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  fail(breaker, clock);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, OldFailuresFallOutOfTheWindow) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 4; ++i) fail(breaker, clock);
  clock.advance(60s);  // those four are now exactly one window old: outside
  fail(breaker, clock);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  for (int i = 0; i < 3; ++i) fail(breaker, clock);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));  // 4 inside the window
  fail(breaker, clock);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, RecoversThroughHalfOpenThreeTimesInARow) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int cycle = 1; cycle <= 3; ++cycle) {
    SCOPED_TRACE(cycle);
    for (int i = 0; i < 5; ++i) fail(breaker, clock);
    ASSERT_EQ(CircuitState::Open, breaker.state(clock.now()));
    EXPECT_FALSE(breaker.tryAdmit(clock.now() + 29s).admitted);

    clock.advance(30s);  // the open time never grows: every cycle closed in between
    EXPECT_EQ(CircuitState::HalfOpen, breaker.state(clock.now()));
    auto probe = breaker.tryAdmit(clock.now());
    ASSERT_TRUE(probe.admitted);
    EXPECT_TRUE(probe.isProbe());
    auto second = breaker.tryAdmit(clock.now());
    EXPECT_FALSE(second.admitted);
    EXPECT_FALSE(second.retry_at.has_value());  // frees when the probe settles

    breaker.onSuccess(clock.now(), probe.ticket);
    EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
    auto normal = breaker.tryAdmit(clock.now());
    ASSERT_TRUE(normal.admitted);
    EXPECT_FALSE(normal.isProbe());
    breaker.onSuccess(clock.now(), normal.ticket);
    clock.advance(1s);
  }
  EXPECT_EQ(3u, breaker.counters().trips_total);
  EXPECT_EQ(3u, breaker.counters().repair_attempts_total);
}

TEST(CircuitBreakerTest, OpenTimeDoublesPerReTripUpToTheCapAndResetsOnClose) {
  FakeClock clock;
  auto c = config(1);
  c.recovery_timeout = 1s;
  c.max_recovery_timeout = 8s;
  CircuitBreaker breaker(c);
  fail(breaker, clock);  // trip 1: 1 s
  const std::vector<std::chrono::seconds> expected = {1s, 2s, 4s, 8s, 8s};
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    clock.advance(expected[i] - 1ms);
    EXPECT_FALSE(breaker.tryAdmit(clock.now()).admitted);
    clock.advance(1ms);
    auto probe = breaker.tryAdmit(clock.now());
    ASSERT_TRUE(probe.isProbe());
    if (i + 1 < expected.size())
      breaker.onFailure(clock.now(), probe.ticket);  // re-trip
    else
      breaker.onSuccess(clock.now(), probe.ticket);
  }
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  EXPECT_EQ(std::chrono::nanoseconds(1s), breaker.currentOpenDuration());
  fail(breaker, clock);
  EXPECT_EQ(clock.now() + 1s, breaker.nextProbeAt());
  EXPECT_EQ(6u, breaker.counters().trips_total);  // 1 + 4 re-trips + 1 after closing
}

TEST(CircuitBreakerTest, HalfOpenNeedsEveryProbeToSucceedAndOneFailureReopens) {
  FakeClock clock;
  CircuitBreaker breaker(config(5, 3));
  for (int i = 0; i < 5; ++i) fail(breaker, clock);
  clock.advance(30s);
  std::vector<CircuitBreaker::Admission> probes;
  for (int i = 0; i < 3; ++i) probes.push_back(breaker.tryAdmit(clock.now()));
  for (auto& p : probes) EXPECT_TRUE(p.isProbe());
  EXPECT_FALSE(breaker.tryAdmit(clock.now()).admitted);

  breaker.onSuccess(clock.now(), probes[0].ticket);
  EXPECT_EQ(CircuitState::HalfOpen, breaker.state(clock.now()));
  breaker.onFailure(clock.now(), probes[1].ticket);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
  // The last probe belongs to the episode that just ended: its success decides nothing.
  breaker.onSuccess(clock.now(), probes[2].ticket);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, ClosesAfterAllProbesSucceed) {
  FakeClock clock;
  CircuitBreaker breaker(config(5, 2));
  for (int i = 0; i < 5; ++i) fail(breaker, clock);
  clock.advance(30s);
  auto a = breaker.tryAdmit(clock.now());
  auto b = breaker.tryAdmit(clock.now());
  ASSERT_TRUE(a.isProbe() && b.isProbe());
  breaker.onSuccess(clock.now(), a.ticket);
  EXPECT_EQ(CircuitState::HalfOpen, breaker.state(clock.now()));
  breaker.onSuccess(clock.now(), b.ticket);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, AbandonedProbeReleasesItsSlot) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 5; ++i) fail(breaker, clock);
  clock.advance(30s);
  {
    auto probe = breaker.tryAdmit(clock.now());
    ASSERT_TRUE(probe.isProbe());
    EXPECT_FALSE(breaker.tryAdmit(clock.now()).admitted);
  }  // dropped without an outcome
  auto next = breaker.tryAdmit(clock.now());
  ASSERT_TRUE(next.admitted);
  EXPECT_TRUE(next.isProbe());

  // Overwriting a pending probe ticket abandons it too.
  next.ticket = CircuitBreaker::Ticket();
  auto again = breaker.tryAdmit(clock.now());
  EXPECT_TRUE(again.isProbe());
  EXPECT_EQ(CircuitState::HalfOpen, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, IgnoredProbeFreesTheSlotWithoutDeciding) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 5; ++i) fail(breaker, clock);
  clock.advance(30s);
  auto probe = breaker.tryAdmit(clock.now());
  breaker.onIgnored(probe.ticket);  // e.g. the probe got a 400
  EXPECT_FALSE(probe.ticket.pending());
  EXPECT_EQ(CircuitState::HalfOpen, breaker.state(clock.now()));
  auto next = breaker.tryAdmit(clock.now());
  EXPECT_TRUE(next.isProbe());
  // Settling twice is a no-op.
  breaker.onSuccess(clock.now(), next.ticket);
  breaker.onFailure(clock.now(), next.ticket);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, OutcomesFromAnEarlierEpisodeAreIgnored) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  auto slow = breaker.tryAdmit(clock.now());  // admitted while Closed, finishes much later
  for (int i = 0; i < 5; ++i) fail(breaker, clock);
  clock.advance(30s);
  auto probe = breaker.tryAdmit(clock.now());
  breaker.onSuccess(clock.now(), probe.ticket);
  ASSERT_EQ(CircuitState::Closed, breaker.state(clock.now()));

  for (int i = 0; i < 4; ++i) fail(breaker, clock);
  breaker.onFailure(clock.now(), slow.ticket);  // stale: would be the 5th
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  fail(breaker, clock);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, HalfOpenProbeCapHoldsUnderFiftyConcurrentCallers) {
  constexpr int kThreads = 50;
  constexpr int kRepairs = 3;
  for (int round = 0; round < 20; ++round) {
    FakeClock clock;
    CircuitBreaker breaker(config(1, kRepairs));
    fail(breaker, clock);
    clock.advance(30s);
    const auto now = clock.now();

    std::latch start(kThreads);
    std::atomic<int> admitted{0};
    std::atomic<int> probes{0};
    std::vector<CircuitBreaker::Admission> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        results[t] = breaker.tryAdmit(now);  // held until joined: no slot frees meanwhile
        if (results[t].admitted) admitted.fetch_add(1);
        if (results[t].isProbe()) probes.fetch_add(1);
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(kRepairs, admitted.load()) << "round " << round;
    EXPECT_EQ(kRepairs, probes.load());
    EXPECT_EQ(static_cast<uint64_t>(kRepairs), breaker.counters().repair_attempts_total);
    EXPECT_EQ(static_cast<uint64_t>(kThreads - kRepairs), breaker.counters().rejections_total);
  }
}

TEST(CircuitBreakerTest, FailureRateModeNeedsMinimumRequests) {
  FakeClock clock;
  auto c = config(1000);
  c.failure_rate_threshold = 50.0;
  c.minimum_requests = 10;
  CircuitBreaker breaker(c);
  for (int i = 0; i < 5; ++i) succeed(breaker, clock);
  for (int i = 0; i < 4; ++i) fail(breaker, clock);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));  // 4/9, and only 9 calls
  fail(breaker, clock);                                         // 5/10 = 50 %
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, FailureRateBelowThresholdStaysClosed) {
  FakeClock clock;
  auto c = config(1000);
  c.failure_rate_threshold = 50.0;
  c.minimum_requests = 10;
  CircuitBreaker breaker(c);
  for (int i = 0; i < 6; ++i) succeed(breaker, clock);
  for (int i = 0; i < 4; ++i) fail(breaker, clock);  // 40 %
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, FailureRateWindowExpires) {
  FakeClock clock;
  auto c = config(1000);
  c.failure_rate_threshold = 50.0;
  c.minimum_requests = 10;
  CircuitBreaker breaker(c);
  for (int i = 0; i < 5; ++i) succeed(breaker, clock);
  for (int i = 0; i < 4; ++i) fail(breaker, clock);
  clock.advance(60s);
  fail(breaker, clock);  // the earlier 9 calls are gone: 1/1 but below minimum_requests
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  for (int i = 0; i < 9; ++i) fail(breaker, clock);
  EXPECT_EQ(CircuitState::Open, breaker.state(clock.now()));
}

TEST(CircuitBreakerTest, CoolDownOnlyExtendsAndBlocksAdmission) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  const auto t0 = clock.now();
  breaker.coolDown(t0, 10s);
  breaker.coolDown(t0, 2s);  // shorter: ignored
  EXPECT_EQ(t0 + 10s, breaker.cooldownUntil(t0));
  auto rejected = breaker.tryAdmit(t0 + 5s);
  EXPECT_FALSE(rejected.admitted);
  EXPECT_EQ(t0 + 10s, rejected.retry_at);
  EXPECT_EQ(CircuitState::Closed, breaker.state(t0 + 5s));
  breaker.coolDown(t0 + 5s, 7s);  // later: extends
  EXPECT_FALSE(breaker.tryAdmit(t0 + 11s).admitted);
  EXPECT_TRUE(breaker.tryAdmit(t0 + 12s).admitted);
  EXPECT_FALSE(breaker.cooldownUntil(t0 + 12s).has_value());
}

TEST(CircuitBreakerTest, CoolDownLongerThanOpenTimeDelaysTheProbe) {
  FakeClock clock;
  CircuitBreaker breaker(config());
  for (int i = 0; i < 5; ++i) fail(breaker, clock);
  breaker.coolDown(clock.now(), 45s);
  EXPECT_EQ(clock.now() + 45s, breaker.nextProbeAt());
  EXPECT_EQ(clock.now() + 45s, breaker.tryAdmit(clock.now() + 31s).retry_at);
  EXPECT_TRUE(breaker.tryAdmit(clock.now() + 45s).isProbe());
}

TEST(CircuitBreakerTest, DisabledBreakerNeverTrips) {
  FakeClock clock;
  auto c = config(1);
  c.enabled = false;
  CircuitBreaker breaker(c);
  for (int i = 0; i < 20; ++i) fail(breaker, clock);
  EXPECT_EQ(CircuitState::Closed, breaker.state(clock.now()));
  EXPECT_EQ(0u, breaker.counters().trips_total);
}

}  // namespace
