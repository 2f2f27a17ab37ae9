#include "config/validate.h"

#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>

namespace llmpool::config {

namespace {

class Reporter {
 public:
  Reporter(ConfigDiagnostics& diags, const SourceMap* map) : diags_(diags), map_(map) {}
  void error(const std::string& path, std::string message) { add(path, std::move(message), false); }
  void warning(const std::string& path, std::string message) {
    add(path, std::move(message), true);
  }
  bool clean() const { return errors_ == 0; }

 private:
  void add(const std::string& path, std::string message, bool warning) {
    const int line = map_ ? map_->find(path).line : 0;
    std::string shown = map_ ? map_->display(path) : path;
    if (warning) {
      diags_.warning(std::move(shown), line, std::move(message));
    } else {
      ++errors_;
      diags_.error(std::move(shown), line, std::move(message));
    }
  }
  ConfigDiagnostics& diags_;
  const SourceMap* map_;
  int errors_ = 0;
};

std::string str(double v) {
  std::string s = std::to_string(v);
  while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
    const bool dot = s.back() == '.';
    s.pop_back();
    if (dot) break;
  }
  return s;
}

bool hasControlOrSpace(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

bool isNameChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.';
}

// Header names are RFC 9110 tokens.
bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

// http(s)://host[:port][/path]: the host must be present.
std::optional<std::string> checkUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return "must start with http:// or https://";
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "has no host";
  if (hasControlOrSpace(url)) return "contains spaces or control characters";
  if (url.find_first_of("?#") != std::string_view::npos) {
    return "must not carry a query or fragment (the path is appended to it)";
  }
  return std::nullopt;
}

void checkDurationPositive(Reporter& r, const std::string& path, Millis value) {
  if (value <= Millis{0}) r.error(path, "must be greater than 0");
}

void checkDurationNonNegative(Reporter& r, const std::string& path, Millis value) {
  if (value < Millis{0}) r.error(path, "must not be negative");
}

