#pragma once
// The batch runner behind `llmpool run` (docs/run.md): reads an OpenAI Batch JSONL file, runs its
// lines through a BackgroundProcessor with a durable SQLite queue and a ClientPool, and writes
// exactly one output line per custom_id, resuming where an earlier (crashed or interrupted) run
// of the same command stopped.

#include <atomic>
#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "llmpool/clock.h"
#include "llmpool/config.h"

namespace llmpool::batch {

/** Exit codes of `llmpool run` (commands.h). */
inline constexpr int kExitOk = 0;
inline constexpr int kExitSomeFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

struct RunOptions {
  std::string input;
  std::string output;
  std::string errors;  // empty: no error file
  std::string state;   // empty: INPUT + ".llmpool-state"
  /** Tasks in flight; unset: processor.concurrency of the config. Capped by the pool's
   *  max_concurrent_requests (a note says so). */
  std::optional<int> concurrency;
  bool json = false;          // summary as JSON on stdout (no table)
  bool strict = false;        // any invalid line refuses the whole file (exit 2), nothing runs
  bool quiet = false;         // no progress, no table
  bool progress_bar = false;  // stderr is a terminal: redraw a bar instead of plain lines
  std::chrono::milliseconds grace{10'000};  // in-flight time allowed after an interrupt
  Duration progress_interval = std::chrono::seconds(5);  // plain progress lines
  /** Model of enhancement-form lines without "model"; empty: the config's only alias, if any. */
  std::string default_model;
  size_t max_reported_errors = 50;  // invalid lines printed on stderr (all go to the files)
};

/** The state file used when RunOptions::state is empty. */
std::string defaultStatePath(const std::string& input);

/**
 * Runs a batch to completion or interruption.
 * @param config     a validated pool config (its processor section gives concurrency defaults)
 * @param interrupts incremented by the caller's signal handling; the runner stops taking work
 *                   when it becomes non-zero, lets in-flight tasks finish up to options.grace,
 *                   keeps the state and returns kExitInterrupted
 * @param out        stdout (the --json summary)
 * @param err        stderr (messages, progress, the summary table)
 * @return the process exit code (0, 1, 2 or 130).
 * Blocks until done. Call with SIGINT/SIGTERM blocked in the calling thread, so that threads it
 * starts never run a signal handler.
 */
int runBatch(const RunOptions& options, PoolConfig config, const std::atomic<int>& interrupts,
             std::ostream& out, std::ostream& err);

}  // namespace llmpool::batch
