#pragma once
// The error model of the data path: no exceptions, every failure is an Error value that says what
// happened, where, and (for pool requests) lists every attempt that was made or skipped.

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmpool/clock.h"

namespace llmpool {

enum class ErrorCode {
  // Outcomes of a call to a provider (classified once, in src/providers/error_classifier).
  InvalidRequest,      // 400, 413, 422: the request itself is wrong; never retried
  AuthFailed,          // 401, 403: bad or missing key; never retried on the same key
  NotFound,            // 404 from a provider, or an unknown model alias
  RateLimited,         // 429 (retry_after set when the provider said how long)
  ProviderOverloaded,  // 529 (Anthropic overloaded_error)
  ServerError,         // 5xx, 408, 409 and other retryable statuses
  Timeout,             // a per-attempt, time-to-first-byte or idle timeout fired
  ConnectFailed,       // DNS, refused, reset, closed before a complete response
  TlsError,            // certificate verification or handshake failure; not retried
  Protocol,            // the provider answered something we cannot parse
  // Outcomes decided locally.
  CircuitOpen,       // every candidate deployment's breaker is open
  Overloaded,        // admission refused: wait queue full or acquire deadline passed
  DeadlineExceeded,  // the request's overall deadline passed (queueing + attempts + backoff)
  Cancelled,         // the caller (or shutdown) cancelled the request
  QueueFull,         // the background processor's queue refused the task
  Dropped,           // the task was evicted by a higher-priority one (drop_lowest)
  InvalidConfig,     // configuration is invalid
  NoDeployment,      // nothing is configured that could serve the request
  Internal,          // a bug: an invariant did not hold
};

/** Stable snake_case name, used in logs, metrics labels and CLI messages. */
std::string_view errorCodeName(ErrorCode code);

/** One try (or skip) of one deployment while serving a request: the attempt trail. */
struct Attempt {
  std::string deployment;                    // "provider/model" that was tried or skipped
  bool skipped = false;                      // true: not sent, `reason` says why
  bool succeeded = false;                    // the attempt produced the response
  std::optional<ErrorCode> error;            // set when the attempt failed
  std::optional<int> http_status;            // status the provider answered, if any
  std::chrono::milliseconds start_offset{};  // since the request was admitted
  std::chrono::milliseconds duration{};
  std::string reason;  // skip reason ("breaker_open", "rate_limited", "deadline") or error detail
};

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::optional<int> http_status;
  /** How long the provider asked us to wait (Retry-After / retry-after-ms), or, for CircuitOpen,
   *  when the earliest deployment will admit a probe. */
  std::optional<std::chrono::milliseconds> retry_after;
  std::string provider;  // the provider that produced it, if any
  /** The provider's own verdict on retrying, when it gave one: the `x-should-retry` header, or
   *  false for a 429 that is not transient (insufficient_quota). Overrides the code's default. */
  std::optional<bool> should_retry;
  std::vector<Attempt> attempts;  // every attempt of a pool request, in order

  Error() = default;
  Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}

  /** "rate_limited (429): <message>" — one line for humans. */
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

/** Convenience: `return fail(ErrorCode::InvalidConfig, "...")` from a Result-returning function. */
inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}

}  // namespace llmpool
