#include "providers/anthropic_codec.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/json_depth.h"
#include "providers/endpoint.h"
#include "providers/wire_util.h"

namespace llmpool::providers::anthropic {
namespace {

int64_t intOr(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return 0;
  return it->is_number_float() ? static_cast<int64_t>(it->get<double>()) : it->get<int64_t>();
}

/** The text of a message whose content may be a string or parts. */
std::string messageText(const ChatMessage& m) {
  if (!m.content_parts.is_null()) return textOfParts(m.content_parts);
  return m.content;
}

Json textBlock(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

/** Content blocks of a user-like message. Empty text is dropped: Anthropic rejects it. */
void appendContentBlocks(const ChatMessage& m, Json& blocks) {
  if (m.content_parts.is_array()) {
    for (const auto& part : m.content_parts) {
      Json block = partToBlock(part);
      if (stringOr(block, "type") == "text" && stringOr(block, "text").empty()) continue;
      blocks.push_back(std::move(block));
    }
  } else if (!m.content.empty()) {
    blocks.push_back(textBlock(m.content));
  }
}

Json toolUseBlock(const ToolCall& call) {
  Json input = parseJsonBounded(call.arguments);
  // Anthropic wants an object; arguments that are not a JSON object (or empty) become {}.
  if (!input.is_object()) input = Json::object();
  return {{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}};
}

Json toolResultBlock(const ChatMessage& m) {
  Json block = {{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}};
  if (m.content_parts.is_array()) {
    Json inner = Json::array();
    for (const auto& part : m.content_parts) inner.push_back(partToBlock(part));
    block["content"] = std::move(inner);
  } else {
    block["content"] = m.content;
  }
  return block;
}

Json toolsToAnthropic(const Json& tools) {
  Json out = Json::array();
  for (const auto& tool : tools) {
    auto fn = tool.is_object() ? tool.find("function") : tool.end();
    if (tool.is_object() && stringOr(tool, "type") == "function" && fn != tool.end() &&
        fn->is_object()) {
      Json t = {{"name", stringOr(*fn, "name")}};
      if (auto d = fn->find("description"); d != fn->end() && d->is_string()) t["description"] = *d;
      auto params = fn->find("parameters");
      t["input_schema"] = params != fn->end() && params->is_object()
                              ? *params
                              : Json{{"type", "object"}, {"properties", Json::object()}};
      out.push_back(std::move(t));
    } else {
      out.push_back(tool);  // already Anthropic-shaped (or a server tool): pass through
    }
  }
  return out;
}

Json toolChoiceToAnthropic(const Json& choice) {
  if (choice.is_string()) {
    const auto& s = choice.get_ref<const std::string&>();
    if (s == "required") return {{"type", "any"}};
    if (s == "none") return {{"type", "none"}};
    return {{"type", "auto"}};
  }
  if (choice.is_object()) {
    if (auto fn = choice.find("function"); fn != choice.end() && fn->is_object()) {
      return {{"type", "tool"}, {"name", stringOr(*fn, "name")}};
    }
    return choice;  // already Anthropic-shaped ({type: auto|any|tool|none})
  }
  return Json();
}

bool parseDataUrl(std::string_view url, std::string& media_type, std::string& data) {
  if (!url.starts_with("data:")) return false;
  size_t comma = url.find(',');
  if (comma == std::string_view::npos) return false;
  std::string_view meta = url.substr(5, comma - 5);
  if (!meta.ends_with(";base64")) return false;
  media_type = std::string(meta.substr(0, meta.size() - 7));
  data = std::string(url.substr(comma + 1));
  return true;
}

}  // namespace

Json partToBlock(const Json& part) {
  std::string type = stringOr(part, "type");
  if (type == "text") {
    Json block = textBlock(stringOr(part, "text"));
    if (auto cc = part.find("cache_control"); cc != part.end()) block["cache_control"] = *cc;
    return block;
  }
  if (type == "image_url") {
    auto image = part.find("image_url");
    std::string url = image != part.end() ? (image->is_string() ? image->get<std::string>()
                                                                : stringOr(*image, "url"))
                                          : std::string();
    std::string media_type, data;
    if (parseDataUrl(url, media_type, data)) {
      return {{"type", "image"},
              {"source", {{"type", "base64"}, {"media_type", media_type}, {"data", data}}}};
    }
    return {{"type", "image"}, {"source", {{"type", "url"}, {"url", url}}}};
  }
  return part;
}

Json blockToPart(const Json& block) {
  std::string type = stringOr(block, "type");
  if (type == "text") return {{"type", "text"}, {"text", stringOr(block, "text")}};
  if (type == "image") {
    auto source = block.find("source");
    if (source != block.end() && source->is_object()) {
      std::string kind = stringOr(*source, "type");
      if (kind == "base64") {
        std::string url =
            "data:" + stringOr(*source, "media_type") + ";base64," + stringOr(*source, "data");
        return {{"type", "image_url"}, {"image_url", {{"url", url}}}};
      }
      if (kind == "url") {
        return {{"type", "image_url"}, {"image_url", {{"url", stringOr(*source, "url")}}}};
      }
    }
  }
  return block;
}

std::string finishReasonFromStopReason(std::string_view r) {
  if (r.empty()) return "";
  if (r == "max_tokens" || r == "model_context_window_exceeded") return "length";
  if (r == "tool_use") return "tool_calls";
  if (r == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn and anything new
}

std::string stopReasonFromFinishReason(std::string_view f) {
  if (f.empty()) return "";
  if (f == "length") return "max_tokens";
  if (f == "tool_calls" || f == "function_call") return "tool_use";
  if (f == "content_filter") return "refusal";
  return "end_turn";
}

Usage parseUsage(const Json& usage) {
  Usage u;
  if (!usage.is_object()) return u;
  u.prompt_tokens = intOr(usage, "input_tokens") + intOr(usage, "cache_creation_input_tokens") +
                    intOr(usage, "cache_read_input_tokens");
  u.completion_tokens = intOr(usage, "output_tokens");
  u.total_tokens = u.prompt_tokens + u.completion_tokens;
  return u;
}

Json requestBody(const ChatRequest& request, std::string_view model) {
  Json body = Json::object();
  body["model"] = model;
  body["max_tokens"] = request.max_tokens.value_or(DefaultAnthropicMaxTokens);

  std::string system;
  std::vector<std::pair<std::string, Json>> turns;  // role, content blocks
  auto turn_for = [&turns](const std::string& role) -> Json& {
    if (turns.empty() || turns.back().first != role) turns.emplace_back(role, Json::array());
    return turns.back().second;  // consecutive same-role messages merge into one turn
  };
  for (const auto& m : request.messages) {
    if (m.role == "system" || m.role == "developer") {
      std::string text = messageText(m);
      if (text.empty()) continue;
      if (!system.empty()) system += "\n\n";
      system += text;
    } else if (m.role == "assistant") {
      Json& blocks = turn_for("assistant");
      appendContentBlocks(m, blocks);
      for (const auto& call : m.tool_calls) blocks.push_back(toolUseBlock(call));
    } else if (m.role == "tool") {
      turn_for("user").push_back(toolResultBlock(m));
    } else {  // user, and the deprecated function role as plain user text
      appendContentBlocks(m, turn_for("user"));
    }
  }
  if (!system.empty()) body["system"] = system;
  Json messages = Json::array();
  for (auto& [role, blocks] : turns) {
    if (blocks.empty()) continue;
    Json content;
    if (blocks.size() == 1 && stringOr(blocks[0], "type") == "text" && blocks[0].size() == 2) {
      content = blocks[0]["text"];  // a lone plain text block reads better as a string
    } else {
      content = std::move(blocks);
    }
    messages.push_back({{"role", role}, {"content", std::move(content)}});
  }
  body["messages"] = std::move(messages);

  if (request.temperature) body["temperature"] = std::clamp(*request.temperature, 0.0, 1.0);
  if (request.top_p) body["top_p"] = *request.top_p;
  if (!request.stop.empty()) body["stop_sequences"] = request.stop;
  if (request.tools.is_array() && !request.tools.empty()) {
    body["tools"] = toolsToAnthropic(request.tools);
  }
  Json tool_choice = toolChoiceToAnthropic(request.tool_choice);
  if (request.extra.is_object()) {
    auto ptc = request.extra.find("parallel_tool_calls");
    if (ptc != request.extra.end() && ptc->is_boolean() && !ptc->get<bool>()) {
      if (tool_choice.is_null()) tool_choice = {{"type", "auto"}};
      tool_choice["disable_parallel_tool_use"] = true;
    }
  }
  if (!tool_choice.is_null()) body["tool_choice"] = std::move(tool_choice);
  if (request.stream) body["stream"] = true;
  if (request.extra.is_object()) {
    // Only fields Anthropic knows: extra usually holds OpenAI-only parameters it would reject.
    for (const char* key : {"top_k", "thinking", "service_tier", "metadata", "container",
                            "mcp_servers", "context_management"}) {
      if (auto it = request.extra.find(key); it != request.extra.end()) body[key] = *it;
    }
  }
  if (!request.user.empty()) {
    if (!body.contains("metadata") || !body["metadata"].is_object()) {
      body["metadata"] = Json::object();
    }
    body["metadata"]["user_id"] = request.user;
  }
  return body;
}

Result<ChatResponse> parseResponse(const Json& body) {
  if (!body.is_object()) return fail(ErrorCode::Protocol, "message response is not a JSON object");
  auto content = body.find("content");
  if (content == body.end() || !content->is_array()) {
    return fail(ErrorCode::Protocol, "message response has no content array");
  }
  ChatResponse response;
  response.id = stringOr(body, "id");
  response.model = stringOr(body, "model");
  ChatChoice choice;
  for (const auto& block : *content) {
    std::string type = stringOr(block, "type");
    if (type == "text") {
      choice.content += stringOr(block, "text");
    } else if (type == "thinking") {
      choice.reasoning += stringOr(block, "thinking");
    } else if (type == "tool_use") {
      ToolCall call;
      call.id = stringOr(block, "id");
      call.name = stringOr(block, "name");
      auto input = block.find("input");
      call.arguments = input != block.end() ? dumpJson(*input) : "{}";
      choice.tool_calls.push_back(std::move(call));
    }
    // redacted_thinking (encrypted) and server tool blocks: no OpenAI equivalent, skipped.
  }
  choice.finish_reason = finishReasonFromStopReason(stringOr(body, "stop_reason"));
  response.choices.push_back(std::move(choice));
  if (auto usage = body.find("usage"); usage != body.end()) response.usage = parseUsage(*usage);
  return response;
}

}  // namespace llmpool::providers::anthropic
