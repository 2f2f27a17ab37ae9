#pragma once
// The Anthropic messages dialect: wire JSON for requests and responses, and the mapping between
// Anthropic's stop reasons / usage and the OpenAI-shaped value types.

#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::providers::anthropic {

/** The /v1/messages body (see docs/providers.md for the mapping). */
Json requestBody(const ChatRequest& request, std::string_view model);

/** Reads a `message` body. */
Result<ChatResponse> parseResponse(const Json& body);

/** end_turn, stop_sequence, pause_turn -> stop; max_tokens, model_context_window_exceeded ->
 *  length; tool_use -> tool_calls; refusal -> content_filter; null/"" -> ""; others -> stop. */
std::string finishReasonFromStopReason(std::string_view stop_reason);

/** The reverse: stop -> end_turn, length -> max_tokens, tool_calls/function_call -> tool_use,
 *  content_filter -> refusal, "" -> "" (null on the wire). */
std::string stopReasonFromFinishReason(std::string_view finish_reason);

/** Anthropic usage -> Usage: prompt = input + cache_creation_input + cache_read_input tokens
 *  (OpenAI's prompt_tokens counts cached tokens too), completion = output tokens. */
Usage parseUsage(const Json& usage);

/** An OpenAI content part -> an Anthropic content block (text, image from image_url; data: URLs
 *  become base64 sources). Anything else is passed through unchanged. */
Json partToBlock(const Json& part);

/** An Anthropic content block -> an OpenAI content part (text, image -> image_url), or the block
 *  unchanged when there is no OpenAI equivalent. */
Json blockToPart(const Json& block);

}  // namespace llmpool::providers::anthropic
