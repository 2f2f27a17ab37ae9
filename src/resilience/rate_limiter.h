#pragma once
// Per-deployment request (rpm) and token (tpm) budgets: local token buckets, tightened by what the
// provider's rate-limit headers report. See docs/resilience.md ("Rate limits").

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "llmpool/clock.h"

namespace llmpool::resilience {

/** Rate-limit values a provider reported on a response (the codec's RateLimitInfo fields). */
struct ProviderRateLimits {
  std::optional<int64_t> limit_requests;
  std::optional<int64_t> remaining_requests;
  std::optional<std::chrono::milliseconds> reset_requests;  // until the request budget is full
  std::optional<int64_t> limit_tokens;
  std::optional<int64_t> remaining_tokens;
  std::optional<std::chrono::milliseconds> reset_tokens;
};

/**
 * Two dimensions, requests and tokens. Each has
 *  - an optional local token bucket (rpm / tpm): capacity = the per-minute limit, refilled
 *    continuously at limit / 60 s, starting full;
 *  - an optional provider window from syncFromHeaders: `remaining` until `now + reset`. While it
 *    is in force, requests also need `remaining` to cover them; it expires at the reset time. A
 *    report without a reset time only lowers the local bucket (min(level, remaining)).
 * reserve() takes 1 request and `tokens_estimate` tokens from every dimension at once, or takes
 * nothing and says when it could succeed. settle() corrects the token charge with actual usage:
 * a refund when the estimate was high, extra debt (a negative level that delays later requests)
 * when it was low. A token estimate larger than the bucket's capacity is granted when the bucket
 * is full (it would never fit otherwise) and leaves the bucket in debt.
 *
 * Thread-safety: thread-safe (one small mutex). Never blocks beyond it.
 */
class RateLimiter {
 public:
  /** A granted reservation. Settle it once; an unsettled reservation simply keeps its estimate. */
  struct Reservation {
    int64_t tokens = 0;  // tokens charged so far
    bool settled = false;
  };

  struct Decision {
    std::optional<Reservation> reservation;  // set when granted
    MonotonicTime retry_at{};                // when not granted: earliest time it could be
    bool granted() const { return reservation.has_value(); }
  };

  struct Stats {
    uint64_t granted_total = 0;
    uint64_t throttled_total = 0;              // reserve() calls that had to wait
    std::optional<double> requests_available;  // local bucket level now (nullopt: no rpm)
    std::optional<double> tokens_available;    // local bucket level now (nullopt: no tpm)
  };

  /** @param rpm requests per minute (nullopt or <= 0: unlimited locally); @param tpm likewise */
  RateLimiter(std::optional<double> rpm, std::optional<double> tpm);

  /** Tries to reserve one request and `tokens_estimate` tokens (prompt + max_tokens). */
  Decision reserve(MonotonicTime now, int64_t tokens_estimate);
  /** Charges the difference between `actual_tokens` and the reservation's charge. Idempotent:
   *  a settled reservation is left alone. Pass 0 when nothing reached the provider. */
  void settle(MonotonicTime now, Reservation& reservation, int64_t actual_tokens);
  /** Follows the provider's reported remaining budgets (see the class comment). */
  void syncFromHeaders(MonotonicTime now, const ProviderRateLimits& limits);

  Stats stats(MonotonicTime now);

 private:
  struct Dimension {
    // Local bucket (rate == 0: none).
    double capacity = 0;
    double per_second = 0;
    double level = 0;
    // Provider window.
    std::optional<double> provider_remaining;
    MonotonicTime provider_reset_at{};

    bool hasBucket() const { return per_second > 0; }
    void refill(Duration elapsed);
    void expireProvider(MonotonicTime now);
    /** Zero when `amount` can be taken now, else how long until it can. */
    Duration waitFor(MonotonicTime now, double amount) const;
    void take(double amount);
    void sync(MonotonicTime now, std::optional<int64_t> remaining,
              std::optional<std::chrono::milliseconds> reset);
  };

  void advance(MonotonicTime now);  // requires mu_

  std::mutex mu_;
  Dimension requests_;                 // guarded by mu_
  Dimension tokens_;                   // guarded by mu_
  std::optional<MonotonicTime> last_;  // guarded by mu_; time of the last refill
  std::atomic<uint64_t> granted_total_{0};
  std::atomic<uint64_t> throttled_total_{0};
};

}  // namespace llmpool::resilience
