#pragma once
// Response bodies of the mock in each wire dialect (OpenAI chat completions, Anthropic messages,
// embeddings, errors), written as JSON text directly (see json_text.h for why).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mock/endpoint.h"
#include "mock/reply.h"

namespace llmpool::mock {

/** Identity of one response: id and model echo, creation time (unix seconds). */
struct WireContext {
  std::string_view id;
  std::string_view model;
  int64_t created = 0;
};

/** The SSE events of a streamed reply, each a complete event text ("data: ...\n\n"). Events
 *  [first_content, first_content + content_count) carry one word piece each; the rest are the
 *  prologue (role chunk / message_start...) and epilogue (finish, usage, [DONE] / message_stop). */
struct StreamScript {
  std::vector<std::string> events;
  std::size_t first_content = 0;
  std::size_t content_count = 0;
};

std::string openaiCompletion(const WireContext& ctx, const MockReply& reply);
StreamScript openaiStream(const WireContext& ctx, const MockReply& reply, bool include_usage);

std::string anthropicMessage(const WireContext& ctx, const MockReply& reply);
StreamScript anthropicStream(const WireContext& ctx, const MockReply& reply);

/** Error body in the endpoint's dialect: OpenAI {"error":{message,type,param,code}} or Anthropic
 *  {"type":"error","error":{type,message},"request_id"}; `type` follows the status. */
std::string errorBody(Endpoint endpoint, int status, std::string_view message,
                      std::string_view request_id);

std::string embeddingsBody(const EmbeddingsPrompt& prompt, int dim);

std::string modelsBody();

/** Standard base64 (with padding). */
std::string base64Encode(std::string_view bytes);

}  // namespace llmpool::mock
