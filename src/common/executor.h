#pragma once
// The seam between logic that must wait (backoff, deadlines, recovery timers, health probes) and
// the thing that runs it: the transport's event loop in production, FakeExecutor in unit tests.
// Nothing in the request path sleeps a thread.

#include <cstdint>
#include <functional>

#include "llmpool/clock.h"

namespace llmpool {

using TimerId = uint64_t;

class Executor {
 public:
  virtual ~Executor() = default;
  /** Runs `fn` soon on the executor's thread. Thread-safe. */
  virtual void post(std::function<void()> fn) = 0;
  /** Runs `fn` on the executor's thread at or after `when`. Thread-safe. Returns a nonzero id. */
  virtual TimerId runAt(MonotonicTime when, std::function<void()> fn) = 0;
  /** Cancels a pending timer; a no-op when it already ran or was cancelled. Thread-safe. */
  virtual void cancelTimer(TimerId id) = 0;
  /** The clock the executor's timers follow. */
  virtual const Clock& clock() const = 0;
  /** True when called from the executor's own thread. */
  virtual bool inExecutorThread() const = 0;
};

}  // namespace llmpool
