#include "mock/fault_rule.h"

#include <gtest/gtest.h>

namespace llmpool::mock {
namespace {

using namespace std::chrono_literals;

TEST(FaultRuleTest, ParsesEveryField) {
  auto rule = parseFaultRuleText(
      R"({"kind":"status","status":429,"retry_after":1,"retry_after_ms":1500,"rate":0.5,)"
      R"("first_n":5,"after_s":2,"until_s":10.5,"path":"/chat/completions"})");
  ASSERT_TRUE(rule.has_value()) << rule.error().message;
  EXPECT_EQ(rule->kind, FaultKind::Status);
  EXPECT_EQ(rule->status, 429);
  EXPECT_EQ(rule->retry_after, "1");
  EXPECT_EQ(rule->retry_after_ms, "1500");
  EXPECT_DOUBLE_EQ(rule->rate, 0.5);
  EXPECT_EQ(rule->first_n, 5u);
  EXPECT_EQ(rule->after, 2000ms);
  EXPECT_EQ(rule->until, 10500ms);
  EXPECT_EQ(rule->path, Endpoint::ChatCompletions);  // the /v1-less alias is accepted
}

TEST(FaultRuleTest, KindsAndTheirOwnFields) {
  EXPECT_EQ(parseFaultRuleText(R"({"kind":"reset"})")->kind, FaultKind::Reset);
  EXPECT_EQ(parseFaultRuleText(R"({"kind":"hang"})")->kind, FaultKind::Hang);
  EXPECT_EQ(parseFaultRuleText(R"({"kind":"malformed"})")->kind, FaultKind::Malformed);
  auto mid = parseFaultRuleText(R"({"kind":"reset_mid_stream","after_chunks":3})");
  EXPECT_EQ(mid->kind, FaultKind::ResetMidStream);
  EXPECT_EQ(mid->after_chunks, 3u);
  auto truncate = parseFaultRuleText(R"({"kind":"truncate"})");
  EXPECT_EQ(truncate->after_chunks, 1u);  // default
  auto slow = parseFaultRuleText(R"({"kind":"slow_first_byte","delay_ms":250})");
  EXPECT_EQ(slow->kind, FaultKind::SlowFirstByte);
  EXPECT_EQ(slow->delay, 250ms);
  EXPECT_EQ(parseFaultRuleText(R"({"kind":"status"})")->status, 500);  // default status
}

TEST(FaultRuleTest, ErrorsNameTheBadField) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      {R"({"status":503})", "fault.kind"},
      {R"({"kind":"explode"})", "fault.kind"},
      {R"({"kind":"status","status":99})", "fault.status"},
      {R"({"kind":"status","status":"503"})", "fault.status"},
      {R"({"kind":"status","rate":1.5})", "fault.rate"},
      {R"({"kind":"status","rate":"x"})", "fault.rate"},
      {R"({"kind":"status","first_n":-1})", "fault.first_n"},
      {R"({"kind":"status","path":"/v1/unknown"})", "fault.path"},
      {R"({"kind":"status","statuss":503})", "fault.statuss"},
      {R"({"kind":"hang","after_s":-2})", "fault.after_s"},
  };
  for (const auto& c : cases) {
    auto rule = parseFaultRuleText(c.json);
    ASSERT_FALSE(rule.has_value()) << c.json;
    EXPECT_NE(rule.error().message.find(c.field), std::string::npos)
        << c.json << " -> " << rule.error().message;
  }
  EXPECT_FALSE(parseFaultRuleText("{not json").has_value());
  EXPECT_FALSE(parseFaultRuleText("[1]").has_value());
}

TEST(FaultRuleTest, ListNamesTheIndexOfTheBadRule) {
  auto ok = parseFaultList(R"({"faults":[{"kind":"reset"},{"kind":"status","status":503}]})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_TRUE(parseFaultList(R"({"faults":[]})")->empty());
  auto bad = parseFaultList(R"({"faults":[{"kind":"reset"},{"kind":"status","status":0}]})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("faults[1].status"), std::string::npos);
  EXPECT_FALSE(parseFaultList(R"({"rules":[]})").has_value());
}

TEST(FaultSetTest, FirstMatchingRuleWinsAndPathFilters) {
  auto a = *parseFaultRuleText(R"({"kind":"status","status":429,"path":"/v1/messages"})");
  auto b = *parseFaultRuleText(R"({"kind":"status","status":503})");
  const auto t0 = MonotonicTime{} + std::chrono::hours(1);
  FaultSet set({a, b}, t0);
  MockRandom random(1);
  EXPECT_EQ(set.match(Endpoint::Messages, t0, random)->status, 429);
  EXPECT_EQ(set.match(Endpoint::ChatCompletions, t0, random)->status, 503);
}

TEST(FaultSetTest, FirstNBudgetIsSpentThenRuleIsOff) {
  auto rule = *parseFaultRuleText(R"({"kind":"status","status":503,"first_n":2})");
  const auto t0 = MonotonicTime{} + std::chrono::hours(1);
  FaultSet set({rule}, t0);
  MockRandom random(1);
  EXPECT_NE(set.match(Endpoint::ChatCompletions, t0, random), nullptr);
  EXPECT_NE(set.match(Endpoint::Embeddings, t0, random), nullptr);
  EXPECT_EQ(set.match(Endpoint::ChatCompletions, t0, random), nullptr);
  EXPECT_EQ(set.match(Endpoint::ChatCompletions, t0, random), nullptr);
}

TEST(FaultSetTest, WindowIsRelativeToInstallation) {
  auto rule = *parseFaultRuleText(R"({"kind":"status","after_s":1,"until_s":3})");
  const auto t0 = MonotonicTime{} + std::chrono::hours(1);
  FaultSet set({rule}, t0);
  MockRandom random(1);
  EXPECT_EQ(set.match(Endpoint::ChatCompletions, t0 + 999ms, random), nullptr);
  EXPECT_NE(set.match(Endpoint::ChatCompletions, t0 + 1s, random), nullptr);
  EXPECT_NE(set.match(Endpoint::ChatCompletions, t0 + 2999ms, random), nullptr);
  EXPECT_EQ(set.match(Endpoint::ChatCompletions, t0 + 3s, random), nullptr);
}

TEST(FaultSetTest, RateIsAProbability) {
  auto half = *parseFaultRuleText(R"({"kind":"status","rate":0.25})");
  auto never = *parseFaultRuleText(R"({"kind":"status","rate":0})");
  const auto t0 = MonotonicTime{} + std::chrono::hours(1);
  FaultSet set({never, half}, t0);
  MockRandom random(7);
  int hits = 0;
  for (int i = 0; i < 4000; ++i) {
    const FaultRule* r = set.match(Endpoint::ChatCompletions, t0, random);
    if (r) {
      EXPECT_DOUBLE_EQ(r->rate, 0.25);  // the rate-0 rule never fires
      ++hits;
    }
  }
  EXPECT_NEAR(hits, 1000, 120);
}

}  // namespace
}  // namespace llmpool::mock
