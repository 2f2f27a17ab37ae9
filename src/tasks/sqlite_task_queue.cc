#include "tasks/sqlite_task_queue.h"

#include <string>

#include "common/json_depth.h"
#include "common/thread_name.h"
#include "tasks/task_json.h"

namespace llmpool::tasks {
namespace {

// Task states as stored in tasks.state. Leased rows are what a crash leaves behind; open()
// re-queues them. A task is finished when it has a row in `results` (kFinished only appears in
// databases written before the results table existed; open() moves their results over).
constexpr int kQueued = 0;
constexpr int kLeased = 1;
constexpr int kFinished = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS tasks (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL UNIQUE,
  priority      INTEGER NOT NULL,
  state         INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  enqueued_ms   INTEGER NOT NULL,
  not_before_ms INTEGER,
  task          TEXT NOT NULL,
  result        TEXT,     -- unused since the results table (kept for old databases)
  finished_ms   INTEGER   -- idem
);
-- An index on state would be updated by every lease and completion, and only open() scans by
-- state (once, a full scan in seq order, which the rowid order gives for free).
DROP INDEX IF EXISTS tasks_by_state;
-- Results live in their own table, keyed by the task's seq, so storing one is an append in
-- completion order: the results of one commit share a few fresh pages. Written into the task
-- rows instead, each result grew a row scattered over the table, and every commit rewrote (and
-- split) as many pages as it had results, several times per page over a batch.
CREATE TABLE IF NOT EXISTS results (
  seq         INTEGER PRIMARY KEY,  -- tasks.seq
  result      TEXT NOT NULL,
  finished_ms INTEGER NOT NULL
);
INSERT OR IGNORE INTO results(seq, result, finished_ms)
  SELECT seq, result, COALESCE(finished_ms, 0) FROM tasks WHERE state = 2 AND result IS NOT NULL;
)sql";

// "The task row has no result yet", for statements over `tasks`.
#define LLMPOOL_UNFINISHED "NOT EXISTS (SELECT 1 FROM results r WHERE r.seq = tasks.seq)"

// Page cache of the connection, in KiB (negative cache_size). The queue reads each task once
// (lease) and writes its row twice (insert, result), in roughly seq order; 16 MiB keeps the
// recently inserted pages of a large batch from being re-read from the OS.
constexpr int kCacheKiB = 16 * 1024;

// WAL pages that trigger a checkpoint (SQLite's default is 1,000 = 4 MiB). A checkpoint copies
// the WAL back into the database file and syncs it. SQLite's automatic checkpoint runs inside the
// commit that crosses the limit, i.e. under the queue's lock on the dispatcher's or a submitter's
// thread, and its fsync stalled every lease and completion behind it (seconds when the disk is
// busy). So the queue's connection never checkpoints: a background thread with its own
// connection runs PASSIVE checkpoints (they never block the writer) when the WAL hook reports
// this many pages. A larger WAL also coalesces rewrites of one page into one copy.
constexpr int kWalCheckpointPages = 2048;
// A PASSIVE checkpoint racing a stream of commits rarely catches the WAL's very end, and the WAL
// only restarts from its beginning once everything was copied. Past this size the committing
// connection finishes the job itself (little is left to copy by then), which bounds the WAL file.
constexpr int kWalInlineCheckpointPages = 4 * kWalCheckpointPages;

// Lease marks ride along with a completion transaction at most this often (and always with the
// first one, a requeue and the close). Most tasks finish within the period, so their mark would
// be a page write for nothing; see the header for why a missing mark loses nothing.
constexpr std::chrono::milliseconds kLeaseMarkEvery{250};

void bindText(sqlite3_stmt* s, int index, const std::string& text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// For text that outlives the statement's next reset (every caller resets right after the step).
void bindTextNoCopy(sqlite3_stmt* s, int index, const std::string& text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// Valid until the statement is stepped or reset again.
std::string_view columnView(sqlite3_stmt* s, int index) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, index));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s, index)))
           : std::string_view();
}

std::string columnText(sqlite3_stmt* s, int index) { return std::string(columnView(s, index)); }

