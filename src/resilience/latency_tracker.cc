#include "resilience/latency_tracker.h"

#include <cmath>
#include <limits>

namespace llmpool::resilience {

Ewma::Ewma(double alpha)
    : alpha_(alpha > 0.0 && alpha <= 1.0 ? alpha : 0.2),
      value_ns_(std::numeric_limits<double>::quiet_NaN()) {}

void Ewma::record(Duration sample) {
  const auto x = static_cast<double>(std::max<Duration::rep>(sample.count(), 0));
  double current = value_ns_.load(std::memory_order_relaxed);
  double next;
  do {
    next = std::isnan(current) ? x : current + alpha_ * (x - current);
  } while (!value_ns_.compare_exchange_weak(current, next, std::memory_order_relaxed));
  samples_.fetch_add(1, std::memory_order_relaxed);
}

std::optional<Duration> Ewma::value() const {
  const double v = value_ns_.load(std::memory_order_relaxed);
  if (std::isnan(v)) return std::nullopt;
  return Duration(static_cast<Duration::rep>(std::llround(v)));
}

}  // namespace llmpool::resilience
