#pragma once
// The one place that turns a provider's non-2xx answer (or an error event inside a stream) into
// an Error. Both dialects and the OpenAI-compatible servers' quirky bodies are understood here.
// See docs/providers.md for the table.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "http/transport.h"
#include "llmpool/chat.h"
#include "llmpool/clock.h"
#include "llmpool/config.h"
#include "llmpool/error.h"

namespace llmpool::providers {

/**
 * Classifies an HTTP error response:
 *   400, 413, 422, other 4xx -> InvalidRequest   401, 403 -> AuthFailed   404 -> NotFound
 *   408, 409 -> ServerError (transient, retried like a 5xx)    429 -> RateLimited
 *   529 -> ProviderOverloaded   other 5xx -> ServerError (ProviderOverloaded when the body says
 *   overloaded_error)   1xx/2xx/3xx -> Protocol (a 2xx never reaches here in normal use).
 * A 429 whose code/type is insufficient_quota, credit_balance_exhausted or billing_error keeps
 * RateLimited (so the caller sees a 429 and the pool may fail over) but gets should_retry=false.
 * The `x-should-retry: true|false` header sets should_retry. retry_after comes from
 * parseRetryAfter. The message comes from the body (any dialect), with key-like tokens masked.
 */
Error classifyHttpError(ProviderKind kind, int status, const http::Headers& headers,
                        std::string_view body, SystemTime now);

/** Classifies an error delivered inside a 200 stream or body (`data: {"error":...}`, Anthropic
 *  `event: error`), by its type/code: overloaded_error -> ProviderOverloaded, rate limits ->
 *  RateLimited, auth/permission -> AuthFailed, not_found -> NotFound, invalid_request ->
 *  InvalidRequest, an integer HTTP-like code -> as that status, anything else -> ServerError. */
Error classifyErrorBody(ProviderKind kind, const Json& body);

/** `retry-after-ms` (float milliseconds) first, then `retry-after` as seconds (int or float) or
 *  an HTTP-date minus `now`. Negative, non-finite or unparseable values give nullopt. */
std::optional<std::chrono::milliseconds> parseRetryAfter(const http::Headers& headers,
                                                         SystemTime now);

/** The `x-should-retry` header: true/false, nullopt when absent or neither. */
std::optional<bool> parseShouldRetry(const http::Headers& headers);

/** Masks things that look like credentials (sk-..., Bearer ..., long key-like tokens) so that a
 *  provider echoing part of a key never puts it into our errors or logs. */
std::string redactSecrets(std::string_view text);

}  // namespace llmpool::providers
