#include "resilience/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace llmpool::resilience {

namespace {

using Seconds = std::chrono::duration<double>;

void configure(double& capacity, double& per_second, double& level, std::optional<double> rpm) {
  if (!rpm || !(*rpm > 0)) return;
  capacity = *rpm;
  per_second = *rpm / 60.0;
  level = capacity;  // start full: a fresh deployment may use its first minute's budget at once
}

}  // namespace

void RateLimiter::Dimension::refill(Duration elapsed) {
  if (!hasBucket() || elapsed <= Duration::zero()) return;
  level = std::min(capacity, level + Seconds(elapsed).count() * per_second);
}

void RateLimiter::Dimension::expireProvider(MonotonicTime now) {
  if (provider_remaining && now >= provider_reset_at) provider_remaining.reset();
}

Duration RateLimiter::Dimension::waitFor(MonotonicTime now, double amount) const {
  Duration wait = Duration::zero();
  if (hasBucket()) {
    // More than the capacity can never fit: ask only for a full bucket.
    const double need = std::min(amount, capacity);
    if (level < need) {
      const double seconds = (need - level) / per_second;
      // Round up so that at retry_at the bucket really holds `need`.
      wait = std::chrono::duration_cast<Duration>(Seconds(seconds)) + Duration(1);
    }
  }
  if (provider_remaining && *provider_remaining < amount) {
    // The provider says the budget does not cover this until its reset; the window expires then,
    // so this wait is bounded even for an amount the provider could never cover.
    wait = std::max<Duration>(wait, provider_reset_at - now);
  }
  return wait;
}

void RateLimiter::Dimension::take(double amount) {
  if (hasBucket()) level -= amount;
  if (provider_remaining) *provider_remaining -= amount;
}

void RateLimiter::Dimension::sync(MonotonicTime now, std::optional<int64_t> remaining,
                                  std::optional<std::chrono::milliseconds> reset) {
  if (!remaining) return;
  const auto left = static_cast<double>(std::max<int64_t>(*remaining, 0));
  // The provider counts what it has seen; our own bucket may know of requests still in flight,
  // so the local level only ever goes down to the reported value, never up.
  if (hasBucket()) level = std::min(level, left);
  if (reset && *reset > std::chrono::milliseconds::zero()) {
    // The latest response is the freshest view of the provider's window: it replaces older ones.
    provider_remaining = left;
    provider_reset_at = now + *reset;
  }
}

RateLimiter::RateLimiter(std::optional<double> rpm, std::optional<double> tpm) {
  configure(requests_.capacity, requests_.per_second, requests_.level, rpm);
  configure(tokens_.capacity, tokens_.per_second, tokens_.level, tpm);
}

void RateLimiter::advance(MonotonicTime now) {
  if (last_ && now > *last_) {
    requests_.refill(now - *last_);
    tokens_.refill(now - *last_);
  }
  if (!last_ || now > *last_) last_ = now;
  requests_.expireProvider(now);
  tokens_.expireProvider(now);
}

RateLimiter::Decision RateLimiter::reserve(MonotonicTime now, int64_t tokens_estimate) {
  const auto tokens = static_cast<double>(std::max<int64_t>(tokens_estimate, 0));
  std::lock_guard lock(mu_);
  advance(now);
  const Duration wait = std::max(requests_.waitFor(now, 1.0), tokens_.waitFor(now, tokens));
  Decision decision;
  if (wait > Duration::zero()) {
    throttled_total_.fetch_add(1, std::memory_order_relaxed);
    decision.retry_at = now + wait;
    return decision;
  }
  requests_.take(1.0);
  tokens_.take(tokens);
  granted_total_.fetch_add(1, std::memory_order_relaxed);
  decision.reservation = Reservation{std::max<int64_t>(tokens_estimate, 0), false};
  decision.retry_at = now;
  return decision;
}

void RateLimiter::settle(MonotonicTime now, Reservation& reservation, int64_t actual_tokens) {
  if (reservation.settled) return;
  reservation.settled = true;
  const int64_t actual = std::max<int64_t>(actual_tokens, 0);
  const auto delta = static_cast<double>(actual - reservation.tokens);
  reservation.tokens = actual;
  std::lock_guard lock(mu_);
  advance(now);
  // A refund (delta < 0) never fills the bucket beyond its capacity.
  if (tokens_.hasBucket()) tokens_.level = std::min(tokens_.capacity, tokens_.level - delta);
  if (tokens_.provider_remaining) *tokens_.provider_remaining -= delta;
}

void RateLimiter::syncFromHeaders(MonotonicTime now, const ProviderRateLimits& limits) {
  std::lock_guard lock(mu_);
  advance(now);
  requests_.sync(now, limits.remaining_requests, limits.reset_requests);
  tokens_.sync(now, limits.remaining_tokens, limits.reset_tokens);
}

RateLimiter::Stats RateLimiter::stats(MonotonicTime now) {
  std::lock_guard lock(mu_);
  advance(now);
  Stats s;
  s.granted_total = granted_total_.load(std::memory_order_relaxed);
  s.throttled_total = throttled_total_.load(std::memory_order_relaxed);
  if (requests_.hasBucket()) s.requests_available = requests_.level;
  if (tokens_.hasBucket()) s.tokens_available = tokens_.level;
  return s;
}

}  // namespace llmpool::resilience
