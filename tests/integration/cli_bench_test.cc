// `llmpool bench` as users run it: the built binary against `llmpool mock` over loopback, with
// --json, checking the counts it reports against what the mock saw, and its exit codes.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace llmpool {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

struct BenchRun {
  int exit_code = -1;
  std::string out;
};

class CliBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/llmpool-bench-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string writeConfig(int port, int max_attempts) {
    const fs::path path = dir_ / "pool.yaml";
    std::ofstream(path) << "pool:\n"
                        << "  max_concurrent_requests: 16\n"
                        << "  max_connections_per_provider: 16\n"
                        << "  health_checks: false\n"
                        << "  retry: {max_attempts: " << max_attempts << "}\n"
                        << "providers:\n"
                        << "  - {name: mock, kind: openai, base_url: \"http://127.0.0.1:" << port
                        << "/v1\"}\n"
                        << "models:\n"
                        << "  fast:\n"
                        << "    - {provider: mock, model: mock-model}\n";
    return path.string();
  }

  BenchRun bench(std::vector<std::string> args) {
    std::vector<std::string> argv{testing::llmpoolBinary(), "bench"};
    argv.insert(argv.end(), args.begin(), args.end());
    BenchRun run;
    testing::Subprocess child(argv, (dir_ / "stderr.txt").string());
    run.out = child.readAll(60s);
    run.exit_code = child.wait(10s).value_or(-1);
    return run;
  }

  fs::path dir_;
};

TEST_F(CliBenchTest, JsonReportCountsEveryRequestAtTheGivenConcurrency) {
  testing::MockProvider mock({"--latency", "2ms"});
  const std::string config = writeConfig(mock.port(), 2);
  const BenchRun run = bench({"--config", config, "--model", "fast", "--requests", "200",
                              "--concurrency", "8", "--json", "--max-seconds", "50"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const json report = json::parse(run.out);
  EXPECT_EQ(report.at("requests"), 200);
  EXPECT_EQ(report.at("completed"), 200);
  EXPECT_EQ(report.at("succeeded"), 200);
  EXPECT_EQ(report.at("failed"), 0);
  EXPECT_EQ(report.at("concurrency"), 8);
  EXPECT_FALSE(report.at("stopped_by_time_limit").get<bool>());
  EXPECT_DOUBLE_EQ(report.at("attempts_per_request").get<double>(), 1.0);
  EXPECT_TRUE(report.at("errors_by_kind").empty());
  EXPECT_EQ(report.at("breaker_trips"), 0);
  EXPECT_GT(report.at("throughput_rps").get<double>(), 0.0);
  EXPECT_GT(report.at("cpu_us_per_request").get<double>(), 0.0);
  // Every request took at least the mock's 2 ms, and percentiles are ordered.
  const json& lat = report.at("latency_ms");
  EXPECT_GE(lat.at("p50").get<double>(), 2.0);
  EXPECT_LE(lat.at("p50").get<double>(), lat.at("p95").get<double>());
  EXPECT_LE(lat.at("p95").get<double>(), lat.at("p99").get<double>());
  EXPECT_LE(lat.at("p99").get<double>(), lat.at("max").get<double>());
  // Keep-alive: 200 requests on at most 8 connections (+ none opened twice).
  EXPECT_EQ(report.at("pool_hits").get<uint64_t>() + report.at("pool_misses").get<uint64_t>(),
            200u);
  EXPECT_LE(report.at("pool_misses").get<uint64_t>(), 8u);
  // The mock saw exactly these requests, never more than 8 at once.
  const json stats = json::parse(mock.statsJson());
  EXPECT_EQ(stats.at("requests_total"), 200);
  EXPECT_LE(stats.at("in_flight_max").get<int>(), 8);
  EXPECT_GE(stats.at("in_flight_max").get<int>(), 2);
}

// With a warm-up the load runs on without a pause into the measured requests and on past them
// until the last measured one completes, so the measured window sees steady load: the mock sees
// the warm-up, the measured requests and at most one more per slot of concurrency.
TEST_F(CliBenchTest, WarmupAndTrailingRequestsAreSentButNotMeasured) {
  testing::MockProvider mock({"--latency", "2ms"});
  const std::string config = writeConfig(mock.port(), 1);
  const BenchRun run =
      bench({"--config", config, "--model", "fast", "--requests", "200", "--warmup", "50",
             "--concurrency", "8", "--json", "--max-seconds", "50"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const json report = json::parse(run.out);
  EXPECT_EQ(report.at("completed"), 200);
  EXPECT_EQ(report.at("succeeded"), 200);
  EXPECT_GT(report.at("throughput_rps").get<double>(), 0.0);
  EXPECT_GT(report.at("seconds").get<double>(), 0.0);
  const int seen = json::parse(mock.statsJson()).at("requests_total").get<int>();
  EXPECT_GE(seen, 250);
  EXPECT_LE(seen, 250 + 8);
}

TEST_F(CliBenchTest, StreamingRequestsAreCountedToo) {
  testing::MockProvider mock;
  const std::string config = writeConfig(mock.port(), 1);
  const BenchRun run =
      bench({"--config", config, "--requests", "50", "--concurrency", "4", "--stream", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const json report = json::parse(run.out);
  EXPECT_TRUE(report.at("stream").get<bool>());
  EXPECT_EQ(report.at("succeeded"), 50);
}

TEST_F(CliBenchTest, FailuresAreReportedByKindAndExitOne) {
  testing::MockProvider mock({"--fault", R"({"kind":"status","status":400})"});
  const std::string config = writeConfig(mock.port(), 3);
  const BenchRun run = bench(
      {"--config", config, "--model", "fast", "--requests", "20", "--concurrency", "4", "--json"});
  EXPECT_EQ(run.exit_code, 1) << run.out;
  const json report = json::parse(run.out);
  EXPECT_EQ(report.at("failed"), 20);
  EXPECT_EQ(report.at("errors_by_kind").size(), 1u);
  // A 400 is not retried: one attempt each.
  EXPECT_DOUBLE_EQ(report.at("attempts_per_request").get<double>(), 1.0);
}

TEST_F(CliBenchTest, UnknownAliasIsAConfigErrorExitTwo) {
  testing::MockProvider mock;
  const std::string config = writeConfig(mock.port(), 1);
  const BenchRun run = bench({"--config", config, "--model", "nope", "--requests", "5"});
  EXPECT_EQ(run.exit_code, 2);
}

}  // namespace
}  // namespace llmpool
