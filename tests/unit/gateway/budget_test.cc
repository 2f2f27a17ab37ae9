// Key budgets: the calendar periods, the spend ledger (memory, file, several processes' rows),
// and admission of a key whose budget is spent. Time is always passed in; nothing sleeps.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <vector>

#include "gateway/budget_ledger.h"
#include "gateway/budget_period.h"
#include "gateway/key_ring.h"

namespace llmpool::gateway {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using namespace std::chrono_literals;

// 2026-11-26T15:42:07Z, a Thursday.
const SystemTime kThursday = sys_days(std::chrono::year(2026) / 11 / 26) + 15h + 42min + 7s;

int64_t unix(sys_days d) { return d.time_since_epoch() / seconds(1); }

TEST(BudgetPeriodTest, CalendarPeriodsInUtc) {
  const sys_days nov26 = std::chrono::year(2026) / 11 / 26;
  EXPECT_EQ((PeriodBounds{unix(nov26) + 15 * 3600, unix(nov26) + 16 * 3600}),
            periodAt(BudgetPeriod::Hour, kThursday));
  EXPECT_EQ((PeriodBounds{unix(nov26), unix(nov26) + 86400}),
            periodAt(BudgetPeriod::Day, kThursday));
  const sys_days monday = std::chrono::year(2026) / 11 / 23;
  EXPECT_EQ((PeriodBounds{unix(monday), unix(monday) + 7 * 86400}),
            periodAt(BudgetPeriod::Week, kThursday));
  EXPECT_EQ((PeriodBounds{unix(std::chrono::year(2026) / 11 / 1),
                          unix(std::chrono::year(2026) / 12 / 1)}),
            periodAt(BudgetPeriod::Month, kThursday));
  EXPECT_EQ(0, periodAt(BudgetPeriod::None, kThursday).start);
}

TEST(BudgetPeriodTest, EdgesOfWeeksMonthsAndYears) {
  // A Monday at midnight starts its own week; the Sunday before belongs to the week before.
  const sys_days monday = std::chrono::year(2026) / 11 / 30;
  EXPECT_EQ(unix(monday), periodAt(BudgetPeriod::Week, monday).start);
  EXPECT_EQ(unix(monday) - 7 * 86400, periodAt(BudgetPeriod::Week, monday - 1s).start);
  // December runs into January of the next year; a leap February has 29 days.
  EXPECT_EQ(unix(std::chrono::year(2027) / 1 / 1),
            periodAt(BudgetPeriod::Month, sys_days(std::chrono::year(2026) / 12 / 31) + 23h).end);
  EXPECT_EQ(unix(std::chrono::year(2028) / 3 / 1),
            periodAt(BudgetPeriod::Month, sys_days(std::chrono::year(2028) / 2 / 29)).end);
  EXPECT_EQ("2026-12-01T00:00:00Z", isoUtc(periodAt(BudgetPeriod::Month, kThursday).end));
}

class BudgetLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/llmpool-budget-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    path_ = dir_ + "/state.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<BudgetLedger> open() {
    BudgetLedger::Options options;
    options.path = path_;
    options.flush_interval = hours(1);  // the tests flush themselves
    auto ledger = BudgetLedger::open(std::move(options));
    EXPECT_TRUE(ledger.has_value()) << ledger.error().describe();
    return ledger ? std::move(*ledger) : nullptr;
  }
  std::string dir_, path_;
};

TEST_F(BudgetLedgerTest, ChargesCountInTheirPeriodOnly) {
  auto ledger = open();
  BudgetAccount* a = ledger->account("team-a", BudgetPeriod::Day, kThursday);
  a->charge(BudgetPeriod::Day, kThursday, 0.25);
  a->charge(BudgetPeriod::Day, kThursday + 1h, 0.5);
  a->charge(BudgetPeriod::Day, kThursday, 0.0);
  a->charge(BudgetPeriod::Day, kThursday, -3.0);  // never lowers the spend
  EXPECT_DOUBLE_EQ(0.75, a->spent(BudgetPeriod::Day, kThursday + 2h));
  // The next day starts afresh, and a clock stepped back does not bring the old day back.
  EXPECT_DOUBLE_EQ(0.0, a->spent(BudgetPeriod::Day, kThursday + 24h));
  a->charge(BudgetPeriod::Day, kThursday + 24h, 0.1);
  EXPECT_DOUBLE_EQ(0.1, a->spent(BudgetPeriod::Day, kThursday));
  // The same name gives the same account.
  EXPECT_EQ(a, ledger->account("team-a", BudgetPeriod::Day, kThursday));
}

