#pragma once
// Per-deployment latency estimates (EWMA of time-to-first-token and total duration) for the
// lowest_latency balancing strategy. See docs/resilience.md ("Latency").

#include <atomic>
#include <cstdint>
#include <optional>

#include "llmpool/clock.h"

namespace llmpool::resilience {

/**
 * Exponentially weighted moving average: v = v + alpha * (sample - v); the first sample is taken
 * as is. Lock-free (a compare-exchange loop on one atomic double).
 * Thread-safety: thread-safe, never blocks.
 */
class Ewma {
 public:
  /** @param alpha weight of a new sample, in (0, 1]; out-of-range values fall back to 0.2. */
  explicit Ewma(double alpha = 0.2);

  void record(Duration sample);
  /** nullopt until the first sample. */
  std::optional<Duration> value() const;
  uint64_t samples() const { return samples_.load(std::memory_order_relaxed); }

 private:
  const double alpha_;
  std::atomic<double> value_ns_;  // NaN until the first sample
  std::atomic<uint64_t> samples_{0};
};

/**
 * TTFT and total-duration EWMAs of one deployment. Record only successful attempts (a fast error
 * would make a broken deployment look attractive). A deployment without samples has no estimate:
 * the router should try it (exploration) rather than rank it last forever.
 * Thread-safety: thread-safe, lock-free, never blocks.
 */
class LatencyTracker {
 public:
  explicit LatencyTracker(double alpha = 0.2) : ttft_(alpha), total_(alpha) {}

  void recordTtft(Duration ttft) { ttft_.record(ttft); }
  void recordTotal(Duration total) { total_.record(total); }
  std::optional<Duration> ttft() const { return ttft_.value(); }
  std::optional<Duration> total() const { return total_.value(); }

 private:
  Ewma ttft_;
  Ewma total_;
};

}  // namespace llmpool::resilience
