#pragma once
// Time seams. Every component that reads time takes a Clock& (or is handed `now`), so unit tests
// drive it with FakeClock and never sleep.

#include <chrono>

namespace llmpool {

using MonotonicClock = std::chrono::steady_clock;
using MonotonicTime = MonotonicClock::time_point;
using SystemTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

/** Source of time. Implementations must be thread-safe. */
class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonotonicTime now() const = 0;
  virtual SystemTime systemNow() const = 0;
};

/** The real clock (std::chrono::steady_clock / system_clock). */
class SteadyClock final : public Clock {
 public:
  MonotonicTime now() const override { return MonotonicClock::now(); }
  SystemTime systemNow() const override { return std::chrono::system_clock::now(); }
  /** A process-wide instance, for callers that do not inject their own clock. */
  static SteadyClock& instance() {
    static SteadyClock clock;
    return clock;
  }
};

}  // namespace llmpool
