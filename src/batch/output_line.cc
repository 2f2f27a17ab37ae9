#include "batch/output_line.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "batch/input_line.h"
#include "common/json_depth.h"
#include "providers/anthropic_inbound.h"
#include "providers/json_writer.h"
#include "providers/openai_inbound.h"
#include "providers/responses_inbound.h"

namespace llmpool::batch {
namespace {

// FNV-1a, then a splitmix64 finalizer so that similar ids get dissimilar-looking hashes.
uint64_t hash64(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// We do not see the provider's x-request-id through the pool, so the request id is ours: stable
// for a given task and response.
std::string requestId(const std::string& custom_id, std::string_view response_id) {
  std::string key = custom_id;
  key += '\n';
  key += response_id;
  return "req_" + hex16(hash64(key));
}

// The provider's own reply body, when it is in the dialect the line's url asks for: it has what
// ChatResponse does not model (logprobs, system_fingerprint, cached and reasoning token counts,
// thinking blocks), as OpenAI's Batch output does. Empty otherwise.
std::string_view providerBody(std::string_view url, const ChatResponse& response) {
  const WireDialect wanted = url == kUrlMessages ? WireDialect::Anthropic : WireDialect::OpenAI;
  if (url == kUrlEmbeddings || url == kUrlResponses || response.provider_dialect != wanted) {
    return {};
  }
  return response.provider_body;
}

Json responseBody(std::string_view url, const ChatResponse& response, std::string_view echo,
                  std::string& problem) {
  if (std::string_view own = providerBody(url, response); !own.empty()) {
    Json body = parseJsonBounded(own);
    if (body.is_object()) return body;
  }
  if (url == kUrlEmbeddings) {
    // The embeddings adapter stored the finished embeddings object as the first choice's text.
    Json body = parseJsonBounded(response.text());
    if (body.is_discarded() || !body.is_object()) {
      problem = "stored embeddings response is not a JSON object";
      return nullptr;
    }
    return body;
  }
  if (url == kUrlMessages) return providers::toAnthropicResponse(response);
  if (url == kUrlResponses) {
    Json settings = parseJsonBounded(echo);
    if (!settings.is_object()) settings = Json::object();  // a line from before it was kept
    return providers::toResponsesResponse(response, settings);
  }
  return providers::toOpenAIChatResponse(response);
}

Json line(std::string id, Json custom_id, Json response, Json error) {
  return {{"id", std::move(id)},
          {"custom_id", std::move(custom_id)},
          {"response", std::move(response)},
          {"error", std::move(error)}};
}

std::string_view urlOf(const std::map<std::string, std::string>& metadata) {
  auto it = metadata.find(kUrlKey);
  return it == metadata.end() ? kUrlChat : std::string_view(it->second);
}

std::string_view responsesEchoOf(const std::map<std::string, std::string>& metadata) {
  auto it = metadata.find(kResponsesEchoKey);
  return it == metadata.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

std::string stableLineId(std::string_view key) { return "batch_req_" + hex16(hash64(key)); }

std::string serializeLine(const Json& l) {
  // OpenAI's field order (id, custom_id, response, error) reads better than sorted keys.
  std::string out = "{";
  bool first = true;
  auto put = [&](const std::string& key, const Json& value) {
    if (!first) out += ',';
    first = false;
    out += Json(key).dump();
    out += ':';
    out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  static const char* const kOrder[] = {"id", "custom_id", "response", "error"};
  for (const char* key : kOrder) {
    if (auto it = l.find(key); it != l.end()) put(key, *it);
  }
  for (const auto& [key, value] : l.items()) {
    if (std::find(std::begin(kOrder), std::end(kOrder), key) == std::end(kOrder)) put(key, value);
  }
  out += '}';
  return out;
}

std::string lineKey(size_t line_number) { return "#line:" + std::to_string(line_number); }

Json successLine(const std::string& custom_id, std::string_view url, const ChatResponse& response,
                 std::string_view responses_echo) {
  std::string problem;
  Json body = responseBody(url, response, responses_echo, problem);
  if (!problem.empty()) return failureLine(custom_id, url, Error(ErrorCode::Internal, problem));
  return line(stableLineId(custom_id), custom_id,
              {{"status_code", 200},
               {"request_id", requestId(custom_id, response.id)},
               {"body", std::move(body)}},
              nullptr);
}

Json failureLine(const std::string& custom_id, std::string_view url, const Error& error) {
  if (error.http_status && *error.http_status >= 400) {
    Json body = url == kUrlMessages ? providers::anthropicErrorBody(error)
                                    : providers::openAIErrorBody(error);
    return line(stableLineId(custom_id), custom_id,
                {{"status_code", *error.http_status},
                 {"request_id", requestId(custom_id, errorCodeName(error.code))},
                 {"body", std::move(body)}},
                nullptr);
  }
  return line(stableLineId(custom_id), custom_id, nullptr,
              {{"code", std::string(errorCodeName(error.code))}, {"message", error.message}});
}

Json invalidInputLine(const std::string& custom_id, size_t line_number, const std::string& message,
                      bool owns_id) {
  const std::string text = "line " + std::to_string(line_number) + ": " + message;
  Json error = {{"code", "invalid_input"}, {"message", text}};
  const bool keyed = owns_id && !custom_id.empty();
  return line(stableLineId(keyed ? custom_id : lineKey(line_number)),
              custom_id.empty() ? Json(nullptr) : Json(custom_id), nullptr, std::move(error));
}

Json resultLine(const TaskResult& result) {
  const std::string_view url = urlOf(result.metadata);
  if (result.ok()) {
    return successLine(result.task_id, url, *result.outcome, responsesEchoOf(result.metadata));
  }
  return failureLine(result.task_id, url, result.outcome.error());
}

std::string resultLineText(const TaskResult& result) {
  const std::string_view url = urlOf(result.metadata);
  if (!result.ok() || url == kUrlEmbeddings || url == kUrlResponses) {
    return serializeLine(resultLine(result));
  }
  const ChatResponse& response = *result.outcome;
  // The envelope is written directly, in serializeLine()'s key order. A chat completion body is
  // the codec's direct writer's (the gateway's too: same members, its own order); an Anthropic
  // body still comes from the codec's tree.
  std::string out;
  out.reserve(640 + response.text().size());
  providers::JsonWriter w(out);
  w.beginObject();
  w.key("id");
  w.string(stableLineId(result.task_id));
  w.key("custom_id");
  w.string(result.task_id);
  w.key("response");
  w.beginObject();
  w.key("body");
  if (std::string_view own = providerBody(url, response); !own.empty()) {
    // Decoded by the pool, so well-formed: a line break in it can only be whitespace between
    // tokens (one inside a string is escaped), and a JSONL line must not have one.
    if (own.find_first_of("\r\n") == std::string_view::npos) {
      w.raw(own);
    } else {
      std::string one_line;
      one_line.reserve(own.size());
      for (char c : own) {
        if (c != '\n' && c != '\r') one_line.push_back(c);
      }
      w.raw(one_line);
    }
  } else if (url == kUrlMessages) {
    w.json(providers::toAnthropicResponse(response));
  } else {
    w.raw(providers::openAIChatResponseText(response));
  }
  w.key("request_id");
  w.string(requestId(result.task_id, response.id));
  w.key("status_code");
  w.integer(200);
  w.endObject();
  w.key("error");
  w.null();
  w.endObject();
  return out;
}

std::optional<std::string> failureKind(const Json& l) {
  auto error = l.find("error");
  if (error != l.end() && error->is_object()) {
    auto code = error->find("code");
    if (code != error->end() && code->is_string()) return code->get<std::string>();
    return std::string("error");
  }
  auto response = l.find("response");
  if (response == l.end() || !response->is_object()) return std::string("error");
  const int status = response->value("status_code", 0);
  if (status >= 200 && status < 300) return std::nullopt;
  auto body = response->find("body");
  if (body != response->end() && body->is_object()) {
    auto body_error = body->find("error");
    if (body_error != body->end() && body_error->is_object()) {
      for (const char* key : {"code", "type"}) {
        auto v = body_error->find(key);
        if (v != body_error->end() && v->is_string()) return v->get<std::string>();
      }
    }
  }
  return "http_" + std::to_string(status);
}

}  // namespace llmpool::batch
