#pragma once
// A deployment is one (provider, upstream model) pair. Its breaker, rate limiter, health and
// statistics are shared by every request and every alias that routes to it.

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "llmpool/chat.h"
#include "llmpool/config.h"
#include "llmpool/stats.h"
#include "metrics/histogram.h"
#include "providers/endpoint.h"
#include "resilience/circuit_breaker.h"
#include "resilience/latency_tracker.h"
#include "resilience/rate_limiter.h"

namespace llmpool::pool {

struct Deployment {
  Deployment(std::string name_, const ProviderConfig& provider_, DeploymentConfig config_,
             const CircuitBreakerConfig& breaker_config);

  const std::string name;  // "provider/model"
  const ProviderConfig& provider;
  const DeploymentConfig config;
  providers::Endpoint endpoint;
  resilience::CircuitBreaker breaker;
  std::unique_ptr<resilience::RateLimiter> limiter;  // null when no rpm/tpm is configured
  resilience::LatencyTracker latency;
  metrics::Histogram latency_hist;
  metrics::Histogram ttft_hist;
  std::atomic<bool> healthy{true};

  std::atomic<uint64_t> in_flight{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> successes{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> tokens_in{0};
  std::atomic<uint64_t> tokens_out{0};
  std::atomic<uint64_t> cost_micro_usd{0};  // integer micro-dollars: atomically summable

  double costOf(const Usage& usage) const {
    return (static_cast<double>(usage.prompt_tokens) * config.input_price_per_mtok +
            static_cast<double>(usage.completion_tokens) * config.output_price_per_mtok) /
           1e6;
  }
};

/** One entry of an alias's route: a deployment with this alias's priority and weight. */
struct RouteEntry {
  Deployment* deployment = nullptr;
  int priority = 0;
  double weight = 1.0;
};

}  // namespace llmpool::pool
