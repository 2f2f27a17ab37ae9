#pragma once
// Task-level retry: which failures are worth sending the whole task again (after the pool has
// already retried and failed over inside its own deadline), and how long to wait first.

#include "llmpool/config.h"
#include "llmpool/error.h"

namespace llmpool::processor {

/** Transient outcomes: RateLimited, ServerError, Timeout, ConnectFailed, ProviderOverloaded,
 *  Overloaded, CircuitOpen. Everything else (the request is wrong, the task was cancelled, its
 *  deadline passed, nothing can serve it) fails the same way again. */
bool isRetryableTaskError(const Error& error);

/**
 * Delay before task-level attempt number `attempts_made + 1`: retry_backoff doubled per attempt
 * already made, capped at max_retry_backoff; a provider's Retry-After wins when it is longer.
 * No jitter: re-queued tasks are spread by their own completion times.
 */
Duration taskRetryDelay(const ProcessorConfig& config, int attempts_made, const Error& error);

}  // namespace llmpool::processor
