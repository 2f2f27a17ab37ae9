// `llmpool run` resumes after SIGKILL and after Ctrl-C: every custom_id exactly once in the
// output, and only unfinished tasks are sent again. Real processes on 127.0.0.1.

#include <signal.h>

#include <gtest/gtest.h>

#include "run_test_support.h"

namespace llmpool::testing::run {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RunResumeTest, KilledAtThreePointsThenRerunGivesEveryIdExactlyOnce) {
  constexpr int kTasks = 2000;
  constexpr int kConcurrency = 16;
  ScratchDir dir;
  // 20 ms per request at 16 in flight: a full run takes about 2.5 s, so each kill lands mid-run.
  MockProvider mock({"--latency", "20ms"});
  writeText(dir.file("in.jsonl"), chatBatch(kTasks));
  writeText(dir.file("cfg.yaml"), mockConfig(mock.baseUrl()));
  const auto args = runArgs(dir.file("in.jsonl"), dir.file("out.jsonl"), dir.file("cfg.yaml"),
                            {"--concurrency", std::to_string(kConcurrency), "-q"});

  int kills = 0;
  for (long kill_at : {200L, 700L, 1300L}) {
    Subprocess run(args, dir.file("stderr.txt"));
    ASSERT_TRUE(waitForRequests(mock.port(), kill_at, seconds(20)))
        << readText(dir.file("stderr.txt"));
    run.signal(SIGKILL);
    ASSERT_EQ(128 + SIGKILL, run.wait(seconds(5)));
    ++kills;
    // Whatever reached the file is whole lines, never a duplicate.
    const auto partial = readLines(dir.file("out.jsonl"));
    for (const auto& [id, n] : idCounts(partial)) ASSERT_EQ(1, n) << id;
    EXPECT_LT(partial.size(), static_cast<size_t>(kTasks));
  }

  Subprocess last(args, dir.file("stderr.txt"));
  ASSERT_EQ(0, last.wait(seconds(30))) << readText(dir.file("stderr.txt"));
  expectExactlyOnce(dir.file("out.jsonl"), kTasks);
  // Only unfinished tasks were sent again: at most the ones in flight at each kill, plus the
  // answers not stored yet, which may number up to concurrency / 8 (docs/task_processor.md).
  const long sent = mockRequests(mock.port());
  EXPECT_GE(sent, kTasks);
  EXPECT_LE(sent, kTasks + kills * (kConcurrency + kConcurrency / 8));
}

TEST(RunResumeTest, InterruptKeepsStateAndRerunResumes) {
  constexpr int kTasks = 200;
  ScratchDir dir;
  MockProvider mock({"--latency", "50ms"});
  writeText(dir.file("in.jsonl"), chatBatch(kTasks));
  writeText(dir.file("cfg.yaml"), mockConfig(mock.baseUrl()));
  const auto args = runArgs(dir.file("in.jsonl"), dir.file("out.jsonl"), dir.file("cfg.yaml"),
                            {"--concurrency", "4", "--errors", dir.file("err.jsonl")});

  Subprocess run(args, dir.file("stderr.txt"));
  ASSERT_TRUE(waitForRequests(mock.port(), 40, seconds(20)));
  run.signal(SIGINT);
  ASSERT_EQ(130, run.wait(seconds(15))) << readText(dir.file("stderr.txt"));
  const std::string err = readText(dir.file("stderr.txt"));
  EXPECT_NE(std::string::npos, err.find("interrupted")) << err;
  const auto partial = readLines(dir.file("out.jsonl"));
  EXPECT_GE(partial.size(), 40u);
  EXPECT_LT(partial.size(), static_cast<size_t>(kTasks));
  // In-flight tasks were allowed to finish, so nothing the first run sent is sent again.
  const long sent_first = mockRequests(mock.port());
  EXPECT_EQ(static_cast<long>(partial.size()), sent_first);

  Subprocess again(args, dir.file("stderr2.txt"));
  ASSERT_EQ(0, again.wait(seconds(30))) << readText(dir.file("stderr2.txt"));
  expectExactlyOnce(dir.file("out.jsonl"), kTasks);
  EXPECT_EQ(kTasks, mockRequests(mock.port()));
  EXPECT_TRUE(readLines(dir.file("err.jsonl")).empty());
}

}  // namespace
}  // namespace llmpool::testing::run
