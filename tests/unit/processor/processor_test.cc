#include "llmpool/processor.h"

#include <gtest/gtest.h>

#include <future>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "fake_clock.h"
#include "fake_completer.h"
#include "processor/task_retry.h"
#include "processor_test_util.h"

namespace llmpool {
namespace {

using std::chrono::seconds;
using testing::FakeClock;
using testing::FakeCompleter;
using testing::makeTask;
using testing::ResultCollector;

std::unique_ptr<BackgroundProcessor> makeProcessor(ProcessorConfig config,
                                                   const Clock* clock = nullptr) {
  auto p = BackgroundProcessor::create(std::move(config), ProcessorDeps{.clock = clock});
  EXPECT_TRUE(p.has_value()) << p.error().describe();
  return std::move(*p);
}

ProcessorConfig config(int concurrency = 1) {
  ProcessorConfig c;
  c.concurrency = concurrency;
  c.retry_backoff = Millis(0);
  return c;
}

TEST(ProcessorTest, RunsQueuedTasksByPriorityThenSubmissionOrder) {
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector results;
  auto p = makeProcessor(config(1));
  p->withClientPool(fake).withResultSink(results.sink());
  for (auto [id, prio] : std::vector<std::pair<const char*, Priority>>{{"l1", Priority::Low},
                                                                       {"n1", Priority::Normal},
                                                                       {"h1", Priority::High},
                                                                       {"c1", Priority::Critical},
                                                                       {"n2", Priority::Normal},
                                                                       {"h2", Priority::High},
                                                                       {"l2", Priority::Low}}) {
    ASSERT_TRUE(p->submit(makeTask(id, prio)));
  }
  EXPECT_EQ(p->stats().queued_by_priority.at(Priority::High), 2u);
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(7));
  EXPECT_EQ(fake->contents(), (std::vector<std::string>{"c1", "h1", "h2", "n1", "n2", "l1", "l2"}));
  const auto stats = p->stats();
  EXPECT_EQ(stats.succeeded, 7u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.queue_wait.count, 7u);
  EXPECT_EQ(stats.run_time.count, 7u);
}

TEST(ProcessorTest, AgingLetsAnOldLowTaskOvertakeNewerHighOnes) {
  FakeClock clock;
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector results;
  ProcessorConfig c = config(1);
  c.aging_after = Millis(10'000);
  auto p = makeProcessor(c, &clock);
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("old-low", Priority::Low)));
  clock.advance(seconds(25));  // two aging periods: Low counts as High now
  ASSERT_TRUE(p->submit(makeTask("normal", Priority::Normal)));
  ASSERT_TRUE(p->submit(makeTask("high", Priority::High)));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(3));
  EXPECT_EQ(fake->contents(), (std::vector<std::string>{"old-low", "high", "normal"}));
  EXPECT_EQ(results.byId().at("old-low").queue_wait, seconds(25));
}

TEST(ProcessorTest, RejectPolicyRefusesWhenFull) {
  ProcessorConfig c = config(1);
  c.max_queue = 2;
  c.overflow = OverflowPolicy::Reject;
  auto p = makeProcessor(c);
  ASSERT_TRUE(p->submit(makeTask("a")));
  ASSERT_TRUE(p->submit(makeTask("b")));
  auto full = p->submit(makeTask("c", Priority::Critical));
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, ErrorCode::QueueFull);
  EXPECT_EQ(p->stats().rejected, 1u);
  EXPECT_EQ(p->stats().queued, 2u);
}

TEST(ProcessorTest, BlockPolicyTrySubmitNeverBlocksAndZeroTimeoutFailsAtOnce) {
  ProcessorConfig c = config(1);
  c.max_queue = 1;
  c.overflow = OverflowPolicy::Block;
  c.block_timeout = Millis(0);
  auto p = makeProcessor(c);
  ASSERT_TRUE(p->submit(makeTask("a")));
  auto tried = p->trySubmit(makeTask("b"));
  ASSERT_FALSE(tried.has_value());
  EXPECT_EQ(tried.error().code, ErrorCode::QueueFull);
  auto blocked = p->submit(makeTask("c"));
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error().code, ErrorCode::QueueFull);
  EXPECT_EQ(p->stats().rejected, 2u);
}

