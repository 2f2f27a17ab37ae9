#pragma once
// Per-deployment circuit breaker: Closed / Open / HalfOpen, with bounded half-open probes,
// exponential open time and a forced cooldown for Retry-After. See docs/resilience.md.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "llmpool/clock.h"
#include "llmpool/config.h"
#include "resilience/sliding_window.h"

namespace llmpool::resilience {

enum class CircuitState { Closed, Open, HalfOpen };

/** "closed", "open", "half_open" (metrics labels, logs). */
std::string_view circuitStateName(CircuitState state);

/**
 * One breaker per deployment, shared by every request to it.
 *
 * Closed -> Open when, within the rolling `failure_window`, either `failure_threshold` failures
 *   were recorded (exact: the last N failure times are kept) and, when failure_threshold_min_rate
 *   > 0, they are at least that % of the window's calls; or, when failure_rate_threshold > 0,
 *   failures / calls * 100 >= failure_rate_threshold with at least `minimum_requests` calls. Calls
 *   are counted in a time-bucketed window with 10 buckets (resolution failure_window / 10).
 * Open -> HalfOpen once the open time has passed. The open time is recovery_timeout, doubled on
 *   each consecutive re-trip (a failed probe) up to max_recovery_timeout, and reset on close.
 * HalfOpen admits at most `max_repair_attempts` probes at once (bounded at admission, under the
 *   lock). It closes once that many probes have succeeded; any failed probe re-opens it.
 *
 * Every admission returns a Ticket that must be settled with onSuccess / onFailure / onIgnored. A
 * probe Ticket destroyed unsettled is "abandoned": its slot is released (as onIgnored), so HalfOpen
 * never gets stuck. Outcomes of tickets issued before the last state change (e.g. a slow request
 * admitted while Closed that fails after the breaker already re-opened and closed) are ignored.
 *
 * Probe answered with a client error (4xx), cancelled, or cut by the overall deadline: call
 * onIgnored. It releases the probe slot without deciding anything, and the next request becomes
 * the probe. A 4xx says little about health (a proxy in front of a dead backend answers 401/404
 * too), so it neither closes nor re-opens the breaker.
 *
 * coolDown(now, d) blocks every admission (any state) until now + d; the deadline only ever
 * moves later. Used for 429 Retry-After. It does not change the state.
 *
 * With `enabled = false` the breaker always admits (except during coolDown) and never trips.
 *
 * Thread-safety: all methods are thread-safe (one small mutex, never held while calling out).
 * Nothing blocks beyond that mutex. Tickets must not outlive their breaker.
 */
class CircuitBreaker {
 public:
  /** Move-only handle for one admitted call; settles its outcome exactly once. */
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    /** Abandons an unsettled probe: releases its half-open slot. */
    ~Ticket();

    /** True when this call is a half-open probe. */
    bool isProbe() const { return probe_; }
    /** True until the outcome is settled (or the ticket is moved from / empty). */
    bool pending() const { return breaker_ != nullptr; }

   private:
    friend class CircuitBreaker;
    Ticket(CircuitBreaker* breaker, uint64_t generation, bool probe)
        : breaker_(breaker), generation_(generation), probe_(probe) {}

    CircuitBreaker* breaker_ = nullptr;
    uint64_t generation_ = 0;
    bool probe_ = false;
  };

  struct Admission {
    bool admitted = false;
    Ticket ticket;  // pending when admitted
    /** When rejected: the earliest time the breaker could admit again (end of the open time or
     *  cooldown). nullopt when HalfOpen is full: a slot frees when an in-flight probe settles. */
    std::optional<MonotonicTime> retry_at;

    bool isProbe() const { return ticket.isProbe(); }
  };

  struct Counters {
    uint64_t trips_total = 0;            // Closed/HalfOpen -> Open transitions
    uint64_t repair_attempts_total = 0;  // probes admitted in HalfOpen
    uint64_t rejections_total = 0;       // admissions refused (open, cooling down, probes full)
  };

  explicit CircuitBreaker(const CircuitBreakerConfig& config);
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  /** Asks to send one call now; may move Open -> HalfOpen. Never blocks (short lock). */
  Admission tryAdmit(MonotonicTime now);

  /** The call succeeded. A no-op for an empty or already settled ticket. */
  void onSuccess(MonotonicTime now, Ticket& ticket);
  /** The call failed in a way that counts against the deployment (RetryPolicy::
   *  countsAsBreakerFailure). May trip the breaker. */
  void onFailure(MonotonicTime now, Ticket& ticket);
  /** Neither success nor failure (4xx, cancelled, deadline): settles the ticket, frees a probe
   *  slot, decides nothing. */
  void onIgnored(Ticket& ticket);

  /** Forbids admissions until now + duration (429 Retry-After). Never shortens an earlier one. */
  void coolDown(MonotonicTime now, Duration duration);

  /** The state at `now` (an expired Open reads as HalfOpen). */
  CircuitState state(MonotonicTime now) const;
  /** When Open: when the next probe will be admitted (open time end, or a later cooldown end).
   *  nullopt when not Open. */
  std::optional<MonotonicTime> nextProbeAt() const;
  /** End of the forced cooldown if it is later than `now`. */
  std::optional<MonotonicTime> cooldownUntil(MonotonicTime now) const;
  /** The open time the next trip would use (recovery_timeout doubling per consecutive re-trip). */
  Duration currentOpenDuration() const;

  Counters counters() const;

 private:
  void settle(MonotonicTime now, Ticket& ticket, int outcome);
  void recordClosedFailure(MonotonicTime now);
  /** True when calls are counted in rate_window_ (either rate setting is on). */
  bool tracksRate() const;
  void maybeHalfOpen(MonotonicTime now);  // requires mu_
  void trip(MonotonicTime now);           // requires mu_
  void close();                           // requires mu_
  Duration openDurationFor(int consecutive_trips) const;

  const CircuitBreakerConfig config_;
  const int repair_slots_;

  mutable std::mutex mu_;
  CircuitState state_ = CircuitState::Closed;  // guarded by mu_
  uint64_t generation_ = 1;                    // guarded by mu_; bumped on every transition
  std::vector<MonotonicTime> failure_times_;   // guarded by mu_; ring of the last N failures
  size_t failure_next_ = 0;                    // guarded by mu_
  size_t failure_count_ = 0;                   // guarded by mu_
  SlidingWindow rate_window_;                  // guarded by mu_; calls, failures (tracksRate())
  MonotonicTime open_until_{};                 // guarded by mu_
  MonotonicTime cooldown_until_{};             // guarded by mu_
  int consecutive_trips_ = 0;                  // guarded by mu_; reset on close
  int probes_in_flight_ = 0;                   // guarded by mu_
  int probe_successes_ = 0;                    // guarded by mu_

  std::atomic<uint64_t> trips_total_{0};
  std::atomic<uint64_t> repair_attempts_total_{0};
  std::atomic<uint64_t> rejections_total_{0};
};

}  // namespace llmpool::resilience
