#pragma once
// The scheduling order shared by every queue backend: priority desc, then sequence asc (FIFO
// within a priority), with optional aging and not-before times for task-level retry backoff.
// Holds only ids and keys, not payloads. Not thread-safe: the owning queue locks around it.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "llmpool/clock.h"
#include "llmpool/task.h"

namespace llmpool::tasks {

struct OrderEntry {
  std::string id;
  uint64_t seq = 0;  // assigned at first enqueue; a re-queued task keeps it
  Priority priority = Priority::Normal;
  SystemTime enqueued_at{};
};

/**
 * Why aging only needs the head of each class: within one class, a lower sequence was enqueued no
 * later, so it has waited at least as long and its aged priority is at least as high. The best
 * task overall is therefore one of at most four heads, picked in O(1) per pop.
 */
class TaskOrder {
 public:
  /** `aging_after` <= 0 disables aging. */
  explicit TaskOrder(Duration aging_after = Duration::zero()) : aging_after_(aging_after) {}

  /** Adds an entry; with `not_before` later than the pop time it waits in the delayed set. */
  void add(OrderEntry entry, std::optional<SystemTime> not_before = std::nullopt);
  /** Removes and returns the best entry that is ready at `now`. */
  std::optional<OrderEntry> popBest(SystemTime now);
  /** Removes and returns the newest entry of the lowest priority strictly below `than`. */
  std::optional<OrderEntry> popLowestBelow(Priority than);
  /** Removes `id`; false when it is not queued. */
  bool remove(const std::string& id);
  /** Removes and returns everything (for stop(Cancel)), best first. */
  std::vector<OrderEntry> popAll();

  bool contains(const std::string& id) const { return index_.contains(id); }
  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  /** Ready and delayed entries of one base priority. */
  size_t count(Priority p) const { return counts_[static_cast<size_t>(p)]; }
  /** Earliest not-before time among delayed entries. */
  std::optional<SystemTime> nextDelayed() const;
  /** The priority an entry has at `now` after aging. */
  Priority effectivePriority(const OrderEntry& e, SystemTime now) const;

 private:
  using Ready = std::map<uint64_t, OrderEntry>;
  using Delayed = std::multimap<SystemTime, OrderEntry>;
  struct Location {
    bool delayed = false;
    Priority priority = Priority::Normal;
    uint64_t seq = 0;
    Delayed::iterator delayed_it;
  };

  void promoteDue(SystemTime now);
  OrderEntry takeReady(Priority p, Ready::iterator it);

  Duration aging_after_;
  std::array<Ready, kPriorityCount> ready_;
  Delayed delayed_;
  std::unordered_map<std::string, Location> index_;
  std::array<size_t, kPriorityCount> counts_{};
};

}  // namespace llmpool::tasks
