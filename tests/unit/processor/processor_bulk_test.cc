// Not a timed assertion: makes sure 100,000 tasks flow through the processor in reasonable time
// (and prints the time) with each backend.

#include <gtest/gtest.h>

#include <iostream>

#include "fake_completer.h"
#include "llmpool/processor.h"
#include "processor_test_util.h"

namespace llmpool {
namespace {

using testing::FakeCompleter;
using testing::makeTask;
using testing::TempDir;

void runBulk(const std::string& queue, const std::string& label) {
  constexpr int kTasks = 100'000;
  ProcessorConfig c;
  c.queue = queue;
  c.concurrency = 512;
  c.max_queue = kTasks;
  c.results_buffer = 0;
  auto p = BackgroundProcessor::create(c);
  ASSERT_TRUE(p.has_value()) << p.error().describe();
  auto fake = std::make_shared<FakeCompleter>();
  std::atomic<uint64_t> ok{0};
  (*p)->withClientPool(fake).withResultSink([&](const TaskResult& r) {
    if (r.ok()) ok.fetch_add(1, std::memory_order_relaxed);
  });
  std::vector<Task> tasks;
  tasks.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    tasks.push_back(makeTask("t" + std::to_string(i), static_cast<Priority>(i % 4)));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto submitted = (*p)->submitBatch(std::move(tasks));
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_EQ(submitted.accepted, static_cast<size_t>(kTasks));
  ASSERT_TRUE((*p)->start());
  (*p)->stop(StopMode::Drain);
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(ok.load(), static_cast<uint64_t>(kTasks));
  EXPECT_EQ(fake->callCount(), static_cast<size_t>(kTasks));
  using ms = std::chrono::milliseconds;
  const auto run_ms = std::chrono::duration_cast<ms>(t2 - t1).count();
  std::cout << "[ bulk     ] " << label << ": submit " << kTasks << " in "
            << std::chrono::duration_cast<ms>(t1 - t0).count() << " ms; run in " << run_ms
            << " ms (" << (run_ms > 0 ? kTasks * 1000 / run_ms : 0) << " tasks/s)\n";
}

TEST(ProcessorBulkTest, HundredThousandTasksMemory) { runBulk("memory", "memory"); }

TEST(ProcessorBulkTest, HundredThousandTasksSqlite) {
  TempDir dir;
  runBulk("sqlite:" + dir.path() + "/bulk.db", "sqlite");
}

}  // namespace
}  // namespace llmpool
