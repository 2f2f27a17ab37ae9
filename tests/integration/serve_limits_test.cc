// `llmpool serve` and the open-file limit: it takes the whole hard limit at start, and warns when
// even that is below what gateway.max_connections needs (two descriptors per proxied stream).

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "subprocess.h"

namespace llmpool::testing {
namespace {

using namespace std::chrono_literals;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/** The soft "Max open files" of a running process, from /proc/PID/limits. */
long softOpenFiles(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) return std::stol(line.substr(26));
  }
  return -1;
}

class ServeLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "serve_limits_" + std::to_string(getpid());
    config_ = dir_ + ".yaml";
    log_ = dir_ + ".log";
    getrlimit(RLIMIT_NOFILE, &saved_);
  }
  void TearDown() override {
    setrlimit(RLIMIT_NOFILE, &saved_);
    std::remove(config_.c_str());
    std::remove(log_.c_str());
  }
  void writeConfig(long max_connections) {
    std::ofstream(config_) << "providers:\n"
                              "  - {name: p, kind: openai, base_url: \"http://127.0.0.1:9/v1\"}\n"
                              "models:\n  m:\n    - {provider: p, model: m}\n"
                              "pool: {health_checks: false}\n"
                              "gateway: {listen: \"127.0.0.1:0\", max_connections: "
                           << max_connections << "}\n";
  }

  std::string dir_, config_, log_;
  rlimit saved_{};
};

TEST_F(ServeLimitsTest, RaisesSoftLimitToHardAndWarnsWhenTooLow) {
  if (saved_.rlim_max == RLIM_INFINITY || saved_.rlim_max < 64) GTEST_SKIP() << "odd hard limit";
  // The child inherits a soft limit well below the hard one.
  rlimit lowered = saved_;
  lowered.rlim_cur = 32;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  // More connections than the hard limit can carry (two descriptors each).
  writeConfig(static_cast<long>(saved_.rlim_max));
  Subprocess serve({llmpoolBinary(), "serve", "--config", config_}, log_);
  setrlimit(RLIMIT_NOFILE, &saved_);
  ASSERT_TRUE(serve.readLine(10s).has_value());  // the port: started
  EXPECT_EQ(softOpenFiles(serve.pid()), static_cast<long>(saved_.rlim_max));
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(10s), 0);
  const std::string log = readFile(log_);
  EXPECT_NE(log.find("open-file limit is below what gateway.max_connections needs"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("limit=" + std::to_string(saved_.rlim_max)), std::string::npos) << log;
}

TEST_F(ServeLimitsTest, NoWarningWhenTheLimitSuffices) {
  if (saved_.rlim_max != RLIM_INFINITY && saved_.rlim_max < 2 * 10 + 64) GTEST_SKIP();
  writeConfig(10);
  Subprocess serve({llmpoolBinary(), "serve", "--config", config_}, log_);
  ASSERT_TRUE(serve.readLine(10s).has_value());
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(10s), 0);
  EXPECT_EQ(readFile(log_).find("open-file limit"), std::string::npos);
}

}  // namespace
}  // namespace llmpool::testing
