#include "tasks/memory_task_queue.h"

namespace llmpool::tasks {

MemoryTaskQueue::MemoryTaskQueue(const QueueOptions& options)
    : retain_finished_(options.retain_finished), order_(options.aging_after) {}

std::vector<Result<void>> MemoryTaskQueue::push(std::vector<Task> tasks, SystemTime now) {
  std::vector<Result<void>> out;
  out.reserve(tasks.size());
  std::lock_guard lock(mu_);
  for (auto& task : tasks) {
    if (task.id.empty()) {
      out.push_back(fail(ErrorCode::InvalidRequest, "task id is empty"));
      continue;
    }
    if (live_.contains(task.id) || done_.contains(task.id)) {
      out.push_back(fail(ErrorCode::InvalidRequest, "duplicate task id '" + task.id + "'"));
      continue;
    }
    OrderEntry entry{
        .id = task.id, .seq = next_seq_++, .priority = task.priority, .enqueued_at = now};
    std::string id = task.id;
    live_.emplace(std::move(id), Record{.task = std::move(task),
                                        .seq = entry.seq,
                                        .attempts = 0,
                                        .enqueued_at = now,
                                        .leased = false});
    order_.add(std::move(entry));
    out.emplace_back();
  }
  return out;
}

LeasedTask MemoryTaskQueue::takeLeased(const std::string& id) {
  Record& r = live_.at(id);
  r.leased = true;
  ++leased_;
  return LeasedTask{.task = std::move(r.task),
                    .seq = r.seq,
                    .attempts = r.attempts,
                    .enqueued_at = r.enqueued_at,
                    .load_error = std::nullopt};
}

std::vector<LeasedTask> MemoryTaskQueue::lease(size_t max, SystemTime now) {
  std::vector<LeasedTask> out;
  std::lock_guard lock(mu_);
  while (out.size() < max) {
    auto entry = order_.popBest(now);
    if (!entry) break;
    out.push_back(takeLeased(entry->id));
  }
  return out;
}

std::optional<LeasedTask> MemoryTaskQueue::leaseById(const std::string& id) {
  std::lock_guard lock(mu_);
  if (!order_.remove(id)) return std::nullopt;
  return takeLeased(id);
}

std::optional<LeasedTask> MemoryTaskQueue::leaseLowestBelow(Priority than) {
  std::lock_guard lock(mu_);
  auto entry = order_.popLowestBelow(than);
  if (!entry) return std::nullopt;
  return takeLeased(entry->id);
}

std::vector<LeasedTask> MemoryTaskQueue::leaseAll() {
  std::lock_guard lock(mu_);
  std::vector<LeasedTask> out;
  for (auto& entry : order_.popAll()) out.push_back(takeLeased(entry.id));
  return out;
}

void MemoryTaskQueue::requeue(std::vector<RequeueItem> items) {
  std::lock_guard lock(mu_);
  for (auto& item : items) {
    auto it = live_.find(item.leased.task.id);
    if (it == live_.end() || !it->second.leased) continue;
    Record& r = it->second;
    r.leased = false;
    --leased_;
    r.attempts = item.leased.attempts;
    OrderEntry entry{.id = item.leased.task.id,
                     .seq = r.seq,
                     .priority = item.leased.task.priority,
                     .enqueued_at = r.enqueued_at};
    r.task = std::move(item.leased.task);
    order_.add(std::move(entry), item.not_before);
  }
}

std::vector<bool> MemoryTaskQueue::complete(const std::vector<TaskResult>& results) {
  std::vector<bool> stored;
  stored.reserve(results.size());
  std::lock_guard lock(mu_);
  for (const auto& result : results) {
    auto it = live_.find(result.task_id);
    if (it == live_.end()) {
      stored.push_back(false);  // finished already (exactly-once) or never known
      continue;
    }
    if (it->second.leased) {
      --leased_;
    } else {
      order_.remove(result.task_id);
    }
    live_.erase(it);
    done_.emplace(result.task_id, result);
    done_order_.push_back(result.task_id);
    while (done_order_.size() > retain_finished_) {
      done_.erase(done_order_.front());
      done_order_.pop_front();
    }
    stored.push_back(true);
  }
  return stored;
}

std::optional<TaskState> MemoryTaskQueue::state(const std::string& id) const {
  std::lock_guard lock(mu_);
  if (auto it = live_.find(id); it != live_.end()) {
    return it->second.leased ? TaskState::Running : TaskState::Queued;
  }
  if (done_.contains(id)) return TaskState::Finished;
  return std::nullopt;
}

std::optional<TaskResult> MemoryTaskQueue::result(const std::string& id) const {
  std::lock_guard lock(mu_);
  if (auto it = done_.find(id); it != done_.end()) return it->second;
  return std::nullopt;
}

void MemoryTaskQueue::forEachResult(const std::function<void(const TaskResult&)>& fn) const {
  std::lock_guard lock(mu_);
  for (const auto& id : done_order_) fn(done_.at(id));
}

QueueCounts MemoryTaskQueue::counts() const {
  std::lock_guard lock(mu_);
  QueueCounts c;
  c.queued = order_.size();
  c.leased = leased_;
  c.finished = done_.size();
  for (int p = 0; p < kPriorityCount; ++p) {
    c.queued_by_priority[static_cast<size_t>(p)] = order_.count(static_cast<Priority>(p));
  }
  return c;
}

size_t MemoryTaskQueue::queuedCount() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

std::optional<SystemTime> MemoryTaskQueue::nextDelayed() const {
  std::lock_guard lock(mu_);
  return order_.nextDelayed();
}

}  // namespace llmpool::tasks
