#include "resilience/concurrency_limiter.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace llmpool::resilience {

// The shared state. Permits and pending executor work hold it by shared_ptr (timers by weak_ptr),
// so it outlives the ConcurrencyLimiter object while anything still refers to it.
struct ConcurrencyLimiter::Core : std::enable_shared_from_this<Core> {
  struct Waiter {
    MonotonicTime deadline;
    MonotonicTime enqueued_at;
    Callback cb;
    TimerId timer = 0;
  };

  Core(std::string n, int permits, int queue, Executor& ex)
      : name(std::move(n)),
        max_permits(std::max(permits, 1)),
        max_queue(static_cast<size_t>(std::max(queue, 0))),
        executor(ex) {}

  /** Posts cb(permit) to the executor. The Permit sits in a shared_ptr because std::function
   *  needs a copyable callable; if the work is dropped unrun, the Permit is destroyed and released.
   */
  void postGrant(Callback cb) {
    auto permit = std::make_shared<Permit>(Permit(shared_from_this()));
    executor.post([cb = std::move(cb), permit]() mutable { cb(std::move(*permit)); });
  }

  void postError(Callback cb, ErrorCode code, std::string message) {
    executor.post([cb = std::move(cb), code, message = std::move(message)]() mutable {
      cb(std::unexpected(Error(code, std::move(message))));
    });
  }

  void release() {
    Callback next;
    TimerId timer = 0;
    {
      std::lock_guard lock(mu);
      if (waiters.empty()) {
        --in_use;
        return;
      }
      // Hand-off: in_use stays the same, the unit goes straight to the oldest waiter.
      auto node = waiters.extract(waiters.begin());
      Waiter& w = node.mapped();
      const MonotonicTime now = executor.clock().now();
      wait_time_sum += std::max<Duration>(now - w.enqueued_at, Duration::zero());
      ++waited_total;
      ++granted_total;
      next = std::move(w.cb);
      timer = w.timer;
    }
    executor.cancelTimer(timer);
    postGrant(std::move(next));
  }

  void onDeadline(uint64_t seq) {
    Callback cb;
    Duration waited{};
    {
      std::lock_guard lock(mu);
      auto it = waiters.find(seq);
      if (it == waiters.end()) return;  // granted or cancelled meanwhile
      waited = it->second.deadline - it->second.enqueued_at;
      cb = std::move(it->second.cb);
      waiters.erase(it);
      ++timeouts_total;
    }
    // Already on the executor thread and outside the lock: call directly.
    cb(std::unexpected(Error(
        ErrorCode::Overloaded,
        "limiter '" + name + "': acquire timeout after " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) +
            " ms waiting for a permit")));
  }

  const std::string name;
  const int max_permits;
  const size_t max_queue;
  Executor& executor;

  mutable std::mutex mu;
  bool shut_down = false;              // guarded by mu
  int in_use = 0;                      // guarded by mu
  uint64_t next_seq = 0;               // guarded by mu
  std::map<uint64_t, Waiter> waiters;  // guarded by mu; ordered by arrival = FIFO
  size_t max_queue_depth_seen = 0;     // guarded by mu
  Duration wait_time_sum{};            // guarded by mu
  uint64_t granted_total = 0;          // guarded by mu
  uint64_t waited_total = 0;           // guarded by mu
  uint64_t timeouts_total = 0;         // guarded by mu
  uint64_t rejections_total = 0;       // guarded by mu
  uint64_t cancelled_total = 0;        // guarded by mu
};

// ---------------------------------------------------------------------------------------------
// Permit

ConcurrencyLimiter::Permit& ConcurrencyLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    release();
    core_ = std::move(other.core_);
  }
  return *this;
}

ConcurrencyLimiter::Permit::~Permit() { release(); }

void ConcurrencyLimiter::Permit::release() {
  if (core_ == nullptr) return;
  std::shared_ptr<Core> core = std::move(core_);
  core_ = nullptr;
  core->release();
}

// ---------------------------------------------------------------------------------------------
// ConcurrencyLimiter