// Runs a prepared statement that returns no rows, and resets it for reuse.
int run(sqlite3_stmt* s) {
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return rc;
}

int64_t nowMillis(SystemTime now) { return toUnixMillis(now); }

}  // namespace

SqliteTaskQueue::SqliteTaskQueue(SqliteHandle db, const QueueOptions& options)
    : db_(std::move(db)), order_(options.aging_after) {}

Result<void> SqliteTaskQueue::startCheckpointer(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteHandle db(raw);
  if (rc != SQLITE_OK) {
    return fail(ErrorCode::InvalidConfig,
                "task queue database '" + path + "': cannot open a second connection");
  }
  sqlite3_busy_timeout(db.get(), 5000);
  // A connection opens the database (and learns that it is in WAL mode) on its first statement;
  // until then SQLite 3.40 treats a checkpoint on it as a no-op that reports success.
  if (sqlite3_exec(db.get(), "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return fail(ErrorCode::InvalidConfig,
                "task queue database '" + path +
                    "': the checkpoint connection cannot read it: " + sqlite3_errmsg(db.get()));
  }
  sqlite3_wal_hook(
      db_.get(),
      [](void* self, sqlite3* writer, const char*, int pages) -> int {
        if (pages >= kWalInlineCheckpointPages) {
          sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        } else if (pages >= kWalCheckpointPages) {
          static_cast<SqliteTaskQueue*>(self)->checkpointSoon();
        }
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::jthread([this, conn = std::move(db)](std::stop_token stop) {
    setCurrentThreadName("llmpool-ckpt");
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu_);
        checkpoint_cv_.wait(lock, stop, [&] { return checkpoint_due_; });
        if (stop.stop_requested()) return;
        checkpoint_due_ = false;
      }
      int copied = 0;
      sqlite3_wal_checkpoint_v2(conn.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied);
      if (copied > 0) background_checkpoints_.fetch_add(1, std::memory_order_relaxed);
    }
  });
  return {};
}

void SqliteTaskQueue::checkpointSoon() {
  {
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_due_ = true;
  }
  checkpoint_cv_.notify_one();
}

SqliteTaskQueue::~SqliteTaskQueue() {
  if (checkpointer_.joinable()) {
    checkpointer_.request_stop();
    checkpointer_.join();  // before the queue's connection closes (it checkpoints on close)
  }
  // Statements must be finalized before the connection closes; members are destroyed in reverse
  // declaration order, so the statements (declared after db_) already go first. Reset them
  // explicitly anyway so an unfinished statement never keeps the WAL busy.
  {
    // Best effort: a clean close records the last leases too (a crash just leaves them queued).
    std::lock_guard lock(mu_);
    if (!unmarked_leases_.empty() && begin_ && mark_leased_ && commit_ && rollback_) {
      begin();
      writeLeaseMarks(/*force=*/true);
      commit();
    }
  }
  for (Statement* s : {&insert_, &load_, &mark_leased_, &requeue_, &complete_, &complete_by_id_,
                       &state_, &result_, &begin_, &begin_read_, &commit_, &rollback_}) {
    s->reset();
  }
}

Result<std::unique_ptr<SqliteTaskQueue>> SqliteTaskQueue::open(const Settings& settings,
                                                               const QueueOptions& options) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(settings.path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteHandle db(raw);
  if (rc != SQLITE_OK) {
    std::string why = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return fail(ErrorCode::InvalidConfig,
                "cannot open task queue database '" + settings.path + "': " + why);
  }
  std::unique_ptr<SqliteTaskQueue> q(new SqliteTaskQueue(std::move(db), options));
  // WAL: readers never block the writer and a commit is one sequential append.
  // synchronous=NORMAL in WAL mode syncs at checkpoints only: durable against process crashes.
  const std::string pragmas =
      std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
      (settings.full_sync ? "FULL" : "NORMAL") +
      "; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-" +
      std::to_string(kCacheKiB) + "; PRAGMA wal_autocheckpoint=0;";
  for (const char* sql : {pragmas.c_str(), kSchema}) {
    if (auto ok = q->exec(sql); !ok) {
      Error e = ok.error();
      e.code = ErrorCode::InvalidConfig;
      e.message = "task queue database '" + settings.path + "': " + e.message;
      return std::unexpected(std::move(e));
    }
  }
  if (auto ok = q->prepareAll(); !ok) return std::unexpected(ok.error());
  if (auto ok = q->startCheckpointer(settings.path); !ok) return std::unexpected(ok.error());
  if (auto ok = q->recover(); !ok) return std::unexpected(ok.error());
  return q;
}

