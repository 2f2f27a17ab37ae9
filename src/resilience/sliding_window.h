#pragma once
// A rolling time window of two counters (e.g. calls/failures, requests/retries), kept as a ring of
// time buckets with subtract-on-evict so that adding and reading are O(1) amortised and memory is
// fixed. Used by CircuitBreaker (failure-rate mode) and RetryBudget. See docs/resilience.md.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "llmpool/clock.h"

namespace llmpool::resilience {

/** Counts of one window (or one bucket). */
struct WindowCounts {
  uint64_t first = 0;   // e.g. calls, requests
  uint64_t second = 0;  // e.g. failures, retries
};

/**
 * Rolling sums over the last `window`, split into `buckets` equal time buckets. An event stops
 * counting between (window - window/buckets) and window after it was added: the resolution is one
 * bucket. Time is passed in; a `now` earlier than one already seen is treated as that latest time.
 *
 * Thread-safety: none; the owner serialises access (CircuitBreaker and RetryBudget hold a mutex).
 */
class SlidingWindow {
 public:
  /** @param window total span (clamped to at least one nanosecond per bucket); @param buckets >= 1
   */
  SlidingWindow(Duration window, size_t buckets);

  /** Adds to the bucket that contains `now`. */
  void add(MonotonicTime now, uint64_t first, uint64_t second);
  /** Sums over the window ending at `now`. */
  WindowCounts totals(MonotonicTime now);
  /** Forgets everything. */
  void clear();
  Duration bucketWidth() const { return width_; }

 private:
  void advance(MonotonicTime now);

  Duration width_;
  std::vector<WindowCounts> ring_;
  int64_t head_epoch_;  // bucket number (time / width_) of the newest bucket
  bool started_ = false;
  WindowCounts sum_;  // always the sum of ring_
};

}  // namespace llmpool::resilience
