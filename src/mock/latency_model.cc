#include "mock/latency_model.h"

#include <cmath>

namespace llmpool::mock {

// z of the standard normal distribution at the 99th percentile.
constexpr double Z99 = 2.3263478740408408;

LatencyModel::LatencyModel(std::chrono::milliseconds median,
                           std::optional<std::chrono::milliseconds> p99)
    : median_(median) {
  if (median.count() > 0 && p99 && *p99 > median) {
    // For a lognormal, median = e^mu and p99 = e^(mu + Z99 sigma).
    mu_ = std::log(static_cast<double>(median.count()) * 1e3);
    sigma_ =
        std::log(static_cast<double>(p99->count()) / static_cast<double>(median.count())) / Z99;
  }
}

std::chrono::microseconds LatencyModel::sample(MockRandom& random) const {
  if (sigma_ == 0) return median_;
  const double us = std::exp(mu_ + sigma_ * random.normal());
  // Cap absurd tail draws (beyond ~6 sigma) so a test never waits for minutes.
  const double cap = std::exp(mu_ + 6 * sigma_);
  return std::chrono::microseconds(static_cast<int64_t>(std::min(us, cap)));
}

}  // namespace llmpool::mock
