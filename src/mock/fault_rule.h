#pragma once
// Fault rules of the mock provider (docs/mock.md): parsed from --fault flags, POST /admin/faults
// and the per-request `x-mock-fault` header, then matched against each model request.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmpool/chat.h"
#include "llmpool/clock.h"
#include "llmpool/error.h"
#include "mock/endpoint.h"
#include "mock/mock_random.h"

namespace llmpool::mock {

enum class FaultKind {
  Status,          // answer `status` with an error body in the endpoint's dialect
  Reset,           // close the connection before any response
  ResetMidStream,  // close after `after_chunks` content chunks
  Hang,            // never answer; hold the connection until the client leaves
  SlowFirstByte,   // wait `delay` before the status line, then answer normally
  Malformed,       // 200 with a body that is not JSON
  Truncate,        // stream: end cleanly after `after_chunks` chunks, without [DONE]/message_stop
};

struct FaultRule {
  FaultKind kind = FaultKind::Status;
  int status = 500;
  std::optional<std::string> retry_after;          // header value, as given ("1", "0.5")
  std::optional<std::string> retry_after_ms;       // header value
  double rate = 1.0;                               // probability per request
  std::optional<uint64_t> first_n;                 // only the first N requests matched
  std::optional<std::chrono::milliseconds> after;  // window start, since installation
  std::optional<std::chrono::milliseconds> until;  // window end, since installation
  std::optional<Endpoint> path;                    // unset: every model endpoint
  uint64_t after_chunks = 1;                       // reset_mid_stream / truncate
  std::chrono::milliseconds delay{0};              // slow_first_byte
};

/** Validates one rule object. The error message names the offending field, prefixed by
 *  `where` (e.g. "faults[2]"). */
Result<FaultRule> parseFaultRule(const Json& rule, std::string_view where = "fault");
/** Parses JSON text holding one rule object (the --fault flag, the x-mock-fault header). */
Result<FaultRule> parseFaultRuleText(std::string_view text);
/** Parses {"faults":[rule,...]} (POST /admin/faults). */
Result<std::vector<FaultRule>> parseFaultList(std::string_view text);

std::string_view faultKindName(FaultKind kind);

/** An installed rule set. Matching is thread-safe and lock-free: each rule's first_n budget is
 *  an atomic counter. Replaced as a whole (never edited) when the rules change. */
class FaultSet {
 public:
  FaultSet(std::vector<FaultRule> rules, MonotonicTime installed);

  /** The first rule that applies to a request to `endpoint` arriving at `now`, or null. A rule
   *  applies when its path matches, `now` is inside its window, it still has first_n budget
   *  (taking one unit), and the `rate` draw succeeds — checked in that order. */
  const FaultRule* match(Endpoint endpoint, MonotonicTime now, MockRandom& random);

  const std::vector<FaultRule>& rules() const { return rules_; }

 private:
  std::vector<FaultRule> rules_;
  std::unique_ptr<std::atomic<uint64_t>[]> matched_;  // per rule: requests counted by first_n
  MonotonicTime installed_;
};

}  // namespace llmpool::mock
