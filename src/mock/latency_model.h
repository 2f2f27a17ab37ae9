#pragma once
// How long the mock waits before answering: a fixed delay, or a lognormal distribution given by
// its median and 99th percentile (heavy right tail, like real LLM latency).

#include <chrono>
#include <optional>

#include "mock/mock_random.h"

namespace llmpool::mock {

class LatencyModel {
 public:
  LatencyModel() = default;
  /** Fixed `median` when `p99` is unset or not above it; lognormal otherwise. */
  LatencyModel(std::chrono::milliseconds median, std::optional<std::chrono::milliseconds> p99);

  /** One delay; `random` is used only for the lognormal form. */
  std::chrono::microseconds sample(MockRandom& random) const;
  bool alwaysZero() const { return median_ == std::chrono::milliseconds::zero(); }

 private:
  std::chrono::milliseconds median_{0};
  double mu_ = 0;     // ln(median in µs)
  double sigma_ = 0;  // 0: fixed
};

}  // namespace llmpool::mock
