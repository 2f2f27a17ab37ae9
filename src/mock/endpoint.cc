#include "mock/endpoint.h"

namespace llmpool::mock {

std::optional<Endpoint> endpointForPath(std::string_view path) {
  if (path.starts_with("/v1/")) path.remove_prefix(3);
  if (path == "/chat/completions") return Endpoint::ChatCompletions;
  if (path == "/messages") return Endpoint::Messages;
  if (path == "/embeddings") return Endpoint::Embeddings;
  if (path == "/models") return Endpoint::Models;
  return std::nullopt;
}

std::string_view canonicalPath(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::ChatCompletions:
      return "/v1/chat/completions";
    case Endpoint::Messages:
      return "/v1/messages";
    case Endpoint::Embeddings:
      return "/v1/embeddings";
    case Endpoint::Models:
      return "/v1/models";
  }
  return "";
}

}  // namespace llmpool::mock
