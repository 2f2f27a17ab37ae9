#pragma once
// Where and how to reach one provider: everything a codec needs to build a wire request.

#include <map>
#include <string>

#include "llmpool/config.h"

namespace llmpool::providers {

struct Endpoint {
  ProviderKind kind = ProviderKind::OpenAI;
  std::string base_url;     // e.g. https://api.openai.com/v1; Azure: https://NAME.openai.azure.com
  std::string api_key;      // only ever written into its auth header
  std::string api_version;  // Azure api-version; Anthropic anthropic-version (defaults below)
  std::map<std::string, std::string> headers;  // extra headers; they replace same-named defaults

  /** Builds an endpoint from a provider's configuration. */
  static Endpoint fromConfig(const ProviderConfig& config) {
    return Endpoint{config.kind, config.base_url, config.api_key, config.api_version,
                    config.headers};
  }
};

inline constexpr const char* DefaultAnthropicVersion = "2023-06-01";
inline constexpr const char* DefaultAzureApiVersion = "2024-10-21";
/** Anthropic requires max_tokens; used when the request does not set one. */
inline constexpr int64_t DefaultAnthropicMaxTokens = 4096;

/** Stable lower-case name of a provider kind: "openai", "azure", "anthropic". */
inline const char* providerKindName(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::OpenAI:
      return "openai";
    case ProviderKind::Azure:
      return "azure";
    case ProviderKind::Anthropic:
      return "anthropic";
  }
  return "unknown";
}

}  // namespace llmpool::providers
