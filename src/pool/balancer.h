#pragma once
// Choice of one deployment inside a priority tier. Pure: the caller passes what it knows about
// each usable candidate, so the strategies are unit-tested without a pool.

#include <cstdint>
#include <optional>
#include <span>

#include "llmpool/config.h"
#include "llmpool/random.h"

namespace llmpool::pool {

struct BalanceCandidate {
  double weight = 1.0;
  uint64_t in_flight = 0;
  /** EWMA latency in seconds; nullopt when the deployment has no samples yet. */
  std::optional<double> latency_s;
};

/**
 * Picks an index into `candidates` (all usable, same tier), or nullopt when empty.
 * - Weighted: probability proportional to weight.
 * - LeastInFlight: fewest in-flight requests; ties broken by weight-proportional draw.
 * - LowestLatency: lowest EWMA latency; candidates without samples are tried first so every
 *   deployment gets measured; ties broken by weight-proportional draw.
 */
std::optional<size_t> pickCandidate(std::span<const BalanceCandidate> candidates,
                                    BalancingStrategy strategy, RandomSource& random);

}  // namespace llmpool::pool