void validatePool(Reporter& r, const PoolSettings& p) {
  if (p.max_concurrent_requests < 1) r.error("pool.max_concurrent_requests", "must be at least 1");
  if (p.max_queue < 0) r.error("pool.max_queue", "must not be negative");
  checkDurationNonNegative(r, "pool.acquire_timeout", p.acquire_timeout);
  checkDurationPositive(r, "pool.request_timeout", p.request_timeout);
  checkDurationPositive(r, "pool.deadline", p.deadline);
  checkDurationPositive(r, "pool.connect_timeout", p.connect_timeout);
  checkDurationNonNegative(r, "pool.ttft_timeout", p.ttft_timeout);
  checkDurationNonNegative(r, "pool.stream_idle_timeout", p.stream_idle_timeout);
  if (p.max_connections_per_provider < 1) {
    r.error("pool.max_connections_per_provider", "must be at least 1");
  }
  if (p.max_response_bytes < 1024) r.error("pool.max_response_bytes", "must be at least 1KiB");
  checkDurationNonNegative(r, "pool.connection_idle_timeout", p.connection_idle_timeout);
  checkDurationNonNegative(r, "pool.connection_max_lifetime", p.connection_max_lifetime);
  if (p.warm_connections < 0) {
    r.error("pool.warm_connections", "must not be negative");
  } else if (p.warm_connections > p.max_connections_per_provider) {
    r.warning("pool.warm_connections", "is larger than max_connections_per_provider; at most " +
                                           std::to_string(p.max_connections_per_provider) +
                                           " are opened");
  }
  if (p.health_checks)
    checkDurationPositive(r, "pool.health_check_interval", p.health_check_interval);
  if (p.io_threads < 0 || p.io_threads > 64) {
    r.error("pool.io_threads", "must be between 1 and 64, or 0 for automatic");
  }
  if (p.request_timeout > p.deadline && p.deadline > Millis{0}) {
    r.warning("pool.request_timeout",
              "is longer than pool.deadline; every attempt is cut at the deadline");
  }

  const RetryConfig& rt = p.retry;
  if (rt.max_attempts < 1)
    r.error("pool.retry.max_attempts", "must be at least 1 (1 = no retries)");
  checkDurationNonNegative(r, "pool.retry.initial_backoff", rt.initial_backoff);
  checkDurationNonNegative(r, "pool.retry.max_backoff", rt.max_backoff);
  if (rt.max_backoff < rt.initial_backoff) {
    r.error("pool.retry.max_backoff", "must not be shorter than initial_backoff");
  }
  if (!(rt.multiplier >= 1.0) || !std::isfinite(rt.multiplier)) {
    r.error("pool.retry.multiplier", "must be at least 1.0");
  }
  checkDurationNonNegative(r, "pool.retry.max_retry_after", rt.max_retry_after);
  if (!(rt.budget_percent >= 0.0 && rt.budget_percent <= 100.0)) {
    r.error("pool.retry.budget_percent", "must be between 0 and 100");
  }
  checkDurationPositive(r, "pool.retry.budget_window", rt.budget_window);
  if (!(rt.budget_min_per_second >= 0.0)) {
    r.error("pool.retry.budget_min_per_second", "must not be negative");
  }

  const CircuitBreakerConfig& cb = p.circuit_breaker;
  if (cb.failure_threshold < 1)
    r.error("pool.circuit_breaker.failure_threshold", "must be at least 1");
  checkDurationPositive(r, "pool.circuit_breaker.failure_window", cb.failure_window);
  checkDurationPositive(r, "pool.circuit_breaker.recovery_timeout", cb.recovery_timeout);
  if (cb.max_repair_attempts < 1) {
    r.error("pool.circuit_breaker.max_repair_attempts", "must be at least 1");
  }
  if (!(cb.failure_threshold_min_rate >= 0.0 && cb.failure_threshold_min_rate <= 100.0)) {
    r.error("pool.circuit_breaker.failure_threshold_min_rate", "must be between 0 (off) and 100");
  }
  if (!(cb.failure_rate_threshold >= 0.0 && cb.failure_rate_threshold <= 100.0)) {
    r.error("pool.circuit_breaker.failure_rate_threshold", "must be between 0 (off) and 100");
  }
  if (cb.minimum_requests < 1)
    r.error("pool.circuit_breaker.minimum_requests", "must be at least 1");
  if (cb.max_recovery_timeout < cb.recovery_timeout) {
    r.error("pool.circuit_breaker.max_recovery_timeout",
            "must not be shorter than recovery_timeout");
  }
}

void validateLimit(Reporter& r, const std::string& path, const std::optional<double>& value) {
  if (value && !(*value > 0.0 && std::isfinite(*value))) r.error(path, "must be greater than 0");
}

void validateProviders(Reporter& r, const PoolConfig& c) {
  std::set<std::string> names;
  for (size_t i = 0; i < c.providers.size(); ++i) {
    const ProviderConfig& p = c.providers[i];
    const std::string path = "providers[" + std::to_string(i) + "]";
    if (p.name.empty()) {
      r.error(path + ".name", "is required");
    } else if (!std::all_of(p.name.begin(), p.name.end(), isNameChar)) {
      r.error(path + ".name", "\"" + p.name + "\" may only use letters, digits, '-', '_' and '.'");
    } else if (!names.insert(p.name).second) {
      r.error(path + ".name", "duplicate provider name \"" + p.name + "\"");
    }
    if (p.base_url.empty()) {
      r.error(path + ".base_url", "is required (e.g. https://api.openai.com/v1)");
    } else if (auto problem = checkUrl(p.base_url)) {
      r.error(path + ".base_url", "\"" + p.base_url + "\" " + *problem);
    }
    // Keys go into a header verbatim: whitespace or a newline would corrupt the request.
    if (hasControlOrSpace(p.api_key)) {
      r.error(path + ".api_key", "contains spaces or control characters");
    }
    if (p.max_connections && *p.max_connections < 1) {
      r.error(path + ".max_connections", "must be at least 1");
    }
    validateLimit(r, path + ".rpm", p.rpm);
    validateLimit(r, path + ".tpm", p.tpm);
    if (p.timeout) checkDurationPositive(r, path + ".timeout", *p.timeout);
    for (const auto& [name, value] : p.headers) {
      if (!isToken(name)) r.error(path + ".headers." + name, "is not a valid header name");
      if (value.find_first_of("\r\n") != std::string::npos) {
        r.error(path + ".headers." + name, "value contains a line break");
      }
    }
    if (!p.ca_file.empty() && !std::filesystem::exists(p.ca_file)) {
      r.error(path + ".ca_file", "file \"" + p.ca_file + "\" does not exist");
    }
    if (!p.health_path.empty() && p.health_path.front() != '/') {
      r.error(path + ".health_path", "must start with '/'");
    }
    if (p.kind == ProviderKind::Azure && p.api_version.empty()) {
      r.error(path + ".api_version", "is required for azure providers (e.g. \"2024-06-01\")");
    }
    if (!p.verify_tls) r.warning(path + ".verify_tls", "TLS certificates are not verified");
  }
}

