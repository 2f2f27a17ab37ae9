#pragma once
// What a reload changes, in words (logged on SIGHUP): added/removed/changed providers and
// aliases, pool settings, gateway keys, and the settings that only a restart can apply.

#include <string>
#include <vector>

#include "llmpool/config.h"

namespace llmpool::gateway {

struct ConfigDiff {
  std::vector<std::string> changes;           // "provider added: x", "alias changed: chat", ...
  std::vector<std::string> restart_required;  // "gateway.listen", "gateway.threads", ...
  bool empty() const { return changes.empty() && restart_required.empty(); }
  /** "provider added: x; alias removed: y" or "no changes". */
  std::string summary() const;
};

/** Compares two configs. Secrets are compared, never shown. */
ConfigDiff diffConfigs(const PoolConfig& before, const PoolConfig& after);

}  // namespace llmpool::gateway
