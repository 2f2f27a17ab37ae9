// The native document: defaults, every field of the public contract, env expansion, strictness.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "config/config_loader.h"
#include "config_test_util.h"

namespace llmpool::config {
namespace {

using std::chrono::milliseconds;
using testing::dump;
using testing::findDiag;
using testing::minimalProviders;
using testing::parse;

TEST(NativeConfigTest, AbsentSectionsTakeTheDefaults) {
  ConfigDiagnostics diags;
  auto config = parse(minimalProviders(), diags);
  ASSERT_TRUE(config) << dump(diags);
  const PoolConfig defaults;
  const PoolSettings& p = config->pool;
  EXPECT_EQ(10, p.max_concurrent_requests);
  EXPECT_EQ(defaults.pool.max_queue, p.max_queue);
  EXPECT_EQ(milliseconds(5'000), p.acquire_timeout);
  EXPECT_EQ(milliseconds(30'000), p.request_timeout);
  EXPECT_EQ(5, p.max_connections_per_provider);
  EXPECT_EQ(256u * 1024 * 1024, p.max_response_bytes);
  EXPECT_EQ(milliseconds(300'000), p.connection_idle_timeout);
  EXPECT_EQ(milliseconds(30'000), p.health_check_interval);
  EXPECT_TRUE(p.failover);
  EXPECT_EQ(BalancingStrategy::Weighted, p.strategy);
  EXPECT_TRUE(p.native_http1);
  EXPECT_EQ(3, p.retry.max_attempts);
  EXPECT_EQ(milliseconds(100), p.retry.initial_backoff);
  EXPECT_EQ(milliseconds(30'000), p.retry.max_backoff);
  EXPECT_DOUBLE_EQ(2.0, p.retry.multiplier);
  EXPECT_EQ(5, p.circuit_breaker.failure_threshold);
  EXPECT_DOUBLE_EQ(50.0, p.circuit_breaker.failure_threshold_min_rate);
  EXPECT_EQ(milliseconds(60'000), p.circuit_breaker.failure_window);
  EXPECT_EQ(milliseconds(30'000), p.circuit_breaker.recovery_timeout);
  EXPECT_EQ(1, p.circuit_breaker.max_repair_attempts);
  EXPECT_EQ("memory", config->processor.queue);
  EXPECT_EQ(defaults.processor.concurrency, config->processor.concurrency);
  EXPECT_EQ("127.0.0.1:8080", config->gateway.listen);
  EXPECT_TRUE(config->gateway.keys.empty());
  // Deployment defaults.
  const auto& d = config->models.at("gpt-4o").at(0);
  EXPECT_EQ(0, d.priority);
  EXPECT_DOUBLE_EQ(1.0, d.weight);
  EXPECT_FALSE(config->providers.at(0).max_connections.has_value());
}

TEST(NativeConfigTest, GatewayDefaultsRaiseOnlyTheLimitsTheDocumentLeavesOut) {
  ConfigDiagnostics diags;
  auto gateway = parseConfig(minimalProviders(), "config.yaml", &diags, testing::fakeEnv({}),
                             ConfigDefaults::Gateway);
  ASSERT_TRUE(gateway) << dump(diags);
  EXPECT_EQ(1024, gateway->pool.max_concurrent_requests);
  EXPECT_EQ(1024, gateway->pool.max_connections_per_provider);
  EXPECT_EQ(PoolSettings{}.max_queue, gateway->pool.max_queue);  // the rest as the library's

  auto set = parseConfig("pool: {max_concurrent_requests: 8}\n" + minimalProviders(), "config.yaml",
                         &diags, testing::fakeEnv({}), ConfigDefaults::Gateway);
  ASSERT_TRUE(set) << dump(diags);
  EXPECT_EQ(8, set->pool.max_concurrent_requests);
  EXPECT_EQ(1024, set->pool.max_connections_per_provider);
}

TEST(NativeConfigTest, ParsesEveryContractField) {
  const std::string yaml = R"(
pool:
  max_concurrent_requests: 64
  max_queue: 10000
  acquire_timeout: 2s
  request_timeout: 45s
  deadline: 3m
  connect_timeout: 3s
  ttft_timeout: 10s
  stream_idle_timeout: 20s
  max_connections_per_provider: 8
  max_response_bytes: 32MiB
  connection_idle_timeout: 2m
  connection_max_lifetime: 1h
  warm_connections: 2
  health_check_interval: 15s
  health_checks: false
  failover: false
  panic_mode: true
  strategy: least_in_flight
  io_threads: 2
  native_http1: false
  retry: {max_attempts: 5, initial_backoff: 250ms, max_backoff: 10s, multiplier: 1.5,
          max_retry_after: 20s, budget_percent: 10, budget_window: 30s, budget_min_per_second: 1}
  circuit_breaker: {enabled: true, failure_threshold: 7, failure_window: 2m, recovery_timeout: 45s,
                    max_repair_attempts: 3, failure_rate_threshold: 50, minimum_requests: 20,
                    failure_threshold_min_rate: 25,
                    max_recovery_timeout: 5m}
providers:
  - name: openai
    kind: openai
    base_url: "https://api.openai.com/v1/"
    api_key: "${OPENAI_API_KEY}"
    max_connections: 12
    rpm: 500
    tpm: 200000
    timeout: 20s
    headers: {OpenAI-Organization: org-1}
    verify_tls: true
    health_path: /models
  - {name: claude, kind: anthropic, base_url: "https://api.anthropic.com/v1", api_key: k2,
     api_version: "2023-06-01"}
  - {name: az, kind: azure_openai, base_url: "https://res.openai.azure.com", api_version: "2024-06-01"}
models:
  gpt-4o:
    - {provider: openai, model: gpt-4o-2024-08-06, priority: 0, weight: 3, rpm: 100, tpm: 5000,
       input_price_per_mtok: 2.5, output_price_per_mtok: 10}
    - {provider: az, model: gpt-4o-eu, priority: 0, weight: 1}
    - {provider: claude, model: claude-sonnet-4, priority: 1}
processor: {queue: "sqlite:/tmp/state.db", concurrency: 128, max_queue: 5000, max_task_attempts: 2,
            task_timeout: 1m, overflow: drop_lowest, block_timeout: 10s, aging_after: 1m,
            retry_backoff: 2s, max_retry_backoff: 30s, results_buffer: 64}
gateway:
  listen: "0.0.0.0:9000"
  keys:
    - "${GW_KEY}"
    - {key: team-b-key, name: team-b, rpm: 60, tpm: 1000, max_concurrent: 4, models: [gpt-4o]}
  max_body_bytes: 2MiB
  max_buffered_bytes: 4MiB
  read_timeout: 15s
  shutdown_grace: 5s
  max_connections: 500
  threads: 2
  log_level: debug
  cache: {ttl: 10m, max_entries: 500, max_bytes: 8MiB}
)";
  ConfigDiagnostics diags;
  auto c = parse(yaml, diags, {{"OPENAI_API_KEY", "sk-test"}, {"GW_KEY", "gw-1"}});
  ASSERT_TRUE(c) << dump(diags);
  const PoolSettings& p = c->pool;
  EXPECT_EQ(64, p.max_concurrent_requests);
  EXPECT_EQ(10000, p.max_queue);
  EXPECT_EQ(milliseconds(2'000), p.acquire_timeout);
  EXPECT_EQ(milliseconds(45'000), p.request_timeout);
  EXPECT_EQ(milliseconds(180'000), p.deadline);
  EXPECT_EQ(milliseconds(3'000), p.connect_timeout);
  EXPECT_EQ(milliseconds(10'000), p.ttft_timeout);
  EXPECT_EQ(milliseconds(20'000), p.stream_idle_timeout);
  EXPECT_EQ(8, p.max_connections_per_provider);
  EXPECT_EQ(32u * 1024 * 1024, p.max_response_bytes);
  EXPECT_EQ(milliseconds(120'000), p.connection_idle_timeout);
  EXPECT_EQ(milliseconds(3'600'000), p.connection_max_lifetime);
  EXPECT_EQ(2, p.warm_connections);
  EXPECT_EQ(milliseconds(15'000), p.health_check_interval);
  EXPECT_FALSE(p.health_checks);
  EXPECT_FALSE(p.failover);
  EXPECT_TRUE(p.panic_mode);
  EXPECT_EQ(BalancingStrategy::LeastInFlight, p.strategy);
  EXPECT_EQ(2, p.io_threads);
  EXPECT_FALSE(p.native_http1);
  EXPECT_EQ(5, p.retry.max_attempts);
  EXPECT_EQ(milliseconds(250), p.retry.initial_backoff);
  EXPECT_EQ(milliseconds(10'000), p.retry.max_backoff);
  EXPECT_DOUBLE_EQ(1.5, p.retry.multiplier);
  EXPECT_EQ(milliseconds(20'000), p.retry.max_retry_after);
  EXPECT_DOUBLE_EQ(10.0, p.retry.budget_percent);
  EXPECT_EQ(milliseconds(30'000), p.retry.budget_window);
  EXPECT_DOUBLE_EQ(1.0, p.retry.budget_min_per_second);
  EXPECT_EQ(7, p.circuit_breaker.failure_threshold);
  EXPECT_EQ(milliseconds(120'000), p.circuit_breaker.failure_window);
  EXPECT_EQ(milliseconds(45'000), p.circuit_breaker.recovery_timeout);
  EXPECT_EQ(3, p.circuit_breaker.max_repair_attempts);
  EXPECT_DOUBLE_EQ(50.0, p.circuit_breaker.failure_rate_threshold);
  EXPECT_DOUBLE_EQ(25.0, p.circuit_breaker.failure_threshold_min_rate);
  EXPECT_EQ(20, p.circuit_breaker.minimum_requests);
  EXPECT_EQ(milliseconds(300'000), p.circuit_breaker.max_recovery_timeout);

  ASSERT_EQ(3u, c->providers.size());
  const ProviderConfig& o = c->providers[0];
  EXPECT_EQ("openai", o.name);
  EXPECT_EQ(ProviderKind::OpenAI, o.kind);
  EXPECT_EQ("https://api.openai.com/v1", o.base_url);  // trailing slash dropped
  EXPECT_EQ("sk-test", o.api_key);
  EXPECT_EQ(12, o.max_connections);
  EXPECT_EQ(500.0, o.rpm);
  EXPECT_EQ(200000.0, o.tpm);
  EXPECT_EQ(milliseconds(20'000), o.timeout);
  EXPECT_EQ("org-1", o.headers.at("OpenAI-Organization"));
  EXPECT_EQ("/models", o.health_path);
  EXPECT_EQ(ProviderKind::Anthropic, c->providers[1].kind);
  EXPECT_EQ("2023-06-01", c->providers[1].api_version);
  EXPECT_EQ(ProviderKind::Azure, c->providers[2].kind);

  const auto& deployments = c->models.at("gpt-4o");
  ASSERT_EQ(3u, deployments.size());
  EXPECT_EQ("openai", deployments[0].provider);
  EXPECT_EQ("gpt-4o-2024-08-06", deployments[0].model);
  EXPECT_DOUBLE_EQ(3.0, deployments[0].weight);
  EXPECT_EQ(100.0, deployments[0].rpm);
  EXPECT_EQ(5000.0, deployments[0].tpm);
  EXPECT_DOUBLE_EQ(2.5, deployments[0].input_price_per_mtok);
  EXPECT_DOUBLE_EQ(10.0, deployments[0].output_price_per_mtok);
  EXPECT_EQ(1, deployments[2].priority);

  EXPECT_EQ("sqlite:/tmp/state.db", c->processor.queue);
  EXPECT_EQ(128, c->processor.concurrency);
  EXPECT_EQ(5000, c->processor.max_queue);
  EXPECT_EQ(2, c->processor.max_task_attempts);
  EXPECT_EQ(milliseconds(60'000), c->processor.task_timeout);
  EXPECT_EQ(OverflowPolicy::DropLowest, c->processor.overflow);
  EXPECT_EQ(milliseconds(10'000), c->processor.block_timeout);
  EXPECT_EQ(milliseconds(60'000), c->processor.aging_after);
  EXPECT_EQ(milliseconds(2'000), c->processor.retry_backoff);
  EXPECT_EQ(milliseconds(30'000), c->processor.max_retry_backoff);
  EXPECT_EQ(64, c->processor.results_buffer);

  const GatewayConfig& g = c->gateway;
  EXPECT_EQ("0.0.0.0:9000", g.listen);
  ASSERT_EQ(2u, g.keys.size());
  EXPECT_EQ("gw-1", g.keys[0].key);
  EXPECT_EQ("key-0", g.keys[0].name);
  EXPECT_EQ("team-b-key", g.keys[1].key);
  EXPECT_EQ("team-b", g.keys[1].name);
  EXPECT_EQ(60.0, g.keys[1].rpm);
  EXPECT_EQ(1000.0, g.keys[1].tpm);
  EXPECT_EQ(4, g.keys[1].max_concurrent);
  EXPECT_EQ(std::vector<std::string>{"gpt-4o"}, g.keys[1].models);
  EXPECT_EQ(2u * 1024 * 1024, g.max_body_bytes);
  EXPECT_EQ(4u * 1024 * 1024, g.max_buffered_bytes);
  EXPECT_EQ(milliseconds(15'000), g.read_timeout);
  EXPECT_EQ(milliseconds(5'000), g.shutdown_grace);
  EXPECT_EQ(500, g.max_connections);
  EXPECT_EQ(2, g.threads);
  EXPECT_EQ("debug", g.log_level);
  EXPECT_TRUE(g.cache.enabled());
  EXPECT_EQ(milliseconds(600'000), g.cache.ttl);
  EXPECT_EQ(500u, g.cache.max_entries);
  EXPECT_EQ(8u * 1024 * 1024, g.cache.max_bytes);
  EXPECT_FALSE(GatewayConfig{}.cache.enabled());  // off unless asked for
  EXPECT_EQ(0u, diags.errorCount()) << dump(diags);
}

TEST(NativeConfigTest, RaisingRecoveryTimeoutAloneRaisesItsCap) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() + "pool: {circuit_breaker: {recovery_timeout: 2m}}\n", diags);
  ASSERT_TRUE(c) << dump(diags);
  EXPECT_EQ(milliseconds(120'000), c->pool.circuit_breaker.max_recovery_timeout);
}

TEST(NativeConfigTest, ModelDefaultsToAliasAndSingleDeploymentMapIsAccepted) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers: [{name: p, base_url: 'http://127.0.0.1:1/v1'}]\n"
      "models:\n  llama3: {provider: p}\n",
      diags);
  ASSERT_TRUE(c) << dump(diags);
  EXPECT_EQ("llama3", c->models.at("llama3").at(0).model);
}

TEST(NativeConfigTest, DurationGarbageIsReportedWithPathAndLine) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() +
                     "pool:\n"
                     "  request_timeout: 30\n"             // line 7: bare number
                     "  acquire_timeout: soon\n"           // line 8
                     "  retry: {initial_backoff: 1.5}\n",  // line 9
                 diags);
  ASSERT_FALSE(c);
  EXPECT_EQ(ErrorCode::InvalidConfig, c.error().code);
  const auto* a = findDiag(diags, "pool.request_timeout");
  ASSERT_NE(nullptr, a) << dump(diags);
  EXPECT_EQ(7, a->line);
  EXPECT_NE(std::string::npos, a->message.find("missing unit"));
  const auto* b = findDiag(diags, "pool.acquire_timeout");
  ASSERT_NE(nullptr, b);
  EXPECT_EQ(8, b->line);
  ASSERT_NE(nullptr, findDiag(diags, "pool.retry.initial_backoff"));
  EXPECT_EQ(3u, diags.errorCount());
}

TEST(NativeConfigTest, ExpandsEnvironmentInStringsAndNumbers) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - {name: p, base_url: 'http://${HOST:-127.0.0.1}:${PORT}/v1', api_key: '${KEY}', rpm: "
      "'${RPM}'}\n"
      "models: {m: [{provider: p}]}\n",
      diags, {{"PORT", "9999"}, {"KEY", "secret-value"}, {"RPM", "42"}});
  ASSERT_TRUE(c) << dump(diags);
  EXPECT_EQ("http://127.0.0.1:9999/v1", c->providers[0].base_url);
  EXPECT_EQ("secret-value", c->providers[0].api_key);
  EXPECT_EQ(42.0, c->providers[0].rpm);
}

TEST(NativeConfigTest, MissingKeyVariableNamesPathAndVariableButNoValue) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - name: openai\n"
      "    base_url: https://api.openai.com/v1\n"
      "    api_key: ${OPENAI_API_KEY}\n"
      "models: {m: [{provider: openai}]}\n",
      diags, {{"UNRELATED", "sk-should-not-appear"}});
  ASSERT_FALSE(c);
  const auto* d = findDiag(diags, "providers[0].api_key");
  ASSERT_NE(nullptr, d) << dump(diags);
  EXPECT_EQ(4, d->line);
  EXPECT_NE(std::string::npos, d->message.find("OPENAI_API_KEY"));
  EXPECT_NE(std::string::npos, c.error().message.find("config.yaml:4: providers[0].api_key"));
  EXPECT_EQ(std::string::npos, c.error().message.find("sk-should-not-appear"));
}

TEST(NativeConfigTest, UnknownKeysAtSeveralDepthsAreErrorsWithLines) {
  const std::string yaml =
      "pool:\n"                            // 1
      "  max_concurent_requests: 5\n"      // 2 typo
      "  retry:\n"                         // 3
      "    max_attempt: 2\n"               // 4 typo
      "providers:\n"                       // 5
      "  - name: openai\n"                 // 6
      "    base_url: https://x.test/v1\n"  // 7
      "    apikey: abc\n"                  // 8 typo
      "models:\n"                          // 9
      "  gpt-4o:\n"                        // 10
      "    - provider: openai\n"           // 11
      "      wieght: 2\n"                  // 12 typo
      "gatway: {}\n";                      // 13 typo, top level
  ConfigDiagnostics diags;
  auto c = parse(yaml, diags);
  ASSERT_FALSE(c);
  struct Expect {
    const char* path;
    int line;
    const char* hint;
  };
  for (const Expect& e :
       {Expect{"pool.max_concurent_requests", 2, "max_concurrent_requests"},
        Expect{"pool.retry.max_attempt", 4, "max_attempts"},
        Expect{"providers[0].apikey", 8, "api_key"},
        Expect{"models.gpt-4o[0].wieght", 12, "weight"}, Expect{"gatway", 13, "gateway"}}) {
    const auto* d = findDiag(diags, e.path);
    ASSERT_NE(nullptr, d) << e.path << "\n" << dump(diags);
    EXPECT_EQ(e.line, d->line) << e.path;
    EXPECT_FALSE(d->is_warning);
    EXPECT_NE(std::string::npos, d->message.find("unknown key")) << d->message;
    EXPECT_NE(std::string::npos, d->message.find(e.hint)) << d->message;
  }
  EXPECT_EQ(5u, diags.errorCount()) << dump(diags);
}

TEST(NativeConfigTest, KeyBudgetsAreReadWithTheirPeriodAndStateFile) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - {name: openai, kind: openai, base_url: \"https://api.openai.com/v1\"}\n"
      "models:\n"
      "  gpt-4o:\n"
      "    - {provider: openai, input_price_per_mtok: 2.5, output_price_per_mtok: 10}\n"
      "gateway:\n"
      "  state_file: /var/lib/llmpool/spend.db\n"
      "  keys:\n"
      "    - {key: a, name: team-a, max_budget: 50, budget_period: month}\n"
      "    - {key: b, name: team-b, max_budget: 0.5}\n",
      diags);
  ASSERT_TRUE(c) << dump(diags);
  EXPECT_EQ(0u, diags.items.size()) << dump(diags);
  EXPECT_EQ("/var/lib/llmpool/spend.db", c->gateway.state_file);
  EXPECT_EQ(std::optional<double>(50.0), c->gateway.keys[0].max_budget);
  EXPECT_EQ(BudgetPeriod::Month, c->gateway.keys[0].budget_period);
  EXPECT_EQ(BudgetPeriod::None, c->gateway.keys[1].budget_period);
  EXPECT_NE(std::string::npos, describeSettings(*c).find("budgets: team-a $50 per month, team-b "
                                                         "$0.5 (never resets); spend kept in "
                                                         "/var/lib/llmpool/spend.db"))
      << describeSettings(*c);
}

TEST(NativeConfigTest, KeyBudgetMistakesNameTheirField) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() +
                     "gateway:\n"                                                     // 6
                     "  keys:\n"                                                      // 7
                     "    - {key: a, max_budget: 5}\n"                                // 8
                     "    - {key: b, name: b, max_budget: 0, budget_period: year}\n"  // 9
                     "    - {key: c, name: c, budget_period: day}\n"                  // 10
                     "    - {key: d, name: b, max_budget: 1}\n",                      // 11
                 diags);
  ASSERT_FALSE(c);
  struct Expect {
    const char* path;
    const char* says;
  };
  for (const Expect& e : {Expect{"gateway.keys[0].name", "needs a name"},
                          Expect{"gateway.keys[0].max_budget", "gateway.state_file"},
                          Expect{"gateway.keys[1].max_budget", "more than 0"},
                          Expect{"gateway.keys[1].budget_period", "hour, day, week or month"},
                          Expect{"gateway.keys[2].budget_period", "needs max_budget"},
                          Expect{"gateway.keys[3].name", "another key with a budget"}}) {
    bool found = false;
    for (const auto& d : diags.items) {
      found = found ||
              (d.path == e.path && !d.is_warning && d.message.find(e.says) != std::string::npos);
    }
    EXPECT_TRUE(found) << e.path << " should say \"" << e.says << "\"\n" << dump(diags);
  }
  // Without prices the budget can never be reached: a warning says so.
  const auto* unpriced = findDiag(diags, "gateway.keys[0].max_budget");
  bool warned = false;
  for (const auto& d : diags.items) {
    warned = warned || (d.path == "gateway.keys[3].max_budget" && d.is_warning &&
                        d.message.find("never reached") != std::string::npos);
  }
  EXPECT_NE(nullptr, unpriced);
  EXPECT_TRUE(warned) << dump(diags);
}

TEST(NativeConfigTest, AliasPatternsRouteTheNamesTheyMatch) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - {name: openai, kind: openai, base_url: \"https://api.openai.com/v1\"}\n"
      "models:\n"
      "  \"openai/*\": [{provider: openai, model: \"*\"}]\n"
      "  \"openai/o*\": [{provider: openai, model: \"o*-mini\"}]\n"
      "  openai/gpt-4o: [{provider: openai, model: gpt-4o-2024-08-06}]\n",
      diags);
  ASSERT_TRUE(c) << dump(diags);
  std::string_view matched;
  EXPECT_EQ(&c->models.at("openai/gpt-4o"), c->findRoute("openai/gpt-4o", &matched));
  EXPECT_EQ("", matched);
  EXPECT_EQ(&c->models.at("openai/*"), c->findRoute("openai/gpt-4.1", &matched));
  EXPECT_EQ("gpt-4.1", matched);
  EXPECT_EQ(&c->models.at("openai/o*"), c->findRoute("openai/o3", &matched));
  EXPECT_EQ("3", matched);
  EXPECT_EQ("o3-mini", upstreamModelName("o*-mini", matched));
  EXPECT_EQ(nullptr, c->findRoute("openai/"));
  EXPECT_EQ(nullptr, c->findRoute("anthropic/claude"));
  EXPECT_TRUE(aliasMatches("openai/*", "openai/x"));
  EXPECT_FALSE(aliasMatches("openai/x", "openai/*"));
  EXPECT_FALSE(isAliasPattern("a*b*"));
}

TEST(NativeConfigTest, AStarOutsideAPatternIsAnError) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - {name: openai, kind: openai, base_url: \"https://api.openai.com/v1\"}\n"
      "models:\n"
      "  \"open*ai\": [{provider: openai, model: x}]\n"
      "  plain: [{provider: openai, model: \"gpt-*\"}]\n"
      "  \"p/*\": [{provider: openai, model: \"*-*\"}]\n",
      diags);
  ASSERT_FALSE(c);
  EXPECT_NE(nullptr, findDiag(diags, "models.open*ai")) << dump(diags);
  ASSERT_NE(nullptr, findDiag(diags, "models.plain[0].model")) << dump(diags);
  EXPECT_NE(std::string::npos,
            findDiag(diags, "models.plain[0].model")->message.find("alias pattern"));
  EXPECT_NE(nullptr, findDiag(diags, "models.p/*[0].model")) << dump(diags);
}

TEST(NativeConfigTest, DuplicateKeysAreErrors) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() + "pool:\n  max_queue: 1\n  max_queue: 2\n", diags);
  ASSERT_FALSE(c);
  const auto* d = findDiag(diags, "pool.max_queue");
  ASSERT_NE(nullptr, d) << dump(diags);
  EXPECT_EQ(8, d->line);
  EXPECT_NE(std::string::npos, d->message.find("duplicate"));
}

TEST(NativeConfigTest, TypeErrorsNameTheExpectedType) {
  ConfigDiagnostics diags;
  auto c = parse(minimalProviders() +
                     "pool:\n  max_concurrent_requests: lots\n  failover: maybe\n"
                     "  retry: [1, 2]\n  max_queue: 2.5\n",
                 diags);
  ASSERT_FALSE(c);
  EXPECT_NE(std::string::npos,
            findDiag(diags, "pool.max_concurrent_requests")->message.find("whole number"));
  EXPECT_NE(std::string::npos, findDiag(diags, "pool.failover")->message.find("true or false"));
  EXPECT_NE(std::string::npos, findDiag(diags, "pool.retry")->message.find("mapping"));
  EXPECT_NE(nullptr, findDiag(diags, "pool.max_queue"));
}

TEST(NativeConfigTest, YamlSyntaxErrorHasALine) {
  ConfigDiagnostics diags;
  auto c = parse("pool:\n  max_queue: [1, 2\nproviders: []\n", diags);
  ASSERT_FALSE(c);
  ASSERT_EQ(1u, diags.items.size());
  EXPECT_GT(diags.items[0].line, 0);
  EXPECT_NE(std::string::npos, c.error().message.find("YAML syntax error"));
}

TEST(NativeConfigTest, EmptyAndNonMappingDocumentsAreErrors) {
  ConfigDiagnostics a;
  EXPECT_FALSE(parse("", a));
  EXPECT_NE(std::string::npos, a.joinedErrors().find("empty"));
  ConfigDiagnostics b;
  EXPECT_FALSE(parse("- just\n- a list\n", b));
  EXPECT_EQ(1u, b.errorCount());
}

TEST(NativeConfigTest, MergeKeysShareSettings) {
  ConfigDiagnostics diags;
  auto c = parse(
      "providers:\n"
      "  - &base {name: a, kind: openai, base_url: 'http://127.0.0.1:1/v1', rpm: 10}\n"
      "  - {<<: *base, name: b}\n"
      "models: {m: [{provider: a}, {provider: b}]}\n",
      diags);
  ASSERT_TRUE(c) << dump(diags);
  EXPECT_EQ("b", c->providers[1].name);
  EXPECT_EQ(10.0, c->providers[1].rpm);
}

}  // namespace
}  // namespace llmpool::config

namespace llmpool::config {
namespace {

TEST(LoadConfigFileTest, ReadsAFileAndNamesItInMessages) {
  char tmpl[] = "/tmp/llmpool-config-XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  const std::string text = "models: {m: [{provider: missing}]}\n";
  ASSERT_EQ(static_cast<ssize_t>(text.size()), write(fd, text.data(), text.size()));
  close(fd);
  ConfigDiagnostics diags;
  auto c = loadConfigFile(tmpl, &diags);
  std::remove(tmpl);
  ASSERT_FALSE(c);
  EXPECT_EQ(ErrorCode::InvalidConfig, c.error().code);
  EXPECT_NE(std::string::npos, c.error().message.find(std::string(tmpl) +
                                                      ":1: models.m[0].provider: unknown provider"))
      << c.error().message;
}

TEST(LoadConfigFileTest, MissingFileIsOneError) {
  ConfigDiagnostics diags;
  auto c = loadConfigFile("/nonexistent/llmpool.yaml", &diags);
  ASSERT_FALSE(c);
  EXPECT_EQ(ErrorCode::InvalidConfig, c.error().code);
  EXPECT_EQ(1u, diags.errorCount());
  EXPECT_NE(std::string::npos, c.error().message.find("/nonexistent/llmpool.yaml"));
}

}  // namespace
}  // namespace llmpool::config
