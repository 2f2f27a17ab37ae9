#pragma once
// A rough count of a Messages request's input tokens, made without a tokenizer: for
// /v1/messages/count_tokens and for the input figure of a translated stream's message_start,
// which an Anthropic client reads before the provider's real count arrives at the end.

#include <cstdint>
#include <optional>
#include <string_view>

namespace llmpool::gateway {

/**
 * Estimates the input tokens of an Anthropic Messages body from the JSON text of its `system`,
 * `messages` and `tools` members (structure included, as the model sees it formatted): four
 * ASCII bytes a token, and a token for each non-ASCII character (CJK text runs about one a
 * character). nullopt when `body` is not one JSON object.
 */
std::optional<int64_t> estimateInputTokens(std::string_view body);

/** The same count over any JSON text (the bytes as they are). */
int64_t estimateTokensOfText(std::string_view text);

}  // namespace llmpool::gateway
