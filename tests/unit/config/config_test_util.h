#pragma once
// Helpers shared by the config tests: a scripted environment and diagnostic lookups.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "config/config_loader.h"

namespace llmpool::config::testing {

inline EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    if (auto it = vars.find(name); it != vars.end()) return it->second;
    return std::nullopt;
  };
}

/** The first diagnostic with exactly this path, or nullptr. */
inline const ConfigDiagnostic* findDiag(const ConfigDiagnostics& diags, const std::string& path) {
  for (const auto& d : diags.items) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

/** Everything formatted, for failure messages. */
inline std::string dump(const ConfigDiagnostics& diags) {
  std::string out;
  for (const auto& d : diags.items) out += diags.format(d) + "\n";
  return out;
}

/** Parses with an empty environment unless one is given. */
inline Result<PoolConfig> parse(const std::string& yaml, ConfigDiagnostics& diags,
                                std::map<std::string, std::string> env = {}) {
  return parseConfig(yaml, "config.yaml", &diags, fakeEnv(std::move(env)));
}

/** A minimal valid native document to which tests append sections. */
inline std::string minimalProviders() {
  return "providers:\n"
         "  - {name: openai, kind: openai, base_url: \"https://api.openai.com/v1\"}\n"
         "models:\n"
         "  gpt-4o:\n"
         "    - {provider: openai, model: gpt-4o}\n";
}

}  // namespace llmpool::config::testing
