#include "pool/balancer.h"

#include <vector>

namespace llmpool::pool {
namespace {

// Weighted draw among the candidates whose index is in `subset`.
size_t weightedDraw(std::span<const BalanceCandidate> candidates, const std::vector<size_t>& subset,
                    RandomSource& random) {
  double total = 0;
  for (size_t i : subset) total += candidates[i].weight > 0 ? candidates[i].weight : 0;
  if (total <= 0) return subset.front();
  double point = random.uniform01() * total;
  for (size_t i : subset) {
    const double w = candidates[i].weight > 0 ? candidates[i].weight : 0;
    if (point < w) return i;
    point -= w;
  }
  return subset.back();  // rounding left a sliver past the last weight
}

}  // namespace

std::optional<size_t> pickCandidate(std::span<const BalanceCandidate> candidates,
                                    BalancingStrategy strategy, RandomSource& random) {
  if (candidates.empty()) return std::nullopt;
  std::vector<size_t> subset;
  subset.reserve(candidates.size());
  switch (strategy) {
    case BalancingStrategy::Weighted:
      for (size_t i = 0; i < candidates.size(); ++i) subset.push_back(i);
      break;
    case BalancingStrategy::LeastInFlight: {
      uint64_t best = UINT64_MAX;
      for (const auto& c : candidates) best = std::min(best, c.in_flight);
      for (size_t i = 0; i < candidates.size(); ++i) {
        if (candidates[i].in_flight == best) subset.push_back(i);
      }
      break;
    }
    case BalancingStrategy::LowestLatency: {
      for (size_t i = 0; i < candidates.size(); ++i) {
        if (!candidates[i].latency_s) subset.push_back(i);
      }
      if (subset.empty()) {
        double best = candidates.front().latency_s.value_or(0);
        for (const auto& c : candidates) best = std::min(best, *c.latency_s);
        for (size_t i = 0; i < candidates.size(); ++i) {
          if (*candidates[i].latency_s == best) subset.push_back(i);
        }
      }
      break;
    }
  }
  return weightedDraw(candidates, subset, random);
}

}  // namespace llmpool::pool
