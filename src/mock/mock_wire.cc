#include "mock/mock_wire.h"

#include <cstring>
#include <optional>

#include "mock/json_text.h"

namespace llmpool::mock {

namespace {

void appendUsage(std::string& out, const MockReply& reply) {
  out.append(R"({"prompt_tokens":)");
  appendInt(out, reply.prompt_tokens);
  out.append(R"(,"completion_tokens":)");
  appendInt(out, reply.completion_tokens);
  out.append(R"(,"total_tokens":)");
  appendInt(out, reply.prompt_tokens + reply.completion_tokens);
  out.push_back('}');
}

// {"id":..,"object":"chat.completion.chunk","created":..,"model":..,"choices":
void appendChunkStart(std::string& out, const WireContext& ctx) {
  out.append(R"(data: {"id":)");
  appendJsonString(out, ctx.id);
  out.append(R"(,"object":"chat.completion.chunk","created":)");
  appendInt(out, ctx.created);
  out.append(R"(,"model":)");
  appendJsonString(out, ctx.model);
  out.append(R"(,"choices":)");
}

// One entry of OpenAI's logprobs.content for word piece `i`: a made-up but deterministic log
// probability, the piece's UTF-8 bytes and no alternatives.
void appendLogprobEntry(std::string& out, const MockReply& reply, std::size_t i) {
  const std::string_view piece = reply.piece(i);
  out.append(R"({"token":)");
  appendJsonString(out, piece);
  out.append(R"(,"logprob":-0.)");
  appendInt(out, static_cast<int64_t>(1 + i % 9));
  out.append(R"(,"bytes":[)");
  for (std::size_t b = 0; b < piece.size(); ++b) {
    if (b > 0) out.push_back(',');
    appendInt(out, static_cast<unsigned char>(piece[b]));
  }
  out.append(R"(],"top_logprobs":[]})");
}

// choices[].logprobs: of the whole reply, or (streamed) of piece `only`.
std::string logprobsJson(const MockReply& reply, std::optional<std::size_t> only = {}) {
  std::string out = R"({"content":[)";
  if (only) {
    appendLogprobEntry(out, reply, *only);
  } else {
    for (std::size_t i = 0; i < reply.pieceCount(); ++i) {
      if (i > 0) out.push_back(',');
      appendLogprobEntry(out, reply, i);
    }
  }
  out.append(R"(],"refusal":null})");
  return out;
}

// One chat.completion.chunk event. With stream_options.include_usage, OpenAI gives every event
// before the usage event `"usage":null`; so does the mock.
std::string openaiDelta(const WireContext& ctx, std::string_view delta_json,
                        std::string_view finish, bool usage_null,
                        std::string_view logprobs = "null") {
  std::string out;
  out.reserve(176 + delta_json.size() + logprobs.size());
  appendChunkStart(out, ctx);
  out.append(R"([{"index":0,"delta":)");
  out.append(delta_json);
  out.append(R"(,"logprobs":)");
  out.append(logprobs);
  out.append(R"(,"finish_reason":)");
  out.append(finish);
  out.append(usage_null ? R"(}],"usage":null})" : "}]}");
  out.append("\n\n");
  return out;
}

std::string_view openaiFinishReason(const MockReply& reply) {
  if (reply.tool_call) return R"("tool_calls")";
  return reply.cut ? R"("length")" : R"("stop")";
}

std::string_view anthropicStopReason(const MockReply& reply) {
  if (reply.tool_call) return R"("tool_use")";
  return reply.cut ? R"("max_tokens")" : R"("end_turn")";
}

// A tool call's id: `prefix` + the serial that follows the response id's own prefix
// ("chatcmpl-1f" -> "call_1f", "msg_1f" -> "toolu_1f"), so each response's call has its own id.
std::string toolCallId(std::string_view prefix, std::string_view response_id) {
  const std::size_t serial = response_id.find_first_of("-_");
  std::string id(prefix);
  id.append(serial == std::string_view::npos ? response_id : response_id.substr(serial + 1));
  return id;
}

// "id":..,"type":"function","function":{"name":..,"arguments":..}: the fields of one entry of
// OpenAI's tool_calls. Streamed, the first delta has them with `arguments` empty.
void appendOpenaiToolCallFields(std::string& out, const WireContext& ctx, const MockToolCall& call,
                                std::string_view arguments) {
  out.append(R"("id":)");
  appendJsonString(out, toolCallId("call_", ctx.id));
  out.append(R"(,"type":"function","function":{"name":)");
  appendJsonString(out, call.name);
  out.append(R"(,"arguments":)");
  appendJsonString(out, arguments);
  out.push_back('}');
}

// The delta of streamed piece `i`: a word of the text, or a piece of the tool call's arguments.
std::string openaiContentDelta(const MockReply& reply, std::size_t i) {
  std::string delta =
      reply.tool_call ? R"({"tool_calls":[{"index":0,"function":{"arguments":)" : R"({"content":)";
  appendJsonString(delta, reply.piece(i));
  delta.append(reply.tool_call ? "}}]}" : "}");
  return delta;
}

// {"type":"tool_use","id":..,"name":..,"input":..}: Anthropic's tool_use block; `input` is JSON
// text (the arguments object, or "{}" to open a streamed block).
void appendToolUseBlock(std::string& out, const WireContext& ctx, const MockToolCall& call,
                        std::string_view input) {
  out.append(R"({"type":"tool_use","id":)");
  appendJsonString(out, toolCallId("toolu_", ctx.id));
  out.append(R"(,"name":)");
  appendJsonString(out, call.name);
  out.append(R"(,"input":)");
  out.append(input);
  out.push_back('}');
}

std::string sseEvent(std::string_view name, const std::string& data) {
  std::string out;
  out.reserve(16 + name.size() + data.size());
  out.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
  return out;
}

struct ErrorKind {
  std::string_view openai_type;
  std::string_view anthropic_type;
};

ErrorKind errorKind(int status) {
  switch (status) {
    case 400:
    case 422:
      return {"invalid_request_error", "invalid_request_error"};
    case 401:
      return {"authentication_error", "authentication_error"};
    case 403:
      return {"permission_error", "permission_error"};
    case 404:
      return {"not_found_error", "not_found_error"};
    case 408:
      return {"timeout_error", "timeout_error"};
    case 413:
      return {"invalid_request_error", "request_too_large"};
    case 429:
      return {"rate_limit_error", "rate_limit_error"};
    case 503:
      return {"service_unavailable_error", "api_error"};
    case 504:
      return {"timeout_error", "timeout_error"};
    case 529:
      return {"overloaded_error", "overloaded_error"};
    default:
      break;
  }
  if (status >= 500) return {"server_error", "api_error"};
  return {"invalid_request_error", "invalid_request_error"};
}

}  // namespace

std::string openaiCompletion(const WireContext& ctx, const MockReply& reply) {
  std::string out;
  out.reserve(260 + reply.text.size() + ctx.model.size());
  out.append(R"({"id":)");
  appendJsonString(out, ctx.id);
  out.append(R"(,"object":"chat.completion","created":)");
  appendInt(out, ctx.created);
  out.append(R"(,"model":)");
  appendJsonString(out, ctx.model);
  out.append(R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)");
  if (reply.tool_call) {
    out.append(R"(null,"tool_calls":[{)");
    appendOpenaiToolCallFields(out, ctx, *reply.tool_call, reply.tool_call->arguments);
    out.append("}]");
  } else {
    appendJsonString(out, reply.text);
  }
  if (!reply.thinking.empty()) {
    out.append(R"(,"reasoning_content":)");
    appendJsonString(out, reply.thinking);
  }
  out.append(R"(,"refusal":null},"logprobs":)");
  out.append(reply.logprobs ? logprobsJson(reply) : "null");
  out.append(R"(,"finish_reason":)");
  out.append(openaiFinishReason(reply));
  out.append(R"(}],"usage":)");
  appendUsage(out, reply);
  out.push_back('}');
  return out;
}

StreamScript openaiStream(const WireContext& ctx, const MockReply& reply, bool include_usage) {
  StreamScript script;
  script.events.reserve(reply.pieceCount() + 5);
  script.events.push_back(
      openaiDelta(ctx, R"({"role":"assistant","content":""})", "null", include_usage));
  if (!reply.thinking.empty()) {
    std::string delta = R"({"reasoning_content":)";
    appendJsonString(delta, reply.thinking);
    delta.push_back('}');
    script.events.push_back(openaiDelta(ctx, delta, "null", include_usage));
  }
  if (reply.tool_call) {
    // The call's id and name come first, with no arguments yet (as OpenAI streams them).
    std::string delta = R"({"tool_calls":[{"index":0,)";
    appendOpenaiToolCallFields(delta, ctx, *reply.tool_call, "");
    delta.append("}]}");
    script.events.push_back(openaiDelta(ctx, delta, "null", include_usage));
  }
  script.first_content = script.events.size();
  for (std::size_t i = 0; i < reply.pieceCount(); ++i) {
    script.events.push_back(openaiDelta(ctx, openaiContentDelta(reply, i), "null", include_usage,
                                        reply.logprobs ? logprobsJson(reply, i) : "null"));
  }
  script.content_count = reply.pieceCount();
  script.events.push_back(openaiDelta(ctx, "{}", openaiFinishReason(reply), include_usage));
  if (include_usage) {
    std::string usage;
    appendChunkStart(usage, ctx);
    usage.append(R"([],"usage":)");
    appendUsage(usage, reply);
    usage.append("}\n\n");
    script.events.push_back(std::move(usage));
  }
  script.events.push_back("data: [DONE]\n\n");
  return script;
}

std::string anthropicMessage(const WireContext& ctx, const MockReply& reply) {
  std::string out;
  out.reserve(260 + reply.text.size() + ctx.model.size());
  out.append(R"({"id":)");
  appendJsonString(out, ctx.id);
  out.append(R"(,"type":"message","role":"assistant","model":)");
  appendJsonString(out, ctx.model);
  out.append(R"(,"content":[)");
  if (!reply.thinking.empty()) {
    out.append(R"({"type":"thinking","thinking":)");
    appendJsonString(out, reply.thinking);
    out.append(R"(,"signature":)");
    appendJsonString(out, reply.signature);
    out.append("},");
  }
  if (reply.tool_call) {
    appendToolUseBlock(out, ctx, *reply.tool_call, reply.tool_call->arguments);
  } else {
    out.append(R"({"type":"text","text":)");
    appendJsonString(out, reply.text);
    out.push_back('}');
  }
  out.append(R"(],"stop_reason":)");
  out.append(anthropicStopReason(reply));
  out.append(R"(,"stop_sequence":null,"usage":{"input_tokens":)");
  appendInt(out, reply.prompt_tokens);
  out.append(R"(,"output_tokens":)");
  appendInt(out, reply.completion_tokens);
  out.append("}}");
  return out;
}

StreamScript anthropicStream(const WireContext& ctx, const MockReply& reply) {
  StreamScript script;
  script.events.reserve(reply.pieceCount() + 6);
  std::string start = R"({"type":"message_start","message":{"id":)";
  appendJsonString(start, ctx.id);
  start.append(R"(,"type":"message","role":"assistant","content":[],"model":)");
  appendJsonString(start, ctx.model);
  start.append(R"(,"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":)");
  appendInt(start, reply.prompt_tokens);
  start.append(R"(,"output_tokens":0}}})");
  script.events.push_back(sseEvent("message_start", start));
  // The text or tool_use block follows the thinking block when there is one (as Anthropic streams
  // them).
  const std::string block_index = reply.thinking.empty() ? "0" : "1";
  const auto blockEvent = [&](std::string_view type, std::string_view index,
                              std::string_view rest) {
    std::string data = R"({"type":")";
    data.append(type).append(R"(","index":)").append(index).append(rest).push_back('}');
    script.events.push_back(sseEvent(type, data));
  };
  if (!reply.thinking.empty()) {
    blockEvent("content_block_start", "0",
               R"(,"content_block":{"type":"thinking","thinking":"","signature":""})");
    script.events.push_back(sseEvent("ping", R"({"type":"ping"})"));
    std::string thinking = R"(,"delta":{"type":"thinking_delta","thinking":)";
    appendJsonString(thinking, reply.thinking);
    thinking.push_back('}');
    blockEvent("content_block_delta", "0", thinking);
    std::string signature = R"(,"delta":{"type":"signature_delta","signature":)";
    appendJsonString(signature, reply.signature);
    signature.push_back('}');
    blockEvent("content_block_delta", "0", signature);
    blockEvent("content_block_stop", "0", "");
  }
  if (reply.tool_call) {
    // The block opens with an empty input; the arguments follow as input_json_delta pieces.
    std::string block = R"(,"content_block":)";
    appendToolUseBlock(block, ctx, *reply.tool_call, "{}");
    blockEvent("content_block_start", block_index, block);
  } else {
    blockEvent("content_block_start", block_index, R"(,"content_block":{"type":"text","text":""})");
  }
  if (reply.thinking.empty()) script.events.push_back(sseEvent("ping", R"({"type":"ping"})"));
  script.first_content = script.events.size();
  const std::string_view delta_start =
      reply.tool_call ? R"(,"delta":{"type":"input_json_delta","partial_json":)"
                      : R"(,"delta":{"type":"text_delta","text":)";
  for (std::size_t i = 0; i < reply.pieceCount(); ++i) {
    std::string delta(delta_start);
    appendJsonString(delta, reply.piece(i));
    delta.push_back('}');
    blockEvent("content_block_delta", block_index, delta);
  }
  script.content_count = reply.pieceCount();
  blockEvent("content_block_stop", block_index, "");
  std::string delta = R"({"type":"message_delta","delta":{"stop_reason":)";
  delta.append(anthropicStopReason(reply));
  delta.append(R"(,"stop_sequence":null},"usage":{"output_tokens":)");
  appendInt(delta, reply.completion_tokens);
  delta.append("}}");
  script.events.push_back(sseEvent("message_delta", delta));
  script.events.push_back(sseEvent("message_stop", R"({"type":"message_stop"})"));
  return script;
}

