#include "providers/responses_inbound.h"

#include <random>

#include "providers/request_validation.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

using namespace validation;

constexpr std::string_view kStateless =
    "not supported: this gateway keeps no responses; send the whole conversation in `input`";

/** Chat parameters a Responses request may carry under the same name and meaning. */
constexpr const char* kSameNamedChatFields[] = {"parallel_tool_calls", "service_tier",
                                                "prompt_cache_key", "safety_identifier"};

std::string idSuffix(std::string_view id) {
  std::string out;
  for (char c : id) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || c == '_' || c == '-') out += c;
  }
  if (!out.empty()) return out;
  thread_local std::mt19937_64 engine{std::random_device{}()};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(engine()));
  return hex;
}

/** One content part of an input message as an OpenAI chat part. */
Result<Json> chatPart(const Json& part, const std::string& where, bool assistant) {
  if (!part.is_object()) return invalid(where, "expected an object");
  const std::string type = stringOr(part, "type");
  if (type == "input_text" || type == "output_text" || type == "refusal") {
    const char* key = type == "refusal" ? "refusal" : "text";
    const Json* text = member(part, key);
    if (!text || !text->is_string()) return invalid(child(where, key), "expected a string");
    return Json{{"type", "text"}, {"text", *text}};
  }
  if (!assistant && type == "input_image") {
    const Json* url = member(part, "image_url");
    if (!url) {
      return invalid(child(where, "image_url"),
                     "required (file_id images need OpenAI's file store, which is not here)");
    }
    if (!url->is_string()) return invalid(child(where, "image_url"), "expected a string");
    Json image = {{"url", *url}};
    if (const Json* detail = member(part, "detail")) {
      if (!detail->is_string()) return invalid(child(where, "detail"), "expected a string");
      image["detail"] = *detail;
    }
    return Json{{"type", "image_url"}, {"image_url", std::move(image)}};
  }
  if (!assistant && type == "input_file") {
    Json file = Json::object();
    for (const char* key : {"file_data", "file_id", "filename"}) {
      auto value = optString(part, key, where);
      if (!value) return std::unexpected(value.error());
      if (*value) file[key] = **value;
    }
    if (!file.contains("file_data") && !file.contains("file_id")) {
      return invalid(where, "input_file needs file_data or file_id");
    }
    return Json{{"type", "file"}, {"file", std::move(file)}};
  }
  return invalid(child(where, "type"), assistant
                                           ? "expected output_text or refusal"
                                           : "expected input_text, input_image or input_file");
}

Result<void> parseMessageItem(const Json& item, const std::string& where, ChatRequest& out) {
  const Json* role = member(item, "role");
  static constexpr std::string_view kRoles[] = {"user", "assistant", "system", "developer"};
  if (!role || !role->is_string() ||
      std::ranges::find(kRoles, role->get_ref<const std::string&>()) == std::end(kRoles)) {
    return invalid(child(where, "role"), "expected one of user, assistant, system, developer");
  }
  ChatMessage message;
  message.role = role->get<std::string>();
  const bool assistant = message.role == "assistant";
  const Json* content = member(item, "content");
  const std::string content_path = child(where, "content");
  if (!content) return invalid(content_path, "required");
  if (content->is_string()) {
    message.content = content->get<std::string>();
  } else if (content->is_array()) {
    Json parts = Json::array();
    for (size_t i = 0; i < content->size(); ++i) {
      auto part = chatPart((*content)[i], element(content_path, i), assistant);
      if (!part) return std::unexpected(part.error());
      parts.push_back(std::move(*part));
    }
    message.content = textOfParts(parts);
    if (!partsAreAllText(parts)) message.content_parts = std::move(parts);
  } else {
    return invalid(content_path, "expected a string or an array of content parts");
  }
  out.messages.push_back(std::move(message));
  return {};
}

Result<std::string> requiredString(const Json& item, const char* key, const std::string& where) {
  auto value = optString(item, key, where);
  if (!value) return std::unexpected(value.error());
  if (!*value) return invalid(child(where, key), "required");
  return std::move(**value);
}

// A function call the model made earlier: it joins the assistant turn just before it (a text
// reply and its calls are one chat message), or makes one of its own.
Result<void> parseFunctionCall(const Json& item, const std::string& where, ChatRequest& out) {
  ToolCall call;
  auto call_id = requiredString(item, "call_id", where);
  if (!call_id) return std::unexpected(call_id.error());
  auto name = requiredString(item, "name", where);
  if (!name) return std::unexpected(name.error());
  auto arguments = requiredString(item, "arguments", where);
  if (!arguments) return std::unexpected(arguments.error());
  call.id = std::move(*call_id);
  call.name = std::move(*name);
  call.arguments = std::move(*arguments);
  if (out.messages.empty() || out.messages.back().role != "assistant") {
    ChatMessage turn;
    turn.role = "assistant";
    out.messages.push_back(std::move(turn));
  }
  out.messages.back().tool_calls.push_back(std::move(call));
  return {};
}

