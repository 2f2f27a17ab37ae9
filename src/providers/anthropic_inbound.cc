#include "providers/anthropic_inbound.h"

#include <string>

#include "common/json_depth.h"
#include "providers/anthropic_codec.h"
#include "providers/request_validation.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

using namespace validation;

constexpr std::string_view kKnownFields[] = {"model",          "max_tokens",  "messages", "system",
                                             "stop_sequences", "temperature", "top_p",    "tools",
                                             "tool_choice",    "metadata",    "stream"};

bool isKnownField(std::string_view key) {
  return std::ranges::find(kKnownFields, key) != std::end(kKnownFields);
}

/** Text of a string-or-blocks value (system, tool_result content). */
Result<std::string> textOf(const Json& value, const std::string& path) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array()) return invalid(path, "expected a string or an array of blocks");
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& b = value[i];
    if (!b.is_object() || stringOr(b, "type").empty()) {
      return invalid(element(path, i), "expected a content block");
    }
  }
  return textOfParts(value);
}

/** A user message from accumulated OpenAI parts. */
ChatMessage userMessage(Json parts) {
  ChatMessage m;
  m.role = "user";
  m.content = textOfParts(parts);
  if (!partsAreAllText(parts)) m.content_parts = std::move(parts);
  return m;
}

Result<void> parseMessage(const Json& m, const std::string& path, ChatRequest& out) {
  if (!m.is_object()) return invalid(path, "expected an object");
  const Json* role = member(m, "role");
  if (!role || !role->is_string() ||
      (role->get_ref<const std::string&>() != "user" &&
       role->get_ref<const std::string&>() != "assistant")) {
    return invalid(child(path, "role"), "expected one of user, assistant");
  }
  bool assistant = role->get_ref<const std::string&>() == "assistant";
  const Json* content = member(m, "content");
  std::string content_path = child(path, "content");
  if (!content) return invalid(content_path, "required");
  if (content->is_string()) {
    ChatMessage msg;
    msg.role = role->get<std::string>();
    msg.content = content->get<std::string>();
    out.messages.push_back(std::move(msg));
    return {};
  }
  if (!content->is_array()) return invalid(content_path, "expected a string or an array of blocks");

  ChatMessage reply;  // assistant: text and tool calls gather into one message
  reply.role = "assistant";
  Json pending = Json::array();  // user: parts not yet emitted (tool results split them)
  for (size_t i = 0; i < content->size(); ++i) {
    const Json& block = (*content)[i];
    std::string where = element(content_path, i);
    if (!block.is_object()) return invalid(where, "expected an object");
    const Json* type = member(block, "type");
    if (!type || !type->is_string()) return invalid(child(where, "type"), "expected a string");
    const std::string& t = type->get_ref<const std::string&>();
    if (t == "text") {
      const Json* text = member(block, "text");
      if (!text || !text->is_string()) return invalid(child(where, "text"), "expected a string");
    }
    if (assistant) {
      if (t == "text") {
        reply.content += block["text"].get<std::string>();
      } else if (t == "tool_use") {
        auto id = optString(block, "id", where);
        if (!id) return std::unexpected(id.error());
        auto name = optString(block, "name", where);
        if (!name) return std::unexpected(name.error());
        if (!*id || !*name) return invalid(where, "tool_use needs id and name");
        ToolCall call;
        call.id = **id;
        call.name = **name;
        const Json* input = member(block, "input");
        call.arguments = input ? dumpJson(*input) : "{}";
        reply.tool_calls.push_back(std::move(call));
      }
      // thinking and other assistant blocks have no OpenAI form; they are dropped.
      continue;
    }
    if (t == "tool_result") {
      auto id = optString(block, "tool_use_id", where);
      if (!id) return std::unexpected(id.error());
      if (!*id) return invalid(child(where, "tool_use_id"), "required");
      if (!pending.empty())
        out.messages.push_back(userMessage(std::exchange(pending, Json::array())));
      ChatMessage tool;
      tool.role = "tool";
      tool.tool_call_id = **id;
      if (const Json* result = member(block, "content")) {
        auto text = textOf(*result, child(where, "content"));
        if (!text) return std::unexpected(text.error());
        tool.content = std::move(*text);
        if (result->is_array() && !partsAreAllText(*result)) {
          Json parts = Json::array();
          for (const auto& b : *result) parts.push_back(anthropic::blockToPart(b));
          tool.content_parts = std::move(parts);
        }
      }
      out.messages.push_back(std::move(tool));
      continue;
    }
    pending.push_back(anthropic::blockToPart(block));
  }
  if (assistant) {
    out.messages.push_back(std::move(reply));
  } else if (!pending.empty()) {
    out.messages.push_back(userMessage(std::move(pending)));
  }
  return {};
}

