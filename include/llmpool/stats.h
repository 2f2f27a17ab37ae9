#pragma once
// Snapshot types of the pool's statistics (the seed's LlmClientPoolStats, made correct under
// concurrency). Counters are cumulative since start; gauges are values at snapshot time.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace llmpool {

enum class CircuitState { Closed, Open, HalfOpen };

inline const char* circuitStateName(CircuitState s) {
  switch (s) {
    case CircuitState::Closed:
      return "closed";
    case CircuitState::Open:
      return "open";
    case CircuitState::HalfOpen:
      return "half_open";
  }
  return "unknown";
}

/** Latency distribution summary, in seconds. */
struct LatencySummary {
  uint64_t count = 0;
  double mean = 0, p50 = 0, p95 = 0, p99 = 0;
};

struct DeploymentStats {
  std::string alias;
  std::string name;  // provider/model
  std::string provider;
  std::string model;
  int priority = 0;
  CircuitState state = CircuitState::Closed;
  bool healthy = true;  // last health probe (or passive signal) result
  uint64_t requests = 0, successes = 0, failures = 0;
  uint64_t in_flight = 0;
  uint64_t breaker_trips = 0, repair_attempts = 0, breaker_rejections = 0;
  uint64_t tokens_in = 0, tokens_out = 0;
  double cost_usd = 0;
  LatencySummary latency, ttft;
};

/** The seed's "active, available, pool size" per provider, from the transport's socket
 *  accounting. busy: carrying a request now; idle: open and waiting in the cache for reuse. */
struct ProviderConnectionStats {
  std::string provider;
  uint64_t connections_open = 0, connections_busy = 0, connections_idle = 0;
  uint64_t pool_hits = 0;    // requests on a reused connection
  uint64_t pool_misses = 0;  // connections opened
};

struct PoolStats {
  uint64_t requests = 0, successes = 0, failures = 0;
  std::map<std::string, uint64_t> failures_by_kind;  // errorCodeName -> count
  uint64_t attempts = 0, retries = 0, failovers = 0;
  uint64_t retry_budget_exhausted = 0;
  uint64_t breaker_trips = 0, repair_attempts = 0;
  std::map<std::string, uint64_t> skips_by_reason;  // breaker_open, rate_limited, unhealthy, ...
  uint64_t in_flight = 0, queue_depth = 0;
  uint64_t admission_rejections = 0;
  LatencySummary permit_wait, latency, ttft;
  uint64_t tokens_in = 0, tokens_out = 0;
  double cost_usd = 0;
  uint64_t pool_hits = 0, pool_misses = 0, connections_open = 0;
  std::vector<DeploymentStats> deployments;
  std::vector<ProviderConnectionStats> providers;
};

}  // namespace llmpool