Result<void> parseFunctionCallOutput(const Json& item, const std::string& where, ChatRequest& out) {
  auto call_id = requiredString(item, "call_id", where);
  if (!call_id) return std::unexpected(call_id.error());
  const Json* output = member(item, "output");
  const std::string output_path = child(where, "output");
  if (!output) return invalid(output_path, "required");
  ChatMessage tool;
  tool.role = "tool";
  tool.tool_call_id = std::move(*call_id);
  if (output->is_string()) {
    tool.content = output->get<std::string>();
  } else if (output->is_array()) {
    Json parts = Json::array();
    for (size_t i = 0; i < output->size(); ++i) {
      auto part = chatPart((*output)[i], element(output_path, i), false);
      if (!part) return std::unexpected(part.error());
      parts.push_back(std::move(*part));
    }
    tool.content = textOfParts(parts);
    if (!partsAreAllText(parts)) tool.content_parts = std::move(parts);
  } else {
    return invalid(output_path, "expected a string or an array of content parts");
  }
  out.messages.push_back(std::move(tool));
  return {};
}

Result<void> parseInput(const Json& input, ChatRequest& out) {
  if (input.is_string()) {
    ChatMessage user;
    user.role = "user";
    user.content = input.get<std::string>();
    out.messages.push_back(std::move(user));
    return {};
  }
  if (!input.is_array()) return invalid("input", "expected a string or an array of items");
  for (size_t i = 0; i < input.size(); ++i) {
    const Json& item = input[i];
    const std::string where = element("input", i);
    if (!item.is_object()) return invalid(where, "expected an object");
    std::string type = stringOr(item, "type");
    if (type.empty() && member(item, "role")) type = "message";  // the easy input message
    Result<void> parsed;
    if (type == "message") {
      parsed = parseMessageItem(item, where, out);
    } else if (type == "function_call") {
      parsed = parseFunctionCall(item, where, out);
    } else if (type == "function_call_output") {
      parsed = parseFunctionCallOutput(item, where, out);
    } else if (type == "reasoning") {
      continue;  // a reasoning model's item handed back: chat has no form for it
    } else if (type == "item_reference") {
      return invalid(where, kStateless);
    } else {
      return invalid(child(where, "type"),
                     type.empty() ? std::string("required")
                                  : "'" + type +
                                        "' items are not supported here (expected message, "
                                        "function_call, function_call_output or reasoning)");
    }
    if (!parsed) return parsed;
  }
  if (out.messages.empty()) return invalid("input", "has no message");
  return {};
}

Result<void> parseTools(const Json& body, ChatRequest& out) {
  if (const Json* tools = member(body, "tools")) {
    if (!tools->is_array()) return invalid("tools", "expected an array");
    Json converted = Json::array();
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& tool = (*tools)[i];
      const std::string where = element("tools", i);
      if (!tool.is_object()) return invalid(where, "expected an object");
      const std::string type = stringOr(tool, "type");
      if (type != "function") {
        return invalid(child(where, "type"), "only function tools are served here ('" + type +
                                                 "' is a tool OpenAI's own service runs)");
      }
      auto name = requiredString(tool, "name", where);
      if (!name) return std::unexpected(name.error());
      Json function = {{"name", std::move(*name)}};
      if (auto d = optString(tool, "description", where); !d) {
        return std::unexpected(d.error());
      } else if (*d) {
        function["description"] = **d;
      }
      if (const Json* parameters = member(tool, "parameters")) {
        if (!parameters->is_object())
          return invalid(child(where, "parameters"), "expected an object");
        function["parameters"] = *parameters;
      }
      auto strict = optBool(tool, "strict", where);
      if (!strict) return std::unexpected(strict.error());
      if (*strict) function["strict"] = **strict;
      converted.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    if (!converted.empty()) out.tools = std::move(converted);
  }
  if (const Json* choice = member(body, "tool_choice")) {
    if (choice->is_string()) {
      const std::string& c = choice->get_ref<const std::string&>();
      if (c != "none" && c != "auto" && c != "required") {
        return invalid("tool_choice", "expected none, auto, required or a function");
      }
      out.tool_choice = *choice;
    } else if (choice->is_object() && stringOr(*choice, "type") == "function") {
      auto name = requiredString(*choice, "name", "tool_choice");
      if (!name) return std::unexpected(name.error());
      out.tool_choice = {{"type", "function"}, {"function", {{"name", std::move(*name)}}}};
    } else {
      return invalid("tool_choice", "expected none, auto, required or {type: function, name}");
    }
  }
  return {};
}

