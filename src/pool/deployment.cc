#include "pool/deployment.h"

namespace llmpool::pool {

Deployment::Deployment(std::string name_, const ProviderConfig& provider_, DeploymentConfig config_,
                       const CircuitBreakerConfig& breaker_config)
    : name(std::move(name_)),
      provider(provider_),
      config(std::move(config_)),
      endpoint(providers::Endpoint::fromConfig(provider_)),
      breaker(breaker_config) {
  // Provider rate limits (OpenAI's, Anthropic's) are per model, so each deployment gets its own
  // buckets; a deployment's own rpm/tpm wins over its provider's.
  const auto rpm = config.rpm ? config.rpm : provider.rpm;
  const auto tpm = config.tpm ? config.tpm : provider.tpm;
  if (rpm || tpm) limiter = std::make_unique<resilience::RateLimiter>(rpm, tpm);
}

}  // namespace llmpool::pool
