#pragma once
// Import of a LiteLLM proxy config.yaml (model_list, router_settings, litellm_settings,
// general_settings, environment_variables) into the native structs. Settings with an llmpool
// equivalent are mapped (docs/config.md has the table); the rest become warnings naming the key.

#include <yaml-cpp/yaml.h>

#include "config/yaml_reader.h"
#include "llmpool/config.h"

namespace llmpool::config {

/** True when the document looks like a LiteLLM proxy config (it has `model_list`). */
bool isLiteLlmDocument(const YAML::Node& root);

/** Maps `root` onto `out` (which holds defaults). Native `pool`, `processor` and `gateway`
 *  sections, when present, are read afterwards and override what was mapped. */
void importLiteLlm(YamlContext& ctx, const YAML::Node& root, PoolConfig& out);

/** The `environment_variables` section as a lookup that falls back to `base` (LiteLLM exports
 *  these into its process environment, so they win over the real environment). */
EnvLookup liteLlmEnvironment(const YAML::Node& root, EnvLookup base);

}  // namespace llmpool::config
