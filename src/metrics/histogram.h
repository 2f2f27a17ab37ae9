#pragma once
// A fixed-bucket latency histogram for LLM calls: lock-free observe(), Prometheus-compatible
// buckets (upper bounds, `le`), percentile estimates from a snapshot.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "llmpool/clock.h"

namespace llmpool::metrics {

/**
 * Buckets from 5 ms to 10 min (LLM calls range from a cached embedding to a long generation),
 * roughly 1-1.5-2-3-5 per decade, plus an overflow bucket (+Inf).
 *
 * Thread-safety: observe() is lock-free (relaxed atomics) and safe from any number of threads.
 * snapshot() is safe concurrently with observe(); a snapshot taken during updates may miss the
 * newest samples but its count always equals the sum of its buckets.
 */
class Histogram {
 public:
  static constexpr size_t kBounds = 29;
  /** Upper bounds in seconds, ascending. Bucket i counts samples <= kBoundsSeconds[i]. */
  static constexpr std::array<double, kBounds> kBoundsSeconds = {
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1,   0.15,  0.25,  0.35, 0.5,
      0.75,  1.0,  1.5,   2.0,  3.0,   5.0,   7.5,   10.0,  15.0, 20.0,
      30.0,  45.0, 60.0,  90.0, 120.0, 180.0, 300.0, 450.0, 600.0};

  struct Snapshot {
    std::array<uint64_t, kBounds + 1> buckets{};  // per bucket (not cumulative); last = overflow
    uint64_t count = 0;                           // == sum of buckets
    Duration sum{};
    Duration max{};
    /** Estimate of the q-quantile (q in [0, 1]): linear inside the bucket holding it, never more
     *  than the largest sample. Zero when empty. */
    Duration percentile(double q) const;
    /** Cumulative count of samples <= kBoundsSeconds[i] (Prometheus `le`). */
    uint64_t cumulative(size_t i) const;
  };

  Histogram() = default;
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /** Records one sample (negative values count as zero). Lock-free. */
  void observe(Duration value);
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds + 1> buckets_{};
  std::atomic<int64_t> sum_ns_{0};
  std::atomic<int64_t> max_ns_{0};
};

}  // namespace llmpool::metrics