Result<void> parseTools(const Json& body, ChatRequest& out) {
  if (const Json* tools = member(body, "tools")) {
    if (!tools->is_array()) return invalid("tools", "expected an array");
    Json converted = Json::array();
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& t = (*tools)[i];
      std::string where = element("tools", i);
      if (!t.is_object()) return invalid(where, "expected an object");
      std::string type = stringOr(t, "type");
      if (!type.empty() && type != "custom") {
        converted.push_back(t);  // a server tool (web search...): only Anthropic understands it
        continue;
      }
      const Json* name = member(t, "name");
      if (!name || !name->is_string() || name->get_ref<const std::string&>().empty()) {
        return invalid(child(where, "name"), "expected a non-empty string");
      }
      const Json* schema = member(t, "input_schema");
      if (!schema || !schema->is_object()) {
        return invalid(child(where, "input_schema"), "expected an object");
      }
      Json fn = {{"name", *name}, {"parameters", *schema}};
      if (const Json* d = member(t, "description"); d && d->is_string()) fn["description"] = *d;
      converted.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    out.tools = std::move(converted);
  }
  if (const Json* choice = member(body, "tool_choice")) {
    if (!choice->is_object()) return invalid("tool_choice", "expected an object");
    std::string type = stringOr(*choice, "type");
    if (type == "auto") {
      out.tool_choice = "auto";
    } else if (type == "any") {
      out.tool_choice = "required";
    } else if (type == "none") {
      out.tool_choice = "none";
    } else if (type == "tool") {
      std::string name = stringOr(*choice, "name");
      if (name.empty()) return invalid("tool_choice.name", "required for type tool");
      out.tool_choice = {{"type", "function"}, {"function", {{"name", name}}}};
    } else {
      return invalid("tool_choice.type", "expected one of auto, any, tool, none");
    }
    if (const Json* dp = member(*choice, "disable_parallel_tool_use");
        dp && dp->is_boolean() && dp->get<bool>()) {
      out.extra["parallel_tool_calls"] = false;
    }
  }
  return {};
}

}  // namespace

