#pragma once
// Readers for the sections of the native document. Each reads only the keys present (so a caller
// may layer one document over defaults or over an imported config) and reports what is malformed;
// range and cross-reference rules live in validate.cc.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>

#include "config/yaml_reader.h"
#include "llmpool/config.h"

namespace llmpool::config {

void readPoolSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                     PoolSettings& out);
void readProvidersSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                          std::vector<ProviderConfig>& out);
void readModelsSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                       std::map<std::string, std::vector<DeploymentConfig>>& out);
void readProcessorSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                          ProcessorConfig& out);
void readGatewaySection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                        GatewayConfig& out);

/** Accepts the documented names and aliases (openai_compatible, azure_openai, ...). */
std::optional<ProviderKind> parseProviderKind(std::string_view name);
std::optional<BalancingStrategy> parseStrategy(std::string_view name);
std::optional<OverflowPolicy> parseOverflowPolicy(std::string_view name);
std::optional<BudgetPeriod> parseBudgetPeriod(std::string_view name);

/** Drops trailing slashes so that paths can be appended uniformly. */
std::string normalizeBaseUrl(std::string url);

}  // namespace llmpool::config