// text.format -> response_format; text.verbosity -> verbosity.
Result<void> parseText(const Json& body, ChatRequest& out) {
  const Json* text = member(body, "text");
  if (!text) return {};
  if (!text->is_object()) return invalid("text", "expected an object");
  if (const Json* format = member(*text, "format")) {
    if (!format->is_object()) return invalid("text.format", "expected an object");
    const std::string type = stringOr(*format, "type");
    if (type == "json_object") {
      out.response_format = {{"type", "json_object"}};
    } else if (type == "json_schema") {
      auto name = requiredString(*format, "name", "text.format");
      if (!name) return std::unexpected(name.error());
      const Json* schema = member(*format, "schema");
      if (!schema || !schema->is_object()) {
        return invalid("text.format.schema", "expected an object");
      }
      Json json_schema = {{"name", std::move(*name)}, {"schema", *schema}};
      for (const char* key : {"strict", "description"}) {
        if (const Json* v = member(*format, key)) json_schema[key] = *v;
      }
      out.response_format = {{"type", "json_schema"}, {"json_schema", std::move(json_schema)}};
    } else if (type != "text") {
      return invalid("text.format.type", "expected one of text, json_object, json_schema");
    }
  }
  if (auto verbosity = optString(*text, "verbosity", "text"); !verbosity) {
    return std::unexpected(verbosity.error());
  } else if (*verbosity) {
    if (out.extra.is_null()) out.extra = Json::object();
    out.extra["verbosity"] = **verbosity;
  }
  return {};
}

Json valueOr(const Json& body, const char* key, Json fallback) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? std::move(fallback) : *it;
}

}  // namespace

Result<ChatRequest> parseResponsesRequest(const Json& body) {
  if (!body.is_object()) return invalid("body", "expected a JSON object");
  for (const char* key : {"previous_response_id", "conversation", "prompt"}) {
    if (member(body, key)) return invalid(key, kStateless);
  }
  auto background = optBool(body, "background", "");
  if (!background) return std::unexpected(background.error());
  if (background->value_or(false)) return invalid("background", kStateless);

  ChatRequest out;
  auto model = optString(body, "model", "");
  if (!model) return std::unexpected(model.error());
  if (!*model || (*model)->empty()) return invalid("model", "required");
  out.model = std::move(**model);

  auto instructions = optString(body, "instructions", "");
  if (!instructions) return std::unexpected(instructions.error());
  if (*instructions && !(*instructions)->empty()) {
    ChatMessage system;
    system.role = "system";
    system.content = std::move(**instructions);
    out.messages.push_back(std::move(system));
  }
  const Json* input = member(body, "input");
  if (!input) return invalid("input", "required");
  if (auto parsed = parseInput(*input, out); !parsed) return std::unexpected(parsed.error());

  auto max_output = optInteger(body, "max_output_tokens", "", 1, INT64_MAX);
  if (!max_output) return std::unexpected(max_output.error());
  out.max_tokens = *max_output;
  auto temperature = optNumber(body, "temperature", "", 0.0, 2.0);
  if (!temperature) return std::unexpected(temperature.error());
  out.temperature = *temperature;
  auto top_p = optNumber(body, "top_p", "", 0.0, 1.0);
  if (!top_p) return std::unexpected(top_p.error());
  out.top_p = *top_p;
  auto stream = optBool(body, "stream", "");
  if (!stream) return std::unexpected(stream.error());
  out.stream = stream->value_or(false);
  auto user = optString(body, "user", "");
  if (!user) return std::unexpected(user.error());
  if (*user) out.user = std::move(**user);

  if (auto tools = parseTools(body, out); !tools) return std::unexpected(tools.error());
  if (auto text = parseText(body, out); !text) return std::unexpected(text.error());
  if (const Json* reasoning = member(body, "reasoning")) {
    if (!reasoning->is_object()) return invalid("reasoning", "expected an object");
    auto effort = optString(*reasoning, "effort", "reasoning");
    if (!effort) return std::unexpected(effort.error());
    if (*effort) {
      if (out.extra.is_null()) out.extra = Json::object();
      out.extra["reasoning_effort"] = **effort;
    }
  }
  for (const char* key : kSameNamedChatFields) {
    if (const Json* value = member(body, key)) {
      if (out.extra.is_null()) out.extra = Json::object();
      out.extra[key] = *value;
    }
  }
  return out;
}

