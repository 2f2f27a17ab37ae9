#pragma once
// Finagle-style retry budget: retries may be at most a percentage of recent requests, plus a small
// floor, so a provider brownout cannot turn every request into max_attempts requests.
// See docs/resilience.md ("Retry budget").

#include <atomic>
#include <cstdint>
#include <mutex>

#include "llmpool/clock.h"
#include "llmpool/config.h"
#include "resilience/sliding_window.h"

namespace llmpool::resilience {

/**
 * Over the rolling `budget_window` (10 time buckets), a retry is allowed while
 *   retries < requests * budget_percent / 100 + budget_min_per_second * window_seconds.
 * Each request deposits (onRequest), each allowed retry withdraws (tryWithdraw). Deposits and
 * withdrawals expire with their bucket, between 0.9 and 1.0 window after they were made.
 *
 * Thread-safety: thread-safe (one small mutex). Never blocks beyond it.
 */
class RetryBudget {
 public:
  struct Snapshot {
    uint64_t requests = 0;         // deposits in the window
    uint64_t retries = 0;          // withdrawals in the window
    double allowance = 0;          // retries the window allows in total
    uint64_t exhausted_total = 0;  // tryWithdraw calls refused, ever
  };

  explicit RetryBudget(const RetryConfig& config);

  /** Records one request (not a retry): deposits budget_percent / 100 of a retry. */
  void onRequest(MonotonicTime now);
  /** Takes one retry from the budget. @return false (and counts it) when the budget is empty. */
  bool tryWithdraw(MonotonicTime now);
  Snapshot snapshot(MonotonicTime now);

 private:
  double allowance(uint64_t requests) const;

  const double percent_;
  const double floor_per_window_;
  std::mutex mu_;
  SlidingWindow window_;  // guarded by mu_; requests, retries
  std::atomic<uint64_t> exhausted_total_{0};
};

}  // namespace llmpool::resilience
