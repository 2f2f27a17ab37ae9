#pragma once
// The OpenAI chat completions dialect (also Azure OpenAI, vLLM, llama.cpp, Ollama): wire JSON
// for requests, responses and chunks. Shared by the outbound codec and the inbound gateway.

#include <optional>
#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/error.h"
#include "providers/endpoint.h"
#include "providers/json_writer.h"

namespace llmpool::providers::openai {

/** The request body's JSON text. `max_tokens_field` is "max_tokens" or "max_completion_tokens".
 *  Written directly (no DOM): known fields in the order OpenAI's SDKs send them, then `extra`
 *  unless `with_extra` is false. */
std::string requestBody(const ChatRequest& request, std::string_view model,
                        std::string_view max_tokens_field, bool force_stream_usage,
                        bool with_extra = true);

/** True for OpenAI's own API and Azure OpenAI, which refuse parameters they do not know (other
 *  OpenAI-compatible servers ignore them or, like vLLM, take extra sampling parameters). */
bool refusesUnknownParameters(const Endpoint& endpoint);

/** Which field carries the token limit for this endpoint (see docs/providers.md). */
std::string_view maxTokensField(const Endpoint& endpoint);

/** Reads a chat.completion body. */
Result<ChatResponse> parseResponse(const Json& body);

/**
 * Reads a chat.completion body of the common shape (string content, no tool calls, integer
 * numbers, each key once) without a DOM. nullopt for anything else, valid or not: the caller
 * then parses the text and uses parseResponse, whose result or error is authoritative.
 */
std::optional<ChatResponse> parseResponseText(std::string_view body);

/** Reads tool_calls of a message ([{id,type,function:{name,arguments}}]). */
Result<std::vector<ToolCall>> parseToolCalls(const Json& calls, std::string_view path);

/** Reads {prompt_tokens, completion_tokens, total_tokens}; total defaults to the sum. */
Usage parseUsage(const Json& usage);

/** ToolCalls as OpenAI JSON. */
Json toolCallsToJson(const std::vector<ToolCall>& calls);

/** The same, written as text. */
void writeToolCalls(JsonWriter& w, const std::vector<ToolCall>& calls);

}  // namespace llmpool::providers::openai
