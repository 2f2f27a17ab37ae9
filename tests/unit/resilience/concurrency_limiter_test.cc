#include "resilience/concurrency_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fake_clock.h"
#include "fake_executor.h"

namespace {

using namespace std::chrono_literals;
using llmpool::Duration;
using llmpool::ErrorCode;
using llmpool::Result;
using llmpool::resilience::ConcurrencyLimiter;
using llmpool::testing::FakeClock;
using llmpool::testing::FakeExecutor;
using Permit = ConcurrencyLimiter::Permit;

// Collects what callbacks receive.
struct Outcome {
  std::optional<Permit> permit;
  std::optional<llmpool::Error> error;
  bool called = false;
};

ConcurrencyLimiter::Callback into(Outcome& out) {
  return [&out](Result<Permit> r) {
    out.called = true;
    if (r)
      out.permit.emplace(std::move(*r));
    else
      out.error = r.error();
  };
}

class ConcurrencyLimiterTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeExecutor executor_{clock_};
};

TEST_F(ConcurrencyLimiterTest, FreePermitIsDeliveredThroughTheExecutor) {
  ConcurrencyLimiter limiter("admission", 2, 10, executor_);
  Outcome out;
  limiter.acquire(clock_.now() + 1s, into(out));
  EXPECT_FALSE(out.called);  // never inline
  EXPECT_EQ(1, limiter.stats().in_use);
  executor_.runReady();
  ASSERT_TRUE(out.permit.has_value());
  EXPECT_TRUE(out.permit->held());
  out.permit.reset();
  EXPECT_EQ(0, limiter.stats().in_use);
}

TEST_F(ConcurrencyLimiterTest, WaitersAreServedInFifoOrderByHandOff) {
  ConcurrencyLimiter limiter("admission", 1, 10, executor_);
  auto held = limiter.tryAcquire();
  ASSERT_TRUE(held.has_value());
  std::vector<Outcome> outs(4);
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) {
    limiter.acquire(clock_.now() + 10s, [&, i](Result<Permit> r) {
      ASSERT_TRUE(r.has_value());
      order.push_back(i);
      outs[i].permit.emplace(std::move(*r));
    });
  }
  EXPECT_EQ(4u, limiter.stats().queue_depth);
  held.reset();
  // The permit went straight to waiter 0: nobody can barge in between.
  EXPECT_EQ(1, limiter.stats().in_use);
  EXPECT_FALSE(limiter.tryAcquire().has_value());
  executor_.runReady();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(static_cast<size_t>(i + 1), order.size());
    outs[i].permit.reset();
    executor_.runReady();
  }
  EXPECT_EQ((std::vector<int>{0, 1, 2, 3}), order);
  EXPECT_EQ(0, limiter.stats().in_use);
  EXPECT_EQ(0u, executor_.pending());  // deadline timers were cancelled on hand-off
  EXPECT_EQ(4u, limiter.stats().max_queue_depth_seen);
}

TEST_F(ConcurrencyLimiterTest, WaiterTimesOutAtItsDeadline) {
  ConcurrencyLimiter limiter("admission", 1, 10, executor_);
  auto held = limiter.tryAcquire();
  Outcome out;
  limiter.acquire(clock_.now() + 100ms, into(out));
  executor_.advance(99ms);
  EXPECT_FALSE(out.called);
  executor_.advance(1ms);
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(ErrorCode::Overloaded, out.error->code);
  EXPECT_NE(std::string::npos, out.error->message.find("acquire timeout"));
  EXPECT_NE(std::string::npos, out.error->message.find("admission"));
  EXPECT_EQ(1u, limiter.stats().timeouts_total);
  EXPECT_EQ(0u, limiter.stats().queue_depth);
  held.reset();  // nobody is waiting any more: the permit simply returns
  EXPECT_EQ(0, limiter.stats().in_use);
  executor_.runReady();
  EXPECT_FALSE(out.permit.has_value());
}

TEST_F(ConcurrencyLimiterTest, ExpiredDeadlineWithNoFreePermitFailsAtOnce) {
  ConcurrencyLimiter limiter("admission", 1, 10, executor_);
  auto held = limiter.tryAcquire();
  Outcome out;
  limiter.acquire(clock_.now(), into(out));
  executor_.runReady();
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(ErrorCode::Overloaded, out.error->code);
  EXPECT_EQ(0u, limiter.stats().queue_depth);
}

TEST_F(ConcurrencyLimiterTest, FullQueueIsRejectedImmediately) {
  ConcurrencyLimiter limiter("admission", 1, 2, executor_);
  auto held = limiter.tryAcquire();
  Outcome a, b, c;
  limiter.acquire(clock_.now() + 10s, into(a));
  limiter.acquire(clock_.now() + 10s, into(b));
  limiter.acquire(clock_.now() + 10s, into(c));
  executor_.runReady();
  EXPECT_FALSE(a.called);
  EXPECT_FALSE(b.called);
  ASSERT_TRUE(c.error.has_value());
  EXPECT_EQ(ErrorCode::Overloaded, c.error->code);
  EXPECT_NE(std::string::npos, c.error->message.find("queue full"));
  EXPECT_EQ(1u, limiter.stats().rejections_total);
}

