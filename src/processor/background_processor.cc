// BackgroundProcessor: one dispatcher thread moves tasks from the TaskQueue to the completer and
// results from the completer to the queue and to their destination: every queue write and every
// result delivery happens on the dispatcher thread, in batches.
//
// A freed slot goes to one of a few tasks the dispatcher leased ahead (`ready_`), without a queue
// read. The look-ahead is concurrency / 8 tasks (none below 8), so a task submitted later with a
// higher priority waits behind at most that many; with concurrency 1 the order is exactly the
// queue's.
//
// An answer frees its slot at once, on the completer's thread, and sends the next leased-ahead
// task from there, while its outcome waits for the dispatcher's next store: an answer would
// otherwise wait for two thread wake-ups (to the dispatcher, back to the transport) before its
// slot is busy again, ~1.5 ms per task on a loaded machine. Answers not yet stored may number up
// to the look-ahead (concurrency / 8); beyond that an answer keeps its slot until stored. So at
// most `concurrency` tasks are in flight, and a crash re-runs at most concurrency + concurrency / 8
// (in flight, or answered and not stored). Below concurrency 8 an answer always keeps its slot
// until its outcome is stored.

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/thread_name.h"
#include "llmpool/processor.h"
#include "metrics/histogram.h"
#include "processor/processor_factory.h"
#include "processor/task_retry.h"

namespace llmpool {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct Delivery {
  TaskCallback callback;
  std::shared_ptr<std::promise<TaskResult>> promise;
};

/** A task sent to the completer and not yet answered. */
struct Flight {
  tasks::LeasedTask leased;
  RequestHandle handle;
  bool cancel_requested = false;     // cancel(id) or stop(Cancel): no retry
  bool release_on_complete = false;  // stop(Pause) after grace: back to the queue, not finished
};

/** Something the dispatcher must turn into a result or a retry. */
struct Completion {
  std::string id;
  Result<ChatResponse> outcome;
  std::optional<tasks::LeasedTask> local;  // set: finished without a flight (cancel, drop, ...)
  std::optional<Flight> flight;            // set: the answered flight
};

/** A task taken for sending: what the completer gets (the flight keeps the task itself). */
struct Launch {
  std::string id;
  ChatRequest request;
  RequestOptions options;
  std::shared_ptr<ChatCompleter> completer;
};

DurationSummary summarize(const metrics::Histogram& h) {
  const auto s = h.snapshot();
  DurationSummary d;
  d.count = s.count;
  d.sum = s.sum;
  d.max = s.max;
  d.p50 = s.percentile(0.50);
  d.p95 = s.percentile(0.95);
  d.p99 = s.percentile(0.99);
  return d;
}

}  // namespace

std::string validateProcessorConfig(const ProcessorConfig& c) {
  std::string problems;
  auto add = [&](const std::string& p) {
    if (!problems.empty()) problems += "; ";
    problems += p;
  };
  if (c.concurrency < 1) add("processor.concurrency must be >= 1");
  if (c.max_queue < 1) add("processor.max_queue must be >= 1");
  if (c.max_task_attempts < 1) add("processor.max_task_attempts must be >= 1");
  if (c.results_buffer < 0) add("processor.results_buffer must be >= 0");
  if (c.task_timeout < Millis::zero()) add("processor.task_timeout must be >= 0");
  if (c.block_timeout < Millis::zero()) add("processor.block_timeout must be >= 0");
  if (c.aging_after < Millis::zero()) add("processor.aging_after must be >= 0");
  if (c.retry_backoff < Millis::zero()) add("processor.retry_backoff must be >= 0");
  if (c.max_retry_backoff < c.retry_backoff) add("processor.max_retry_backoff < retry_backoff");
  return problems;
}

struct BackgroundProcessor::Impl {
  Impl(ProcessorConfig cfg, std::unique_ptr<tasks::TaskQueue> q, const Clock& clk)
      : config(std::move(cfg)), clock(clk), queue(std::move(q)) {}

  const ProcessorConfig config;
  const Clock& clock;
  const std::unique_ptr<tasks::TaskQueue> queue;

