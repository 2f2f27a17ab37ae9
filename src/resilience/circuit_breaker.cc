#include "resilience/circuit_breaker.h"

#include <algorithm>
#include <utility>

namespace llmpool::resilience {

namespace {

constexpr size_t kRateBuckets = 10;

enum Outcome { kSuccess, kFailure, kIgnored };

}  // namespace

std::string_view circuitStateName(CircuitState state) {
  switch (state) {
    case CircuitState::Closed:
      return "closed";
    case CircuitState::Open:
      return "open";
    case CircuitState::HalfOpen:
      return "half_open";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Ticket

CircuitBreaker::Ticket::Ticket(Ticket&& other) noexcept
    : breaker_(std::exchange(other.breaker_, nullptr)),
      generation_(other.generation_),
      probe_(other.probe_) {}

CircuitBreaker::Ticket& CircuitBreaker::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (breaker_ != nullptr) breaker_->onIgnored(*this);  // abandon what we held
    breaker_ = std::exchange(other.breaker_, nullptr);
    generation_ = other.generation_;
    probe_ = other.probe_;
  }
  return *this;
}

CircuitBreaker::Ticket::~Ticket() {
  if (breaker_ != nullptr) breaker_->onIgnored(*this);
}

// ---------------------------------------------------------------------------------------------
// CircuitBreaker

CircuitBreaker::CircuitBreaker(const CircuitBreakerConfig& config)
    : config_(config),
      repair_slots_(std::max(config.max_repair_attempts, 1)),
      failure_times_(static_cast<size_t>(std::max(config.failure_threshold, 1))),
      rate_window_(config.failure_window, kRateBuckets) {}

CircuitBreaker::Admission CircuitBreaker::tryAdmit(MonotonicTime now) {
  Admission admission;
  std::lock_guard lock(mu_);
  maybeHalfOpen(now);
  if (now < cooldown_until_) {
    rejections_total_.fetch_add(1, std::memory_order_relaxed);
    admission.retry_at =
        state_ == CircuitState::Open ? std::max(open_until_, cooldown_until_) : cooldown_until_;
    return admission;
  }
  switch (state_) {
    case CircuitState::Closed:
      admission.admitted = true;
      admission.ticket = Ticket(this, generation_, false);
      return admission;
    case CircuitState::Open:
      rejections_total_.fetch_add(1, std::memory_order_relaxed);
      admission.retry_at = open_until_;
      return admission;
    case CircuitState::HalfOpen:
      // Bounded here, at admission, under the lock: never more than repair_slots_ in flight.
      if (probes_in_flight_ >= repair_slots_) {
        rejections_total_.fetch_add(1, std::memory_order_relaxed);
        return admission;
      }
      ++probes_in_flight_;
      repair_attempts_total_.fetch_add(1, std::memory_order_relaxed);
      admission.admitted = true;
      admission.ticket = Ticket(this, generation_, true);
      return admission;
  }
  return admission;
}

void CircuitBreaker::onSuccess(MonotonicTime now, Ticket& ticket) { settle(now, ticket, kSuccess); }

void CircuitBreaker::onFailure(MonotonicTime now, Ticket& ticket) { settle(now, ticket, kFailure); }

void CircuitBreaker::onIgnored(Ticket& ticket) { settle(MonotonicTime{}, ticket, kIgnored); }

void CircuitBreaker::settle(MonotonicTime now, Ticket& ticket, int outcome) {
  if (ticket.breaker_ == nullptr) return;  // empty or settled already: exactly-once
  ticket.breaker_ = nullptr;
  if (!config_.enabled) return;
  std::lock_guard lock(mu_);
  // A ticket from before the last transition describes a state that no longer exists. Its probe
  // slot (if any) was already reset by that transition.
  if (ticket.generation_ != generation_) return;
  if (ticket.probe_) {
    if (state_ != CircuitState::HalfOpen) return;
    --probes_in_flight_;
    if (outcome == kSuccess) {
      if (++probe_successes_ >= repair_slots_) close();
    } else if (outcome == kFailure) {
      trip(now);
    }
    return;
  }
  if (state_ != CircuitState::Closed || outcome == kIgnored) return;
  if (outcome == kSuccess) {
    if (tracksRate()) rate_window_.add(now, 1, 0);
    return;
  }
  recordClosedFailure(now);
}

bool CircuitBreaker::tracksRate() const {
  return config_.failure_rate_threshold > 0 || config_.failure_threshold_min_rate > 0;
}

void CircuitBreaker::recordClosedFailure(MonotonicTime now) {
  std::optional<WindowCounts> counts;  // calls, failures in the window, this one included
  if (tracksRate()) {
    rate_window_.add(now, 1, 1);
    counts = rate_window_.totals(now);
  }
  const auto rate_reaches = [&](double percent) {
    return static_cast<double>(counts->second) * 100.0 >=
           percent * static_cast<double>(counts->first);
  };
  // Count mode, exact: keep the last N failure times in a ring; N failures within the window means
  // the oldest of them is younger than the window. They open the breaker when they are a large
  // enough share of its calls: at 1,000 calls a minute, five failures are noise, not an outage.
  const size_t n = failure_times_.size();
  failure_times_[failure_next_] = now;
  failure_next_ = (failure_next_ + 1) % n;
  failure_count_ = std::min(failure_count_ + 1, n);
  if (failure_count_ == n && now - failure_times_[failure_next_] < config_.failure_window &&
      (config_.failure_threshold_min_rate <= 0 ||
       rate_reaches(config_.failure_threshold_min_rate))) {
    trip(now);
    return;
  }
  if (config_.failure_rate_threshold > 0 &&
      counts->first >= static_cast<uint64_t>(std::max(config_.minimum_requests, 1)) &&
      rate_reaches(config_.failure_rate_threshold)) {
    trip(now);
  }
}

void CircuitBreaker::coolDown(MonotonicTime now, Duration duration) {
  std::lock_guard lock(mu_);
  cooldown_until_ = std::max(cooldown_until_, now + std::max(duration, Duration::zero()));
}

CircuitState CircuitBreaker::state(MonotonicTime now) const {
  std::lock_guard lock(mu_);
  if (state_ == CircuitState::Open && now >= open_until_) return CircuitState::HalfOpen;
  return state_;
}

std::optional<MonotonicTime> CircuitBreaker::nextProbeAt() const {
  std::lock_guard lock(mu_);
  if (state_ != CircuitState::Open) return std::nullopt;
  return std::max(open_until_, cooldown_until_);
}

std::optional<MonotonicTime> CircuitBreaker::cooldownUntil(MonotonicTime now) const {
  std::lock_guard lock(mu_);
  if (cooldown_until_ > now) return cooldown_until_;
  return std::nullopt;
}

Duration CircuitBreaker::currentOpenDuration() const {
  std::lock_guard lock(mu_);
  return openDurationFor(consecutive_trips_ + 1);
}

CircuitBreaker::Counters CircuitBreaker::counters() const {
  return Counters{trips_total_.load(std::memory_order_relaxed),
                  repair_attempts_total_.load(std::memory_order_relaxed),
                  rejections_total_.load(std::memory_order_relaxed)};
}

void CircuitBreaker::maybeHalfOpen(MonotonicTime now) {
  if (state_ != CircuitState::Open || now < open_until_) return;
  state_ = CircuitState::HalfOpen;
  ++generation_;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
}

void CircuitBreaker::trip(MonotonicTime now) {
  state_ = CircuitState::Open;
  ++generation_;
  ++consecutive_trips_;
  open_until_ = now + openDurationFor(consecutive_trips_);
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  trips_total_.fetch_add(1, std::memory_order_relaxed);
}

void CircuitBreaker::close() {
  state_ = CircuitState::Closed;
  ++generation_;
  // Everything about the previous episode is forgotten, so the breaker can open and recover any
  // number of times with the same thresholds and the initial open time.
  consecutive_trips_ = 0;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  failure_count_ = 0;
  failure_next_ = 0;
  rate_window_.clear();
}

Duration CircuitBreaker::openDurationFor(int consecutive_trips) const {
  const Duration base = std::max<Duration>(config_.recovery_timeout, Duration::zero());
  const Duration cap = std::max<Duration>(config_.max_recovery_timeout, base);
  Duration open = base;
  // Doubling stops before it could pass the cap, so it never overflows.
  for (int i = 1; i < consecutive_trips && open < cap; ++i) {
    open = open > cap / 2 ? cap : open * 2;
  }
  return std::min(open, cap);
}

}  // namespace llmpool::resilience
