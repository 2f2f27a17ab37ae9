#include "resilience/retry_budget.h"

#include <algorithm>
#include <chrono>

namespace llmpool::resilience {

namespace {
constexpr size_t kBuckets = 10;
}  // namespace

RetryBudget::RetryBudget(const RetryConfig& config)
    : percent_(std::max(config.budget_percent, 0.0)),
      floor_per_window_(std::max(config.budget_min_per_second, 0.0) *
                        std::chrono::duration<double>(config.budget_window).count()),
      window_(config.budget_window, kBuckets) {}

void RetryBudget::onRequest(MonotonicTime now) {
  std::lock_guard lock(mu_);
  window_.add(now, 1, 0);
}

bool RetryBudget::tryWithdraw(MonotonicTime now) {
  std::lock_guard lock(mu_);
  const WindowCounts counts = window_.totals(now);
  // Compare "retries + 1 <= allowance": the retry being asked for must fit entirely. The small
  // tolerance keeps e.g. 10 requests x 30 % from losing its third retry to rounding.
  if (static_cast<double>(counts.second + 1) > allowance(counts.first) + 1e-9) {
    exhausted_total_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  window_.add(now, 0, 1);
  return true;
}

RetryBudget::Snapshot RetryBudget::snapshot(MonotonicTime now) {
  std::lock_guard lock(mu_);
  const WindowCounts counts = window_.totals(now);
  return Snapshot{counts.first, counts.second, allowance(counts.first),
                  exhausted_total_.load(std::memory_order_relaxed)};
}

double RetryBudget::allowance(uint64_t requests) const {
  return static_cast<double>(requests) * percent_ / 100.0 + floor_per_window_;
}

}  // namespace llmpool::resilience
