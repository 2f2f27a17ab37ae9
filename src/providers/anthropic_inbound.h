#pragma once
// The Anthropic messages dialect as a server speaks it: parse client requests into the
// OpenAI-shaped ChatRequest, serialise responses and error bodies.

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::providers {

/** Validates and reads a /v1/messages request (errors name the field path, InvalidRequest).
 *  `system` becomes a leading system message; tool_result blocks become tool messages;
 *  tool_use blocks become assistant tool_calls; images become OpenAI image_url parts; tools
 *  and tool_choice are translated to OpenAI's shapes; metadata.user_id -> user; unknown
 *  top-level fields (top_k, thinking, ...) are kept in `extra`. */
Result<ChatRequest> parseAnthropicRequest(const Json& body);

/** A `message` object from the first choice (text block, then tool_use blocks). */
Json toAnthropicResponse(const ChatResponse& response);

/** {"type":"error","error":{"type","message"}} with the Anthropic error type for error.code. */
Json anthropicErrorBody(const Error& error);

}  // namespace llmpool::providers
