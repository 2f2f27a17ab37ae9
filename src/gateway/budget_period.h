#pragma once
// The calendar periods a key's budget is counted over (gateway.keys[].budget_period), in UTC:
// an hour from :00, a day from 00:00, a week from Monday 00:00, a month from the 1st 00:00.
// Calendar periods, not rolling windows, because that is how budgets are set and billed.

#include <cstdint>
#include <string>

#include "llmpool/clock.h"
#include "llmpool/config.h"

namespace llmpool::gateway {

/** [start, end) in unix seconds. BudgetPeriod::None is one period from the epoch to the end of
 *  time (end = INT64_MAX): the budget never resets. */
struct PeriodBounds {
  int64_t start = 0;
  int64_t end = 0;

  bool operator==(const PeriodBounds&) const = default;
};

PeriodBounds periodAt(BudgetPeriod period, SystemTime now);

/** "2026-12-01T00:00:00Z" for a unix time in seconds. */
std::string isoUtc(int64_t unix_seconds);

}  // namespace llmpool::gateway
