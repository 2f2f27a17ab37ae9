// Alias patterns: one alias for many upstream models ("openai/*" -> provider openai, model "*"),
// so a gateway in front of a provider need not list every model it offers. Only a trailing '*'
// is a pattern: it keeps matching unambiguous (longest prefix wins) and cheap.
#include "llmpool/config.h"

namespace llmpool {

bool isAliasPattern(std::string_view alias) {
  return !alias.empty() && alias.back() == '*' && alias.find('*') == alias.size() - 1;
}

std::optional<std::string_view> matchAliasPattern(std::string_view pattern,
                                                  std::string_view model) {
  if (!isAliasPattern(pattern)) return std::nullopt;
  const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
  if (model.size() <= prefix.size() || !model.starts_with(prefix)) return std::nullopt;
  return model.substr(prefix.size());
}

bool aliasMatches(std::string_view alias, std::string_view model) {
  return alias == model || matchAliasPattern(alias, model).has_value();
}

std::string upstreamModelName(std::string_view deployment_model, std::string_view matched) {
  const size_t star = deployment_model.find('*');
  if (star == std::string_view::npos) return std::string(deployment_model);
  std::string out(deployment_model.substr(0, star));
  out += matched;
  out += deployment_model.substr(star + 1);
  return out;
}

const std::vector<DeploymentConfig>* PoolConfig::findRoute(std::string_view model,
                                                           std::string_view* matched) const {
  if (matched) *matched = {};
  if (auto it = models.find(std::string(model)); it != models.end()) return &it->second;
  const std::vector<DeploymentConfig>* best = nullptr;
  size_t best_prefix = 0;
  for (const auto& [alias, deployments] : models) {
    auto m = matchAliasPattern(alias, model);
    if (!m) continue;
    const size_t prefix = alias.size() - 1;
    if (!best || prefix > best_prefix) {
      best = &deployments;
      best_prefix = prefix;
      if (matched) *matched = *m;
    }
  }
  return best;
}

}  // namespace llmpool