void validateModels(Reporter& r, const PoolConfig& c) {
  if (c.models.empty()) r.error("models", "no model aliases are defined");
  std::set<std::string> used;
  std::set<std::string, std::less<>> provider_names;
  for (const auto& p : c.providers) provider_names.insert(p.name);
  for (const auto& [alias, deployments] : c.models) {
    const std::string alias_path = "models." + alias;
    if (alias.empty()) r.error(alias_path, "alias must not be empty");
    const bool pattern = isAliasPattern(alias);
    if (!pattern && alias.find('*') != std::string::npos) {
      r.error(alias_path,
              "a '*' may only end an alias, once (a pattern such as \"openai/*\" or \"*\")");
    }
    if (deployments.empty()) {
      r.error(alias_path, "needs at least one deployment");
      continue;
    }
    std::set<std::tuple<std::string, std::string, int>> seen;
    for (size_t i = 0; i < deployments.size(); ++i) {
      const DeploymentConfig& d = deployments[i];
      const std::string path = alias_path + "[" + std::to_string(i) + "]";
      if (d.provider.empty()) {
        r.error(path + ".provider", "is required");
      } else if (c.findProvider(d.provider) == nullptr) {
        std::string message = "unknown provider \"" + d.provider + "\"";
        const std::string close = closestMatch(d.provider, provider_names);
        if (!close.empty()) message += " (did you mean \"" + close + "\"?)";
        r.error(path + ".provider", std::move(message));
      } else {
        used.insert(d.provider);
      }
      if (d.model.empty()) r.error(path + ".model", "must not be empty");
      if (const size_t star = d.model.find('*'); star != std::string::npos) {
        if (!pattern) {
          r.error(path + ".model",
                  "a '*' in the model stands for what the alias's '*' matched, so it needs an "
                  "alias pattern ending in '*'");
        } else if (d.model.find('*', star + 1) != std::string::npos) {
          r.error(path + ".model", "may hold one '*' (what the alias's '*' matched)");
        }
      }
      if (d.priority < 0) r.error(path + ".priority", "must not be negative (0 = first tier)");
      if (!(d.weight > 0.0 && std::isfinite(d.weight))) {
        r.error(path + ".weight", "must be greater than 0 (got " + str(d.weight) + ")");
      }
      validateLimit(r, path + ".rpm", d.rpm);
      validateLimit(r, path + ".tpm", d.tpm);
      if (!(d.input_price_per_mtok >= 0.0))
        r.error(path + ".input_price_per_mtok", "must not be negative");
      if (!(d.output_price_per_mtok >= 0.0)) {
        r.error(path + ".output_price_per_mtok", "must not be negative");
      }
      if (!seen.insert({d.provider, d.model, d.priority}).second) {
        r.warning(path,
                  "duplicates an earlier deployment of this alias (same provider, model and "
                  "priority)");
      }
    }
  }
  for (size_t i = 0; i < c.providers.size(); ++i) {
    const auto& name = c.providers[i].name;
    if (!name.empty() && !used.contains(name)) {
      r.warning("providers[" + std::to_string(i) + "]",
                "provider \"" + name + "\" is not used by any model");
    }
  }
}

