#pragma once
// A small, fast, seedable generator for the mock's fault rates and latency samples. Deterministic
// for a given seed on every standard library (no std::*_distribution).

#include <cmath>
#include <cstdint>
#include <numbers>

namespace llmpool::mock {

class MockRandom {
 public:
  explicit MockRandom(uint64_t seed) : state_(seed) {}

  /** splitmix64: a full-period 64-bit sequence. */
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /** Uniform in [0, 1). */
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /** Standard normal (Box-Muller). */
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log() stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace llmpool::mock
