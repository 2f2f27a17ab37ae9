// Durability of the SQLite queue: what survives a close, a crash and a reopen.

#include "tasks/sqlite_task_queue.h"

#include "tasks/task_json.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

namespace llmpool::tasks {
namespace {

using std::chrono::seconds;
const SystemTime kT0 = SystemTime(seconds(1'800'000'000));

Task task(std::string id, Priority p = Priority::Normal) {
  Task t;
  t.id = std::move(id);
  t.priority = p;
  t.request.model = "m";
  t.request.messages.push_back(ChatMessage{.role = "user", .content = "hello " + t.id});
  return t;
}

TaskResult okResult(const std::string& id) {
  TaskResult r;
  r.task_id = id;
  ChatResponse resp;
  resp.choices.push_back(ChatChoice{.content = "answer " + id});
  r.outcome = resp;
  r.attempts = 1;
  return r;
}

class SqliteTaskQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/llmpool-sqlite-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/state.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<SqliteTaskQueue> open() {
    auto q = SqliteTaskQueue::open({.path = path_, .full_sync = false}, {});
    EXPECT_TRUE(q.has_value()) << q.error().describe();
    return std::move(*q);
  }
  std::string dir_, path_;
};

TEST_F(SqliteTaskQueueTest, QueuedTasksAndOrderSurviveReopen) {
  {
    auto q = open();
    q->push({task("l", Priority::Low), task("h", Priority::High), task("n1"), task("n2")}, kT0);
  }
  auto q = open();
  EXPECT_EQ(q->queuedCount(), 4u);
  EXPECT_EQ(q->recoveredOnOpen(), 0u);
  std::vector<std::string> order;
  for (auto& l : q->lease(10, kT0)) order.push_back(l.task.id);
  EXPECT_EQ(order, (std::vector<std::string>{"h", "n1", "n2", "l"}));
}

TEST_F(SqliteTaskQueueTest, LeasedTasksAreQueuedAgainAfterACrash) {
  {
    auto q = open();
    q->push({task("a"), task("b"), task("c")}, kT0);
    auto leased = q->lease(2, kT0);  // a, b in flight ...
    ASSERT_EQ(leased.size(), 2u);
    q->complete({okResult("a")});  // ... a finishes; b never does: the process "dies"
  }
  auto q = open();
  EXPECT_EQ(q->recoveredOnOpen(), 1u);
  EXPECT_EQ(q->state("a"), TaskState::Finished);
  EXPECT_EQ(q->state("b"), TaskState::Queued);
  EXPECT_EQ(q->state("c"), TaskState::Queued);
  std::vector<std::string> again;
  for (auto& l : q->lease(10, kT0)) again.push_back(l.task.id);
  EXPECT_EQ(again, (std::vector<std::string>{"b", "c"}));  // finished a never runs again
}

TEST_F(SqliteTaskQueueTest, ResultsAreStoredExactlyOnceAcrossReopen) {
  {
    auto q = open();
    q->push({task("a")}, kT0);
    q->lease(1, kT0);
    ASSERT_EQ(q->complete({okResult("a")}), std::vector<bool>{true});
  }
  auto q = open();
  TaskResult late = okResult("a");
  late.outcome->choices[0].content = "a duplicate";
  EXPECT_EQ(q->complete({late}), std::vector<bool>{false});
  auto stored = q->result("a");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->outcome->text(), "answer a");
  EXPECT_FALSE(q->push({task("a")}, kT0)[0].has_value());
  EXPECT_EQ(q->counts().finished, 1u);
}

TEST_F(SqliteTaskQueueTest, PendingRetryKeepsItsNotBeforeAndAttemptsAcrossReopen) {
  {
    auto q = open();
    q->push({task("r")}, kT0);
    auto leased = q->lease(1, kT0);
    leased[0].attempts = 2;
    q->requeue({RequeueItem{.leased = std::move(leased[0]), .not_before = kT0 + seconds(60)}});
  }
  auto q = open();
  EXPECT_TRUE(q->lease(1, kT0 + seconds(59)).empty());
  auto leased = q->lease(1, kT0 + seconds(60));
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].attempts, 2);
}

TEST_F(SqliteTaskQueueTest, KillNineLosesNothingCommitted) {
  // A child process pushes, leases and completes, then dies by SIGKILL without closing anything.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto q = SqliteTaskQueue::open({.path = path_, .full_sync = false}, {});
    if (!q) _exit(3);
    std::vector<Task> tasks;
    for (int i = 0; i < 500; ++i) tasks.push_back(task("k" + std::to_string(i)));
    (*q)->push(std::move(tasks), kT0);
    auto leased = (*q)->lease(100, kT0);
    std::vector<TaskResult> results;
    for (int i = 0; i < 40; ++i)
      results.push_back(okResult(leased[static_cast<size_t>(i)].task.id));
    (*q)->complete(results);
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto q = open();
  const auto counts = q->counts();
  EXPECT_EQ(counts.finished, 40u);
  EXPECT_EQ(counts.queued, 460u);
  EXPECT_EQ(q->recoveredOnOpen(), 60u);
  EXPECT_EQ(q->state("k0"), TaskState::Finished);
  EXPECT_EQ(q->state("k99"), TaskState::Queued);
}

