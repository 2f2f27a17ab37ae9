#pragma once
// BackgroundProcessor: runs Tasks by priority through a ChatCompleter (a ClientPool, or one legacy
// provider), from a bounded queue held in memory or in SQLite. See docs/task_processor.md.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "llmpool/clock.h"
#include "llmpool/completer.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "llmpool/task.h"

namespace llmpool {

/** How stop() treats work that has not finished. */
enum class StopMode {
  Drain,   // run every queued task (including pending retries), then stop
  Cancel,  // queued tasks complete Cancelled; in-flight requests are cancelled
  Pause,   // durable queue: queued tasks stay stored for the next run; in-flight ones finish.
           // A memory queue cannot keep them, so Pause behaves as Cancel there.
};

using TaskCallback = std::function<void(const TaskResult&)>;
using ResultSink = std::function<void(const TaskResult&)>;

/** A duration distribution: exact count/sum/max, percentiles estimated from fixed buckets. */
struct DurationSummary {
  uint64_t count = 0;
  Duration sum{};
  Duration max{};
  Duration p50{}, p95{}, p99{};
  Duration mean() const { return count == 0 ? Duration{} : sum / static_cast<int64_t>(count); }
};

/** A snapshot of the processor's counters (cumulative) and gauges (now). */
struct ProcessorStats {
  uint64_t queued = 0;                              // gauge: waiting, including pending retries
  std::map<Priority, uint64_t> queued_by_priority;  // gauge
  uint64_t in_flight = 0;                           // gauge
  uint64_t submitted = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;  // every result that is not a success (the kinds below included)
  std::map<std::string, uint64_t> failed_by_kind;  // errorCodeName -> count
  uint64_t retried = 0;                            // task-level re-queues
  uint64_t expired = 0;                            // completed DeadlineExceeded without being sent
  uint64_t dropped = 0;                            // evicted under DropLowest
  uint64_t cancelled = 0;
  uint64_t rejected = 0;                // submissions refused (QueueFull, duplicate id, stopped)
  uint64_t results_buffer_dropped = 0;  // oldest buffered results discarded when it was full
  DurationSummary queue_wait;
  DurationSummary run_time;
};

/** Outcome of submitBatch(): how many were accepted, and why each other one was not. */
struct BatchSubmitResult {
  size_t accepted = 0;
  std::vector<std::pair<std::string, Error>> rejected;  // task id -> reason
};

/** Injectable collaborators (tests pass a FakeClock). */
struct ProcessorDeps {
  const Clock* clock = nullptr;  // nullptr = SteadyClock::instance()
};

/**
 * A background priority task processor.
 *
 * Ordering: priority desc, then submission order (optional aging, ProcessorConfig::aging_after).
 * At most `concurrency` tasks are in flight; one dispatcher thread drives them through the
 * completer's callbacks (no thread per task, no polling). Every accepted task produces exactly one
 * TaskResult, delivered to exactly one place: its own callback or future when it has one, else
 * the sink when one is set, else the bounded results buffer.
 *
 * Result callbacks, futures and the sink run on the dispatcher thread: keep them short, and never
 * call stop() or a blocking submit() from them (trySubmit() is fine).
 */
class BackgroundProcessor {
 public:
  /**
   * Opens the queue named by config.queue ("memory" | "sqlite:PATH"). With SQLite, tasks left
   * queued or in flight by an earlier run are queued again (and run after start()); finished ones
   * never run again. Fails with InvalidConfig for a bad config or an unopenable queue.
   * The processor is idle until start().
   */
  static Result<std::unique_ptr<BackgroundProcessor>> create(ProcessorConfig config,
                                                             ProcessorDeps deps = {});

  /** Stops with StopMode::Cancel if still running. Blocks until every callback has run. */
  ~BackgroundProcessor();
  BackgroundProcessor(const BackgroundProcessor&) = delete;
  BackgroundProcessor& operator=(const BackgroundProcessor&) = delete;

  /** Uses `pool` for every task: pooling, breakers, retries and failover are the pool's.
   *  Takes precedence over a legacy provider. Thread-safe; affects tasks sent afterwards. */
  BackgroundProcessor& withClientPool(std::shared_ptr<ChatCompleter> pool);
  /** Uses one provider directly: one attempt per task-level attempt, no pooling. Thread-safe. */
  BackgroundProcessor& withLegacyProvider(std::shared_ptr<ChatCompleter> provider);
  /** Where results without their own callback/future go. Set before start(); not thread-safe. */
  BackgroundProcessor& withResultSink(ResultSink sink);

  /** Starts the dispatcher thread. Tasks submitted before start() wait in the queue. */
  Result<void> start();

  /**
   * Stops taking work (later submissions fail with Cancelled) and finishes according to `mode`.
   * In-flight requests get `grace` to finish; then they are cancelled (Drain turns into Cancel;
   * under Pause they stay stored for the next run). Blocks until the dispatcher has exited and
   * every result has been delivered. Idempotent. Never call from a result callback.
   */
  void stop(StopMode mode, std::optional<std::chrono::milliseconds> grace = std::nullopt);

  /**
   * Queues a task. When the queue is full the overflow policy decides: Block waits for room up to
   * block_timeout (then QueueFull), Reject fails with QueueFull, DropLowest evicts the newest
   * queued task of a lower priority (or fails with QueueFull when there is none).
   * Fails with InvalidRequest for an empty or already known id, with Cancelled after stop().
   * Thread-safe. Blocks only under OverflowPolicy::Block.
   * @param on_done optional; receives this task's result instead of the sink/buffer.
   */
  Result<void> submit(Task task, TaskCallback on_done = {});
  /** As submit(), but never blocks: a full queue under Block fails with QueueFull. */
  Result<void> trySubmit(Task task, TaskCallback on_done = {});
  /** As submit(); the future receives the result. */
  Result<std::future<TaskResult>> submitWithFuture(Task task);
  /**
   * Queues many tasks at once (one transaction per chunk with SQLite). Each task is accepted or
   * rejected as submit() would; under Block the call waits for room chunk by chunk.
   * Results go to the sink/buffer. Thread-safe.
   */
  BatchSubmitResult submitBatch(std::vector<Task> tasks);

  /**
   * Cancels a task by id: a queued one completes Cancelled at once; an in-flight one has its
   * request cancelled (it completes Cancelled unless the response arrived first).
   * @return false when the id is unknown or already finished. Thread-safe; never blocks.
   */
  bool cancel(const std::string& id);

  /** Where the task is, or nullopt if the queue never saw the id (for resume). Thread-safe. */
  std::optional<TaskState> taskState(const std::string& id) const;
  /** The stored result of a finished task. Thread-safe. */
  std::optional<TaskResult> storedResult(const std::string& id) const;
  /** Calls `fn` for every stored result (SQLite: all; memory: the retained window). */
  void forEachStoredResult(const std::function<void(const TaskResult&)>& fn) const;

  /** Takes the oldest buffered result, if any. Never blocks. Thread-safe. */
  std::optional<TaskResult> tryReceive();
  /** Takes every buffered result. Never blocks. Thread-safe. */
  std::vector<TaskResult> drain();

  /** Thread-safe snapshot. */
  ProcessorStats stats() const;
  const ProcessorConfig& config() const;

  struct Impl;

 private:
  explicit BackgroundProcessor(std::unique_ptr<Impl> impl);
  friend struct ProcessorFactory;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmpool
