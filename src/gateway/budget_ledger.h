#pragma once
// What each gateway key with a budget has spent (gateway.keys[].max_budget), per budget period,
// kept in a SQLite file (gateway.state_file) so that a restart does not hand every key a fresh
// budget. Charges land in memory at once (a request never waits for the disk) and are written
// every `flush_interval`, and on destruction; a crash loses at most that much spend. Each write
// adds this process's new spend to the file's row and reads the total back, so several gateways
// on one machine sharing the file see each other's spend within an interval.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/sqlite_handle.h"
#include "gateway/budget_period.h"
#include "llmpool/clock.h"
#include "llmpool/config.h"
#include "llmpool/error.h"

namespace llmpool::gateway {

/** One key's spend. Owned by the ledger, never destroyed before it; thread-safe. */
class BudgetAccount {
 public:
  explicit BudgetAccount(std::string name) : name_(std::move(name)) {}

  /** USD spent in the period (of kind `period`) that holds `now`. */
  double spent(BudgetPeriod period, SystemTime now);
  /** Adds `usd` to the period that holds `now`. */
  void charge(BudgetPeriod period, SystemTime now, double usd);
  const std::string& name() const { return name_; }

 private:
  friend class BudgetLedger;
  // Under mu_: moves to the period holding `now`; what an earlier period spent stops counting.
  void rollTo(BudgetPeriod period, SystemTime now);

  const std::string name_;
  std::mutex mu_;
  BudgetPeriod period_ = BudgetPeriod::None;
  int64_t period_start_ = 0;
  double recorded_ = 0;  // in the file for this period at the last flush (all processes)
  double pending_ = 0;   // charged here since then, not written yet
};

class BudgetLedger {
 public:
  struct Options {
    std::string path;
    Duration flush_interval = std::chrono::seconds(1);
    /** Called (from the flushing thread) when the file cannot be written (the spend stays in
     *  memory and is written with the next flush): at the first failure, at most once a minute
     *  while it lasts, and once when writing works again. */
    std::function<void(const std::string&)> warn;
    /** How long a write waits for another process's transaction on the file. */
    std::chrono::milliseconds busy_timeout{2000};
  };

  /** Opens (creating) the file and its table, and starts the flushing thread. */
  static Result<std::unique_ptr<BudgetLedger>> open(Options options);
  ~BudgetLedger();  // writes what is pending
  BudgetLedger(const BudgetLedger&) = delete;
  BudgetLedger& operator=(const BudgetLedger&) = delete;

  /** The account recorded under `name`, created on first use with what the file holds for it
   *  in the period holding `now`. The pointer stays valid as long as the ledger. */
  BudgetAccount* account(const std::string& name, BudgetPeriod period, SystemTime now);

  /** Writes every account's pending spend and reads back the file's totals; false (and
   *  `warn`) when the file could not be written. Called by the thread; public for tests. */
  bool flush(SystemTime now);
  const std::string& path() const { return options_.path; }

 private:
  BudgetLedger(Options options, SqliteHandle db);
  void run(std::stop_token stop);
  // Under db_mu_: the row of `name` for `period` starting at `start` (0 when absent or older).
  double readRecorded(const std::string& name, BudgetPeriod period, int64_t start);

  Options options_;
  std::mutex db_mu_;  // the connection and its statements, and the two below
  SqliteHandle db_;
  bool failing_ = false;      // the last flush could not write
  SystemTime last_warned_{};  // when `warn` was last called about it
  Statement upsert_, select_;
  std::mutex accounts_mu_;
  std::map<std::string, std::unique_ptr<BudgetAccount>, std::less<>> accounts_;
  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  std::jthread flusher_;
};

}  // namespace llmpool::gateway