TEST_F(BudgetLedgerTest, SpendSurvivesReopeningTheFile) {
  {
    auto ledger = open();
    ledger->account("team-a", BudgetPeriod::Month, kThursday)
        ->charge(BudgetPeriod::Month, kThursday, 1.5);
    ledger->account("team-b", BudgetPeriod::None, kThursday)
        ->charge(BudgetPeriod::None, kThursday, 2.0);
    ASSERT_TRUE(ledger->flush(kThursday));
    ledger->account("team-a", BudgetPeriod::Month, kThursday)
        ->charge(BudgetPeriod::Month, kThursday, 0.5);  // written by the destructor
  }
  auto ledger = open();
  EXPECT_DOUBLE_EQ(2.0, ledger->account("team-a", BudgetPeriod::Month, kThursday + 48h)
                            ->spent(BudgetPeriod::Month, kThursday + 48h));
  EXPECT_DOUBLE_EQ(2.0, ledger->account("team-b", BudgetPeriod::None, kThursday)
                            ->spent(BudgetPeriod::None, kThursday + 24h * 400));
  // Opened in a later month, the file's spend is of an earlier period: it does not count.
  auto later = open();
  EXPECT_DOUBLE_EQ(0.0, later->account("team-a", BudgetPeriod::Month, kThursday + 24h * 10)
                            ->spent(BudgetPeriod::Month, kThursday + 24h * 10));
}

TEST_F(BudgetLedgerTest, TwoProcessesSharingTheFileSeeEachOthersSpend) {
  auto one = open();
  auto two = open();
  BudgetAccount* a1 = one->account("team-a", BudgetPeriod::Day, kThursday);
  BudgetAccount* a2 = two->account("team-a", BudgetPeriod::Day, kThursday);
  a1->charge(BudgetPeriod::Day, kThursday, 1.0);
  a2->charge(BudgetPeriod::Day, kThursday, 2.0);
  ASSERT_TRUE(one->flush(kThursday));
  ASSERT_TRUE(two->flush(kThursday));
  EXPECT_DOUBLE_EQ(3.0, a2->spent(BudgetPeriod::Day, kThursday));
  EXPECT_DOUBLE_EQ(1.0, a1->spent(BudgetPeriod::Day, kThursday));  // until its next flush
  ASSERT_TRUE(one->flush(kThursday));
  EXPECT_DOUBLE_EQ(3.0, a1->spent(BudgetPeriod::Day, kThursday));
  // One process moves into the next day first: the other's late charge for the old day does
  // not land in the new day's row.
  a1->charge(BudgetPeriod::Day, kThursday + 24h, 0.5);
  ASSERT_TRUE(one->flush(kThursday + 24h));
  a2->charge(BudgetPeriod::Day, kThursday + 1h, 4.0);
  ASSERT_TRUE(two->flush(kThursday + 1h));
  // Entering the new day, a process knows the others' spend of it from its next flush on.
  EXPECT_DOUBLE_EQ(0.0, a2->spent(BudgetPeriod::Day, kThursday + 24h));
  ASSERT_TRUE(two->flush(kThursday + 24h));
  EXPECT_DOUBLE_EQ(0.5, a2->spent(BudgetPeriod::Day, kThursday + 24h));
}

