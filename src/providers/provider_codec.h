#pragma once
// Outbound codecs: what the pool sends to a provider and how it reads the answer. Pure functions
// (no I/O); they dispatch on Endpoint::kind to the OpenAI (and Azure) or Anthropic dialect.
// Mapping tables and decisions: docs/providers.md.

#include <string_view>

#include "http/transport.h"
#include "llmpool/chat.h"
#include "llmpool/config.h"
#include "llmpool/error.h"
#include "providers/endpoint.h"

namespace llmpool::providers {

/**
 * Builds the chat request for `endpoint`'s dialect, with `upstream_model` as the model.
 *  - OpenAI: POST {base_url}/chat/completions, `Authorization: Bearer KEY` (omitted when the key
 *    is empty, for local servers).
 *  - Azure: POST {base_url}/openai/deployments/{model}/chat/completions?api-version=V, `api-key`.
 *  - Anthropic: POST {base_url}/messages, `x-api-key`, `anthropic-version` (default 2023-06-01).
 * Streaming requests always ask for usage (OpenAI stream_options.include_usage): the pool needs
 * token counts; ChatRequest::include_usage only says whether the caller wants the usage chunk.
 * The api key appears only in its header. Timeouts are left at their defaults for the caller.
 */
http::HttpRequest encodeChat(const Endpoint& endpoint, const ChatRequest& request,
                             std::string_view upstream_model);

/** Decodes a 2xx chat body. A body that is not the expected JSON -> ErrorCode::Protocol; a 200
 *  whose body is an error object -> that error, classified like an in-band stream error. */
Result<ChatResponse> decodeChat(ProviderKind kind, const http::HttpResponse& response);

/** Keeps the body a ChatResponse was decoded from in it (moved), with the provider's dialect. */
void keepProviderBody(ProviderKind kind, std::string&& body, ChatResponse& response);

/** The provider's id for a response: `x-request-id` (OpenAI and most compatible servers) or
 *  `request-id` (Anthropic); "" when it sent neither. */
std::string_view providerRequestId(const http::Headers& headers);

/** POST {base_url}/embeddings (Azure: the deployment URL). Anthropic has no embeddings API:
 *  InvalidRequest. */
Result<http::HttpRequest> encodeEmbeddings(const Endpoint& endpoint,
                                           const EmbeddingRequest& request,
                                           std::string_view upstream_model);

/** Decodes an embeddings body: `embedding` as a float array or base64 little-endian float32;
 *  data is ordered by `index`. Malformed -> Protocol. */
Result<EmbeddingResponse> decodeEmbeddings(ProviderKind kind, const http::HttpResponse& response);

/**
 * A probe that costs no tokens: GET {base_url}/models for OpenAI and Anthropic (both list models
 * with the usual auth headers), GET {base_url}/openai/models?api-version=V for Azure. A non-empty
 * `path_override` replaces the path ("/health" for vLLM or llama.cpp); an absolute http(s) URL
 * replaces the whole URL. Any 2xx means healthy; the body need not be JSON.
 */
http::HttpRequest encodeHealthProbe(const Endpoint& endpoint, std::string_view path_override);

}  // namespace llmpool::providers
