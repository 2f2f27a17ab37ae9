#pragma once
// Progress on stderr (docs/run.md): a bar redrawn in place when stderr is a terminal, a plain line
// every few seconds when it is not (logs, CI), nothing with -q. The formatting functions are pure
// (tested with explicit numbers); ProgressReporter only decides when to print.

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "llmpool/clock.h"

namespace llmpool::batch {

struct ProgressSnapshot {
  uint64_t total = 0;      // tasks this run must finish
  uint64_t done = 0;       // finished this run (succeeded + failed)
  uint64_t failed = 0;     // of `done`
  uint64_t in_flight = 0;  // sent, not answered
  uint64_t retries = 0;    // pool retries + task-level retries so far
  uint64_t failovers = 0;
  uint64_t breaker_trips = 0;
  Duration elapsed{};
};

/** Tasks per second so far (0 before any time passed). */
double progressRate(const ProgressSnapshot& s);

/** "12s", "3m05s", "1h02m", or "-" when unknown. */
std::string formatEta(const ProgressSnapshot& s);

/** One terminal line: "[#####.....] 1234/2000  61.7%  ok 1222  failed 12  in-flight 64 ..." */
std::string formatProgressBar(const ProgressSnapshot& s, int bar_width = 24);

/** One log line: "progress: 1234/2000 done (61.7%), 12 failed, 64 in flight, 410/s, ETA 2s". */
std::string formatProgressLine(const ProgressSnapshot& s);

class ProgressReporter {
 public:
  enum class Mode { Off, Bar, Lines };

  /** `line_interval`: time between plain lines (Mode::Lines). Not thread-safe. */
  ProgressReporter(std::ostream& out, Mode mode, Duration line_interval);

  /** Prints if it is time to (Bar: at most 10 times a second). */
  void update(const ProgressSnapshot& s);
  /** The final state: Bar ends its line; Lines prints one last line. */
  void finish(const ProgressSnapshot& s);
  /** Clears a drawn bar so another message can be printed on a clean line. */
  void clearLine();

  Mode mode() const { return mode_; }

 private:
  std::ostream& out_;
  Mode mode_;
  Duration line_interval_;
  std::optional<Duration> last_;  // elapsed time at the last print
  bool bar_drawn_ = false;
};

}  // namespace llmpool::batch
