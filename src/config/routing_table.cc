#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "config/duration.h"

namespace llmpool::config {

namespace {

std::string num(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

// "scheme://user:secret@host/..." -> "scheme://***@host/...": credentials never reach the output.
std::string redactUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t start = scheme + 3;
  const size_t end = url.find('/', start);
  const size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + "***" + url.substr(at);
}

std::string overflowName(OverflowPolicy policy) {
  switch (policy) {
    case OverflowPolicy::Block:
      return "block";
    case OverflowPolicy::Reject:
      return "reject";
    case OverflowPolicy::DropLowest:
      return "drop_lowest";
  }
  return "unknown";
}

using Row = std::vector<std::string>;

std::string renderTable(const std::vector<Row>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  return out;
}

std::string limitsOf(const PoolConfig& c, const DeploymentConfig& d, const ProviderConfig* p) {
  std::vector<std::string> parts;
  if (d.rpm) parts.push_back("rpm " + num(*d.rpm));
  if (d.tpm) parts.push_back("tpm " + num(*d.tpm));
  if (p) {
    if (p->rpm) parts.push_back("provider rpm " + num(*p->rpm));
    if (p->tpm) parts.push_back("provider tpm " + num(*p->tpm));
    parts.push_back("conns " + std::to_string(p->max_connections.value_or(
                                   c.pool.max_connections_per_provider)));
    if (p->timeout) parts.push_back("timeout " + formatDuration(*p->timeout));
  }
  if (d.input_price_per_mtok > 0 || d.output_price_per_mtok > 0) {
    parts.push_back("$" + num(d.input_price_per_mtok) + "/$" + num(d.output_price_per_mtok) +
                    " per Mtok");
  }
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out.empty() ? "-" : out;
}

}  // namespace

std::string describeRoutingTable(const PoolConfig& c) {
  std::vector<Row> rows;
  rows.push_back({"alias", "tier", "deployment", "weight", "kind", "base_url", "key", "limits"});
  for (const auto& [alias, deployments] : c.models) {
    std::vector<const DeploymentConfig*> sorted;
    for (const auto& d : deployments) sorted.push_back(&d);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](auto* a, auto* b) { return a->priority < b->priority; });
    bool first = true;
    for (const auto* d : sorted) {
      double tier_total = 0;
      for (const auto* other : sorted) {
        if (other->priority == d->priority) tier_total += other->weight;
      }
      const ProviderConfig* p = c.findProvider(d->provider);
      std::string weight = num(d->weight);
      if (tier_total > 0 && c.pool.strategy == BalancingStrategy::Weighted) {
        weight += " (" + num(std::round(100.0 * d->weight / tier_total)) + "%)";
      }
      rows.push_back({first ? alias : "", std::to_string(d->priority), d->provider + "/" + d->model,
                      weight, p ? std::string(providerKindName(p->kind)) : "?",
                      p ? redactUrl(p->base_url) : "(unknown provider)",
                      p && !p->api_key.empty() ? "set" : "none", limitsOf(c, *d, p)});
      first = false;
    }
  }
  std::string out = "Routing table: " + std::to_string(c.models.size()) + " alias" +
                    (c.models.size() == 1 ? "" : "es") + ", " + std::to_string(c.providers.size()) +
                    " provider" + (c.providers.size() == 1 ? "" : "s") + ", strategy " +
                    std::string(strategyName(c.pool.strategy)) +
                    (c.pool.failover ? "" : ", failover off (only tier 0 is used)") + "\n";
  return out + renderTable(rows);
}

std::string describeSettings(const PoolConfig& c) {
  const PoolSettings& p = c.pool;
  std::string out;
  out += "pool: max_concurrent_requests " + std::to_string(p.max_concurrent_requests) +
         ", max_queue " + std::to_string(p.max_queue) + ", acquire_timeout " +
         formatDuration(p.acquire_timeout) + ", request_timeout " +
         formatDuration(p.request_timeout) + ", deadline " + formatDuration(p.deadline) +
         ", max_connections_per_provider " + std::to_string(p.max_connections_per_provider) +
         ", max_response_bytes " + std::to_string(p.max_response_bytes) + "\n";
  // Transport settings: a reload that changes them rebuilds the pool (gateway/config_diff.cc).
  out += "transport: io_threads " +
         (p.io_threads == 0 ? std::string("automatic") : std::to_string(p.io_threads)) +
         ", http/1.1 to IP hosts " + (p.native_http1 ? "built-in" : "libcurl") +
         ", connect_timeout " + formatDuration(p.connect_timeout) + ", idle " +
         formatDuration(p.connection_idle_timeout) + "\n";
  out += "retry: max_attempts " + std::to_string(p.retry.max_attempts) + ", backoff " +
         formatDuration(p.retry.initial_backoff) + " x" + num(p.retry.multiplier) + " up to " +
         formatDuration(p.retry.max_backoff) + ", budget " + num(p.retry.budget_percent) + "%\n";
  const CircuitBreakerConfig& b = p.circuit_breaker;
  if (b.enabled) {
    out += "circuit_breaker: opens at " + std::to_string(b.failure_threshold) + " failures in " +
           formatDuration(b.failure_window) + ", recovery " + formatDuration(b.recovery_timeout) +
           ", " + std::to_string(b.max_repair_attempts) + " probe(s)\n";
  } else {
    out += "circuit_breaker: disabled\n";
  }
  out += "processor: queue " + redactUrl(c.processor.queue) + ", concurrency " +
         std::to_string(c.processor.concurrency) + ", max_queue " +
         std::to_string(c.processor.max_queue) + ", overflow " +
         overflowName(c.processor.overflow) + "\n";
  const GatewayCacheConfig& cache = c.gateway.cache;
  out += "gateway: listen " + c.gateway.listen + ", " + std::to_string(c.gateway.keys.size()) +
         " key(s), " +
         (cache.enabled() ? "reply cache ttl " + formatDuration(cache.ttl) + " (" +
                                std::to_string(cache.max_entries) + " entries, " +
                                std::to_string(cache.max_bytes / (1024 * 1024)) + " MiB)"
                          : std::string("no reply cache")) +
         "\n";
  // Budgets by key name (never the key), and where their spend is kept.
  std::string budgets;
  for (const auto& k : c.gateway.keys) {
    if (!k.max_budget) continue;
    budgets += (budgets.empty() ? "" : ", ") + k.name + " $" + num(*k.max_budget) +
               (k.budget_period == BudgetPeriod::None
                    ? std::string(" (never resets)")
                    : " per " + std::string(budgetPeriodName(k.budget_period)));
  }
  if (!budgets.empty()) {
    out += "budgets: " + budgets + "; spend kept in " + c.gateway.state_file + "\n";
  }
  return out;
}

}  // namespace llmpool::config
