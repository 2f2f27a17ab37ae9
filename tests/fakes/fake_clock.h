#pragma once
// A clock tests move by hand. Thread-safe so it can be read from executor callbacks.

#include <atomic>
#include <chrono>

#include "llmpool/clock.h"

namespace llmpool::testing {

class FakeClock final : public Clock {
 public:
  FakeClock() : now_(MonotonicTime(std::chrono::hours(1000))) {}
  MonotonicTime now() const override { return now_.load(); }
  SystemTime systemNow() const override {
    return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
        std::chrono::seconds(1'800'000'000) + (now_.load() - MonotonicTime{})));
  }
  void advance(Duration d) { now_.store(now_.load() + d); }
  void set(MonotonicTime t) { now_.store(t); }

 private:
  std::atomic<MonotonicTime> now_;
};

}  // namespace llmpool::testing