Result<void> SqliteTaskQueue::exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "unknown sqlite error";
    sqlite3_free(err);
    return fail(ErrorCode::Internal, message);
  }
  return {};
}

Statement SqliteTaskQueue::prepare(const char* sql) const {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  return Statement(s);
}

Result<void> SqliteTaskQueue::prepareAll() {
  insert_ = prepare(
      "INSERT OR IGNORE INTO tasks(id, priority, state, attempts, enqueued_ms, task) "
      "VALUES(?1, ?2, 0, 0, ?3, ?4)");
  load_ = prepare("SELECT task, attempts, enqueued_ms FROM tasks WHERE seq = ?1");
  mark_leased_ =
      prepare("UPDATE tasks SET state = 1 WHERE seq = ?1 AND state = 0 AND " LLMPOOL_UNFINISHED);
  requeue_ = prepare(
      "UPDATE tasks SET state = 0, attempts = ?2, not_before_ms = ?3 WHERE seq = ?1 AND "
      "state <> 2 AND " LLMPOOL_UNFINISHED);
  // Exactly-once: a second result for a seq is ignored (changes() == 0). By seq for leased tasks,
  // by id (unknown id: no row) for anything else.
  complete_ = prepare("INSERT OR IGNORE INTO results(seq, result, finished_ms) VALUES(?1, ?2, ?3)");
  complete_by_id_ = prepare(
      "INSERT OR IGNORE INTO results(seq, result, finished_ms) "
      "SELECT seq, ?2, ?3 FROM tasks WHERE id = ?1 AND state <> 2");
  state_ = prepare("SELECT state, NOT " LLMPOOL_UNFINISHED " FROM tasks WHERE id = ?1");
  result_ = prepare("SELECT r.result FROM tasks t JOIN results r ON r.seq = t.seq WHERE t.id = ?1");
  begin_ = prepare("BEGIN IMMEDIATE");
  begin_read_ = prepare("BEGIN DEFERRED");
  commit_ = prepare("COMMIT");
  rollback_ = prepare("ROLLBACK");
  for (const Statement* s :
       {&insert_, &load_, &mark_leased_, &requeue_, &complete_, &complete_by_id_, &state_, &result_,
        &begin_, &begin_read_, &commit_, &rollback_}) {
    if (!*s) return fail(ErrorCode::Internal, std::string("sqlite: ") + sqlite3_errmsg(db_.get()));
  }
  return {};
}

Result<void> SqliteTaskQueue::recover() {
  std::lock_guard lock(mu_);
  // Tasks leased by a run that died were possibly sent but have no stored result: send again.
  static_assert(kQueued == 0 && kLeased == 1 && kFinished == 2, "the SQL below spells them out");
  if (auto ok = exec("UPDATE tasks SET state = 0 WHERE state = 1 AND " LLMPOOL_UNFINISHED); !ok)
    return ok;
  recovered_ = static_cast<size_t>(sqlite3_changes(db_.get()));
  Statement scan = prepare(
      "SELECT seq, id, priority, enqueued_ms, not_before_ms FROM tasks WHERE state = 0 "
      "AND " LLMPOOL_UNFINISHED " ORDER BY seq");
  while (sqlite3_step(scan.get()) == SQLITE_ROW) {
    OrderEntry e;
    e.seq = static_cast<uint64_t>(sqlite3_column_int64(scan.get(), 0));
    e.id = columnText(scan.get(), 1);
    e.priority = static_cast<Priority>(sqlite3_column_int(scan.get(), 2) & 3);
    e.enqueued_at = fromUnixMillis(sqlite3_column_int64(scan.get(), 3));
    std::optional<SystemTime> not_before;
    if (sqlite3_column_type(scan.get(), 4) != SQLITE_NULL) {
      not_before = fromUnixMillis(sqlite3_column_int64(scan.get(), 4));
    }
    std::lock_guard order_lock(order_mu_);
    order_.add(std::move(e), not_before);
  }
  Statement count = prepare("SELECT COUNT(*) FROM results");
  if (sqlite3_step(count.get()) == SQLITE_ROW) {
    finished_ = static_cast<size_t>(sqlite3_column_int64(count.get(), 0));
  }
  return {};
}