  // Lock order: mu_ before the queue's own lock (submit and cancel call the queue under mu_; the
  // dispatcher and submitBatch's push call it without mu_). Never held while calling the
  // completer or user code.
  mutable std::mutex mu_;
  std::condition_variable wake_;           // the dispatcher: completions, submissions, stop
  std::condition_variable room_;           // submitters blocked on a full queue
  std::shared_ptr<ChatCompleter> pool_;    // guarded by mu_
  std::shared_ptr<ChatCompleter> legacy_;  // guarded by mu_
  ResultSink sink_;                        // set before start(), then read-only
  std::unordered_map<std::string, Delivery> deliveries_;  // guarded by mu_
  std::unordered_map<std::string, Flight> flights_;       // guarded by mu_
  std::deque<tasks::LeasedTask> ready_;  // leased ahead, not sent yet, lease order; mu_
  size_t unstored_ = 0;  // answered flights whose outcome is not stored yet; guarded by mu_
  const size_t lease_ahead_ = static_cast<size_t>(std::max(config.concurrency, 0)) / 8;
  // Unstored answers that do not hold a slot (see the top of the file).
  const size_t unstored_allowance_ = lease_ahead_;
  // Answer callbacks that took a launch and have not attached its handle yet: the dispatcher may
  // not finish (and the processor may not be destroyed) under them. Guarded by mu_.
  size_t launching_ = 0;
  std::unordered_set<std::string> cancel_requests_;  // guarded by mu_
  std::vector<Completion> completions_;              // guarded by mu_
  std::deque<TaskResult> buffer_;                    // guarded by mu_
  bool kick_ = false;                                // guarded by mu_
  // Tasks submitBatch() is pushing with mu_ released: they count against max_queue, and a stop
  // waits for them (they may need a Cancelled result). Guarded by mu_.
  size_t pushing_ = 0;
  bool accepting_ = true;              // guarded by mu_
  bool started_ = false;               // guarded by mu_
  bool exited_ = false;                // the dispatcher has returned; guarded by mu_
  std::optional<StopMode> stop_mode_;  // guarded by mu_
  std::optional<MonotonicClock::time_point> grace_deadline_;  // guarded by mu_ (real time)
  bool grace_applied_ = false;                                // guarded by mu_
  ProcessorStats counters_;  // counters only (gauges filled by stats()); guarded by mu_
  metrics::Histogram queue_wait_;
  metrics::Histogram run_time_;

  std::unordered_map<std::string, SystemTime> first_sent_;  // guarded by mu_

  // Dispatcher-thread only.
  bool cancelled_queue_ = false;

  std::mutex stop_mu_;  // serializes stop() calls
  std::jthread dispatcher_;

  // ---------------------------------------------------------------- submission

  Result<void> submitOne(Task task, Delivery delivery, bool may_block) {
    if (task.id.empty()) return reject(fail(ErrorCode::InvalidRequest, "task id is empty"));
    const auto deadline = MonotonicClock::now() + config.block_timeout;
    std::unique_lock lock(mu_);
    for (;;) {
      if (!accepting_) {
        ++counters_.rejected;
        return fail(ErrorCode::Cancelled, "the processor is stopped");
      }
      if (heldLocked() < static_cast<size_t>(config.max_queue))
        return pushLocked(std::move(task), delivery);
      switch (config.overflow) {
        case OverflowPolicy::Reject:
          return rejectLocked(queueFull());
        case OverflowPolicy::DropLowest: {
          // A duplicate must not cost an innocent task its place.
          if (queue->state(task.id)) {
            return rejectLocked(
                fail(ErrorCode::InvalidRequest, "duplicate task id '" + task.id + "'"));
          }
          auto victim = queue->leaseLowestBelow(task.priority);
          if (!victim) return rejectLocked(queueFull());
          std::string victim_id = victim->task.id;
          completions_.push_back(Completion{
              .id = std::move(victim_id),
              .outcome = std::unexpected(
                  Error(ErrorCode::Dropped, "evicted from a full queue by a task of priority " +
                                                std::string(priorityName(task.priority)))),
              .local = std::move(*victim)});
          return pushLocked(std::move(task), delivery);
        }
        case OverflowPolicy::Block:
          if (!may_block) return rejectLocked(queueFull());
          if (room_.wait_until(lock, deadline) == std::cv_status::timeout &&
              heldLocked() >= static_cast<size_t>(config.max_queue)) {
            return rejectLocked(fail(ErrorCode::QueueFull,
                                     "task queue stayed full for block_timeout (" +
                                         std::to_string(config.block_timeout.count()) + " ms)"));
          }
          break;  // look again: room, or stopped
      }
    }
  }

  /** Slots taken: tasks sent and not answered, plus the answered-but-unstored ones beyond the
   *  allowance. Hence in flight <= concurrency, and in flight + unstored <= concurrency +
   *  allowance (what a crash can re-run). */
  size_t busyLocked() const {
    const size_t holding = unstored_ > unstored_allowance_ ? unstored_ - unstored_allowance_ : 0;
    return flights_.size() + holding;
  }

  /** Tasks waiting to be sent: what max_queue bounds. */
  size_t heldLocked() const { return queue->queuedCount() + ready_.size() + pushing_; }

  std::unexpected<Error> queueFull() const {
    return fail(ErrorCode::QueueFull,
                "task queue is full (max_queue " + std::to_string(config.max_queue) + ")");
  }

  std::unexpected<Error> reject(std::unexpected<Error> e) {
    std::lock_guard lock(mu_);
    return rejectLocked(std::move(e));
  }
  std::unexpected<Error> rejectLocked(std::unexpected<Error> e) {
    ++counters_.rejected;
    return e;
  }

