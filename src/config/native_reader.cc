#include "config/native_reader.h"

#include <algorithm>
#include <cctype>

namespace llmpool::config {

namespace {

std::string canonicalName(std::string_view name) {
  std::string out;
  for (const char c : name) {
    out += c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

void readRetry(YamlContext& ctx, const YAML::Node& node, const std::string& path,
               RetryConfig& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("max_attempts", out.max_attempts);
  m.get("initial_backoff", out.initial_backoff);
  m.get("max_backoff", out.max_backoff);
  m.get("multiplier", out.multiplier);
  m.get("max_retry_after", out.max_retry_after);
  m.get("budget_percent", out.budget_percent);
  m.get("budget_window", out.budget_window);
  m.get("budget_min_per_second", out.budget_min_per_second);
  m.finish();
}

void readBreaker(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                 CircuitBreakerConfig& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("enabled", out.enabled);
  m.get("failure_threshold", out.failure_threshold);
  m.get("failure_window", out.failure_window);
  m.get("recovery_timeout", out.recovery_timeout);
  m.get("max_repair_attempts", out.max_repair_attempts);
  m.get("failure_threshold_min_rate", out.failure_threshold_min_rate);
  m.get("failure_rate_threshold", out.failure_rate_threshold);
  m.get("minimum_requests", out.minimum_requests);
  const bool cap_set = m.get("max_recovery_timeout", out.max_recovery_timeout);
  // The cap defaults to the recovery timeout (no growth). Raising recovery_timeout alone must not
  // leave the default cap below it and turn a harmless edit into an error.
  if (!cap_set) out.max_recovery_timeout = std::max(out.max_recovery_timeout, out.recovery_timeout);
  m.finish();
}

void readHeaders(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                 std::map<std::string, std::string>& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  for (const auto& key : m.keys()) {
    // Header values may carry credentials (e.g. an organisation token): treat them as secrets.
    std::string value;
    if (m.get(key, value, /*secret=*/true)) out[key] = std::move(value);
  }
  m.finish();
}

void readProvider(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                  ProviderConfig& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("name", out.name);
  if (auto kind_node = m.take("kind")) {
    if (auto kind = ctx.text(*kind_node, m.childPath("kind"))) {
      if (auto parsed = parseProviderKind(*kind)) {
        out.kind = *parsed;
      } else {
        ctx.error(m.childPath("kind"), YamlContext::lineOf(*kind_node),
                  "unknown provider kind \"" + *kind +
                      "\" (expected openai, azure or anthropic; openai_compatible and "
                      "azure_openai are accepted too)");
      }
    }
  }
  if (m.get("base_url", out.base_url)) out.base_url = normalizeBaseUrl(out.base_url);
  m.get("api_key", out.api_key, /*secret=*/true);
  m.get("api_version", out.api_version);
  m.get("max_connections", out.max_connections);
  m.get("rpm", out.rpm);
  m.get("tpm", out.tpm);
  m.get("timeout", out.timeout);
  if (auto headers = m.take("headers"))
    readHeaders(ctx, *headers, m.childPath("headers"), out.headers);
  m.get("ca_file", out.ca_file);
  m.get("verify_tls", out.verify_tls);
  m.get("health_path", out.health_path);
  m.finish();
}

void readDeployment(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                    const std::string& alias, DeploymentConfig& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("provider", out.provider);
  // The upstream model defaults to the alias: `gpt-4o: [{provider: openai}]` means "gpt-4o there".
  if (!m.get("model", out.model)) out.model = alias;
  m.get("priority", out.priority);
  m.get("weight", out.weight);
  m.get("rpm", out.rpm);
  m.get("tpm", out.tpm);
  m.get("input_price_per_mtok", out.input_price_per_mtok);
  m.get("output_price_per_mtok", out.output_price_per_mtok);
  m.finish();
}

void readGatewayKey(YamlContext& ctx, const YAML::Node& node, const std::string& path, size_t index,
                    GatewayKey& out) {
  out.name = "key-" + std::to_string(index);
  if (node.IsScalar()) {
    if (auto key = ctx.text(node, path, /*secret=*/true)) out.key = std::move(*key);
    return;
  }
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  if (!m.has("key")) ctx.error(m.childPath("key"), m.line(), "missing \"key\"");
  m.get("key", out.key, /*secret=*/true);
  m.get("name", out.name);
  m.get("rpm", out.rpm);
  m.get("tpm", out.tpm);
  m.get("max_concurrent", out.max_concurrent);
  m.get("max_budget", out.max_budget);
  if (out.max_budget && !m.has("name")) {
    // Spend is recorded under the name; an index-based default would move with the list.
    ctx.error(m.childPath("name"), m.line(),
              "a key with max_budget needs a name (its spend is recorded under it)");
  }
  std::string period;
  if (m.get("budget_period", period)) {
    if (auto parsed = parseBudgetPeriod(period)) {
      out.budget_period = *parsed;
    } else {
      ctx.error(m.childPath("budget_period"), m.line(),
                "\"" + period + "\" is not a budget period (hour, day, week or month)");
    }
    if (!out.max_budget) {
      ctx.error(m.childPath("budget_period"), m.line(), "budget_period needs max_budget");
    }
  }
  if (auto models = m.take("models")) {
    const std::string models_path = m.childPath("models");
    if (models->IsSequence()) {
      for (size_t i = 0; i < models->size(); ++i) {
        if (auto alias = ctx.text((*models)[i], indexed(models_path, i))) {
          out.models.push_back(std::move(*alias));
        }
      }
    } else {
      ctx.error(models_path, YamlContext::lineOf(*models), "expected a list of model aliases");
    }
  }
  m.finish();
}

}  // namespace

std::optional<ProviderKind> parseProviderKind(std::string_view name) {
  const std::string n = canonicalName(name);
  if (n == "openai" || n == "openai_compatible") return ProviderKind::OpenAI;
  if (n == "azure" || n == "azure_openai") return ProviderKind::Azure;
  if (n == "anthropic") return ProviderKind::Anthropic;
  return std::nullopt;
}

std::optional<OverflowPolicy> parseOverflowPolicy(std::string_view name) {
  if (name == "block") return OverflowPolicy::Block;
  if (name == "reject") return OverflowPolicy::Reject;
  if (name == "drop_lowest") return OverflowPolicy::DropLowest;
  return std::nullopt;
}

std::optional<BalancingStrategy> parseStrategy(std::string_view name) {
  if (name == "weighted") return BalancingStrategy::Weighted;
  if (name == "least_in_flight") return BalancingStrategy::LeastInFlight;
  if (name == "lowest_latency") return BalancingStrategy::LowestLatency;
  return std::nullopt;
}

std::optional<BudgetPeriod> parseBudgetPeriod(std::string_view name) {
  if (name == "hour") return BudgetPeriod::Hour;
  if (name == "day") return BudgetPeriod::Day;
  if (name == "week") return BudgetPeriod::Week;
  if (name == "month") return BudgetPeriod::Month;
  return std::nullopt;
}

std::string normalizeBaseUrl(std::string url) {
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

void readPoolSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                     PoolSettings& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("max_concurrent_requests", out.max_concurrent_requests);
  m.get("max_queue", out.max_queue);
  m.get("acquire_timeout", out.acquire_timeout);
  m.get("request_timeout", out.request_timeout);
  m.get("deadline", out.deadline);
  m.get("connect_timeout", out.connect_timeout);
  m.get("ttft_timeout", out.ttft_timeout);
  m.get("stream_idle_timeout", out.stream_idle_timeout);
  m.get("max_connections_per_provider", out.max_connections_per_provider);
  m.getBytes("max_response_bytes", out.max_response_bytes);
  m.get("connection_idle_timeout", out.connection_idle_timeout);
  m.get("connection_max_lifetime", out.connection_max_lifetime);
  m.get("warm_connections", out.warm_connections);
  m.get("health_check_interval", out.health_check_interval);
  m.get("health_checks", out.health_checks);
  m.get("failover", out.failover);
  m.get("panic_mode", out.panic_mode);
  if (auto node_strategy = m.take("strategy")) {
    if (auto name = ctx.text(*node_strategy, m.childPath("strategy"))) {
      if (auto strategy = parseStrategy(*name)) {
        out.strategy = *strategy;
      } else {
        ctx.error(m.childPath("strategy"), YamlContext::lineOf(*node_strategy),
                  "unknown strategy \"" + *name +
                      "\" (expected weighted, least_in_flight or lowest_latency)");
      }
    }
  }
  m.get("io_threads", out.io_threads);
  m.get("native_http1", out.native_http1);
  if (auto retry = m.take("retry")) readRetry(ctx, *retry, m.childPath("retry"), out.retry);
  if (auto breaker = m.take("circuit_breaker")) {
    readBreaker(ctx, *breaker, m.childPath("circuit_breaker"), out.circuit_breaker);
  }
  m.finish();
}

void readProvidersSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                          std::vector<ProviderConfig>& out) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    ctx.error(path, YamlContext::lineOf(node),
              "expected a list of providers (- name: ..., kind: ..., base_url: ...)");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = indexed(path, i);
    ctx.sourceMap().set(item_path, YamlContext::lineOf(node[i]));
    ProviderConfig provider;
    readProvider(ctx, node[i], item_path, provider);
    out.push_back(std::move(provider));
  }
}

void readModelsSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                       std::map<std::string, std::vector<DeploymentConfig>>& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  for (const auto& alias : m.keys()) {
    auto list = m.take(alias);
    const std::string alias_path = m.childPath(alias);
    auto& deployments = out[alias];
    if (list->IsMap()) {  // a single deployment may be written without the list
      DeploymentConfig d;
      readDeployment(ctx, *list, alias_path + "[0]", alias, d);
      ctx.sourceMap().set(alias_path + "[0]", YamlContext::lineOf(*list));
      deployments.push_back(std::move(d));
      continue;
    }
    if (list->IsNull()) continue;  // validation reports the empty alias
    if (!list->IsSequence()) {
      ctx.error(alias_path, YamlContext::lineOf(*list),
                "expected a list of deployments (- provider: ..., model: ...)");
      continue;
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string item_path = indexed(alias_path, i);
      ctx.sourceMap().set(item_path, YamlContext::lineOf((*list)[i]));
      DeploymentConfig d;
      readDeployment(ctx, (*list)[i], item_path, alias, d);
      deployments.push_back(std::move(d));
    }
  }
  m.finish();
}

void readProcessorSection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                          ProcessorConfig& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("queue", out.queue);
  m.get("concurrency", out.concurrency);
  m.get("max_queue", out.max_queue);
  m.get("max_task_attempts", out.max_task_attempts);
  m.get("task_timeout", out.task_timeout);
  if (auto node_overflow = m.take("overflow")) {
    if (auto name = ctx.text(*node_overflow, m.childPath("overflow"))) {
      if (auto policy = parseOverflowPolicy(*name)) {
        out.overflow = *policy;
      } else {
        ctx.error(
            m.childPath("overflow"), YamlContext::lineOf(*node_overflow),
            "unknown overflow policy \"" + *name + "\" (expected block, reject or drop_lowest)");
      }
    }
  }
  m.get("block_timeout", out.block_timeout);
  m.get("aging_after", out.aging_after);
  m.get("retry_backoff", out.retry_backoff);
  m.get("max_retry_backoff", out.max_retry_backoff);
  m.get("results_buffer", out.results_buffer);
  m.finish();
}

