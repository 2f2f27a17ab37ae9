#pragma once
// The legacy path of the seed: one direct call to one provider — one attempt, no admission
// queue, no breaker, no retries, no failover. BackgroundProcessor uses it when no ClientPool is
// configured (withLegacyProvider). It never invents a reply: every failure is an Error.

#include <memory>
#include <string>

#include "llmpool/completer.h"
#include "llmpool/config.h"
#include "llmpool/error.h"

namespace llmpool {

/**
 * A ChatCompleter that sends each request once to `provider`, with `model` as the upstream model
 * (RequestOptions::model and ChatRequest::model are ignored). Owns its HTTP transport.
 * @param timeout per-request timeout (the seed's 30 s default).
 */
Result<std::shared_ptr<ChatCompleter>> makeDirectProvider(
    ProviderConfig provider, std::string model,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

}  // namespace llmpool