  Result<void> pushLocked(Task task, const Delivery& delivery) {
    const std::string id = task.id;
    std::vector<Task> one;
    one.push_back(std::move(task));
    auto pushed = queue->push(std::move(one), clock.systemNow());
    if (!pushed.front()) return rejectLocked(std::unexpected(pushed.front().error()));
    if (delivery.callback || delivery.promise) deliveries_[id] = delivery;
    ++counters_.submitted;
    kick_ = true;
    wake_.notify_one();
    return {};
  }

  BatchSubmitResult submitMany(std::vector<Task> tasks) {
    BatchSubmitResult out;
    constexpr size_t kChunk =
        256;  // one transaction per chunk (short: the dispatcher waits for it)
    size_t i = 0;
    std::unique_lock lock(mu_);
    auto deadline = MonotonicClock::now() + config.block_timeout;
    while (i < tasks.size()) {
      if (!accepting_) {
        for (; i < tasks.size(); ++i) {
          ++counters_.rejected;
          out.rejected.emplace_back(tasks[i].id,
                                    Error(ErrorCode::Cancelled, "the processor is stopped"));
        }
        break;
      }
      const size_t queued = heldLocked();
      const size_t cap = static_cast<size_t>(config.max_queue);
      if (queued >= cap) {
        if (config.overflow == OverflowPolicy::Block) {
          if (room_.wait_until(lock, deadline) == std::cv_status::timeout && heldLocked() >= cap) {
            for (; i < tasks.size(); ++i) {
              ++counters_.rejected;
              out.rejected.emplace_back(tasks[i].id, queueFull().error());
            }
          }
          continue;
        }
        // Reject / DropLowest decide task by task.
        lock.unlock();
        std::string id = tasks[i].id;
        if (auto r = submitOne(std::move(tasks[i]), {}, false); r) {
          ++out.accepted;
        } else {
          out.rejected.emplace_back(std::move(id), r.error());
        }
        ++i;
        lock.lock();
        continue;
      }
      const size_t n = std::min({cap - queued, tasks.size() - i, kChunk});
      std::vector<Task> chunk(
          std::make_move_iterator(tasks.begin() + static_cast<ptrdiff_t>(i)),
          std::make_move_iterator(tasks.begin() + static_cast<ptrdiff_t>(i + n)));
      std::vector<std::string> ids;
      ids.reserve(n);
      for (const auto& t : chunk) ids.push_back(t.id);
      // The push (JSON encoding, a transaction) runs without mu_: the dispatcher and the
      // completer's callbacks need mu_ all the time, and must not wait for a 2,048-task insert.
      // pushing_ keeps the slots reserved meanwhile.
      pushing_ += n;
      lock.unlock();
      auto pushed = queue->push(std::move(chunk), clock.systemNow());
      lock.lock();
      pushing_ -= n;
      for (size_t k = 0; k < n; ++k) {
        if (pushed[k]) {
          ++out.accepted;
          ++counters_.submitted;
        } else {
          ++counters_.rejected;
          out.rejected.emplace_back(std::move(ids[k]), pushed[k].error());
        }
      }
      i += n;
      deadline = MonotonicClock::now() + config.block_timeout;
      kick_ = true;
      wake_.notify_one();
    }
    return out;
  }

  // ---------------------------------------------------------------- cancel

  bool cancelById(const std::string& id) {
    RequestHandle handle;
    {
      std::lock_guard lock(mu_);
      if (exited_) return false;  // stopped: nothing runs any more, nothing can be cancelled
      if (auto it = flights_.find(id); it != flights_.end()) {
        it->second.cancel_requested = true;
        handle = it->second.handle;
      } else {
        std::optional<tasks::LeasedTask> waiting = takeReadyLocked(id);
        if (!waiting) waiting = queue->leaseById(id);
        if (waiting) {
          completions_.push_back(
              Completion{.id = id,
                         .outcome = std::unexpected(Error(ErrorCode::Cancelled, "task cancelled")),
                         .local = std::move(*waiting),
                         .flight = std::nullopt});
          kick_ = true;
          wake_.notify_one();
          room_.notify_all();
          return true;
        }
        if (queue->state(id) != TaskState::Running) return false;
        // Between an answer and its retry or its result: the dispatcher checks this set before
        // re-queuing.
        cancel_requests_.insert(id);
        return true;
      }
    }
    handle.cancel();  // outside mu_: the completer may answer synchronously on its own thread
    return true;
  }

  /** Removes `id` from the look-ahead, if it is there. */
  std::optional<tasks::LeasedTask> takeReadyLocked(const std::string& id) {
    for (auto it = ready_.begin(); it != ready_.end(); ++it) {
      if (it->task.id != id) continue;
      tasks::LeasedTask lt = std::move(*it);
      ready_.erase(it);
      return lt;
    }
    return std::nullopt;
  }

  // ---------------------------------------------------------------- dispatcher

