#include "providers/openai_inbound.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

#include "providers/base64.h"
#include "providers/openai_codec.h"
#include "providers/openai_roles.h"
#include "providers/request_validation.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

using namespace validation;

/** Members of the request that parseOpenAIChatRequest reads into ChatRequest fields. */
constexpr std::string_view kKnownFields[] = {"model",
                                             "messages",
                                             "temperature",
                                             "top_p",
                                             "max_tokens",
                                             "max_completion_tokens",
                                             "stop",
                                             "n",
                                             "seed",
                                             "presence_penalty",
                                             "frequency_penalty",
                                             "tools",
                                             "tool_choice",
                                             "response_format",
                                             "user",
                                             "stream",
                                             "stream_options"};

bool isKnownField(std::string_view key) {
  return std::ranges::find(kKnownFields, key) != std::end(kKnownFields);
}

Result<void> parseContent(const Json& m, const std::string& path, ChatMessage& out) {
  const Json* content = member(m, "content");
  if (!content) {
    if (out.role == "assistant" || out.role == "function") return {};
    return invalid(child(path, "content"), "required");
  }
  if (content->is_string()) {
    out.content = content->get<std::string>();
    return {};
  }
  if (!content->is_array()) {
    return invalid(child(path, "content"), "expected a string, an array of content parts or null");
  }
  std::string parts_path = child(path, "content");
  for (size_t j = 0; j < content->size(); ++j) {
    const Json& part = (*content)[j];
    std::string where = element(parts_path, j);
    if (!part.is_object()) return invalid(where, "expected an object");
    const Json* type = member(part, "type");
    if (!type || !type->is_string()) return invalid(child(where, "type"), "expected a string");
    if (type->get_ref<const std::string&>() == "text") {
      const Json* text = member(part, "text");
      if (!text || !text->is_string()) return invalid(child(where, "text"), "expected a string");
    }
  }
  out.content = textOfParts(*content);
  // Plain-text arrays are fully captured by `content`; others keep the parts for passthrough.
  if (!partsAreAllText(*content)) out.content_parts = *content;
  return {};
}

Result<ChatMessage> parseMessage(const Json& m, const std::string& path) {
  if (!m.is_object()) return invalid(path, "expected an object");
  ChatMessage out;
  const Json* role = member(m, "role");
  if (!role) return invalid(child(path, "role"), "required");
  if (!role->is_string() || !isOpenAIRole(role->get_ref<const std::string&>())) {
    return invalid(child(path, "role"),
                   "expected one of system, developer, user, assistant, tool, function");
  }
  out.role = role->get<std::string>();
  if (auto r = parseContent(m, path, out); !r) return std::unexpected(r.error());
  auto name = optString(m, "name", path);
  if (!name) return std::unexpected(name.error());
  out.name = name->value_or("");
  auto tool_call_id = optString(m, "tool_call_id", path);
  if (!tool_call_id) return std::unexpected(tool_call_id.error());
  out.tool_call_id = tool_call_id->value_or("");
  if (out.role == "tool" && out.tool_call_id.empty()) {
    return invalid(child(path, "tool_call_id"), "required for role tool");
  }
  if (const Json* calls = member(m, "tool_calls")) {
    std::string calls_path = child(path, "tool_calls");
    if (!calls->is_array()) return invalid(calls_path, "expected an array");
    for (size_t k = 0; k < calls->size(); ++k) {
      const Json& c = (*calls)[k];
      std::string where = element(calls_path, k);
      if (!c.is_object()) return invalid(where, "expected an object");
      const Json* id = member(c, "id");
      if (!id || !id->is_string()) return invalid(child(where, "id"), "expected a string");
      const Json* fn = member(c, "function");
      if (!fn || !fn->is_object()) return invalid(child(where, "function"), "expected an object");
      const Json* fname = member(*fn, "name");
      if (!fname || !fname->is_string()) {
        return invalid(child(child(where, "function"), "name"), "expected a string");
      }
      ToolCall call;
      call.id = id->get<std::string>();
      call.name = fname->get<std::string>();
      if (const Json* args = member(*fn, "arguments")) {
        call.arguments = args->is_string() ? args->get<std::string>() : dumpJson(*args);
      }
      out.tool_calls.push_back(std::move(call));
    }
  }
  return out;
}

Result<void> parseTools(const Json& body, ChatRequest& out) {
  if (const Json* tools = member(body, "tools")) {
    if (!tools->is_array()) return invalid("tools", "expected an array");
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& t = (*tools)[i];
      std::string where = element("tools", i);
      if (!t.is_object()) return invalid(where, "expected an object");
      const Json* type = member(t, "type");
      if (!type || !type->is_string()) return invalid(child(where, "type"), "expected a string");
      if (type->get_ref<const std::string&>() == "function") {
        const Json* fn = member(t, "function");
        if (!fn || !fn->is_object()) {
          return invalid(child(where, "function"), "expected an object");
        }
        const Json* name = member(*fn, "name");
        if (!name || !name->is_string() || name->get_ref<const std::string&>().empty()) {
          return invalid(child(child(where, "function"), "name"), "expected a non-empty string");
        }
      }
    }
    out.tools = *tools;
  }
  if (const Json* choice = member(body, "tool_choice")) {
    if (choice->is_string()) {
      const auto& s = choice->get_ref<const std::string&>();
      if (s != "none" && s != "auto" && s != "required") {
        return invalid("tool_choice", "expected none, auto, required or an object");
      }
    } else if (!choice->is_object()) {
      return invalid("tool_choice", "expected none, auto, required or an object");
    }
    out.tool_choice = *choice;
  }
  return {};
}

