#include "config/env_expand.h"

#include <gtest/gtest.h>

#include "config_test_util.h"

namespace llmpool::config {
namespace {

using testing::fakeEnv;

TEST(EnvExpandTest, ReplacesVariables) {
  auto env = fakeEnv({{"HOST", "example.com"}, {"PORT", "8443"}});
  auto out = expandEnv("https://${HOST}:${PORT}/v1", env);
  ASSERT_TRUE(out);
  EXPECT_EQ("https://example.com:8443/v1", out->text);
  EXPECT_TRUE(out->used_env);
  EXPECT_TRUE(out->missing.empty());
}

TEST(EnvExpandTest, DefaultAppliesWhenUnsetOrEmpty) {
  auto env = fakeEnv({{"EMPTY", ""}, {"SET", "x"}});
  EXPECT_EQ("fallback", expandEnv("${NOPE:-fallback}", env)->text);
  EXPECT_EQ("fallback", expandEnv("${EMPTY:-fallback}", env)->text);
  EXPECT_EQ("x", expandEnv("${SET:-fallback}", env)->text);
  EXPECT_EQ("", expandEnv("${NOPE:-}", env)->text);
}

TEST(EnvExpandTest, ReportsMissingVariables) {
  auto out = expandEnv("${A}-${B}-${C}", fakeEnv({{"B", "b"}}));
  ASSERT_TRUE(out);
  EXPECT_EQ((std::vector<std::string>{"A", "C"}), out->missing);
}

TEST(EnvExpandTest, DollarEscapesAndLoneDollars) {
  auto env = fakeEnv({{"X", "1"}});
  EXPECT_EQ("$X", expandEnv("$X", env)->text);
  EXPECT_EQ("${X}", expandEnv("$${X}", env)->text);
  EXPECT_EQ("cost $5", expandEnv("cost $5", env)->text);
  EXPECT_EQ("end$", expandEnv("end$", env)->text);
}

TEST(EnvExpandTest, RejectsMalformedReferences) {
  auto env = fakeEnv({});
  EXPECT_FALSE(expandEnv("${UNTERMINATED", env));
  EXPECT_FALSE(expandEnv("${1BAD}", env));
  EXPECT_FALSE(expandEnv("${}", env));
  EXPECT_FALSE(expandEnv("${A B}", env));
}

}  // namespace
}  // namespace llmpool::config