  void run() {
    setCurrentThreadName("llmpool-tasks");
    for (;;) {
      std::vector<Completion> done;
      std::optional<StopMode> mode;
      {
        std::unique_lock lock(mu_);
        auto ready = [&] { return kick_ || !completions_.empty(); };
        if (!ready()) {
          if (auto wake = nextWakeLocked()) {
            wake_.wait_until(lock, *wake, ready);
          } else {
            wake_.wait(lock, ready);
          }
        }
        kick_ = false;
        done.swap(completions_);
        applyGraceLocked();
        mode = stop_mode_;
      }
      // Answers beyond the unstored allowance hold their slots until this store: a crash re-runs
      // at most concurrency + allowance tasks (those sent, or answered but not stored).
      const auto answered = static_cast<size_t>(
          std::count_if(done.begin(), done.end(), [](const Completion& c) { return c.flight; }));
      store(settle(std::move(done)));
      if (answered > 0) {
        std::lock_guard lock(mu_);
        unstored_ -= answered;
      }
      if (mode == StopMode::Cancel) {
        cancelEverything();
      } else if (mode == StopMode::Pause) {
        returnReady();
      } else {
        dispatch();
      }
      if (mode && finishedFor(*mode)) {
        std::lock_guard lock(mu_);
        exited_ = true;
        return;
      }
    }
  }

  /** When the dispatcher must look again without being woken: a retry becoming ready, or the
   *  end of a stop grace period. Real (steady) time, since it bounds a real wait. */
  std::optional<MonotonicClock::time_point> nextWakeLocked() const {
    std::optional<MonotonicClock::time_point> wake;
    if (stop_mode_ && grace_deadline_ && !grace_applied_) wake = grace_deadline_;
    const bool dispatching = !stop_mode_ || *stop_mode_ == StopMode::Drain;
    if (dispatching && busyLocked() < static_cast<size_t>(config.concurrency)) {
      if (auto next = queue->nextDelayed()) {
        const auto in = *next - clock.systemNow();
        const auto at = MonotonicClock::now() +
                        duration_cast<MonotonicClock::duration>(std::max(in, decltype(in)::zero()));
        if (!wake || at < *wake) wake = at;
      }
    }
    return wake;
  }

  void applyGraceLocked() {
    if (!stop_mode_ || !grace_deadline_ || grace_applied_) return;
    if (MonotonicClock::now() < *grace_deadline_) return;
    grace_applied_ = true;
    if (*stop_mode_ == StopMode::Drain) {
      stop_mode_ = StopMode::Cancel;  // grace is over: whatever is left is cancelled
    } else if (*stop_mode_ == StopMode::Pause) {
      std::vector<RequestHandle> handles;
      for (auto& [id, f] : flights_) {
        f.release_on_complete = true;
        handles.push_back(f.handle);
      }
      // Cancelling under mu_ is safe: a completer never runs `done` inside cancel() on this
      // thread's stack (the contract), it only schedules it.
      for (auto& h : handles) h.cancel();
    }
  }

  bool finishedFor(StopMode mode) {
    std::lock_guard lock(mu_);
    if (!flights_.empty() || !completions_.empty() || !ready_.empty() || pushing_ > 0 ||
        launching_ > 0) {
      return false;
    }
    if (mode == StopMode::Drain) return queue->queuedCount() == 0;
    return true;  // Cancel emptied the queue; Pause leaves it stored
  }

