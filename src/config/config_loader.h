#pragma once
// Loading and validating the YAML configuration (docs/config.md). Two document shapes are accepted:
// the native one (`pool`, `providers`, `models`, `processor`, `gateway`) and a LiteLLM proxy
// config.yaml (`model_list`, `router_settings`, ...), which is mapped onto the native structs.
// Every problem is collected before anything fails, each with its path and, when known, its line.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmpool/config.h"
#include "llmpool/error.h"

namespace llmpool::config {

/** One validation finding. `line` is 1-based; 0 when the position is unknown. */
struct ConfigDiagnostic {
  std::string path;  // e.g. "models.gpt-4o[1].provider"; empty for document-level problems
  int line = 0;
  std::string message;  // never contains the value of a secret
  bool is_warning = false;
};

/** Every finding of one load, in document order of discovery. */
struct ConfigDiagnostics {
  std::string source;  // file name used in messages ("config.yaml")
  std::vector<ConfigDiagnostic> items;

  void error(std::string path, int line, std::string message);
  void warning(std::string path, int line, std::string message);
  bool hasErrors() const;
  size_t errorCount() const;
  size_t warningCount() const;
  /** `source:line: path: message` (errors) or `source:line: warning: path: message`. */
  std::string format(const ConfigDiagnostic& d) const;
  /** Every error, formatted, one per line (no trailing newline). */
  std::string joinedErrors() const;
};

/** Resolves an environment variable; nullopt when it is not set. */
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/** The process environment (getenv). */
EnvLookup processEnvironment();

/**
 * Which defaults fill what a document leaves out. The library's are the seed's (docs/config.md).
 * `llmpool serve` sits in front of many clients, where 10 requests in flight and 5 connections
 * per provider would be the bottleneck: there, unset, both are 1024 (Envoy's cluster defaults for
 * connections, pending and active requests).
 */
enum class ConfigDefaults { Library, Gateway };

/** The pool settings `defaults` starts from, before the document is read. */
PoolSettings defaultPoolSettings(ConfigDefaults defaults);

/**
 * Parses and validates a configuration document.
 * @param yaml_text    the document
 * @param source_name  shown in messages, usually the file name
 * @param diags        optional; receives every error and warning with path and line
 * @return the config with defaults filled in, or an InvalidConfig Error whose message lists every
 *         error, one per line, formatted as `source:line: path: message`.
 * Thread-safe (no shared state); reads the environment through `env` only.
 */
Result<PoolConfig> parseConfig(std::string_view yaml_text, std::string_view source_name,
                               ConfigDiagnostics* diags);
Result<PoolConfig> parseConfig(std::string_view yaml_text, std::string_view source_name,
                               ConfigDiagnostics* diags, const EnvLookup& env,
                               ConfigDefaults defaults = ConfigDefaults::Library);

/** Reads `path` and parses it; an unreadable file is one InvalidConfig error naming the file. */
Result<PoolConfig> loadConfigFile(const std::string& path, ConfigDiagnostics* diags,
                                  ConfigDefaults defaults = ConfigDefaults::Library);

/**
 * Checks the semantic rules (ranges, references, enums) of a config however it was built, e.g. in
 * code. parseConfig already runs it. Appends to `diags`; returns true when no error was found.
 */
bool validateConfig(const PoolConfig& config, ConfigDiagnostics& diags);

/** A readable routing table: alias, tier, deployment, weight, provider kind and base URL, whether
 *  a key is set (never the key), and limits. */
std::string describeRoutingTable(const PoolConfig& config);

/** A few lines summarising the effective pool, retry and breaker settings. */
std::string describeSettings(const PoolConfig& config);

/** Stable names used in YAML and messages. */
std::string_view providerKindName(ProviderKind kind);
std::string_view strategyName(BalancingStrategy strategy);
/** "hour", "day", "week", "month", or "" for BudgetPeriod::None. */
std::string_view budgetPeriodName(BudgetPeriod period);

}  // namespace llmpool::config
