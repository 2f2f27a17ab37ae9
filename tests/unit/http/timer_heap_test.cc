#include "http/timer_heap.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmpool::http {
namespace {

using std::chrono::milliseconds;

TEST(TimerHeapTest, PopsInDeadlineOrderWithInsertionOrderForTies) {
  TimerHeap heap;
  const MonotonicTime t0{};
  std::string fired;
  heap.add(1, t0 + milliseconds(30), [&] { fired += "c"; });
  heap.add(2, t0 + milliseconds(10), [&] { fired += "a"; });
  heap.add(3, t0 + milliseconds(20), [&] { fired += "b1"; });
  heap.add(4, t0 + milliseconds(20), [&] { fired += "b2"; });
  EXPECT_EQ(t0 + milliseconds(10), heap.nextDeadline());
  while (auto fn = heap.popDue(t0 + milliseconds(100))) (*fn)();
  EXPECT_EQ("ab1b2c", fired);
  EXPECT_EQ(0u, heap.size());
  EXPECT_FALSE(heap.nextDeadline().has_value());
}

TEST(TimerHeapTest, NothingIsDueBeforeItsDeadline) {
  TimerHeap heap;
  const MonotonicTime t0{};
  heap.add(1, t0 + milliseconds(5), [] {});
  EXPECT_FALSE(heap.popDue(t0 + milliseconds(4)).has_value());
  EXPECT_TRUE(heap.popDue(t0 + milliseconds(5)).has_value());
}

TEST(TimerHeapTest, CancelledTimersNeverRunAndNoLongerSetTheDeadline) {
  TimerHeap heap;
  const MonotonicTime t0{};
  bool ran = false;
  heap.add(1, t0 + milliseconds(1), [&] { ran = true; });
  heap.add(2, t0 + milliseconds(9), [] {});
  EXPECT_TRUE(heap.cancel(1));
  EXPECT_FALSE(heap.cancel(1));
  EXPECT_EQ(t0 + milliseconds(9), heap.nextDeadline());
  while (auto fn = heap.popDue(t0 + milliseconds(100))) (*fn)();
  EXPECT_FALSE(ran);
  EXPECT_FALSE(heap.cancel(2));  // already ran
}

TEST(TimerHeapTest, CancellingMostTimersCompactsTheHeap) {
  TimerHeap heap;
  const MonotonicTime t0{};
  for (TimerId id = 1; id <= 1000; ++id) heap.add(id, t0 + milliseconds(id), [] {});
  for (TimerId id = 1; id <= 990; ++id) heap.cancel(id);
  EXPECT_EQ(10u, heap.size());
  EXPECT_LT(heap.entries(), 100u);  // stale entries were dropped, not kept until their deadline
  std::vector<TimerId> order;
  for (TimerId id = 991; id <= 1000; ++id) {
    auto fn = heap.popDue(t0 + milliseconds(id));
    ASSERT_TRUE(fn.has_value()) << id;
  }
  EXPECT_EQ(0u, heap.size());
}

}  // namespace
}  // namespace llmpool::http