Json responsesEcho(const Json& body) {
  Json reasoning = {{"effort", nullptr}, {"summary", nullptr}};
  if (auto it = body.find("reasoning"); it != body.end() && it->is_object()) {
    for (const auto& [key, value] : it->items()) reasoning[key] = value;
  }
  return {{"instructions", valueOr(body, "instructions", nullptr)},
          {"max_output_tokens", valueOr(body, "max_output_tokens", nullptr)},
          {"metadata", valueOr(body, "metadata", Json::object())},
          {"parallel_tool_calls", valueOr(body, "parallel_tool_calls", true)},
          {"previous_response_id", nullptr},
          {"reasoning", std::move(reasoning)},
          {"service_tier", valueOr(body, "service_tier", "auto")},
          {"store", false},
          {"temperature", valueOr(body, "temperature", 1.0)},
          {"text", valueOr(body, "text", {{"format", {{"type", "text"}}}})},
          {"tool_choice", valueOr(body, "tool_choice", "auto")},
          {"tools", valueOr(body, "tools", Json::array())},
          {"top_p", valueOr(body, "top_p", 1.0)},
          {"truncation", valueOr(body, "truncation", "disabled")},
          {"user", valueOr(body, "user", nullptr)}};
}

std::string responseIdFor(std::string_view provider_id) { return "resp_" + idSuffix(provider_id); }

std::string messageItemIdFor(std::string_view provider_id) {
  return "msg_" + idSuffix(provider_id);
}

std::string functionCallItemIdFor(std::string_view call_id) { return "fc_" + idSuffix(call_id); }

std::string reasoningItemIdFor(std::string_view provider_id) {
  return "rs_" + idSuffix(provider_id);
}

Json reasoningItem(std::string id, const std::string& text) {
  return {{"type", "reasoning"},
          {"id", std::move(id)},
          {"summary", Json::array()},
          {"content", {{{"type", "reasoning_text"}, {"text", text}}}},
          {"status", "completed"}};
}

Json responsesUsage(const Usage& usage) {
  return {
      {"input_tokens", usage.prompt_tokens},
      {"input_tokens_details", {{"cached_tokens", 0}}},
      {"output_tokens", usage.completion_tokens},
      {"output_tokens_details", {{"reasoning_tokens", 0}}},
      {"total_tokens", usage.total_tokens != 0 ? usage.total_tokens
                                               : usage.prompt_tokens + usage.completion_tokens}};
}

ResponseStatus responseStatusFor(std::string_view finish_reason) {
  if (finish_reason == "length") {
    return {"incomplete", {{"reason", "max_output_tokens"}}};
  }
  if (finish_reason == "content_filter") return {"incomplete", {{"reason", "content_filter"}}};
  return {"completed", nullptr};
}

Json responseSkeleton(std::string_view id, int64_t created_at, std::string_view model,
                      const Json& echo) {
  Json r = echo;
  r["id"] = id;
  r["object"] = "response";
  r["created_at"] = created_at;
  r["model"] = model;
  r["error"] = nullptr;
  r["incomplete_details"] = nullptr;
  r["output"] = Json::array();
  r["usage"] = nullptr;
  return r;
}

Json toResponsesResponse(const ChatResponse& response, const Json& echo) {
  Json r = responseSkeleton(responseIdFor(response.id), response.created, response.model, echo);
  Json& output = r["output"];
  std::string finish_reason;
  if (!response.choices.empty()) {
    const ChatChoice& choice = response.choices.front();
    finish_reason = choice.finish_reason;
    if (!choice.reasoning.empty()) {
      output.push_back(reasoningItem(reasoningItemIdFor(response.id), choice.reasoning));
    }
    if (!choice.content.empty()) {
      output.push_back({{"type", "message"},
                        {"id", messageItemIdFor(response.id)},
                        {"status", "completed"},
                        {"role", "assistant"},
                        {"content",
                         {{{"type", "output_text"},
                           {"text", choice.content},
                           {"annotations", Json::array()}}}}});
    }
    for (const ToolCall& call : choice.tool_calls) {
      output.push_back({{"type", "function_call"},
                        {"id", functionCallItemIdFor(call.id)},
                        {"call_id", call.id},
                        {"name", call.name},
                        {"arguments", call.arguments},
                        {"status", "completed"}});
    }
  }
  ResponseStatus status = responseStatusFor(finish_reason);
  r["status"] = std::move(status.status);
  r["incomplete_details"] = std::move(status.incomplete_details);
  r["usage"] = responsesUsage(response.usage);
  return r;
}

}  // namespace llmpool::providers
