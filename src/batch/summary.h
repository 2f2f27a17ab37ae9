#pragma once
// The end-of-run summary of `llmpool run`: a table on stderr, or JSON on stdout with --json.
// Counts of results cover the whole output file (this run and earlier runs of the same batch);
// retries, failovers, breaker trips, tokens, cost, throughput and latency cover this run only.
// The JSON keys are a public contract (docs/run.md).

#include <cstdint>
#include <map>
#include <string>

#include "llmpool/chat.h"
#include "llmpool/clock.h"

namespace llmpool::batch {

struct RunSummary {
  std::string input, output, errors, state;
  uint64_t tasks = 0;      // non-blank input lines
  uint64_t succeeded = 0;  // success lines in the output file
  uint64_t failed = 0;     // failure lines, plus invalid lines that have no output line
  std::map<std::string, uint64_t> failed_by_kind;
  uint64_t invalid_lines = 0;
  uint64_t already_done = 0;  // results found in the output file at start
  uint64_t resumed = 0;       // unfinished tasks of an earlier run, run again now
  uint64_t run_now = 0;       // tasks finished by this run
  uint64_t pool_retries = 0;
  uint64_t task_retries = 0;
  uint64_t failovers = 0;
  uint64_t breaker_trips = 0;
  uint64_t tokens_in = 0, tokens_out = 0;
  double cost_usd = 0;
  Duration wall_time{};
  Duration latency_p50{}, latency_p99{}, latency_mean{};
  bool interrupted = false;
  int exit_code = 0;

  uint64_t notFinished() const {
    return tasks > succeeded + failed ? tasks - succeeded - failed : 0;
  }
  double throughput() const;  // tasks finished this run per second of wall time
};

Json summaryToJson(const RunSummary& s);

/** A human table (several lines, ending with '\n'). */
std::string formatSummaryTable(const RunSummary& s);

/** "1.2s", "850ms", "3m05s". */
std::string formatDuration(Duration d);

}  // namespace llmpool::batch
