#include "providers/error_classifier.h"

#include <algorithm>
#include <cmath>

#include "common/json_depth.h"
#include "providers/endpoint.h"
#include "providers/time_parse.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

constexpr size_t MaxMessageChars = 500;

/** What a provider's error body says, whatever the dialect. */
struct BodyError {
  std::string message;
  std::string type;
  std::string code;             // string code, or the integer code as text
  std::optional<int> int_code;  // llama.cpp / vLLM put the HTTP status here
};

std::string jsonText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return {};
}

/** Reads {message,type,code} from an error object (OpenAI, Anthropic, llama.cpp, vLLM). */
void readErrorObject(const Json& obj, BodyError& out) {
  if (auto it = obj.find("message"); it != obj.end()) out.message = jsonText(*it);
  if (auto it = obj.find("type"); it != obj.end()) out.type = jsonText(*it);
  if (auto it = obj.find("code"); it != obj.end()) {
    out.code = jsonText(*it);
    if (it->is_number_integer()) out.int_code = it->get<int>();
  }
}

std::optional<BodyError> readBodyError(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  BodyError out;
  if (auto it = body.find("error"); it != body.end()) {
    if (it->is_object()) {
      readErrorObject(*it, out);  // OpenAI, Anthropic ({"type":"error","error":{...}}), llama.cpp
    } else if (it->is_string()) {
      out.message = it->get<std::string>();  // vLLM 401: {"error":"Unauthorized"}
    } else {
      return std::nullopt;
    }
    return out;
  }
  if (body.contains("message") || stringOr(body, "object") == "error") {
    readErrorObject(body, out);  // flat vLLM {"object":"error","message",...}
    return out;
  }
  if (auto it = body.find("detail"); it != body.end() && it->is_string()) {
    out.message = it->get<std::string>();  // FastAPI-style servers
    return out;
  }
  return std::nullopt;
}

std::string oneLine(std::string_view text, size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), max_chars));
  for (char c : text) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool isNonTransientQuota(const BodyError& e) {
  for (const std::string* s : {&e.code, &e.type}) {
    if (*s == "insufficient_quota" || *s == "credit_balance_exhausted" || *s == "billing_error") {
      return true;
    }
  }
  return false;
}

std::string composeMessage(const BodyError& e) {
  std::string message = e.message.empty() ? std::string("(no message)") : e.message;
  message = oneLine(message, MaxMessageChars);
  const std::string& tag = !e.code.empty() && !e.int_code ? e.code : e.type;
  if (!tag.empty()) message += " (" + oneLine(tag, 64) + ")";
  return redactSecrets(message);
}

ErrorCode codeForStatus(int status) {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return ErrorCode::InvalidRequest;
    case 401:
    case 403:
      return ErrorCode::AuthFailed;
    case 404:
      return ErrorCode::NotFound;
    case 408:  // request timeout: the server gave up waiting, the request may succeed again
    case 409:  // conflict: OpenAI documents these as lock timeouts, transient
      return ErrorCode::ServerError;
    case 429:
      return ErrorCode::RateLimited;
    case 529:
      return ErrorCode::ProviderOverloaded;
    default:
      break;
  }
  if (status >= 500 && status <= 599) return ErrorCode::ServerError;
  if (status >= 400 && status <= 499) return ErrorCode::InvalidRequest;
  return ErrorCode::Protocol;
}

std::optional<ErrorCode> codeForType(std::string_view t) {
  if (t == "overloaded_error" || t == "server_is_overloaded") return ErrorCode::ProviderOverloaded;
  if (t == "rate_limit_error" || t == "rate_limit_exceeded" || t == "slow_down" ||
      t == "insufficient_quota" || t == "tokens" || t == "requests") {
    return ErrorCode::RateLimited;
  }
  if (t == "authentication_error" || t == "permission_error" || t == "invalid_api_key") {
    return ErrorCode::AuthFailed;
  }
  if (t == "not_found_error" || t == "model_not_found") return ErrorCode::NotFound;
  if (t == "invalid_request_error" || t == "request_too_large" || t == "context_length_exceeded") {
    return ErrorCode::InvalidRequest;
  }
  if (t == "api_error" || t == "server_error" || t == "timeout_error" ||
      t == "service_unavailable_error" || t == "unavailable_error") {
    return ErrorCode::ServerError;
  }
  return std::nullopt;
}

}  // namespace