void validateProcessor(Reporter& r, const ProcessorConfig& p) {
  const std::string& q = p.queue;
  if (q == "memory") {
    // nothing else to check
  } else if (q.starts_with("sqlite:")) {
    if (q.size() == std::string_view("sqlite:").size()) {
      r.error("processor.queue", "sqlite: needs a file path (sqlite:PATH)");
    }
  } else if (q.starts_with("redis://") || q.starts_with("rediss://")) {
    const std::string_view rest = std::string_view(q).substr(q.find("//") + 2);
    std::string_view authority = rest.substr(0, rest.find('/'));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
      authority = authority.substr(at + 1);  // drop credentials; never echo them
    }
    if (authority.empty()) {
      r.error("processor.queue", "redis URL has no host (redis://HOST:PORT/KEY)");
    } else if (authority.find(':') != std::string_view::npos && !parseHostPort(authority)) {
      r.error("processor.queue", "redis URL has an invalid port");
    }
  } else {
    r.error("processor.queue", "expected memory, sqlite:PATH or redis://HOST:PORT/KEY");
  }
  if (p.concurrency < 1) r.error("processor.concurrency", "must be at least 1");
  if (p.max_queue < 1) r.error("processor.max_queue", "must be at least 1");
  if (p.max_task_attempts < 1) r.error("processor.max_task_attempts", "must be at least 1");
  checkDurationNonNegative(r, "processor.task_timeout", p.task_timeout);
  checkDurationNonNegative(r, "processor.block_timeout", p.block_timeout);
  checkDurationNonNegative(r, "processor.aging_after", p.aging_after);
  checkDurationNonNegative(r, "processor.retry_backoff", p.retry_backoff);
  if (p.max_retry_backoff < p.retry_backoff) {
    r.error("processor.max_retry_backoff", "must not be shorter than retry_backoff");
  }
  if (p.results_buffer < 1) r.error("processor.results_buffer", "must be at least 1");
}

bool isLoopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

// A key's budget (gateway.keys[].max_budget): spend is recorded by key name in state_file.
void validateBudget(Reporter& r, const PoolConfig& c, const std::string& path, const GatewayKey& k,
                    std::set<std::string>& budget_names) {
  if (!(*k.max_budget > 0.0)) r.error(path + ".max_budget", "must be more than 0 (USD)");
  if (!budget_names.insert(k.name).second) {
    r.error(path + ".name", "\"" + k.name +
                                "\" names another key with a budget too; spend is recorded by "
                                "name, so each budget needs its own");
  }
  if (c.gateway.state_file.empty()) {
    r.error(path + ".max_budget",
            "a budget needs gateway.state_file (the SQLite file that keeps what each key has "
            "spent across restarts)");
  }
  // Spend is counted from the deployments' prices; without any, it stays 0 forever.
  bool priced = false;
  for (const auto& [alias, deployments] : c.models) {
    if (!k.models.empty() && std::find(k.models.begin(), k.models.end(), alias) == k.models.end())
      continue;
    for (const auto& d : deployments) {
      priced = priced || d.input_price_per_mtok > 0.0 || d.output_price_per_mtok > 0.0;
    }
  }
  if (!priced) {
    r.warning(path + ".max_budget",
              "no deployment this key may use has input_price_per_mtok or "
              "output_price_per_mtok set, so its spend stays 0 and the budget is never reached");
  }
}

