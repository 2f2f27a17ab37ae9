#pragma once
// Which errors are retried, which count against a deployment's breaker, and what to do after a
// failed attempt. The one place that classifies ErrorCode for resilience. See docs/resilience.md.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "llmpool/clock.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "llmpool/random.h"
#include "resilience/backoff.h"
#include "resilience/retry_budget.h"

namespace llmpool::resilience {

enum class RetryDecision {
  RetrySameAfter,       // retry the same deployment after `delay` (backoff or Retry-After)
  RetryOtherNow,        // retry at once on another healthy deployment
  NoNonRetryable,       // the error is not retryable
  NoAttemptsLeft,       // max_attempts reached
  NoBudget,             // the retry budget is exhausted
  NoDeadline,           // the wait (backoff or Retry-After) does not fit the time left
  NoRetryAfterTooLong,  // Retry-After > max_retry_after and there is nowhere else to go
};
inline constexpr size_t kRetryDecisionCount = 7;

/** "retry_same_after", "retry_other_now", "no_non_retryable", ... (metrics labels). */
std::string_view retryDecisionName(RetryDecision decision);

/** What the caller knows after a failed attempt. */
struct RetryQuery {
  int attempts_made = 1;  // attempts already sent for this request, the failed one included
  Duration time_left{};   // until the request's overall deadline, measured now
  bool other_deployment_available = false;  // a different usable deployment could take it now
};

struct RetryPlan {
  RetryDecision decision = RetryDecision::NoNonRetryable;
  Duration delay{};  // for RetrySameAfter; zero otherwise
  bool retry() const {
    return decision == RetryDecision::RetrySameAfter || decision == RetryDecision::RetryOtherNow;
  }
};

/**
 * decide() in order:
 *  1. not isRetryable(error)                         -> NoNonRetryable
 *  2. attempts_made >= max_attempts                  -> NoAttemptsLeft
 *  3. time_left <= 0                                 -> NoDeadline
 *  4. another deployment is available                -> RetryOtherNow (no wait: the failure was
 *     that deployment's; the caller cools it down with CircuitBreaker::coolDown on Retry-After)
 *  5. error.retry_after set: > max_retry_after       -> NoRetryAfterTooLong
 *                            >= time_left            -> NoDeadline
 *                            else                    -> RetrySameAfter(retry_after), exactly
 *  6. otherwise backoff d = Backoff::delay(attempts_made - 1):
 *                            d >= time_left          -> NoDeadline
 *                            else                    -> RetrySameAfter(d)
 *  7. a retry (4-6) must also withdraw from the RetryBudget (if one is given), else NoBudget.
 * Every returned decision increments its counter.
 *
 * Thread-safety: decide() and the counters are thread-safe (atomics; the budget locks itself).
 * Never blocks. The RandomSource and RetryBudget must outlive the policy.
 */
class RetryPolicy {
 public:
  /** @param budget may be null: retries are then limited only by attempts and the deadline. */
  RetryPolicy(const RetryConfig& config, RandomSource& random, RetryBudget* budget = nullptr);

  /**
   * Retried: ConnectFailed, Timeout, RateLimited, ProviderOverloaded, ServerError (5xx, 408, 409),
   * Protocol (a malformed body on a 2xx is usually a truncated or proxied response: transient).
   * Not retried: InvalidRequest, AuthFailed, NotFound, TlsError (a certificate problem will not
   * fix itself within a request), and every locally decided code (CircuitOpen, Overloaded,
   * DeadlineExceeded, Cancelled, ...).
   * Error::should_retry (the provider's own verdict) overrides this for the codes that are
   * provider HTTP answers: InvalidRequest, AuthFailed, NotFound, RateLimited, ProviderOverloaded,
   * ServerError. It is ignored for transport failures and local codes.
   */
  static bool isRetryable(const Error& error);

  /**
   * Counts against the deployment's breaker: ConnectFailed, Timeout, TlsError, RateLimited (429),
   * ProviderOverloaded (529), ServerError with a 5xx (or no) status, Protocol (a deployment that
   * keeps answering garbage is not serving). Not: 4xx client errors (400, 401, 403, 404, 408, 409,
   * 413, 422) and locally decided codes; settle those with CircuitBreaker::onIgnored.
   */
  static bool countsAsBreakerFailure(const Error& error);

  RetryPlan decide(MonotonicTime now, const Error& error, const RetryQuery& query);

  /** How many times `decision` was returned. */
  uint64_t count(RetryDecision decision) const;
  const Backoff& backoff() const { return backoff_; }
  int maxAttempts() const { return max_attempts_; }

 private:
  RetryPlan decideUncounted(MonotonicTime now, const Error& error, const RetryQuery& query);

  const int max_attempts_;
  const Duration max_retry_after_;
  Backoff backoff_;
  RetryBudget* budget_;
  std::array<std::atomic<uint64_t>, kRetryDecisionCount> counts_{};
};

}  // namespace llmpool::resilience