  void cancelEverything() {
    std::vector<RequestHandle> handles;
    std::vector<Completion> local;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, f] : flights_) {
        if (f.cancel_requested) continue;
        f.cancel_requested = true;
        handles.push_back(f.handle);
      }
      for (auto& lt : ready_) {
        std::string id = lt.task.id;
        local.push_back(Completion{
            .id = std::move(id),
            .outcome = std::unexpected(Error(ErrorCode::Cancelled, "processor stopped (cancel)")),
            .local = std::move(lt),
            .flight = std::nullopt});
      }
      ready_.clear();
    }
    for (auto& h : handles) h.cancel();
    for (auto& leased : queue->leaseAll()) {
      std::string id = leased.task.id;
      local.push_back(Completion{
          .id = std::move(id),
          .outcome = std::unexpected(Error(ErrorCode::Cancelled, "processor stopped (cancel)")),
          .local = std::move(leased),
          .flight = std::nullopt});
    }
    if (!local.empty()) handleCompletions(std::move(local));
    cancelled_queue_ = true;
  }

  /** stop(Pause): the look-ahead goes back to the queue, as it was (nothing was sent). */
  void returnReady() {
    std::vector<tasks::RequeueItem> back;
    {
      std::lock_guard lock(mu_);
      const SystemTime now = clock.systemNow();
      for (auto& lt : ready_) back.push_back({std::move(lt), now});
      ready_.clear();
    }
    if (!back.empty()) queue->requeue(std::move(back));
  }

  void dispatch() {
    // Keep leasing until the slots and the look-ahead are full or nothing is ready. Tasks that
    // finish without being sent (expired, cancelled, no provider) leave their slot free.
    pump();  // slots freed by this round's stores go to tasks already leased ahead
    while (dispatchOnce()) {
    }
  }

  /** Leases up to the free slots plus the look-ahead and sends what fits; true when something
   *  was leased. */
  bool dispatchOnce() {
    size_t want = 0;
    {
      std::lock_guard lock(mu_);
      const auto limit = static_cast<size_t>(config.concurrency);
      const size_t busy = busyLocked();
      const size_t free = busy < limit ? limit - busy : 0;
      const size_t wanted = free + lease_ahead_;
      want = ready_.size() < wanted ? wanted - ready_.size() : 0;
    }
    if (want == 0) return false;
    auto leased = queue->lease(want, clock.systemNow());
    if (leased.empty()) return false;
    {
      std::lock_guard lock(mu_);  // taken so a submitter between its check and its wait sees it
      for (auto& lt : leased) ready_.push_back(std::move(lt));
      room_.notify_all();
    }
    pump();
    return true;
  }

  /** Sends look-ahead tasks while slots are free. Any thread; never called with mu_ held. */
  void pump() {
    for (;;) {
      std::optional<Launch> next;
      {
        std::lock_guard lock(mu_);
        next = takeLaunchLocked();
      }
      if (!next) return;
      launch(std::move(*next));
    }
  }

  /**
   * The next look-ahead task to send, made a flight; nullopt when no slot is free, the look-ahead
   * is empty, or the processor is not dispatching. Tasks that cannot be sent (expired, cancelled,
   * unreadable, no provider) become completions on the way.
   */
  std::optional<Launch> takeLaunchLocked() {
    const bool dispatching = !stop_mode_ || *stop_mode_ == StopMode::Drain;
    const SystemTime now = clock.systemNow();
    while (dispatching && !ready_.empty() &&
           busyLocked() < static_cast<size_t>(config.concurrency)) {
      tasks::LeasedTask lt = std::move(ready_.front());
      ready_.pop_front();
      // A look-ahead task no longer counts against max_queue: a blocked submitter may go on.
      // (The notify when it was leased came while it still counted, in ready_.)
      if (config.overflow == OverflowPolicy::Block) room_.notify_all();
      std::string id = lt.task.id;
      std::optional<Error> unsent;
      if (lt.load_error) {
        unsent = *lt.load_error;
      } else if (lt.task.expires_at && *lt.task.expires_at <= now) {
        ++counters_.expired;
        unsent = Error(ErrorCode::DeadlineExceeded, "task expired before it was sent");
      } else if (cancel_requests_.erase(id) > 0) {
        unsent = Error(ErrorCode::Cancelled, "task cancelled");
      } else if (!pool_ && !legacy_) {
        // Never a placeholder success: without a provider the task fails, and says why.
        unsent = Error(ErrorCode::NoDeployment,
                       "no provider: call withClientPool() or withLegacyProvider() before "
                       "running tasks");
      }
      if (unsent) {
        completions_.push_back(Completion{.id = std::move(id),
                                          .outcome = std::unexpected(std::move(*unsent)),
                                          .local = std::move(lt),
                                          .flight = std::nullopt});
        wake_.notify_one();
        continue;
      }
      return makeFlightLocked(std::move(lt), now);
    }
    return std::nullopt;
  }

  Launch makeFlightLocked(tasks::LeasedTask lt, SystemTime now) {
    const bool legacy = !pool_;
    Launch l{.id = lt.task.id,
             .request = lt.task.request,  // the flight keeps the task for retries and the result
             .options = lt.task.options,
             .completer = pool_ ? pool_ : legacy_};
    if (!l.options.deadline && config.task_timeout > Millis::zero())
      l.options.deadline = config.task_timeout;
    if (lt.task.expires_at) {
      // The request may not outlive the task: cap its deadline at the time left (at least 1 ms).
      const auto left =
          std::max(duration_cast<milliseconds>(*lt.task.expires_at - now), milliseconds(1));
      l.options.deadline = l.options.deadline ? std::min(*l.options.deadline, left) : left;
    }
    if (legacy) l.options.max_attempts = 1;  // the legacy path: one direct call, no pool retries
    if (l.options.priority == 0) l.options.priority = static_cast<int>(lt.task.priority);
    ++lt.attempts;
    first_sent_.try_emplace(l.id, now);
    flights_[l.id] = Flight{.leased = std::move(lt),
                            .handle = {},
                            .cancel_requested = false,
                            .release_on_complete = false};
    return l;
  }

  /** Sends a launch taken by takeLaunchLocked(). `from_answer`: on an answer's callback, which
   *  counted itself in launching_. */
  void launch(Launch l, bool from_answer = false) {
    RequestHandle handle = l.completer->complete(
        std::move(l.request), std::move(l.options),
        [this, id = l.id](Result<ChatResponse> outcome) { onAnswer(id, std::move(outcome)); });
    bool cancel_now = false;
    {
      std::lock_guard lock(mu_);
      if (auto it = flights_.find(l.id); it != flights_.end()) {
        it->second.handle = handle;
        // A stop may have tried to cancel it before the handle was attached. (Launches from
        // answers run beside the dispatcher, so they can meet a stop's grace period too.)
        cancel_now = it->second.cancel_requested || it->second.release_on_complete;
      }
      // Notified under mu_: once launching_ is 0 a stopping dispatcher may finish and the
      // processor be destroyed, so this thread must not touch it after unlocking.
      if (from_answer && --launching_ == 0 && stop_mode_) wake_.notify_one();
    }
    if (cancel_now) handle.cancel();
  }

  /** The completer's callback, on its thread: the flight becomes a completion for the
   *  dispatcher to store, and its slot, unless the unstored allowance is used up, goes at once to
   *  the next leased-ahead task, sent from this thread. */
  void onAnswer(const std::string& id, Result<ChatResponse> outcome) {
    bool wake = false;
    std::optional<Launch> next;
    {
      std::lock_guard lock(mu_);
      auto node = flights_.extract(id);
      if (node.empty()) return;  // a second answer for one request: ignore
      // The dispatcher takes the whole list at once: only the first entry needs to wake it.
      wake = completions_.empty();
      ++unstored_;  // counted until the dispatcher has stored the outcome
      completions_.push_back(Completion{.id = id,
                                        .outcome = std::move(outcome),
                                        .local = std::nullopt,
                                        .flight = std::move(node.mapped())});
      if (unstored_allowance_ > 0) {
        next = takeLaunchLocked();
        if (next) ++launching_;
      }
      // Notified under mu_: once the outcome is in completions_, the dispatcher may store it
      // (woken by anything), a stop may finish and the processor be destroyed, so unless a
      // launch keeps it alive (launching_), this thread must not touch it after unlocking.
      if (wake) wake_.notify_one();
    }
    if (next) launch(std::move(*next), true);
  }

  void handleCompletions(std::vector<Completion> done) { store(settle(std::move(done))); }

  /** Frees the answered flights' slots and re-queues the retries; returns the final results. */
  std::vector<TaskResult> settle(std::vector<Completion> done) {
    if (done.empty()) return {};
    const SystemTime now = clock.systemNow();
    std::vector<tasks::RequeueItem> requeues;
    std::vector<TaskResult> finals;
    for (auto& c : done) {
      tasks::LeasedTask lt;
      const bool from_flight = c.flight.has_value();
      Flight flight;
      if (c.local) {
        lt = std::move(*c.local);
      } else if (c.flight) {
        flight = std::move(*c.flight);
        lt = std::move(flight.leased);
      } else {
        continue;
      }
      if (from_flight && !c.outcome) {
        bool cancel_requested = flight.cancel_requested;
        bool stopping_cancel = false;
        {
          std::lock_guard lock(mu_);
          cancel_requested = cancel_requests_.erase(c.id) > 0 || cancel_requested;
          stopping_cancel = stop_mode_ == StopMode::Cancel;
        }
        if (flight.release_on_complete && !cancel_requested) {
          --lt.attempts;  // interrupted by our own shutdown: not a real attempt
          requeues.push_back({std::move(lt), now});
          continue;
        }
        if (cancel_requested && c.outcome.error().code != ErrorCode::Cancelled) {
          c.outcome = std::unexpected(Error(ErrorCode::Cancelled, "task cancelled"));
        }
        const int max_attempts =
            std::max(1, lt.task.max_attempts.value_or(config.max_task_attempts));
        if (!cancel_requested && !stopping_cancel && lt.attempts < max_attempts &&
            processor::isRetryableTaskError(c.outcome.error())) {
          const SystemTime ready =
              now + processor::taskRetryDelay(config, lt.attempts, c.outcome.error());
          if (!lt.task.expires_at || ready < *lt.task.expires_at) {
            std::lock_guard lock(mu_);
            ++counters_.retried;
            requeues.push_back({std::move(lt), ready});
            continue;
          }
        }
      }
      finals.push_back(makeResult(std::move(lt), std::move(c.outcome), now));
    }
    if (!requeues.empty()) {
      queue->requeue(std::move(requeues));
      std::lock_guard lock(mu_);
      kick_ = true;  // a retry with no backoff is ready now
    }
    return finals;
  }

  void store(std::vector<TaskResult> finals) {
    if (finals.empty()) return;
    // Stored first, then delivered: after a crash the queue, not the sink, is the truth.
    // This is the group commit: every completion that arrived since the last round is stored in
    // one transaction (complete() returns only after the COMMIT), and only then does any of them
    // reach a callback or the sink. The batch is whatever accumulated while the previous round
    // ran, so no result waits for a timer. A crash before the commit leaves the whole batch
    // unfinished in the store (those tasks run again, none of them was delivered); a crash after
    // it leaves them finished and stored, and a sink that writes a file reconciles with
    // forEachStoredResult() on restart (docs/run.md, Resuming): exactly once either way.
    queue->complete(finals);
    for (auto& r : finals) deliver(std::move(r));
  }

  TaskResult makeResult(tasks::LeasedTask lt, Result<ChatResponse> outcome, SystemTime now) {
    TaskResult r;
    r.task_id = lt.task.id;
    r.priority = lt.task.priority;
    r.outcome = std::move(outcome);
    r.attempts = lt.attempts;
    r.metadata = std::move(lt.task.metadata);
    std::lock_guard lock(mu_);
    const auto sent = first_sent_.find(r.task_id);
    const SystemTime started = sent != first_sent_.end() ? sent->second : now;
    r.queue_wait = std::max(Duration::zero(), duration_cast<Duration>(started - lt.enqueued_at));
    r.run_time = std::max(Duration::zero(), duration_cast<Duration>(now - started));
    if (sent != first_sent_.end()) first_sent_.erase(sent);
    return r;
  }

  void deliver(TaskResult r) {
    queue_wait_.observe(r.queue_wait);
    if (r.attempts > 0) run_time_.observe(r.run_time);
    Delivery d;
    {
      std::lock_guard lock(mu_);
      cancel_requests_.erase(r.task_id);
      if (r.ok()) {
        ++counters_.succeeded;
      } else {
        ++counters_.failed;
        const ErrorCode code = r.outcome.error().code;
        ++counters_.failed_by_kind[std::string(errorCodeName(code))];
        if (code == ErrorCode::Cancelled) ++counters_.cancelled;
        if (code == ErrorCode::Dropped) ++counters_.dropped;
      }
      if (auto node = deliveries_.extract(r.task_id); !node.empty()) d = std::move(node.mapped());
      if (!d.callback && !d.promise && !sink_) {
        buffer_.push_back(std::move(r));
        // Bounded: the oldest result gives way (counted), the dispatcher never waits on readers.
        while (buffer_.size() > static_cast<size_t>(config.results_buffer)) {
          buffer_.pop_front();
          ++counters_.results_buffer_dropped;
        }
        return;
      }
    }
    // User code runs outside mu_; an exception from it must not kill the dispatcher.
    try {
      if (d.callback) {
        d.callback(r);
      } else if (d.promise) {
        d.promise->set_value(std::move(r));
      } else {
        sink_(r);
      }
    } catch (...) {
    }
  }
};

