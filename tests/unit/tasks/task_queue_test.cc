// Behaviour every TaskQueue backend shares, run against memory and SQLite.

#include "tasks/task_queue.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "tasks/memory_task_queue.h"
#include "tasks/sqlite_task_queue.h"

namespace llmpool::tasks {
namespace {

using std::chrono::seconds;
const SystemTime kT0 = SystemTime(seconds(1'800'000'000));

Task task(std::string id, Priority p = Priority::Normal) {
  Task t;
  t.id = std::move(id);
  t.priority = p;
  t.request.model = "m";
  t.request.messages.push_back(ChatMessage{.role = "user", .content = t.id});
  return t;
}

TaskResult okResult(const std::string& id, const std::string& text = "done") {
  TaskResult r;
  r.task_id = id;
  ChatResponse resp;
  resp.choices.push_back(ChatChoice{.content = text});
  r.outcome = resp;
  r.attempts = 1;
  return r;
}

std::vector<std::string> ids(const std::vector<LeasedTask>& leased) {
  std::vector<std::string> out;
  for (const auto& l : leased) out.push_back(l.task.id);
  return out;
}

class TaskQueueTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/llmpool-queue-XXXXXX";
    dir_ = mkdtemp(tmpl);
    queue_ = open();
  }
  void TearDown() override {
    queue_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<TaskQueue> open(QueueOptions options = {}) {
    const std::string spec = GetParam() == "memory" ? "memory" : "sqlite:" + dir_ + "/q.db";
    auto q = openTaskQueue(spec, options);
    EXPECT_TRUE(q.has_value()) << q.error().describe();
    return std::move(*q);
  }
  void push(std::vector<Task> tasks) {
    for (const auto& r : queue_->push(std::move(tasks), kT0)) ASSERT_TRUE(r.has_value());
  }

  std::string dir_;
  std::unique_ptr<TaskQueue> queue_;
};

TEST_P(TaskQueueTest, LeasesByPriorityThenFifo) {
  push({task("l1", Priority::Low), task("n1"), task("h1", Priority::High), task("n2"),
        task("c1", Priority::Critical), task("h2", Priority::High), task("l2", Priority::Low)});
  EXPECT_EQ(queue_->queuedCount(), 7u);
  EXPECT_EQ(ids(queue_->lease(3, kT0)), (std::vector<std::string>{"c1", "h1", "h2"}));
  EXPECT_EQ(ids(queue_->lease(10, kT0)), (std::vector<std::string>{"n1", "n2", "l1", "l2"}));
  auto counts = queue_->counts();
  EXPECT_EQ(counts.queued, 0u);
  EXPECT_EQ(counts.leased, 7u);
}

TEST_P(TaskQueueTest, LeasedTaskCarriesItsPayload) {
  Task t = task("p1", Priority::High);
  t.metadata["k"] = "v";
  t.max_attempts = 4;
  push({t});
  auto leased = queue_->lease(1, kT0);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_FALSE(leased[0].load_error.has_value());
  EXPECT_EQ(leased[0].task.request.messages.at(0).content, "p1");
  EXPECT_EQ(leased[0].task.metadata.at("k"), "v");
  EXPECT_EQ(leased[0].task.max_attempts, 4);
  EXPECT_EQ(leased[0].attempts, 0);
  EXPECT_EQ(queue_->state("p1"), TaskState::Running);
}

TEST_P(TaskQueueTest, DuplicateIdsAreRefusedInEveryState) {
  push({task("a"), task("b")});
  auto again = queue_->push({task("a")}, kT0);
  ASSERT_FALSE(again[0].has_value());
  EXPECT_EQ(again[0].error().code, ErrorCode::InvalidRequest);
  auto leased = queue_->lease(2, kT0);
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_FALSE(queue_->push({task("a")}, kT0)[0].has_value());  // leased
  queue_->complete({okResult("a")});
  EXPECT_FALSE(queue_->push({task("a")}, kT0)[0].has_value());  // finished
  EXPECT_FALSE(queue_->push({task("")}, kT0)[0].has_value());   // empty id
}

TEST_P(TaskQueueTest, CompleteIsExactlyOnce) {
  push({task("a")});
  queue_->lease(1, kT0);
  EXPECT_EQ(queue_->complete({okResult("a", "first")}), std::vector<bool>{true});
  EXPECT_EQ(queue_->complete({okResult("a", "second")}), std::vector<bool>{false});
  EXPECT_EQ(queue_->complete({okResult("never-pushed")}), std::vector<bool>{false});
  auto stored = queue_->result("a");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->outcome->text(), "first");
  EXPECT_EQ(queue_->state("a"), TaskState::Finished);
  EXPECT_EQ(queue_->counts().finished, 1u);
  EXPECT_EQ(queue_->counts().leased, 0u);
}

TEST_P(TaskQueueTest, RequeueHonoursNotBeforeAndKeepsAttempts) {
  push({task("r", Priority::High), task("other", Priority::Low)});
  auto leased = queue_->lease(1, kT0);
  ASSERT_EQ(ids(leased), std::vector<std::string>{"r"});
  leased[0].attempts = 1;
  queue_->requeue({RequeueItem{.leased = std::move(leased[0]), .not_before = kT0 + seconds(30)}});
  EXPECT_EQ(queue_->state("r"), TaskState::Queued);
  EXPECT_EQ(queue_->queuedCount(), 2u);
  EXPECT_EQ(queue_->nextDelayed(), kT0 + seconds(30));
  EXPECT_EQ(ids(queue_->lease(5, kT0 + seconds(10))), std::vector<std::string>{"other"});
  auto later = queue_->lease(5, kT0 + seconds(30));
  ASSERT_EQ(ids(later), std::vector<std::string>{"r"});
  EXPECT_EQ(later[0].attempts, 1);
}

TEST_P(TaskQueueTest, LeaseByIdTakesOnlyQueuedTasks) {
  push({task("a"), task("b")});
  queue_->lease(1, kT0);  // a
  EXPECT_FALSE(queue_->leaseById("a").has_value());
  EXPECT_FALSE(queue_->leaseById("zzz").has_value());
  auto b = queue_->leaseById("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->task.id, "b");
  EXPECT_EQ(queue_->queuedCount(), 0u);
}

TEST_P(TaskQueueTest, LeaseLowestBelowAndLeaseAll) {
  push({task("l1", Priority::Low), task("l2", Priority::Low), task("h", Priority::High)});
  auto victim = queue_->leaseLowestBelow(Priority::Normal);
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->task.id, "l2");
  EXPECT_FALSE(queue_->leaseLowestBelow(Priority::Low).has_value());
  auto counts = queue_->counts();
  EXPECT_EQ(counts.queued_by_priority[static_cast<size_t>(Priority::Low)], 1u);
  EXPECT_EQ(counts.queued_by_priority[static_cast<size_t>(Priority::High)], 1u);
  EXPECT_EQ(ids(queue_->leaseAll()), (std::vector<std::string>{"h", "l1"}));
  EXPECT_EQ(queue_->queuedCount(), 0u);
}

TEST_P(TaskQueueTest, ForEachResultVisitsEveryStoredResult) {
  push({task("a"), task("b"), task("c")});
  queue_->lease(3, kT0);
  queue_->complete({okResult("b"), okResult("a")});
  std::vector<std::string> seen;
  queue_->forEachResult([&](const TaskResult& r) { seen.push_back(r.task_id); });
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST_P(TaskQueueTest, AgingOptionReachesTheOrder) {
  queue_.reset();
  queue_ = open(QueueOptions{.aging_after = seconds(10), .retain_finished = 10});
  push({task("old-low", Priority::Low)});
  ASSERT_TRUE(queue_->push({task("high", Priority::High)}, kT0 + seconds(30))[0].has_value());
  // At t0+30 s the low task has aged three classes (capped at Critical): it goes first.
  EXPECT_EQ(ids(queue_->lease(2, kT0 + seconds(30))),
            (std::vector<std::string>{"old-low", "high"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, TaskQueueTest, ::testing::Values("memory", "sqlite"),
                         [](const auto& param_info) { return param_info.param; });

TEST(OpenTaskQueueTest, SpecsAreValidated) {
  EXPECT_EQ((*openTaskQueue("memory", {}))->kind(), "memory");
  auto bad = openTaskQueue("postgres://x", {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidConfig);
  EXPECT_FALSE(openTaskQueue("sqlite:", {}).has_value());
  EXPECT_FALSE(openTaskQueue("sqlite:/tmp/x.db?sync=sometimes", {}).has_value());
  auto unopenable = openTaskQueue("sqlite:/nonexistent-dir/q.db", {});
  ASSERT_FALSE(unopenable.has_value());
  EXPECT_EQ(unopenable.error().code, ErrorCode::InvalidConfig);
}

TEST(MemoryTaskQueueTest, FinishedRetentionIsBounded) {
  MemoryTaskQueue q(QueueOptions{.aging_after = {}, .retain_finished = 2});
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(q.push({task(id)}, kT0)[0].has_value());
    q.lease(1, kT0);
    q.complete({okResult(id)});
  }
  EXPECT_EQ(q.counts().finished, 2u);
  EXPECT_FALSE(q.state("a").has_value());  // forgotten: outside the retention window
  EXPECT_EQ(q.state("c"), TaskState::Finished);
}

}  // namespace
}  // namespace llmpool::tasks