TEST(ProcessorTest, BlockPolicyWaitsForRoom) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  ResultCollector results;
  ProcessorConfig c = config(1);
  c.max_queue = 1;
  c.overflow = OverflowPolicy::Block;
  c.block_timeout = Millis(60'000);
  auto p = makeProcessor(c);
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(p->submit(makeTask("running")));
  ASSERT_TRUE(fake->waitForHeld(1));
  ASSERT_TRUE(p->submit(makeTask("queued")));  // fills the queue
  Result<void> late = fail(ErrorCode::Internal, "not run");
  std::promise<void> returned;
  std::thread submitter([&] {
    late = p->submit(makeTask("late"));
    returned.set_value();
  });
  EXPECT_FALSE(p->trySubmit(makeTask("other")).has_value());  // still full meanwhile
  fake->release(1);  // "running" completes -> "queued" is sent -> room for "late"
  // Woken by the room, not by block_timeout (60 s): the room appears when "queued" leaves the
  // look-ahead for its flight, after the notify of its lease, which it had still counted in.
  EXPECT_EQ(std::future_status::ready, returned.get_future().wait_for(std::chrono::seconds(15)));
  submitter.join();
  EXPECT_TRUE(late.has_value()) << late.error().describe();
  fake->setGated(false);
  fake->releaseAll();
  ASSERT_TRUE(results.waitFor(3));
  EXPECT_EQ(results.countsById().size(), 3u);
}

TEST(ProcessorTest, DropLowestEvictsTheNewestLowerTaskWithADroppedResult) {
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector results;
  ProcessorConfig c = config(1);
  c.max_queue = 3;
  c.overflow = OverflowPolicy::DropLowest;
  auto p = makeProcessor(c);
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("low-old", Priority::Low)));
  ASSERT_TRUE(p->submit(makeTask("low-new", Priority::Low)));
  ASSERT_TRUE(p->submit(makeTask("normal", Priority::Normal)));
  ASSERT_TRUE(p->submit(makeTask("high", Priority::High)));          // evicts low-new
  auto refused = p->submit(makeTask("another-low", Priority::Low));  // nothing lower to evict
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::QueueFull);
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(4));
  const auto by_id = results.byId();
  ASSERT_FALSE(by_id.at("low-new").ok());
  EXPECT_EQ(by_id.at("low-new").outcome.error().code, ErrorCode::Dropped);
  EXPECT_EQ(by_id.at("low-new").attempts, 0);
  EXPECT_TRUE(by_id.at("low-old").ok());
  EXPECT_EQ(fake->contents(), (std::vector<std::string>{"high", "normal", "low-old"}));
  const auto stats = p->stats();
  EXPECT_EQ(stats.dropped, 1u);
  EXPECT_EQ(stats.rejected, 1u);
}

TEST(ProcessorTest, CancelByIdQueuedAndInFlight) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  ResultCollector results;
  auto p = makeProcessor(config(1));
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(p->submit(makeTask("running")));
  ASSERT_TRUE(fake->waitForHeld(1));
  ASSERT_TRUE(p->submit(makeTask("queued")));
  ASSERT_TRUE(p->submit(makeTask("survivor")));
  EXPECT_TRUE(p->cancel("queued"));
  EXPECT_TRUE(p->cancel("running"));
  EXPECT_FALSE(p->cancel("unknown"));
  ASSERT_TRUE(fake->waitForCancels(1));  // the in-flight request really was cancelled
  fake->setGated(false);
  fake->releaseAll();
  ASSERT_TRUE(results.waitFor(3));
  const auto by_id = results.byId();
  EXPECT_EQ(by_id.at("queued").outcome.error().code, ErrorCode::Cancelled);
  EXPECT_EQ(by_id.at("queued").attempts, 0);
  EXPECT_EQ(by_id.at("running").outcome.error().code, ErrorCode::Cancelled);
  EXPECT_TRUE(by_id.at("survivor").ok());
  EXPECT_EQ(fake->contents(), (std::vector<std::string>{"running", "survivor"}));
  EXPECT_EQ(fake->cancelCount(), 1u);
  EXPECT_EQ(p->stats().cancelled, 2u);
  EXPECT_FALSE(p->cancel("survivor"));  // finished: nothing to cancel
}