// Databases written before results had their own table kept them in the task row (state 2).
// Opening one must keep those tasks finished, with their results, and re-queue the leased ones.
TEST_F(SqliteTaskQueueTest, OpensADatabaseThatStoredResultsInTheTaskRow) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const std::string done = taskResultToJsonText(okResult("old-done"));
    const std::string sql =
        "CREATE TABLE tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
        "priority INTEGER NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
        "enqueued_ms INTEGER NOT NULL, not_before_ms INTEGER, task TEXT NOT NULL, result TEXT, "
        "finished_ms INTEGER);"
        "CREATE INDEX tasks_by_state ON tasks(state, seq);"
        "INSERT INTO tasks(id, priority, state, attempts, enqueued_ms, task, result, finished_ms) "
        "VALUES('old-done', 2, 2, 1, 0, '" +
        taskToJsonText(task("old-done")) + "', '" + done +
        "', 5),"
        "('old-leased', 2, 1, 0, 0, '" +
        taskToJsonText(task("old-leased")) + "', NULL, NULL);";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto q = open();
  EXPECT_EQ(q->recoveredOnOpen(), 1u);
  EXPECT_EQ(q->state("old-done"), TaskState::Finished);
  EXPECT_EQ(q->counts().finished, 1u);
  auto stored = q->result("old-done");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->outcome->text(), "answer old-done");
  EXPECT_FALSE(q->complete({okResult("old-done")})[0]);  // still exactly once
  auto leased = q->lease(10, kT0);
  ASSERT_EQ(leased.size(), 1u);  // only the unfinished one runs again
  EXPECT_EQ(leased[0].task.id, "old-leased");
}

// The WAL is copied back into the database by a background thread, so commits never wait for
// that copy. The thread's own connection must have opened the database for its checkpoints to do
// anything: before it did, every one was a silent no-op, the WAL grew until the committing
// connection checkpointed it inline, and that stalled the dispatcher for ~50 ms every 2 s.
TEST_F(SqliteTaskQueueTest, TheBackgroundThreadCheckpointsTheWal) {
  auto q = open();
  ASSERT_EQ(q->backgroundCheckpoints(), 0u);
  // ~12 MiB of tasks: past the 2,048-page (8 MiB) mark that wakes the checkpointer, short of the
  // 8,192 pages at which the committing connection would checkpoint inline.
  const std::string payload(4096, 'x');
  for (int chunk = 0; chunk < 3; ++chunk) {
    std::vector<Task> tasks;
    for (int i = 0; i < 1000; ++i) {
      Task t = task("w" + std::to_string(chunk * 1000 + i));
      t.request.messages.back().content = payload;
      tasks.push_back(std::move(t));
    }
    for (const auto& r : q->push(std::move(tasks), kT0)) ASSERT_TRUE(r.has_value());
  }
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (q->backgroundCheckpoints() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(q->backgroundCheckpoints(), 1u);
}

TEST_F(SqliteTaskQueueTest, BulkHundredThousandTasks) {
  auto q = open();
  constexpr int kTasks = 100'000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int chunk = 0; chunk < kTasks / 2000; ++chunk) {
    std::vector<Task> tasks;
    for (int i = 0; i < 2000; ++i) tasks.push_back(task("b" + std::to_string(chunk * 2000 + i)));
    for (const auto& r : q->push(std::move(tasks), kT0)) ASSERT_TRUE(r.has_value());
  }
  const auto t1 = std::chrono::steady_clock::now();
  size_t done = 0;
  for (;;) {
    auto leased = q->lease(512, kT0);
    if (leased.empty()) break;
    std::vector<TaskResult> results;
    for (const auto& l : leased) results.push_back(okResult(l.task.id));
    for (bool stored : q->complete(results)) done += stored ? 1 : 0;
  }
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(done, static_cast<size_t>(kTasks));
  EXPECT_EQ(q->counts().finished, static_cast<size_t>(kTasks));
  using ms = std::chrono::milliseconds;
  std::cout << "[ bulk     ] sqlite push " << kTasks << ": "
            << std::chrono::duration_cast<ms>(t1 - t0).count()
            << " ms; lease+complete: " << std::chrono::duration_cast<ms>(t2 - t1).count()
            << " ms\n";
}

}  // namespace
}  // namespace llmpool::tasks