TEST_F(ConcurrencyLimiterTest, ZeroQueueNeverWaits) {
  ConcurrencyLimiter limiter("admission", 1, 0, executor_);
  auto held = limiter.tryAcquire();
  Outcome out;
  limiter.acquire(clock_.now() + 10s, into(out));
  executor_.runReady();
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(ErrorCode::Overloaded, out.error->code);
}

TEST_F(ConcurrencyLimiterTest, ShutdownFailsWaitersAndRefusesNewOnes) {
  ConcurrencyLimiter limiter("admission", 1, 10, executor_);
  auto held = limiter.tryAcquire();
  Outcome a, b, late;
  limiter.acquire(clock_.now() + 10s, into(a));
  limiter.acquire(clock_.now() + 10s, into(b));
  limiter.shutdown();
  limiter.acquire(clock_.now() + 10s, into(late));
  EXPECT_FALSE(limiter.tryAcquire().has_value());
  executor_.runReady();
  for (Outcome* o : {&a, &b, &late}) {
    ASSERT_TRUE(o->error.has_value());
    EXPECT_EQ(ErrorCode::Cancelled, o->error->code);
  }
  EXPECT_EQ(3u, limiter.stats().cancelled_total);
  EXPECT_EQ(0u, executor_.pending());    // their deadline timers are gone
  EXPECT_EQ(1, limiter.stats().in_use);  // a held permit stays valid...
  held.reset();
  EXPECT_EQ(0, limiter.stats().in_use);  // ...and is returned normally
}

TEST_F(ConcurrencyLimiterTest, MovedAndDestroyedPermitsNeverLeak) {
  ConcurrencyLimiter limiter("admission", 2, 10, executor_);
  auto p = limiter.tryAcquire();
  ASSERT_TRUE(p.has_value());
  Permit q = std::move(*p);
  EXPECT_FALSE(p->held());
  EXPECT_TRUE(q.held());
  EXPECT_EQ(1, limiter.stats().in_use);

  auto r = limiter.tryAcquire();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(2, limiter.stats().in_use);
  EXPECT_FALSE(limiter.tryAcquire().has_value());
  q = std::move(*r);  // q's old unit is returned, r's moves in
  EXPECT_EQ(1, limiter.stats().in_use);
  q.release();
  q.release();  // idempotent
  EXPECT_EQ(0, limiter.stats().in_use);

  // A callback that ignores its permit returns it at once.
  limiter.acquire(clock_.now() + 1s, [](Result<Permit>) {});
  executor_.runReady();
  EXPECT_EQ(0, limiter.stats().in_use);
  EXPECT_EQ(3u, limiter.stats().granted_total);
}

TEST_F(ConcurrencyLimiterTest, GrantDroppedByTheExecutorIsReleased) {
  auto executor = std::make_unique<FakeExecutor>(clock_);
  ConcurrencyLimiter limiter("admission", 1, 10, *executor);
  bool called = false;
  limiter.acquire(clock_.now() + 1s, [&](Result<Permit>) { called = true; });
  EXPECT_EQ(1, limiter.stats().in_use);
  executor.reset();  // shut down before running the grant
  EXPECT_FALSE(called);
  EXPECT_EQ(0, limiter.stats().in_use);
}

TEST_F(ConcurrencyLimiterTest, WaitTimeIsMeasured) {
  ConcurrencyLimiter limiter("admission", 1, 10, executor_);
  auto held = limiter.tryAcquire();
  Outcome out;
  limiter.acquire(clock_.now() + 10s, into(out));
  executor_.advance(250ms);
  held.reset();
  executor_.runReady();
  ASSERT_TRUE(out.permit.has_value());
  const auto s = limiter.stats();
  EXPECT_EQ(Duration(250ms), s.wait_time_sum);
  EXPECT_EQ(1u, s.waited_total);
  EXPECT_EQ(2u, s.granted_total);
  EXPECT_EQ(0u, s.timeouts_total);
}

TEST_F(ConcurrencyLimiterTest, LimiterMayGoAwayBeforeItsPermits) {
  std::optional<Permit> survivor;
  {
    ConcurrencyLimiter limiter("admission", 1, 10, executor_);
    survivor = limiter.tryAcquire();
  }
  ASSERT_TRUE(survivor.has_value());
  survivor.reset();  // shared state still alive: no crash, nothing to check but sanitizers
  SUCCEED();
}

TEST_F(ConcurrencyLimiterTest, TryAcquireNeverExceedsTheLimitUnderThreads) {
  constexpr int kThreads = 8;
  constexpr int kPermits = 3;
  ConcurrencyLimiter limiter("admission", kPermits, 0, executor_);
  std::atomic<int> holding{0};
  std::atomic<int> peak{0};
  std::atomic<int> granted{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 2000; ++i) {
        if (auto p = limiter.tryAcquire()) {
          const int now = holding.fetch_add(1) + 1;
          int seen = peak.load();
          while (now > seen && !peak.compare_exchange_weak(seen, now)) {
          }
          granted.fetch_add(1);
          holding.fetch_sub(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(peak.load(), kPermits);
  EXPECT_GT(granted.load(), 0);
  EXPECT_EQ(0, limiter.stats().in_use);
  EXPECT_EQ(static_cast<uint64_t>(granted.load()), limiter.stats().granted_total);
}

}  // namespace
