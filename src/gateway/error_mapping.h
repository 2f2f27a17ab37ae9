#pragma once
// The one place where an Error becomes an HTTP status, a body in the caller's dialect and the
// retry headers the official SDKs read (Retry-After, retry-after-ms, x-should-retry). The table
// is documented in docs/gateway.md ("Error mapping"); keep the two in step.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "llmpool/error.h"
#include "server/http_types.h"

namespace llmpool::gateway {

/** The API shape the caller speaks: /v1/chat/completions and /v1/embeddings are OpenAI,
 *  /v1/messages is Anthropic. */
enum class Dialect { OpenAI, Anthropic };

/** Who decided the error. It matters for AuthFailed: the caller's key was refused (401/403)
 *  versus a provider refused the gateway's own credentials (502: not the caller's fault). */
enum class ErrorOrigin { Gateway, Upstream };

struct HttpError {
  unsigned status = 500;
  std::string_view openai_type;
  std::string_view anthropic_type;
  std::string_view code;  // OpenAI `code`, stable snake_case
  std::optional<std::chrono::milliseconds> retry_after;
  std::optional<bool> should_retry;  // x-should-retry; unset: the SDK's status rule applies
};

/** Decides status, types, code and retry hints for `error`. Pure. */
HttpError mapError(const Error& error, ErrorOrigin origin, Dialect dialect);

/** The JSON error body: {"error":{"message","type","param","code"}} for OpenAI,
 *  {"type":"error","error":{"type","message"}} for Anthropic. `param` is the field path of a
 *  request the gateway refused ("messages[0].role"), else null. */
std::string errorBody(Dialect dialect, const HttpError& mapped, const Error& error,
                      ErrorOrigin origin);

/** A complete error response: status, JSON body, Retry-After (whole seconds, rounded up) plus
 *  retry-after-ms, x-should-retry, and the attempt trail headers. */
server::Response errorResponse(Dialect dialect, const Error& error, ErrorOrigin origin);

/** For failures after a stream has started (status 200 already sent): OpenAI `data:
 *  {"error":{...}}` (the SDKs raise it as APIError), Anthropic `event: error`. */
std::string streamErrorEvent(Dialect dialect, const Error& error);

}  // namespace llmpool::gateway
