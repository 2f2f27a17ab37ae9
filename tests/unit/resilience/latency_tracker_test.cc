#include "resilience/latency_tracker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using llmpool::Duration;
using llmpool::resilience::Ewma;
using llmpool::resilience::LatencyTracker;

TEST(LatencyTrackerTest, FirstSampleIsTakenAsIsThenSmoothed) {
  LatencyTracker tracker(0.5);
  EXPECT_FALSE(tracker.ttft().has_value());
  tracker.recordTtft(100ms);
  EXPECT_EQ(Duration(100ms), tracker.ttft());
  tracker.recordTtft(200ms);
  EXPECT_EQ(Duration(150ms), tracker.ttft());
  tracker.recordTtft(50ms);
  EXPECT_EQ(Duration(100ms), tracker.ttft());
  EXPECT_FALSE(tracker.total().has_value());  // independent series
  tracker.recordTotal(2s);
  EXPECT_EQ(Duration(2s), tracker.total());
}

TEST(LatencyTrackerTest, InvalidAlphaFallsBackToDefault) {
  Ewma e(7.0);
  e.record(100ms);
  e.record(200ms);
  EXPECT_EQ(Duration(120ms), e.value());  // alpha 0.2
}

TEST(LatencyTrackerTest, ConcurrentRecordsStayWithinTheSampleRange) {
  Ewma e(0.1);
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < 10'000; ++i) e.record(t % 2 == 0 ? 100ms : 300ms);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(80'000u, e.samples());
  ASSERT_TRUE(e.value().has_value());
  EXPECT_GE(*e.value(), Duration(100ms));
  EXPECT_LE(*e.value(), Duration(300ms));
}

}  // namespace
