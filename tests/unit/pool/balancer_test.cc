#include "pool/balancer.h"

#include <gtest/gtest.h>

#include <array>
#include <deque>

namespace llmpool::pool {
namespace {

// Returns scripted uniform01() values (as 53-bit fractions).
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::deque<double> values) : values_(std::move(values)) {}
  uint64_t next() override {
    double v = values_.empty() ? 0.0 : values_.front();
    if (!values_.empty()) values_.pop_front();
    return static_cast<uint64_t>(v * 0x1.0p53) << 11;
  }

 private:
  std::deque<double> values_;
};

TEST(BalancerTest, EmptyTierHasNoChoice) {
  ScriptedRandom random({0.5});
  EXPECT_FALSE(pickCandidate({}, BalancingStrategy::Weighted, random));
}

TEST(BalancerTest, WeightedDrawFollowsWeights) {
  std::array<BalanceCandidate, 3> c{{{.weight = 5}, {.weight = 3}, {.weight = 2}}};
  ScriptedRandom random({0.0, 0.49, 0.5, 0.79, 0.8, 0.99});
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::Weighted, random), 0u);
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::Weighted, random), 0u);
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::Weighted, random), 1u);
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::Weighted, random), 1u);
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::Weighted, random), 2u);
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::Weighted, random), 2u);
}

TEST(BalancerTest, WeightedDistributionOverManyDraws) {
  std::array<BalanceCandidate, 2> c{{{.weight = 3}, {.weight = 1}}};
  DefaultRandom random(42);
  int first = 0;
  for (int i = 0; i < 4000; ++i)
    first += *pickCandidate(c, BalancingStrategy::Weighted, random) == 0;
  EXPECT_NEAR(first / 4000.0, 0.75, 0.03);
}

TEST(BalancerTest, LeastInFlightPicksTheIdlest) {
  std::array<BalanceCandidate, 3> c{{{.in_flight = 4}, {.in_flight = 1}, {.in_flight = 7}}};
  ScriptedRandom random({0.9});
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::LeastInFlight, random), 1u);
}

TEST(BalancerTest, LeastInFlightBreaksTiesByWeight) {
  std::array<BalanceCandidate, 3> c{{{.weight = 1, .in_flight = 2},
                                     {.weight = 1, .in_flight = 0},
                                     {.weight = 1, .in_flight = 0}}};
  ScriptedRandom random({0.1, 0.9});
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::LeastInFlight, random), 1u);
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::LeastInFlight, random), 2u);
}

TEST(BalancerTest, LowestLatencyExploresUnmeasuredFirst) {
  std::array<BalanceCandidate, 3> c{
      {{.latency_s = 0.2}, {.latency_s = std::nullopt}, {.latency_s = 0.1}}};
  ScriptedRandom random({0.5});
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::LowestLatency, random), 1u);
}

TEST(BalancerTest, LowestLatencyPicksTheFastest) {
  std::array<BalanceCandidate, 3> c{{{.latency_s = 0.2}, {.latency_s = 0.05}, {.latency_s = 0.1}}};
  ScriptedRandom random({0.5});
  EXPECT_EQ(pickCandidate(c, BalancingStrategy::LowestLatency, random), 1u);
}

}  // namespace
}  // namespace llmpool::pool