void SqliteTaskQueue::begin() { run(begin_.get()); }
bool SqliteTaskQueue::commit() {
  if (run(commit_.get()) == SQLITE_DONE) return true;
  run(rollback_.get());
  return false;
}

void SqliteTaskQueue::writeLeaseMarks(bool force) {
  if (unmarked_leases_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && marks_written_ && now - *marks_written_ < kLeaseMarkEvery) return;
  marks_written_ = now;
  // After this transaction's results: a task that already finished matches no row (state = 0
  // fails), so its mark costs a lookup but no page write.
  for (const uint64_t seq : unmarked_leases_) {
    sqlite3_bind_int64(mark_leased_.get(), 1, static_cast<int64_t>(seq));
    run(mark_leased_.get());
  }
  // Cleared even if the transaction later rolls back: the marks are bookkeeping (see the header).
  unmarked_leases_.clear();
}

std::vector<Result<void>> SqliteTaskQueue::push(std::vector<Task> tasks, SystemTime now) {
  std::vector<Result<void>> out;
  out.reserve(tasks.size());
  std::vector<OrderEntry> added;
  // Encoding is most of a push's cost and needs no lock.
  std::vector<std::string> encoded;
  encoded.reserve(tasks.size());
  for (const auto& task : tasks) encoded.push_back(task.id.empty() ? "" : taskToJsonText(task));
  std::lock_guard lock(mu_);
  begin();
  for (size_t i = 0; i < tasks.size(); ++i) {
    Task& task = tasks[i];
    if (task.id.empty()) {
      out.push_back(fail(ErrorCode::InvalidRequest, "task id is empty"));
      continue;
    }
    bindTextNoCopy(insert_.get(), 1, task.id);
    sqlite3_bind_int(insert_.get(), 2, static_cast<int>(task.priority));
    sqlite3_bind_int64(insert_.get(), 3, nowMillis(now));
    bindTextNoCopy(insert_.get(), 4, encoded[i]);
    const int rc = run(insert_.get());
    if (rc != SQLITE_DONE) {
      out.push_back(fail(ErrorCode::Internal,
                         std::string("sqlite insert failed: ") + sqlite3_errmsg(db_.get())));
      continue;
    }
    if (sqlite3_changes(db_.get()) == 0) {
      out.push_back(fail(ErrorCode::InvalidRequest, "duplicate task id '" + task.id + "'"));
      continue;
    }
    added.push_back(OrderEntry{.id = std::move(task.id),
                               .seq = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_.get())),
                               .priority = task.priority,
                               .enqueued_at = fromUnixMillis(nowMillis(now))});
    out.emplace_back();
  }
  if (run(commit_.get()) != SQLITE_DONE) {
    // Nothing was stored: report every task of the batch as failed.
    const std::string why = sqlite3_errmsg(db_.get());
    run(rollback_.get());
    for (auto& r : out) {
      if (r) r = fail(ErrorCode::Internal, "sqlite commit failed: " + why);
    }
    return out;
  }
  {
    std::lock_guard order_lock(order_mu_);
    for (auto& e : added) order_.add(std::move(e));
  }
  return out;
}

