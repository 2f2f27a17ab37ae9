#include "llmpool/error.h"

#include <gtest/gtest.h>

#include <set>

namespace llmpool {
namespace {

TEST(ErrorTest, DescribeNamesKindStatusProviderAndAttempts) {
  Error e(ErrorCode::RateLimited, "slow down");
  e.http_status = 429;
  e.provider = "openai";
  e.attempts.resize(3);
  EXPECT_EQ(e.describe(), "rate_limited (429) from openai: slow down [3 attempts]");
}

TEST(ErrorTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(ErrorCode::Internal); ++c) {
    auto name = errorCodeName(static_cast<ErrorCode>(c));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

TEST(ErrorTest, FailBuildsAnUnexpectedResult) {
  Result<int> r = fail(ErrorCode::InvalidConfig, "bad");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::InvalidConfig);
}

}  // namespace
}  // namespace llmpool
