#include "batch/batch_runner.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_set>
#include <vector>

#include "batch/embedding_completer.h"
#include "batch/input_line.h"
#include "batch/jsonl_appender.h"
#include "batch/output_line.h"
#include "batch/progress.h"
#include "batch/summary.h"
#include "llmpool/pool.h"
#include "llmpool/processor.h"

namespace llmpool::batch {
namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kSubmitChunk = 2048;                     // tasks per submitBatch (one transaction)
constexpr Duration kSyncEvery = std::chrono::seconds(1);  // fdatasync cadence of the output files
constexpr milliseconds kTick{50};                         // main loop wake-up (progress, signals)
// Results wait for the next tick unless this many pile up (or they are the last ones): one
// wake-up per result would cost the main thread (and the processor's lock) thousands of switches
// a second on a busy run.
constexpr size_t kDrainBatch = 1024;

std::optional<std::string> readWholeFile(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string(std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::string("read error");
  text = std::move(buffer).str();
  return std::nullopt;
}

class Runner {
 public:
  Runner(const RunOptions& options, PoolConfig config, const std::atomic<int>& interrupts,
         std::ostream& out, std::ostream& err)
      : options_(options),
        config_(std::move(config)),
        interrupts_(interrupts),
        out_(out),
        err_(err),
        progress_(err, progressMode(options), options.progress_interval) {
    state_path_ = options_.state.empty() ? defaultStatePath(options_.input) : options_.state;
  }

  int run() {
    started_ = std::chrono::steady_clock::now();
    if (auto problem = readWholeFile(options_.input, input_text_)) {
      return usage("cannot read " + options_.input + ": " + *problem);
    }
    for (const auto& [alias, deployments] : config_.models) rules_.aliases.insert(alias);
    rules_.default_model = options_.default_model;
    if (rules_.default_model.empty() && rules_.aliases.size() == 1) {
      rules_.default_model = *rules_.aliases.begin();
    }
    if (options_.strict && !validateStrict()) return kExitUsage;

    if (int code = openPool(); code != kExitOk) return code;
    if (int code = openProcessor(); code != kExitOk) return code;
    if (int code = openOutputs(); code != kExitOk) return code;
    writeStoredResults();
    return runToEnd();
  }

 private:
  static ProgressReporter::Mode progressMode(const RunOptions& o) {
    if (o.quiet) return ProgressReporter::Mode::Off;
    return o.progress_bar ? ProgressReporter::Mode::Bar : ProgressReporter::Mode::Lines;
  }

  int usage(const std::string& message) {
    err_ << "llmpool run: " << message << "\n";
    return kExitUsage;
  }

  void reportInvalid(const InputError& e) {
    ++reported_;
    if (reported_ <= options_.max_reported_errors) {
      err_ << options_.input << ":" << e.line << ": " << e.message << "\n";
    }
  }

  void reportSuppressed() {
    if (reported_ > options_.max_reported_errors) {
      err_ << "llmpool run: " << (reported_ - options_.max_reported_errors)
           << " more invalid lines not shown"
           << (options_.errors.empty() ? "" : " (all are in " + options_.errors + ")") << "\n";
    }
  }

  // --strict: the whole file is checked before anything is opened or sent.
  bool validateStrict() {
    auto counts = scanInput(
        input_text_, rules_, [](const ValidLine&, const LineRef&) {},
        [this](const InputError& e) { reportInvalid(e); });
    reportSuppressed();
    if (counts.invalid == 0) return true;
    err_ << "llmpool run: --strict: " << counts.invalid << " of " << counts.lines
         << " lines are invalid; nothing was run\n";
    return false;
  }

  int openPool() {
    auto pool = ClientPool::create(config_);
    if (!pool) return usage("cannot build the pool: " + pool.error().message);
    pool_ = std::shared_ptr<ClientPool>(std::move(*pool));
    return kExitOk;
  }

  int openProcessor() {
    ProcessorConfig pc = config_.processor;
    pc.queue = "sqlite:" + state_path_;
    const int wanted = options_.concurrency.value_or(pc.concurrency);
    const int pool_limit = config_.pool.max_concurrent_requests;
    pc.concurrency = std::max(1, std::min(wanted, pool_limit));
    if (wanted > pool_limit && !options_.quiet) {
      err_ << "llmpool run: note: concurrency " << wanted
           << " capped at pool.max_concurrent_requests (" << pool_limit << ")\n";
    }
    // The file is already in memory; the queue may hold all of it (SQLite keeps the tasks on
    // disk, only their order in memory), so submission never waits for the dispatcher.
    const size_t lines =
        static_cast<size_t>(std::count(input_text_.begin(), input_text_.end(), '\n')) + 1;
    pc.max_queue = std::max(pc.max_queue, static_cast<int>(std::min<size_t>(lines, 1u << 30)));
    auto processor = BackgroundProcessor::create(pc);
    if (!processor)
      return usage("cannot open the state " + state_path_ + ": " + processor.error().message);
    processor_ = std::move(*processor);
    processor_->withClientPool(std::make_shared<EmbeddingCompleter>(pool_));
    processor_->withResultSink([this](const TaskResult& r) {
      std::lock_guard lock(mu_);
      pending_.push_back(r);
      if (pending_.size() == kDrainBatch || pending_.size() == awaiting_) wake_.notify_one();
    });
    return kExitOk;
  }

  void countExisting(const Json& line) {
    ++already_done_;
    if (auto kind = failureKind(line)) {
      ++failed_;
      ++failed_by_kind_[*kind];
    } else {
      ++succeeded_;
    }
  }

  int openOutputs() {
    auto output = JsonlAppender::open(options_.output, [this](const Json& line) {
      countExisting(line);
      auto id = line.find("custom_id");
      return id != line.end() && id->is_string()
                 ? std::optional<std::string>(id->get<std::string>())
                 : std::nullopt;
    });
    if (!output) return usage(output.error().message);
    output_ = std::move(*output);
    if (!options_.errors.empty()) {
      auto errors = JsonlAppender::open(options_.errors, [](const Json& line) {
        auto id = line.find("id");
        return id != line.end() && id->is_string()
                   ? std::optional<std::string>(id->get<std::string>())
                   : std::nullopt;
      });
      if (!errors) return usage(errors.error().message);
      errors_ = std::move(*errors);
    }
    if (output_->truncatedBytes() > 0 && !options_.quiet) {
      err_ << "llmpool run: " << options_.output << ": cut a partial last line ("
           << output_->truncatedBytes() << " bytes) left by an interrupted run\n";
    }
    return kExitOk;
  }

  /** Writes one line to the output (keyed by custom_id) and, for a failure, to the error file
   *  (keyed by line id). @return whether the output line was new. */
  bool writeLine(const std::string& output_key, const Json& line, bool failure) {
    if (failure && errors_) errors_->append(line.value("id", output_key), line);
    if (output_key.empty()) return false;  // no usable custom_id: error file only
    if (!output_->append(output_key, line)) return false;
    if (auto kind = failureKind(line)) {
      ++failed_;
      ++failed_by_kind_[*kind];
    } else {
      ++succeeded_;
    }
    return true;
  }

  // Results stored by an earlier run whose line did not reach a file (a crash between the
  // SQLite commit and the file write): written now, before anything runs.
  void writeStoredResults() {
    size_t written = 0;
    processor_->forEachStoredResult([&](const TaskResult& r) {
      const bool in_output = output_->contains(r.task_id);
      const bool in_errors = !errors_ || r.ok() || errors_->contains(stableLineId(r.task_id));
      if (in_output && in_errors) return;
      Json line = resultLine(r);
      if (writeLine(r.task_id, line, !r.ok())) {
        ++written;
        ++already_done_;
      }
    });
    if (written > 0 && !options_.quiet) {
      err_ << "llmpool run: recovered " << written
           << " results stored by an earlier run but missing from " << options_.output << "\n";
    }
  }

  // Pass 1: validate every line (reporting problems in file order) and remember where the lines
  // to run are, by priority. Input lines whose custom_id is already in the output file are done.
  void collectInput() {
    auto counts = scanInput(
        input_text_, rules_,
        [&](const ValidLine& valid, const LineRef& ref) {
          if (output_->contains(valid.id)) return;
          by_priority_[static_cast<size_t>(valid.priority)].push_back(ref);
          ++total_;
        },
        [&](const InputError& e) { handleInvalid(e); });
    reportSuppressed();
    tasks_ = counts.lines;
    invalid_ = counts.invalid;
  }

  // Pass 2: submit by priority class, highest first, file order within a class, starting the
  // processor after the first chunk. Nothing submitted later could have been dispatched earlier
  // had it been queued from the start (it has a lower class or a later sequence number), so the
  // dispatch order is the same as with the whole file queued up front, and the first requests
  // go out without waiting for the rest of the file to reach SQLite.
  Result<void> submitInput() {
    std::vector<Task> chunk;
    chunk.reserve(kSubmitChunk);
    auto flush = [&]() -> Result<void> {
      if (chunk.empty()) return {};
      auto submitted = processor_->submitBatch(std::move(chunk));
      chunk.clear();
      for (auto& [id, error] : submitted.rejected) handleRejected(id, error);
      if (!started_processor_) {
        if (auto started = processor_->start(); !started) return started;
        started_processor_ = true;
        run_started_ = std::chrono::steady_clock::now();
      }
      drainResults();
      progress_.update(snapshot());
      return {};
    };
    for (size_t p = kPriorityCount; p-- > 0;) {
      for (const LineRef& ref : by_priority_[p]) {
        // Interrupted while submitting: what is not submitted yet simply runs next time.
        if (interrupts_.load() > 0) break;
        auto task = parseInputLine(ref.text, ref.line, rules_);
        if (!task) continue;  // cannot happen: pass 1 accepted this very text
        expected_.insert(task->id);
        chunk.push_back(std::move(*task));
        if (chunk.size() >= kSubmitChunk) {
          if (auto ok = flush(); !ok) return ok;
        }
      }
      by_priority_[p].clear();
      by_priority_[p].shrink_to_fit();
    }
    if (auto ok = flush(); !ok) return ok;
    // Only tasks recovered from the state to wait for (all submissions refused as known).
    if (!started_processor_ && !expected_.empty()) {
      if (auto started = processor_->start(); !started) return started;
      started_processor_ = true;
      run_started_ = std::chrono::steady_clock::now();
    }
    return {};
  }

  void handleInvalid(const InputError& e) {
    reportInvalid(e);
    const bool keyed = e.custom_id && !e.duplicate;
    const Json line = invalidInputLine(e.custom_id.value_or(""), e.line, e.message, keyed);
    if (keyed) {
      writeLine(*e.custom_id, line, true);
    } else {
      // No output line can carry it (no id, or the id belongs to an earlier line): counted as a
      // failure of this run and kept in the error file.
      writeLine("", line, true);
      ++failed_;
      ++failed_by_kind_["invalid_input"];
    }
  }

  // submitBatch refuses an id the state already knows: that task was submitted by an earlier run.
  void handleRejected(const std::string& id, const Error& error) {
    const auto state = processor_->taskState(id);
    if (state == TaskState::Queued || state == TaskState::Running) {
      ++resumed_;  // recovered from the state; it runs again and reports through the sink
      return;
    }
    expected_.erase(id);
    --total_;
    if (state == TaskState::Finished) {
      if (auto stored = processor_->storedResult(id)) {
        writeLine(id, resultLine(*stored), !stored->ok());
        ++already_done_;
      }
      return;
    }
    writeLine(id, failureLine(id, kUrlChat, error), true);
  }

  ProgressSnapshot snapshot() const {
    ProgressSnapshot s;
    s.total = total_;
    s.done = done_now_;
    s.failed = failed_now_;
    const auto ps = processor_->stats();
    const auto pool = pool_->stats();
    s.in_flight = ps.in_flight;
    s.retries = pool.retries + ps.retried;
    s.failovers = pool.failovers;
    s.breaker_trips = pool.breaker_trips;
    s.elapsed = std::chrono::steady_clock::now() - run_started_;
    return s;
  }

  void drainResults() {
    std::vector<TaskResult> results;
    {
      std::lock_guard lock(mu_);
      results.swap(pending_);
    }
    for (const auto& r : results) {
      if (isPlainSuccess(r)) {
        // The hot path: a success line is written as text, without a tree and without
        // failureKind() (it is a success by construction).
        if (!output_->contains(r.task_id) && output_->appendText(r.task_id, resultLineText(r))) {
          ++succeeded_;
        }
      } else {
        writeLine(r.task_id, resultLine(r), !r.ok());
      }
      if (expected_.erase(r.task_id) > 0) {
        ++done_now_;
        if (!r.ok()) ++failed_now_;
      }
    }
    std::lock_guard lock(mu_);
    awaiting_ = expected_.size();
  }

  // A success whose line cannot turn into a failure line (embeddings bodies are re-parsed and
  // may be rejected there).
  static bool isPlainSuccess(const TaskResult& r) {
    if (!r.ok()) return false;
    auto url = r.metadata.find(kUrlKey);
    return url == r.metadata.end() || url->second != kUrlEmbeddings;
  }

  void syncFiles() {
    // The error file first: a crash between the two leaves the output line missing, and the
    // next run rewrites it from the stored result (each file skips keys it already has).
    if (errors_) {
      if (auto s = errors_->sync(); !s) reportIoError(s.error());
    }
    if (auto s = output_->sync(); !s) reportIoError(s.error());
    last_sync_ = std::chrono::steady_clock::now();
  }

  // Once per tick: a process crash (kill -9) then loses no written line; only a machine crash
  // can lose the unsynced ones, which the next run rewrites from the state.
  void flushFiles() {
    if (errors_) {
      if (auto s = errors_->flush(); !s) reportIoError(s.error());
    }
    if (auto s = output_->flush(); !s) reportIoError(s.error());
  }

  void reportIoError(const Error& e) {
    if (io_error_reported_) return;
    io_error_reported_ = true;
    progress_.clearLine();
    err_ << "llmpool run: " << e.message << " (results stay in " << state_path_ << ")\n";
  }

  int runToEnd() {
    collectInput();
    if (total_ == 0 && !options_.quiet) {
      err_ << "llmpool run: nothing to run: every valid line already has a result in "
           << options_.output << "\n";
    }
    run_started_ = std::chrono::steady_clock::now();
    if (auto submitted = submitInput(); !submitted) {
      return usage("cannot start the processor: " + submitted.error().message);
    }
    input_text_.clear();  // only now: the kept line views point into it
    input_text_.shrink_to_fit();
    syncFiles();
    bool interrupted = false;
    while (!expected_.empty()) {
      {
        std::unique_lock lock(mu_);
        wake_.wait_for(lock, kTick, [&] {
          return pending_.size() >= kDrainBatch ||
                 (awaiting_ > 0 && pending_.size() >= awaiting_) || interrupts_.load() > 0;
        });
      }
      drainResults();
      if (std::chrono::steady_clock::now() - last_sync_ >= kSyncEvery) {
        syncFiles();
      } else {
        flushFiles();
      }
      if (interrupts_.load() > 0) {
        interrupted = true;
        break;
      }
      if (progress_.mode() != ProgressReporter::Mode::Off) progress_.update(snapshot());
    }
    const ProgressSnapshot before_stop = snapshot();
    if (interrupted) {
      progress_.clearLine();
      err_ << "llmpool run: interrupted; waiting up to " << formatDuration(options_.grace)
           << " for " << before_stop.in_flight
           << " in-flight tasks, then saving state (Ctrl-C again quits at once)\n";
    }
    // Pause, not Drain: whatever is still queued stays stored for the next run.
    processor_->stop(StopMode::Pause, interrupted ? options_.grace : milliseconds(1'000));
    drainResults();
    syncFiles();
    const PoolStats pool_stats = pool_->stats();
    const ProcessorStats proc_stats = processor_->stats();
    pool_->stop(milliseconds(1'000));
    if (!interrupted) progress_.finish(snapshot(pool_stats, proc_stats));
    return finish(interrupted, pool_stats, proc_stats);
  }

  ProgressSnapshot snapshot(const PoolStats& pool, const ProcessorStats& ps) const {
    ProgressSnapshot s;
    s.total = total_;
    s.done = done_now_;
    s.failed = failed_now_;
    s.in_flight = 0;
    s.retries = pool.retries + ps.retried;
    s.failovers = pool.failovers;
    s.breaker_trips = pool.breaker_trips;
    s.elapsed = std::chrono::steady_clock::now() - run_started_;
    return s;
  }

  int finish(bool interrupted, const PoolStats& pool, const ProcessorStats& ps) {
    RunSummary s;
    s.input = options_.input;
    s.output = options_.output;
    s.errors = options_.errors;
    s.state = state_path_;
    s.tasks = tasks_;
    s.succeeded = succeeded_;
    s.failed = failed_;
    s.failed_by_kind = failed_by_kind_;
    s.invalid_lines = invalid_;
    s.already_done = already_done_;
    s.resumed = resumed_;
    s.run_now = done_now_;
    s.pool_retries = pool.retries;
    s.task_retries = ps.retried;
    s.failovers = pool.failovers;
    s.breaker_trips = pool.breaker_trips;
    s.tokens_in = pool.tokens_in;
    s.tokens_out = pool.tokens_out;
    s.cost_usd = pool.cost_usd;
    s.wall_time = std::chrono::steady_clock::now() - started_;
    s.latency_p50 = ps.run_time.p50;
    s.latency_p99 = ps.run_time.p99;
    s.latency_mean = ps.run_time.mean();
    s.interrupted = interrupted;
    s.exit_code = interrupted ? kExitInterrupted : (failed_ > 0 ? kExitSomeFailed : kExitOk);
    if (options_.json) {
      out_ << summaryToJson(s).dump(2) << std::endl;
    } else if (!options_.quiet) {
      err_ << formatSummaryTable(s);
    }
    if (options_.quiet && s.exit_code == kExitSomeFailed) {
      err_ << "llmpool run: " << s.failed << " of " << s.tasks << " tasks failed"
           << (options_.errors.empty() ? "" : " (see " + options_.errors + ")") << "\n";
    }
    return s.exit_code;
  }

  const RunOptions& options_;
  PoolConfig config_;
  const std::atomic<int>& interrupts_;
  std::ostream& out_;
  std::ostream& err_;
  ProgressReporter progress_;
  std::string state_path_;
  std::string input_text_;
  InputRules rules_;

  // Declared before the processor: its sink uses them until it is destroyed.
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<TaskResult> pending_;  // guarded by mu_; filled on the processor's thread
  // Results still expected at the last drain (guarded by mu_): when that many are pending, the
  // run is complete and the main thread is woken at once rather than on its next tick.
  size_t awaiting_ = 0;

  std::shared_ptr<ClientPool> pool_;
  std::unique_ptr<BackgroundProcessor> processor_;  // after pool_: stopped before the pool goes
  std::unique_ptr<JsonlAppender> output_;
  std::unique_ptr<JsonlAppender> errors_;

  // Main thread only.
  std::unordered_set<std::string> expected_;  // ids whose result this run waits for
  SteadyTime started_{}, run_started_{}, last_sync_{};
  size_t reported_ = 0;
  uint64_t tasks_ = 0, invalid_ = 0, resumed_ = 0, total_ = 0;
  uint64_t already_done_ = 0, succeeded_ = 0, failed_ = 0;
  uint64_t done_now_ = 0, failed_now_ = 0;
  std::map<std::string, uint64_t> failed_by_kind_;
  bool io_error_reported_ = false;
  bool started_processor_ = false;
  std::array<std::vector<LineRef>, kPriorityCount> by_priority_;  // views into input_text_
};

}  // namespace

std::string defaultStatePath(const std::string& input) { return input + ".llmpool-state"; }

int runBatch(const RunOptions& options, PoolConfig config, const std::atomic<int>& interrupts,
             std::ostream& out, std::ostream& err) {
  Runner runner(options, std::move(config), interrupts, out, err);
  return runner.run();
}

}  // namespace llmpool::batch