Result<ChatRequest> parseAnthropicRequest(const Json& body) {
  if (!body.is_object()) return invalid("body", "expected a JSON object");
  ChatRequest out;
  const Json* model = member(body, "model");
  if (!model) return invalid("model", "required");
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return invalid("model", "expected a non-empty string");
  }
  out.model = model->get<std::string>();
  if (!member(body, "max_tokens")) return invalid("max_tokens", "required");
  auto max_tokens = optInteger(body, "max_tokens", "", 1, INT64_MAX);
  if (!max_tokens) return std::unexpected(max_tokens.error());
  out.max_tokens = *max_tokens;

  if (const Json* system = member(body, "system")) {
    auto text = textOf(*system, "system");
    if (!text) return std::unexpected(text.error());
    if (!text->empty()) {
      ChatMessage m;
      m.role = "system";
      m.content = std::move(*text);
      out.messages.push_back(std::move(m));
    }
  }
  const Json* messages = member(body, "messages");
  if (!messages) return invalid("messages", "required");
  if (!messages->is_array() || messages->empty()) {
    return invalid("messages", "expected a non-empty array");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    if (auto r = parseMessage((*messages)[i], element("messages", i), out); !r) {
      return std::unexpected(r.error());
    }
  }
  if (const Json* stop = member(body, "stop_sequences")) {
    if (!stop->is_array()) return invalid("stop_sequences", "expected an array of strings");
    for (size_t i = 0; i < stop->size(); ++i) {
      if (!(*stop)[i].is_string())
        return invalid(element("stop_sequences", i), "expected a string");
      out.stop.push_back((*stop)[i].get<std::string>());
    }
  }
  auto temperature = optNumber(body, "temperature", "", 0.0, 1.0);
  if (!temperature) return std::unexpected(temperature.error());
  out.temperature = *temperature;
  auto top_p = optNumber(body, "top_p", "", 0.0, 1.0);
  if (!top_p) return std::unexpected(top_p.error());
  out.top_p = *top_p;
  if (auto r = parseTools(body, out); !r) return std::unexpected(r.error());
  if (const Json* metadata = member(body, "metadata")) {
    if (!metadata->is_object()) return invalid("metadata", "expected an object");
    auto user = optString(*metadata, "user_id", "metadata");
    if (!user) return std::unexpected(user.error());
    out.user = user->value_or("");
  }
  auto stream = optBool(body, "stream", "");
  if (!stream) return std::unexpected(stream.error());
  out.stream = stream->value_or(false);
  out.include_usage = out.stream;  // Anthropic streams always report usage
  for (const auto& [key, value] : body.items()) {
    if (!isKnownField(key)) out.extra[key] = value;
  }
  return out;
}

Json toAnthropicResponse(const ChatResponse& response) {
  Json content = Json::array();
  std::string stop_reason;
  if (!response.choices.empty()) {
    const ChatChoice& choice = response.choices.front();
    // Reasoning from another dialect has no signature: Anthropic would refuse the block handed
    // back, but only an Anthropic provider checks it, and one never wrote this block.
    if (!choice.reasoning.empty()) {
      content.push_back({{"type", "thinking"}, {"thinking", choice.reasoning}, {"signature", ""}});
    }
    if (!choice.content.empty()) content.push_back({{"type", "text"}, {"text", choice.content}});
    for (const auto& call : choice.tool_calls) {
      Json input = parseJsonBounded(call.arguments);
      if (!input.is_object()) input = Json::object();
      content.push_back(
          {{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", input}});
    }
    stop_reason = anthropic::stopReasonFromFinishReason(choice.finish_reason);
  }
  return {{"id", response.id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", response.model},
          {"content", std::move(content)},
          {"stop_reason", stop_reason.empty() ? Json(nullptr) : Json(stop_reason)},
          {"stop_sequence", nullptr},
          {"usage",
           {{"input_tokens", response.usage.prompt_tokens},
            {"output_tokens", response.usage.completion_tokens}}}};
}

Json anthropicErrorBody(const Error& error) {
  std::string type;
  switch (error.code) {
    case ErrorCode::InvalidRequest:
    case ErrorCode::InvalidConfig:
      type = "invalid_request_error";
      break;
    case ErrorCode::AuthFailed:
      type = error.http_status == 403 ? "permission_error" : "authentication_error";
      break;
    case ErrorCode::NotFound:
    case ErrorCode::NoDeployment:
      type = "not_found_error";
      break;
    case ErrorCode::RateLimited:
    case ErrorCode::QueueFull:
      type = "rate_limit_error";
      break;
    case ErrorCode::ProviderOverloaded:
    case ErrorCode::Overloaded:
    case ErrorCode::CircuitOpen:
      type = "overloaded_error";
      break;
    case ErrorCode::Timeout:
    case ErrorCode::DeadlineExceeded:
      type = "timeout_error";
      break;
    default:
      type = "api_error";
      break;
  }
  return {{"type", "error"}, {"error", {{"type", type}, {"message", error.message}}}};
}

}  // namespace llmpool::providers
