#include "tasks/task_order.h"

#include <gtest/gtest.h>

namespace llmpool::tasks {
namespace {

using std::chrono::seconds;

const SystemTime kT0 = SystemTime(seconds(1'800'000'000));

OrderEntry entry(std::string id, uint64_t seq, Priority p, SystemTime at = kT0) {
  return OrderEntry{.id = std::move(id), .seq = seq, .priority = p, .enqueued_at = at};
}

std::vector<std::string> popAllIds(TaskOrder& order, SystemTime now) {
  std::vector<std::string> ids;
  while (auto e = order.popBest(now)) ids.push_back(e->id);
  return ids;
}

TEST(TaskOrderTest, PriorityDescThenSequenceAsc) {
  TaskOrder order;
  order.add(entry("low1", 1, Priority::Low));
  order.add(entry("high1", 2, Priority::High));
  order.add(entry("norm1", 3, Priority::Normal));
  order.add(entry("crit1", 4, Priority::Critical));
  order.add(entry("high2", 5, Priority::High));
  order.add(entry("low2", 6, Priority::Low));
  EXPECT_EQ(popAllIds(order, kT0),
            (std::vector<std::string>{"crit1", "high1", "high2", "norm1", "low1", "low2"}));
  EXPECT_TRUE(order.empty());
}

TEST(TaskOrderTest, DelayedEntryWaitsForNotBefore) {
  TaskOrder order;
  order.add(entry("retry", 1, Priority::High), kT0 + seconds(5));
  order.add(entry("fresh", 2, Priority::Low));
  EXPECT_EQ(order.nextDelayed(), kT0 + seconds(5));
  EXPECT_EQ(popAllIds(order, kT0), std::vector<std::string>{"fresh"});
  EXPECT_FALSE(order.popBest(kT0 + seconds(4)).has_value());
  auto e = order.popBest(kT0 + seconds(5));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, "retry");
}

TEST(TaskOrderTest, RetriedEntryKeepsItsPlaceInItsClass) {
  TaskOrder order;
  order.add(entry("b", 7, Priority::Normal));
  order.add(entry("a", 3, Priority::Normal), kT0);  // re-queued with its original sequence
  EXPECT_EQ(popAllIds(order, kT0), (std::vector<std::string>{"a", "b"}));
}

TEST(TaskOrderTest, AgingOffByDefaultLowStarvesBehindNewerHigh) {
  TaskOrder order;
  order.add(entry("old-low", 1, Priority::Low, kT0));
  order.add(entry("new-high", 2, Priority::High, kT0 + seconds(3600)));
  EXPECT_EQ(popAllIds(order, kT0 + seconds(3600)),
            (std::vector<std::string>{"new-high", "old-low"}));
}

TEST(TaskOrderTest, AgingPromotesOneClassPerPeriod) {
  TaskOrder order(seconds(10));
  const auto now = kT0 + seconds(25);  // old-low waited 25 s: two periods, Low -> High
  order.add(entry("old-low", 1, Priority::Low, kT0));
  order.add(entry("normal", 2, Priority::Normal, now));
  order.add(entry("high", 3, Priority::High, now));
  order.add(entry("crit", 4, Priority::Critical, now));
  EXPECT_EQ(order.effectivePriority(entry("x", 0, Priority::Low, kT0), now), Priority::High);
  // Equal aged class: the older sequence goes first.
  EXPECT_EQ(popAllIds(order, now), (std::vector<std::string>{"crit", "old-low", "high", "normal"}));
}

TEST(TaskOrderTest, AgingIsCappedAtCritical) {
  TaskOrder order(seconds(1));
  EXPECT_EQ(order.effectivePriority(entry("x", 0, Priority::Low, kT0), kT0 + seconds(1000)),
            Priority::Critical);
  EXPECT_EQ(order.effectivePriority(entry("x", 0, Priority::Low, kT0), kT0 + seconds(0)),
            Priority::Low);
}

TEST(TaskOrderTest, PopLowestBelowTakesNewestOfLowestClass) {
  TaskOrder order;
  order.add(entry("low1", 1, Priority::Low));
  order.add(entry("low2", 2, Priority::Low));
  order.add(entry("norm", 3, Priority::Normal));
  auto victim = order.popLowestBelow(Priority::High);
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->id, "low2");
  EXPECT_FALSE(order.popLowestBelow(Priority::Low).has_value());  // nothing strictly below Low
  EXPECT_EQ(order.count(Priority::Low), 1u);
}

TEST(TaskOrderTest, PopLowestBelowConsidersDelayedEntries) {
  TaskOrder order;
  order.add(entry("norm", 1, Priority::Normal));
  order.add(entry("low-retry", 2, Priority::Low), kT0 + seconds(60));
  auto victim = order.popLowestBelow(Priority::Critical);
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->id, "low-retry");
  EXPECT_FALSE(order.nextDelayed().has_value());
}

TEST(TaskOrderTest, RemoveAndCounts) {
  TaskOrder order;
  order.add(entry("a", 1, Priority::High));
  order.add(entry("b", 2, Priority::High), kT0 + seconds(1));
  EXPECT_EQ(order.count(Priority::High), 2u);
  EXPECT_TRUE(order.remove("b"));
  EXPECT_FALSE(order.remove("b"));
  EXPECT_TRUE(order.remove("a"));
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(order.count(Priority::High), 0u);
}

}  // namespace
}  // namespace llmpool::tasks
