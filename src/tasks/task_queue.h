#pragma once
// TaskQueue: the storage behind the BackgroundProcessor. A task moves
//   queued -> leased (sent) -> finished (result stored)         or
//   queued -> leased -> queued again (task-level retry, with a not-before time).
// Implementations: MemoryTaskQueue (memory_task_queue.h) and SqliteTaskQueue (sqlite_task_queue.h).
// Every method is thread-safe. Batch forms exist so a durable backend can use one transaction for
// many tasks: throughput comes from batching, not from weaker durability.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmpool/clock.h"
#include "llmpool/error.h"
#include "llmpool/task.h"

namespace llmpool::tasks {

/** A task handed out by lease(): it is now "leased" until completed or requeued. */
struct LeasedTask {
  Task task;
  uint64_t seq = 0;  // position in its priority class; kept across retries
  int attempts = 0;  // times it was sent before this lease
  SystemTime enqueued_at{};
  /** Set when the stored task could not be read back; the caller completes it with this error. */
  std::optional<Error> load_error;
};

struct RequeueItem {
  LeasedTask leased;  // with `attempts` updated by the caller
  SystemTime not_before{};
};

struct QueueCounts {
  size_t queued = 0;  // ready and delayed
  size_t leased = 0;
  size_t finished = 0;  // memory: the retained ones
  std::array<size_t, kPriorityCount> queued_by_priority{};
};

struct QueueOptions {
  /** <= 0: off. Else a waiting task is promoted one class per aging_after waited. */
  Duration aging_after{};
  /** Memory backend: how many finished results are kept for lookups and duplicate detection. */
  size_t retain_finished = 100'000;
};

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;

  /** "memory" or "sqlite". */
  virtual std::string_view kind() const = 0;
  /** True when queued tasks and results survive the process. */
  virtual bool durable() const = 0;

  /** Adds tasks (one transaction). Per task: ok, or InvalidRequest when its id is known. */
  virtual std::vector<Result<void>> push(std::vector<Task> tasks, SystemTime now) = 0;
  /** Leases up to `max` ready tasks, best first (priority desc with aging, then seq asc). */
  virtual std::vector<LeasedTask> lease(size_t max, SystemTime now) = 0;
  /** Leases the queued task `id` (to cancel it); nullopt when it is not queued. */
  virtual std::optional<LeasedTask> leaseById(const std::string& id) = 0;
  /** Leases the newest queued task of the lowest priority strictly below `than` (to evict it). */
  virtual std::optional<LeasedTask> leaseLowestBelow(Priority than) = 0;
  /** Leases every queued task, ready or delayed (stop with cancel). */
  virtual std::vector<LeasedTask> leaseAll() = 0;
  /** Puts leased tasks back in the queue, each ready at its not_before (one transaction). */
  virtual void requeue(std::vector<RequeueItem> items) = 0;
  /**
   * Stores results (one transaction). Exactly-once: a result for an id that already has one, or
   * for an unknown id, is not stored. @return per result, whether it was stored.
   */
  virtual std::vector<bool> complete(const std::vector<TaskResult>& results) = 0;

  virtual std::optional<TaskState> state(const std::string& id) const = 0;
  virtual std::optional<TaskResult> result(const std::string& id) const = 0;
  /** Calls `fn` for each stored result in submission order. Holds the queue's lock meanwhile. */
  virtual void forEachResult(const std::function<void(const TaskResult&)>& fn) const = 0;
  virtual QueueCounts counts() const = 0;
  /** Queued tasks, ready or delayed (what max_queue bounds). */
  virtual size_t queuedCount() const = 0;
  /** When the earliest delayed (retrying) task becomes ready. */
  virtual std::optional<SystemTime> nextDelayed() const = 0;
};

/**
 * Opens a queue from its spec: "memory" or "sqlite:PATH" (optionally "sqlite:PATH?sync=full").
 * Fails with InvalidConfig for an unknown spec or an unopenable database.
 */
Result<std::unique_ptr<TaskQueue>> openTaskQueue(std::string_view spec,
                                                 const QueueOptions& options);

}  // namespace llmpool::tasks