// -------------------------------------------------------------------- public surface

Result<std::unique_ptr<BackgroundProcessor>> ProcessorFactory::create(
    ProcessorConfig config, std::unique_ptr<tasks::TaskQueue> queue, ProcessorDeps deps) {
  if (auto problems = validateProcessorConfig(config); !problems.empty()) {
    return fail(ErrorCode::InvalidConfig, problems);
  }
  if (!queue) return fail(ErrorCode::InvalidConfig, "processor: no task queue");
  const Clock& clock = deps.clock ? *deps.clock : SteadyClock::instance();
  auto impl =
      std::make_unique<BackgroundProcessor::Impl>(std::move(config), std::move(queue), clock);
  return std::unique_ptr<BackgroundProcessor>(new BackgroundProcessor(std::move(impl)));
}

Result<std::unique_ptr<BackgroundProcessor>> BackgroundProcessor::create(ProcessorConfig config,
                                                                         ProcessorDeps deps) {
  if (auto problems = validateProcessorConfig(config); !problems.empty()) {
    return fail(ErrorCode::InvalidConfig, problems);
  }
  tasks::QueueOptions options;
  options.aging_after = config.aging_after;
  auto queue = tasks::openTaskQueue(config.queue, options);
  if (!queue) return std::unexpected(queue.error());
  return ProcessorFactory::create(std::move(config), std::move(*queue), deps);
}

