// The processor over the durable queue: results stored in the database, resume after a pause or a
// crash, finished tasks never sent again.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "fake_completer.h"
#include "llmpool/processor.h"
#include "processor_test_util.h"

namespace llmpool {
namespace {

using testing::FakeCompleter;
using testing::makeTask;
using testing::ResultCollector;
using testing::TempDir;

ProcessorConfig sqliteConfig(const TempDir& dir, int concurrency) {
  ProcessorConfig c;
  c.queue = "sqlite:" + dir.path() + "/state.db";
  c.concurrency = concurrency;
  c.retry_backoff = Millis(0);
  return c;
}

std::unique_ptr<BackgroundProcessor> open(const ProcessorConfig& c) {
  auto p = BackgroundProcessor::create(c);
  EXPECT_TRUE(p.has_value()) << p.error().describe();
  return std::move(*p);
}

TEST(ProcessorSqliteTest, ResultsAreStoredAndSurviveReopen) {
  TempDir dir;
  const auto c = sqliteConfig(dir, 4);
  {
    auto fake = std::make_shared<FakeCompleter>();
    fake->script(std::unexpected(Error(ErrorCode::InvalidRequest, "bad")));
    auto p = open(c);
    p->withClientPool(fake);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(p->submit(makeTask("s" + std::to_string(i))));
    ASSERT_TRUE(p->start());
    p->stop(StopMode::Drain);
  }
  auto p = open(c);
  size_t ok = 0, failed = 0;
  p->forEachStoredResult([&](const TaskResult& r) { (r.ok() ? ok : failed)++; });
  EXPECT_EQ(ok, 9u);
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(p->taskState("s3"), TaskState::Finished);
  auto stored = p->storedResult("s3");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->outcome->text(), "echo:s3");
  auto again = p->submit(makeTask("s3"));  // finished ids are never run again
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::InvalidRequest);
}

TEST(ProcessorSqliteTest, PauseKeepsUnfinishedTasksForTheNextRun) {
  TempDir dir;
  const auto c = sqliteConfig(dir, 1);
  ResultCollector first;
  {
    auto fake = std::make_shared<FakeCompleter>();
    fake->setGated(true);
    auto p = open(c);
    p->withClientPool(fake).withResultSink(first.sink());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->submit(makeTask("p" + std::to_string(i))));
    ASSERT_TRUE(p->start());
    ASSERT_TRUE(fake->waitForHeld(1));
    fake->release(1);  // p0 finishes
    ASSERT_TRUE(first.waitFor(1));
    ASSERT_TRUE(fake->waitForHeld(1));                       // p1 is in flight ...
    p->stop(StopMode::Pause, std::chrono::milliseconds(0));  // ... and interrupted
  }
  ASSERT_EQ(first.results().size(), 1u);
  EXPECT_EQ(first.results()[0].task_id, "p0");

  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector second;
  auto p = open(c);
  EXPECT_EQ(p->taskState("p0"), TaskState::Finished);
  EXPECT_EQ(p->taskState("p1"), TaskState::Queued);
  EXPECT_EQ(p->stats().queued, 4u);
  p->withClientPool(fake).withResultSink(second.sink());
  ASSERT_TRUE(p->start());
  p->stop(StopMode::Drain);
  EXPECT_EQ(fake->contents(), (std::vector<std::string>{"p1", "p2", "p3", "p4"}));
  EXPECT_EQ(second.results().size(), 4u);
  // The interrupted attempt does not count against p1.
  EXPECT_EQ(second.byId().at("p1").attempts, 1);
}

// Tasks leased ahead (concurrency / 8 of them) were never sent: a pause puts them back as queued,
// with no attempt counted, like the interrupted flights.
TEST(ProcessorSqliteTest, PauseReturnsLeasedAheadTasksToTheQueue) {
  TempDir dir;
  const auto c = sqliteConfig(dir, 16);
  {
    auto fake = std::make_shared<FakeCompleter>();
    fake->setGated(true);
    auto p = open(c);
    p->withClientPool(fake);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(p->submit(makeTask("q" + std::to_string(i))));
    ASSERT_TRUE(p->start());
    ASSERT_TRUE(fake->waitForHeld(16));
    EXPECT_EQ(p->stats().queued, 4u);  // 2 leased ahead + 2 in the queue
    p->stop(StopMode::Pause, std::chrono::milliseconds(0));
  }
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector results;
  auto p = open(c);
  EXPECT_EQ(p->stats().queued, 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(p->taskState("q" + std::to_string(i)), TaskState::Queued);
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->start());
  p->stop(StopMode::Drain);
  ASSERT_EQ(results.results().size(), 20u);
  for (const auto& r : results.results()) EXPECT_EQ(r.attempts, 1) << r.task_id;
}

TEST(ProcessorSqliteTest, AfterSigkillInFlightTasksRunAgainAndFinishedOnesDoNot) {
  TempDir dir;
  const auto c = sqliteConfig(dir, 4);
  constexpr int kTasks = 50;
  constexpr int kFinishBeforeCrash = 10;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child runs a processor whose completer answers the first ten calls and holds the rest,
    // then dies without any shutdown.
    auto fake = std::make_shared<FakeCompleter>();
    fake->setGated(true);
    ResultCollector results;
    auto p = BackgroundProcessor::create(c);
    if (!p) _exit(3);
    (*p)->withClientPool(fake).withResultSink(results.sink());
    for (int i = 0; i < kTasks; ++i) (void)(*p)->submit(makeTask("k" + std::to_string(i)));
    (void)(*p)->start();
    for (int done = 0; done < kFinishBeforeCrash; ++done) {
      if (!fake->waitForHeld(1)) _exit(5);
      fake->release(1);
      if (!results.waitFor(static_cast<size_t>(done + 1))) _exit(6);
    }
    if (!fake->waitForHeld(4)) _exit(7);  // four more in flight when the process dies
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector second;
  auto p = open(c);
  EXPECT_EQ(p->stats().queued, static_cast<uint64_t>(kTasks - kFinishBeforeCrash));
  p->withClientPool(fake).withResultSink(second.sink());
  ASSERT_TRUE(p->start());
  p->stop(StopMode::Drain);
  EXPECT_EQ(fake->callCount(), static_cast<size_t>(kTasks - kFinishBeforeCrash));
  std::multiset<std::string> all;
  p->forEachStoredResult([&](const TaskResult& r) { all.insert(r.task_id); });
  EXPECT_EQ(all.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(all.count("k" + std::to_string(i)), 1u);
  for (const auto& r : second.results()) {
    const int n = std::stoi(r.task_id.substr(1));
    EXPECT_GE(n, kFinishBeforeCrash) << "finished task " << r.task_id << " ran again";
  }
}

}  // namespace
}  // namespace llmpool