void readGatewayCache(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                      GatewayCacheConfig& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("ttl", out.ttl);
  int entries = static_cast<int>(out.max_entries);
  if (m.get("max_entries", entries)) out.max_entries = static_cast<size_t>(std::max(entries, 0));
  m.getBytes("max_bytes", out.max_bytes);
  m.finish();
}

void readGatewaySection(YamlContext& ctx, const YAML::Node& node, const std::string& path,
                        GatewayConfig& out) {
  MapReader m(ctx, node, path);
  if (!m.isMap()) return;
  m.get("listen", out.listen);
  if (auto keys = m.take("keys")) {
    const std::string keys_path = m.childPath("keys");
    if (keys->IsSequence()) {
      for (size_t i = 0; i < keys->size(); ++i) {
        const std::string item_path = indexed(keys_path, i);
        ctx.sourceMap().set(item_path, YamlContext::lineOf((*keys)[i]));
        GatewayKey key;
        readGatewayKey(ctx, (*keys)[i], item_path, i, key);
        out.keys.push_back(std::move(key));
      }
    } else if (!keys->IsNull()) {
      ctx.error(keys_path, YamlContext::lineOf(*keys),
                "expected a list of keys (strings or {key, name, rpm, max_concurrent, models})");
    }
  }
  m.getBytes("max_body_bytes", out.max_body_bytes);
  m.getBytes("max_buffered_bytes", out.max_buffered_bytes);
  m.get("read_timeout", out.read_timeout);
  m.get("shutdown_grace", out.shutdown_grace);
  m.get("max_connections", out.max_connections);
  m.get("threads", out.threads);
  m.get("thread_slice_us", out.thread_slice_us);
  m.get("log_level", out.log_level);
  m.getBytes("max_header_bytes", out.max_header_bytes);
  m.get("write_timeout", out.write_timeout);
  m.get("allow_unauthenticated", out.allow_unauthenticated);
  m.get("state_file", out.state_file);
  if (auto cache = m.take("cache")) readGatewayCache(ctx, *cache, m.childPath("cache"), out.cache);
  m.finish();
}

}  // namespace llmpool::config
