#include "providers/openai_codec.h"

#include <array>
#include <string>

#include "providers/json_reader.h"
#include "providers/json_writer.h"
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

bool refusesUnknownParameters(const Endpoint& endpoint) {
  return endpoint.kind == ProviderKind::Azure ||
         endpoint.base_url.find("api.openai.com") != std::string::npos;
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

namespace {

// Keys written so far, so `extra` cannot repeat one of them (a fixed array: no allocation).
class WrittenKeys {
 public:
  void add(std::string_view key) {
    if (count_ < keys_.size()) keys_[count_++] = key;
  }
  bool contains(std::string_view key) const {
    for (size_t i = 0; i < count_; ++i) {
      if (keys_[i] == key) return true;
    }
    return false;
  }

 private:
  std::array<std::string_view, 24> keys_;
  size_t count_ = 0;
};

void writeMessage(JsonWriter& w, const ChatMessage& message) {
  w.beginObject();
  w.key("role");
  w.string(message.role);
  w.key("content");
  if (!message.content_parts.is_null()) {
    w.json(message.content_parts);
  } else if (message.content.empty() && !message.tool_calls.empty()) {
    w.null();  // an assistant turn that only called tools
  } else {
    w.string(message.content);
  }
  if (!message.name.empty()) {
    w.key("name");
    w.string(message.name);
  }
  if (!message.tool_call_id.empty()) {
    w.key("tool_call_id");
    w.string(message.tool_call_id);
  }
  if (!message.tool_calls.empty()) {
    w.key("tool_calls");
    writeToolCalls(w, message.tool_calls);
  }
  w.endObject();
}

}  // namespace

void writeToolCalls(JsonWriter& w, const std::vector<ToolCall>& calls) {
  w.beginArray();
  for (const auto& call : calls) {
    w.beginObject();
    w.key("id");
    w.string(call.id);
    w.key("type");
    w.string(call.type.empty() ? "function" : call.type);
    w.key("function");
    w.beginObject();
    w.key("name");
    w.string(call.name);
    w.key("arguments");
    w.string(call.arguments);
    w.endObject();
    w.endObject();
  }
  w.endArray();
}

std::string requestBody(const ChatRequest& request, std::string_view model,
                        std::string_view max_tokens_field, bool force_stream_usage,
                        bool with_extra) {
  std::string out;
  out.reserve(256);
  JsonWriter w(out);
  WrittenKeys written;
  const auto key = [&](std::string_view name) {
    written.add(name);
    w.key(name);
  };
  w.beginObject();
  key("model");
  w.string(model);
  key("messages");
  w.beginArray();
  for (const auto& message : request.messages) writeMessage(w, message);
  w.endArray();
  const auto number = [&](std::string_view name, const std::optional<double>& v) {
    if (!v) return;
    key(name);
    w.number(*v);
  };
  const auto integer = [&](std::string_view name, const std::optional<int64_t>& v) {
    if (!v) return;
    key(name);
    w.integer(*v);
  };
  const auto json = [&](std::string_view name, const Json& v) {
    if (v.is_null()) return;
    key(name);
    w.json(v);
  };
  number("temperature", request.temperature);
  number("top_p", request.top_p);
  integer(max_tokens_field, request.max_tokens);
  if (request.stop.size() == 1) {
    key("stop");
    w.string(request.stop.front());
  } else if (!request.stop.empty()) {
    key("stop");
    w.beginArray();
    for (const auto& s : request.stop) w.string(s);
    w.endArray();
  }
  integer("n", request.n);
  integer("seed", request.seed);
  number("presence_penalty", request.presence_penalty);
  number("frequency_penalty", request.frequency_penalty);
  json("tools", request.tools);
  json("tool_choice", request.tool_choice);
  json("response_format", request.response_format);
  if (!request.user.empty()) {
    key("user");
    w.string(request.user);
  }
  if (request.stream) {
    key("stream");
    w.boolean(true);
    if (request.include_usage || force_stream_usage) {
      key("stream_options");
      w.beginObject();
      w.key("include_usage");
      w.boolean(true);
      w.endObject();
    }
  }
  if (with_extra && request.extra.is_object()) {
    for (const auto& [name, value] : request.extra.items()) {
      // Known fields above win: extra only carries what ChatRequest has no field for.
      if (written.contains(name)) continue;
      w.key(name);
      w.json(value);
    }
  }
  w.endObject();
  return out;
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
    choice.reasoning = reasoningOf(*message);
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

namespace llmpool::providers::openai {
namespace {

// Reads one choice of the common shape; false for anything else (the DOM path decides).
bool readChoice(JsonReader& r, ChatChoice& choice) {
  if (!r.enterObject()) return false;
  uint32_t seen = 0;
  const auto first = [&](uint32_t bit) {  // a repeated key: the DOM keeps the last; defer to it
    if (seen & bit) return false;
    seen |= bit;
    return true;
  };
  std::string_view name;
  bool has_message = false;
  while (r.nextMember(name)) {
    if (name == "index") {
      int64_t index = 0;
      if (!first(1) || !r.readInt(index)) return false;
      choice.index = static_cast<int>(index);
    } else if (name == "finish_reason") {
      if (!first(2)) return false;
      if (r.peek() == JsonReader::Kind::Null) {
        if (!r.readNull()) return false;
      } else if (!r.readString(choice.finish_reason)) {
        return false;
      }
    } else if (name == "message") {
      if (!first(4) || !r.enterObject()) return false;
      has_message = true;
      uint32_t seen_in_message = 0;
      while (r.nextMember(name)) {
        uint32_t bit = 0;
        if (name == "role") {
          bit = 1;
        } else if (name == "content") {
          bit = 2;
        } else if (name == "tool_calls") {
          bit = 4;
        } else if (name == "reasoning_content" || name == "reasoning") {
          bit = name == "reasoning_content" ? 8 : 16;
        }
        if (bit & seen_in_message) return false;
        seen_in_message |= bit;
        if (bit == 1) {
          std::string role;
          if (!r.readString(role)) return false;
          if (!role.empty()) choice.role = std::move(role);
        } else if (bit == 2) {
          if (r.peek() == JsonReader::Kind::Null) {
            if (!r.readNull()) return false;
          } else if (!r.readString(choice.content)) {
            return false;  // content parts and odd types: the DOM path
          }
        } else if (bit == 4) {
          if (r.peek() == JsonReader::Kind::Null) {
            if (!r.readNull()) return false;
          } else if (!r.enterArray() || r.nextElement()) {
            return false;  // tool calls present: the DOM path reads them
          }
        } else if (bit == 8 || bit == 16) {
          // Reasoning: a string, or null; anything else (a structured form) is the DOM path's.
          if (r.peek() == JsonReader::Kind::Null) {
            if (!r.readNull()) return false;
          } else if (r.peek() != JsonReader::Kind::String) {
            return false;
          } else if (bit == 16 && !choice.reasoning.empty()) {
            if (!r.skipValue()) return false;  // reasoning_content came first and wins
          } else if (!r.readString(choice.reasoning)) {
            return false;
          }
        } else if (!r.skipValue()) {
          return false;
        }
      }
      if (r.failed()) return false;
    } else if (!r.skipValue()) {
      return false;
    }
  }
  return !r.failed() && has_message;
}

bool readUsage(JsonReader& r, Usage& usage) {
  usage = Usage{};
  if (r.peek() == JsonReader::Kind::Null) return r.readNull();
  if (!r.enterObject()) return false;
  bool has_total = false;
  uint32_t seen = 0;
  std::string_view name;
  while (r.nextMember(name)) {
    int64_t* field = nullptr;
    uint32_t bit = 0;
    if (name == "prompt_tokens") {
      field = &usage.prompt_tokens, bit = 1;
    } else if (name == "completion_tokens") {
      field = &usage.completion_tokens, bit = 2;
    } else if (name == "total_tokens") {
      field = &usage.total_tokens, bit = 4;
      has_total = true;
    }
    if (!field) {
      if (!r.skipValue()) return false;
      continue;
    }
    if ((seen & bit) || !r.readInt(*field)) return false;
    seen |= bit;
  }
  if (r.failed()) return false;
  if (!has_total) usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  return true;
}

}  // namespace

std::optional<ChatResponse> parseResponseText(std::string_view body) {
  JsonReader r(body);
  if (!r.enterObject()) return std::nullopt;
  ChatResponse response;
  uint32_t seen = 0;
  const auto first = [&](uint32_t bit) {
    if (seen & bit) return false;
    seen |= bit;
    return true;
  };
  std::string_view name;
  while (r.nextMember(name)) {
    bool ok = true;
    if (name == "id") {
      ok = first(1) && r.readString(response.id);
    } else if (name == "model") {
      ok = first(2) && r.readString(response.model);
    } else if (name == "created") {
      ok = first(4) && r.readInt(response.created);
    } else if (name == "choices") {
      ok = first(8) && r.enterArray();
      while (ok && r.nextElement()) {
        ChatChoice choice;
        choice.index = static_cast<int>(response.choices.size());
        ok = readChoice(r, choice);
        response.choices.push_back(std::move(choice));
      }
    } else if (name == "usage") {
      ok = first(16) && readUsage(r, response.usage);
    } else if (name == "error") {
      ok = false;  // an error object inside a 2xx: the DOM path classifies it
    } else {
      ok = r.skipValue();
    }
    if (!ok) return std::nullopt;
  }
  if (!(seen & 8) || !r.atEnd()) return std::nullopt;
  return response;
}

}  // namespace llmpool::providers::openai
