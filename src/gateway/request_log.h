#pragma once
// Structured request logs: one logfmt line per request on stderr, e.g.
//   ts=2026-11-27T10:00:00.123Z level=info msg=request route=/v1/chat/completions status=200
//   key=team-a alias=chat deployment=openai/gpt-4o upstream_request_id=req_abc attempts=1
//   stream=true duration_ms=812.4 ttft_ms=95.1 prompt_tokens=19 completion_tokens=120
//   remote=127.0.0.1:51234
// (one line). 2xx-4xx requests log at info, 5xx at warn; `gateway.log_level` is the threshold.
// Never contains keys or prompts.

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "llmpool/clock.h"

namespace llmpool::gateway {

enum class LogLevel { Trace, Debug, Info, Warn, Error, Off };

/** trace | debug | info | warn | error | off; nullopt otherwise. */
std::optional<LogLevel> parseLogLevel(std::string_view text);
std::string_view logLevelName(LogLevel level);

// Views only: a record is built for every request (most of them not logged at the usual
// thresholds), so it must cost no allocation; everything it names outlives the request() call.
struct RequestRecord {
  std::string_view route;
  unsigned status = 0;
  std::string_view key_name;  // the key's configured name, never the key
  std::string_view alias;
  std::string_view deployment;
  std::string_view upstream_request_id;  // the serving provider's id for its reply, if it sent one
  std::string_view request_id;           // the gateway's (or the client's) id of the request
  int attempts = 0;
  bool cache_hit = false;  // answered from the reply cache (logged as cache=hit)
  bool stream = false;
  Duration duration{};
  std::optional<Duration> ttft;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::string_view error_code;  // errorCodeName of a failure, "" on success
  std::string_view remote;
};

/** Thread-safe: each line is formatted first and written with a single write(2). */
class Logger {
 public:
  explicit Logger(LogLevel threshold = LogLevel::Info) : threshold_(threshold) {}
  void setThreshold(LogLevel level) { threshold_.store(level); }
  bool enabled(LogLevel level) const {
    return level != LogLevel::Off && level >= threshold_.load();
  }
  /** A free-form event: `msg` plus preformatted logfmt fields (may be empty). */
  void event(LogLevel level, std::string_view msg, std::string_view fields = {});
  void request(const RequestRecord& record);

  /** The line for `record` (without the timestamp and level): exposed for tests. */
  static std::string formatRequest(const RequestRecord& record);
  /** logfmt value: bare when safe, else quoted with \" and \\ escaped and controls dropped. */
  static std::string quote(std::string_view value);

 private:
  void write(LogLevel level, std::string_view body);
  std::atomic<LogLevel> threshold_;
};

}  // namespace llmpool::gateway
