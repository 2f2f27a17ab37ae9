#pragma once
// SqliteTaskQueue: the durable TaskQueue ("sqlite:PATH"). Tasks, their state and their results
// live in one table of a WAL-mode database; the scheduling order is mirrored in memory
// (TaskOrder) so a pop costs O(1) plus a primary-key read, whatever the queue length.
//
// Durability: every push/requeue/complete batch is one committed transaction before the call
// returns. With synchronous=NORMAL (the default) a committed transaction survives a process crash
// (kill -9); an OS crash or power loss may roll back the last few, which then run again
// (at-least-once inside, exactly-once results by id). "sqlite:PATH?sync=full" also survives power
// loss, at the cost of an fsync per transaction. See docs/task_processor.md.
//
// A lease is a read: its "leased" mark is written later, with a completion transaction, not in
// one of its own. The mark is bookkeeping only (recoveredOnOpen()): open() turns leased rows back
// into queued ones, so a leased row whose mark was not written yet recovers exactly like a marked
// one.
//
// Cost per task (see docs/benchmarks.md): one INSERT, one primary-key read, one primary-key
// UPDATE for the result (rarely a lease mark). JSON is encoded before the lock is taken, so a
// large push does not stall the dispatcher's leases and completions for its encoding time.
//
// NOTE: one process at a time may run a queue file; a second writer would lease the same tasks.

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/sqlite_handle.h"
#include "tasks/task_order.h"
#include "tasks/task_queue.h"

namespace llmpool::tasks {

using llmpool::SqliteHandle;
using llmpool::Statement;

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

  /** How many leased tasks open() put back in the queue: those whose lease mark was written
   *  (marks are written with the first completion, then at most every 250 ms, on requeue and on
   *  close; a crash can leave the latest leases unmarked, and those are simply still queued). */
  size_t recoveredOnOpen() const { return recovered_; }

  /** Checkpoints the background thread has run that copied WAL frames into the database. */
  uint64_t backgroundCheckpoints() const {
    return background_checkpoints_.load(std::memory_order_relaxed);
  }

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
  Result<void> startCheckpointer(const std::string& path);
  void checkpointSoon();
  Result<void> recover();
  Result<void> exec(const char* sql) const;
  Statement prepare(const char* sql) const;
  // The helpers below require mu_.
  void begin();
  bool commit();
  /** Writes the pending lease marks (unless one was written recently and !force); inside a write
   *  transaction. */
  void writeLeaseMarks(bool force);
  std::vector<LeasedTask> loadAndMark(const std::vector<OrderEntry>& entries);

  SqliteHandle db_;
  mutable std::mutex mu_;
  // The scheduling order has a lock of its own, taken (after mu_) around every change and alone by
  // the readers: queuedCount() and nextDelayed() are called under the processor's lock, which an
  // answer's callback needs too, so they must not wait behind a commit that holds mu_.
  mutable std::mutex order_mu_;
  TaskOrder order_;  // queued tasks; changed under mu_ and order_mu_, read under either
  std::unordered_map<std::string, uint64_t> leased_;  // id -> seq; guarded by mu_
  std::vector<uint64_t> unmarked_leases_;             // seqs leased, mark not yet written; mu_
  std::optional<std::chrono::steady_clock::time_point> marks_written_;  // guarded by mu_
  size_t finished_ = 0;                                                 // guarded by mu_
  size_t recovered_ = 0;
  // The background checkpointer (see kWalCheckpointPages in the .cc).
  std::mutex checkpoint_mu_;
  std::condition_variable_any checkpoint_cv_;
  bool checkpoint_due_ = false;  // guarded by checkpoint_mu_
  std::atomic<uint64_t> background_checkpoints_{0};
  std::jthread checkpointer_;
  // Prepared statements, reused for every call (guarded by mu_).
  Statement insert_, load_, mark_leased_, requeue_, complete_, complete_by_id_, state_, result_,
      begin_, begin_read_, commit_, rollback_;
};

}  // namespace llmpool::tasks