TEST(ProcessorTest, ExpiredTaskCompletesWithoutBeingSent) {
  FakeClock clock;
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector results;
  auto p = makeProcessor(config(1), &clock);
  p->withClientPool(fake).withResultSink(results.sink());
  Task t = makeTask("stale");
  t.expires_at = clock.systemNow() + seconds(1);
  ASSERT_TRUE(p->submit(std::move(t)));
  ASSERT_TRUE(p->submit(makeTask("fresh")));
  clock.advance(seconds(2));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(2));
  const auto by_id = results.byId();
  EXPECT_EQ(by_id.at("stale").outcome.error().code, ErrorCode::DeadlineExceeded);
  EXPECT_EQ(by_id.at("stale").attempts, 0);
  EXPECT_EQ(fake->contents(), std::vector<std::string>{"fresh"});
  EXPECT_EQ(p->stats().expired, 1u);
}

// Above concurrency 8 the dispatcher leases concurrency / 8 tasks ahead (counted as queued, not
// sent). An answer hands its slot to the leased-ahead task at once, from the completer's thread,
// without waiting for its outcome to be stored.
TEST(ProcessorTest, AnAnswerHandsItsSlotToTheLeasedAheadTaskFromTheAnsweringThread) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  ResultCollector results;
  auto p = makeProcessor(config(8));
  p->withClientPool(fake).withResultSink(results.sink());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p->submit(makeTask("t" + std::to_string(i))));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(fake->waitForHeld(8));
  // t8 is leased ahead, t9 still in the queue: both count as queued, neither was sent.
  auto stats = p->stats();
  EXPECT_EQ(stats.in_flight, 8u);
  EXPECT_EQ(stats.queued, 2u);
  EXPECT_EQ(stats.queued_by_priority[Priority::Normal], 2u);
  EXPECT_EQ(p->taskState("t8"), TaskState::Queued);
  EXPECT_EQ(fake->callCount(), 8u);

  fake->release(1);  // t0 answers
  ASSERT_TRUE(fake->waitForCalls(9));
  const auto calls = fake->calls();
  EXPECT_EQ(calls[8].request.messages.back().content, "t8");
  EXPECT_EQ(calls[8].caller, fake->answerThread());  // sent by t0's answer, not the dispatcher
  for (size_t i = 0; i < 8; ++i) EXPECT_NE(calls[i].caller, fake->answerThread()) << i;
  ASSERT_TRUE(results.waitFor(1));
  EXPECT_EQ(results.results().front().task_id, "t0");

  fake->setGated(false);
  fake->releaseAll();
  ASSERT_TRUE(results.waitFor(10));
  EXPECT_EQ(fake->contents(),
            (std::vector<std::string>{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"}));
  for (const auto& [id, n] : results.countsById()) EXPECT_EQ(n, 1) << id;
}

// Waits (bounded, as a safety net) until `done` holds, looking again as soon as the CPU allows.
template <typename Pred>
bool eventually(Pred done) {
  const auto limit = std::chrono::steady_clock::now() + seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::yield();
  }
  return true;
}

// What a crash can re-run is bounded: answers not yet stored may number up to concurrency / 8
// without holding a slot; beyond that each holds its slot until stored. The sink runs on the
// dispatcher after each commit, so a sink that blocks stalls the store, and every answer arriving
// meanwhile stays unstored.
TEST(ProcessorTest, AnswersWaitingForTheStoreHoldTheirSlotsBeyondTheAllowance) {
  constexpr size_t kConcurrency = 16;  // look-ahead and unstored allowance: 2
  constexpr size_t kTasks = 40;
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  std::mutex mu;
  std::condition_variable cv;
  size_t arrived = 0;    // deliveries begun
  size_t permitted = 0;  // deliveries allowed to finish
  ResultCollector results;
  auto collect = results.sink();
  auto p = makeProcessor(config(static_cast<int>(kConcurrency)));
  p->withClientPool(fake).withResultSink([&](const TaskResult& r) {
    {
      std::unique_lock lock(mu);
      const size_t mine = arrived++;
      cv.notify_all();
      cv.wait(lock, [&] { return mine < permitted; });
    }
    collect(r);
  });
  auto permit = [&](size_t n) {
    std::lock_guard lock(mu);
    permitted += n;
    cv.notify_all();
  };
  auto waitArrived = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, seconds(10), [&] { return arrived >= n; });
  };
  for (size_t i = 0; i < kTasks; ++i) ASSERT_TRUE(p->submit(makeTask("t" + std::to_string(i))));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(fake->waitForHeld(kConcurrency));  // t0..t15 sent, t16 and t17 leased ahead

  fake->release(1);  // t0 answers; its answer sends t16; the store of t0 then stalls
  ASSERT_TRUE(waitArrived(1));
  fake->setGated(false);
  fake->releaseAll();  // t1..t16 answer; t1's answer sends t17, which answers too
  ASSERT_TRUE(eventually([&] { return p->stats().in_flight == 0; }));
  // 16 in flight + the 2 allowed unstored answers: nothing else was sent.
  EXPECT_EQ(fake->callCount(), kConcurrency + 2);

  // t0's store ends; 17 answers are still unstored, 15 beyond the allowance hold their slots:
  // one slot is free, and exactly one more task goes out before the next store (which stalls).
  permit(1);
  ASSERT_TRUE(waitArrived(2));
  EXPECT_EQ(fake->callCount(), kConcurrency + 3);
  EXPECT_LE(p->stats().in_flight, 1u);

  permit(kTasks);
  ASSERT_TRUE(results.waitFor(kTasks));
  EXPECT_EQ(fake->callCount(), kTasks);
  for (const auto& [id, n] : results.countsById()) EXPECT_EQ(n, 1) << id;
}

