// `llmpool check` as users run it: the built binary on real files, exit codes and messages.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "subprocess.h"

namespace llmpool {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct CheckRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class CliCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/llmpool-check-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  CheckRun check(const std::vector<std::string>& args) {
    const std::string err_path = (dir_ / "stderr.txt").string();
    std::vector<std::string> argv{testing::llmpoolBinary(), "check"};
    argv.insert(argv.end(), args.begin(), args.end());
    CheckRun run;
    {
      testing::Subprocess child(argv, err_path);
      run.out = child.readAll(10s);
      run.exit_code = child.wait(10s).value_or(-1);
    }
    std::ifstream in(err_path);
    std::stringstream text;
    text << in.rdbuf();
    run.err = text.str();
    return run;
  }

  fs::path dir_;
};

TEST_F(CliCheckTest, ValidConfigPrintsRoutingTableAndExitsZero) {
  ::setenv("LLMPOOL_CHECK_TEST_KEY", "sk-check-secret-123", 1);
  const std::string path = write("ok.yaml", R"(providers:
  - {name: primary, kind: openai, base_url: "http://127.0.0.1:9/v1", api_key: "${LLMPOOL_CHECK_TEST_KEY}"}
  - {name: backup, kind: anthropic, base_url: "http://127.0.0.1:10/v1"}
models:
  chat:
    - {provider: primary, model: small, weight: 1}
    - {provider: backup, model: claude, priority: 1}
)");
  const CheckRun run = check({"--config", path});
  EXPECT_EQ(0, run.exit_code) << run.err;
  EXPECT_NE(std::string::npos, run.out.find("primary/small")) << run.out;
  EXPECT_NE(std::string::npos, run.out.find("backup/claude")) << run.out;
  EXPECT_NE(std::string::npos, run.out.find("anthropic")) << run.out;
  EXPECT_NE(std::string::npos, run.out.find(": OK")) << run.out;
  EXPECT_EQ(std::string::npos, run.out.find("sk-check-secret-123"));
  EXPECT_EQ(std::string::npos, run.err.find("sk-check-secret-123"));
}

TEST_F(CliCheckTest, InvalidConfigListsEveryProblemAndExitsTwo) {
  const std::string path = write("bad.yaml",
                                 "pool:\n"
                                 "  max_concurent_requests: 5\n"
                                 "  request_timeout: soon\n"
                                 "providers:\n"
                                 "  - {name: p, base_url: 'http://127.0.0.1:9/v1', api_key: "
                                 "'${LLMPOOL_CHECK_TEST_UNSET_VAR}'}\n"
                                 "models:\n"
                                 "  gpt-4o:\n"
                                 "    - {provider: p}\n"
                                 "    - {provider: foo}\n");
  ::unsetenv("LLMPOOL_CHECK_TEST_UNSET_VAR");
  const CheckRun run = check({"--config", path});
  EXPECT_EQ(2, run.exit_code);
  EXPECT_TRUE(run.out.empty()) << run.out;
  for (const std::string& line :
       {path + ":2: pool.max_concurent_requests: unknown key", path + ":3: pool.request_timeout: ",
        path + ":5: providers[0].api_key: environment variable LLMPOOL_CHECK_TEST_UNSET_VAR",
        path + ":9: models.gpt-4o[1].provider: unknown provider \"foo\""}) {
    EXPECT_NE(std::string::npos, run.err.find(line)) << "missing: " << line << "\n" << run.err;
  }
}

TEST_F(CliCheckTest, MissingFileIsOneClearMessage) {
  const std::string path = (dir_ / "nope.yaml").string();
  const CheckRun run = check({"--config", path});
  EXPECT_EQ(2, run.exit_code);
  EXPECT_NE(std::string::npos, run.err.find(path)) << run.err;
  EXPECT_NE(std::string::npos, run.err.find("No such file")) << run.err;
  EXPECT_EQ(1, std::count(run.err.begin(), run.err.end(), '\n')) << run.err;
}

TEST_F(CliCheckTest, LiteLlmConfigPassesWithWarnings) {
  ::setenv("LLMPOOL_CHECK_TEST_KEY", "sk-check-secret-123", 1);
  const std::string path = write("litellm.yaml", R"(model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: http://127.0.0.1:9/v1
      api_key: os.environ/LLMPOOL_CHECK_TEST_KEY
litellm_settings:
  drop_params: true
)");
  const CheckRun run = check({"--config", path});
  EXPECT_EQ(0, run.exit_code) << run.err;
  EXPECT_NE(std::string::npos, run.err.find("warning: litellm_settings.drop_params")) << run.err;
  EXPECT_NE(std::string::npos, run.out.find("/gpt-4o")) << run.out;
  EXPECT_EQ(std::string::npos, run.out.find("sk-check-secret-123"));
}

TEST_F(CliCheckTest, ShippedExamplesPass) {
  for (const char* var :
       {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AZURE_OPENAI_API_KEY", "LLMPOOL_GATEWAY_KEY"}) {
    ::setenv(var, "test-value", 1);
  }
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(LLMPOOL_SOURCE_DIR) / "examples")) {
    if (entry.path().extension() != ".yaml") continue;
    ++seen;
    const CheckRun run = check({"--config", entry.path().string()});
    EXPECT_EQ(0, run.exit_code) << entry.path() << "\n" << run.err;
  }
  EXPECT_GE(seen, 4);
}

}  // namespace
}  // namespace llmpool