void validateGateway(Reporter& r, const PoolConfig& c) {
  const GatewayConfig& g = c.gateway;
  const auto hp = parseHostPort(g.listen);
  if (!hp) {
    r.error("gateway.listen", "\"" + g.listen + "\" is not HOST:PORT (e.g. 127.0.0.1:8080)");
  } else if (g.keys.empty() && !isLoopback(hp->host)) {
    r.warning("gateway.listen",
              "no gateway.keys are configured: a gateway without authentication should listen "
              "on loopback only");
  }
  std::set<std::string> keys;
  std::set<std::string> names;
  std::set<std::string> budget_names;
  for (size_t i = 0; i < g.keys.size(); ++i) {
    const GatewayKey& k = g.keys[i];
    const std::string path = "gateway.keys[" + std::to_string(i) + "]";
    if (k.key.empty()) {
      r.error(path + ".key", "must not be empty");
    } else if (hasControlOrSpace(k.key)) {
      r.error(path + ".key", "contains spaces or control characters");
    } else if (!keys.insert(k.key).second) {
      r.error(path + ".key", "duplicates an earlier key");  // never echo the key
    }
    if (!k.name.empty() && !names.insert(k.name).second) {
      r.warning(path + ".name", "duplicate key name \"" + k.name + "\"");
    }
    validateLimit(r, path + ".rpm", k.rpm);
    validateLimit(r, path + ".tpm", k.tpm);
    if (k.max_concurrent && *k.max_concurrent < 1) {
      r.error(path + ".max_concurrent", "must be at least 1");
    }
    for (size_t j = 0; j < k.models.size(); ++j) {
      if (!c.models.contains(k.models[j])) {
        r.error(path + ".models[" + std::to_string(j) + "]",
                "unknown model alias \"" + k.models[j] + "\"");
      }
    }
    if (k.max_budget) validateBudget(r, c, path, k, budget_names);
  }
  if (g.max_body_bytes < 1) r.error("gateway.max_body_bytes", "must be at least 1");
  if (g.max_buffered_bytes < 64 * 1024) {
    r.error("gateway.max_buffered_bytes", "must be at least 64KiB");
  }
  if (g.max_header_bytes < 1024) r.error("gateway.max_header_bytes", "must be at least 1KiB");
  checkDurationPositive(r, "gateway.read_timeout", g.read_timeout);
  checkDurationPositive(r, "gateway.write_timeout", g.write_timeout);
  checkDurationNonNegative(r, "gateway.shutdown_grace", g.shutdown_grace);
  if (g.max_connections < 1) r.error("gateway.max_connections", "must be at least 1");
  checkDurationNonNegative(r, "gateway.cache.ttl", g.cache.ttl);
  if (g.cache.enabled() && g.cache.max_entries < 1) {
    r.error("gateway.cache.max_entries", "must be at least 1");
  }
  if (g.cache.enabled() && g.cache.max_bytes < 64 * 1024) {
    r.error("gateway.cache.max_bytes", "must be at least 64KiB");
  }
  if (g.threads < 0 || g.threads > 256) {
    r.error("gateway.threads", "must be between 1 and 256, or 0 for automatic");
  }
  if (g.thread_slice_us != 0 && (g.thread_slice_us < 100 || g.thread_slice_us > 100'000)) {
    r.error("gateway.thread_slice_us",
            "must be between 100 and 100000 (0.1 to 100 ms), or 0 for the kernel's default");
  }
  static const std::set<std::string, std::less<>> levels = {"trace", "debug", "info",
                                                            "warn",  "error", "off"};
  if (!levels.contains(g.log_level)) {
    r.error("gateway.log_level", "expected one of trace, debug, info, warn, error, off");
  }
}

}  // namespace

std::optional<HostPort> parseHostPort(std::string_view text) {
  HostPort out;
  std::string_view port;
  if (text.starts_with("[")) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return std::nullopt;  // v6 needs brackets
    port = text.substr(colon + 1);
  }
  if (out.host.empty() || hasControlOrSpace(out.host) || port.empty()) return std::nullopt;
  int value = -1;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535) {
    return std::nullopt;
  }
  out.port = value;
  return out;
}

bool validateConfig(const PoolConfig& config, ConfigDiagnostics& diags, const SourceMap* map) {
  Reporter r(diags, map);
  validatePool(r, config.pool);
  validateProviders(r, config);
  validateModels(r, config);
  validateProcessor(r, config.processor);
  validateGateway(r, config);
  return r.clean();
}

bool validateConfig(const PoolConfig& config, ConfigDiagnostics& diags) {
  return validateConfig(config, diags, nullptr);
}

}  // namespace llmpool::config
