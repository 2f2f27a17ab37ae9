#pragma once
// The OpenAI dialect as a server speaks it (gateway, batch runner): parse client requests with
// errors that name the offending field, serialise responses, chunks and error bodies.

#include <optional>
#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::providers {

/** Validates and reads a chat completions request. Errors are InvalidRequest with a message
 *  "<field path>: <problem>", e.g. "messages[2].role: expected one of system, developer, user,
 *  assistant, tool, function". Top-level fields ChatRequest has no member for are kept in
 *  `extra` (and passed through to OpenAI-compatible providers). max_completion_tokens wins over
 *  max_tokens when both are set. null counts as absent. */
Result<ChatRequest> parseOpenAIChatRequest(const Json& body);

/**
 * The common shape of a chat request (text messages, sampling fields, stream options; each key
 * once) read without a DOM, with the same validation. nullopt for anything else, valid or not:
 * the caller then parses the text and uses parseOpenAIChatRequest, whose result or error is
 * authoritative.
 */
std::optional<ChatRequest> parseOpenAIChatRequestText(std::string_view body);

/** A chat.completion object. An empty finish_reason is written as null. */
Json toOpenAIChatResponse(const ChatResponse& response);

/** toOpenAIChatResponse as compact JSON text, written directly (no DOM). */
std::string openAIChatResponseText(const ChatResponse& response);

/** A chat.completion.chunk object. A chunk with only usage becomes `"choices":[]` plus usage. */
Json toOpenAIChunk(const ChatChunk& chunk);

/** {"error":{"message","type","param":null,"code"}}; code is errorCodeName(error.code). */
Json openAIErrorBody(const Error& error);

/** Validates an embeddings request: input is a string or an array of strings (token arrays are
 *  refused), encoding_format "float" or "base64", dimensions >= 1. */
Result<EmbeddingRequest> parseOpenAIEmbeddingRequest(const Json& body);

/** An embeddings list object; with `base64` each vector is little-endian float32 in base64. */
Json toOpenAIEmbeddingResponse(const EmbeddingResponse& response, bool base64);

}  // namespace llmpool::providers