TEST_F(BudgetLedgerTest, AFlushWithNothingNewOnlyReads) {
  auto one = open();
  auto two = open();
  BudgetAccount* a1 = one->account("team-a", BudgetPeriod::Day, kThursday);
  BudgetAccount* a2 = two->account("team-a", BudgetPeriod::Day, kThursday);
  a1->charge(BudgetPeriod::Day, kThursday, 1.0);
  ASSERT_TRUE(one->flush(kThursday));
  const auto updated_at = [&] {
    sqlite3* raw = nullptr;
    EXPECT_EQ(SQLITE_OK, sqlite3_open(path_.c_str(), &raw));
    SqliteHandle db(raw);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(SQLITE_OK,
              sqlite3_prepare_v2(db.get(), "SELECT updated_at FROM key_spend", -1, &s, nullptr));
    Statement owner(s);
    return sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  };
  const int64_t written = updated_at();
  ASSERT_GT(written, 0);
  // The other process has nothing to add: it reads the total and writes nothing.
  ASSERT_TRUE(two->flush(kThursday + 5s));
  EXPECT_DOUBLE_EQ(1.0, a2->spent(BudgetPeriod::Day, kThursday + 5s));
  EXPECT_EQ(written, updated_at());
  a2->charge(BudgetPeriod::Day, kThursday + 6s, 0.5);
  ASSERT_TRUE(two->flush(kThursday + 6s));
  EXPECT_EQ(written + 6, updated_at());
  EXPECT_DOUBLE_EQ(1.5, a2->spent(BudgetPeriod::Day, kThursday + 6s));
}

TEST_F(BudgetLedgerTest, AnUnwritableFileIsAnErrorNamingTheSetting) {
  BudgetLedger::Options options;
  options.path = dir_ + "/missing-dir/state.db";
  auto ledger = BudgetLedger::open(std::move(options));
  ASSERT_FALSE(ledger.has_value());
  EXPECT_NE(std::string::npos, ledger.error().message.find("gateway.state_file"));
  EXPECT_NE(std::string::npos, ledger.error().message.find("missing-dir"));
}

// Another process holds the file's write lock: the spend stays in memory, nothing is lost, and
// the warnings neither repeat every second nor stay silent about the recovery.
TEST_F(BudgetLedgerTest, AFileThatCannotBeWrittenKeepsTheSpendAndWarnsSparingly) {
  std::vector<std::string> warnings;
  BudgetLedger::Options options;
  options.path = path_;
  options.flush_interval = hours(1);
  options.busy_timeout = std::chrono::milliseconds(1);
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto ledger = BudgetLedger::open(std::move(options));
  ASSERT_TRUE(ledger.has_value());
  BudgetAccount* a = (*ledger)->account("team-a", BudgetPeriod::Day, kThursday);
  a->charge(BudgetPeriod::Day, kThursday, 0.5);

  sqlite3* other = nullptr;
  ASSERT_EQ(SQLITE_OK, sqlite3_open(path_.c_str(), &other));
  SqliteHandle holder(other);
  ASSERT_EQ(SQLITE_OK, sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr));
  EXPECT_FALSE((*ledger)->flush(kThursday));
  a->charge(BudgetPeriod::Day, kThursday, 0.25);
  EXPECT_FALSE((*ledger)->flush(kThursday + 1s));
  EXPECT_DOUBLE_EQ(0.75, a->spent(BudgetPeriod::Day, kThursday + 1s));
  ASSERT_EQ(1u, warnings.size());
  EXPECT_NE(std::string::npos, warnings[0].find("cannot record")) << warnings[0];
  EXPECT_NE(std::string::npos, warnings[0].find(path_));
  EXPECT_FALSE((*ledger)->flush(kThursday + 61s));
  EXPECT_EQ(2u, warnings.size());  // a minute later, once more

  ASSERT_EQ(SQLITE_OK, sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr));
  EXPECT_TRUE((*ledger)->flush(kThursday + 62s));
  ASSERT_EQ(3u, warnings.size());
  EXPECT_NE(std::string::npos, warnings[2].find("recorded again"));
  ledger->reset();
  auto reopened = open();
  EXPECT_DOUBLE_EQ(0.75, reopened->account("team-a", BudgetPeriod::Day, kThursday)
                             ->spent(BudgetPeriod::Day, kThursday));
}