ConcurrencyLimiter::ConcurrencyLimiter(std::string name, int max_permits, int max_queue,
                                       Executor& executor)
    : core_(std::make_shared<Core>(std::move(name), max_permits, max_queue, executor)) {}

ConcurrencyLimiter::~ConcurrencyLimiter() { shutdown(); }

void ConcurrencyLimiter::acquire(MonotonicTime deadline, Callback cb) {
  Core& c = *core_;
  enum { kGrant, kFull, kExpired, kShutDown, kQueued } outcome;
  {
    std::lock_guard lock(c.mu);
    const MonotonicTime now = c.executor.clock().now();
    if (c.shut_down) {
      ++c.cancelled_total;
      outcome = kShutDown;
    } else if (c.in_use < c.max_permits && c.waiters.empty()) {
      ++c.in_use;
      ++c.granted_total;
      outcome = kGrant;
    } else if (c.waiters.size() >= c.max_queue) {
      ++c.rejections_total;
      outcome = kFull;
    } else if (deadline <= now) {
      ++c.timeouts_total;
      outcome = kExpired;
    } else {
      const uint64_t seq = ++c.next_seq;
      auto& w = c.waiters[seq];
      w.deadline = deadline;
      w.enqueued_at = now;
      w.cb = std::move(cb);
      c.max_queue_depth_seen = std::max(c.max_queue_depth_seen, c.waiters.size());
      // Under the lock so a concurrent hand-off always sees the timer id it must cancel.
      std::weak_ptr<Core> weak = core_;
      w.timer = c.executor.runAt(deadline, [weak, seq] {
        if (auto core = weak.lock()) core->onDeadline(seq);
      });
      outcome = kQueued;
    }
  }
  switch (outcome) {
    case kGrant:
      c.postGrant(std::move(cb));
      break;
    case kFull:
      c.postError(std::move(cb), ErrorCode::Overloaded,
                  "limiter '" + c.name + "': wait queue full (" + std::to_string(c.max_queue) +
                      " waiting)");
      break;
    case kExpired:
      c.postError(std::move(cb), ErrorCode::Overloaded,
                  "limiter '" + c.name + "': acquire timeout (deadline already passed)");
      break;
    case kShutDown:
      c.postError(std::move(cb), ErrorCode::Cancelled, "limiter '" + c.name + "': shut down");
      break;
    case kQueued:
      break;
  }
}

std::optional<ConcurrencyLimiter::Permit> ConcurrencyLimiter::tryAcquire() {
  std::lock_guard lock(core_->mu);
  if (core_->shut_down || core_->in_use >= core_->max_permits || !core_->waiters.empty()) {
    return std::nullopt;
  }
  ++core_->in_use;
  ++core_->granted_total;
  return Permit(core_);
}

void ConcurrencyLimiter::shutdown() {
  std::map<uint64_t, Core::Waiter> failed;
  {
    std::lock_guard lock(core_->mu);
    core_->shut_down = true;
    failed.swap(core_->waiters);
    core_->cancelled_total += failed.size();
  }
  for (auto& [seq, w] : failed) {
    core_->executor.cancelTimer(w.timer);
    core_->postError(std::move(w.cb), ErrorCode::Cancelled,
                     "limiter '" + core_->name + "': shut down while waiting for a permit");
  }
}

ConcurrencyLimiter::Stats ConcurrencyLimiter::stats() const {
  std::lock_guard lock(core_->mu);
  Stats s;
  s.max_permits = core_->max_permits;
  s.in_use = core_->in_use;
  s.queue_depth = core_->waiters.size();
  s.max_queue_depth_seen = core_->max_queue_depth_seen;
  s.wait_time_sum = core_->wait_time_sum;
  s.granted_total = core_->granted_total;
  s.waited_total = core_->waited_total;
  s.timeouts_total = core_->timeouts_total;
  s.rejections_total = core_->rejections_total;
  s.cancelled_total = core_->cancelled_total;
  return s;
}

const std::string& ConcurrencyLimiter::name() const { return core_->name; }

}  // namespace llmpool::resilience
