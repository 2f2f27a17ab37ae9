#pragma once
// MemoryTaskQueue: the TaskQueue held in process memory. Nothing survives the process.
//
// NOTE: finished results are retained for lookups and duplicate-id detection only up to
// QueueOptions::retain_finished (oldest forgotten first), so a long-running service does not grow
// without bound; an id older than that window may be submitted again.

#include <deque>
#include <mutex>
#include <unordered_map>

#include "tasks/task_order.h"
#include "tasks/task_queue.h"

namespace llmpool::tasks {

class MemoryTaskQueue final : public TaskQueue {
 public:
  explicit MemoryTaskQueue(const QueueOptions& options);

  // TaskQueue
  std::string_view kind() const override { return "memory"; }
  bool durable() const override { return false; }
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
  struct Record {
    Task task;  // moved out while leased
    uint64_t seq = 0;
    int attempts = 0;
    SystemTime enqueued_at{};
    bool leased = false;
  };

  LeasedTask takeLeased(const std::string& id);  // requires mu_

  const size_t retain_finished_;
  mutable std::mutex mu_;
  TaskOrder order_;                                   // guarded by mu_
  std::unordered_map<std::string, Record> live_;      // queued + leased; guarded by mu_
  std::unordered_map<std::string, TaskResult> done_;  // guarded by mu_
  std::deque<std::string> done_order_;                // retention FIFO; guarded by mu_
  uint64_t next_seq_ = 1;                             // guarded by mu_
  size_t leased_ = 0;                                 // guarded by mu_
};

}  // namespace llmpool::tasks