Json choiceMessage(const ChatChoice& choice) {
  Json message = {{"role", choice.role.empty() ? "assistant" : choice.role}};
  if (choice.content.empty() && !choice.tool_calls.empty()) {
    message["content"] = nullptr;
  } else {
    message["content"] = choice.content;
  }
  message["refusal"] = nullptr;
  if (!choice.reasoning.empty()) message["reasoning_content"] = choice.reasoning;
  if (!choice.tool_calls.empty())
    message["tool_calls"] = openai::toolCallsToJson(choice.tool_calls);
  return message;
}

Json usageJson(const Usage& usage) {
  int64_t total =
      usage.total_tokens != 0 ? usage.total_tokens : usage.prompt_tokens + usage.completion_tokens;
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", total}};
}

}  // namespace

Result<ChatRequest> parseOpenAIChatRequest(const Json& body) {
  if (!body.is_object()) return invalid("body", "expected a JSON object");
  ChatRequest out;
  const Json* model = member(body, "model");
  if (!model) return invalid("model", "required");
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return invalid("model", "expected a non-empty string");
  }
  out.model = model->get<std::string>();

  const Json* messages = member(body, "messages");
  if (!messages) return invalid("messages", "required");
  if (!messages->is_array() || messages->empty()) {
    return invalid("messages", "expected a non-empty array");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    auto m = parseMessage((*messages)[i], element("messages", i));
    if (!m) return std::unexpected(m.error());
    out.messages.push_back(std::move(*m));
  }

  auto temperature = optNumber(body, "temperature", "", 0.0, 2.0);
  if (!temperature) return std::unexpected(temperature.error());
  out.temperature = *temperature;
  auto top_p = optNumber(body, "top_p", "", 0.0, 1.0);
  if (!top_p) return std::unexpected(top_p.error());
  out.top_p = *top_p;
  auto max_tokens = optInteger(body, "max_tokens", "", 1, INT64_MAX);
  if (!max_tokens) return std::unexpected(max_tokens.error());
  auto max_completion = optInteger(body, "max_completion_tokens", "", 1, INT64_MAX);
  if (!max_completion) return std::unexpected(max_completion.error());
  out.max_tokens = max_completion->has_value() ? *max_completion : *max_tokens;

  if (const Json* stop = member(body, "stop")) {
    if (stop->is_string()) {
      out.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (size_t i = 0; i < stop->size(); ++i) {
        if (!(*stop)[i].is_string()) return invalid(element("stop", i), "expected a string");
        out.stop.push_back((*stop)[i].get<std::string>());
      }
    } else {
      return invalid("stop", "expected a string or an array of strings");
    }
  }
  auto n = optInteger(body, "n", "", 1, 128);
  if (!n) return std::unexpected(n.error());
  if (*n) out.n = static_cast<int>(**n);
  auto seed = optInteger(body, "seed", "", INT64_MIN, INT64_MAX);
  if (!seed) return std::unexpected(seed.error());
  out.seed = *seed;
  auto presence = optNumber(body, "presence_penalty", "", -2.0, 2.0);
  if (!presence) return std::unexpected(presence.error());
  out.presence_penalty = *presence;
  auto frequency = optNumber(body, "frequency_penalty", "", -2.0, 2.0);
  if (!frequency) return std::unexpected(frequency.error());
  out.frequency_penalty = *frequency;
  if (auto r = parseTools(body, out); !r) return std::unexpected(r.error());

  if (const Json* format = member(body, "response_format")) {
    const Json* type = format->is_object() ? member(*format, "type") : nullptr;
    if (!format->is_object()) return invalid("response_format", "expected an object");
    if (!type || !type->is_string() ||
        (type->get_ref<const std::string&>() != "text" &&
         type->get_ref<const std::string&>() != "json_object" &&
         type->get_ref<const std::string&>() != "json_schema")) {
      return invalid("response_format.type", "expected one of text, json_object, json_schema");
    }
    out.response_format = *format;
  }
  auto user = optString(body, "user", "");
  if (!user) return std::unexpected(user.error());
  out.user = user->value_or("");
  auto stream = optBool(body, "stream", "");
  if (!stream) return std::unexpected(stream.error());
  out.stream = stream->value_or(false);
  if (const Json* options = member(body, "stream_options")) {
    if (!options->is_object()) return invalid("stream_options", "expected an object");
    auto include = optBool(*options, "include_usage", "stream_options");
    if (!include) return std::unexpected(include.error());
    out.include_usage = include->value_or(false);
  }

  for (const auto& [key, value] : body.items()) {
    if (!isKnownField(key)) out.extra[key] = value;
  }
  return out;
}

