#include "providers/openai_codec.h"

#include <string>

#include "providers/wire_util.h"

namespace llmpool::providers::openai {
namespace {

int64_t numberOr(const Json& object, const char* key, int64_t fallback) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return fallback;
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return it->get<int64_t>();
}

}  // namespace

Usage parseUsage(const Json& usage) {
  Usage u;
  if (!usage.is_object()) return u;
  u.prompt_tokens = numberOr(usage, "prompt_tokens", 0);
  u.completion_tokens = numberOr(usage, "completion_tokens", 0);
  u.total_tokens = numberOr(usage, "total_tokens", u.prompt_tokens + u.completion_tokens);
  return u;
}

Json toolCallsToJson(const std::vector<ToolCall>& calls) {
  Json out = Json::array();
  for (const auto& call : calls) {
    out.push_back({{"id", call.id},
                   {"type", call.type.empty() ? "function" : call.type},
                   {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
  }
  return out;
}

Json messageToJson(const ChatMessage& message) {
  Json m = Json::object();
  m["role"] = message.role;
  if (!message.content_parts.is_null()) {
    m["content"] = message.content_parts;
  } else if (message.content.empty() && !message.tool_calls.empty()) {
    m["content"] = nullptr;  // an assistant turn that only called tools
  } else {
    m["content"] = message.content;
  }
  if (!message.name.empty()) m["name"] = message.name;
  if (!message.tool_call_id.empty()) m["tool_call_id"] = message.tool_call_id;
  if (!message.tool_calls.empty()) m["tool_calls"] = toolCallsToJson(message.tool_calls);
  return m;
}

std::string_view maxTokensField(const Endpoint& endpoint) {
  if (endpoint.kind == ProviderKind::Azure) {
    // max_completion_tokens arrived in later Azure api-versions; older ones reject it, and every
    // version accepts max_tokens for non-reasoning models. ISO dates compare as strings.
    std::string_view version = endpoint.api_version;
    if (version.empty()) version = DefaultAzureApiVersion;
    return version >= "2024-12-01" ? "max_completion_tokens" : "max_tokens";
  }
  // OpenAI itself deprecates max_tokens (o-series models reject it); OpenAI-compatible servers
  // (vLLM, llama.cpp, Ollama, proxies) all understand max_tokens, not all the newer name.
  if (endpoint.base_url.find("api.openai.com") != std::string::npos) {
    return "max_completion_tokens";
  }
  return "max_tokens";
}

Json requestBody(const ChatRequest& request, std::string_view model,
                 std::string_view max_tokens_field, bool force_stream_usage) {
  Json body = Json::object();
  body["model"] = model;
  Json messages = Json::array();
  for (const auto& message : request.messages) messages.push_back(messageToJson(message));
  body["messages"] = std::move(messages);
  if (request.temperature) body["temperature"] = *request.temperature;
  if (request.top_p) body["top_p"] = *request.top_p;
  if (request.max_tokens) body[std::string(max_tokens_field)] = *request.max_tokens;
  if (request.stop.size() == 1) {
    body["stop"] = request.stop.front();
  } else if (!request.stop.empty()) {
    body["stop"] = request.stop;
  }
  if (request.n) body["n"] = *request.n;
  if (request.seed) body["seed"] = *request.seed;
  if (request.presence_penalty) body["presence_penalty"] = *request.presence_penalty;
  if (request.frequency_penalty) body["frequency_penalty"] = *request.frequency_penalty;
  if (!request.tools.is_null()) body["tools"] = request.tools;
  if (!request.tool_choice.is_null()) body["tool_choice"] = request.tool_choice;
  if (!request.response_format.is_null()) body["response_format"] = request.response_format;
  if (!request.user.empty()) body["user"] = request.user;
  if (request.stream) {
    body["stream"] = true;
    if (request.include_usage || force_stream_usage) {
      body["stream_options"] = {{"include_usage", true}};
    }
  }
  if (request.extra.is_object()) {
    for (const auto& [key, value] : request.extra.items()) {
      // Known fields above win: extra only carries what ChatRequest has no field for.
      if (!body.contains(key)) body[key] = value;
    }
  }
  return body;
}

Result<std::vector<ToolCall>> parseToolCalls(const Json& calls, std::string_view path) {
  std::vector<ToolCall> out;
  if (calls.is_null()) return out;
  if (!calls.is_array()) return fail(ErrorCode::Protocol, std::string(path) + ": not an array");
  for (size_t i = 0; i < calls.size(); ++i) {
    const Json& c = calls[i];
    std::string where = std::string(path) + "[" + std::to_string(i) + "]";
    if (!c.is_object()) return fail(ErrorCode::Protocol, where + ": not an object");
    ToolCall call;
    call.id = stringOr(c, "id");
    std::string type = stringOr(c, "type");
    if (!type.empty()) call.type = type;
    auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object()) {
      return fail(ErrorCode::Protocol, where + ".function: missing");
    }
    call.name = stringOr(*fn, "name");
    if (auto args = fn->find("arguments"); args != fn->end()) {
      // Some servers send the arguments as an object instead of JSON text.
      call.arguments = args->is_string() ? args->get<std::string>() : dumpJson(*args);
    }
    out.push_back(std::move(call));
  }
  return out;
}

Result<ChatResponse> parseResponse(const Json& body) {
  if (!body.is_object()) return fail(ErrorCode::Protocol, "chat response is not a JSON object");
  auto choices = body.find("choices");
  if (choices == body.end() || !choices->is_array()) {
    return fail(ErrorCode::Protocol, "chat response has no choices array");
  }
  ChatResponse response;
  response.id = stringOr(body, "id");
  response.model = stringOr(body, "model");
  response.created = numberOr(body, "created", 0);
  for (size_t i = 0; i < choices->size(); ++i) {
    const Json& c = (*choices)[i];
    std::string where = "choices[" + std::to_string(i) + "]";
    if (!c.is_object()) return fail(ErrorCode::Protocol, where + ": not an object");
    ChatChoice choice;
    choice.index = static_cast<int>(numberOr(c, "index", static_cast<int64_t>(i)));
    choice.finish_reason = stringOr(c, "finish_reason");
    auto message = c.find("message");
    if (message == c.end() || !message->is_object()) {
      return fail(ErrorCode::Protocol, where + ".message: missing");
    }
    std::string role = stringOr(*message, "role");
    if (!role.empty()) choice.role = role;
    if (auto content = message->find("content"); content != message->end()) {
      if (content->is_string()) {
        choice.content = content->get<std::string>();
      } else if (content->is_array()) {
        choice.content = textOfParts(*content);
      } else if (!content->is_null()) {
        return fail(ErrorCode::Protocol, where + ".message.content: unexpected type");
      }
    }
    auto tool_calls =
        parseToolCalls(message->contains("tool_calls") ? (*message)["tool_calls"] : Json(),
                       where + ".message.tool_calls");
    if (!tool_calls) return std::unexpected(tool_calls.error());
    choice.tool_calls = std::move(*tool_calls);
    response.choices.push_back(std::move(choice));
  }
  if (auto usage = body.find("usage"); usage != body.end()) response.usage = parseUsage(*usage);
  return response;
}

}  // namespace llmpool::providers::openai
