#pragma once
// An Executor on a FakeClock: posted work and due timers run only when the test calls
// runReady() or advance(), in deadline order with a sequence tie-breaker (deterministic).

#include <functional>
#include <map>
#include <utility>

#include "common/executor.h"
#include "fake_clock.h"

namespace llmpool::testing {

class FakeExecutor final : public Executor {
 public:
  explicit FakeExecutor(FakeClock& clock) : clock_(clock) {}

  void post(std::function<void()> fn) override { runAt(clock_.now(), std::move(fn)); }
  TimerId runAt(MonotonicTime when, std::function<void()> fn) override {
    TimerId id = ++next_id_;
    timers_.emplace(std::make_pair(when, id), std::move(fn));
    return id;
  }
  void cancelTimer(TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }
  const Clock& clock() const override { return clock_; }
  bool inExecutorThread() const override { return true; }

  /** Runs everything due now (including work that due work schedules for now). */
  size_t runReady() {
    size_t ran = 0;
    while (!timers_.empty() && timers_.begin()->first.first <= clock_.now()) {
      auto node = timers_.extract(timers_.begin());
      node.mapped()();
      ++ran;
    }
    return ran;
  }
  /** Moves the clock forward step by step, firing timers at their own deadlines. */
  void advance(Duration d) {
    const MonotonicTime end = clock_.now() + d;
    runReady();
    while (!timers_.empty() && timers_.begin()->first.first <= end) {
      if (timers_.begin()->first.first > clock_.now()) clock_.set(timers_.begin()->first.first);
      runReady();
    }
    clock_.set(end);
    runReady();
  }
  size_t pending() const { return timers_.size(); }

 private:
  FakeClock& clock_;
  TimerId next_id_ = 0;
  std::map<std::pair<MonotonicTime, TimerId>, std::function<void()>> timers_;
};

}  // namespace llmpool::testing
