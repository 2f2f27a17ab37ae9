#pragma once
// POST /v1/messages/count_tokens: Anthropic's token count for a Messages request, which Claude
// clients ask before every turn to manage their context window. Answered here, without a
// provider call (a count per turn would spend the provider's rate limits): an estimate
// (token_estimate.h), and the reply says so in `x-llmpool-token-count: estimate`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/key_ring.h"
#include "llmpool/error.h"

namespace llmpool::gateway {

/**
 * The input tokens of the count_tokens request `body`, whose `model` (stored in `alias`) must be
 * one of `aliases` that `key` may use (null `key`: no gateway keys). Errors: InvalidRequest for a
 * body that is not a Messages request (no `model` string, no `messages` array), NotFound for an
 * unknown model, AuthFailed (HTTP 403) for a model the key may not use.
 */
Result<int64_t> countInputTokens(std::string_view body, const std::vector<std::string>& aliases,
                                 const KeyEntry* key, std::string& alias);

}  // namespace llmpool::gateway
