#pragma once
// The mock's model endpoints. Paths are accepted with or without the /v1 prefix (so both
// http://host:port and http://host:port/v1 work as a base URL) and reported canonically.

#include <cstddef>
#include <optional>
#include <string_view>

namespace llmpool::mock {

enum class Endpoint { ChatCompletions, Messages, Embeddings, Models };
inline constexpr std::size_t EndpointCount = 4;

/** The model endpoint a request path names (query string excluded), if any. */
std::optional<Endpoint> endpointForPath(std::string_view path);

/** "/v1/chat/completions" etc. */
std::string_view canonicalPath(Endpoint endpoint);

/** True when errors are in Anthropic's shape ({"type":"error",...}). */
inline bool isAnthropic(Endpoint endpoint) { return endpoint == Endpoint::Messages; }

}  // namespace llmpool::mock
