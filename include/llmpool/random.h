#pragma once
// Randomness seam: backoff jitter and weighted balancing draw from a RandomSource so tests can
// script exact values.

#include <cstdint>
#include <mutex>
#include <random>

namespace llmpool {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /** A uniformly distributed 64-bit value. Thread-safe. */
  virtual uint64_t next() = 0;
  /** Uniform in [0, 1). Mapped by hand so results do not differ between standard libraries. */
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

/** Default source: a mutex-guarded 64-bit Mersenne twister seeded from std::random_device. */
class DefaultRandom final : public RandomSource {
 public:
  DefaultRandom() : engine_(std::random_device{}()) {}
  explicit DefaultRandom(uint64_t seed) : engine_(seed) {}
  uint64_t next() override {
    std::lock_guard lock(mu_);
    return engine_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // guarded by mu_
};

}  // namespace llmpool