std::string errorBody(Endpoint endpoint, int status, std::string_view message,
                      std::string_view request_id) {
  const ErrorKind kind = errorKind(status);
  std::string out;
  if (isAnthropic(endpoint)) {
    out.append(R"({"type":"error","error":{"type":)");
    appendJsonString(out, kind.anthropic_type);
    out.append(R"(,"message":)");
    appendJsonString(out, message);
    out.append(R"(},"request_id":)");
    appendJsonString(out, request_id);
    out.push_back('}');
    return out;
  }
  out.append(R"({"error":{"message":)");
  appendJsonString(out, message);
  out.append(R"(,"type":)");
  appendJsonString(out, kind.openai_type);
  out.append(R"(,"param":null,"code":)");
  out.append(status == 429 ? R"("rate_limit_exceeded")" : "null");
  out.append("}}");
  return out;
}

std::string embeddingsBody(const EmbeddingsPrompt& prompt, int dim) {
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < prompt.inputs.size(); ++i) {
    if (i) out.push_back(',');
    out.append(R"({"object":"embedding","index":)");
    appendInt(out, static_cast<int64_t>(i));
    out.append(R"(,"embedding":)");
    const auto vector = embeddingVector(prompt.inputs[i], dim);
    if (prompt.base64) {
      // Little-endian float32 bytes, as OpenAI sends them (this machine is little-endian).
      std::string bytes(vector.size() * sizeof(float), '\0');
      std::memcpy(bytes.data(), vector.data(), bytes.size());
      appendJsonString(out, base64Encode(bytes));
    } else {
      out.push_back('[');
      for (std::size_t j = 0; j < vector.size(); ++j) {
        if (j) out.push_back(',');
        appendDouble(out, static_cast<double>(vector[j]));
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out.append(R"(],"model":)");
  appendJsonString(out, prompt.model);
  out.append(R"(,"usage":{"prompt_tokens":)");
  appendInt(out, prompt.prompt_tokens);
  out.append(R"(,"total_tokens":)");
  appendInt(out, prompt.prompt_tokens);
  out.append("}}");
  return out;
}

std::string modelsBody() {
  return R"({"object":"list","data":[{"id":"mock-model","object":"model","created":0,)"
         R"("owned_by":"llmpool-mock"}]})";
}

std::string base64Encode(std::string_view bytes) {
  static constexpr char Alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(Alphabet[(n >> 18) & 63]);
    out.push_back(Alphabet[(n >> 12) & 63]);
    out.push_back(Alphabet[(n >> 6) & 63]);
    out.push_back(Alphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(Alphabet[(n >> 18) & 63]);
    out.push_back(Alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? Alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace llmpool::mock