Json toOpenAIChatResponse(const ChatResponse& response) {
  Json choices = Json::array();
  for (const auto& choice : response.choices) {
    choices.push_back(
        {{"index", choice.index},
         {"message", choiceMessage(choice)},
         {"logprobs", nullptr},
         {"finish_reason",
          choice.finish_reason.empty() ? Json(nullptr) : Json(choice.finish_reason)}});
  }
  return {{"id", response.id},
          {"object", "chat.completion"},
          {"created", response.created},
          {"model", response.model},
          {"choices", std::move(choices)},
          {"usage", usageJson(response.usage)}};
}

Json toOpenAIChunk(const ChatChunk& chunk) {
  Json out = {{"id", chunk.id},
              {"object", "chat.completion.chunk"},
              {"created", chunk.created},
              {"model", chunk.model}};
  const bool usage_only = chunk.usage && !chunk.hasDelta();
  if (usage_only) {
    out["choices"] = Json::array();
  } else {
    Json delta = Json::object();
    if (!chunk.role.empty()) delta["role"] = chunk.role;
    if (!chunk.content.empty() || !chunk.role.empty()) delta["content"] = chunk.content;
    if (!chunk.reasoning.empty()) delta["reasoning_content"] = chunk.reasoning;
    if (!chunk.tool_calls.is_null()) delta["tool_calls"] = chunk.tool_calls;
    out["choices"] = Json::array(
        {{{"index", chunk.index},
          {"delta", std::move(delta)},
          {"logprobs", nullptr},
          {"finish_reason", chunk.finish_reason ? Json(*chunk.finish_reason) : Json(nullptr)}}});
  }
  if (chunk.usage) out["usage"] = usageJson(*chunk.usage);
  return out;
}

Json openAIErrorBody(const Error& error) {
  std::string type;
  switch (error.code) {
    case ErrorCode::InvalidRequest:
    case ErrorCode::InvalidConfig:
      type = "invalid_request_error";
      break;
    case ErrorCode::AuthFailed:
      type = "authentication_error";
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
      type = "service_unavailable_error";
      break;
    case ErrorCode::Timeout:
    case ErrorCode::DeadlineExceeded:
      type = "timeout_error";
      break;
    default:
      type = "api_error";
      break;
  }
  return {{"error",
           {{"message", error.message},
            {"type", type},
            {"param", nullptr},
            {"code", std::string(errorCodeName(error.code))}}}};
}

Result<EmbeddingRequest> parseOpenAIEmbeddingRequest(const Json& body) {
  if (!body.is_object()) return invalid("body", "expected a JSON object");
  EmbeddingRequest out;
  const Json* model = member(body, "model");
  if (!model) return invalid("model", "required");
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return invalid("model", "expected a non-empty string");
  }
  out.model = model->get<std::string>();
  const Json* input = member(body, "input");
  if (!input) return invalid("input", "required");
  if (input->is_string()) {
    out.input.push_back(input->get<std::string>());
  } else if (input->is_array() && !input->empty()) {
    for (size_t i = 0; i < input->size(); ++i) {
      const Json& item = (*input)[i];
      if (item.is_number_integer() || item.is_array()) {
        return invalid("input", "token arrays are not supported; send text");
      }
      if (!item.is_string()) return invalid(element("input", i), "expected a string");
      out.input.push_back(item.get<std::string>());
    }
  } else {
    return invalid("input", "expected a string or a non-empty array of strings");
  }
  auto dimensions = optInteger(body, "dimensions", "", 1, 1'000'000);
  if (!dimensions) return std::unexpected(dimensions.error());
  if (*dimensions) out.dimensions = static_cast<int>(**dimensions);
  auto format = optString(body, "encoding_format", "");
  if (!format) return std::unexpected(format.error());
  if (*format && **format != "float" && **format != "base64") {
    return invalid("encoding_format", "expected float or base64");
  }
  out.encoding_format = *format && **format == "base64" ? "base64" : "";
  auto user = optString(body, "user", "");
  if (!user) return std::unexpected(user.error());
  out.user = user->value_or("");
  return out;
}

Json toOpenAIEmbeddingResponse(const EmbeddingResponse& response, bool base64) {
  Json data = Json::array();
  for (size_t i = 0; i < response.data.size(); ++i) {
    const auto& vec = response.data[i];
    Json embedding;
    if (base64) {
      std::string bytes(vec.size() * 4, '\0');
      for (size_t k = 0; k < vec.size(); ++k) {
        uint32_t bits = std::bit_cast<uint32_t>(vec[k]);
        if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
        std::memcpy(bytes.data() + 4 * k, &bits, sizeof bits);
      }
      embedding = base64Encode(bytes);
    } else {
      embedding = vec;
    }
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  int64_t total =
      response.usage.total_tokens != 0 ? response.usage.total_tokens : response.usage.prompt_tokens;
  return {{"object", "list"},
          {"data", std::move(data)},
          {"model", response.model},
          {"usage", {{"prompt_tokens", response.usage.prompt_tokens}, {"total_tokens", total}}}};
}

}  // namespace llmpool::providers
