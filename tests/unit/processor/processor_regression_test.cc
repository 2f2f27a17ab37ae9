// Regression tests for the original processor's defects (shared/reference/original-defects.md,
// items 8-11): priority inversion and LIFO order, a fake placeholder success without a provider,
// and per-task timeouts and task retries that were accepted but never used.

#include <gtest/gtest.h>

#include "fake_completer.h"
#include "llmpool/processor.h"
#include "processor_test_util.h"

namespace llmpool {
namespace {

using testing::FakeCompleter;
using testing::makeTask;
using testing::ResultCollector;

std::unique_ptr<BackgroundProcessor> makeProcessor(ProcessorConfig config) {
  auto p = BackgroundProcessor::create(std::move(config));
  EXPECT_TRUE(p.has_value()) << p.error().describe();
  return std::move(*p);
}

ProcessorConfig oneAtATime() {
  ProcessorConfig c;
  c.concurrency = 1;
  c.retry_backoff = Millis(0);
  return c;
}

// Defect 8: a higher priority must run first, even when it arrives after lower ones.
TEST(ProcessorRegressionTest, HighPriorityRunsBeforeLowNotInverted) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  ResultCollector results;
  auto p = makeProcessor(oneAtATime());
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(p->submit(makeTask("blocker")));
  ASSERT_TRUE(fake->waitForHeld(1));  // the only slot is busy: the rest must queue
  ASSERT_TRUE(p->submit(makeTask("low", Priority::Low)));
  ASSERT_TRUE(p->submit(makeTask("normal", Priority::Normal)));
  ASSERT_TRUE(p->submit(makeTask("high", Priority::High)));
  ASSERT_TRUE(p->submit(makeTask("critical", Priority::Critical)));
  fake->setGated(false);
  fake->releaseAll();
  ASSERT_TRUE(results.waitFor(5));
  EXPECT_EQ(fake->contents(),
            (std::vector<std::string>{"blocker", "critical", "high", "normal", "low"}));
}

// Defect 8: within one priority the order is first in, first out (the original was LIFO).
TEST(ProcessorRegressionTest, SamePriorityRunsFifoNotLifo) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  ResultCollector results;
  auto p = makeProcessor(oneAtATime());
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(p->submit(makeTask("blocker")));
  ASSERT_TRUE(fake->waitForHeld(1));
  for (const char* id : {"t1", "t2", "t3", "t4", "t5"}) ASSERT_TRUE(p->submit(makeTask(id)));
  fake->setGated(false);
  fake->releaseAll();
  ASSERT_TRUE(results.waitFor(6));
  EXPECT_EQ(fake->contents(), (std::vector<std::string>{"blocker", "t1", "t2", "t3", "t4", "t5"}));
}

// Defects 9-10: with no provider the original returned a successful placeholder.
TEST(ProcessorRegressionTest, NoProviderIsANoDeploymentErrorNeverAPlaceholderSuccess) {
  ResultCollector results;
  auto p = makeProcessor(ProcessorConfig{});
  p->withResultSink(results.sink());
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(p->submit(makeEnhancementTask("e1", "text", "improve it", "gpt-4o-mini")));
  ASSERT_TRUE(p->submit(makeTask("plain")));
  ASSERT_TRUE(results.waitFor(2));
  for (const auto& r : results.results()) {
    ASSERT_FALSE(r.ok()) << r.task_id << " must not succeed without a provider";
    EXPECT_EQ(r.outcome.error().code, ErrorCode::NoDeployment);
    EXPECT_NE(r.outcome.error().message.find("withClientPool"), std::string::npos);
    EXPECT_EQ(r.attempts, 0);
  }
  const auto stats = p->stats();
  EXPECT_EQ(stats.succeeded, 0u);
  EXPECT_EQ(stats.failed_by_kind.at("no_deployment"), 2u);
}

// Defect 11: the task timeout was stored and ignored. It must reach the request as its deadline,
// and a task's own expiry must cap it.
TEST(ProcessorRegressionTest, TaskTimeoutIsSentAsTheRequestDeadline) {
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector results;
  ProcessorConfig config = oneAtATime();
  config.task_timeout = Millis(2500);
  auto p = makeProcessor(config);
  p->withClientPool(fake).withResultSink(results.sink());
  Task own = makeTask("own-deadline");
  own.options.deadline = Millis(700);
  Task expiring = makeTask("expiring");
  expiring.expires_at = SteadyClock::instance().systemNow() + std::chrono::hours(1);
  expiring.options.deadline = std::chrono::hours(5);
  ASSERT_TRUE(p->submit(makeTask("config-timeout")));
  ASSERT_TRUE(p->submit(std::move(own)));
  ASSERT_TRUE(p->submit(std::move(expiring)));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(3));
  const auto calls = fake->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].options.deadline, Millis(2500));
  EXPECT_EQ(calls[1].options.deadline, Millis(700));
  ASSERT_TRUE(calls[2].options.deadline.has_value());
  EXPECT_LE(*calls[2].options.deadline, std::chrono::hours(1));
  EXPECT_GT(*calls[2].options.deadline, std::chrono::minutes(59));
}

// Defect 11: task-level retries were configured but never happened.
TEST(ProcessorRegressionTest, TaskLevelRetriesHappen) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->script(std::unexpected(Error(ErrorCode::ServerError, "503")));
  fake->script(std::unexpected(Error(ErrorCode::RateLimited, "429")));
  ResultCollector results;
  ProcessorConfig config = oneAtATime();
  config.max_task_attempts = 3;
  auto p = makeProcessor(config);
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("flaky")));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(1));
  const auto r = results.results().front();
  ASSERT_TRUE(r.ok()) << r.outcome.error().describe();
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(fake->callCount(), 3u);
  EXPECT_EQ(p->stats().retried, 2u);
}

}  // namespace
}  // namespace llmpool
