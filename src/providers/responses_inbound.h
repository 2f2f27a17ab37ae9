#pragma once
// OpenAI's Responses dialect (POST /v1/responses) as a server speaks it, statelessly: a request
// is read into the chat model (ChatRequest) that every provider codec speaks, and the chat reply
// is written back as a Response object. Nothing is stored, so what needs a stored response
// (previous_response_id, conversation, background, item_reference) is refused with a 400 that
// says so, as are the built-in tools that only OpenAI's own service runs (web_search,
// file_search, computer use, ...): function tools are served.

#include <string>
#include <string_view>

#include "llmpool/chat.h"
#include "llmpool/error.h"

namespace llmpool::providers {

/** Validates and reads a /v1/responses request (errors name the field path, InvalidRequest).
 *  `instructions` becomes a leading system message; `input` (a string, or message,
 *  function_call and function_call_output items) becomes the messages, a function_call joining
 *  the assistant turn before it; input_text/output_text/input_image/input_file parts become
 *  OpenAI chat parts; function tools and tool_choice take chat's shapes; text.format becomes
 *  response_format; max_output_tokens -> max_tokens; reasoning.effort, parallel_tool_calls,
 *  text.verbosity, service_tier, prompt_cache_key and safety_identifier go on as the chat
 *  parameters of those names. Reasoning items handed back are dropped (chat has no form for
 *  them). Other members (store, include, truncation, metadata, ...) are accepted and not sent. */
Result<ChatRequest> parseResponsesRequest(const Json& body);

/** The request settings a Response object repeats (instructions, max_output_tokens, metadata,
 *  parallel_tool_calls, reasoning, temperature, text, tool_choice, tools, top_p, user, ...),
 *  with the API's defaults where the request has none; `store` is false (nothing is kept). For
 *  a body that parseResponsesRequest accepted. */
Json responsesEcho(const Json& body);

/** The ids of a Response and its items, derived from the provider's reply id ("resp_<id>",
 *  "msg_<id>") so that they are stable and findable, or random when it has none. */
std::string responseIdFor(std::string_view provider_id);
std::string messageItemIdFor(std::string_view provider_id);
std::string functionCallItemIdFor(std::string_view call_id);
/** "rs_" + the provider's reply id: the id of a reply's reasoning item. */
std::string reasoningItemIdFor(std::string_view provider_id);
/** A completed reasoning item with `text` as its one reasoning_text part (what OpenAI returns
 *  for open-weight models' raw reasoning; summaries are not made here). */
Json reasoningItem(std::string id, const std::string& text);

/** A Response's `usage`: input/output/total tokens with their (zero) details. */
Json responsesUsage(const Usage& usage);

/** "completed", or "incomplete" with incomplete_details.reason when the reply was cut short:
 *  max_output_tokens (finish_reason length), content_filter. */
struct ResponseStatus {
  std::string status;
  Json incomplete_details;  // null, or {"reason": ...}
};
ResponseStatus responseStatusFor(std::string_view finish_reason);

/** The Response object's members other than output, usage and status: id, object,
 *  created_at, model, error, the echoed settings. */
Json responseSkeleton(std::string_view id, int64_t created_at, std::string_view model,
                      const Json& echo);

/** A whole (non-streamed) Response from the first choice: a message item for its text, then a
 *  function_call item for each tool call. */
Json toResponsesResponse(const ChatResponse& response, const Json& echo);

}  // namespace llmpool::providers
