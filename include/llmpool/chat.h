#pragma once
// Value types for chat completions and embeddings, shaped after OpenAI's chat completions API
// (the lingua franca); provider codecs translate them to each wire dialect.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmpool/error.h"

namespace llmpool {

using Json = nlohmann::json;

struct ToolCall {
  std::string id;
  std::string type = "function";
  std::string name;
  std::string arguments;  // JSON text, as OpenAI sends it
};

struct ChatMessage {
  /** system | developer | user | assistant | tool | function */
  std::string role;
  /** The text content. When the caller sent an array of parts, this holds the text parts joined. */
  std::string content;
  /** The original content array when it was not plain text (images, audio...); null otherwise. */
  Json content_parts;
  std::string name;                  // optional participant / function name
  std::string tool_call_id;          // for role == "tool"
  std::vector<ToolCall> tool_calls;  // assistant turns that called tools
};

/** A wire dialect: the one a request or reply was written in (Azure OpenAI speaks OpenAI's). */
enum class WireDialect { None, OpenAI, Anthropic };

struct ChatRequest {
  /** The model alias (pool) or upstream model name (direct provider call). */
  std::string model;
  std::vector<ChatMessage> messages;
  std::optional<double> temperature;
  std::optional<double> top_p;
  /** Upper bound on generated tokens; sent as max_tokens or max_completion_tokens per dialect. */
  std::optional<int64_t> max_tokens;
  std::vector<std::string> stop;
  std::optional<int> n;
  std::optional<int64_t> seed;
  std::optional<double> presence_penalty;
  std::optional<double> frequency_penalty;
  Json tools;            // OpenAI tools array, or null
  Json tool_choice;      // "none" | "auto" | "required" | {type, function:{name}}, or null
  Json response_format;  // {type: text|json_object|json_schema,...}, or null
  std::string user;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  /** Other top-level fields, passed through unchanged to OpenAI-compatible providers: null (the
   *  default, so a request allocates nothing for it) or an object. */
  Json extra;
  /** The client's body as it arrived, and its dialect, when the caller has one (the gateway). A
   *  provider of that dialect is sent this body with only what the pool decides put in: the
   *  deployment's `model`, `stream` (and OpenAI's `stream_options`, usage asked) and OpenAI's
   *  max-tokens field under the endpoint's name; so what the fields above do not model (message
   *  fields, Anthropic thinking blocks handed back, new parameters) reaches it. The fields above
   *  must say the same (they drive limits, routing and every other dialect). */
  std::string source_body;
  WireDialect source_dialect = WireDialect::None;
  /** Request headers of the client's that a provider of its dialect is sent too (the gateway
   *  passes Anthropic's `anthropic-beta`); a header the provider's config sets wins. */
  std::vector<std::pair<std::string, std::string>> source_headers;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
};

struct ChatChoice {
  int index = 0;
  std::string role = "assistant";
  std::string content;
  /** The model's reasoning, when the provider returns it: OpenAI-compatible servers'
   *  `reasoning_content` (DeepSeek, vLLM, Ollama) or `reasoning`, Anthropic's thinking blocks.
   *  Carried across dialects (docs/providers.md, "Reasoning"). */
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
  /** stop | length | tool_calls | content_filter | function_call */
  std::string finish_reason;
};

struct ChatResponse {
  std::string id;
  std::string model;  // the model the provider says answered
  /** Unix seconds: the provider's, or (a provider that gives none, such as Anthropic) when the
   *  pool received the reply. */
  int64_t created = 0;
  std::vector<ChatChoice> choices;
  Usage usage;
  /** Filled by the pool: which deployment served the request, after how many attempts, at what
   *  cost in USD (0 when no price is configured). */
  std::string deployment;
  int attempts = 1;
  double cost_usd = 0.0;
  /** The provider's own id for this reply (its `x-request-id`, Anthropic's `request-id`), for
   *  finding it in the provider's logs; "" when it sent none. */
  std::string provider_request_id;
  std::vector<Attempt> attempt_trail;
  /** The provider's reply body as it arrived, and its dialect, for replies that were not
   *  streamed; empty and None otherwise. A client that speaks the same dialect can be given it
   *  unchanged, with what the fields above do not model (OpenAI logprobs, system_fingerprint and
   *  usage details; Anthropic thinking blocks and cache usage). The pool moves the body here, it
   *  does not copy it. */
  std::string provider_body;
  WireDialect provider_dialect = WireDialect::None;

  /** Text of the first choice, "" when there is none. */
  const std::string& text() const {
    static const std::string empty;
    return choices.empty() ? empty : choices.front().content;
  }
};

/** One streamed piece of a chat completion (OpenAI chat.completion.chunk, one choice). */
struct ChatChunk {
  std::string id;
  std::string model;
  /** Unix seconds: the provider's, or (a provider that gives none) when the pool received the
   *  stream's first chunk, the same for all of them. */
  int64_t created = 0;
  int index = 0;
  std::string role;       // set on the first chunk of a choice
  std::string content;    // text delta
  std::string reasoning;  // reasoning delta (ChatChoice::reasoning)
  Json tool_calls;        // OpenAI tool_calls delta array, or null
  std::optional<std::string> finish_reason;
  std::optional<Usage> usage;  // the final usage chunk (OpenAI include_usage, Anthropic deltas)
  /** Filled by the pool on the first chunk it delivers: the deployment streaming the response
   *  and how many attempts were sent (later chunks leave them empty: the stream cannot move). */
  std::string deployment;
  int attempts = 0;
  std::string provider_request_id;  // first chunk only, as deployment (ChatResponse's)
  /** Only when the request asked for them (RequestOptions::provider_events): the provider's
   *  stream event this chunk came from, as it arrived, for a client of the same dialect to be
   *  given unchanged, with what the fields above do not model (OpenAI logprobs and usage
   *  details; Anthropic thinking and signature deltas, citations, pings). OpenAI: the event's
   *  data, on a chunk that is the whole event (an event of several choices has none). Anthropic:
   *  every event, on the one chunk it made, or on a chunk of its own (`only_event`) when it made
   *  none; `provider_event` is the SSE event name. Empty and None otherwise. */
  std::string provider_data;
  std::string provider_event;
  WireDialect provider_dialect = WireDialect::None;
  /** The chunk exists only to carry provider_data: its event made no chunk. */
  bool only_event = false;

  /** True when the chunk says something of its choice (role, text, reasoning, tool calls or a
   *  finish reason); false for an empty chunk or one that carries usage alone. */
  bool hasDelta() const {
    return !role.empty() || !content.empty() || !reasoning.empty() || !tool_calls.is_null() ||
           finish_reason.has_value();
  }
};

struct EmbeddingRequest {
  std::string model;
  std::vector<std::string> input;
  std::optional<int> dimensions;
  std::string encoding_format;  // "" (float) or "base64"
  std::string user;
};

struct EmbeddingResponse {
  std::string model;
  std::vector<std::vector<float>> data;
  Usage usage;
  std::string deployment;
  int attempts = 1;
  double cost_usd = 0.0;  // from the deployment's input price (0 when none is configured)
};

}  // namespace llmpool