TEST(ProcessorTest, CancellingALeasedAheadTaskNeverSendsIt) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  ResultCollector results;
  auto p = makeProcessor(config(8));
  p->withClientPool(fake).withResultSink(results.sink());
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(p->submit(makeTask("t" + std::to_string(i))));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(fake->waitForHeld(8));
  ASSERT_EQ(p->taskState("t8"), TaskState::Queued);  // leased ahead
  EXPECT_TRUE(p->cancel("t8"));
  fake->setGated(false);
  fake->releaseAll();
  ASSERT_TRUE(results.waitFor(9));
  const auto by_id = results.byId();
  EXPECT_EQ(by_id.at("t8").outcome.error().code, ErrorCode::Cancelled);
  EXPECT_EQ(by_id.at("t8").attempts, 0);
  EXPECT_EQ(fake->callCount(), 8u);
}

TEST(ProcessorTest, NonRetryableErrorsAreNotRetriedAndAttemptsAreBounded) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->script(std::unexpected(Error(ErrorCode::InvalidRequest, "400")));
  for (int i = 0; i < 3; ++i) fake->script(std::unexpected(Error(ErrorCode::Timeout, "slow")));
  ResultCollector results;
  ProcessorConfig c = config(1);
  c.max_task_attempts = 3;
  auto p = makeProcessor(c);
  p->withClientPool(fake).withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("bad-request")));
  ASSERT_TRUE(p->submit(makeTask("always-slow")));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(2));
  const auto by_id = results.byId();
  EXPECT_EQ(by_id.at("bad-request").outcome.error().code, ErrorCode::InvalidRequest);
  EXPECT_EQ(by_id.at("bad-request").attempts, 1);
  EXPECT_EQ(by_id.at("always-slow").outcome.error().code, ErrorCode::Timeout);
  EXPECT_EQ(by_id.at("always-slow").attempts, 3);
  EXPECT_EQ(fake->callCount(), 4u);
  EXPECT_EQ(p->stats().retried, 2u);
}

TEST(ProcessorTest, PerTaskMaxAttemptsOverridesTheConfig) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->script(std::unexpected(Error(ErrorCode::ServerError, "500")));
  ResultCollector results;
  auto p = makeProcessor(config(1));  // config: 1 attempt
  p->withClientPool(fake).withResultSink(results.sink());
  Task t = makeTask("t");
  t.max_attempts = 2;
  ASSERT_TRUE(p->submit(std::move(t)));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(1));
  EXPECT_TRUE(results.results().front().ok());
  EXPECT_EQ(results.results().front().attempts, 2);
}