std::vector<LeasedTask> SqliteTaskQueue::loadAndMark(const std::vector<OrderEntry>& entries) {
  std::vector<LeasedTask> out;
  out.reserve(entries.size());
  if (entries.empty()) return out;
  run(begin_read_.get());  // one read snapshot for the batch instead of one per row
  for (const auto& e : entries) {
    LeasedTask lt;
    lt.seq = e.seq;
    lt.enqueued_at = e.enqueued_at;
    lt.task.id = e.id;
    lt.task.priority = e.priority;
    sqlite3_stmt* s = load_.get();
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(e.seq));
    if (sqlite3_step(s) == SQLITE_ROW) {
      lt.attempts = sqlite3_column_int(s, 1);
      auto task = taskFromJsonText(columnView(s, 0));
      if (task) {
        lt.task = std::move(*task);
      } else {
        lt.load_error = task.error();
      }
    } else {
      lt.load_error = Error(ErrorCode::Internal, "stored task row is missing");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    unmarked_leases_.push_back(e.seq);
    leased_.emplace(e.id, e.seq);
    out.push_back(std::move(lt));
  }
  run(commit_.get());
  return out;
}

std::vector<LeasedTask> SqliteTaskQueue::lease(size_t max, SystemTime now) {
  std::lock_guard lock(mu_);
  std::vector<OrderEntry> picked;
  {
    std::lock_guard order_lock(order_mu_);
    while (picked.size() < max) {
      auto e = order_.popBest(now);
      if (!e) break;
      picked.push_back(std::move(*e));
    }
  }
  return loadAndMark(picked);
}

std::optional<LeasedTask> SqliteTaskQueue::leaseById(const std::string& id) {
  std::lock_guard lock(mu_);
  // The order only knows ids; find the entry's keys through a targeted pop.
  if (!order_.contains(id)) return std::nullopt;
  Statement s = prepare("SELECT seq, priority, enqueued_ms FROM tasks WHERE id = ?1");
  bindText(s.get(), 1, id);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  OrderEntry e{.id = id,
               .seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0)),
               .priority = static_cast<Priority>(sqlite3_column_int(s.get(), 1) & 3),
               .enqueued_at = fromUnixMillis(sqlite3_column_int64(s.get(), 2))};
  {
    std::lock_guard order_lock(order_mu_);
    order_.remove(id);
  }
  auto out = loadAndMark({e});
  return std::move(out.front());
}

std::optional<LeasedTask> SqliteTaskQueue::leaseLowestBelow(Priority than) {
  std::lock_guard lock(mu_);
  std::optional<OrderEntry> e;
  {
    std::lock_guard order_lock(order_mu_);
    e = order_.popLowestBelow(than);
  }
  if (!e) return std::nullopt;
  auto out = loadAndMark({*e});
  return std::move(out.front());
}

std::vector<LeasedTask> SqliteTaskQueue::leaseAll() {
  std::lock_guard lock(mu_);
  std::vector<OrderEntry> all;
  {
    std::lock_guard order_lock(order_mu_);
    all = order_.popAll();
  }
  return loadAndMark(all);
}

void SqliteTaskQueue::requeue(std::vector<RequeueItem> items) {
  std::lock_guard lock(mu_);
  begin();
  writeLeaseMarks(/*force=*/true);
  std::vector<std::pair<OrderEntry, SystemTime>> back;
  for (auto& item : items) {
    const std::string& id = item.leased.task.id;
    auto it = leased_.find(id);
    if (it == leased_.end()) continue;
    sqlite3_bind_int64(requeue_.get(), 1, static_cast<int64_t>(it->second));
    sqlite3_bind_int(requeue_.get(), 2, item.leased.attempts);
    sqlite3_bind_int64(requeue_.get(), 3, nowMillis(item.not_before));
    run(requeue_.get());
    back.emplace_back(OrderEntry{.id = id,
                                 .seq = item.leased.seq,
                                 .priority = item.leased.task.priority,
                                 .enqueued_at = item.leased.enqueued_at},
                      item.not_before);
  }
  commit();
  for (auto& [e, not_before] : back) {
    leased_.erase(e.id);
    std::lock_guard order_lock(order_mu_);
    order_.add(std::move(e), not_before);
  }
}

