#include "batch/summary.h"

#include <gtest/gtest.h>

#include "batch/progress.h"

namespace llmpool::batch {
namespace {

using std::chrono::milliseconds;

RunSummary sample() {
  RunSummary s;
  s.input = "in.jsonl";
  s.output = "out.jsonl";
  s.state = "in.jsonl.llmpool-state";
  s.tasks = 10;
  s.succeeded = 7;
  s.failed = 2;
  s.failed_by_kind = {{"rate_limited", 1}, {"invalid_input", 1}};
  s.invalid_lines = 1;
  s.already_done = 3;
  s.run_now = 6;
  s.pool_retries = 5;
  s.task_retries = 1;
  s.failovers = 2;
  s.breaker_trips = 1;
  s.tokens_in = 100;
  s.tokens_out = 50;
  s.cost_usd = 0.25;
  s.wall_time = milliseconds(2000);
  s.latency_p50 = milliseconds(50);
  s.latency_p99 = milliseconds(250);
  s.exit_code = 1;
  return s;
}

TEST(SummaryTest, JsonHasEveryField) {
  Json j = summaryToJson(sample());
  EXPECT_EQ(10, j["tasks"]);
  EXPECT_EQ(7, j["succeeded"]);
  EXPECT_EQ(2, j["failed"]);
  EXPECT_EQ(1, j["not_finished"]);
  EXPECT_EQ(1, j["failed_by_kind"]["rate_limited"]);
  EXPECT_EQ(1, j["failed_by_kind"]["invalid_input"]);
  EXPECT_EQ(6, j["retries"]);
  EXPECT_EQ(5, j["pool_retries"]);
  EXPECT_EQ(1, j["task_retries"]);
  EXPECT_EQ(2, j["failovers"]);
  EXPECT_EQ(1, j["breaker_trips"]);
  EXPECT_EQ(150, j["tokens"]["total"]);
  EXPECT_DOUBLE_EQ(0.25, j["cost_usd"].get<double>());
  EXPECT_DOUBLE_EQ(2.0, j["wall_time_s"].get<double>());
  EXPECT_DOUBLE_EQ(3.0, j["throughput_per_s"].get<double>());  // 6 finished now / 2 s
  EXPECT_DOUBLE_EQ(0.05, j["latency_s"]["p50"].get<double>());
  EXPECT_DOUBLE_EQ(0.25, j["latency_s"]["p99"].get<double>());
  EXPECT_TRUE(j["errors"].is_null());
  EXPECT_EQ(false, j["interrupted"]);
  EXPECT_EQ(1, j["exit_code"]);
}

TEST(SummaryTest, TableNamesFailureKindsAndResume) {
  const std::string table = formatSummaryTable(sample());
  EXPECT_NE(std::string::npos, table.find("rate_limited 1")) << table;
  EXPECT_NE(std::string::npos, table.find("3 already done")) << table;
  EXPECT_NE(std::string::npos, table.find("not finished")) << table;
  EXPECT_NE(std::string::npos, table.find("breaker trips")) << table;
  EXPECT_NE(std::string::npos, table.find("250ms")) << table;
}

TEST(SummaryTest, DurationsReadWell) {
  EXPECT_EQ("850ms", formatDuration(milliseconds(850)));
  EXPECT_EQ("1.50s", formatDuration(milliseconds(1500)));
  EXPECT_EQ("2m05s", formatDuration(milliseconds(125'000)));
}

TEST(ProgressTest, RateAndEta) {
  ProgressSnapshot s;
  s.total = 1000;
  s.done = 250;
  s.elapsed = std::chrono::seconds(5);
  EXPECT_DOUBLE_EQ(50.0, progressRate(s));
  EXPECT_EQ("15s", formatEta(s));
  s.done = 10;
  EXPECT_EQ("8m15s", formatEta(s));  // 990 left at 2/s
  s.done = 0;
  EXPECT_EQ("-", formatEta(s));
  s.done = 1000;
  EXPECT_EQ("0s", formatEta(s));
}

TEST(ProgressTest, BarAndLineShowCounts) {
  ProgressSnapshot s;
  s.total = 200;
  s.done = 100;
  s.failed = 3;
  s.in_flight = 16;
  s.retries = 4;
  s.failovers = 2;
  s.elapsed = std::chrono::seconds(2);
  const std::string bar = formatProgressBar(s, 10);
  EXPECT_TRUE(bar.starts_with("[#####.....] 100/200  50.0%")) << bar;
  EXPECT_NE(std::string::npos, bar.find("failed 3")) << bar;
  EXPECT_NE(std::string::npos, bar.find("in-flight 16")) << bar;
  EXPECT_NE(std::string::npos, bar.find("50.0/s")) << bar;
  const std::string line = formatProgressLine(s);
  EXPECT_NE(std::string::npos, line.find("100/200 done (50.0%), 3 failed, 16 in flight")) << line;
}

TEST(ProgressTest, LinesModePrintsAtMostOncePerInterval) {
  std::ostringstream out;
  ProgressReporter reporter(out, ProgressReporter::Mode::Lines, std::chrono::seconds(5));
  ProgressSnapshot s;
  s.total = 10;
  s.elapsed = std::chrono::seconds(0);
  reporter.update(s);
  s.elapsed = std::chrono::seconds(3);
  reporter.update(s);
  s.elapsed = std::chrono::seconds(6);
  reporter.update(s);
  const std::string text = out.str();
  EXPECT_EQ(2, std::count(text.begin(), text.end(), '\n')) << text;
}

TEST(ProgressTest, OffModePrintsNothing) {
  std::ostringstream out;
  ProgressReporter reporter(out, ProgressReporter::Mode::Off, std::chrono::seconds(1));
  ProgressSnapshot s;
  reporter.update(s);
  reporter.finish(s);
  EXPECT_TRUE(out.str().empty());
}

}  // namespace
}  // namespace llmpool::batch