std::string redactSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto is_token_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '*';
  };
  size_t i = 0;
  while (i < text.size()) {
    std::string_view rest = text.substr(i);
    size_t prefix = 0;
    bool at_word_start = i == 0 || !is_token_char(text[i - 1]);
    if (at_word_start && rest.starts_with("sk-")) {
      prefix = 3;
    } else if (rest.starts_with("Bearer ") || rest.starts_with("bearer ")) {
      prefix = 7;
    }
    if (prefix != 0) {
      size_t end = prefix;
      while (end < rest.size() && is_token_char(rest[end])) ++end;
      if (end - prefix >= 4) {
        out.append(rest.substr(0, prefix));
        out.append("***");
        i += end;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

std::optional<std::chrono::milliseconds> parseRetryAfter(const http::Headers& headers,
                                                         SystemTime now) {
  if (std::string_view ms = http::findHeader(headers, "retry-after-ms"); !ms.empty()) {
    if (auto v = parseDecimal(ms); v && *v >= 0) {
      return std::chrono::milliseconds(std::llround(*v));
    }
    // Unusable: fall back to retry-after, as the OpenAI SDKs do.
  }
  std::string_view ra = trimBlanks(http::findHeader(headers, "retry-after"));
  if (ra.empty()) return std::nullopt;
  if (auto seconds = parseDecimal(ra)) {
    if (*seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(std::llround(*seconds * 1000.0));
  }
  if (auto date = parseHttpDate(ra)) {
    auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(*date - now);
    if (delta.count() < 0) return std::nullopt;
    return delta;
  }
  return std::nullopt;
}

std::optional<bool> parseShouldRetry(const http::Headers& headers) {
  std::string_view v = trimBlanks(http::findHeader(headers, "x-should-retry"));
  if (v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

Error classifyHttpError(ProviderKind kind, int status, const http::Headers& headers,
                        std::string_view body, SystemTime now) {
  Error error;
  error.http_status = status;
  error.code = codeForStatus(status);
  error.retry_after = parseRetryAfter(headers, now);
  error.should_retry = parseShouldRetry(headers);

  Json parsed = parseJsonBounded(body);
  std::optional<BodyError> body_error = readBodyError(parsed);
  if (body_error) {
    error.message = composeMessage(*body_error);
    // A 5xx that says "overloaded" is the same condition as Anthropic's 529.
    if (error.code == ErrorCode::ServerError && status >= 500 &&
        (body_error->type == "overloaded_error" || body_error->code == "overloaded_error")) {
      error.code = ErrorCode::ProviderOverloaded;
    }
    if (status == 429 && isNonTransientQuota(*body_error) && !error.should_retry) {
      error.should_retry = false;
    }
  } else {
    std::string text = oneLine(trimBlanks(body), 200);
    error.message = text.empty() ? "HTTP " + std::to_string(status) : redactSecrets(text);
  }
  if (error.code == ErrorCode::Protocol) {
    error.message = "unexpected HTTP status " + std::to_string(status) + ": " + error.message;
  }
  error.message = std::string(providerKindName(kind)) + ": " + error.message;
  return error;
}

Error classifyErrorBody(ProviderKind kind, const Json& body) {
  Error error;
  std::optional<BodyError> body_error = readBodyError(body);
  if (!body_error) {
    error.code = ErrorCode::Protocol;
    error.message = std::string(providerKindName(kind)) + ": malformed error event";
    return error;
  }
  error.message = std::string(providerKindName(kind)) + ": " + composeMessage(*body_error);
  if (body_error->int_code && *body_error->int_code >= 400 && *body_error->int_code <= 599) {
    error.code = codeForStatus(*body_error->int_code);
    error.http_status = body_error->int_code;
  } else if (auto c = codeForType(body_error->code)) {
    error.code = *c;
  } else if (auto t = codeForType(body_error->type)) {
    error.code = *t;
  } else {
    error.code = ErrorCode::ServerError;  // an unexplained failure mid-stream: assume transient
  }
  if (isNonTransientQuota(*body_error)) error.should_retry = false;
  return error;
}

}  // namespace llmpool::providers
