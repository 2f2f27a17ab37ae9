#include "resilience/sliding_window.h"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_clock.h"

namespace {

using namespace std::chrono_literals;
using llmpool::resilience::SlidingWindow;
using llmpool::testing::FakeClock;

TEST(SlidingWindowTest, SumsAndEvictsBucketByBucket) {
  FakeClock clock;  // starts on a whole second, so buckets of 1 s align with it
  const auto t0 = clock.now();
  SlidingWindow w(10s, 10);
  w.add(t0, 1, 0);
  w.add(t0 + 3s, 2, 1);
  w.add(t0 + 9s, 4, 2);
  EXPECT_EQ(7u, w.totals(t0 + 9s).first);
  EXPECT_EQ(7u, w.totals(t0 + 9999ms).first);
  EXPECT_EQ(6u, w.totals(t0 + 10s).first);  // the t0 bucket left the window
  EXPECT_EQ(3u, w.totals(t0 + 10s).second);
  EXPECT_EQ(4u, w.totals(t0 + 13s).first);
  EXPECT_EQ(0u, w.totals(t0 + 19s).first);
}

TEST(SlidingWindowTest, LongGapClearsEverythingAndTimeNeverGoesBack) {
  FakeClock clock;
  const auto t0 = clock.now();
  SlidingWindow w(10s, 10);
  w.add(t0, 5, 5);
  EXPECT_EQ(0u, w.totals(t0 + 1h).first);
  w.add(t0 + 1h, 1, 0);
  w.add(t0, 1, 0);  // older time: lands in the newest bucket
  EXPECT_EQ(2u, w.totals(t0 + 1h).first);
  w.clear();
  EXPECT_EQ(0u, w.totals(t0 + 1h).first);
}

}  // namespace