TEST(TaskRetryTest, DelayDoublesIsCappedAndRetryAfterWins) {
  ProcessorConfig c;
  c.retry_backoff = Millis(100);
  c.max_retry_backoff = Millis(1000);
  const Error plain(ErrorCode::ServerError, "");
  EXPECT_EQ(processor::taskRetryDelay(c, 1, plain), Millis(100));
  EXPECT_EQ(processor::taskRetryDelay(c, 2, plain), Millis(200));
  EXPECT_EQ(processor::taskRetryDelay(c, 4, plain), Millis(800));
  EXPECT_EQ(processor::taskRetryDelay(c, 30, plain), Millis(1000));
  Error limited(ErrorCode::RateLimited, "");
  limited.retry_after = Millis(5000);
  EXPECT_EQ(processor::taskRetryDelay(c, 1, limited), Millis(5000));
  EXPECT_TRUE(processor::isRetryableTaskError(Error(ErrorCode::CircuitOpen, "")));
  EXPECT_TRUE(processor::isRetryableTaskError(Error(ErrorCode::ProviderOverloaded, "")));
  EXPECT_FALSE(processor::isRetryableTaskError(Error(ErrorCode::AuthFailed, "")));
  EXPECT_FALSE(processor::isRetryableTaskError(Error(ErrorCode::DeadlineExceeded, "")));
  EXPECT_FALSE(processor::isRetryableTaskError(Error(ErrorCode::Cancelled, "")));
}

TEST(ProcessorTest, StopDrainRunsEveryQueuedTask) {
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector results;
  auto p = makeProcessor(config(3));
  p->withClientPool(fake).withResultSink(results.sink());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(p->submit(makeTask("d" + std::to_string(i))));
  ASSERT_TRUE(p->start());
  p->stop(StopMode::Drain);
  const auto counts = results.countsById();
  EXPECT_EQ(counts.size(), 20u);
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(p->stats().succeeded, 20u);
  auto after = p->submit(makeTask("after-stop"));
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, ErrorCode::Cancelled);
}

TEST(ProcessorTest, StopCancelGivesEveryTaskExactlyOneCancelledOrFinishedResult) {
  auto fake = std::make_shared<FakeCompleter>();
  fake->setGated(true);
  ResultCollector results;
  auto p = makeProcessor(config(2));
  p->withClientPool(fake).withResultSink(results.sink());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p->submit(makeTask("c" + std::to_string(i))));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(fake->waitForHeld(2));
  p->stop(StopMode::Cancel);  // returns once every result was delivered
  const auto counts = results.countsById();
  EXPECT_EQ(counts.size(), 10u);
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
  for (const auto& r : results.results()) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.outcome.error().code, ErrorCode::Cancelled);
  }
  EXPECT_EQ(fake->callCount(), 2u);  // the queued eight were never sent
  EXPECT_EQ(fake->cancelCount(), 2u);
  EXPECT_EQ(p->stats().cancelled, 10u);
}

TEST(ProcessorTest, StopWithoutStartStillDeliversResults) {
  ResultCollector results;
  auto p = makeProcessor(config(1));
  p->withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("never-started")));
  p->stop(StopMode::Cancel);
  ASSERT_EQ(results.results().size(), 1u);
  EXPECT_EQ(results.results()[0].outcome.error().code, ErrorCode::Cancelled);
}

TEST(ProcessorTest, PauseOnAMemoryQueueCancelsRatherThanLoses) {
  ResultCollector results;
  auto p = makeProcessor(config(1));
  p->withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("a")));
  p->stop(StopMode::Pause);
  ASSERT_EQ(results.results().size(), 1u);
  EXPECT_EQ(results.results()[0].outcome.error().code, ErrorCode::Cancelled);
}

TEST(ProcessorTest, DestructorCancelsQueuedMemoryTasks) {
  ResultCollector results;
  {
    auto p = makeProcessor(config(1));
    p->withResultSink(results.sink());
    ASSERT_TRUE(p->submit(makeTask("orphan")));
  }
  ASSERT_EQ(results.results().size(), 1u);
  EXPECT_EQ(results.results()[0].outcome.error().code, ErrorCode::Cancelled);
}

TEST(ProcessorTest, LegacyPathIsUsedWithoutAPoolWithOneAttempt) {
  auto legacy = std::make_shared<FakeCompleter>();
  ResultCollector results;
  auto p = makeProcessor(config(1));
  p->withLegacyProvider(legacy).withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("x")));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(1));
  EXPECT_TRUE(results.results()[0].ok());
  ASSERT_EQ(legacy->callCount(), 1u);
  EXPECT_EQ(legacy->calls()[0].options.max_attempts, 1);
}

