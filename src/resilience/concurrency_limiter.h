#pragma once
// The global admission bulkhead: a named semaphore with move-only RAII permits and a bounded FIFO
// wait queue whose waiters have deadlines. Asynchronous: no thread ever blocks in it.
// See docs/resilience.md ("Admission").

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/executor.h"
#include "llmpool/clock.h"
#include "llmpool/error.h"

namespace llmpool::resilience {

/**
 * acquire(deadline, cb) results, always delivered by calling `cb` exactly once, never inline:
 *  - a permit is free and nobody waits -> cb(Permit), posted to the executor;
 *  - else the wait queue has room       -> queued (FIFO); cb(Permit) when a permit is handed over,
 *                                          or cb(Overloaded "acquire timeout") from an executor
 *                                          timer at `deadline`;
 *  - else                               -> cb(Overloaded "wait queue full"), posted;
 *  - after shutdown()                   -> cb(Cancelled), posted.
 * Releasing a Permit hands it directly to the oldest waiter (the count of permits in use does not
 * drop in between, so nobody can barge ahead of the queue), and that waiter's callback is posted
 * to the executor, outside the lock, so a release never re-enters the caller.
 *
 * A callback that the executor destroys without running (executor shut down) destroys its Permit
 * too, which releases it: permits do not leak on any path.
 *
 * Thread-safety: every method is thread-safe; callbacks run on the executor thread. Lock order:
 * the limiter's mutex may be held while calling Executor::runAt/cancelTimer, so the executor must
 * not call into the limiter while holding its own locks (it runs callbacks unlocked).
 * Lifetime: Permits and queued callbacks keep the shared state alive, so they may outlive the
 * ConcurrencyLimiter object; the Executor must outlive every Permit (a release may post to it).
 */
class ConcurrencyLimiter {
  struct Core;

 public:
  /** One unit of the semaphore. Move-only; returned on destruction or release(). */
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept = default;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    /** Returns the unit now (hands it to the next waiter). Idempotent. */
    void release();
    /** True while this object holds a unit. */
    bool held() const { return core_ != nullptr; }

   private:
    friend class ConcurrencyLimiter;
    explicit Permit(std::shared_ptr<Core> core) : core_(std::move(core)) {}
    std::shared_ptr<Core> core_;
  };

  using Callback = std::function<void(Result<Permit>)>;

  struct Stats {
    int max_permits = 0;
    int in_use = 0;
    size_t queue_depth = 0;
    size_t max_queue_depth_seen = 0;
    Duration wait_time_sum{};       // summed over permits granted after waiting in the queue
    uint64_t granted_total = 0;     // permits granted (immediately or after waiting)
    uint64_t waited_total = 0;      // of which after waiting
    uint64_t timeouts_total = 0;    // waiters whose deadline passed
    uint64_t rejections_total = 0;  // refused because the queue was full
    uint64_t cancelled_total = 0;   // failed by shutdown()
  };

  /**
   * @param name appears in error messages and metrics ("admission")
   * @param max_permits concurrent permits (clamped to >= 1)
   * @param max_queue waiters allowed (>= 0; 0 = never wait)
   * @param executor runs callbacks and deadline timers; must outlive every Permit
   */
  ConcurrencyLimiter(std::string name, int max_permits, int max_queue, Executor& executor);
  /** Calls shutdown(). */
  ~ConcurrencyLimiter();
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  /** Asynchronous acquire; see the class comment. Never blocks. */
  void acquire(MonotonicTime deadline, Callback cb);
  /** A permit now if one is free and nobody is waiting (FIFO is never bypassed). Never blocks. */
  std::optional<Permit> tryAcquire();
  /** Fails every waiter with Cancelled and refuses new acquires. Held permits stay valid and are
   *  returned normally. Idempotent. */
  void shutdown();

  Stats stats() const;
  const std::string& name() const;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace llmpool::resilience
