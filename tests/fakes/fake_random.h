#pragma once
// A RandomSource that returns scripted values, so jittered delays and weighted picks are exact in
// tests. When the script runs out it repeats `fallback` (default 0, i.e. uniform01() == 0).

#include <cmath>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "llmpool/random.h"

namespace llmpool::testing {

class FakeRandom final : public RandomSource {
 public:
  FakeRandom() = default;
  explicit FakeRandom(std::vector<uint64_t> script, uint64_t fallback = 0)
      : script_(script.begin(), script.end()), fallback_(fallback) {}

  /** The raw value whose uniform01() is `u` (u in [0, 1), exact for multiples of 2^-53). */
  static uint64_t rawFor(double u) { return static_cast<uint64_t>(std::ldexp(u, 53)) << 11; }

  void push(uint64_t value) {
    std::lock_guard lock(mu_);
    script_.push_back(value);
  }
  /** Queues a value so that the next uniform01() returns `u`. */
  void pushUniform(double u) { push(rawFor(u)); }
  /** What next() returns once the script is exhausted. */
  void setFallback(uint64_t value) {
    std::lock_guard lock(mu_);
    fallback_ = value;
  }
  void setFallbackUniform(double u) { setFallback(rawFor(u)); }

  uint64_t next() override {
    std::lock_guard lock(mu_);
    ++calls_;
    if (script_.empty()) return fallback_;
    const uint64_t value = script_.front();
    script_.pop_front();
    return value;
  }
  /** How many values were drawn. */
  size_t calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<uint64_t> script_;  // guarded by mu_
  uint64_t fallback_ = 0;        // guarded by mu_
  size_t calls_ = 0;             // guarded by mu_
};

}  // namespace llmpool::testing
