#include "providers/provider_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "common/json_depth.h"
#include "providers/anthropic_codec.h"
#include "providers/base64.h"
#include "providers/error_classifier.h"
#include "providers/forwarded_body.h"
#include "providers/openai_codec.h"
#include "providers/wire_util.h"

namespace llmpool::providers {
namespace {

std::string azureVersion(const Endpoint& endpoint) {
  return endpoint.api_version.empty() ? std::string(DefaultAzureApiVersion) : endpoint.api_version;
}

std::string azureDeploymentUrl(const Endpoint& endpoint, std::string_view model,
                               std::string_view operation) {
  return joinUrl(endpoint.base_url, "/openai/deployments/" + percentEncode(model) + "/" +
                                        std::string(operation) +
                                        "?api-version=" + percentEncode(azureVersion(endpoint)));
}

/** Auth and version headers of the dialect, then the endpoint's own headers. */
http::Headers baseHeaders(const Endpoint& endpoint) {
  http::Headers headers;
  headers.reserve(4 + endpoint.headers.size());
  switch (endpoint.kind) {
    case ProviderKind::OpenAI:
      if (!endpoint.api_key.empty())
        headers.emplace_back("authorization", "Bearer " + endpoint.api_key);
      break;
    case ProviderKind::Azure:
      if (!endpoint.api_key.empty()) headers.emplace_back("api-key", endpoint.api_key);
      break;
    case ProviderKind::Anthropic:
      if (!endpoint.api_key.empty()) headers.emplace_back("x-api-key", endpoint.api_key);
      headers.emplace_back("anthropic-version", endpoint.api_version.empty()
                                                    ? std::string(DefaultAnthropicVersion)
                                                    : endpoint.api_version);
      break;
  }
  return headers;
}

void applyEndpointHeaders(const Endpoint& endpoint, http::Headers& headers) {
  for (const auto& [name, value] : endpoint.headers) setHeader(headers, name, value);
}

http::HttpRequest jsonPost(const Endpoint& endpoint, std::string url, std::string body,
                           bool stream) {
  http::HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers = baseHeaders(endpoint);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", stream ? "text/event-stream" : "application/json");
  applyEndpointHeaders(endpoint, request.headers);
  request.body = std::move(body);
  return request;
}

/** Parses a 2xx body; a JSON error object inside a 2xx is returned as that error. */
Result<Json> parseSuccessBody(ProviderKind kind, const http::HttpResponse& response,
                              const char* what) {
  Json body = parseJsonBounded(response.body);
  if (body.is_discarded()) {
    return fail(ErrorCode::Protocol,
                std::string(providerKindName(kind)) + ": " + what + " body is not valid JSON");
  }
  if (body.is_object() && body.contains("error") && !body.contains("choices") &&
      !body.contains("content") && !body.contains("data")) {
    Error error = classifyErrorBody(kind, body);
    error.http_status = response.status;
    return std::unexpected(std::move(error));
  }
  return body;
}

float floatFromLittleEndian(const char* p) {
  uint32_t bits = 0;
  std::memcpy(&bits, p, sizeof bits);
  if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
  return std::bit_cast<float>(bits);
}

// The chat body for an OpenAI-dialect endpoint: the client's own when it spoke OpenAI too.
std::string openAIChatBody(const Endpoint& endpoint, const ChatRequest& request,
                           std::string_view upstream_model) {
  const std::string_view max_tokens_field = openai::maxTokensField(endpoint);
  if (request.source_dialect == WireDialect::OpenAI) {
    auto forwarded =
        forwardedOpenAIBody(request.source_body, request, upstream_model, max_tokens_field);
    if (forwarded) return std::move(*forwarded);
  }
  // An Anthropic client's other top-level fields (thinking, top_k, container, ...) are
  // Anthropic's parameters: a self-hosted OpenAI-compatible server may take them (vLLM takes
  // top_k, reasoning servers take thinking), OpenAI and Azure refuse the whole request for them.
  const bool with_extra = request.source_dialect != WireDialect::Anthropic ||
                          !openai::refusesUnknownParameters(endpoint);
  return openai::requestBody(request, upstream_model, max_tokens_field, true, with_extra);
}

std::string anthropicChatBody(const ChatRequest& request, std::string_view upstream_model) {
  if (request.source_dialect == WireDialect::Anthropic) {
    auto forwarded = forwardedAnthropicBody(request.source_body, request, upstream_model);
    if (forwarded) return std::move(*forwarded);
  }
  return dumpJson(anthropic::requestBody(request, upstream_model));
}

http::HttpRequest chatPost(const Endpoint& endpoint, const ChatRequest& request,
                           std::string_view upstream_model) {
  switch (endpoint.kind) {
    case ProviderKind::Anthropic:
      return jsonPost(endpoint, joinUrl(endpoint.base_url, "/messages"),
                      anthropicChatBody(request, upstream_model), request.stream);
    case ProviderKind::Azure:
      return jsonPost(endpoint, azureDeploymentUrl(endpoint, upstream_model, "chat/completions"),
                      openAIChatBody(endpoint, request, upstream_model), request.stream);
    case ProviderKind::OpenAI:
      break;
  }
  return jsonPost(endpoint, joinUrl(endpoint.base_url, "/chat/completions"),
                  openAIChatBody(endpoint, request, upstream_model), request.stream);
}

WireDialect dialectOf(ProviderKind kind) {
  return kind == ProviderKind::Anthropic ? WireDialect::Anthropic : WireDialect::OpenAI;
}

}  // namespace

http::HttpRequest encodeChat(const Endpoint& endpoint, const ChatRequest& request,
                             std::string_view upstream_model) {
  http::HttpRequest post = chatPost(endpoint, request, upstream_model);
  if (request.source_dialect == dialectOf(endpoint.kind)) {
    // The client's own headers for its dialect; what the provider's config (or the codec) set
    // stays.
    for (const auto& [name, value] : request.source_headers) {
      addHeaderUnlessSet(post.headers, name, value);
    }
  }
  return post;
}

Result<ChatResponse> decodeChat(ProviderKind kind, const http::HttpResponse& response) {
  if (kind != ProviderKind::Anthropic) {
    // The common shape without a DOM; anything unusual (or broken) takes the full path below.
    if (auto fast = openai::parseResponseText(response.body)) return std::move(*fast);
  }
  auto body = parseSuccessBody(kind, response, "chat");
  if (!body) return std::unexpected(body.error());
  auto decoded = kind == ProviderKind::Anthropic ? anthropic::parseResponse(*body)
                                                 : openai::parseResponse(*body);
  if (!decoded) {
    decoded.error().message = std::string(providerKindName(kind)) + ": " + decoded.error().message;
    decoded.error().http_status = response.status;
  }
  return decoded;
}

void keepProviderBody(ProviderKind kind, std::string&& body, ChatResponse& response) {
  response.provider_body = std::move(body);
  response.provider_dialect = dialectOf(kind);
}

std::string_view providerRequestId(const http::Headers& headers) {
  std::string_view id = http::findHeader(headers, "x-request-id");
  return id.empty() ? http::findHeader(headers, "request-id") : id;
}

Result<http::HttpRequest> encodeEmbeddings(const Endpoint& endpoint,
                                           const EmbeddingRequest& request,
                                           std::string_view upstream_model) {
  if (endpoint.kind == ProviderKind::Anthropic) {
    return fail(ErrorCode::InvalidRequest, "anthropic: embeddings are not supported");
  }
  Json body = {{"model", upstream_model}, {"input", request.input}};
  if (request.dimensions) body["dimensions"] = *request.dimensions;
  if (!request.encoding_format.empty()) body["encoding_format"] = request.encoding_format;
  if (!request.user.empty()) body["user"] = request.user;
  std::string url = endpoint.kind == ProviderKind::Azure
                        ? azureDeploymentUrl(endpoint, upstream_model, "embeddings")
                        : joinUrl(endpoint.base_url, "/embeddings");
  return jsonPost(endpoint, std::move(url), dumpJson(body), false);
}

Result<EmbeddingResponse> decodeEmbeddings(ProviderKind kind, const http::HttpResponse& response) {
  auto body = parseSuccessBody(kind, response, "embeddings");
  if (!body) return std::unexpected(body.error());
  std::string prefix = std::string(providerKindName(kind)) + ": ";
  auto data = body->find("data");
  if (!body->is_object() || data == body->end() || !data->is_array()) {
    return fail(ErrorCode::Protocol, prefix + "embeddings response has no data array");
  }
  EmbeddingResponse out;
  out.model = stringOr(*body, "model");
  std::vector<std::pair<int64_t, std::vector<float>>> rows;
  for (size_t i = 0; i < data->size(); ++i) {
    const Json& item = (*data)[i];
    std::string where = prefix + "data[" + std::to_string(i) + "].embedding";
    auto emb = item.is_object() ? item.find("embedding") : item.end();
    if (!item.is_object() || emb == item.end())
      return fail(ErrorCode::Protocol, where + ": missing");
    int64_t index = static_cast<int64_t>(i);
    if (auto idx = item.find("index"); idx != item.end() && idx->is_number_integer()) {
      index = idx->get<int64_t>();
    }
    std::vector<float> vec;
    if (emb->is_array()) {
      vec.reserve(emb->size());
      for (const auto& v : *emb) {
        if (!v.is_number()) return fail(ErrorCode::Protocol, where + ": not a number array");
        vec.push_back(v.get<float>());
      }
    } else if (emb->is_string()) {
      auto bytes = base64Decode(emb->get_ref<const std::string&>());
      if (!bytes || bytes->size() % 4 != 0) {
        return fail(ErrorCode::Protocol, where + ": bad base64 float32 data");
      }
      vec.resize(bytes->size() / 4);
      for (size_t k = 0; k < vec.size(); ++k) vec[k] = floatFromLittleEndian(bytes->data() + 4 * k);
    } else {
      return fail(ErrorCode::Protocol, where + ": unexpected type");
    }
    rows.emplace_back(index, std::move(vec));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& row : rows) out.data.push_back(std::move(row.second));
  if (auto usage = body->find("usage"); usage != body->end()) {
    out.usage = openai::parseUsage(*usage);
  }
  return out;
}

http::HttpRequest encodeHealthProbe(const Endpoint& endpoint, std::string_view path_override) {
  http::HttpRequest request;
  request.method = "GET";
  if (path_override.starts_with("http://") || path_override.starts_with("https://")) {
    request.url = std::string(path_override);
  } else if (!path_override.empty()) {
    request.url = joinUrl(endpoint.base_url, path_override);
  } else if (endpoint.kind == ProviderKind::Azure) {
    request.url = joinUrl(endpoint.base_url,
                          "/openai/models?api-version=" + percentEncode(azureVersion(endpoint)));
  } else {
    request.url = joinUrl(endpoint.base_url, "/models");
  }
  request.headers = baseHeaders(endpoint);
  request.headers.emplace_back("accept", "application/json");
  applyEndpointHeaders(endpoint, request.headers);
  return request;
}

}  // namespace llmpool::providers
