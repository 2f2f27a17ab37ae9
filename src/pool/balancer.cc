#include "pool/balancer.h"

#include <algorithm>

namespace llmpool::pool {
namespace {

// Weighted draw among the candidates `in` admits. A predicate rather than a list of indices keeps
// the per-attempt path free of allocations.
template <class In>
size_t weightedDraw(std::span<const BalanceCandidate> candidates, In in, RandomSource& random) {
  const auto weight = [&](size_t i) { return candidates[i].weight > 0 ? candidates[i].weight : 0; };
  double total = 0;
  size_t first = candidates.size(), last = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!in(i)) continue;
    total += weight(i);
    if (first == candidates.size()) first = i;
    last = i;
  }
  if (total <= 0) return first;
  double point = random.uniform01() * total;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!in(i)) continue;
    if (point < weight(i)) return i;
    point -= weight(i);
  }
  return last;  // rounding left a sliver past the last weight
}

}  // namespace

std::optional<size_t> pickCandidate(std::span<const BalanceCandidate> candidates,
                                    BalancingStrategy strategy, RandomSource& random) {
  if (candidates.empty()) return std::nullopt;
  switch (strategy) {
    case BalancingStrategy::Weighted:
      break;
    case BalancingStrategy::LeastInFlight: {
      uint64_t best = UINT64_MAX;
      for (const auto& c : candidates) best = std::min(best, c.in_flight);
      return weightedDraw(
          candidates, [&](size_t i) { return candidates[i].in_flight == best; }, random);
    }
    case BalancingStrategy::LowestLatency: {
      // Deployments without a measurement yet are tried first, so every one gets measured.
      bool any_unmeasured = false;
      for (const auto& c : candidates) any_unmeasured = any_unmeasured || !c.latency_s;
      if (any_unmeasured) {
        return weightedDraw(
            candidates, [&](size_t i) { return !candidates[i].latency_s; }, random);
      }
      double best = *candidates.front().latency_s;
      for (const auto& c : candidates) best = std::min(best, *c.latency_s);
      return weightedDraw(
          candidates, [&](size_t i) { return *candidates[i].latency_s == best; }, random);
    }
  }
  return weightedDraw(
      candidates, [](size_t) { return true; }, random);
}

}  // namespace llmpool::pool