BackgroundProcessor::BackgroundProcessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BackgroundProcessor::~BackgroundProcessor() {
  // A durable queue keeps its unfinished tasks for the next run; a memory queue cannot, so its
  // tasks complete Cancelled rather than vanish. A no-op after an explicit stop().
  stop(impl_->queue->durable() ? StopMode::Pause : StopMode::Cancel);
}

BackgroundProcessor& BackgroundProcessor::withClientPool(std::shared_ptr<ChatCompleter> pool) {
  std::lock_guard lock(impl_->mu_);
  impl_->pool_ = std::move(pool);
  return *this;
}

BackgroundProcessor& BackgroundProcessor::withLegacyProvider(
    std::shared_ptr<ChatCompleter> provider) {
  std::lock_guard lock(impl_->mu_);
  impl_->legacy_ = std::move(provider);
  return *this;
}

BackgroundProcessor& BackgroundProcessor::withResultSink(ResultSink sink) {
  std::lock_guard lock(impl_->mu_);
  impl_->sink_ = std::move(sink);
  return *this;
}

Result<void> BackgroundProcessor::start() {
  std::lock_guard lock(impl_->mu_);
  if (impl_->started_) return fail(ErrorCode::InvalidRequest, "processor already started");
  if (!impl_->accepting_) return fail(ErrorCode::Cancelled, "processor already stopped");
  impl_->started_ = true;
  impl_->kick_ = true;  // tasks submitted before start(), or recovered from the store
  impl_->dispatcher_ = std::jthread([impl = impl_.get()] { impl->run(); });
  return {};
}