std::vector<bool> SqliteTaskQueue::complete(const std::vector<TaskResult>& results) {
  std::vector<bool> stored;
  stored.reserve(results.size());
  std::vector<std::string> encoded;  // outside the lock, as in push()
  encoded.reserve(results.size());
  for (const auto& r : results) encoded.push_back(taskResultToJsonText(r));
  const int64_t finished_ms = nowMillis(std::chrono::system_clock::now());
  std::lock_guard lock(mu_);
  begin();
  for (size_t i = 0; i < results.size(); ++i) {
    const TaskResult& r = results[i];
    auto leased = leased_.find(r.task_id);
    sqlite3_stmt* s = leased != leased_.end() ? complete_.get() : complete_by_id_.get();
    if (leased != leased_.end()) {
      sqlite3_bind_int64(s, 1, static_cast<int64_t>(leased->second));
    } else {
      bindTextNoCopy(s, 1, r.task_id);
    }
    bindTextNoCopy(s, 2, encoded[i]);
    sqlite3_bind_int64(s, 3, finished_ms);
    const bool ok = run(s) == SQLITE_DONE && sqlite3_changes(db_.get()) == 1;
    stored.push_back(ok);
  }
  writeLeaseMarks(/*force=*/false);
  if (run(commit_.get()) != SQLITE_DONE) {
    run(rollback_.get());
    stored.assign(results.size(), false);
    return stored;
  }
  for (size_t i = 0; i < results.size(); ++i) {
    if (!stored[i]) continue;
    ++finished_;
    if (leased_.erase(results[i].task_id) == 0) {
      std::lock_guard order_lock(order_mu_);
      order_.remove(results[i].task_id);
    }
  }
  return stored;
}

std::optional<TaskState> SqliteTaskQueue::state(const std::string& id) const {
  std::lock_guard lock(mu_);
  if (leased_.contains(id)) return TaskState::Running;
  if (order_.contains(id)) return TaskState::Queued;
  bindText(state_.get(), 1, id);
  std::optional<TaskState> out;
  if (sqlite3_step(state_.get()) == SQLITE_ROW) {
    const int s = sqlite3_column_int(state_.get(), 0);
    const bool has_result = sqlite3_column_int(state_.get(), 1) != 0;
    out = s == kFinished || has_result ? TaskState::Finished
                                       : (s == kQueued ? TaskState::Queued : TaskState::Running);
  }
  sqlite3_reset(state_.get());
  sqlite3_clear_bindings(state_.get());
  return out;
}

std::optional<TaskResult> SqliteTaskQueue::result(const std::string& id) const {
  std::lock_guard lock(mu_);
  bindText(result_.get(), 1, id);
  std::optional<TaskResult> out;
  if (sqlite3_step(result_.get()) == SQLITE_ROW) {
    auto json = parseJsonBounded(columnText(result_.get(), 0));
    if (!json.is_discarded()) {
      if (auto r = taskResultFromJson(json)) out = std::move(*r);
    }
  }
  sqlite3_reset(result_.get());
  sqlite3_clear_bindings(result_.get());
  return out;
}

void SqliteTaskQueue::forEachResult(const std::function<void(const TaskResult&)>& fn) const {
  std::lock_guard lock(mu_);
  Statement scan = prepare("SELECT result FROM results ORDER BY seq");
  while (sqlite3_step(scan.get()) == SQLITE_ROW) {
    auto json = parseJsonBounded(columnText(scan.get(), 0));
    if (json.is_discarded()) continue;
    if (auto r = taskResultFromJson(json)) fn(*r);
  }
}

QueueCounts SqliteTaskQueue::counts() const {
  std::lock_guard lock(mu_);
  QueueCounts c;
  c.leased = leased_.size();
  c.finished = finished_;
  std::lock_guard order_lock(order_mu_);
  c.queued = order_.size();
  for (int p = 0; p < kPriorityCount; ++p) {
    c.queued_by_priority[static_cast<size_t>(p)] = order_.count(static_cast<Priority>(p));
  }
  return c;
}

size_t SqliteTaskQueue::queuedCount() const {
  std::lock_guard lock(order_mu_);  // not mu_: never waits for a commit in progress
  return order_.size();
}

std::optional<SystemTime> SqliteTaskQueue::nextDelayed() const {
  std::lock_guard lock(order_mu_);
  return order_.nextDelayed();
}

}  // namespace llmpool::tasks

#undef LLMPOOL_UNFINISHED
