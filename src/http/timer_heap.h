#pragma once
// Deadline-ordered timers of one event loop (executor timers and per-request timeouts). Not
// thread-safe: owned and used by the loop thread only.

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/executor.h"
#include "common/node_cache.h"
#include "llmpool/clock.h"

namespace llmpool::http {

/**
 * A binary min-heap on (deadline, insertion sequence), so timers with equal deadlines fire in
 * the order they were added. Cancellation is lazy: the callback is dropped at once and the heap
 * entry is skipped when it reaches the top. When stale entries outnumber live ones the heap is
 * rebuilt, so a stream of cancelled timeouts (the common case: most requests finish in time) cannot
 * grow it without bound.
 */
class TimerHeap {
 public:
  /** Adds a timer; `id` must be unique among the heap's live timers. */
  void add(TimerId id, MonotonicTime when, std::function<void()> fn);
  /** Drops a pending timer; returns false when it already ran or was never added. */
  bool cancel(TimerId id);
  /** Earliest deadline of a live timer. */
  std::optional<MonotonicTime> nextDeadline();
  /** Removes and returns the earliest live timer due at or before `now`, if any. */
  std::optional<std::function<void()>> popDue(MonotonicTime now);
  /** Live (not yet run, not cancelled) timers. */
  size_t size() const { return live_.size(); }
  /** Heap entries including stale ones (for tests of the compaction). */
  size_t entries() const { return heap_.size(); }
  void clear();

 private:
  struct Entry {
    MonotonicTime when;
    uint64_t seq;
    TimerId id;
  };
  static bool later(const Entry& a, const Entry& b);
  void dropStaleTop();
  void compactIfMostlyStale();

  using LiveMap = std::unordered_map<TimerId, std::function<void()>>;
  std::vector<Entry> heap_;
  LiveMap live_;
  // Most timers are request timeouts that are cancelled soon after they are added: their map
  // nodes are reused instead of allocated per timer.
  NodeCache<LiveMap> nodes_{1024};
  uint64_t next_seq_ = 0;
};

}  // namespace llmpool::http
