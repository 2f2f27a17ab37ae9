#pragma once
// The model endpoints: POST /v1/chat/completions (OpenAI), POST /v1/messages (Anthropic) and
// POST /v1/responses (OpenAI's Responses API), streaming or not, and POST /v1/embeddings. The
// caller is already authenticated; these parse the body, admit the request on its key, run it
// on the generation's pool, and answer in the caller's dialect. A client that disconnects
// cancels its pool request.

#include "gateway/call_limits.h"
#include "gateway/error_mapping.h"
#include "gateway/generation.h"
#include "server/response_writer.h"

namespace llmpool::gateway {

struct ModelCall {
  GatewayShared& shared;
  GenerationPtr generation;
  KeyEntry* key = nullptr;  // null without gateway keys
  server::ResponseWriter writer;
  MonotonicTime started;
  /** The request's id (request_id.h): in the response's x-request-id, the log line, and sent
   *  upstream as x-client-request-id. */
  std::string request_id;
  /** The client's W3C trace context (traceparent, tracestate), sent upstream as it came. */
  std::vector<std::pair<std::string, std::string>> trace_headers;
  /** What the client's x-llmpool-timeout / x-llmpool-max-attempts asked for (call_limits.h). */
  CallLimits limits;

  /** Answers with `response`, carrying the request id. */
  void respond(server::Response response);
  /** The pool options every route sets alike: the alias, the upstream headers (request id,
   *  trace context) and the client's limits. */
  RequestOptions poolOptions(std::string alias) const;
};

/** /v1/chat/completions (Dialect::OpenAI) or /v1/messages (Dialect::Anthropic). The request's
 *  body moves into the ChatRequest (it is sent on as written to a provider of its dialect). */
void serveChat(Dialect dialect, server::Request&& request, ModelCall call);
void serveEmbeddings(const server::Request& request, ModelCall call);
/** /v1/responses: OpenAI's Responses API, served statelessly through the chat path
 *  (providers/responses_inbound.h); errors in OpenAI's shape. */
void serveResponses(const server::Request& request, ModelCall call);

}  // namespace llmpool::gateway
