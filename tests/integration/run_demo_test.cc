// `llmpool run --demo`: no config, two in-process mocks, a sample batch; the summary shows
// retries, failover and a breaker trip, and every task succeeds.

#include <gtest/gtest.h>
#include <stdlib.h>

#include "run_test_support.h"

namespace llmpool::testing::run {
namespace {

using std::chrono::seconds;

TEST(RunDemoTest, DemoShowsRetriesFailoverAndABreakerTripAndSucceeds) {
  ScratchDir dir;
  setenv("TMPDIR", dir.file("").c_str(), 1);  // the demo's generated batch goes there
  const auto start = std::chrono::steady_clock::now();
  Subprocess demo({llmpoolBinary(), "run", "--demo", "--json", "--output", dir.file("out.jsonl"),
                   "--state", dir.file("state.db")},
                  dir.file("stderr.txt"));
  const std::string summary_text = demo.readAll(seconds(60));
  ASSERT_EQ(0, demo.wait(seconds(60))) << readText(dir.file("stderr.txt"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(30));

  Json summary = Json::parse(summary_text, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << summary_text;
  EXPECT_EQ(400, summary["tasks"]);
  EXPECT_EQ(400, summary["succeeded"]);
  EXPECT_GT(summary["retries"].get<int>(), 0);
  EXPECT_GT(summary["failovers"].get<int>(), 0);
  EXPECT_GT(summary["breaker_trips"].get<int>(), 0);

  const auto lines = readLines(dir.file("out.jsonl"));
  EXPECT_EQ(400u, lines.size());
  EXPECT_EQ(400u, idCounts(lines).size());
  const std::string err = readText(dir.file("stderr.txt"));
  EXPECT_NE(std::string::npos, err.find("mock providers")) << err;
}

TEST(RunDemoTest, DemoPrintsItsTableOnStderr) {
  ScratchDir dir;
  setenv("TMPDIR", dir.file("").c_str(), 1);
  Subprocess demo({llmpoolBinary(), "run", "--demo", "--output", dir.file("out.jsonl"), "--state",
                   dir.file("state.db")},
                  dir.file("stderr.txt"));
  ASSERT_EQ(0, demo.wait(seconds(60))) << readText(dir.file("stderr.txt"));
  const std::string err = readText(dir.file("stderr.txt"));
  for (const char* label : {"summary", "succeeded", "retries", "failovers", "breaker trips",
                            "throughput", "latency p99", "progress:"}) {
    EXPECT_NE(std::string::npos, err.find(label)) << label << "\n" << err;
  }
}

}  // namespace
}  // namespace llmpool::testing::run