GatewayKey budgetKey(double usd, BudgetPeriod period) {
  GatewayKey k;
  k.key = "sk-team";
  k.name = "team";
  k.max_budget = usd;
  k.budget_period = period;
  return k;
}

TEST_F(BudgetLedgerTest, AKeyWhoseBudgetIsSpentIsRefusedUntilThePeriodEnds) {
  auto ledger = open();
  KeyRing ring({budgetKey(1.0, BudgetPeriod::Day)}, ledger.get(), kThursday);
  KeyEntry* e = *ring.authenticate("Bearer sk-team", "");
  const MonotonicTime mono = MonotonicClock::now();
  auto first = KeyRing::admit(e, "chat", mono, 1, kThursday);
  ASSERT_TRUE(first.has_value());
  first->charge(kThursday, 0.6);
  ASSERT_TRUE(KeyRing::admit(e, "chat", mono, 1, kThursday).has_value());  // 0.6 < 1.0
  first->charge(kThursday, 0.4);

  auto spent = KeyRing::admit(e, "chat", mono, 1, kThursday);
  ASSERT_FALSE(spent.has_value());
  EXPECT_EQ(AuthFailure::KeyBudget, spent.error().reason);
  const Error& error = spent.error().error;
  EXPECT_EQ(ErrorCode::RateLimited, error.code);
  EXPECT_EQ(std::optional<bool>(false), error.should_retry);  // not transient
  // Retry-After: until the day ends (8h17m53s after 15:42:07).
  EXPECT_EQ(std::optional<std::chrono::milliseconds>(seconds(8 * 3600 + 17 * 60 + 53)),
            error.retry_after);
  EXPECT_NE(std::string::npos, error.message.find("2026-11-27T00:00:00Z")) << error.message;
  EXPECT_EQ(std::string::npos, error.message.find("sk-team"));

  std::string metrics;
  ring.writeBudgetMetrics(metrics, kThursday);
  EXPECT_NE(std::string::npos, metrics.find("llmpool_gateway_key_budget_usd{key=\"team\"} 1"))
      << metrics;
  EXPECT_NE(std::string::npos, metrics.find("llmpool_gateway_key_spend_usd{key=\"team\"} 1"))
      << metrics;

  EXPECT_TRUE(KeyRing::admit(e, "chat", mono, 1, kThursday + 9h).has_value());  // a new day
  metrics.clear();
  ring.writeBudgetMetrics(metrics, kThursday + 9h);
  EXPECT_NE(std::string::npos, metrics.find("llmpool_gateway_key_spend_usd{key=\"team\"} 0"))
      << metrics;
}

TEST_F(BudgetLedgerTest, ABudgetThatNeverResetsSaysSo) {
  auto ledger = open();
  KeyRing ring({budgetKey(0.5, BudgetPeriod::None)}, ledger.get(), kThursday);
  KeyEntry* e = *ring.authenticate("", "sk-team");
  auto lease = KeyRing::admit(e, "chat", MonotonicClock::now(), 1, kThursday);
  ASSERT_TRUE(lease.has_value());
  lease->charge(kThursday, 0.75);
  auto spent = KeyRing::admit(e, "chat", MonotonicClock::now(), 1, kThursday + 24h * 365);
  ASSERT_FALSE(spent.has_value());
  EXPECT_NE(std::string::npos, spent.error().error.message.find("does not reset"));
  EXPECT_FALSE(spent.error().error.retry_after.has_value());
}

TEST_F(BudgetLedgerTest, KeysWithoutBudgetsWriteNoBudgetMetrics) {
  KeyRing ring({budgetKey(1.0, BudgetPeriod::Day)});  // no ledger: nothing is recorded
  std::string metrics;
  ring.writeBudgetMetrics(metrics, kThursday);
  EXPECT_EQ("", metrics);
}

}  // namespace
}  // namespace llmpool::gateway
