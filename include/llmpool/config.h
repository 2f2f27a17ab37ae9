#pragma once
// Configuration structs with the seed's defaults. The YAML field names (docs/config.md) are a
// public contract: pool.*, providers[].*, models.<alias>[].*, processor.*, gateway.*.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmpool/error.h"

namespace llmpool {

using Millis = std::chrono::milliseconds;

struct RetryConfig {
  int max_attempts = 3;  // counting the first attempt, across the whole failover chain
  Millis initial_backoff{100};
  Millis max_backoff{30'000};
  double multiplier = 2.0;
  Millis max_retry_after{60'000};  // a longer Retry-After is not waited for: fail over instead
  // Retry budget (Finagle style): retries may be at most budget_percent of requests over
  // budget_window, plus a floor of budget_min_per_second.
  double budget_percent = 20.0;
  Millis budget_window{10'000};
  double budget_min_per_second = 3.0;
};

struct CircuitBreakerConfig {
  bool enabled = true;
  int failure_threshold = 5;  // failures within failure_window that open the breaker ...
  // ... when they are at least this % of the window's calls (0 = whatever their share): a busy
  // deployment with a few failures among many successes stays in use.
  double failure_threshold_min_rate = 50.0;
  Millis failure_window{60'000};
  Millis recovery_timeout{30'000};      // Open -> HalfOpen
  int max_repair_attempts = 1;          // probes admitted at once in HalfOpen
  double failure_rate_threshold = 0.0;  // 0 = off; else open when failure % >= this ...
  int minimum_requests = 10;            // ... and at least this many calls are in the window
  Millis max_recovery_timeout{30'000};  // > recovery_timeout: open time doubles per re-trip
};

enum class BalancingStrategy { Weighted, LeastInFlight, LowestLatency };

struct PoolSettings {
  int max_concurrent_requests = 10;
  int max_queue = 1000;            // admission wait queue
  Millis acquire_timeout{5'000};   // longest wait for an admission permit
  Millis request_timeout{30'000};  // per attempt
  Millis deadline{120'000};        // whole request: queueing + attempts + backoff
  Millis connect_timeout{10'000};
  Millis ttft_timeout{0};         // 0 = off
  Millis stream_idle_timeout{0};  // 0 = off
  int max_connections_per_provider = 5;
  size_t max_response_bytes = 256 * 1024 * 1024;  // a provider's buffered (non-stream) reply
  Millis connection_idle_timeout{300'000};
  Millis connection_max_lifetime{0};  // 0 = unlimited
  int warm_connections = 0;
  Millis health_check_interval{30'000};
  bool health_checks = true;
  bool failover = true;
  bool panic_mode = false;
  BalancingStrategy strategy = BalancingStrategy::Weighted;
  // Event-loop shards of the transport. 0 (the default) is automatic: one loop for the library
  // and `llmpool run`, one per core (at most 8) for `llmpool serve`.
  int io_threads = 0;
  // Plain http:// providers addressed by an IP literal use the built-in HTTP/1.1 client; false
  // sends every request through libcurl (docs/transport.md).
  bool native_http1 = true;
  RetryConfig retry;
  CircuitBreakerConfig circuit_breaker;
};

enum class ProviderKind { OpenAI, Azure, Anthropic };

struct ProviderConfig {
  std::string name;
  ProviderKind kind = ProviderKind::OpenAI;
  std::string base_url;                // e.g. https://api.openai.com/v1 (no trailing slash)
  std::string api_key;                 // resolved from ${ENV}; never logged
  std::string api_version;             // Azure api-version; Anthropic anthropic-version override
  std::optional<int> max_connections;  // default pool.max_connections_per_provider
  std::optional<double> rpm;
  std::optional<double> tpm;
  std::optional<Millis> timeout;               // per-attempt override
  std::map<std::string, std::string> headers;  // extra request headers
  std::string ca_file;
  bool verify_tls = true;
  std::string health_path;  // default: "/models" for openai/azure, none for anthropic
};

struct DeploymentConfig {
  std::string provider;  // ProviderConfig::name
  std::string model;     // upstream model name sent to the provider
  int priority = 0;      // lower = tried first; higher tiers are failover
  double weight = 1.0;
  std::optional<double> rpm;  // per-deployment limits (else the provider's)
  std::optional<double> tpm;
  double input_price_per_mtok = 0.0;  // USD per 1M prompt tokens
  double output_price_per_mtok = 0.0;
};

/** What the background processor does with a task submitted while its queue is full. */
enum class OverflowPolicy {
  Block,       // submit() waits for room until block_timeout, then QueueFull
  Reject,      // QueueFull at once
  DropLowest,  // evict the newest queued task of a lower priority (it completes Dropped)
};

struct ProcessorConfig {
  std::string queue = "memory";  // memory | sqlite:PATH | redis://HOST:PORT/KEY
  int concurrency = 64;
  int max_queue = 100'000;
  int max_task_attempts = 1;
  Millis task_timeout{0};  // 0 = the pool's deadline
  OverflowPolicy overflow = OverflowPolicy::Block;
  Millis block_timeout{30'000};      // longest wait of submit() under Block
  Millis aging_after{0};             // 0 = off; else a waiting task gains one class per aging_after
  Millis retry_backoff{1'000};       // task-level retry: first delay, doubled per attempt ...
  Millis max_retry_backoff{60'000};  // ... up to this (a longer Retry-After still wins)
  int results_buffer = 1024;         // capacity of tryReceive()/drain(); full = drop oldest
};

/** The calendar period a key's budget is counted over, in UTC; None: it never resets. */
enum class BudgetPeriod { None, Hour, Day, Week, Month };

struct GatewayKey {
  std::string key;  // never logged
  std::string name;
  std::optional<double> rpm;
  std::optional<double> tpm;  // tokens per minute for this key (prompt + completion)
  std::optional<int> max_concurrent;
  std::vector<std::string> models;  // allowed aliases; empty = all
  /** USD this key may spend per budget_period (docs/gateway.md, "Budgets"); counted from the
   *  deployments' prices and kept in gateway.state_file. */
  std::optional<double> max_budget;
  BudgetPeriod budget_period = BudgetPeriod::None;
};

/** The gateway's reply cache (docs/gateway.md, "Reply cache"): off unless ttl > 0. */
struct GatewayCacheConfig {
  Millis ttl{0};  // how long a reply may be served again; 0 = no cache
  size_t max_entries = 10'000;
  size_t max_bytes = 64 * 1024 * 1024;  // requests and replies held, together

  bool enabled() const { return ttl.count() > 0; }
  bool operator==(const GatewayCacheConfig&) const = default;
};

struct GatewayConfig {
  std::string listen = "127.0.0.1:8080";
  std::vector<GatewayKey> keys;
  size_t max_body_bytes = 8 * 1024 * 1024;
  size_t max_buffered_bytes = 16 * 1024 * 1024;  // a stream's unsent bytes per connection
  Millis read_timeout{30'000};
  Millis shutdown_grace{30'000};
  int max_connections = 10'000;
  int threads = 0;  // 0: automatic, one server thread per core (at most 8)
  /** Scheduler slice the server threads ask the kernel for, in microseconds (Linux 6.12+;
   *  ignored before); 0 keeps the kernel's default. See docs/gateway.md, "Threads". */
  int thread_slice_us = 200;
  std::string log_level = "info";
  size_t max_header_bytes = 16 * 1024;  // request line + headers; larger get 431
  Millis write_timeout{60'000};  // a write to a client that makes no progress this long closes it
  /** Without keys the gateway refuses a non-loopback listen address unless this is set. */
  bool allow_unauthenticated = false;
  GatewayCacheConfig cache;
  /** SQLite file holding what each key with a budget has spent, so a restart does not start the
   *  budgets afresh; required when a key has max_budget. */
  std::string state_file;
};

struct PoolConfig {
  PoolSettings pool;
  std::vector<ProviderConfig> providers;
  std::map<std::string, std::vector<DeploymentConfig>> models;  // alias -> deployments
  ProcessorConfig processor;
  GatewayConfig gateway;

  const ProviderConfig* findProvider(const std::string& name) const {
    for (const auto& p : providers) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }

  // The deployments a request for `model` goes to: the alias of that name, else the alias
  // pattern (an alias ending in '*', such as "openai/*") with the longest prefix that `model`
  // starts with; `matched` then receives what the '*' stood for ("gpt-4o" of "openai/gpt-4o"),
  // else "". nullptr when neither exists.
  const std::vector<DeploymentConfig>* findRoute(std::string_view model,
                                                 std::string_view* matched = nullptr) const;
};

// An alias pattern: a name that ends in '*' and has no other '*' ("*", "openai/*").
bool isAliasPattern(std::string_view alias);
/** What the '*' of `pattern` stands for in `model` (never empty), or nullopt when it does not
 *  match. */
std::optional<std::string_view> matchAliasPattern(std::string_view pattern, std::string_view model);
/** True when a request for `model` may use `alias`: the same name, or a pattern it matches. */
bool aliasMatches(std::string_view alias, std::string_view model);
/** The model name sent upstream: a deployment's `model` with its '*' (of a pattern alias)
 *  replaced by what the alias's '*' matched. */
std::string upstreamModelName(std::string_view deployment_model, std::string_view matched);

}  // namespace llmpool
