#pragma once
// A client's chat request body passed on to a provider of the client's own dialect: the members
// the client wrote go through as written, and only those the pool decides are put in. Decision:
// forward rather than re-encode, because a re-encode keeps only what ChatRequest models and so
// drops what it does not (message fields such as `refusal` or `reasoning_content`, Anthropic
// thinking blocks handed back in a conversation, parameters newer than this code).

#include <optional>
#include <string>
#include <string_view>

#include "llmpool/chat.h"

namespace llmpool::providers {

/**
 * The body for an OpenAI-dialect provider: `model` first (the deployment's), then every member of
 * `body` as written except `model`, `stream` and `stream_options`, and with `max_tokens` /
 * `max_completion_tokens` replaced by `request.max_tokens` under `max_tokens_field`; then, when
 * `request.stream`, `"stream":true` and `"stream_options":{"include_usage":true}`. nullopt when
 * `body` is not a well-formed JSON object (the caller then encodes from `request`).
 */
std::optional<std::string> forwardedOpenAIBody(std::string_view body, const ChatRequest& request,
                                               std::string_view model,
                                               std::string_view max_tokens_field);

/** The body for an Anthropic provider: `model` first (the deployment's), then every member of
 *  `body` as written except `model` and `stream`; then `"stream":true` when `request.stream`.
 *  nullopt as above. */
std::optional<std::string> forwardedAnthropicBody(std::string_view body, const ChatRequest& request,
                                                  std::string_view model);

}  // namespace llmpool::providers
