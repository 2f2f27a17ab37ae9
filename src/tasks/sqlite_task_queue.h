#pragma once
// SqliteTaskQueue: the durable TaskQueue ("sqlite:PATH"). Tasks, their state and their results
// live in one table of a WAL-mode database; the scheduling order is mirrored in memory
// (TaskOrder) so a pop costs O(1) plus a primary-key read, whatever the queue length.
//
// Durability: every push/lease/requeue/complete batch is one committed transaction. With
// synchronous=NORMAL (the default) a committed transaction survives a process crash (kill -9);
// an OS crash or power loss may roll back the last few, which then run again (at-least-once
// inside, exactly-once results by id). "sqlite:PATH?sync=full" also survives power loss, at the
// cost of an fsync per transaction. See docs/task_processor.md.
//
// NOTE: one process at a time may run a queue file; a second writer would lease the same tasks.

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "tasks/task_order.h"
#include "tasks/task_queue.h"

namespace llmpool::tasks {

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

class SqliteTaskQueue final : public TaskQueue {
 public:
  struct Settings {
    std::string path;
    bool full_sync = false;  // synchronous=FULL instead of NORMAL
  };

  /** Opens (creating if needed) and recovers: leased tasks of an earlier run become queued. */
  static Result<std::unique_ptr<SqliteTaskQueue>> open(const Settings& settings,
                                                       const QueueOptions& options);
  ~SqliteTaskQueue() override;

  /** How many leased tasks open() put back in the queue. */
  size_t recoveredOnOpen() const { return recovered_; }

  // TaskQueue
  std::string_view kind() const override { return "sqlite"; }
  bool durable() const override { return true; }
  std::vector<Result<void>> push(std::vector<Task> tasks, SystemTime now) override;
  std::vector<LeasedTask> lease(size_t max, SystemTime now) override;
  std::optional<LeasedTask> leaseById(const std::string& id) override;
  std::optional<LeasedTask> leaseLowestBelow(Priority than) override;
  std::vector<LeasedTask> leaseAll() override;
  void requeue(std::vector<RequeueItem> items) override;
  std::vector<bool> complete(const std::vector<TaskResult>& results) override;
  std::optional<TaskState> state(const std::string& id) const override;
  std::optional<TaskResult> result(const std::string& id) const override;
  void forEachResult(const std::function<void(const TaskResult&)>& fn) const override;
  QueueCounts counts() const override;
  size_t queuedCount() const override;
  std::optional<SystemTime> nextDelayed() const override;

 private:
  SqliteTaskQueue(SqliteHandle db, const QueueOptions& options);
  Result<void> prepareAll();
  Result<void> recover();
  Result<void> exec(const char* sql) const;
  Statement prepare(const char* sql) const;
  // The helpers below require mu_.
  void begin();
  void commit();
  std::vector<LeasedTask> loadAndMark(const std::vector<OrderEntry>& entries);

  SqliteHandle db_;
  mutable std::mutex mu_;
  TaskOrder order_;                         // queued tasks; guarded by mu_
  std::unordered_set<std::string> leased_;  // guarded by mu_
  size_t finished_ = 0;                     // guarded by mu_
  size_t recovered_ = 0;
  // Prepared statements, reused for every call (guarded by mu_).
  Statement insert_, load_, mark_leased_, requeue_, complete_, state_, result_, begin_, commit_,
      rollback_;
};

}  // namespace llmpool::tasks
