#include "resilience/retry_policy.h"

#include <algorithm>

namespace llmpool::resilience {

std::string_view retryDecisionName(RetryDecision decision) {
  switch (decision) {
    case RetryDecision::RetrySameAfter:
      return "retry_same_after";
    case RetryDecision::RetryOtherNow:
      return "retry_other_now";
    case RetryDecision::NoNonRetryable:
      return "no_non_retryable";
    case RetryDecision::NoAttemptsLeft:
      return "no_attempts_left";
    case RetryDecision::NoBudget:
      return "no_budget";
    case RetryDecision::NoDeadline:
      return "no_deadline";
    case RetryDecision::NoRetryAfterTooLong:
      return "no_retry_after_too_long";
  }
  return "unknown";
}

RetryPolicy::RetryPolicy(const RetryConfig& config, RandomSource& random, RetryBudget* budget)
    : max_attempts_(std::max(config.max_attempts, 1)),
      max_retry_after_(config.max_retry_after),
      backoff_(config, random),
      budget_(budget) {}

bool RetryPolicy::isRetryable(const Error& error) {
  switch (error.code) {
    case ErrorCode::InvalidRequest:
    case ErrorCode::AuthFailed:
    case ErrorCode::NotFound:
    case ErrorCode::RateLimited:
    case ErrorCode::ProviderOverloaded:
    case ErrorCode::ServerError:
      // The provider said whether to retry (x-should-retry, or a 429 insufficient_quota that no
      // wait will fix): it knows better than the status code.
      if (error.should_retry) return *error.should_retry;
      break;
    default:
      break;
  }
  switch (error.code) {
    case ErrorCode::ConnectFailed:
    case ErrorCode::Timeout:
    case ErrorCode::RateLimited:
    case ErrorCode::ProviderOverloaded:
    case ErrorCode::ServerError:
    case ErrorCode::Protocol:
      return true;
    case ErrorCode::InvalidRequest:
    case ErrorCode::AuthFailed:
    case ErrorCode::NotFound:
    case ErrorCode::TlsError:
    case ErrorCode::CircuitOpen:
    case ErrorCode::Overloaded:
    case ErrorCode::DeadlineExceeded:
    case ErrorCode::Cancelled:
    case ErrorCode::QueueFull:
    case ErrorCode::Dropped:
    case ErrorCode::InvalidConfig:
    case ErrorCode::NoDeployment:
    case ErrorCode::Internal:
      return false;
  }
  return false;
}

bool RetryPolicy::countsAsBreakerFailure(const Error& error) {
  switch (error.code) {
    case ErrorCode::ConnectFailed:
    case ErrorCode::Timeout:
    case ErrorCode::TlsError:
    case ErrorCode::RateLimited:
    case ErrorCode::ProviderOverloaded:
    case ErrorCode::Protocol:
      return true;
    case ErrorCode::ServerError:
      // ServerError also carries the retryable 4xx (408, 409): those are about the request.
      return !(error.http_status && *error.http_status >= 400 && *error.http_status < 500);
    default:
      return false;
  }
}

RetryPlan RetryPolicy::decide(MonotonicTime now, const Error& error, const RetryQuery& query) {
  const RetryPlan plan = decideUncounted(now, error, query);
  counts_[static_cast<size_t>(plan.decision)].fetch_add(1, std::memory_order_relaxed);
  return plan;
}

uint64_t RetryPolicy::count(RetryDecision decision) const {
  return counts_[static_cast<size_t>(decision)].load(std::memory_order_relaxed);
}

RetryPlan RetryPolicy::decideUncounted(MonotonicTime now, const Error& error,
                                       const RetryQuery& query) {
  if (!isRetryable(error)) return {RetryDecision::NoNonRetryable, {}};
  if (query.attempts_made >= max_attempts_) return {RetryDecision::NoAttemptsLeft, {}};
  if (query.time_left <= Duration::zero()) return {RetryDecision::NoDeadline, {}};

  RetryPlan plan;
  if (query.other_deployment_available) {
    // Another replica can take it now: waiting would only add latency.
    plan = {RetryDecision::RetryOtherNow, {}};
  } else if (error.retry_after) {
    const Duration wait = std::max<Duration>(*error.retry_after, Duration::zero());
    if (wait > max_retry_after_) return {RetryDecision::NoRetryAfterTooLong, {}};
    // Strictly less: an attempt needs some time of its own after the wait.
    if (wait >= query.time_left) return {RetryDecision::NoDeadline, {}};
    plan = {RetryDecision::RetrySameAfter, wait};
  } else {
    const Duration wait = backoff_.delay(query.attempts_made - 1);
    if (wait >= query.time_left) return {RetryDecision::NoDeadline, {}};
    plan = {RetryDecision::RetrySameAfter, wait};
  }
  // Withdraw last, so only retries that will really happen consume the budget.
  if (budget_ != nullptr && !budget_->tryWithdraw(now)) return {RetryDecision::NoBudget, {}};
  return plan;
}

}  // namespace llmpool::resilience
