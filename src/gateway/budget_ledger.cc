#include "gateway/budget_ledger.h"

#include <algorithm>
#include <vector>

#include "common/thread_name.h"
#include "config/config_loader.h"

namespace llmpool::gateway {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS key_spend ("
    " name TEXT PRIMARY KEY,"
    " period TEXT NOT NULL,"           // hour, day, week, month, or '' (never resets)
    " period_start INTEGER NOT NULL,"  // unix seconds, UTC
    " spend_usd REAL NOT NULL,"
    " updated_at INTEGER NOT NULL)";

// Adds a process's new spend to the row, or starts the row afresh when it holds an earlier (or
// another kind of) period; a row already in a later period (another process moved on first) is
// left alone. SET expressions see the row as it was, so their order does not matter.
constexpr const char* kUpsert =
    "INSERT INTO key_spend (name, period, period_start, spend_usd, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT (name) DO UPDATE SET"
    "  spend_usd = CASE"
    "   WHEN period = excluded.period AND period_start = excluded.period_start"
    "    THEN spend_usd + excluded.spend_usd"
    "   WHEN period <> excluded.period OR period_start < excluded.period_start"
    "    THEN excluded.spend_usd"
    "   ELSE spend_usd END,"
    "  period_start = CASE"
    "   WHEN period <> excluded.period OR period_start < excluded.period_start"
    "    THEN excluded.period_start ELSE period_start END,"
    "  period = excluded.period,"
    "  updated_at = excluded.updated_at"
    " RETURNING spend_usd, period, period_start";

constexpr const char* kSelect =
    "SELECT spend_usd FROM key_spend WHERE name = ?1 AND period = ?2 AND period_start = ?3";

int64_t unixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void bindText(sqlite3_stmt* s, int index, std::string_view text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

}  // namespace

void BudgetAccount::rollTo(BudgetPeriod period, SystemTime now) {
  const PeriodBounds bounds = periodAt(period, now);
  if (period == period_ && bounds.start == period_start_) return;
  // A clock stepped back must not bring an earlier period back.
  if (period == period_ && bounds.start < period_start_) return;
  period_ = period;
  period_start_ = bounds.start;
  recorded_ = 0;
  pending_ = 0;
}

double BudgetAccount::spent(BudgetPeriod period, SystemTime now) {
  std::lock_guard lock(mu_);
  rollTo(period, now);
  return recorded_ + pending_;
}

void BudgetAccount::charge(BudgetPeriod period, SystemTime now, double usd) {
  if (!(usd > 0.0)) return;
  std::lock_guard lock(mu_);
  rollTo(period, now);
  pending_ += usd;
}

BudgetLedger::BudgetLedger(Options options, SqliteHandle db)
    : options_(std::move(options)), db_(std::move(db)) {}

Result<std::unique_ptr<BudgetLedger>> BudgetLedger::open(Options options) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(options.path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteHandle db(raw);
  const auto failed = [&](const std::string& what) {
    const std::string why = db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
    return fail(ErrorCode::InvalidConfig,
                "gateway.state_file '" + options.path + "': " + what + ": " + why);
  };
  if (rc != SQLITE_OK) return failed("cannot open it");
  // Several gateways may share the file: wait for each other's short write transactions.
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  if (sqlite3_exec(db.get(), "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db.get(), kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return failed("cannot create its table");
  }
  sqlite3_stmt* upsert = nullptr;
  sqlite3_stmt* select = nullptr;
  if (sqlite3_prepare_v2(db.get(), kUpsert, -1, &upsert, nullptr) != SQLITE_OK) {
    return failed("cannot prepare the spend update");
  }
  Statement upsert_owner(upsert);
  if (sqlite3_prepare_v2(db.get(), kSelect, -1, &select, nullptr) != SQLITE_OK) {
    return failed("cannot prepare the spend query");
  }
  std::unique_ptr<BudgetLedger> ledger(new BudgetLedger(std::move(options), std::move(db)));
  ledger->upsert_ = std::move(upsert_owner);
  ledger->select_.reset(select);
  ledger->flusher_ = std::jthread([l = ledger.get()](std::stop_token stop) { l->run(stop); });
  return ledger;
}

BudgetLedger::~BudgetLedger() {
  if (flusher_.joinable()) {
    flusher_.request_stop();
    flusher_.join();
  }
  flush(std::chrono::system_clock::now());
}

void BudgetLedger::run(std::stop_token stop) {
  setCurrentThreadName("llmpool-spend");
  std::unique_lock lock(wake_mu_);
  while (!stop.stop_requested()) {
    wake_.wait_for(lock, stop, options_.flush_interval, [] { return false; });
    if (stop.stop_requested()) return;
    lock.unlock();
    flush(std::chrono::system_clock::now());
    lock.lock();
  }
}

double BudgetLedger::readRecorded(const std::string& name, BudgetPeriod period, int64_t start) {
  sqlite3_stmt* s = select_.get();
  bindText(s, 1, name);
  bindText(s, 2, config::budgetPeriodName(period));
  sqlite3_bind_int64(s, 3, start);
  const double spend = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0.0;
  sqlite3_reset(s);
  return spend;
}

BudgetAccount* BudgetLedger::account(const std::string& name, BudgetPeriod period, SystemTime now) {
  std::lock_guard lock(accounts_mu_);
  if (auto it = accounts_.find(name); it != accounts_.end()) return it->second.get();
  auto account = std::make_unique<BudgetAccount>(name);
  const PeriodBounds bounds = periodAt(period, now);
  account->period_ = period;
  account->period_start_ = bounds.start;
  {
    std::lock_guard db_lock(db_mu_);
    account->recorded_ = readRecorded(name, period, bounds.start);
  }
  return accounts_.emplace(name, std::move(account)).first->second.get();
}

bool BudgetLedger::flush(SystemTime now) {
  struct Pending {
    BudgetAccount* account;
    BudgetPeriod period;
    int64_t start;
    double delta;
    double total = 0;  // the row's spend after the write, when it is this period's
    bool total_known = false;
  };
  std::vector<Pending> batch;
  {
    std::lock_guard lock(accounts_mu_);
    batch.reserve(accounts_.size());
    for (auto& [name, a] : accounts_) {
      std::lock_guard account_lock(a->mu_);
      batch.push_back({a.get(), a->period_, a->period_start_, a->pending_});
      a->pending_ = 0;
    }
  }
  if (batch.empty()) return true;
  std::string error;
  std::string warning;
  {
    std::lock_guard db_lock(db_mu_);
    sqlite3* db = db_.get();
    // Nothing new: only read the totals (what other processes spent), so an idle gateway does
    // not write to the disk every second.
    const bool writes =
        std::any_of(batch.begin(), batch.end(), [](const Pending& p) { return p.delta != 0; });
    bool ok = sqlite3_exec(db, writes ? "BEGIN IMMEDIATE" : "BEGIN", nullptr, nullptr, nullptr) ==
              SQLITE_OK;
    for (Pending& p : batch) {
      if (!ok) break;
      if (p.delta == 0) {
        p.total = readRecorded(p.account->name(), p.period, p.start);
        p.total_known = true;
        continue;
      }
      sqlite3_stmt* s = upsert_.get();
      bindText(s, 1, p.account->name());
      const std::string_view period = config::budgetPeriodName(p.period);
      bindText(s, 2, period);
      sqlite3_bind_int64(s, 3, p.start);
      sqlite3_bind_double(s, 4, p.delta);
      sqlite3_bind_int64(s, 5, unixSeconds(now));
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) {
        const auto* row_period = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
        p.total_known = row_period && period == row_period && sqlite3_column_int64(s, 2) == p.start;
        p.total = sqlite3_column_double(s, 0);
        ok = sqlite3_step(s) == SQLITE_DONE;
      } else {
        ok = false;
      }
      sqlite3_reset(s);
    }
    if (ok) ok = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    if (!ok) {
      error = sqlite3_errmsg(db);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    // One warning when writing stops working, then one a minute, and one when it works again.
    if (!error.empty() && (!failing_ || now - last_warned_ >= std::chrono::minutes(1))) {
      warning =
          "gateway.state_file '" + options_.path +
          "': cannot record the keys' spend (kept in memory, written at the next try): " + error;
      last_warned_ = now;
    } else if (error.empty() && failing_) {
      warning = "gateway.state_file '" + options_.path + "': the keys' spend is recorded again";
    }
    failing_ = !error.empty();
  }
  for (const Pending& p : batch) {
    BudgetAccount& a = *p.account;
    std::lock_guard lock(a.mu_);
    if (a.period_ != p.period || a.period_start_ != p.start) continue;  // moved on meanwhile
    if (!error.empty()) {
      a.pending_ += p.delta;  // written next time
    } else {
      a.recorded_ = p.total_known ? p.total : a.recorded_ + p.delta;
    }
  }
  if (!warning.empty() && options_.warn) options_.warn(warning);
  return error.empty();
}

}  // namespace llmpool::gateway
