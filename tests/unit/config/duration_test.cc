#include "config/duration.h"

#include <gtest/gtest.h>

namespace llmpool::config {
namespace {

using std::chrono::milliseconds;

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(milliseconds(100), parseDuration("100ms").value());
  EXPECT_EQ(milliseconds(30'000), parseDuration("30s").value());
  EXPECT_EQ(milliseconds(300'000), parseDuration("5m").value());
  EXPECT_EQ(milliseconds(3'600'000), parseDuration("1h").value());
}

TEST(DurationTest, ParsesFractionsAndCompounds) {
  EXPECT_EQ(milliseconds(1'500), parseDuration("1.5s").value());
  EXPECT_EQ(milliseconds(250), parseDuration("0.25s").value());
  EXPECT_EQ(milliseconds(90'000), parseDuration("1m30s").value());
  EXPECT_EQ(milliseconds(5'400'000), parseDuration("1h30m").value());
  EXPECT_EQ(milliseconds(1'250), parseDuration("1s250ms").value());
  EXPECT_EQ(milliseconds(30'000), parseDuration("  30s ").value());
}

TEST(DurationTest, BareZeroIsZero) { EXPECT_EQ(milliseconds(0), parseDuration("0").value()); }

TEST(DurationTest, RejectsGarbage) {
  for (const char* bad : {"", "abc", "30", "1.5", "30 s", "30sec", "-5s", "+5s", "5x", "s", "ms",
                          "1e3ms", "5s5", "nan", "inf", "0.1ms", "9999999h", "30S"}) {
    auto parsed = parseDuration(bad);
    EXPECT_FALSE(parsed.has_value()) << "accepted \"" << bad << "\"";
    if (!parsed) {
      EXPECT_EQ(ErrorCode::InvalidConfig, parsed.error().code);
    }
  }
}

TEST(DurationTest, BareNumberMessageAsksForAUnit) {
  auto parsed = parseDuration("500");
  ASSERT_FALSE(parsed);
  EXPECT_NE(std::string::npos, parsed.error().message.find("missing unit"));
  EXPECT_NE(std::string::npos, parsed.error().message.find("\"500\""));
}

TEST(DurationTest, FormatsShortest) {
  EXPECT_EQ("0", formatDuration(milliseconds(0)));
  EXPECT_EQ("100ms", formatDuration(milliseconds(100)));
  EXPECT_EQ("1500ms", formatDuration(milliseconds(1'500)));
  EXPECT_EQ("30s", formatDuration(milliseconds(30'000)));
  EXPECT_EQ("5m", formatDuration(milliseconds(300'000)));
  EXPECT_EQ("1m30s", formatDuration(milliseconds(90'000)));
  EXPECT_EQ("2h", formatDuration(milliseconds(7'200'000)));
}

TEST(DurationTest, FormatRoundTrips) {
  for (long long ms : {1LL, 999LL, 1000LL, 61'000LL, 3'661'000LL, 86'400'000LL}) {
    EXPECT_EQ(milliseconds(ms), parseDuration(formatDuration(milliseconds(ms))).value()) << ms;
  }
}

}  // namespace
}  // namespace llmpool::config