void BackgroundProcessor::stop(StopMode mode, std::optional<std::chrono::milliseconds> grace) {
  std::lock_guard stop_lock(impl_->stop_mu_);
  if (impl_->dispatcher_.joinable() && impl_->dispatcher_.get_id() == std::this_thread::get_id()) {
    return;  // called from a result callback: joining ourselves would deadlock
  }
  {
    std::lock_guard lock(impl_->mu_);
    impl_->accepting_ = false;
    if (mode == StopMode::Pause && !impl_->queue->durable()) mode = StopMode::Cancel;
    // A later, harsher stop wins (Drain -> Cancel); a milder one does not undo it.
    if (!impl_->stop_mode_ || mode == StopMode::Cancel) impl_->stop_mode_ = mode;
    if (grace) impl_->grace_deadline_ = MonotonicClock::now() + *grace;
    impl_->kick_ = true;
    if (!impl_->started_) {
      // Never started: run the dispatcher now so queued tasks still get their results.
      impl_->started_ = true;
      impl_->dispatcher_ = std::jthread([impl = impl_.get()] { impl->run(); });
    }
    impl_->wake_.notify_all();
    impl_->room_.notify_all();
  }
  if (impl_->dispatcher_.joinable()) impl_->dispatcher_.join();
}

Result<void> BackgroundProcessor::submit(Task task, TaskCallback on_done) {
  return impl_->submitOne(std::move(task), Delivery{std::move(on_done), nullptr}, true);
}

Result<void> BackgroundProcessor::trySubmit(Task task, TaskCallback on_done) {
  return impl_->submitOne(std::move(task), Delivery{std::move(on_done), nullptr}, false);
}

Result<std::future<TaskResult>> BackgroundProcessor::submitWithFuture(Task task) {
  auto promise = std::make_shared<std::promise<TaskResult>>();
  auto future = promise->get_future();
  auto ok = impl_->submitOne(std::move(task), Delivery{{}, std::move(promise)}, true);
  if (!ok) return std::unexpected(ok.error());
  return future;
}

BatchSubmitResult BackgroundProcessor::submitBatch(std::vector<Task> tasks) {
  return impl_->submitMany(std::move(tasks));
}

bool BackgroundProcessor::cancel(const std::string& id) { return impl_->cancelById(id); }

std::optional<TaskState> BackgroundProcessor::taskState(const std::string& id) const {
  {
    std::lock_guard lock(impl_->mu_);
    for (const auto& lt : impl_->ready_) {
      if (lt.task.id == id) return TaskState::Queued;  // leased ahead, not sent
    }
  }
  return impl_->queue->state(id);
}

std::optional<TaskResult> BackgroundProcessor::storedResult(const std::string& id) const {
  return impl_->queue->result(id);
}

void BackgroundProcessor::forEachStoredResult(
    const std::function<void(const TaskResult&)>& fn) const {
  impl_->queue->forEachResult(fn);
}

std::optional<TaskResult> BackgroundProcessor::tryReceive() {
  std::lock_guard lock(impl_->mu_);
  if (impl_->buffer_.empty()) return std::nullopt;
  TaskResult r = std::move(impl_->buffer_.front());
  impl_->buffer_.pop_front();
  return r;
}

std::vector<TaskResult> BackgroundProcessor::drain() {
  std::lock_guard lock(impl_->mu_);
  std::vector<TaskResult> out(std::make_move_iterator(impl_->buffer_.begin()),
                              std::make_move_iterator(impl_->buffer_.end()));
  impl_->buffer_.clear();
  return out;
}

ProcessorStats BackgroundProcessor::stats() const {
  ProcessorStats s;
  {
    std::lock_guard lock(impl_->mu_);
    s = impl_->counters_;
    s.in_flight = impl_->flights_.size();
    for (const auto& lt : impl_->ready_) {  // leased ahead, not sent: still queued
      ++s.queued;
      ++s.queued_by_priority[lt.task.priority];
    }
  }
  const auto counts = impl_->queue->counts();
  s.queued += counts.queued;
  for (int p = 0; p < kPriorityCount; ++p) {
    s.queued_by_priority[static_cast<Priority>(p)] +=
        counts.queued_by_priority[static_cast<size_t>(p)];
  }
  s.queue_wait = summarize(impl_->queue_wait_);
  s.run_time = summarize(impl_->run_time_);
  return s;
}

const ProcessorConfig& BackgroundProcessor::config() const { return impl_->config; }

}  // namespace llmpool