TEST(ProcessorTest, PoolIsPreferredOverTheLegacyProvider) {
  auto pool = std::make_shared<FakeCompleter>();
  auto legacy = std::make_shared<FakeCompleter>();
  ResultCollector results;
  auto p = makeProcessor(config(1));
  p->withLegacyProvider(legacy).withClientPool(pool).withResultSink(results.sink());
  ASSERT_TRUE(p->submit(makeTask("x", Priority::High)));
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(results.waitFor(1));
  EXPECT_EQ(pool->callCount(), 1u);
  EXPECT_EQ(legacy->callCount(), 0u);
  EXPECT_FALSE(pool->calls()[0].options.max_attempts.has_value());  // the pool's own policy
  EXPECT_EQ(pool->calls()[0].options.priority, static_cast<int>(Priority::High));
  EXPECT_EQ(results.results()[0].outcome->text(), "echo:x");
}

TEST(ProcessorTest, CallbackAndFutureReceiveTheirOwnResults) {
  auto fake = std::make_shared<FakeCompleter>();
  ResultCollector sink;
  auto p = makeProcessor(config(2));
  p->withClientPool(fake).withResultSink(sink.sink());
  std::promise<TaskResult> via_callback;
  ASSERT_TRUE(p->submit(makeTask("cb"), [&](const TaskResult& r) { via_callback.set_value(r); }));
  auto future = p->submitWithFuture(makeTask("fut"));
  ASSERT_TRUE(future.has_value());
  ASSERT_TRUE(p->submit(makeTask("to-sink")));
  ASSERT_TRUE(p->start());
  EXPECT_EQ(via_callback.get_future().get().outcome->text(), "echo:cb");
  EXPECT_EQ(future->get().outcome->text(), "echo:fut");
  ASSERT_TRUE(sink.waitFor(1));
  p->stop(StopMode::Drain);
  ASSERT_EQ(sink.results().size(), 1u);  // only the task without its own destination
  EXPECT_EQ(sink.results()[0].task_id, "to-sink");
}

TEST(ProcessorTest, ResultsBufferIsBoundedAndDropsTheOldest) {
  auto fake = std::make_shared<FakeCompleter>();
  ProcessorConfig c = config(1);
  c.results_buffer = 2;
  auto p = makeProcessor(c);
  p->withClientPool(fake);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->submit(makeTask("r" + std::to_string(i))));
  ASSERT_TRUE(p->start());
  p->stop(StopMode::Drain);
  auto first = p->tryReceive();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->task_id, "r3");
  auto rest = p->drain();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].task_id, "r4");
  EXPECT_FALSE(p->tryReceive().has_value());
  EXPECT_EQ(p->stats().results_buffer_dropped, 3u);
}

TEST(ProcessorTest, DuplicateAndEmptyIdsAreRejected) {
  auto p = makeProcessor(config(1));
  ASSERT_TRUE(p->submit(makeTask("same")));
  auto dup = p->submit(makeTask("same"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::InvalidRequest);
  EXPECT_FALSE(p->submit(makeTask("")).has_value());
  EXPECT_EQ(p->taskState("same"), TaskState::Queued);
  EXPECT_FALSE(p->taskState("other").has_value());
}

TEST(ProcessorTest, InvalidConfigIsRefused) {
  ProcessorConfig c;
  c.concurrency = 0;
  c.max_task_attempts = 0;
  auto p = BackgroundProcessor::create(c);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code, ErrorCode::InvalidConfig);
  EXPECT_NE(p.error().message.find("concurrency"), std::string::npos);
  EXPECT_NE(p.error().message.find("max_task_attempts"), std::string::npos);
  c = ProcessorConfig{};
  c.queue = "carrier-pigeon";
  EXPECT_FALSE(BackgroundProcessor::create(c).has_value());
}

TEST(ProcessorTest, SubmitBatchAcceptsAndReportsRejections) {
  ProcessorConfig c = config(1);
  c.max_queue = 3;
  c.overflow = OverflowPolicy::Reject;
  auto p = makeProcessor(c);
  std::vector<Task> tasks;
  for (const char* id : {"a", "b", "a", "c", "d"}) tasks.push_back(makeTask(id));
  auto r = p->submitBatch(std::move(tasks));
  EXPECT_EQ(r.accepted, 3u);
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0].first, "a");
  EXPECT_EQ(r.rejected[0].second.code, ErrorCode::InvalidRequest);
  EXPECT_EQ(r.rejected[1].first, "d");
  EXPECT_EQ(r.rejected[1].second.code, ErrorCode::QueueFull);
}

}  // namespace
}  // namespace llmpool
