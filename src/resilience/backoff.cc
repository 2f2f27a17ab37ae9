#include "resilience/backoff.h"

#include <algorithm>
#include <cmath>

namespace llmpool::resilience {

Backoff::Backoff(const RetryConfig& config, RandomSource& random)
    : initial_(std::max<Duration>(config.initial_backoff, Duration::zero())),
      max_(std::max<Duration>(config.max_backoff, Duration::zero())),
      // A multiplier below 1 would shrink delays as failures continue; treat it as constant
      // backoff.
      multiplier_(std::isfinite(config.multiplier) ? std::max(config.multiplier, 1.0) : 1.0),
      random_(random) {}

Duration Backoff::ceiling(int retry) const {
  if (initial_ >= max_) return max_;
  // Computed in double: multiplier^n overflows to +inf rather than wrapping, and any value at or
  // above max_ (including inf) is clamped before converting back to an integer count.
  const double grown = static_cast<double>(initial_.count()) *
                       std::pow(multiplier_, static_cast<double>(std::max(retry, 0)));
  if (!(grown < static_cast<double>(max_.count()))) return max_;
  return Duration(static_cast<Duration::rep>(grown));
}

Duration Backoff::delay(int retry) const {
  const Duration bound = ceiling(retry);
  // uniform01() < 1, so the product stays below `bound`; floor keeps it an exact integer count.
  const double jittered = std::floor(random_.uniform01() * static_cast<double>(bound.count()));
  return Duration(static_cast<Duration::rep>(jittered));
}

}  // namespace llmpool::resilience
