#include "metrics/histogram.h"

#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using llmpool::Duration;
using llmpool::metrics::Histogram;

TEST(HistogramTest, BoundsAreAscendingFrom5msTo10min) {
  EXPECT_DOUBLE_EQ(0.005, Histogram::kBoundsSeconds.front());
  EXPECT_DOUBLE_EQ(600.0, Histogram::kBoundsSeconds.back());
  for (size_t i = 1; i < Histogram::kBounds; ++i) {
    EXPECT_LT(Histogram::kBoundsSeconds[i - 1], Histogram::kBoundsSeconds[i]);
  }
}

TEST(HistogramTest, SamplesLandInTheirLeBucket) {
  Histogram h;
  h.observe(5ms);     // == bound 0: bucket 0 (le)
  h.observe(5001us);  // just above: bucket 1
  h.observe(-1s);     // counted as zero
  h.observe(11min);   // overflow
  const auto s = h.snapshot();
  EXPECT_EQ(4u, s.count);
  EXPECT_EQ(2u, s.buckets[0]);
  EXPECT_EQ(1u, s.buckets[1]);
  EXPECT_EQ(1u, s.buckets[Histogram::kBounds]);
  EXPECT_EQ(3u, s.cumulative(Histogram::kBounds - 1));
  EXPECT_EQ(4u, s.cumulative(Histogram::kBounds));
  EXPECT_EQ(Duration(11min), s.max);
  EXPECT_EQ(Duration(5ms + 5001us + 11min), s.sum);
}

TEST(HistogramTest, PercentilesInterpolateInsideBuckets) {
  Histogram h;
  for (int ms = 1; ms <= 100; ++ms) h.observe(std::chrono::milliseconds(ms));
  const auto s = h.snapshot();
  EXPECT_EQ(Duration(50ms), s.percentile(0.50));
  EXPECT_EQ(Duration(95ms), s.percentile(0.95));
  EXPECT_EQ(Duration(99ms), s.percentile(0.99));
  EXPECT_EQ(Duration(100ms), s.percentile(1.0));
  EXPECT_EQ(Duration(1ms), s.percentile(0.0));
}

TEST(HistogramTest, PercentileNeverExceedsTheLargestSample) {
  Histogram h;
  h.observe(2100ms);  // bucket (2 s, 3 s]
  EXPECT_EQ(Duration(2100ms), h.snapshot().percentile(0.99));
  Histogram overflow;
  overflow.observe(700s);
  overflow.observe(800s);
  const auto p = overflow.snapshot().percentile(0.99);
  EXPECT_GE(p, Duration(600s));
  EXPECT_LE(p, Duration(800s));
}

TEST(HistogramTest, EmptyHistogram) {
  Histogram h;
  EXPECT_EQ(Duration::zero(), h.snapshot().percentile(0.5));
  EXPECT_EQ(0u, h.snapshot().count);
}

TEST(HistogramTest, ConcurrentObservesAreAllCounted) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  Histogram h;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) h.observe(std::chrono::milliseconds(1 + (i + t) % 1000));
    });
  }
  for (auto& th : threads) th.join();
  const auto s = h.snapshot();
  EXPECT_EQ(static_cast<uint64_t>(kThreads * kPerThread), s.count);
  int64_t expected_ms = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) expected_ms += 1 + (i + t) % 1000;
  }
  EXPECT_EQ(Duration(std::chrono::milliseconds(expected_ms)), s.sum);
  EXPECT_EQ(Duration(1000ms), s.max);
}

}  // namespace
