#include "gateway/budget_period.h"

#include <chrono>
#include <cstdio>
#include <limits>

namespace llmpool::gateway {

namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

int64_t unixOf(sys_seconds t) { return t.time_since_epoch().count(); }

}  // namespace

PeriodBounds periodAt(BudgetPeriod period, SystemTime now) {
  const sys_seconds t = floor<seconds>(now);
  const sys_days day = floor<days>(t);
  switch (period) {
    case BudgetPeriod::None:
      return {0, std::numeric_limits<int64_t>::max()};
    case BudgetPeriod::Hour: {
      const auto start = floor<hours>(t);
      return {unixOf(start), unixOf(start + hours(1))};
    }
    case BudgetPeriod::Day:
      return {unixOf(day), unixOf(day + days(1))};
    case BudgetPeriod::Week: {
      // c_encoding: Sunday 0 ... Saturday 6; weeks start on Monday (ISO 8601).
      const unsigned since_monday = (std::chrono::weekday(day).c_encoding() + 6) % 7;
      const sys_days monday = day - days(since_monday);
      return {unixOf(monday), unixOf(monday + days(7))};
    }
    case BudgetPeriod::Month: {
      const std::chrono::year_month_day ymd(day);
      const auto first = ymd.year() / ymd.month() / 1;
      const auto next = first + std::chrono::months(1);
      return {unixOf(sys_days(first)), unixOf(sys_days(next))};
    }
  }
  return {0, std::numeric_limits<int64_t>::max()};
}

std::string isoUtc(int64_t unix_seconds) {
  const sys_seconds t{seconds(unix_seconds)};
  const sys_days day = floor<days>(t);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(t - day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace llmpool::gateway
