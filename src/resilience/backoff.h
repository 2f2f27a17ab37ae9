#pragma once
// Exponential backoff with full jitter. See docs/resilience.md ("Backoff").

#include "llmpool/clock.h"
#include "llmpool/config.h"
#include "llmpool/random.h"

namespace llmpool::resilience {

/**
 * delay(n) is uniform in [0, ceiling(n)), where ceiling(n) = min(max_backoff, initial_backoff *
 * multiplier^n) and n = 0 for the first retry. Full jitter spreads the retries of many clients
 * that failed together, instead of letting them return in synchronized waves.
 *
 * The random draw is mapped with our own arithmetic (RandomSource::uniform01), so a scripted
 * RandomSource yields exact, library-independent delays.
 *
 * Thread-safety: const after construction; delay() is thread-safe when the RandomSource is (all
 * RandomSource implementations must be). Never blocks. The RandomSource must outlive the Backoff.
 */
class Backoff {
 public:
  Backoff(const RetryConfig& config, RandomSource& random);

  /** The un-jittered upper bound for retry number `retry` (0-based). Never overflows. */
  Duration ceiling(int retry) const;
  /** A jittered delay for retry number `retry` (0-based): uniform in [0, ceiling(retry)). */
  Duration delay(int retry) const;

 private:
  Duration initial_;
  Duration max_;
  double multiplier_;
  RandomSource& random_;
};

}  // namespace llmpool::resilience
