#include "config/config_loader.h"

#include "providers/endpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "config/litellm_import.h"
#include "config/native_reader.h"
#include "config/validate.h"
#include "config/yaml_reader.h"

namespace llmpool::config {

namespace {

void readNative(YamlContext& ctx, const YAML::Node& root, PoolConfig& out) {
  MapReader top(ctx, root, "");
  if (!top.isMap()) return;
  // Providers before models is not required: cross-references are checked after reading.
  if (auto s = top.take("pool")) readPoolSection(ctx, *s, "pool", out.pool);
  if (auto s = top.take("providers")) readProvidersSection(ctx, *s, "providers", out.providers);
  if (auto s = top.take("models")) readModelsSection(ctx, *s, "models", out.models);
  if (auto s = top.take("processor")) readProcessorSection(ctx, *s, "processor", out.processor);
  if (auto s = top.take("gateway")) readGatewaySection(ctx, *s, "gateway", out.gateway);
  top.finish();
}

// Validation runs even when reading found problems, so one run shows everything; but a field that
// already failed to read must not be reported a second time as "required" or "out of range".
void dropRepeats(ConfigDiagnostics& diags, size_t first_validation_item) {
  std::vector<std::string> read_error_paths;
  for (size_t i = 0; i < first_validation_item; ++i) {
    if (!diags.items[i].is_warning) read_error_paths.push_back(diags.items[i].path);
  }
  auto repeated = [&](const ConfigDiagnostic& d) {
    return std::any_of(read_error_paths.begin(), read_error_paths.end(),
                       [&](const std::string& p) { return !p.empty() && d.path == p; });
  };
  diags.items.erase(std::remove_if(diags.items.begin() + static_cast<long>(first_validation_item),
                                   diags.items.end(), repeated),
                    diags.items.end());
}

}  // namespace

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<PoolConfig> parseConfig(std::string_view yaml_text, std::string_view source_name,
                               ConfigDiagnostics* diags) {
  return parseConfig(yaml_text, source_name, diags, processEnvironment());
}

PoolSettings defaultPoolSettings(ConfigDefaults defaults) {
  PoolSettings s;
  if (defaults == ConfigDefaults::Gateway) {
    constexpr int kGatewayLimit = 1024;
    s.max_concurrent_requests = kGatewayLimit;
    s.max_connections_per_provider = kGatewayLimit;
  }
  return s;
}

Result<PoolConfig> parseConfig(std::string_view yaml_text, std::string_view source_name,
                               ConfigDiagnostics* diags_out, const EnvLookup& env,
                               ConfigDefaults defaults) {
  ConfigDiagnostics local;
  ConfigDiagnostics& diags = diags_out ? *diags_out : local;
  diags.source = std::string(source_name);
  const size_t first_item = diags.items.size();

  YAML::Node loaded;
  try {
    loaded = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    diags.error("", line, "YAML syntax error: " + e.msg);
    return fail(ErrorCode::InvalidConfig, diags.joinedErrors());
  }

  // Const from here on: a non-const operator[] on a yaml-cpp map adds undefined entries.
  const YAML::Node& root = loaded;
  PoolConfig config;
  config.pool = defaultPoolSettings(defaults);  // the document overrides what it sets
  SourceMap map;
  if (!root.IsDefined() || root.IsNull()) {
    diags.error("", 0, "the document is empty (expected pool, providers and models sections)");
    return fail(ErrorCode::InvalidConfig, diags.joinedErrors());
  }
  if (!root.IsMap()) {
    diags.error("", YamlContext::lineOf(root),
                "expected a mapping at the top (pool:, providers:, models:, ...)");
    return fail(ErrorCode::InvalidConfig, diags.joinedErrors());
  }

  try {
    if (isLiteLlmDocument(root)) {
      if (root["models"].IsDefined() || root["providers"].IsDefined()) {
        diags.error("model_list", YamlContext::lineOf(root["model_list"]),
                    "a document is either native (providers/models) or LiteLLM (model_list), "
                    "not both");
        return fail(ErrorCode::InvalidConfig, diags.joinedErrors());
      }
      const EnvLookup layered = liteLlmEnvironment(root, env);
      YamlContext ctx(diags, map, layered);
      importLiteLlm(ctx, root, config);
    } else {
      YamlContext ctx(diags, map, env);
      readNative(ctx, root, config);
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed documents only when nodes are visited.
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    diags.error("", line, "YAML error: " + e.msg);
  }

  const size_t validation_start = diags.items.size();
  validateConfig(config, diags, &map);
  dropRepeats(diags, validation_start);

  // Report in file order: what a reader fixes top to bottom. Unknown lines go last.
  std::stable_sort(diags.items.begin() + static_cast<long>(first_item), diags.items.end(),
                   [](const ConfigDiagnostic& a, const ConfigDiagnostic& b) {
                     const int la = a.line > 0 ? a.line : std::numeric_limits<int>::max();
                     const int lb = b.line > 0 ? b.line : std::numeric_limits<int>::max();
                     return la < lb;
                   });
  if (diags.hasErrors()) return fail(ErrorCode::InvalidConfig, diags.joinedErrors());
  return config;
}

Result<PoolConfig> loadConfigFile(const std::string& path, ConfigDiagnostics* diags,
                                  ConfigDefaults defaults) {
  ConfigDiagnostics local;
  ConfigDiagnostics& d = diags ? *diags : local;
  d.source = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    d.error("", 0, "is a directory, not a config file");
    return fail(ErrorCode::InvalidConfig, "cannot read config file " + path + ": is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string why = std::strerror(errno);
    d.error("", 0, "cannot read config file: " + why);
    return fail(ErrorCode::InvalidConfig, "cannot read config file " + path + ": " + why);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    d.error("", 0, "cannot read config file");
    return fail(ErrorCode::InvalidConfig, "cannot read config file " + path);
  }
  return parseConfig(text.str(), path, &d, processEnvironment(), defaults);
}

std::string_view providerKindName(ProviderKind kind) {
  return providers::providerKindName(kind);  // one spelling for config, logs and codecs
}

std::string_view strategyName(BalancingStrategy strategy) {
  switch (strategy) {
    case BalancingStrategy::Weighted:
      return "weighted";
    case BalancingStrategy::LeastInFlight:
      return "least_in_flight";
    case BalancingStrategy::LowestLatency:
      return "lowest_latency";
  }
  return "unknown";
}

std::string_view budgetPeriodName(BudgetPeriod period) {
  switch (period) {
    case BudgetPeriod::None:
      return "";
    case BudgetPeriod::Hour:
      return "hour";
    case BudgetPeriod::Day:
      return "day";
    case BudgetPeriod::Week:
      return "week";
    case BudgetPeriod::Month:
      return "month";
  }
  return "";
}

}  // namespace llmpool::config
